//! Shapes of feature maps and of the edges between them (lecture "CNNs and
//! the forward pass"), and the analytic count of a graph's trainable
//! parameters. The notes leave choosing maps, filters and pools "that connect
//! together properly" to the designer, so a mismatch is reported — naming the
//! edge, both nodes and the numbers — never rounded away.

use super::{Edge, EdgeKind, EdgeSpec, Graph, Node, NodeId, NodeKind, PoolOp};
use crate::bail;
use crate::error::{Error, Result};

/// `(channels, height, width)` as u64, so products of u32 sizes cannot overflow.
type Map = (u64, u64, u64);

fn map_of(n: &Node) -> Option<Map> {
    n.kind.map_shape().map(|(c, h, w)| (c as u64, h as u64, w as u64))
}

/// `node 3 [6×28×28]` or `node 3 (simple)`, for messages.
fn node_str(n: &Node) -> String {
    match map_of(n) {
        Some((c, h, w)) => format!("{} [{c}×{h}×{w}]", n.id),
        None => format!("{} ({})", n.id, n.kind.name()),
    }
}

fn kind_str(kind: &EdgeKind) -> String {
    match *kind {
        EdgeKind::Filter { kh, kw, kc, stride, padding } => {
            let depth = kc.map_or(String::new(), |k| format!("×{k}"));
            format!("{kh}×{kw}{depth} filter, stride {stride}, padding {padding}")
        }
        EdgeKind::Pool { op: PoolOp::FractionalMax, .. } => "fractional max pool".into(),
        EdgeKind::Pool { op, height, width, stride_h, stride_w, .. } => {
            let op = if op == PoolOp::Max { "max" } else { "avg" };
            format!("{op} pool {height}×{width}, stride {stride_h}×{stride_w}")
        }
        EdgeKind::Weight => "weight".into(),
        EdgeKind::Identity => "identity".into(),
    }
}

impl Graph {
    /// Checks every enabled edge between enabled nodes that touches a
    /// feature map: filters and pools connect maps of fitting sizes, identity
    /// edges maps of equal shape, weight edges only flatten a map into a
    /// scalar node, and no such edge is recurrent (yet).
    pub fn check_shapes(&self) -> Result<()> {
        for e in self.live_edges() {
            let (src, dst) = (self.node(e.src)?, self.node(e.dst)?);
            let label = || format!("{} ({}) from {} to {}", e.id, kind_str(&e.kind), node_str(src), node_str(dst));
            check_edge(&label, src, dst, &e.kind, e.time_skip)?;
        }
        Ok(())
    }

    /// The check [`Graph::check_shapes`] would make of a new edge `src ->
    /// dst` with this spec, so builders can fail at the cause.
    pub fn check_edge_shape(&self, src: NodeId, dst: NodeId, spec: &EdgeSpec) -> Result<()> {
        let (s, d) = (self.node(src)?, self.node(dst)?);
        let label = || format!("new edge ({}) from {} to {}", kind_str(&spec.kind), node_str(s), node_str(d));
        check_edge(&label, s, d, &spec.kind, spec.time_skip)
    }

    /// Trainable parameters as the engine lays them out, counted
    /// analytically (VGG16's 138M cost nothing): a weight edge 1, or C·H·W
    /// when it flattens a map; a filter edge filters·kc·kh·kw; identity,
    /// pool and fixed edges 0; a node bias 1, a map's C·H·W (untied) or C
    /// (tied); memory cells their own parameters and the gate biases of
    /// standard units. Disabled nodes and edges are left out, as in a plan.
    pub fn count_params(&self) -> Result<usize> {
        self.count(true)
    }

    /// Every parameter a plan lays out, fixed ones included: the size of
    /// a network's flat buffer, checked for overflow before a plan is made.
    pub fn count_all_params(&self) -> Result<usize> {
        self.count(false)
    }

    fn count(&self, trainable_only: bool) -> Result<usize> {
        self.check_shapes()?;
        let mut total: u64 = 0;
        let overflow = || Error::Shape("the parameter count overflows".into());
        for n in self.nodes().filter(|n| n.enabled) {
            total = total.checked_add(node_params(n)).ok_or_else(overflow)?;
        }
        for e in self.live_edges() {
            let n = edge_params(e, self.node(e.src)?, self.node(e.dst)?, trainable_only).ok_or_else(overflow)?;
            total = total.checked_add(n).ok_or_else(overflow)?;
        }
        usize::try_from(total).map_err(|_| overflow())
    }

    /// Enabled edges whose nodes are both enabled: what a plan runs.
    fn live_edges(&self) -> impl Iterator<Item = &Edge> {
        let live = |id: NodeId| self.node(id).is_ok_and(|n| n.enabled);
        self.edges().filter(move |e| e.enabled && live(e.src) && live(e.dst))
    }
}

fn node_params(n: &Node) -> u64 {
    let bias = match n.kind {
        _ if !n.bias => 0,
        NodeKind::FeatureMap { channels, height, width, untied_bias: true, .. } => {
            channels as u64 * height as u64 * width as u64
        }
        NodeKind::FeatureMap { channels, .. } => channels as u64,
        _ => 1,
    };
    // The engine gives each gate port of a standard unit its own bias.
    let cell = n.kind.cell().map_or(0, |c| {
        let ports = if c.is_unit() { c.ports().len() } else { 0 };
        (c.params().len() + ports) as u64
    });
    bias + cell
}

/// None on overflow. Shapes are already checked.
fn edge_params(e: &Edge, src: &Node, dst: &Node, trainable_only: bool) -> Option<u64> {
    if trainable_only && !e.trainable {
        return Some(0);
    }
    match e.kind {
        EdgeKind::Weight => map_of(src).map_or(Some(1), |(c, h, w)| c.checked_mul(h)?.checked_mul(w)),
        EdgeKind::Filter { kh, kw, kc, .. } => {
            let (sc, dc) = (map_of(src)?.0, map_of(dst)?.0);
            let depth = kc.map_or(sc, u64::from);
            let filters = dc / (sc - depth + 1);
            filters.checked_mul(depth)?.checked_mul(kh as u64)?.checked_mul(kw as u64)
        }
        EdgeKind::Identity | EdgeKind::Pool { .. } => Some(0),
    }
}

/// One edge: `label` names it (id, kind, nodes with their shapes); built
/// only when the edge touches a map, since scalar graphs may have millions.
fn check_edge(label: &dyn Fn() -> String, src: &Node, dst: &Node, kind: &EdgeKind, time_skip: u32) -> Result<()> {
    let (s, d) = (map_of(src), map_of(dst));
    if s.is_none() && d.is_none() {
        return match kind {
            EdgeKind::Filter { .. } | EdgeKind::Pool { .. } => {
                bail!(Graph, "{}: {} edges connect feature maps, not scalar nodes", label(), kind.name())
            }
            _ => Ok(()),
        };
    }
    let label = &label();
    if time_skip > 0 {
        bail!(
            Unsupported,
            "{label}: has time_skip {time_skip}; recurrent edges to or from feature maps are not supported yet"
        );
    }
    match *kind {
        EdgeKind::Weight => match (s, d) {
            (Some(_), None) => Ok(()), // flattening: one weight per map value
            (None, Some(_)) => bail!(
                Unsupported,
                "{label}: a scalar node cannot feed a feature map; feed maps from maps with filter edges"
            ),
            _ => bail!(
                Unsupported,
                "{label}: weight edges between feature maps are not supported; use a filter edge \
                 (connect_filter; a 1×1 filter mixes channels cell by cell)"
            ),
        },
        EdgeKind::Identity => {
            if s != d {
                bail!(Shape, "{label}: identity edges need equal shapes (a residual adds the source cell by cell)");
            }
            Ok(())
        }
        EdgeKind::Filter { kh, kw, kc, stride, padding } => {
            let (Some(s), Some(d)) = (s, d) else {
                bail!(Graph, "{label}: filter edges connect two feature maps; flatten a map with weight edges")
            };
            check_filter(label, s, d, (kh.into(), kw.into()), kc, stride.into(), padding.into())
        }
        EdgeKind::Pool { op, height, width, stride_h, stride_w, overlapping, pseudorandom } => {
            let (Some(s), Some(d)) = (s, d) else { bail!(Graph, "{label}: pool edges connect two feature maps") };
            if s.0 != d.0 {
                bail!(Shape, "{label}: pooling works channel by channel, but the channels differ ({} vs {})", s.0, d.0);
            }
            if op == PoolOp::FractionalMax {
                if d.1 > s.1 || d.2 > s.2 {
                    bail!(
                        Shape,
                        "{label}: fractional max pooling shrinks a map, but the destination {}×{} is larger \
                         than the source {}×{}",
                        d.1,
                        d.2,
                        s.1,
                        s.2
                    );
                }
                return Ok(());
            }
            if overlapping || pseudorandom {
                bail!(Graph, "{label}: overlapping and pseudorandom apply to fractional max pooling only");
            }
            pool_axis(label, "height", s.1, height.into(), stride_h.into(), d.1)?;
            pool_axis(label, "width", s.2, width.into(), stride_w.into(), d.2)
        }
    }
}

fn check_filter(label: &str, s: Map, d: Map, k: (u64, u64), kc: Option<u32>, stride: u64, pad: u64) -> Result<()> {
    if k.0 == 0 || k.1 == 0 || stride == 0 {
        bail!(Shape, "{label}: filter sizes and stride must be positive");
    }
    filter_axis(label, "height", s.1, k.0, pad, stride, d.1)?;
    filter_axis(label, "width", s.2, k.1, pad, stride, d.2)?;
    if let Some(kc) = kc.map(u64::from) {
        if kc == 0 || kc > s.0 {
            bail!(Shape, "{label}: filter depth {kc} must be in 1..={} (the source's channels)", s.0);
        }
        // A 3D filter slides over channels too: src − kc + 1 slices per filter.
        let slices = s.0 - kc + 1;
        if !d.0.is_multiple_of(slices) {
            bail!(
                Shape,
                "{label}: a filter of depth {kc} over {} channels gives {slices} output channels per filter, \
                 so the destination's channel count must be a multiple of {slices}, not {}",
                s.0,
                d.0
            );
        }
    }
    Ok(())
}

/// The notes' rule, output = (W − F + 2P) / S + 1, whole and equal to the destination's size.
fn filter_axis(label: &str, axis: &str, len: u64, k: u64, pad: u64, stride: u64, want: u64) -> Result<()> {
    let span = len + 2 * pad;
    let rule = format!("({len} − {k} + 2·{pad}) / {stride} + 1");
    if span < k {
        bail!(Shape, "{label}: filter {axis} {k} exceeds the source {axis} {len} padded by {pad} ({span})");
    }
    if !(span - k).is_multiple_of(stride) {
        bail!(Shape, "{label}: output {axis} {rule} is not whole");
    }
    let out = (span - k) / stride + 1;
    if out != want {
        bail!(Shape, "{label}: output {axis} {rule} = {out} does not match the destination {axis} {want}");
    }
    Ok(())
}

/// Pooling windows must tile the source: (W − P) / S + 1, whole and equal to the destination's size.
fn pool_axis(label: &str, axis: &str, len: u64, pool: u64, stride: u64, want: u64) -> Result<()> {
    if pool == 0 || stride == 0 {
        bail!(Shape, "{label}: pool sizes and strides must be positive");
    }
    let rule = format!("({len} − {pool}) / {stride} + 1");
    if pool > len {
        bail!(Shape, "{label}: pool {axis} {pool} exceeds the source {axis} {len}");
    }
    if !(len - pool).is_multiple_of(stride) {
        bail!(Shape, "{label}: output {axis} {rule} is not whole");
    }
    let out = (len - pool) / stride + 1;
    if out != want {
        bail!(Shape, "{label}: output {axis} {rule} = {out} does not match the destination {axis} {want}");
    }
    Ok(())
}
