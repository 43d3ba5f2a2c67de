//! Convolutions and poolings of one level, forward and backward, in the
//! engine's rows layout (a map's values for the chunk's samples are
//! `[C·H·W][width]`). Filter gradients accumulate per chunk in phase 1,
//! where the backward pass has the column matrices at hand, and are summed
//! over chunks in chunk order afterwards, so they do not depend on threads.

use super::{dropout, split_read_write, Geometry};
use crate::kernels::pool::Regions;
use crate::kernels::pool_rows as pool;
use crate::plan::{Level, Plan, PoolRegions};
use crate::real::Real;
use std::borrow::Cow;

/// What every chunk reads: full filter tensors (partial tables expanded
/// with zeros) and this run's pooling regions, indexed [level][block].
pub(super) struct MapRun<'a, T: Clone> {
    weights: Vec<Vec<Cow<'a, [T]>>>,
    regions: Vec<Vec<Cow<'a, Regions>>>,
    /// Where each level's convolutions start in a chunk's filter gradients.
    grad_offsets: Vec<usize>,
    pub grad_len: usize,
}

/// A well-mixed seed for each fractional pooling (SplitMix64 step).
fn mix(z: u64) -> u64 {
    dropout::mix(z.wrapping_add(0x9e37_79b9_7f4a_7c15))
}

impl<'a, T: Real> MapRun<'a, T> {
    pub fn new(plan: &'a Plan, params: &'a [T], pool_seed: u64) -> crate::error::Result<Self> {
        let mut weights = Vec::with_capacity(plan.levels.len());
        let mut regions = Vec::with_capacity(plan.levels.len());
        let (mut grad_offsets, mut grad_len) = (Vec::with_capacity(plan.levels.len()), 0);
        for (l, level) in plan.levels.iter().enumerate() {
            grad_offsets.push(grad_len);
            weights.push(
                level
                    .convs
                    .iter()
                    .map(|c| {
                        grad_len += c.full_len();
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
        Ok(MapRun { weights, regions, grad_offsets, grad_len })
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
    /// sources of its convolutions and poolings, and adds the filter
    /// gradients to this chunk's `grads`. Sources that are input rows get
    /// deltas only when `input_grads` asks for them.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        l: usize,
        level: &Level,
        g: Geometry,
        t: usize,
        values: &[T],
        deltas: &mut [T],
        grads: &mut [T],
        scratch: &mut Vec<T>,
        skip_rows_below: usize,
    ) {
        let w = g.width;
        let rows = |r: &std::ops::Range<usize>| g.at(t, r.start)..g.at(t, r.start) + r.len() * w;
        let mut offset = self.grad_offsets[l];
        for (k, c) in level.convs.iter().enumerate() {
            let len = c.full_len();
            let x = &values[rows(&c.src_rows)];
            let (dy, dx) = split_read_write(deltas, rows(&c.dst), rows(&c.src_rows));
            let dx = (c.src_rows.start >= skip_rows_below).then_some(dx);
            let dw = &mut grads[offset..offset + len];
            c.conv.backward_rows(w, x, &self.weights[l][k], dy, dx, Some(dw), scratch);
            offset += len;
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

    /// grads[filter params] = Σ over chunks (in order) of their filter
    /// gradients, gathered from the full tensors.
    pub fn reduce_grads(&self, plan: &Plan, chunk_grads: &[&[T]], grads: &mut [T]) {
        for (l, level) in plan.levels.iter().enumerate() {
            let mut offset = self.grad_offsets[l];
            for c in &level.convs {
                let len = c.full_len();
                let mut full = vec![T::ZERO; len];
                for chunk in chunk_grads {
                    full.iter_mut().zip(&chunk[offset..offset + len]).for_each(|(a, &b)| *a += b);
                }
                let out = &mut grads[c.params.clone()];
                if c.full_index.is_empty() {
                    out.copy_from_slice(&full);
                } else {
                    out.iter_mut().zip(&c.full_index).for_each(|(o, &i)| *o = full[i as usize]);
                }
                offset += len;
            }
        }
    }
}
