//! The memory cells a node can be (each kernel file states its equations): their names, input
//! ports and own scalar parameters. The kernels that run them live in
//! `kernels::cells` and read the parameters in this order.

use crate::bail;
use crate::error::Result;

/// The memory cells the engine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    /// One unit of a standard (torch.nn.LSTM) layer: four input ports
    /// i, f, g, o, each with its own incoming edges and bias; state c.
    LstmUnit,
    /// One unit of a standard (torch.nn.GRU) layer: ports r, z, n_x, n_h
    /// (the candidate's input and recurrent parts, kept apart because r
    /// multiplies only the recurrent part).
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

    /// The cell called `name` ([`CellKind::name`]).
    pub fn parse(name: &str) -> Result<CellKind> {
        match CellKind::ALL.into_iter().find(|c| c.name() == name) {
            Some(cell) => Ok(cell),
            None => bail!(
                Config,
                "unknown cell kind {name:?}; expected one of {}",
                CellKind::ALL.map(CellKind::name).join(", ")
            ),
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

    /// Whether the cell is a unit of a standard layer: its weights are
    /// edges, and each gate port has its own bias.
    pub fn is_unit(self) -> bool {
        matches!(self, CellKind::LstmUnit | CellKind::GruUnit)
    }

    /// The cell's own scalar parameters, in flat-buffer order (the order
    /// the kernels index them).
    pub fn params(self) -> &'static [&'static str] {
        match self {
            CellKind::Lstm => &["w_f", "u_f", "b_f", "w_i", "u_i", "b_i", "w_o", "u_o", "b_o", "w_c", "b_c"],
            CellKind::Gru => &["zw", "zu", "zb", "rw", "ru", "rb", "hw", "hu", "hb"],
            CellKind::Mgu => &["fw", "fu", "fb", "hw", "hu", "hb"],
            CellKind::Ugrnn => &["cw", "ch", "cb", "gw", "gh", "gb"],
            CellKind::Delta => &["v", "alpha", "beta1", "beta2", "bz", "br"],
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
