//! The structural hash of a graph: recognises duplicate genomes in an
//! evolution run. Two graphs hash alike when their *active* structure is
//! the same — enabled nodes and the enabled edges between enabled nodes —
//! named by innovation number, whatever their ids, the order they were
//! added in, and the values of weights and biases. Disabled nodes and
//! edges do not count (a disabled edge hashes like an absent one): the
//! network they give computes the same function.
//!
//! What counts, per node: innovation number, role, kind (activation with its
//! parameter, cell kind, feature-map shape and bias layout), bias flag, and
//! for inputs and outputs their position among the inputs / outputs (the
//! feature or output they stand for). Per edge: innovation number, the
//! innovation numbers of its ends, time skip, kind (with filter and pool
//! geometry), port and trainability.
//!
//! 64-bit FNV-1a over a canonical encoding (elements sorted by innovation
//! number, names as their strings): the same value on every run, platform
//! and build, unlike std's randomly keyed hasher.

use super::{Activation, Edge, EdgeKind, Graph, Node, NodeKind, Role};
use std::collections::HashMap;

impl Graph {
    /// A hash of the active structure (see the module notes), for spotting
    /// duplicate genomes. O((V + E) log(V + E)).
    pub fn structural_hash(&self) -> u64 {
        let mut position: HashMap<_, u64> = HashMap::new();
        for role in [Role::Input, Role::Output] {
            for (i, id) in self.nodes_with_role(role).into_iter().enumerate() {
                position.insert(id, i as u64);
            }
        }
        let mut nodes: Vec<&Node> = self.nodes().filter(|n| n.enabled).collect();
        nodes.sort_unstable_by_key(|n| n.innovation);
        let live =
            |e: &&Edge| e.enabled && [e.src, e.dst].iter().all(|id| self.nodes.get(id).is_some_and(|n| n.enabled));
        let mut edges: Vec<&Edge> = self.edges().filter(live).collect();
        edges.sort_unstable_by_key(|e| e.innovation);

        let mut h = Fnv::new();
        h.str("nodes");
        h.u64(nodes.len() as u64);
        for n in nodes {
            h.u64(n.innovation);
            h.str(n.role.name());
            h.u64(position.get(&n.id).copied().unwrap_or(0));
            node_kind(&mut h, &n.kind);
            h.u64(n.bias.into());
        }
        h.str("edges");
        h.u64(edges.len() as u64);
        for e in edges {
            h.u64(e.innovation);
            h.u64(self.nodes[&e.src].innovation);
            h.u64(self.nodes[&e.dst].innovation);
            h.u64(e.time_skip.into());
            edge_kind(&mut h, &e.kind);
            h.u64(e.port.into());
            h.u64(e.trainable.into());
        }
        h.0
    }
}

fn node_kind(h: &mut Fnv, kind: &NodeKind) {
    h.str(kind.name());
    match *kind {
        NodeKind::Simple { activation } => activation_of(h, activation),
        NodeKind::FeatureMap { channels, height, width, activation, untied_bias } => {
            for v in [channels, height, width] {
                h.u64(v.into());
            }
            activation_of(h, activation);
            h.u64(untied_bias.into());
        }
        NodeKind::Cell(_) => {} // the name says it all
    }
}

fn activation_of(h: &mut Fnv, a: Activation) {
    h.str(a.name());
    match a {
        Activation::Relu6 { cap: x } | Activation::LeakyRelu { slope: x } => h.f64(x),
        _ => {}
    }
}

fn edge_kind(h: &mut Fnv, kind: &EdgeKind) {
    h.str(kind.name());
    match *kind {
        EdgeKind::Weight | EdgeKind::Identity => {}
        EdgeKind::Filter { kh, kw, kc, stride, padding } => {
            // kc: None and Some(0) cannot clash (depths are positive).
            for v in [kh, kw, kc.unwrap_or(0), stride, padding] {
                h.u64(v.into());
            }
        }
        EdgeKind::Pool { op, height, width, stride_h, stride_w, overlapping, pseudorandom } => {
            h.str(op.name());
            for v in [height, width, stride_h, stride_w] {
                h.u64(v.into());
            }
            h.u64(overlapping.into());
            h.u64(pseudorandom.into());
        }
    }
}

/// 64-bit FNV-1a, fed little-endian words and length-prefixed strings.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes(s.as_bytes());
    }

    /// Bits of the value, −0 as +0 (equal parameters hash alike).
    fn f64(&mut self, v: f64) {
        self.u64((v + 0.0).to_bits());
    }
}

#[cfg(test)]
mod tests {
    use super::Fnv;

    #[test]
    fn fnv1a_matches_published_vectors() {
        // Test vectors of the FNV reference (draft-eastlake-fnv): "" and "a".
        let mut h = Fnv::new();
        assert_eq!(h.0, 0xcbf29ce484222325);
        h.bytes(b"a");
        assert_eq!(h.0, 0xaf63dc4c8601ec8c);
        let mut h = Fnv::new();
        h.bytes(b"foobar");
        assert_eq!(h.0, 0x85944171f73967e8);
    }
}
