//! Applying and rolling back migrations, with the safeguards a DBA expects.
//!
//! - One migration at a time, each in its own transaction when every statement allows it, with
//!   `lock_timeout` and `statement_timeout` set. A lock timeout (SQLSTATE 55P03) rolls the
//!   migration back and retries it after a back-off that doubles.
//! - PostgreSQL: a session advisory lock — the one sqlx itself takes, derived from the
//!   database name — so two dbdeck instances, or dbdeck and `sqlx migrate run`, never apply to
//!   the same database at once. The second one is told who holds it.
//! - The history row is written inside the migration's transaction, the way the folder's tool
//!   writes it, so a failed migration leaves no row and the team's tool still agrees.
//! - A failure names the file, the statement and the position in the file. A migration that
//!   ran outside a transaction (CREATE INDEX CONCURRENTLY) and failed is checked for INVALID
//!   indexes it left behind, with the SQL to clean them up.
//! - Dry run: every pending migration inside one transaction that is rolled back, when all of
//!   them are transactional (the caller uses a scratch database otherwise).

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::Executor;
use ts_rs::TS;

use super::history::{self, Db, Record};
use super::lint;
use super::source::{Migration, MigrationKind, Script, Source, SourceFormat, Version};
use super::status::{self, State, Status};
use crate::error::ApiError;
use crate::migrate::OnTarget;

/// How to apply.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ApplyOptions {
    pub lock_timeout_ms: u64,
    /// 0: no limit.
    pub statement_timeout_s: u64,
    /// Attempts after the first when a lock cannot be had in time.
    pub retries: u32,
    /// The first back-off; it doubles each retry.
    pub backoff_ms: u64,
    /// Apply up to and including this version (None: everything pending).
    pub target: Option<String>,
    /// Who applies (Flyway's installed_by).
    pub user: String,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            lock_timeout_ms: 5_000,
            statement_timeout_s: 0,
            retries: 3,
            backoff_ms: 1_000,
            target: None,
            user: "dbdeck".into(),
        }
    }
}

/// A live progress report of a run.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Progress {
    /// Migration `k` of `n` starts (attempt 1, 2, …).
    Migration {
        k: u32,
        n: u32,
        label: String,
        attempt: u32,
    },
    /// Statement `i` of `count` of the current migration starts.
    Statement {
        k: u32,
        i: u32,
        count: u32,
        excerpt: String,
    },
    /// A lock could not be had in time; waiting before the next attempt.
    Retry {
        k: u32,
        attempt: u32,
        wait_ms: u64,
        reason: String,
    },
    /// Migration `k` finished (or failed).
    Done { k: u32, ok: bool, ms: f64 },
}

/// Where and why a migration failed.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Failure {
    pub file: String,
    /// 1-based; 0 when the whole script ran as one (SQLite).
    pub statement: u32,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
    pub sqlstate: Option<String>,
    /// What state the database is in now, in words.
    pub state: String,
}

/// An INVALID index a failed non-transactional migration left behind.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LeftBehind {
    pub index: String,
    pub table: String,
    pub cleanup_sql: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Applied,
    RolledBack,
    /// Ran inside the dry run's transaction, then rolled back.
    DryRunOk,
    Failed,
    /// Not reached because an earlier one failed.
    NotRun,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct StepReport {
    pub version: Option<Version>,
    pub description: String,
    pub file: String,
    pub outcome: StepOutcome,
    pub transactional: bool,
    pub statements: u32,
    pub attempts: u32,
    pub ms: f64,
    pub failure: Option<Failure>,
    pub left_behind: Vec<LeftBehind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Apply,
    DryRun,
    Rollback,
}

/// What a run did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RunReport {
    pub kind: RunKind,
    pub format: SourceFormat,
    pub steps: Vec<StepReport>,
    pub ok: bool,
    pub ms: f64,
    /// The status read again after the run.
    pub after: Option<Status>,
    /// Checks after the run, each "ok: …" or "FAILED: …".
    pub verify: Vec<String>,
}

/// One executable statement of a script.
#[derive(Debug, Clone)]
pub struct Piece {
    pub text: String,
    /// Byte offset in the script.
    pub offset: usize,
    /// Cannot run inside a transaction block.
    pub no_tx: bool,
    /// The index a CREATE INDEX CONCURRENTLY builds, `schema.name` or `name`.
    pub concurrent_index: Option<String>,
}

/// Splits a PostgreSQL script into statements with the real parser; psql meta-commands are
/// skipped (`\i` refused: it needs psql).
pub fn pieces(script: &Script) -> Result<Vec<Piece>, ApiError> {
    use pg_query::NodeEnum;
    let (text, notes) = lint::prepare(&script.sql);
    if let Some(n) = notes.iter().find(|n| n.message.contains("includes another file")) {
        return Err(ApiError::invalid(format!(
            "{}:{}: {} — dbdeck runs SQL, not psql scripts",
            script.path.display(),
            n.line,
            n.message
        )));
    }
    let parsed = lint::parse::parse(&text).map_err(|e| {
        let (line, column) = lint::line_col(&script.sql, e.offset.unwrap_or(0));
        ApiError::invalid(format!(
            "{}:{line}:{column}: PostgreSQL cannot parse this: {}",
            script.path.display(),
            e.message
        ))
    })?;
    let mut out = Vec::new();
    for raw in &parsed.stmts {
        let start = raw.stmt_location.max(0) as usize;
        let end = if raw.stmt_len > 0 {
            start + raw.stmt_len as usize
        } else {
            text.len()
        };
        let piece = text[start..end.min(text.len())].trim();
        if piece.is_empty() {
            continue;
        }
        let offset = start + text[start..].find(piece.chars().next().unwrap_or(' ')).unwrap_or(0);
        let node = raw.stmt.as_ref().and_then(|n| n.node.as_ref());
        let (no_tx, concurrent_index) = match node {
            Some(NodeEnum::IndexStmt(ix)) if ix.concurrent => (
                true,
                Some(match ix.relation.as_ref().filter(|r| !r.schemaname.is_empty()) {
                    Some(r) if !ix.idxname.is_empty() => format!("{}.{}", r.schemaname, ix.idxname),
                    _ => ix.idxname.clone(),
                }),
            ),
            Some(NodeEnum::DropStmt(d)) if d.concurrent => (true, None),
            Some(NodeEnum::ReindexStmt(r)) => (lint::rules::reindex_not_concurrent::is_concurrent(r), None),
            Some(
                NodeEnum::VacuumStmt(_)
                | NodeEnum::CreatedbStmt(_)
                | NodeEnum::DropdbStmt(_)
                | NodeEnum::AlterSystemStmt(_),
            ) => (true, None),
            Some(NodeEnum::CreateTableSpaceStmt(_) | NodeEnum::DropTableSpaceStmt(_)) => (true, None),
            _ => (false, None),
        };
        out.push(Piece {
            text: piece.to_string(),
            offset,
            no_tx,
            concurrent_index,
        });
    }
    Ok(out)
}

/// Whether dbdeck runs this script in a transaction: as the folder's tool would. sqlx: unless
/// it starts with `-- no-transaction`. Flyway and plain folders: unless it asks not to, or a
/// statement cannot run in one (Flyway detects those itself on PostgreSQL).
pub fn transactional(format: SourceFormat, script: &Script, pieces: &[Piece]) -> bool {
    match format {
        SourceFormat::Sqlx => !script.no_transaction,
        _ => !script.no_transaction && !pieces.iter().any(|p| p.no_tx),
    }
}

/// sqlx's advisory lock id for a database: the same number, so sqlx-cli and dbdeck exclude
/// each other.
pub fn lock_id(database: &str) -> i64 {
    0x3d32ad9e * i64::from(crc32fast::hash(database.as_bytes()))
}

/// Takes the migration lock (PostgreSQL), or says who holds it.
pub async fn lock(db: &mut Db<'_>) -> Result<Option<i64>, ApiError> {
    let Db::Pg(c) = db else { return Ok(None) };
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut **c)
        .await
        .on_target()?;
    let id = lock_id(&database);
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(id)
        .fetch_one(&mut **c)
        .await
        .on_target()?;
    if got {
        return Ok(Some(id));
    }
    let holder: Option<(i32, String, String, Option<f64>)> = sqlx::query_as(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.client_addr::text, 'local'), \
                extract(epoch FROM now() - a.backend_start)::float8 \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted \
           AND ((l.classid::bigint << 32) | l.objid::bigint) = $1 LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&mut **c)
    .await
    .on_target()?;
    let who = match holder {
        Some((pid, app, addr, _)) => format!(" (pid {pid}, application '{app}', from {addr})"),
        None => String::new(),
    };
    Err(ApiError::new(
        crate::error::ErrorCode::Conflict,
        format!("another migration run holds the migration lock on database '{database}'{who}; nothing was changed"),
    )
    .with_hint("wait for it to finish, then look at the status again"))
}

pub async fn unlock(db: &mut Db<'_>, id: Option<i64>) {
    if let (Db::Pg(c), Some(id)) = (db, id) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(id)
            .execute(&mut **c)
            .await;
    }
}

/// 1-based line and column of a byte offset in a script.
fn place(script: &Script, offset: usize) -> (u32, u32) {
    lint::line_col(&script.sql, offset)
}

/// Turns a database error at statement `i` of `script` into a [`Failure`].
fn failure(script: &Script, piece: Option<(u32, &Piece)>, e: &sqlx::Error, state: &str) -> Failure {
    let (message, sqlstate, pos) = match e {
        sqlx::Error::Database(d) => {
            let pos = d
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|p| match p.position() {
                    Some(sqlx::postgres::PgErrorPosition::Original(n)) => Some(n),
                    _ => None,
                });
            (d.message().to_string(), d.code().map(|c| c.to_string()), pos)
        }
        other => (other.to_string(), None, None),
    };
    let (statement, line, column) = match piece {
        Some((i, p)) => {
            // The server's position counts characters from 1 within the statement.
            let at = match pos {
                Some(n) => p.offset + p.text.char_indices().nth(n.saturating_sub(1)).map_or(0, |(b, _)| b),
                None => p.offset,
            };
            let (l, c) = place(script, at);
            (i, Some(l), Some(c))
        }
        None => (0, None, None),
    };
    Failure {
        file: script.path.display().to_string(),
        statement,
        line,
        column,
        message,
        sqlstate,
        state: state.into(),
    }
}

fn excerpt(s: &str) -> String {
    let one = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 80 {
        format!("{}…", one.chars().take(79).collect::<String>())
    } else {
        one
    }
}

async fn set_timeouts(db: &mut Db<'_>, o: &ApplyOptions, local: bool) -> Result<(), sqlx::Error> {
    if db.is_pg() {
        let scope = if local { "LOCAL " } else { "" };
        db.execute(&format!(
            "SET {scope}lock_timeout = {}; SET {scope}statement_timeout = {}",
            o.lock_timeout_ms,
            o.statement_timeout_s * 1000
        ))
        .await?;
    }
    Ok(())
}

/// Runs one script (up or down) and records it, in a transaction when it can.
/// Returns the failure, if any; on success the history has its row.
#[allow(clippy::too_many_arguments)]
async fn run_script(
    db: &mut Db<'_>,
    format: SourceFormat,
    m: &Migration,
    script: &Script,
    undo: bool,
    k: u32,
    o: &ApplyOptions,
    keep_open: bool,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(u32, bool, Vec<Piece>), (Failure, bool, Vec<Piece>)> {
    let pieces = if db.is_pg() {
        match pieces(script) {
            Ok(p) => p,
            Err(e) => {
                let f = Failure {
                    file: script.path.display().to_string(),
                    statement: 0,
                    line: None,
                    column: None,
                    message: e.message,
                    sqlstate: None,
                    state: "nothing was run".into(),
                };
                return Err((f, true, vec![]));
            }
        }
    } else {
        vec![Piece {
            text: lint::prepare(&script.sql).0,
            offset: 0,
            no_tx: false,
            concurrent_index: None,
        }]
    };
    let tx = transactional(format, script, &pieces);
    let count = pieces.len() as u32;
    let start = Instant::now();
    let begin = if keep_open { "SAVEPOINT dbdeck_step" } else { "BEGIN" };
    let undo_tx = if keep_open {
        "ROLLBACK TO SAVEPOINT dbdeck_step"
    } else {
        "ROLLBACK"
    };
    if tx {
        if let Err(e) = db.execute(begin).await {
            return Err((failure(script, None, &e, "nothing was run"), tx, pieces));
        }
        if let Err(e) = set_timeouts(db, o, true).await {
            let _ = db.execute(undo_tx).await;
            return Err((failure(script, None, &e, "nothing was run"), tx, pieces));
        }
    } else if let Err(e) = set_timeouts(db, o, false).await {
        return Err((failure(script, None, &e, "nothing was run"), tx, pieces));
    }
    for (i, p) in pieces.iter().enumerate() {
        progress(Progress::Statement {
            k,
            i: i as u32 + 1,
            count,
            excerpt: excerpt(&p.text),
        });
        if let Err(e) = db.execute(&p.text).await {
            let state = if tx {
                let _ = db.execute(undo_tx).await;
                "rolled back: nothing of this migration remains, and the history has no row for it".to_string()
            } else if i == 0 {
                "nothing of this migration ran (it runs outside a transaction); the history has no row for it"
                    .to_string()
            } else {
                format!(
                    "this migration runs outside a transaction: statements 1–{i} stayed applied; the history has no row for it"
                )
            };
            let n = if db.is_pg() { i as u32 + 1 } else { 0 };
            return Err((
                failure(script, Some((n, p)).filter(|_| db.is_pg()), &e, &state),
                tx,
                pieces,
            ));
        }
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let rec = Record {
        version: m.version.as_ref(),
        description: &m.description,
        script: &script.path.to_string_lossy(),
        checksum: &m.up.checksum,
        execution_ms: ms,
        success: true,
        undo,
        user: &o.user,
    };
    let recorded = async {
        history::ensure_table(db, format).await?;
        history::record(db, format, &rec).await
    }
    .await;
    if let Err(e) = recorded {
        if tx {
            let _ = db.execute(undo_tx).await;
        }
        return Err((
            Failure {
                file: script.path.display().to_string(),
                statement: 0,
                line: None,
                column: None,
                message: format!("could not write the history row: {}", e.message),
                sqlstate: None,
                state: if tx {
                    "rolled back".into()
                } else {
                    "applied, but not recorded: repair the history".into()
                },
            },
            tx,
            pieces,
        ));
    }
    if tx && !keep_open {
        db.execute("COMMIT").await.map_err(|e| {
            (
                failure(script, None, &e, "the commit failed: nothing was applied"),
                tx,
                vec![],
            )
        })?;
    } else if tx && keep_open {
        let _ = db.execute("RELEASE SAVEPOINT dbdeck_step").await;
    }
    Ok((count, tx, pieces))
}

/// INVALID indexes named by a script's CREATE INDEX CONCURRENTLY statements.
async fn left_behind(db: &mut Db<'_>, pieces: &[Piece]) -> Vec<LeftBehind> {
    let Db::Pg(c) = db else { return vec![] };
    let mut out = Vec::new();
    for name in pieces.iter().filter_map(|p| p.concurrent_index.as_ref()) {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text FROM pg_index i \
             WHERE i.indexrelid = to_regclass($1) AND NOT i.indisvalid",
        )
        .bind(name)
        .fetch_optional(&mut **c)
        .await
        .unwrap_or(None);
        if let Some((index, table)) = row {
            out.push(LeftBehind {
                cleanup_sql: format!("DROP INDEX CONCURRENTLY IF EXISTS {index};"),
                index,
                table,
            });
        }
    }
    out
}

/// The migrations `apply` would run, in order: pending versioned ones (up to `target`), then
/// pending repeatables. Refuses while a migration is modified or failed.
pub fn pending<'a>(source: &'a Source, st: &Status, target: Option<&str>) -> Result<Vec<&'a Migration>, ApiError> {
    if !st.blockers.is_empty() {
        return Err(ApiError::new(
            crate::error::ErrorCode::Conflict,
            format!("refusing to apply: {}", st.blockers.join("; ")),
        )
        .with_hint("dbdeck migrate repair --version V (audited) once the change is understood"));
    }
    let target = match target {
        Some(t) => Some(Version::parse(t).ok_or_else(|| ApiError::invalid(format!("'{t}' is not a version")))?),
        None => None,
    };
    let mut out = Vec::new();
    for e in st.pending_versions() {
        let m = match &e.version {
            Some(v) => {
                if target.as_ref().is_some_and(|t| v > t) {
                    continue;
                }
                source.find(v)
            }
            None => source
                .migrations
                .iter()
                .find(|m| m.kind == MigrationKind::Repeatable && m.description == e.description),
        };
        if let Some(m) = m {
            out.push(m);
        }
    }
    // sqlx and Flyway (without outOfOrder) refuse a version older than the newest applied one;
    // so does dbdeck.
    if let (Some(cur), Some(first)) = (&st.current, out.iter().find_map(|m| m.version.as_ref()))
        && first < cur
    {
        return Err(ApiError::invalid(format!(
            "version {first} is pending but older than {cur}, which is applied: the folder's tool would refuse it too"
        ))
        .with_hint("give the migration a newer version"));
    }
    Ok(out)
}

/// Applies the pending migrations. `dry_run`: all of them inside one transaction that is rolled
/// back (every one must be transactional).
pub async fn apply(
    db: &mut Db<'_>,
    source: &Source,
    o: &ApplyOptions,
    dry_run: bool,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<RunReport, ApiError> {
    let start = Instant::now();
    let lock = lock(db).await?;
    let result = apply_locked(db, source, o, dry_run, progress).await;
    unlock(db, lock).await;
    let mut report = result?;
    report.ms = start.elapsed().as_secs_f64() * 1000.0;
    Ok(report)
}

async fn apply_locked(
    db: &mut Db<'_>,
    source: &Source,
    o: &ApplyOptions,
    dry_run: bool,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<RunReport, ApiError> {
    let before = status::compare(source, &history::read(db, source.format).await?);
    let todo = pending(source, &before, o.target.as_deref())?;
    if !dry_run && !todo.is_empty() {
        // As the folder's tool does before its first migration.
        history::ensure_table(db, source.format).await?;
    }
    if dry_run {
        for m in &todo {
            let p = if db.is_pg() { pieces(&m.up)? } else { vec![] };
            if !transactional(source.format, &m.up, &p) {
                return Err(ApiError::invalid(format!(
                    "{} runs outside a transaction, so it cannot be tried and rolled back here",
                    m.up.path.display()
                ))
                .with_hint("dry-run on a scratch copy of the schema instead (the wizard does this by itself)"));
            }
        }
        db.execute("BEGIN").await.on_target()?;
    }
    let plan: Vec<(&Migration, &Script)> = todo.iter().map(|m| (*m, &m.up)).collect();
    let ok_outcome = if dry_run {
        StepOutcome::DryRunOk
    } else {
        StepOutcome::Applied
    };
    let (steps, failed, expected) = run_steps(db, source.format, &plan, false, ok_outcome, o, dry_run, progress).await;
    if dry_run {
        db.execute("ROLLBACK").await.on_target()?;
    }
    let after = status::compare(source, &history::read(db, source.format).await?);
    let mut verify = Vec::new();
    if !dry_run {
        for s in steps.iter().filter(|s| s.outcome == StepOutcome::Applied) {
            let row = after
                .entries
                .iter()
                .find(|e| e.version == s.version && e.description == s.description);
            match row.map(|e| e.state) {
                Some(State::Applied) => verify.push(format!("ok: {} is recorded in {}", label(s), after.table)),
                other => verify.push(format!(
                    "FAILED: {} ran but {} says {}",
                    label(s),
                    after.table,
                    other.map_or("nothing", State::as_str)
                )),
            }
        }
        // Schema as expected: what each applied migration created is there, what it dropped is
        // gone (later migrations may change it again: the last word counts).
        let mut last: Vec<(String, bool, String)> = Vec::new();
        for (label, objs) in &expected {
            for (name, exists) in objs {
                last.retain(|(n, _, _)| n != name);
                last.push((name.clone(), *exists, label.clone()));
            }
        }
        if let Db::Pg(c) = db {
            let mut seen = Vec::new();
            for (name, want, label) in &last {
                let has: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
                    .bind(name)
                    .fetch_one(&mut **c)
                    .await
                    .on_target()?;
                if has == *want {
                    seen.push(format!("{}{name}", if *want { "" } else { "no " }));
                } else {
                    verify.push(format!(
                        "FAILED: {label} should have {} {name}, but the schema {}",
                        if *want { "created" } else { "dropped" },
                        if has { "still has it" } else { "does not have it" }
                    ));
                }
            }
            if !seen.is_empty() {
                verify.push(format!(
                    "ok: the schema has what the migrations made: {}",
                    seen.join(", ")
                ));
            }
        }
        for s in steps.iter().filter(|s| s.outcome == StepOutcome::Failed) {
            let row = after.entries.iter().find(|e| e.version == s.version);
            let clean = row.is_none_or(|e| matches!(e.state, State::Pending | State::Outdated | State::Undone));
            verify.push(if clean {
                format!("ok: {} failed and has no history row (it is still pending)", label(s))
            } else {
                format!(
                    "FAILED: {} failed but the history says {}",
                    label(s),
                    row.map_or("", |e| e.state.as_str())
                )
            });
        }
    }
    let ok = !failed && verify.iter().all(|v| v.starts_with("ok"));
    Ok(RunReport {
        kind: if dry_run { RunKind::DryRun } else { RunKind::Apply },
        format: source.format,
        steps,
        ok,
        ms: 0.0,
        after: Some(after),
        verify,
    })
}

/// What [`run_steps`] gives back: the step reports, whether one failed, and per completed step
/// the relations its statements create or drop (for the schema check).
type StepsRun = (Vec<StepReport>, bool, Vec<(String, Vec<(String, bool)>)>);

/// Runs scripts one at a time (ups, or downs when `undo`), each retried on lock timeouts with
/// a doubling back-off while nothing of it stayed applied; after a failure the rest are not run.
#[allow(clippy::too_many_arguments)]
async fn run_steps(
    db: &mut Db<'_>,
    format: SourceFormat,
    plan: &[(&Migration, &Script)],
    undo: bool,
    ok_outcome: StepOutcome,
    o: &ApplyOptions,
    keep_open: bool,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> StepsRun {
    let n = plan.len() as u32;
    let mut steps = Vec::new();
    let mut expected = Vec::new();
    let mut failed = false;
    for (idx, (m, script)) in plan.iter().enumerate() {
        let k = idx as u32 + 1;
        let report = |outcome, transactional, statements, attempts, ms, failure, left_behind| StepReport {
            version: m.version.clone(),
            description: m.description.clone(),
            file: script.path.display().to_string(),
            outcome,
            transactional,
            statements,
            attempts,
            ms,
            failure,
            left_behind,
        };
        if failed {
            steps.push(report(StepOutcome::NotRun, true, 0, 0, 0.0, None, vec![]));
            continue;
        }
        let label = if undo { format!("undo {}", m.label()) } else { m.label() };
        let t0 = Instant::now();
        let mut attempt = 0;
        let mut wait = o.backoff_ms;
        let step = loop {
            attempt += 1;
            progress(Progress::Migration {
                k,
                n,
                label: label.clone(),
                attempt,
            });
            let ms = || t0.elapsed().as_secs_f64() * 1000.0;
            match run_script(db, format, m, script, undo, k, o, keep_open, progress).await {
                Ok((count, tx, pieces)) => {
                    expected.push((m.label(), expected_objects(&pieces)));
                    break report(ok_outcome, tx, count, attempt, ms(), None, vec![]);
                }
                Err((mut f, tx, pieces)) => {
                    // 55P03 lock_not_available is what lock_timeout raises; retrying is safe while
                    // nothing of the script stayed applied.
                    let retryable = f.sqlstate.as_deref() == Some("55P03") && (tx || f.statement == 1);
                    if retryable && attempt <= o.retries && !keep_open {
                        progress(Progress::Retry {
                            k,
                            attempt,
                            wait_ms: wait,
                            reason: f.message.clone(),
                        });
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                        wait = wait.saturating_mul(2);
                        continue;
                    }
                    let left = if tx { vec![] } else { left_behind(db, &pieces).await };
                    if !left.is_empty() {
                        f.state = format!(
                            "{}; but the failed CREATE INDEX CONCURRENTLY left {} INVALID index(es) behind: drop them before trying again",
                            f.state,
                            left.len()
                        );
                    }
                    break report(
                        StepOutcome::Failed,
                        tx,
                        pieces.len() as u32,
                        attempt,
                        ms(),
                        Some(f),
                        left,
                    );
                }
            }
        };
        failed = step.outcome == StepOutcome::Failed;
        progress(Progress::Done {
            k,
            ok: !failed,
            ms: step.ms,
        });
        steps.push(step);
    }
    (steps, failed, expected)
}

/// The relations a script's statements create (true) or drop (false), as `to_regclass` names.
pub fn expected_objects(pieces: &[Piece]) -> Vec<(String, bool)> {
    use pg_query::NodeEnum;
    use pg_query::protobuf::{ObjectType, RangeVar};
    let qual = |r: &RangeVar, name: &str| {
        let q = |s: &str| lint::ast::ident(s);
        if r.schemaname.is_empty() {
            q(name)
        } else {
            format!("{}.{}", q(&r.schemaname), q(name))
        }
    };
    let mut out = Vec::new();
    for p in pieces {
        let Ok(parsed) = lint::parse::parse(&p.text) else {
            continue;
        };
        for raw in &parsed.stmts {
            match raw.stmt.as_ref().and_then(|n| n.node.as_ref()) {
                Some(NodeEnum::CreateStmt(c)) => out.extend(c.relation.as_ref().map(|r| (qual(r, &r.relname), true))),
                Some(NodeEnum::IndexStmt(ix)) if !ix.idxname.is_empty() => {
                    out.extend(ix.relation.as_ref().map(|r| (qual(r, &ix.idxname), true)))
                }
                Some(NodeEnum::ViewStmt(v)) => out.extend(v.view.as_ref().map(|r| (qual(r, &r.relname), true))),
                Some(NodeEnum::CreateTableAsStmt(c)) => out.extend(
                    c.into
                        .as_ref()
                        .and_then(|i| i.rel.as_ref())
                        .map(|r| (qual(r, &r.relname), true)),
                ),
                Some(NodeEnum::RenameStmt(r)) if ObjectType::try_from(r.rename_type) == Ok(ObjectType::ObjectTable) => {
                    if let Some(rel) = &r.relation {
                        out.push((qual(rel, &rel.relname), false));
                        out.push((qual(rel, &r.newname), true));
                    }
                }
                Some(NodeEnum::DropStmt(d))
                    if matches!(
                        ObjectType::try_from(d.remove_type),
                        Ok(ObjectType::ObjectTable | ObjectType::ObjectIndex | ObjectType::ObjectView)
                    ) =>
                {
                    for o in &d.objects {
                        if let Some(NodeEnum::List(l)) = o.node.as_ref() {
                            let parts: Vec<String> = l
                                .items
                                .iter()
                                .filter_map(lint::ast::str_of)
                                .map(|s| lint::ast::ident(&s))
                                .collect();
                            out.push((parts.join("."), false));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn label(s: &StepReport) -> String {
    match &s.version {
        Some(v) => format!("{v} ({})", s.description),
        None => format!("R {}", s.description),
    }
}

/// Rolls back applied migrations, newest first: `steps` of them, or down to (not including)
/// `to`. Each needs its down/undo script.
pub async fn rollback(
    db: &mut Db<'_>,
    source: &Source,
    o: &ApplyOptions,
    steps_back: Option<u32>,
    to: Option<&str>,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<RunReport, ApiError> {
    let start = Instant::now();
    let lock = lock(db).await?;
    let result = rollback_locked(db, source, o, steps_back, to, progress).await;
    unlock(db, lock).await;
    let mut report = result?;
    report.ms = start.elapsed().as_secs_f64() * 1000.0;
    Ok(report)
}

async fn rollback_locked(
    db: &mut Db<'_>,
    source: &Source,
    o: &ApplyOptions,
    steps_back: Option<u32>,
    to: Option<&str>,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<RunReport, ApiError> {
    let before = status::compare(source, &history::read(db, source.format).await?);
    if !before.blockers.is_empty() {
        return Err(ApiError::new(
            crate::error::ErrorCode::Conflict,
            format!("refusing to roll back: {}", before.blockers.join("; ")),
        ));
    }
    let to = match to {
        Some(t) => Some(Version::parse(t).ok_or_else(|| ApiError::invalid(format!("'{t}' is not a version")))?),
        None => None,
    };
    let mut applied: Vec<&status::Entry> = before
        .entries
        .iter()
        .filter(|e| e.state == State::Applied && e.version.is_some())
        .collect();
    applied.reverse();
    let chosen: Vec<&status::Entry> = match (&to, steps_back) {
        (Some(t), _) => applied
            .into_iter()
            .filter(|e| e.version.as_ref().is_some_and(|v| v > t))
            .collect(),
        (None, n) => applied.into_iter().take(n.unwrap_or(1) as usize).collect(),
    };
    let mut todo = Vec::new();
    for e in &chosen {
        let v = e.version.as_ref().expect("versioned");
        let m = source
            .find(v)
            .ok_or_else(|| ApiError::invalid(format!("version {v} is not in the folder")))?;
        if m.down.is_none() {
            return Err(ApiError::invalid(format!(
                "{} has no down script ({}), so it cannot be rolled back; nothing was changed",
                m.label(),
                match source.format {
                    SourceFormat::Flyway => "U<version>__<description>.sql",
                    _ => "<version>_<description>.down.sql",
                }
            )));
        }
        todo.push(m);
    }
    let plan: Vec<(&Migration, &Script)> = todo.iter().map(|m| (*m, m.down.as_ref().expect("checked"))).collect();
    let (steps, failed, _) = run_steps(
        db,
        source.format,
        &plan,
        true,
        StepOutcome::RolledBack,
        o,
        false,
        progress,
    )
    .await;
    let after = status::compare(source, &history::read(db, source.format).await?);
    let verify = steps
        .iter()
        .filter(|s| s.outcome == StepOutcome::RolledBack)
        .map(|s| {
            let e = after.entries.iter().find(|e| e.version == s.version);
            match e.map(|e| e.state) {
                Some(State::Pending | State::Undone) | None => format!("ok: {} is pending again", label(s)),
                Some(other) => format!(
                    "FAILED: {} was undone but {} says {}",
                    label(s),
                    after.table,
                    other.as_str()
                ),
            }
        })
        .collect::<Vec<_>>();
    let ok = !failed && verify.iter().all(|v| v.starts_with("ok"));
    Ok(RunReport {
        kind: RunKind::Rollback,
        format: source.format,
        steps,
        ok,
        ms: 0.0,
        after: Some(after),
        verify,
    })
}

/// Executes a whole SQL text (a schema dump) on a connection, statement by statement.
pub async fn execute_script(c: &mut sqlx::PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    let (text, _) = lint::prepare(sql);
    c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(text))).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::migrate::source::{Checksum, SourceFormat};

    fn script(sql: &str, no_tx: bool) -> Script {
        Script {
            path: PathBuf::from("1_x.sql"),
            sql: sql.into(),
            checksum: Checksum::Crc32(0),
            no_transaction: no_tx,
        }
    }

    #[test]
    fn pieces_skip_meta_commands_and_mark_non_transactional_statements() {
        let s = script(
            "\\echo hi\nCREATE TABLE a (id bigint);\nCREATE INDEX CONCURRENTLY a_i ON a (id);\n",
            false,
        );
        let p = pieces(&s).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].text, "CREATE TABLE a (id bigint)");
        assert_eq!(p[0].offset, 9);
        assert!(p[1].no_tx);
        assert_eq!(p[1].concurrent_index.as_deref(), Some("a_i"));
        assert!(!transactional(SourceFormat::Flyway, &s, &p));
        assert!(
            transactional(SourceFormat::Sqlx, &s, &p),
            "sqlx decides by the -- no-transaction line only"
        );
        let inc = script("\\i other.sql\n", false);
        assert!(pieces(&inc).unwrap_err().message.contains("includes another file"));
    }

    #[test]
    fn the_lock_id_is_sqlx_s() {
        // sqlx-postgres: 0x3d32ad9e * crc32("postgres").
        assert_eq!(
            lock_id("postgres"),
            0x3d32ad9e * i64::from(crc32fast::hash(b"postgres"))
        );
        assert_ne!(lock_id("a"), lock_id("b"));
    }
}
