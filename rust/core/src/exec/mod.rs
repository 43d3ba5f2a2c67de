//! Execution of a plan over a batch of sequences: forward, loss, backward
//! through time, weight gradients.
//!
//! The batch is cut into fixed-size chunks (CHUNK samples, independent of
//! the thread count). Each chunk owns a contiguous buffer of activations
//! `[step][row][sample]` and runs forward, loss and the backward deltas on
//! its own (phase 1, chunks in parallel). Weight gradients are then reduced
//! over chunks and steps in a fixed order by the plan's gradient tasks
//! (phase 2, tasks in parallel). No gradient is ever summed in an order that
//! depends on scheduling, so results are bitwise identical for any number
//! of threads.

mod backward;
mod cells;
mod dropout;
mod forward;
mod input;
mod maps;
mod state;
mod threads;
mod transpose;
mod weight_grad;
mod weights;
mod workspace;

pub use dropout::Dropout;
pub use input::{Seed, Sequences, Targets};
pub(crate) use threads::for_each_mut;
pub use threads::{num_threads, set_num_threads, ENV_VAR};
pub use workspace::Workspace;

use crate::error::Result;
use crate::limits;
use crate::plan::Plan;
use crate::real::Real;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Most samples per chunk, the unit of batch parallelism.
pub const CHUNK: usize = 64;
/// Samples per chunk for networks without feature maps: from 32 samples
/// up, half the batch rounded up to a multiple of 16 (at most [`CHUNK`]),
/// so a second thread gets a chunk of its own; smaller batches stay whole.
/// Chunk widths stay multiples of the vector width (measured: at 14 or 12
/// samples a step costs over twice what it does at 16). A function of the
/// batch size only, never of the thread count.
pub fn chunk(batch: usize) -> usize {
    if batch < 32 {
        return batch.max(1);
    }
    (batch / 2).next_multiple_of(16).min(CHUNK)
}

/// Samples per chunk for networks with feature maps, whose per-sample work
/// is large: a quarter of the batch (a multiple of 8, from 8 to 32), so
/// batches of 32–128 images still make four chunks for the threads. A
/// function of the batch size only, never of the thread count.
pub fn map_chunk(batch: usize) -> usize {
    batch.div_ceil(4).next_multiple_of(8).clamp(8, 32)
}

/// Below this much work (parameters × samples × steps) a run stays on the
/// calling thread: handing tiny networks to the pool costs more than it
/// saves. The split into chunks and tasks is the same either way.
const MIN_PARALLEL_WORK: usize = 1 << 21;

/// A test-only override of every "large enough for the pool" threshold
/// (runs, optimiser steps, norms, convolution gradients); 0: none.
static PARALLEL_OVERRIDE: AtomicUsize = AtomicUsize::new(0);

/// Lowers (or raises) every threshold above which work goes to the pool,
/// so that tests of thread-count independence run small networks on it;
/// 0 restores the defaults. Returns the previous override. Results do not
/// depend on it.
#[doc(hidden)]
pub fn set_min_parallel_work(work: usize) -> usize {
    PARALLEL_OVERRIDE.swap(work, Ordering::Relaxed)
}

/// `default`, unless a test lowered the thresholds.
pub(crate) fn parallel_threshold(default: usize) -> usize {
    match PARALLEL_OVERRIDE.load(Ordering::Relaxed) {
        0 => default,
        n => n,
    }
}

pub use threads::pool_runs;

/// Activation memory of one wave of chunks in a forward-only run (at least
/// one chunk per wave); see [`set_inference_memory`].
static INFERENCE_BYTES: AtomicUsize = AtomicUsize::new(256 << 20);

/// Caps the activation memory of forward-only runs (predictions,
/// evaluation) at about `bytes`: the batch's chunks then run in waves that
/// reuse one buffer. Results do not depend on it.
pub fn set_inference_memory(bytes: usize) -> Result<()> {
    if bytes == 0 {
        crate::bail!(Config, "inference memory must be at least 1 byte, got 0");
    }
    INFERENCE_BYTES.store(bytes, Ordering::Relaxed);
    Ok(())
}

/// What a run should produce.
#[derive(Clone, Copy, Debug, Default)]
pub struct Want {
    /// Outputs (batch, steps, n_outputs).
    pub outputs: bool,
    /// Parameter gradients (needs a seed).
    pub param_grads: bool,
    /// Gradients with respect to the inputs (batch, steps, n_inputs).
    pub input_grads: bool,
    /// Use the thread pool (off inside already-parallel callers).
    pub parallel: bool,
    /// Clip each node's delta dL/d(value) to ±(output, hidden) before it
    /// passes through the activation (Pascanu et al.: ±100 and ±10).
    pub clip_deltas: Option<(f64, f64)>,
    /// Dropout on hidden nodes (training only).
    pub dropout: Option<Dropout>,
    /// The state after the last step, to continue from (see
    /// [`Sequences::with_state`]).
    pub final_state: bool,
    /// Seed of this run's fractional max pooling regions (drawn afresh for
    /// each forward pass when training).
    pub pool_seed: u64,
}

/// Results of a run; fields not asked for are empty / None.
#[derive(Clone, Debug, Default)]
pub struct RunOutput<T> {
    /// Summed (or mean) loss; 0 without a loss seed.
    pub loss: f64,
    pub outputs: Option<Vec<T>>,
    pub param_grads: Option<Vec<T>>,
    pub input_grads: Option<Vec<T>>,
    /// `(batch, plan.memory, plan.n_rows())`, when asked for.
    pub final_state: Option<Vec<T>>,
}

/// Row-major buffer geometry of one chunk.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    pub rows: usize,
    /// Samples in this chunk.
    pub width: usize,
    /// Steps stored: all of them when training, else a ring of at least
    /// memory + 1 (a power of two) unless the run is shorter.
    pub slots: usize,
    /// Steps of history (a given initial state) stored before step 0.
    pub first: usize,
}

impl Geometry {
    pub fn slot_len(&self) -> usize {
        self.rows * self.width
    }
    /// Offset of (step, row) in the chunk buffer; steps count from the
    /// first step of the inputs.
    #[inline]
    pub fn at(&self, step: usize, row: usize) -> usize {
        self.at_internal(step + self.first, row)
    }
    /// Offset of (step − back, row): a step of the history when back > step.
    #[inline]
    pub fn at_back(&self, step: usize, back: usize, row: usize) -> usize {
        self.at_internal(step + self.first - back, row)
    }
    /// The first step whose step − back exists (see [`Geometry::reaches`]).
    #[inline]
    pub fn first_reaching(&self, back: usize) -> usize {
        back.saturating_sub(self.first)
    }
    /// Whether step − back exists (in the inputs or the history); before
    /// that, values are 0.
    #[inline]
    pub fn reaches(&self, step: usize, back: usize) -> bool {
        step + self.first >= back
    }
    #[inline]
    pub fn at_internal(&self, s: usize, row: usize) -> usize {
        // Training stores every step (s < slots); an inference ring has a
        // power-of-two length. Either way no division, which would cost
        // more than everything else here at batch size 1.
        debug_assert!(s < self.slots || self.slots.is_power_of_two());
        let slot = if s < self.slots { s } else { s & (self.slots - 1) };
        (slot * self.rows + row) * self.width
    }
}

/// One chunk's share of every buffer, for phase 1.
struct ChunkJob<'a, T> {
    samples: std::ops::Range<usize>,
    values: &'a mut [T],
    deltas: &'a mut [T],
    outputs: &'a mut [T],
    input_grads: &'a mut [T],
    final_state: &'a mut [T],
    /// The chunk's gradients of memory cells' own parameters (compact).
    cell_grads: Vec<T>,
    loss: f64,
}

/// Runs the plan on a batch. See [`Want`] for what is computed.
pub fn run<T: Real>(
    plan: &Plan,
    params: &[T],
    x: &Sequences<'_, T>,
    seed: Option<&Seed<'_, T>>,
    want: Want,
    workspace: &Workspace<T>,
) -> Result<RunOutput<T>> {
    x.check(plan)?;
    if let Some(seed) = seed {
        seed.check(plan, x)?;
    }
    let (batch, steps) = (x.batch, x.steps);
    let work = (plan.n_params() + plan.n_rows()).saturating_mul(batch).saturating_mul(steps);
    let want = Want { parallel: want.parallel && work >= parallel_threshold(MIN_PARALLEL_WORK), ..want };
    let backward = seed.is_some() && (want.param_grads || want.input_grads);
    // The loss reads every step after the forward pass; pure inference keeps
    // only the ring of states the recurrent edges can reach.
    // A given initial state occupies `memory` steps of history before step 0.
    let first = if x.initial.is_some() { plan.memory } else { 0 };
    let slots = if seed.is_some() { first + steps } else { (first + steps).min((plan.memory + 1).next_power_of_two()) };
    let geometry = |width: usize| Geometry { rows: plan.n_rows(), width, slots, first };
    let chunk = if plan.has_maps() { map_chunk(batch) } else { chunk(batch) };
    let n_chunks = batch.div_ceil(chunk);
    let width = |c: usize| chunk.min(batch - c * chunk);
    let chunk_len = |c: usize| geometry(width(c)).slot_len() * slots;
    // Sizes from the user (batch, steps) and the graph (rows), checked
    // before anything is allocated: one chunk, then every buffer the run
    // takes whole.
    let elem = size_of::<T>();
    let activations = if backward { "the activations of a training run" } else { "the activations of one chunk" };
    limits::values(activations, &[plan.n_rows(), chunk.min(batch.max(1)), slots, 1 + backward as usize], elem)?;
    let total = if backward { limits::values(activations, &[plan.n_rows(), batch, slots, 2], elem)? / 2 } else { 0 };
    let out_len =
        if want.outputs { limits::values("the outputs", &[batch, steps, plan.n_outputs()], elem)? } else { 0 };
    let want_dx = backward && want.input_grads;
    let dx_len = if want_dx { limits::values("the input gradients", &[batch, steps, plan.n_inputs], elem)? } else { 0 };
    let state_len = if want.final_state { limits::values("a state", &[plan.memory, plan.n_rows()], elem)? } else { 0 };
    let fs_len = if want.final_state { limits::values("the final state", &[batch, state_len], elem)? } else { 0 };

    // One sample over many steps: the forward pass reads Wᵀ (see weights.rs).
    let weights = weights::RunWeights::new(plan, params, batch == 1 && steps > 1);
    let maps = maps::MapRun::new(plan, params, want.pool_seed)?;
    // Training keeps every chunk's values for the weight gradients; pure
    // forward passes (predictions, evaluation) run the chunks in waves
    // that reuse one buffer, so a large batch of images needs no more
    // memory than INFERENCE_BYTES of activations.
    let wave = if backward {
        n_chunks.max(1)
    } else {
        let per_chunk = chunk_len(0).max(1) * std::mem::size_of::<T>();
        (INFERENCE_BYTES.load(Ordering::Relaxed) / per_chunk).clamp(1, n_chunks.max(1))
    };
    let wave_len = |w0: usize| (w0..(w0 + wave).min(n_chunks)).map(chunk_len).sum::<usize>();
    // Every value row is written before it is read, so values may be stale.
    let mut values = workspace.take(activations, if backward { total } else { wave_len(0) }, false)?;
    // Each chunk zeroes its own deltas (in parallel, on the thread that uses them).
    let mut deltas = match workspace.take("the deltas of a training run", if backward { total } else { 0 }, false) {
        Ok(d) => d,
        Err(e) => {
            workspace.give(values);
            return Err(e);
        }
    };
    let mut outputs = limits::try_vec("the outputs", out_len, T::ZERO)?;
    let mut input_grads = limits::try_vec("the input gradients", dx_len, T::ZERO)?;
    let mut final_state = limits::try_vec("the final state", fs_len, T::ZERO)?;

    let n_cell_grads = if backward { cells::grad_len(plan) } else { 0 };
    let mut loss_sum = 0.0;
    let mut cell_grads: Vec<Vec<T>> = Vec::new();
    let (mut o, mut dx, mut fs) = (&mut outputs[..], &mut input_grads[..], &mut final_state[..]);
    for w0 in (0..n_chunks).step_by(wave) {
        let mut jobs: Vec<ChunkJob<'_, T>> = Vec::with_capacity(wave);
        let (mut v, mut d) = (&mut values[..], &mut deltas[..]);
        for c in w0..(w0 + wave).min(n_chunks) {
            let n = width(c);
            let len = chunk_len(c);
            let (vc, vr) = std::mem::take(&mut v).split_at_mut(len);
            let (dc, dr) = std::mem::take(&mut d).split_at_mut(if backward { len } else { 0 });
            let (oc, or) =
                std::mem::take(&mut o).split_at_mut(if want.outputs { n * steps * plan.n_outputs() } else { 0 });
            let (xc, xr) = std::mem::take(&mut dx).split_at_mut(if want_dx { n * steps * plan.n_inputs } else { 0 });
            let (sc, sr) = std::mem::take(&mut fs).split_at_mut(if want.final_state { n * state_len } else { 0 });
            jobs.push(ChunkJob {
                samples: c * chunk..c * chunk + n,
                values: vc,
                deltas: dc,
                outputs: oc,
                input_grads: xc,
                final_state: sc,
                cell_grads: vec![T::ZERO; n_cell_grads],
                loss: 0.0,
            });
            (v, d, o, dx, fs) = (vr, dr, or, xr, sr);
        }
        threads::for_each_mut(&mut jobs, want.parallel, |job| {
            let g = geometry(job.samples.len());
            job.deltas.fill(T::ZERO);
            if let Some(state) = x.initial {
                state::load(plan, state, job.samples.clone(), g, job.values);
            }
            // One dispatch for the chunk's whole pass: the step loop's many
            // small kernels then run in code compiled for the CPU's
            // instruction set, not behind a dispatch each.
            crate::kernels::vector::simd(
                #[inline(always)]
                || {
                    forward::run(
                        plan,
                        params,
                        &weights,
                        &maps,
                        x,
                        job.samples.clone(),
                        g,
                        job.values,
                        job.outputs,
                        want,
                    )
                },
            );
            if want.final_state {
                state::save(plan, steps, g, job.values, job.final_state);
            }
            if let Some(seed) = seed {
                job.loss = seed.apply(plan, x, job.samples.clone(), g, job.values, job.deltas);
                if backward {
                    let first = job.samples.start;
                    crate::kernels::vector::simd(
                        #[inline(always)]
                        || {
                            backward::run(
                                plan,
                                params,
                                &weights,
                                &maps,
                                steps,
                                first,
                                g,
                                job.values,
                                job.deltas,
                                &mut job.cell_grads,
                                want,
                            )
                        },
                    );
                    if want_dx {
                        input::write_input_grads(plan, steps, g, job.deltas, job.input_grads);
                    }
                }
            }
        })?;
        // chunk order, wave after wave: the same sum as one wave
        loss_sum = jobs.iter().fold(loss_sum, |acc, j| acc + j.loss);
        cell_grads.extend(jobs.iter_mut().map(|j| std::mem::take(&mut j.cell_grads)));
    }
    let loss = loss_sum * seed.map_or(1.0, |s| s.loss_scale(x));

    let param_grads = if backward && want.param_grads {
        let chunks: Vec<weight_grad::ChunkRef<'_, T>> = (0..n_chunks)
            .map(|c| {
                let start: usize = (0..c).map(chunk_len).sum();
                let len = chunk_len(c);
                weight_grad::ChunkRef {
                    values: &values[start..start + len],
                    deltas: &deltas[start..start + len],
                    geometry: geometry(width(c)),
                }
            })
            .collect();
        let mut grads = weight_grad::run(plan, &maps, &chunks, steps, want.parallel, workspace)?;
        let per_chunk: Vec<&[T]> = cell_grads.iter().map(|c| &c[..]).collect();
        cells::reduce_grads(plan, &per_chunk, &mut grads);
        for r in plan.groups.fixed() {
            grads[r.clone()].fill(T::ZERO); // fixed parameters get no gradient
        }
        Some(grads)
    } else {
        None
    };
    workspace.give(values);
    workspace.give(deltas);
    Ok(RunOutput {
        loss,
        outputs: want.outputs.then_some(outputs),
        param_grads,
        input_grads: want_dx.then_some(input_grads),
        final_state: want.final_state.then_some(final_state),
    })
}

/// Borrows `buf[read]` immutably and `buf[write]` mutably at once; the two
/// ranges never overlap (sources are earlier rows or an earlier step).
pub(crate) fn split_read_write<T>(
    buf: &mut [T],
    read: std::ops::Range<usize>,
    write: std::ops::Range<usize>,
) -> (&[T], &mut [T]) {
    if read.end <= write.start {
        let (lo, hi) = buf.split_at_mut(write.start);
        (&lo[read], &mut hi[..write.len()])
    } else {
        assert!(write.end <= read.start, "read and write ranges overlap");
        let (lo, hi) = buf.split_at_mut(read.start);
        (&hi[..read.len()], &mut lo[write])
    }
}

/// Maps `0..n` on the pool (results in index order), for callers such as
/// the numeric gradient that parallelise over something else than chunks.
pub fn threads_map<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync + Send) -> Result<Vec<R>> {
    threads_map_if(n, true, f)
}

/// [`threads_map`] on the pool only when `parallel`, else on the calling thread.
pub(crate) fn threads_map_if<R: Send>(
    n: usize,
    parallel: bool,
    f: impl Fn(usize) -> R + Sync + Send,
) -> Result<Vec<R>> {
    threads::map_indices(n, parallel, f)
}
