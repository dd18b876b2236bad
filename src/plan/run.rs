//! Running EXPLAIN without harm.
//!
//! Every run happens inside a transaction that is rolled back, with `statement_timeout` and
//! `lock_timeout` set for that transaction only:
//!
//! - a statement that only reads runs in a READ ONLY transaction, so a volatile function that
//!   writes fails instead of writing;
//! - a data-modifying statement (INSERT, UPDATE, DELETE, MERGE, a writing CTE, SELECT … FOR
//!   UPDATE/INTO) is executed by ANALYZE and its effects are rolled back;
//! - DDL and utility commands are never ANALYZEd (some of them cannot be rolled back);
//! - one statement at a time.
//!
//! Parameterised statements (`$1`, as pg_stat_statements shows them) use
//! `EXPLAIN (GENERIC_PLAN)` on PostgreSQL 16 and later; on older servers, or with ANALYZE, the
//! person gives values and the statement is PREPAREd and EXECUTEd with them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, SqliteConnection};
use ts_rs::TS;

use super::{Plan, PlanFormat};
use crate::error::{ApiError, ErrorCode};

/// EXPLAIN's options as PostgreSQL names them; FORMAT JSON is always used underneath.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExplainOptions {
    #[serde(default)]
    pub analyze: bool,
    #[serde(default)]
    pub buffers: bool,
    #[serde(default)]
    pub verbose: bool,
    #[serde(default)]
    pub settings: bool,
    #[serde(default)]
    pub wal: bool,
    /// Per-node timing with ANALYZE (on unless turned off; off lowers the overhead).
    #[serde(default)]
    #[ts(optional)]
    pub timing: Option<bool>,
    /// Cost estimates (on unless turned off).
    #[serde(default)]
    #[ts(optional)]
    pub costs: Option<bool>,
}

/// What a statement does, as far as running it safely is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    Read,
    Write,
    Ddl,
}

/// A plan dbdeck ran or read, with how it was obtained.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct PlanReport {
    /// The environment it ran on; None for a pasted plan.
    pub env: Option<String>,
    pub sql: Option<String>,
    pub options: Option<ExplainOptions>,
    pub kind: Option<StatementKind>,
    /// The statement ran (ANALYZE) and its transaction was rolled back.
    pub rolled_back: bool,
    /// How the plan was obtained: "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)", "generic plan", …
    pub method: String,
    /// EXPLAIN's output as the server gave it (JSON for PostgreSQL). Empty for a pasted plan:
    /// the caller already has that text.
    pub raw: String,
    pub plan: Plan,
    /// Things the reader should know: "ran in a rolled-back transaction", "parameters bound …".
    pub notes: Vec<String>,
    /// When the request asked for `compact`: the nodes as a table, and `plan.nodes` empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub node_table: Option<crate::plan::wire::NodeTable>,
}

impl PlanReport {
    /// Move the nodes into a table (see [`crate::plan::wire`]).
    pub fn compact(&mut self) {
        self.node_table = Some(crate::plan::wire::node_table(std::mem::take(&mut self.plan.nodes)));
    }
}

/// How long an EXPLAIN may run unless the person says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Strip comments and string literals so keywords can be looked for safely. Literals become
/// `''` and comments a space; dollar-quoted bodies are removed too.
pub fn code_only(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            out.push(' ');
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 1;
            i += 2;
            while i < b.len() && depth > 0 {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 1;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 1;
                }
                i += 1;
            }
            out.push(' ');
        } else if c == b'\'' || c == b'"' {
            let q = c;
            i += 1;
            while i < b.len() {
                if b[i] == q {
                    if b.get(i + 1) == Some(&q) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            out.push_str(if q == b'\'' { "''" } else { "\"q\"" });
        } else if c == b'$' && !b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            // A dollar-quoted body, $tag$ … $tag$ ($1 and the like are parameters, kept).
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j < b.len() && b[j] == b'$' {
                let tag = &sql[i..=j];
                i = match sql[j + 1..].find(tag) {
                    Some(end) => j + 1 + end + tag.len(),
                    None => b.len(),
                };
                out.push_str("''");
            } else {
                out.push('$');
                i += 1;
            }
        } else {
            // Keywords are ASCII; anything else is kept as a placeholder letter.
            out.push(if c.is_ascii() { c as char } else { 'x' });
            i += 1;
        }
    }
    out
}

fn words(code: &str) -> impl Iterator<Item = String> + '_ {
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
}

/// Classify a statement and check it is exactly one.
pub fn classify(sql: &str) -> Result<StatementKind, ApiError> {
    let code = code_only(sql);
    let parts: Vec<&str> = code.split(';').filter(|p| !p.trim().is_empty()).collect();
    if parts.is_empty() {
        return Err(ApiError::invalid("there is no statement to explain"));
    }
    if parts.len() > 1 {
        return Err(ApiError::invalid(format!(
            "{} statements were given; EXPLAIN takes one at a time",
            parts.len()
        ))
        .with_hint("remove the others, or explain them one by one"));
    }
    let first = words(parts[0]).next().unwrap_or_default();
    if first == "EXPLAIN" {
        return Err(ApiError::invalid("the statement already starts with EXPLAIN")
            .with_hint("give the statement alone; choose EXPLAIN's options with the flags or checkboxes"));
    }
    let all: Vec<String> = words(parts[0]).collect();
    Ok(match first.as_str() {
        "SELECT" | "VALUES" | "TABLE" | "WITH" | "(" => {
            let writes = all
                .iter()
                .any(|w| matches!(w.as_str(), "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "INTO" | "NOWAIT"))
                || all
                    .windows(2)
                    .any(|w| w[0] == "FOR" && matches!(w[1].as_str(), "UPDATE" | "SHARE" | "NO" | "KEY"));
            if writes {
                StatementKind::Write
            } else {
                StatementKind::Read
            }
        }
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" => StatementKind::Write,
        "EXECUTE" | "DECLARE" => StatementKind::Write,
        _ => StatementKind::Ddl,
    })
}

/// The `$n` parameters a statement uses, highest first excluded: returns the count (max n).
pub fn parameter_count(sql: &str) -> usize {
    let code = code_only(sql);
    let b = code.as_bytes();
    let mut max = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j > i + 1 {
                max = max.max(code[i + 1..j].parse::<usize>().unwrap_or(0));
            }
            i = j;
        } else {
            i += 1;
        }
    }
    max
}

fn option_list(o: &ExplainOptions, generic: bool) -> String {
    let mut parts = vec![];
    if o.analyze {
        parts.push("ANALYZE".to_string());
    }
    if o.buffers {
        parts.push("BUFFERS".into());
    }
    if o.verbose {
        parts.push("VERBOSE".into());
    }
    if o.settings {
        parts.push("SETTINGS".into());
    }
    if o.wal && o.analyze {
        parts.push("WAL".into());
    }
    if o.analyze && o.timing == Some(false) {
        parts.push("TIMING OFF".into());
    }
    if o.costs == Some(false) {
        parts.push("COSTS OFF".into());
    }
    if generic {
        parts.push("GENERIC_PLAN".into());
    }
    parts.push("FORMAT JSON".into());
    parts.join(", ")
}

/// A literal for a parameter value: NULL stays NULL, everything else is a quoted string
/// PostgreSQL coerces to the parameter's type.
pub(crate) fn literal(v: &str) -> String {
    if v.eq_ignore_ascii_case("null") {
        "NULL".into()
    } else {
        format!("'{}'", v.replace('\'', "''"))
    }
}

/// 1-based line and column of a character offset in `sql`.
fn line_col(sql: &str, char_pos: usize) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    for (i, c) in sql.chars().enumerate() {
        if i + 1 >= char_pos {
            break;
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

/// Explain on PostgreSQL. `server_num` is `server_version_num` (e.g. 150020).
pub async fn explain_pg(
    conn: &mut PgConnection,
    sql: &str,
    options: &ExplainOptions,
    params: &[String],
    timeout: Duration,
    target: &str,
) -> Result<PlanReport, ApiError> {
    let kind = classify(sql)?;
    if kind == StatementKind::Ddl && options.analyze {
        return Err(ApiError::invalid(
            "this is DDL or a utility command; dbdeck never runs it with ANALYZE (some of it cannot be rolled back)",
        )
        .with_hint("explain it without ANALYZE to see the plan, if it has one"));
    }
    let server_num: i64 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int8")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| crate::probe::classify_pg(e, target))?;
    let nparams = parameter_count(sql);
    let stmt = sql.trim().trim_end_matches(';').trim_end();
    let mut notes = vec![];
    let generic = nparams > 0 && params.is_empty() && !options.analyze && server_num >= 160_000;
    if nparams > 0 && params.is_empty() && !generic {
        let why = if options.analyze {
            "ANALYZE runs the statement, so it needs values".to_string()
        } else {
            format!(
                "this server is PostgreSQL {}, and EXPLAIN (GENERIC_PLAN) came in 16",
                server_num / 10_000
            )
        };
        return Err(ApiError::invalid(format!(
            "the statement has {nparams} parameter{} ($1{}); {why}",
            if nparams == 1 { "" } else { "s" },
            if nparams > 1 {
                format!("…${nparams}")
            } else {
                String::new()
            }
        ))
        .with_hint("give a value for each (CLI: --param VALUE, in order); NULL is taken as NULL"));
    }
    if !params.is_empty() && params.len() != nparams {
        return Err(ApiError::invalid(format!(
            "{} value{} given for {nparams} parameter{}",
            params.len(),
            if params.len() == 1 { "" } else { "s" },
            if nparams == 1 { "" } else { "s" }
        )));
    }
    let opts = option_list(options, generic);
    let prepared = !params.is_empty();
    let (explained, prefix_chars) = if prepared {
        (
            format!(
                "EXPLAIN ({opts}) EXECUTE dbdeck_explain({})",
                params.iter().map(|p| literal(p)).collect::<Vec<_>>().join(", ")
            ),
            "PREPARE dbdeck_explain AS ".chars().count(),
        )
    } else {
        let prefix = format!("EXPLAIN ({opts}) ");
        (format!("{prefix}{stmt}"), prefix.chars().count())
    };

    let ms = timeout.as_millis().clamp(1, i32::MAX as u128);
    let lock_ms = ms.min(5_000);
    let mut tx = conn.begin().await.map_err(|e| crate::probe::classify_pg(e, target))?;
    let setup = format!(
        "SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {lock_ms}; SET LOCAL idle_in_transaction_session_timeout = {}",
        ms + 10_000
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(setup))
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::probe::classify_pg(e, target))?;
    if kind == StatementKind::Read {
        sqlx::raw_sql("SET TRANSACTION READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::probe::classify_pg(e, target))?;
    }
    let run = async {
        if prepared {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("PREPARE dbdeck_explain AS {stmt}")))
                .execute(&mut *tx)
                .await?;
        }
        // As text (a `RawValue`): the Raw tab shows what PostgreSQL printed, key order included,
        // and the plan is read by the same reader as a paste.
        let raw: sqlx::types::Json<Box<serde_json::value::RawValue>> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(explained.clone()))
                .fetch_one(&mut *tx)
                .await?;
        Ok::<_, sqlx::Error>(raw)
    };
    let result = run.await;
    // Whatever happened, nothing stays: the transaction is rolled back (PREPARE is not
    // transactional, so the prepared statement is dropped explicitly).
    let rollback = tx.rollback().await;
    if prepared {
        let _ = sqlx::raw_sql("DEALLOCATE dbdeck_explain").execute(&mut *conn).await;
    }
    let raw = match result {
        Ok(v) => v,
        Err(e) => return Err(statement_error(e, stmt, prefix_chars, timeout, target)),
    };
    rollback.map_err(|e| crate::probe::classify_pg(e, target))?;

    let raw_text = raw.0.get().to_owned();
    // Read and analysed on a thread with room for deep plans, as a paste is.
    let mut plan = super::parse(&raw_text)?;
    plan.query = Some(stmt.to_string());
    if options.analyze {
        notes.push(match kind {
            StatementKind::Write => {
                "The statement was executed to measure it, and its changes were rolled back.".into()
            }
            _ => "The statement was executed in a read-only transaction, then rolled back.".into(),
        });
    }
    if generic {
        notes.push("A generic plan: the planner did not know the parameter values (EXPLAIN GENERIC_PLAN).".into());
    }
    if prepared {
        notes.push(format!(
            "Planned with the values given for {} parameter{} (PREPARE … EXECUTE).",
            nparams,
            if nparams == 1 { "" } else { "s" }
        ));
    }
    Ok(PlanReport {
        env: None,
        sql: Some(stmt.to_string()),
        options: Some(options.clone()),
        kind: Some(kind),
        rolled_back: options.analyze,
        method: format!("EXPLAIN ({opts})"),
        raw: raw_text,
        plan,
        notes,
        node_table: None,
    })
}

/// An error from the explained statement, with its position in the person's SQL.
fn statement_error(e: sqlx::Error, stmt: &str, prefix_chars: usize, timeout: Duration, target: &str) -> ApiError {
    if let sqlx::Error::Database(db) = &e {
        let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
        let msg = db.message().to_string();
        if code == "57014" && msg.contains("statement timeout") {
            return ApiError::new(
                ErrorCode::Timeout,
                format!(
                    "the statement ran longer than {} s and was cancelled; nothing was changed",
                    timeout.as_secs_f64()
                ),
            )
            .with_hint("raise the timeout (CLI: --timeout SECONDS), or explain without ANALYZE to see the plan alone");
        }
        if code == "55P03" {
            return ApiError::new(
                ErrorCode::Timeout,
                format!("{msg}: the statement waited for a lock and gave up; nothing was changed"),
            )
            .with_hint("another session holds a conflicting lock; see the Locks view, or try again later");
        }
        if code == "25006" {
            return ApiError::invalid(format!(
                "{msg}: the statement looked read-only but tried to write, so it ran in a read-only transaction and was stopped"
            ));
        }
        let pos = db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .and_then(|p| match p.position() {
                Some(sqlx::postgres::PgErrorPosition::Original(n)) => Some(n),
                _ => None,
            })
            .and_then(|n| n.checked_sub(prefix_chars));
        let mut err = ApiError::new(
            ErrorCode::ServerError,
            match pos {
                Some(p) if p > 0 => {
                    let (l, c) = line_col(stmt, p);
                    format!("the statement failed at line {l}, column {c}: {msg} (SQLSTATE {code})")
                }
                _ => format!("the statement failed: {msg} (SQLSTATE {code})"),
            },
        );
        if let Some(h) = db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .and_then(|p| p.hint())
        {
            err = err.with_hint(h.to_string());
        }
        return err;
    }
    crate::probe::classify_pg(e, target)
}

/// Explain on SQLite: EXPLAIN QUERY PLAN as a tree; with ANALYZE the statement also runs
/// (inside a transaction that is rolled back) to time it and count its rows.
pub async fn explain_sqlite(
    conn: &mut SqliteConnection,
    sql: &str,
    options: &ExplainOptions,
) -> Result<PlanReport, ApiError> {
    use sqlx::Row;
    let kind = classify(sql)?;
    if kind != StatementKind::Read && options.analyze {
        return Err(ApiError::invalid(
            "dbdeck opens SQLite environments read-only, so it cannot run this statement to measure it",
        )
        .with_hint("explain it without ANALYZE to see SQLite's query plan"));
    }
    let stmt = sql.trim().trim_end_matches(';').trim_end().to_string();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {stmt}")))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| {
            ApiError::new(
                ErrorCode::ServerError,
                format!("the statement failed: {}", sqlite_msg(&e)),
            )
        })?;
    let entries: Vec<(i64, i64, String)> = rows
        .iter()
        .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1), r.get::<String, _>(3)))
        .collect();
    let mut notes = vec![];
    let mut execution_ms = None;
    let mut result_rows = None;
    if options.analyze {
        let mut tx = conn
            .begin()
            .await
            .map_err(|e| ApiError::new(ErrorCode::ServerError, sqlite_msg(&e)))?;
        let t = std::time::Instant::now();
        let r = sqlx::query(sqlx::AssertSqlSafe(stmt.clone())).fetch_all(&mut *tx).await;
        let elapsed = t.elapsed().as_secs_f64() * 1000.0;
        let _ = tx.rollback().await;
        let r = r.map_err(|e| {
            ApiError::new(
                ErrorCode::ServerError,
                format!("the statement failed: {}", sqlite_msg(&e)),
            )
        })?;
        execution_ms = Some(elapsed);
        result_rows = Some(r.len() as f64);
        notes.push("SQLite reports no per-step timings: the statement was run once and timed as a whole.".into());
    }
    let plan = sqlite_plan(&entries, &stmt, execution_ms, result_rows);
    let raw = entries
        .iter()
        .map(|(id, parent, detail)| format!("{id}\t{parent}\t{detail}"))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(PlanReport {
        env: None,
        sql: Some(stmt),
        options: Some(options.clone()),
        kind: Some(kind),
        rolled_back: options.analyze,
        method: "EXPLAIN QUERY PLAN".into(),
        raw,
        plan,
        notes,
        node_table: None,
    })
}

fn sqlite_msg(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

/// EXPLAIN QUERY PLAN rows (id, parent, detail) as a plan tree.
pub fn sqlite_plan(entries: &[(i64, i64, String)], stmt: &str, execution_ms: Option<f64>, rows: Option<f64>) -> Plan {
    let mut v = serde_json::json!({"Node Type": "QUERY PLAN", "Plans": []});
    // Build nested JSON by id; SQLite lists parents before children.
    let mut by_id: Vec<(i64, Vec<usize>)> = vec![(0, vec![])];
    let mut objs: Vec<serde_json::Map<String, serde_json::Value>> = vec![serde_json::Map::new()];
    for (id, parent, detail) in entries {
        let mut o = serde_json::Map::new();
        let (ty, rel) = sqlite_detail(detail);
        o.insert("Node Type".into(), ty.into());
        o.insert("Detail".into(), detail.clone().into());
        if let Some(r) = rel {
            o.insert("Relation Name".into(), r.into());
        }
        if let Some(i) = detail.split(" USING ").nth(1) {
            let idx = i.trim_start_matches("COVERING ").trim_start_matches("INDEX ");
            let idx = idx.split_whitespace().next().unwrap_or("").to_string();
            if !idx.is_empty() && !i.starts_with("INTEGER PRIMARY KEY") {
                o.insert("Index Name".into(), idx.into());
            }
        }
        let parent_idx = by_id.iter().position(|(pid, _)| pid == parent).unwrap_or(0);
        objs.push(o);
        let me = objs.len() - 1;
        by_id.push((*id, vec![]));
        by_id[parent_idx].1.push(me);
    }
    // Assemble bottom-up (entries come in pre-order, so reverse order finishes children first).
    let mut built: Vec<Option<serde_json::Value>> = vec![None; objs.len()];
    for i in (0..objs.len()).rev() {
        let mut o = std::mem::take(&mut objs[i]);
        let kids: Vec<serde_json::Value> = by_id[i].1.iter().filter_map(|&k| built[k].take()).collect();
        if !kids.is_empty() {
            o.insert("Plans".into(), kids.into());
        }
        built[i] = Some(serde_json::Value::Object(o));
    }
    if let Some(serde_json::Value::Object(mut root)) = built[0].take() {
        root.insert("Node Type".into(), "QUERY PLAN".into());
        if let Some(r) = rows {
            root.insert("Actual Rows".into(), r.into());
            root.insert("Actual Loops".into(), 1.into());
        }
        if let Some(ms) = execution_ms {
            root.insert("Actual Total Time".into(), ms.into());
        }
        v = serde_json::Value::Object(root);
    }
    let top = serde_json::json!([{ "Plan": v, "Execution Time": execution_ms, "Query Text": stmt }]);
    let mut plan = super::from_json(top, PlanFormat::Json).unwrap_or_else(|e| unreachable!("built here: {e}"));
    for n in &mut plan.nodes {
        if let Some(d) = n.field_str("Detail") {
            n.label = d.to_string();
        }
    }
    super::analyze::analyse(&mut plan);
    plan
}

/// "SCAN orders", "SEARCH orders USING INDEX orders_by_customer (customer_id=?)",
/// "USE TEMP B-TREE FOR ORDER BY" → (node type, relation).
fn sqlite_detail(detail: &str) -> (String, Option<String>) {
    for verb in ["SCAN", "SEARCH"] {
        if let Some(rest) = detail.strip_prefix(verb).map(str::trim_start) {
            let rest = rest.strip_prefix("TABLE ").unwrap_or(rest);
            let rel = rest.split_whitespace().next().map(str::to_string);
            return (verb.to_string(), rel);
        }
    }
    let ty = detail
        .split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '-'))
        .collect::<Vec<_>>()
        .join(" ");
    (if ty.is_empty() { detail.to_string() } else { ty }, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_classified_past_comments_and_strings() {
        assert_eq!(classify("select 1").unwrap(), StatementKind::Read);
        assert_eq!(
            classify("  -- a comment\n/* and another */ SELECT 'delete from x'").unwrap(),
            StatementKind::Read
        );
        assert_eq!(
            classify("with d as (delete from t returning *) select * from d").unwrap(),
            StatementKind::Write
        );
        assert_eq!(classify("select * from t for update").unwrap(), StatementKind::Write);
        assert_eq!(classify("select * into new_t from t").unwrap(), StatementKind::Write);
        assert_eq!(classify("UPDATE t SET a = 1").unwrap(), StatementKind::Write);
        assert_eq!(classify("create index on t (a)").unwrap(), StatementKind::Ddl);
        assert_eq!(classify("drop table t;").unwrap(), StatementKind::Ddl);
        assert_eq!(classify("select $$;delete$$, 1").unwrap(), StatementKind::Read);
        let e = classify("select 1; drop table t").unwrap_err();
        assert!(e.message.contains("2 statements"), "{}", e.message);
        assert!(
            classify("explain select 1")
                .unwrap_err()
                .message
                .contains("already starts with EXPLAIN")
        );
        assert!(
            classify("  ;  -- nothing")
                .unwrap_err()
                .message
                .contains("no statement")
        );
    }

    #[test]
    fn parameters_are_counted_outside_strings() {
        assert_eq!(parameter_count("select * from t where a = $1 and b = $2"), 2);
        assert_eq!(parameter_count("select '$3' , $1"), 1);
        assert_eq!(parameter_count("select $body$ $9 $body$"), 0);
        assert_eq!(parameter_count("select 1"), 0);
    }

    #[test]
    fn options_read_like_explain() {
        let o = ExplainOptions {
            analyze: true,
            buffers: true,
            timing: Some(false),
            wal: true,
            ..Default::default()
        };
        assert_eq!(option_list(&o, false), "ANALYZE, BUFFERS, WAL, TIMING OFF, FORMAT JSON");
        assert_eq!(
            option_list(&ExplainOptions::default(), true),
            "GENERIC_PLAN, FORMAT JSON"
        );
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("NULL"), "NULL");
        assert_eq!(line_col("select\n  nope", 10), (2, 3));
    }

    #[test]
    fn sqlite_query_plans_become_trees() {
        let p = sqlite_plan(
            &[
                (3, 0, "SCAN orders".into()),
                (7, 0, "SEARCH customers USING INTEGER PRIMARY KEY (rowid=?)".into()),
                (12, 0, "USE TEMP B-TREE FOR ORDER BY".into()),
            ],
            "select …",
            None,
            None,
        );
        assert_eq!(p.nodes.len(), 4);
        assert_eq!(p.nodes[1].label, "SCAN orders");
        assert_eq!(p.nodes[1].relation.as_deref(), Some("orders"));
        assert_eq!(p.nodes[2].node_type, "SEARCH");
        assert_eq!(p.nodes[3].node_type, "USE TEMP B-TREE FOR ORDER BY");
    }
}
