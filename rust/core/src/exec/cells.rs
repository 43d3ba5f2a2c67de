//! Memory cells inside a step: after a level's blocks have summed into the
//! cells' port rows, each cell reads its ports at t and its own h / c at
//! t − 1 (zeros before the sequence starts) and writes h (its value row)
//! and c (its state row) at t. Backward runs the cell kernels in reverse:
//! port deltas for the blocks, deltas of h' and c' carried to t − 1, and
//! the cells' own parameter gradients summed into the chunk's buffer.
//!
//! A kernel runs a whole group at once over one vector of cells × samples:
//! ports are laid out port-major, so each port of the group is one
//! contiguous vector, and the cells' own parameters are expanded per run
//! into the same layout (`[k][cell][sample]`), so element e reads its
//! cell's parameter k at `k·len + e`. Gradients of those parameters
//! accumulate in that layout over the steps and are summed over the
//! samples once, at the end of the chunk.

use super::Geometry;
use crate::kernels::cells::{self, Grads, Inputs, LaneGrads, PerCell, Saved, Shared, MAX_WIDTH};
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

/// Adds gradients in the expanded layout (`[k][cell][sample]`, `w`
/// samples) into the compact buffer (`[cell][k]`), summing the samples.
pub(super) fn add_expanded<T: Real>(plan: &Plan, expanded: &[T], w: usize, grads: &mut [T]) {
    let mut offset = 0;
    for g in plan.cell_groups() {
        let (n, nk) = (g.rows.len(), g.kind.params().len());
        let src = &expanded[offset * w..(offset + n * nk) * w];
        let out = &mut grads[offset..offset + n * nk];
        for k in 0..nk {
            for j in 0..n {
                let lanes = &src[(k * n + j) * w..(k * n + j + 1) * w];
                out[j * nk + k] += lanes.iter().fold(T::ZERO, |a, &v| a + v);
            }
        }
        offset += n * nk;
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

/// Each group's own parameters expanded to `[k][cell][sample]` for `w`
/// samples per chunk, in plan order (the compact buffer's offsets × w).
pub(super) fn expanded_params<T: Real>(plan: &Plan, params: &[T], w: usize) -> Vec<T> {
    let mut out = vec![T::ZERO; grad_len(plan) * w];
    let mut offset = 0;
    for g in plan.cell_groups() {
        let (n, nk) = (g.rows.len(), g.kind.params().len());
        let own = &params[g.params.clone()];
        for k in 0..nk {
            for j in 0..n {
                let at = offset * w + (k * n + j) * w;
                out[at..at + w].fill(own[j * nk + k]);
            }
        }
        offset += n * nk;
    }
    out
}

/// `soa`: this level's groups' expanded parameters (see `expanded_params`).
pub(super) fn forward<T: Real>(level: &Level, soa: &[T], g: Geometry, t: usize, values: &mut [T], zeros: &[T]) {
    let w = g.width;
    let (cur, prev) = slots(values, g, t);
    let prev = prev.map(|p| &*p);
    let mut offset = 0;
    for group in &level.cells {
        let (kind, np, nk, n) = (group.kind, group.kind.ports().len(), group.kind.params().len(), group.rows.len());
        let len = n * w;
        let (h, ports, c) = parts(cur, group, w);
        let prev_h = prev.map(|p| &p[scaled(&group.rows, w)]);
        let prev_c = prev.map(|p| &p[scaled(&group.states, w)]);
        let sc = if kind.has_state() { len } else { 0 };
        let own = &soa[offset..offset + nk * len];
        vector::simd(
            #[inline(always)]
            || {
                let ports = port_views(ports, np, len, 0, len);
                let (prev_h, prev_c) = (prev_h.unwrap_or(&zeros[..len]), prev_c.unwrap_or(&zeros[..sc]));
                if nk == 0 {
                    // standard units: no parameters of their own
                    let x = Inputs { p: Shared::new(&[]), ports, prev_h, prev_c };
                    return cells::forward(kind, x, h, &mut c[..sc]);
                }
                let x = Inputs { p: PerCell { data: own, n: len }, ports, prev_h, prev_c };
                cells::forward(kind, x, h, &mut c[..sc]);
            },
        );
        offset += nk * len;
    }
}

/// `soa` and `grads`: this level's groups' expanded parameters and their
/// gradients, summed over the steps (`[k][cell][sample]`); `sink` is
/// scratch (≥ 2 × the widest group · w) for the deltas of steps before the
/// sequence start; `zeros` likewise; `lanes` is per-element scratch.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward<T: Real>(
    level: &Level,
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
        let len = n * w;
        let sc = if kind.has_state() { len } else { 0 };
        let (dh, dports, dc) = parts(cur, group, w);
        let (dprev_h, dprev_c) = match prev.as_deref_mut() {
            Some(p) => {
                let (dph, _, dpc) = parts(p, group, w);
                (dph, dpc)
            }
            None => {
                sink[..2 * len].fill(T::ZERO);
                let (a, b) = sink.split_at_mut(len);
                (&mut a[..], &mut b[..sc])
            }
        };
        let vh = &cur_v[scaled(&group.rows, w)];
        let vc = &cur_v[scaled(&group.states, w)];
        let vports = &cur_v[scaled(&group.ports, w)];
        let prev_h = prev_v.map_or(&zeros[..len], |p| &p[scaled(&group.rows, w)]);
        let prev_c = prev_v.map_or(&zeros[..sc], |p| &p[scaled(&group.states, w)]);
        let own = &soa[offset..offset + nk * len];
        let dp = &mut grads[offset..offset + nk * len];
        vector::simd(
            #[inline(always)]
            || {
                if nk == 0 {
                    let x = Inputs { p: Shared::new(&[]), ports: port_views(vports, np, len, 0, len), prev_h, prev_c };
                    let s = Saved { h: vh, c: vc, dh, dc };
                    let out =
                        Grads { ports: port_views_mut(dports, np, len, 0, len), prev_h: dprev_h, prev_c: dprev_c };
                    return cells::backward(kind, x, s, out, lanes);
                }
                // Pieces of at most MAX_WIDTH elements: the kernel writes
                // each element's parameter gradients into `lanes` (write-only,
                // so its loop vectorises), added into `dp` after each piece.
                for e0 in (0..len).step_by(MAX_WIDTH) {
                    let e = e0..(e0 + MAX_WIDTH).min(len);
                    let ec = if sc > 0 { e.clone() } else { 0..0 };
                    let x = Inputs {
                        p: PerCell { data: &own[e0..], n: len },
                        ports: port_views(vports, np, len, e0, e.len()),
                        prev_h: &prev_h[e.clone()],
                        prev_c: &prev_c[ec.clone()],
                    };
                    let s = Saved { h: &vh[e.clone()], c: &vc[ec.clone()], dh: &dh[e.clone()], dc: &dc[ec.clone()] };
                    let out = Grads {
                        ports: port_views_mut(dports, np, len, e0, e.len()),
                        prev_h: &mut dprev_h[e.clone()],
                        prev_c: &mut dprev_c[ec.clone()],
                    };
                    cells::backward(kind, x, s, out, lanes);
                    lanes.add_per_cell(nk, e.len(), len, &mut dp[e0..]);
                }
            },
        );
        offset += nk * len;
    }
}
