//! Seeded random graphs: a random DAG of feed-forward edges (layer skips
//! included) plus recurrent edges of random skips — self loops, backward and
//! forward in depth. Used by the engine's property tests, the sparse
//! benchmarks, and as seeds for evolution.

use super::{Activation, CellKind, EdgeKind, EdgeSpec, Graph, NodeId, NodeKind, Role};
use crate::bail;
use crate::error::Result;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct RandomGraphSpec {
    pub inputs: usize,
    pub hidden: usize,
    pub outputs: usize,
    /// Probability of each possible feed-forward edge (i -> j, i before j).
    pub density: f64,
    /// Number of recurrent edges to add (duplicates are skipped).
    pub recurrent: usize,
    /// Recurrent skips are drawn from 1..=max_skip.
    pub max_skip: u32,
    /// Hidden and output activations are drawn from this list.
    pub activations: Vec<Activation>,
    /// Probability that a hidden / output node has a bias.
    pub bias_probability: f64,
    /// Probability that a feed-forward edge is fixed (or identity).
    pub fixed_probability: f64,
    /// Probability that a hidden node is a memory cell (of a kind drawn
    /// from `cells`) instead of a simple node.
    pub cell_probability: f64,
    pub cells: Vec<CellKind>,
    pub seed: u64,
}

impl Default for RandomGraphSpec {
    fn default() -> Self {
        RandomGraphSpec {
            inputs: 3,
            hidden: 8,
            outputs: 2,
            density: 0.3,
            recurrent: 0,
            max_skip: 1,
            activations: vec![Activation::Tanh],
            bias_probability: 0.5,
            fixed_probability: 0.0,
            cell_probability: 0.0,
            cells: CellKind::ALL.to_vec(),
            seed: 0,
        }
    }
}

/// The most candidate feed-forward edges a random graph draws (one random
/// number each): ~2^32 draws take seconds, so a graph of about 92,000 nodes.
pub const MAX_CANDIDATE_EDGES: u128 = 1 << 32;

/// Refuses, before anything is drawn, a spec whose nodes or recurrent edges
/// do not fit the memory budget or whose candidate edges would take hours.
fn check_size(g: &Graph, spec: &RandomGraphSpec) -> Result<()> {
    let nodes = spec.inputs as u128 + spec.hidden as u128 + spec.outputs as u128;
    g.reserve_nodes(usize::try_from(nodes).unwrap_or(usize::MAX))?;
    g.reserve_edges(spec.recurrent)?;
    let candidates = nodes * (nodes - 1) / 2;
    if candidates > MAX_CANDIDATE_EDGES {
        bail!(
            Unsupported,
            "a random graph of {nodes} nodes draws {candidates} candidate edges, more than {MAX_CANDIDATE_EDGES}: \
             build a graph this large with Graph calls instead"
        );
    }
    Ok(())
}

/// Builds the graph. Every hidden and output node gets at least one
/// incoming feed-forward edge, so every node depends on the inputs.
pub fn random_graph(spec: &RandomGraphSpec) -> Result<Graph> {
    if spec.inputs == 0 || spec.outputs == 0 {
        bail!(
            Config,
            "a random graph needs at least one input and one output (got {} and {})",
            spec.inputs,
            spec.outputs
        );
    }
    for (name, p) in [
        ("density", spec.density),
        ("bias_probability", spec.bias_probability),
        ("fixed_probability", spec.fixed_probability),
        ("cell_probability", spec.cell_probability),
    ] {
        if !(0.0..=1.0).contains(&p) {
            bail!(Config, "{name} must be a probability in [0, 1], got {p}");
        }
    }
    if spec.max_skip == 0 && spec.recurrent > 0 {
        bail!(Config, "max_skip must be at least 1 when recurrent edges are asked for");
    }
    if spec.activations.is_empty() {
        bail!(Config, "activations must name at least one activation");
    }
    let mut g = Graph::new();
    check_size(&g, spec)?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let acts = &spec.activations;
    let pick_act = |rng: &mut ChaCha8Rng| acts[rng.random_range(0..acts.len())];
    let mut order: Vec<NodeId> = Vec::new();
    for _ in 0..spec.inputs {
        order.push(g.add_node(Role::Input, NodeKind::simple(Activation::Identity), None)?);
    }
    let n_in = order.len();
    for _ in 0..spec.hidden {
        let act = pick_act(&mut rng);
        let bias = rng.random_bool(spec.bias_probability);
        let cell = (spec.cell_probability > 0.0 && !spec.cells.is_empty() && rng.random_bool(spec.cell_probability))
            .then(|| spec.cells[rng.random_range(0..spec.cells.len())]);
        order.push(match cell {
            Some(c) => g.add_node(Role::Hidden, NodeKind::Cell(c), Some(false))?,
            None => g.add_node(Role::Hidden, NodeKind::simple(act), Some(bias))?,
        });
    }
    for _ in 0..spec.outputs {
        let act = pick_act(&mut rng);
        let bias = rng.random_bool(spec.bias_probability);
        order.push(g.add_node(Role::Output, NodeKind::simple(act), Some(bias))?);
    }
    let fixed_p = spec.fixed_probability;
    // Edges into a standard unit feed one of its gates, drawn at random.
    let port_of = |g: &Graph, dst: NodeId, rng: &mut ChaCha8Rng| -> Result<u8> {
        let n = g.node(dst)?.kind.n_ports();
        Ok(if n > 1 { rng.random_range(0..n) as u8 } else { 0 })
    };
    let ff_spec = |rng: &mut ChaCha8Rng| {
        if rng.random_bool(fixed_p) {
            if rng.random_bool(0.5) {
                EdgeSpec { kind: EdgeKind::Identity, trainable: false, ..EdgeSpec::default() }
            } else {
                EdgeSpec { trainable: false, weight: Some(rng.random_range(-1.0..1.0)), ..EdgeSpec::default() }
            }
        } else {
            EdgeSpec::default()
        }
    };
    for j in n_in..order.len() {
        let mut any = false;
        for i in 0..j {
            // Outputs do not feed each other in the feed-forward part.
            if i >= n_in + spec.hidden {
                continue;
            }
            if rng.random_bool(spec.density) {
                let s = ff_spec(&mut rng);
                let port = port_of(&g, order[j], &mut rng)?;
                g.add_edge(order[i], order[j], EdgeSpec { port, ..s })?;
                any = true;
            }
        }
        if !any {
            let i = rng.random_range(0..j.min(n_in + spec.hidden));
            let port = port_of(&g, order[j], &mut rng)?;
            g.add_edge(order[i], order[j], EdgeSpec { port, ..EdgeSpec::default() })?;
        }
    }
    let non_inputs = order.len() - n_in;
    for _ in 0..spec.recurrent {
        if non_inputs == 0 {
            break;
        }
        let src = order[rng.random_range(0..order.len())];
        let dst = order[n_in + rng.random_range(0..non_inputs)];
        let skip = rng.random_range(1..=spec.max_skip);
        let port = port_of(&g, dst, &mut rng)?;
        if g.find_edge_at(src, dst, skip, port).is_none() {
            g.add_edge(src, dst, EdgeSpec { time_skip: skip, port, ..EdgeSpec::default() })?;
        }
    }
    Ok(g)
}
