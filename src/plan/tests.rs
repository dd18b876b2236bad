//! Plans captured from a real PostgreSQL 15 by `scripts/capture-plans`, in both formats.
//!
//! Snapshot tests: each plan's analysis is rendered as text and compared with
//! `tests/plans/NAME.analysis`. After an intended change, regenerate them with
//! `DBDECK_UPDATE_SNAPSHOTS=1 cargo test -p dbdeck --lib plan` and read the diff.

use super::*;

const PLANS: &[&str] = &[
    "join_group",
    "parallel_agg",
    "cte_subplan",
    "initplan",
    "sort_spill",
    "hash_spill",
    "misestimate",
    "seqscan_filter",
    "nested_loop",
    "lossy_bitmap",
    "heap_fetches",
    "dml_trigger",
    "jit",
    "no_analyze",
];

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/plans/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn render(p: &Plan) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let r1 = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    writeln!(
        s,
        "nodes {} depth {} analyzed {} timed {} total_ms {} triggers {} jit {}",
        p.summary.node_count,
        p.summary.max_depth,
        p.analyzed,
        p.timed,
        r1(p.summary.total_ms),
        p.triggers.len(),
        p.jit.is_some()
    )
    .unwrap();
    for n in &p.nodes {
        writeln!(
            s,
            "{}{}{} | rows {} est {:.0} | excl {} ms {}% | {}",
            "  ".repeat(n.depth as usize),
            n.subplan_name.as_ref().map(|x| format!("[{x}] ")).unwrap_or_default(),
            n.label,
            n.total_rows.map_or("-".into(), |v| format!("{v:.0}")),
            n.plan_rows,
            r1(n.exclusive_ms),
            n.exclusive_pct.map_or("-".into(), |v| format!("{v:.0}")),
            n.findings
                .iter()
                .map(|&f| format!("{:?}", p.findings[f as usize].kind))
                .collect::<Vec<_>>()
                .join(",")
        )
        .unwrap();
    }
    for f in &p.findings {
        writeln!(s, "- {:?} {:?}: {}", f.severity, f.kind, f.title).unwrap();
    }
    s
}

#[test]
fn every_captured_plan_reads_the_same_in_json_and_text() {
    for name in PLANS {
        let j = parse(&fixture(&format!("{name}.json"))).unwrap_or_else(|e| panic!("{name}.json: {e}"));
        let t = parse(&fixture(&format!("{name}.txt"))).unwrap_or_else(|e| panic!("{name}.txt: {e}"));
        assert_eq!(j.format, PlanFormat::Json);
        assert_eq!(t.format, PlanFormat::Text);
        let shape = |p: &Plan| {
            p.nodes
                .iter()
                .map(|n| {
                    format!(
                        "{}:{}:{}:{:?}:{:?}:{:?}:{:?}",
                        n.depth, n.label, n.node_type, n.parent, n.relationship, n.subplan_name, n.index_name
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(shape(&j), shape(&t), "{name}: the two formats give different trees");
        assert_eq!(j.analyzed, t.analyzed, "{name}");
        assert_eq!(j.triggers.len(), t.triggers.len(), "{name}");
        assert_eq!(j.jit.is_some(), t.jit.is_some(), "{name}");
        assert_eq!(j.settings, t.settings, "{name}");
        // Text omits an all-zero "Planning:" block; JSON always has it.
        assert!(t.planning_buffers.is_none() || j.planning_buffers.is_some(), "{name}");
        // The same kinds of finding from both (timings differ between the two captures, so
        // only the kinds that do not depend on timing are compared).
        let kinds = |p: &Plan| {
            let mut k: Vec<String> = p
                .findings
                .iter()
                .filter(|f| {
                    f.kind != FindingKind::SlowNode
                        && f.kind != FindingKind::JitOverhead
                        && f.kind != FindingKind::SlowTriggers
                })
                .map(|f| format!("{:?}@{:?}", f.kind, f.node))
                .collect();
            k.sort();
            k
        };
        assert_eq!(kinds(&j), kinds(&t), "{name}: findings differ between formats");
        // Details that only the text parser has to work for.
        for (a, b) in j.nodes.iter().zip(&t.nodes) {
            // Separate runs: hint bits and caching change the counts, not whether there are any.
            assert_eq!(
                a.buffers.total() > 0.0,
                b.buffers.total() > 0.0,
                "{name}: buffers of {}",
                a.label
            );
            assert_eq!(
                a.rows_removed_by_filter.unwrap_or(0.0) > 0.0,
                b.rows_removed_by_filter.unwrap_or(0.0) > 0.0,
                "{name}: {}",
                a.label
            );
            assert_eq!(a.field_str("Filter"), b.field_str("Filter"), "{name}: {}", a.label);
            assert_eq!(a.field_str("Sort Space Type"), b.field_str("Sort Space Type"), "{name}");
            assert_eq!(a.field_num("Hash Batches"), b.field_num("Hash Batches"), "{name}");
            assert_eq!(
                a.lossy_heap_blocks.unwrap_or(0.0) > 0.0,
                b.lossy_heap_blocks.unwrap_or(0.0) > 0.0,
                "{name}"
            );
            assert_eq!(
                a.fields.get("Workers").map(|w| w.as_array().map(Vec::len)),
                b.fields.get("Workers").map(|w| w.as_array().map(Vec::len)),
                "{name}: workers of {}",
                a.label
            );
        }
    }
}

#[test]
fn analysis_snapshots() {
    let update = std::env::var_os("DBDECK_UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for name in PLANS {
        let p = parse(&fixture(&format!("{name}.json"))).unwrap();
        let got = render(&p);
        let path = format!("{}/tests/plans/{name}.analysis", env!("CARGO_MANIFEST_DIR"));
        if update {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != got {
            stale.push(format!("--- {name}.analysis (want)\n{want}+++ (got)\n{got}"));
        }
    }
    assert!(
        stale.is_empty(),
        "analysis changed; if intended, rerun with DBDECK_UPDATE_SNAPSHOTS=1\n{}",
        stale.join("\n")
    );
}

#[test]
fn findings_name_what_the_captured_plans_show() {
    let kinds = |name: &str| -> Vec<FindingKind> {
        parse(&fixture(&format!("{name}.json")))
            .unwrap()
            .findings
            .iter()
            .map(|f| f.kind)
            .collect()
    };
    assert!(kinds("sort_spill").contains(&FindingKind::SortSpill));
    assert!(kinds("hash_spill").contains(&FindingKind::HashSpill));
    assert!(kinds("lossy_bitmap").contains(&FindingKind::LossyBitmap));
    assert!(kinds("seqscan_filter").contains(&FindingKind::SeqScanSelectiveFilter));
    assert!(kinds("misestimate").contains(&FindingKind::BadEstimate));
    assert!(kinds("nested_loop").contains(&FindingKind::NestedLoopLargeOuter));
    assert!(kinds("heap_fetches").contains(&FindingKind::HeapFetches));
    assert!(kinds("jit").contains(&FindingKind::JitOverhead));

    // The fix names the columns of the filter.
    let p = parse(&fixture("seqscan_filter.json")).unwrap();
    let f = p
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::SeqScanSelectiveFilter)
        .unwrap();
    assert!(f.fix.contains("CREATE INDEX ON public.visits (page, at)"), "{}", f.fix);
    // A spill's fix proposes a work_mem that holds it.
    let p = parse(&fixture("sort_spill.json")).unwrap();
    let f = p.findings.iter().find(|f| f.kind == FindingKind::SortSpill).unwrap();
    assert!(f.fix.contains("SET LOCAL work_mem = '"), "{}", f.fix);
}

#[test]
fn parallel_and_cte_times_add_up() {
    // Exclusive times never go negative and sum to about the root's inclusive time.
    for name in PLANS {
        let p = parse(&fixture(&format!("{name}.json"))).unwrap();
        if !p.timed {
            continue;
        }
        let root = p.nodes[0].inclusive_ms.unwrap();
        let sum: f64 = p.nodes.iter().filter_map(|n| n.exclusive_ms).sum();
        assert!(p.nodes.iter().all(|n| n.exclusive_ms.unwrap_or(0.0) >= 0.0), "{name}");
        assert!(
            sum <= root * 1.05 + 0.05,
            "{name}: exclusive times sum to {sum} > root {root}"
        );
    }
    // The parallel seq scan's loops (3: leader + 2 workers) run at once: its inclusive time is
    // about its per-loop time, not three times it.
    let p = parse(&fixture("parallel_agg.json")).unwrap();
    let scan = p.nodes.iter().find(|n| n.node_type == "Seq Scan").unwrap();
    assert_eq!(scan.loops, Some(3.0));
    let per_loop = scan.actual_total_ms.unwrap();
    assert!((scan.inclusive_ms.unwrap() - per_loop).abs() < 1e-6);
    assert_eq!(scan.total_rows, Some(scan.actual_rows.unwrap() * 3.0));
}

#[test]
fn psql_decoration_and_pasted_variants_are_accepted() {
    let text = fixture("misestimate.txt");
    let decorated = format!(
        "{:>40}\n{}\n{}\n({} rows)\n",
        "QUERY PLAN",
        "-".repeat(80),
        text.lines().map(|l| format!(" {l}")).collect::<Vec<_>>().join("\n"),
        text.lines().count()
    );
    let a = parse(&text).unwrap();
    let b = parse(&decorated).unwrap();
    assert_eq!(a.nodes.len(), b.nodes.len());
    assert_eq!(a.execution_ms, b.execution_ms);

    // JSON as psql prints it in aligned mode: a header and " +" at each line's end.
    let json = fixture("initplan.json");
    let wrapped = format!(
        "QUERY PLAN\n---\n{}\n(1 row)\n",
        json.lines()
            .map(|l| format!(" {l:<60}+"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(parse(&wrapped).unwrap().nodes.len(), parse(&json).unwrap().nodes.len());
    // Copied from the plan's first line on (the marks and the footer, no header), or plain
    // JSON with psql's footer under it.
    let from_first = wrapped.lines().skip(2).collect::<Vec<_>>().join("\n");
    assert_eq!(
        parse(&from_first).unwrap().nodes.len(),
        parse(&json).unwrap().nodes.len()
    );
    let footer = format!("{json}\n(1 row)\n");
    assert_eq!(parse(&footer).unwrap().nodes.len(), parse(&json).unwrap().nodes.len());

    // A single object, or a bare node, instead of the list.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let obj = serde_json::to_string(&v[0]).unwrap();
    assert!(parse(&obj).is_ok());
    let node = serde_json::to_string(&v[0]["Plan"]).unwrap();
    assert!(parse(&node).is_ok());
}

/// With no triggers the trigger time is 0, not the -0 an empty float sum gives.
#[test]
fn no_triggers_is_zero_trigger_time() {
    let p = parse(&fixture("initplan.json")).unwrap();
    assert!(p.triggers.is_empty());
    assert_eq!(
        serde_json::to_value(&p.summary).unwrap()["trigger_ms"],
        serde_json::json!(0.0)
    );
    assert!(p.summary.trigger_ms.is_sign_positive());
}

#[test]
fn bad_input_is_named_with_its_position() {
    let json = fixture("join_group.json");
    let cut = &json[..json.len() / 2];
    let e = parse(cut).unwrap_err();
    assert!(e.message.contains("ends early"), "{e}");
    assert!(e.line.is_some() && e.column.is_some());

    let e = parse("[{\"Plan\": {\"Node Type\": \"Seq Scan\",, }}]").unwrap_err();
    assert!(e.message.contains("not valid JSON"), "{e}");
    assert_eq!((e.line, e.column), (Some(1), Some(36)));

    let e = parse("{\"rows\": 3}").unwrap_err();
    assert!(e.message.contains("no \"Plan\" key"), "{e}");
    let e = parse("[]").unwrap_err();
    assert!(e.message.contains("empty list"), "{e}");
    let e = parse("[{\"Plan\": {\"Plans\": []}}]").unwrap_err();
    assert!(e.message.contains("no \"Node Type\""), "{e}");
    let e = parse("").unwrap_err();
    assert!(e.message.contains("empty"), "{e}");

    let e = parse("Seq Scan on t  (cost=0.00..abc rows=1 width=4)").unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e.message.contains("\"abc\" is not a number"), "{e}");
    let e =
        parse("Limit  (cost=0.00..1.00 rows=1 width=4)\nSeq Scan on t  (cost=0.00..1.00 rows=1 width=4)").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    let e = parse("Limit  (cost=0.00..1.00 rows=1 width=4)\n  SubPlan 1\n").unwrap_err();
    assert!(e.message.contains("cut off"), "{e}");
    let e = parse("hello world: this is not a plan").unwrap_err();
    assert!(
        e.message.contains("expected a plan node") || e.message.contains("cannot read"),
        "{e}"
    );
    // Found by fuzzing: a "Workers:" detail line, then per-worker lines, once panicked.
    let p = parse(
        "Gather  (cost=1.00..2.00 rows=1 width=4)\n  Workers: shared hit=1\n  Worker 0:  actual time=1.0..2.0 rows=1 loops=1\n    Buffers: shared hit=1\n",
    )
    .unwrap();
    assert_eq!(p.nodes[0].fields["Workers"].as_array().map(Vec::len), Some(1));
    // Text mode: junk after the plan is named with its line.
    let e = parse("Result  (cost=0.00..0.01 rows=1 width=4)\nwhat is this").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
}

/// A deep plan (a chain of nodes) in both formats, called from a thread with a 2 MiB stack like
/// tokio's workers: no stack overflow up to MAX_DEPTH, and a clear refusal beyond it.
#[test]
fn deep_plans_parse_within_a_small_stack() {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let chain = |depth: usize| {
                let mut s = String::new();
                for _ in 0..depth {
                    s.push_str("{\"Node Type\": \"Limit\", \"Plans\": [");
                }
                s.push_str("{\"Node Type\": \"Result\"}");
                for _ in 0..depth {
                    s.push_str("]}");
                }
                format!("[{{\"Plan\": {s}}}]")
            };
            let p = parse(&chain(MAX_DEPTH - 1)).unwrap();
            assert_eq!(p.nodes.len(), MAX_DEPTH);
            assert!(
                parse(&chain(MAX_DEPTH + 10))
                    .unwrap_err()
                    .message
                    .contains("deeper than")
            );
            let mut text = String::from("Limit  (cost=0.00..1.00 rows=1 width=4)\n");
            for d in 1..MAX_DEPTH {
                text.push_str(&format!(
                    "{}->  Limit  (cost=0.00..1.00 rows=1 width=4)\n",
                    " ".repeat(d * 2)
                ));
            }
            assert_eq!(parse(&text).unwrap().nodes.len(), MAX_DEPTH);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn comparison_matches_nodes_and_names_the_change() {
    let a = parse(&fixture("seqscan_filter.json")).unwrap();
    // The same query after an index: hand-written from a real run's shape.
    let b = parse(
        "Index Scan using visits_page_at on public.visits  (cost=0.42..60.1 rows=20 width=26) (actual time=0.020..0.050 rows=14 loops=1)\n  Index Cond: ((visits.page = '/p/17'::text) AND (visits.at > (now() - '01:00:00'::interval)))\n  Buffers: shared hit=18\nPlanning Time: 0.1 ms\nExecution Time: 0.08 ms\n",
    )
    .unwrap();
    let c = compare::compare(&a, &b);
    assert!(c.speedup.unwrap() > 10.0, "{}", c.verdict);
    assert!(c.verdict.starts_with("B is "), "{}", c.verdict);
    assert!(
        c.verdict.contains("became Index Scan using visits_page_at on visits"),
        "{}",
        c.verdict
    );
    let pair = &c.pairs[0];
    assert_eq!((pair.a, pair.b), (Some(0), Some(0)));
    // Identical plans match node for node.
    let c = compare::compare(&a, &a);
    assert!(c.pairs.iter().all(|p| p.a == p.b));
}

#[test]
fn filter_columns_are_read_from_conditions() {
    use super::analyze::filter_columns;
    assert_eq!(
        filter_columns("((visits.page = '/p/17'::text) AND (visits.at > (now() - '01:00:00'::interval)))"),
        vec!["page", "at"]
    );
    assert_eq!(
        filter_columns("(p.city = 'a = b' AND p.country IS NOT NULL)"),
        vec!["city", "country"]
    );
    assert_eq!(filter_columns("(lower(email) = 'x'::text)"), Vec::<String>::new());
    assert_eq!(filter_columns("(id = ANY ('{1,2}'::integer[]))"), vec!["id"]);
}

/// The JSON reader that builds nodes as it reads (`json.rs`) and the general one that takes a
/// parsed `Value` apart (`from_json`, used for EXPLAIN run here and for text plans) give the
/// same plan, fields in EXPLAIN's order aside.
#[test]
fn both_json_readers_give_the_same_plan() {
    for name in PLANS {
        let text = fixture(&format!("{name}.json"));
        let direct = parse(&text).unwrap();
        let mut general = from_json(serde_json::from_str(&text).unwrap(), PlanFormat::Json).unwrap();
        analyze::analyse(&mut general);
        assert_eq!(
            serde_json::to_value(&direct).unwrap(),
            serde_json::to_value(&general).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn fields_keep_explains_order() {
    let p = parse(&fixture("join_group.json")).unwrap();
    let keys: Vec<&str> = p.nodes[0].fields.iter().map(|(k, _)| k).take(3).collect();
    // Not alphabetical ("Actual Loops" would lead): as EXPLAIN printed them.
    assert_eq!(keys, ["Node Type", "Parallel Aware", "Async Capable"]);
}

#[test]
fn shapes_the_reader_refuses_are_named() {
    let refused = |s: &str| parse(s).unwrap_err().message;
    let e = refused(r#"[{"Plan": {"Node Type": "Sort", "Plans": {"Node Type": "Seq Scan"}}}]"#);
    assert_eq!(e, "node 0 (Sort): \"Plans\" must be a list");
    let e = refused(r#"[{"Plan": {"Node Type": "Sort", "Plans": [{"Node Type": "Limit", "Plans": [3]}]}}]"#);
    assert_eq!(e, "node 1: every entry of \"Plans\" must be an object");
    assert_eq!(refused(r#"[{"Plan": [1]}]"#), "\"Plan\" must be an object");
    assert_eq!(refused(r#"[{"Plan": "Seq Scan"}]"#), "\"Plan\" must be an object");
    assert!(refused("[3]").contains("inside the list"));
    assert!(refused(r#"{"rows": [1, 2]}"#).contains("no \"Plan\" key"));
    assert!(
        refused(r#"[{"Plan": {"Node Type": "Sort", "Plans": [{"Alias": "x"}]}}]"#)
            .contains("node 1 has no \"Node Type\"")
    );
    // A node with thousands of fields is refused rather than read in quadratic time.
    let many: String = (0..2_000).map(|i| format!(",\"k{i}\": 1")).collect();
    let e = refused(&format!(r#"[{{"Plan": {{"Node Type": "Result"{many}}}}}]"#));
    assert_eq!(e, "node 0 has more than 1000 fields: this is not EXPLAIN output");
    // What follows the plan is still checked as JSON.
    assert!(refused(r#"[{"Plan": {"Node Type": "Result"}}, {"oops"}]"#).contains("not valid JSON"));
}

#[test]
fn other_json_shapes_are_read() {
    // psql's \gx / --json output wraps the plan in "QUERY PLAN"; a bare node has no wrapper.
    let wrapped =
        parse(r#"{"QUERY PLAN": [{"Plan": {"Node Type": "Result", "Plans": []}, "Planning Time": 0.5}]}"#).unwrap();
    assert_eq!((wrapped.nodes.len(), wrapped.planning_ms), (1, Some(0.5)));
    let bare = parse(r#"{"Node Type": "Limit", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "t"}]}"#).unwrap();
    assert_eq!(bare.nodes.len(), 2);
    assert_eq!(bare.nodes[1].label, "Seq Scan on t");
    // A key printed twice keeps its last value, as a map would.
    let twice = parse(r#"[{"Plan": {"Node Type": "Result", "Plan Rows": 1, "Plan Rows": 7}}]"#).unwrap();
    assert_eq!(twice.nodes[0].plan_rows, 7.0);
    assert_eq!(twice.nodes[0].fields.len(), 2);
}

#[test]
fn nesting_is_counted_outside_strings_only() {
    assert!(!nesting_exceeds(br#"[[["a"]]]"#, 3));
    assert!(nesting_exceeds(br#"[[[["a"]]]]"#, 3));
    // Brackets in strings, escaped quotes and backslashes do not count or confuse it.
    assert!(!nesting_exceeds(br#"[{"k": "[[[[{{{{", "e": "\"[[[[", "b": "\\"}]"#, 2));
    assert!(nesting_exceeds(br#"[{"b": "\\", "x": [[[1]]]}]"#, 4));
    // An unterminated string (or escape) at the end is not a crash.
    assert!(!nesting_exceeds(br#"[["abc"#, 3));
    assert!(!nesting_exceeds(br#"[["abc\"#, 3));
}
