//! Criterion benches of the convolution kernels the engine runs, f32, on the
//! shapes of `benches/conv_torch.py` (PyTorch's conv2d on the same work):
//! `RAYON_NUM_THREADS=N cargo bench -p nervenet-core --bench conv`. As in
//! the engine, the batch is cut into chunks of `exec::map_chunk(batch)`
//! samples in the rows layout, each chunk runs `Conv2d::forward_rows` /
//! `backward_rows` on one thread with its own scratch and filter gradient,
//! and the chunks' filter gradients are summed in chunk order. The bias
//! (one add per output, done by the engine outside the kernel) is left out.

use criterion::{criterion_group, criterion_main, Criterion};
use nervenet_core::exec::map_chunk;
use nervenet_core::kernels::conv::Conv2d;
use rayon::prelude::*;
use std::hint::black_box;

fn data(n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|i| (((i * 7919) % 1000) as f32 / 1000.0 - 0.5) * scale).collect()
}

fn bench_shape(c: &mut Criterion, name: &str, batch: usize, g: Conv2d) {
    let threads = rayon::current_num_threads();
    let (oh, ow) = g.output_size().unwrap();
    let (in_len, out_len, w_len) = (g.in_channels * g.in_h * g.in_w, g.output_channels() * oh * ow, g.weight_len());
    let n = map_chunk(batch);
    let chunks = batch.div_ceil(n);
    // the whole batch in rows layout, chunk after chunk (the last may be short)
    let x = data(batch * in_len, 1.0);
    let w = data(w_len, 0.1);
    let gy = data(batch * out_len, 1.0);
    let mut y = vec![0f32; batch * out_len];
    let (mut dx, mut dws, mut dw) = (vec![0f32; x.len()], vec![0f32; chunks * w_len], vec![0f32; w_len]);
    let mut scratch: Vec<Vec<f32>> = vec![Vec::new(); chunks];
    c.bench_function(&format!("conv {name} fwd t{threads}"), |bench| {
        bench.iter(|| {
            y.fill(0.0);
            y.par_chunks_mut(n * out_len)
                .zip(x.par_chunks(n * in_len))
                .zip(&mut scratch)
                .for_each(|((y, x), s)| g.forward_rows(x.len() / in_len, x, &w, y, s));
            black_box(&y);
        })
    });
    c.bench_function(&format!("conv {name} fwd+bwd t{threads}"), |bench| {
        bench.iter(|| {
            y.fill(0.0);
            dx.fill(0.0);
            dws.fill(0.0);
            y.par_chunks_mut(n * out_len)
                .zip(dx.par_chunks_mut(n * in_len))
                .zip(dws.par_chunks_mut(w_len))
                .zip(x.par_chunks(n * in_len).zip(gy.par_chunks(n * out_len)))
                .zip(&mut scratch)
                .for_each(|((((y, dx), dw), (x, gy)), s)| {
                    let m = x.len() / in_len;
                    g.forward_rows(m, x, &w, y, s);
                    g.backward_rows(m, x, &w, gy, Some(dx), Some(dw), s);
                });
            dw.fill(0.0);
            for part in dws.chunks(w_len) {
                dw.iter_mut().zip(part).for_each(|(a, &b)| *a += b);
            }
            black_box((&y, &dx, &dw));
        })
    });
}

fn conv(c: &mut Criterion) {
    bench_shape(c, "vgg-block 64->64 3x3 32x32 p1 b32", 32, Conv2d::new(64, 64, (3, 3), (32, 32)).with_padding(1, 1));
    bench_shape(c, "lenet c1 1->6 5x5 28x28 p2 b64", 64, Conv2d::new(1, 6, (5, 5), (28, 28)).with_padding(2, 2));
    bench_shape(c, "small-vgg 3->32 3x3 32x32 p1 b64", 64, Conv2d::new(3, 32, (3, 3), (32, 32)).with_padding(1, 1));
}

criterion_group!(benches, conv);
criterion_main!(benches);
