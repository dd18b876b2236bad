//! Query plans: read what `EXPLAIN` prints, work out where the time went, and say what to fix.
//!
//! Everything here is pure — text in, data out — so it is unit-tested against real plans
//! captured from PostgreSQL (`tests/plans/`, made by `scripts/capture-plans`) and fuzzed
//! (`fuzz/`). The flow is:
//!
//! ```text
//! JSON (pasted, or EXPLAIN run here) ─ json.rs ─────────┐
//! text format ─ text::to_json ─ serde_json::Value ─ from_json ─┴─> Plan (flat nodes) ─> analyse
//! ```
//!
//! Both formats land on the JSON shape (the text format's keys are FORMAT JSON's), and every
//! node is filled in by one function (`fill`), so there is one builder and one analysis. JSON,
//! the big case, is read straight into nodes without a `Value` in between, its fields kept in
//! EXPLAIN's order; SQLite's EXPLAIN QUERY PLAN is built as a `Value` too. Nodes are kept
//! flat (`Vec<Node>`, pre-order, children by index) so a 10,000-node plan is cheap to walk and to
//! send to the UI.

pub mod analyze;
pub mod compare;
pub mod fields;
pub mod html;
pub mod indexes;
mod json;
pub mod run;
pub mod text;
pub mod wire;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

pub use analyze::{Finding, FindingKind, Severity};
pub use fields::Fields;

/// Where a plan came from, for the reader and for the comparison view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PlanFormat {
    Json,
    Text,
}

/// Block counts of one node (inclusive of its children, as PostgreSQL reports them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct Buffers {
    pub shared_hit: f64,
    pub shared_read: f64,
    pub shared_dirtied: f64,
    pub shared_written: f64,
    pub local_hit: f64,
    pub local_read: f64,
    pub local_dirtied: f64,
    pub local_written: f64,
    pub temp_read: f64,
    pub temp_written: f64,
}

impl Buffers {
    fn from_fields(f: &Map<String, Value>) -> Self {
        let n = |k: &str| num(f.get(k)).unwrap_or(0.0);
        Buffers {
            shared_hit: n("Shared Hit Blocks"),
            shared_read: n("Shared Read Blocks"),
            shared_dirtied: n("Shared Dirtied Blocks"),
            shared_written: n("Shared Written Blocks"),
            local_hit: n("Local Hit Blocks"),
            local_read: n("Local Read Blocks"),
            local_dirtied: n("Local Dirtied Blocks"),
            local_written: n("Local Written Blocks"),
            temp_read: n("Temp Read Blocks"),
            temp_written: n("Temp Written Blocks"),
        }
    }

    /// Every block touched: hits, reads and temp I/O (what the "buffers" bar shows).
    pub fn total(&self) -> f64 {
        self.shared_hit + self.shared_read + self.local_hit + self.local_read + self.temp_read + self.temp_written
    }

    /// `self - other`, never below zero (children can report more than a parent after rescans).
    pub fn minus(&self, o: &Buffers) -> Buffers {
        let d = |a: f64, b: f64| (a - b).max(0.0);
        Buffers {
            shared_hit: d(self.shared_hit, o.shared_hit),
            shared_read: d(self.shared_read, o.shared_read),
            shared_dirtied: d(self.shared_dirtied, o.shared_dirtied),
            shared_written: d(self.shared_written, o.shared_written),
            local_hit: d(self.local_hit, o.local_hit),
            local_read: d(self.local_read, o.local_read),
            local_dirtied: d(self.local_dirtied, o.local_dirtied),
            local_written: d(self.local_written, o.local_written),
            temp_read: d(self.temp_read, o.temp_read),
            temp_written: d(self.temp_written, o.temp_written),
        }
    }

    pub fn add(&mut self, o: &Buffers) {
        self.shared_hit += o.shared_hit;
        self.shared_read += o.shared_read;
        self.shared_dirtied += o.shared_dirtied;
        self.shared_written += o.shared_written;
        self.local_hit += o.local_hit;
        self.local_read += o.local_read;
        self.local_dirtied += o.local_dirtied;
        self.local_written += o.local_written;
        self.temp_read += o.temp_read;
        self.temp_written += o.temp_written;
    }
}

/// One plan node: the fields the analysis uses, typed, plus every field PostgreSQL gave, as given.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Node {
    pub id: u32,
    pub parent: Option<u32>,
    pub children: Vec<u32>,
    pub depth: u32,
    /// "Seq Scan", "Hash Join", "Aggregate", "ModifyTable"…
    pub node_type: String,
    /// A one-line label the way people read it: "Hash Join (Inner)", "Seq Scan on visits v".
    pub label: String,
    /// Outer, Inner, InitPlan, SubPlan, Member…
    pub relationship: Option<String>,
    /// "CTE recent", "SubPlan 2", "InitPlan 1 (returns $0)".
    pub subplan_name: Option<String>,
    pub relation: Option<String>,
    pub schema: Option<String>,
    pub alias: Option<String>,
    pub index_name: Option<String>,
    pub cte_name: Option<String>,
    pub parallel_aware: bool,
    pub startup_cost: f64,
    pub total_cost: f64,
    /// Estimated rows per loop.
    pub plan_rows: f64,
    pub plan_width: f64,
    /// Per loop, as PostgreSQL reports it; None without ANALYZE or with TIMING off.
    pub actual_startup_ms: Option<f64>,
    pub actual_total_ms: Option<f64>,
    /// Rows per loop; None without ANALYZE.
    pub actual_rows: Option<f64>,
    pub loops: Option<f64>,
    /// ANALYZE ran and this node never did (loops = 0).
    pub never_executed: bool,
    pub workers_planned: Option<f64>,
    pub workers_launched: Option<f64>,
    pub rows_removed_by_filter: Option<f64>,
    pub rows_removed_by_join_filter: Option<f64>,
    pub rows_removed_by_index_recheck: Option<f64>,
    pub heap_fetches: Option<f64>,
    pub exact_heap_blocks: Option<f64>,
    pub lossy_heap_blocks: Option<f64>,
    pub buffers: Buffers,
    pub io_read_ms: Option<f64>,
    pub io_write_ms: Option<f64>,
    /// Every field as PostgreSQL named it (child plans excluded), for the detail panel.
    #[ts(type = "Record<string, unknown>")]
    pub fields: Fields,
    // Derived by the analysis.
    /// Wall time of this node and everything under it, loops and workers accounted for.
    pub inclusive_ms: Option<f64>,
    /// Wall time spent in this node alone.
    pub exclusive_ms: Option<f64>,
    /// `exclusive_ms` as a share of the whole execution, 0–100.
    pub exclusive_pct: Option<f64>,
    /// Buffers of this node alone.
    pub exclusive_buffers: Buffers,
    /// Total rows out (rows × loops).
    pub total_rows: Option<f64>,
    /// Actual ÷ estimated rows (> 1: under-estimated, < 1: over-estimated).
    pub estimate_ratio: Option<f64>,
    /// max(ratio, 1/ratio): how many times off the estimate was.
    pub misestimate: Option<f64>,
    /// Indices into `Plan::findings` about this node.
    pub findings: Vec<u32>,
}

impl Node {
    pub fn field_str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }
    pub fn field_num(&self, key: &str) -> Option<f64> {
        num(self.fields.get(key))
    }
    /// The qualified relation this node reads, e.g. `public.visits`.
    pub fn qualified_relation(&self) -> Option<String> {
        let rel = self.relation.as_ref()?;
        Some(match &self.schema {
            Some(s) => format!("{s}.{rel}"),
            None => rel.clone(),
        })
    }
}

/// A trigger's time, from ANALYZE of a data-modifying statement.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Trigger {
    pub name: String,
    pub relation: Option<String>,
    pub constraint: Option<String>,
    pub time_ms: f64,
    pub calls: f64,
}

/// JIT compilation figures.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Jit {
    pub functions: f64,
    pub generation_ms: f64,
    pub inlining_ms: f64,
    pub optimization_ms: f64,
    pub emission_ms: f64,
    pub total_ms: f64,
    /// "Inlining true, Optimization true, …"
    pub options: String,
}

/// A whole plan, read and analysed.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Plan {
    pub format: PlanFormat,
    /// Pre-order; `nodes[0]` is the root.
    pub nodes: Vec<Node>,
    /// The statement, when known (dbdeck ran it, or the person pasted it alongside).
    pub query: Option<String>,
    pub planning_ms: Option<f64>,
    pub execution_ms: Option<f64>,
    pub planning_buffers: Option<Buffers>,
    pub triggers: Vec<Trigger>,
    pub jit: Option<Jit>,
    /// Non-default settings that affected the plan (EXPLAIN SETTINGS).
    pub settings: BTreeMap<String, String>,
    /// ANALYZE ran: actual rows and loops are known.
    pub analyzed: bool,
    /// ANALYZE ran with TIMING on: actual times are known.
    pub timed: bool,
    /// Findings, worst first.
    pub findings: Vec<Finding>,
    /// Summary figures for the header.
    pub summary: Summary,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
pub struct Summary {
    pub node_count: u32,
    pub max_depth: u32,
    /// Execution time if known, else the root's inclusive time.
    pub total_ms: Option<f64>,
    pub total_cost: f64,
    pub buffers: Buffers,
    pub trigger_ms: f64,
    /// The largest misestimate factor in the plan.
    pub worst_misestimate: Option<f64>,
    /// Node ids, hottest first by exclusive time (at most 10).
    pub hottest: Vec<u32>,
}

/// What went wrong reading a plan: a message a person can act on, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    /// 1-based line and column in the input, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ParseError {
            message: message.into(),
            line: None,
            column: None,
        }
    }
    pub(crate) fn at(line: usize, message: impl Into<String>) -> Self {
        ParseError {
            message: message.into(),
            line: Some(line),
            column: None,
        }
    }
}

impl From<ParseError> for crate::error::ApiError {
    fn from(e: ParseError) -> Self {
        crate::error::ApiError::invalid(format!("cannot read the plan: {e}")).with_hint(
            "paste the output of EXPLAIN (FORMAT JSON) or PostgreSQL's text format, whole; \
             psql's header, borders and '+' continuation marks are fine",
        )
    }
}

/// The deepest plan tree dbdeck reads. PostgreSQL's own limit on nesting comes from its stack;
/// plans this deep are generated, not written, and the limit keeps recursion bounded.
pub const MAX_DEPTH: usize = 1_000;

/// Read a plan in either format: JSON if it looks like JSON, else PostgreSQL's text format.
///
/// Reading JSON recurses once per nesting level (serde_json builds and drops values
/// recursively), so the work runs on its own thread with a stack sized for [`MAX_DEPTH`]:
/// callers on small stacks (tokio's workers have 2 MiB) stay safe, and the cost is one thread
/// start (tens of microseconds).
pub fn parse(input: &str) -> Result<Plan, ParseError> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("plan-parse".into())
            .stack_size(64 << 20)
            .spawn_scoped(s, || parse_here(input))
            .map_err(|e| ParseError::new(format!("cannot start the plan reader: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(ParseError::new("the plan reader failed on this input")))
    })
}

fn parse_here(input: &str) -> Result<Plan, ParseError> {
    let mut plan = read(input)?;
    analyze::analyse(&mut plan);
    Ok(plan)
}

/// Read a plan without analysing it. [`parse`] does both on a thread with room for deep plans;
/// this runs on the caller's stack, which for a plan near [`MAX_DEPTH`] levels needs a few MiB
/// (more than a tokio worker's 2 MiB in a debug build): for benchmarks and tests.
#[doc(hidden)]
pub fn read(input: &str) -> Result<Plan, ParseError> {
    let cleaned = strip_psql(input);
    let trimmed = cleaned.trim_start();
    if trimmed.is_empty() {
        return Err(ParseError::new("the plan is empty"));
    }
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        match parse_json_text(&cleaned)? {
            json::Read::Nodes(nodes, top) => Ok(finish(nodes, &top, PlanFormat::Json)),
            json::Read::Other(value) => from_json(value, PlanFormat::Json),
        }
    } else {
        from_json(text::to_json(&cleaned)?, PlanFormat::Text)
    }
}

/// Read JSON text into nodes ([`json`]), turning serde_json's errors into positioned, plain
/// messages.
fn parse_json_text(s: &str) -> Result<json::Read, ParseError> {
    // serde_json recurses per nesting level (a plan node is two: its object and its "Plans"
    // list). Its own limit (128) would refuse real plans 64 nodes deep, so the depth is bounded
    // here instead, at a level whose recursion fits the reader's stack (see `parse`; tested).
    // Bytes, not chars: the structural characters are ASCII, and no byte of a multi-byte UTF-8
    // character equals one of them.
    if nesting_exceeds(s.as_bytes(), MAX_DEPTH * 2 + 8) {
        return Err(ParseError::new(format!(
            "the plan is nested deeper than {MAX_DEPTH} levels; dbdeck does not read plans this deep"
        )));
    }
    let mut de = serde_json::Deserializer::from_str(s);
    de.disable_recursion_limit();
    let mut walk = json::Walk::default();
    let v = json::read(&mut de, &mut walk)
        .and_then(|v| de.end().map(|_| v))
        .map_err(|e| {
            if let Some(refused) = walk.refused.take() {
                return refused;
            }
            // A cut inside a string reads as a control character (the line break serde finds
            // there); at the input's last line it is the same mistake as an early end.
            let last_line = s.trim_end().lines().count();
            let cut = e.line() >= last_line && e.to_string().contains("control character");
            let what = match e.classify() {
                serde_json::error::Category::Eof => {
                    "the JSON ends early — was the plan cut off when it was copied?".to_string()
                }
                _ if cut => "the JSON ends early — was the plan cut off when it was copied?".to_string(),
                serde_json::error::Category::Syntax => {
                    format!("this is not valid JSON: {}", strip_position(&e.to_string()))
                }
                _ => format!("unexpected JSON: {}", strip_position(&e.to_string())),
            };
            ParseError {
                message: what,
                line: Some(e.line()),
                column: Some(e.column().max(1)),
            }
        })?;
    Ok(v)
}

/// Whether JSON text nests lists and objects more than `limit` deep (brackets inside strings do
/// not count). A byte that matters neither inside nor outside a string is skipped by a table
/// lookup: this runs over every byte of a pasted plan, megabytes of it mostly indentation.
fn nesting_exceeds(b: &[u8], limit: usize) -> bool {
    // 1: `"` and `\`, 2: opening, 3: closing.
    const CLASS: [u8; 256] = {
        let mut t = [0u8; 256];
        t[b'"' as usize] = 1;
        t[b'\\' as usize] = 1;
        t[b'[' as usize] = 2;
        t[b'{' as usize] = 2;
        t[b']' as usize] = 3;
        t[b'}' as usize] = 3;
        t
    };
    let (mut depth, mut i, n) = (0usize, 0usize, b.len());
    while i < n {
        match CLASS[b[i] as usize] {
            0 => {}
            2 => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            3 => depth = depth.saturating_sub(1),
            _ if b[i] == b'"' => {
                // To the string's closing quote, stepping over escapes.
                i += 1;
                loop {
                    // An unterminated string runs to the end: nothing after it nests.
                    let Some(k) = memchr::memchr2(b'"', b'\\', b.get(i..).unwrap_or_default()) else {
                        return false;
                    };
                    i += k;
                    if b[i] == b'"' {
                        break;
                    }
                    i += 2;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Remove what psql adds around a plan: the `QUERY PLAN` header, the dashed rule, the
/// `(N rows)` footer, the ` +` marks that wrap multi-line values, and `|` table borders.
/// JSON as EXPLAIN printed it, with none of those, is returned as it is (no copy).
pub fn strip_psql(input: &str) -> Cow<'_, str> {
    let mut lines = input.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    let last = input.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("");
    if (first.starts_with('[') || first.starts_with('{'))
        && !first.ends_with('+')
        && !(last.starts_with('(') && last.ends_with(')'))
    {
        return Cow::Borrowed(input);
    }
    Cow::Owned(strip_psql_lines(input))
}

fn strip_psql_lines(input: &str) -> String {
    // psql marks a value that continues on the next line with a '+' in the column's right
    // padding: " +" on most lines, a bare '+' on the longest. Strip it only when most lines
    // carry one, so a text plan whose expression ends in '+' is left alone.
    let lines: Vec<&str> = input.lines().collect();
    let plus = lines.iter().filter(|l| l.trim_end().ends_with('+')).count();
    let wrapped = plus >= 2 && plus * 2 >= lines.iter().filter(|l| !l.trim().is_empty()).count().saturating_sub(3);
    let mut out = String::with_capacity(input.len());
    for line in lines {
        let t = line.trim();
        if t == "QUERY PLAN" || (!t.is_empty() && t.chars().all(|c| c == '-' || c == '+')) {
            out.push('\n');
            continue;
        }
        if t.starts_with('(')
            && (t.ends_with(" rows)") || t.ends_with(" row)"))
            && t[1..].split(' ').next().is_some_and(|n| n.parse::<u64>().is_ok())
        {
            out.push('\n');
            continue;
        }
        let mut l = line.trim_end();
        if wrapped && let Some(s) = l.strip_suffix('+') {
            l = s.trim_end();
        }
        // psql's aligned output indents every line by one space; keep relative indentation.
        out.push_str(
            l.strip_prefix(' ')
                .filter(|_| wrapped || line.starts_with("  ") || line.starts_with(" ->"))
                .unwrap_or(l),
        );
        out.push('\n');
    }
    out
}

/// A number from JSON; PostgreSQL writes numbers as numbers, but pasted plans sometimes quote them.
pub(crate) fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Build a [`Plan`] from PostgreSQL's FORMAT JSON shape: `[{"Plan": {...}, "Planning Time": …}]`.
pub fn from_json(v: Value, format: PlanFormat) -> Result<Plan, ParseError> {
    let top = match v {
        Value::Array(a) => match a.into_iter().next() {
            Some(first) => first,
            None => return Err(ParseError::new("the JSON is an empty list; expected [{\"Plan\": …}]")),
        },
        Value::Object(mut o) if o.contains_key("QUERY PLAN") => {
            return from_json(o.remove("QUERY PLAN").unwrap_or(Value::Null), format);
        }
        v @ Value::Object(_) => v,
        _ => {
            return Err(ParseError::new(
                "expected EXPLAIN's JSON: a list holding an object with a \"Plan\" key",
            ));
        }
    };
    let Value::Object(mut top) = top else {
        return Err(ParseError::new(
            "expected an object with a \"Plan\" key inside the list",
        ));
    };
    let root = match top.remove("Plan") {
        Some(Value::Object(p)) => p,
        Some(_) => return Err(ParseError::new("\"Plan\" must be an object")),
        // A bare node ({"Node Type": …}) is accepted too.
        None if top.contains_key("Node Type") => std::mem::take(&mut top),
        None => {
            return Err(ParseError::new(
                "no \"Plan\" key: this JSON is not EXPLAIN output (run EXPLAIN (FORMAT JSON) …)",
            ));
        }
    };
    let mut nodes: Vec<Node> = Vec::new();
    // Iterative pre-order walk that takes the JSON apart as it goes: no clones, and no
    // recursive drop of a deep tree.
    let mut stack: Vec<(Map<String, Value>, Option<u32>, u32)> = vec![(root, None, 0)];
    while let Some((mut obj, parent, depth)) = stack.pop() {
        if depth as usize > MAX_DEPTH {
            return Err(ParseError::new(format!(
                "the plan is nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let id = nodes.len() as u32;
        let kids = obj.remove("Plans");
        let mut node = Node::blank(id, parent, depth);
        fill(&mut node, Fields::from(obj))?;
        if let Some(p) = parent {
            nodes[p as usize].children.push(id);
        }
        nodes.push(node);
        match kids {
            None => {}
            Some(Value::Array(children)) => {
                for c in children.into_iter().rev() {
                    let Value::Object(c) = c else {
                        return Err(ParseError::new(format!(
                            "node {id}: every entry of \"Plans\" must be an object"
                        )));
                    };
                    stack.push((c, Some(id), depth + 1));
                }
            }
            Some(_) => {
                return Err(ParseError::new(format!(
                    "node {id} ({}): \"Plans\" must be a list",
                    nodes[id as usize].node_type
                )));
            }
        }
    }
    Ok(finish(nodes, &top, format))
}

/// The plan from its nodes and the statement-wide keys EXPLAIN printed beside "Plan".
fn finish(nodes: Vec<Node>, top: &Map<String, Value>, format: PlanFormat) -> Plan {
    let num_at = |k: &str| num(top.get(k));
    let triggers = top
        .get("Triggers")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(Value::as_object)
                .map(|t| Trigger {
                    name: t
                        .get("Trigger Name")
                        .and_then(Value::as_str)
                        .unwrap_or("trigger")
                        .to_string(),
                    relation: t.get("Relation").and_then(Value::as_str).map(str::to_string),
                    constraint: t.get("Constraint Name").and_then(Value::as_str).map(str::to_string),
                    time_ms: num(t.get("Time")).unwrap_or(0.0),
                    calls: num(t.get("Calls")).unwrap_or(0.0),
                })
                .collect()
        })
        .unwrap_or_default();
    let jit = top.get("JIT").and_then(Value::as_object).map(|j| {
        let timing = j.get("Timing").and_then(Value::as_object);
        let t = |k: &str| {
            timing
                .and_then(|t| t.get(k))
                .and_then(|v| num(Some(v)).or_else(|| v.as_object().and_then(|o| num(o.get("Total")))))
                .unwrap_or(0.0)
        };
        let options = j
            .get("Options")
            .and_then(Value::as_object)
            .map(|o| o.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        Jit {
            functions: num(j.get("Functions")).unwrap_or(0.0),
            generation_ms: t("Generation"),
            inlining_ms: t("Inlining"),
            optimization_ms: t("Optimization"),
            emission_ms: t("Emission"),
            total_ms: t("Total"),
            options,
        }
    });
    let settings = top
        .get("Settings")
        .and_then(Value::as_object)
        .map(|s| {
            s.iter()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect()
        })
        .unwrap_or_default();
    let planning_buffers = top.get("Planning").and_then(Value::as_object).map(Buffers::from_fields);
    let analyzed = nodes.iter().any(|n| n.loops.is_some());
    let timed = nodes.iter().any(|n| n.actual_total_ms.is_some());
    let query = top.get("Query Text").and_then(Value::as_str).map(str::to_string);
    Plan {
        format,
        nodes,
        query,
        planning_ms: num_at("Planning Time"),
        execution_ms: num_at("Execution Time"),
        planning_buffers,
        triggers,
        jit,
        settings,
        analyzed,
        timed,
        findings: vec![],
        summary: Summary::default(),
    }
}

impl Node {
    /// A node with nothing read into it yet.
    fn blank(id: u32, parent: Option<u32>, depth: u32) -> Node {
        Node {
            id,
            parent,
            children: vec![],
            depth,
            node_type: String::new(),
            label: String::new(),
            relationship: None,
            subplan_name: None,
            relation: None,
            schema: None,
            alias: None,
            index_name: None,
            cte_name: None,
            parallel_aware: false,
            startup_cost: 0.0,
            total_cost: 0.0,
            plan_rows: 0.0,
            plan_width: 0.0,
            actual_startup_ms: None,
            actual_total_ms: None,
            actual_rows: None,
            loops: None,
            never_executed: false,
            workers_planned: None,
            workers_launched: None,
            rows_removed_by_filter: None,
            rows_removed_by_join_filter: None,
            rows_removed_by_index_recheck: None,
            heap_fetches: None,
            exact_heap_blocks: None,
            lossy_heap_blocks: None,
            buffers: Buffers::default(),
            io_read_ms: None,
            io_write_ms: None,
            fields: Fields::new(),
            inclusive_ms: None,
            exclusive_ms: None,
            exclusive_pct: None,
            exclusive_buffers: Buffers::default(),
            total_rows: None,
            estimate_ratio: None,
            misestimate: None,
            findings: vec![],
        }
    }
}

/// Fill a node in from what PostgreSQL printed for it: the typed fields in one pass (a `match`
/// per key rather than ~40 lookups; a 10,000-node plan has a quarter million keys).
fn fill(node: &mut Node, fields: Fields) -> Result<(), ParseError> {
    let id = node.id;
    let mut node_type = None;
    // PostgreSQL 16 renamed the I/O times; the old names win when both are there.
    let (mut shared_io_read, mut shared_io_write) = (None, None);
    for (k, v) in &fields {
        let text = || v.as_str().map(str::to_string);
        let n = || num(Some(v));
        let b = &mut node.buffers;
        match k {
            "Node Type" => node_type = v.as_str(),
            "Parent Relationship" => node.relationship = text(),
            "Subplan Name" => node.subplan_name = text(),
            "Relation Name" => node.relation = text(),
            "Schema" => node.schema = text(),
            "Alias" => node.alias = text(),
            "Index Name" => node.index_name = text(),
            "CTE Name" => node.cte_name = text(),
            "Parallel Aware" => node.parallel_aware = v.as_bool().unwrap_or(false),
            "Startup Cost" => node.startup_cost = n().unwrap_or(0.0),
            "Total Cost" => node.total_cost = n().unwrap_or(0.0),
            "Plan Rows" => node.plan_rows = n().unwrap_or(0.0),
            "Plan Width" => node.plan_width = n().unwrap_or(0.0),
            "Actual Startup Time" => node.actual_startup_ms = n(),
            "Actual Total Time" => node.actual_total_ms = n(),
            "Actual Rows" => node.actual_rows = n(),
            "Actual Loops" => node.loops = n(),
            "Workers Planned" => node.workers_planned = n(),
            "Workers Launched" => node.workers_launched = n(),
            "Rows Removed by Filter" => node.rows_removed_by_filter = n(),
            "Rows Removed by Join Filter" => node.rows_removed_by_join_filter = n(),
            "Rows Removed by Index Recheck" => node.rows_removed_by_index_recheck = n(),
            "Heap Fetches" => node.heap_fetches = n(),
            "Exact Heap Blocks" => node.exact_heap_blocks = n(),
            "Lossy Heap Blocks" => node.lossy_heap_blocks = n(),
            "Shared Hit Blocks" => b.shared_hit = n().unwrap_or(0.0),
            "Shared Read Blocks" => b.shared_read = n().unwrap_or(0.0),
            "Shared Dirtied Blocks" => b.shared_dirtied = n().unwrap_or(0.0),
            "Shared Written Blocks" => b.shared_written = n().unwrap_or(0.0),
            "Local Hit Blocks" => b.local_hit = n().unwrap_or(0.0),
            "Local Read Blocks" => b.local_read = n().unwrap_or(0.0),
            "Local Dirtied Blocks" => b.local_dirtied = n().unwrap_or(0.0),
            "Local Written Blocks" => b.local_written = n().unwrap_or(0.0),
            "Temp Read Blocks" => b.temp_read = n().unwrap_or(0.0),
            "Temp Written Blocks" => b.temp_written = n().unwrap_or(0.0),
            "I/O Read Time" => node.io_read_ms = n(),
            "I/O Write Time" => node.io_write_ms = n(),
            "Shared I/O Read Time" => shared_io_read = n(),
            "Shared I/O Write Time" => shared_io_write = n(),
            _ => {}
        }
    }
    let Some(node_type) = node_type else {
        return Err(ParseError::new(format!("node {id} has no \"Node Type\"")));
    };
    node.node_type = node_type.to_string();
    node.io_read_ms = node.io_read_ms.or(shared_io_read);
    node.io_write_ms = node.io_write_ms.or(shared_io_write);
    node.never_executed = node.loops == Some(0.0);
    node.fields = fields;
    node.label = label(node);
    Ok(())
}

/// How people name a node: the operation (with join type, strategy, direction) and its target.
fn label(n: &Node) -> String {
    let f = |k: &str| n.field_str(k);
    let mut op = match n.node_type.as_str() {
        "ModifyTable" => f("Operation").unwrap_or("Modify").to_string(),
        "Aggregate" => match f("Strategy") {
            Some("Hashed") => "HashAggregate".into(),
            Some("Sorted") => "GroupAggregate".into(),
            Some("Mixed") => "MixedAggregate".into(),
            _ => "Aggregate".into(),
        },
        "SetOp" => match f("Strategy") {
            Some("Hashed") => "HashSetOp".into(),
            _ => "SetOp".into(),
        },
        t => t.to_string(),
    };
    match f("Partial Mode") {
        Some("Partial") => op = format!("Partial {op}"),
        Some("Finalize") => op = format!("Finalize {op}"),
        _ => {}
    }
    if n.parallel_aware {
        op = format!("Parallel {op}");
    }
    if f("Scan Direction") == Some("Backward") {
        op = op.replacen("Scan", "Scan Backward", 1);
    }
    if let Some(j) = f("Join Type")
        && j != "Inner"
    {
        op = format!("{op} ({j})");
    }
    if let Some(i) = &n.index_name {
        op = if n.node_type == "Bitmap Index Scan" {
            format!("{op} on {i}")
        } else {
            format!("{op} using {i}")
        };
    }
    let target = n
        .relation
        .clone()
        .or_else(|| n.cte_name.clone())
        .or_else(|| f("Function Name").map(str::to_string));
    if let Some(t) = target {
        op = format!("{op} on {t}");
        if let Some(a) = &n.alias
            && a != &t
        {
            op = format!("{op} {a}");
        }
    }
    op
}

#[cfg(test)]
mod tests;
