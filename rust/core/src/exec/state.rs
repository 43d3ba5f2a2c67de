//! The recurrent state between runs: every row's values at the last
//! `plan.memory` steps (what recurrent edges and memory cells read), per
//! sample, `(batch, memory, rows)`. Saved after a run and loaded as the
//! history before step 0 of the next, it carries a long series across
//! chunks; gradients stop at the boundary (truncated BPTT).

use super::Geometry;
use crate::plan::Plan;
use crate::real::Real;
use std::ops::Range;

/// Writes the samples' initial state into the history steps of a chunk.
pub(super) fn load<T: Real>(plan: &Plan, state: &[T], samples: Range<usize>, g: Geometry, values: &mut [T]) {
    let (memory, rows) = (plan.memory, plan.n_rows());
    for (b, sample) in samples.enumerate() {
        for k in 0..memory {
            let src = &state[(sample * memory + k) * rows..(sample * memory + k + 1) * rows];
            for (row, &v) in src.iter().enumerate() {
                values[g.at_internal(k, row) + b] = v;
            }
        }
    }
}

/// Reads the chunk's last `memory` steps (history included) into `out`,
/// `(chunk samples, memory, rows)`.
pub(super) fn save<T: Real>(plan: &Plan, steps: usize, g: Geometry, values: &[T], out: &mut [T]) {
    let (memory, rows) = (plan.memory, plan.n_rows());
    let end = g.first + steps; // internal steps stored: ..end
    for b in 0..g.width {
        for k in 0..memory {
            let dst = &mut out[(b * memory + k) * rows..(b * memory + k + 1) * rows];
            // Internal step end − memory + k; before the first stored step, 0.
            match (end + k).checked_sub(memory) {
                Some(s) => {
                    for (row, v) in dst.iter_mut().enumerate() {
                        *v = values[g.at_internal(s, row) + b];
                    }
                }
                None => dst.fill(T::ZERO),
            }
        }
    }
}
