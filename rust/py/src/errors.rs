//! Exceptions: every failure of the extension becomes a class of the
//! `nervenet.NervenetError` hierarchy. The hierarchy itself lives in Python
//! (`nervenet/errors.py`) because several classes have two bases (ShapeError
//! is also a ValueError, ParameterError a KeyError, ...), which
//! `create_exception!` cannot express; the classes are looked up once, on the
//! first raise, and cached. If `nervenet.errors` cannot be imported (the
//! extension loaded on its own) the closest builtin exception is raised instead.

use nervenet_core::Error;
use pyo3::exceptions::{PyKeyError, PyNotImplementedError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// The classes of the hierarchy, by the name they have in `nervenet.errors`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Graph,
    Shape,
    Data,
    Parameter,
    Unsupported,
    Config,
    Format,
    DType,
    Busy,
    Internal,
}

const KINDS: usize = 10;

impl Kind {
    fn index(self) -> usize {
        self as usize
    }

    fn class_name(self) -> &'static str {
        match self {
            Kind::Graph => "GraphError",
            Kind::Shape => "ShapeError",
            Kind::Data => "DataError",
            Kind::Parameter => "ParameterError",
            Kind::Unsupported => "UnsupportedError",
            Kind::Config => "ConfigError",
            Kind::Format => "FormatError",
            Kind::DType => "DTypeError",
            Kind::Busy => "BusyError",
            Kind::Internal => "InternalError",
        }
    }

    /// The builtin raised when `nervenet.errors` is unavailable.
    fn fallback(self, msg: String) -> PyErr {
        match self {
            Kind::Graph | Kind::Busy | Kind::Internal => PyRuntimeError::new_err(msg),
            Kind::Shape | Kind::Data | Kind::Config | Kind::Format => PyValueError::new_err(msg),
            Kind::Parameter => PyKeyError::new_err(msg),
            Kind::Unsupported => PyNotImplementedError::new_err(msg),
            Kind::DType => PyTypeError::new_err(msg),
        }
    }
}

static CLASSES: [PyOnceLock<Py<PyType>>; KINDS] = [const { PyOnceLock::new() }; KINDS];

/// A `kind` exception carrying `msg`.
pub fn raise(py: Python<'_>, kind: Kind, msg: impl Into<String>) -> PyErr {
    let msg = msg.into();
    match CLASSES[kind.index()].import(py, "nervenet.errors", kind.class_name()) {
        Ok(class) => PyErr::from_type(class.clone(), msg),
        Err(_) => kind.fallback(msg),
    }
}

/// The Python exception for a core error.
pub fn from_core(py: Python<'_>, err: Error) -> PyErr {
    let (kind, msg) = match err {
        Error::Graph(m) => (Kind::Graph, m),
        Error::Shape(m) => (Kind::Shape, m),
        Error::Value(m) => (Kind::Data, m),
        Error::Parameter(m) => (Kind::Parameter, m),
        Error::Unsupported(m) => (Kind::Unsupported, m),
        Error::Config(m) => (Kind::Config, m),
        Error::Format(m) => (Kind::Format, m),
    };
    raise(py, kind, msg)
}

/// `core_result.or_raise(py)?` turns a core error into its exception.
pub trait OrRaise<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for nervenet_core::Result<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| from_core(py, e))
    }
}

/// Runs `f` (core work, with the GIL released) so that a panic — a bug in
/// nervenet, never a user's doing — becomes an InternalError instead of a
/// `PanicException`, which derives from BaseException and escapes
/// `except Exception`. The last resort behind the core's own checks.
pub fn detach_guarded<T: Send>(py: Python<'_>, f: impl FnOnce() -> nervenet_core::Result<T> + Send) -> PyResult<T> {
    let outcome = py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    match outcome {
        Ok(result) => result.or_raise(py),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(raise(py, Kind::Internal, format!("internal error in nervenet (please report it): {what}")))
        }
    }
}
