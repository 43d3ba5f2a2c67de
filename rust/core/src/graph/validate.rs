//! Graph validation and topological levels. Every error names the node or
//! edge at fault.

use super::{Activation, Edge, EdgeKind, Graph, Node, NodeId, NodeKind, Role};
use crate::bail;
use crate::error::Result;
use std::collections::BTreeMap;

pub(super) fn check_node(node: &Node) -> Result<()> {
    if let NodeKind::FeatureMap { channels, height, width, .. } = node.kind {
        if channels == 0 || height == 0 || width == 0 {
            bail!(Shape, "{}: feature map sizes must be positive, got {channels}×{height}×{width}", node.id);
        }
        // u32 sizes: the product fits in u128, never wraps.
        let cells = channels as u128 * height as u128 * width as u128;
        if cells > crate::limits::MAX_ROWS as u128 {
            bail!(
                Shape,
                "{}: a feature map of {channels}×{height}×{width} = {cells} values ({} bytes per sample in float32) \
                 is larger than the {} values a map may hold",
                node.id,
                cells * 4,
                crate::limits::MAX_ROWS
            );
        }
    }
    if let NodeKind::Simple { activation } | NodeKind::FeatureMap { activation, .. } = node.kind {
        match activation {
            Activation::Relu6 { cap } if !(cap.is_finite() && cap > 0.0) => {
                bail!(Graph, "{}: relu6 cap must be a positive number, got {cap}", node.id)
            }
            Activation::LeakyRelu { slope } if !(slope.is_finite() && slope >= 0.0) => {
                bail!(Graph, "{}: leaky_relu slope must be >= 0, got {slope}", node.id)
            }
            _ => {}
        }
    }
    if node.bias && node.kind.cell().is_some() {
        bail!(
            Graph,
            "{} is a {} cell and cannot take a node bias: memory cells carry their own bias parameters",
            node.id,
            node.kind.name()
        );
    }
    if let Some(b) = node.bias_value {
        if !b.is_finite() {
            bail!(Value, "{}: bias value must be finite, got {b}", node.id);
        }
    }
    Ok(())
}

pub(super) fn check_edge_value(edge: &Edge) -> Result<()> {
    if let Some(w) = edge.weight {
        if !w.is_finite() {
            bail!(Value, "{}: weight must be finite, got {w}", edge.id);
        }
    }
    if edge.kind == EdgeKind::Identity && edge.weight.is_some_and(|w| w != 1.0) {
        bail!(Graph, "{}: identity edges have weight 1", edge.id);
    }
    if matches!(edge.kind, EdgeKind::Filter { .. } | EdgeKind::Pool { .. }) && edge.weight.is_some() {
        bail!(Graph, "{}: {} edges have no single weight value", edge.id, edge.kind.name());
    }
    Ok(())
}

/// The port must exist on the destination node.
pub(super) fn check_port(edge: &Edge, dst: &Node) -> Result<()> {
    let n = dst.kind.n_ports();
    if usize::from(edge.port) >= n {
        let names = dst.kind.cell().map_or("0".to_string(), |c| {
            c.ports().iter().enumerate().map(|(i, p)| format!("{i} ({p})")).collect::<Vec<_>>().join(", ")
        });
        bail!(
            Graph,
            "{} ({} -> {}) feeds port {} but {} is a {} node with ports {names}",
            edge.id,
            edge.src.0,
            edge.dst.0,
            edge.port,
            dst.id,
            dst.kind.name()
        );
    }
    Ok(())
}

pub(super) fn validate(g: &Graph) -> Result<()> {
    for n in g.nodes() {
        check_node(n)?;
        if n.role == Role::Input && n.bias {
            bail!(Graph, "{}: input nodes carry no bias", n.id);
        }
        if n.role != Role::Hidden && !n.enabled {
            bail!(Graph, "{}: only hidden nodes can be disabled", n.id);
        }
    }
    for e in g.edges() {
        check_edge_value(e)?;
        let src_known = g.node(e.src).is_ok();
        let dst = g.node(e.dst);
        if !src_known {
            bail!(Graph, "{} refers to unknown source node id {}", e.id, e.src.0);
        }
        let dst = match dst {
            Ok(d) => d,
            Err(_) => bail!(Graph, "{} refers to unknown destination node id {}", e.id, e.dst.0),
        };
        if dst.role == Role::Input {
            bail!(Graph, "{} ({} -> {}) points into input node {}", e.id, e.src.0, e.dst.0, e.dst.0);
        }
        check_port(e, dst)?;
    }
    check_acyclic(g)
}

/// All feed-forward edges, enabled or not, must form a DAG (disabled parts
/// may be re-enabled at any time).
pub(super) fn check_acyclic(g: &Graph) -> Result<()> {
    levels_of(g, true).map(|_| ())
}

/// Topological levels over the enabled nodes and enabled `time_skip = 0`
/// edges: inputs are level 0, every other node is one more than the deepest
/// of its feed-forward predecessors (at least 1). Fails naming a cycle.
pub fn topological_levels(g: &Graph) -> Result<BTreeMap<NodeId, usize>> {
    levels_of(g, false)
}

/// Levels over the enabled part of the graph, or over all of it when
/// `include_disabled`.
fn levels_of(g: &Graph, include_disabled: bool) -> Result<BTreeMap<NodeId, usize>> {
    let live = |id: NodeId| g.node(id).map(|n| n.enabled || include_disabled).unwrap_or(false);
    let mut indeg: BTreeMap<NodeId, usize> =
        g.nodes().filter(|n| n.enabled || include_disabled).map(|n| (n.id, 0)).collect();
    let mut succ: BTreeMap<NodeId, Vec<NodeId>> = BTreeMap::new();
    for e in g.edges().filter(|e| e.time_skip == 0 && (e.enabled || include_disabled) && live(e.src) && live(e.dst)) {
        *indeg.get_mut(&e.dst).expect("live node") += 1;
        succ.entry(e.src).or_default().push(e.dst);
    }
    let mut level: BTreeMap<NodeId, usize> = BTreeMap::new();
    let mut ready: Vec<NodeId> = indeg.iter().filter(|(_, &d)| d == 0).map(|(&n, _)| n).collect();
    for &n in &ready {
        let role = g.node(n)?.role;
        level.insert(n, if role == Role::Input { 0 } else { 1 });
    }
    let mut remaining = indeg.clone();
    while let Some(n) = ready.pop() {
        let ln = level[&n];
        if let Some(next) = succ.get(&n) {
            for &m in next {
                let lm = level.entry(m).or_insert(1);
                *lm = (*lm).max(ln + 1);
                let d = remaining.get_mut(&m).expect("live node");
                *d -= 1;
                if *d == 0 {
                    ready.push(m);
                }
            }
        }
    }
    if let Some((&stuck, _)) = remaining.iter().find(|(_, &d)| d > 0) {
        let cycle = find_cycle(&succ, &remaining, stuck);
        let path: Vec<String> = cycle.iter().map(|n| n.0.to_string()).collect();
        bail!(
            Graph,
            "cycle among time_skip = 0 edges through nodes {}; a loop needs at least one recurrent edge (time_skip >= 1)",
            path.join(" -> ")
        );
    }
    Ok(level)
}

/// Walks successors among the nodes left with positive in-degree until a node
/// repeats; returns that cycle.
fn find_cycle(succ: &BTreeMap<NodeId, Vec<NodeId>>, remaining: &BTreeMap<NodeId, usize>, start: NodeId) -> Vec<NodeId> {
    let mut path = vec![start];
    let mut pos: BTreeMap<NodeId, usize> = BTreeMap::from([(start, 0)]);
    let mut cur = start;
    loop {
        let next = succ.get(&cur).and_then(|v| v.iter().copied().find(|m| remaining.get(m).is_some_and(|&d| d > 0)));
        let Some(next) = next else { return path };
        if let Some(&i) = pos.get(&next) {
            let mut cycle = path[i..].to_vec();
            cycle.push(next);
            return cycle;
        }
        pos.insert(next, path.len());
        path.push(next);
        cur = next;
    }
}
