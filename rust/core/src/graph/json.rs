//! Exact JSON round trip of a graph. Ids, next-id counters and every value
//! survive; f64 values are written in shortest round-trip form.

use super::{Edge, Graph, Node};
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
        let doc: GraphJson =
            serde_json::from_str(text).map_err(|e| Error::Format(format!("invalid graph JSON: {e}")))?;
        if doc.format != FORMAT {
            bail!(Format, "not a nervenet graph: format is {:?}, expected {FORMAT:?}", doc.format);
        }
        if doc.version != VERSION {
            bail!(Format, "graph JSON version {} is not supported (this nervenet reads {VERSION})", doc.version);
        }
        Graph::from_parts(doc.nodes, doc.edges, doc.next_node_id, doc.next_edge_id)
    }
}
