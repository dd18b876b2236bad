//! A plan's nodes as a table for the UI: column names once, then one array of values per node.
//!
//! A 10,000-node plan as an array of objects repeats its ~45 keys (and each node's ten buffer
//! counters' keys) 10,000 times: 21 MiB of JSON the browser must parse before it can draw. As a
//! table it is about 6 MiB, and the UI turns it back into the same `Node` objects in one pass
//! (`ui/src/lib/backend/api.ts`, `decodeNodes`). The CLI's JSON keeps the objects.
//!
//! Each node's `fields` (everything PostgreSQL printed) also repeats what the typed columns
//! hold ("Total Cost" is `total_cost`, "Shared Hit Blocks" is `buffers.shared_hit`): a field
//! whose value equals its column is left out, and the row's `fields_order` says how to put the
//! fields back together in EXPLAIN's order. It indexes `orders`, the distinct orders of the
//! plan (a few dozen for 10,000 nodes: nodes of a kind print the same fields): each is a list
//! with, per field, `i` for "`restore[i]`, from its column" or -1 for "the next field the row
//! kept".
//!
//! The rows are written straight from the nodes as they are serialised (no `serde_json::Value`
//! per node: building those cost more than the smaller answer saved).

use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::Value;
use ts_rs::TS;

use super::{Buffers, Fields, Node};

/// The nodes, to be written as a table.
#[derive(Debug, Clone, TS)]
pub struct NodeTable {
    /// Column names in row order; a column holding an object is `[name, [its keys]]` and its
    /// cells are arrays of the values in that order.
    #[ts(type = "Array<string | [string, string[]]>")]
    pub columns: Vec<Value>,
    #[ts(type = "unknown[][]")]
    pub rows: Rows,
    /// `[PostgreSQL's field name, column or column.key]`; `orders` refer to them by position.
    pub restore: Vec<(String, String)>,
    /// The fields' orders the rows' `fields_order` index (see the module's documentation).
    #[ts(type = "number[][]")]
    pub orders: Vec<Vec<i8>>,
}

/// The nodes, and per node what is left out of its fields and which order puts them back.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    nodes: Vec<Node>,
    /// Per node: the mask of `RESTORE` entries left out, which fields (by position) those are,
    /// and its index in `orders`.
    masks: Vec<(u64, u64, u32)>,
}

/// Fields PostgreSQL prints that a typed column repeats (at most 53 bits: a JSON number is
/// exact to 2^53 in a browser), with the column's value as a browser would compare it. Those
/// before `Shared Hit Blocks` come first in EXPLAIN's own order; the buffer counts and I/O
/// times come last, as EXPLAIN prints them.
#[allow(clippy::type_complexity)]
pub const RESTORE: &[(&str, &str, fn(&Node) -> Typed<'_>)] = &[
    ("Node Type", "node_type", |n| Str(Some(&n.node_type))),
    ("Parent Relationship", "relationship", |n| {
        Str(n.relationship.as_deref())
    }),
    ("Subplan Name", "subplan_name", |n| Str(n.subplan_name.as_deref())),
    ("CTE Name", "cte_name", |n| Str(n.cte_name.as_deref())),
    ("Parallel Aware", "parallel_aware", |n| Bool(n.parallel_aware)),
    ("Relation Name", "relation", |n| Str(n.relation.as_deref())),
    ("Schema", "schema", |n| Str(n.schema.as_deref())),
    ("Alias", "alias", |n| Str(n.alias.as_deref())),
    ("Index Name", "index_name", |n| Str(n.index_name.as_deref())),
    ("Startup Cost", "startup_cost", |n| Num(Some(n.startup_cost))),
    ("Total Cost", "total_cost", |n| Num(Some(n.total_cost))),
    ("Plan Rows", "plan_rows", |n| Num(Some(n.plan_rows))),
    ("Plan Width", "plan_width", |n| Num(Some(n.plan_width))),
    ("Actual Startup Time", "actual_startup_ms", |n| Num(n.actual_startup_ms)),
    ("Actual Total Time", "actual_total_ms", |n| Num(n.actual_total_ms)),
    ("Actual Rows", "actual_rows", |n| Num(n.actual_rows)),
    ("Actual Loops", "loops", |n| Num(n.loops)),
    ("Workers Planned", "workers_planned", |n| Num(n.workers_planned)),
    ("Workers Launched", "workers_launched", |n| Num(n.workers_launched)),
    ("Rows Removed by Filter", "rows_removed_by_filter", |n| {
        Num(n.rows_removed_by_filter)
    }),
    ("Rows Removed by Join Filter", "rows_removed_by_join_filter", |n| {
        Num(n.rows_removed_by_join_filter)
    }),
    ("Rows Removed by Index Recheck", "rows_removed_by_index_recheck", |n| {
        Num(n.rows_removed_by_index_recheck)
    }),
    ("Heap Fetches", "heap_fetches", |n| Num(n.heap_fetches)),
    ("Exact Heap Blocks", "exact_heap_blocks", |n| Num(n.exact_heap_blocks)),
    ("Lossy Heap Blocks", "lossy_heap_blocks", |n| Num(n.lossy_heap_blocks)),
    ("Shared Hit Blocks", "buffers.shared_hit", |n| {
        Num(Some(n.buffers.shared_hit))
    }),
    ("Shared Read Blocks", "buffers.shared_read", |n| {
        Num(Some(n.buffers.shared_read))
    }),
    ("Shared Dirtied Blocks", "buffers.shared_dirtied", |n| {
        Num(Some(n.buffers.shared_dirtied))
    }),
    ("Shared Written Blocks", "buffers.shared_written", |n| {
        Num(Some(n.buffers.shared_written))
    }),
    ("Local Hit Blocks", "buffers.local_hit", |n| {
        Num(Some(n.buffers.local_hit))
    }),
    ("Local Read Blocks", "buffers.local_read", |n| {
        Num(Some(n.buffers.local_read))
    }),
    ("Local Dirtied Blocks", "buffers.local_dirtied", |n| {
        Num(Some(n.buffers.local_dirtied))
    }),
    ("Local Written Blocks", "buffers.local_written", |n| {
        Num(Some(n.buffers.local_written))
    }),
    ("Temp Read Blocks", "buffers.temp_read", |n| {
        Num(Some(n.buffers.temp_read))
    }),
    ("Temp Written Blocks", "buffers.temp_written", |n| {
        Num(Some(n.buffers.temp_written))
    }),
    ("I/O Read Time", "io_read_ms", |n| Num(n.io_read_ms)),
    ("I/O Write Time", "io_write_ms", |n| Num(n.io_write_ms)),
];

/// The columns, in the order `Node` declares its fields (a test holds them to it).
const COLUMNS: &[&str] = &[
    "id",
    "parent",
    "children",
    "depth",
    "node_type",
    "label",
    "relationship",
    "subplan_name",
    "relation",
    "schema",
    "alias",
    "index_name",
    "cte_name",
    "parallel_aware",
    "startup_cost",
    "total_cost",
    "plan_rows",
    "plan_width",
    "actual_startup_ms",
    "actual_total_ms",
    "actual_rows",
    "loops",
    "never_executed",
    "workers_planned",
    "workers_launched",
    "rows_removed_by_filter",
    "rows_removed_by_join_filter",
    "rows_removed_by_index_recheck",
    "heap_fetches",
    "exact_heap_blocks",
    "lossy_heap_blocks",
    "buffers",
    "io_read_ms",
    "io_write_ms",
    "fields",
    "inclusive_ms",
    "exclusive_ms",
    "exclusive_pct",
    "exclusive_buffers",
    "total_rows",
    "estimate_ratio",
    "misestimate",
    "findings",
    "fields_order",
];

const BUFFER_KEYS: &[&str] = &[
    "shared_hit",
    "shared_read",
    "shared_dirtied",
    "shared_written",
    "local_hit",
    "local_read",
    "local_dirtied",
    "local_written",
    "temp_read",
    "temp_written",
];

fn buffer_values(b: &Buffers) -> [f64; 10] {
    [
        b.shared_hit,
        b.shared_read,
        b.shared_dirtied,
        b.shared_written,
        b.local_hit,
        b.local_read,
        b.local_dirtied,
        b.local_written,
        b.temp_read,
        b.temp_written,
    ]
}

/// A typed value of a node, as compared with what PostgreSQL printed.
#[derive(Debug)]
pub enum Typed<'a> {
    Num(Option<f64>),
    Str(Option<&'a str>),
    Bool(bool),
}
use Typed::{Bool, Num, Str};

/// Whether the printed value is the typed one, as a browser would read both.
fn same(printed: &Value, t: &Typed<'_>) -> bool {
    match (printed, t) {
        (Value::Number(x), Typed::Num(Some(y))) => x.as_f64() == Some(*y),
        (Value::String(x), Typed::Str(Some(y))) => x == y,
        (Value::Bool(x), Typed::Bool(y)) => x == y,
        _ => false,
    }
}

/// A node's mask (bit i: `RESTORE[i]` left out), which of its `fields`, by position, are left
/// out (the first 64; later ones are looked up when written), and its order into `order` (per
/// field: the `RESTORE` bit it is put back from, or -1 for a field the row keeps).
fn masks_of(n: &Node, order: &mut Vec<i8>) -> (u64, u64) {
    let (mut mask, mut skip) = (0u64, 0u64);
    order.clear();
    for (pos, (k, v)) in n.fields.iter().enumerate() {
        if let Some(bit) = restore_bit(k)
            && same(v, &(RESTORE[bit].2)(n))
        {
            mask |= 1 << bit;
            if pos < 64 {
                skip |= 1 << pos;
            }
            order.push(bit as i8);
        } else {
            order.push(-1);
        }
    }
    (mask, skip)
}

/// The bit of a field name in `RESTORE` (a `match`: cheaper than hashing every field's name).
fn restore_bit(key: &str) -> Option<usize> {
    Some(match key {
        "Node Type" => 0,
        "Parent Relationship" => 1,
        "Subplan Name" => 2,
        "CTE Name" => 3,
        "Parallel Aware" => 4,
        "Relation Name" => 5,
        "Schema" => 6,
        "Alias" => 7,
        "Index Name" => 8,
        "Startup Cost" => 9,
        "Total Cost" => 10,
        "Plan Rows" => 11,
        "Plan Width" => 12,
        "Actual Startup Time" => 13,
        "Actual Total Time" => 14,
        "Actual Rows" => 15,
        "Actual Loops" => 16,
        "Workers Planned" => 17,
        "Workers Launched" => 18,
        "Rows Removed by Filter" => 19,
        "Rows Removed by Join Filter" => 20,
        "Rows Removed by Index Recheck" => 21,
        "Heap Fetches" => 22,
        "Exact Heap Blocks" => 23,
        "Lossy Heap Blocks" => 24,
        "Shared Hit Blocks" => 25,
        "Shared Read Blocks" => 26,
        "Shared Dirtied Blocks" => 27,
        "Shared Written Blocks" => 28,
        "Local Hit Blocks" => 29,
        "Local Read Blocks" => 30,
        "Local Dirtied Blocks" => 31,
        "Local Written Blocks" => 32,
        "Temp Read Blocks" => 33,
        "Temp Written Blocks" => 34,
        "I/O Read Time" => 35,
        "I/O Write Time" => 36,
        _ => return None,
    })
}

/// Move the nodes into a table.
pub fn node_table(nodes: Vec<Node>) -> NodeTable {
    let mut orders: Vec<Vec<i8>> = Vec::new();
    let mut known: std::collections::HashMap<Vec<i8>, u32> = std::collections::HashMap::new();
    let mut order = Vec::with_capacity(64);
    let masks = nodes
        .iter()
        .map(|n| {
            let (mask, skip) = masks_of(n, &mut order);
            let at = match known.get(&order) {
                Some(&i) => i,
                None => {
                    let i = orders.len() as u32;
                    orders.push(order.clone());
                    known.insert(order.clone(), i);
                    i
                }
            };
            (mask, skip, at)
        })
        .collect();
    let columns = COLUMNS
        .iter()
        .map(|c| match *c {
            "buffers" | "exclusive_buffers" => serde_json::json!([c, BUFFER_KEYS]),
            _ => Value::String((*c).to_owned()),
        })
        .collect();
    NodeTable {
        columns,
        rows: Rows { nodes, masks },
        restore: RESTORE
            .iter()
            .map(|(a, b, _)| ((*a).to_owned(), (*b).to_owned()))
            .collect(),
        orders,
    }
}

/// A table is only ever written (to the UI); a report read back (the CLI's own JSON) has none.
impl<'de> serde::Deserialize<'de> for NodeTable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(node_table(Vec::new()))
    }
}

impl Serialize for NodeTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("NodeTable", 4)?;
        st.serialize_field("columns", &self.columns)?;
        st.serialize_field("rows", &self.rows)?;
        st.serialize_field("restore", &self.restore)?;
        st.serialize_field("orders", &self.orders)?;
        st.end()
    }
}

impl Serialize for Rows {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.nodes.len()))?;
        for (n, &(mask, skip, order)) in self.nodes.iter().zip(&self.masks) {
            seq.serialize_element(&Row(n, mask, skip, order))?;
        }
        seq.end()
    }
}

/// A number, whole ones as integers (`12`, not `12.0`): counts, rows and most costs are whole,
/// and a browser reads both the same.
struct Whole(f64);

impl Serialize for Whole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.fract() == 0.0 && self.0.abs() < 9.0e15 {
            s.serialize_i64(self.0 as i64)
        } else {
            s.serialize_f64(self.0)
        }
    }
}

struct OptWhole(Option<f64>);

impl Serialize for OptWhole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(v) => Whole(v).serialize(s),
            None => s.serialize_none(),
        }
    }
}

struct BufferCells<'a>(&'a Buffers);

impl Serialize for BufferCells<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(10))?;
        for v in buffer_values(self.0) {
            seq.serialize_element(&Whole(v))?;
        }
        seq.end()
    }
}

/// `fields` without those the mask says a column holds (`skip`: by position, the first 64).
struct ThinFields<'a>(&'a Fields, u64, u64);

impl Serialize for ThinFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ThinFields(fields, mask, skip) = *self;
        let mut map = s.serialize_map(None)?;
        for (pos, (k, v)) in fields.iter().enumerate() {
            let left_out = if pos < 64 {
                skip & (1 << pos) != 0
            } else {
                restore_bit(k).is_some_and(|b| mask & (1 << b) != 0)
            };
            if !left_out {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

/// A node's row: one value per `COLUMNS` entry, in that order (the test below decodes it).
struct Row<'a>(&'a Node, u64, u64, u32);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Row(n, mask, skip, order) = *self;
        let mut seq = s.serialize_seq(Some(COLUMNS.len()))?;
        seq.serialize_element(&n.id)?; // id
        seq.serialize_element(&n.parent)?; // parent
        seq.serialize_element(&n.children)?; // children
        seq.serialize_element(&n.depth)?; // depth
        seq.serialize_element(&n.node_type)?; // node_type
        seq.serialize_element(&n.label)?; // label
        seq.serialize_element(&n.relationship)?; // relationship
        seq.serialize_element(&n.subplan_name)?; // subplan_name
        seq.serialize_element(&n.relation)?; // relation
        seq.serialize_element(&n.schema)?; // schema
        seq.serialize_element(&n.alias)?; // alias
        seq.serialize_element(&n.index_name)?; // index_name
        seq.serialize_element(&n.cte_name)?; // cte_name
        seq.serialize_element(&n.parallel_aware)?; // parallel_aware
        seq.serialize_element(&Whole(n.startup_cost))?; // startup_cost
        seq.serialize_element(&Whole(n.total_cost))?; // total_cost
        seq.serialize_element(&Whole(n.plan_rows))?; // plan_rows
        seq.serialize_element(&Whole(n.plan_width))?; // plan_width
        seq.serialize_element(&OptWhole(n.actual_startup_ms))?; // actual_startup_ms
        seq.serialize_element(&OptWhole(n.actual_total_ms))?; // actual_total_ms
        seq.serialize_element(&OptWhole(n.actual_rows))?; // actual_rows
        seq.serialize_element(&OptWhole(n.loops))?; // loops
        seq.serialize_element(&n.never_executed)?; // never_executed
        seq.serialize_element(&OptWhole(n.workers_planned))?; // workers_planned
        seq.serialize_element(&OptWhole(n.workers_launched))?; // workers_launched
        seq.serialize_element(&OptWhole(n.rows_removed_by_filter))?; // rows_removed_by_filter
        seq.serialize_element(&OptWhole(n.rows_removed_by_join_filter))?; // rows_removed_by_join_filter
        seq.serialize_element(&OptWhole(n.rows_removed_by_index_recheck))?; // rows_removed_by_index_recheck
        seq.serialize_element(&OptWhole(n.heap_fetches))?; // heap_fetches
        seq.serialize_element(&OptWhole(n.exact_heap_blocks))?; // exact_heap_blocks
        seq.serialize_element(&OptWhole(n.lossy_heap_blocks))?; // lossy_heap_blocks
        seq.serialize_element(&BufferCells(&n.buffers))?; // buffers
        seq.serialize_element(&OptWhole(n.io_read_ms))?; // io_read_ms
        seq.serialize_element(&OptWhole(n.io_write_ms))?; // io_write_ms
        seq.serialize_element(&ThinFields(&n.fields, mask, skip))?; // fields
        seq.serialize_element(&OptWhole(n.inclusive_ms))?; // inclusive_ms
        seq.serialize_element(&OptWhole(n.exclusive_ms))?; // exclusive_ms
        seq.serialize_element(&OptWhole(n.exclusive_pct))?; // exclusive_pct
        seq.serialize_element(&BufferCells(&n.exclusive_buffers))?; // exclusive_buffers
        seq.serialize_element(&OptWhole(n.total_rows))?; // total_rows
        seq.serialize_element(&OptWhole(n.estimate_ratio))?; // estimate_ratio
        seq.serialize_element(&OptWhole(n.misestimate))?; // misestimate
        seq.serialize_element(&n.findings)?; // findings
        seq.serialize_element(&order)?; // fields_order
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    /// The same as a browser reads numbers.
    fn alike(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| alike(v, w)))
            }
            (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| alike(v, w)),
            _ => a == b,
        }
    }

    /// The kept fields in the order the row's JSON has them (what a browser's `Object.keys`
    /// gives; `serde_json::Map` sorts).
    fn order_of_kept(row_json: &str, kept: &[(String, Value)]) -> Vec<(String, Value)> {
        let mut at: Vec<(usize, &(String, Value))> = kept
            .iter()
            .map(|kv| (row_json.find(&format!("{}:", Value::String(kv.0.clone()))).unwrap(), kv))
            .collect();
        at.sort_by_key(|(i, _)| *i);
        at.into_iter().map(|(_, kv)| kv.clone()).collect()
    }

    /// Decoding the table the way the UI does gives back the nodes' JSON (numbers as a browser
    /// reads them; fields in any order), and every column of `Node` has a writer.
    #[test]
    fn the_table_decodes_to_the_same_nodes() {
        for file in [
            "cte_subplan.json",
            "parallel_agg.json",
            "hash_spill.json",
            "dml_trigger.json",
            "no_analyze.json",
        ] {
            let path = format!("{}/tests/plans/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            let plan = crate::plan::parse(&text).unwrap();
            let want: Vec<Value> = plan.nodes.iter().map(|n| serde_json::to_value(n).unwrap()).collect();
            let keys: Vec<&String> = want[0].as_object().unwrap().keys().collect();
            let mut cols: Vec<&str> = COLUMNS.iter().copied().filter(|c| *c != "fields_order").collect();
            cols.sort_unstable();
            assert_eq!(keys, cols, "every field of Node is a column");

            let table = node_table(plan.nodes.clone());
            let t = serde_json::to_value(&table).unwrap();
            let columns = t["columns"].as_array().unwrap();
            let restore = t["restore"].as_array().unwrap();
            for (i, (row, want)) in t["rows"].as_array().unwrap().iter().zip(&want).enumerate() {
                assert_eq!(row.as_array().unwrap().len(), columns.len(), "a cell per column");
                let mut obj = Map::new();
                for (col, cell) in columns.iter().zip(row.as_array().unwrap()) {
                    match col {
                        Value::String(k) => {
                            obj.insert(k.clone(), cell.clone());
                        }
                        Value::Array(pair) => {
                            let inner: Map<String, Value> = pair[1]
                                .as_array()
                                .unwrap()
                                .iter()
                                .zip(cell.as_array().unwrap())
                                .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
                                .collect();
                            obj.insert(pair[0].as_str().unwrap().to_owned(), Value::Object(inner));
                        }
                        _ => unreachable!(),
                    }
                }
                // As the UI does: the order's entries in turn, a restored field from its column,
                // -1 the next field the row kept (serde_json's `Map` would sort them, so the
                // order is checked on the names).
                let order = &t["orders"][obj.remove("fields_order").unwrap().as_u64().unwrap() as usize];
                let kept: Vec<(String, Value)> = match &obj["fields"] {
                    Value::Object(f) => f.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    _ => unreachable!(),
                };
                let (mask, skip, at) = table.rows.masks[i];
                let row_text = serde_json::to_string(&Row(&table.rows.nodes[i], mask, skip, at)).unwrap();
                let kept_in_order = order_of_kept(&row_text, &kept);
                let (mut names, mut fields, mut next) = (vec![], Map::new(), kept_in_order.iter());
                for e in order.as_array().unwrap() {
                    let e = e.as_i64().unwrap();
                    let (name, v) = if e < 0 {
                        next.next().unwrap().clone()
                    } else {
                        let r = &restore[e as usize];
                        let (raw, path) = (r[0].as_str().unwrap(), r[1].as_str().unwrap());
                        let v = match path.split_once('.') {
                            Some((c, k)) => obj[c][k].clone(),
                            None => obj[path].clone(),
                        };
                        (raw.to_owned(), v)
                    };
                    names.push(name.clone());
                    fields.insert(name, v);
                }
                assert!(next.next().is_none(), "every kept field has its place");
                let node = &plan.nodes[obj["id"].as_u64().unwrap() as usize];
                let printed: Vec<&str> = node.fields.iter().map(|(k, _)| k).collect();
                assert_eq!(names, printed, "fields come back in EXPLAIN's order");
                obj.insert("fields".into(), Value::Object(fields));
                assert!(alike(&Value::Object(obj.clone()), want), "{obj:?}\nvs\n{want}");
            }
            let compact = serde_json::to_string(&t).unwrap().len();
            let objects = serde_json::to_string(&want).unwrap().len();
            assert!(compact < objects, "{file}: {compact} vs {objects}");
        }
        assert!(RESTORE.len() <= 53);
        for (i, (raw, _, _)) in RESTORE.iter().enumerate() {
            assert_eq!(restore_bit(raw), Some(i), "{raw}");
        }
    }
}
