//! Graph -> Plan: a fixed schedule the executor replays for every batch and
//! time step. Nodes become rows of a node-major activation buffer ordered by
//! topological level; the edges into each level become blocks — dense
//! (a GEMM, missing edges masked) when dense enough, sparse (CSR, each edge
//! an axpy over the batch) otherwise — grouped by source level and time skip.
//! The plan also fixes the flat parameter layout (blocks contiguous, one
//! group per edge, bias or cell: see `groups`) and the tasks that reduce
//! weight gradients in a fixed order.

mod blocks;
mod groups;
mod layout;
mod maps;
mod phases;
mod runs;
mod tasks;

pub use blocks::{Block, BlockKind, CellGroup, Level};
pub use groups::{GroupKind, ParamGroup, ParamGroups, Shape};
pub use maps::{ConvBlock, PoolBlock, PoolRegions};
pub use phases::{Phase, Phases};
pub use runs::{ActRun, BiasRun};
pub use tasks::GradTask;

use crate::bail;
use crate::error::Result;
use crate::graph::{topological_levels, Graph, NodeId, Role};

/// When the edges between two groups of nodes become a dense block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanOptions {
    /// Minimum fraction of present edges (n_edges / (n_dst · n_src)).
    pub dense_min_density: f64,
    /// Minimum number of edges; tiny blocks run faster as CSR.
    pub dense_min_edges: usize,
    /// Take what does not depend on the recurrent core out of the step
    /// loop (see `phases.rs`); off only to test against stepping everything.
    pub time_parallel: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { dense_min_density: 0.5, dense_min_edges: 32, time_parallel: true }
    }
}

impl PlanOptions {
    /// NaN or a negative density would silently pick dense or sparse.
    pub fn validate(&self) -> Result<()> {
        if self.dense_min_density.is_nan() || self.dense_min_density < 0.0 {
            bail!(Config, "dense_min_density must be a number >= 0, got {}", self.dense_min_density);
        }
        Ok(())
    }

    /// Every block sparse (for tests comparing kernels).
    pub fn all_sparse() -> Self {
        PlanOptions { dense_min_density: f64::INFINITY, dense_min_edges: usize::MAX, ..PlanOptions::default() }
    }
    /// Every block dense, masked where edges are missing (for tests).
    pub fn all_dense() -> Self {
        PlanOptions { dense_min_density: 0.0, dense_min_edges: 0, ..PlanOptions::default() }
    }
}

/// What a plan runs: levels, blocks by kind, and the edge weights each
/// kind of block carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanSummary {
    pub levels: usize,
    pub max_skip: usize,
    pub dense_blocks: usize,
    pub masked_blocks: usize,
    pub sparse_blocks: usize,
    /// Weights in dense and masked-dense blocks.
    pub dense_params: usize,
    /// Weights in sparse blocks.
    pub sparse_params: usize,
}

/// The compiled schedule of a graph. Topology only: parameter values live
/// in the network's flat buffer laid out as `params` says.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Input nodes occupy rows `0..n_inputs`, in id order.
    pub n_inputs: usize,
    /// Row of each output node, in id order.
    pub output_rows: Vec<usize>,
    /// Rows of the output nodes as sorted, disjoint ranges.
    output_spans: Vec<std::ops::Range<usize>>,
    /// `levels[0]` holds the inputs; deeper levels hold everything else.
    pub levels: Vec<Level>,
    /// Largest time skip of any edge (0 for feed-forward networks).
    pub max_skip: usize,
    /// How many past steps a step reads: max_skip, and at least 1 when
    /// memory cells read their own previous state.
    pub memory: usize,
    /// Value rows, then the port and state rows of memory cells.
    pub n_rows: usize,
    /// What each range of the flat parameter buffer holds.
    pub groups: ParamGroups,
    /// Weight-gradient reductions, sorted by (disjoint) parameter range.
    pub tasks: Vec<GradTask>,
    /// Which levels and blocks run for all steps at once (see `phases.rs`).
    pub phases: Phases,
}

impl Plan {
    pub fn compile(graph: &Graph) -> Result<Plan> {
        Plan::compile_with(graph, PlanOptions::default())
    }

    pub fn compile_with(graph: &Graph, options: PlanOptions) -> Result<Plan> {
        graph.validate()?;
        graph.check_shapes()?;
        check_supported(graph)?;
        if graph.inputs().is_empty() {
            bail!(Graph, "the graph has no input nodes");
        }
        if graph.outputs().is_empty() {
            bail!(Graph, "the graph has no output nodes");
        }
        let level_of = topological_levels(graph)?;
        let depth = level_of.values().copied().max().unwrap_or(0) + 1;
        let mut by_level: Vec<Vec<NodeId>> = vec![Vec::new(); depth];
        for (&node, &l) in &level_of {
            by_level[l].push(node); // BTreeMap order: ids ascending within a level
        }
        // The flat buffer's size must not wrap (per-group sizes are then safe).
        graph.count_all_params()?;
        let layout = layout::layout(graph, &mut by_level)?;
        let row_of = &layout.row_of;
        let n_inputs = layout.level_rows[0].len(); // input maps bring C·H·W rows
                                                   // Every value of an output map is an output.
        let out_len =
            graph.outputs().iter().try_fold(0usize, |a, &n| Ok::<_, crate::Error>(a + graph.node(n)?.kind.size()))?;
        let mut output_rows = crate::limits::try_vec("the plan's output rows", out_len, 0usize)?;
        output_rows.clear();
        let mut output_spans = Vec::new();
        for n in graph.outputs() {
            let span = row_of[&n]..row_of[&n] + graph.node(n)?.kind.size();
            output_rows.extend(span.clone());
            output_spans.push(span);
        }
        output_spans.sort_by_key(|r| r.start);
        let (levels, groups, max_skip, cell_memory) = blocks::build(graph, &by_level, &layout, options)?;
        let tasks = tasks::grad_tasks(&levels);
        let phases = if options.time_parallel { Phases::of(&levels) } else { Phases::stepped(levels.len()) };
        Ok(Plan {
            n_inputs,
            output_rows,
            output_spans,
            levels,
            max_skip,
            memory: max_skip.max(cell_memory),
            n_rows: layout.n_rows,
            groups,
            tasks,
            phases,
        })
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Cells in the largest memory-cell group (0 without cells).
    pub fn widest_cell_group(&self) -> usize {
        self.cell_groups().map(|g| g.rows.len()).max().unwrap_or(0)
    }

    /// Memory-cell groups of every level.
    pub fn cell_groups(&self) -> impl Iterator<Item = &CellGroup> {
        self.levels.iter().flat_map(|l| &l.cells)
    }

    /// Whether any level has convolutions or poolings.
    pub fn has_maps(&self) -> bool {
        self.levels.iter().any(|l| !l.convs.is_empty() || !l.pools.is_empty())
    }

    pub fn n_outputs(&self) -> usize {
        self.output_rows.len()
    }

    pub fn n_params(&self) -> usize {
        self.groups.n_params()
    }

    /// Heap bytes of the plan's bookkeeping (everything but parameter
    /// values and run buffers): it grows with the graph, not with the
    /// parameter count.
    pub fn heap_bytes(&self) -> usize {
        fn vec<T>(v: &Vec<T>) -> usize {
            v.capacity() * size_of::<T>()
        }
        let levels: usize = self
            .levels
            .iter()
            .map(|l| {
                let blocks: usize = l.blocks.iter().map(|b| vec(&b.row_ptr) + vec(&b.cols)).sum();
                let convs: usize = l.convs.iter().map(|c| vec(&c.full_index)).sum();
                let pools: usize = l.pools.iter().map(|p| p.regions.heap_bytes()).sum();
                vec(&l.acts)
                    + vec(&l.bias)
                    + vec(&l.cells)
                    + vec(&l.blocks)
                    + vec(&l.convs)
                    + vec(&l.pools)
                    + blocks
                    + convs
                    + pools
            })
            .sum();
        size_of::<Plan>()
            + vec(&self.output_rows)
            + vec(&self.output_spans)
            + vec(&self.levels)
            + levels
            + self.groups.heap_bytes()
            + vec(&self.tasks)
    }

    /// Counts of what the plan runs, for users who want to see which
    /// kernels their graph compiled to.
    pub fn summary(&self) -> PlanSummary {
        let mut sum = PlanSummary { levels: self.levels.len(), max_skip: self.max_skip, ..PlanSummary::default() };
        for block in self.levels.iter().flat_map(|l| &l.blocks) {
            let n = block.params.len();
            match block.kind {
                BlockKind::Dense => (sum.dense_blocks, sum.dense_params) = (sum.dense_blocks + 1, sum.dense_params + n),
                BlockKind::MaskedDense => {
                    (sum.masked_blocks, sum.dense_params) = (sum.masked_blocks + 1, sum.dense_params + n)
                }
                BlockKind::Sparse => {
                    (sum.sparse_blocks, sum.sparse_params) = (sum.sparse_blocks + 1, sum.sparse_params + n)
                }
            }
        }
        sum
    }

    /// Whether `row` holds (a value of) an output node.
    pub fn is_output_row(&self, row: usize) -> bool {
        let i = self.output_spans.partition_point(|r| r.end <= row);
        self.output_spans.get(i).is_some_and(|r| r.contains(&row))
    }
}

/// Rejects node and edge combinations the engine cannot run, by name.
fn check_supported(graph: &Graph) -> Result<()> {
    for n in graph.nodes().filter(|n| n.enabled) {
        if n.role == Role::Input && n.kind.cell().is_some() {
            bail!(Graph, "{}: input nodes cannot be {} cells", n.id, n.kind.name());
        }
        if n.role == Role::Input && n.bias {
            bail!(Graph, "{}: input nodes carry no bias", n.id);
        }
    }
    for e in graph.edges().filter(|e| e.enabled) {
        let maps = graph.node(e.src)?.kind.map_shape().is_some() || graph.node(e.dst)?.kind.map_shape().is_some();
        if maps && e.time_skip > 0 {
            bail!(
                Unsupported,
                "{} is a recurrent edge (time skip {}) touching a feature map; recurrent maps are not supported yet",
                e.id,
                e.time_skip
            );
        }
    }
    Ok(())
}
