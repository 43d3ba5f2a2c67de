//! Max and average pooling over [`Regions`] by their definition, on
//! `planes` planes of `in_h × in_w` (batch layout: `[batch·channels][in_h]
//! [in_w]` in, `[batch·channels][out_h][out_w]` out). Max pooling's winner is
//! the first maximum in row-major order, and a NaN wins (the first one), so
//! it propagates; only the winner gets the gradient. Average pooling divides
//! the region's sum, taken in row-major order, by its size.

use crate::kernels::pool::Regions;
use crate::real::Real;

/// y = the max of each region of each plane.
pub fn max_forward<T: Real>(r: &Regions, planes: usize, x: &[T]) -> Vec<T> {
    let mut y = Vec::new();
    each_region(r, planes, x.len(), |cells| y.push(x[winner(x, cells)]));
    y
}

/// dx: each region's output gradient `dy` added onto its winner in `x`.
pub fn max_backward<T: Real>(r: &Regions, planes: usize, x: &[T], dy: &[T]) -> Vec<T> {
    let mut dx = vec![T::ZERO; x.len()];
    let mut o = 0;
    each_region(r, planes, x.len(), |cells| {
        dx[winner(x, cells)] += dy[o];
        o += 1;
    });
    assert_eq!(o, dy.len(), "output gradient length");
    dx
}

/// y = the mean of each region of each plane.
pub fn avg_forward<T: Real>(r: &Regions, planes: usize, x: &[T]) -> Vec<T> {
    let mut y = Vec::new();
    each_region(r, planes, x.len(), |cells| {
        let sum = cells.iter().fold(T::ZERO, |s, &c| s + x[c]);
        y.push(sum / size::<T>(cells));
    });
    y
}

/// dx: each region's output gradient `dy` divided by its size, added onto
/// every cell of the region.
pub fn avg_backward<T: Real>(r: &Regions, planes: usize, dy: &[T]) -> Vec<T> {
    let (h, w) = r.input_size();
    let mut dx = vec![T::ZERO; planes * h * w];
    let mut o = 0;
    each_region(r, planes, dx.len(), |cells| {
        let g = dy[o] / size::<T>(cells);
        cells.iter().for_each(|&c| dx[c] += g);
        o += 1;
    });
    assert_eq!(o, dy.len(), "output gradient length");
    dx
}

/// `f(cells)` for every region of every plane in output order, with the
/// region's input cells (indices into the whole input) in row-major order.
fn each_region(r: &Regions, planes: usize, x_len: usize, mut f: impl FnMut(&[usize])) {
    let (h, w) = r.input_size();
    assert_eq!(x_len, planes * h * w, "input length");
    let mut cells = Vec::new();
    for plane in 0..planes {
        for &(r0, r1) in r.rows() {
            for &(c0, c1) in r.cols() {
                cells.clear();
                cells.extend((r0..r1).flat_map(|row| (c0..c1).map(move |col| (plane * h + row) * w + col)));
                f(&cells);
            }
        }
    }
}

/// The first cell holding the maximum, or the first NaN.
#[allow(clippy::eq_op)] // v != v is the NaN test
fn winner<T: Real>(x: &[T], cells: &[usize]) -> usize {
    let mut best = cells[0];
    for &c in &cells[1..] {
        let (v, m) = (x[c], x[best]);
        if v > m || (v != v && m == m) {
            best = c;
        }
    }
    best
}

fn size<T: Real>(cells: &[usize]) -> T {
    T::from_f64(cells.len() as f64)
}
