//! CNN geometries at random, fitting or not, small or huge, through the
//! graph API, the plan and the engine: every one either builds and then
//! computes what the reference kernels (`kernels::reference`, batch
//! layout, one output cell at a time) compute, or is refused with an
//! error — never a panic, a wrapped-around size or an abort. Also the
//! kernels' own geometry checks on random `Conv2d` / `Pool2d` values.
//!
//! This binary lowers the memory budget to 64 MiB, so huge geometries
//! that would fit a big machine are refused here rather than allocated.

mod common;
use common::{linear_map, values};
use nervenet_core::graph::args;
use nervenet_core::kernels::conv::Conv2d;
use nervenet_core::kernels::pool::Pool2d;
use nervenet_core::kernels::pool_rows::{avg_pool_rows_forward, max_pool_rows_forward};
use nervenet_core::kernels::reference::{conv, pool};
use nervenet_core::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

const BUDGET: u64 = 64 << 20;

/// Mostly small sizes, sometimes 0 and sometimes huge ones.
fn size() -> impl Strategy<Value = i64> {
    prop_oneof![
        12 => 1i64..5,
        1 => Just(0i64),
        1 => prop::sample::select(vec![-1i64, 65536, 1 << 31, u32::MAX as i64, 1 << 32]),
    ]
}

fn padding() -> impl Strategy<Value = i64> {
    prop_oneof![8 => 0i64..3, 1 => prop::sample::select(vec![-1i64, 1 << 20, u32::MAX as i64])]
}

#[derive(Clone, Debug)]
struct Case {
    src: [i64; 3],
    /// The destination's sizes when they do not follow from the rule.
    dst: Option<[i64; 3]>,
    /// filter: kh, kw, depth (0: full), stride, padding; pool: ph, pw, sh, sw.
    k: [i64; 4],
    stride: i64,
    pad: i64,
    depth: Option<i64>,
    op: Option<PoolOp>,
    /// Pools: strides equal to the window (tiling), else k[2], k[3].
    tile: bool,
}

impl Case {
    fn pool_strides(&self) -> (i64, i64) {
        if self.tile {
            (self.k[0], self.k[1])
        } else {
            (self.k[2], self.k[3])
        }
    }
}

fn case() -> impl Strategy<Value = Case> {
    let big = || prop_oneof![3 => 4i64..10, 1 => size()].boxed();
    let sizes = [size().boxed(), big(), big()];
    let ks = [size(), size(), size(), size()];
    let dst = prop_oneof![3 => Just(None), 1 => [size(), size(), size()].prop_map(Some)];
    let op = prop_oneof![2 => Just(None), 1 => Just(Some(PoolOp::Max)), 1 => Just(Some(PoolOp::Avg))];
    let depth = prop_oneof![3 => Just(None), 1 => size().prop_map(Some)];
    let stride = prop_oneof![2 => Just(1i64), 1 => size()];
    (sizes, dst, ks, stride, padding(), depth, op, any::<bool>())
        .prop_map(|(src, dst, k, stride, pad, depth, op, tile)| Case { src, dst, k, stride, pad, depth, op, tile })
}

/// The destination the notes' rule gives (as i64, possibly out of range).
fn rule(c: &Case) -> [i64; 3] {
    let out = |len: i64, k: i64, pad: i64, stride: i64| {
        if stride <= 0 || len + 2 * pad < k {
            0
        } else {
            (len + 2 * pad - k) / stride + 1
        }
    };
    match c.op {
        Some(_) => {
            let (sh, sw) = c.pool_strides();
            [c.src[0], out(c.src[1], c.k[0], 0, sh), out(c.src[2], c.k[1], 0, sw)]
        }
        None => {
            let slices = c.depth.map_or(1, |d| (c.src[0] - d + 1).max(1));
            [c.k[2].max(1) * slices, out(c.src[1], c.k[0], c.pad, c.stride), out(c.src[2], c.k[1], c.pad, c.stride)]
        }
    }
}

fn map(role: Role, dims: [i64; 3]) -> Result<NodeKind> {
    Ok(NodeKind::FeatureMap {
        channels: args::size(dims[0], "channels")?,
        height: args::size(dims[1], "height")?,
        width: args::size(dims[2], "width")?,
        activation: Activation::Identity,
        untied_bias: false,
    })
    .and_then(|k| role.check_kind(&k).map(|_| k))
}

fn edge_kind(c: &Case) -> Result<EdgeKind> {
    Ok(match c.op {
        Some(op) => EdgeKind::Pool {
            op,
            height: args::size(c.k[0], "pool height")?,
            width: args::size(c.k[1], "pool width")?,
            stride_h: args::size(c.pool_strides().0, "pool stride")?,
            stride_w: args::size(c.pool_strides().1, "pool stride")?,
            overlapping: false,
            pseudorandom: false,
        },
        None => EdgeKind::Filter {
            kh: args::size(c.k[0], "filter height")?,
            kw: args::size(c.k[1], "filter width")?,
            kc: c.depth.map(|d| args::size(d, "depth")).transpose()?,
            stride: args::size(c.stride, "stride")?,
            padding: args::padding(c.pad, "padding")?,
        },
    })
}

/// The network for a case, or the error that refused it.
fn build(c: &Case) -> Result<(Network<f64>, EdgeId)> {
    let mut g = Graph::new();
    let src = g.add_node(Role::Input, map(Role::Input, c.src)?, None)?;
    let dst = g.add_node(Role::Output, map(Role::Output, c.dst.unwrap_or_else(|| rule(c)))?, Some(false))?;
    let kind = edge_kind(c)?;
    let spec = EdgeSpec { kind, trainable: c.op.is_none(), ..EdgeSpec::default() };
    g.check_edge_shape(src, dst, &spec)?;
    let e = g.add_edge(src, dst, spec)?;
    Ok((Network::new(g, &Init::default(), 7)?, e))
}

/// What the reference kernels give for a built case, batch layout.
fn reference(c: &Case, net: &Network<f64>, e: EdgeId, n: usize, x: &[f64]) -> Vec<f64> {
    let s = c.src.map(|v| v as usize);
    let (ck, k) = (c.k.map(|v| v as usize), c.op);
    match k {
        Some(op) => {
            let (sh, sw) = c.pool_strides();
            let r = Pool2d::new((ck[0], ck[1]), (sh as usize, sw as usize), (s[1], s[2])).regions().unwrap();
            match op {
                PoolOp::Max => pool::max_forward(&r, n * s[0], x),
                _ => pool::avg_forward(&r, n * s[0], x),
            }
        }
        None => {
            let d = c.dst.unwrap_or_else(|| rule(c)).map(|v| v as usize);
            let kc = c.depth.map_or(s[0], |v| v as usize);
            let filters = d[0] / (s[0] - kc + 1);
            let g = Conv2d::new(s[0], filters, (ck[0], ck[1]), (s[1], s[2]))
                .with_stride(c.stride as usize, c.stride as usize)
                .with_padding(c.pad as usize, c.pad as usize)
                .with_depth(kc);
            let (_, w) = net.group_values(&format!("edge:{}", e.0)).unwrap();
            conv::forward(&g, n, x, w)
        }
    }
}

/// Builds a case and, where it builds and is small, compares its forward
/// pass with the reference: Ok(true) when compared, Ok(false) when refused
/// (or too large to compare); a panic fails the test.
fn check_case(c: &Case) -> std::result::Result<bool, TestCaseError> {
    set_memory_budget(BUDGET).unwrap();
    let Ok((net, e)) = build(c) else { return Ok(false) };
    let (n_in, n_out) = (net.n_inputs(), net.n_outputs());
    // Built: it fits the budget. Compare where the reference is quick.
    if n_in + n_out > 20_000 || net.params().len() > 100_000 {
        return Ok(false);
    }
    let n = 3;
    let x = values(n * n_in, 11);
    let got = net.forward(&Sequences::new(&x, n, 1, n_in)).unwrap();
    let want = reference(c, &net, e, n, &x);
    prop_assert_eq!(got.len(), want.len());
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        prop_assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{:?}: output {} is {} vs {}", c, i, a, b);
    }
    Ok(true)
}

/// The same cases drawn from a fixed seed: both outcomes are common, so
/// the property above tests something either way.
#[test]
fn cases_are_compared_and_refused_in_numbers() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut compared, mut refused) = (0, 0);
    for _ in 0..300 {
        let c = case().new_tree(&mut runner).unwrap().current();
        if check_case(&c).unwrap() {
            compared += 1;
        } else {
            refused += 1;
        }
    }
    assert!(compared >= 40 && refused >= 40, "compared {compared}, refused {refused}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn geometries_compute_the_reference_or_are_refused(c in case()) {
        check_case(&c)?;
    }

    #[test]
    fn kernel_geometries_are_checked(c in case()) {
        set_memory_budget(BUDGET).unwrap();
        // Sizes the kernels' own checks see (the graph's u32 range aside).
        let u = |v: i64| v.clamp(0, u32::MAX as i64) as usize;
        let small = |dims: &[usize]| dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).is_some_and(|n| n <= 20_000);
        let s = c.src.map(u);
        match c.op {
            Some(op) => {
                let (sh, sw) = c.pool_strides();
                let p = Pool2d::new((u(c.k[0]), u(c.k[1])), (u(sh), u(sw)), (s[1], s[2]));
                let Ok(r) = p.regions() else { return Ok(()) };
                let (oh, ow) = r.output_size();
                let planes = s[0];
                if !small(&[planes, s[1], s[2]]) || !small(&[planes, oh, ow]) {
                    return Ok(());
                }
                let x = values(planes * s[1] * s[2], 3);
                let mut y = vec![0.0; planes * oh * ow];
                let want = if op == PoolOp::Max {
                    max_pool_rows_forward(&r, planes, 1, &x, &mut y);
                    pool::max_forward(&r, planes, &x)
                } else {
                    avg_pool_rows_forward(&r, planes, 1, &x, &mut y);
                    pool::avg_forward(&r, planes, &x)
                };
                prop_assert_eq!(y, want);
            }
            None => {
                let g = Conv2d::new(s[0], u(c.k[2]), (u(c.k[0]), u(c.k[1])), (s[1], s[2]))
                    .with_stride(u(c.stride), u(c.stride))
                    .with_padding(u(c.pad), u(c.pad))
                    .with_depth(c.depth.map_or(s[0], u));
                let Ok((oh, ow)) = g.output_size() else { return Ok(()) };
                if !small(&s) || !small(&[g.output_channels(), oh, ow]) || g.weight_len() > 20_000 {
                    return Ok(());
                }
                let (in_len, out_len) = (s[0] * s[1] * s[2], g.output_channels() * oh * ow);
                let (x, w) = (values(in_len, 5), values(g.weight_len(), 6));
                let mut y = vec![0.0; out_len];
                g.forward_rows(1, &x, &w, &mut y, &mut Vec::new());
                let want = conv::forward(&g, 1, &x, &w);
                for (a, b) in y.iter().zip(&want) {
                    prop_assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{:?}: {} vs {}", g, a, b);
                }
            }
        }
    }
}

/// The reproducers in the core: a map whose cells overflow 32 or
/// 64 bits is refused when it is added, naming its sizes.
#[test]
fn maps_too_large_to_index_are_refused() {
    let mut g = Graph::new();
    for (c, h, w) in [(4294967295, 65536, 1), (u32::MAX, u32::MAX, 1), (1 << 31, 1 << 31, 4)] {
        let err = g.add_node(Role::Input, linear_map(c, h, w), None).unwrap_err();
        assert!(matches!(&err, Error::Shape(m) if m.contains(&format!("{c}×{h}×{w}"))), "{err}");
    }
    assert_eq!(g.num_nodes(), 0);
}
