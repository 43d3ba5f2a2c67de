//! CNN kernels (kernels::conv, kernels::pool): the worked examples of the
//! notes' lecture "CNNs and the forward pass" as golden values, a direct
//! scalar reference, f64 central-difference gradient checks, f32/f64
//! agreement, thread independence and bad-shape errors.

mod common;
use common::{distinct, numeric, values, AVG_POOL_GRID, POOL_GRID};
use nervenet_core::kernels::conv::{Bias, BiasGrad, Conv2d, ConvGrads};
use nervenet_core::kernels::pool::{
    avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward, FmpSequence, FractionalPool, Pool2d,
    Regions,
};
use nervenet_core::{Error, Real};

fn rel(a: f64, n: f64) -> f64 {
    if a == n {
        0.0
    } else {
        (a - n).abs() / a.abs().max(n.abs())
    }
}

fn assert_grad(what: &str, analytic: &[f64], numeric: &[f64]) {
    assert_eq!(analytic.len(), numeric.len(), "{what}: lengths");
    let worst = analytic.iter().zip(numeric).map(|(&a, &n)| rel(a, n)).fold(0.0, f64::max);
    assert!(worst < 1e-7, "{what}: max relative error {worst:e}");
}

/// The convolution written as its definition, one output cell at a time.
fn reference(g: &Conv2d, batch: usize, x: &[f64], w: &[f64], bias: Bias<'_, f64>) -> Vec<f64> {
    let (oh, ow) = g.output_size().unwrap();
    let slices = g.in_channels - g.kc + 1;
    let mut out = vec![0.0; batch * g.out_channels * slices * oh * ow];
    let mut n = 0;
    for b in 0..batch {
        for o in 0..g.out_channels {
            for s in 0..slices {
                for i in 0..oh {
                    for j in 0..ow {
                        let mut acc = 0.0;
                        for cc in 0..g.kc {
                            if g.table.as_ref().is_some_and(|t| !t[o * g.kc + cc]) {
                                continue;
                            }
                            for ki in 0..g.kh {
                                for kj in 0..g.kw {
                                    let (y, z) = ((i * g.stride_h + ki) as isize, (j * g.stride_w + kj) as isize);
                                    let (y, z) = (y - g.pad_h as isize, z - g.pad_w as isize);
                                    if y < 0 || z < 0 || y >= g.in_h as isize || z >= g.in_w as isize {
                                        continue;
                                    }
                                    let xi = ((b * g.in_channels + s + cc) * g.in_h + y as usize) * g.in_w + z as usize;
                                    acc += x[xi] * w[((o * g.kc + cc) * g.kh + ki) * g.kw + kj];
                                }
                            }
                        }
                        let ch = o * slices + s;
                        acc += match bias {
                            Bias::Tied(bv) => bv[ch],
                            Bias::Untied(bv) => bv[(ch * oh + i) * ow + j],
                            Bias::None => 0.0,
                        };
                        out[n] = acc;
                        n += 1;
                    }
                }
            }
        }
    }
    out
}

/// The adjoint of [`reference`]: (dIn, dW) for output gradient `r`.
fn reference_backward(g: &Conv2d, batch: usize, x: &[f64], w: &[f64], r: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (oh, ow) = g.output_size().unwrap();
    let slices = g.in_channels - g.kc + 1;
    let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
    let mut n = 0;
    for b in 0..batch {
        for o in 0..g.out_channels {
            for s in 0..slices {
                for i in 0..oh {
                    for j in 0..ow {
                        for cc in (0..g.kc).filter(|&cc| g.table.as_ref().is_none_or(|t| t[o * g.kc + cc])) {
                            for ki in 0..g.kh {
                                for kj in 0..g.kw {
                                    let (y, z) = (i * g.stride_h + ki, j * g.stride_w + kj);
                                    if y < g.pad_h || z < g.pad_w || y - g.pad_h >= g.in_h || z - g.pad_w >= g.in_w {
                                        continue;
                                    }
                                    let xi =
                                        ((b * g.in_channels + s + cc) * g.in_h + y - g.pad_h) * g.in_w + z - g.pad_w;
                                    let wi = ((o * g.kc + cc) * g.kh + ki) * g.kw + kj;
                                    dx[xi] += w[wi] * r[n];
                                    dw[wi] += x[xi] * r[n];
                                }
                            }
                        }
                        n += 1;
                    }
                }
            }
        }
    }
    (dx, dw)
}

fn forward<T: Real>(g: &Conv2d, batch: usize, x: &[T], w: &[T], bias: Bias<'_, T>) -> Vec<T> {
    let (oh, ow) = g.output_size().unwrap();
    let mut out = vec![T::ZERO; batch * g.output_channels() * oh * ow];
    g.forward(batch, x, w, bias, &mut out, false).unwrap();
    out
}

#[test]
fn golden_x_image_with_outline_filter() {
    // The notes' 5×5 "X" (255 on the diagonals) and 3×3 filter, no padding.
    let x: Vec<f64> = (0..25).map(|i| if i / 5 == i % 5 || i / 5 + i % 5 == 4 { 255.0 } else { 0.0 }).collect();
    let w = [-1.0, -1.0, -1.0, -1.0, 2.0, -1.0, -1.0, -1.0, -1.0];
    let g = Conv2d::new(1, 1, (3, 3), (5, 5));
    assert_eq!(g.output_size().unwrap(), (3, 3));
    let want = [0.0, -765.0, 0.0, -765.0, -510.0, -765.0, 0.0, -765.0, 0.0];
    assert_eq!(forward(&g, 1, &x, &w, Bias::None), want);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
    assert_eq!(forward(&g, 1, &x32, &w32, Bias::None), want.map(|v| v as f32));
}

#[test]
fn golden_padded_example() {
    // Input padded by 1 keeps the 3×3 size (the notes store the result in an
    // output map padded by 2; here the output is unpadded).
    let x = [5.0, 2.0, 1.0, 1.0, 3.0, 2.0, 7.0, 1.0, 9.0];
    let w = [-1.0, -1.0, -1.0, -1.0, 2.0, -1.0, -1.0, -1.0, 2.0];
    let g = Conv2d::new(1, 1, (3, 3), (3, 3)).with_padding(1, 1);
    assert_eq!(forward(&g, 1, &x, &w, Bias::None), [13.0, -2.0, -5.0, -13.0, 5.0, -12.0, 9.0, -20.0, 12.0]);
}

#[test]
fn golden_3d_filter() {
    // 4×4×3 input, one 3×3×2 filter sliding over channels: 2×2×2 output.
    #[rustfmt::skip]
    let x = [
        1.0, 4.0, 3.0, 2.0,  6.0, -2.0, -3.0, 5.0,  7.0, 8.0, -1.0, 0.0,  4.0, 3.0, 2.0, 1.0,
        3.0, 2.0, 3.0, 1.0,  4.0, 5.0, 4.0, 2.0,  -2.0, 3.0, -3.0, 1.0,  -1.0, -1.0, 2.0, 4.0,
        -5.0, -3.0, 2.0, 3.0,  -4.0, -1.0, -2.0, -3.0,  3.0, 6.0, 3.0, 2.0,  2.0, 5.0, 4.0, 2.0,
    ];
    #[rustfmt::skip]
    let w = [-1.0, -1.0, -1.0, -1.0, 2.0, -1.0, -1.0, -1.0, -1.0,  -2.0, 1.0, -2.0, 1.0, 2.0, 1.0, -2.0, 1.0, -2.0];
    let g = Conv2d::new(3, 1, (3, 3), (4, 4)).with_depth(2);
    assert_eq!(g.output_channels(), 2);
    assert_eq!(forward(&g, 1, &x, &w, Bias::None), [-8.0, -24.0, -13.0, -32.0, -15.0, -25.0, 20.0, -16.0]);
}

#[test]
fn golden_max_pool_2x2_stride_2() {
    let r = Pool2d::new((2, 2), (2, 2), (6, 6)).regions().unwrap();
    let (mut out, mut arg) = (vec![0.0; 9], vec![0u32; 9]);
    max_pool_forward(&r, 1, &POOL_GRID, &mut out, &mut arg).unwrap();
    assert_eq!(out, [-1.0, 3.0, 5.0, 6.0, 4.0, 6.0, 7.0, 5.0, 3.0]);
    for (&a, &v) in arg.iter().zip(&out) {
        assert_eq!(POOL_GRID[a as usize], v);
    }
    // ties: the first in row-major order wins and alone gets the gradient
    let x = [1.0, 2.0, 2.0, 2.0];
    let r = Pool2d::new((2, 2), (2, 2), (2, 2)).regions().unwrap();
    max_pool_forward(&r, 1, &x, &mut out[..1], &mut arg[..1]).unwrap();
    assert_eq!(arg[0], 1);
    let mut dx = [0.0; 4];
    max_pool_backward(&r, 1, &[1.5], &arg[..1], &mut dx).unwrap();
    assert_eq!(dx, [0.0, 1.5, 0.0, 0.0]);
}

#[test]
fn golden_avg_pool_3x3_stride_2() {
    let x = AVG_POOL_GRID;
    let r = Pool2d::new((3, 3), (2, 2), (7, 7)).regions().unwrap();
    let mut out = vec![0.0; 9];
    avg_pool_forward(&r, 1, &x, &mut out).unwrap();
    // the notes print two decimals (0.88 truncates 8/9 = 0.888…)
    let want = [-0.11, 1.33, 2.11, 3.44, 2.22, 1.44, 3.11, 0.88, -0.33];
    for (o, w) in out.iter().zip(want) {
        assert!((o - w).abs() < 0.01, "{out:?}");
    }
    assert_eq!(out[0], -1.0 / 9.0);
}

/// Forward against the reference, then dIn, dW, dBias against central differences.
fn check_conv(g: &Conv2d, batch: usize, bias_mode: u8, seed: u64) {
    let (oh, ow) = g.output_size().unwrap();
    let in_len = batch * g.in_channels * g.in_h * g.in_w;
    let out_len = batch * g.output_channels() * oh * ow;
    let b_len = match bias_mode {
        1 => g.output_channels(),
        2 => out_len / batch,
        _ => 0,
    };
    let (x, w, b, r) =
        (values(in_len, seed), values(g.weight_len(), seed + 1), values(b_len, seed + 2), values(out_len, seed + 3));
    fn make(mode: u8, b: &[f64]) -> Bias<'_, f64> {
        match mode {
            1 => Bias::Tied(b),
            2 => Bias::Untied(b),
            _ => Bias::None,
        }
    }
    let got = forward(g, batch, &x, &w, make(bias_mode, &b));
    let want = reference(g, batch, &x, &w, make(bias_mode, &b));
    for (a, e) in got.iter().zip(&want) {
        assert!((a - e).abs() < 1e-12, "forward {a} vs reference {e}");
    }
    // accumulate adds onto what is there
    let mut acc = vec![1.0; out_len];
    g.forward(batch, &x, &w, make(bias_mode, &b), &mut acc, true).unwrap();
    assert!(acc.iter().zip(&want).all(|(a, e)| (a - 1.0 - e).abs() < 1e-12));

    let (mut dx, mut dw, mut db) = (vec![0.0; in_len], vec![0.0; w.len()], vec![0.0; b_len]);
    let d_bias = match bias_mode {
        1 => BiasGrad::Tied(&mut db[..]),
        2 => BiasGrad::Untied(&mut db[..]),
        _ => BiasGrad::None,
    };
    let grads = ConvGrads { d_input: Some(&mut dx), d_weights: Some(&mut dw), d_bias };
    g.backward(batch, &x, &w, &r, grads).unwrap();
    assert_grad("dIn", &dx, &numeric(&|p| forward(g, batch, p, &w, make(bias_mode, &b)), &x, &r));
    assert_grad("dW", &dw, &numeric(&|p| forward(g, batch, &x, p, make(bias_mode, &b)), &w, &r));
    assert_grad("dBias", &db, &numeric(&|p| forward(g, batch, &x, &w, make(bias_mode, p)), &b, &r));
    let (rx, rw) = reference_backward(g, batch, &x, &w, &r);
    assert_grad("dIn vs reference", &dx, &rx);
    assert_grad("dW vs reference", &dw, &rw);
    if let Some(t) = &g.table {
        let k = g.kh * g.kw;
        for (i, &v) in dw.iter().enumerate() {
            assert!(t[i / k] || v == 0.0, "disconnected weight {i} got gradient {v}");
        }
    }
    // gradients accumulate, and dIn alone matches
    let mut dx2 = vec![0.5; in_len];
    let grads = ConvGrads { d_input: Some(&mut dx2), d_weights: None, d_bias: BiasGrad::None };
    g.backward(batch, &x, &w, &r, grads).unwrap();
    assert!(dx2.iter().zip(&dx).all(|(a, e)| (a - 0.5 - e).abs() < 1e-12));
}

#[test]
fn conv_gradients_plain_tied_untied() {
    check_conv(&Conv2d::new(2, 3, (3, 3), (6, 5)), 3, 0, 1);
    check_conv(&Conv2d::new(3, 4, (3, 3), (5, 5)).with_padding(1, 1), 5, 1, 2);
    check_conv(&Conv2d::new(2, 2, (2, 3), (4, 6)).with_padding(1, 0), 6, 2, 3);
}

#[test]
fn conv_gradients_padding_and_stride_2() {
    // (7 − 3 + 2)/2 + 1 = 4 rows, (9 − 3 + 4)/2 + 1 = 6 columns; batch 5 leaves a partial chunk
    check_conv(&Conv2d::new(3, 4, (3, 3), (7, 9)).with_stride(2, 2).with_padding(1, 2), 5, 1, 4);
    check_conv(&Conv2d::new(2, 3, (4, 2), (8, 7)).with_stride(2, 1).with_padding(1, 0), 9, 2, 5);
    // padding of a filter's size or more: border outputs see only padding
    check_conv(&Conv2d::new(2, 2, (2, 2), (3, 4)).with_padding(2, 1), 3, 1, 15);
    // output as wide as the input (the shifted-run im2col), rows of pure padding
    check_conv(&Conv2d::new(2, 3, (3, 3), (4, 5)).with_padding(3, 1), 2, 1, 16);
    check_conv(&Conv2d::new(3, 2, (2, 5), (3, 6)).with_padding(2, 2), 4, 2, 17);
}

#[test]
fn conv_gradients_connection_table() {
    // LeNet-5 C3 style: each output map reads a subset of the input maps
    #[rustfmt::skip]
    let table = vec![
        true, true, false, false,
        false, true, true, false,
        true, false, true, true,
        false, false, false, false,
    ];
    let g = Conv2d::new(4, 4, (3, 3), (6, 6)).with_padding(1, 1).with_table(table);
    check_conv(&g, 3, 1, 6);
    // disconnected weights are ignored, whatever their value
    let x = values(4 * 36, 7);
    let mut w = values(g.weight_len(), 8);
    let base = forward(&g, 1, &x, &w, Bias::None);
    w[2 * 9] = 1e6;
    w[15 * 9 + 4] = f64::NAN;
    assert_eq!(forward(&g, 1, &x, &w, Bias::None), base);
}

#[test]
fn conv_gradients_3d_filter() {
    check_conv(&Conv2d::new(4, 3, (3, 3), (5, 6)).with_depth(2).with_padding(1, 1), 3, 2, 9);
    check_conv(&Conv2d::new(5, 2, (2, 2), (6, 6)).with_depth(3).with_stride(2, 2), 5, 1, 10);
    let t = vec![true, false, true, true, true, false];
    check_conv(&Conv2d::new(4, 2, (3, 3), (4, 4)).with_depth(3).with_table(t), 2, 0, 11);
}

#[test]
fn conv_gradients_1x1_direct_path() {
    check_conv(&Conv2d::new(5, 3, (1, 1), (4, 5)), 6, 1, 12);
    check_conv(&Conv2d::new(5, 2, (1, 1), (3, 3)).with_depth(3), 5, 2, 13);
    check_conv(&Conv2d::new(3, 2, (1, 1), (5, 5)).with_stride(2, 2), 2, 0, 14);
}

#[test]
fn conv_large_maps_match_reference() {
    // Wide enough that the im2col matrix is split into several tiles of
    // output rows; the scalar reference (itself checked by finite
    // differences above) is the oracle.
    let cases = [
        (2, Conv2d::new(64, 2, (5, 5), (64, 64)).with_padding(2, 2)),
        (5, Conv2d::new(32, 3, (5, 5), (24, 24)).with_padding(2, 2)),
        (3, Conv2d::new(48, 2, (3, 3), (81, 65)).with_stride(2, 2).with_padding(1, 1)),
        (5, Conv2d::new(40, 2, (3, 3), (20, 30)).with_depth(30).with_padding(1, 1)),
    ];
    for (n, (batch, g)) in cases.iter().enumerate() {
        let batch = *batch;
        let (oh, ow) = g.output_size().unwrap();
        let seed = 60 + 4 * n as u64;
        let x = values(batch * g.in_channels * g.in_h * g.in_w, seed);
        let w = values(g.weight_len(), seed + 1);
        let r = values(batch * g.output_channels() * oh * ow, seed + 2);
        let y = forward(g, batch, &x, &w, Bias::None);
        let close = |a: &[f64], e: &[f64]| a.iter().zip(e).all(|(a, e)| (a - e).abs() < 1e-11 * (1.0 + e.abs()));
        assert!(close(&y, &reference(g, batch, &x, &w, Bias::None)), "forward, case {n}");
        let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
        let grads = ConvGrads { d_input: Some(&mut dx), d_weights: Some(&mut dw), d_bias: BiasGrad::None };
        g.backward(batch, &x, &w, &r, grads).unwrap();
        let (rx, rw) = reference_backward(g, batch, &x, &w, &r);
        assert!(close(&dx, &rx), "dIn, case {n}");
        assert!(close(&dw, &rw), "dW, case {n}");
    }
}

#[test]
fn conv_f32_matches_f64() {
    let g = Conv2d::new(16, 8, (3, 3), (12, 12)).with_padding(1, 1);
    let batch = 6;
    let (oh, ow) = g.output_size().unwrap();
    let x = values(batch * 16 * 144, 20);
    let w = values(g.weight_len(), 21);
    let b = values(8, 22);
    let r = values(batch * 8 * oh * ow, 23);
    let f = |v: &[f64]| -> Vec<f32> { v.iter().map(|&a| a as f32).collect() };
    let y64 = forward(&g, batch, &x, &w, Bias::Tied(&b));
    let y32 = forward(&g, batch, &f(&x), &f(&w), Bias::Tied(&f(&b)));
    let (mut dx64, mut dw64, mut db64) = (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; 8]);
    let (mut dx32, mut dw32, mut db32) = (vec![0f32; x.len()], vec![0f32; w.len()], vec![0f32; 8]);
    let grads = ConvGrads { d_input: Some(&mut dx64), d_weights: Some(&mut dw64), d_bias: BiasGrad::Tied(&mut db64) };
    g.backward(batch, &x, &w, &r, grads).unwrap();
    let grads = ConvGrads { d_input: Some(&mut dx32), d_weights: Some(&mut dw32), d_bias: BiasGrad::Tied(&mut db32) };
    g.backward(batch, &f(&x), &f(&w), &f(&r), grads).unwrap();
    for (name, a, e) in [("out", &y32, &y64), ("dIn", &dx32, &dx64), ("dW", &dw32, &dw64), ("dBias", &db32, &db64)] {
        let scale = e.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = a.iter().zip(e.iter()).fold(0.0f64, |m, (&a, &e)| m.max((a as f64 - e).abs()));
        assert!(err < 1e-5 * scale, "{name}: f32 off by {err} (scale {scale})");
    }
}

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

#[test]
fn conv_bitwise_identical_for_1_and_2_threads() {
    // the transposed-convolution dIn path, then the scatter (col2im) path
    let cases = [
        Conv2d::new(8, 8, (3, 3), (10, 10)).with_padding(1, 1),
        Conv2d::new(3, 8, (3, 3), (11, 11)).with_stride(2, 2).with_padding(1, 1),
    ];
    for g in cases {
        let batch = 23;
        let (oh, ow) = g.output_size().unwrap();
        let (in_len, out_len) = (g.in_channels * g.in_h * g.in_w, g.output_channels() * oh * ow);
        let f32s = |n: usize, seed: u64| -> Vec<f32> { values(n, seed).iter().map(|&v| v as f32).collect() };
        let (x, w, b, r) =
            (f32s(batch * in_len, 30), f32s(g.weight_len(), 31), f32s(out_len, 32), f32s(batch * out_len, 33));
        let run = || {
            let y = forward(&g, batch, &x, &w, Bias::Untied(&b));
            let (mut dx, mut dw, mut db) = (vec![0f32; x.len()], vec![0f32; w.len()], vec![0f32; out_len]);
            let grads =
                ConvGrads { d_input: Some(&mut dx), d_weights: Some(&mut dw), d_bias: BiasGrad::Untied(&mut db) };
            g.backward(batch, &x, &w, &r, grads).unwrap();
            [y, dx, dw, db].map(|v| v.iter().map(|a| a.to_bits()).collect::<Vec<u32>>())
        };
        let one = in_pool(1, run);
        let two = in_pool(2, run);
        let three = in_pool(3, run);
        assert!(one == two && two == three, "results depend on the thread count");
    }
}

fn check_pool(r: &Regions, planes: usize, max: bool, seed: u64) {
    let (h, w) = r.input_size();
    let (oh, ow) = r.output_size();
    let x = distinct(planes * h * w, seed);
    let g = values(planes * oh * ow, seed + 1);
    let fwd = |p: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; planes * oh * ow];
        if max {
            let mut arg = vec![0; out.len()];
            max_pool_forward(r, planes, p, &mut out, &mut arg).unwrap();
        } else {
            avg_pool_forward(r, planes, p, &mut out).unwrap();
        }
        out
    };
    let mut dx = vec![0.0; x.len()];
    if max {
        let mut arg = vec![0u32; g.len()];
        max_pool_forward(r, planes, &x, &mut vec![0.0; g.len()], &mut arg).unwrap();
        max_pool_backward(r, planes, &g, &arg, &mut dx).unwrap();
    } else {
        avg_pool_backward(r, planes, &g, &mut dx).unwrap();
    }
    assert_grad(if max { "max pool dIn" } else { "avg pool dIn" }, &dx, &numeric(&fwd, &x, &g));
}

#[test]
fn pool_gradients() {
    check_pool(&Pool2d::new((2, 2), (2, 2), (6, 8)).regions().unwrap(), 5, true, 40);
    check_pool(&Pool2d::new((3, 3), (2, 2), (7, 9)).regions().unwrap(), 5, true, 41);
    check_pool(&Pool2d::new((3, 2), (1, 2), (5, 6)).regions().unwrap(), 3, true, 42);
    check_pool(&Pool2d::new((3, 3), (2, 2), (7, 7)).regions().unwrap(), 4, false, 43);
    check_pool(&Pool2d::new((2, 3), (2, 1), (6, 5)).regions().unwrap(), 37, false, 44);
    for (seq, overlap) in [(FmpSequence::Random, false), (FmpSequence::Pseudorandom, true), (FmpSequence::Random, true)]
    {
        let f = FractionalPool::with_ratio((11, 9), 2f64.sqrt(), seq, overlap).unwrap();
        check_pool(&f.regions(7).unwrap(), 3, true, 45);
        check_pool(&f.regions(8).unwrap(), 3, false, 46);
    }
}

#[test]
fn pool_f32_matches_f64() {
    let r = Pool2d::new((3, 3), (2, 2), (9, 9)).regions().unwrap();
    let planes = 6;
    let x = distinct(planes * 81, 70);
    let g = values(planes * 16, 71);
    let f = |v: &[f64]| -> Vec<f32> { v.iter().map(|&a| a as f32).collect() };
    let (x32, g32) = (f(&x), f(&g));
    let (mut y64, mut y32, mut a64, mut a32) = (vec![0.0; 96], vec![0f32; 96], vec![0u32; 96], vec![0u32; 96]);
    max_pool_forward(&r, planes, &x, &mut y64, &mut a64).unwrap();
    max_pool_forward(&r, planes, &x32, &mut y32, &mut a32).unwrap();
    assert_eq!(a64, a32);
    assert!(y64.iter().zip(&y32).all(|(&a, &b)| a as f32 == b));
    avg_pool_forward(&r, planes, &x, &mut y64).unwrap();
    avg_pool_forward(&r, planes, &x32, &mut y32).unwrap();
    assert!(y64.iter().zip(&y32).all(|(&a, &b)| (a - b as f64).abs() < 1e-5 * (1.0 + a.abs())));
    let (mut d64, mut d32) = (vec![0.0; x.len()], vec![0f32; x.len()]);
    avg_pool_backward(&r, planes, &g, &mut d64).unwrap();
    avg_pool_backward(&r, planes, &g32, &mut d32).unwrap();
    assert!(d64.iter().zip(&d32).all(|(&a, &b)| (a - b as f64).abs() < 1e-6));
}

fn increments(bounds: &[(usize, usize)]) -> Vec<usize> {
    bounds.iter().map(|&(a, b)| b - a).collect()
}

#[test]
fn fractional_regions_follow_graham() {
    for seq in [FmpSequence::Random, FmpSequence::Pseudorandom] {
        // α = 36/25 ≈ √2: sides 1 or 2; α = 36/15 = 2.4: sides 2 or 3 (the notes' Figure 1)
        for (n_in, n_out, lo) in [(36, 25, 1), (36, 15, 2), (36, 36, 1), (32, 16, 2), (7, 1, 7)] {
            let f = FractionalPool::new((n_in, n_in), (n_out, n_out), seq, false).unwrap();
            for seed in 0..20 {
                let r = f.regions(seed).unwrap();
                assert_eq!(r.output_size(), (n_out, n_out));
                for ranges in [r.rows(), r.cols()] {
                    // disjoint regions tile the input exactly
                    assert_eq!(ranges[0].0, 0);
                    assert_eq!(ranges[n_out - 1].1, n_in);
                    assert!(ranges.windows(2).all(|p| p[0].1 == p[1].0));
                    let inc = increments(ranges);
                    assert!(inc.iter().all(|&d| d == lo || d == lo + 1), "{seq:?} {n_in}->{n_out}: {inc:?}");
                    assert_eq!(inc.iter().filter(|&&d| d == lo + 1).count(), n_in - lo * n_out);
                }
                assert_eq!(r, f.regions(seed).unwrap(), "same seed, same regions");
                let o = FractionalPool { overlapping: true, ..f }.regions(seed).unwrap();
                for (d, v) in r.rows().iter().zip(o.rows()) {
                    assert_eq!((v.0, v.1), (d.0, (d.1 + 1).min(n_in)), "overlapping adds the next boundary cell");
                }
            }
        }
        let f = FractionalPool::new((36, 36), (25, 25), seq, false).unwrap();
        let distinct = (0..10).map(|s| f.regions(s).unwrap().rows().to_vec()).collect::<std::collections::HashSet<_>>();
        assert!(distinct.len() > 5, "{seq:?}: seeds should give different regions");
    }
}

#[test]
fn pool_bitwise_identical_for_1_and_2_threads() {
    let f = FractionalPool::with_ratio((20, 20), 1.5, FmpSequence::Pseudorandom, true).unwrap();
    let r = f.regions(3).unwrap();
    let (oh, ow) = r.output_size();
    let planes = 70;
    let x: Vec<f32> = values(planes * 400, 50).iter().map(|&v| v as f32).collect();
    let g: Vec<f32> = values(planes * oh * ow, 51).iter().map(|&v| v as f32).collect();
    let run = || {
        let (mut y, mut arg, mut dx) = (vec![0f32; g.len()], vec![0u32; g.len()], vec![0f32; x.len()]);
        max_pool_forward(&r, planes, &x, &mut y, &mut arg).unwrap();
        max_pool_backward(&r, planes, &g, &arg, &mut dx).unwrap();
        avg_pool_forward(&r, planes, &x, &mut y).unwrap();
        avg_pool_backward(&r, planes, &g, &mut dx).unwrap();
        (y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), dx.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), arg)
    };
    assert_eq!(in_pool(1, run), in_pool(2, run));
}

fn is_shape<T: std::fmt::Debug>(r: nervenet_core::Result<T>) -> bool {
    matches!(r, Err(Error::Shape(_)))
}

#[test]
fn bad_shapes_are_errors() {
    // (6 − 3 + 0) / 2 is not whole
    assert!(is_shape(Conv2d::new(1, 1, (3, 3), (6, 6)).with_stride(2, 2).output_size()));
    assert!(is_shape(Conv2d::new(1, 1, (5, 5), (3, 3)).output_size()));
    assert!(Conv2d::new(1, 1, (5, 5), (3, 3)).with_padding(1, 1).output_size().is_ok());
    assert!(is_shape(Conv2d::new(2, 1, (3, 3), (5, 5)).with_depth(3).output_size()));
    assert!(is_shape(Conv2d::new(0, 1, (3, 3), (5, 5)).output_size()));
    assert!(is_shape(Conv2d::new(1, 1, (3, 3), (5, 5)).with_stride(0, 1).output_size()));
    assert!(is_shape(Conv2d::new(2, 2, (3, 3), (5, 5)).with_table(vec![true; 3]).output_size()));
    let g = Conv2d::new(2, 3, (3, 3), (5, 5));
    let (x, w, mut y) = (vec![0.0; 2 * 50], vec![0.0; g.weight_len()], vec![0.0; 2 * 27]);
    assert!(g.forward(2, &x, &w, Bias::None, &mut y, false).is_ok());
    assert!(is_shape(g.forward(3, &x, &w, Bias::None, &mut y, false)));
    assert!(is_shape(g.forward(2, &x, &w[1..], Bias::None, &mut y, false)));
    assert!(is_shape(g.forward(2, &x, &w, Bias::Tied(&[0.0; 2]), &mut y, false)));
    assert!(is_shape(g.forward(2, &x, &w, Bias::Untied(&[0.0; 3]), &mut y, false)));
    assert!(is_shape(g.forward(2, &x, &w, Bias::None, &mut y[1..], false)));
    let mut dx = vec![0.0; 99];
    let grads = ConvGrads { d_input: Some(&mut dx), d_weights: None, d_bias: BiasGrad::None };
    assert!(is_shape(g.backward(2, &x, &w, &y, grads)));
    let mut db = vec![0.0; 2];
    let grads = ConvGrads { d_input: None, d_weights: None, d_bias: BiasGrad::Tied(&mut db) };
    assert!(is_shape(g.backward(2, &x, &w, &y, grads)));

    assert!(is_shape(Pool2d::new((2, 2), (2, 2), (5, 4)).regions()));
    assert!(is_shape(Pool2d::new((3, 3), (1, 1), (2, 4)).regions()));
    assert!(is_shape(Pool2d::new((2, 2), (0, 2), (4, 4)).regions()));
    assert!(is_shape(FractionalPool::new((5, 5), (6, 5), FmpSequence::Random, false)));
    assert!(is_shape(FractionalPool::new((5, 5), (0, 5), FmpSequence::Random, false)));
    let f = FractionalPool::new((5, 5), (3, 3), FmpSequence::Random, false).unwrap();
    assert!(is_shape(FractionalPool { out_w: 0, ..f }.regions(1)));
    assert!(matches!(FractionalPool::with_ratio((5, 5), 0.5, FmpSequence::Random, false), Err(Error::Config(_))));
    let r = Pool2d::new((2, 2), (2, 2), (4, 4)).regions().unwrap();
    let (x, mut out, mut arg) = (vec![0.0; 32], vec![0.0; 8], vec![0u32; 8]);
    assert!(max_pool_forward(&r, 2, &x, &mut out, &mut arg).is_ok());
    assert!(is_shape(max_pool_forward(&r, 3, &x, &mut out, &mut arg)));
    assert!(is_shape(max_pool_forward(&r, 2, &x, &mut out, &mut arg[1..])));
    assert!(is_shape(avg_pool_forward(&r, 2, &x[1..], &mut out)));
    arg[3] = 16;
    assert!(is_shape(max_pool_backward(&r, 2, &out, &arg, &mut vec![0.0; 32])));
    assert!(is_shape(avg_pool_backward(&r, 2, &out, &mut vec![0.0; 31])));
}
