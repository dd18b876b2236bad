//! Snapshot tests of the rules on `tests/lint/*.sql` (the expected output in `*.lint` beside
//! each; `DBDECK_UPDATE_SNAPSHOTS=1` rewrites them), and the engine's own behaviour.

use std::path::Path;

use super::live::{LiveContext, LongTransaction, TableFacts};
use super::*;

fn lint_file(path: &Path, in_transaction: bool) -> LintReport {
    let bytes = std::fs::read(path).unwrap();
    let sql = crate::migrate::source::decode(&bytes).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    lint(
        &sql,
        Some(&name),
        &LintOptions {
            in_transaction,
            timeouts_set: false,
        },
    )
}

#[test]
fn snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint");
    let update = std::env::var_os("DBDECK_UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for path in files.into_iter().filter(|p| p.extension().is_some_and(|x| x == "sql")) {
        // transactions.sql is read as a tool would run it: inside the tool's transaction.
        let in_tx = path.file_stem().is_some_and(|s| s == "transactions");
        let got = render(&lint_file(&path, in_tx));
        let snap = path.with_extension("lint");
        if update {
            std::fs::write(&snap, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&snap).unwrap_or_default();
        if want != got {
            failures.push(format!("{}:\n--- want\n{want}\n--- got\n{got}", snap.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "snapshots differ (DBDECK_UPDATE_SNAPSHOTS=1 to accept):\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_rule_fires_somewhere_in_the_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint");
    let mut seen = std::collections::HashSet::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "sql") {
            let in_tx = p.file_stem().is_some_and(|s| s == "transactions");
            seen.extend(lint_file(&p, in_tx).findings.into_iter().map(|f| f.rule));
        }
    }
    for r in rules::RULES {
        assert!(seen.contains(r.id), "rule {} has no snapshot case", r.id);
    }
}

#[test]
fn syntax_error_is_placed_and_the_rest_is_linted() {
    let sql = "ALTER TABLE a ADD COLUMN b int;\nSELECT 1 FROM FROM t;\nALTER TABLE a DROP COLUMN c;\n";
    let r = lint(sql, None, &LintOptions::default());
    let syn: Vec<_> = r.findings.iter().filter(|f| f.rule == "syntax-error").collect();
    assert_eq!(syn.len(), 1);
    assert_eq!((syn[0].line, syn[0].column), (2, 15), "{:?}", syn[0]);
    assert!(
        syn[0].title.contains("syntax error at or near \"FROM\""),
        "{}",
        syn[0].title
    );
    assert!(r.findings.iter().any(|f| f.rule == "drop-column" && f.line == 3));
}

#[test]
fn meta_commands_keep_offsets() {
    let (text, notes) = prepare("\\echo héllo\nSELECT 1;\n\\q\nDROP TABLE x;\n");
    assert_eq!(text.len(), "\\echo héllo\nSELECT 1;\n\\q\nDROP TABLE x;\n".len());
    assert_eq!(notes.len(), 2);
    assert!(notes[1].message.contains("stops reading"));
    assert!(!text.contains("DROP"));
}

#[test]
fn live_context_changes_severity_and_says_why() {
    let sql = "SET lock_timeout = '1s';\nALTER TABLE small ADD COLUMN t uuid DEFAULT gen_random_uuid();\n\
               ALTER TABLE big ADD COLUMN t uuid DEFAULT gen_random_uuid();\n\
               ALTER TABLE mid ALTER COLUMN c SET NOT NULL;\n\
               ALTER TABLE fresh ALTER COLUMN c TYPE bigint;\n";
    let mut r = lint(sql, None, &LintOptions::default());
    let facts = |name: &str, rows: f64, bytes: i64| TableFacts {
        schema: "public".into(),
        name: name.into(),
        rows: Some(rows),
        bytes,
    };
    let mut live = LiveContext {
        env: "staging".into(),
        lag_threshold_s: 5.0,
        replica_lag_s: Some(12.0),
        ..Default::default()
    };
    live.tables.insert("small".into(), facts("small", 0.0, 8192));
    live.tables.insert("big".into(), facts("big", 90e6, 50 << 30));
    live.tables.insert("mid".into(), facts("mid", 50_000.0, 40 << 20));
    live.long_transactions.push(LongTransaction {
        pid: 4242,
        age_s: 312.0,
        state: "idle in transaction".into(),
        query: "UPDATE mid SET c = 1".into(),
        tables: vec!["mid".into()],
    });
    live.apply(&mut r);
    let by = |t: &str| r.findings.iter().find(|f| f.table.as_deref() == Some(t)).unwrap();
    assert_eq!(by("small").severity, Severity::Info);
    assert!(
        by("small")
            .context
            .as_deref()
            .unwrap()
            .contains("small in staging has about 0 rows, 8.0 KiB: the rewrite takes moments"),
        "{:?}",
        by("small").context
    );
    assert_eq!(by("big").severity, Severity::Critical);
    assert!(
        by("big")
            .context
            .as_deref()
            .unwrap()
            .contains("replicas are already 12.0 s behind"),
        "{:?}",
        by("big").context
    );
    assert_eq!(by("mid").severity, Severity::Critical);
    assert!(
        by("mid").context.as_deref().unwrap().contains("pid 4242"),
        "{:?}",
        by("mid").context
    );
    assert_eq!(by("fresh").severity, Severity::Info);
    assert!(
        by("fresh")
            .context
            .as_deref()
            .unwrap()
            .contains("does not exist in staging yet")
    );
}

#[test]
fn a_statement_the_scanner_cannot_start_is_still_reported() {
    let sql = "CREATE TABLE t (id bigint);\r\nSELEC 1;\r\nALTER TABLE orders DROP COLUMN old;\r\n";
    let r = lint(sql, None, &LintOptions::default());
    let rules: Vec<_> = r.findings.iter().map(|f| (f.rule.as_str(), f.line, f.column)).collect();
    assert_eq!(
        rules,
        [("syntax-error", 2, 1), ("drop-column", 3, 1), ("missing-timeout", 3, 1)]
    );
    assert_eq!(r.statements, 3);
}

/// The safe patterns the rules advise must be PostgreSQL that parses: every line of a fix that
/// reads as a complete statement (no `…` or `<placeholder>` in it) is parsed.
#[test]
fn fixes_are_valid_sql() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint");
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "sql") {
            continue;
        }
        for f in lint_file(&p, false).findings {
            for line in f.fix.lines() {
                let line = line.trim();
                // "1. ALTER TABLE …;" → the statement; comments after it dropped.
                let stmt = line.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ');
                let Some(end) = stmt.find(';') else { continue };
                let stmt = &stmt[..=end];
                let starts = ["ALTER ", "CREATE ", "DROP ", "REINDEX ", "SET ", "UPDATE ", "TRUNCATE "];
                if !starts.iter().any(|s| stmt.starts_with(s)) || stmt.contains('…') || stmt.contains('<') {
                    continue;
                }
                let stmt = stmt.replace("$1", "1").replace("$2", "2");
                assert!(
                    pg_query::parse(&stmt, pg_query::ParserOptions::DEFAULT).is_ok(),
                    "{} [{}] advises SQL PostgreSQL cannot parse: {stmt}",
                    p.display(),
                    f.rule
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} statements checked");
}
