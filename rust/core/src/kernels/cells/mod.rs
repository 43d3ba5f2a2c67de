//! Memory cells (DESIGN.md equations): forward and backward of one cell over
//! a batch vector, side by side, one file per cell. A cell reads its input
//! ports at t and its own state at t − 1 (h' or c'), writes h (and c) at t;
//! backward recomputes the gates from the saved inputs rather than storing
//! them, and accumulates the gradients of the cell's own scalar parameters.

mod delta;
mod gru;
mod lstm;
mod mgu;
mod ugrnn;
mod units;

use crate::real::Real;
use serde::{Deserialize, Serialize};

/// The memory cells the engine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellKind {
    /// Peephole LSTM of the notes (σ_h = identity), 11 scalar parameters.
    Lstm,
    Gru,
    /// Minimal gated unit.
    Mgu,
    /// Update-gate RNN.
    Ugrnn,
    /// Delta-RNN.
    Delta,
    /// A unit of a standard torch.nn.LSTM layer (its weights are edges).
    LstmUnit,
    /// A unit of a standard torch.nn.GRU layer (its weights are edges).
    GruUnit,
}

impl CellKind {
    pub const ALL: [CellKind; 7] = [
        CellKind::Lstm,
        CellKind::Gru,
        CellKind::Mgu,
        CellKind::Ugrnn,
        CellKind::Delta,
        CellKind::LstmUnit,
        CellKind::GruUnit,
    ];

    /// The graph node kind that runs this cell.
    pub fn node_kind(self) -> crate::graph::NodeKind {
        use crate::graph::NodeKind;
        match self {
            CellKind::Lstm => NodeKind::Lstm,
            CellKind::Gru => NodeKind::Gru,
            CellKind::Mgu => NodeKind::Mgu,
            CellKind::Ugrnn => NodeKind::Ugrnn,
            CellKind::Delta => NodeKind::Delta,
            CellKind::LstmUnit => NodeKind::LstmUnit,
            CellKind::GruUnit => NodeKind::GruUnit,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CellKind::Lstm => "lstm",
            CellKind::Gru => "gru",
            CellKind::Mgu => "mgu",
            CellKind::Ugrnn => "ugrnn",
            CellKind::Delta => "delta",
            CellKind::LstmUnit => "lstm_unit",
            CellKind::GruUnit => "gru_unit",
        }
    }

    /// Input ports; scalar cells take one input x, the sum of their edges.
    pub fn ports(self) -> &'static [&'static str] {
        match self {
            CellKind::LstmUnit => &["i", "f", "g", "o"],
            CellKind::GruUnit => &["r", "z", "n_x", "n_h"],
            _ => &["x"],
        }
    }

    /// The cell's own scalar parameters, in flat-buffer order.
    pub fn params(self) -> &'static [&'static str] {
        match self {
            CellKind::Lstm => &lstm::PARAMS,
            CellKind::Gru => &gru::PARAMS,
            CellKind::Mgu => &mgu::PARAMS,
            CellKind::Ugrnn => &ugrnn::PARAMS,
            CellKind::Delta => &delta::PARAMS,
            CellKind::LstmUnit | CellKind::GruUnit => &[],
        }
    }

    /// Whether parameter `i` is a bias (initialised to a constant rather
    /// than drawn), and its starting value if the cell fixes one.
    pub fn param_bias(self, i: usize) -> Option<Option<f64>> {
        let name = self.params()[i];
        if self == CellKind::Lstm && name == "b_f" {
            return Some(Some(1.0)); // remember by default (Gers et al.)
        }
        name.starts_with('b').then_some(None)
    }

    /// Whether the cell carries a state c besides its output h.
    pub fn has_state(self) -> bool {
        matches!(self, CellKind::Lstm | CellKind::LstmUnit)
    }

    /// Whether the cell reads its own previous output h'.
    pub fn reads_prev_h(self) -> bool {
        !matches!(self, CellKind::Lstm | CellKind::LstmUnit)
    }

    /// Bias preset for port biases of standard units (forget gate +1).
    pub fn port_bias_preset(self, port: usize) -> Option<f64> {
        (self == CellKind::LstmUnit && port == 1).then_some(1.0)
    }
}

/// What one cell reads at step t, each a vector over the batch. Before the
/// sequence starts the previous values are zeros.
#[derive(Clone, Copy)]
pub struct Inputs<'a, T> {
    /// The cell's own parameters.
    pub p: &'a [T],
    /// Port p's pre-activation is `ports[p·w..(p+1)·w]`.
    pub ports: &'a [T],
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
/// step's h and c (accumulated), and the parameter gradient (accumulated).
pub struct Grads<'a, T> {
    pub ports: &'a mut [T],
    pub prev_h: &'a mut [T],
    pub prev_c: &'a mut [T],
    pub p: &'a mut [T],
}

/// h (and c) of one cell at step t.
pub fn forward<T: Real>(kind: CellKind, x: Inputs<'_, T>, h: &mut [T], c: &mut [T]) {
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

/// Backpropagates one cell through step t.
pub fn backward<T: Real>(kind: CellKind, x: Inputs<'_, T>, s: Saved<'_, T>, g: Grads<'_, T>) {
    match kind {
        CellKind::Lstm => lstm::backward(x, s, g),
        CellKind::Gru => gru::backward(x, s, g),
        CellKind::Mgu => mgu::backward(x, s, g),
        CellKind::Ugrnn => ugrnn::backward(x, s, g),
        CellKind::Delta => delta::backward(x, s, g),
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
