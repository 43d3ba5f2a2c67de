//! Memory cells inside a step: after a level's blocks have summed into the
//! cells' port rows, each cell reads its ports at t and its own h / c at
//! t − 1 (zeros before the sequence starts) and writes h (its value row)
//! and c (its state row) at t. Backward runs the cell kernels in reverse:
//! port deltas for the blocks, deltas of h' and c' carried to t − 1, and
//! the cells' own parameter gradients summed into the chunk's buffer.
//!
//! With several samples a kernel runs one cell over the batch vector; at
//! batch size 1 it runs the whole group at once, one cell per element
//! (ports are laid out port-major, so each port is then one vector), and so
//! it does at any batch size for standard units, which have no parameters
//! of their own (each port is then one vector of cells × samples).

use super::Geometry;
use crate::kernels::cells::{self, Grads, Inputs, LaneGrads, PerCell, PerCellGrads, Saved, Shared, MAX_WIDTH};
use crate::kernels::vector;
use crate::plan::{CellGroup, Level, Plan};
use crate::real::Real;
use std::ops::Range;

/// Size of a chunk's compact buffer of cell-parameter gradients.
pub(super) fn grad_len(plan: &Plan) -> usize {
    plan.cell_groups().map(|g| g.params.len()).sum()
}

/// Where each level's cell groups start in the compact buffers.
pub(super) fn level_offsets(plan: &Plan) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(plan.levels.len());
    let mut n = 0;
    for level in &plan.levels {
        offsets.push(n);
        n += level.cells.iter().map(|c| c.params.len()).sum::<usize>();
    }
    offsets
}

/// Adds transposed (batch-size-1) gradients into the compact buffer.
pub(super) fn add_transposed<T: Real>(plan: &Plan, soa: &[T], grads: &mut [T]) {
    let mut offset = 0;
    for g in plan.cell_groups() {
        let len = g.params.len();
        cells::transpose_add(&soa[offset..offset + len], g.rows.len(), g.kind.params().len(), &mut grads[offset..]);
        offset += len;
    }
}

/// Adds the chunks' cell-parameter gradients (in chunk order) into `grads`.
pub(super) fn reduce_grads<T: Real>(plan: &Plan, chunk_grads: &[&[T]], grads: &mut [T]) {
    let mut offset = 0;
    for g in plan.cell_groups() {
        let out = &mut grads[g.params.clone()];
        for c in chunk_grads {
            for (o, &v) in out.iter_mut().zip(&c[offset..offset + g.params.len()]) {
                *o += v;
            }
        }
        offset += g.params.len();
    }
}

fn scaled(r: &Range<usize>, w: usize) -> Range<usize> {
    r.start * w..r.end * w
}

/// The current slot mutably and the previous one (if t ≥ 1).
fn slots<T>(buf: &mut [T], g: Geometry, t: usize) -> (&mut [T], Option<&mut [T]>) {
    let len = g.slot_len();
    let cur = g.at(t, 0);
    if !g.reaches(t, 1) {
        return (&mut buf[cur..cur + len], None);
    }
    let prev = g.at_back(t, 1, 0);
    if prev < cur {
        let (lo, hi) = buf.split_at_mut(cur);
        (&mut hi[..len], Some(&mut lo[prev..prev + len]))
    } else {
        let (lo, hi) = buf.split_at_mut(prev);
        (&mut lo[cur..cur + len], Some(&mut hi[..len]))
    }
}

/// Splits one slot into a group's value rows, port rows and state rows
/// (value rows < port rows < state rows by construction of the layout).
fn parts<'a, T>(slot: &'a mut [T], group: &CellGroup, w: usize) -> (&'a mut [T], &'a mut [T], &'a mut [T]) {
    let (lo, hi) = slot.split_at_mut(group.ports.start * w);
    let (ports, states) = hi.split_at_mut((group.states.start.max(group.ports.end) - group.ports.start) * w);
    (&mut lo[scaled(&group.rows, w)], &mut ports[..group.ports.len() * w], &mut states[..group.states.len() * w])
}

/// `span` values from `start` of each of the `np` port blocks (of `len`
/// values each) of a port region; unused ports are empty.
fn port_views<T>(region: &[T], np: usize, len: usize, start: usize, span: usize) -> [&[T]; 4] {
    let at = |p: usize| if p < np { &region[p * len + start..p * len + start + span] } else { &region[..0] };
    [at(0), at(1), at(2), at(3)]
}

fn port_views_mut<T>(region: &mut [T], np: usize, len: usize, start: usize, span: usize) -> [&mut [T]; 4] {
    let mut out: [&mut [T]; 4] = [&mut [], &mut [], &mut [], &mut []];
    let mut rest = region;
    for slot in out.iter_mut().take(np) {
        let (block, tail) = std::mem::take(&mut rest).split_at_mut(len);
        *slot = &mut block[start..start + span];
        rest = tail;
    }
    out
}

/// Each group's own parameters transposed (`[k][cell]`), in plan order,
/// for batch size 1; empty otherwise.
pub(super) fn transposed_params<T: Real>(plan: &Plan, params: &[T], width: usize) -> Vec<T> {
    if width != 1 {
        return Vec::new();
    }
    let mut out = vec![T::ZERO; grad_len(plan)];
    let mut offset = 0;
    for g in plan.cell_groups() {
        let len = g.params.len();
        cells::transpose(
            &params[g.params.clone()],
            g.rows.len(),
            g.kind.params().len(),
            &mut out[offset..offset + len],
        );
        offset += len;
    }
    out
}

/// `soa`: this level's groups' transposed parameters (batch size 1 only).
pub(super) fn forward<T: Real>(
    level: &Level,
    params: &[T],
    soa: &[T],
    g: Geometry,
    t: usize,
    values: &mut [T],
    zeros: &[T],
) {
    let w = g.width;
    let (cur, prev) = slots(values, g, t);
    let prev = prev.map(|p| &*p);
    let mut offset = 0;
    for group in &level.cells {
        let (kind, np, nk, n) = (group.kind, group.kind.ports().len(), group.kind.params().len(), group.rows.len());
        let (h, ports, c) = parts(cur, group, w);
        let prev_h = prev.map(|p| &p[scaled(&group.rows, w)]);
        let prev_c = prev.map(|p| &p[scaled(&group.states, w)]);
        let own = &params[group.params.clone()];
        let sc = if kind.has_state() { n * w } else { 0 };
        vector::simd(
            #[inline(always)]
            || {
                if w == 1 {
                    let x = Inputs {
                        p: PerCell { data: &soa[offset..offset + n * nk], n },
                        ports: port_views(ports, np, n, 0, n),
                        prev_h: prev_h.unwrap_or(&zeros[..n]),
                        prev_c: prev_c.unwrap_or(&zeros[..sc]),
                    };
                    return cells::forward(kind, x, h, &mut c[..sc]);
                }
                if nk == 0 {
                    // Standard units have no parameters of their own: the
                    // whole group is one elementwise pass over cells × samples.
                    let len = n * w;
                    let x = Inputs {
                        p: Shared::new(&[]),
                        ports: port_views(ports, np, len, 0, len),
                        prev_h: prev_h.unwrap_or(&zeros[..len]),
                        prev_c: prev_c.unwrap_or(&zeros[..sc]),
                    };
                    return cells::forward(kind, x, h, &mut c[..sc]);
                }
                for j in 0..n {
                    let cj = if kind.has_state() { j * w..(j + 1) * w } else { 0..0 };
                    let x = Inputs {
                        p: Shared::new(&own[j * nk..(j + 1) * nk]),
                        ports: port_views(ports, np, n * w, j * w, w),
                        prev_h: prev_h.map_or(&zeros[..w], |p| &p[j * w..(j + 1) * w]),
                        prev_c: prev_c.map_or(&zeros[..cj.len()], |p| &p[cj.clone()]),
                    };
                    cells::forward(kind, x, &mut h[j * w..(j + 1) * w], &mut c[cj]);
                }
            },
        );
        offset += group.params.len();
    }
}

/// `grads` is the chunk's compact cell-gradient buffer from this level's
/// first group on (transposed at batch size 1, like `soa`); `sink` is scratch (≥ 2 × the widest group · w) for the
/// deltas of steps before the sequence start; `zeros` likewise; `lanes`
/// is per-sample gradient scratch.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward<T: Real>(
    level: &Level,
    params: &[T],
    soa: &[T],
    g: Geometry,
    t: usize,
    values: &[T],
    deltas: &mut [T],
    zeros: &[T],
    sink: &mut [T],
    grads: &mut [T],
    lanes: &mut LaneGrads<T>,
) {
    let w = g.width;
    let cur_v = &values[g.at(t, 0)..g.at(t, 0) + g.slot_len()];
    let prev_v = g.reaches(t, 1).then(|| &values[g.at_back(t, 1, 0)..g.at_back(t, 1, 0) + g.slot_len()]);
    let (cur, mut prev) = slots(deltas, g, t);
    let mut offset = 0;
    for group in &level.cells {
        let (kind, np, nk, n) = (group.kind, group.kind.ports().len(), group.kind.params().len(), group.rows.len());
        let (dh, dports, dc) = parts(cur, group, w);
        let (dprev_h, dprev_c) = match prev.as_deref_mut() {
            Some(p) => {
                let (dph, _, dpc) = parts(p, group, w);
                (dph, dpc)
            }
            None => {
                sink[..2 * n * w].fill(T::ZERO);
                let (a, b) = sink.split_at_mut(n * w);
                (&mut a[..], &mut b[..n * w])
            }
        };
        let vh = &cur_v[scaled(&group.rows, w)];
        let vc = &cur_v[scaled(&group.states, w)];
        let vports = &cur_v[scaled(&group.ports, w)];
        let prev_h = prev_v.map_or(&zeros[..n * w], |p| &p[scaled(&group.rows, w)]);
        let prev_c = prev_v.map_or(&zeros[..group.states.len() * w], |p| &p[scaled(&group.states, w)]);
        let own = &params[group.params.clone()];
        let dp = &mut grads[offset..offset + group.params.len()];
        vector::simd(
            #[inline(always)]
            || {
                if w == 1 {
                    let x = Inputs {
                        p: PerCell { data: &soa[offset..offset + n * nk], n },
                        ports: port_views(vports, np, n, 0, n),
                        prev_h,
                        prev_c,
                    };
                    let s = Saved { h: vh, c: vc, dh, dc };
                    let out = Grads { ports: port_views_mut(dports, np, n, 0, n), prev_h: dprev_h, prev_c: dprev_c };
                    if n <= MAX_WIDTH {
                        // Gradients land in lanes (write-only), then are added
                        // once: read-modify-writes into `dp` inside the kernel
                        // keep its loop scalar.
                        cells::backward(kind, x, s, out, lanes);
                        return lanes.add_per_cell(nk, n, dp);
                    }
                    return cells::backward(kind, x, s, out, &mut PerCellGrads { data: dp, n });
                }
                if nk == 0 {
                    let len = n * w; // one pass over cells × samples, as in forward
                    let x = Inputs { p: Shared::new(&[]), ports: port_views(vports, np, len, 0, len), prev_h, prev_c };
                    let s = Saved { h: vh, c: vc, dh, dc };
                    let out =
                        Grads { ports: port_views_mut(dports, np, len, 0, len), prev_h: dprev_h, prev_c: dprev_c };
                    return cells::backward(kind, x, s, out, lanes);
                }
                for j in 0..n {
                    let r = j * w..(j + 1) * w;
                    let cj = if kind.has_state() { r.clone() } else { 0..0 };
                    let x = Inputs {
                        p: Shared::new(&own[j * nk..(j + 1) * nk]),
                        ports: port_views(vports, np, n * w, j * w, w),
                        prev_h: &prev_h[r.clone()],
                        prev_c: &prev_c[cj.clone()],
                    };
                    let s = Saved { h: &vh[r.clone()], c: &vc[cj.clone()], dh: &dh[r.clone()], dc: &dc[cj.clone()] };
                    let out = Grads {
                        ports: port_views_mut(dports, np, n * w, j * w, w),
                        prev_h: &mut dprev_h[r.clone()],
                        prev_c: &mut dprev_c[cj.clone()],
                    };
                    cells::backward(kind, x, s, out, lanes);
                    for (d, a) in dp[j * nk..(j + 1) * nk].iter_mut().zip(lanes.sums(nk, w)) {
                        *d += a;
                    }
                }
            },
        );
        offset += group.params.len();
    }
}
