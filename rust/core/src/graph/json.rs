//! Exact JSON round trip of a graph. Ids, next-id counters and every value
//! survive; f64 values are written in shortest round-trip form.

use super::{CellKind, Edge, Graph, Node};
use crate::bail;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

const FORMAT: &str = "nervenet.graph";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GraphJson {
    format: String,
    version: u32,
    next_node_id: u32,
    next_edge_id: u32,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

impl Graph {
    pub fn to_json(&self) -> String {
        let (next_node_id, next_edge_id) = self.next_ids();
        let doc = GraphJson {
            format: FORMAT.into(),
            version: VERSION,
            next_node_id,
            next_edge_id,
            nodes: self.nodes().cloned().collect(),
            edges: self.edges().cloned().collect(),
        };
        serde_json::to_string(&doc).expect("graph serialization cannot fail")
    }

    pub fn from_json(text: &str) -> Result<Graph> {
        let doc: GraphJson = serde_json::from_str(text).map_err(|e| {
            Error::Format(format!("invalid graph JSON: {}", unknown_node_type(text).unwrap_or(e.to_string())))
        })?;
        if doc.format != FORMAT {
            bail!(Format, "not a nervenet graph: format is {:?}, expected {FORMAT:?}", doc.format);
        }
        if doc.version != VERSION {
            bail!(Format, "graph JSON version {} is not supported (this nervenet reads {VERSION})", doc.version);
        }
        Graph::from_parts(doc.nodes, doc.edges, doc.next_node_id, doc.next_edge_id)
    }
}

/// serde can only say that a node kind matched none of NodeKind's variants
/// (a cell's type is untagged); this names the node and the allowed types.
fn unknown_node_type(text: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    doc["nodes"].as_array()?.iter().find_map(|n| {
        let name = n["kind"]["type"].as_str()?;
        let known = matches!(name, "simple" | "feature_map") || CellKind::parse(name).is_ok();
        let cells = CellKind::ALL.map(CellKind::name).join(", ");
        (!known).then(|| {
            format!("node {}: unknown node type {name:?}; expected simple, feature_map or a cell ({cells})", n["id"])
        })
    })
}
