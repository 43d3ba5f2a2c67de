//! Memory limits. Every size that comes from a user or a file (nodes and
//! edges of a graph, a feature map's cells, rows × steps × batch, parameter
//! counts, run buffers) is computed with checked arithmetic and compared
//! with one budget before anything is allocated, and user-sized buffers are
//! allocated fallibly: a size too large is an `Unsupported` error naming its
//! bytes and what asked for it, never a wrapped-around size, a panic or an
//! abort of the process.
//!
//! The budget bounds each single request (a network's parameters, one run's
//! activations, a graph's bookkeeping). It defaults to half the machine's
//! physical memory (8 GiB where that cannot be read) and is set by
//! [`set_memory_budget`] (`nervenet.threads.set_memory_budget` in Python).
//!
//! ```
//! use nervenet_core::limits;
//! assert_eq!(limits::values("a test buffer", &[3, 4], 8).unwrap(), 12);
//! let err = limits::values("a test buffer", &[1 << 40, 1 << 40], 4).unwrap_err();
//! assert!(err.to_string().contains("a test buffer"));
//! ```

use crate::error::{Error, Result};
use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Values per feature map (C·H·W) and rows per plan: row and column
/// indices of the plan's blocks are 32-bit.
pub const MAX_ROWS: u64 = u32::MAX as u64;

/// The budget set by [`set_memory_budget`]; 0 means the default.
static BUDGET: AtomicU64 = AtomicU64::new(0);

/// Half the physical memory (from /proc/meminfo), else 8 GiB.
fn default_budget() -> u64 {
    static DEFAULT: OnceLock<u64> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        });
        total_kib.map_or(8 << 30, |kib| kib.saturating_mul(1024) / 2)
    })
}

/// The most bytes one request may allocate.
pub fn memory_budget() -> u64 {
    match BUDGET.load(Ordering::Relaxed) {
        0 => default_budget(),
        b => b,
    }
}

/// Sets the most bytes one request may allocate (≥ 1).
pub fn set_memory_budget(bytes: u64) -> Result<()> {
    if bytes == 0 {
        crate::bail!(Config, "the memory budget must be at least 1 byte, got 0");
    }
    BUDGET.store(bytes, Ordering::Relaxed);
    Ok(())
}

/// `1234567890 bytes (1.1 GiB)`.
pub fn show_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut unit = "bytes";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    if unit == "bytes" {
        format!("{bytes} bytes")
    } else {
        format!("{bytes} bytes ({v:.1} {unit})")
    }
}

fn over_budget(what: &dyn Display, dims: &[usize], elem: usize, bytes: u64) -> Error {
    let dims = dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" × ");
    Error::Unsupported(format!(
        "{what}: {dims} values of {elem} bytes need {}, more than the memory budget of {} \
         (set_memory_budget changes it)",
        show_bytes(bytes),
        show_bytes(memory_budget())
    ))
}

/// The product of `dims` (a count of values of `elem` bytes each), checked
/// for overflow and against the budget: the count, or an error naming
/// `what` and the bytes it would need.
pub fn values(what: impl Display, dims: &[usize], elem: usize) -> Result<usize> {
    let count = dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64));
    let bytes = count.and_then(|c| c.checked_mul(elem as u64));
    match (count, bytes) {
        (Some(c), Some(b)) if b <= memory_budget() => usize::try_from(c).map_err(|_| over_budget(&what, dims, elem, b)),
        (_, Some(b)) => Err(over_budget(&what, dims, elem, b)),
        _ => {
            let dims = dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" × ");
            Err(Error::Unsupported(format!("{what}: {dims} values of {elem} bytes need more than 2^64 bytes")))
        }
    }
}

/// A vector of `len` copies of `value`, allocated fallibly after the
/// budget check: `what` names the buffer in the error.
pub fn try_vec<T: Clone>(what: impl Display, len: usize, value: T) -> Result<Vec<T>> {
    let mut v = Vec::new();
    try_grow(&mut v, what, len, value)?;
    Ok(v)
}

/// Grows `v` to `len` copies of `value` at the end (a no-op if it is
/// already that long), fallibly and within the budget.
pub fn try_grow<T: Clone>(v: &mut Vec<T>, what: impl Display, len: usize, value: T) -> Result<()> {
    if v.len() >= len {
        return Ok(());
    }
    values(&what, &[len], size_of::<T>().max(1))?;
    if v.try_reserve_exact(len - v.len()).is_err() {
        let bytes = (len as u64).saturating_mul(size_of::<T>() as u64);
        crate::bail!(Unsupported, "{what}: {len} values need {}, which cannot be allocated", show_bytes(bytes));
    }
    v.resize(len, value);
    Ok(())
}

/// Bytes the IR keeps per node and per edge (maps, indexes and the
/// Python list of new ids, with the maps' overhead): a graph of `n` nodes
/// and `m` edges is refused before it is built if it would not fit.
pub const NODE_BYTES: usize = 2 * size_of::<(crate::graph::NodeId, crate::graph::Node)>() + 48;
pub const EDGE_BYTES: usize = 2 * size_of::<(crate::graph::EdgeId, crate::graph::Edge)>() + 96;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_that_wrap_are_errors_naming_what_asked() {
        // 2^31 × 2^31 × 4 wraps to 0 in 64 bits.
        let e = values("a map", &[1 << 31, 1 << 31, 4], 4).unwrap_err();
        assert!(matches!(&e, Error::Unsupported(m) if m.contains("a map") && m.contains("2^64")), "{e}");
        let e = values("the parameters", &[10_000_000_000], 4).unwrap_err();
        assert!(e.to_string().contains("40000000000 bytes"), "{e}");
        assert_eq!(values("fine", &[1000, 10], 8).unwrap(), 10_000);
    }

    #[test]
    fn try_vec_refuses_what_the_budget_does_not_allow() {
        let e = try_vec("a huge buffer", usize::MAX / 4, 0u8).unwrap_err();
        assert!(e.to_string().starts_with("a huge buffer: "), "{e}");
        let e = try_vec("f64 buffer", usize::MAX / 8, 0f64).unwrap_err();
        assert!(e.to_string().contains("f64 buffer"), "{e}");
        assert_eq!(try_vec("small", 3, 1.5f32).unwrap(), vec![1.5; 3]);
        assert!(show_bytes(3 << 30).ends_with("(3.0 GiB)"));
    }
}
