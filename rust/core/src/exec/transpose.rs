//! Moving data between the user's sample-major arrays `(sample, step,
//! feature)` and the engine's rows `[row][sample]`, in square tiles so that
//! both sides are read and written a cache line at a time (an image input
//! of 3·32·32 values per sample otherwise costs a cache miss per value).

/// A strided matrix view: element (i, j) at `offset + i·row_stride + j·col_stride`.
#[derive(Clone, Copy)]
pub(super) struct Strided {
    pub offset: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl Strided {
    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> usize {
        self.offset + i * self.row_stride + j * self.col_stride
    }
}

const TILE: usize = 16;

/// `f(&mut dst[(i, j)], src[(i, j)])` for the `rows × cols` elements.
#[inline]
pub(super) fn copy<T: Copy>(
    rows: usize,
    cols: usize,
    src: &[T],
    s: Strided,
    dst: &mut [T],
    d: Strided,
    f: impl Fn(&mut T, T),
) {
    for i0 in (0..rows).step_by(TILE) {
        for j0 in (0..cols).step_by(TILE) {
            for i in i0..(i0 + TILE).min(rows) {
                for j in j0..(j0 + TILE).min(cols) {
                    f(&mut dst[d.at(i, j)], src[s.at(i, j)]);
                }
            }
        }
    }
}
