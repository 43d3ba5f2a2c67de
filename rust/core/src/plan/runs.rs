//! Per-row facts of a level (activation, bias parameter) as runs of rows,
//! never one entry per row: a feature map is C·H·W rows, and VGG16 has 15
//! million of them. Runs also let the kernels dispatch once per run.

use crate::graph::Activation;
use std::ops::Range;

/// Rows (relative to their level) that share an activation.
#[derive(Clone, Debug, PartialEq)]
pub struct ActRun {
    pub rows: Range<usize>,
    pub act: Activation,
}

/// Rows (absolute) whose biases follow one pattern: row `r` adds parameter
/// `first + (r − rows.start) / per · stride`, or nothing when `first` is
/// None. `per` > 1 is a tied map bias (one per channel of H·W rows);
/// `stride` > 1 a gate of standard units (their biases are unit-major).
#[derive(Clone, Debug, PartialEq)]
pub struct BiasRun {
    pub rows: Range<usize>,
    pub first: Option<usize>,
    pub per: usize,
    pub stride: usize,
}

impl BiasRun {
    /// The bias parameter of `row` (which must lie in the run).
    #[inline]
    pub fn param(&self, row: usize) -> Option<usize> {
        self.first.map(|f| f + (row - self.rows.start) / self.per * self.stride)
    }

    /// The run as (rows, parameter) pieces whose rows share one parameter
    /// (all of it when it adds none): no division per row on the hot path.
    pub fn pieces(&self) -> impl Iterator<Item = (Range<usize>, Option<usize>)> + '_ {
        let (per, start) =
            if self.first.is_some() { (self.per, self.rows.start) } else { (self.rows.len().max(1), self.rows.start) };
        (0..self.rows.len().div_ceil(per)).map(move |j| {
            let rows = start + j * per..(start + (j + 1) * per).min(self.rows.end);
            (rows, self.first.map(|f| f + j * self.stride))
        })
    }
}

/// Appends `n` rows of activation `act`, extending the last run if it can.
pub(super) fn push_act(runs: &mut Vec<ActRun>, n: usize, act: Activation) {
    let start = runs.last().map_or(0, |r| r.rows.end);
    match runs.last_mut() {
        Some(last) if last.act == act => last.rows.end += n,
        _ => runs.push(ActRun { rows: start..start + n, act }),
    }
}

/// Appends a bias run, merging it into the last one when it continues it.
pub(super) fn push_bias(runs: &mut Vec<BiasRun>, run: BiasRun) {
    if run.rows.is_empty() {
        return;
    }
    if let Some(last) = runs.last_mut() {
        let continues = last.rows.end == run.rows.start
            && match (last.first, run.first) {
                (None, None) => true,
                (Some(_), Some(f)) => {
                    (last.per, last.stride) == (run.per, run.stride)
                        && (run.rows.start - last.rows.start).is_multiple_of(last.per)
                        && last.param(run.rows.start) == Some(f)
                }
                _ => false,
            };
        if continues {
            last.rows.end = run.rows.end;
            return;
        }
    }
    runs.push(run);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rows: Range<usize>, first: Option<usize>, per: usize, stride: usize) -> BiasRun {
        BiasRun { rows, first, per, stride }
    }

    #[test]
    fn runs_merge_only_when_they_continue() {
        let mut b = Vec::new();
        push_bias(&mut b, run(0..1, None, 1, 1));
        push_bias(&mut b, run(1..2, None, 1, 1));
        push_bias(&mut b, run(2..3, Some(5), 1, 1));
        push_bias(&mut b, run(3..4, Some(6), 1, 1)); // continues 5
        push_bias(&mut b, run(4..12, Some(7), 4, 1)); // a tied map: new pattern
        push_bias(&mut b, run(12..13, Some(10), 1, 4)); // a gate
        push_bias(&mut b, run(13..14, Some(14), 1, 4)); // the next unit's same gate
        assert_eq!(
            b,
            vec![
                run(0..2, None, 1, 1),
                run(2..4, Some(5), 1, 1),
                run(4..12, Some(7), 4, 1),
                run(12..14, Some(10), 1, 4)
            ]
        );
        assert_eq!(b[2].param(11), Some(8));
        assert_eq!(b[3].param(13), Some(14));
        for r in &b {
            for (rows, p) in r.pieces() {
                assert!(rows.clone().all(|row| r.param(row) == p), "{r:?}");
            }
            assert_eq!(r.pieces().map(|(rows, _)| rows.len()).sum::<usize>(), r.rows.len());
        }
        let mut a = Vec::new();
        push_act(&mut a, 2, Activation::Tanh);
        push_act(&mut a, 3, Activation::Tanh);
        push_act(&mut a, 1, Activation::Relu);
        assert_eq!(a, vec![ActRun { rows: 0..5, act: Activation::Tanh }, ActRun { rows: 5..6, act: Activation::Relu }]);
    }
}
