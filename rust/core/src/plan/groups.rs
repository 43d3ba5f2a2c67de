//! Parameter groups: what each range of the flat parameter buffer holds.
//! One record per edge's weight(s), per node's bias or bias vector, per
//! memory cell's own parameters and per standard unit's gate biases —
//! never per scalar, so a plan's bookkeeping grows with the graph and
//! VGG16's 138M parameters cost what their floats cost. A scalar is its
//! group plus an index (`edge:17[k]`), found by binary search on ranges;
//! names are made when asked for, not stored.

use crate::bail;
use crate::error::{Error, Result};
use crate::graph::{CellKind, EdgeId, NodeId};
use std::ops::Range;

/// What a group holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupKind {
    /// An edge's weights: one for a scalar edge, `[filters, depth, kh, kw]`
    /// for a filter, the source map's `[C, H, W]` for a flattening or an
    /// identity edge between maps.
    Edge(EdgeId),
    /// A node's bias: one for a scalar node, `[C]` (tied) or `[C, H, W]`
    /// (untied) for a feature map.
    Bias(NodeId),
    /// A standard LSTM/GRU unit's gate biases, one per port.
    GateBias(NodeId, CellKind),
    /// A memory cell's own scalar parameters, in `CellKind::params` order.
    Cell(NodeId, CellKind),
}

/// A group's shape: up to four dimensions (a scalar has none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Shape {
    dims: [u32; 4],
    ndim: u8,
}

impl Shape {
    pub const SCALAR: Shape = Shape { dims: [0; 4], ndim: 0 };

    /// A shape from its dimensions (at most four, each below 2³²: the
    /// graph's own sizes).
    pub fn new(dims: &[usize]) -> Shape {
        debug_assert!(dims.len() <= 4);
        let mut s = Shape { dims: [0; 4], ndim: dims.len() as u8 };
        for (d, &n) in s.dims.iter_mut().zip(dims) {
            *d = n as u32;
        }
        s
    }

    pub fn dims(&self) -> &[u32] {
        &self.dims[..self.ndim as usize]
    }

    /// Values in a group of this shape.
    pub fn size(&self) -> usize {
        self.dims().iter().map(|&d| d as usize).product()
    }

    pub fn is_scalar(&self) -> bool {
        self.ndim == 0
    }
}

/// One group: its kind, shape and place in the flat buffer, and what the
/// initialiser and the trainer need to know about it.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamGroup {
    pub kind: GroupKind,
    pub shape: Shape,
    pub params: Range<usize>,
    /// Fixed groups (fixed and identity edges) get zero gradient.
    pub trainable: bool,
    /// Value from the graph (a set weight or bias, a fixed edge's 1, the
    /// LSTM forget bias) for every entry; cells' presets come from their kind.
    pub preset: Option<f64>,
    /// Edges: incoming values of the destination (port) and outgoing edges
    /// of the source, for the fan-based initialisers.
    pub fan_in: u32,
    pub fan_out: u32,
}

impl ParamGroup {
    /// Whether entry `k` is a weight (regularised, drawn by the
    /// initialiser) rather than a bias.
    pub fn is_weight(&self, k: usize) -> bool {
        match self.kind {
            GroupKind::Edge(_) => true,
            GroupKind::Bias(_) | GroupKind::GateBias(..) => false,
            GroupKind::Cell(_, cell) => cell.param_bias(k).is_none(),
        }
    }

    /// Preset of entry `k`, if any.
    pub fn preset_at(&self, k: usize) -> Option<f64> {
        match self.kind {
            GroupKind::Cell(_, cell) => cell.param_bias(k).flatten(),
            GroupKind::GateBias(_, cell) => cell.port_bias_preset(k),
            _ => self.preset,
        }
    }

    /// The group's name: `edge:17`, `node:5:bias`, `node:8:lstm`.
    pub fn name(&self) -> String {
        match self.kind {
            GroupKind::Edge(e) => format!("edge:{}", e.0),
            GroupKind::Bias(n) | GroupKind::GateBias(n, _) => format!("node:{}:bias", n.0),
            GroupKind::Cell(n, cell) => format!("node:{}:{}", n.0, cell.name()),
        }
    }

    /// The name of entry `k`: the group's name for a scalar, `[k]` after it
    /// for edges and biases, the port or parameter name for units and cells.
    pub fn entry_name(&self, k: usize) -> String {
        match self.kind {
            GroupKind::GateBias(_, cell) => format!("{}.{}", self.name(), cell.ports()[k]),
            GroupKind::Cell(_, cell) => format!("{}.{}", self.name(), cell.params()[k]),
            _ if self.shape.is_scalar() => self.name(),
            _ => format!("{}[{k}]", self.name()),
        }
    }

    fn owner(&self) -> (bool, u32) {
        match self.kind {
            GroupKind::Edge(e) => (false, e.0),
            GroupKind::Bias(n) | GroupKind::GateBias(n, _) | GroupKind::Cell(n, _) => (true, n.0),
        }
    }
}

/// A parsed name: the owner of its group and, for an entry, which one.
struct Name<'a> {
    /// (is a node, id)
    owner: (bool, u32),
    /// The part after the owner: "", "bias", "lstm", ...
    what: &'a str,
    entry: Entry<'a>,
}

enum Entry<'a> {
    /// The group itself (or its only value).
    Whole,
    Index(usize),
    /// A port or cell parameter name.
    Named(&'a str),
}

const NAME_FORMS: &str =
    "names look like \"edge:17\", \"edge:3[5]\", \"node:5:bias\", \"node:2:bias[4]\", \"node:9:bias.f\" or \"node:8:lstm.w_f\"";

fn parse(name: &str) -> Option<Name<'_>> {
    let (base, entry) = match name.strip_suffix(']').and_then(|s| s.rsplit_once('[')) {
        Some((base, k)) => (base, Entry::Index(k.parse().ok()?)),
        None => match name.rsplit_once('.') {
            Some((base, part)) => (base, Entry::Named(part)),
            None => (name, Entry::Whole),
        },
    };
    if let Some(id) = base.strip_prefix("edge:") {
        return Some(Name { owner: (false, id.parse().ok()?), what: "", entry });
    }
    let (id, what) = base.strip_prefix("node:")?.split_once(':')?;
    Some(Name { owner: (true, id.parse().ok()?), what, entry })
}

/// Every group of a plan, in flat-buffer order (they tile it), with an
/// index by owner for lookups by name.
#[derive(Clone, Debug, Default)]
pub struct ParamGroups {
    groups: Vec<ParamGroup>,
    /// Group indices sorted by owner (edges, then nodes, by id).
    by_owner: Vec<u32>,
    /// Ranges of fixed parameters (merged), for zeroing their gradients.
    fixed: Vec<Range<usize>>,
}

impl ParamGroups {
    /// Groups in any order; they must tile `0..n` without gaps.
    pub(super) fn new(mut groups: Vec<ParamGroup>) -> ParamGroups {
        groups.sort_by_key(|g| g.params.start);
        debug_assert!(groups.windows(2).all(|w| w[0].params.end == w[1].params.start));
        let mut by_owner: Vec<u32> = (0..groups.len() as u32).collect();
        by_owner.sort_by_key(|&i| groups[i as usize].owner());
        let fixed = merged(groups.iter().filter(|g| !g.trainable).map(|g| g.params.clone()));
        ParamGroups { groups, by_owner, fixed }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ParamGroup> {
        self.groups.iter()
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Parameters in all groups.
    pub fn n_params(&self) -> usize {
        self.groups.last().map_or(0, |g| g.params.end)
    }

    /// The group holding parameter `i` and its index in it.
    pub fn locate(&self, i: usize) -> Option<(&ParamGroup, usize)> {
        let g = self.groups.partition_point(|g| g.params.end <= i);
        let group = self.groups.get(g).filter(|g| g.params.contains(&i))?;
        Some((group, i - group.params.start))
    }

    /// The stable name of parameter `i`.
    pub fn param_name(&self, i: usize) -> String {
        match self.locate(i) {
            Some((g, k)) => g.entry_name(k),
            None => format!("#{i}"),
        }
    }

    pub fn is_trainable(&self, i: usize) -> bool {
        self.locate(i).is_some_and(|(g, _)| g.trainable)
    }

    fn by_owner(&self, owner: (bool, u32)) -> Option<&ParamGroup> {
        let at = self.by_owner.partition_point(|&i| self.groups[i as usize].owner() < owner);
        self.by_owner.get(at).map(|&i| &self.groups[i as usize]).filter(|g| g.owner() == owner)
    }

    /// The group named `name` (`edge:17`, `node:5:bias`, `node:8:lstm`).
    pub fn group(&self, name: &str) -> Result<&ParamGroup> {
        let found = parse(name)
            .filter(|n| matches!(n.entry, Entry::Whole))
            .and_then(|n| self.by_owner(n.owner).filter(|g| self.matches(g, n.what)));
        found.ok_or_else(|| {
            Error::Parameter(format!(
                "no parameter group named {name:?}; groups are named like \"edge:17\", \"node:5:bias\" or \
                 \"node:8:lstm\""
            ))
        })
    }

    /// The flat index of the parameter named `name`.
    pub fn index(&self, name: &str) -> Result<usize> {
        let missing = || Error::Parameter(format!("no parameter named {name:?}; {NAME_FORMS}"));
        let n = parse(name).ok_or_else(missing)?;
        let g = self.by_owner(n.owner).filter(|g| self.matches(g, n.what)).ok_or_else(missing)?;
        let k = match (n.entry, g.kind) {
            (Entry::Whole, _) if g.shape.is_scalar() => 0,
            (Entry::Whole, _) => bail!(
                Parameter,
                "{name:?} is a group of {} values (shape {:?}); name one of them as \"{}\"",
                g.shape.size(),
                g.shape.dims(),
                g.entry_name(0)
            ),
            (Entry::Index(k), GroupKind::Edge(_) | GroupKind::Bias(_)) if !g.shape.is_scalar() => k,
            (Entry::Named(part), GroupKind::GateBias(_, cell)) => {
                cell.ports().iter().position(|&p| p == part).ok_or_else(missing)?
            }
            (Entry::Named(part), GroupKind::Cell(_, cell)) => {
                cell.params().iter().position(|&p| p == part).ok_or_else(missing)?
            }
            _ => return Err(missing()),
        };
        if k >= g.params.len() {
            bail!(Parameter, "no parameter named {name:?}: {} holds {} values", g.name(), g.params.len());
        }
        Ok(g.params.start + k)
    }

    /// Whether a parsed name's part after the owner fits the group's kind.
    fn matches(&self, g: &ParamGroup, what: &str) -> bool {
        match g.kind {
            GroupKind::Edge(_) => what.is_empty(),
            GroupKind::Bias(_) | GroupKind::GateBias(..) => what == "bias",
            GroupKind::Cell(_, cell) => what == cell.name(),
        }
    }

    /// Ranges of fixed parameters (merged, ascending).
    pub fn fixed(&self) -> &[Range<usize>] {
        &self.fixed
    }

    /// Ranges of trainable parameters (merged, ascending).
    pub fn trainable_spans(&self) -> Vec<Range<usize>> {
        merged(self.groups.iter().filter(|g| g.trainable).map(|g| g.params.clone()))
    }

    /// Ranges of trainable weights — what L1/L2 regularisation touches
    /// (merged, ascending; biases and fixed parameters are left out).
    pub fn weight_spans(&self) -> Vec<Range<usize>> {
        let spans = self.groups.iter().filter(|g| g.trainable).flat_map(|g| {
            // An edge's values are all weights: one span, not one per value.
            let edge = matches!(g.kind, GroupKind::Edge(_));
            let whole = edge.then(|| g.params.clone());
            let (start, n) = (g.params.start, if edge { 0 } else { g.params.len() });
            let entries = (0..n).filter(move |&k| g.is_weight(k)).map(move |k| start + k..start + k + 1);
            whole.into_iter().chain(entries)
        });
        merged(spans)
    }

    /// Heap bytes of the bookkeeping.
    pub fn heap_bytes(&self) -> usize {
        self.groups.capacity() * size_of::<ParamGroup>()
            + self.by_owner.capacity() * size_of::<u32>()
            + self.fixed.capacity() * size_of::<Range<usize>>()
    }
}

/// Lays groups out one after another in the flat buffer as the plan
/// builder meets them.
#[derive(Default)]
pub(super) struct GroupsBuilder {
    pub groups: Vec<ParamGroup>,
    next: usize,
}

impl GroupsBuilder {
    /// The next free index of the flat buffer.
    pub fn next(&self) -> usize {
        self.next
    }

    /// Appends a group; returns its range.
    pub fn push(
        &mut self,
        kind: GroupKind,
        shape: Shape,
        trainable: bool,
        preset: Option<f64>,
        fans: (u32, u32),
    ) -> Range<usize> {
        let params = self.next..self.next + shape.size();
        self.next = params.end;
        let (fan_in, fan_out) = fans;
        self.groups.push(ParamGroup { kind, shape, params: params.clone(), trainable, preset, fan_in, fan_out });
        params
    }

    pub fn finish(self) -> ParamGroups {
        ParamGroups::new(self.groups)
    }
}

/// Adjacent or overlapping ranges (given in ascending order) joined.
fn merged(ranges: impl Iterator<Item = Range<usize>>) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for r in ranges.filter(|r| !r.is_empty()) {
        match out.last_mut() {
            Some(last) if last.end >= r.start => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(kind: GroupKind, shape: &[usize], start: usize, trainable: bool) -> ParamGroup {
        let shape = Shape::new(shape);
        let params = start..start + shape.size();
        ParamGroup { kind, shape, params, trainable, preset: None, fan_in: 1, fan_out: 1 }
    }

    fn sample() -> ParamGroups {
        ParamGroups::new(vec![
            group(GroupKind::Cell(NodeId(8), CellKind::Lstm), &[11], 13, true),
            group(GroupKind::Edge(EdgeId(17)), &[], 0, true),
            group(GroupKind::Edge(EdgeId(3)), &[2, 1, 2, 2], 1, false),
            group(GroupKind::Bias(NodeId(5)), &[], 9, true),
            group(GroupKind::Bias(NodeId(2)), &[2], 10, true),
            group(GroupKind::GateBias(NodeId(9), CellKind::GruUnit), &[4], 24, true),
            group(GroupKind::Edge(EdgeId(4)), &[], 12, false),
        ])
    }

    #[test]
    fn names_and_indices_round_trip() {
        let g = sample();
        assert_eq!(g.n_params(), 28);
        for i in 0..g.n_params() {
            assert_eq!(g.index(&g.param_name(i)).unwrap(), i, "{}", g.param_name(i));
        }
        assert_eq!(g.param_name(0), "edge:17");
        assert_eq!(g.param_name(4), "edge:3[3]");
        assert_eq!(g.param_name(11), "node:2:bias[1]");
        assert_eq!(g.param_name(14), format!("node:8:lstm.{}", CellKind::Lstm.params()[1]));
        assert_eq!(g.param_name(26), "node:9:bias.n_x");
        assert_eq!(g.group("node:8:lstm").unwrap().params, 13..24);
        assert_eq!(g.group("edge:3").unwrap().shape.dims(), &[2, 1, 2, 2]);
    }

    #[test]
    fn bad_names_are_parameter_errors() {
        let g = sample();
        for bad in [
            "edge:3",
            "edge:3[8]",
            "edge:17[0]",
            "node:5:bias[0]",
            "node:9:bias.q",
            "node:8:gru.w_f",
            "edge:99",
            "node:x:bias",
            "bias",
            "node:8:lstm",
        ] {
            assert!(matches!(g.index(bad), Err(Error::Parameter(_))), "{bad}");
        }
        assert!(g.index("edge:3").unwrap_err().to_string().contains("edge:3[0]"));
        assert!(matches!(g.group("edge:3[1]"), Err(Error::Parameter(_))));
        assert!(matches!(g.group("node:9:lstm"), Err(Error::Parameter(_))));
    }

    #[test]
    fn spans_merge_and_skip_biases() {
        let g = sample();
        assert_eq!(g.fixed(), &[1..9, 12..13]);
        assert_eq!(g.trainable_spans(), vec![0..1, 9..12, 13..28]);
        // LSTM biases b_i, b_f, b_c, b_o sit among its weights.
        let lstm = CellKind::Lstm.params();
        let weights: usize = g.weight_spans().iter().map(|r| r.len()).sum();
        assert_eq!(weights, 1 + lstm.iter().filter(|p| !p.starts_with('b')).count());
    }
}
