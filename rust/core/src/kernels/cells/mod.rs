//! Memory cells (equations at the top of each file): forward and backward of one cell over
//! a batch vector, side by side, one file per cell. A cell reads its input
//! ports at t and its own state at t − 1 (h' or c'), writes h (and c) at t;
//! backward recomputes the gates from the saved inputs rather than storing
//! them, and accumulates the gradients of the cell's own scalar parameters
//! (indexed in the order of `CellKind::params`).

mod delta;
mod gru;
mod lstm;
mod mgu;
mod ugrnn;
mod units;

use crate::graph::CellKind;
use crate::real::Real;

/// A cell's own parameters as the kernels read them: parameter k of the
/// cell computing element b of a vector.
pub trait CellParams<T>: Copy {
    fn at(self, k: usize, b: usize) -> T;
    /// Whether parameters k < `nk` of elements b < `len` are all there
    /// (checked once per kernel call, so `at` need not check each read).
    fn fits(self, nk: usize, len: usize) -> bool;
}

/// One cell over a batch vector: every element shares the parameters
/// (copied into a fixed array, so reading one needs no bounds check and
/// the loops vectorise).
#[derive(Clone, Copy)]
pub struct Shared<T>(pub [T; MAX_PARAMS]);

impl<T: Real> Shared<T> {
    pub fn new(p: &[T]) -> Self {
        let mut a = [T::ZERO; MAX_PARAMS];
        a[..p.len()].copy_from_slice(p);
        Shared(a)
    }
}

impl<T: Real> CellParams<T> for Shared<T> {
    #[inline(always)]
    fn at(self, k: usize, _: usize) -> T {
        self.0[k]
    }
    fn fits(self, nk: usize, _: usize) -> bool {
        nk <= MAX_PARAMS
    }
}

/// A group's cells × samples as one vector: parameter k of the cell
/// computing element e is `data[k·n + e]` (n: the vector's length; the
/// flat buffer's cell-major parameters expanded per run, so the loops
/// vectorise across cells and samples).
#[derive(Clone, Copy)]
pub struct PerCell<'a, T> {
    pub data: &'a [T],
    pub n: usize,
}

impl<T: Real> CellParams<T> for PerCell<'_, T> {
    /// Unchecked: a bounds check per read keeps the loops over the cells
    /// scalar (measured: EXAMM's 12 LSTM cells, scalar `vmulss` throughout).
    /// Every kernel asserts [`CellParams::fits`] first.
    #[inline(always)]
    fn at(self, k: usize, b: usize) -> T {
        debug_assert!(k * self.n + b < self.data.len());
        // SAFETY: the kernel checked fits(nk, len) and reads k < nk, b < len ≤ n.
        unsafe { *self.data.get_unchecked(k * self.n + b) }
    }
    fn fits(self, nk: usize, len: usize) -> bool {
        len <= self.n && (nk == 0 || self.data.len() >= (nk - 1) * self.n + len)
    }
}

/// Where a cell's parameter gradients accumulate.
pub trait ParamGrads<T> {
    fn add(&mut self, k: usize, b: usize, v: T);
    /// As [`CellParams::fits`], for the gradients a kernel adds.
    fn fits(&self, nk: usize, len: usize) -> bool;
}

/// Sums over the batch into one cell's K gradients (registers while the
/// kernel runs; the caller adds `acc` to its buffer afterwards).
pub struct SharedGrads<T> {
    pub acc: [T; MAX_PARAMS],
}

impl<T: Real> SharedGrads<T> {
    pub fn new() -> Self {
        SharedGrads { acc: [T::ZERO; MAX_PARAMS] }
    }
}

impl<T: Real> Default for SharedGrads<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Real> ParamGrads<T> for SharedGrads<T> {
    #[inline(always)]
    fn add(&mut self, k: usize, _: usize, v: T) {
        self.acc[k] += v;
    }
    fn fits(&self, nk: usize, _: usize) -> bool {
        nk <= MAX_PARAMS
    }
}

/// One cell's gradients over a batch vector of at most [`MAX_WIDTH`]
/// samples, kept per sample and summed afterwards ([`LaneGrads::sums`]):
/// a running sum across samples is a loop-carried dependency that stops
/// the kernels from vectorising.
pub struct LaneGrads<T> {
    per_sample: [[T; MAX_WIDTH]; MAX_PARAMS],
}

/// The widest batch vector a kernel sees (the executor's chunk).
pub const MAX_WIDTH: usize = 64;

impl<T: Real> LaneGrads<T> {
    pub fn new() -> Self {
        LaneGrads { per_sample: [[T::ZERO; MAX_WIDTH]; MAX_PARAMS] }
    }

    /// Adds lane e of parameter k into `out[k·stride + e]` for k < `nk`,
    /// e < `m`: one piece of a group's cells × samples vector.
    #[inline(always)]
    pub fn add_per_cell(&self, nk: usize, m: usize, stride: usize, out: &mut [T]) {
        for (k, row) in self.per_sample.iter().take(nk).enumerate() {
            for (o, &v) in out[k * stride..k * stride + m].iter_mut().zip(&row[..m]) {
                *o += v;
            }
        }
    }

    /// Σ over the first `w` samples of each of the first `k` parameters.
    #[inline(always)]
    pub fn sums(&self, k: usize, w: usize) -> [T; MAX_PARAMS] {
        let mut out = [T::ZERO; MAX_PARAMS];
        for (o, row) in out.iter_mut().zip(&self.per_sample).take(k) {
            *o = crate::kernels::vector::sum_inline(&row[..w]);
        }
        out
    }
}

impl<T: Real> Default for LaneGrads<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Real> ParamGrads<T> for LaneGrads<T> {
    /// Each (parameter, sample) is written once per kernel call. Samples
    /// are < MAX_WIDTH (a power of two), so the mask only removes the
    /// bounds check that would keep the loop scalar.
    #[inline(always)]
    fn add(&mut self, k: usize, b: usize, v: T) {
        self.per_sample[k % MAX_PARAMS][b & (MAX_WIDTH - 1)] = v;
    }
    fn fits(&self, nk: usize, len: usize) -> bool {
        nk == 0 || (nk <= MAX_PARAMS && len <= MAX_WIDTH) // masked: the check is for the caller's sums
    }
}

/// The most own parameters a cell has (the LSTM's 11).
pub const MAX_PARAMS: usize = 11;

/// What the cells read at step t, each a vector (over a group's cells ×
/// samples, or over the batch for one cell). Before the
/// sequence starts the previous values are zeros.
#[derive(Clone, Copy)]
pub struct Inputs<'a, T, P> {
    pub p: P,
    /// Port p's pre-activations (scalar cells use port 0 only).
    pub ports: [&'a [T]; 4],
    pub prev_h: &'a [T],
    /// Empty for cells without state.
    pub prev_c: &'a [T],
}

/// What backward reads besides the inputs: the saved outputs at t and the
/// deltas arriving at them (dh from consumers and the next step, dc from
/// the next step).
#[derive(Clone, Copy)]
pub struct Saved<'a, T> {
    pub h: &'a [T],
    pub c: &'a [T],
    pub dh: &'a [T],
    pub dc: &'a [T],
}

/// Where backward writes: port deltas (overwritten), deltas of the previous
/// step's h and c (accumulated).
pub struct Grads<'a, T> {
    pub ports: [&'a mut [T]; 4],
    pub prev_h: &'a mut [T],
    pub prev_c: &'a mut [T],
}

/// h (and c) at step t. Inlined into the caller's SIMD dispatch so the
/// loops (and exp / tanh) vectorise.
#[inline(always)]
pub fn forward<T: Real, P: CellParams<T>>(kind: CellKind, x: Inputs<'_, T, P>, h: &mut [T], c: &mut [T]) {
    assert!(x.p.fits(kind.params().len(), h.len()), "cell parameters do not cover the kernel's elements");
    match kind {
        CellKind::Lstm => lstm::forward(x, h, c),
        CellKind::Gru => gru::forward(x, h),
        CellKind::Mgu => mgu::forward(x, h),
        CellKind::Ugrnn => ugrnn::forward(x, h),
        CellKind::Delta => delta::forward(x, h),
        CellKind::LstmUnit => units::lstm_forward(x, h, c),
        CellKind::GruUnit => units::gru_forward(x, h),
    }
}

/// Backpropagates through step t; parameter gradients go to `dp`.
#[inline(always)]
pub fn backward<T: Real, P: CellParams<T>, G: ParamGrads<T>>(
    kind: CellKind,
    x: Inputs<'_, T, P>,
    s: Saved<'_, T>,
    g: Grads<'_, T>,
    dp: &mut G,
) {
    let (nk, len) = (kind.params().len(), s.h.len());
    assert!(x.p.fits(nk, len) && dp.fits(nk, len), "cell parameters or gradients do not cover the kernel's elements");
    match kind {
        CellKind::Lstm => lstm::backward(x, s, g, dp),
        CellKind::Gru => gru::backward(x, s, g, dp),
        CellKind::Mgu => mgu::backward(x, s, g, dp),
        CellKind::Ugrnn => ugrnn::backward(x, s, g, dp),
        CellKind::Delta => delta::backward(x, s, g, dp),
        CellKind::LstmUnit => units::lstm_backward(x, s, g),
        CellKind::GruUnit => units::gru_backward(x, s, g),
    }
}

#[inline(always)]
pub(crate) fn sigmoid<T: Real>(a: T) -> T {
    T::ONE / (T::ONE + (-a).exp())
}

#[cfg(test)]
mod tests;
