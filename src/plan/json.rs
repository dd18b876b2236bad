//! EXPLAIN's FORMAT JSON read straight into nodes.
//!
//! Reading the text into a `serde_json::Value` first and then taking that apart node by node
//! builds (and frees) the whole document twice over: every key an owned `String` in a B-tree,
//! every "Plans" list a vector of values. This reader walks the text once with serde and puts
//! each node into the plan's flat, pre-order list as it goes; its fields go into [`Fields`] with
//! PostgreSQL's names unallocated. Shapes it does not expect (a bare node without a "Plan"
//! wrapper) come back as a `Value` for [`super::from_json`], which reads every shape.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::fields::{Fields, MAX_FIELDS, NameSeed};
use super::{MAX_DEPTH, Node, ParseError, fill};

/// What the reader found.
pub(super) enum Read {
    /// EXPLAIN's own shape: the nodes, pre-order, and the other keys of the object that held
    /// "Plan" ("Planning Time", "Triggers", "JIT"…).
    Nodes(Vec<Node>, Map<String, Value>),
    /// Any other JSON object, whole.
    Other(Value),
}

/// Shared by the seeds: the nodes so far, and the plain-language reason a plan was refused
/// (serde's own error then only stops the walk).
#[derive(Default)]
pub(super) struct Walk {
    nodes: Vec<Node>,
    pub(super) refused: Option<ParseError>,
}

impl Walk {
    fn refuse<E: de::Error>(&mut self, why: String) -> E {
        self.refuse_with(ParseError::new(why))
    }

    fn refuse_with<E: de::Error>(&mut self, e: ParseError) -> E {
        self.refused = Some(e);
        E::custom("refused")
    }
}

/// Read a whole document with `de` (the caller maps serde's errors to positions).
pub(super) fn read<'de, D: de::Deserializer<'de>>(de: D, walk: &mut Walk) -> Result<Read, D::Error> {
    de.deserialize_any(Top { walk })
}

/// Each visitor refuses what it does not expect with its own message; these are the JSON
/// types besides the one it takes.
macro_rules! refuse_others {
    ($why:expr; $($method:ident($($arg:ty)?)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, $(_: $arg)?) -> Result<Self::Value, E> {
                let why = $why(&self);
                Err(self.walk.refuse(why))
            }
        )*
    };
}

macro_rules! refuse_scalars {
    ($why:expr) => {
        refuse_others!($why; visit_bool(bool), visit_i64(i64), visit_u64(u64), visit_f64(f64), visit_str(&str), visit_unit());
    };
}

/// The document: `[{"Plan": …}, …]`, `{"Plan": …}`, or psql's `{"QUERY PLAN": …}` around one.
struct Top<'w> {
    walk: &'w mut Walk,
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Read;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("EXPLAIN's JSON")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Read, A::Error> {
        let Some(first) = seq.next_element_seed(TopObject { walk: &mut *self.walk })? else {
            return Err(self
                .walk
                .refuse("the JSON is an empty list; expected [{\"Plan\": …}]".into()));
        };
        // EXPLAIN prints one entry; anything after it is read (so the JSON is checked) and left.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(first)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Read, A::Error> {
        TopObject { walk: self.walk }.visit_map(map)
    }
    refuse_scalars!(|_: &Self| "expected EXPLAIN's JSON: a list holding an object with a \"Plan\" key".to_string());
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = Read;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Read, D::Error> {
        d.deserialize_any(self)
    }
}

/// The object that holds "Plan" and the statement-wide keys.
struct TopObject<'w> {
    walk: &'w mut Walk,
}

impl<'de> DeserializeSeed<'de> for TopObject<'_> {
    type Value = Read;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Read, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopObject<'_> {
    type Value = Read;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with a \"Plan\" key")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Read, A::Error> {
        let mut top = Map::new();
        let mut planned = false;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "Plan" if !planned => {
                    map.next_value_seed(NodeSeed {
                        walk: &mut *self.walk,
                        parent: None,
                        depth: 0,
                    })?;
                    planned = true;
                }
                "QUERY PLAN" if !planned => {
                    let inner = map.next_value_seed(Top { walk: &mut *self.walk })?;
                    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                    return Ok(inner);
                }
                _ => {
                    let v = map.next_value()?;
                    top.insert(k, v);
                }
            }
        }
        if planned {
            Ok(Read::Nodes(std::mem::take(&mut self.walk.nodes), top))
        } else {
            // A bare node, or no plan at all: the general reader says which.
            Ok(Read::Other(Value::Object(top)))
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Read, A::Error> {
        Err(self
            .walk
            .refuse("expected an object with a \"Plan\" key inside the list".into()))
    }
    refuse_scalars!(|_: &Self| "expected an object with a \"Plan\" key inside the list".to_string());
}

/// One node object; its "Plans" are read in place, so ids are pre-order.
struct NodeSeed<'w> {
    walk: &'w mut Walk,
    parent: Option<u32>,
    depth: u32,
}

impl NodeSeed<'_> {
    fn not_an_object(&self) -> String {
        match self.parent {
            None => "\"Plan\" must be an object".into(),
            Some(p) => format!("node {p}: every entry of \"Plans\" must be an object"),
        }
    }
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a plan node")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let walk = self.walk;
        if self.depth as usize > MAX_DEPTH {
            return Err(walk.refuse(format!("the plan is nested deeper than {MAX_DEPTH} levels")));
        }
        let id = walk.nodes.len() as u32;
        walk.nodes.push(Node::blank(id, self.parent, self.depth));
        if let Some(p) = self.parent {
            walk.nodes[p as usize].children.push(id);
        }
        let mut fields = Fields::with_capacity(32);
        while let Some(k) = map.next_key_seed(NameSeed)? {
            if fields.len() >= MAX_FIELDS {
                return Err(walk.refuse(format!(
                    "node {id} has more than {MAX_FIELDS} fields: this is not EXPLAIN output"
                )));
            }
            if k == "Plans" {
                let node_type = fields.get("Node Type").and_then(Value::as_str).map(str::to_owned);
                map.next_value_seed(Children {
                    walk: &mut *walk,
                    parent: id,
                    node_type,
                    depth: self.depth + 1,
                })?;
            } else {
                let v = map.next_value()?;
                fields.push(k, v);
            }
        }
        fill(&mut walk.nodes[id as usize], fields).map_err(|e| walk.refuse_with(e))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        let why = self.not_an_object();
        Err(self.walk.refuse(why))
    }
    refuse_scalars!(NodeSeed::not_an_object);
}

/// A node's "Plans" list.
struct Children<'w> {
    walk: &'w mut Walk,
    parent: u32,
    node_type: Option<String>,
    depth: u32,
}

impl Children<'_> {
    fn not_a_list(&self) -> String {
        match &self.node_type {
            Some(t) => format!("node {} ({t}): \"Plans\" must be a list", self.parent),
            None => format!("node {}: \"Plans\" must be a list", self.parent),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Children<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Children<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of plan nodes")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(NodeSeed {
                walk: &mut *self.walk,
                parent: Some(self.parent),
                depth: self.depth,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        let why = self.not_a_list();
        Err(self.walk.refuse(why))
    }
    refuse_scalars!(Children::not_a_list);
}
