//! Filter and pool edges between feature maps. Filters become convolutions:
//! one per group of adjacent source maps and adjacent destination maps that
//! share a filter geometry (so LeNet-5's C3 is one convolution, its missing
//! connections masked), else one per edge. Pooling runs per edge.

use super::groups::{GroupKind, GroupsBuilder, Shape};
use crate::bail;
use crate::error::Result;
use crate::graph::{Edge, EdgeKind, Graph, NodeId, PoolOp};
use crate::kernels::conv::Conv2d;
use crate::kernels::pool::{FmpSequence, FractionalPool, Pool2d, Regions};
use std::collections::BTreeMap;
use std::ops::Range;

/// The filter edges from a group of maps into a group of maps.
#[derive(Clone, Debug)]
pub struct ConvBlock {
    pub conv: Conv2d,
    pub src_rows: Range<usize>,
    pub dst: Range<usize>,
    pub params: Range<usize>,
    /// Where each parameter sits in the full filter tensor
    /// `[filters][kc][kh][kw]`; empty when the parameters are that tensor.
    pub full_index: Vec<u32>,
}

impl ConvBlock {
    /// Length of the full filter tensor the kernels read.
    pub fn full_len(&self) -> usize {
        self.conv.weight_len()
    }
}

/// Where a pooling's regions come from.
#[derive(Clone, Debug)]
pub enum PoolRegions {
    Fixed(Regions),
    /// Fractional max pooling: fresh regions for every run, from its seed.
    Fractional(FractionalPool),
}

impl PoolRegions {
    /// Heap bytes of fixed regions (one (start, end) pair per output row and column).
    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            PoolRegions::Fixed(r) => {
                let (h, w) = r.output_size();
                (h + w) * size_of::<(usize, usize)>()
            }
            PoolRegions::Fractional(_) => 0,
        }
    }
}

/// One pool edge: channel by channel from `src_rows` into `dst`.
#[derive(Clone, Debug)]
pub struct PoolBlock {
    pub max: bool,
    pub channels: usize,
    pub src_rows: Range<usize>,
    pub dst: Range<usize>,
    pub regions: PoolRegions,
}

/// A map node's place: first row and shape.
#[derive(Clone, Copy)]
struct Map {
    id: NodeId,
    row: usize,
    c: usize,
    h: usize,
    w: usize,
}

fn map(graph: &Graph, row_of: &BTreeMap<NodeId, usize>, id: NodeId, edge: &Edge) -> Result<Map> {
    let Some((c, h, w)) = graph.node(id)?.kind.map_shape() else {
        bail!(Graph, "{} is a {} edge, so {} must be a feature map", edge.id, edge.kind.name(), id);
    };
    Ok(Map { id, row: row_of[&id], c, h, w })
}

/// Maps in row order if they are adjacent and of one height and width
/// (then their channels are one contiguous tensor), else None.
fn adjacent(mut maps: Vec<Map>) -> Option<Vec<Map>> {
    maps.sort_by_key(|m| m.row);
    maps.dedup_by_key(|m| m.row);
    let ok = maps
        .windows(2)
        .all(|p| p[0].row + p[0].c * p[0].h * p[0].w == p[1].row && (p[0].h, p[0].w) == (p[1].h, p[1].w));
    ok.then_some(maps)
}

/// Convolutions for the filter edges into one level.
pub(super) fn convs(
    graph: &Graph,
    row_of: &BTreeMap<NodeId, usize>,
    level_of_row: &dyn Fn(usize) -> usize,
    edges: &[&Edge],
    params: &mut GroupsBuilder,
) -> Result<Vec<ConvBlock>> {
    // Same source level and geometry: candidates for one convolution. 3D
    // filters slide over channels, which must not cross maps: one per edge.
    let mut groups: BTreeMap<(usize, [u32; 5], u32), Vec<&Edge>> = BTreeMap::new();
    for &e in edges {
        let EdgeKind::Filter { kh, kw, kc, stride, padding } = e.kind else { continue };
        let alone = if kc.is_some() { e.id.0 } else { u32::MAX };
        let key = (level_of_row(row_of[&e.src]), [kh, kw, kc.unwrap_or(0), stride, padding], alone);
        groups.entry(key).or_default().push(e);
    }
    let mut blocks = Vec::new();
    for group in groups.into_values() {
        let srcs = group.iter().map(|e| map(graph, row_of, e.src, e)).collect::<Result<Vec<_>>>()?;
        let dsts = group.iter().map(|e| map(graph, row_of, e.dst, e)).collect::<Result<Vec<_>>>()?;
        match (adjacent(srcs), adjacent(dsts)) {
            (Some(s), Some(d)) => blocks.push(conv_block(&group, &s, &d, params)?),
            _ => {
                for &e in &group {
                    let (s, d) = (map(graph, row_of, e.src, e)?, map(graph, row_of, e.dst, e)?);
                    blocks.push(conv_block(&[e], &[s], &[d], params)?);
                }
            }
        }
    }
    Ok(blocks)
}

fn conv_block(edges: &[&Edge], srcs: &[Map], dsts: &[Map], params: &mut GroupsBuilder) -> Result<ConvBlock> {
    let EdgeKind::Filter { kh, kw, kc, stride, padding } = edges[0].kind else { unreachable!("filter edges only") };
    let (kh, kw, s, p) = (kh as usize, kw as usize, stride as usize, padding as usize);
    let (h, w) = (srcs[0].h, srcs[0].w);
    let in_c: usize = srcs.iter().map(|m| m.c).sum();
    let out_c: usize = dsts.iter().map(|m| m.c).sum();
    let depth = kc.map_or(in_c, |k| k as usize);
    if depth == 0 || depth > in_c {
        bail!(Shape, "{}: filter depth {depth} must be in 1..={in_c} (the source channels)", edges[0].id);
    }
    let slices = in_c - depth + 1;
    if !out_c.is_multiple_of(slices) {
        bail!(
            Shape,
            "{}: a {depth}-deep filter over {in_c} channels gives {slices} output channels per filter, \
             which does not divide the destination's {out_c} channels",
            edges[0].id
        );
    }
    let filters = out_c / slices;
    let mut conv = Conv2d::new(in_c, filters, (kh, kw), (h, w)).with_stride(s, s).with_padding(p, p);
    if kc.is_some() {
        conv = conv.with_depth(depth);
    }
    let (oh, ow) = conv.output_size().map_err(|e| e.context(edges[0].id))?;
    for d in dsts {
        if (d.h, d.w) != (oh, ow) {
            bail!(
                Shape,
                "{}: a {kh}×{kw} filter with stride {s} and padding {p} maps {}×{} onto {oh}×{ow}, but {} is {}×{}",
                edges[0].id,
                h,
                w,
                d.id,
                d.h,
                d.w
            );
        }
    }
    // Channel offsets of each map within the group.
    let offsets = |maps: &[Map]| -> BTreeMap<NodeId, (usize, usize)> {
        let mut at = 0;
        let mut out = BTreeMap::new();
        for m in maps {
            out.insert(m.id, (at, at + m.c));
            at += m.c;
        }
        out
    };
    let (src_at, dst_at) = (offsets(srcs), offsets(dsts));
    // Which filters and channels each edge connects: its destination's
    // filters (numbered by output channel / slices) and its source's
    // channels (all of them for a 3D filter, which slides over channels).
    let taps = kh * kw;
    let span = |e: &Edge| {
        let (d0, d1) = dst_at[&e.dst];
        let (s0, s1) = if kc.is_some() { (0, depth) } else { src_at[&e.src] };
        (d0 / slices..d1.div_ceil(slices), s0..s1)
    };
    // Fans for the initialiser: channels a filter reads, filters a channel
    // feeds (the same for every filter and channel of one edge).
    let (mut reads, mut feeds) = (vec![0usize; filters], vec![0usize; in_c]);
    for &e in edges {
        let (os, _) = span(e);
        let (s0, s1) = src_at[&e.src];
        for o in os.clone() {
            reads[o] += s1 - s0;
        }
        for f in &mut feeds[s0..s1] {
            *f += os.len();
        }
    }
    // Each edge's weights are one group `[filters, depth, kh, kw]`, edges
    // in filter then channel order.
    let mut order: Vec<&Edge> = edges.to_vec();
    order.sort_by_key(|e| (dst_at[&e.dst].0, src_at[&e.src].0));
    // When every edge reads every channel, one after another they are the
    // full tensor; otherwise `full_index` places each weight in it.
    let mut next_filter = 0;
    let direct = order.iter().all(|e| {
        let (os, cs) = span(e);
        let whole = os.start == next_filter && cs == (0..depth);
        next_filter = os.end;
        whole
    }) && next_filter == filters;
    if !direct && conv.weight_len() > u32::MAX as usize {
        bail!(
            Unsupported,
            "{}: a convolution with a partial connection table is limited to 2^32 filter weights, this one has {}",
            edges[0].id,
            conv.weight_len()
        );
    }
    let start = params.next();
    let mut full_index = Vec::new();
    if !direct {
        let what = "the filter index of a convolution with a partial connection table";
        full_index = crate::limits::try_vec(what, conv.weight_len(), 0u32)?;
        full_index.clear();
    }
    for e in order {
        let (os, cs) = span(e);
        let (o0, c0) = (os.start, src_at[&e.src].0);
        let fans = ((reads[o0].min(depth) * taps) as u32, (feeds[c0] * taps) as u32);
        let shape = Shape::new(&[os.len(), cs.len(), kh, kw]);
        params.push(GroupKind::Edge(e.id), shape, e.trainable, e.weight, fans);
        if !direct {
            for o in os {
                for c in cs.clone() {
                    full_index.extend((0..taps).map(|tap| ((o * depth + c) * taps + tap) as u32));
                }
            }
        }
    }
    let last = dsts.last().expect("a destination");
    let src_last = srcs.last().expect("a source");
    Ok(ConvBlock {
        conv,
        src_rows: srcs[0].row..src_last.row + src_last.c * h * w,
        dst: dsts[0].row..last.row + last.c * oh * ow,
        params: start..params.next(),
        full_index,
    })
}

/// One pool block per pool edge into a level.
pub(super) fn pools(graph: &Graph, row_of: &BTreeMap<NodeId, usize>, edges: &[&Edge]) -> Result<Vec<PoolBlock>> {
    let mut blocks = Vec::new();
    for &e in edges {
        let EdgeKind::Pool { op, height, width, stride_h, stride_w, overlapping, pseudorandom } = e.kind else {
            continue;
        };
        let (s, d) = (map(graph, row_of, e.src, e)?, map(graph, row_of, e.dst, e)?);
        if s.c != d.c {
            bail!(Shape, "{}: pooling keeps channels, but {} has {} and {} has {}", e.id, s.id, s.c, d.id, d.c);
        }
        let regions = if op == PoolOp::FractionalMax {
            let seq = if pseudorandom { FmpSequence::Pseudorandom } else { FmpSequence::Random };
            let f = FractionalPool::new((s.h, s.w), (d.h, d.w), seq, overlapping).map_err(|err| err.context(e.id))?;
            PoolRegions::Fractional(f)
        } else {
            let pool =
                Pool2d::new((height as usize, width as usize), (stride_h as usize, stride_w as usize), (s.h, s.w));
            let r = pool.regions().map_err(|err| err.context(e.id))?;
            if r.output_size() != (d.h, d.w) {
                let (oh, ow) = r.output_size();
                bail!(Shape, "{}: pooling maps {}×{} onto {oh}×{ow}, but {} is {}×{}", e.id, s.h, s.w, d.id, d.h, d.w);
            }
            PoolRegions::Fixed(r)
        };
        blocks.push(PoolBlock {
            max: op != PoolOp::Avg,
            channels: s.c,
            src_rows: s.row..s.row + s.c * s.h * s.w,
            dst: d.row..d.row + d.c * d.h * d.w,
            regions,
        });
    }
    Ok(blocks)
}
