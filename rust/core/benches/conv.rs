//! Criterion benches of the convolution kernels, f32, on the shapes of
//! `benches/conv_torch.py` (PyTorch's conv2d on the same work):
//! `RAYON_NUM_THREADS=N cargo bench -p nervenet-core --bench conv`. The
//! "rows" cases compare the engine's single-threaded rows-layout kernel with
//! the batch kernel; run them with `RAYON_NUM_THREADS=1` for a fair match.

use criterion::{criterion_group, criterion_main, Criterion};
use nervenet_core::kernels::conv::{Bias, BiasGrad, Conv2d, ConvGrads};
use std::hint::black_box;

fn data(n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|i| (((i * 7919) % 1000) as f32 / 1000.0 - 0.5) * scale).collect()
}

fn bench_shape(c: &mut Criterion, name: &str, batch: usize, g: Conv2d) {
    let threads = rayon::current_num_threads();
    let (oh, ow) = g.output_size().unwrap();
    let out_len = batch * g.output_channels() * oh * ow;
    let x = data(batch * g.in_channels * g.in_h * g.in_w, 1.0);
    let w = data(g.weight_len(), 0.1);
    let b = data(g.output_channels(), 0.1);
    let gy = data(out_len, 1.0);
    let mut y = vec![0f32; out_len];
    let (mut dx, mut dw, mut db) = (vec![0f32; x.len()], vec![0f32; w.len()], vec![0f32; b.len()]);
    c.bench_function(&format!("conv {name} fwd t{threads}"), |bench| {
        bench.iter(|| g.forward(batch, &x, &w, Bias::Tied(&b), &mut y, false).unwrap())
    });
    c.bench_function(&format!("conv {name} fwd+bwd t{threads}"), |bench| {
        bench.iter(|| {
            g.forward(batch, &x, &w, Bias::Tied(&b), &mut y, false).unwrap();
            let grads = ConvGrads { d_input: Some(&mut dx), d_weights: Some(&mut dw), d_bias: BiasGrad::Tied(&mut db) };
            g.backward(batch, &x, &w, &gy, grads).unwrap();
            black_box(&y);
        })
    });
}

/// Forward + backward (dIn, dW, no bias) of one batch: the batch kernel
/// against the rows kernel on the whole batch as one chunk (the engine's
/// chunks hold up to 64 samples, and it parallelises over chunks itself).
fn bench_rows(c: &mut Criterion, name: &str, batch: usize, g: Conv2d) {
    let threads = rayon::current_num_threads();
    let (oh, ow) = g.output_size().unwrap();
    let out_len = batch * g.output_channels() * oh * ow;
    let x = data(batch * g.in_channels * g.in_h * g.in_w, 1.0);
    let w = data(g.weight_len(), 0.1);
    let gy = data(out_len, 1.0);
    let mut y = vec![0f32; out_len];
    let (mut dx, mut dw) = (vec![0f32; x.len()], vec![0f32; w.len()]);
    c.bench_function(&format!("rows {name} batch kernel fwd+bwd t{threads}"), |bench| {
        bench.iter(|| {
            g.forward(batch, &x, &w, Bias::None, &mut y, false).unwrap();
            let grads = ConvGrads { d_input: Some(&mut dx), d_weights: Some(&mut dw), d_bias: BiasGrad::None };
            g.backward(batch, &x, &w, &gy, grads).unwrap();
            black_box(&y);
        })
    });
    // the same values, transposed to rows layout, are not needed for timing
    let mut scratch = Vec::new();
    c.bench_function(&format!("rows {name} rows kernel fwd+bwd"), |bench| {
        bench.iter(|| {
            g.forward_rows(batch, &x, &w, &mut y, &mut scratch);
            g.backward_rows(batch, &x, &w, &gy, Some(&mut dx), Some(&mut dw), &mut scratch);
            black_box(&y);
        })
    });
}

fn conv(c: &mut Criterion) {
    let vgg = Conv2d::new(64, 64, (3, 3), (32, 32)).with_padding(1, 1);
    bench_rows(c, "vgg-block 64->64 3x3 32x32 p1 b32", 32, vgg);
    bench_shape(c, "vgg-block 64->64 3x3 32x32 p1 b32", 32, Conv2d::new(64, 64, (3, 3), (32, 32)).with_padding(1, 1));
    bench_shape(c, "lenet c1 1->6 5x5 28x28 p2 b64", 64, Conv2d::new(1, 6, (5, 5), (28, 28)).with_padding(2, 2));
    bench_shape(c, "small-vgg 3->32 3x3 32x32 p1 b64", 64, Conv2d::new(3, 32, (3, 3), (32, 32)).with_padding(1, 1));
}

criterion_group!(benches, conv);
criterion_main!(benches);
