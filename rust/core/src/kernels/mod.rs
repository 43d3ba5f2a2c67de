//! Compute kernels: activations (forward and derivative side by side),
//! vector primitives with runtime-dispatched SIMD, and faer GEMM wrappers.

pub mod activation;
pub mod cells;
pub mod conv;
pub mod gemm;
pub mod math;
pub mod pool;
pub mod pool_rows;
pub mod vector;
