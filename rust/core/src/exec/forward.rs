//! Phase 1a: the forward pass of one chunk over every time step. Each level
//! starts from its biases, accumulates its blocks (GEMM or CSR axpys, reading
//! sources at t − skip) into its value rows and its cells' ports, then
//! applies the activation of each simple row and runs its memory cells.

use super::input::Sequences;
use super::maps::MapRun;
use super::transpose::{self, Strided};
use super::weights::RunWeights;
use super::{cells, split_read_write, Geometry, Want};
use crate::kernels::{activation, gemm, vector};
use crate::plan::{Block, BlockKind, Phase, Plan};
use crate::real::Real;
use std::ops::Range;

#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn run<T: Real>(
    plan: &Plan,
    params: &[T],
    weights: &RunWeights<T>,
    maps: &MapRun<'_, T>,
    x: &Sequences<'_, T>,
    samples: Range<usize>,
    g: Geometry,
    values: &mut [T],
    outputs: &mut [T],
    want: Want,
) {
    let w = g.width;
    let steps = x.steps;
    let zeros = vec![T::ZERO; plan.widest_cell_group().max(1) * w];
    let soa = cells::expanded_params(plan, params, w);
    let cell_offsets = cells::level_offsets(plan);
    let mut scratch = Vec::new();
    let run = Pass { plan, params, weights, g, samples: samples.clone(), want };
    let hoist = hoists(plan, g, steps);
    let phase = |l: usize| if hoist { plan.phases.level[l] } else { Phase::Core };
    let hoisted = |l: usize, bi: usize| hoist && plan.phases.hoisted[l][bi];
    let has_hoisted = |l: usize| (0..plan.levels[l].blocks.len()).any(|bi| hoisted(l, bi));

    if hoist {
        // Everything that does not wait for the recurrent core, all steps at once.
        for t in 0..steps {
            load_inputs(plan, x, &samples, g, t, values);
        }
        for l in 1..plan.levels.len() {
            match phase(l) {
                Phase::Before => run.level_all_steps(l, steps, values, &mut scratch),
                Phase::Core if has_hoisted(l) => {
                    run.bias_all_steps(l, steps, values);
                    for bi in (0..plan.levels[l].blocks.len()).filter(|&bi| hoisted(l, bi)) {
                        run.block_all_steps(l, bi, steps, values, &mut scratch);
                    }
                }
                _ => {}
            }
        }
    }
    for t in 0..steps {
        if !hoist {
            load_inputs(plan, x, &samples, g, t, values);
        }
        for (l, level) in plan.levels.iter().enumerate().skip(1) {
            if phase(l) != Phase::Core {
                continue;
            }
            if !has_hoisted(l) {
                run.bias(l, t, values);
            }
            for bi in (0..level.blocks.len()).filter(|&bi| !hoisted(l, bi)) {
                run.block(l, bi, t, values);
            }
            maps.forward(l, level, g, t, values, &mut scratch);
            run.activate(l, t, values);
            if !level.cells.is_empty() {
                cells::forward(level, &soa[cell_offsets[l] * w..], g, t, values, &zeros);
            }
        }
        if want.outputs && !hoist {
            record_outputs(plan, g, t, steps, values, outputs);
        }
    }
    if hoist {
        for l in (1..plan.levels.len()).filter(|&l| phase(l) == Phase::After) {
            run.level_all_steps(l, steps, values, &mut scratch);
        }
        if want.outputs {
            for t in 0..steps {
                record_outputs(plan, g, t, steps, values, outputs);
            }
        }
    }
}

/// Whether this run takes levels and blocks out of the step loop: it must
/// store every step (training, or a run shorter than the ring) and have
/// more than one of them.
pub(super) fn hoists(plan: &Plan, g: Geometry, steps: usize) -> bool {
    steps > 1 && g.slots >= g.first + steps && !plan.has_maps() && plan.phases.any()
}

/// Inputs of step t: (sample, feature) -> row-major [feature][sample].
fn load_inputs<T: Real>(
    plan: &Plan,
    x: &Sequences<'_, T>,
    samples: &Range<usize>,
    g: Geometry,
    t: usize,
    values: &mut [T],
) {
    let n_in = plan.n_inputs;
    if g.width == 1 {
        // one sample: its step's features are already one row each, in order
        let from = (samples.start * x.steps + t) * n_in;
        values[g.at(t, 0)..][..n_in].copy_from_slice(&x.data[from..from + n_in]);
        return;
    }
    let user = Strided { offset: (samples.start * x.steps + t) * n_in, row_stride: x.steps * n_in, col_stride: 1 };
    let rows = Strided { offset: g.at(t, 0), row_stride: 1, col_stride: g.width };
    transpose::copy(samples.len(), n_in, x.data, user, values, rows, |v, x| *v = x);
}

/// Output rows of step t into (sample, step, output), row by row: each
/// output row is read once, contiguously.
fn record_outputs<T: Real>(plan: &Plan, g: Geometry, t: usize, steps: usize, values: &[T], outputs: &mut [T]) {
    let n_out = plan.n_outputs();
    for (k, &row) in plan.output_rows.iter().enumerate() {
        for (b, &v) in values[g.at(t, row)..][..g.width].iter().enumerate() {
            outputs[(b * steps + t) * n_out + k] = v;
        }
    }
}

/// What every piece of one chunk's forward pass reads.
struct Pass<'a, T> {
    plan: &'a Plan,
    params: &'a [T],
    weights: &'a RunWeights<T>,
    g: Geometry,
    samples: Range<usize>,
    want: Want,
}

impl<T: Real> Pass<'_, T> {
    /// A level's rows (values and ports) at step t start from their biases.
    fn bias(&self, l: usize, t: usize, values: &mut [T]) {
        let slot = &mut values[self.g.at(t, 0)..][..self.g.slot_len()];
        for (range, b) in self.bias_pieces(l) {
            slot[range].fill(b);
        }
    }

    /// [`Pass::bias`] at every step, the level's pieces listed once.
    fn bias_all_steps(&self, l: usize, steps: usize, values: &mut [T]) {
        let pieces: Vec<(Range<usize>, T)> = self.bias_pieces(l).collect();
        for t in 0..steps {
            let slot = &mut values[self.g.at(t, 0)..][..self.g.slot_len()];
            for (range, b) in &pieces {
                slot[range.clone()].fill(*b);
            }
        }
    }

    /// A level's bias runs as (values within a step's slot, the bias value).
    fn bias_pieces(&self, l: usize) -> impl Iterator<Item = (Range<usize>, T)> + '_ {
        let w = self.g.width;
        self.plan.levels[l]
            .bias
            .iter()
            .flat_map(|r| r.pieces())
            .map(move |(rows, p)| (rows.start * w..rows.end * w, p.map_or(T::ZERO, |p| self.params[p])))
    }

    /// dst[t] += W · src[t − skip] for one block at one step.
    fn block(&self, l: usize, bi: usize, t: usize, values: &mut [T]) {
        let (g, level) = (self.g, &self.plan.levels[l]);
        let block = &level.blocks[bi];
        if !g.reaches(t, block.skip) {
            return; // sources before the sequence start are 0
        }
        let dst_range = g.at(t, block.dst.start)..g.at(t, block.dst.start) + block.dst.len() * g.width;
        let src = source_range(block, g, t, level.rows.start);
        let (src_vals, dst) = split_read_write(values, src, dst_range);
        accumulate(
            block,
            self.params,
            self.weights,
            (l, bi),
            self.plan,
            src_vals,
            first_source_row(block),
            dst,
            g.width,
        );
    }

    /// One block at every step it reaches: at one sample per chunk a dense
    /// block is one GEMM over the steps (sources gathered into `scratch`,
    /// the destination written in place with a stride of one step) and a
    /// sparse one an axpy over the steps per edge; else step by step.
    fn block_all_steps(&self, l: usize, bi: usize, steps: usize, values: &mut [T], scratch: &mut Vec<T>) {
        let g = self.g;
        let block = &self.plan.levels[l].blocks[bi];
        let t0 = g.first_reaching(block.skip);
        if t0 >= steps {
            return;
        }
        if g.width != 1 {
            for t in t0..steps {
                self.block(l, bi, t, values);
            }
            return;
        }
        let (span, slot) = (steps - t0, g.slot_len());
        if !block.is_dense() {
            // One strided axpy over the steps per edge (in each step the
            // edges still add in their order, so the sums are the same).
            let weights = &self.params[block.params.clone()];
            for (k, _, d0, s0) in sparse_edges(block, g, t0) {
                for j in 0..span {
                    values[d0 + j * slot] += weights[k] * values[s0 + j * slot];
                }
            }
            return;
        }
        let (n_src, n_dst) = (block.n_src(), block.dst.len());
        gather_steps(values, g, span, g.at_back(t0, block.skip, block.src_rows.start), n_src, scratch);
        let src = gemm::View { data: &scratch[..], rows: n_src, cols: span, row_stride: 1, col_stride: n_src };
        let wm = gemm::View::row_major(self.weights.matrix(l, bi, self.params, self.plan), n_dst, n_src);
        gemm::gemm_strided(&mut values[g.at(t0, block.dst.start)..], 1, slot, true, wm, src);
    }

    /// Activation (and dropout) of a level's simple rows at step t.
    fn activate(&self, l: usize, t: usize, values: &mut [T]) {
        let (g, level) = (self.g, &self.plan.levels[l]);
        let w = g.width;
        let simple = g.at(t, level.rows.start)..g.at(t, level.rows.start) + level.n_simple * w;
        let dst = &mut values[simple];
        activation::apply_runs(level.acts.iter().map(|r| (r.rows.clone(), r.act)), dst, w);
        if let Some(d) = self.want.dropout {
            for i in (0..level.n_simple).filter(|&i| !self.plan.is_output_row(level.rows.start + i)) {
                for (b, v) in dst[i * w..(i + 1) * w].iter_mut().enumerate() {
                    *v *= d.factor::<T>(self.samples.start + b, t, level.rows.start + i);
                }
            }
        }
    }

    /// A Before or After level (no cells, no maps) for every step.
    fn level_all_steps(&self, l: usize, steps: usize, values: &mut [T], scratch: &mut Vec<T>) {
        self.bias_all_steps(l, steps, values);
        for bi in 0..self.plan.levels[l].blocks.len() {
            self.block_all_steps(l, bi, steps, values, scratch);
        }
        if self.want.dropout.is_some() {
            for t in 0..steps {
                self.activate(l, t, values);
            }
            return;
        }
        // every step in one SIMD dispatch (at batch 1 a dispatch per step
        // costs more than the step's rows)
        let (g, level) = (self.g, &self.plan.levels[l]);
        let runs = level.acts.iter().map(|r| (r.rows.clone(), r.act));
        let first = g.at(0, level.rows.start);
        activation::apply_runs_steps(runs, &mut values[first..], g.width, steps, g.slot_len());
    }
}

/// A sparse block's edges at one sample per chunk, in order: (entry k, its
/// source row, the offsets of its destination at step t0 and of its source
/// at t0 − skip). Each is then one axpy over the steps, one slot apart.
pub(super) fn sparse_edges(
    block: &Block,
    g: Geometry,
    t0: usize,
) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
    (0..block.dst.len()).flat_map(move |i| {
        (block.row_ptr[i]..block.row_ptr[i + 1]).map(move |k| {
            let src = block.cols[k] as usize;
            (k, src, g.at(t0, block.dst.start + i), g.at_back(t0, block.skip, src))
        })
    })
}

/// Copies the `n` values at `start` of `span` consecutive steps (one sample
/// per chunk) into `out` as [step][row]: the operand of a GEMM over the steps.
pub(super) fn gather_steps<T: Real>(buf: &[T], g: Geometry, span: usize, start: usize, n: usize, out: &mut Vec<T>) {
    debug_assert_eq!(g.width, 1);
    out.clear();
    out.reserve(span * n);
    let slot = g.slot_len();
    for j in 0..span {
        out.extend_from_slice(&buf[start + j * slot..start + j * slot + n]);
    }
}

/// Rows a block reads at step t: the dense source level, or for sparse
/// blocks every row below the level (same step) or the whole earlier step.
pub(super) fn source_range(block: &Block, g: Geometry, t: usize, level_start: usize) -> Range<usize> {
    let at = |row: usize| g.at_back(t, block.skip, row);
    match block.kind {
        BlockKind::Sparse if block.skip == 0 => at(0)..at(level_start),
        BlockKind::Sparse => at(0)..at(0) + g.slot_len(),
        _ => at(block.src_rows.start)..at(block.src_rows.start) + block.src_rows.len() * g.width,
    }
}

/// The row that `source_range` starts at (row 0 of a step for sparse
/// blocks, the source level for dense ones).
pub(super) fn first_source_row(block: &Block) -> usize {
    match block.kind {
        BlockKind::Sparse => 0,
        _ => block.src_rows.start,
    }
}

/// dst (level rows × w) += W · src.
#[allow(clippy::too_many_arguments)]
fn accumulate<T: Real>(
    block: &Block,
    params: &[T],
    weights: &RunWeights<T>,
    (l, bi): (usize, usize),
    plan: &Plan,
    src: &[T],
    src_row0: usize,
    dst: &mut [T],
    w: usize,
) {
    let n_dst = block.dst.len();
    match block.kind {
        BlockKind::Dense | BlockKind::MaskedDense => {
            let sm = gemm::View::row_major(src, block.n_src(), w);
            let wm = match weights.transposed(l, bi) {
                Some(wt) => gemm::View::row_major(wt, block.n_src(), n_dst).t(),
                None => gemm::View::row_major(weights.matrix(l, bi, params, plan), n_dst, block.n_src()),
            };
            gemm::gemm(dst, w, true, wm, sm);
        }
        BlockKind::Sparse => vector::simd(|| {
            let weights = &params[block.params.clone()];
            for i in 0..n_dst {
                let out = &mut dst[i * w..(i + 1) * w];
                let entries = block.row_ptr[i]..block.row_ptr[i + 1];
                for (&col, &wk) in block.cols[entries.clone()].iter().zip(&weights[entries]) {
                    let s = col as usize - src_row0;
                    vector::axpy_inline(wk, &src[s * w..(s + 1) * w], out);
                }
            }
        }),
    }
}
