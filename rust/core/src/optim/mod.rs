//! Training updates as the lecture notes define them: optimisers (vanilla,
//! momentum, Nesterov, Adagrad, RMSprop, Adam), learning-rate and momentum
//! schedules, and safeguards (weight capping, gradient scaling/boosting,
//! regularisation, the update/weight ratio). Parameters, gradients and
//! optimiser state share the plan's flat layout, so every update is a
//! vector loop over slices.

mod optimizer;
mod safeguards;
mod schedule;

pub use optimizer::{
    descend, Optimizer, OptimizerState, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_DECAY, DEFAULT_EPS, DEFAULT_MU,
};
pub use safeguards::{boost_gradient, cap_weights, l2_norm, regularise, scale_gradient, update_ratio, update_ratio_l1};
pub use schedule::{MomentumAnnealing, ReduceOnPlateau, Schedule};
