//! The graph IR: validation errors that name the culprit, exact JSON round
//! trips, cheap mutation, and plans that reject what they cannot run.

mod common;
use common::*;
use nervenet_core::*;

fn message(e: Error) -> String {
    e.to_string()
}

#[test]
fn cycles_are_refused_naming_the_nodes() {
    let mut g = Graph::new();
    let x = input(&mut g);
    let a = node(&mut g, Role::Hidden, "tanh", true);
    let b = node(&mut g, Role::Hidden, "tanh", true);
    edge(&mut g, x, a, 0.1);
    edge(&mut g, a, b, 0.1);
    let err = g.add_edge(b, a, EdgeSpec::default()).unwrap_err();
    assert!(matches!(err, Error::Graph(_)));
    let m = message(err);
    assert!(m.contains("cycle") && m.contains(&a.0.to_string()) && m.contains(&b.0.to_string()), "{m}");
    // A self loop at skip 0 is a cycle too; at skip >= 1 it is recurrent.
    assert!(g.add_edge(a, a, EdgeSpec::default()).is_err());
    assert!(g.add_edge(b, a, EdgeSpec { time_skip: 1, ..EdgeSpec::default() }).is_ok());
    assert!(g.add_edge(a, a, EdgeSpec { time_skip: 3, ..EdgeSpec::default() }).is_ok());
}

#[test]
fn bad_edges_are_refused() {
    let (mut g, x, y, e) = one_edge();
    let into_input = message(g.add_edge(y, x, EdgeSpec { time_skip: 1, ..EdgeSpec::default() }).unwrap_err());
    assert!(into_input.contains("input node") && into_input.contains(&x.0.to_string()), "{into_input}");
    let dup = message(g.add_edge(x, y, EdgeSpec::default()).unwrap_err());
    assert!(dup.contains("duplicate") && dup.contains(&format!("edge {}", e.0)), "{dup}");
    let unknown = message(g.add_edge(x, NodeId(99), EdgeSpec::default()).unwrap_err());
    assert!(unknown.contains("99"), "{unknown}");
    assert!(message(g.remove_edge(EdgeId(42)).unwrap_err()).contains("42"));
    let nan = g.add_edge(y, y, EdgeSpec { time_skip: 1, weight: Some(f64::NAN), ..EdgeSpec::default() });
    assert!(matches!(nan, Err(Error::Value(_))));
    let bad_cap = g.add_node(Role::Hidden, NodeKind::simple(Activation::Relu6 { cap: -1.0 }), None);
    assert!(message(bad_cap.unwrap_err()).contains("cap"));
}

#[test]
fn json_round_trip_is_exact() {
    let mut g = random_graph(&RandomGraphSpec {
        hidden: 12,
        recurrent: 6,
        max_skip: 4,
        fixed_probability: 0.3,
        activations: vec![
            Activation::Relu6 { cap: 4.5 },
            Activation::LeakyRelu { slope: 0.125 },
            Activation::Sigmoid,
            Activation::Softsign,
        ],
        ..RandomGraphSpec::default()
    })
    .unwrap();
    let h = g.nodes().find(|n| n.role == Role::Hidden).unwrap().id;
    g.set_bias_value(h, 0.1 + 0.2).unwrap(); // a value with a long decimal expansion
    let e = g.edges().next().unwrap().id;
    g.set_edge_enabled(e, false).unwrap();
    g.remove_node(NodeId(5)).unwrap();
    let text = g.to_json();
    let back = Graph::from_json(&text).unwrap();
    assert_eq!(back, g);
    assert_eq!(back.to_json(), text);
    // Ids are never reused after removal, even across a round trip.
    let mut back = back;
    let fresh = back.add_node(Role::Hidden, NodeKind::simple(Activation::Tanh), None).unwrap();
    assert!(g.node(fresh).is_err());
}

#[test]
fn json_names_a_cell_by_its_type() {
    let mut g = Graph::new();
    let x = input(&mut g);
    for cell in CellKind::ALL {
        let c = g.add_node(Role::Hidden, NodeKind::Cell(cell), None).unwrap();
        edge(&mut g, x, c, 0.5);
    }
    let text = g.to_json();
    assert!(text.contains(r#""kind":{"type":"lstm"}"#) && text.contains(r#""kind":{"type":"gru_unit"}"#), "{text}");
    assert!(text.contains(r#""kind":{"type":"simple","activation":{"name":"identity"}}"#), "{text}");
    let back = Graph::from_json(&text).unwrap();
    assert_eq!(back.to_json(), text);
    assert_eq!(back.node(NodeId(1)).unwrap().kind, NodeKind::Cell(CellKind::Lstm));
    let m = message(Graph::from_json(&text.replace(r#""type":"mgu""#, r#""type":"rnn""#)).unwrap_err());
    assert!(m.contains(r#"unknown node type "rnn""#) && m.contains("ugrnn"), "{m}");
}

#[test]
fn names_parse_and_name_the_allowed_values() {
    for cell in CellKind::ALL {
        assert_eq!(CellKind::parse(cell.name()).unwrap(), cell);
    }
    for role in Role::ALL {
        assert_eq!(Role::parse(role.name()).unwrap(), role);
    }
    for name in Activation::NAMES {
        Activation::parse(name, None, None).unwrap();
    }
    assert!(message(CellKind::parse("rnn").unwrap_err()).contains("expected one of lstm, gru, mgu"));
    assert!(message(Role::parse("bias").unwrap_err()).contains("expected input, hidden or output"));
    assert!(message(Activation::parse("gelu", None, None).unwrap_err()).contains("expected one of identity, linear"));
    assert!(message(Activation::parse("relu", Some(6.0), None).unwrap_err()).contains("cap applies to relu6 only"));
    assert_eq!(Activation::parse("leaky_relu", None, Some(0.2)).unwrap(), Activation::LeakyRelu { slope: 0.2 });
}

#[test]
fn random_graph_specs_are_checked() {
    let spec = RandomGraphSpec { inputs: 2, hidden: 3, outputs: 1, ..RandomGraphSpec::default() };
    let m = message(random_graph(&RandomGraphSpec { recurrent: 2, max_skip: 0, ..spec.clone() }).unwrap_err());
    assert!(m.contains("max_skip must be at least 1 when recurrent edges are asked for"), "{m}");
    let m = message(random_graph(&RandomGraphSpec { activations: vec![], ..spec.clone() }).unwrap_err());
    assert!(m.contains("activations must name at least one activation"), "{m}");
    random_graph(&spec).unwrap();
}

#[test]
fn inputs_refuse_cells_and_activations() {
    let m = message(Role::Input.check_kind(&NodeKind::Cell(CellKind::Gru)).unwrap_err());
    assert!(m.contains("input nodes cannot be memory cells"), "{m}");
    let m = message(Role::Input.check_kind(&NodeKind::simple(Activation::Tanh)).unwrap_err());
    assert!(m.contains(r#"input nodes apply no activation; got "tanh""#), "{m}");
    let map =
        NodeKind::FeatureMap { channels: 1, height: 2, width: 2, activation: Activation::Relu, untied_bias: true };
    assert!(message(Role::Input.check_kind(&map).unwrap_err()).contains("input maps apply no activation"));
    Role::Input.check_kind(&NodeKind::simple(Activation::Identity)).unwrap();
    Role::Hidden.check_kind(&map).unwrap();
}

#[test]
fn json_errors_are_clear() {
    assert!(matches!(Graph::from_json("{"), Err(Error::Format(_))));
    assert!(message(Graph::from_json(r#"{"format":"x"}"#).unwrap_err()).contains("invalid graph JSON"));
    let (g, ..) = one_edge();
    // Tamper: point the edge into the input node.
    let bad = g.to_json().replace(r#""src":0,"dst":1"#, r#""src":1,"dst":0"#);
    let m = message(Graph::from_json(&bad).unwrap_err());
    assert!(m.contains("input node"), "{m}");
    let unknown = g.to_json().replace(r#""dst":1"#, r#""dst":7"#);
    assert!(message(Graph::from_json(&unknown).unwrap_err()).contains("unknown destination node id 7"));
}

#[test]
fn mutation_split_disable_remove() {
    let mut g = Graph::new();
    let x = input(&mut g);
    let y = node(&mut g, Role::Output, "identity", false);
    let e = edge(&mut g, x, y, 0.75);
    let before: Network<f64> = net64(g.clone());
    let (mid, e1, e2) = g.split_edge(e, NodeKind::simple(Activation::Identity)).unwrap();
    assert!(g.edge(e).is_err());
    assert_eq!(g.edge(e1).unwrap().weight, Some(0.75));
    assert_eq!((g.edge(e2).unwrap().src, g.edge(e2).unwrap().dst), (mid, y));
    let after = net64(g.clone());
    let xs = Sequences::new(&[2.0], 1, 1, 1);
    assert_eq!(before.forward(&xs).unwrap(), after.forward(&xs).unwrap()); // identity split keeps the function
    g.set_node_enabled(mid, false).unwrap();
    assert_eq!(net64(g.clone()).forward(&xs).unwrap(), vec![0.0]);
    assert!(g.set_node_enabled(x, false).is_err());
    g.set_node_enabled(mid, true).unwrap();
    g.remove_node(mid).unwrap();
    assert_eq!(g.num_edges(), 0);
    assert_eq!(g.num_nodes(), 2);
}

#[test]
fn plans_name_unsupported_kinds() {
    let mut g = Graph::new();
    let x = input(&mut g);
    let fm =
        NodeKind::FeatureMap { channels: 1, height: 2, width: 2, activation: Activation::Relu, untied_bias: false };
    let c = g.add_node(Role::Hidden, fm, None).unwrap();
    let y = node(&mut g, Role::Output, "identity", false);
    edge(&mut g, x, c, 1.0);
    edge(&mut g, c, y, 1.0);
    let err = Plan::compile(&g).unwrap_err();
    assert!(
        matches!(err, Error::Unsupported(ref m) if m.contains("filter") && m.contains(&format!("node {}", c.0))),
        "{err}"
    );
    // Memory cells carry their own biases and have no node bias.
    let cell = g.add_node(Role::Hidden, NodeKind::Cell(CellKind::Lstm), None).unwrap();
    assert!(!g.node(cell).unwrap().bias);
    let err = message(g.add_node(Role::Hidden, NodeKind::Cell(CellKind::Gru), Some(true)).unwrap_err());
    assert!(err.contains("gru cell") && err.contains("own bias"), "{err}");
    let mut g = Graph::new();
    let x = input(&mut g);
    assert!(message(Plan::compile(&g).unwrap_err()).contains("no output"));
    let y = node(&mut g, Role::Output, "identity", false);
    edge(&mut g, x, y, 1.0);
    assert!(Plan::compile(&g).is_ok());
}

#[test]
fn parameters_have_stable_names_and_presets() {
    let mut g = Graph::new();
    let x = input(&mut g);
    let h = node(&mut g, Role::Hidden, "tanh", true);
    let y = node(&mut g, Role::Output, "identity", false);
    let e0 = edge(&mut g, x, h, 0.25);
    let e1 = g.add_edge(h, y, EdgeSpec { trainable: false, weight: Some(2.0), ..EdgeSpec::default() }).unwrap();
    let e2 = g.add_edge(y, h, EdgeSpec { kind: EdgeKind::Identity, time_skip: 2, ..EdgeSpec::default() }).unwrap();
    let mut net = net64(g);
    assert_eq!(net.get_param(&format!("edge:{}", e0.0)).unwrap(), 0.25);
    assert_eq!(net.get_param(&format!("edge:{}", e1.0)).unwrap(), 2.0);
    assert_eq!(net.get_param(&format!("edge:{}", e2.0)).unwrap(), 1.0);
    assert_eq!(net.get_param(&format!("node:{}:bias", h.0)).unwrap(), 0.0);
    assert!(matches!(net.set_param(&format!("edge:{}", e1.0), 3.0), Err(Error::Parameter(_))));
    let err = net.get_param("edge:99").unwrap_err();
    assert!(matches!(err, Error::Parameter(ref m) if m.contains("edge:99")));
    net.set_param(&format!("edge:{}", e0.0), -1.5).unwrap();
    assert_eq!(net.get_param(&format!("edge:{}", e0.0)).unwrap(), -1.5);
}

#[test]
fn bad_batches_are_named() {
    let g = random_graph(&RandomGraphSpec::default()).unwrap();
    let net = net64(g);
    let x = vec![0.0; 2 * 3];
    let wrong_features = net.forward(&Sequences::new(&x, 3, 1, 2)).unwrap_err();
    assert!(matches!(wrong_features, Error::Shape(ref m) if m.contains("2 features") && m.contains("3 input")));
    let mut nan = vec![0.0; 2 * 4 * 3];
    nan[3 * 4 + 2 * 3 + 1] = f64::NAN;
    let err = message(net.forward(&Sequences::new(&nan, 2, 4, 3)).unwrap_err());
    assert!(err.contains("[1, 2, 1]"), "{err}");
    let xs = vec![0.0; 3];
    let labels = [5i64];
    let seed =
        Seed::Loss { loss: Loss::Softmax, targets: Targets::Classes(&labels), reduction: Reduction::Sum, mask: None };
    assert!(
        matches!(net.gradient(&Sequences::new(&xs, 1, 1, 3), &seed, false), Err(Error::Value(ref m)) if m.contains('5'))
    );
    let y = [0.0, 1.0];
    let wrong = Seed::Loss { loss: Loss::Hinge, targets: Targets::Values(&y), reduction: Reduction::Sum, mask: None };
    assert!(net.gradient(&Sequences::new(&xs, 1, 1, 3), &wrong, false).is_err());
}

#[test]
fn bulk_edges_are_all_or_nothing() {
    let mut g = Graph::new();
    let xs: Vec<NodeId> = (0..784).map(|_| input(&mut g)).collect();
    let hs: Vec<NodeId> = (0..512).map(|_| node(&mut g, Role::Hidden, "relu", true)).collect();
    let edges: Vec<(NodeId, NodeId, EdgeSpec)> =
        hs.iter().flat_map(|&h| xs.iter().map(move |&x| (x, h, EdgeSpec::default()))).collect();
    let ids = g.add_edges(&edges).unwrap(); // one cycle check for 401k edges
    assert_eq!(ids.len(), 784 * 512);
    // A batch that closes a cycle adds nothing.
    let (a, b) = (hs[0], hs[1]);
    let before = g.num_edges();
    let err = g.add_edges(&[(a, b, EdgeSpec::default()), (b, a, EdgeSpec::default())]).unwrap_err();
    assert!(err.to_string().contains("cycle"));
    assert_eq!(g.num_edges(), before);
    let fresh = g.add_edge(a, b, EdgeSpec::default()).unwrap();
    assert_eq!(fresh.0 as usize, ids.len(), "ids continue after a failed batch");
    assert!(g.add_edges(&[(b, a, EdgeSpec { time_skip: 1, ..EdgeSpec::default() })]).is_ok());
}

#[test]
fn plan_summary_reports_kernels() {
    let g = random_graph(&RandomGraphSpec {
        hidden: 20,
        recurrent: 5,
        max_skip: 3,
        density: 0.5,
        ..RandomGraphSpec::default()
    })
    .unwrap();
    let sparse = Plan::compile_with(&g, PlanOptions::all_sparse()).unwrap().summary();
    let dense = Plan::compile_with(&g, PlanOptions::all_dense()).unwrap().summary();
    assert_eq!((sparse.dense_blocks + sparse.masked_blocks, sparse.dense_params), (0, 0));
    assert_eq!((dense.sparse_blocks, dense.sparse_params), (0, 0));
    assert_eq!(sparse.sparse_params, dense.dense_params);
    assert_eq!((sparse.max_skip, sparse.levels), (dense.max_skip, dense.levels));
    assert!(sparse.max_skip >= 1);
}

#[test]
fn unfed_outputs_are_those_no_enabled_edge_from_an_enabled_node_reaches() {
    let mut g = Graph::new();
    let x = input(&mut g);
    let h = node(&mut g, Role::Hidden, "tanh", true);
    let fed = node(&mut g, Role::Output, "identity", false);
    let bare = node(&mut g, Role::Output, "identity", true);
    let through_h = node(&mut g, Role::Output, "identity", false);
    let recurrent = node(&mut g, Role::Output, "identity", false);
    edge(&mut g, x, fed, 1.0);
    edge(&mut g, x, h, 1.0);
    edge(&mut g, h, through_h, 1.0);
    g.add_edge(fed, recurrent, EdgeSpec { time_skip: 1, ..EdgeSpec::default() }).unwrap();
    assert_eq!(g.unfed_outputs(), vec![bare]);
    g.set_node_enabled(h, false).unwrap();
    assert_eq!(g.unfed_outputs(), vec![bare, through_h]);
    g.set_node_enabled(h, true).unwrap();
    let e = g.find_edge(x, fed, 0).unwrap();
    g.set_edge_enabled(e, false).unwrap();
    assert_eq!(g.unfed_outputs(), vec![fed, bare]);
}

#[test]
fn graph_growth_is_checked_before_anything_is_added() {
    let mut g = Graph::new();
    let x = input(&mut g);
    let simple = NodeKind::simple(Activation::Tanh);
    // 2^60 nodes cannot fit any budget: refused whole, naming the bytes.
    let err = g.add_nodes(1 << 60, Role::Hidden, simple, None).unwrap_err();
    assert!(
        matches!(&err, Error::Unsupported(m) if m.starts_with("adding 1152921504606846976 nodes to a graph of 1: ")
        && m.contains(" bytes")),
        "{err}"
    );
    assert_eq!(g.num_nodes(), 1);
    assert!(g.reserve_edges(1 << 60).is_err());
    assert_eq!(g.add_nodes(3, Role::Hidden, simple, None).unwrap().len(), 3);
    let _ = x;
}

#[test]
fn ids_running_out_are_an_error_not_a_wrap() {
    // A graph file whose next ids are the last ones.
    let text = r#"{"format":"nervenet.graph","version":1,"next_node_id":4294967295,"next_edge_id":4294967295,
        "nodes":[],"edges":[]}"#;
    let mut g = Graph::from_json(text).unwrap();
    let err = g.add_node(Role::Input, NodeKind::simple(Activation::Identity), None).unwrap_err();
    assert!(matches!(&err, Error::Unsupported(m) if m.contains("ids are 32-bit")), "{err}");
    assert_eq!(g.num_nodes(), 0);
}
