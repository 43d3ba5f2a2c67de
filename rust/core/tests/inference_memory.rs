//! The inference memory cap (`set_inference_memory`), measured: a
//! forward-only run over a batch whose activations are many times the cap
//! takes at most the cap's bytes of run buffers at once (the workspace's
//! high-water mark, counted where buffers are handed out), and gives the
//! same outputs as with room for the whole batch. A training run over the
//! same batch, which keeps every activation, shows that the count sees them.
//! Its own binary: the cap is a process-wide setting.

mod common;
use common::{linear_map, pool};
use nervenet_core::*;

const CAP: usize = 16 << 20;

/// 1×64×64 input map → 2×2 average pool → 1×32×32 → one output: 5,121
/// rows, cheap to run.
fn network() -> Network<f32> {
    let mut g = Graph::new();
    let x = g.add_node(Role::Input, linear_map(1, 64, 64), None).unwrap();
    let p = g.add_node(Role::Hidden, linear_map(1, 32, 32), Some(false)).unwrap();
    let y = g.add_node(Role::Output, NodeKind::simple(Activation::Identity), None).unwrap();
    g.add_edge(x, p, EdgeSpec { trainable: false, ..pool(PoolOp::Avg, 2, 2) }).unwrap();
    g.add_edge(p, y, EdgeSpec::default()).unwrap();
    Network::new(g, &Init::default(), 3).unwrap()
}

#[test]
fn forward_runs_stay_under_the_inference_cap() {
    let net = network();
    let batch = 4096;
    let x: Vec<f32> = (0..batch * 4096).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
    let seq = Sequences::new(&x, batch, 1, 4096);
    let whole = net.plan().n_rows() * batch * size_of::<f32>();
    assert!(whole > 4 * CAP, "the batch's activations ({whole} bytes) must be well over the cap");

    set_inference_memory(CAP).unwrap();
    net.workspace_peak_bytes(true);
    let capped = net.forward(&seq).unwrap();
    let peak = net.workspace_peak_bytes(true);
    assert!(peak <= CAP, "a forward run took {peak} bytes of buffers at once, over the cap of {CAP}");
    assert!(peak >= CAP / 2, "{peak} bytes: the waves should fill most of the cap");

    set_inference_memory(2 * whole).unwrap();
    let free = net.forward(&seq).unwrap();
    assert!(net.workspace_peak_bytes(true) >= whole, "one wave holds the whole batch");
    assert_eq!(capped, free, "the cap must not change results");

    // Training keeps every step's activations and deltas: not capped.
    let targets = vec![0.0f32; batch];
    let seed =
        Seed::Loss { loss: Loss::Mse, targets: Targets::Values(&targets), reduction: Reduction::Mean, mask: None };
    set_inference_memory(CAP).unwrap();
    net.gradient(&seq, &seed, false).unwrap();
    assert!(net.workspace_peak_bytes(true) >= 2 * whole);
}
