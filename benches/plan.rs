//! Parse + analyse a generated 10,000-node plan (goal ≤ 50 ms); compare and HTML export of it.
//!
//! `cargo bench --bench plan` — prints medians of 21 runs; the figures go to docs/BENCHMARKS.md.

use std::time::Instant;

use serde::Serialize;
use serde_json::{Value, json};

/// A deterministic plan of `n` nodes: joins over scans, with Append fan-outs for breadth and
/// chains for depth, every node carrying the fields ANALYZE + BUFFERS print.
fn generate(n: usize) -> Value {
    let mut made = 0usize;
    fn node(made: &mut usize, n: usize, depth: usize, seed: u64) -> Value {
        *made += 1;
        let id = *made as u64;
        let r = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let rows = 1 + (r >> 40) % 50_000;
        let time = ((r >> 20) % 10_000) as f64 / 100.0;
        let mut o = json!({
            "Startup Cost": 0.0, "Total Cost": (r % 100_000) as f64 / 10.0,
            "Plan Rows": rows, "Plan Width": 32,
            "Actual Startup Time": time / 10.0, "Actual Total Time": time,
            "Actual Rows": rows * (1 + (r >> 50) % 20), "Actual Loops": 1,
            "Shared Hit Blocks": r % 4000, "Shared Read Blocks": (r >> 8) % 400,
            "Temp Read Blocks": 0, "Temp Written Blocks": 0,
        });
        let remaining = n.saturating_sub(*made);
        let kind = if remaining == 0 || depth > 250 {
            0
        } else {
            (r >> 33) % 4
        };
        let m = o.as_object_mut().unwrap();
        match kind {
            0 => {
                m.insert("Node Type".into(), "Seq Scan".into());
                m.insert("Relation Name".into(), format!("t{}", id % 500).into());
                m.insert("Alias".into(), format!("t{}", id % 500).into());
                m.insert("Filter".into(), format!("(t{}.c{} = {})", id % 500, id % 7, id).into());
                m.insert("Rows Removed by Filter".into(), (r % 100_000).into());
            }
            1 => {
                m.insert("Node Type".into(), "Hash Join".into());
                m.insert("Join Type".into(), "Inner".into());
                m.insert("Hash Cond".into(), "(a.id = b.id)".into());
                let outer = node(made, n, depth + 1, r ^ 1);
                let inner = if *made < n {
                    let h = node(made, n, depth + 2, r ^ 2);
                    *made += 1;
                    json!({"Node Type": "Hash", "Plan Rows": rows, "Total Cost": 1.0, "Actual Total Time": time / 2.0,
                           "Actual Rows": rows, "Actual Loops": 1, "Hash Buckets": 1024, "Hash Batches": 1, "Plans": [h]})
                } else {
                    node(made, n, depth + 1, r ^ 3)
                };
                m.insert("Plans".into(), json!([outer, inner]));
            }
            2 => {
                m.insert("Node Type".into(), "Append".into());
                let k = 2 + (r % 30) as usize;
                let mut kids = Vec::with_capacity(k);
                for i in 0..k {
                    if *made >= n {
                        break;
                    }
                    kids.push(node(made, n, depth + 1, r ^ (i as u64 + 7)));
                }
                m.insert("Plans".into(), Value::Array(kids));
            }
            _ => {
                m.insert("Node Type".into(), "Sort".into());
                m.insert("Sort Key".into(), json!(["a.id"]));
                m.insert("Sort Method".into(), "quicksort".into());
                m.insert("Sort Space Used".into(), 25.into());
                m.insert("Sort Space Type".into(), "Memory".into());
                let kid = node(made, n, depth + 1, r ^ 5);
                m.insert("Plans".into(), json!([kid]));
            }
        }
        o
    }
    // Keep adding top-level Append members until n nodes exist.
    let mut members = vec![];
    let mut seed = 1u64;
    made += 1;
    while made < n {
        members.push(node(&mut made, n, 1, seed));
        seed += 1;
    }
    json!([{
        "Plan": {"Node Type": "Append", "Total Cost": 1e6, "Plan Rows": 1000, "Plan Width": 32,
                 "Actual Total Time": 5000.0, "Actual Rows": 1000, "Actual Loops": 1, "Plans": members},
        "Planning Time": 12.5, "Execution Time": 5001.0
    }])
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let plan = generate(10_000);
    // Compact JSON: pretty-printed, a plan 250 levels deep is mostly indentation.
    let json_text = serde_json::to_string(&plan).unwrap();
    let parsed = dbdeck::plan::parse(&json_text).unwrap();
    println!(
        "generated plan: {} nodes, depth {}, {:.1} MiB of JSON, {} findings",
        parsed.nodes.len(),
        parsed.summary.max_depth,
        json_text.len() as f64 / 1048576.0,
        parsed.findings.len()
    );
    let mut times = vec![];
    for _ in 0..21 {
        let t = Instant::now();
        let p = dbdeck::plan::parse(&json_text).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(p.nodes.len(), parsed.nodes.len());
    }
    println!(
        "parse + analyse, JSON: median {:.1} ms (min {:.1}, max {:.1})",
        median(times.clone()),
        times.iter().cloned().fold(f64::MAX, f64::min),
        times.iter().cloned().fold(0.0, f64::max)
    );

    // As EXPLAIN prints it (indented, a member per line), the way a plan is usually pasted;
    // and the whole of `plan_analyze` for the UI: read, analyse, the node table, its JSON.
    let pretty = {
        // One member per line, without the indentation that grows with depth (250 levels of it
        // would make 180 MiB): bench/plan-view/gen-plan.mjs's layout.
        let mut out = Vec::new();
        let f = serde_json::ser::PrettyFormatter::with_indent(b"");
        plan.serialize(&mut serde_json::Serializer::with_formatter(&mut out, f))
            .unwrap();
        String::from_utf8(out).unwrap()
    };
    let (mut t_read, mut t_answer) = (vec![], vec![]);
    for _ in 0..21 {
        let t = Instant::now();
        let p = dbdeck::plan::parse(&pretty).unwrap();
        t_read.push(t.elapsed().as_secs_f64() * 1000.0);
        let mut report = dbdeck::plan::run::PlanReport {
            env: None,
            sql: None,
            options: None,
            kind: None,
            rolled_back: false,
            method: String::new(),
            raw: String::new(),
            plan: p,
            notes: vec![],
            node_table: None,
        };
        report.compact();
        let mut body = Vec::with_capacity(pretty.len() * 3 / 4);
        serde_json::to_writer(&mut body, &report).unwrap();
        t_answer.push(t.elapsed().as_secs_f64() * 1000.0);
        // Freed off the clock, as the server does.
        std::thread::spawn(move || drop(report));
    }
    println!(
        "indented ({:.1} MiB): parse + analyse median {:.1} ms; with the UI's answer (table, JSON) {:.1} ms",
        pretty.len() as f64 / 1048576.0,
        median(t_read),
        median(t_answer)
    );

    // Where the time goes: reading the JSON into nodes, and the analysis; beside it, the general
    // reader (JSON text → serde_json::Value → nodes) that EXPLAIN run by dbdeck and text plans use.
    let (mut t_read, mut t_analyse, mut t_general) = (vec![], vec![], vec![]);
    for _ in 0..11 {
        let t = Instant::now();
        let mut p = dbdeck::plan::read(&json_text).unwrap();
        t_read.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        dbdeck::plan::analyze::analyse(&mut p);
        t_analyse.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let mut de = serde_json::Deserializer::from_str(&json_text);
        de.disable_recursion_limit();
        let v = <Value as serde::Deserialize>::deserialize(&mut de).unwrap();
        let g = dbdeck::plan::from_json(v, dbdeck::plan::PlanFormat::Json).unwrap();
        t_general.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(g.nodes.len(), p.nodes.len());
    }
    println!(
        "  of which: reading the JSON into nodes {:.1} ms, analysis {:.1} ms (medians); the general reader (via serde_json::Value) {:.1} ms",
        median(t_read),
        median(t_analyse),
        median(t_general)
    );
    let html = dbdeck::plan::html::render(&parsed, "bench");
    let t = Instant::now();
    let _ = dbdeck::plan::compare::compare(&parsed, &parsed);
    let compare_ms = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "compare with itself: {compare_ms:.1} ms; HTML export: {:.1} MiB",
        html.len() as f64 / 1048576.0
    );
    let mut times = vec![];
    for _ in 0..21 {
        let t = Instant::now();
        let _ = dbdeck::plan::html::render(&parsed, "bench");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("HTML export render: median {:.1} ms", median(times));
}
