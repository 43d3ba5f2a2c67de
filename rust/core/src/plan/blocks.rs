//! Levels and blocks: groups the enabled edges into each level by source
//! level and time skip, decides dense vs sparse, and lays out parameters.

use super::params::{ParamInfo, ParamKind};
use super::PlanOptions;
use crate::error::Result;
use crate::graph::{Activation, Edge, EdgeKind, Graph, NodeId, NodeKind};
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

/// One topological level: a contiguous range of rows computed together.
#[derive(Clone, Debug)]
pub struct Level {
    pub rows: Range<usize>,
    /// Activation of each row (identity for inputs).
    pub acts: Vec<Activation>,
    /// Bias parameter of each row, if it has one.
    pub bias: Vec<Option<usize>>,
    pub bias_params: Range<usize>,
    pub blocks: Vec<Block>,
}

type Built = (Vec<Level>, Vec<ParamInfo>, usize);

pub(super) fn build(
    graph: &Graph,
    by_level: &[Vec<NodeId>],
    row_of: &BTreeMap<NodeId, usize>,
    options: PlanOptions,
) -> Result<Built> {
    let live: Vec<&Edge> =
        graph.edges().filter(|e| e.enabled && row_of.contains_key(&e.src) && row_of.contains_key(&e.dst)).collect();
    let mut fan_in: BTreeMap<NodeId, u32> = BTreeMap::new();
    let mut fan_out: BTreeMap<NodeId, u32> = BTreeMap::new();
    for e in &live {
        *fan_in.entry(e.dst).or_default() += 1;
        *fan_out.entry(e.src).or_default() += 1;
    }
    let level_ranges: Vec<Range<usize>> = {
        let mut start = 0;
        by_level
            .iter()
            .map(|nodes| {
                let r = start..start + nodes.len();
                start = r.end;
                r
            })
            .collect()
    };
    let level_of_row = |row: usize| level_ranges.iter().position(|r| r.contains(&row)).expect("row in level");
    let mut into: Vec<Vec<&Edge>> = vec![Vec::new(); by_level.len()];
    for e in &live {
        into[level_of_row(row_of[&e.dst])].push(e);
    }

    let mut params: Vec<ParamInfo> = Vec::new();
    let mut levels = Vec::with_capacity(by_level.len());
    let mut max_skip = 0usize;
    for (l, nodes) in by_level.iter().enumerate() {
        let rows = level_ranges[l].clone();
        let mut acts = Vec::with_capacity(nodes.len());
        let mut bias = Vec::with_capacity(nodes.len());
        let bias_start = params.len();
        for &id in nodes {
            let node = graph.node(id)?;
            acts.push(match node.kind {
                NodeKind::Simple { activation } if l > 0 => activation,
                _ => Activation::Identity,
            });
            bias.push(if node.bias && l > 0 {
                params.push(ParamInfo {
                    name: format!("node:{}:bias", id.0),
                    kind: ParamKind::Bias { node: id },
                    trainable: true,
                    preset: node.bias_value,
                    fan_in: fan_in.get(&id).copied().unwrap_or(0),
                    fan_out: fan_out.get(&id).copied().unwrap_or(0),
                });
                Some(params.len() - 1)
            } else {
                None
            });
        }
        let bias_params = bias_start..params.len();

        // Group the edges into this level by (skip, source level).
        let mut groups: BTreeMap<(usize, usize), Vec<&Edge>> = BTreeMap::new();
        for &e in &into[l] {
            max_skip = max_skip.max(e.time_skip as usize);
            groups.entry((e.time_skip as usize, level_of_row(row_of[&e.src]))).or_default().push(e);
        }
        let mut blocks = Vec::new();
        let mut sparse: BTreeMap<usize, Vec<&Edge>> = BTreeMap::new();
        for ((skip, src_level), edges) in groups {
            let (n_dst, n_src) = (rows.len(), level_ranges[src_level].len());
            let dense = edges.len() >= options.dense_min_edges
                && edges.len() as f64 >= options.dense_min_density * (n_dst * n_src) as f64;
            if !dense {
                sparse.entry(skip).or_default().extend(edges);
                continue;
            }
            let src_rows = level_ranges[src_level].clone();
            let mut cells: Vec<(usize, usize, &Edge)> =
                edges.iter().map(|e| (row_of[&e.dst] - rows.start, row_of[&e.src] - src_rows.start, *e)).collect();
            cells.sort_by_key(|&(i, j, _)| (i, j));
            let complete = cells.len() == n_dst * n_src;
            let mut row_ptr = vec![0usize; n_dst + 1];
            for &(i, _, _) in &cells {
                row_ptr[i + 1] += 1;
            }
            for i in 0..n_dst {
                row_ptr[i + 1] += row_ptr[i];
            }
            let cols = if complete { Vec::new() } else { cells.iter().map(|&(_, j, _)| j as u32).collect() };
            let start = params.len();
            params.extend(cells.iter().map(|&(_, _, e)| edge_param(e, &fan_in, &fan_out)));
            blocks.push(Block {
                kind: if complete { BlockKind::Dense } else { BlockKind::MaskedDense },
                skip,
                src_rows,
                row_ptr,
                cols,
                params: start..params.len(),
            });
        }
        for (skip, edges) in sparse {
            let mut cells: Vec<(usize, usize, &Edge)> =
                edges.iter().map(|e| (row_of[&e.dst] - rows.start, row_of[&e.src], *e)).collect();
            cells.sort_by_key(|&(i, src, _)| (i, src));
            let mut row_ptr = vec![0usize; rows.len() + 1];
            for &(i, _, _) in &cells {
                row_ptr[i + 1] += 1;
            }
            for i in 0..rows.len() {
                row_ptr[i + 1] += row_ptr[i];
            }
            let start = params.len();
            params.extend(cells.iter().map(|&(_, _, e)| edge_param(e, &fan_in, &fan_out)));
            blocks.push(Block {
                kind: BlockKind::Sparse,
                skip,
                src_rows: 0..0,
                row_ptr,
                cols: cells.iter().map(|&(_, src, _)| src as u32).collect(),
                params: start..params.len(),
            });
        }
        levels.push(Level { rows, acts, bias, bias_params, blocks });
    }
    Ok((levels, params, max_skip))
}

fn edge_param(e: &Edge, fan_in: &BTreeMap<NodeId, u32>, fan_out: &BTreeMap<NodeId, u32>) -> ParamInfo {
    let identity = e.kind == EdgeKind::Identity;
    ParamInfo {
        name: format!("edge:{}", e.id.0),
        kind: ParamKind::Weight { edge: e.id, src: e.src, dst: e.dst },
        trainable: e.trainable && !identity,
        preset: if identity {
            Some(1.0)
        } else if e.trainable {
            e.weight
        } else {
            Some(e.weight.unwrap_or(1.0))
        },
        fan_in: fan_in.get(&e.dst).copied().unwrap_or(0),
        fan_out: fan_out.get(&e.src).copied().unwrap_or(0),
    }
}
