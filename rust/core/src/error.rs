//! One error type for the whole engine. Every variant names what was wrong
//! (the node, the edge, the parameter, the array position) so that the Python
//! layer can raise a precise exception instead of a panic.

use thiserror::Error;

/// Errors raised by nervenet-core. The Python bindings map each variant to a
/// class of the `nervenet.NervenetError` hierarchy.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// The graph is malformed: cycle among `time_skip = 0` edges, edge into an
    /// input node, unknown id, duplicate edge, bad activation parameter ...
    #[error("{0}")]
    Graph(String),
    /// An array has the wrong shape or length.
    #[error("{0}")]
    Shape(String),
    /// An input value is invalid (NaN/Inf, class label out of range, ...).
    #[error("{0}")]
    Value(String),
    /// A parameter name that the network does not have.
    #[error("{0}")]
    Parameter(String),
    /// The graph uses a node or edge kind the execution engine cannot run yet.
    #[error("{0}")]
    Unsupported(String),
    /// Invalid configuration (unknown loss, bad option value, ...).
    #[error("{0}")]
    Config(String),
    /// Malformed serialized data (graph JSON).
    #[error("{0}")]
    Format(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The same error with `what: ` before its message (e.g. the edge a
    /// kernel's geometry error belongs to).
    pub fn context(self, what: impl std::fmt::Display) -> Error {
        let add = |m: String| format!("{what}: {m}");
        match self {
            Error::Graph(m) => Error::Graph(add(m)),
            Error::Shape(m) => Error::Shape(add(m)),
            Error::Value(m) => Error::Value(add(m)),
            Error::Parameter(m) => Error::Parameter(add(m)),
            Error::Unsupported(m) => Error::Unsupported(add(m)),
            Error::Config(m) => Error::Config(add(m)),
            Error::Format(m) => Error::Format(add(m)),
        }
    }
}

/// `return Err(Error::$kind(format!(...)))` in one line.
#[macro_export]
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::Error::$kind(format!($($arg)*)))
    };
}
