//! Levels and blocks: groups the enabled edges into each level by source
//! level and time skip, decides dense vs sparse, and lays out parameters.

use super::groups::{GroupKind, GroupsBuilder, ParamGroups, Shape};
use super::layout::Layout;
use super::maps::{self, ConvBlock, PoolBlock};
use super::runs::{push_act, push_bias, ActRun, BiasRun};
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
    /// Activations of the simple rows `0..n_simple` (identity for inputs).
    pub acts: Vec<ActRun>,
    /// Bias parameters of every value row, then of every port row.
    pub bias: Vec<BiasRun>,
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

type Built = (Vec<Level>, ParamGroups, usize, usize);

/// Fans per destination port (each gate of a unit is its own neuron) and
/// per source node, for the fan-based initialisers.
struct Fans {
    fan_in: BTreeMap<(NodeId, u8), u32>,
    fan_out: BTreeMap<NodeId, u32>,
}

impl Fans {
    fn of(&self, dst: NodeId, port: u8, src: NodeId) -> (u32, u32) {
        (self.fan_in.get(&(dst, port)).copied().unwrap_or(0), self.fan_out.get(&src).copied().unwrap_or(0))
    }
}

pub(super) fn build<'g>(
    graph: &'g Graph,
    by_level: &[Vec<NodeId>],
    layout: &Layout,
    options: PlanOptions,
) -> Result<Built> {
    let row_of = &layout.row_of;
    let live: Vec<&Edge> =
        graph.edges().filter(|e| e.enabled && row_of.contains_key(&e.src) && row_of.contains_key(&e.dst)).collect();
    let mut fans = Fans { fan_in: BTreeMap::new(), fan_out: BTreeMap::new() };
    for e in &live {
        // A flattening edge brings every value of its map.
        let n = if e.kind == EdgeKind::Weight { graph.node(e.src)?.kind.size() as u32 } else { 1 };
        // Fans only scale initial weights: saturate rather than wrap.
        let fan = fans.fan_in.entry((e.dst, e.port)).or_default();
        *fan = fan.saturating_add(n);
        *fans.fan_out.entry(e.src).or_default() += 1;
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

    // A map identity edge has one entry per value, on a diagonal that other
    // edges into the same map would interleave with: it gets a block of its
    // own, so each edge's weights stay one contiguous group.
    let alone = |e: &Edge| -> Result<u32> {
        let multi = e.kind == EdgeKind::Identity && graph.node(e.src)?.kind.size() > 1;
        Ok(if multi { e.id.0 } else { u32::MAX })
    };
    // A block's entries as (destination row from `dst0`, source row from
    // `src0`, edge, index within a multi-entry edge), sorted by row then source.
    let block_entries = |edges: &[&'g Edge], dst0: usize, src0: usize| -> Result<Vec<Entry<'g>>> {
        let mut cells = Vec::new();
        for &e in edges {
            let en = entries(e)?;
            let multi = en.len() > 1;
            for (k, (i, j)) in en.into_iter().enumerate() {
                cells.push((target(e).1 + i - dst0, row_of[&e.src] + j - src0, e, multi.then_some(k)));
            }
        }
        cells.sort_by_key(|&(i, j, _, _)| (i, j));
        Ok(cells)
    };
    let mut params = GroupsBuilder::default();
    let mut levels = Vec::with_capacity(by_level.len());
    let mut max_skip = 0usize;
    let mut has_cells = false;
    for (l, nodes) in by_level.iter().enumerate() {
        let rows = level_ranges[l].clone();
        let (ports, states) = (layout.level_ports[l].clone(), layout.level_states[l].clone());
        let (mut acts, mut bias) = (Vec::new(), Vec::new());
        let bias_start = params.next();
        let mut n_simple = 0;
        let mut row = rows.start;
        let one = |rows: Range<usize>, first: Option<usize>| BiasRun { rows, first, per: 1, stride: 1 };
        for &id in nodes {
            let node = graph.node(id)?;
            let act = match node.kind {
                NodeKind::Simple { activation } | NodeKind::FeatureMap { activation, .. } if l > 0 => activation,
                _ => Activation::Identity,
            };
            let size = node.kind.size();
            let node_rows = row..row + size;
            row += size;
            if let NodeKind::FeatureMap { channels, untied_bias, .. } = node.kind {
                push_act(&mut acts, size, act);
                n_simple += size;
                if !(node.bias && l > 0) {
                    push_bias(&mut bias, one(node_rows, None));
                    continue;
                }
                // Untied: one bias per value; tied: one per channel.
                let (c, h, w) = node.kind.map_shape().expect("a feature map");
                let shape = if untied_bias { Shape::new(&[c, h, w]) } else { Shape::new(&[channels as usize]) };
                let first = params.push(GroupKind::Bias(id), shape, true, node.bias_value, (0, 0)).start;
                push_bias(
                    &mut bias,
                    BiasRun { rows: node_rows, first: Some(first), per: size / shape.size(), stride: 1 },
                );
                continue;
            }
            if node.kind.cell().is_none() {
                push_act(&mut acts, 1, act);
                n_simple += 1;
            } else if node.bias {
                bail!(
                    Graph,
                    "{} is a {} cell with bias=true; memory cells carry their own biases (add it with bias=false)",
                    id,
                    node.kind.name()
                );
            }
            let first = (node.bias && l > 0)
                .then(|| params.push(GroupKind::Bias(id), Shape::SCALAR, true, node.bias_value, (0, 0)).start);
            push_bias(&mut bias, one(node_rows, first));
        }
        // Port biases (the gates of standard units: torch's b_ih + b_hh): one
        // group per unit, in port-row order (group by group, port-major).
        let mut cell_nodes: Vec<(CellKind, NodeId)> = Vec::new();
        for &id in nodes {
            if let Some(kind) = graph.node(id)?.kind.cell() {
                cell_nodes.push((kind, id));
            }
        }
        let mut port_row = ports.start;
        for run in cell_nodes.chunk_by(|a, b| a.0 == b.0) {
            let cell = run[0].0;
            let n_ports = cell.ports().len();
            let unit = cell.is_unit();
            let firsts: Vec<Option<usize>> = run
                .iter()
                .map(|&(_, id)| {
                    let shape = Shape::new(&[n_ports]);
                    unit.then(|| params.push(GroupKind::GateBias(id, cell), shape, true, None, (0, 0)).start)
                })
                .collect();
            for p in 0..n_ports {
                for f in &firsts {
                    let first = f.map(|first| first + p);
                    push_bias(&mut bias, BiasRun { rows: port_row..port_row + 1, first, per: 1, stride: n_ports });
                    port_row += 1;
                }
            }
        }
        let bias_params = bias_start..params.next();

        // Group the edges into this level by (target region, skip, source level).
        let mut groups: BTreeMap<(bool, usize, usize, u32), Vec<&Edge>> = BTreeMap::new();
        for &e in &into[l] {
            max_skip = max_skip.max(e.time_skip as usize);
            let key = (target(e).0, e.time_skip as usize, level_of_row(row_of[&e.src]), alone(e)?);
            groups.entry(key).or_default().push(e);
        }
        let mut blocks = Vec::new();
        let mut sparse: BTreeMap<(bool, usize, u32), Vec<&Edge>> = BTreeMap::new();
        for ((to_ports, skip, src_level, alone), edges) in groups {
            let dst = if to_ports { ports.clone() } else { rows.clone() };
            let (n_dst, n_src) = (dst.len(), level_ranges[src_level].len());
            let mut n_entries = 0;
            for e in &edges {
                n_entries += entries(e)?.len();
            }
            let dense = n_entries >= options.dense_min_edges
                && n_entries as f64 >= options.dense_min_density * (n_dst * n_src) as f64;
            if !dense {
                sparse.entry((to_ports, skip, alone)).or_default().extend(edges);
                continue;
            }
            let src_rows = level_ranges[src_level].clone();
            let cells = block_entries(&edges, dst.start, src_rows.start)?;
            let complete = cells.len() == n_dst * n_src;
            let row_ptr = row_pointers(n_dst, cells.iter().map(|c| c.0));
            let cols = if complete { Vec::new() } else { cells.iter().map(|&(_, j, _, _)| j as u32).collect() };
            let start = params.next();
            edge_groups(graph, &cells, &fans, &mut params)?;
            blocks.push(Block {
                kind: if complete { BlockKind::Dense } else { BlockKind::MaskedDense },
                skip,
                dst,
                src_rows,
                row_ptr,
                cols,
                params: start..params.next(),
            });
        }
        for ((to_ports, skip, _), edges) in sparse {
            let dst = if to_ports { ports.clone() } else { rows.clone() };
            let cells = block_entries(&edges, dst.start, 0)?;
            let row_ptr = row_pointers(dst.len(), cells.iter().map(|c| c.0));
            let start = params.next();
            edge_groups(graph, &cells, &fans, &mut params)?;
            blocks.push(Block {
                kind: BlockKind::Sparse,
                skip,
                dst,
                src_rows: 0..0,
                row_ptr,
                cols: cells.iter().map(|&(_, src, _, _)| src as u32).collect(),
                params: start..params.next(),
            });
        }

        // Cell groups and their own parameters.
        let mut cells: Vec<CellGroup> = Vec::new();
        let (mut port_row, mut state_row) = (ports.start, states.start);
        for &id in nodes {
            let Some(kind) = graph.node(id)?.kind.cell() else { continue };
            has_cells = true;
            // The layout's row: feature maps before the cells take C·H·W rows each.
            let row = row_of[&id];
            if cells.last().is_none_or(|g| g.kind != kind) {
                cells.push(CellGroup {
                    kind,
                    rows: row..row,
                    ports: port_row..port_row,
                    states: state_row..state_row,
                    params: params.next()..params.next(),
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
            if !kind.params().is_empty() {
                g.params.end =
                    params.push(GroupKind::Cell(id, kind), Shape::new(&[kind.params().len()]), true, None, (1, 1)).end;
            }
        }
        let convs = maps::convs(graph, row_of, &level_of_row, &map_edges[l], &mut params)?;
        let pools = maps::pools(graph, row_of, &map_edges[l])?;
        levels.push(Level { rows, n_simple, acts, bias, bias_params, ports, states, cells, blocks, convs, pools });
    }
    Ok((levels, params.finish(), max_skip, usize::from(has_cells)))
}

/// One entry of a block: (destination row, source column, edge, index
/// within a multi-entry edge).
type Entry<'a> = (usize, usize, &'a Edge, Option<usize>);

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

/// One group per edge of a block's entries (sorted by destination and
/// source, so each edge's entries are adjacent): a scalar, or the source
/// map's shape for a flattening or map identity edge.
fn edge_groups(graph: &Graph, cells: &[Entry<'_>], fans: &Fans, params: &mut GroupsBuilder) -> Result<()> {
    for (at, &(_, _, e, k)) in cells.iter().enumerate() {
        if k.unwrap_or(0) != 0 {
            continue; // the rest of a multi-entry edge, laid out with its first entry
        }
        let shape = match (k, graph.node(e.src)?.kind.map_shape()) {
            (Some(_), Some((c, h, w))) => Shape::new(&[c, h, w]),
            _ => Shape::SCALAR,
        };
        debug_assert!(
            cells[at..at + shape.size()].iter().enumerate().all(|(j, c)| c.2.id == e.id && c.3.unwrap_or(0) == j),
            "{}: entries not adjacent",
            e.id
        );
        let identity = e.kind == EdgeKind::Identity;
        let preset = if identity {
            Some(1.0)
        } else if e.trainable {
            e.weight
        } else {
            Some(e.weight.unwrap_or(1.0))
        };
        let trainable = e.trainable && !identity;
        params.push(GroupKind::Edge(e.id), shape, trainable, preset, fans.of(e.dst, e.port, e.src));
    }
    Ok(())
}
