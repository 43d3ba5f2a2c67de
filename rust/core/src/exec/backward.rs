//! Phase 1b: backpropagation through time of one chunk. Steps run
//! T−1..0 and levels deepest first, so a row's delta is complete (loss,
//! deeper levels at the same step, recurrent consumers at later steps)
//! before it is turned into dz = delta · g'(z) in place (memory cells turn
//! it into deltas of their ports, and of their h / c at t − 1) and pushed
//! to the block sources: dsrc[t − skip] += Wᵀ · dz.

use super::forward::{first_source_row, gather_steps, hoists, source_range, sparse_edges};
use super::maps::MapRun;
use super::weights::RunWeights;
use super::{cells, split_read_write, Geometry, Want};
use crate::kernels::cells::LaneGrads;
use crate::kernels::{activation, gemm, vector};
use crate::plan::{BlockKind, Phase, Plan};
use crate::real::Real;

#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn run<T: Real>(
    plan: &Plan,
    params: &[T],
    weights: &RunWeights<T>,
    maps: &MapRun<'_, T>,
    steps: usize,
    first_sample: usize,
    g: Geometry,
    values: &[T],
    deltas: &mut [T],
    cell_grads: &mut [T],
    want: Want,
) {
    let w = g.width;
    let cell_offsets = cells::level_offsets(plan);
    let soa = cells::expanded_params(plan, params, w);
    // The cells' gradients accumulate per element (cells × samples), then
    // are summed into the chunk's buffer in its layout at the end.
    let mut soa_grads = vec![T::ZERO; soa.len()];
    let zeros = vec![T::ZERO; plan.widest_cell_group().max(1) * w];
    let mut sink = vec![T::ZERO; 2 * zeros.len()];
    let mut lanes = Box::new(LaneGrads::new());
    let skip_rows_below = if want.input_grads { 0 } else { plan.n_inputs };
    let mut scratch = Vec::new();
    let pass = Pass { plan, params, weights, g, first_sample, want };
    // The forward pass's schedule, in reverse: After levels for all steps
    // first (their deltas come from the loss alone), then the stepped core,
    // then hoisted blocks and Before levels for all steps.
    let hoist = hoists(plan, g, steps);
    let phase = |l: usize| if hoist { plan.phases.level[l] } else { Phase::Core };
    let hoisted = |l: usize, bi: usize| hoist && plan.phases.hoisted[l][bi];
    let all_steps = |l: usize, deltas: &mut [T], scratch: &mut Vec<T>| {
        for t in (0..steps).rev() {
            pass.dz(l, t, values, deltas);
        }
        for bi in 0..plan.levels[l].blocks.len() {
            pass.push_all_steps(l, bi, steps, deltas, scratch);
        }
    };
    if hoist {
        for l in (1..plan.levels.len()).rev().filter(|&l| phase(l) == Phase::After) {
            all_steps(l, deltas, &mut scratch);
        }
    }
    for t in (0..steps).rev() {
        for (l, level) in plan.levels.iter().enumerate().skip(1).rev() {
            if phase(l) != Phase::Core {
                continue;
            }
            pass.dz(l, t, values, deltas);
            if !level.cells.is_empty() {
                let at = cell_offsets[l] * w;
                cells::backward(
                    level,
                    &soa[at..],
                    g,
                    t,
                    values,
                    deltas,
                    &zeros,
                    &mut sink,
                    &mut soa_grads[at..],
                    &mut lanes,
                );
            }
            for bi in (0..level.blocks.len()).filter(|&bi| !hoisted(l, bi)) {
                pass.push(l, bi, t, deltas);
            }
            maps.backward(l, level, g, t, values, deltas, &mut scratch, skip_rows_below);
        }
    }
    if hoist {
        for l in 1..plan.levels.len() {
            for bi in (0..plan.levels[l].blocks.len()).filter(|&bi| hoisted(l, bi)) {
                pass.push_all_steps(l, bi, steps, deltas, &mut scratch);
            }
        }
        for l in (1..plan.levels.len()).rev().filter(|&l| phase(l) == Phase::Before) {
            all_steps(l, deltas, &mut scratch);
        }
    }
    cells::add_expanded(plan, &soa_grads, w, cell_grads);
}

/// What every piece of one chunk's backward pass reads.
struct Pass<'a, T> {
    plan: &'a Plan,
    params: &'a [T],
    weights: &'a RunWeights<T>,
    g: Geometry,
    first_sample: usize,
    want: Want,
}

impl<T: Real> Pass<'_, T> {
    /// Turns a level's complete deltas at step t into dz = delta · g'(z) in
    /// place (clipped first when asked; dropout's factor undone).
    fn dz(&self, l: usize, t: usize, values: &[T], deltas: &mut [T]) {
        let (plan, g, level) = (self.plan, self.g, &self.plan.levels[l]);
        let w = g.width;
        let dz_range = g.at(t, level.rows.start)..g.at(t, level.rows.start) + level.rows.len() * w;
        if let Some((out, hidden)) = self.want.clip_deltas {
            let (out, hidden) = (T::from_f64(out), T::from_f64(hidden));
            for i in 0..level.rows.len() {
                let limit = if plan.is_output_row(level.rows.start + i) { out } else { hidden };
                clamp(&mut deltas[dz_range.start + i * w..dz_range.start + (i + 1) * w], limit);
            }
        }
        let simple = dz_range.start..dz_range.start + level.n_simple * w;
        match self.want.dropout {
            None => {
                let runs = level.acts.iter().map(|r| (r.rows.clone(), r.act));
                activation::backprop_runs(runs, &values[simple.clone()], &mut deltas[simple], w)
            }
            Some(d) => {
                for (i, act) in level.acts.iter().flat_map(|r| r.rows.clone().map(|i| (i, r.act))) {
                    let r = dz_range.start + i * w..dz_range.start + (i + 1) * w;
                    let row = level.rows.start + i;
                    if plan.is_output_row(row) {
                        activation::backprop(act, &values[r.clone()], &mut deltas[r]);
                        continue;
                    }
                    // The saved value is g(z)·factor: undo the factor for g'.
                    for (b, (dv, &v)) in deltas[r.clone()].iter_mut().zip(&values[r]).enumerate() {
                        let f: T = d.factor(self.first_sample + b, t, row);
                        *dv = if f == T::ZERO {
                            T::ZERO
                        } else {
                            *dv * f * activation::derivative_from_output(act, v / f)
                        };
                    }
                }
            }
        }
    }

    /// Whether nobody needs the deltas this block would push (it reads only
    /// input rows and no input gradients are wanted).
    fn push_unneeded(&self, l: usize, bi: usize) -> bool {
        let block = &self.plan.levels[l].blocks[bi];
        block.is_dense() && block.src_rows.end <= self.plan.n_inputs && !self.want.input_grads
    }

    /// dsrc[t − skip] += Wᵀ · dz[t] for one block at one step.
    fn push(&self, l: usize, bi: usize, t: usize, deltas: &mut [T]) {
        let (plan, g, level) = (self.plan, self.g, &self.plan.levels[l]);
        let block = &level.blocks[bi];
        let (w, n_in, input_grads) = (g.width, plan.n_inputs, self.want.input_grads);
        if !g.reaches(t, block.skip) || self.push_unneeded(l, bi) {
            return;
        }
        let dz_range = g.at(t, block.dst.start)..g.at(t, block.dst.start) + block.dst.len() * w;
        let src = source_range(block, g, t, level.rows.start);
        let src_row0 = first_source_row(block);
        let (dz, dsrc) = split_read_write(deltas, dz_range, src);
        let n_dst = block.dst.len();
        match block.kind {
            BlockKind::Dense | BlockKind::MaskedDense => {
                let wm = self.weights.matrix(l, bi, self.params, plan);
                let wt = gemm::View::row_major(wm, n_dst, block.n_src()).t();
                gemm::gemm(dsrc, w, true, wt, gemm::View::row_major(dz, n_dst, w));
            }
            BlockKind::Sparse => vector::simd(|| {
                let weights = &self.params[block.params.clone()];
                for i in 0..n_dst {
                    let d = &dz[i * w..(i + 1) * w];
                    let entries = block.row_ptr[i]..block.row_ptr[i + 1];
                    for (&col, &wk) in block.cols[entries.clone()].iter().zip(&weights[entries]) {
                        let s = col as usize;
                        if s < n_in && !input_grads {
                            continue;
                        }
                        let s = s - src_row0;
                        vector::axpy_inline(wk, d, &mut dsrc[s * w..(s + 1) * w]);
                    }
                }
            }),
        }
    }

    /// One block's pushes at every step: at one sample per chunk a dense
    /// block is one GEMM over the steps (dz gathered into `scratch`) and a
    /// sparse one an axpy over the steps per edge; else step by step.
    fn push_all_steps(&self, l: usize, bi: usize, steps: usize, deltas: &mut [T], scratch: &mut Vec<T>) {
        let g = self.g;
        let block = &self.plan.levels[l].blocks[bi];
        let t0 = g.first_reaching(block.skip);
        if t0 >= steps || self.push_unneeded(l, bi) {
            return;
        }
        if g.width != 1 {
            for t in (t0..steps).rev() {
                self.push(l, bi, t, deltas);
            }
            return;
        }
        let (span, slot) = (steps - t0, g.slot_len());
        if !block.is_dense() {
            let weights = &self.params[block.params.clone()];
            let needed =
                |&(_, src, _, _): &(usize, usize, usize, usize)| src >= self.plan.n_inputs || self.want.input_grads;
            for (k, _, d0, s0) in sparse_edges(block, g, t0).filter(needed) {
                for j in 0..span {
                    deltas[s0 + j * slot] += weights[k] * deltas[d0 + j * slot];
                }
            }
            return;
        }
        let (n_src, n_dst) = (block.n_src(), block.dst.len());
        gather_steps(deltas, g, span, g.at(t0, block.dst.start), n_dst, scratch);
        let dz = gemm::View { data: &scratch[..], rows: n_dst, cols: span, row_stride: 1, col_stride: n_dst };
        let wt = gemm::View::row_major(self.weights.matrix(l, bi, self.params, self.plan), n_dst, n_src).t();
        let dst = &mut deltas[g.at_back(t0, block.skip, block.src_rows.start)..];
        gemm::gemm_strided(dst, 1, slot, true, wt, dz);
    }
}

/// d = min(max(d, −limit), limit)
fn clamp<T: Real>(d: &mut [T], limit: T) {
    for x in d {
        if *x > limit {
            *x = limit;
        } else if *x < -limit {
            *x = -limit;
        }
    }
}
