//! Reusable run buffers. A run's activations and deltas can be megabytes;
//! allocated fresh each call, every 4 KiB page costs a fault on first touch
//! (a third of a recurrent training step's time, measured). A network keeps
//! the buffers of earlier runs and hands them out again.

use crate::real::Real;
use std::sync::Mutex;

/// Buffers kept between runs (at most a few: one per concurrent run).
pub struct Workspace<T> {
    free: Mutex<Vec<Vec<T>>>,
}

impl<T> Default for Workspace<T> {
    fn default() -> Self {
        Workspace { free: Mutex::new(Vec::new()) }
    }
}

const KEEP: usize = 8;

impl<T: Real> Workspace<T> {
    /// A buffer of `len` values: zeros if `zeroed`, otherwise stale values
    /// that the caller overwrites before reading.
    pub(crate) fn take(&self, len: usize, zeroed: bool) -> Vec<T> {
        let reused = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            // The smallest buffer that holds `len` values, else the largest
            // (runs take activations, deltas and gradients of different sizes).
            let fits = (0..free.len()).filter(|&i| free[i].capacity() >= len).min_by_key(|&i| free[i].capacity());
            let best = fits.or_else(|| (0..free.len()).max_by_key(|&i| free[i].capacity()));
            best.map(|i| free.swap_remove(i))
        };
        let Some(mut v) = reused else { return written_zeros(len) };
        if zeroed {
            v.clear();
            v.resize(len, T::ZERO);
        } else if v.len() < len {
            v.resize(len, T::ZERO); // keeps the stale values it has
        } else {
            v.truncate(len);
        }
        v
    }

    pub(crate) fn give(&self, v: Vec<T>) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < KEEP {
            free.push(v);
        }
    }
}

/// `len` zeros, written rather than calloc'd. Kernels accumulate into
/// these buffers, and the first read of an untouched page maps the shared
/// zero page, whose copy-on-write at the first store then flushes the TLB
/// of every thread of the process — a third of VGG16's backward time at 2
/// threads, measured. Written pages fault once, on that thread alone.
pub(crate) fn written_zeros<T: Real>(len: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    v.resize(len, T::ZERO);
    v
}

/// Overwrites `v` with zeros, written by the pool's threads in pieces when
/// `parallel` and the buffer is large: a gradient buffer is as large as the
/// network, and one thread writing it is a serial pass.
pub(crate) fn zero_parallel<T: Real>(v: &mut [T], parallel: bool) {
    const PIECE: usize = 1 << 16;
    if !parallel || v.len() <= PIECE {
        return v.fill(T::ZERO);
    }
    let mut pieces: Vec<&mut [T]> = v.chunks_mut(PIECE).collect();
    let zero = |p: &mut &mut [T]| p.fill(T::ZERO);
    if super::threads::for_each_mut(&mut pieces, true, zero).is_err() {
        pieces.iter_mut().for_each(zero); // no pool: write them here
    }
}

/// A clone starts with no buffers of its own.
impl<T> Clone for Workspace<T> {
    fn clone(&self) -> Self {
        Workspace::default()
    }
}

impl<T> std::fmt::Debug for Workspace<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Workspace")
    }
}
