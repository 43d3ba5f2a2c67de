//! Epoch order and batch gathering. Each epoch draws a permutation from
//! its own ChaCha8 stream (seed, epoch), so any epoch can be replayed — a run
//! resumed from a checkpoint sees exactly the batches an uninterrupted run
//! would. Batches walk the permutation, the remainder batch included;
//! nothing is sampled with replacement.

use crate::exec::{Sequences, Targets};
use crate::real::Real;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A training set: inputs `(n, steps, features)`, targets, optional mask.
#[derive(Clone, Copy, Debug)]
pub struct Dataset<'a, T> {
    pub x: Sequences<'a, T>,
    pub targets: Targets<'a, T>,
    pub mask: Option<&'a [T]>,
}

/// Sample order of one epoch.
pub fn epoch_order(n: usize, shuffle: bool, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(epoch);
        order.shuffle(&mut rng);
    }
    order
}

/// The batches of an epoch: consecutive runs of `batch_size` samples of the
/// order (0 = the whole set, i.e. batch gradient descent).
pub fn batch_ranges(n: usize, batch_size: usize) -> Vec<std::ops::Range<usize>> {
    let size = if batch_size == 0 { n.max(1) } else { batch_size };
    (0..n).step_by(size).map(|s| s..(s + size).min(n)).collect()
}

/// Owned copies of the samples of one batch, in batch order.
pub struct Batch<T> {
    pub x: Vec<T>,
    pub values: Vec<T>,
    pub classes: Vec<i64>,
    pub mask: Option<Vec<T>>,
    pub size: usize,
    pub steps: usize,
}

impl<T: Real> Batch<T> {
    pub fn gather(data: &Dataset<'_, T>, samples: &[usize], n_outputs: usize) -> Batch<T> {
        let (steps, features) = (data.x.steps, data.x.features);
        let rows = |src: &[T], width: usize| -> Vec<T> {
            let mut out = Vec::with_capacity(samples.len() * width);
            for &s in samples {
                out.extend_from_slice(&src[s * width..(s + 1) * width]);
            }
            out
        };
        let (values, classes) = match data.targets {
            Targets::Values(y) => (rows(y, steps * n_outputs), Vec::new()),
            Targets::Classes(c) => {
                let mut out = Vec::with_capacity(samples.len() * steps);
                for &s in samples {
                    out.extend_from_slice(&c[s * steps..(s + 1) * steps]);
                }
                (Vec::new(), out)
            }
        };
        Batch {
            x: rows(data.x.data, steps * features),
            values,
            classes,
            mask: data.mask.map(|m| rows(m, steps)),
            size: samples.len(),
            steps,
        }
    }

    /// Steps `t0..t1` of every sequence of the batch (a truncated-BPTT window).
    pub fn window(&self, t0: usize, t1: usize, features: usize, n_outputs: usize) -> Batch<T> {
        let steps = self.steps;
        let cut = |src: &[T], width: usize| -> Vec<T> {
            let mut out = Vec::with_capacity(self.size * (t1 - t0) * width);
            for s in 0..self.size {
                out.extend_from_slice(&src[(s * steps + t0) * width..(s * steps + t1) * width]);
            }
            out
        };
        let classes = if self.classes.is_empty() {
            Vec::new()
        } else {
            (0..self.size).flat_map(|s| self.classes[s * steps + t0..s * steps + t1].iter().copied()).collect()
        };
        Batch {
            x: cut(&self.x, features),
            values: if self.values.is_empty() { Vec::new() } else { cut(&self.values, n_outputs) },
            classes,
            mask: self.mask.as_ref().map(|m| cut(m, 1)),
            size: self.size,
            steps: t1 - t0,
        }
    }

    pub fn targets(&self, like: &Targets<'_, T>) -> Targets<'_, T> {
        match like {
            Targets::Values(_) => Targets::Values(&self.values),
            Targets::Classes(_) => Targets::Classes(&self.classes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_once_per_epoch_and_replayable() {
        let a = epoch_order(10, true, 7, 3);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_eq!(a, epoch_order(10, true, 7, 3));
        assert_ne!(a, epoch_order(10, true, 7, 4));
        assert_eq!(epoch_order(4, false, 7, 3), vec![0, 1, 2, 3]);
        assert_eq!(batch_ranges(10, 4), vec![0..4, 4..8, 8..10]);
        assert_eq!(batch_ranges(10, 0), vec![0..10]);
        assert_eq!(batch_ranges(3, 1).len(), 3);
    }
}
