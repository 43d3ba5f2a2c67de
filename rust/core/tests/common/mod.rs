//! Helpers shared by the integration tests: terse graph building and
//! gradient evaluation.
#![allow(dead_code)]

use nervenet_core::*;

pub fn act(name: &str) -> Activation {
    Activation::parse(name, None).expect("activation name")
}

pub fn node(g: &mut Graph, role: Role, a: &str, bias: bool) -> NodeId {
    g.add_node(role, NodeKind::simple(act(a)), Some(bias)).unwrap()
}

pub fn input(g: &mut Graph) -> NodeId {
    g.add_node(Role::Input, NodeKind::simple(Activation::Identity), None).unwrap()
}

pub fn edge(g: &mut Graph, src: NodeId, dst: NodeId, w: f64) -> EdgeId {
    g.add_edge(src, dst, EdgeSpec { weight: Some(w), ..EdgeSpec::default() }).unwrap()
}

pub fn rec(g: &mut Graph, src: NodeId, dst: NodeId, skip: u32, w: f64) -> EdgeId {
    g.add_edge(src, dst, EdgeSpec { weight: Some(w), time_skip: skip, ..EdgeSpec::default() }).unwrap()
}

pub fn net64(g: Graph) -> Network<f64> {
    Network::new(g, &Init::default(), 0).unwrap()
}

pub fn grad_of(net: &Network<f64>, name: &str, grads: &[f64]) -> f64 {
    grads[net.param_index(name).unwrap()]
}

pub fn values_seed<'a, T: Real>(loss: Loss, y: &'a [T]) -> Seed<'a, T> {
    Seed::Loss { loss, targets: Targets::Values(y), reduction: Reduction::Sum, mask: None }
}

pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[track_caller]
pub fn assert_close(got: f64, want: f64, tol: f64) {
    assert!(close(got, want, tol), "got {got}, want {want} (tolerance {tol})");
}
