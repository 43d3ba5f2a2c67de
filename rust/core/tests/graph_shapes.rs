//! Feature-map shapes and parameter counts: the notes' output-size rule,
//! errors that name the edge, both nodes and the numbers, the notes' weight
//! counts for their small test CNNs and LeNet-5, VGG16 counted analytically,
//! and exact JSON round trips of graphs with maps, filters and pools.

mod common;
use common::*;
use nervenet_core::*;

fn map(g: &mut Graph, role: Role, (c, h, w): (u32, u32, u32), untied: bool) -> NodeId {
    let kind =
        NodeKind::FeatureMap { channels: c, height: h, width: w, activation: Activation::Relu, untied_bias: untied };
    g.add_node(role, kind, None).unwrap()
}

fn hidden(g: &mut Graph, shape: (u32, u32, u32)) -> NodeId {
    map(g, Role::Hidden, shape, true)
}

fn add(g: &mut Graph, src: NodeId, dst: NodeId, spec: EdgeSpec) -> EdgeId {
    g.add_edge(src, dst, spec).unwrap()
}

fn shape_err(g: &Graph) -> String {
    match g.check_shapes() {
        Err(Error::Shape(m)) => m,
        other => panic!("expected a shape error, got {other:?}"),
    }
}

/// The notes' small test CNNs ("Simple Test Architectures"): 4 maps of
/// 20×20 from 13×13 filters, then 4 maps of 10×10 (11×11 filters or 2/2 max
/// pooling), flattened into 10 dense nodes, 10 outputs without bias.
fn small_cnn(channels: u32, padding: u32, pooling: bool) -> Graph {
    let side = 32 - 2 * padding;
    let mut g = Graph::new();
    let x = map(&mut g, Role::Input, (channels, side, side), true);
    let c1: Vec<NodeId> = (0..4).map(|_| hidden(&mut g, (1, 20, 20))).collect();
    let c2: Vec<NodeId> = (0..4).map(|_| hidden(&mut g, (1, 10, 10))).collect();
    for &m in &c1 {
        add(&mut g, x, m, filter(13, 1, padding));
    }
    for (i, &a) in c1.iter().enumerate() {
        if pooling {
            add(&mut g, a, c2[i], pool(PoolOp::Max, 2, 2));
        } else {
            for &b in &c2 {
                add(&mut g, a, b, filter(11, 1, 0));
            }
        }
    }
    let dense: Vec<NodeId> = (0..10).map(|_| node(&mut g, Role::Hidden, "relu", true)).collect();
    let out: Vec<NodeId> = (0..10).map(|_| node(&mut g, Role::Output, "identity", false)).collect();
    for &m in &c2 {
        for &d in &dense {
            add(&mut g, m, d, EdgeSpec::default());
        }
    }
    for &d in &dense {
        for &o in &out {
            add(&mut g, d, o, EdgeSpec::default());
        }
    }
    g
}

#[test]
fn the_notes_small_test_cnns_have_their_weight_counts() {
    assert_eq!(small_cnn(1, 2, false).count_params().unwrap(), 8722);
    assert_eq!(small_cnn(1, 2, true).count_params().unwrap(), 6786);
    assert_eq!(small_cnn(3, 0, false).count_params().unwrap(), 10074);
    assert_eq!(small_cnn(3, 0, true).count_params().unwrap(), 8138);
}

#[test]
fn lenet5_with_the_c3_table_has_68654_weights() {
    // LeCun et al. 1998, table I: the S2 maps each C3 map reads.
    let table: [&[usize]; 16] = [
        &[0, 1, 2],
        &[1, 2, 3],
        &[2, 3, 4],
        &[3, 4, 5],
        &[0, 4, 5],
        &[0, 1, 5],
        &[0, 1, 2, 3],
        &[1, 2, 3, 4],
        &[2, 3, 4, 5],
        &[0, 3, 4, 5],
        &[0, 1, 4, 5],
        &[0, 1, 2, 5],
        &[0, 1, 3, 4],
        &[1, 2, 4, 5],
        &[0, 2, 3, 5],
        &[0, 1, 2, 3, 4, 5],
    ];
    let mut g = Graph::new();
    let x = map(&mut g, Role::Input, (1, 28, 28), false);
    let c1: Vec<NodeId> = (0..6).map(|_| hidden(&mut g, (1, 28, 28))).collect();
    let s2: Vec<NodeId> = (0..6).map(|_| hidden(&mut g, (1, 14, 14))).collect();
    let c3: Vec<NodeId> = (0..16).map(|_| hidden(&mut g, (1, 10, 10))).collect();
    let s4: Vec<NodeId> = (0..16).map(|_| hidden(&mut g, (1, 5, 5))).collect();
    for i in 0..6 {
        add(&mut g, x, c1[i], filter(5, 1, 2));
        add(&mut g, c1[i], s2[i], pool(PoolOp::Max, 2, 2));
    }
    for (j, srcs) in table.iter().enumerate() {
        for &i in *srcs {
            add(&mut g, s2[i], c3[j], filter(5, 1, 0));
        }
        add(&mut g, c3[j], s4[j], pool(PoolOp::Max, 2, 2));
    }
    let layer = |g: &mut Graph, n: usize, role: Role| -> Vec<NodeId> {
        (0..n).map(|_| node(g, role, "relu", role == Role::Hidden)).collect()
    };
    let (c5, f6, out) =
        (layer(&mut g, 120, Role::Hidden), layer(&mut g, 84, Role::Hidden), layer(&mut g, 10, Role::Output));
    for (srcs, dsts) in [(&s4, &c5), (&c5, &f6), (&f6, &out)] {
        let edges: Vec<_> = srcs.iter().flat_map(|&s| dsts.iter().map(move |&d| (s, d, EdgeSpec::default()))).collect();
        g.add_edges(&edges).unwrap();
    }
    assert_eq!(g.count_params().unwrap(), 68654);
}

#[test]
fn vgg16_is_counted_analytically() {
    // Column D of the VGG table, tied biases, fully connected layers as
    // 4096×1×1 maps (one filter edge each), 1000 outputs with biases.
    let mut g = Graph::new();
    let mut prev = map(&mut g, Role::Input, (3, 224, 224), false);
    let mut side = 224;
    for (channels, convs) in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)] {
        for _ in 0..convs {
            let m = map(&mut g, Role::Hidden, (channels, side, side), false);
            add(&mut g, prev, m, filter(3, 1, 1));
            prev = m;
        }
        side /= 2;
        let p = g
            .add_node(
                Role::Hidden,
                NodeKind::FeatureMap {
                    channels,
                    height: side,
                    width: side,
                    activation: Activation::Identity,
                    untied_bias: false,
                },
                Some(false),
            )
            .unwrap();
        add(&mut g, prev, p, pool(PoolOp::Max, 2, 2));
        prev = p;
    }
    let fc6 = map(&mut g, Role::Hidden, (4096, 1, 1), false);
    let fc7 = map(&mut g, Role::Hidden, (4096, 1, 1), false);
    add(&mut g, prev, fc6, filter(7, 1, 0));
    add(&mut g, fc6, fc7, filter(1, 1, 0));
    let out: Vec<NodeId> = (0..1000).map(|_| node(&mut g, Role::Output, "identity", true)).collect();
    let edges: Vec<_> = out.iter().map(|&o| (fc7, o, EdgeSpec::default())).collect();
    g.add_edges(&edges).unwrap();
    assert_eq!(g.count_params().unwrap(), 138_357_544);
    // 105 billion parameters (420 GB of f32) are counted from the sizes
    // alone: nothing is built per parameter.
    let mut huge = Graph::new();
    let x = map(&mut huge, Role::Input, (512, 224, 224), false);
    let h = map(&mut huge, Role::Hidden, (4096, 1, 1), true);
    add(&mut huge, x, h, filter(224, 1, 0));
    assert_eq!(huge.count_params().unwrap(), 4096 * 512 * 224 * 224 + 4096);
}

#[test]
fn filter_sizes_follow_the_notes_rule() {
    let mut g = Graph::new();
    let x = map(&mut g, Role::Input, (3, 32, 32), false);
    let good = hidden(&mut g, (8, 16, 16));
    let bad = hidden(&mut g, (8, 15, 15));
    add(&mut g, x, good, filter(4, 2, 1)); // (32 − 4 + 2)/2 + 1 = 16
    g.check_shapes().unwrap();
    let e = add(&mut g, x, bad, filter(4, 2, 1));
    let m = shape_err(&g);
    for part in [&format!("edge {}", e.0), "node 0 [3×32×32]", "node 2 [8×15×15]", "(32 − 4 + 2·1) / 2 + 1 = 16", "15"]
    {
        assert!(m.contains(part), "{part:?} missing from {m}");
    }
    g.remove_edge(e).unwrap();
    let e = add(&mut g, x, bad, filter(3, 2, 1));
    let m = shape_err(&g);
    assert!(m.contains(&format!("edge {}", e.0)) && m.contains("(32 − 3 + 2·1) / 2 + 1 is not whole"), "{m}");
    // Disabled edges are not checked (a plan leaves them out).
    g.set_edge_enabled(e, false).unwrap();
    g.check_shapes().unwrap();
}

#[test]
fn filter_depth_sets_the_channel_rule() {
    // The notes' 3D example: a 4×4×3 input and a 3×3×2 filter give 2×2×2.
    let mut g = Graph::new();
    let x = map(&mut g, Role::Input, (3, 4, 4), false);
    let two = hidden(&mut g, (2, 2, 2));
    let three = hidden(&mut g, (3, 2, 2));
    let depth = |kc| EdgeSpec {
        kind: EdgeKind::Filter { kh: 3, kw: 3, kc: Some(kc), stride: 1, padding: 0 },
        ..EdgeSpec::default()
    };
    add(&mut g, x, two, depth(2));
    assert_eq!(g.count_params().unwrap(), 18 + 8 + 12); // one 3×3×2 filter; untied biases
    let e = add(&mut g, x, three, depth(2));
    let m = shape_err(&g);
    assert!(m.contains(&format!("edge {}", e.0)) && m.contains("multiple of 2") && m.contains("not 3"), "{m}");
    g.remove_edge(e).unwrap();
    add(&mut g, x, three, depth(4));
    assert!(shape_err(&g).contains("filter depth 4 must be in 1..=3"));
}

#[test]
fn pools_need_equal_channels_and_fitting_windows() {
    let mut g = Graph::new();
    let x = map(&mut g, Role::Input, (4, 7, 7), false);
    let avg = hidden(&mut g, (4, 3, 3));
    let e = add(&mut g, x, avg, pool(PoolOp::Avg, 3, 2)); // the notes' 7×7 → 3×3 example
    g.check_shapes().unwrap();
    assert_eq!(g.count_params().unwrap(), 36); // pools have no weights; untied bias 4·3·3
    g.remove_edge(e).unwrap();
    let e = add(&mut g, x, avg, pool(PoolOp::Max, 2, 2));
    let m = shape_err(&g);
    assert!(m.contains(&format!("edge {}", e.0)) && m.contains("(7 − 2) / 2 + 1 is not whole"), "{m}");
    g.remove_edge(e).unwrap();
    let fewer = hidden(&mut g, (2, 3, 3));
    add(&mut g, x, fewer, pool(PoolOp::Max, 3, 2));
    assert!(shape_err(&g).contains("channels differ (4 vs 2)"));

    let mut g = Graph::new();
    let x = map(&mut g, Role::Input, (2, 36, 36), false);
    let small = hidden(&mut g, (2, 25, 25));
    let big = hidden(&mut g, (2, 40, 36));
    let fmp = |overlapping| EdgeSpec {
        kind: EdgeKind::Pool {
            op: PoolOp::FractionalMax,
            height: 0,
            width: 0,
            stride_h: 0,
            stride_w: 0,
            overlapping,
            pseudorandom: true,
        },
        ..EdgeSpec::default()
    };
    add(&mut g, x, small, fmp(true));
    g.check_shapes().unwrap();
    add(&mut g, x, big, fmp(false));
    assert!(shape_err(&g).contains("40×36 is larger than the source 36×36"));
}

#[test]
fn identity_weight_and_recurrent_edges_touching_maps() {
    let mut g = Graph::new();
    let x = map(&mut g, Role::Input, (4, 8, 8), false);
    let a = hidden(&mut g, (4, 8, 8));
    let b = hidden(&mut g, (4, 8, 8));
    let odd = hidden(&mut g, (4, 6, 6));
    let s = node(&mut g, Role::Output, "identity", false);
    add(&mut g, x, a, filter(3, 1, 1));
    add(&mut g, a, b, filter(3, 1, 1));
    add(&mut g, x, b, EdgeSpec { kind: EdgeKind::Identity, ..EdgeSpec::default() }); // residual
    add(&mut g, b, s, EdgeSpec::default()); // flattening: 256 weights
                                            // Filters 2·144, flattening 256, untied biases on a, b and odd.
    assert_eq!(g.count_params().unwrap(), 2 * (4 * 4 * 9) + 256 + 2 * 256 + 4 * 36);

    let check = |g: &Graph, src, dst, spec: EdgeSpec| g.check_edge_shape(src, dst, &spec).unwrap_err();
    let identity = EdgeSpec { kind: EdgeKind::Identity, ..EdgeSpec::default() };
    assert!(matches!(check(&g, a, odd, identity), Error::Shape(m) if m.contains("equal shapes")));
    assert!(matches!(check(&g, s, odd, EdgeSpec::default()), Error::Unsupported(m) if m.contains("filter")));
    assert!(matches!(check(&g, a, odd, EdgeSpec::default()), Error::Unsupported(m) if m.contains("filter edge")));
    assert!(matches!(check(&g, a, s, filter(3, 1, 0)), Error::Graph(m) if m.contains("two feature maps")));
    let scalar = node(&mut g, Role::Hidden, "relu", true);
    assert!(matches!(check(&g, s, scalar, pool(PoolOp::Max, 2, 2)), Error::Graph(m) if m.contains("not scalar")));
    let rec = EdgeSpec { time_skip: 1, ..filter(3, 1, 1) };
    assert!(matches!(check(&g, b, a, rec), Error::Unsupported(m) if m.contains("time_skip 1")));
    let rec = EdgeSpec { time_skip: 2, ..EdgeSpec::default() };
    assert!(matches!(check(&g, b, s, rec), Error::Unsupported(_)));
    // Edges between scalar nodes keep their old rules.
    g.check_edge_shape(s, scalar, &EdgeSpec { time_skip: 1, ..EdgeSpec::default() }).unwrap();
}

#[test]
fn counts_cover_cells_fixed_edges_and_disabled_parts() {
    let mut g = Graph::new();
    let x = input(&mut g);
    let h = node(&mut g, Role::Hidden, "tanh", true);
    let lstm = g.add_node(Role::Hidden, NodeKind::Cell(CellKind::Lstm), Some(false)).unwrap();
    let unit = g.add_node(Role::Hidden, NodeKind::Cell(CellKind::LstmUnit), Some(false)).unwrap();
    let gru = g.add_node(Role::Hidden, NodeKind::Cell(CellKind::GruUnit), Some(false)).unwrap();
    let y = node(&mut g, Role::Output, "identity", false);
    for n in [h, lstm, unit, gru] {
        edge(&mut g, x, n, 0.5);
        edge(&mut g, n, y, 0.5);
    }
    g.add_edge(y, h, EdgeSpec { time_skip: 1, trainable: false, weight: Some(1.0), ..EdgeSpec::default() }).unwrap();
    let cells = CellKind::Lstm.params().len() + 4 + 4;
    assert_eq!(g.count_params().unwrap(), 8 + 1 + cells);
    g.set_node_enabled(lstm, false).unwrap();
    assert_eq!(g.count_params().unwrap(), 6 + 1 + 8);
}

#[test]
fn maps_reject_zero_sizes_and_filters_reject_a_weight() {
    let mut g = Graph::new();
    let zero =
        NodeKind::FeatureMap { channels: 0, height: 3, width: 3, activation: Activation::Relu, untied_bias: true };
    assert!(matches!(g.add_node(Role::Hidden, zero, None), Err(Error::Shape(m)) if m.contains("0×3×3")));
    let bad = NodeKind::FeatureMap {
        channels: 1,
        height: 3,
        width: 3,
        activation: Activation::Relu6 { cap: -1.0 },
        untied_bias: true,
    };
    assert!(g.add_node(Role::Hidden, bad, None).is_err());
    let a = hidden(&mut g, (1, 3, 3));
    let b = hidden(&mut g, (1, 1, 1));
    let f = add(&mut g, a, b, filter(3, 1, 0));
    assert!(matches!(g.set_edge_weight(f, 2.0), Err(Error::Graph(m)) if m.contains("no single weight")));
}

#[test]
fn json_round_trips_maps_filters_and_pools() {
    let mut g = Graph::new();
    let x = map(&mut g, Role::Input, (3, 9, 9), false);
    let a = g
        .add_node(
            Role::Hidden,
            NodeKind::FeatureMap {
                channels: 4,
                height: 9,
                width: 9,
                activation: Activation::LeakyRelu { slope: 0.125 },
                untied_bias: false,
            },
            None,
        )
        .unwrap();
    let d = hidden(&mut g, (4, 7, 9));
    let p = hidden(&mut g, (4, 3, 5));
    let f = hidden(&mut g, (4, 2, 2));
    let y = node(&mut g, Role::Output, "identity", true);
    add(
        &mut g,
        x,
        a,
        EdgeSpec { kind: EdgeKind::Filter { kh: 3, kw: 3, kc: None, stride: 1, padding: 1 }, ..EdgeSpec::default() },
    );
    add(
        &mut g,
        x,
        d,
        EdgeSpec {
            kind: EdgeKind::Filter { kh: 3, kw: 1, kc: Some(2), stride: 1, padding: 0 },
            trainable: false,
            ..EdgeSpec::default()
        },
    );
    let pool_kind = EdgeKind::Pool {
        op: PoolOp::Avg,
        height: 3,
        width: 1,
        stride_h: 2,
        stride_w: 2,
        overlapping: false,
        pseudorandom: false,
    };
    add(&mut g, d, p, EdgeSpec { kind: pool_kind, ..EdgeSpec::default() });
    add(&mut g, p, f, fractional(true, true));
    add(
        &mut g,
        a,
        d,
        EdgeSpec { kind: EdgeKind::Filter { kh: 3, kw: 1, kc: None, stride: 1, padding: 0 }, ..EdgeSpec::default() },
    );
    add(&mut g, f, y, EdgeSpec { weight: Some(0.25), ..EdgeSpec::default() });
    g.check_shapes().unwrap();
    let text = g.to_json();
    let back = Graph::from_json(&text).unwrap();
    assert_eq!(back, g);
    assert_eq!(back.to_json(), text);
    assert_eq!(back.count_params().unwrap(), g.count_params().unwrap());
    assert!(
        text.contains("\"feature_map\"") && text.contains("\"fractional_max\"") && text.contains("\"kc\":2"),
        "{text}"
    );
}
