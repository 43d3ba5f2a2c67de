//! Innovation numbers: the run-wide names of nodes and edges that let two
//! genomes of an evolution run align node by node and edge by edge (NEAT,
//! EXAMM). A graph only stores them and keeps them unique — among its nodes,
//! and among its edges (the two are separate namespaces); the run's counter
//! that hands out new numbers lives with the evolution code.
//!
//! A node or edge added through the mutation API gets its id as its
//! innovation number, or one past the largest number in use when that is
//! larger (so a default never collides with a number set explicitly); a
//! graph built without explicit numbers therefore has innovation = id
//! throughout, which is also what graph JSON without innovation numbers
//! (files older than them) loads with.

use super::{EdgeId, Graph, NodeId};
use crate::bail;
use crate::error::Result;
use std::collections::BTreeMap;

/// Stands for "not given" in graph JSON (resolved to the id on load), so it
/// cannot be an innovation number itself: numbers are 0 ..= 2^64 − 2.
pub(super) const UNSET: u64 = u64::MAX;

/// serde default of a missing `innovation` field.
pub(super) fn unset() -> u64 {
    UNSET
}

/// Number → id, ordered so the largest number is O(log n) and lookups by
/// number are O(log n); kept up to date by every edit of the graph.
#[derive(Clone, Debug)]
pub(super) struct InnovationIndex<Id> {
    by_number: BTreeMap<u64, Id>,
}

impl<Id> Default for InnovationIndex<Id> {
    fn default() -> Self {
        InnovationIndex { by_number: BTreeMap::new() }
    }
}

impl<Id: Copy + PartialEq + std::fmt::Display> InnovationIndex<Id> {
    pub fn get(&self, number: u64) -> Option<Id> {
        self.by_number.get(&number).copied()
    }

    pub fn max(&self) -> Option<u64> {
        self.by_number.keys().next_back().copied()
    }

    /// The default number of a new element with this id: the id, or one
    /// past the largest number in use. `None` when the numbers ran out.
    pub fn fresh(&self, id: u32) -> Option<u64> {
        let past_max = match self.max() {
            Some(m) => m.checked_add(1)?,
            None => 0,
        };
        Some(past_max.max(u64::from(id))).filter(|&n| n != UNSET)
    }

    /// `Some` when `n` elements from id `next_id` on can get fresh numbers
    /// (consecutive ones: each is one past the one before).
    pub fn reserve(&self, next_id: u32, n: usize) -> Option<()> {
        let first = self.fresh(next_id)?;
        let last = first.checked_add((n as u64).saturating_sub(1))?;
        (last != UNSET).then_some(())
    }

    /// Records `number` for `id`; on a clash returns the id holding it.
    pub fn insert(&mut self, number: u64, id: Id) -> std::result::Result<(), Id> {
        match self.by_number.get(&number) {
            Some(&other) if other != id => Err(other),
            _ => {
                self.by_number.insert(number, id);
                Ok(())
            }
        }
    }

    /// Moves `id` from number `old` to `new`; refused, changing nothing,
    /// when `new` is reserved or another element has it.
    pub fn renumber(&mut self, id: Id, old: u64, new: u64) -> Result<()> {
        if new == UNSET {
            bail!(Config, "innovation number {new} is reserved; innovation numbers go up to 2^64 - 2");
        }
        if let Err(other) = self.insert(new, id) {
            bail!(Graph, "cannot give {id} innovation number {new}: {other} has it");
        }
        if old != new {
            self.remove(old);
        }
        Ok(())
    }

    pub fn remove(&mut self, number: u64) {
        self.by_number.remove(&number);
    }
}

impl Graph {
    /// The node with this innovation number, if any (O(log n)).
    pub fn node_by_innovation(&self, number: u64) -> Option<NodeId> {
        self.node_innovations.get(number)
    }

    /// The edge with this innovation number, if any (O(log n)).
    pub fn edge_by_innovation(&self, number: u64) -> Option<EdgeId> {
        self.edge_innovations.get(number)
    }

    /// The largest innovation number among the nodes (`None`: no nodes);
    /// a run's counter starts past it when the graph seeds the run.
    pub fn max_node_innovation(&self) -> Option<u64> {
        self.node_innovations.max()
    }

    /// The largest innovation number among the edges (`None`: no edges).
    pub fn max_edge_innovation(&self) -> Option<u64> {
        self.edge_innovations.max()
    }

    /// Gives a node its innovation number; refused (naming the other node)
    /// if another node of the graph has it.
    pub fn set_node_innovation(&mut self, id: NodeId, number: u64) -> Result<()> {
        let old = self.node(id)?.innovation;
        self.node_innovations.renumber(id, old, number)?;
        self.nodes.get_mut(&id).expect("checked above").innovation = number;
        Ok(())
    }

    /// Gives an edge its innovation number; refused (naming the other edge)
    /// if another edge of the graph has it.
    pub fn set_edge_innovation(&mut self, id: EdgeId, number: u64) -> Result<()> {
        let old = self.edge(id)?.innovation;
        self.edge_innovations.renumber(id, old, number)?;
        self.edges.get_mut(&id).expect("checked above").innovation = number;
        Ok(())
    }
}
