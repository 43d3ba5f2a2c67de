//! The CNN oracles of `kernels::reference` and the geometry of
//! `kernels::conv` / `kernels::pool`: the worked examples of the notes'
//! lecture "CNNs and the forward pass" as golden values (the convolutions
//! also through the engine's rows kernel, whose layout is the batch layout
//! for one sample), f64 central-difference gradient checks of the oracles,
//! Graham's fractional regions and bad geometries. cnn_rows.rs tests the
//! rows kernels against these oracles.

mod common;
use common::{distinct, numeric, values, AVG_POOL_GRID, POOL_GRID};
use nervenet_core::kernels::conv::Conv2d;
use nervenet_core::kernels::pool::{FmpSequence, FractionalPool, Pool2d, Regions};
use nervenet_core::kernels::reference::{conv, pool};
use nervenet_core::{Error, Real};

fn assert_grad(what: &str, analytic: &[f64], numeric: &[f64]) {
    assert_eq!(analytic.len(), numeric.len(), "{what}: lengths");
    let rel = |a: f64, n: f64| if a == n { 0.0 } else { (a - n).abs() / a.abs().max(n.abs()) };
    let worst = analytic.iter().zip(numeric).map(|(&a, &n)| rel(a, n)).fold(0.0, f64::max);
    assert!(worst < 1e-7, "{what}: max relative error {worst:e}");
}

/// One sample through the reference and through the engine's rows kernel
/// (with n = 1 the rows layout is the batch layout), which must agree exactly.
fn forward<T: Real>(g: &Conv2d, x: &[T], w: &[T]) -> Vec<T> {
    let want = conv::forward(g, 1, x, w);
    let mut got = vec![T::ZERO; want.len()];
    g.forward_rows(1, x, w, &mut got, &mut Vec::new());
    assert!(got == want, "rows kernel {got:?} vs reference {want:?}");
    want
}

#[test]
fn golden_x_image_with_outline_filter() {
    // The notes' 5×5 "X" (255 on the diagonals) and 3×3 filter, no padding.
    let x: Vec<f64> = (0..25).map(|i| if i / 5 == i % 5 || i / 5 + i % 5 == 4 { 255.0 } else { 0.0 }).collect();
    let w = [-1.0, -1.0, -1.0, -1.0, 2.0, -1.0, -1.0, -1.0, -1.0];
    let g = Conv2d::new(1, 1, (3, 3), (5, 5));
    assert_eq!(g.output_size().unwrap(), (3, 3));
    let want = [0.0, -765.0, 0.0, -765.0, -510.0, -765.0, 0.0, -765.0, 0.0];
    assert_eq!(forward(&g, &x, &w), want);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
    assert_eq!(forward(&g, &x32, &w32), want.map(|v| v as f32));
}

#[test]
fn golden_padded_example() {
    // Input padded by 1 keeps the 3×3 size (the notes store the result in an
    // output map padded by 2; here the output is unpadded).
    let x = [5.0, 2.0, 1.0, 1.0, 3.0, 2.0, 7.0, 1.0, 9.0];
    let w = [-1.0, -1.0, -1.0, -1.0, 2.0, -1.0, -1.0, -1.0, 2.0];
    let g = Conv2d::new(1, 1, (3, 3), (3, 3)).with_padding(1, 1);
    assert_eq!(forward(&g, &x, &w), [13.0, -2.0, -5.0, -13.0, 5.0, -12.0, 9.0, -20.0, 12.0]);
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
    assert_eq!(forward(&g, &x, &w), [-8.0, -24.0, -13.0, -32.0, -15.0, -25.0, 20.0, -16.0]);
}

#[test]
fn golden_max_pool_2x2_stride_2() {
    let r = Pool2d::new((2, 2), (2, 2), (6, 6)).regions().unwrap();
    assert_eq!(pool::max_forward(&r, 1, &POOL_GRID), [-1.0, 3.0, 5.0, 6.0, 4.0, 6.0, 7.0, 5.0, 3.0]);
    // ties: the first in row-major order wins and alone gets the gradient
    let x = [1.0, 2.0, 2.0, 2.0];
    let r = Pool2d::new((2, 2), (2, 2), (2, 2)).regions().unwrap();
    assert_eq!(pool::max_backward(&r, 1, &x, &[1.5]), [0.0, 1.5, 0.0, 0.0]);
    // a NaN wins and propagates
    let x = [1.0, f64::NAN, 5.0, f64::NAN];
    assert!(pool::max_forward(&r, 1, &x)[0].is_nan());
    assert_eq!(pool::max_backward(&r, 1, &x, &[1.5]), [0.0, 1.5, 0.0, 0.0]);
}

#[test]
fn golden_avg_pool_3x3_stride_2() {
    let r = Pool2d::new((3, 3), (2, 2), (7, 7)).regions().unwrap();
    let out = pool::avg_forward(&r, 1, &AVG_POOL_GRID);
    // the notes print two decimals (0.88 truncates 8/9 = 0.888…)
    let want = [-0.11, 1.33, 2.11, 3.44, 2.22, 1.44, 3.11, 0.88, -0.33];
    for (o, w) in out.iter().zip(want) {
        assert!((o - w).abs() < 0.01, "{out:?}");
    }
    assert_eq!(out[0], -1.0 / 9.0);
}

/// The reference's dIn and dW against central differences of its forward.
fn check_conv(g: &Conv2d, batch: usize, seed: u64) {
    let (oh, ow) = g.output_size().unwrap();
    let x = values(batch * g.in_channels * g.in_h * g.in_w, seed);
    let w = values(g.weight_len(), seed + 1);
    let r = values(batch * g.output_channels() * oh * ow, seed + 2);
    let (dx, dw) = conv::backward(g, batch, &x, &w, &r);
    assert_grad("dIn", &dx, &numeric(&|p| conv::forward(g, batch, p, &w), &x, &r));
    assert_grad("dW", &dw, &numeric(&|p| conv::forward(g, batch, &x, p), &w, &r));
}

#[test]
fn conv_gradients() {
    check_conv(&Conv2d::new(2, 3, (3, 3), (6, 5)), 3, 1);
    check_conv(&Conv2d::new(3, 4, (3, 3), (5, 5)).with_padding(1, 1), 2, 2);
    check_conv(&Conv2d::new(2, 2, (2, 3), (4, 6)).with_padding(1, 0), 3, 3);
    // (7 − 3 + 2)/2 + 1 = 4 rows, (9 − 3 + 4)/2 + 1 = 6 columns
    check_conv(&Conv2d::new(3, 4, (3, 3), (7, 9)).with_stride(2, 2).with_padding(1, 2), 2, 4);
    check_conv(&Conv2d::new(2, 3, (4, 2), (8, 7)).with_stride(2, 1).with_padding(1, 0), 2, 5);
    // padding of a filter's size or more: border outputs see only padding
    check_conv(&Conv2d::new(2, 2, (2, 2), (3, 4)).with_padding(2, 1), 3, 6);
    // 3D filters, 1×1 filters
    check_conv(&Conv2d::new(4, 3, (3, 3), (5, 6)).with_depth(2).with_padding(1, 1), 2, 7);
    check_conv(&Conv2d::new(5, 2, (2, 2), (6, 6)).with_depth(3).with_stride(2, 2), 3, 8);
    check_conv(&Conv2d::new(5, 3, (1, 1), (4, 5)), 3, 9);
    check_conv(&Conv2d::new(3, 2, (1, 1), (5, 5)).with_stride(2, 2), 2, 10);
}

/// The reference's pooling gradients against central differences.
fn check_pool(r: &Regions, planes: usize, seed: u64) {
    let (h, w) = r.input_size();
    let (oh, ow) = r.output_size();
    let x = distinct(planes * h * w, seed);
    let g = values(planes * oh * ow, seed + 1);
    let dx = pool::max_backward(r, planes, &x, &g);
    assert_grad("max pool dIn", &dx, &numeric(&|p| pool::max_forward(r, planes, p), &x, &g));
    let dx = pool::avg_backward(r, planes, &g);
    assert_grad("avg pool dIn", &dx, &numeric(&|p| pool::avg_forward(r, planes, p), &x, &g));
}

#[test]
fn pool_gradients() {
    check_pool(&Pool2d::new((2, 2), (2, 2), (6, 8)).regions().unwrap(), 5, 40);
    check_pool(&Pool2d::new((3, 3), (2, 2), (7, 9)).regions().unwrap(), 5, 41);
    check_pool(&Pool2d::new((3, 2), (1, 2), (5, 6)).regions().unwrap(), 3, 42);
    check_pool(&Pool2d::new((2, 3), (2, 1), (6, 5)).regions().unwrap(), 7, 44);
    for (seq, overlap) in [(FmpSequence::Random, false), (FmpSequence::Pseudorandom, true), (FmpSequence::Random, true)]
    {
        let f = FractionalPool::with_ratio((11, 9), 2f64.sqrt(), seq, overlap).unwrap();
        check_pool(&f.regions(7).unwrap(), 3, 45);
        check_pool(&f.regions(8).unwrap(), 3, 46);
    }
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

fn is_shape<T: std::fmt::Debug>(r: nervenet_core::Result<T>) -> bool {
    matches!(r, Err(Error::Shape(_)))
}

#[test]
fn bad_geometries_are_errors() {
    // (6 − 3 + 0) / 2 is not whole
    assert!(is_shape(Conv2d::new(1, 1, (3, 3), (6, 6)).with_stride(2, 2).output_size()));
    assert!(is_shape(Conv2d::new(1, 1, (5, 5), (3, 3)).output_size()));
    assert!(Conv2d::new(1, 1, (5, 5), (3, 3)).with_padding(1, 1).output_size().is_ok());
    assert!(is_shape(Conv2d::new(2, 1, (3, 3), (5, 5)).with_depth(3).output_size()));
    assert!(is_shape(Conv2d::new(0, 1, (3, 3), (5, 5)).output_size()));
    assert!(is_shape(Conv2d::new(1, 1, (3, 3), (5, 5)).with_stride(0, 1).output_size()));

    assert!(is_shape(Pool2d::new((2, 2), (2, 2), (5, 4)).regions()));
    assert!(is_shape(Pool2d::new((3, 3), (1, 1), (2, 4)).regions()));
    assert!(is_shape(Pool2d::new((2, 2), (0, 2), (4, 4)).regions()));
    assert!(is_shape(FractionalPool::new((5, 5), (6, 5), FmpSequence::Random, false)));
    assert!(is_shape(FractionalPool::new((5, 5), (0, 5), FmpSequence::Random, false)));
    let f = FractionalPool::new((5, 5), (3, 3), FmpSequence::Random, false).unwrap();
    assert!(is_shape(FractionalPool { out_w: 0, ..f }.regions(1)));
    assert!(matches!(FractionalPool::with_ratio((5, 5), 0.5, FmpSequence::Random, false), Err(Error::Config(_))));
}
