//! Where the time went and what to do about it.
//!
//! PostgreSQL reports a node's time per loop and inclusive of its children; what a person needs
//! is wall time spent in the node itself. The rules, in the order [`analyse`] applies them:
//!
//! - inclusive = actual total time × loops, divided by the processes sharing the loops when the
//!   node runs inside a Gather (the leader and each launched worker each count one loop, and
//!   they run at the same time);
//! - exclusive = inclusive − the children's inclusive; a CTE's plan is not subtracted from the
//!   node that owns it (it runs when a CTE Scan reads it), it is subtracted from that CTE Scan;
//! - buffers are inclusive too and are split the same way.
//!
//! Findings are data (kind, severity, node, numbers in the text) so every door shows the same.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Buffers, Node, Plan, Summary};
use crate::cli_views::{bytes, duration_ms as fmt_ms};

fn fmt_kb(kb: f64) -> String {
    bytes((kb * 1024.0) as i64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    SlowNode,
    BadEstimate,
    SeqScanSelectiveFilter,
    NestedLoopLargeOuter,
    SortSpill,
    HashSpill,
    LossyBitmap,
    HeapFetches,
    MissingParallelism,
    WorkersNotLaunched,
    StaleStatistics,
    SlowTriggers,
    JitOverhead,
}

/// One thing worth a person's attention, with what it means and what to try.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// The node it is about; None for plan-wide findings (JIT, triggers).
    pub node: Option<u32>,
    /// A short headline: "Seq Scan on visits removes 99.9 % of the rows it reads".
    pub title: String,
    /// What is happening, in plain words, with the plan's own numbers.
    pub detail: String,
    /// What to try.
    pub fix: String,
}

/// Fill in the derived figures of every node, the findings and the summary.
pub fn analyse(plan: &mut Plan) {
    times(plan);
    estimates(plan);
    let mut findings = Vec::new();
    let ctx = Context::of(plan);
    for n in &plan.nodes {
        node_findings(plan, n, &ctx, &mut findings);
    }
    plan_findings(plan, &mut findings);
    // Worst first; within a severity, the plan's order.
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.node.cmp(&b.node)));
    for n in &mut plan.nodes {
        n.findings.clear();
    }
    for (i, f) in findings.iter().enumerate() {
        if let Some(id) = f.node {
            plan.nodes[id as usize].findings.push(i as u32);
        }
    }
    plan.findings = findings;
    plan.summary = summary(plan);
}

/// For a Gather or Gather Merge: the processes sharing its children's loops — the workers
/// launched, plus the leader unless it only gathers (Single Copy). None for other nodes.
fn gather_share(n: &Node) -> Option<f64> {
    if n.node_type != "Gather" && n.node_type != "Gather Merge" {
        return None;
    }
    let launched = n.workers_launched.unwrap_or(0.0);
    let single_copy = n.fields.get("Single Copy") == Some(&serde_json::Value::Bool(true));
    Some((launched + if single_copy { 0.0 } else { 1.0 }).max(1.0))
}

fn times(plan: &mut Plan) {
    let shares = Context::of(plan).share;
    for (n, share) in plan.nodes.iter_mut().zip(&shares) {
        let loops = n.loops.unwrap_or(1.0);
        n.inclusive_ms = n.actual_total_ms.map(|t| {
            if n.never_executed {
                0.0
            } else if *share > 1.0 && loops >= *share {
                t * loops / share
            } else {
                t * loops
            }
        });
        n.total_rows = n
            .actual_rows
            .map(|r| r * loops.max(if n.never_executed { 0.0 } else { 1.0 }));
    }
    // CTE plans by name, to charge their time to the CTE Scan that runs them.
    let cte_time = |plan: &Plan, name: &str| -> (Option<f64>, Buffers) {
        plan.nodes
            .iter()
            .find(|c| c.subplan_name.as_deref() == Some(&format!("CTE {name}")))
            .map(|c| (c.inclusive_ms, c.buffers.clone()))
            .unwrap_or((None, Buffers::default()))
    };
    let mut charged_ctes: std::collections::HashSet<String> = Default::default();
    let total = plan
        .execution_ms
        .or_else(|| plan.nodes.first().and_then(|n| n.inclusive_ms))
        .filter(|t| *t > 0.0);
    let mut exclusive: Vec<(Option<f64>, Buffers)> = Vec::with_capacity(plan.nodes.len());
    for n in &plan.nodes {
        let mut ms = n.inclusive_ms;
        let mut buf = n.buffers.clone();
        let mut child_buf = Buffers::default();
        for &c in &n.children {
            let c = &plan.nodes[c as usize];
            if c.subplan_name.as_deref().is_some_and(|s| s.starts_with("CTE ")) {
                continue;
            }
            if let (Some(m), Some(ci)) = (ms, c.inclusive_ms) {
                ms = Some(m - ci);
            }
            child_buf.add(&c.buffers);
        }
        if n.node_type == "CTE Scan"
            && let Some(name) = &n.cte_name
            && charged_ctes.insert(name.clone())
        {
            let (t, b) = cte_time(plan, name);
            if let (Some(m), Some(ci)) = (ms, t) {
                ms = Some(m - ci);
            }
            child_buf.add(&b);
        }
        buf = buf.minus(&child_buf);
        exclusive.push((ms.map(|m| m.max(0.0)), buf));
    }
    for (n, (ms, buf)) in plan.nodes.iter_mut().zip(exclusive) {
        n.exclusive_ms = ms;
        n.exclusive_pct = match (ms, total) {
            (Some(m), Some(t)) => Some((m / t * 100.0).min(100.0)),
            _ => None,
        };
        n.exclusive_buffers = buf;
    }
}

fn estimates(plan: &mut Plan) {
    for n in &mut plan.nodes {
        let Some(actual) = n.actual_rows else { continue };
        if n.never_executed {
            continue;
        }
        // Both per loop; a node that returns 0 rows against an estimate of 1 is not "infinitely"
        // wrong, so both sides are floored at 1.
        let ratio = actual.max(1.0) / n.plan_rows.max(1.0);
        n.estimate_ratio = Some(ratio);
        n.misestimate = Some(if ratio >= 1.0 { ratio } else { 1.0 / ratio });
    }
}

fn fmt_n(v: f64) -> String {
    let v = v.round() as i64;
    let s = v.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0 { format!("-{out}") } else { out }
}

/// A work_mem that would hold `kb`, rounded up to a power-of-two number of MB, with headroom.
fn suggest_work_mem(kb: f64) -> String {
    let mb = (kb * 1.5 / 1024.0).max(4.0);
    let p = (mb.log2().ceil() as u32).min(20);
    format!("{}MB", 1u64 << p)
}

/// Column names in a filter or condition: the identifiers compared to something.
pub fn filter_columns(expr: &str) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    let bytes: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut in_str = false;
    while i < bytes.len() {
        let c = bytes[i];
        if c == '\'' {
            in_str = !in_str;
            i += 1;
            continue;
        }
        if in_str || !(c.is_ascii_alphabetic() || c == '_' || c == '"') {
            i += 1;
            continue;
        }
        // An identifier, possibly qualified (a.b) — read it whole.
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], '_' | '.' | '"')) {
            i += 1;
        }
        let ident: String = bytes[start..i].iter().collect();
        // What follows: a comparison operator makes it a column; "(" makes it a function; "::" a cast target.
        let mut j = i;
        while j < bytes.len() && bytes[j] == ' ' {
            j += 1;
        }
        let next = bytes.get(j).copied();
        let prev_is_cast = start >= 2 && bytes[start - 1] == ':' && bytes[start - 2] == ':';
        let next2: String = bytes[j..(j + 2).min(bytes.len())].iter().collect();
        let is_cmp = matches!(next, Some('=' | '<' | '>' | '!' | '~'))
            || next2.eq_ignore_ascii_case("is")
            || next2.eq_ignore_ascii_case("in")
            || next2.eq_ignore_ascii_case("li")
            || next2.eq_ignore_ascii_case("be");
        let keyword = matches!(
            ident.to_ascii_lowercase().as_str(),
            "and" | "or" | "not" | "null" | "true" | "false" | "any" | "all" | "array" | "now" | "text" | "interval"
        );
        if next == Some('(') || prev_is_cast || keyword || ident.starts_with('$') {
            continue;
        }
        if is_cmp {
            // Qualified names (alias.column, schema.table.column): the column is the last part.
            let name = ident.rsplit('.').next().unwrap_or(&ident);
            let name = name.trim_matches('"').to_string();
            if !name.is_empty() && !name.chars().next().unwrap_or('0').is_ascii_digit() && !cols.contains(&name) {
                cols.push(name);
            }
        }
    }
    cols
}

/// Facts about each node's place in the tree, computed in one pass (parents come before
/// children in pre-order), so no check walks up the tree per node.
struct Context {
    timed_nodes: usize,
    /// Processes sharing the node's loops: from the nearest Gather above (see [`gather_share`]), else 1.
    share: Vec<f64>,
    /// A Limit above it: the node may have stopped early.
    under_limit: Vec<bool>,
}

impl Context {
    fn of(plan: &Plan) -> Context {
        let mut share = Vec::with_capacity(plan.nodes.len());
        let mut under_limit = Vec::with_capacity(plan.nodes.len());
        for n in &plan.nodes {
            match n.parent {
                None => {
                    share.push(1.0);
                    under_limit.push(false);
                }
                Some(p) => {
                    let p = p as usize;
                    let parent = &plan.nodes[p];
                    share.push(gather_share(parent).unwrap_or(share[p]));
                    under_limit.push(under_limit[p] || parent.node_type == "Limit");
                }
            }
        }
        Context {
            timed_nodes: plan.nodes.iter().filter(|x| x.exclusive_ms.is_some()).count(),
            share,
            under_limit,
        }
    }
}

fn node_findings(plan: &Plan, n: &Node, ctx: &Context, out: &mut Vec<Finding>) {
    let timed_nodes = ctx.timed_nodes;
    let id = Some(n.id);
    let loops = n.loops.unwrap_or(1.0);
    let mut push = |kind, severity, title: String, detail: String, fix: String| {
        out.push(Finding {
            kind,
            severity,
            node: id,
            title,
            detail,
            fix,
        })
    };

    // Slow node: a large share of the execution spent here (meaningless with one timed node,
    // as in SQLite plans timed as a whole).
    if let (Some(pct), Some(ms)) = (n.exclusive_pct, n.exclusive_ms)
        && pct > 10.0
        && timed_nodes > 1
    {
        let severity = if pct > 90.0 {
            Severity::Critical
        } else if pct > 40.0 {
            Severity::Warning
        } else {
            Severity::Info
        };
        push(
            FindingKind::SlowNode,
            severity,
            format!("{} takes {pct:.0} % of the time", n.label),
            format!(
                "{} of the execution is spent in this node itself (children excluded).",
                fmt_ms(ms)
            ),
            "Start here: the other findings on this node say why it is slow.".into(),
        );
    }

    // Bad estimate. Under a Limit a node stops early, so fewer rows than estimated is expected.
    let under_limit = ctx.under_limit[n.id as usize];
    if let (Some(m), Some(ratio), Some(rows)) = (n.misestimate, n.estimate_ratio, n.total_rows)
        && m > 10.0
        && !(ratio < 1.0 && under_limit)
        && (rows >= 100.0 || n.plan_rows * loops >= 100.0)
    {
        let severity = if m > 1000.0 {
            Severity::Critical
        } else if m > 100.0 {
            Severity::Warning
        } else {
            Severity::Info
        };
        let (dir, word) = if ratio > 1.0 {
            ("under", "more")
        } else {
            ("over", "fewer")
        };
        push(
            FindingKind::BadEstimate,
            severity,
            format!("Row estimate {dir} by {m:.0}× on {}", n.label),
            format!(
                "The planner expected {} rows per loop and got {} — {m:.0} times {word}. Plans built on wrong row counts pick the wrong join methods and memory sizes.",
                fmt_n(n.plan_rows),
                fmt_n(n.actual_rows.unwrap_or(0.0)),
            ),
            match n.qualified_relation() {
                Some(rel) => format!(
                    "Run ANALYZE {rel}; if the filter combines correlated columns, CREATE STATISTICS … (dependencies, ndistinct) ON those columns FROM {rel} and ANALYZE again; raise the column's statistics target for skewed data."
                ),
                None => "The estimate comes from the nodes below: fix the worst misestimate further down first (ANALYZE the tables they read).".into(),
            },
        );
        // Stale statistics: a plain scan of a table with no filter still gets the count wrong.
        if n.relation.is_some()
            && n.fields.get("Filter").is_none()
            && n.fields.get("Index Cond").is_none()
            && n.fields.get("Recheck Cond").is_none()
            && n.node_type.contains("Seq Scan")
        {
            push(
                FindingKind::StaleStatistics,
                Severity::Warning,
                format!("Statistics of {} look stale", n.relation.as_deref().unwrap_or("?")),
                format!(
                    "A whole-table scan with no filter returned {} rows against an estimate of {}: the table's row count in pg_class is out of date.",
                    fmt_n(n.actual_rows.unwrap_or(0.0)),
                    fmt_n(n.plan_rows)
                ),
                format!(
                    "ANALYZE {}; check that autovacuum keeps up (pg_stat_user_tables.last_autoanalyze).",
                    n.qualified_relation().unwrap_or_default()
                ),
            );
        }
    }

    // Sequential scan that throws away most of what it reads.
    if n.node_type == "Seq Scan"
        && let (Some(removed), Some(kept)) = (n.rows_removed_by_filter, n.actual_rows)
    {
        let removed = removed * loops.max(1.0);
        let kept = kept * loops.max(1.0);
        let read = removed + kept;
        let kept_share = if read > 0.0 { kept / read } else { 1.0 };
        if removed >= 10_000.0 && kept_share < 0.1 {
            let severity = if kept_share < 0.01 && read >= 1_000_000.0 {
                Severity::Critical
            } else {
                Severity::Warning
            };
            let rel = n.qualified_relation().unwrap_or_else(|| "the table".into());
            let cols = n.field_str("Filter").map(filter_columns).unwrap_or_default();
            push(
                FindingKind::SeqScanSelectiveFilter,
                severity,
                format!(
                    "{} reads {} rows to keep {:.2} %",
                    n.label,
                    fmt_n(read),
                    kept_share * 100.0
                ),
                format!(
                    "The scan reads every row of {rel} and the filter {} discards {} of them. An index on the filtered columns would read only the {} it keeps.",
                    n.field_str("Filter").unwrap_or("?"),
                    fmt_n(removed),
                    fmt_n(kept)
                ),
                if cols.is_empty() {
                    "Index the columns in the filter (dbdeck advise tests candidates with the planner).".into()
                } else {
                    format!(
                        "Try CREATE INDEX ON {rel} ({}); `dbdeck advise` checks it with the planner before you build it.",
                        cols.join(", ")
                    )
                },
            );
        }
    }

    // Nested loop over a large outer side: the inner side runs once per outer row.
    if n.node_type == "Nested Loop"
        && let Some(&outer) = n.children.first()
    {
        let o = &plan.nodes[outer as usize];
        let outer_rows = o.total_rows.unwrap_or(o.plan_rows);
        let inner = n.children.get(1).map(|&i| &plan.nodes[i as usize]);
        let inner_indexed =
            inner.is_some_and(|i| i.node_type.contains("Index") || i.node_type == "Memoize" || i.node_type == "Result");
        if outer_rows >= 10_000.0 {
            let severity = if inner_indexed {
                Severity::Info
            } else {
                Severity::Warning
            };
            push(
                FindingKind::NestedLoopLargeOuter,
                severity,
                format!("Nested Loop runs its inner side {} times", fmt_n(outer_rows)),
                format!(
                    "The outer side ({}) produced {} rows and the inner side ({}) ran once for each.{}",
                    o.label,
                    fmt_n(outer_rows),
                    inner.map_or("?", |i| i.label.as_str()),
                    if o.misestimate.is_some_and(|m| m > 10.0) {
                        format!(
                            " The planner expected only {} outer rows.",
                            fmt_n(o.plan_rows * o.loops.unwrap_or(1.0))
                        )
                    } else {
                        String::new()
                    }
                ),
                if inner_indexed {
                    "If the outer row count is a misestimate, fix the statistics; a hash join is usually cheaper at this size.".into()
                } else {
                    "Index the inner side's join column, or fix the outer estimate so the planner picks a hash join."
                        .into()
                },
            );
        }
    }

    // Sort spilled to disk.
    let space_type = n.field_str("Sort Space Type");
    let method = n.field_str("Sort Method").unwrap_or("");
    if space_type == Some("Disk") || method.starts_with("external") {
        let kb = n.field_num("Sort Space Used").unwrap_or(0.0);
        push(
            FindingKind::SortSpill,
            Severity::Warning,
            format!("Sort spills {} to disk", fmt_kb(kb)),
            format!(
                "The sort did not fit in work_mem{} and used an {method} on disk ({} temp blocks written).",
                plan.settings
                    .get("work_mem")
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default(),
                fmt_n(n.buffers.temp_written)
            ),
            format!(
                "Raise work_mem for this query (SET LOCAL work_mem = '{}'), or add an index that returns rows already in order.",
                suggest_work_mem(kb)
            ),
        );
    }
    // Hash or hash aggregate spilled into batches.
    let batches = n.field_num("Hash Batches").unwrap_or(1.0);
    let agg_batches = n.field_num("HashAgg Batches").unwrap_or(1.0);
    if batches > 1.0 || agg_batches > 1.0 || n.field_num("Disk Usage").unwrap_or(0.0) > 0.0 {
        let peak = n.field_num("Peak Memory Usage").unwrap_or(0.0);
        let orig = n.field_num("Original Hash Batches").unwrap_or(1.0);
        let b = batches.max(agg_batches);
        push(
            FindingKind::HashSpill,
            Severity::Warning,
            format!("{} spills to disk in {} batches", n.label, fmt_n(b)),
            format!(
                "The hash table did not fit in memory ({} used per batch{}), so the rows went to temp files in {} batches{}.",
                fmt_kb(peak),
                plan.settings
                    .get("work_mem")
                    .map(|w| format!(", work_mem {w}"))
                    .unwrap_or_default(),
                fmt_n(b),
                if orig < b {
                    format!(" (planned {}: more rows than estimated)", fmt_n(orig))
                } else {
                    String::new()
                }
            ),
            format!(
                "Raise work_mem for this query (SET LOCAL work_mem = '{}') or hash_mem_multiplier.",
                suggest_work_mem(peak * b)
            ),
        );
    }

    // Lossy bitmap heap scan.
    if let Some(lossy) = n.lossy_heap_blocks
        && lossy > 0.0
    {
        let exact = n.exact_heap_blocks.unwrap_or(0.0);
        push(
            FindingKind::LossyBitmap,
            Severity::Warning,
            format!(
                "Bitmap went lossy on {} of {} blocks",
                fmt_n(lossy),
                fmt_n(lossy + exact)
            ),
            format!(
                "The bitmap outgrew work_mem and kept only block numbers for {} blocks, so every row in them was rechecked{}.",
                fmt_n(lossy),
                n.rows_removed_by_index_recheck
                    .map(|r| format!(" ({} rows removed by the recheck)", fmt_n(r)))
                    .unwrap_or_default()
            ),
            "Raise work_mem for this query so the bitmap stays exact.".into(),
        );
    }

    // Index-only scan that visits the heap anyway.
    if n.node_type == "Index Only Scan"
        && let Some(fetches) = n.heap_fetches
    {
        let rows = n.total_rows.unwrap_or(0.0).max(1.0);
        let share = fetches / rows;
        if fetches >= 1000.0 && share > 0.1 {
            push(
                FindingKind::HeapFetches,
                if share > 0.5 { Severity::Warning } else { Severity::Info },
                format!("Index Only Scan fetched {} rows from the heap", fmt_n(fetches)),
                format!(
                    "{:.0} % of the rows needed a visit to the table because their pages are not marked all-visible, so the index-only scan is not index-only.",
                    share * 100.0
                ),
                format!(
                    "VACUUM {} to update the visibility map; tune autovacuum for it if it falls behind again.",
                    n.qualified_relation().unwrap_or_else(|| "the table".into())
                ),
            );
        }
    }

    // Workers planned but not launched.
    if let (Some(planned), Some(launched)) = (n.workers_planned, n.workers_launched)
        && launched < planned
    {
        push(
            FindingKind::WorkersNotLaunched,
            Severity::Warning,
            format!("{} launched {} of {} workers", n.label, fmt_n(launched), fmt_n(planned)),
            "The server had no free background workers when the query started, so it ran with less parallelism than planned.".into(),
            "Raise max_parallel_workers and max_worker_processes, or run fewer parallel queries at once.".into(),
        );
    }

    // A big serial scan where parallelism could help.
    if n.node_type == "Seq Scan" && !n.parallel_aware && ctx.share[n.id as usize] <= 1.0 {
        let read = n.total_rows.unwrap_or(n.plan_rows) + n.rows_removed_by_filter.unwrap_or(0.0) * loops;
        if read >= 1_000_000.0 && loops <= 1.0 {
            let disabled = plan
                .settings
                .get("max_parallel_workers_per_gather")
                .is_some_and(|v| v == "0");
            push(
                FindingKind::MissingParallelism,
                Severity::Info,
                format!("{} reads {} rows in one process", n.label, fmt_n(read)),
                if disabled {
                    "max_parallel_workers_per_gather = 0 in this session, so the scan could not be split across workers.".into()
                } else {
                    "The planner did not split this scan across parallel workers.".into()
                },
                "Allow parallelism (max_parallel_workers_per_gather ≥ 2); check parallel_setup_cost, and that the query has no parallel-unsafe functions.".into(),
            );
        }
    }
}

fn plan_findings(plan: &Plan, out: &mut Vec<Finding>) {
    let total = plan.execution_ms.unwrap_or(0.0);
    if let Some(j) = &plan.jit
        && total > 0.0
        && j.total_ms / total > 0.1
    {
        out.push(Finding {
            kind: FindingKind::JitOverhead,
            severity: if j.total_ms / total > 0.4 { Severity::Warning } else { Severity::Info },
            node: None,
            title: format!("JIT compilation takes {:.0} % of the time", j.total_ms / total * 100.0),
            detail: format!(
                "Compiling {} functions took {} of {} (inlining {}, optimisation {}).",
                fmt_n(j.functions),
                fmt_ms(j.total_ms),
                fmt_ms(total),
                fmt_ms(j.inlining_ms),
                fmt_ms(j.optimization_ms)
            ),
            fix: "For short queries JIT costs more than it saves: raise jit_above_cost (and jit_inline_above_cost, jit_optimize_above_cost), or SET jit = off for this workload.".into(),
        });
    }
    let trig: f64 = plan.triggers.iter().map(|t| t.time_ms).sum();
    if total > 0.0 && trig / total > 0.3 {
        let worst = plan.triggers.iter().max_by(|a, b| a.time_ms.total_cmp(&b.time_ms));
        out.push(Finding {
            kind: FindingKind::SlowTriggers,
            severity: Severity::Info,
            node: None,
            title: format!("Triggers take {:.0} % of the time", trig / total * 100.0),
            detail: format!(
                "{} triggers ran for {} in all{}.",
                plan.triggers.len(),
                fmt_ms(trig),
                worst
                    .map(|w| format!("; the slowest is {} ({}, {} calls)", w.name, fmt_ms(w.time_ms), fmt_n(w.calls)))
                    .unwrap_or_default()
            ),
            fix: "Foreign-key triggers need an index on the referencing columns of the other table; row triggers on bulk writes are often better as statement triggers.".into(),
        });
    }
}

fn summary(plan: &Plan) -> Summary {
    let mut hottest: Vec<&Node> = plan.nodes.iter().filter(|n| n.exclusive_ms.is_some()).collect();
    hottest.sort_by(|a, b| b.exclusive_ms.unwrap_or(0.0).total_cmp(&a.exclusive_ms.unwrap_or(0.0)));
    let root = plan.nodes.first();
    // Top-level buffers: the root's, plus InitPlans/CTEs are already inside it.
    Summary {
        node_count: plan.nodes.len() as u32,
        max_depth: plan.nodes.iter().map(|n| n.depth).max().unwrap_or(0),
        total_ms: plan.execution_ms.or_else(|| root.and_then(|n| n.inclusive_ms)),
        total_cost: root.map_or(0.0, |n| n.total_cost),
        buffers: root.map(|n| n.buffers.clone()).unwrap_or_default(),
        trigger_ms: plan.triggers.iter().fold(0.0, |a, t| a + t.time_ms),
        worst_misestimate: plan.nodes.iter().filter_map(|n| n.misestimate).reduce(f64::max),
        hottest: hottest.iter().take(10).map(|n| n.id).collect(),
    }
}
