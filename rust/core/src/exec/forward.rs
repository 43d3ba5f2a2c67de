//! Phase 1a: the forward pass of one chunk over every time step. Each level
//! starts from its biases, accumulates its blocks (GEMM or CSR axpys, reading
//! sources at t − skip) into its value rows and its cells' ports, then
//! applies the activation of each simple row and runs its memory cells.

use super::input::Sequences;
use super::maps::MapRun;
use super::transpose::{self, Strided};
use super::{cells, split_read_write, Geometry, MaskedWeights, Want};
use crate::kernels::{activation, gemm, vector};
use crate::plan::{Block, BlockKind, Plan};
use crate::real::Real;
use std::ops::Range;

#[allow(clippy::too_many_arguments)]
pub(super) fn run<T: Real>(
    plan: &Plan,
    params: &[T],
    masked: &MaskedWeights<T>,
    maps: &MapRun<'_, T>,
    x: &Sequences<'_, T>,
    samples: Range<usize>,
    g: Geometry,
    values: &mut [T],
    outputs: &mut [T],
    want: Want,
) {
    let record_outputs = want.outputs;
    let w = g.width;
    let n_out = plan.n_outputs();
    let zeros = vec![T::ZERO; plan.widest_cell_group().max(1) * w];
    let soa = cells::transposed_params(plan, params, w);
    let cell_offsets = cells::level_offsets(plan);
    let mut scratch = Vec::new();
    for t in 0..x.steps {
        // Inputs: (sample, feature) -> row-major [feature][sample].
        let n_in = plan.n_inputs;
        let user = Strided { offset: (samples.start * x.steps + t) * n_in, row_stride: x.steps * n_in, col_stride: 1 };
        let rows = Strided { offset: g.at(t, 0), row_stride: 1, col_stride: w };
        transpose::copy(samples.len(), n_in, x.data, user, values, rows, |v, x| *v = x);
        for (l, level) in plan.levels.iter().enumerate().skip(1) {
            for (rows, p) in level.bias.iter().flat_map(|r| r.pieces()) {
                let start = g.at(t, rows.start);
                values[start..start + rows.len() * w].fill(p.map_or(T::ZERO, |p| params[p]));
            }
            for (bi, block) in level.blocks.iter().enumerate() {
                if !g.reaches(t, block.skip) {
                    continue; // sources before the sequence start are 0
                }
                let dst_range = g.at(t, block.dst.start)..g.at(t, block.dst.start) + block.dst.len() * w;
                let src = source_range(block, g, t, level.rows.start);
                let (src_vals, dst) = split_read_write(values, src.clone(), dst_range);
                let src_row0 = first_source_row(block);
                accumulate(block, params, masked[l][bi].as_deref(), src_vals, src_row0, dst, w);
            }
            maps.forward(l, level, g, t, values, &mut scratch);
            let simple = g.at(t, level.rows.start)..g.at(t, level.rows.start) + level.n_simple * w;
            let dst = &mut values[simple];
            activation::apply_runs(level.acts.iter().map(|r| (r.rows.clone(), r.act)), dst, w);
            if let Some(d) = want.dropout {
                for i in (0..level.n_simple).filter(|&i| !plan.is_output_row(level.rows.start + i)) {
                    for (b, v) in dst[i * w..(i + 1) * w].iter_mut().enumerate() {
                        *v *= d.factor::<T>(samples.start + b, t, level.rows.start + i);
                    }
                }
            }
            if !level.cells.is_empty() {
                let soa = if soa.is_empty() { &soa[..] } else { &soa[cell_offsets[l]..] };
                cells::forward(level, params, soa, g, t, values, &zeros);
            }
        }
        if record_outputs {
            // row by row: each output row is read once, contiguously
            for (k, &row) in plan.output_rows.iter().enumerate() {
                for (b, &v) in values[g.at(t, row)..][..w].iter().enumerate() {
                    outputs[(b * x.steps + t) * n_out + k] = v;
                }
            }
        }
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
fn accumulate<T: Real>(
    block: &Block,
    params: &[T],
    masked: Option<&[T]>,
    src: &[T],
    src_row0: usize,
    dst: &mut [T],
    w: usize,
) {
    let n_dst = block.dst.len();
    match block.kind {
        BlockKind::Dense | BlockKind::MaskedDense => {
            let weights = masked.unwrap_or(&params[block.params.clone()]);
            let wm = gemm::View::row_major(weights, n_dst, block.n_src());
            let sm = gemm::View::row_major(src, block.n_src(), w);
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
