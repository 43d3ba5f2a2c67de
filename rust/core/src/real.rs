//! The floating-point types the engine runs in: f32 (training default) and
//! f64 (gradient checking). Kernels are generic over [`Real`].

use faer::traits::ComplexField;

/// A real scalar usable by every kernel: faer GEMM plus the math the
/// activations and losses need.
pub trait Real:
    ComplexField
    + Copy
    + Send
    + Sync
    + PartialOrd
    + std::fmt::Debug
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + std::ops::MulAssign
    + 'static
{
    const ZERO: Self;
    const ONE: Self;
    /// "float32" or "float64", as numpy spells it.
    const NAME: &'static str;
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    /// e^x, vectorisable, within 2 ulp (see `kernels::math`).
    fn exp(self) -> Self;
    /// tanh, vectorisable, within 4 ulp (see `kernels::math`).
    fn tanh(self) -> Self;
    fn abs(self) -> Self;
    fn sqrt(self) -> Self;
    fn is_finite(self) -> bool;
}

macro_rules! impl_real {
    ($t:ty, $name:literal, $exp:path, $tanh:path) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NAME: &'static str = $name;
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
        }
    };
}
impl_real!(f32, "float32", crate::kernels::math::exp_f32, crate::kernels::math::tanh_f32);
impl_real!(f64, "float64", crate::kernels::math::exp_f64, crate::kernels::math::tanh_f64);
