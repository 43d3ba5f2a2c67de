//! Test oracles: convolution and pooling written as their definitions, one
//! output cell at a time, in the batch layout `[batch][C][H][W]` (a sample's
//! map is contiguous, as the notes draw it). The engine never calls them;
//! the rows kernels (`Conv2d::forward_rows` / `backward_rows`, `pool_rows`)
//! are tested against them after a transpose, and they in turn are checked
//! against the notes' worked examples and central differences
//! (`rust/core/tests/cnn_kernels.rs`, `cnn_rows.rs`). Simple and obviously
//! correct beats fast here: plain loops, single-threaded, fresh outputs,
//! lengths asserted.

pub mod conv;
pub mod pool;
