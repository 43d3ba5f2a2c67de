//! Time-parallel hoisting: which levels need the step-by-step loop at all.
//!
//! A recurrent network is stepped because of its recurrent core — memory
//! cells and nodes that read values of earlier steps computed by the loop.
//! Everything else runs for all steps at once:
//!
//! - **Before** levels read only inputs and other Before levels (at any
//!   skip): their values for every step are known before the loop starts,
//!   so each of their blocks is one GEMM over batch × time.
//! - **After** levels are read by nobody at a later step and only by other
//!   After levels: they run once the loop has finished (the output head of
//!   an LSTM), and first in the backward pass.
//! - **Core** levels are stepped. Their blocks whose sources are all in
//!   Before levels (the input projection of an LSTM layer) are *hoisted*:
//!   computed for all steps before the loop, like cuDNN's input GEMM.
//!
//! Levels with memory cells or feature maps are always Core.

use super::{BlockKind, Level};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Before,
    Core,
    After,
}

/// Each level's phase, and for each block whether it is hoisted (a Core
/// level's block reading only Before levels).
#[derive(Clone, Debug, Default)]
pub struct Phases {
    pub level: Vec<Phase>,
    pub hoisted: Vec<Vec<bool>>,
}

impl Phases {
    pub(super) fn of(levels: &[Level]) -> Phases {
        let n = levels.len();
        // level of each value row, by binary search on the levels' starts
        let level_of_row = |row: usize| levels.partition_point(|l| l.rows.start <= row).saturating_sub(1);
        let sources = |b: &super::Block| -> Vec<usize> {
            match b.kind {
                BlockKind::Sparse => {
                    let mut ls: Vec<usize> = b.cols.iter().map(|&c| level_of_row(c as usize)).collect();
                    ls.sort_unstable();
                    ls.dedup();
                    ls
                }
                _ => vec![level_of_row(b.src_rows.start)],
            }
        };
        let plain =
            |l: &Level| l.cells.is_empty() && l.convs.is_empty() && l.pools.is_empty() && l.n_simple == l.rows.len();
        let mut before = vec![false; n];
        for (i, l) in levels.iter().enumerate() {
            before[i] = i == 0 || (plain(l) && l.blocks.iter().all(|b| sources(b).iter().all(|&s| s < i && before[s])));
        }
        // Readers of each level: (reader level, skip).
        let mut readers: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        for (i, l) in levels.iter().enumerate() {
            for b in &l.blocks {
                for s in sources(b) {
                    readers[s].push((i, b.skip));
                }
            }
        }
        let mut after = vec![false; n];
        for i in (1..n).rev() {
            after[i] =
                !before[i] && plain(&levels[i]) && readers[i].iter().all(|&(r, skip)| skip == 0 && r > i && after[r]);
        }
        let level: Vec<Phase> = (0..n)
            .map(|i| {
                if before[i] {
                    Phase::Before
                } else if after[i] {
                    Phase::After
                } else {
                    Phase::Core
                }
            })
            .collect();
        let hoisted = levels
            .iter()
            .zip(&level)
            .map(|(l, &p)| l.blocks.iter().map(|b| p == Phase::Core && sources(b).iter().all(|&s| before[s])).collect())
            .collect();
        Phases { level, hoisted }
    }

    /// Every level stepped (nothing hoisted).
    pub(super) fn stepped(n_levels: usize) -> Phases {
        Phases { level: vec![Phase::Core; n_levels], hoisted: Vec::new() }
    }

    /// Whether any work leaves the step loop.
    pub fn any(&self) -> bool {
        self.level.iter().skip(1).any(|&p| p != Phase::Core) || self.hoisted.iter().flatten().any(|&h| h)
    }
}

#[cfg(test)]
mod tests {
    use super::Phase::*;
    use crate::graph::{Activation, CellKind, EdgeSpec, Graph, NodeKind, Role};
    use crate::plan::Plan;

    /// EXAMM's coal network: inputs → tanh nodes → LSTM cells (fed at
    /// skips 0 and 1) → output (fed at skips 0 and 1). Only the cells are
    /// stepped; both of their blocks are hoisted; the output runs after.
    #[test]
    fn examm_network_steps_only_its_cells() {
        let mut g = Graph::new();
        let simple = |a| NodeKind::Simple { activation: a };
        let x: Vec<_> = (0..3).map(|_| g.add_node(Role::Input, simple(Activation::Identity), None).unwrap()).collect();
        let t: Vec<_> =
            (0..3).map(|_| g.add_node(Role::Hidden, simple(Activation::Tanh), Some(true)).unwrap()).collect();
        let c: Vec<_> =
            (0..3).map(|_| g.add_node(Role::Hidden, NodeKind::Cell(CellKind::Lstm), None).unwrap()).collect();
        let y = g.add_node(Role::Output, simple(Activation::Tanh), Some(true)).unwrap();
        for (&a, &b) in x.iter().zip(&t) {
            g.add_edge(a, b, EdgeSpec::default()).unwrap();
        }
        for skip in [0, 1] {
            for &a in &t {
                for &b in &c {
                    g.add_edge(a, b, EdgeSpec { time_skip: skip, ..EdgeSpec::default() }).unwrap();
                }
            }
            for &a in &c {
                g.add_edge(a, y, EdgeSpec { time_skip: skip, ..EdgeSpec::default() }).unwrap();
            }
        }
        let plan = Plan::compile(&g).unwrap();
        assert_eq!(plan.phases.level, vec![Before, Before, Core, After]);
        assert!(plan.phases.hoisted[2].iter().all(|&h| h) && !plan.phases.hoisted[2].is_empty());
        assert!(plan.phases.any());

        // A tanh layer reading the cells one step later is part of the core.
        let z = g.add_node(Role::Hidden, simple(Activation::Tanh), None).unwrap();
        g.add_edge(c[0], z, EdgeSpec::default()).unwrap();
        g.add_edge(z, c[1], EdgeSpec { time_skip: 1, ..EdgeSpec::default() }).unwrap();
        let plan = Plan::compile(&g).unwrap();
        assert_eq!(plan.phases.level[3], Core);
    }
}
