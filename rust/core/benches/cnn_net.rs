//! Whole CNN training passes through the engine (forward + backward + weight
//! gradients), f32, batch 64: the small VGG of `benches/cifar_vgg.py` (3×3 convs
//! 32-32-pool-64-64-pool-128-128-pool, dense 128, 10) and a LeNet-5-shaped
//! chain. `RAYON_NUM_THREADS=N cargo bench -p nervenet-core --bench cnn_net`;
//! `benches/compare_torch.py` compares the same work with PyTorch.

use criterion::{criterion_group, criterion_main, Criterion};
use nervenet_core::*;
use std::hint::black_box;

fn map(g: &mut Graph, role: Role, c: u32, hw: u32, act: Activation, bias: bool) -> NodeId {
    let kind = NodeKind::FeatureMap { channels: c, height: hw, width: hw, activation: act, untied_bias: false };
    g.add_node(role, kind, Some(bias)).unwrap()
}

fn link(g: &mut Graph, src: NodeId, dst: NodeId, kind: EdgeKind) {
    g.add_edge(src, dst, EdgeSpec { kind, ..EdgeSpec::default() }).unwrap();
}

fn conv(k: u32, padding: u32) -> EdgeKind {
    EdgeKind::Filter { kh: k, kw: k, kc: None, stride: 1, padding }
}

fn pool2() -> EdgeKind {
    EdgeKind::Pool {
        op: PoolOp::Max,
        height: 2,
        width: 2,
        stride_h: 2,
        stride_w: 2,
        overlapping: false,
        pseudorandom: false,
    }
}

/// (input channels, side, [(channels, pool after)], kernel, padding, dense)
fn chain(c0: u32, side: u32, convs: &[(u32, bool)], k: u32, pad: u32, dense: &[usize]) -> Graph {
    let mut g = Graph::new();
    let mut prev = map(&mut g, Role::Input, c0, side, Activation::Identity, false);
    let mut hw = side;
    for &(c, pool) in convs {
        hw = hw + 2 * pad - k + 1;
        let m = map(&mut g, Role::Hidden, c, hw, Activation::Relu, true);
        link(&mut g, prev, m, conv(k, pad));
        prev = m;
        if pool {
            hw /= 2;
            let p = map(&mut g, Role::Hidden, c, hw, Activation::Identity, false);
            link(&mut g, prev, p, pool2());
            prev = p;
        }
    }
    let mut layer = vec![prev];
    for (i, &n) in dense.iter().enumerate() {
        let last = i + 1 == dense.len();
        let (role, act) = if last { (Role::Output, Activation::Identity) } else { (Role::Hidden, Activation::Relu) };
        let next: Vec<NodeId> = (0..n).map(|_| g.add_node(role, NodeKind::simple(act), Some(!last)).unwrap()).collect();
        for &d in &next {
            for &s in &layer {
                g.add_edge(s, d, EdgeSpec::default()).unwrap();
            }
        }
        layer = next;
    }
    g
}

fn bench_net(c: &mut Criterion, name: &str, g: Graph, batch: usize) {
    let net: Network<f32> = Network::new(g, &Init::default(), 0).unwrap();
    let n_in = net.n_inputs();
    let x: Vec<f32> = (0..batch * n_in).map(|i| ((i * 7919 % 1000) as f32) / 500.0 - 1.0).collect();
    let labels: Vec<i64> = (0..batch as i64).map(|i| i % 10).collect();
    let xs = Sequences::new(&x, batch, 1, n_in);
    let seed =
        Seed::Loss { loss: Loss::Softmax, targets: Targets::Classes(&labels), reduction: Reduction::Mean, mask: None };
    let threads = rayon::current_num_threads();
    c.bench_function(&format!("{name} b{batch} fwd+bwd t{threads}"), |b| {
        b.iter(|| black_box(net.gradient(&xs, &seed, false).unwrap()))
    });
}

fn benches(c: &mut Criterion) {
    let vgg =
        chain(3, 32, &[(32, false), (32, true), (64, false), (64, true), (128, false), (128, true)], 3, 1, &[128, 10]);
    bench_net(c, "small VGG", vgg, 64);
    let lenet = chain(1, 32, &[(6, true), (16, true)], 5, 0, &[120, 84, 10]);
    bench_net(c, "LeNet-5 chain", lenet, 64);
}

criterion_group! {
    name = group;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(group);
