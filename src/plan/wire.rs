//! A plan's nodes as a table for the UI: column names once, then one array of values per node.
//!
//! A 10,000-node plan as an array of objects repeats its ~45 keys (and each node's ten buffer
//! counters' keys) 10,000 times: 21 MiB of JSON the browser must parse before it can draw. As a
//! table it is a fraction of that, and the UI turns it back into the same `Node` objects in
//! one pass (`ui/src/lib/backend/api.ts`, `decodeNodes`). The CLI's JSON keeps the objects.
//!
//! Each node's `fields` (everything PostgreSQL printed) also repeats what the typed columns
//! hold ("Total Cost" is `total_cost`, "Shared Hit Blocks" is `buffers.shared_hit`): a field
//! whose value equals its column is left out, and a bit in the row's `fields_restored` mask
//! (bit i for `restore[i]`) tells the UI to put it back from the column.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use super::Node;

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct NodeTable {
    /// Column names in row order; a column holding an object is `[name, [its keys]]` and its
    /// cells are arrays of the values in that order (null for a missing object).
    #[ts(type = "Array<string | [string, string[]]>")]
    pub columns: Vec<Value>,
    #[ts(type = "unknown[][]")]
    pub rows: Vec<Vec<Value>>,
    /// `[PostgreSQL's field name, column or column.key]`, in mask bit order.
    pub restore: Vec<(String, String)>,
}

/// Fields PostgreSQL prints that a typed column repeats (at most 53 bits: a JSON number is
/// exact to 2^53 in a browser). Those before `Shared Hit Blocks` come first in EXPLAIN's own
/// order; the buffer counts and I/O times come last, as EXPLAIN prints them.
pub const RESTORE: &[(&str, &str)] = &[
    ("Node Type", "node_type"),
    ("Parent Relationship", "relationship"),
    ("Subplan Name", "subplan_name"),
    ("CTE Name", "cte_name"),
    ("Parallel Aware", "parallel_aware"),
    ("Relation Name", "relation"),
    ("Schema", "schema"),
    ("Alias", "alias"),
    ("Index Name", "index_name"),
    ("Startup Cost", "startup_cost"),
    ("Total Cost", "total_cost"),
    ("Plan Rows", "plan_rows"),
    ("Plan Width", "plan_width"),
    ("Actual Startup Time", "actual_startup_ms"),
    ("Actual Total Time", "actual_total_ms"),
    ("Actual Rows", "actual_rows"),
    ("Actual Loops", "loops"),
    ("Workers Planned", "workers_planned"),
    ("Workers Launched", "workers_launched"),
    ("Rows Removed by Filter", "rows_removed_by_filter"),
    ("Rows Removed by Join Filter", "rows_removed_by_join_filter"),
    ("Rows Removed by Index Recheck", "rows_removed_by_index_recheck"),
    ("Heap Fetches", "heap_fetches"),
    ("Exact Heap Blocks", "exact_heap_blocks"),
    ("Lossy Heap Blocks", "lossy_heap_blocks"),
    ("Shared Hit Blocks", "buffers.shared_hit"),
    ("Shared Read Blocks", "buffers.shared_read"),
    ("Shared Dirtied Blocks", "buffers.shared_dirtied"),
    ("Shared Written Blocks", "buffers.shared_written"),
    ("Local Hit Blocks", "buffers.local_hit"),
    ("Local Read Blocks", "buffers.local_read"),
    ("Local Dirtied Blocks", "buffers.local_dirtied"),
    ("Local Written Blocks", "buffers.local_written"),
    ("Temp Read Blocks", "buffers.temp_read"),
    ("Temp Written Blocks", "buffers.temp_written"),
    ("I/O Read Time", "io_read_ms"),
    ("I/O Write Time", "io_write_ms"),
];

/// A whole number as an integer (`12`, not `12.0`): buffer counts, rows and costs are mostly
/// whole, and a browser reads both the same.
fn whole(v: Value) -> Value {
    match v.as_f64() {
        Some(f) if v.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
        _ => v,
    }
}

/// The value at `path` (`column` or `column.key`) of a node's JSON.
fn at<'a>(m: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    match path.split_once('.') {
        Some((col, key)) => m.get(col)?.as_object()?.get(key),
        None => m.get(path),
    }
}

/// The same value, as far as a browser can tell (numbers compared as doubles).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Drop the fields a column repeats; the mask of those dropped.
fn thin_fields(m: &mut Map<String, Value>) -> u64 {
    let Some(Value::Object(mut fields)) = m.remove("fields") else {
        return 0;
    };
    let mut mask = 0u64;
    for (i, (raw, path)) in RESTORE.iter().enumerate() {
        if let (Some(v), Some(col)) = (fields.get(*raw), at(m, path))
            && same(v, col)
        {
            fields.remove(*raw);
            mask |= 1 << i;
        }
    }
    m.insert("fields".into(), Value::Object(fields));
    mask
}

enum Col {
    Plain(String),
    Nested(String, Vec<String>),
}

/// Objects whose keys are fixed (a struct of the plan model), so they can be columns too.
/// `fields` is not one: its keys are whatever PostgreSQL printed.
const NESTED: &[&str] = &["buffers", "exclusive_buffers"];

pub fn node_table(nodes: &[Node]) -> NodeTable {
    let maps: Vec<Map<String, Value>> = nodes
        .iter()
        .map(|n| match serde_json::to_value(n) {
            Ok(Value::Object(mut m)) => {
                let mask = thin_fields(&mut m);
                m.insert("fields_restored".into(), mask.into());
                m
            }
            _ => Map::new(),
        })
        .collect();
    let restore = RESTORE
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    let Some(first) = maps.first() else {
        return NodeTable {
            columns: vec![],
            rows: vec![],
            restore,
        };
    };
    let cols: Vec<Col> = first
        .iter()
        .map(|(k, v)| match v {
            Value::Object(o) if NESTED.contains(&k.as_str()) => Col::Nested(k.clone(), o.keys().cloned().collect()),
            _ => Col::Plain(k.clone()),
        })
        .collect();
    let rows = maps
        .into_iter()
        .map(|mut m| {
            cols.iter()
                .map(|c| match c {
                    Col::Plain(k) => whole(m.remove(k).unwrap_or(Value::Null)),
                    Col::Nested(k, keys) => match m.remove(k) {
                        Some(Value::Object(mut o)) => Value::Array(
                            keys.iter()
                                .map(|key| whole(o.remove(key).unwrap_or(Value::Null)))
                                .collect(),
                        ),
                        _ => Value::Null,
                    },
                })
                .collect()
        })
        .collect();
    NodeTable {
        columns: cols
            .into_iter()
            .map(|c| match c {
                Col::Plain(k) => Value::String(k),
                Col::Nested(k, keys) => serde_json::json!([k, keys]),
            })
            .collect(),
        rows,
        restore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoding the table the way the UI does gives back exactly the nodes' JSON.
    #[test]
    fn the_table_decodes_to_the_same_nodes() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/plans/cte_subplan.json")).unwrap();
        let plan = crate::plan::parse(&text).unwrap();
        let t = node_table(&plan.nodes);
        assert_eq!(t.rows.len(), plan.nodes.len());
        for (row, node) in t.rows.iter().zip(&plan.nodes) {
            let mut obj = Map::new();
            for (col, cell) in t.columns.iter().zip(row) {
                match col {
                    Value::String(k) => {
                        obj.insert(k.clone(), cell.clone());
                    }
                    Value::Array(pair) => {
                        let name = pair[0].as_str().unwrap().to_owned();
                        let keys = pair[1].as_array().unwrap();
                        let inner: Map<String, Value> = keys
                            .iter()
                            .zip(cell.as_array().unwrap())
                            .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
                            .collect();
                        obj.insert(name, Value::Object(inner));
                    }
                    _ => unreachable!(),
                }
            }
            // Put the thinned fields back, as the UI does.
            let mask = obj.remove("fields_restored").unwrap().as_u64().unwrap();
            let mut fields = obj["fields"].as_object().unwrap().clone();
            for (i, (raw, path)) in t.restore.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    fields.insert(raw.clone(), at(&obj, path).unwrap().clone());
                }
            }
            obj.insert("fields".into(), Value::Object(fields.clone()));
            let want = serde_json::to_value(node).unwrap();
            // Same keys and values (a browser cannot tell 12 from 12.0; the order may differ).
            let want_fields = want["fields"].as_object().unwrap();
            assert_eq!(fields.len(), want_fields.len());
            for (k, v) in want_fields {
                assert!(same(v, &fields[k]), "{k}: {v} vs {}", fields[k]);
            }
            let (mut a, mut b) = (obj, want.as_object().unwrap().clone());
            a.remove("fields");
            b.remove("fields");
            assert_eq!(a.len(), b.len());
            for (k, v) in &b {
                let got = &a[k];
                let ok = match (v, got) {
                    (Value::Object(x), Value::Object(y)) => x.iter().all(|(kk, vv)| same(vv, &y[kk])),
                    _ => same(v, got),
                };
                assert!(ok, "{k}: {v} vs {got}");
            }
        }
        assert!(RESTORE.len() <= 53);
        let compact = serde_json::to_string(&t).unwrap().len();
        let objects = serde_json::to_string(&plan.nodes).unwrap().len();
        assert!(compact * 10 < objects * 7, "{compact} vs {objects}");
    }
}
