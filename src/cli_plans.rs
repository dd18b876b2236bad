//! How the CLI prints plans, comparisons, index health and index advice.

use crate::cli::table;
use crate::cli_views::{bytes, duration_ms};
use crate::plan::indexes::{IndexAdvice, IndexReport, Validation};
use crate::plan::run::PlanReport;
use crate::plan::{Plan, Severity};

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "WARNING",
        Severity::Info => "info",
    }
}

/// The tree (one line per node), then the findings with their fixes.
pub fn print_plan_report(r: &PlanReport) {
    let p = &r.plan;
    let mut head = vec![r.method.clone()];
    if let Some(e) = &r.env {
        head.push(format!("on {e}"));
    }
    if let Some(t) = p.execution_ms {
        head.push(format!("execution {}", duration_ms(t)));
    }
    if let Some(t) = p.planning_ms {
        head.push(format!("planning {}", duration_ms(t)));
    }
    head.push(format!("cost {:.0}", p.summary.total_cost));
    head.push(format!("{} nodes", p.summary.node_count));
    println!("{}", head.join(" · "));
    for n in &r.notes {
        println!("note: {n}");
    }
    println!();
    print_tree(p);
    print_findings(p);
}

pub fn print_tree(p: &Plan) {
    for n in &p.nodes {
        let indent = "   ".repeat(n.depth as usize);
        let arrow = if n.parent.is_some() { "-> " } else { "" };
        let sub = n.subplan_name.as_ref().map(|s| format!("[{s}] ")).unwrap_or_default();
        let mut figs = vec![];
        if let (Some(ms), Some(pct)) = (n.exclusive_ms, n.exclusive_pct) {
            figs.push(format!("{} self, {pct:.0} %", duration_ms(ms)));
        }
        match n.total_rows {
            Some(rows) => {
                let mut s = format!(
                    "{rows:.0} rows, est {:.0}",
                    n.plan_rows * n.loops.unwrap_or(1.0).max(1.0)
                );
                if let Some(m) = n.misestimate
                    && m >= 10.0
                {
                    s.push_str(&format!(" ({m:.0}× off)"));
                }
                figs.push(s);
            }
            None => figs.push(format!("est {:.0} rows", n.plan_rows)),
        }
        if n.never_executed {
            figs.push("never executed".into());
        }
        if let Some(l) = n.loops
            && l > 1.0
        {
            figs.push(format!("{l:.0} loops"));
        }
        figs.push(format!("cost {:.0}", n.total_cost));
        let marks: String = n
            .findings
            .iter()
            .map(|&f| match p.findings[f as usize].severity {
                Severity::Critical => " !!",
                Severity::Warning => " !",
                Severity::Info => "",
            })
            .max()
            .unwrap_or("")
            .to_string();
        println!("{indent}{arrow}{sub}{}  ({}){marks}", n.label, figs.join(" · "));
    }
}

pub fn print_findings(p: &Plan) {
    if p.findings.is_empty() {
        println!("\nNo findings.");
        return;
    }
    println!("\nFindings ({}):", p.findings.len());
    for f in &p.findings {
        let node = f.node.map(|n| format!(" [node {n}]")).unwrap_or_default();
        println!("  {:<8} {}{node}", severity(f.severity), f.title);
        println!("           {}", f.detail);
        println!("           fix: {}", f.fix);
    }
    if !p.summary.hottest.is_empty() && p.timed {
        println!("\nHottest nodes:");
        for &id in p.summary.hottest.iter().take(5) {
            let n = &p.nodes[id as usize];
            println!(
                "  {:>5.1} %  {:>10}  [node {id}] {}",
                n.exclusive_pct.unwrap_or(0.0),
                duration_ms(n.exclusive_ms.unwrap_or(0.0)),
                n.label
            );
        }
    }
}

pub fn print_comparison(c: &crate::api::PlanComparison) {
    let cmp = &c.comparison;
    println!("{}", cmp.verdict);
    let ms = |v: Option<f64>| v.map_or("-".to_string(), duration_ms);
    table(
        &["", "A", "B"],
        vec![
            vec!["execution".into(), ms(cmp.a.total_ms), ms(cmp.b.total_ms)],
            vec!["planning".into(), ms(cmp.a.planning_ms), ms(cmp.b.planning_ms)],
            vec![
                "total cost".into(),
                format!("{:.0}", cmp.a.total_cost),
                format!("{:.0}", cmp.b.total_cost),
            ],
            vec![
                "nodes".into(),
                cmp.a.node_count.to_string(),
                cmp.b.node_count.to_string(),
            ],
            vec![
                "shared blocks".into(),
                format!("{:.0}", cmp.a.shared_blocks),
                format!("{:.0}", cmp.b.shared_blocks),
            ],
            vec![
                "temp blocks".into(),
                format!("{:.0}", cmp.a.temp_blocks),
                format!("{:.0}", cmp.b.temp_blocks),
            ],
            vec![
                "findings".into(),
                cmp.a.findings.to_string(),
                cmp.b.findings.to_string(),
            ],
        ],
    );
    println!();
    let rows = cmp
        .pairs
        .iter()
        .map(|p| {
            let label = format!(
                "{}{}{}",
                "  ".repeat(p.depth as usize),
                p.label,
                p.b_label.as_ref().map(|b| format!(" → {b}")).unwrap_or_default()
            );
            let side = match (p.a, p.b) {
                (Some(_), None) => "only A",
                (None, Some(_)) => "only B",
                _ => "",
            };
            vec![
                label,
                side.into(),
                ms(p.a_ms),
                ms(p.b_ms),
                p.delta_ms.map_or("-".into(), |d| {
                    format!("{}{}", if d >= 0.0 { "+" } else { "-" }, duration_ms(d.abs()))
                }),
                p.a_rows.map_or("-".into(), |r| format!("{r:.0}")),
                p.b_rows.map_or("-".into(), |r| format!("{r:.0}")),
            ]
        })
        .collect();
    table(&["NODE", "", "A SELF", "B SELF", "Δ", "A ROWS", "B ROWS"], rows);
}

pub fn print_indexes(r: &IndexReport) {
    println!(
        "{} indexes, {} in all{}",
        r.index_count,
        bytes(r.total_index_bytes),
        r.stats_since_ms
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| format!(" · usage counted since {}", t.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default()
    );
    if r.findings.is_empty() {
        println!("No unused, duplicate, overlapping, invalid or oversized indexes.");
    } else {
        let rows = r
            .findings
            .iter()
            .map(|f| {
                let issue: &str = f.issue.into();
                vec![
                    issue.to_string(),
                    format!("{}.{}", f.schema, f.index),
                    f.table.clone(),
                    bytes(f.size_bytes),
                    f.scans.to_string(),
                    f.fix.clone(),
                ]
            })
            .collect();
        table(
            &[
                "ISSUE",
                "INDEX",
                "TABLE",
                "SIZE",
                "SCANS",
                "FIX (review before running)",
            ],
            rows,
        );
    }
    if !r.seq_scan_tables.is_empty() {
        println!("\nTables read mostly by sequential scans:");
        let rows = r
            .seq_scan_tables
            .iter()
            .map(|t| {
                vec![
                    format!("{}.{}", t.schema, t.table),
                    t.seq_scans.to_string(),
                    format!("{:.0}", t.rows_per_scan),
                    t.index_scans.to_string(),
                    t.live_rows.to_string(),
                    bytes(t.size_bytes),
                ]
            })
            .collect();
        table(
            &["TABLE", "SEQ SCANS", "ROWS/SCAN", "INDEX SCANS", "LIVE ROWS", "SIZE"],
            rows,
        );
    }
}

pub fn print_advice(a: &IndexAdvice) {
    println!("Plan cost now: {:.0}", a.cost_before);
    for n in &a.notes {
        println!("note: {n}");
    }
    if a.candidates.is_empty() {
        return;
    }
    println!();
    for c in &a.candidates {
        let how = match c.validation {
            Validation::Hypopg => "checked with HypoPG",
            Validation::Transaction => "checked in a rolled-back transaction",
            Validation::NotValidated => "not checked",
        };
        println!("{}", c.ddl);
        println!("   why: {}", c.reason);
        match (c.cost_after, c.used) {
            (Some(after), Some(used)) => println!(
                "   {how}: cost {:.0} → {after:.0} ({:+.1} %), {}",
                c.cost_before,
                -c.improvement_pct.unwrap_or(0.0),
                if used {
                    "the planner uses it"
                } else {
                    "the planner does not use it"
                }
            ),
            _ => println!(
                "   {how}{}",
                c.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
            ),
        }
    }
}
