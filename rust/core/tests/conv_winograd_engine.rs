//! Convolutions the engine runs by Winograd F(2×2, 3×3), with filter
//! gradients large enough that their chunk terms run in parallel: results
//! bitwise identical for 1 and 2 threads, and the gradient of a whole
//! network (f64) by central differences.

mod common;
use common::*;
use nervenet_core::*;

fn fmap(g: &mut Graph, role: Role, (c, h, w): (u32, u32, u32), act: &str) -> NodeId {
    let kind =
        NodeKind::FeatureMap { channels: c, height: h, width: w, activation: common::act(act), untied_bias: false };
    g.add_node(role, kind, Some(role != Role::Input)).unwrap()
}

/// 16 → 32 (3×3, padding 1) → 32 (3×3, unpadded) → max pool → 3 outputs.
fn winograd_cnn(side: u32) -> Graph {
    let mut g = Graph::new();
    let x = fmap(&mut g, Role::Input, (16, side, side), "identity");
    let a = fmap(&mut g, Role::Hidden, (32, side, side), "tanh");
    g.add_edge(x, a, filter(3, 1, 1)).unwrap();
    let b = fmap(&mut g, Role::Hidden, (32, side - 2, side - 2), "relu");
    g.add_edge(a, b, filter(3, 1, 0)).unwrap();
    let p = fmap(&mut g, Role::Hidden, (32, (side - 2) / 2, (side - 2) / 2), "identity");
    g.add_edge(b, p, pool(PoolOp::Max, 2, 2)).unwrap();
    for _ in 0..3 {
        let y = node(&mut g, Role::Output, "identity", true);
        g.add_edge(p, y, EdgeSpec::default()).unwrap();
    }
    g
}

#[test]
fn winograd_results_do_not_depend_on_threads() {
    let g = winograd_cnn(16);
    let net: Network<f32> = Network::new(g, &Init::default(), 5).unwrap();
    let batch = 40; // chunks of 16, 16 and 8 samples
    let x: Vec<f32> = values(batch * 16 * 16 * 16, 1).iter().map(|&v| v as f32).collect();
    let y: Vec<f32> = values(batch * 3, 2).iter().map(|&v| v as f32).collect();
    let xs = Sequences::new(&x, batch, 1, 16 * 16 * 16);
    let runs = outputs_and_gradients_on_1_and_2_threads(&net, &xs, &y);
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn winograd_network_gradient_by_central_differences() {
    let g = winograd_cnn(6);
    let net: Network<f64> = Network::new(g, &Init::default(), 7).unwrap();
    let batch = 3;
    let x = values(batch * 16 * 6 * 6, 3);
    let y = values(batch * 3, 4);
    let xs = Sequences::new(&x, batch, 1, 16 * 6 * 6);
    let want = Want { param_grads: true, ..Want::default() };
    let grads = net.run(net.params(), &xs, Some(&values_seed(Loss::Mse, &y)), want).unwrap().param_grads.unwrap();
    let loss = |p: &[f64]| {
        let out = net.run(p, &xs, None, Want { outputs: true, ..Want::default() }).unwrap().outputs.unwrap();
        out.iter().zip(&y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / 3.0 // MSE: mean over outputs
    };
    let p0 = net.params().to_vec();
    // a spread of filter weights of both convolutions and a few biases
    for i in (0..p0.len()).step_by(p0.len() / 40 + 1) {
        let h = 1e-6;
        let (mut pp, mut pm) = (p0.clone(), p0.clone());
        pp[i] += h;
        pm[i] -= h;
        let num = (loss(&pp) - loss(&pm)) / (2.0 * h);
        assert!((num - grads[i]).abs() <= 1e-6 * (1.0 + num.abs()), "parameter {i}: {} vs {num}", grads[i]);
    }
}
