//! What the live target says about a lint finding: how big the table is, who holds locks on
//! it right now, how far behind the replicas are. [`load`] reads it (three catalog queries);
//! [`LiveContext::weigh`] is pure and changes a finding's severity with a sentence saying why.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::PgConnection;
use ts_rs::TS;

use super::{Impact, LintFinding, LintReport, Severity};
use crate::cli_views::{bytes, duration_ms};
use crate::error::ApiError;
use crate::migrate::OnTarget;

/// Below both of these a rewrite or a full scan takes moments.
pub const SMALL_ROWS: f64 = 10_000.0;
pub const SMALL_BYTES: i64 = 10 * 1024 * 1024;
/// From either of these on, it takes long enough to be an outage.
pub const LARGE_ROWS: f64 = 1_000_000.0;
pub const LARGE_BYTES: i64 = 1024 * 1024 * 1024;
/// A transaction older than this is "long-running".
pub const LONG_TX_S: f64 = 30.0;

#[derive(Debug, Clone, Serialize, TS)]
pub struct TableFacts {
    pub schema: String,
    pub name: String,
    /// The planner's estimate (reltuples); None before the first ANALYZE.
    pub rows: Option<f64>,
    /// Table, indexes and TOAST.
    pub bytes: i64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct LongTransaction {
    pub pid: i32,
    pub age_s: f64,
    pub state: String,
    pub query: String,
    /// Tables it holds a lock on, as `regclass` prints them.
    pub tables: Vec<String>,
}

/// The target, as read just before linting.
#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct LiveContext {
    pub env: String,
    /// Keyed by lower-case `name` and `schema.name`.
    #[ts(type = "Record<string, TableFacts>")]
    pub tables: HashMap<String, TableFacts>,
    pub long_transactions: Vec<LongTransaction>,
    /// The most lagged replica's replay lag, when the primary reports it.
    pub replica_lag_s: Option<f64>,
    pub lag_threshold_s: f64,
}

/// Reads the facts about `tables` (names as the script wrote them) from the target.
pub async fn load(
    c: &mut PgConnection,
    env: &str,
    tables: &[String],
    lag_threshold_s: f64,
) -> Result<LiveContext, ApiError> {
    let names: Vec<String> = tables
        .iter()
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_string())
        .collect();
    let rows: Vec<(String, String, Option<f64>, i64)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text, \
                CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::float8 END, \
                pg_total_relation_size(c.oid) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'm') AND c.relname = ANY($1) \
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
         ORDER BY (n.nspname = ANY (current_schemas(false))) DESC",
    )
    .bind(&names)
    .fetch_all(&mut *c)
    .await
    .on_target()?;
    let mut map = HashMap::new();
    for (schema, name, rows, size) in rows {
        let facts = TableFacts {
            schema: schema.clone(),
            name: name.clone(),
            rows,
            bytes: size,
        };
        map.insert(format!("{schema}.{name}").to_lowercase(), facts.clone());
        // The unqualified name means the first match on the search path (ordered first).
        map.entry(name.to_lowercase()).or_insert(facts);
    }
    let long: Vec<(i32, f64, String, String, Vec<String>)> = sqlx::query_as(
        "SELECT a.pid, extract(epoch FROM now() - a.xact_start)::float8, coalesce(a.state, ''), left(a.query, 200), \
                coalesce(array_agg(DISTINCT l.relation::regclass::text) FILTER (WHERE l.relation IS NOT NULL), '{}') \
         FROM pg_stat_activity a \
         LEFT JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'relation' AND l.granted \
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         WHERE a.xact_start < now() - make_interval(secs => $1) AND a.pid <> pg_backend_pid() \
           AND a.backend_type = 'client backend' \
         GROUP BY 1, 2, 3, 4 ORDER BY 2 DESC",
    )
    .bind(LONG_TX_S)
    .fetch_all(&mut *c)
    .await
    .on_target()?;
    let lag: Option<f64> =
        sqlx::query_scalar("SELECT max(extract(epoch FROM replay_lag))::float8 FROM pg_stat_replication")
            .fetch_one(&mut *c)
            .await
            .unwrap_or(None);
    Ok(LiveContext {
        env: env.into(),
        tables: map,
        long_transactions: long
            .into_iter()
            .map(|(pid, age_s, state, query, tables)| LongTransaction {
                pid,
                age_s,
                state,
                query,
                tables,
            })
            .collect(),
        replica_lag_s: lag,
        lag_threshold_s,
    })
}

fn size_words(f: &TableFacts) -> String {
    match f.rows {
        Some(r) => format!("about {} rows, {}", fmt_rows(r), bytes(f.bytes)),
        None => format!("{} (never analysed: row count unknown)", bytes(f.bytes)),
    }
}

fn fmt_rows(r: f64) -> String {
    let n = r.round() as i64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl LiveContext {
    fn table(&self, name: &str) -> Option<&TableFacts> {
        self.tables.get(&name.to_lowercase())
    }

    /// Transactions older than [`LONG_TX_S`] holding a lock on `table` (any table when None).
    fn lockers(&self, table: Option<&TableFacts>) -> Vec<&LongTransaction> {
        self.long_transactions
            .iter()
            .filter(|t| match table {
                Some(f) => t.tables.iter().any(|n| {
                    let n = n.to_lowercase();
                    n == f.name.to_lowercase() || n == format!("{}.{}", f.schema, f.name).to_lowercase()
                }),
                None => true,
            })
            .collect()
    }

    /// Changes one finding's severity with what the target says, and says why.
    pub fn weigh(&self, f: &mut LintFinding) {
        if matches!(f.impact, Impact::Style | Impact::Breaks) {
            return;
        }
        let mut notes = Vec::new();
        let facts = f.table.as_deref().and_then(|t| self.table(t));
        let doing = match f.impact {
            Impact::Rewrite => "the rewrite",
            Impact::Scan => "the scan",
            _ => "the lock",
        };
        match (f.table.as_deref(), facts) {
            (Some(t), None) if f.impact != Impact::Lock => {
                f.severity = Severity::Info;
                notes.push(format!(
                    "{t} does not exist in {} yet (an earlier pending migration creates it?): {doing} has nothing to read",
                    self.env
                ));
            }
            (Some(t), Some(facts)) if f.impact != Impact::Lock => {
                let small = facts.rows.is_some_and(|r| r < SMALL_ROWS) && facts.bytes < SMALL_BYTES
                    || facts.rows.is_none() && facts.bytes < SMALL_BYTES / 10;
                let large = facts.rows.is_some_and(|r| r >= LARGE_ROWS) || facts.bytes >= LARGE_BYTES;
                if small {
                    f.severity = Severity::Info;
                    notes.push(format!(
                        "{t} in {} has {}: {doing} takes moments",
                        self.env,
                        size_words(facts)
                    ));
                } else if large {
                    f.severity = Severity::Critical;
                    notes.push(format!(
                        "{t} in {} has {}: {doing} holds its lock for as long as reading and writing that takes — minutes, not moments",
                        self.env,
                        size_words(facts)
                    ));
                } else {
                    notes.push(format!("{t} in {} has {}", self.env, size_words(facts)));
                }
                if f.impact == Impact::Rewrite
                    && let Some(lag) = self.replica_lag_s.filter(|&l| l > self.lag_threshold_s)
                {
                    notes.push(format!(
                        "replicas are already {} behind (threshold {}); the rewrite adds about {} of WAL for them to replay",
                        duration_ms(lag * 1000.0),
                        duration_ms(self.lag_threshold_s * 1000.0),
                        bytes(facts.bytes)
                    ));
                }
            }
            _ => {}
        }
        let lockers = match (&f.table, facts) {
            (Some(_), Some(facts)) => self.lockers(Some(facts)),
            (None, _) if f.impact == Impact::Lock => self.lockers(None),
            _ => vec![],
        };
        if let Some(t) = lockers.first() {
            f.severity = Severity::Critical;
            let on = facts
                .map(|x| format!(" holding a lock on {}", x.name))
                .unwrap_or_default();
            notes.push(format!(
                "right now pid {} has been in a transaction{on} for {} ({}{}): this statement would wait for it, and \
                 every query on the table would queue behind this one",
                t.pid,
                duration_ms(t.age_s * 1000.0),
                t.state,
                if lockers.len() > 1 {
                    format!("; {} such transactions in all", lockers.len())
                } else {
                    String::new()
                }
            ));
        }
        if !notes.is_empty() {
            f.context = Some(notes.join("; "));
        }
    }

    /// Weighs every finding of a report.
    pub fn apply(&self, report: &mut LintReport) {
        for f in &mut report.findings {
            self.weigh(f);
        }
    }
}

/// The tables a report's findings are about (to load their facts).
pub fn tables_of(reports: &[LintReport]) -> Vec<String> {
    let mut out: Vec<String> = reports
        .iter()
        .flat_map(|r| r.findings.iter().filter_map(|f| f.table.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}
