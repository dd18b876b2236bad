//! Query plans against a real PostgreSQL cluster the tests start (pg_stat_statements loaded,
//! HypoPG from Debian's postgresql-15-hypopg): EXPLAIN run safely, errors a person can act on,
//! index health and index advice that changes nothing; plus SQLite's EXPLAIN QUERY PLAN and
//! reading plan files.

mod common;
use common::*;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

const SCHEMA: &str = "
CREATE TABLE customers (id int PRIMARY KEY, region text, tier int);
INSERT INTO customers SELECT i, 'r' || (i % 50), i % 3 FROM generate_series(1, 20000) i;
CREATE TABLE orders (id bigserial PRIMARY KEY, customer int REFERENCES customers, status text, total numeric);
INSERT INTO orders (customer, status, total)
  SELECT 1 + (i * 7) % 20000, CASE WHEN i % 100 = 0 THEN 'refund' ELSE 'paid' END, i % 500
  FROM generate_series(1, 100000) i;
CREATE SEQUENCE tickets;
ANALYZE;
";

fn cluster() -> PgCluster {
    let pg = PgCluster::trust(&["shared_preload_libraries=pg_stat_statements"]);
    pg.psql(SCHEMA);
    pg
}

/// A data directory with the cluster registered twice: `shop` (dev) and `live` (prod).
fn shop_and_live(pg: &PgCluster) -> DataDir {
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "shop", "--url", &pg.url()]).status.success());
    assert!(
        d.run(&["env", "add", "live", "--kind", "prod", "--url", &pg.url()])
            .status
            .success()
    );
    d
}

fn hypopg_available() -> bool {
    std::path::Path::new("/usr/share/postgresql/15/extension/hypopg.control").exists()
}

#[test]
fn explain_analyze_of_a_write_changes_nothing_and_is_audited() {
    let pg = cluster();
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "shop", "--url", &pg.url()]).status.success());

    let (code, v) = d.json(&[
        "explain",
        "--env",
        "shop",
        "--analyze",
        "--buffers",
        "--wal",
        "DELETE FROM orders WHERE status = 'refund'",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["kind"], "plan");
    let r = &v["data"];
    assert_eq!(r["rolled_back"], true);
    assert_eq!(r["kind"], "write");
    assert!(r["method"].as_str().unwrap().contains("ANALYZE, BUFFERS, WAL"));
    let root = &r["plan"]["nodes"][0];
    assert_eq!(root["node_type"], "ModifyTable");
    assert_eq!(root["label"].as_str().unwrap(), "Delete on orders");
    // The delete really ran (it touched 1,000 rows)…
    let scan = &r["plan"]["nodes"][1];
    assert_eq!(scan["total_rows"], 1000.0);
    // …and was rolled back.
    assert_eq!(pg.psql("SELECT count(*) FROM orders WHERE status = 'refund'"), "1000\n");
    // The raw plan is PostgreSQL's own text, in its order ("Startup Cost" before "Plan Rows";
    // sorted keys would put them the other way round).
    let raw = r["raw"].as_str().unwrap();
    assert!(raw.trim_start().starts_with('['), "{raw}");
    assert!(
        raw.find("\"Startup Cost\"").unwrap() < raw.find("\"Plan Rows\"").unwrap(),
        "{raw}"
    );

    // Both records of the run are in the audit log.
    let (_, audit) = d.json(&["audit", "list", "--env", "shop"]);
    let actions: Vec<(String, String)> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().into(),
                a["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("plan.explain".into(), "started".into())),
        "{actions:?}"
    );
    assert!(actions.contains(&("plan.explain".into(), "ok".into())), "{actions:?}");
}

#[test]
fn explain_refuses_what_it_cannot_run_safely() {
    let pg = cluster();
    let d = shop_and_live(&pg);

    // DDL is never ANALYZEd.
    let out = d.run(&["explain", "--env", "shop", "--analyze", "CREATE TABLE x AS SELECT 1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("DDL"), "{}", stderr(&out));
    assert_eq!(pg.psql("SELECT count(*) FROM pg_class WHERE relname = 'x'"), "0\n");

    // Two statements.
    let out = d.run(&["explain", "--env", "shop", "SELECT 1; DROP TABLE orders"]);
    assert!(stderr(&out).contains("2 statements"), "{}", stderr(&out));

    // ANALYZE on prod needs the typed name; a plain EXPLAIN does not.
    let out = d.run(&["explain", "--env", "live", "--analyze", "SELECT count(*) FROM orders"]);
    assert!(stderr(&out).contains("needs confirmation"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--confirm live"), "{}", stderr(&out));
    assert!(
        d.run(&["explain", "--env", "live", "SELECT count(*) FROM orders"])
            .status
            .success()
    );
    let out = d.run(&[
        "explain",
        "--env",
        "live",
        "--analyze",
        "--confirm",
        "live",
        "SELECT count(*) FROM orders",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, audit) = d.json(&["audit", "list", "--env", "live"]);
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["outcome"] == "refused"),
        "the refusal is audited"
    );

    // A SELECT that writes (nextval) runs read-only and is stopped; the sequence is untouched.
    let out = d.run(&["explain", "--env", "shop", "--analyze", "SELECT nextval('tickets')"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
    assert_eq!(pg.psql("SELECT last_value, is_called FROM tickets"), "1|f\n");
}

#[test]
fn statement_errors_timeouts_and_parameters_are_explained() {
    let pg = cluster();
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "shop", "--url", &pg.url()]).status.success());

    // A syntax error is placed in the person's SQL, not in dbdeck's EXPLAIN prefix.
    let out = d.run(&["explain", "--env", "shop", "SELECT *\nFROM orders\nWHER id = 1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("line 3, column 6"), "{}", stderr(&out));
    assert!(stderr(&out).contains("syntax error"), "{}", stderr(&out));

    // A statement that runs too long is cancelled by its statement_timeout; the CLI returns.
    let t = std::time::Instant::now();
    let out = d.run(&[
        "explain",
        "--env",
        "shop",
        "--analyze",
        "--timeout",
        "1",
        "SELECT pg_sleep(20)",
    ]);
    assert!(t.elapsed() < Duration::from_secs(15));
    assert!(stderr(&out).contains("ran longer than 1 s"), "{}", stderr(&out));
    assert!(stderr(&out).contains("nothing was changed"), "{}", stderr(&out));

    // pg_stat_statements shows statements with $n: PostgreSQL 15 has no GENERIC_PLAN, so values are asked for.
    let sql = "SELECT * FROM orders WHERE customer = $1 AND status = $2";
    let out = d.run(&["explain", "--env", "shop", sql]);
    assert!(stderr(&out).contains("2 parameters"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--param"), "{}", stderr(&out));
    let (code, v) = d.json(&["explain", "--env", "shop", "--param", "42", "--param", "paid", sql]);
    assert_eq!(code, 0, "{v}");
    assert!(v["data"]["notes"][0].as_str().unwrap().contains("values given"));
    // The prepared statement did not stay behind on a pooled connection.
    let (code, v) = d.json(&["explain", "--env", "shop", "--param", "7", "--param", "paid", sql]);
    assert_eq!(code, 0, "{v}");
    let out = d.run(&["explain", "--env", "shop", "--param", "1", sql]);
    assert!(
        stderr(&out).contains("1 value given for 2 parameters"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn server_dying_mid_explain_gives_an_error_not_a_hang() {
    let pg = cluster();
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "shop", "--url", &pg.url()]).status.success());
    let child = Command::new(bin())
        .args(["--data-dir", d.path().to_str().unwrap()])
        .args(["explain", "--env", "shop", "--analyze", "SELECT pg_sleep(30)"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    pg.kill_server();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The audit log records the failure after the intent.
    let (_, audit) = d.json(&["audit", "list", "--env", "shop"]);
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["outcome"] == "error")
    );
}

#[test]
fn index_health_finds_unused_duplicate_overlapping_and_invalid() {
    let pg = cluster();
    pg.psql(
        "CREATE INDEX orders_status ON orders (status);
         CREATE INDEX orders_status_again ON orders (status);
         CREATE INDEX orders_customer ON orders (customer);
         CREATE INDEX orders_customer_status ON orders (customer, status);
         CREATE TABLE dup (v int); INSERT INTO dup VALUES (1), (1);",
    );
    // A unique index built concurrently over duplicates fails and is left invalid.
    let out = pg.psql_output("CREATE UNIQUE INDEX CONCURRENTLY dup_v ON dup (v)");
    assert!(!out.status.success(), "the build must fail");
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "shop", "--url", &pg.url()]).status.success());
    let (code, v) = d.json(&["indexes", "--env", "shop"]);
    assert_eq!(code, 0, "{v}");
    let findings = v["data"]["findings"].as_array().unwrap();
    let has = |issue: &str, index: &str| findings.iter().any(|f| f["issue"] == issue && f["index"] == index);
    assert!(has("invalid", "dup_v"), "{findings:#?}");
    assert!(has("duplicate", "orders_status_again"), "{findings:#?}");
    assert!(has("overlapping", "orders_customer"), "{findings:#?}");
    assert!(has("unused", "orders_status"), "{findings:#?}");
    // Primary keys are never called unused.
    assert!(!findings.iter().any(|f| f["index"] == "orders_pkey"));
    let dup = findings.iter().find(|f| f["issue"] == "duplicate").unwrap();
    assert_eq!(dup["fix"], "DROP INDEX CONCURRENTLY public.orders_status_again;");
    // The human form names each issue.
    let out = d.run(&["indexes", "--env", "shop"]);
    assert!(stdout(&out).contains("overlapping"), "{}", stdout(&out));
}

#[test]
fn index_advice_is_checked_by_the_planner_and_builds_nothing() {
    let pg = cluster();
    let d = shop_and_live(&pg);
    let indexes_before = pg.psql("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'");
    let sql = "SELECT * FROM orders WHERE status = 'refund' AND total > 400";

    // Built in a rolled-back transaction (forced, so this path is tested with HypoPG installed too).
    let (code, v) = d.json(&["advise", "--env", "shop", "--build-in-transaction", sql]);
    assert_eq!(code, 0, "{v}");
    let c = &v["data"]["candidates"][0];
    assert_eq!(c["validation"], "transaction");
    assert_eq!(c["used"], true, "{c}");
    assert_eq!(c["columns"], serde_json::json!(["status", "total"]));
    assert!(c["cost_after"].as_f64().unwrap() < c["cost_before"].as_f64().unwrap());
    assert_eq!(c["ddl"], "CREATE INDEX CONCURRENTLY ON public.orders (status, total);");

    if hypopg_available() {
        let (code, v) = d.json(&["advise", "--env", "shop", sql]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["data"]["hypopg"], true);
        let c = &v["data"]["candidates"][0];
        assert_eq!(c["validation"], "hypopg", "{c}");
        assert_eq!(c["used"], true, "{c}");
        // The extension was created inside the rolled-back transaction: it is gone.
        assert_eq!(
            pg.psql("SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'"),
            "0\n"
        );
    } else {
        eprintln!("HypoPG is not installed here (postgresql-15-hypopg): its path was not tested");
    }

    // On prod without HypoPG installed in the database: candidates, not checked, nothing created.
    let (code, v) = d.json(&["advise", "--env", "live", sql]);
    assert_eq!(code, 0, "{v}");
    let c = &v["data"]["candidates"][0];
    assert_eq!(c["validation"], "not_validated");
    assert!(c["note"].as_str().unwrap().contains("prod"), "{c}");
    let out = d.run(&["advise", "--env", "live", "--build-in-transaction", sql]);
    assert!(stderr(&out).contains("never builds indexes there"), "{}", stderr(&out));

    assert_eq!(
        pg.psql("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"),
        indexes_before,
        "no index was left behind"
    );
    let (_, audit) = d.json(&["audit", "list", "--env", "shop"]);
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "plan.index_advice")
    );
}

/// A statement with `$1…$n` (as pg_stat_statements shows them) is advised with the values
/// given; without values, a server before PostgreSQL 16 says what it needs.
#[test]
fn index_advice_takes_parameter_values() {
    let pg = cluster();
    let d = shop_and_live(&pg);
    let indexes_before = pg.psql("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'");
    let sql = "SELECT * FROM orders WHERE status = $1 AND total > $2";
    // The first candidate when advised with the values, checked as `how` says.
    let first_candidate = |how: &[&str]| {
        let mut args = vec!["advise", "--env", "shop", "--param", "refund", "--param", "400"];
        args.extend(how);
        args.push(sql);
        let (code, v) = d.json(&args);
        assert_eq!(code, 0, "{v}");
        v["data"]["candidates"][0].clone()
    };

    let c = first_candidate(&["--build-in-transaction"]);
    assert_eq!(
        (c["validation"].as_str(), c["used"].as_bool()),
        (Some("transaction"), Some(true)),
        "{c}"
    );
    assert_eq!(c["columns"], serde_json::json!(["status", "total"]));
    assert!(
        c["cost_after"].as_f64().unwrap() < c["cost_before"].as_f64().unwrap(),
        "{c}"
    );
    if hypopg_available() {
        let c = first_candidate(&[]);
        assert_eq!(
            (c["validation"].as_str(), c["used"].as_bool()),
            (Some("hypopg"), Some(true)),
            "{c}"
        );
    }

    // Without values on PostgreSQL 15: why, and what to give.
    let out = d.run(&["advise", "--env", "shop", sql]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("2 parameters ($1…$2)") && err.contains("GENERIC_PLAN"),
        "{err}"
    );
    // A wrong count is named too.
    let out = d.run(&["advise", "--env", "shop", "--param", "refund", sql]);
    assert!(
        stderr(&out).contains("1 value given for 2 parameters"),
        "{}",
        stderr(&out)
    );

    assert_eq!(
        pg.psql("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"),
        indexes_before,
        "no index was left behind"
    );
}

#[test]
fn sqlite_environments_show_their_query_plan_as_a_tree() {
    let d = DataDir::new();
    let db = d.path().join("shop.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    assert!(d.run(&["env", "add", "lite", "--url", &url]).status.success());
    // dbdeck opens SQLite read-only: make the table with the sqlite3 shell.
    let made = Command::new("sqlite3")
        .arg(&db)
        .arg("CREATE TABLE t (a int, b text); CREATE INDEX t_a ON t (a); INSERT INTO t VALUES (1, 'x');")
        .status();
    if !made.map(|s| s.success()).unwrap_or(false) {
        panic!("sqlite3 (Debian package sqlite3) is needed to build this test's database");
    }
    let (code, v) = d.json(&["explain", "--env", "lite", "SELECT * FROM t WHERE a = 1 ORDER BY b"]);
    assert_eq!(code, 0, "{v}");
    let nodes = v["data"]["plan"]["nodes"].as_array().unwrap();
    let labels: Vec<&str> = nodes.iter().map(|n| n["label"].as_str().unwrap()).collect();
    assert!(
        labels.iter().any(|l| l.starts_with("SEARCH t USING INDEX t_a")),
        "{labels:?}"
    );
    assert!(labels.iter().any(|l| l.contains("TEMP B-TREE")), "{labels:?}");
    // ANALYZE of a read: timed as a whole. Of a write: refused (dbdeck opens SQLite read-only).
    let (code, v) = d.json(&["explain", "--env", "lite", "--analyze", "SELECT * FROM t"]);
    assert_eq!(code, 0, "{v}");
    assert!(v["data"]["plan"]["execution_ms"].as_f64().is_some());
    let out = d.run(&["explain", "--env", "lite", "--analyze", "DELETE FROM t"]);
    assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
    let left = Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT count(*) FROM t")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "1");
}

#[test]
fn plan_files_are_analysed_compared_and_exported() {
    let d = DataDir::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/plans");
    let (code, v) = d.json(&["plan", "analyze", &format!("{dir}/sort_spill.txt")]);
    assert_eq!(code, 0, "{v}");
    let kinds: Vec<&str> = v["data"]["plan"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"sort_spill"), "{kinds:?}");

    let html = d.path().join("plan.html");
    let out = d.run(&[
        "plan",
        "analyze",
        &format!("{dir}/cte_subplan.json"),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Findings ("), "{}", stdout(&out));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<details") && !page.contains("<script"));

    let out = d.run(&[
        "plan",
        "compare",
        &format!("{dir}/misestimate.json"),
        &format!("{dir}/hash_spill.json"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("slower"), "{}", stdout(&out));

    // A truncated file: the error names the position and the run fails cleanly.
    let text = std::fs::read_to_string(format!("{dir}/join_group.json")).unwrap();
    let cut = d.path().join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 3]).unwrap();
    let out = d.run(&["plan", "analyze", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("ends early"), "{}", stderr(&out));
    assert!(stderr(&out).contains("line "), "{}", stderr(&out));
    // Through the API as JSON: the same error, with its code.
    let (code, v): (i32, Value) = d.json(&["plan", "analyze", cut.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "invalid_input", "{v}");
}
