//! nervenet-core: neural networks as explicit graphs of nodes and edges,
//! compiled into plans of batched kernels. Pure Rust; the Python bindings
//! live in the `nervenet-py` crate.
//!
//! ```
//! use nervenet_core::{Graph, Role, NodeKind, Activation, EdgeSpec, Network, Init, Sequences, Seed, Targets, Loss, Reduction};
//! let mut g = Graph::new();
//! let x = g.add_node(Role::Input, NodeKind::simple(Activation::Identity), None).unwrap();
//! let y = g.add_node(Role::Output, NodeKind::simple(Activation::Identity), None).unwrap();
//! let e = g.add_edge(x, y, EdgeSpec { weight: Some(2.0), ..EdgeSpec::default() }).unwrap();
//! let net: Network<f64> = Network::new(g, &Init::default(), 0).unwrap();
//! let input = [3.0];
//! let batch = Sequences::new(&input, 1, 1, 1);
//! assert_eq!(net.forward(&batch).unwrap(), vec![6.0]);
//! let target = [5.0];
//! let seed = Seed::Loss { loss: Loss::L1, targets: Targets::Values(&target), reduction: Reduction::Sum, mask: None };
//! let grads = net.gradient(&batch, &seed, false).unwrap();
//! assert_eq!((grads.loss, grads.params[0]), (1.0, 3.0));
//! # let _ = e;
//! ```

pub mod error;
pub mod exec;
pub mod gradcheck;
pub mod graph;
pub mod init;
pub mod kernels;
pub mod limits;
pub mod loss;
pub mod network;
pub mod optim;
pub mod plan;
pub mod real;
pub mod train;

pub use error::{Error, Result};
pub use exec::{
    num_threads, pool_runs, set_inference_memory, set_min_parallel_work, set_num_threads, Dropout, RunOutput, Seed,
    Sequences, Targets, Want,
};
pub use gradcheck::{check_gradients, numeric_gradient, relative_error, GradientReport};
pub use graph::{
    random_graph, Activation, CellKind, Edge, EdgeId, EdgeKind, EdgeSpec, Graph, Node, NodeId, NodeKind, PoolOp,
    RandomGraphSpec, Role,
};
pub use init::{Init, WeightInit};
pub use limits::{memory_budget, set_memory_budget};
pub use loss::{Loss, Reduction};
pub use network::{Gradients, Network};
pub use optim::{MomentumAnnealing, Optimizer, OptimizerState, ReduceOnPlateau, Schedule};
pub use plan::{
    ConvBlock, GroupKind, ParamGroup, ParamGroups, Plan, PlanOptions, PlanSummary, PoolBlock, PoolRegions, Shape,
};
pub use real::Real;
pub use train::{
    evaluate_population, BatchEvent, Dataset, EpochReport, Metrics, NonFinite, Safeguards, TrainConfig, Trainer,
};
