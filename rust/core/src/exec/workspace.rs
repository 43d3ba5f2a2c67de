//! Reusable run buffers. A run's activations and deltas can be megabytes;
//! allocated fresh each call, every 4 KiB page costs a fault on first touch
//! (a third of a recurrent training step's time, measured). A network keeps
//! the buffers of earlier runs and hands them out again.

use crate::error::Result;
use crate::real::Real;
use std::sync::Mutex;

/// Buffers kept between runs (at most a few: one per concurrent run), and
/// the bytes handed out: the high-water mark proves the inference cap in
/// tests. Safe to share: concurrent runs take and give under the lock.
pub struct Workspace<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    free: Vec<Vec<T>>,
    /// Bytes of the buffers taken and not yet given back, and their most.
    out: usize,
    peak: usize,
}

impl<T> Default for Workspace<T> {
    fn default() -> Self {
        Workspace { state: Mutex::new(State { free: Vec::new(), out: 0, peak: 0 }) }
    }
}

const KEEP: usize = 8;

impl<T: Real> Workspace<T> {
    /// A buffer of `len` values: zeros if `zeroed`, otherwise stale values
    /// that the caller overwrites before reading. `what` names it if it
    /// does not fit the memory budget or cannot be allocated.
    pub(crate) fn take(&self, what: &str, len: usize, zeroed: bool) -> Result<Vec<T>> {
        self.take_with(len, zeroed, |v| crate::limits::try_grow(v, what, len, T::ZERO))
    }

    /// [`Workspace::take`] for a buffer no larger than one the run has
    /// already taken (a piece of its activations): infallible.
    pub(crate) fn take_bounded(&self, len: usize, zeroed: bool) -> Vec<T> {
        let Ok(v) = self.take_with(len, zeroed, |v| -> std::result::Result<(), std::convert::Infallible> {
            v.resize(len.max(v.len()), T::ZERO);
            Ok(())
        });
        v
    }

    fn take_with<E>(
        &self,
        len: usize,
        zeroed: bool,
        grow: impl Fn(&mut Vec<T>) -> std::result::Result<(), E>,
    ) -> std::result::Result<Vec<T>, E> {
        let reused = {
            let mut state = self.lock();
            let free = &mut state.free;
            // The smallest buffer that holds `len` values, else the largest
            // (runs take activations, deltas and gradients of different sizes).
            let fits = (0..free.len()).filter(|&i| free[i].capacity() >= len).min_by_key(|&i| free[i].capacity());
            let best = fits.or_else(|| (0..free.len()).max_by_key(|&i| free[i].capacity()));
            best.map(|i| free.swap_remove(i))
        };
        let mut v = reused.unwrap_or_default();
        if zeroed {
            v.clear();
        } else {
            v.truncate(len); // keeps the stale values it has
        }
        grow(&mut v)?; // fresh values are written zeros, as in written_zeros
        let mut state = self.lock();
        state.out += v.capacity() * size_of::<T>();
        state.peak = state.peak.max(state.out);
        Ok(v)
    }

    pub(crate) fn give(&self, v: Vec<T>) {
        let mut state = self.lock();
        // Buffers made elsewhere may be given too: never below zero.
        state.out = state.out.saturating_sub(v.capacity() * size_of::<T>());
        if state.free.len() < KEEP {
            state.free.push(v);
        }
    }

    /// The most bytes of run buffers out at once since the last reset
    /// (for tests of the inference memory cap); `reset` starts over.
    pub fn peak_bytes(&self, reset: bool) -> usize {
        let mut state = self.lock();
        let peak = state.peak;
        if reset {
            state.peak = state.out;
        }
        peak
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `len` zeros, written rather than calloc'd. Kernels accumulate into
/// these buffers, and the first read of an untouched page maps the shared
/// zero page, whose copy-on-write at the first store then flushes the TLB
/// of every thread of the process — a third of VGG16's backward time at 2
/// threads, measured. Written pages fault once, on that thread alone.
/// Only for sizes bounded by a buffer already checked against the budget;
/// user-sized buffers go through `limits::try_vec`, which writes them too.
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
