//! Phase 1b: backpropagation through time of one chunk. Steps run
//! T−1..0 and levels deepest first, so a row's delta is complete (loss,
//! deeper levels at the same step, recurrent consumers at later steps)
//! before it is turned into dz = delta · g'(z) in place and pushed to the
//! block sources: dsrc[t − skip] += Wᵀ · dz.

use super::forward::source_range;
use super::{split_read_write, Geometry, MaskedWeights, Want};
use crate::kernels::{activation, gemm, vector};
use crate::plan::{BlockKind, Plan};
use crate::real::Real;

#[allow(clippy::too_many_arguments)]
pub(super) fn run<T: Real>(
    plan: &Plan,
    params: &[T],
    masked: &MaskedWeights<T>,
    steps: usize,
    first_sample: usize,
    g: Geometry,
    values: &[T],
    deltas: &mut [T],
    want: Want,
) {
    let w = g.width;
    let n_in = plan.n_inputs;
    let input_grads = want.input_grads;
    let clip = want.clip_deltas.map(|(o, h)| (T::from_f64(o), T::from_f64(h)));
    for t in (0..steps).rev() {
        for (l, level) in plan.levels.iter().enumerate().skip(1).rev() {
            let dz_range = g.at(t, level.rows.start)..g.at(t, level.rows.start) + level.rows.len() * w;
            for (i, &act) in level.acts.iter().enumerate() {
                let r = dz_range.start + i * w..dz_range.start + (i + 1) * w;
                let row = level.rows.start + i;
                if let Some((out, hidden)) = clip {
                    let limit = if plan.is_output_row[row] { out } else { hidden };
                    clamp(&mut deltas[r.clone()], limit);
                }
                match want.dropout.filter(|_| !plan.is_output_row[row]) {
                    None => activation::backprop(act, &values[r.clone()], &mut deltas[r]),
                    Some(d) => {
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
            for (bi, block) in level.blocks.iter().enumerate() {
                if block.skip > t {
                    continue;
                }
                let feeds_inputs_only = block.is_dense() && block.src_rows.end <= n_in;
                if feeds_inputs_only && !input_grads {
                    continue; // nobody needs deltas of the input rows
                }
                let src = source_range(block, g, t, level.rows.start);
                let src_row0 = (src.start - g.at(t - block.skip, 0)) / w;
                let (dz, dsrc) = split_read_write(deltas, dz_range.clone(), src);
                let n_dst = level.rows.len();
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
        }
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
