//! Memory cells inside a step: after a level's blocks have summed into the
//! cells' port rows, each cell reads its ports at t and its own h / c at
//! t − 1 (zeros before the sequence starts) and writes h (its value row)
//! and c (its state row) at t. Backward runs the cell kernels in reverse:
//! port deltas for the blocks, deltas of h' and c' carried to t − 1, and
//! the cells' own parameter gradients summed into the chunk's buffer.

use super::Geometry;
use crate::kernels::cells::{self, Grads, Inputs, Saved};
use crate::kernels::vector;
use crate::plan::{CellGroup, Level, Plan};
use crate::real::Real;
use std::ops::Range;

/// Offsets of each cell group's parameters in a chunk's compact gradient
/// buffer, in plan order.
pub(super) fn grad_layout(plan: &Plan) -> (Vec<usize>, usize) {
    let mut offsets = Vec::new();
    let mut n = 0;
    for g in plan.cell_groups() {
        offsets.push(n);
        n += g.params.len();
    }
    (offsets, n)
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

/// The current slot mutably and the previous one (if t ≥ 1) immutably.
fn slots<T>(buf: &mut [T], g: Geometry, t: usize) -> (&mut [T], Option<&mut [T]>) {
    let len = g.slot_len();
    let cur = g.at(t, 0);
    if t == 0 {
        return (&mut buf[cur..cur + len], None);
    }
    let prev = g.at(t - 1, 0);
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

pub(super) fn forward<T: Real>(level: &Level, params: &[T], g: Geometry, t: usize, values: &mut [T], zeros: &[T]) {
    let w = g.width;
    let (cur, prev) = slots(values, g, t);
    let prev = prev.map(|p| &*p);
    for group in &level.cells {
        let (kind, np, nk) = (group.kind, group.kind.ports().len(), group.kind.params().len());
        let (h, ports, c) = parts(cur, group, w);
        let prev_h = prev.map(|p| &p[scaled(&group.rows, w)]);
        let prev_c = prev.map(|p| &p[scaled(&group.states, w)]);
        vector::simd(|| {
            for j in 0..group.rows.len() {
                let cj = if kind.has_state() { j * w..(j + 1) * w } else { 0..0 };
                let x = Inputs {
                    p: &params[group.params.start + j * nk..group.params.start + (j + 1) * nk],
                    ports: &ports[j * np * w..(j + 1) * np * w],
                    prev_h: prev_h.map_or(zeros, |p| &p[j * w..(j + 1) * w]),
                    prev_c: prev_c.map_or(&zeros[..cj.len()], |p| &p[cj.clone()]),
                };
                cells::forward(kind, x, &mut h[j * w..(j + 1) * w], &mut c[cj]);
            }
        });
    }
}

/// `grads` is the chunk's compact cell-gradient buffer from `offset` on;
/// `sink` is scratch of at least 2·w for deltas before the sequence start.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward<T: Real>(
    level: &Level,
    params: &[T],
    g: Geometry,
    t: usize,
    values: &[T],
    deltas: &mut [T],
    zeros: &[T],
    sink: &mut [T],
    grads: &mut [T],
) {
    let w = g.width;
    let cur_v = &values[g.at(t, 0)..g.at(t, 0) + g.slot_len()];
    let prev_v = (t > 0).then(|| &values[g.at(t - 1, 0)..g.at(t - 1, 0) + g.slot_len()]);
    let (cur, mut prev) = slots(deltas, g, t);
    let mut offset = 0;
    for group in &level.cells {
        let (kind, np, nk) = (group.kind, group.kind.ports().len(), group.kind.params().len());
        let (dh, dports, dc) = parts(cur, group, w);
        let (mut dprev_h, mut dprev_c) = match prev.as_deref_mut() {
            Some(p) => {
                let (dph, _, dpc) = parts(p, group, w);
                (Some(dph), Some(dpc))
            }
            None => (None, None),
        };
        let (sink_h, sink_c) = sink.split_at_mut(w);
        vector::simd(|| {
            for j in 0..group.rows.len() {
                let r = j * w..(j + 1) * w;
                let cj = if kind.has_state() { r.clone() } else { 0..0 };
                let (vh, vc) = (&cur_v[scaled(&group.rows, w)], &cur_v[scaled(&group.states, w)]);
                let x = Inputs {
                    p: &params[group.params.start + j * nk..group.params.start + (j + 1) * nk],
                    ports: &cur_v[group.ports.start * w + j * np * w..group.ports.start * w + (j + 1) * np * w],
                    prev_h: prev_v.map_or(zeros, |p| &p[scaled(&group.rows, w)][r.clone()]),
                    prev_c: prev_v.map_or(&zeros[..cj.len()], |p| &p[scaled(&group.states, w)][cj.clone()]),
                };
                let s = Saved { h: &vh[r.clone()], c: &vc[cj.clone()], dh: &dh[r.clone()], dc: &dc[cj.clone()] };
                let out = Grads {
                    ports: &mut dports[j * np * w..(j + 1) * np * w],
                    prev_h: match dprev_h.as_deref_mut() {
                        Some(d) => &mut d[r.clone()],
                        None => &mut sink_h[..],
                    },
                    prev_c: match dprev_c.as_deref_mut() {
                        Some(d) => &mut d[cj.clone()],
                        None => &mut sink_c[..cj.len()],
                    },
                    p: &mut grads[offset + j * nk..offset + (j + 1) * nk],
                };
                cells::backward(kind, x, s, out);
            }
        });
        offset += group.params.len();
    }
}
