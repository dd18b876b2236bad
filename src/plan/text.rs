//! PostgreSQL's text plan format, read onto the keys of its JSON format.
//!
//! The text format is what people paste most: it is what psql shows. Each node is a line
//! `Description  (cost=… rows=… width=…) (actual time=… rows=… loops=…)`, children start with
//! `->` and are indented, a node's details (`Filter: …`, `Buffers: …`) follow it one level in,
//! `InitPlan 1`, `SubPlan 2` and `CTE name` lines introduce sub-plans, and the summary lines
//! (`Planning Time`, `Triggers`, `JIT`, `Settings`, `Execution Time`) close the plan at the
//! root's indentation. Every key written here is the one FORMAT JSON uses, so the builder and
//! the analysis never know which format they read.

use serde_json::{Map, Value, json};

use super::ParseError;

/// Every node type PostgreSQL's EXPLAIN names (src/backend/commands/explain.c), as JSON's
/// "Node Type" spells them.
pub const NODE_TYPES: &[&str] = &[
    "Result",
    "ProjectSet",
    "ModifyTable",
    "Append",
    "Merge Append",
    "Recursive Union",
    "BitmapAnd",
    "BitmapOr",
    "Nested Loop",
    "Merge Join",
    "Hash Join",
    "Seq Scan",
    "Sample Scan",
    "Gather",
    "Gather Merge",
    "Index Scan",
    "Index Only Scan",
    "Bitmap Index Scan",
    "Bitmap Heap Scan",
    "Tid Scan",
    "Tid Range Scan",
    "Subquery Scan",
    "Function Scan",
    "Table Function Scan",
    "Values Scan",
    "CTE Scan",
    "Named Tuplestore Scan",
    "WorkTable Scan",
    "Foreign Scan",
    "Custom Scan",
    "Materialize",
    "Memoize",
    "Sort",
    "Incremental Sort",
    "Group",
    "Aggregate",
    "WindowAgg",
    "Unique",
    "SetOp",
    "LockRows",
    "Limit",
    "Hash",
];

struct Open {
    /// Column of the node's `->` (or of the root's first character).
    indent: usize,
    /// Index into `nodes`.
    node: usize,
}

#[derive(Default)]
struct Flat {
    fields: Map<String, Value>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// Read a text-format plan into FORMAT JSON's shape: `[{"Plan": {...}, "Planning Time": …}]`.
pub fn to_json(input: &str) -> Result<Value, ParseError> {
    let mut nodes: Vec<Flat> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut top = Map::new();
    let mut root_indent: Option<usize> = None;
    // A sub-plan header seen and waiting for its node: (parent, name, relationship).
    let mut pending: Option<(Option<usize>, String, &'static str)> = None;
    // The block a detail line belongs to: a worker of the current node, or a summary block.
    let mut worker: Option<(usize, usize)> = None; // (indent of "Worker N:", index in Workers)
    let mut block: Option<(usize, &'static str)> = None; // (indent, "Planning" | "JIT")
    let mut triggers: Vec<Value> = Vec::new();

    for (i, raw) in input.lines().enumerate() {
        let lineno = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let content = raw.trim();
        let root_at = root_indent.unwrap_or(indent);

        // Summary blocks (Planning:, JIT:) take their deeper lines.
        if let Some((bi, name)) = block {
            if indent > bi {
                let obj = top.entry(name).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(o) = obj {
                    detail(o, content, lineno)?;
                }
                continue;
            }
            block = None;
        }

        // A node line: the root (first line) or `->  child`.
        let (is_node, node_indent, desc) = if let Some(rest) = content.strip_prefix("->") {
            (true, indent, rest.trim_start())
        } else if root_indent.is_none() && !is_summary(content) {
            (true, indent, content)
        } else {
            (false, indent, content)
        };
        if is_node {
            let fields = node_line(desc, lineno)?;
            let parent = match pending.take() {
                Some((parent, name, rel)) => {
                    let mut f = fields;
                    f.insert("Parent Relationship".into(), json!(rel));
                    f.insert("Subplan Name".into(), json!(name));
                    while stack
                        .last()
                        .is_some_and(|o| o.indent >= node_indent && Some(o.node) != parent)
                    {
                        stack.pop();
                    }
                    push(&mut nodes, &mut stack, f, parent, node_indent)
                }
                None => {
                    while stack.last().is_some_and(|o| o.indent >= node_indent) {
                        stack.pop();
                    }
                    let parent = stack.last().map(|o| o.node);
                    if root_indent.is_some() && parent.is_none() {
                        return Err(ParseError::at(lineno, "this node is not indented under any other node"));
                    }
                    let mut f = fields;
                    if let Some(p) = parent {
                        f.insert("Parent Relationship".into(), json!(child_relationship(&nodes, p)));
                    }
                    push(&mut nodes, &mut stack, f, parent, node_indent)
                }
            };
            if root_indent.is_none() {
                root_indent = Some(indent);
            }
            let _ = parent;
            worker = None;
            continue;
        }

        if nodes.is_empty() {
            return Err(ParseError::at(
                lineno,
                format!(
                    "expected a plan node such as \"Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\", found \"{}\"",
                    clip(content)
                ),
            ));
        }

        // Sub-plan headers: InitPlan 1 (returns $0), SubPlan 2, CTE name.
        if let Some(rel) = subplan_header(content) {
            while stack.last().is_some_and(|o| o.indent >= indent) {
                stack.pop();
            }
            let parent = stack.last().map(|o| o.node);
            if parent.is_none() {
                return Err(ParseError::at(
                    lineno,
                    format!("\"{}\" is not under any node", clip(content)),
                ));
            }
            pending = Some((parent, content.to_string(), rel));
            worker = None;
            continue;
        }

        // Summary lines at the root's indentation.
        if indent <= root_at {
            summary(&mut top, &mut triggers, &mut block, content, indent, lineno)?;
            continue;
        }

        // Details of the current node (the last one opened), or of one of its workers.
        let current = nodes.len() - 1;
        if let Some(rest) = content.strip_prefix("Worker ")
            && let Some((n, after)) = rest.split_once(':')
            && let Ok(n) = n.trim().parse::<u32>()
        {
            let workers = nodes[current]
                .fields
                .entry("Workers")
                .or_insert_with(|| Value::Array(vec![]));
            // A stray "Workers: …" detail line may have put text there first (found by fuzzing).
            if !workers.is_array() {
                *workers = Value::Array(vec![]);
            }
            let Value::Array(ws) = workers else {
                return Err(ParseError::at(lineno, "cannot read the worker lines of this node"));
            };
            let mut w = Map::new();
            w.insert("Worker Number".into(), json!(n));
            let after = after.trim();
            if !after.is_empty() {
                if after.starts_with("actual") {
                    actual(&mut w, after, lineno)?;
                } else {
                    detail(&mut w, after, lineno)?;
                }
            }
            ws.push(Value::Object(w));
            worker = Some((indent, ws.len() - 1));
            continue;
        }
        if let Some((wi, idx)) = worker {
            if indent > wi {
                if let Some(Value::Array(ws)) = nodes[current].fields.get_mut("Workers")
                    && let Some(Value::Object(w)) = ws.get_mut(idx)
                {
                    detail(w, content, lineno)?;
                }
                continue;
            }
            worker = None;
        }
        detail(&mut nodes[current].fields, content, lineno)?;
    }

    if nodes.is_empty() {
        return Err(ParseError::new("no plan nodes found"));
    }
    if let Some((_, name, _)) = pending {
        return Err(ParseError::new(format!(
            "\"{name}\" has no plan under it — is the plan cut off?"
        )));
    }
    if !triggers.is_empty() {
        top.insert("Triggers".into(), Value::Array(triggers));
    }
    top.insert("Plan".into(), assemble(&mut nodes, 0));
    Ok(Value::Array(vec![Value::Object(top)]))
}

fn push(
    nodes: &mut Vec<Flat>,
    stack: &mut Vec<Open>,
    fields: Map<String, Value>,
    parent: Option<usize>,
    indent: usize,
) -> usize {
    let idx = nodes.len();
    nodes.push(Flat {
        fields,
        parent,
        children: vec![],
    });
    if let Some(p) = parent {
        nodes[p].children.push(idx);
    }
    stack.push(Open { indent, node: idx });
    idx
}

/// Outer for a node's first ordinary child, Inner for the second (what JSON calls them).
fn child_relationship(nodes: &[Flat], parent: usize) -> &'static str {
    let p = &nodes[parent];
    let ordinary = p
        .children
        .iter()
        .filter(|&&c| {
            !matches!(
                nodes[c].fields.get("Parent Relationship").and_then(Value::as_str),
                Some("InitPlan" | "SubPlan")
            )
        })
        .count();
    let ty = p.fields.get("Node Type").and_then(Value::as_str).unwrap_or("");
    if matches!(
        ty,
        "Append" | "Merge Append" | "BitmapAnd" | "BitmapOr" | "Recursive Union"
    ) {
        return "Member";
    }
    if ty == "Subquery Scan" {
        return "Subquery";
    }
    if ordinary == 0 { "Outer" } else { "Inner" }
}

/// Turn the flat arena into nested JSON, iteratively (deep plans must not recurse).
fn assemble(nodes: &mut [Flat], root: usize) -> Value {
    // Post-order: build children before parents.
    let mut order = Vec::with_capacity(nodes.len());
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        order.push(n);
        stack.extend(nodes[n].children.iter().copied());
    }
    let mut built: Vec<Option<Value>> = vec![None; nodes.len()];
    for &n in order.iter().rev() {
        let mut f = std::mem::take(&mut nodes[n].fields);
        if !nodes[n].children.is_empty() {
            let kids: Vec<Value> = nodes[n]
                .children
                .iter()
                .map(|&c| built[c].take().unwrap_or(Value::Null))
                .collect();
            f.insert("Plans".into(), Value::Array(kids));
        }
        built[n] = Some(Value::Object(f));
        let _ = nodes[n].parent;
    }
    built[root].take().unwrap_or(Value::Null)
}

fn is_summary(content: &str) -> bool {
    [
        "Planning Time:",
        "Execution Time:",
        "Planning:",
        "JIT:",
        "Settings:",
        "Trigger ",
        "Query Identifier:",
        "Total runtime:",
    ]
    .iter()
    .any(|p| content.starts_with(p))
}

fn subplan_header(content: &str) -> Option<&'static str> {
    let word_num = |prefix: &str| {
        content
            .strip_prefix(prefix)
            .and_then(|r| r.split_whitespace().next())
            .is_some_and(|n| n.parse::<u32>().is_ok())
    };
    if word_num("InitPlan ") {
        Some("InitPlan")
    } else if word_num("SubPlan ") {
        Some("SubPlan")
    } else if let Some(name) = content.strip_prefix("CTE ")
        && !name.contains(':')
        && !name.contains("  (")
    {
        Some("InitPlan")
    } else {
        None
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Parse `Description  (cost=…) (actual …)` into node fields.
fn node_line(line: &str, lineno: usize) -> Result<Map<String, Value>, ParseError> {
    let mut f = Map::new();
    let cut = [
        "  (cost=",
        " (cost=",
        "  (actual ",
        " (actual ",
        "  (never executed)",
        " (never executed)",
    ]
    .iter()
    .filter_map(|p| line.find(p))
    .min()
    .unwrap_or(line.len());
    let desc = line[..cut].trim();
    let rest = &line[cut..];
    if desc.is_empty() {
        return Err(ParseError::at(lineno, "a plan node with no name"));
    }
    describe(&mut f, desc);
    let ty = f.get("Node Type").and_then(Value::as_str).unwrap_or("");
    if rest.is_empty() && !NODE_TYPES.contains(&ty) {
        // Without figures (COSTS OFF) only a known node type makes this a node line.
        return Err(ParseError::at(
            lineno,
            format!(
                "expected a plan node such as \"Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\", found \"{}\"",
                clip(line)
            ),
        ));
    }
    if let Some(i) = rest.find("(cost=") {
        let inner = &rest[i + 6..];
        let end = inner
            .find(')')
            .ok_or_else(|| ParseError::at(lineno, "\"(cost=\" is not closed"))?;
        let inner = &inner[..end];
        let mut parts = inner.split_whitespace();
        let costs = parts.next().unwrap_or("");
        let (a, b) = costs.split_once("..").ok_or_else(|| {
            ParseError::at(
                lineno,
                format!("cannot read the cost \"{costs}\" (expected startup..total)"),
            )
        })?;
        f.insert("Startup Cost".into(), number(a, lineno, "startup cost")?);
        f.insert("Total Cost".into(), number(b, lineno, "total cost")?);
        for kv in parts {
            match kv.split_once('=') {
                Some(("rows", v)) => {
                    f.insert("Plan Rows".into(), number(v, lineno, "estimated rows")?);
                }
                Some(("width", v)) => {
                    f.insert("Plan Width".into(), number(v, lineno, "width")?);
                }
                _ => {}
            }
        }
    }
    if rest.contains("(never executed)") {
        f.insert("Actual Rows".into(), json!(0));
        f.insert("Actual Loops".into(), json!(0));
    } else if let Some(i) = rest.find("(actual") {
        let inner = &rest[i + 1..];
        let end = inner
            .find(')')
            .ok_or_else(|| ParseError::at(lineno, "\"(actual\" is not closed"))?;
        actual(&mut f, &inner[..end], lineno)?;
    }
    Ok(f)
}

/// `actual time=a..b rows=r loops=l` (or without time when TIMING was off).
fn actual(f: &mut Map<String, Value>, s: &str, lineno: usize) -> Result<(), ParseError> {
    for kv in s.trim_start_matches("actual").split_whitespace() {
        match kv.split_once('=') {
            Some(("time", v)) => {
                let (a, b) = v.split_once("..").ok_or_else(|| {
                    ParseError::at(
                        lineno,
                        format!("cannot read the time \"{v}\" (expected startup..total)"),
                    )
                })?;
                f.insert("Actual Startup Time".into(), number(a, lineno, "startup time")?);
                f.insert("Actual Total Time".into(), number(b, lineno, "total time")?);
            }
            Some(("rows", v)) => {
                f.insert("Actual Rows".into(), number(v, lineno, "actual rows")?);
            }
            Some(("loops", v)) => {
                f.insert("Actual Loops".into(), number(v, lineno, "loops")?);
            }
            _ => {}
        }
    }
    Ok(())
}

fn number(s: &str, lineno: usize, what: &str) -> Result<Value, ParseError> {
    let t = s.trim().trim_end_matches(',');
    if let Ok(i) = t.parse::<i64>() {
        return Ok(json!(i));
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(json!(v)),
        _ => Err(ParseError::at(lineno, format!("the {what} \"{t}\" is not a number"))),
    }
}

/// Split `schema.rel alias` into fields.
fn target(f: &mut Map<String, Value>, s: &str, name_key: &str) {
    let mut it = s.split_whitespace();
    if let Some(rel) = it.next() {
        let (schema, rel) = match rel.split_once('.') {
            Some((sc, r)) if matches!(name_key, "Relation Name" | "Function Name") && !rel.starts_with('"') => {
                (Some(sc), r)
            }
            _ => (None, rel),
        };
        if let Some(sc) = schema {
            f.insert("Schema".into(), json!(sc));
        }
        f.insert(name_key.into(), json!(rel));
        f.insert("Alias".into(), json!(it.next().unwrap_or(rel)));
    }
}

/// The description before the parentheses: node type, join type, strategy, target.
fn describe(f: &mut Map<String, Value>, desc: &str) {
    let mut d = desc;
    let mut parallel = false;
    if let Some(r) = d.strip_prefix("Parallel ") {
        parallel = true;
        d = r;
    }
    f.insert("Parallel Aware".into(), json!(parallel));
    for (prefix, mode) in [("Partial ", "Partial"), ("Finalize ", "Finalize")] {
        if let Some(r) = d.strip_prefix(prefix) {
            f.insert("Partial Mode".into(), json!(mode));
            d = r;
        }
    }
    if d.starts_with("Async ") {
        f.insert("Async Capable".into(), json!(true));
        d = &d[6..];
    }
    // Data-modifying nodes.
    for op in ["Insert", "Update", "Delete", "Merge"] {
        if let Some(r) = d.strip_prefix(op).and_then(|r| r.strip_prefix(" on ")) {
            f.insert("Node Type".into(), json!("ModifyTable"));
            f.insert("Operation".into(), json!(op));
            target(f, r, "Relation Name");
            return;
        }
    }
    // Aggregates and set operations carry their strategy in the name.
    let (ty, strategy) = match d {
        "Aggregate" => ("Aggregate", Some("Plain")),
        "HashAggregate" => ("Aggregate", Some("Hashed")),
        "GroupAggregate" => ("Aggregate", Some("Sorted")),
        "MixedAggregate" => ("Aggregate", Some("Mixed")),
        _ => ("", None),
    };
    if let Some(s) = strategy {
        f.insert("Node Type".into(), json!(ty));
        f.insert("Strategy".into(), json!(s));
        return;
    }
    for (prefix, strategy) in [("HashSetOp ", "Hashed"), ("SetOp ", "Sorted")] {
        if let Some(cmd) = d.strip_prefix(prefix) {
            f.insert("Node Type".into(), json!("SetOp"));
            f.insert("Strategy".into(), json!(strategy));
            f.insert("Command".into(), json!(cmd));
            return;
        }
    }
    // Joins: "Hash Left Join", "Merge Anti Join", "Nested Loop Semi Join".
    for base in ["Hash", "Merge", "Nested Loop"] {
        if let Some(r) = d.strip_prefix(base) {
            let r = r.trim();
            let join = if (r.is_empty() && base == "Nested Loop") || r == "Join" {
                Some("Inner")
            } else {
                r.strip_suffix(" Join")
            };
            if let Some(j) = join {
                let ty = if base == "Nested Loop" {
                    "Nested Loop".to_string()
                } else {
                    format!("{base} Join")
                };
                f.insert("Node Type".into(), json!(ty));
                f.insert("Join Type".into(), json!(j));
                return;
            }
        }
    }
    // Index scans: "Index Scan Backward using idx on schema.rel alias".
    if let Some((kind, rest)) = d.split_once(" using ") {
        let (kind, backward) = match kind.strip_suffix(" Backward") {
            Some(k) => (k, true),
            None => (kind, false),
        };
        f.insert("Node Type".into(), json!(kind));
        f.insert(
            "Scan Direction".into(),
            json!(if backward { "Backward" } else { "Forward" }),
        );
        match rest.split_once(" on ") {
            Some((idx, rel)) => {
                f.insert("Index Name".into(), json!(idx.trim()));
                target(f, rel, "Relation Name");
            }
            None => {
                f.insert("Index Name".into(), json!(rest.trim()));
            }
        }
        return;
    }
    if let Some(r) = d.strip_prefix("Custom Scan (") {
        let (provider, rest) = r.split_once(')').unwrap_or((r, ""));
        f.insert("Node Type".into(), json!("Custom Scan"));
        f.insert("Custom Plan Provider".into(), json!(provider));
        if let Some(t) = rest.trim().strip_prefix("on ") {
            target(f, t, "Relation Name");
        }
        return;
    }
    if let Some((kind, rest)) = d.split_once(" on ") {
        f.insert("Node Type".into(), json!(kind));
        match kind {
            "Bitmap Index Scan" => {
                f.insert("Index Name".into(), json!(rest.trim()));
            }
            "CTE Scan" | "WorkTable Scan" => target(f, rest, "CTE Name"),
            "Function Scan" => target(f, rest, "Function Name"),
            "Subquery Scan" | "Values Scan" | "Named Tuplestore Scan" => {
                f.insert("Alias".into(), json!(rest.trim()));
            }
            "Table Function Scan" => target(f, rest, "Table Function Name"),
            _ => target(f, rest, "Relation Name"),
        }
        return;
    }
    f.insert("Node Type".into(), json!(d));
}

/// A `Key: value` detail line, with the keys JSON uses and numbers as numbers.
fn detail(f: &mut Map<String, Value>, content: &str, lineno: usize) -> Result<(), ParseError> {
    let Some((key, value)) = content.split_once(':') else {
        // A continuation of the previous value (long expressions wrap in some clients).
        return Ok(());
    };
    let key = key.trim();
    let value = value.trim();
    match key {
        "Output" | "Sort Key" | "Group Key" | "Presorted Key" | "Hash Key" | "Cache Key" | "Partition Key" => {
            f.insert(
                key.into(),
                Value::Array(split_list(value).into_iter().map(Value::from).collect()),
            );
        }
        "Buffers" => buffers(f, value, lineno)?,
        "I/O Timings" => {
            for (scope, kvs) in scoped(value) {
                for (k, v) in kvs {
                    let name = match (scope, k) {
                        ("shared" | "", "read") => "I/O Read Time",
                        ("shared" | "", "write") => "I/O Write Time",
                        ("local", "read") => "Local I/O Read Time",
                        ("local", "write") => "Local I/O Write Time",
                        ("temp", "read") => "Temp I/O Read Time",
                        ("temp", "write") => "Temp I/O Write Time",
                        _ => continue,
                    };
                    f.insert(name.into(), number(v, lineno, "I/O time")?);
                }
            }
        }
        "WAL" => {
            for (k, v) in kvs(value) {
                let name = match k {
                    "records" => "WAL Records",
                    "fpi" => "WAL FPI",
                    "bytes" => "WAL Bytes",
                    _ => continue,
                };
                f.insert(name.into(), number(v, lineno, "WAL figure")?);
            }
        }
        "Heap Blocks" => {
            for (k, v) in kvs(value) {
                let name = match k {
                    "exact" => "Exact Heap Blocks",
                    "lossy" => "Lossy Heap Blocks",
                    _ => continue,
                };
                f.insert(name.into(), number(v, lineno, "heap blocks")?);
            }
        }
        "Sort Method" => {
            // "quicksort  Memory: 25kB" / "external merge  Disk: 1234kB"
            let (method, space) = value.split_once("  ").unwrap_or((value, ""));
            f.insert("Sort Method".into(), json!(method.trim()));
            if let Some((ty, amount)) = space.trim().split_once(':') {
                f.insert("Sort Space Type".into(), json!(ty.trim()));
                f.insert(
                    "Sort Space Used".into(),
                    number(amount.trim().trim_end_matches("kB"), lineno, "sort space")?,
                );
            }
        }
        "Buckets" | "Batches" => {
            // Hash: "Buckets: 1024 (originally 1024)  Batches: 4 (originally 1)  Memory Usage: 19kB"
            // HashAggregate: "Batches: 1  Memory Usage: 24kB  Disk Usage: 100kB"
            let is_hash = key == "Buckets";
            let full = format!("{key}: {value}");
            for part in full.split("  ").map(str::trim).filter(|p| !p.is_empty()) {
                let Some((k, v)) = part.split_once(':') else { continue };
                let v = v.trim();
                let (now, orig) = match v.split_once(" (originally ") {
                    Some((n, o)) => (n, Some(o.trim_end_matches(')'))),
                    None => (v, None),
                };
                let amount = now.trim_end_matches("kB");
                let (name, orig_name) = match (k.trim(), is_hash) {
                    ("Buckets", _) => ("Hash Buckets", "Original Hash Buckets"),
                    ("Batches", true) => ("Hash Batches", "Original Hash Batches"),
                    ("Batches", false) => ("HashAgg Batches", ""),
                    ("Memory Usage", true) => ("Peak Memory Usage", ""),
                    ("Memory Usage", false) => ("Peak Memory Usage", ""),
                    ("Memory", _) => ("Peak Memory Usage", ""),
                    ("Disk Usage", _) => ("Disk Usage", ""),
                    (other, _) => {
                        f.insert(other.into(), json!(v));
                        continue;
                    }
                };
                f.insert(name.into(), number(amount, lineno, k.trim())?);
                if let Some(o) = orig
                    && !orig_name.is_empty()
                {
                    f.insert(orig_name.into(), number(o, lineno, k.trim())?);
                }
            }
        }
        "Timing" => {
            // JIT: "Generation 0.309 ms, Inlining 56.277 ms, …, Total 97.728 ms"
            let mut t = Map::new();
            for part in value.split(',') {
                let mut w = part.split_whitespace();
                if let (Some(name), Some(ms)) = (w.next(), w.next()) {
                    t.insert(name.into(), number(ms, lineno, "JIT time")?);
                }
            }
            f.insert("Timing".into(), Value::Object(t));
        }
        "Options" => {
            let mut o = Map::new();
            for part in value.split(',') {
                let mut w = part.split_whitespace();
                if let (Some(name), Some(b)) = (w.next(), w.next()) {
                    o.insert(name.into(), json!(b == "true"));
                }
            }
            f.insert("Options".into(), Value::Object(o));
        }
        "Inner Unique" | "Single Copy" => {
            f.insert(key.into(), json!(value == "true"));
        }
        _ => {
            let v = if let Ok(i) = value.parse::<i64>() {
                json!(i)
            } else if let Ok(x) = value.parse::<f64>()
                && x.is_finite()
            {
                json!(x)
            } else {
                json!(value)
            };
            f.insert(key.into(), v);
        }
    }
    Ok(())
}

/// `shared hit=1 read=2, local …, temp read=3 written=4`
fn buffers(f: &mut Map<String, Value>, value: &str, lineno: usize) -> Result<(), ParseError> {
    for (scope, kvs) in scoped(value) {
        let scope = match scope {
            "shared" => "Shared",
            "local" => "Local",
            "temp" => "Temp",
            other => {
                return Err(ParseError::at(
                    lineno,
                    format!("unknown buffer kind \"{other}\" in Buffers"),
                ));
            }
        };
        for (k, v) in kvs {
            let what = match k {
                "hit" => "Hit",
                "read" => "Read",
                "dirtied" => "Dirtied",
                "written" => "Written",
                _ => continue,
            };
            f.insert(format!("{scope} {what} Blocks"), number(v, lineno, "block count")?);
        }
    }
    Ok(())
}

/// `shared hit=1 read=2, temp read=3` → [("shared", [(hit,1),(read,2)]), ("temp", [(read,3)])]
fn scoped(value: &str) -> Vec<(&str, Vec<(&str, &str)>)> {
    value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (scope, rest) = match part.split_once(' ') {
                Some((s, r)) if !s.contains('=') => (s, r),
                _ => ("", part),
            };
            (scope, kvs(rest))
        })
        .collect()
}

fn kvs(s: &str) -> Vec<(&str, &str)> {
    s.split_whitespace().filter_map(|kv| kv.split_once('=')).collect()
}

/// Split an expression list on top-level commas (not inside parentheses or quotes).
fn split_list(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote = false;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '\'' => quote = !quote,
            '(' | '[' if !quote => depth += 1,
            ')' | ']' if !quote => depth -= 1,
            ',' if !quote && depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Lines at the root's indentation after the tree: times, triggers, settings, JIT, planning.
fn summary(
    top: &mut Map<String, Value>,
    triggers: &mut Vec<Value>,
    block: &mut Option<(usize, &'static str)>,
    content: &str,
    indent: usize,
    lineno: usize,
) -> Result<(), ParseError> {
    if let Some(r) = content.strip_prefix("Trigger ") {
        // "Trigger NAME[ for constraint C][ on REL]: time=1.2 calls=3"
        let (head, figures) = r
            .rsplit_once(':')
            .ok_or_else(|| ParseError::at(lineno, "a Trigger line without \": time=… calls=…\""))?;
        let mut t = Map::new();
        let (head, rel) = match head.rsplit_once(" on ") {
            Some((h, rel)) => (h, Some(rel)),
            None => (head, None),
        };
        let (name, constraint) = match head.split_once(" for constraint ") {
            Some((n, c)) => (n, Some(c)),
            None => (head, None),
        };
        t.insert("Trigger Name".into(), json!(name.trim()));
        if let Some(c) = constraint {
            t.insert("Constraint Name".into(), json!(c.trim()));
        }
        if let Some(r) = rel {
            t.insert("Relation".into(), json!(r.trim()));
        }
        for (k, v) in kvs(figures) {
            match k {
                "time" => {
                    t.insert("Time".into(), number(v, lineno, "trigger time")?);
                }
                "calls" => {
                    t.insert("Calls".into(), number(v, lineno, "trigger calls")?);
                }
                _ => {}
            }
        }
        triggers.push(Value::Object(t));
        return Ok(());
    }
    let Some((key, value)) = content.split_once(':') else {
        return Err(ParseError::at(
            lineno,
            format!("cannot read \"{}\" after the plan", clip(content)),
        ));
    };
    let value = value.trim();
    match key {
        "Planning Time" | "Execution Time" | "Total runtime" => {
            let key = if key == "Total runtime" { "Execution Time" } else { key };
            top.insert(key.into(), number(value.trim_end_matches("ms").trim(), lineno, key)?);
        }
        "Planning" | "JIT" if value.is_empty() => {
            top.insert(key.into(), Value::Object(Map::new()));
            *block = Some((indent, if key == "JIT" { "JIT" } else { "Planning" }));
        }
        "Settings" => {
            let mut s = Map::new();
            for part in split_list(value) {
                if let Some((k, v)) = part.split_once(" = ") {
                    s.insert(k.trim().into(), json!(v.trim().trim_matches('\'')));
                }
            }
            top.insert("Settings".into(), Value::Object(s));
        }
        _ => {
            top.insert(key.into(), json!(value));
        }
    }
    Ok(())
}
