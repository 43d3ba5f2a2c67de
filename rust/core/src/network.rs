//! A network: a graph, its compiled plan and the flat parameter buffer, with
//! forward, loss-and-gradient and backward (vector-Jacobian product) passes.

use crate::bail;
use crate::error::Result;
use crate::exec::{self, RunOutput, Seed, Sequences, Want, Workspace};
use crate::graph::Graph;
use crate::init::{initial_values, Init};
use crate::plan::{ParamGroup, ParamGroups, Plan, PlanOptions};
use crate::real::Real;

#[derive(Clone, Debug)]
pub struct Network<T: Real> {
    graph: Graph,
    plan: Plan,
    params: Vec<T>,
    workspace: Workspace<T>,
}

/// Loss and gradients of one batch.
#[derive(Clone, Debug)]
pub struct Gradients<T> {
    pub loss: f64,
    /// dL/dθ in flat-buffer order (0 for fixed parameters).
    pub params: Vec<T>,
    /// dL/dx `(batch, steps, n_inputs)`, when asked for.
    pub inputs: Option<Vec<T>>,
}

impl<T: Real> Network<T> {
    pub fn new(graph: Graph, init: &Init, seed: u64) -> Result<Self> {
        Network::with_options(graph, init, seed, PlanOptions::default())
    }

    pub fn with_options(graph: Graph, init: &Init, seed: u64, options: PlanOptions) -> Result<Self> {
        init.validate()?;
        options.validate()?;
        let plan = Plan::compile_with(&graph, options)?;
        let params = initial_values(&plan.groups, init, seed)?;
        Ok(Network { graph, plan, params, workspace: Workspace::default() })
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    pub fn params(&self) -> &[T] {
        &self.params
    }

    /// The parameters for in-place updates by the trainer (which keeps
    /// fixed parameters unchanged: their gradient is always 0).
    pub(crate) fn params_mut(&mut self) -> &mut [T] {
        &mut self.params
    }

    pub fn n_inputs(&self) -> usize {
        self.plan.n_inputs
    }

    pub fn n_outputs(&self) -> usize {
        self.plan.n_outputs()
    }

    /// Replaces every parameter; fixed parameters must keep their values.
    pub fn set_params(&mut self, values: &[T]) -> Result<()> {
        if values.len() != self.params.len() {
            bail!(Shape, "got {} parameter values, the network has {}", values.len(), self.params.len());
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            bail!(Value, "parameter {} ({}) would be set to {:?}", i, self.param_name(i), values[i]);
        }
        for r in self.plan.groups.fixed() {
            if let Some(k) = values[r.clone()].iter().zip(&self.params[r.clone()]).position(|(a, b)| a != b) {
                bail!(Parameter, "parameter {} is fixed and cannot change", self.param_name(r.start + k));
            }
        }
        self.params.copy_from_slice(values);
        Ok(())
    }

    /// What each range of the flat parameter vector holds.
    pub fn groups(&self) -> &ParamGroups {
        &self.plan.groups
    }

    /// Every parameter's name, in flat-vector order (made on demand: for
    /// large networks prefer [`Network::groups`]).
    pub fn param_names(&self) -> Vec<String> {
        self.plan.groups.iter().flat_map(|g| (0..g.params.len()).map(|k| g.entry_name(k))).collect()
    }

    /// The name of parameter `i` (`edge:17`, `edge:3[5]`, `node:5:bias`).
    pub fn param_name(&self, i: usize) -> String {
        self.plan.groups.param_name(i)
    }

    pub fn param_index(&self, name: &str) -> Result<usize> {
        self.plan.groups.index(name)
    }

    pub fn get_param(&self, name: &str) -> Result<T> {
        Ok(self.params[self.param_index(name)?])
    }

    /// The values of the group named `name` (`edge:17`, `node:5:bias`,
    /// `node:8:lstm`), row-major in its shape.
    pub fn group_values(&self, name: &str) -> Result<(&ParamGroup, &[T])> {
        let g = self.plan.groups.group(name)?;
        Ok((g, &self.params[g.params.clone()]))
    }

    /// Replaces the values of one group (a fixed group must keep its values).
    pub fn set_group(&mut self, name: &str, values: &[T]) -> Result<()> {
        let g = self.plan.groups.group(name)?;
        if values.len() != g.params.len() {
            bail!(
                Shape,
                "group {name} holds {} values (shape {:?}), got {}",
                g.params.len(),
                g.shape.dims(),
                values.len()
            );
        }
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            bail!(Value, "parameter {} would be set to {:?}", g.entry_name(k), values[k]);
        }
        let own = &mut self.params[g.params.clone()];
        if !g.trainable && own != values {
            bail!(Parameter, "group {name} is fixed and cannot change");
        }
        own.copy_from_slice(values);
        Ok(())
    }

    pub fn set_param(&mut self, name: &str, value: T) -> Result<()> {
        let i = self.param_index(name)?;
        if !self.plan.groups.is_trainable(i) {
            bail!(Parameter, "parameter {name} is fixed and cannot change");
        }
        if !value.is_finite() {
            bail!(Value, "parameter {name} would be set to {value:?}");
        }
        self.params[i] = value;
        Ok(())
    }

    /// Outputs `(batch, steps, n_outputs)`.
    pub fn forward(&self, x: &Sequences<'_, T>) -> Result<Vec<T>> {
        let want = Want { outputs: true, parallel: true, ..Want::default() };
        Ok(self.run(&self.params, x, None, want)?.outputs.unwrap_or_default())
    }

    /// Loss and dL/dθ (and dL/dx if `input_grads`) for a loss seed, or the
    /// vector-Jacobian product for an output-gradient seed.
    pub fn gradient(&self, x: &Sequences<'_, T>, seed: &Seed<'_, T>, input_grads: bool) -> Result<Gradients<T>> {
        let want = Want { param_grads: true, input_grads, parallel: true, ..Want::default() };
        let out = self.run(&self.params, x, Some(seed), want)?;
        Ok(Gradients { loss: out.loss, params: out.param_grads.unwrap_or_default(), inputs: out.input_grads })
    }

    /// One step of vanilla gradient descent, θ ← θ − lr·∇L, on this batch
    /// (fixed parameters stay put). Returns the loss before the step. A step
    /// that would make a parameter NaN or infinite is not taken.
    pub fn sgd_step(&mut self, x: &Sequences<'_, T>, seed: &Seed<'_, T>, learning_rate: f64) -> Result<f64> {
        if !learning_rate.is_finite() {
            bail!(Config, "learning rate must be finite, got {learning_rate}");
        }
        let grads = self.gradient(x, seed, false)?;
        let lr = T::from_f64(learning_rate);
        let refused = crate::optim::descend(&mut self.params, &grads.params, lr)?;
        if let Some(i) = refused {
            bail!(
                Value,
                "the step would make parameter {} non-finite (loss {}, gradient {:?}); parameters left unchanged",
                self.param_name(i),
                grads.loss,
                grads.params[i]
            );
        }
        self.recycle(grads.params);
        Ok(grads.loss)
    }

    /// The loss alone (no backward pass) at the given parameter values.
    pub fn loss_at(&self, params: &[T], x: &Sequences<'_, T>, seed: &Seed<'_, T>, parallel: bool) -> Result<f64> {
        let want = Want { parallel, ..Want::default() };
        Ok(self.run(params, x, Some(seed), want)?.loss)
    }

    /// Hands a buffer this network returned (a gradient, say) back for
    /// later runs to reuse: a fresh buffer of that size costs a page fault
    /// per 4 KiB on first touch.
    pub fn recycle(&self, buffer: Vec<T>) {
        self.workspace.give(buffer);
    }

    /// The most bytes of run buffers (activations, deltas, gradients) out
    /// at once since the last reset, measured where they are handed out:
    /// tests check the inference memory cap with it.
    #[doc(hidden)]
    pub fn workspace_peak_bytes(&self, reset: bool) -> usize {
        self.workspace.peak_bytes(reset)
    }

    /// The general entry point: any combination of outputs and gradients.
    pub fn run(
        &self,
        params: &[T],
        x: &Sequences<'_, T>,
        seed: Option<&Seed<'_, T>>,
        want: Want,
    ) -> Result<RunOutput<T>> {
        if params.len() != self.params.len() {
            bail!(Shape, "got {} parameter values, the network has {}", params.len(), self.params.len());
        }
        exec::run(&self.plan, params, x, seed, want, &self.workspace)
    }
}
