//! Phase 1b: backpropagation through time of one chunk. Steps run
//! T−1..0 and levels deepest first, so a row's delta is complete (loss,
//! deeper levels at the same step, recurrent consumers at later steps)
//! before it is turned into dz = delta · g'(z) in place (memory cells turn
//! it into deltas of their ports, and of their h / c at t − 1) and pushed
//! to the block sources: dsrc[t − skip] += Wᵀ · dz.

use super::forward::{first_source_row, source_range};
use super::maps::MapRun;
use super::{cells, split_read_write, Geometry, MaskedWeights, Want};
use crate::kernels::cells::LaneGrads;
use crate::kernels::{activation, gemm, vector};
use crate::plan::{BlockKind, Plan};
use crate::real::Real;

#[allow(clippy::too_many_arguments)]
pub(super) fn run<T: Real>(
    plan: &Plan,
    params: &[T],
    masked: &MaskedWeights<T>,
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
    let soa = cells::transposed_params(plan, params, w);
    // At batch size 1 the cells' gradients accumulate transposed, then are
    // added to the chunk's buffer in its layout at the end.
    let mut soa_grads = vec![T::ZERO; soa.len()];
    let zeros = vec![T::ZERO; plan.widest_cell_group().max(1) * w];
    let mut sink = vec![T::ZERO; 2 * zeros.len()];
    let mut lanes = Box::new(LaneGrads::new());
    let n_in = plan.n_inputs;
    let input_grads = want.input_grads;
    let clip = want.clip_deltas.map(|(o, h)| (T::from_f64(o), T::from_f64(h)));
    let mut scratch = Vec::new();
    let skip_rows_below = if input_grads { 0 } else { n_in };
    for t in (0..steps).rev() {
        for (l, level) in plan.levels.iter().enumerate().skip(1).rev() {
            let dz_range = g.at(t, level.rows.start)..g.at(t, level.rows.start) + level.rows.len() * w;
            if let Some((out, hidden)) = clip {
                for i in 0..level.rows.len() {
                    let limit = if plan.is_output_row(level.rows.start + i) { out } else { hidden };
                    clamp(&mut deltas[dz_range.start + i * w..dz_range.start + (i + 1) * w], limit);
                }
            }
            let simple = dz_range.start..dz_range.start + level.n_simple * w;
            match want.dropout {
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
                            let f: T = d.factor(first_sample + b, t, row);
                            *dv = if f == T::ZERO {
                                T::ZERO
                            } else {
                                *dv * f * activation::derivative_from_output(act, v / f)
                            };
                        }
                    }
                }
            }
            if !level.cells.is_empty() {
                let (soa, grads) = if soa.is_empty() {
                    (&soa[..], &mut cell_grads[cell_offsets[l]..])
                } else {
                    (&soa[cell_offsets[l]..], &mut soa_grads[cell_offsets[l]..])
                };
                cells::backward(level, params, soa, g, t, values, deltas, &zeros, &mut sink, grads, &mut lanes);
            }
            for (bi, block) in level.blocks.iter().enumerate() {
                if !g.reaches(t, block.skip) {
                    continue;
                }
                let dz_range = g.at(t, block.dst.start)..g.at(t, block.dst.start) + block.dst.len() * w;
                let feeds_inputs_only = block.is_dense() && block.src_rows.end <= n_in;
                if feeds_inputs_only && !input_grads {
                    continue; // nobody needs deltas of the input rows
                }
                let src = source_range(block, g, t, level.rows.start);
                let src_row0 = first_source_row(block);
                let (dz, dsrc) = split_read_write(deltas, dz_range.clone(), src);
                let n_dst = block.dst.len();
                match block.kind {
                    BlockKind::Dense | BlockKind::MaskedDense => {
                        let weights = masked[l][bi].as_deref().unwrap_or(&params[block.params.clone()]);
                        let wt = gemm::View::row_major(weights, n_dst, block.n_src()).t();
                        gemm::gemm(dsrc, w, true, wt, gemm::View::row_major(dz, n_dst, w));
                    }
                    BlockKind::Sparse => vector::simd(|| {
                        let weights = &params[block.params.clone()];
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
            maps.backward(l, level, g, t, values, deltas, &mut scratch, skip_rows_below);
        }
    }
    if !soa_grads.is_empty() {
        cells::add_transposed(plan, &soa_grads, cell_grads);
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
