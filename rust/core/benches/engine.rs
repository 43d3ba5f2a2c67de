//! Criterion benches of the engine: dense (MLP 784-512-512-10, batch 256)
//! and sparse (random DAG with skip edges, batch 64) forward+backward, and
//! an Elman network over 500 steps (BPTT). `cargo bench -p nervenet-core`.

use criterion::{criterion_group, criterion_main, Criterion};
use nervenet_core::*;
use std::hint::black_box;

fn mlp(sizes: &[usize]) -> Graph {
    let mut g = Graph::new();
    let mut prev: Vec<NodeId> =
        (0..sizes[0]).map(|_| g.add_node(Role::Input, NodeKind::simple(Activation::Identity), None).unwrap()).collect();
    for (i, &n) in sizes.iter().enumerate().skip(1) {
        let last = i + 1 == sizes.len();
        let (role, act) = if last { (Role::Output, Activation::Identity) } else { (Role::Hidden, Activation::Relu) };
        let layer: Vec<NodeId> = (0..n).map(|_| g.add_node(role, NodeKind::simple(act), Some(true)).unwrap()).collect();
        let edges: Vec<_> =
            layer.iter().flat_map(|&d| prev.iter().map(move |&s| (s, d, EdgeSpec::default()))).collect();
        g.add_edges(&edges).unwrap();
        prev = layer;
    }
    g
}

fn data(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect()
}

fn dense(c: &mut Criterion) {
    let net: Network<f32> = Network::new(mlp(&[784, 512, 512, 10]), &Init::default(), 0).unwrap();
    let b = 256;
    let x = data(b * 784);
    let y: Vec<i64> = (0..b as i64).map(|i| i % 10).collect();
    let xs = Sequences::new(&x, b, 1, 784);
    let seed =
        Seed::Loss { loss: Loss::Softmax, targets: Targets::Classes(&y), reduction: Reduction::Mean, mask: None };
    c.bench_function("dense mlp 784-512-512-10 b256 fwd+bwd", |bench| {
        bench.iter(|| black_box(net.gradient(&xs, &seed, false).unwrap()))
    });
}

fn sparse(c: &mut Criterion) {
    let g = random_graph(&RandomGraphSpec {
        inputs: 20,
        hidden: 300,
        outputs: 5,
        density: 0.1,
        activations: vec![Activation::Tanh],
        bias_probability: 1.0,
        ..RandomGraphSpec::default()
    })
    .unwrap();
    let net: Network<f32> = Network::new(g, &Init::default(), 0).unwrap();
    let b = 64;
    let x = data(b * 20);
    let y = data(b * 5);
    let xs = Sequences::new(&x, b, 1, 20);
    let seed = Seed::Loss { loss: Loss::Mse, targets: Targets::Values(&y), reduction: Reduction::Mean, mask: None };
    c.bench_function("sparse dag 300 hidden 10% b64 fwd+bwd", |bench| {
        bench.iter(|| black_box(net.gradient(&xs, &seed, false).unwrap()))
    });
}

fn elman(c: &mut Criterion) {
    let mut g = Graph::new();
    let x: Vec<NodeId> =
        (0..10).map(|_| g.add_node(Role::Input, NodeKind::simple(Activation::Identity), None).unwrap()).collect();
    let h: Vec<NodeId> =
        (0..16).map(|_| g.add_node(Role::Hidden, NodeKind::simple(Activation::Tanh), None).unwrap()).collect();
    let o = g.add_node(Role::Output, NodeKind::simple(Activation::Identity), Some(true)).unwrap();
    let mut edges = Vec::new();
    for &d in &h {
        edges.extend(x.iter().map(|&s| (s, d, EdgeSpec::default())));
        edges.extend(h.iter().map(|&s| (s, d, EdgeSpec { time_skip: 1, ..EdgeSpec::default() })));
        edges.push((d, o, EdgeSpec::default()));
    }
    g.add_edges(&edges).unwrap();
    let net: Network<f32> = Network::new(g, &Init::default(), 0).unwrap();
    let steps = 500;
    let xv = data(steps * 10);
    let yv = data(steps);
    let xs = Sequences::new(&xv, 1, steps, 10);
    let seed = Seed::Loss { loss: Loss::Mse, targets: Targets::Values(&yv), reduction: Reduction::Mean, mask: None };
    c.bench_function("elman 10-16-1 500 steps b1 fwd+bptt", |bench| {
        bench.iter(|| black_box(net.gradient(&xs, &seed, false).unwrap()))
    });
}

criterion_group!(benches, dense, sparse, elman);
criterion_main!(benches);
