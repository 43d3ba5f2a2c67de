//! Levels and blocks: groups the enabled edges into each level by source
//! level and time skip, decides dense vs sparse, and lays out parameters.

use super::layout::Layout;
use super::maps::{self, ConvBlock, PoolBlock};
use super::params::{ParamInfo, ParamKind};
use super::PlanOptions;
use crate::bail;
use crate::error::Result;
use crate::graph::{Activation, CellKind, Edge, EdgeKind, Graph, NodeId, NodeKind};
use std::collections::BTreeMap;
use std::ops::Range;

/// How a block stores and applies its weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// Every (dst, src) pair present: the parameters are the row-major
    /// `n_dst × n_src` matrix itself.
    Dense,
    /// Dense GEMM over a zero-filled matrix; only present edges are
    /// parameters (row-major order, `cols` gives each one's column).
    MaskedDense,
    /// CSR: `cols` holds absolute source rows; each entry is an axpy.
    Sparse,
}

/// The edges into one level from one group of sources at one time skip.
#[derive(Clone, Debug)]
pub struct Block {
    pub kind: BlockKind,
    /// 0: same time step; d ≥ 1: reads the sources at t − d.
    pub skip: usize,
    /// The rows it writes: its level's value rows, or its level's port rows.
    pub dst: Range<usize>,
    /// Dense kinds: the source level's rows. Sparse: empty.
    pub src_rows: Range<usize>,
    /// Entries of destination row i are `row_ptr[i]..row_ptr[i+1]`.
    pub row_ptr: Vec<usize>,
    /// See [`BlockKind`]; empty for `Dense`.
    pub cols: Vec<u32>,
    /// This block's slice of the flat parameter buffer.
    pub params: Range<usize>,
}

impl Block {
    pub fn n_src(&self) -> usize {
        self.src_rows.len()
    }
    pub fn is_dense(&self) -> bool {
        self.kind != BlockKind::Sparse
    }
}

/// Memory cells of one kind in one level: contiguous value rows, their
/// input ports (port-major: port p of the group's cell j is row
/// `ports.start + p·n + j`, so at batch size 1 each port is one vector),
/// their states (one row per cell for kinds with a state) and their own
/// parameters (cell-major).
#[derive(Clone, Debug)]
pub struct CellGroup {
    pub kind: CellKind,
    pub rows: Range<usize>,
    pub ports: Range<usize>,
    pub states: Range<usize>,
    pub params: Range<usize>,
}

/// One topological level: a contiguous range of value rows computed
/// together — simple nodes first, then memory cells grouped by kind — plus
/// the port and state rows of its cells (after all value rows of the plan).
#[derive(Clone, Debug)]
pub struct Level {
    pub rows: Range<usize>,
    /// Rows `rows.start..rows.start + n_simple` are simple nodes.
    pub n_simple: usize,
    /// Activation of each row (identity for inputs and cells).
    pub acts: Vec<Activation>,
    /// Bias parameter of each value row, then of each port row.
    pub bias: Vec<Option<usize>>,
    pub bias_params: Range<usize>,
    pub ports: Range<usize>,
    pub states: Range<usize>,
    pub cells: Vec<CellGroup>,
    pub blocks: Vec<Block>,
    /// Filter edges into this level's feature maps, as convolutions.
    pub convs: Vec<ConvBlock>,
    /// Pool edges into this level's feature maps.
    pub pools: Vec<PoolBlock>,
}

impl Level {
    /// Absolute row of entry k of `bias` (value rows, then port rows).
    pub fn bias_row(&self, k: usize) -> usize {
        if k < self.rows.len() {
            self.rows.start + k
        } else {
            self.ports.start + k - self.rows.len()
        }
    }
}

type Built = (Vec<Level>, Vec<ParamInfo>, usize, usize);

pub(super) fn build(graph: &Graph, by_level: &[Vec<NodeId>], layout: &Layout, options: PlanOptions) -> Result<Built> {
    let row_of = &layout.row_of;
    let live: Vec<&Edge> =
        graph.edges().filter(|e| e.enabled && row_of.contains_key(&e.src) && row_of.contains_key(&e.dst)).collect();
    // Fans per destination port (each gate of a unit is its own neuron).
    let mut fan_in: BTreeMap<(NodeId, u8), u32> = BTreeMap::new();
    let mut fan_out: BTreeMap<NodeId, u32> = BTreeMap::new();
    for e in &live {
        // A flattening edge brings every value of its map.
        let n = if e.kind == EdgeKind::Weight { graph.node(e.src)?.kind.size() as u32 } else { 1 };
        *fan_in.entry((e.dst, e.port)).or_default() += n;
        *fan_out.entry(e.src).or_default() += 1;
    }
    let level_ranges = &layout.level_rows;
    let level_of_row = |row: usize| level_ranges.iter().position(|r| r.contains(&row)).expect("row in level");
    // The row an edge writes: a simple node's value row, or a cell's port.
    let target = |e: &Edge| match layout.port_of.get(&e.dst) {
        Some(&(first, stride)) => (true, first + e.port as usize * stride),
        None => (false, row_of[&e.dst]),
    };
    // Filter and pool edges become convolutions and poolings; weight and
    // identity edges the entries of dense or sparse blocks.
    let mut into: Vec<Vec<&Edge>> = vec![Vec::new(); by_level.len()];
    let mut map_edges: Vec<Vec<&Edge>> = vec![Vec::new(); by_level.len()];
    for e in &live {
        let l = level_of_row(row_of[&e.dst]);
        match e.kind {
            EdgeKind::Filter { .. } | EdgeKind::Pool { .. } => map_edges[l].push(e),
            _ => into[l].push(e),
        }
    }
    // Entries of an edge: (dst offset, src offset) pairs — one for scalars,
    // C·H·W for a flattening weight edge or an identity between maps.
    let entries = |e: &Edge| -> Result<Vec<(usize, usize)>> {
        let (src, dst) = (graph.node(e.src)?.kind.size(), graph.node(e.dst)?.kind.size());
        Ok(match (e.kind, src, dst) {
            (_, 1, 1) => vec![(0, 0)],
            (EdgeKind::Weight, n, 1) => (0..n).map(|k| (0, k)).collect(),
            (EdgeKind::Identity, n, m) if n == m => (0..n).map(|k| (k, k)).collect(),
            _ => bail!(
                Unsupported,
                "{}: a {} edge from {} ({} values) to {} ({} values); maps feed maps through filter, pool or \
                 identity edges and scalar nodes through weight edges",
                e.id,
                e.kind.name(),
                e.src,
                src,
                e.dst,
                dst
            ),
        })
    };

    let mut params: Vec<ParamInfo> = Vec::new();
    let mut levels = Vec::with_capacity(by_level.len());
    let mut max_skip = 0usize;
    let mut has_cells = false;
    for (l, nodes) in by_level.iter().enumerate() {
        let rows = level_ranges[l].clone();
        let (ports, states) = (layout.level_ports[l].clone(), layout.level_states[l].clone());
        let mut acts = Vec::with_capacity(nodes.len());
        let mut bias = Vec::with_capacity(nodes.len() + ports.len());
        let bias_start = params.len();
        let mut n_simple = 0;
        for &id in nodes {
            let node = graph.node(id)?;
            let fans = (fan_in.get(&(id, 0)).copied().unwrap_or(0), fan_out.get(&id).copied().unwrap_or(0));
            let act = match node.kind {
                NodeKind::Simple { activation } | NodeKind::FeatureMap { activation, .. } if l > 0 => activation,
                _ => Activation::Identity,
            };
            if let NodeKind::FeatureMap { channels, untied_bias, .. } = node.kind {
                let size = node.kind.size();
                acts.extend(std::iter::repeat_n(act, size));
                n_simple += size;
                if !(node.bias && l > 0) {
                    bias.extend(std::iter::repeat_n(None, size));
                    continue;
                }
                // Untied: one bias per value; tied: one per channel.
                let n = if untied_bias { size } else { channels as usize };
                let first = params.len();
                for k in 0..n {
                    params.push(ParamInfo::bias(format!("node:{}:bias[{k}]", id.0), id, node.bias_value, fans));
                }
                let per = size / n;
                bias.extend((0..size).map(|r| Some(first + r / per)));
                continue;
            }
            acts.push(act);
            if node.kind.cell().is_none() {
                n_simple += 1;
            } else if node.bias {
                bail!(
                    Graph,
                    "{} is a {} cell with bias=true; memory cells carry their own biases (add it with bias=false)",
                    id,
                    node.kind.name()
                );
            }
            bias.push((node.bias && l > 0).then(|| {
                params.push(ParamInfo::bias(format!("node:{}:bias", id.0), id, node.bias_value, fans));
                params.len() - 1
            }));
        }
        // Port biases (the gates of standard units: torch's b_ih + b_hh), in
        // port-row order: group by group, port-major.
        let mut cell_nodes: Vec<(CellKind, NodeId)> = Vec::new();
        for &id in nodes {
            if let Some(kind) = graph.node(id)?.kind.cell() {
                cell_nodes.push((kind, id));
            }
        }
        for run in cell_nodes.chunk_by(|a, b| a.0 == b.0) {
            let cell = run[0].0;
            for (p, port) in cell.ports().iter().enumerate() {
                for &(_, id) in run {
                    bias.push(cell.is_unit().then(|| {
                        let fans =
                            (fan_in.get(&(id, p as u8)).copied().unwrap_or(0), fan_out.get(&id).copied().unwrap_or(0));
                        let name = format!("node:{}:bias.{port}", id.0);
                        params.push(ParamInfo::bias(name, id, cell.port_bias_preset(p), fans));
                        params.len() - 1
                    }));
                }
            }
        }
        let bias_params = bias_start..params.len();

        // Group the edges into this level by (target region, skip, source level).
        let mut groups: BTreeMap<(bool, usize, usize), Vec<&Edge>> = BTreeMap::new();
        for &e in &into[l] {
            max_skip = max_skip.max(e.time_skip as usize);
            groups.entry((target(e).0, e.time_skip as usize, level_of_row(row_of[&e.src]))).or_default().push(e);
        }
        let mut blocks = Vec::new();
        let mut sparse: BTreeMap<(bool, usize), Vec<&Edge>> = BTreeMap::new();
        for ((to_ports, skip, src_level), edges) in groups {
            let dst = if to_ports { ports.clone() } else { rows.clone() };
            let (n_dst, n_src) = (dst.len(), level_ranges[src_level].len());
            let mut n_entries = 0;
            for e in &edges {
                n_entries += entries(e)?.len();
            }
            let dense = n_entries >= options.dense_min_edges
                && n_entries as f64 >= options.dense_min_density * (n_dst * n_src) as f64;
            if !dense {
                sparse.entry((to_ports, skip)).or_default().extend(edges);
                continue;
            }
            let src_rows = level_ranges[src_level].clone();
            let mut cells: Vec<(usize, usize, &Edge, Option<usize>)> = Vec::with_capacity(n_entries);
            for e in &edges {
                let en = entries(e)?;
                let multi = en.len() > 1;
                for (k, (i, j)) in en.into_iter().enumerate() {
                    cells.push((
                        target(e).1 + i - dst.start,
                        row_of[&e.src] + j - src_rows.start,
                        *e,
                        multi.then_some(k),
                    ));
                }
            }
            cells.sort_by_key(|&(i, j, _, _)| (i, j));
            let complete = cells.len() == n_dst * n_src;
            let row_ptr = row_pointers(n_dst, cells.iter().map(|c| c.0));
            let cols = if complete { Vec::new() } else { cells.iter().map(|&(_, j, _, _)| j as u32).collect() };
            let start = params.len();
            params.extend(cells.iter().map(|&(_, _, e, k)| edge_param(e, k, &fan_in, &fan_out)));
            blocks.push(Block {
                kind: if complete { BlockKind::Dense } else { BlockKind::MaskedDense },
                skip,
                dst,
                src_rows,
                row_ptr,
                cols,
                params: start..params.len(),
            });
        }
        for ((to_ports, skip), edges) in sparse {
            let dst = if to_ports { ports.clone() } else { rows.clone() };
            let mut cells: Vec<(usize, usize, &Edge, Option<usize>)> = Vec::new();
            for e in &edges {
                let en = entries(e)?;
                let multi = en.len() > 1;
                for (k, (i, j)) in en.into_iter().enumerate() {
                    cells.push((target(e).1 + i - dst.start, row_of[&e.src] + j, *e, multi.then_some(k)));
                }
            }
            cells.sort_by_key(|&(i, src, _, _)| (i, src));
            let row_ptr = row_pointers(dst.len(), cells.iter().map(|c| c.0));
            let start = params.len();
            params.extend(cells.iter().map(|&(_, _, e, k)| edge_param(e, k, &fan_in, &fan_out)));
            blocks.push(Block {
                kind: BlockKind::Sparse,
                skip,
                dst,
                src_rows: 0..0,
                row_ptr,
                cols: cells.iter().map(|&(_, src, _, _)| src as u32).collect(),
                params: start..params.len(),
            });
        }

        // Cell groups and their own parameters.
        let mut cells: Vec<CellGroup> = Vec::new();
        let (mut port_row, mut state_row) = (ports.start, states.start);
        for (i, &id) in nodes.iter().enumerate() {
            let Some(kind) = graph.node(id)?.kind.cell() else { continue };
            has_cells = true;
            let row = rows.start + i;
            if cells.last().is_none_or(|g| g.kind != kind) {
                cells.push(CellGroup {
                    kind,
                    rows: row..row,
                    ports: port_row..port_row,
                    states: state_row..state_row,
                    params: params.len()..params.len(),
                });
            }
            let g = cells.last_mut().expect("group just pushed");
            g.rows.end = row + 1;
            port_row += kind.ports().len();
            g.ports.end = port_row;
            if kind.has_state() {
                state_row += 1;
                g.states.end = state_row;
            }
            for (k, name) in kind.params().iter().enumerate() {
                let full = format!("node:{}:{}.{name}", id.0, kind.name());
                params.push(match kind.param_bias(k) {
                    Some(preset) => ParamInfo::bias(full, id, preset, (1, 1)),
                    None => ParamInfo {
                        name: full,
                        kind: ParamKind::CellWeight { node: id, index: k as u8 },
                        trainable: true,
                        preset: None,
                        fan_in: 1,
                        fan_out: 1,
                    },
                });
            }
            g.params.end = params.len();
        }
        let convs = maps::convs(graph, row_of, &level_of_row, &map_edges[l], &mut params)?;
        let pools = maps::pools(graph, row_of, &map_edges[l])?;
        levels.push(Level { rows, n_simple, acts, bias, bias_params, ports, states, cells, blocks, convs, pools });
    }
    Ok((levels, params, max_skip, usize::from(has_cells)))
}

/// CSR row pointers for `n` rows from the (sorted) row of each entry.
fn row_pointers(n: usize, entry_rows: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut row_ptr = vec![0usize; n + 1];
    for i in entry_rows {
        row_ptr[i + 1] += 1;
    }
    for i in 0..n {
        row_ptr[i + 1] += row_ptr[i];
    }
    row_ptr
}

/// Entry `k` of an edge that has several (a flattening or a map identity).
fn edge_param(
    e: &Edge,
    k: Option<usize>,
    fan_in: &BTreeMap<(NodeId, u8), u32>,
    fan_out: &BTreeMap<NodeId, u32>,
) -> ParamInfo {
    let identity = e.kind == EdgeKind::Identity;
    ParamInfo {
        name: match k {
            Some(k) => format!("edge:{}[{k}]", e.id.0),
            None => format!("edge:{}", e.id.0),
        },
        kind: ParamKind::Weight { edge: e.id, src: e.src, dst: e.dst },
        trainable: e.trainable && !identity,
        preset: if identity {
            Some(1.0)
        } else if e.trainable {
            e.weight
        } else {
            Some(e.weight.unwrap_or(1.0))
        },
        fan_in: fan_in.get(&(e.dst, e.port)).copied().unwrap_or(0),
        fan_out: fan_out.get(&e.src).copied().unwrap_or(0),
    }
}
