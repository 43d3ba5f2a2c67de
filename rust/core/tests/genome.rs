//! Graphs as genomes: innovation numbers (stored, kept unique, found by
//! number, surviving copies and JSON) and the structural hash that
//! recognises duplicate genomes.

mod common;
use common::*;
use nervenet_core::*;
use std::collections::HashSet;

fn message(e: Error) -> String {
    e.to_string()
}

/// x0, x1 -> lstm_unit (ports 0 and 2), tanh -> y, with a recurrent
/// self edge; innovation numbers far from the ids.
fn genome() -> Graph {
    let mut g = Graph::new();
    let x0 = input(&mut g);
    let x1 = input(&mut g);
    let u = g.add_node(Role::Hidden, NodeKind::Cell(CellKind::LstmUnit), Some(false)).unwrap();
    let h = node(&mut g, Role::Hidden, "tanh", true);
    let y = node(&mut g, Role::Output, "identity", false);
    for (n, inn) in [(x0, 100), (x1, 101), (u, 350), (h, 200), (y, 150)] {
        g.set_node_innovation(n, inn).unwrap();
    }
    let at = |port| EdgeSpec { port, ..EdgeSpec::default() };
    let edges = [
        (g.add_edge(x0, u, at(0)).unwrap(), 10),
        (g.add_edge(x1, u, at(2)).unwrap(), 11),
        (edge(&mut g, x0, h, 0.5), 12),
        (edge(&mut g, u, y, 0.25), 13),
        (edge(&mut g, h, y, -1.0), 14),
        (rec(&mut g, h, h, 3, 0.1), 15),
    ];
    for (e, inn) in edges {
        g.set_edge_innovation(e, inn).unwrap();
    }
    g
}

#[test]
fn innovation_numbers_default_to_ids_and_never_collide() {
    let (mut g, x, y, e) = one_edge();
    assert_eq!((g.node(x).unwrap().innovation, g.node(y).unwrap().innovation), (0, 1));
    assert_eq!(g.edge(e).unwrap().innovation, 0);
    // A default after an explicit number goes past the largest in use.
    g.set_node_innovation(y, 9).unwrap();
    let h = node(&mut g, Role::Hidden, "tanh", true);
    assert_eq!(g.node(h).unwrap().innovation, 10);
    assert_eq!(g.max_node_innovation(), Some(10));
    assert_eq!(g.node_by_innovation(9), Some(y));
    assert_eq!(g.node_by_innovation(1), None, "the old number is freed");
    // Removal frees the number and lowers the maximum.
    g.remove_node(h).unwrap();
    assert_eq!((g.node_by_innovation(10), g.max_node_innovation()), (None, Some(9)));
    assert_eq!(g.edge_by_innovation(0), Some(e));
    g.remove_edge(e).unwrap();
    assert_eq!((g.edge_by_innovation(0), g.max_edge_innovation()), (None, None));
    // Setting a node's own number again is fine.
    g.set_node_innovation(y, 9).unwrap();
}

#[test]
fn duplicate_innovation_numbers_are_refused_naming_both() {
    let mut g = genome();
    let err = message(g.set_node_innovation(NodeId(0), 350).unwrap_err());
    assert!(err.contains("node 0") && err.contains("node 2") && err.contains("350"), "{err}");
    let err = message(g.set_edge_innovation(EdgeId(5), 10).unwrap_err());
    assert!(err.contains("edge 5") && err.contains("edge 0") && err.contains("10"), "{err}");
    assert_eq!(g, genome(), "a refused number changes nothing");
    assert!(message(g.set_edge_innovation(EdgeId(0), u64::MAX).unwrap_err()).contains("reserved"));
    // Nodes and edges are separate namespaces.
    g.set_edge_innovation(EdgeId(0), 350).unwrap();

    // Two nodes (or edges) sharing a number in JSON: GraphError naming both.
    let text = genome().to_json();
    for (from, to, a, b) in [
        (r#""innovation":101"#, r#""innovation":100"#, "node 0", "node 1"),
        (r#""innovation":14"#, r#""innovation":12"#, "edge 2", "edge 4"),
    ] {
        let err = Graph::from_json(&text.replace(from, to)).unwrap_err();
        assert!(matches!(err, Error::Graph(_)), "{err:?}");
        let err = message(err);
        assert!(err.contains(a) && err.contains(b) && err.contains("innovation number"), "{err}");
    }
}

#[test]
fn json_round_trip_keeps_innovation_numbers() {
    let g = genome();
    let text = g.to_json();
    assert!(text.contains(r#""innovation":350"#), "{text}");
    let back = Graph::from_json(&text).unwrap();
    assert_eq!(back, g);
    assert_eq!(back.to_json(), text);
    assert_eq!(back.edge_by_innovation(15), Some(EdgeId(5)), "the index is rebuilt");
    assert_eq!((back.max_node_innovation(), back.max_edge_innovation()), (Some(350), Some(15)));
    let copy = g.clone();
    assert_eq!(copy, g);
    assert_eq!(copy.node_by_innovation(200), Some(NodeId(3)));
}

#[test]
fn json_without_innovation_numbers_loads_with_the_ids() {
    // A graph file written before innovation numbers existed.
    let old = r#"{"format":"nervenet.graph","version":1,"next_node_id":4,"next_edge_id":3,
        "nodes":[{"id":0,"role":"input","kind":{"type":"simple","activation":{"name":"identity"}},"bias":false},
                 {"id":2,"role":"hidden","kind":{"type":"lstm"},"bias":false},
                 {"id":3,"role":"output","kind":{"type":"simple","activation":{"name":"identity"}},"bias":false}],
        "edges":[{"id":0,"src":0,"dst":2,"kind":{"type":"weight"},"time_skip":0},
                 {"id":2,"src":2,"dst":3,"kind":{"type":"weight"},"time_skip":0}]}"#;
    let g = Graph::from_json(old).unwrap();
    let nodes: Vec<(u32, u64)> = g.nodes().map(|n| (n.id.0, n.innovation)).collect();
    let edges: Vec<(u32, u64)> = g.edges().map(|e| (e.id.0, e.innovation)).collect();
    assert_eq!(nodes, [(0, 0), (2, 2), (3, 3)]);
    assert_eq!(edges, [(0, 0), (2, 2)]);
    // Missing and explicit numbers mix; an explicit one may not take an id's default.
    let mixed = old.replacen(r#""id":0,"role""#, r#""id":0,"innovation":3,"role""#, 1);
    let err = message(Graph::from_json(&mixed).unwrap_err());
    assert!(err.contains("node 0") && err.contains("node 3"), "{err}");
}

#[test]
fn bulk_edges_rolled_back_free_their_numbers() {
    let mut g = genome();
    let (h, y) = (NodeId(3), NodeId(4));
    let before = g.clone();
    let spec = EdgeSpec::default();
    assert!(g.add_edges(&[(y, h, EdgeSpec { time_skip: 1, ..spec }), (y, h, spec)]).is_err());
    assert_eq!(g, before);
    assert_eq!(g.max_edge_innovation(), Some(15));
    let e = g.add_edge(y, h, EdgeSpec { time_skip: 1, ..spec }).unwrap();
    assert_eq!(g.edge(e).unwrap().innovation, 16);
}

#[test]
fn random_graphs_have_unique_innovation_numbers() {
    for seed in 0..20 {
        let g = random_graph(&RandomGraphSpec {
            hidden: 15,
            recurrent: 10,
            max_skip: 10,
            cell_probability: 0.3,
            seed,
            ..RandomGraphSpec::default()
        })
        .unwrap();
        let nodes: HashSet<u64> = g.nodes().map(|n| n.innovation).collect();
        let edges: HashSet<u64> = g.edges().map(|e| e.innovation).collect();
        assert_eq!((nodes.len(), edges.len()), (g.num_nodes(), g.num_edges()), "seed {seed}");
        for e in g.edges() {
            assert_eq!(g.edge_by_innovation(e.innovation), Some(e.id));
        }
    }
}

// ---- structural hash ---------------------------------------------------

/// The same genome built in another order: outputs first, hidden nodes and
/// edges reversed (inputs keep their order: it is the order of features),
/// other weights and biases, different ids. `swap_inputs` adds the inputs
/// the other way round: the same innovation structure, but feature 0 now
/// goes to the other input.
fn genome_rebuilt(swap_inputs: bool) -> Graph {
    let mut g = Graph::new();
    let _unused = node(&mut g, Role::Hidden, "relu", true); // shifts every id
    g.remove_node(_unused).unwrap();
    let y = node(&mut g, Role::Output, "identity", false);
    let h = node(&mut g, Role::Hidden, "tanh", true);
    g.set_bias_value(h, 3.0).unwrap();
    let u = g.add_node(Role::Hidden, NodeKind::Cell(CellKind::LstmUnit), Some(false)).unwrap();
    let (mut x0, mut x1) = (input(&mut g), input(&mut g));
    if swap_inputs {
        (x0, x1) = (x1, x0);
    }
    for (n, inn) in [(y, 150), (h, 200), (u, 350), (x0, 100), (x1, 101)] {
        g.set_node_innovation(n, inn).unwrap();
    }
    let at = |port| EdgeSpec { port, ..EdgeSpec::default() };
    let edges = [
        (rec(&mut g, h, h, 3, -7.0), 15),
        (edge(&mut g, h, y, 2.0), 14),
        (edge(&mut g, u, y, 3.0), 13),
        (g.add_edge(x0, h, EdgeSpec::default()).unwrap(), 12),
        (g.add_edge(x1, u, at(2)).unwrap(), 11),
        (g.add_edge(x0, u, at(0)).unwrap(), 10),
    ];
    for (e, inn) in edges {
        g.set_edge_innovation(e, inn).unwrap();
    }
    g
}

/// Edge of `g` by innovation number.
fn by(g: &Graph, inn: u64) -> EdgeId {
    g.edge_by_innovation(inn).unwrap()
}

#[test]
fn structural_hash_ignores_ids_order_and_values() {
    let (a, b) = (genome(), genome_rebuilt(false));
    assert_ne!(a.to_json(), b.to_json());
    assert_eq!(a.structural_hash(), b.structural_hash());
    assert_eq!(a.clone().structural_hash(), a.structural_hash());
    assert_eq!(Graph::from_json(&a.to_json()).unwrap().structural_hash(), a.structural_hash());
    // A pinned value: the hash is the same on every run, platform and
    // build (FNV-1a over a fixed encoding; a change here breaks the
    // duplicate checks of saved runs, so it must be deliberate).
    assert_eq!(a.structural_hash(), 0x2ee2_fc24_d713_cad3, "{:#x}", a.structural_hash());
}

#[test]
fn disabled_edges_and_nodes_hash_like_absent_ones() {
    let base = genome();
    let mut disabled = base.clone();
    disabled.set_edge_enabled(by(&disabled, 15), false).unwrap();
    let mut removed = base.clone();
    removed.remove_edge(by(&removed, 15)).unwrap();
    assert_ne!(disabled.structural_hash(), base.structural_hash());
    assert_eq!(disabled.structural_hash(), removed.structural_hash());
    // A disabled node takes its edges out with it.
    let mut off = base.clone();
    off.set_node_enabled(NodeId(3), false).unwrap();
    let mut gone = base.clone();
    gone.remove_node(NodeId(3)).unwrap();
    assert_eq!(off.structural_hash(), gone.structural_hash());
    assert_ne!(off.structural_hash(), base.structural_hash());
}

#[test]
fn structural_hash_sees_every_structural_change() {
    let base = genome();
    let h0 = base.structural_hash();
    let mut seen = HashSet::from([h0]);
    let mut differs = |what: &str, edit: &dyn Fn(&mut Graph)| {
        let mut g = base.clone();
        edit(&mut g);
        assert!(seen.insert(g.structural_hash()), "{what}: hash unchanged or equal to another change's");
    };
    differs("time skip", &|g| {
        g.remove_edge(by(g, 15)).unwrap();
        let e = rec(g, NodeId(3), NodeId(3), 4, 0.1);
        g.set_edge_innovation(e, 15).unwrap();
    });
    differs("port", &|g| {
        g.remove_edge(by(g, 11)).unwrap();
        let e = g.add_edge(NodeId(1), NodeId(2), EdgeSpec { port: 1, ..EdgeSpec::default() }).unwrap();
        g.set_edge_innovation(e, 11).unwrap();
    });
    differs("trainable", &|g| {
        g.remove_edge(by(g, 12)).unwrap();
        let e = g.add_edge(NodeId(0), NodeId(3), EdgeSpec { trainable: false, ..EdgeSpec::default() }).unwrap();
        g.set_edge_innovation(e, 12).unwrap();
    });
    differs("edge kind", &|g| {
        g.remove_edge(by(g, 12)).unwrap();
        let spec = EdgeSpec { kind: EdgeKind::Identity, trainable: false, ..EdgeSpec::default() };
        let e = g.add_edge(NodeId(0), NodeId(3), spec).unwrap();
        g.set_edge_innovation(e, 12).unwrap();
    });
    differs("edge innovation", &|g| g.set_edge_innovation(by(g, 12), 99).unwrap());
    differs("node innovation", &|g| g.set_node_innovation(NodeId(3), 99).unwrap());
    differs("edge source", &|g| {
        g.remove_edge(by(g, 12)).unwrap();
        let e = edge(g, NodeId(1), NodeId(3), 0.5);
        g.set_edge_innovation(e, 12).unwrap();
    });
    let rebuilt = |kind: NodeKind, bias: bool| {
        move |g: &mut Graph| {
            // Node 3 (innovation 200) replaced by one of another kind or bias.
            g.remove_node(NodeId(3)).unwrap();
            let h = g.add_node(Role::Hidden, kind, Some(bias)).unwrap();
            g.set_node_innovation(h, 200).unwrap();
            for (s, d, skip, inn) in [(NodeId(0), h, 0, 12), (h, NodeId(4), 0, 14), (h, h, 3, 15)] {
                let e = rec_or_edge(g, s, d, skip);
                g.set_edge_innovation(e, inn).unwrap();
            }
        }
    };
    let tanh = NodeKind::simple(Activation::Tanh);
    // The same node rebuilt hashes as before (a control for the edits below).
    let mut same = base.clone();
    rebuilt(tanh, true)(&mut same);
    assert_eq!(same.structural_hash(), h0);
    differs("activation", &rebuilt(NodeKind::simple(Activation::Sigmoid), true));
    differs("activation parameter", &rebuilt(NodeKind::simple(Activation::LeakyRelu { slope: 0.2 }), true));
    differs("other activation parameter", &rebuilt(NodeKind::simple(Activation::LeakyRelu { slope: 0.3 }), true));
    differs("bias flag", &rebuilt(tanh, false));
    differs("cell kind", &rebuilt(NodeKind::Cell(CellKind::Gru), false));
    differs("other cell kind", &rebuilt(NodeKind::Cell(CellKind::Mgu), false));
    differs("role", &|g| {
        // The output becomes a hidden node, and a fresh output takes its edges' place.
        let y = node(g, Role::Output, "identity", false);
        g.set_node_innovation(y, 500).unwrap();
        g.remove_node(NodeId(4)).unwrap();
        let h = node(g, Role::Hidden, "identity", false);
        g.set_node_innovation(h, 150).unwrap();
        for (s, inn) in [(NodeId(2), 13), (NodeId(3), 14)] {
            let e = edge(g, s, h, 1.0);
            g.set_edge_innovation(e, inn).unwrap();
        }
    });
    differs("input order", &|g| *g = genome_rebuilt(true));
}

fn rec_or_edge(g: &mut Graph, s: NodeId, d: NodeId, skip: u32) -> EdgeId {
    g.add_edge(s, d, EdgeSpec { time_skip: skip, ..EdgeSpec::default() }).unwrap()
}
