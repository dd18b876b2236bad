//! Index health (unused, duplicate, overlapping, invalid, oversized; tables scanned
//! sequentially) and index advice validated by the planner.
//!
//! Advice takes candidate indexes from the filters and join keys of a statement's plan and asks
//! the planner whether it would use them and what the plan would cost: with HypoPG's
//! hypothetical indexes when the extension is there (nothing is built), otherwise — and never on
//! a `prod` environment — by building the index inside a transaction, re-planning and rolling
//! back.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection};
use ts_rs::TS;

use super::run::{ExplainOptions, classify};
use super::{Plan, PlanFormat};
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IndexIssue {
    /// Never scanned since statistics were reset (not unique, not a primary key).
    Unused,
    /// Same table, columns, operator classes, expressions and predicate as another index.
    Duplicate,
    /// Its columns are a leading prefix of another index's (that one serves the same lookups).
    Overlapping,
    /// Left invalid by a failed CREATE INDEX CONCURRENTLY: maintained on writes, never used.
    Invalid,
    /// Bigger on disk than its table.
    LargerThanTable,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct IndexFinding {
    pub issue: IndexIssue,
    pub schema: String,
    pub table: String,
    pub index: String,
    pub definition: String,
    pub size_bytes: i64,
    pub table_bytes: i64,
    pub scans: i64,
    /// The other index, for duplicates and overlaps.
    pub other: Option<String>,
    pub detail: String,
    /// The statement that fixes it (to review, never run by dbdeck).
    pub fix: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct SeqScanTable {
    pub schema: String,
    pub table: String,
    pub seq_scans: i64,
    pub seq_rows_read: i64,
    pub index_scans: i64,
    pub live_rows: i64,
    pub size_bytes: i64,
    /// Rows read per sequential scan.
    pub rows_per_scan: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct IndexReport {
    pub env: String,
    /// When the statistics the usage figures count from were reset (unix ms), if known.
    pub stats_since_ms: Option<i64>,
    pub index_count: i64,
    pub total_index_bytes: i64,
    pub findings: Vec<IndexFinding>,
    pub seq_scan_tables: Vec<SeqScanTable>,
}

/// Index health of the current database, in five queries.
pub async fn report(conn: &mut PgConnection, env: &str, target: &str) -> Result<IndexReport, ApiError> {
    use sqlx::Row;
    let pg = |e| crate::probe::classify_pg(e, target);
    let stats_since_ms: Option<i64> = sqlx::query_scalar(
        "SELECT (extract(epoch FROM stats_reset) * 1000)::int8 FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(pg)?
    .flatten();
    let (index_count, total_index_bytes): (i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(pg_relation_size(indexrelid)), 0)::int8 FROM pg_stat_user_indexes",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(pg)?;

    // Every user index with what the checks need.
    let rows = sqlx::query(
        "SELECT s.schemaname, s.relname, s.indexrelname, pg_get_indexdef(i.indexrelid) AS def,
                pg_relation_size(i.indexrelid)::int8 AS size, pg_relation_size(i.indrelid)::int8 AS tsize,
                s.idx_scan::int8 AS scans, i.indisunique, i.indisprimary, i.indisvalid,
                i.indrelid::int8 AS rel, i.indkey::text AS keys, i.indclass::text AS classes,
                coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs,
                coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred,
                am.amname AS am,
                EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) AS backs_constraint
         FROM pg_stat_user_indexes s
         JOIN pg_index i ON i.indexrelid = s.indexrelid
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_am am ON am.oid = ic.relam
         ORDER BY s.schemaname, s.relname, s.indexrelname",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(pg)?;
    struct Ix {
        schema: String,
        table: String,
        name: String,
        def: String,
        size: i64,
        tsize: i64,
        scans: i64,
        unique: bool,
        primary: bool,
        valid: bool,
        rel: i64,
        keys: Vec<String>,
        classes: Vec<String>,
        exprs: String,
        pred: String,
        am: String,
        constraint: bool,
    }
    let ixs: Vec<Ix> = rows
        .iter()
        .map(|r| Ix {
            schema: r.get("schemaname"),
            table: r.get("relname"),
            name: r.get("indexrelname"),
            def: r.get("def"),
            size: r.get("size"),
            tsize: r.get("tsize"),
            scans: r.get("scans"),
            unique: r.get("indisunique"),
            primary: r.get("indisprimary"),
            valid: r.get("indisvalid"),
            rel: r.get("rel"),
            keys: r
                .get::<String, _>("keys")
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            classes: r
                .get::<String, _>("classes")
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            exprs: r.get("exprs"),
            pred: r.get("pred"),
            am: r.get("am"),
            constraint: r.get("backs_constraint"),
        })
        .collect();
    let q = |ix: &Ix| format!("{}.{}", quote_ident(&ix.schema), quote_ident(&ix.name));
    let mut findings = vec![];
    let finding = |issue, ix: &Ix, other: Option<String>, detail: String, fix: String| IndexFinding {
        issue,
        schema: ix.schema.clone(),
        table: ix.table.clone(),
        index: ix.name.clone(),
        definition: ix.def.clone(),
        size_bytes: ix.size,
        table_bytes: ix.tsize,
        scans: ix.scans,
        other,
        detail,
        fix,
    };
    for ix in &ixs {
        if !ix.valid {
            findings.push(finding(
                IndexIssue::Invalid,
                ix,
                None,
                "The index is marked invalid (a CREATE INDEX CONCURRENTLY or REINDEX that failed). Writes still maintain it; queries never use it.".into(),
                format!("REINDEX INDEX CONCURRENTLY {};  -- or DROP INDEX CONCURRENTLY {};", q(ix), q(ix)),
            ));
            continue;
        }
        if ix.scans == 0 && !ix.unique && !ix.primary && !ix.constraint {
            findings.push(finding(
                IndexIssue::Unused,
                ix,
                None,
                format!(
                    "Not used by any scan since the statistics were reset; it costs {} on disk and work on every write. Check replicas too: their scans are not counted here.",
                    crate::cli_views::bytes(ix.size)
                ),
                format!("DROP INDEX CONCURRENTLY {};", q(ix)),
            ));
        }
        if ix.size > ix.tsize && ix.tsize > 8192 * 16 {
            findings.push(finding(
                IndexIssue::LargerThanTable,
                ix,
                None,
                format!(
                    "The index ({}) is larger than its table ({}): usually bloat from updates and deletes.",
                    crate::cli_views::bytes(ix.size),
                    crate::cli_views::bytes(ix.tsize)
                ),
                format!("REINDEX INDEX CONCURRENTLY {};", q(ix)),
            ));
        }
    }
    // Duplicates and overlaps: compare indexes of the same table and access method.
    for (a_i, a) in ixs.iter().enumerate() {
        for (b_i, b) in ixs.iter().enumerate() {
            if a_i == b_i
                || a.rel != b.rel
                || a.am != b.am
                || a.pred != b.pred
                || a.exprs != b.exprs
                || !a.valid
                || !b.valid
            {
                continue;
            }
            let same = a.keys == b.keys && a.classes == b.classes;
            if same {
                // Report once, keeping the constraint-backing or older-named one.
                let keep_a = a.primary
                    || a.unique
                    || a.constraint
                    || (!(b.primary || b.unique || b.constraint) && a.name < b.name);
                if keep_a {
                    continue;
                }
                findings.push(finding(
                    IndexIssue::Duplicate,
                    a,
                    Some(b.name.clone()),
                    format!(
                        "Identical to {} (same columns, operator classes and predicate).",
                        b.name
                    ),
                    format!("DROP INDEX CONCURRENTLY {};", q(a)),
                ));
            } else if a.keys.len() < b.keys.len()
                && b.keys.starts_with(&a.keys)
                && b.classes.starts_with(&a.classes)
                && !a.unique
                && !a.primary
                && !a.constraint
                && a.am == "btree"
            {
                findings.push(finding(
                    IndexIssue::Overlapping,
                    a,
                    Some(b.name.clone()),
                    format!(
                        "Its columns lead {}, which serves the same lookups; {} is usually redundant unless its smaller size matters for a hot query.",
                        b.name, a.name
                    ),
                    format!("DROP INDEX CONCURRENTLY {};", q(a)),
                ));
            }
        }
    }
    let seq = sqlx::query(
        "SELECT schemaname, relname, seq_scan::int8, seq_tup_read::int8, coalesce(idx_scan, 0)::int8 AS idx_scan,
                n_live_tup::int8, pg_relation_size(relid)::int8 AS size
         FROM pg_stat_user_tables
         WHERE seq_scan > 0 AND n_live_tup >= 10000 AND seq_tup_read / seq_scan >= 1000
         ORDER BY seq_tup_read DESC LIMIT 20",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(pg)?;
    let seq_scan_tables = seq
        .iter()
        .map(|r| {
            let scans: i64 = r.get("seq_scan");
            let read: i64 = r.get("seq_tup_read");
            SeqScanTable {
                schema: r.get("schemaname"),
                table: r.get("relname"),
                seq_scans: scans,
                seq_rows_read: read,
                index_scans: r.get("idx_scan"),
                live_rows: r.get("n_live_tup"),
                size_bytes: r.get("size"),
                rows_per_scan: read as f64 / scans.max(1) as f64,
            }
        })
        .collect();
    Ok(IndexReport {
        env: env.to_string(),
        stats_since_ms,
        index_count,
        total_index_bytes,
        findings,
        seq_scan_tables,
    })
}

pub fn quote_ident(s: &str) -> String {
    if !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// How an advised index was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Validation {
    /// A hypothetical index (HypoPG): nothing was built.
    Hypopg,
    /// Built inside a transaction, planned with, and rolled back (non-prod only).
    Transaction,
    /// Not checked: prod without HypoPG, or the check failed (see `note`).
    NotValidated,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct IndexCandidate {
    pub schema: Option<String>,
    pub table: String,
    pub columns: Vec<String>,
    /// Why: "filter of Seq Scan on visits (removes 99.9 % of rows)".
    pub reason: String,
    /// The statement to build it, to review and run yourself.
    pub ddl: String,
    pub validation: Validation,
    /// The planner chose the index when it was available.
    pub used: Option<bool>,
    pub cost_before: f64,
    pub cost_after: Option<f64>,
    /// (before − after) ÷ before, in %.
    pub improvement_pct: Option<f64>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct IndexAdvice {
    pub env: String,
    pub sql: String,
    pub cost_before: f64,
    /// Whether HypoPG was available for the checks.
    pub hypopg: bool,
    pub candidates: Vec<IndexCandidate>,
    /// The plan the advice was drawn from (EXPLAIN without ANALYZE).
    pub plan: Plan,
    pub notes: Vec<String>,
}

/// Candidate (table, columns, reason) from a plan's expensive scans: filter columns of
/// sequential scans that discard rows (or are estimated to), and the inner join keys of joins
/// whose inner side is a sequential scan.
pub fn candidates(plan: &Plan) -> Vec<(Option<String>, String, Vec<String>, String)> {
    use super::analyze::filter_columns;
    let mut out: Vec<(Option<String>, String, Vec<String>, String)> = vec![];
    let mut push = |schema: Option<String>, table: String, cols: Vec<String>, reason: String| {
        if cols.is_empty() || out.iter().any(|(s, t, c, _)| *s == schema && *t == table && *c == cols) {
            return;
        }
        out.push((schema, table, cols, reason));
    };
    for n in &plan.nodes {
        if !n.node_type.contains("Seq Scan") {
            continue;
        }
        let Some(table) = n.relation.clone() else { continue };
        if let Some(f) = n.field_str("Filter") {
            // Equality columns first (they make the best leading columns), then ranges.
            let mut cols = filter_columns(f);
            let eq: Vec<String> = cols
                .iter()
                .filter(|c| f.contains(&format!("{c} = ")) || f.contains(&format!("{c} =")))
                .cloned()
                .collect();
            cols.retain(|c| !eq.contains(c));
            let ordered: Vec<String> = eq.into_iter().chain(cols).take(3).collect();
            let kept = match (n.rows_removed_by_filter, n.total_rows) {
                (Some(r), Some(k)) if r + k > 0.0 => format!(" (keeps {:.2} % of rows)", k / (r + k) * 100.0),
                _ => String::new(),
            };
            push(
                n.schema.clone(),
                table.clone(),
                ordered,
                format!("filter of {}{kept}: {f}", n.label),
            );
        }
        // The inner side of a join: the join key on this table.
        if let Some(p) = n.parent {
            let parent = &plan.nodes[p as usize];
            let join = if parent.node_type == "Hash" {
                parent.parent.map(|g| &plan.nodes[g as usize])
            } else {
                Some(parent)
            };
            if let Some(j) = join
                && (j.node_type == "Nested Loop" || j.node_type == "Hash Join" || j.node_type == "Merge Join")
            {
                let cond = j
                    .field_str("Hash Cond")
                    .or_else(|| j.field_str("Merge Cond"))
                    .or_else(|| j.field_str("Join Filter"));
                if let Some(cond) = cond {
                    let alias = n.alias.clone().unwrap_or_else(|| table.clone());
                    let mine: Vec<String> = cond
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                        .filter_map(|w| w.strip_prefix(&format!("{alias}.")))
                        .map(str::to_string)
                        .take(1)
                        .collect();
                    push(
                        n.schema.clone(),
                        table.clone(),
                        mine,
                        format!("join key of {} ({cond})", j.label),
                    );
                }
            }
        }
    }
    out
}

/// Plan `sql`, derive candidates, and check each with the planner.
pub async fn advise(
    conn: &mut PgConnection,
    env: &crate::env::Environment,
    sql: &str,
    params: &[String],
    build_in_transaction: bool,
    timeout: Duration,
    target: &str,
) -> Result<IndexAdvice, ApiError> {
    let pg = |e| crate::probe::classify_pg(e, target);
    classify(sql)?;
    if build_in_transaction && env.is_prod() {
        return Err(ApiError::invalid(format!(
            "'{}' is a prod environment: dbdeck never builds indexes there, not even in a transaction",
            env.name
        ))
        .with_hint("use HypoPG (hypothetical indexes, nothing built) on prod"));
    }
    // VERBOSE: relation names come with their schema, so the advised DDL is unambiguous.
    let verbose = ExplainOptions {
        verbose: true,
        ..Default::default()
    };
    let base = super::run::explain_pg(conn, sql, &verbose, params, timeout, target).await?;
    let plan = base.plan;
    let stmt = base.sql.unwrap_or_else(|| sql.to_string());
    // Each check plans the statement the way this first EXPLAIN did: with the values given,
    // or generically (explain_pg has refused a parameterised statement it could not plan).
    let planned = Planned {
        stmt: &stmt,
        params,
        generic: params.is_empty() && super::run::parameter_count(&stmt) > 0,
    };
    let cost_before = plan.summary.total_cost;
    let installed: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'hypopg')")
        .fetch_one(&mut *conn)
        .await
        .map_err(pg)?;
    let available: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg')")
            .fetch_one(&mut *conn)
            .await
            .map_err(pg)?;
    let prod = env.is_prod();
    let use_hypopg = !build_in_transaction && (installed || (available && !prod));
    let mut notes = vec![];
    let existing: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(pg)?;

    let mut out = vec![];
    for (schema, table, cols, reason) in candidates(&plan) {
        let qualified = match &schema {
            Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&table)),
            None => quote_ident(&table),
        };
        let col_list = cols.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
        let ddl = format!("CREATE INDEX CONCURRENTLY ON {qualified} ({col_list});");
        // An existing btree index that already leads with these columns makes it moot.
        let lead = format!("({col_list}");
        if existing
            .iter()
            .any(|(t, def)| *t == table && def.contains(&format!("USING btree {lead}")))
        {
            continue;
        }
        let mut c = IndexCandidate {
            schema: schema.clone(),
            table: table.clone(),
            columns: cols.clone(),
            reason,
            ddl,
            validation: Validation::NotValidated,
            used: None,
            cost_before,
            cost_after: None,
            improvement_pct: None,
            note: None,
        };
        let create = format!("CREATE INDEX ON {qualified} ({col_list})");
        let checked = if use_hypopg {
            check_hypopg(conn, &planned, &create, installed, timeout, target)
                .await
                .map(|r| (Validation::Hypopg, r))
        } else if !prod {
            check_in_transaction(conn, &planned, &create, timeout, target)
                .await
                .map(|r| (Validation::Transaction, r))
        } else {
            Err(ApiError::invalid(
                "not checked: this is a prod environment and HypoPG is not installed, so dbdeck creates nothing to test it",
            )
            .with_hint("install HypoPG (postgresql-NN-hypopg, then CREATE EXTENSION hypopg) to check indexes on prod without building them"))
        };
        match checked {
            Ok((v, (after, used))) => {
                c.validation = v;
                c.cost_after = Some(after);
                c.used = Some(used);
                c.improvement_pct = (cost_before > 0.0).then(|| (cost_before - after) / cost_before * 100.0);
            }
            Err(e) => c.note = Some(e.message),
        }
        out.push(c);
    }
    out.sort_by(|a, b| {
        b.improvement_pct
            .unwrap_or(-1.0)
            .total_cmp(&a.improvement_pct.unwrap_or(-1.0))
    });
    if out.is_empty() {
        notes.push("No candidate: the plan has no sequential scan with a filter or join key that an index would serve, or indexes for them exist.".into());
    }
    if use_hypopg {
        notes.push("Checked with HypoPG hypothetical indexes: nothing was built.".into());
    } else if !prod {
        notes.push("Checked by building each index inside a transaction and rolling back (HypoPG is not available); the table was locked against writes while each was built.".into());
    }
    Ok(IndexAdvice {
        env: env.name.clone(),
        sql: stmt,
        cost_before,
        hypopg: use_hypopg,
        candidates: out,
        plan,
        notes,
    })
}

/// (cost after, index used) with a hypothetical index. The extension is created inside the
/// transaction when it is not installed (only on non-prod), so it is gone afterwards.
async fn check_hypopg(
    conn: &mut PgConnection,
    stmt: &Planned<'_>,
    create: &str,
    installed: bool,
    timeout: Duration,
    target: &str,
) -> Result<(f64, bool), ApiError> {
    let pg = |e| crate::probe::classify_pg(e, target);
    let mut tx = conn.begin().await.map_err(pg)?;
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = 2000"
    )))
    .execute(&mut *tx)
    .await
    .map_err(pg)?;
    if !installed {
        sqlx::raw_sql("CREATE EXTENSION hypopg")
            .execute(&mut *tx)
            .await
            .map_err(pg)?;
    }
    let result = async {
        let (_oid, name): (i64, String) =
            sqlx::query_as("SELECT indexrelid::int8, indexname::text FROM hypopg_create_index($1)")
                .bind(create)
                .fetch_one(&mut *tx)
                .await?;
        let plan = stmt.plan(&mut tx).await?;
        let _ = sqlx::raw_sql("SELECT hypopg_reset()").execute(&mut *tx).await;
        Ok::<_, sqlx::Error>((plan, name))
    }
    .await;
    let _ = tx.rollback().await;
    stmt.forget(conn).await;
    let (plan, name) = result.map_err(pg)?;
    cost_and_use(plan, &name)
}

/// (cost after, index used) by building the index in a transaction that is rolled back.
async fn check_in_transaction(
    conn: &mut PgConnection,
    stmt: &Planned<'_>,
    create: &str,
    timeout: Duration,
    target: &str,
) -> Result<(f64, bool), ApiError> {
    let pg = |e| crate::probe::classify_pg(e, target);
    let mut tx = conn.begin().await.map_err(pg)?;
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128);
    let name = format!("dbdeck_advice_{}", rand::random::<u32>());
    let named = create.replacen("CREATE INDEX ON", &format!("CREATE INDEX {name} ON"), 1);
    let result = async {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = 2000; {named}"
        )))
        .execute(&mut *tx)
        .await?;
        stmt.plan(&mut tx).await
    }
    .await;
    let rollback = tx.rollback().await;
    stmt.forget(conn).await;
    let plan = result.map_err(pg)?;
    rollback.map_err(pg)?;
    cost_and_use(plan, &name)
}

/// The statement as the advice plans it: with its parameters' values (a prepared statement,
/// EXPLAIN EXECUTE), generically (PostgreSQL 16+), or as it is.
struct Planned<'a> {
    stmt: &'a str,
    params: &'a [String],
    generic: bool,
}

impl Planned<'_> {
    /// EXPLAIN (FORMAT JSON) of the statement, on `conn` (a transaction holding the candidate).
    async fn plan(&self, conn: &mut PgConnection) -> Result<serde_json::Value, sqlx::Error> {
        if self.params.is_empty() {
            let opts = if self.generic {
                "GENERIC_PLAN, FORMAT JSON"
            } else {
                "FORMAT JSON"
            };
            let sql = format!("EXPLAIN ({opts}) {}", self.stmt);
            return sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *conn).await;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("PREPARE dbdeck_advice AS {}", self.stmt)))
            .execute(&mut *conn)
            .await?;
        let values = self.params.iter().map(|p| super::run::literal(p)).collect::<Vec<_>>();
        let sql = format!("EXPLAIN (FORMAT JSON) EXECUTE dbdeck_advice({})", values.join(", "));
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *conn).await
    }

    /// PREPARE outlives a rolled-back transaction: drop the statement once it is over, so the
    /// next candidate (or the pool's next user) can prepare its own.
    async fn forget(&self, conn: &mut PgConnection) {
        if !self.params.is_empty() {
            let _ = sqlx::raw_sql("DEALLOCATE dbdeck_advice").execute(&mut *conn).await;
        }
    }
}

fn cost_and_use(plan: serde_json::Value, index: &str) -> Result<(f64, bool), ApiError> {
    let p = super::from_json(plan, PlanFormat::Json)?;
    let used = p
        .nodes
        .iter()
        .any(|n| n.index_name.as_deref().is_some_and(|i| i.contains(index)));
    let cost = p.nodes.first().map_or(0.0, |n| n.total_cost);
    Ok((cost, used))
}

impl From<IndexIssue> for &'static str {
    fn from(i: IndexIssue) -> &'static str {
        match i {
            IndexIssue::Unused => "unused",
            IndexIssue::Duplicate => "duplicate",
            IndexIssue::Overlapping => "overlapping",
            IndexIssue::Invalid => "invalid",
            IndexIssue::LargerThanTable => "larger than table",
        }
    }
}
