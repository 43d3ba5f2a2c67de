//! numpy arrays in and out. An input array that is already C-contiguous,
//! aligned and of the wanted dtype is borrowed in place (no copy); any other
//! numeric array is converted once. Non-numeric dtypes (complex, object,
//! strings, ...) raise DTypeError and wrong dimensions ShapeError, both naming
//! the array. Outputs are Vecs handed to numpy without a copy.

use crate::errors::{raise, Kind, OrRaise};
use nervenet_core::limits;
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{
    Element, IntoPyArray, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;

/// Element types the extension reads, with the numpy dtype kinds that may
/// be converted to them.
pub trait Wanted: Element + Copy {
    /// numpy's name for the type.
    const NAME: &'static str;
    /// dtype kinds ('f' float, 'i' signed, 'u' unsigned, 'b' bool) accepted.
    const KINDS: &'static [u8];
    /// What to tell a user whose array has another kind.
    const HINT: &'static str;
}

impl Wanted for f32 {
    const NAME: &'static str = "float32";
    const KINDS: &'static [u8] = b"fiub";
    const HINT: &'static str = "pass a float, integer or bool array";
}

impl Wanted for f64 {
    const NAME: &'static str = "float64";
    const KINDS: &'static [u8] = b"fiub";
    const HINT: &'static str = "pass a float, integer or bool array";
}

impl Wanted for i64 {
    const NAME: &'static str = "int64";
    const KINDS: &'static [u8] = b"iu";
    const HINT: &'static str = "class labels must be an integer array";
}

enum Data<'py, T: Element> {
    Borrowed(PyReadonlyArrayDyn<'py, T>),
    Owned(Vec<T>),
}

/// An input array as a flat C-order slice plus its shape.
pub struct ArrayIn<'py, T: Element> {
    data: Data<'py, T>,
    pub shape: Vec<usize>,
    /// Whether the values are read from the caller's own array (no copy).
    in_place: bool,
}

impl<'py, T: Wanted> ArrayIn<'py, T> {
    /// The values in C order.
    pub fn as_slice(&self) -> &[T] {
        match &self.data {
            // Contiguity and alignment were checked when borrowing; were they
            // ever lost, the empty slice fails the core's length check.
            Data::Borrowed(a) => a.as_slice().unwrap_or(&[]),
            Data::Owned(v) => v,
        }
    }

    /// Whether the values are read in place from the caller's array.
    pub fn in_place(&self) -> bool {
        self.in_place
    }
}

fn shape_text(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// Reads `obj` as an array of `T` with `ndim` dimensions; `what` names it
/// in error messages ("inputs", "targets", ...).
pub fn read<'py, T: Wanted>(obj: &Bound<'py, PyAny>, what: &str, ndim: usize) -> PyResult<ArrayIn<'py, T>> {
    let py = obj.py();
    if let Ok(arr) = obj.cast::<PyArrayDyn<T>>() {
        return from_typed(arr, what, ndim, true);
    }
    let untyped = match obj.cast::<PyUntypedArray>() {
        Ok(a) => a.clone(),
        Err(_) => {
            let converted = py
                .import("numpy")?
                .call_method1("asarray", (obj,))
                .map_err(|e| raise(py, Kind::DType, format!("{what} cannot be read as an array: {e}")))?;
            converted.cast_into::<PyUntypedArray>().map_err(|e| raise(py, Kind::DType, e.to_string()))?
        }
    };
    let dtype = untyped.dtype();
    if !T::KINDS.contains(&dtype.kind()) {
        let name = dtype.str().map(|s| s.to_string()).unwrap_or_else(|_| "unknown".into());
        return Err(raise(py, Kind::DType, format!("{what} have dtype {name}; {}", T::HINT)));
    }
    check_ndim(py, what, untyped.shape(), ndim)?;
    // numpy's own MemoryError would not name the array: check first.
    limits::values(format_args!("{what} converted to {}", T::NAME), untyped.shape(), size_of::<T>()).or_raise(py)?;
    let converted = untyped.call_method1("astype", (T::NAME,))?;
    let arr = converted.cast::<PyArrayDyn<T>>().map_err(|e| raise(py, Kind::DType, e.to_string()))?;
    from_typed(arr, what, ndim, false)
}

fn check_ndim(py: Python<'_>, what: &str, shape: &[usize], ndim: usize) -> PyResult<()> {
    if shape.len() != ndim {
        return Err(raise(
            py,
            Kind::Shape,
            format!("{what} must be a {ndim}-D array, got shape {} ({}-D)", shape_text(shape), shape.len()),
        ));
    }
    Ok(())
}

/// `callers` says whether `arr` is the caller's array or a converted copy.
fn from_typed<'py, T: Wanted>(
    arr: &Bound<'py, PyArrayDyn<T>>,
    what: &str,
    ndim: usize,
    callers: bool,
) -> PyResult<ArrayIn<'py, T>> {
    let py = arr.py();
    let shape = arr.shape().to_vec();
    check_ndim(py, what, &shape, ndim)?;
    let view = arr.try_readonly().map_err(|e| raise(py, Kind::Data, format!("{what} cannot be read: {e}")))?;
    let (data, borrowed) = if arr.is_c_contiguous() && view.as_slice().is_ok() {
        (Data::Borrowed(view), true)
    } else {
        let mut values = Vec::new();
        let copy = format!("a C-contiguous copy of the {what}");
        // A strided or broadcast view (np.broadcast_to) can be far larger
        // than the memory behind it: the copy is checked and fallible.
        let n = limits::values(&copy, &shape, size_of::<T>()).or_raise(py)?;
        if values.try_reserve_exact(n).is_err() {
            let bytes = limits::show_bytes((n as u64).saturating_mul(size_of::<T>() as u64));
            return Err(raise(py, Kind::Unsupported, format!("{copy}: {bytes} cannot be allocated")));
        }
        values.extend(view.as_array().iter().copied());
        (Data::Owned(values), false)
    };
    Ok(ArrayIn { data, shape, in_place: callers && borrowed })
}

/// Checks that `arr` has exactly `expected` shape.
pub fn expect_shape<T: Wanted>(py: Python<'_>, what: &str, arr: &ArrayIn<'_, T>, expected: &[usize]) -> PyResult<()> {
    if arr.shape != expected {
        return Err(raise(
            py,
            Kind::Shape,
            format!("{what} have shape {}, expected {}", shape_text(&arr.shape), shape_text(expected)),
        ));
    }
    Ok(())
}

/// Hands `values` to numpy as an array of `shape` (no copy).
pub fn to_numpy<'py, T: Element>(py: Python<'py>, values: Vec<T>, shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    let len = values.len();
    let arr = ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|_| {
        raise(py, Kind::Shape, format!("internal: {len} values do not fill shape {}", shape_text(shape)))
    })?;
    Ok(arr.into_pyarray(py).into_any())
}
