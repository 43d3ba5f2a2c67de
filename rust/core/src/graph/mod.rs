//! The graph IR: nodes and edges with stable ids, cheap mutation (evolution
//! edits graphs thousands of times) and validation that names the culprit.

pub mod args;
mod cell;
mod edge;
mod innovation;
mod json;
mod node;
mod random;
mod shapes;
mod structural_hash;
mod validate;

pub use cell::CellKind;
pub use edge::{Edge, EdgeId, EdgeKind, PoolOp};
pub use node::{Activation, Node, NodeId, NodeKind, Role};
pub use random::{random_graph, RandomGraphSpec};
pub use validate::topological_levels;

use crate::bail;
use crate::error::{Error, Result};
use innovation::{InnovationIndex, UNSET};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A directed graph of nodes and edges. Edges with `time_skip = 0` always form
/// a DAG: every mutation keeps that invariant, and [`Graph::validate`]
/// re-checks it for graphs that arrive from JSON.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: BTreeMap<NodeId, Node>,
    edges: BTreeMap<EdgeId, Edge>,
    next_node: u32,
    next_edge: u32,
    /// (src, dst, time_skip, port) -> edge, for the duplicate check.
    pairs: HashMap<(NodeId, NodeId, u32, u8), EdgeId>,
    /// Successors through feed-forward edges (enabled or not), for the
    /// incremental cycle check.
    ff_out: HashMap<NodeId, BTreeSet<NodeId>>,
    /// Innovation number -> node / edge (`innovation.rs`).
    node_innovations: InnovationIndex<NodeId>,
    edge_innovations: InnovationIndex<EdgeId>,
}

/// Two graphs are equal when their nodes, edges and id counters are; the
/// lookup indexes are derived from those.
impl PartialEq for Graph {
    fn eq(&self, other: &Graph) -> bool {
        self.nodes == other.nodes
            && self.edges == other.edges
            && self.next_node == other.next_node
            && self.next_edge == other.next_edge
    }
}

/// Options for a new edge; `EdgeSpec::default()` is a trainable scalar weight
/// with `time_skip = 0` and an initialiser-chosen value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EdgeSpec {
    pub kind: EdgeKind,
    pub time_skip: u32,
    pub trainable: bool,
    pub weight: Option<f64>,
    /// Input port of the destination (gates of standard LSTM/GRU units).
    pub port: u8,
}

impl Default for EdgeSpec {
    fn default() -> Self {
        EdgeSpec { kind: EdgeKind::Weight, time_skip: 0, trainable: true, weight: None, port: 0 }
    }
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    // ---- queries -------------------------------------------------------

    pub fn node(&self, id: NodeId) -> Result<&Node> {
        self.nodes.get(&id).ok_or_else(|| Error::Graph(format!("unknown node id {}", id.0)))
    }

    pub fn edge(&self, id: EdgeId) -> Result<&Edge> {
        self.edges.get(&id).ok_or_else(|| Error::Graph(format!("unknown edge id {}", id.0)))
    }

    /// All nodes in id order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }

    /// All edges in id order.
    pub fn edges(&self) -> impl Iterator<Item = &Edge> {
        self.edges.values()
    }

    pub fn num_nodes(&self) -> usize {
        self.nodes.len()
    }

    pub fn num_edges(&self) -> usize {
        self.edges.len()
    }

    /// Nodes of one role, in id order (the order of input features / outputs).
    pub fn nodes_with_role(&self, role: Role) -> Vec<NodeId> {
        self.nodes.values().filter(|n| n.role == role).map(|n| n.id).collect()
    }

    pub fn inputs(&self) -> Vec<NodeId> {
        self.nodes_with_role(Role::Input)
    }

    pub fn outputs(&self) -> Vec<NodeId> {
        self.nodes_with_role(Role::Output)
    }

    /// The edge from `src` to `dst` with the given skip, if any (port 0).
    pub fn find_edge(&self, src: NodeId, dst: NodeId, time_skip: u32) -> Option<EdgeId> {
        self.find_edge_at(src, dst, time_skip, 0)
    }

    /// The edge from `src` into port `port` of `dst` with the given skip.
    pub fn find_edge_at(&self, src: NodeId, dst: NodeId, time_skip: u32, port: u8) -> Option<EdgeId> {
        self.pairs.get(&(src, dst, time_skip, port)).copied()
    }

    /// Enabled output nodes that no enabled edge from an enabled node
    /// feeds: whatever the inputs, they give their bias (or 0), which is
    /// almost always a graph built wrong (a compile warning in Python).
    pub fn unfed_outputs(&self) -> Vec<NodeId> {
        let enabled = |id: &NodeId| self.nodes.get(id).is_some_and(|n| n.enabled);
        let fed: HashSet<NodeId> =
            self.edges.values().filter(|e| e.enabled && enabled(&e.src)).map(|e| e.dst).collect();
        self.outputs().into_iter().filter(|id| enabled(id) && !fed.contains(id)).collect()
    }

    // ---- mutation ------------------------------------------------------

    /// Adds a node; `bias = None` uses the notes' default for the role.
    pub fn add_node(&mut self, role: Role, kind: NodeKind, bias: Option<bool>) -> Result<NodeId> {
        let id = NodeId(self.next_node);
        let node = Node {
            id,
            innovation: self.node_innovations.fresh(id.0).ok_or_else(exhausted)?,
            role,
            kind,
            bias: bias.unwrap_or(role.default_bias() && kind.cell().is_none()) && role != Role::Input,
            bias_value: None,
            enabled: true,
        };
        if role == Role::Input && bias == Some(true) {
            bail!(Graph, "input nodes carry no bias (they apply no activation)");
        }
        validate::check_node(&node)?;
        self.reserve_nodes(1)?;
        self.next_node += 1;
        self.node_innovations.insert(node.innovation, id).expect("a fresh innovation number is free");
        self.nodes.insert(id, node);
        Ok(id)
    }

    /// Adds `n` nodes alike (ids consecutive), after checking that they
    /// fit the id range and the memory budget: all or nothing.
    pub fn add_nodes(&mut self, n: usize, role: Role, kind: NodeKind, bias: Option<bool>) -> Result<Vec<NodeId>> {
        self.reserve_nodes(n)?;
        let mut ids = crate::limits::try_vec("the new nodes' ids", n, NodeId(0))?;
        for id in &mut ids {
            *id = self.add_node(role, kind, bias)?;
        }
        Ok(ids)
    }

    /// Checks that `n` more nodes fit the memory budget and the id range.
    pub fn reserve_nodes(&self, n: usize) -> Result<()> {
        reserve("nodes", n, self.nodes.len(), self.next_node, crate::limits::NODE_BYTES)?;
        self.node_innovations.reserve(self.next_node, n).ok_or_else(exhausted)
    }

    /// Checks that `n` more edges fit the memory budget and the id range.
    pub fn reserve_edges(&self, n: usize) -> Result<()> {
        reserve("edges", n, self.edges.len(), self.next_edge, crate::limits::EDGE_BYTES)?;
        self.edge_innovations.reserve(self.next_edge, n).ok_or_else(exhausted)
    }

    /// Sets a node's initial bias value (and turns its bias on).
    pub fn set_bias_value(&mut self, id: NodeId, value: f64) -> Result<()> {
        let node = self.nodes.get_mut(&id).ok_or_else(|| Error::Graph(format!("unknown node id {}", id.0)))?;
        if node.role == Role::Input {
            bail!(Graph, "{id} is an input node and carries no bias");
        }
        if node.kind.cell().is_some() {
            bail!(Graph, "{id} is a {} cell; its biases are its own parameters (set them by name)", node.kind.name());
        }
        if !value.is_finite() {
            bail!(Value, "{id}: bias value must be finite, got {value}");
        }
        node.bias = true;
        node.bias_value = Some(value);
        Ok(())
    }

    /// Connects `src` to `dst`. Fails (naming the nodes) if either is unknown,
    /// `dst` is an input, the edge already exists, or a `time_skip = 0` edge
    /// would close a cycle.
    pub fn add_edge(&mut self, src: NodeId, dst: NodeId, spec: EdgeSpec) -> Result<EdgeId> {
        self.reserve_edges(1)?;
        let edge = self.new_edge(src, dst, spec)?;
        if spec.time_skip == 0 && (src == dst || self.reaches_ff(dst, src)) {
            bail!(
                Graph,
                "edge {} -> {} with time_skip 0 would close a cycle (node {} already reaches node {}); \
                 give it time_skip >= 1 to make it recurrent",
                src.0,
                dst.0,
                dst.0,
                src.0
            );
        }
        Ok(self.insert_edge(edge))
    }

    /// Adds many edges at once, checking acyclicity once for the whole set
    /// (O(V + E) instead of a search per edge). All or nothing: on any
    /// error no edge is added.
    pub fn add_edges(&mut self, edges: &[(NodeId, NodeId, EdgeSpec)]) -> Result<Vec<EdgeId>> {
        self.reserve_edges(edges.len())?;
        let mut fresh = HashSet::with_capacity(edges.len());
        for &(src, dst, spec) in edges {
            self.new_edge(src, dst, spec)?;
            if !fresh.insert((src, dst, spec.time_skip, spec.port)) {
                bail!(
                    Graph,
                    "duplicate edge: node {} -> node {} (port {}) with time_skip {} is listed twice",
                    src.0,
                    dst.0,
                    spec.port,
                    spec.time_skip
                );
            }
        }
        let mut ids = Vec::with_capacity(edges.len());
        for &(src, dst, spec) in edges {
            let edge = self.new_edge(src, dst, spec)?;
            ids.push(self.insert_edge(edge));
        }
        if edges.iter().any(|e| e.2.time_skip == 0) {
            if let Err(e) = validate::check_acyclic(self) {
                for &id in &ids {
                    self.remove_edge(id)?;
                }
                self.next_edge -= ids.len() as u32;
                return Err(e);
            }
        }
        Ok(ids)
    }

    /// Builds (but does not insert) an edge after the checks every edge
    /// needs: known nodes, no edge into an input, no duplicate, finite weight.
    fn new_edge(&self, src: NodeId, dst: NodeId, spec: EdgeSpec) -> Result<Edge> {
        self.node(src)?;
        let d = self.node(dst)?;
        if d.role == Role::Input {
            bail!(Graph, "edge {} -> {}: {} is an input node and cannot have incoming edges", src.0, dst.0, dst);
        }
        if let Some(e) = self.find_edge_at(src, dst, spec.time_skip, spec.port) {
            bail!(
                Graph,
                "duplicate edge: {} already connects node {} -> node {} (port {}) with time_skip {}",
                e,
                src.0,
                dst.0,
                spec.port,
                spec.time_skip
            );
        }
        let edge = Edge {
            id: EdgeId(self.next_edge),
            innovation: UNSET, // numbered on insertion
            src,
            dst,
            kind: spec.kind,
            time_skip: spec.time_skip,
            // Identity and pool edges carry no parameter.
            trainable: spec.trainable && !matches!(spec.kind, EdgeKind::Identity | EdgeKind::Pool { .. }),
            weight: spec.weight,
            enabled: true,
            port: spec.port,
        };
        validate::check_edge_value(&edge)?;
        validate::check_port(&edge, d)?;
        Ok(edge)
    }

    fn insert_edge(&mut self, mut edge: Edge) -> EdgeId {
        edge.id = EdgeId(self.next_edge);
        edge.innovation = self.edge_innovations.fresh(edge.id.0).expect("numbers checked by reserve_edges");
        self.next_edge += 1;
        self.edge_innovations.insert(edge.innovation, edge.id).expect("a fresh innovation number is free");
        self.index_edge(&edge);
        let id = edge.id;
        self.edges.insert(id, edge);
        id
    }

    fn index_edge(&mut self, edge: &Edge) {
        self.pairs.insert((edge.src, edge.dst, edge.time_skip, edge.port), edge.id);
        if edge.time_skip == 0 {
            self.ff_out.entry(edge.src).or_default().insert(edge.dst);
        }
    }

    /// Sets an edge's initial (or, if fixed, permanent) weight.
    pub fn set_edge_weight(&mut self, id: EdgeId, weight: f64) -> Result<()> {
        let edge = self.edges.get_mut(&id).ok_or_else(|| Error::Graph(format!("unknown edge id {}", id.0)))?;
        let mut changed = edge.clone();
        changed.weight = Some(weight);
        validate::check_edge_value(&changed)?;
        edge.weight = Some(weight);
        Ok(())
    }

    /// Removes an edge.
    pub fn remove_edge(&mut self, id: EdgeId) -> Result<Edge> {
        let edge = self.edges.remove(&id).ok_or_else(|| Error::Graph(format!("unknown edge id {}", id.0)))?;
        self.edge_innovations.remove(edge.innovation);
        self.pairs.remove(&(edge.src, edge.dst, edge.time_skip, edge.port));
        if edge.time_skip == 0 {
            if let Some(next) = self.ff_out.get_mut(&edge.src) {
                next.remove(&edge.dst);
            }
        }
        Ok(edge)
    }

    /// Removes a node and every edge touching it.
    pub fn remove_node(&mut self, id: NodeId) -> Result<Node> {
        let node = self.nodes.remove(&id).ok_or_else(|| Error::Graph(format!("unknown node id {}", id.0)))?;
        self.node_innovations.remove(node.innovation);
        let incident: Vec<EdgeId> = self.edges.values().filter(|e| e.src == id || e.dst == id).map(|e| e.id).collect();
        for e in incident {
            self.remove_edge(e)?;
        }
        self.ff_out.remove(&id);
        Ok(node)
    }

    /// Splits an edge src -> dst into src -> new -> dst through a new hidden
    /// node with the given kind and no bias. The first edge keeps the
    /// original's kind, skip, trainability and weight; the second is a
    /// feed-forward trainable weight of 1, so with an identity activation
    /// the network computes the same function as before the split.
    pub fn split_edge(&mut self, id: EdgeId, kind: NodeKind) -> Result<(NodeId, EdgeId, EdgeId)> {
        let old = self.edge(id)?.clone();
        // A scalar node between two maps (or after one) would not fit.
        if !matches!(old.kind, EdgeKind::Weight | EdgeKind::Identity)
            || self.node(old.src)?.kind.map_shape().is_some()
            || self.node(old.dst)?.kind.map_shape().is_some()
        {
            bail!(
                Graph,
                "{id} touches a feature map ({} edge); only edges between scalar nodes can be split",
                old.kind.name()
            );
        }
        let mid = self.add_node(Role::Hidden, kind, Some(false))?;
        self.remove_edge(id)?;
        let first = self.add_edge(
            old.src,
            mid,
            EdgeSpec {
                kind: old.kind,
                time_skip: old.time_skip,
                trainable: old.trainable,
                weight: old.weight,
                port: 0,
            },
        )?;
        let second =
            self.add_edge(mid, old.dst, EdgeSpec { weight: Some(1.0), port: old.port, ..EdgeSpec::default() })?;
        Ok((mid, first, second))
    }

    pub fn set_node_enabled(&mut self, id: NodeId, enabled: bool) -> Result<()> {
        let node = self.nodes.get_mut(&id).ok_or_else(|| Error::Graph(format!("unknown node id {}", id.0)))?;
        if node.role != Role::Hidden && !enabled {
            bail!(Graph, "{id} is an {:?} node; only hidden nodes can be disabled", node.role);
        }
        node.enabled = enabled;
        Ok(())
    }

    /// Enables or disables an edge. Re-enabling a feed-forward edge is
    /// refused if it would close a cycle among the enabled edges.
    pub fn set_edge_enabled(&mut self, id: EdgeId, enabled: bool) -> Result<()> {
        let edge = self.edge(id)?.clone();
        if enabled && !edge.enabled && edge.time_skip == 0 && self.reaches_ff(edge.dst, edge.src) {
            bail!(Graph, "enabling {id} ({} -> {}) would close a cycle", edge.src.0, edge.dst.0);
        }
        if let Some(e) = self.edges.get_mut(&id) {
            e.enabled = enabled;
        }
        Ok(())
    }

    /// Whether `from` reaches `to` through feed-forward edges (disabled
    /// edges included: they may be re-enabled later).
    fn reaches_ff(&self, from: NodeId, to: NodeId) -> bool {
        let mut stack = vec![from];
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n) {
                if let Some(next) = self.ff_out.get(&n) {
                    stack.extend(next.iter().copied());
                }
            }
        }
        false
    }

    /// Checks every invariant; graphs built through the mutation API always
    /// pass, graphs from JSON may not.
    pub fn validate(&self) -> Result<()> {
        validate::validate(self)
    }

    pub(crate) fn from_parts(nodes: Vec<Node>, edges: Vec<Edge>, next_node: u32, next_edge: u32) -> Result<Graph> {
        let mut g = Graph { next_node, next_edge, ..Graph::default() };
        for mut n in nodes {
            if n.id.0 >= next_node {
                bail!(Format, "{} is not below next_node_id {next_node}", n.id);
            }
            if n.innovation == UNSET {
                n.innovation = u64::from(n.id.0);
            }
            if g.nodes.contains_key(&n.id) {
                bail!(Graph, "node id {} appears twice", n.id.0);
            }
            if let Err(other) = g.node_innovations.insert(n.innovation, n.id) {
                bail!(Graph, "{other} and {} both have innovation number {}", n.id, n.innovation);
            }
            g.nodes.insert(n.id, n);
        }
        for mut e in edges {
            if e.id.0 >= next_edge {
                bail!(Format, "{} is not below next_edge_id {next_edge}", e.id);
            }
            if let Some(&other) = g.pairs.get(&(e.src, e.dst, e.time_skip, e.port)) {
                bail!(
                    Graph,
                    "duplicate edge: {} and {} both connect node {} -> node {} with time_skip {}",
                    other,
                    e.id,
                    e.src.0,
                    e.dst.0,
                    e.time_skip
                );
            }
            if g.edges.contains_key(&e.id) {
                bail!(Graph, "edge id {} appears twice", e.id.0);
            }
            if e.innovation == UNSET {
                e.innovation = u64::from(e.id.0);
            }
            if let Err(other) = g.edge_innovations.insert(e.innovation, e.id) {
                bail!(Graph, "{other} and {} both have innovation number {}", e.id, e.innovation);
            }
            g.index_edge(&e);
            g.edges.insert(e.id, e);
        }
        g.validate()?;
        Ok(g)
    }

    pub(crate) fn next_ids(&self) -> (u32, u32) {
        (self.next_node, self.next_edge)
    }
}

fn exhausted() -> Error {
    Error::Unsupported("innovation numbers ran out (the largest is 2^64 - 2)".into())
}

/// `n` more `what` (nodes or edges) beside `have`, whose next id is
/// `next_id`: within the memory budget at `each` bytes apiece (the error
/// names the bytes), and within the 32-bit ids.
fn reserve(what: &str, n: usize, have: usize, next_id: u32, each: usize) -> Result<()> {
    let total = have.saturating_add(n);
    crate::limits::values(format_args!("adding {n} {what} to a graph of {have}"), &[total], each)?;
    if (next_id as u64).saturating_add(n as u64) > u32::MAX as u64 {
        bail!(Unsupported, "adding {n} {what} to a graph whose next id is {next_id}: ids are 32-bit");
    }
    Ok(())
}
