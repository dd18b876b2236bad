//! What PostgreSQL printed for one plan node, in the order it printed it.
//!
//! A 10,000-node plan carries about a quarter of a million fields. Kept as a `serde_json::Map`
//! (a B-tree of owned `String` keys) they cost an allocation per key and string comparisons on
//! every insert, and reading, building and freeing them was most of the time a big plan took on
//! the server. Here they are a vector of pairs: PostgreSQL's own field names are `&'static str`
//! (no allocation; [`KNOWN`]), any other name is owned, and a lookup scans the node's ~30
//! fields. The order is EXPLAIN's, which is also how the detail panel and the HTML export list
//! them.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A field's name: PostgreSQL's own are static, others owned.
pub type FieldName = Cow<'static, str>;

/// One node's fields (child plans excepted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(Vec<(FieldName, Value)>);

impl Fields {
    pub fn new() -> Self {
        Fields(Vec::new())
    }

    pub fn with_capacity(n: usize) -> Self {
        Fields(Vec::with_capacity(n))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Append a field read from JSON. A name PostgreSQL printed twice keeps its last value, in
    /// its first place (as a JSON object read into a map would).
    pub(crate) fn push(&mut self, key: FieldName, value: Value) {
        match self.0.iter_mut().find(|(k, _)| same_name(k, &key)) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a str, &'a Value);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (FieldName, Value)>, fn(&'a (FieldName, Value)) -> (&'a str, &'a Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl std::ops::Index<&str> for Fields {
    type Output = Value;
    /// The field's value, or `null` when the node has no such field (as `serde_json::Map`).
    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

impl From<Map<String, Value>> for Fields {
    fn from(m: Map<String, Value>) -> Self {
        Fields(m.into_iter().map(|(k, v)| (owned_or_known(k), v)).collect())
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k.as_ref(), v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of plan node fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut out = Fields::with_capacity(map.size_hint().unwrap_or(32).min(MAX_FIELDS));
                while let Some(k) = map.next_key_seed(NameSeed)? {
                    if out.len() >= MAX_FIELDS {
                        return Err(serde::de::Error::custom(format!(
                            "a plan node has more than {MAX_FIELDS} fields"
                        )));
                    }
                    let v: Value = map.next_value()?;
                    out.push(k, v);
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

/// Reads a field name as a [`FieldName`]: PostgreSQL's names without allocating.
pub(crate) struct NameSeed;

impl<'de> serde::de::DeserializeSeed<'de> for NameSeed {
    type Value = FieldName;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FieldName, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed {
    type Value = FieldName;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FieldName, E> {
        Ok(name(v))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<FieldName, E> {
        Ok(owned_or_known(v))
    }
}

/// Two names are the same. A known name is never also an owned one, and is nearly always the
/// one static string, so its address usually says it at once (Rust does not promise that a
/// literal has one address, hence the comparison after).
fn same_name(a: &FieldName, b: &FieldName) -> bool {
    match (a, b) {
        (Cow::Borrowed(x), Cow::Borrowed(y)) => std::ptr::eq(*x, *y) || x == y,
        (Cow::Owned(x), Cow::Owned(y)) => x == y,
        _ => false,
    }
}

/// The most fields a node may have. PostgreSQL prints about 30 per node and knows about 120
/// names; a node with thousands is not EXPLAIN output, and reading one (each name checked
/// against those before it) would take time that grows with the square of their number.
pub const MAX_FIELDS: usize = 1_000;

/// `key` as a [`FieldName`]: static when PostgreSQL prints it.
pub fn name(key: &str) -> FieldName {
    match known(key) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(key.to_owned()),
    }
}

fn owned_or_known(key: String) -> FieldName {
    match known(&key) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(key),
    }
}

macro_rules! known_names {
    ($($n:literal),* $(,)?) => {
        /// The node field names PostgreSQL's EXPLAIN (FORMAT JSON) prints (explain.c, 12–17).
        pub const KNOWN: &[&str] = &[$($n),*];
        /// `key` as the static name PostgreSQL prints, if it is one (a `match`: no hashing).
        fn known(key: &str) -> Option<&'static str> {
            match key {
                $($n => Some($n),)*
                _ => None,
            }
        }
    };
}

known_names![
    "Node Type",
    "Parent Relationship",
    "Subplan Name",
    "Custom Plan Provider",
    "Parallel Aware",
    "Async Capable",
    "Operation",
    "Join Type",
    "Strategy",
    "Partial Mode",
    "Inner Unique",
    "Scan Direction",
    "Relation Name",
    "Schema",
    "Alias",
    "Index Name",
    "CTE Name",
    "Function Name",
    "Table Function Name",
    "Tuplestore Name",
    "Startup Cost",
    "Total Cost",
    "Plan Rows",
    "Plan Width",
    "Actual Startup Time",
    "Actual Total Time",
    "Actual Rows",
    "Actual Loops",
    "Output",
    "Filter",
    "Rows Removed by Filter",
    "Join Filter",
    "Rows Removed by Join Filter",
    "Index Cond",
    "Recheck Cond",
    "Rows Removed by Index Recheck",
    "Order By",
    "Hash Cond",
    "Merge Cond",
    "One-Time Filter",
    "Heap Fetches",
    "Exact Heap Blocks",
    "Lossy Heap Blocks",
    "Sort Key",
    "Presorted Key",
    "Sort Method",
    "Sort Space Used",
    "Sort Space Type",
    "Full-sort Groups",
    "Pre-sorted Groups",
    "Group Key",
    "Grouping Sets",
    "Hash Key",
    "Group Keys",
    "Planned Partitions",
    "HashAgg Batches",
    "Peak Memory Usage",
    "Disk Usage",
    "Hash Buckets",
    "Original Hash Buckets",
    "Hash Batches",
    "Original Hash Batches",
    "Workers Planned",
    "Workers Launched",
    "Workers",
    "Worker Number",
    "Single Copy",
    "Params Evaluated",
    "Subplans Removed",
    "Cache Key",
    "Cache Mode",
    "Cache Hits",
    "Cache Misses",
    "Cache Evictions",
    "Cache Overflows",
    "Repeatable Seed",
    "Sampling Method",
    "Sampling Parameters",
    "Function Call",
    "Table Function Call",
    "Command",
    "Conflict Resolution",
    "Conflict Arbiter Indexes",
    "Conflict Filter",
    "Rows Removed by Conflict Filter",
    "Tuples Inserted",
    "Conflicting Tuples",
    "Target Tables",
    "Shared Hit Blocks",
    "Shared Read Blocks",
    "Shared Dirtied Blocks",
    "Shared Written Blocks",
    "Local Hit Blocks",
    "Local Read Blocks",
    "Local Dirtied Blocks",
    "Local Written Blocks",
    "Temp Read Blocks",
    "Temp Written Blocks",
    "I/O Read Time",
    "I/O Write Time",
    "Shared I/O Read Time",
    "Shared I/O Write Time",
    "Local I/O Read Time",
    "Local I/O Write Time",
    "Temp I/O Read Time",
    "Temp I/O Write Time",
    "WAL Records",
    "WAL FPI",
    "WAL Bytes",
    "JIT",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_reads_like_a_map() {
        let f: Fields = serde_json::from_str(r#"{"Node Type":"Sort","Zeta":1,"Alias":"a","Zeta":2}"#).unwrap();
        let keys: Vec<&str> = f.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["Node Type", "Zeta", "Alias"]);
        assert_eq!(f["Zeta"], Value::from(2));
        assert_eq!(f["Missing"], Value::Null);
        assert!(
            matches!(f.0[0].0, Cow::Borrowed(_)),
            "PostgreSQL's names are not allocated"
        );
        assert!(matches!(f.0[1].0, Cow::Owned(_)));
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"Node Type":"Sort","Zeta":2,"Alias":"a"}"#
        );
    }

    #[test]
    fn known_names_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for n in KNOWN {
            assert!(seen.insert(n), "{n} is listed twice");
            assert_eq!(known(n), Some(*n));
        }
    }
}
