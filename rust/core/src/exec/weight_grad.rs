//! Phase 2: weight and bias gradients. After phase 1 every chunk holds
//! dz (deltas times g') and the saved activations for every step; each
//! gradient task reduces Σ_chunk Σ_step dz · srcᵀ for its own disjoint
//! parameter range, always in the same order.

use super::maps::MapRun;
use super::workspace::{zero_parallel, Workspace};
use super::{threads, Geometry, CHUNK};
use crate::error::Result;
use crate::kernels::{gemm, vector};
use crate::plan::{Block, BlockKind, GradTask, Plan};
use crate::real::Real;
use std::ops::Range;

/// One chunk's saved buffers, read-only.
pub(super) struct ChunkRef<'a, T> {
    pub values: &'a [T],
    pub deltas: &'a [T],
    pub geometry: Geometry,
}

pub(super) fn run<T: Real>(
    plan: &Plan,
    maps: &MapRun<'_, T>,
    chunks: &[ChunkRef<'_, T>],
    steps: usize,
    parallel: bool,
    workspace: &Workspace<T>,
) -> Result<Vec<T>> {
    // A buffer from an earlier step when the caller gave one back (fresh
    // pages fault on first touch), zeroed by the pool.
    let mut grads = workspace.take("the parameter gradients", plan.n_params(), false)?;
    zero_parallel(&mut grads, parallel);
    {
        let mut work: Vec<(&GradTask, &mut [T])> = Vec::with_capacity(plan.tasks.len());
        let mut rest = &mut grads[..];
        let mut offset = 0;
        for task in &plan.tasks {
            let r = task.params();
            let (_, tail) = rest.split_at_mut(r.start - offset);
            let (mine, tail) = tail.split_at_mut(r.len());
            work.push((task, mine));
            rest = tail;
            offset = r.end;
        }
        threads::for_each_mut(&mut work, parallel, |(task, out)| match task {
            GradTask::Bias { level, .. } => bias(plan, *level, chunks, steps, out),
            GradTask::Conv { level, conv, .. } => maps.conv_grad(plan, *level, *conv, chunks, steps, out),
            GradTask::Block { level, block, rows, .. } => {
                let lv = &plan.levels[*level];
                let b = &lv.blocks[*block];
                let dst0 = b.dst.start + rows.start;
                match b.kind {
                    BlockKind::Sparse => sparse(b, rows.clone(), dst0, chunks, steps, out),
                    _ => dense(b, rows.clone(), dst0, chunks, steps, out, workspace),
                }
            }
        })?;
    }
    Ok(grads)
}

fn bias<T: Real>(plan: &Plan, level: usize, chunks: &[ChunkRef<'_, T>], steps: usize, out: &mut [T]) {
    let lv = &plan.levels[level];
    vector::simd(
        #[inline(always)]
        || {
            for run in lv.bias.iter().filter(|r| r.first.is_some()) {
                // Per row, Σ over chunks and steps of its deltas: over many
                // steps, whole runs of rows are added as one vector per step
                // and each row's lanes summed once at the end.
                let rows = run.rows.clone();
                let mut sums = vec![T::ZERO; rows.len()];
                for c in chunks {
                    let g = c.geometry;
                    let len = rows.len() * g.width;
                    if steps > 1 {
                        let mut acc = vec![T::ZERO; len];
                        for t in 0..steps {
                            let d = &c.deltas[g.at(t, rows.start)..g.at(t, rows.start) + len];
                            for (a, &v) in acc.iter_mut().zip(d) {
                                *a += v;
                            }
                        }
                        for (s, lanes) in sums.iter_mut().zip(acc.chunks_exact(g.width)) {
                            *s += vector::sum_inline(lanes);
                        }
                    } else {
                        let d = &c.deltas[g.at(0, rows.start)..g.at(0, rows.start) + len];
                        for (s, lanes) in sums.iter_mut().zip(d.chunks_exact(g.width)) {
                            *s += vector::sum_inline(lanes);
                        }
                    }
                }
                // Tied map biases: several rows add into one parameter.
                for (piece, p) in run.pieces() {
                    let p = p.expect("a biased run");
                    let total =
                        sums[piece.start - rows.start..piece.end - rows.start].iter().fold(T::ZERO, |a, &v| a + v);
                    out[p - lv.bias_params.start] += total;
                }
            }
        },
    )
}

/// Rows `rows` of a dense block: dW += dz[t] · src[t − skip]ᵀ over chunks
/// and steps, as GEMMs whose inner dimension is the chunk's samples — or
/// the steps, when a chunk has only a few samples and more steps.
fn dense<T: Real>(
    block: &Block,
    rows: Range<usize>,
    dst0: usize,
    chunks: &[ChunkRef<'_, T>],
    steps: usize,
    out: &mut [T],
    workspace: &Workspace<T>,
) {
    if block.kind == BlockKind::Dense {
        return dense_rows(block, rows.len(), dst0, chunks, steps, out, workspace);
    }
    let n = block.n_src();
    let mut dw = vec![T::ZERO; rows.len() * n];
    dense_rows(block, rows.len(), dst0, chunks, steps, &mut dw, workspace);
    let base = block.row_ptr[rows.start];
    for i in rows.clone() {
        for k in block.row_ptr[i]..block.row_ptr[i + 1] {
            out[k - base] = dw[(i - rows.start) * n + block.cols[k] as usize];
        }
    }
}

/// Below this many samples per chunk, one GEMM per sample over all steps
/// (strided) beats one GEMM per step whose inner dimension is the samples;
/// above it the strided operands cost more to pack than they save
/// (measured: LSTM 26-64, batch 32, 100 steps).
const STRIDED_MAX_WIDTH: usize = 8;

/// Below this many multiply-adds per step of a chunk, a block's dW is one
/// GEMM over every chunk and step, its operands gathered first: per-step
/// GEMMs that small cost more in calls and packing than in arithmetic,
/// worst at widths that are not a multiple of the vector width (measured:
/// EXAMM's 12×48 block at 14 samples, 5× slower per step than at 28).
const GATHER_MAX_STEP_WORK: usize = 1 << 16;

/// dw (m × n_src) = Σ_chunks Σ_t dz[t][dst0..dst0+m] · src[t − skip]ᵀ.
fn dense_rows<T: Real>(
    block: &Block,
    m: usize,
    dst0: usize,
    chunks: &[ChunkRef<'_, T>],
    steps: usize,
    dw: &mut [T],
    workspace: &Workspace<T>,
) {
    let n = block.n_src();
    let skip = block.skip;
    let widest = chunks.iter().map(|c| c.geometry.width).max().unwrap_or(0);
    if widest >= STRIDED_MAX_WIDTH && (steps > 1 || chunks.len() > 1) && m * n * widest < GATHER_MAX_STEP_WORK {
        return dense_rows_gathered(block, m, dst0, chunks, steps, dw, workspace);
    }
    let mut first = true;
    for c in chunks {
        let g = c.geometry;
        // Steps whose source exists (the history counts).
        let t0 = g.first_reaching(skip);
        if steps > t0 {
            let span = steps - t0;
            let (w, slot) = (g.width, g.slot_len());
            if span > w && w < STRIDED_MAX_WIDTH {
                // For each sample: [m × span] · [span × n], strided over steps.
                for b in 0..w {
                    let a = gemm::View {
                        data: &c.deltas[g.at(t0, dst0) + b..],
                        rows: m,
                        cols: span,
                        row_stride: w,
                        col_stride: slot,
                    };
                    let s = gemm::View {
                        data: &c.values[g.at_back(t0, skip, block.src_rows.start) + b..],
                        rows: span,
                        cols: n,
                        row_stride: slot,
                        col_stride: w,
                    };
                    gemm::gemm(dw, n, !first, a, s);
                    first = false;
                }
            } else {
                for t in t0..steps {
                    let a = gemm::View::row_major(&c.deltas[g.at(t, dst0)..g.at(t, dst0) + m * w], m, w);
                    let src = g.at_back(t, skip, block.src_rows.start);
                    let s = gemm::View::row_major(&c.values[src..src + n * w], n, w).t();
                    gemm::gemm(dw, n, !first, a, s);
                    first = false;
                }
            }
        }
    }
    if first {
        dw.fill(T::ZERO);
    }
}

/// [`dense_rows`] as one GEMM whose inner dimension is every (chunk, step,
/// sample): dz rows and source rows are copied into contiguous operands
/// first (in chunk and step order, so the sum's order is fixed).
fn dense_rows_gathered<T: Real>(
    block: &Block,
    m: usize,
    dst0: usize,
    chunks: &[ChunkRef<'_, T>],
    steps: usize,
    dw: &mut [T],
    workspace: &Workspace<T>,
) {
    let (n, skip) = (block.n_src(), block.skip);
    let k: usize =
        chunks.iter().map(|c| steps.saturating_sub(c.geometry.first_reaching(skip)) * c.geometry.width).sum();
    if k == 0 {
        dw.fill(T::ZERO);
        return;
    }
    // Every element is written below, so reused buffers may be stale.
    // Pieces of the run's activations and deltas: bounded by them.
    let (mut a, mut b) = (workspace.take_bounded(m * k, false), workspace.take_bounded(n * k, false));
    let mut col = 0;
    for c in chunks {
        let g = c.geometry;
        let w = g.width;
        for t in g.first_reaching(skip)..steps {
            let dz = &c.deltas[g.at(t, dst0)..g.at(t, dst0) + m * w];
            for (i, row) in dz.chunks_exact(w).enumerate() {
                a[i * k + col..i * k + col + w].copy_from_slice(row);
            }
            let src = g.at_back(t, skip, block.src_rows.start);
            for (j, row) in c.values[src..src + n * w].chunks_exact(w).enumerate() {
                b[j * k + col..j * k + col + w].copy_from_slice(row);
            }
            col += w;
        }
    }
    gemm::gemm(dw, n, false, gemm::View::row_major(&a, m, k), gemm::View::row_major(&b, n, k).t());
    workspace.give(a);
    workspace.give(b);
}

/// Rows `rows` of a sparse block: one dot product per edge.
fn sparse<T: Real>(
    block: &Block,
    rows: Range<usize>,
    dst0: usize,
    chunks: &[ChunkRef<'_, T>],
    steps: usize,
    out: &mut [T],
) {
    let base = block.row_ptr[rows.start];
    vector::simd(|| {
        for i in rows.clone() {
            let row = dst0 + (i - rows.start);
            for k in block.row_ptr[i]..block.row_ptr[i + 1] {
                let src = block.cols[k] as usize;
                let mut acc = T::ZERO;
                for c in chunks {
                    let g = c.geometry;
                    let t0 = g.first_reaching(block.skip);
                    if g.width == 1 {
                        // One sample: a dot product over the steps, one slot
                        // apart (training stores every step), in four lanes:
                        // one running sum would wait an add's latency per step.
                        let slot = g.slot_len();
                        let n = steps.saturating_sub(t0);
                        if n == 0 {
                            continue; // the skip reaches back before every step
                        }
                        let d = &c.deltas[g.at(t0, row)..];
                        let v = &c.values[g.at_back(t0, block.skip, src)..];
                        assert!(d.len() > (n - 1) * slot && v.len() > (n - 1) * slot);
                        let at = |j: usize| d[j * slot] * v[j * slot];
                        let mut lanes = [T::ZERO; 4];
                        for j in (0..n - n % 4).step_by(4) {
                            lanes =
                                [lanes[0] + at(j), lanes[1] + at(j + 1), lanes[2] + at(j + 2), lanes[3] + at(j + 3)];
                        }
                        for j in n - n % 4..n {
                            lanes[0] += at(j);
                        }
                        acc += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
                        continue;
                    }
                    if steps - t0.min(steps) > 1 && g.width <= CHUNK {
                        // Over many steps: products summed per sample, the
                        // samples summed once (not a dot product per step).
                        let mut lanes = [T::ZERO; CHUNK]; // no chunk is wider
                        let w = g.width;
                        for t in t0..steps {
                            let d = &c.deltas[g.at(t, row)..g.at(t, row) + w];
                            let v = &c.values[g.at_back(t, block.skip, src)..g.at_back(t, block.skip, src) + w];
                            for ((l, &d), &v) in lanes[..w].iter_mut().zip(d).zip(v) {
                                *l += d * v;
                            }
                        }
                        acc += vector::sum_inline(&lanes[..w]);
                        continue;
                    }
                    for t in t0..steps {
                        let d = &c.deltas[g.at(t, row)..g.at(t, row) + g.width];
                        let v = &c.values[g.at_back(t, block.skip, src)..g.at_back(t, block.skip, src) + g.width];
                        acc += vector::dot_inline(d, v);
                    }
                }
                out[k - base] = acc;
            }
        }
    })
}
