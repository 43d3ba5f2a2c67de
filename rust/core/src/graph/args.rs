//! The integer arguments of graph edits, checked as they arrive from the
//! Python API (any integer) into the IR's narrower types; errors name the
//! argument and the allowed range.

use crate::error::{Error, Result};

/// A size (`channels`, `stride`, ...): an integer in 1..2**32.
pub fn size(value: i64, name: &str) -> Result<u32> {
    u32::try_from(value)
        .ok()
        .filter(|&v| v > 0)
        .ok_or_else(|| Error::Config(format!("{name} must be a positive integer, got {value}")))
}

/// A padding: an integer in 0..2**32.
pub fn padding(value: i64, name: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::Config(format!("{name} must be an integer >= 0, got {value}")))
}

pub fn time_skip(value: i64) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::Config(format!("time_skip must be an integer in 0..2**32, got {value}")))
}

/// A destination port; whether the node has it is checked with the edge.
pub fn port(value: i64) -> Result<u8> {
    u8::try_from(value).map_err(|_| Error::Config(format!("port must be an integer in 0..4, got {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Err(Error::Config(m)) => m,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn out_of_range_values_name_the_argument() {
        assert_eq!(size(3, "stride").unwrap(), 3);
        assert_eq!(message(size(0, "stride")), "stride must be a positive integer, got 0");
        assert_eq!(message(size(1 << 32, "channels")), "channels must be a positive integer, got 4294967296");
        assert_eq!(padding(0, "padding").unwrap(), 0);
        assert_eq!(message(padding(-1, "padding")), "padding must be an integer >= 0, got -1");
        assert_eq!(message(time_skip(-1)), "time_skip must be an integer in 0..2**32, got -1");
        assert_eq!(port(3).unwrap(), 3);
        assert_eq!(message(port(256)), "port must be an integer in 0..4, got 256");
    }
}
