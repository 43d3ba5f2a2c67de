//! Rows of a plan: every node's value rows (one per scalar node, C·H·W per
//! feature map) level by level, then the port and state rows of the
//! levels' memory cells.

use crate::error::Result;
use crate::graph::{CellKind, Graph, NodeId};
use std::collections::BTreeMap;
use std::ops::Range;

/// Rows of a plan: value rows (levels in order), then the levels' port
/// and state rows.
pub(super) struct Layout {
    pub row_of: BTreeMap<NodeId, usize>,
    /// Each cell node's port-0 row and the stride between its ports.
    pub port_of: BTreeMap<NodeId, (usize, usize)>,
    pub level_rows: Vec<Range<usize>>,
    pub level_ports: Vec<Range<usize>>,
    pub level_states: Vec<Range<usize>>,
    pub n_rows: usize,
}

/// Orders each level (simple nodes by id, feature maps by size and id, then
/// cells by kind and id) and assigns rows: one per scalar node, C·H·W per
/// feature map.
pub(super) fn layout(graph: &Graph, by_level: &mut [Vec<NodeId>]) -> Result<Layout> {
    let mut row_of = BTreeMap::new();
    let mut level_rows = Vec::with_capacity(by_level.len());
    let mut row = 0;
    for nodes in by_level.iter_mut() {
        let mut keyed = Vec::with_capacity(nodes.len());
        for &id in nodes.iter() {
            let kind = graph.node(id)?.kind;
            keyed.push((kind.cell(), kind.map_shape().map(|(_, h, w)| (h, w)), id));
        }
        keyed.sort(); // None (simple) sorts first
        *nodes = keyed.into_iter().map(|(_, _, id)| id).collect();
        let start = row;
        for &id in nodes.iter() {
            row_of.insert(id, row);
            // Each map is below 2^32 values: the sum cannot wrap in 64 bits.
            row += graph.node(id)?.kind.size();
        }
        level_rows.push(start..row);
    }
    let mut port_of = BTreeMap::new();
    let (mut level_ports, mut level_states) = (Vec::new(), Vec::new());
    for nodes in by_level.iter() {
        let start = row;
        let mut cells: Vec<(CellKind, NodeId)> = Vec::new();
        for &id in nodes {
            if let Some(kind) = graph.node(id)?.kind.cell() {
                cells.push((kind, id));
            }
        }
        // Runs of one kind are the groups (the level is sorted by kind).
        for run in cells.chunk_by(|a, b| a.0 == b.0) {
            let n = run.len();
            for (j, &(_, id)) in run.iter().enumerate() {
                port_of.insert(id, (row + j, n));
            }
            row += n * run[0].0.ports().len();
        }
        level_ports.push(start..row);
        let start = row;
        for &id in nodes {
            if graph.node(id)?.kind.cell().is_some_and(|c| c.has_state()) {
                row += 1;
            }
        }
        level_states.push(start..row);
    }
    if row as u64 > crate::limits::MAX_ROWS {
        crate::bail!(
            Unsupported,
            "the network needs {row} rows per sample and step (node values, then memory cells' ports and states); \
             at most {} are supported",
            crate::limits::MAX_ROWS
        );
    }
    Ok(Layout { row_of, port_of, level_rows, level_ports, level_states, n_rows: row })
}
