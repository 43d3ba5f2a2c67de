use nervenet_core::*;
use rand::{RngExt, SeedableRng};
fn random_data(seed: u64, n: usize, scale: f64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}
fn main() {
    let seed = 3812u64;
    let spec = RandomGraphSpec { inputs: 3, hidden: 7, outputs: 2, density: 0.35, recurrent: 4, max_skip: 5,
        activations: vec![Activation::Identity, Activation::Sigmoid, Activation::Tanh, Activation::Softsign], bias_probability: 0.6, fixed_probability: 0.1, seed };
    let g = random_graph(&spec).unwrap();
    let net: Network<f64> = Network::new(g, &Init::default(), seed).unwrap();
    let (batch, steps) = (3, 5);
    let x = random_data(seed + 1, batch * steps * 3, 1.5);
    let y = random_data(seed + 2, batch * steps * 2, 1.0);
    let s = Seed::Loss { loss: Loss::L2, targets: Targets::Values(&y), reduction: Reduction::Sum, mask: None };
    for h in [1e-3, 1e-4, 1e-5, 1e-6, 1e-7] {
        let r = check_gradients(&net, &Sequences::new(&x, batch, steps, 3), &s, h).unwrap();
        let i = r.names.iter().position(|n| n == "node:11:bias").unwrap();
        println!("h={h} loss? a={} n={} err={} max={} {:?}", r.analytic[i], r.numeric[i], r.relative_errors[i], r.max_error, r.worst);
    }
}
