//! The rows-layout CNN kernels (`Conv2d::forward_rows` / `backward_rows`,
//! `kernels::pool_rows`) against the batch-layout oracles of
//! `kernels::reference` (checked in cnn_kernels.rs) after a transpose:
//! random geometries, every special path, many tiles, accumulation, f64
//! central differences, the notes' golden pooling grids, fractional regions
//! and scratch reuse.

mod common;
use common::{distinct, numeric, values, AVG_POOL_GRID, POOL_GRID};
use nervenet_core::kernels::conv::Conv2d;
use nervenet_core::kernels::pool::{FmpSequence, FractionalPool, Pool2d, Regions};
use nervenet_core::kernels::pool_rows::{
    avg_pool_rows_backward, avg_pool_rows_forward, max_pool_rows_backward, max_pool_rows_forward,
};
use nervenet_core::kernels::reference::{conv, pool};

const NS: [usize; 4] = [1, 3, 16, 64];

/// A small uniform integer in lo..=hi.
fn pick(state: &mut u64, lo: usize, hi: usize) -> usize {
    *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    lo + ((*state >> 33) as usize) % (hi - lo + 1)
}

/// `[n][len]` (batch layout) ↔ `[len][n]` (rows layout).
fn to_rows(x: &[f64], n: usize) -> Vec<f64> {
    let len = x.len() / n;
    (0..x.len()).map(|q| x[(q % n) * len + q / n]).collect()
}

fn from_rows(x: &[f64], n: usize) -> Vec<f64> {
    let len = x.len() / n;
    (0..x.len()).map(|q| x[(q % len) * n + q / len]).collect()
}

#[track_caller]
fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (a, e)) in got.iter().zip(want).enumerate() {
        assert!((a - e).abs() <= tol * (1.0 + e.abs()), "{what}[{i}]: {a} vs {e}");
    }
}

fn out_len(g: &Conv2d) -> usize {
    let (oh, ow) = g.output_size().unwrap();
    g.output_channels() * oh * ow
}

/// Forward and backward of the rows kernels against the reference, all
/// onto nonzero starting values (accumulation), sharing one scratch vector.
fn check_conv(g: &Conv2d, n: usize, seed: u64, scratch: &mut Vec<f64>) {
    let (il, ol) = (g.in_channels * g.in_h * g.in_w, out_len(g));
    let (x, w, r) = (values(n * il, seed), values(g.weight_len(), seed + 1), values(n * ol, seed + 2));
    let want_y = conv::forward(g, n, &x, &w);
    let (want_dx, want_dw) = conv::backward(g, n, &x, &w, &r);

    let (xr, rr) = (to_rows(&x, n), to_rows(&r, n));
    let y0 = values(n * ol, seed + 3);
    let mut y = y0.clone();
    g.forward_rows(n, &xr, &w, &mut y, scratch);
    let y: Vec<f64> = y.iter().zip(&y0).map(|(a, b)| a - b).collect();
    assert_close(&format!("forward {g:?} n {n}"), &from_rows(&y, n), &want_y, 1e-12);

    let (dx0, dw0) = (values(n * il, seed + 4), values(w.len(), seed + 5));
    let (mut dx, mut dw) = (dx0.clone(), dw0.clone());
    g.backward_rows(n, &xr, &w, &rr, Some(&mut dx), Some(&mut dw), scratch);
    let dx: Vec<f64> = dx.iter().zip(&dx0).map(|(a, b)| a - b).collect();
    let dw: Vec<f64> = dw.iter().zip(&dw0).map(|(a, b)| a - b).collect();
    assert_close(&format!("dIn {g:?} n {n}"), &from_rows(&dx, n), &want_dx, 1e-12);
    assert_close(&format!("dW {g:?} n {n}"), &dw, &want_dw, 1e-12);

    // each gradient alone (the paths differ: no dW im2col, no dIn scatter)
    let mut dx1 = vec![0.0; dx.len()];
    g.backward_rows(n, &xr, &w, &rr, Some(&mut dx1), None, scratch);
    assert_close("dIn alone", &dx1, &dx, 1e-12);
    let mut dw1 = vec![0.0; dw.len()];
    g.backward_rows(n, &xr, &w, &rr, None, Some(&mut dw1), scratch);
    assert_close("dW alone", &dw1, &dw, 1e-12);
}

/// A random valid geometry: strides 1–3, padding 0–2, kh ≠ kw allowed, 3D depth.
fn random_conv(state: &mut u64) -> Conv2d {
    loop {
        let c = pick(state, 1, 5);
        let g = Conv2d::new(
            c,
            pick(state, 1, 4),
            (pick(state, 1, 4), pick(state, 1, 4)),
            (pick(state, 1, 9), pick(state, 1, 9)),
        )
        .with_stride(pick(state, 1, 3), pick(state, 1, 3))
        .with_padding(pick(state, 0, 2), pick(state, 0, 2));
        let g = if pick(state, 0, 2) == 0 { g.with_depth(pick(state, 1, c)) } else { g };
        if g.output_size().is_ok() {
            return g;
        }
    }
}

#[test]
fn conv_rows_match_reference_on_random_geometries() {
    let mut state = 7;
    let mut scratch = Vec::new();
    for case in 0..300 {
        let g = random_conv(&mut state);
        check_conv(&g, NS[case % NS.len()], case as u64 * 10, &mut scratch);
    }
}

#[test]
fn conv_rows_special_paths() {
    let mut scratch = Vec::new();
    let cases = [
        // 1×1 stride 1 unpadded: no im2col; with 3D depth; strided 1×1 needs one
        Conv2d::new(5, 3, (1, 1), (4, 5)),
        Conv2d::new(5, 2, (1, 1), (3, 3)).with_depth(3),
        Conv2d::new(3, 2, (1, 1), (5, 5)).with_stride(2, 2),
        // stride 1, out ≤ in channels, pad < k: dIn as the transposed convolution
        Conv2d::new(6, 4, (3, 3), (7, 8)).with_padding(1, 1),
        Conv2d::new(4, 4, (2, 5), (6, 9)).with_padding(1, 2),
        // more outputs than inputs, or padding ≥ k: dIn by col2im
        Conv2d::new(2, 5, (3, 3), (7, 8)).with_padding(1, 1),
        Conv2d::new(2, 2, (2, 2), (3, 4)).with_padding(2, 1),
        Conv2d::new(2, 3, (3, 3), (4, 5)).with_padding(3, 1),
        // the notes' 3D filter with a single output slice per filter offset
        Conv2d::new(3, 1, (3, 3), (4, 4)).with_depth(2),
    ];
    for (i, g) in cases.iter().enumerate() {
        for (j, &n) in NS.iter().enumerate() {
            check_conv(g, n, 1000 + 10 * (4 * i + j) as u64, &mut scratch);
        }
    }
}

#[test]
fn conv_rows_many_tiles() {
    // Large enough that the column matrix is split into many tiles, some
    // ending mid-row; every dIn path and strides.
    let mut scratch = Vec::new();
    let cases = [
        (16, Conv2d::new(32, 32, (3, 3), (20, 20)).with_padding(1, 1)),
        (64, Conv2d::new(24, 16, (5, 5), (15, 17)).with_padding(2, 2)),
        (16, Conv2d::new(8, 40, (3, 3), (19, 21)).with_padding(1, 1)),
        (3, Conv2d::new(48, 4, (3, 3), (41, 33)).with_stride(2, 2).with_padding(1, 1)),
        (16, Conv2d::new(20, 2, (3, 3), (20, 30)).with_depth(12).with_padding(1, 1)),
        (64, Conv2d::new(64, 8, (1, 1), (12, 12))),
    ];
    for (i, (n, g)) in cases.iter().enumerate() {
        check_conv(g, *n, 5000 + 10 * i as u64, &mut scratch);
    }
}

/// 3×3 stride-1 filters with 16+ channels each side and 2+ samples run by
/// Winograd F(2×2, 3×3): odd and even output sizes (partial tiles), every padding
/// 0–2, rectangular maps, channel counts off the register tile, and batches
/// that split the tiles into several panels.
fn winograd_cases() -> Vec<(usize, Conv2d)> {
    vec![
        (2, Conv2d::new(16, 16, (3, 3), (8, 8)).with_padding(1, 1)),
        (3, Conv2d::new(17, 21, (3, 3), (7, 9)).with_padding(1, 1)),
        (16, Conv2d::new(16, 24, (3, 3), (6, 5)).with_padding(0, 2)),
        (5, Conv2d::new(33, 16, (3, 3), (9, 4)).with_padding(2, 0)),
        (8, Conv2d::new(64, 64, (3, 3), (12, 12)).with_padding(1, 1)),
        (64, Conv2d::new(20, 18, (3, 3), (3, 3))),
        (2, Conv2d::new(40, 36, (3, 3), (1, 2)).with_padding(1, 2)),
    ]
}

#[test]
fn conv_rows_winograd_matches_reference() {
    let mut scratch = Vec::new();
    for (i, (n, g)) in winograd_cases().iter().enumerate() {
        check_conv(g, *n, 7000 + 10 * i as u64, &mut scratch);
    }
}

/// The f32 path (its own register tile width) against the f64 reference.
#[test]
fn conv_rows_winograd_f32() {
    for (i, (n, g)) in winograd_cases().into_iter().enumerate() {
        let seed = 8000 + 10 * i as u64;
        let (il, ol) = (g.in_channels * g.in_h * g.in_w, out_len(&g));
        let (x, w, r) = (values(n * il, seed), values(g.weight_len(), seed + 1), values(n * ol, seed + 2));
        let want_y = conv::forward(&g, n, &x, &w);
        let (want_dx, want_dw) = conv::backward(&g, n, &x, &w, &r);
        let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
        let back = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<f64>>();
        let (xr, wf, rr) = (f(&to_rows(&x, n)), f(&w), f(&to_rows(&r, n)));
        let mut scratch = Vec::new();
        let mut y = vec![0f32; n * ol];
        g.forward_rows(n, &xr, &wf, &mut y, &mut scratch);
        let (mut dx, mut dw) = (vec![0f32; xr.len()], vec![0f32; wf.len()]);
        g.backward_rows(n, &xr, &wf, &rr, Some(&mut dx), Some(&mut dw), &mut scratch);
        let scale = |v: &[f64]| v.iter().fold(1.0f64, |m, a| m.max(a.abs()));
        for (what, got, want) in [
            ("forward", from_rows(&back(&y), n), want_y),
            ("dIn", from_rows(&back(&dx), n), want_dx),
            ("dW", back(&dw), want_dw),
        ] {
            let tol = 2e-6 * scale(&want) * (g.in_channels.max(g.out_channels) * 9 * n) as f64;
            for (k, (a, e)) in got.iter().zip(&want).enumerate() {
                assert!((a - e).abs() <= tol, "{what} {g:?} n {n} [{k}]: {a} vs {e}");
            }
        }
    }
}

#[test]
fn conv_rows_scratch_is_reused() {
    let g = Conv2d::new(6, 4, (3, 3), (12, 12)).with_padding(1, 1);
    let h = Conv2d::new(2, 5, (3, 2), (9, 8)).with_stride(2, 2).with_padding(1, 1);
    let n = 16;
    let mut scratch = Vec::new();
    let run = |scratch: &mut Vec<f64>| {
        for g in [&g, &h] {
            let (x, w) = (values(n * g.in_channels * g.in_h * g.in_w, 1), values(g.weight_len(), 2));
            let (mut y, mut dx, mut dw) = (vec![0.0; n * out_len(g)], vec![0.0; x.len()], vec![0.0; w.len()]);
            g.forward_rows(n, &x, &w, &mut y, scratch);
            g.backward_rows(n, &x, &w, &y, Some(&mut dx), Some(&mut dw), scratch);
        }
    };
    run(&mut scratch);
    let (ptr, cap) = (scratch.as_ptr(), scratch.capacity());
    run(&mut scratch);
    assert_eq!((scratch.as_ptr(), scratch.capacity()), (ptr, cap), "a repeated call allocated");
}

#[track_caller]
fn assert_grad(what: &str, analytic: &[f64], numeric: &[f64]) {
    assert_eq!(analytic.len(), numeric.len(), "{what}: lengths");
    let rel = |a: f64, n: f64| if a == n { 0.0 } else { (a - n).abs() / a.abs().max(n.abs()) };
    let worst = analytic.iter().zip(numeric).map(|(&a, &n)| rel(a, n)).fold(0.0, f64::max);
    assert!(worst < 1e-7, "{what}: max relative error {worst:e}");
}

#[test]
fn conv_rows_finite_differences() {
    let cases = [
        (3, Conv2d::new(2, 3, (3, 2), (5, 6)).with_stride(2, 1).with_padding(1, 2)),
        (4, Conv2d::new(3, 2, (3, 3), (5, 5)).with_padding(1, 1)),
        (2, Conv2d::new(4, 2, (2, 3), (5, 7)).with_depth(2).with_stride(1, 2).with_padding(0, 1)),
        (1, Conv2d::new(2, 2, (2, 2), (3, 4)).with_padding(2, 1)),
    ];
    let mut scratch = Vec::new();
    for (i, (n, g)) in cases.into_iter().enumerate() {
        let seed = 300 + 10 * i as u64;
        let (x, w, r) = (
            values(n * g.in_channels * g.in_h * g.in_w, seed),
            values(g.weight_len(), seed + 1),
            values(n * out_len(&g), seed + 2),
        );
        let fwd = |x: &[f64], w: &[f64]| {
            let mut y = vec![0.0; r.len()];
            g.forward_rows(n, x, w, &mut y, &mut Vec::new());
            y
        };
        let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
        g.backward_rows(n, &x, &w, &r, Some(&mut dx), Some(&mut dw), &mut scratch);
        assert_grad("conv dIn", &dx, &numeric(&|p| fwd(p, &w), &x, &r));
        assert_grad("conv dW", &dw, &numeric(&|p| fwd(&x, p), &w, &r));
    }
}

/// Winograd's gradients against central differences of the convolution's
/// definition (the batch-layout reference): differences of the Winograd
/// forward itself carry its transforms' rounding, a little above the 1e-7
/// the check allows where a gradient is small.
#[test]
fn conv_rows_winograd_finite_differences() {
    let (n, g) = (2, Conv2d::new(16, 16, (3, 3), (5, 4)).with_padding(1, 2));
    let (x, w, r) =
        (values(n * g.in_channels * g.in_h * g.in_w, 400), values(g.weight_len(), 401), values(n * out_len(&g), 402));
    let fwd = |x: &[f64], w: &[f64]| to_rows(&conv::forward(&g, n, &from_rows(x, n), w), n);
    let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
    g.backward_rows(n, &x, &w, &r, Some(&mut dx), Some(&mut dw), &mut Vec::new());
    assert_grad("winograd dIn", &dx, &numeric(&|p| fwd(p, &w), &x, &r));
    assert_grad("winograd dW", &dw, &numeric(&|p| fwd(&x, p), &w, &r));
}

/// Rows pooling against the reference (after a transpose), accumulating.
fn check_pool(r: &Regions, channels: usize, n: usize, x: &[f64], seed: u64) {
    let ((h, w), (oh, ow)) = (r.input_size(), r.output_size());
    let (il, ol) = (channels * h * w, channels * oh * ow);
    let g = values(n * ol, seed);
    let planes = n * channels;
    let (want_max, want_avg) = (pool::max_forward(r, planes, x), pool::avg_forward(r, planes, x));
    let (want_dmax, want_davg) = (pool::max_backward(r, planes, x, &g), pool::avg_backward(r, planes, &g));

    let (xr, gr) = (to_rows(x, n), to_rows(&g, n));
    let (y0, d0) = (values(n * ol, seed + 1), values(n * il, seed + 2));
    let minus = |a: &[f64], b: &[f64]| from_rows(&a.iter().zip(b).map(|(a, b)| a - b).collect::<Vec<_>>(), n);
    let mut y = y0.clone();
    max_pool_rows_forward(r, channels, n, &xr, &mut y);
    assert_close("max forward", &minus(&y, &y0), &want_max, 1e-15);
    let mut y = y0.clone();
    avg_pool_rows_forward(r, channels, n, &xr, &mut y);
    assert_close("avg forward", &minus(&y, &y0), &want_avg, 1e-14);
    let mut d = d0.clone();
    max_pool_rows_backward(r, channels, n, &xr, &gr, &mut d);
    assert_close("max backward", &minus(&d, &d0), &want_dmax, 1e-14);
    let mut d = d0.clone();
    avg_pool_rows_backward(r, channels, n, &gr, &mut d);
    assert_close("avg backward", &minus(&d, &d0), &want_davg, 1e-14);
}

fn regions_cases() -> Vec<Regions> {
    let mut out = vec![
        Pool2d::new((2, 2), (2, 2), (6, 8)).regions().unwrap(),
        Pool2d::new((3, 3), (2, 2), (7, 9)).regions().unwrap(),
        Pool2d::new((3, 2), (1, 2), (5, 6)).regions().unwrap(),
        Pool2d::new((2, 3), (2, 1), (6, 5)).regions().unwrap(),
        Pool2d::new((1, 1), (1, 1), (3, 4)).regions().unwrap(),
    ];
    for (i, (seq, overlap)) in
        [(FmpSequence::Random, false), (FmpSequence::Pseudorandom, true), (FmpSequence::Random, true)]
            .into_iter()
            .enumerate()
    {
        let f = FractionalPool::with_ratio((11, 9), 2f64.sqrt(), seq, overlap).unwrap();
        out.push(f.regions(7 + i as u64).unwrap());
        out.push(FractionalPool::new((13, 10), (5, 7), seq, overlap).unwrap().regions(20 + i as u64).unwrap());
    }
    out
}

#[test]
fn pool_rows_match_reference() {
    for (i, r) in regions_cases().iter().enumerate() {
        let (h, w) = r.input_size();
        // n = 70 takes two sample blocks
        for (j, n) in NS.into_iter().chain([70]).enumerate() {
            let seed = 100 * i as u64 + 10 * j as u64;
            let channels = 1 + j % 3;
            check_pool(r, channels, n, &values(n * channels * h * w, seed), seed + 1);
            // coarse values: many ties, resolved the same way
            let ties: Vec<f64> = values(n * channels * h * w, seed + 2).iter().map(|v| (v * 2.0).round()).collect();
            check_pool(r, channels, n, &ties, seed + 3);
        }
    }
}

#[test]
fn pool_rows_finite_differences() {
    for (i, r) in regions_cases().iter().enumerate() {
        let ((h, w), (oh, ow)) = (r.input_size(), r.output_size());
        let (channels, n) = (2, 3);
        let x = distinct(n * channels * h * w, 200 + i as u64);
        let g = values(n * channels * oh * ow, 300 + i as u64);
        let y_len = g.len();
        let run = |f: fn(&Regions, usize, usize, &[f64], &mut [f64]), p: &[f64]| {
            let mut y = vec![0.0; y_len];
            f(r, channels, n, p, &mut y);
            y
        };
        let mut dx = vec![0.0; x.len()];
        max_pool_rows_backward(r, channels, n, &x, &g, &mut dx);
        assert_grad("max pool dIn", &dx, &numeric(&|p| run(max_pool_rows_forward, p), &x, &g));
        let mut dx = vec![0.0; x.len()];
        avg_pool_rows_backward(r, channels, n, &g, &mut dx);
        assert_grad("avg pool dIn", &dx, &numeric(&|p| run(avg_pool_rows_forward, p), &x, &g));
    }
}

/// The same map in every one of n samples.
fn every_sample(grid: &[f64], n: usize) -> Vec<f64> {
    grid.iter().flat_map(|&v| std::iter::repeat_n(v, n)).collect()
}

#[test]
fn golden_max_pool_rows() {
    let n = 5;
    let r = Pool2d::new((2, 2), (2, 2), (6, 6)).regions().unwrap();
    let mut y = vec![0.0; 9 * n];
    max_pool_rows_forward(&r, 1, n, &every_sample(&POOL_GRID, n), &mut y);
    assert_eq!(y, every_sample(&[-1.0, 3.0, 5.0, 6.0, 4.0, 6.0, 7.0, 5.0, 3.0], n));
    // ties: the first in row-major order wins and alone gets the gradient
    let r = Pool2d::new((2, 2), (2, 2), (2, 2)).regions().unwrap();
    let x = every_sample(&[1.0, 2.0, 2.0, 2.0], n);
    let mut dx = vec![0.0; 4 * n];
    max_pool_rows_backward(&r, 1, n, &x, &[1.5; 5], &mut dx);
    assert_eq!(dx, every_sample(&[0.0, 1.5, 0.0, 0.0], n));
    // a NaN wins, in its own sample only
    let x = [1.0, 1.0, f64::NAN, 1.0, 5.0, 5.0, 2.0, 1.0];
    let mut y = [0.0; 2];
    max_pool_rows_forward(&r, 1, 2, &x, &mut y);
    assert!(y[0].is_nan() && y[1] == 5.0, "{y:?}");
    let mut dx = [0.0; 8];
    max_pool_rows_backward(&r, 1, 2, &x, &[1.0, 2.0], &mut dx);
    assert_eq!(dx, [0.0, 0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0]);
}

#[test]
fn golden_avg_pool_rows() {
    let grid = AVG_POOL_GRID;
    let n = 3;
    let r = Pool2d::new((3, 3), (2, 2), (7, 7)).regions().unwrap();
    let mut y = vec![0.0; 9 * n];
    avg_pool_rows_forward(&r, 1, n, &every_sample(&grid, n), &mut y);
    // the notes print two decimals (0.88 truncates 8/9 = 0.888…)
    let want = [-0.11, 1.33, 2.11, 3.44, 2.22, 1.44, 3.11, 0.88, -0.33];
    for (o, w) in y.iter().zip(every_sample(&want, n)) {
        assert!((o - w).abs() < 0.01, "{y:?}");
    }
    assert_eq!(y[..n], [-1.0 / 9.0; 3]);
}
