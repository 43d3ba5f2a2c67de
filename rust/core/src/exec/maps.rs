//! Convolutions and poolings of one level, forward and backward, in the
//! engine's rows layout (a map's values for the chunk's samples are
//! `[C·H·W][width]`). Phase 1 pushes deltas back through them; a
//! convolution's filter gradient is a phase-2 task of its own, like a
//! block's (`conv_grad`), summed over chunks and steps in a fixed order.

use super::weight_grad::ChunkRef;
use super::workspace::written_zeros;
use super::{dropout, split_read_write, threads, Geometry};
use crate::kernels::pool::Regions;
use crate::kernels::pool_rows as pool;
use crate::plan::{Level, Plan, PoolRegions};
use crate::real::Real;
use std::borrow::Cow;

/// Filter gradients with at least this much work (weights × output cells ×
/// samples, about a multiply each) compute their chunks' terms in parallel:
/// small VGG's (5·10⁹ and up) and a 64→64 3×3 on 32×32 (2·10¹⁰), not
/// LeNet-5's (2.5·10⁸ at most), whose terms cost less than their buffers.
const PARALLEL_CONV_GRAD_WORK: usize = 1 << 30;

/// What every chunk reads: full filter tensors (partial tables expanded
/// with zeros) and this run's pooling regions, indexed [level][block].
pub(super) struct MapRun<'a, T: Clone> {
    weights: Vec<Vec<Cow<'a, [T]>>>,
    regions: Vec<Vec<Cow<'a, Regions>>>,
}

/// A well-mixed seed for each fractional pooling (SplitMix64 step).
fn mix(z: u64) -> u64 {
    dropout::mix(z.wrapping_add(0x9e37_79b9_7f4a_7c15))
}

impl<'a, T: Real> MapRun<'a, T> {
    pub fn new(plan: &'a Plan, params: &'a [T], pool_seed: u64) -> crate::error::Result<Self> {
        let mut weights = Vec::with_capacity(plan.levels.len());
        let mut regions = Vec::with_capacity(plan.levels.len());
        for (l, level) in plan.levels.iter().enumerate() {
            weights.push(
                level
                    .convs
                    .iter()
                    .map(|c| {
                        let p = &params[c.params.clone()];
                        if c.full_index.is_empty() {
                            return Cow::Borrowed(p);
                        }
                        let mut full = vec![T::ZERO; c.full_len()];
                        c.full_index.iter().zip(p).for_each(|(&i, &v)| full[i as usize] = v);
                        Cow::Owned(full)
                    })
                    .collect(),
            );
            let mut level_regions = Vec::with_capacity(level.pools.len());
            for (k, p) in level.pools.iter().enumerate() {
                level_regions.push(match &p.regions {
                    PoolRegions::Fixed(r) => Cow::Borrowed(r),
                    PoolRegions::Fractional(f) => {
                        Cow::Owned(f.regions(mix(pool_seed ^ mix(((l as u64) << 32) | k as u64)))?)
                    }
                });
            }
            regions.push(level_regions);
        }
        Ok(MapRun { weights, regions })
    }

    /// values[level maps] += conv(sources) + pool(sources) at step t.
    pub fn forward(&self, l: usize, level: &Level, g: Geometry, t: usize, values: &mut [T], scratch: &mut Vec<T>) {
        let w = g.width;
        let rows = |r: &std::ops::Range<usize>| g.at(t, r.start)..g.at(t, r.start) + r.len() * w;
        for (k, c) in level.convs.iter().enumerate() {
            let (x, y) = split_read_write(values, rows(&c.src_rows), rows(&c.dst));
            c.conv.forward_rows(w, x, &self.weights[l][k], y, scratch);
        }
        for (k, p) in level.pools.iter().enumerate() {
            let (x, y) = split_read_write(values, rows(&p.src_rows), rows(&p.dst));
            let r = &self.regions[l][k];
            if p.max {
                pool::max_pool_rows_forward(r, p.channels, w, x, y);
            } else {
                pool::avg_pool_rows_forward(r, p.channels, w, x, y);
            }
        }
    }

    /// Pushes the level's dz (already through the activation) back to the
    /// sources of its convolutions and poolings. Sources that are input
    /// rows get deltas only when `input_grads` asks for them.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        l: usize,
        level: &Level,
        g: Geometry,
        t: usize,
        values: &[T],
        deltas: &mut [T],
        scratch: &mut Vec<T>,
        skip_rows_below: usize,
    ) {
        let w = g.width;
        let rows = |r: &std::ops::Range<usize>| g.at(t, r.start)..g.at(t, r.start) + r.len() * w;
        for (k, c) in level.convs.iter().enumerate() {
            if c.src_rows.start < skip_rows_below {
                continue;
            }
            let x = &values[rows(&c.src_rows)];
            let (dy, dx) = split_read_write(deltas, rows(&c.dst), rows(&c.src_rows));
            c.conv.backward_rows(w, x, &self.weights[l][k], dy, Some(dx), None, scratch);
        }
        for (k, p) in level.pools.iter().enumerate() {
            if p.src_rows.start < skip_rows_below {
                continue;
            }
            let (dy, dx) = split_read_write(deltas, rows(&p.dst), rows(&p.src_rows));
            let r = &self.regions[l][k];
            if p.max {
                pool::max_pool_rows_backward(r, p.channels, w, &values[rows(&p.src_rows)], dy, dx);
            } else {
                pool::avg_pool_rows_backward(r, p.channels, w, dy, dx);
            }
        }
    }

    /// Phase 2 of convolution `k` of level `l`: its filter gradient,
    /// Σ over chunks (in order) and steps (last first, as backward runs) of
    /// dz · im2col(x)ᵀ, into `out` (the conv's parameters, zero on entry).
    /// A large one computes each (chunk, step) term on its own, in parallel
    /// (a network of a few convolutions has fewer gradient tasks than
    /// threads), then sums the terms in that fixed order; a small one adds
    /// them up in place. Which way depends on the sizes only, never on the
    /// threads.
    pub fn conv_grad(&self, plan: &Plan, l: usize, k: usize, chunks: &[ChunkRef<'_, T>], steps: usize, out: &mut [T]) {
        let c = &plan.levels[l].convs[k];
        let len = if c.full_index.is_empty() { out.len() } else { c.full_len() };
        let terms = chunks.len() * steps;
        // dw += term i
        let add_term = |i: usize, dw: &mut [T], scratch: &mut Vec<T>| {
            let (chunk, t) = (&chunks[i / steps], steps - 1 - i % steps);
            let (g, w) = (chunk.geometry, chunk.geometry.width);
            let rows = |r: &std::ops::Range<usize>| g.at(t, r.start)..g.at(t, r.start) + r.len() * w;
            let (x, dy) = (&chunk.values[rows(&c.src_rows)], &chunk.deltas[rows(&c.dst)]);
            c.conv.backward_rows(w, x, &self.weights[l][k], dy, None, Some(dw), scratch);
        };
        let samples: usize = chunks.iter().map(|c| c.geometry.width).sum();
        let work = len.saturating_mul(c.dst.len()).saturating_mul(samples);
        // At most the network's parameters, which fit the budget.
        let mut dw = written_zeros(len);
        if terms > 1 && work >= crate::exec::parallel_threshold(PARALLEL_CONV_GRAD_WORK) {
            let term = |i: usize| {
                let mut part = written_zeros(len);
                add_term(i, &mut part, &mut Vec::new());
                part
            };
            let parts = threads::map_indices(terms, true, term).unwrap_or_else(|_| (0..terms).map(term).collect());
            for part in parts {
                dw.iter_mut().zip(&part).for_each(|(a, &b)| *a += b);
            }
        } else {
            let mut scratch = Vec::new();
            (0..terms).for_each(|i| add_term(i, &mut dw, &mut scratch));
        }
        if c.full_index.is_empty() {
            out.copy_from_slice(&dw);
        } else {
            out.iter_mut().zip(&c.full_index).for_each(|(o, &i)| *o = dw[i as usize]);
        }
    }
}
