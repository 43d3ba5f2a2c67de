//! The fixed set of tasks that reduce weight gradients, each owning a
//! disjoint parameter range (independent of the thread count, so results
//! are bitwise identical for any number of threads).

use super::blocks::{BlockKind, Level};
use std::ops::Range;

/// One unit of weight-gradient work, owning a disjoint parameter range.
#[derive(Clone, Debug, PartialEq)]
pub enum GradTask {
    /// Biases of one level.
    Bias { level: usize, params: Range<usize> },
    /// Destination rows `rows` (relative to the level) of one block.
    Block { level: usize, block: usize, rows: Range<usize>, params: Range<usize> },
    /// The filters of one convolution.
    Conv { level: usize, conv: usize, params: Range<usize> },
}

impl GradTask {
    pub fn params(&self) -> &Range<usize> {
        match self {
            GradTask::Bias { params, .. } | GradTask::Block { params, .. } | GradTask::Conv { params, .. } => params,
        }
    }
}

/// Parameters per task: large enough to amortise a task, small enough to
/// spread a big layer over many threads.
const TASK_PARAMS: usize = 32 * 1024;

pub(super) fn grad_tasks(levels: &[Level]) -> Vec<GradTask> {
    let mut tasks = Vec::new();
    for (l, level) in levels.iter().enumerate() {
        if !level.bias_params.is_empty() {
            tasks.push(GradTask::Bias { level: l, params: level.bias_params.clone() });
        }
        for (b, block) in level.blocks.iter().enumerate() {
            let n_dst = block.dst.len();
            let per_row = match block.kind {
                BlockKind::Dense => block.n_src().max(1),
                _ => (block.params.len() / n_dst.max(1)).max(1),
            };
            // Dense row groups are multiples of 16 rows (GEMM-friendly).
            let mut rows_per_task = (TASK_PARAMS / per_row).max(1);
            if block.is_dense() {
                rows_per_task = rows_per_task.div_ceil(16) * 16;
            }
            let mut r = 0;
            while r < n_dst {
                let end = (r + rows_per_task).min(n_dst);
                let params = block.params.start + block.row_ptr[r]..block.params.start + block.row_ptr[end];
                if !params.is_empty() {
                    tasks.push(GradTask::Block { level: l, block: b, rows: r..end, params });
                }
                r = end;
            }
        }
    }
    for (l, level) in levels.iter().enumerate() {
        for (k, c) in level.convs.iter().enumerate() {
            if !c.params.is_empty() {
                tasks.push(GradTask::Conv { level: l, conv: k, params: c.params.clone() });
            }
        }
    }
    tasks.sort_by_key(|t| t.params().start);
    tasks
}
