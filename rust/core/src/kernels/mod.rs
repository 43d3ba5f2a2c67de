//! Compute kernels: activations (forward and derivative side by side),
//! vector primitives with runtime-dispatched SIMD, faer GEMM wrappers, the
//! memory cells, and convolution and pooling on the engine's rows layout
//! (their geometry in `conv` and `pool`). `reference` holds the plain
//! definitions the CNN kernels are tested against; the engine never calls it.

pub mod activation;
pub mod cells;
pub mod conv;
pub mod gemm;
pub mod math;
pub mod peak;
pub mod pool;
pub mod pool_rows;
pub mod reference;
pub mod vector;
