//! The batch kernel's backward pass: dIn (by the transposed convolution for
//! stride-1 filters, else col2im), dW and dBias, chunks of samples reduced
//! pairwise in a fixed order so the result does not depend on threads.

use super::{check_len, sub_rows, BiasGrad, Conv2d, ConvGrads, Dims, CHUNK};
use crate::error::Result;
use crate::kernels::gemm::{gemm, View};
use crate::kernels::vector;
use crate::real::Real;
use rayon::prelude::*;

impl Conv2d {
    /// dIn, dW and dBias (each optional, each accumulated) from dOut.
    pub fn backward<T: Real>(
        &self,
        batch: usize,
        input: &[T],
        weights: &[T],
        d_out: &[T],
        grads: ConvGrads<'_, T>,
    ) -> Result<()> {
        let d = self.dims()?;
        check_len("input", input.len(), batch, d.in_len)?;
        check_len("output gradient", d_out.len(), batch, d.out_len)?;
        check_len("weights", weights.len(), 1, d.w_len)?;
        let ConvGrads { d_input, d_weights, d_bias } = grads;
        if let Some(g) = &d_input {
            check_len("input gradient", g.len(), batch, d.in_len)?;
        }
        if let Some(g) = &d_weights {
            check_len("weight gradient", g.len(), 1, d.w_len)?;
        }
        let c_out = self.out_channels * d.slices;
        let bias_len = match &d_bias {
            BiasGrad::Tied(g) => check_len("tied bias gradient", g.len(), 1, c_out).map(|_| c_out)?,
            BiasGrad::Untied(g) => check_len("untied bias gradient", g.len(), 1, d.out_len).map(|_| d.out_len)?,
            BiasGrad::None => 0,
        };
        if batch == 0 {
            return Ok(());
        }
        let w = self.masked(weights);
        let flipped = d_input.as_ref().and_then(|_| self.flipped(&d, &w));
        let tied = matches!(d_bias, BiasGrad::Tied(_));
        let job = Job { d, w: &w, want_dw: d_weights.is_some(), bias_len, tied, dx: d_input.is_some(), flipped };
        let (ci, co) = (CHUNK * d.in_len, CHUNK * d.out_len);
        let leaf = |scratch: &mut Scratch<T>, c: usize, dx: Option<&mut [T]>| {
            let x = &input[c * ci..((c + 1) * ci).min(input.len())];
            let dy = &d_out[c * co..((c + 1) * co).min(d_out.len())];
            self.backward_leaf(&job, x, dy, dx, scratch)
        };
        // scratch per rayon job, not per chunk: no page-fault or zeroing cost per chunk
        let init = || self.scratch(&job);
        let parts: Vec<Partial<T>> = match d_input {
            Some(g) => g.par_chunks_mut(ci).enumerate().map_init(init, |s, (c, dx)| leaf(s, c, Some(dx))).collect(),
            None => (0..batch.div_ceil(CHUNK)).into_par_iter().map_init(init, |s, c| leaf(s, c, None)).collect(),
        };
        let total = pairwise(parts);
        if let Some(g) = d_weights {
            let k = d.k;
            for (i, (gv, pv)) in g.iter_mut().zip(&total.dw).enumerate() {
                // disconnected slices get exactly nothing
                if self.table.as_ref().is_none_or(|t| t[i / k]) {
                    *gv += *pv;
                }
            }
        }
        match d_bias {
            BiasGrad::Tied(g) | BiasGrad::Untied(g) => g.iter_mut().zip(&total.db).for_each(|(a, &b)| *a += b),
            BiasGrad::None => {}
        }
        Ok(())
    }

    /// Column buffers for one worker; every use overwrites what it reads.
    fn scratch<T: Real>(&self, job: &Job<'_, T>) -> Scratch<T> {
        let d = &job.d;
        let tile = self.in_channels * d.k * d.tile_rows_dw * d.ow;
        let scatter = job.dx && job.flipped.is_none();
        Scratch {
            col: vec![T::ZERO; if d.direct || !job.want_dw { 0 } else { tile }],
            dcol: vec![T::ZERO; if d.direct || !scatter { 0 } else { tile }],
            fcol: match &job.flipped {
                Some((f, fd, _)) if !fd.direct => vec![T::ZERO; f.in_channels * fd.k * fd.tile_rows * fd.ow],
                _ => Vec::new(),
            },
        }
    }

    /// One chunk of samples: its dIn, and its share of dW and dBias.
    fn backward_leaf<T: Real>(
        &self,
        job: &Job<'_, T>,
        x: &[T],
        dy: &[T],
        mut dx: Option<&mut [T]>,
        scratch: &mut Scratch<T>,
    ) -> Partial<T> {
        let d = &job.d;
        let (k, ck, o) = (d.k, self.kc * d.k, self.out_channels);
        let rows = self.in_channels * k;
        let mut part =
            Partial { dw: vec![T::ZERO; if job.want_dw { d.w_len } else { 0 }], db: vec![T::ZERO; job.bias_len] };
        let scatter = dx.is_some() && job.flipped.is_none();
        let Scratch { col, dcol, fcol } = scratch;
        let wv = View::row_major(job.w, o, ck);
        for (i, (xs, ys)) in x.chunks(d.in_len).zip(dy.chunks(d.out_len)).enumerate() {
            let mut dxs = dx.as_deref_mut().map(|g| &mut g[i * d.in_len..(i + 1) * d.in_len]);
            if let (Some(g), Some((f, fd, fw))) = (dxs.as_deref_mut(), &job.flipped) {
                f.forward_sample(fd, ys, fw, g, true, fcol);
            }
            for oh0 in (0..d.oh).step_by(d.tile_rows_dw) {
                let oh1 = (oh0 + d.tile_rows_dw).min(d.oh);
                let (t0, nt) = (oh0 * d.ow, (oh1 - oh0) * d.ow);
                // dOut rows of slice s: channel o·slices + s, columns of this tile
                let dys = |s: usize| View {
                    data: &ys[s * d.p + t0..],
                    rows: o,
                    cols: nt,
                    row_stride: d.slices * d.p,
                    col_stride: 1,
                };
                if job.want_dw {
                    let b = self.im2col(d, xs, oh0, oh1, col);
                    for s in 0..d.slices {
                        gemm(&mut part.dw, ck, true, dys(s), sub_rows(b, s * k, ck).t());
                    }
                }
                let Some(g) = dxs.as_deref_mut().filter(|_| scatter) else { continue };
                if d.direct {
                    // 1×1 filters: the GEMM lands in dIn itself
                    for s in 0..d.slices {
                        gemm(&mut g[s * d.p + t0..], d.p, true, wv.t(), dys(s));
                    }
                    continue;
                }
                if d.slices > 1 {
                    // 3D slices overlap in channels: all of them add
                    dcol[..rows * nt].fill(T::ZERO);
                }
                for s in 0..d.slices {
                    gemm(&mut dcol[s * k * nt..], nt, d.slices > 1, wv.t(), dys(s));
                }
                self.col2im(d, &dcol[..rows * nt], oh0, oh1, g);
            }
            if job.bias_len > 0 {
                if job.tied {
                    for (acc, row) in part.db.iter_mut().zip(ys.chunks(d.p)) {
                        *acc += vector::sum(row);
                    }
                } else {
                    part.db.iter_mut().zip(ys).for_each(|(a, &b)| *a += b);
                }
            }
        }
        part
    }
}

/// What one backward call computes, shared by all chunks.
struct Job<'a, T> {
    d: Dims,
    w: &'a [T],
    want_dw: bool,
    bias_len: usize,
    tied: bool,
    /// dIn wanted
    dx: bool,
    /// the transposed convolution computing dIn, when there is one
    flipped: Option<(Conv2d, Dims, Vec<T>)>,
}

/// A worker's column buffers: im2col of the input (dW), of dOut (dIn by
/// the transposed convolution) and dIn's column matrix (scatter path).
struct Scratch<T> {
    col: Vec<T>,
    dcol: Vec<T>,
    fcol: Vec<T>,
}

/// One chunk range's weight and bias gradient.
struct Partial<T> {
    dw: Vec<T>,
    db: Vec<T>,
}

/// Σ parts in a tree fixed by their number, ((p0 + p1) + (p2 + p3)) + …,
/// whatever thread computed which part.
fn pairwise<T: Real>(mut parts: Vec<Partial<T>>) -> Partial<T> {
    while parts.len() > 1 {
        let mut it = parts.into_iter();
        let mut next = Vec::new();
        while let Some(mut a) = it.next() {
            if let Some(b) = it.next() {
                a.dw.iter_mut().zip(&b.dw).for_each(|(u, &v)| *u += v);
                a.db.iter_mut().zip(&b.db).for_each(|(u, &v)| *u += v);
            }
            next.push(a);
        }
        parts = next;
    }
    parts.pop().unwrap_or(Partial { dw: Vec::new(), db: Vec::new() })
}
