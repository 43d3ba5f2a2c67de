//! Per-run copies of dense blocks' weights, made once per run and read at
//! every step: a masked block's weights scattered into its dense matrix,
//! and — when the batch is one sample wide — every dense block's matrix
//! transposed, so that the forward pass adds one contiguous column of W
//! per source node (SIMD along the destination nodes) instead of taking a
//! dot product per destination with a horizontal sum each.

use crate::plan::{BlockKind, Plan};
use crate::real::Real;

type PerBlock<T> = Vec<Vec<Option<Vec<T>>>>;

pub(crate) struct RunWeights<T> {
    /// [level][block]: the dense matrix of a masked block.
    masked: PerBlock<T>,
    /// [level][block]: Wᵀ (n_src × n_dst, row-major) of a dense or masked
    /// block, for one-sample-wide runs.
    transposed: PerBlock<T>,
}

impl<T: Real> RunWeights<T> {
    /// `transpose`: also make Wᵀ of every dense block (worth it when the
    /// run is one sample wide and several steps long).
    pub fn new(plan: &Plan, params: &[T], transpose: bool) -> Self {
        let masked: PerBlock<T> = plan
            .levels
            .iter()
            .map(|level| {
                let dense = |b: &crate::plan::Block| {
                    let n_src = b.n_src();
                    let mut w = vec![T::ZERO; b.dst.len() * n_src];
                    for i in 0..b.dst.len() {
                        for k in b.row_ptr[i]..b.row_ptr[i + 1] {
                            w[i * n_src + b.cols[k] as usize] = params[b.params.start + k];
                        }
                    }
                    w
                };
                level.blocks.iter().map(|b| (b.kind == BlockKind::MaskedDense).then(|| dense(b))).collect()
            })
            .collect();
        let transposed = plan
            .levels
            .iter()
            .zip(&masked)
            .map(|(level, masked)| {
                level
                    .blocks
                    .iter()
                    .zip(masked)
                    .map(|(b, m)| {
                        (transpose && b.is_dense()).then(|| {
                            let w = m.as_deref().unwrap_or(&params[b.params.clone()]);
                            let (rows, cols) = (b.dst.len(), b.n_src());
                            let mut t = vec![T::ZERO; rows * cols];
                            for (i, row) in w.chunks_exact(cols.max(1)).enumerate().take(rows) {
                                for (j, &v) in row.iter().enumerate() {
                                    t[j * rows + i] = v;
                                }
                            }
                            t
                        })
                    })
                    .collect()
            })
            .collect();
        RunWeights { masked, transposed }
    }

    /// A dense or masked block's weights, row-major n_dst × n_src.
    #[inline]
    pub fn matrix<'a>(&'a self, level: usize, block: usize, params: &'a [T], plan: &Plan) -> &'a [T] {
        match &self.masked[level][block] {
            Some(w) => w,
            None => &params[plan.levels[level].blocks[block].params.clone()],
        }
    }

    /// Wᵀ, row-major n_src × n_dst, when this run made it.
    #[inline]
    pub fn transposed(&self, level: usize, block: usize) -> Option<&[T]> {
        self.transposed[level][block].as_deref()
    }
}
