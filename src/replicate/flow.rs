//! The flows that change who is primary: switchover (planned, nothing lost), failover (the
//! primary is gone) and rejoin (an old primary comes back as a standby).
//!
//! Each flow is a list of phases, reported live through the context's `progress` callback as
//! they start and end, and returned as a [`FlowReport`] with their timings. A flow that stops
//! part way undoes what it can (the fence, the PgBouncer pause) and says what state every
//! node is left in.

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::{Connection, PgConnection, Row};
use ts_rs::TS;

use super::bouncer::Bouncer;
use super::conninfo::{Conninfo, sql_literal};
use super::local::{DataDir, pg_bin};
use super::patroni::{Patroni, PatroniCluster};
use super::topology::{self, Topology};
use super::{Check, Cluster, Lsn, NodeConf, fmt_bytes, fmt_lsn, parse_lsn};
use crate::env::ReplicationSettings;
use crate::error::{ApiError, ErrorCode};
use crate::migrate::lint::live::LONG_TX_S;
use crate::secrets::Sensitive;

/// Settings a standby must have at least as high as its primary to be promoted safely
/// (a hot standby refuses to start with lower ones, and a new primary would run short).
pub const MATCHING_SETTINGS: &[&str] = &[
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
];

/// How long a re-pointed standby has to be seen streaming from the new primary.
const RESTREAM_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(10);

/// One phase of a flow, as it runs and when it is done.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Phase {
    /// Stable id: `checks`, `pause`, `fence`, `catch_up`, `promote`, `verify`, `stop_old`,
    /// `repoint`, `resume`, `assess`, `checkpoint`, `rewind`, `configure`, `start`.
    pub id: String,
    pub title: String,
    /// `running`, `ok`, `warning`, `failed` or `skipped`.
    pub status: String,
    /// How long it took (so far, while running).
    pub ms: f64,
    pub detail: String,
    pub checks: Vec<Check>,
}

/// What a node was left as.
#[derive(Debug, Clone, Serialize, TS)]
pub struct NodeOutcome {
    /// Its name in the environment after the flow.
    pub name: String,
    pub address: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FlowReport {
    /// `switchover`, `failover` or `rejoin`.
    pub kind: String,
    pub env: String,
    /// A job id shared by the progress events of this run.
    pub job: String,
    /// The node that was primary (name before the flow).
    pub from: Option<String>,
    /// The node promoted or rejoined (name before the flow).
    pub to: String,
    pub ok: bool,
    /// What happened, in a sentence or two.
    pub outcome: String,
    pub phases: Vec<Phase>,
    pub total_ms: f64,
    /// From the start to the first write the new primary accepted.
    pub first_write_ms: Option<f64>,
    pub new_timeline: Option<i32>,
    pub nodes: Vec<NodeOutcome>,
    /// How much WAL a failover may have lost, when it can be told.
    pub wal_loss: Option<String>,
    /// The next thing to do, if any (e.g. the rejoin command).
    pub next: Option<String>,
}

/// What the environment must do when a node is promoted: swap its primary and that replica's
/// endpoints (and passwords), so dbdeck's pools follow.
pub trait EnvRepoint: Send + Sync {
    fn swap(&self, new_primary: &str) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// Everything a flow needs.
pub struct FlowCtx<'a> {
    pub cluster: &'a Cluster,
    pub settings: &'a ReplicationSettings,
    pub bouncer: Option<Bouncer>,
    pub job: String,
    pub progress: &'a (dyn Fn(&Phase) + Send + Sync),
    /// How long the candidate may take to replay up to the fenced primary's last write.
    pub catchup_timeout: Duration,
    /// A delay before one phase (`phase:ms`, from `DBDECK_FAULT_DELAY`): the seam the tests use
    /// to take a node away at a known point.
    pub fault_delay: Option<(String, Duration)>,
    /// The primary's password, for pg_rewind's connection (given to it in its environment).
    pub primary_password: Option<Sensitive<String>>,
    /// The environment's Patroni, when it has one: then Patroni promotes, never dbdeck.
    pub patroni: Option<Patroni>,
}

impl std::fmt::Debug for FlowCtx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowCtx")
            .field("env", &self.cluster.env)
            .field("job", &self.job)
            .field("catchup_timeout", &self.catchup_timeout)
            .finish_non_exhaustive()
    }
}

impl FlowCtx<'_> {
    fn data_dir(&self, node: &NodeConf) -> Option<DataDir> {
        self.settings
            .data_dir_of(&node.address)
            .map(|d| DataDir::new(d, pg_bin(self.settings.pg_bin.as_deref())))
    }
}

/// The phases of one run, reported as they go.
struct Run<'a, 'b> {
    ctx: &'b FlowCtx<'a>,
    phases: Vec<Phase>,
    started: Instant,
    phase_started: Instant,
    first_write_ms: Option<f64>,
}

impl<'a, 'b> Run<'a, 'b> {
    fn new(ctx: &'b FlowCtx<'a>) -> Self {
        Run {
            ctx,
            phases: vec![],
            started: Instant::now(),
            phase_started: Instant::now(),
            first_write_ms: None,
        }
    }

    async fn begin(&mut self, id: &str, title: &str) {
        if let Some((p, d)) = &self.ctx.fault_delay
            && p == id
        {
            tokio::time::sleep(*d).await;
        }
        self.phase_started = Instant::now();
        self.phases.push(Phase {
            id: id.into(),
            title: title.into(),
            status: "running".into(),
            ms: 0.0,
            detail: String::new(),
            checks: vec![],
        });
        (self.ctx.progress)(self.phases.last().expect("just pushed"));
    }

    fn end(&mut self, status: &str, detail: impl Into<String>) {
        let ms = self.phase_started.elapsed().as_secs_f64() * 1000.0;
        let p = self.phases.last_mut().expect("a phase is running");
        p.status = status.into();
        p.ms = ms;
        p.detail = detail.into();
        (self.ctx.progress)(p);
    }

    fn checks(&mut self, checks: Vec<Check>) {
        if let Some(p) = self.phases.last_mut() {
            p.checks = checks;
        }
    }

    fn mark_write(&mut self) {
        self.first_write_ms
            .get_or_insert(self.started.elapsed().as_secs_f64() * 1000.0);
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        self,
        kind: &str,
        from: Option<&str>,
        to: &str,
        ok: bool,
        outcome: impl Into<String>,
        nodes: Vec<NodeOutcome>,
        new_timeline: Option<i32>,
        wal_loss: Option<String>,
        next: Option<String>,
    ) -> FlowReport {
        FlowReport {
            kind: kind.into(),
            env: self.ctx.cluster.env.clone(),
            job: self.ctx.job.clone(),
            from: from.map(str::to_owned),
            to: to.into(),
            ok,
            outcome: outcome.into(),
            phases: self.phases,
            total_ms: self.started.elapsed().as_secs_f64() * 1000.0,
            first_write_ms: self.first_write_ms,
            new_timeline,
            nodes,
            wal_loss,
            next,
        }
    }
}

fn db_err(node: &NodeConf, e: sqlx::Error) -> ApiError {
    crate::probe::classify_pg(e, &format!("{} ({})", node.name, node.address))
}

async fn exec(c: &mut PgConnection, node: &NodeConf, sql: String) -> Result<(), ApiError> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *c)
        .await
        .map(|_| ())
        .map_err(|e| db_err(node, e))
}

async fn settings_of(c: &mut PgConnection, node: &NodeConf) -> Result<Vec<(String, i64)>, ApiError> {
    let rows = sqlx::query("SELECT name, setting::int8 FROM pg_settings WHERE name = ANY($1) ORDER BY name")
        .bind(MATCHING_SETTINGS)
        .fetch_all(&mut *c)
        .await
        .map_err(|e| db_err(node, e))?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

async fn current_setting(c: &mut PgConnection, node: &NodeConf, name: &str) -> Result<String, ApiError> {
    sqlx::query_scalar("SELECT current_setting($1)")
        .bind(name)
        .fetch_one(&mut *c)
        .await
        .map_err(|e| db_err(node, e))
}

/// Make the primary refuse writes: `default_transaction_read_only` for every new session
/// (waited for until this session sees it), every client session ended, then a marker
/// committed in the WAL. Returns the marker's LSN: everything acknowledged before the fence
/// is before it.
async fn fence(c: &mut PgConnection, node: &NodeConf, to: &str) -> Result<(Lsn, i64), ApiError> {
    exec(c, node, "ALTER SYSTEM SET default_transaction_read_only = on".into()).await?;
    exec(c, node, "SELECT pg_reload_conf()".into()).await?;
    // The postmaster re-reads the configuration before it signals its children; once this
    // session sees the setting, every session started from now on has it too.
    let deadline = Instant::now() + Duration::from_secs(10);
    while current_setting(c, node, "default_transaction_read_only").await? != "on" {
        if Instant::now() > deadline {
            return Err(ApiError::new(
                ErrorCode::Timeout,
                "the old primary did not take default_transaction_read_only within 10 s",
            ));
        }
        tokio::time::sleep(POLL).await;
    }
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut *c)
    .await
    .map_err(|e| db_err(node, e))?;
    let mut tx = c.begin().await.map_err(|e| db_err(node, e))?;
    exec(&mut tx, node, "SET TRANSACTION READ WRITE".into()).await?;
    let marker: String = sqlx::query_scalar("SELECT pg_logical_emit_message(true, 'dbdeck', $1)::text")
        .bind(format!("switchover to {to}"))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_err(node, e))?;
    tx.commit().await.map_err(|e| db_err(node, e))?;
    let lsn = parse_lsn(&marker).ok_or_else(|| ApiError::new(ErrorCode::Internal, format!("bad LSN {marker}")))?;
    Ok((lsn, ended))
}

/// Undo [`fence`]: the old primary takes writes again.
async fn unfence(cluster: &Cluster, node: &NodeConf) -> Result<(), ApiError> {
    let mut c = cluster.connect(node).await?;
    exec(&mut c, node, "ALTER SYSTEM RESET default_transaction_read_only".into()).await?;
    exec(&mut c, node, "SELECT pg_reload_conf()".into()).await?;
    let _ = c.close().await;
    Ok(())
}

async fn replay_lsn(c: &mut PgConnection, node: &NodeConf) -> Result<Option<Lsn>, ApiError> {
    let s: Option<String> = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn()::text")
        .fetch_one(&mut *c)
        .await
        .map_err(|e| db_err(node, e))?;
    Ok(s.as_deref().and_then(parse_lsn))
}

/// Wait until `node` has replayed up to `target`.
async fn catch_up(c: &mut PgConnection, node: &NodeConf, target: Lsn, timeout: Duration) -> Result<Lsn, ApiError> {
    let deadline = Instant::now() + timeout;
    loop {
        let at = replay_lsn(c, node).await?.unwrap_or(0);
        if at >= target {
            return Ok(at);
        }
        if Instant::now() > deadline {
            return Err(ApiError::new(
                ErrorCode::Timeout,
                format!(
                    "{} replayed up to {} but not {} within {} s ({} behind)",
                    node.name,
                    fmt_lsn(at),
                    fmt_lsn(target),
                    timeout.as_secs(),
                    fmt_bytes(target.saturating_sub(at) as f64)
                ),
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Promote and wait until the node is out of recovery. `pg_promote(wait => false)` and a 10 ms
/// poll: `wait => true` polls ten times a second, which would cost up to 100 ms of outage.
async fn promote(c: &mut PgConnection, node: &NodeConf) -> Result<(), ApiError> {
    let started: bool = sqlx::query_scalar("SELECT pg_promote(false)")
        .fetch_one(&mut *c)
        .await
        .map_err(|e| db_err(node, e))?;
    if !started {
        return Err(ApiError::new(
            ErrorCode::ServerError,
            format!("{} refused to promote (pg_promote returned false)", node.name),
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
            .fetch_one(&mut *c)
            .await
            .map_err(|e| db_err(node, e))?;
        if !standby {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(ApiError::new(
                ErrorCode::Timeout,
                format!("{} was still in recovery 60 s after pg_promote", node.name),
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A write on the new primary (an XID assigned and committed) and its timeline.
async fn verify_writes(c: &mut PgConnection, node: &NodeConf) -> Result<i32, ApiError> {
    let r = sqlx::query(
        "SELECT txid_current(), ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int",
    )
    .fetch_one(&mut *c)
    .await
    .map_err(|e| db_err(node, e))?;
    Ok(r.get(1))
}

/// Point a standby at `primary` (ALTER SYSTEM + reload), creating its slot there first.
async fn repoint_standby(
    cluster: &Cluster,
    standby: &NodeConf,
    primary: &NodeConf,
    primary_conn: &mut PgConnection,
) -> Result<String, ApiError> {
    let mut c = cluster.connect(standby).await?;
    let old = current_setting(&mut c, standby, "primary_conninfo").await?;
    let slot = current_setting(&mut c, standby, "primary_slot_name").await?;
    let mut ci =
        Conninfo::parse(&old).map_err(|e| ApiError::invalid(format!("{}'s primary_conninfo: {e}", standby.name)))?;
    ci.set("host", primary.host());
    ci.set("port", &primary.port().to_string());
    if !slot.is_empty() {
        sqlx::query(
            "SELECT pg_create_physical_replication_slot($1, true) \
             WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
        )
        .bind(&slot)
        .execute(&mut *primary_conn)
        .await
        .map_err(|e| db_err(primary, e))?;
    }
    exec(
        &mut c,
        standby,
        format!("ALTER SYSTEM SET primary_conninfo = {}", sql_literal(&ci.to_string())),
    )
    .await?;
    exec(&mut c, standby, "SELECT pg_reload_conf()".into()).await?;
    let _ = c.close().await;
    Ok(if slot.is_empty() {
        format!("{} now streams from {}", standby.name, primary.address)
    } else {
        format!(
            "{} now streams from {} through slot {slot}",
            standby.name, primary.address
        )
    })
}

/// Wait until `standby` streams from `primary`.
async fn wait_streaming(cluster: &Cluster, standby: &NodeConf, primary: &NodeConf) -> Result<(), ApiError> {
    let deadline = Instant::now() + RESTREAM_TIMEOUT;
    let mut last = String::from("not asked yet");
    while Instant::now() < deadline {
        match cluster.connect(standby).await {
            Ok(mut c) => {
                let r = sqlx::query(
                    "SELECT status, coalesce(sender_host, ''), coalesce(sender_port, 0) FROM pg_stat_wal_receiver",
                )
                .fetch_optional(&mut c)
                .await;
                let _ = c.close().await;
                match r {
                    Ok(Some(r)) => {
                        let (status, host, port): (String, String, i32) = (r.get(0), r.get(1), r.get(2));
                        if status == "streaming" && topology::is_address(primary, &format!("{host}:{port}")) {
                            return Ok(());
                        }
                        last = format!("its WAL receiver is {status} from {host}:{port}");
                    }
                    Ok(None) => last = "it has no WAL receiver".into(),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(e) => last = e.message,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(ApiError::new(
        ErrorCode::Timeout,
        format!(
            "{} was not streaming from {} after {} s: {last}",
            standby.name,
            primary.address,
            RESTREAM_TIMEOUT.as_secs()
        ),
    ))
}

/// Pre-checks of a switchover from the environment's primary to `cand`.
async fn switchover_checks(ctx: &FlowCtx<'_>, topo: &Topology, cand: &NodeConf) -> Vec<Check> {
    let cluster = ctx.cluster;
    let primary = cluster.primary();
    let threshold = ctx.settings.lag_threshold_s;
    let mut out = Vec::new();
    let p = topo.node(&primary.name);
    let c = topo.node(&cand.name);
    match p {
        Some(n) if n.role.as_deref() == Some("primary") => out.push(Check::pass(
            "primary",
            format!(
                "{} ({}) answers as primary on timeline {}",
                n.name,
                n.address,
                n.timeline.unwrap_or(0)
            ),
        )),
        Some(n) if n.reachable => out.push(Check::fail(
            "primary",
            format!(
                "{} ({}) is in recovery: the environment's primary is not a primary",
                n.name, n.address
            ),
        )),
        Some(n) => out.push(Check::fail(
            "primary",
            format!(
                "{} does not answer ({}): a switchover needs the old primary; use failover",
                n.name,
                n.error.clone().unwrap_or_default()
            ),
        )),
        None => {}
    }
    let Some(c) = c else { return out };
    let streaming = c.receiver.as_ref().filter(|r| r.status == "streaming");
    match (c.reachable, c.role.as_deref(), streaming) {
        (false, _, _) => out.push(Check::fail(
            "candidate",
            format!("{} does not answer: {}", c.name, c.error.clone().unwrap_or_default()),
        )),
        (true, Some("primary"), _) => out.push(Check::fail("candidate", format!("{} is already a primary", c.name))),
        (true, _, None) => out.push(Check::fail(
            "candidate",
            format!(
                "{} is not streaming ({})",
                c.name,
                c.receiver
                    .as_ref()
                    .map(|r| r.status.as_str())
                    .unwrap_or("no WAL receiver")
            ),
        )),
        (true, _, Some(r)) => {
            let via = c.upstream.clone().unwrap_or_else(|| r.upstream.clone());
            if via == primary.name {
                out.push(Check::pass(
                    "candidate",
                    format!("{} streams from {}", c.name, primary.name),
                ));
            } else {
                out.push(Check::warn(
                    "candidate",
                    format!(
                        "{} streams from {via}, not from the primary: it will catch up through {via}",
                        c.name
                    ),
                ));
            }
        }
    }
    match (c.lag_s, c.lag_bytes) {
        (Some(s), b) if s <= threshold => out.push(Check::pass(
            "lag",
            format!(
                "{:.2} s behind ({}), threshold {threshold} s",
                s,
                fmt_bytes(b.unwrap_or(0) as f64)
            ),
        )),
        (Some(s), b) => out.push(Check::fail(
            "lag",
            format!(
                "{:.1} s behind ({}), over the {threshold} s threshold: wait for it to catch up",
                s,
                fmt_bytes(b.unwrap_or(0) as f64)
            ),
        )),
        (None, _) if c.reachable => out.push(Check::fail("lag", format!("unknown: {}", c.lag_note))),
        (None, _) => {}
    }
    if let (Some(pt), Some(ct)) = (p.and_then(|p| p.timeline), c.timeline) {
        if pt == ct {
            out.push(Check::pass("timeline", format!("both on timeline {pt}")));
        } else {
            out.push(Check::fail(
                "timeline",
                format!("the primary is on timeline {pt}, {} on {ct}", c.name),
            ));
        }
    }

    // What needs a connection of its own to each.
    let (mut pc, mut cc) = match (cluster.connect(primary).await, cluster.connect(cand).await) {
        (Ok(p), Ok(c)) => (p, c),
        (Err(e), _) | (_, Err(e)) => {
            out.push(Check::fail("connect", e.message));
            return out;
        }
    };
    match (settings_of(&mut pc, primary).await, settings_of(&mut cc, cand).await) {
        (Ok(ps), Ok(cs)) => {
            let low: Vec<String> = ps
                .iter()
                .filter_map(|(name, pv)| {
                    let cv = cs.iter().find(|(n, _)| n == name).map(|(_, v)| *v)?;
                    (cv < *pv).then(|| format!("{name} is {cv} on {}, {pv} on the primary", cand.name))
                })
                .collect();
            if low.is_empty() {
                out.push(Check::pass(
                    "settings",
                    format!("{} are not lower on {}", MATCHING_SETTINGS.join(", "), cand.name),
                ));
            } else {
                out.push(Check::fail("settings", low.join("; ")));
            }
        }
        (Err(e), _) | (_, Err(e)) => out.push(Check::fail("settings", e.message)),
    }
    match super::slots::read(&mut pc).await {
        Ok((_, slots)) => {
            let inactive: Vec<String> = slots
                .iter()
                .filter(|s| !s.active && !s.temporary)
                .map(|s| s.name.clone())
                .collect();
            let logical: Vec<String> = slots
                .iter()
                .filter(|s| s.slot_type == "logical" && s.active)
                .map(|s| s.name.clone())
                .collect();
            if !inactive.is_empty() {
                out.push(Check::fail(
                    "slots",
                    format!(
                        "inactive slot(s) {} on the primary: their consumers would not find them on {}; reconnect or drop them",
                        inactive.join(", "),
                        cand.name
                    ),
                ));
            } else if !logical.is_empty() {
                out.push(Check::warn(
                    "slots",
                    format!(
                        "logical slot(s) {} do not exist on {} and their consumers must be re-created",
                        logical.join(", "),
                        cand.name
                    ),
                ));
            } else {
                out.push(Check::pass("slots", format!("{} slot(s), all in use", slots.len())));
            }
        }
        Err(e) => out.push(Check::fail("slots", db_err(primary, e).message)),
    }
    let long = sqlx::query(
        "SELECT pid, coalesce(usename::text, ''), coalesce(application_name, ''), \
                extract(epoch FROM now() - xact_start)::float8 \
         FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() \
           AND xact_start < now() - make_interval(secs => $1) ORDER BY xact_start",
    )
    .bind(LONG_TX_S)
    .fetch_all(&mut pc)
    .await;
    match long {
        Ok(rows) if rows.is_empty() => out.push(Check::pass(
            "transactions",
            format!("no transaction older than {LONG_TX_S:.0} s would be cut"),
        )),
        Ok(rows) => out.push(Check::fail(
            "transactions",
            format!(
                "{} transaction(s) older than {LONG_TX_S:.0} s would be cut: {}",
                rows.len(),
                rows.iter()
                    .map(|r| format!(
                        "pid {} ({} {}, {:.0} s)",
                        r.get::<i32, _>(0),
                        r.get::<String, _>(1),
                        r.get::<String, _>(2),
                        r.get::<f64, _>(3)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        Err(e) => out.push(Check::fail("transactions", db_err(primary, e).message)),
    }
    match ctx.data_dir(cand) {
        Some(d) => {
            let need: Result<i64, _> =
                sqlx::query_scalar("SELECT setting::int8 * 1024 * 1024 FROM pg_settings WHERE name = 'max_wal_size'")
                    .fetch_one(&mut pc)
                    .await;
            match (d.disk_free().await, need) {
                (Ok(free), Ok(need)) if free >= need => out.push(Check::pass(
                    "disk",
                    format!(
                        "{} free under {}'s pg_wal (max_wal_size is {})",
                        fmt_bytes(free as f64),
                        cand.name,
                        fmt_bytes(need as f64)
                    ),
                )),
                (Ok(free), Ok(need)) => out.push(Check::fail(
                    "disk",
                    format!(
                        "only {} free under {}'s pg_wal, less than max_wal_size ({})",
                        fmt_bytes(free as f64),
                        cand.name,
                        fmt_bytes(need as f64)
                    ),
                )),
                (Err(e), _) => out.push(Check::fail("disk", e.message)),
                (_, Err(e)) => out.push(Check::fail("disk", db_err(primary, e).message)),
            }
        }
        None => out.push(Check::skip(
            "disk",
            format!(
                "{}'s data directory is not on this machine, so its free space cannot be seen",
                cand.name
            ),
        )),
    }
    let rewind: Result<(String, String), _> =
        sqlx::query_as("SELECT current_setting('data_checksums'), current_setting('wal_log_hints')")
            .fetch_one(&mut pc)
            .await;
    match rewind {
        Ok((a, b)) if a == "on" || b == "on" => out.push(Check::pass(
            "rewind",
            "data checksums or wal_log_hints are on: the old primary can be rejoined with pg_rewind",
        )),
        Ok(_) => out.push(Check::warn(
            "rewind",
            "neither data checksums nor wal_log_hints: the old primary cannot be rewound and will need a new base backup",
        )),
        Err(e) => out.push(Check::fail("rewind", db_err(primary, e).message)),
    }
    out.push(match ctx.data_dir(primary) {
        Some(d) => Check::pass("stop", format!("dbdeck will stop the old primary ({})", d.path.display())),
        None => Check::warn(
            "stop",
            "the old primary's data directory is not on this machine: dbdeck will fence it (read-only, sessions ended) but cannot stop it",
        ),
    });
    if let Some(b) = &ctx.bouncer {
        match crate::observe::pgbouncer::status(&b.url, b.password.as_ref(), b.timeout).await {
            Ok(_) if b.ini.is_some() => out.push(Check::pass(
                "pgbouncer",
                "reachable; dbdeck will pause it, re-point it and resume it",
            )),
            Ok(_) => out.push(Check::warn(
                "pgbouncer",
                "reachable, but dbdeck was not given its ini file: it will be paused and resumed, not re-pointed",
            )),
            Err(e) => out.push(Check::fail("pgbouncer", e.message)),
        }
    }
    for n in topo
        .nodes
        .iter()
        .filter(|n| n.name != primary.name && n.name != cand.name)
    {
        out.push(if n.reachable {
            Check::pass("standby", format!("{} will be re-pointed at {}", n.name, cand.name))
        } else {
            Check::warn(
                "standby",
                format!("{} does not answer and will not be re-pointed", n.name),
            )
        });
    }
    let _ = pc.close().await;
    let _ = cc.close().await;
    out
}

fn summary(checks: &[Check]) -> String {
    let failed: Vec<&Check> = checks.iter().filter(|c| c.failed()).collect();
    if failed.is_empty() {
        let warns = checks.iter().filter(|c| c.status == "warn").count();
        format!(
            "{} checks passed{}",
            checks.len() - warns,
            if warns > 0 {
                format!(", {warns} warning(s)")
            } else {
                String::new()
            }
        )
    } else {
        failed
            .iter()
            .map(|c| format!("{}: {}", c.name, c.reason))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a phase made of checks ended as.
fn phase_status(checks: &[Check]) -> &'static str {
    if checks.iter().any(Check::failed) {
        "failed"
    } else if checks.iter().any(|c| c.status == "warn") {
        "warning"
    } else {
        "ok"
    }
}

/// PgBouncer's PAUSE as a phase (skipped without PgBouncer). On failure it is resumed again
/// and the reason returned.
async fn pause_phase(run: &mut Run<'_, '_>) -> Result<(), String> {
    run.begin("pause", "Pause PgBouncer").await;
    match &run.ctx.bouncer {
        None => run.end("skipped", "the environment has no PgBouncer"),
        Some(b) => match b.pause().await {
            Ok(()) => run.end("ok", "PAUSE: new queries wait; running transactions finished"),
            Err(e) => {
                run.end("failed", e.message.clone());
                let _ = b.resume().await;
                return Err(e.message);
            }
        },
    }
    Ok(())
}

/// What re-pointing did: the phase's checks, standbys that could not be re-pointed, and
/// those that were (to be seen streaming by [`verify_standbys`]).
struct Repointed<'n> {
    checks: Vec<Check>,
    outcomes: Vec<NodeOutcome>,
    standbys: Vec<&'n NodeConf>,
}

/// Re-point everything at the promoted node: the environment (and so dbdeck's pools), the other
/// standbys, PgBouncer. Does not wait for the standbys: PgBouncer can resume first.
async fn repoint_all<'n, R: EnvRepoint>(
    ctx: &FlowCtx<'_>,
    repoint: &R,
    old: &NodeConf,
    new: &NodeConf,
    new_conn: &mut PgConnection,
    others: &[&'n NodeConf],
) -> Repointed<'n> {
    let mut checks = Vec::new();
    let mut outcomes = Vec::new();
    match repoint.swap(&new.name).await {
        Ok(()) => checks.push(Check::pass(
            "environment",
            format!(
                "the environment's primary is now {} ({}); dbdeck's pools follow",
                new.address, new.name
            ),
        )),
        Err(e) => checks.push(Check::fail(
            "environment",
            format!("could not update the environment: {}", e.message),
        )),
    }
    let mut repointed = Vec::new();
    for s in others {
        match repoint_standby(ctx.cluster, s, new, new_conn).await {
            Ok(_) => repointed.push(*s),
            Err(e) => {
                checks.push(Check::fail("standby", format!("{}: {}", s.name, e.message)));
                outcomes.push(NodeOutcome {
                    name: s.name.clone(),
                    address: s.address.clone(),
                    state: format!("not re-pointed: {}", e.message),
                });
            }
        }
    }
    if let Some(b) = &ctx.bouncer {
        match b.repoint((old.host(), old.port()), (new.host(), new.port())).await {
            Ok(names) if names.is_empty() => checks.push(Check::warn(
                "pgbouncer",
                format!(
                    "no database in {} connects to {}",
                    b.ini.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
                    old.address
                ),
            )),
            Ok(names) => checks.push(Check::pass(
                "pgbouncer",
                format!(
                    "database(s) {} now connect to {} (RELOAD)",
                    names.join(", "),
                    new.address
                ),
            )),
            Err(e) => checks.push(Check::warn("pgbouncer", format!("not re-pointed: {}", e.message))),
        }
    }
    Repointed {
        checks,
        outcomes,
        standbys: repointed,
    }
}

/// Wait until every re-pointed standby streams from the new primary.
async fn verify_standbys(ctx: &FlowCtx<'_>, new: &NodeConf, standbys: &[&NodeConf]) -> (Vec<Check>, Vec<NodeOutcome>) {
    let mut checks = Vec::new();
    let mut outcomes = Vec::new();
    let waits = futures_util::future::join_all(standbys.iter().map(|s| wait_streaming(ctx.cluster, s, new))).await;
    for (s, w) in standbys.iter().zip(waits) {
        match w {
            Ok(()) => {
                checks.push(Check::pass(
                    "standby",
                    format!("{} streams from {}", s.name, new.address),
                ));
                outcomes.push(NodeOutcome {
                    name: s.name.clone(),
                    address: s.address.clone(),
                    state: format!("standby, streaming from {}", new.address),
                });
            }
            Err(e) => {
                checks.push(Check::fail("standby", e.message.clone()));
                outcomes.push(NodeOutcome {
                    name: s.name.clone(),
                    address: s.address.clone(),
                    state: format!("re-pointed, not streaming yet: {}", e.message),
                });
            }
        }
    }
    (checks, outcomes)
}

/// Run the re-point phase, then (after `between`, e.g. PgBouncer's RESUME) the phase that
/// checks the standbys stream from the new primary. Returns the standbys' outcomes.
async fn repoint_phases<R: EnvRepoint>(
    run: &mut Run<'_, '_>,
    repoint: &R,
    old: &NodeConf,
    new: &NodeConf,
    new_conn: &mut PgConnection,
    others: &[&NodeConf],
    resume: bool,
) -> Vec<NodeOutcome> {
    let ctx = run.ctx;
    run.begin("repoint", "Re-point the environment, standbys and PgBouncer")
        .await;
    let r = repoint_all(ctx, repoint, old, new, new_conn, others).await;
    let status = phase_status(&r.checks);
    let detail = summary(&r.checks);
    run.checks(r.checks);
    run.end(status, detail);
    if resume {
        run.begin("resume", "Resume PgBouncer").await;
        match &ctx.bouncer {
            None => run.end("skipped", "the environment has no PgBouncer"),
            Some(b) => match b.resume().await {
                Ok(()) => run.end("ok", "RESUME: queries flow to the new primary"),
                Err(e) => run.end("failed", format!("PgBouncer is still paused: {}", e.message)),
            },
        }
    }
    let mut outcomes = r.outcomes;
    if !r.standbys.is_empty() {
        run.begin("standbys", "Check the standbys follow the new primary").await;
        let (checks, mut done) = verify_standbys(ctx, new, &r.standbys).await;
        let status = phase_status(&checks);
        let detail = summary(&checks);
        run.checks(checks);
        run.end(status, detail);
        outcomes.append(&mut done);
    }
    outcomes
}

/// A planned switchover from the environment's primary to the replica `to`. With
/// `check_only`, only the pre-checks run and nothing changes.
pub async fn switchover<R: EnvRepoint>(
    ctx: &FlowCtx<'_>,
    to: &str,
    check_only: bool,
    repoint: &R,
) -> Result<FlowReport, ApiError> {
    if let Some(p) = &ctx.patroni {
        return patroni_switchover(ctx, p, to, check_only, repoint).await;
    }
    let cluster = ctx.cluster;
    let primary = cluster.primary().clone();
    let cand = candidate(cluster, to)?;
    let others: Vec<&NodeConf> = cluster
        .nodes
        .iter()
        .filter(|n| n.name != primary.name && n.name != cand.name)
        .collect();
    let mut run = Run::new(ctx);
    let unchanged = |state: &str| two(&primary, state.into(), &cand, "standby (unchanged)".into());

    run.begin("checks", "Pre-checks").await;
    let topo = topology::read(cluster, ctx.settings.lag_threshold_s).await;
    let checks = switchover_checks(ctx, &topo, &cand).await;
    let failed = checks.iter().any(Check::failed);
    let detail = summary(&checks);
    run.checks(checks);
    if failed {
        run.end("failed", detail.clone());
        return Ok(run.report(
            "switchover",
            Some(&primary.name),
            &cand.name,
            false,
            format!("Pre-checks failed, nothing was changed: {detail}"),
            unchanged("primary (unchanged)"),
            None,
            None,
            None,
        ));
    }
    run.end(if detail.contains("warning") { "warning" } else { "ok" }, detail);
    if check_only {
        return Ok(run.report(
            "switchover",
            Some(&primary.name),
            &cand.name,
            true,
            "Pre-checks passed; nothing was changed (checks only).",
            unchanged("primary (unchanged)"),
            None,
            None,
            None,
        ));
    }

    // From here on, a failure before the promotion undoes the fence and the pause.
    let mut pc = cluster.connect(&primary).await?;
    let mut cc = cluster.connect(&cand).await?;
    let old_tl = topo.node(&primary.name).and_then(|n| n.timeline);

    if let Err(e) = pause_phase(&mut run).await {
        return Ok(run.report(
            "switchover",
            Some(&primary.name),
            &cand.name,
            false,
            format!("Stopped at PgBouncer PAUSE, nothing was changed: {e}"),
            unchanged("primary (unchanged)"),
            None,
            None,
            None,
        ));
    }

    // Undo the fence (restarting the old primary first if this run stopped it) and the pause.
    let old_dir = ctx.data_dir(&primary);
    let undo = |reason: String, restart: bool| {
        let (primary, old_dir) = (&primary, &old_dir);
        async move {
            let restarted = match (restart, old_dir) {
                (true, Some(d)) => d.start().await.map(|_| "restarted, "),
                _ => Ok(""),
            };
            let unfenced = match &restarted {
                Ok(_) => unfence(cluster, primary).await,
                Err(e) => Err(e.clone()),
            };
            let resumed = match &ctx.bouncer {
                Some(b) => b.resume().await.map(|_| " and PgBouncer resumed"),
                None => Ok(""),
            };
            let state = match (&restarted, &unfenced, &resumed) {
                (Err(e), _, _) => format!("STOPPED: dbdeck stopped it and could not start it again: {}", e.message),
                (Ok(r), Ok(()), Ok(b)) => format!("primary, {r}writable again{b}"),
                (_, Err(e), _) => format!("STILL FENCED (read-only): undoing the fence failed: {}", e.message),
                (_, _, Err(e)) => format!("primary, writable again, but PgBouncer is STILL PAUSED: {}", e.message),
            };
            (reason, state)
        }
    };

    run.begin("fence", "Fence the old primary").await;
    let target = match fence(&mut pc, &primary, &cand.name).await {
        Ok((lsn, ended)) => {
            run.end(
                "ok",
                format!(
                    "read-only for new sessions, {ended} session(s) ended; last write at {}",
                    fmt_lsn(lsn)
                ),
            );
            lsn
        }
        Err(e) => {
            run.end("failed", e.message.clone());
            let (reason, state) = undo(e.message, false).await;
            return Ok(run.report(
                "switchover",
                Some(&primary.name),
                &cand.name,
                false,
                format!("Stopped while fencing the old primary: {reason}. Nothing was promoted."),
                unchanged(&state),
                None,
                None,
                None,
            ));
        }
    };

    // An old primary on this machine is stopped before the promotion: a fast shutdown sends
    // everything up to its shutdown checkpoint to every connected standby, so no standby ends
    // up with WAL the new primary lacks (stopped after it, the checkpoint reaches the other
    // standbys only, and they can no longer follow the new timeline).
    let _ = pc.close().await;
    let mut stopped = false;
    let mut target = target;
    if let Some(d) = &old_dir {
        run.begin("stop_old", "Stop the old primary").await;
        let stop = async {
            d.stop().await?;
            d.checkpoint_lsn().await
        };
        match stop.await {
            Ok(ckpt) => {
                stopped = true;
                target = target.max(ckpt + 1);
                run.end(
                    "ok",
                    format!(
                        "stopped ({}); its shutdown checkpoint at {} went to every standby",
                        d.path.display(),
                        fmt_lsn(ckpt)
                    ),
                );
            }
            Err(e) => {
                run.end("failed", e.message.clone());
                let restart = !d.running().await.unwrap_or(true);
                let (reason, state) = undo(e.message, restart).await;
                return Ok(run.report(
                    "switchover",
                    Some(&primary.name),
                    &cand.name,
                    false,
                    format!("Stopped while stopping the old primary: {reason}. Nothing was promoted."),
                    unchanged(&state),
                    None,
                    None,
                    None,
                ));
            }
        }
    }

    run.begin("catch_up", &format!("Wait for {} to replay everything", cand.name))
        .await;
    match catch_up(&mut cc, &cand, target, ctx.catchup_timeout).await {
        Ok(at) => run.end(
            "ok",
            format!(
                "{} replayed up to {} (it needed {})",
                cand.name,
                fmt_lsn(at),
                fmt_lsn(target)
            ),
        ),
        Err(e) => {
            run.end("failed", e.message.clone());
            let (reason, state) = undo(e.message, stopped).await;
            let cand_state = describe(cluster, &cand).await;
            return Ok(run.report(
                "switchover",
                Some(&primary.name),
                &cand.name,
                false,
                format!(
                    "Stopped before promotion: {reason}. Nothing was promoted; the old primary takes writes again."
                ),
                two(&primary, state, &cand, cand_state),
                None,
                None,
                None,
            ));
        }
    }

    // An old primary left running (fenced) still writes a little WAL (checkpoints, snapshots);
    // the other standbys stream from the candidate before it is promoted, so they cannot
    // receive any of it and simply follow the new timeline.
    if !stopped {
        for s in &others {
            if let Err(e) = repoint_standby(cluster, s, &cand, &mut cc).await {
                tracing::warn!(standby = %s.name, error = %e.message, "could not cascade a standby from the candidate");
            }
        }
    }

    run.begin("promote", &format!("Promote {}", cand.name)).await;
    if let Err(e) = promote(&mut cc, &cand).await {
        // Did it promote anyway? Ask once more on a new connection.
        let after = match cluster.connect(&cand).await {
            Ok(mut c) => {
                let r: Result<bool, _> = sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&mut c).await;
                r.ok()
            }
            Err(_) => None,
        };
        if after != Some(false) {
            run.end("failed", e.message.clone());
            let (reason, state) = undo(e.message, stopped).await;
            let cand_state = match after {
                Some(true) => "standby (not promoted)".to_owned(),
                _ => "unknown: it stopped answering during promotion and may have promoted; do not let clients \
                      write to it, and rejoin or rebuild it before using it again"
                    .to_owned(),
            };
            return Ok(run.report(
                "switchover",
                Some(&primary.name),
                &cand.name,
                false,
                format!("Stopped at promotion: {reason}. The old primary takes writes again."),
                two(&primary, state, &cand, cand_state),
                None,
                None,
                None,
            ));
        }
        cc = cluster.connect(&cand).await?;
    }
    run.end("ok", format!("{} is out of recovery", cand.name));

    run.begin("verify", "Verify the new primary takes writes").await;
    let new_tl = match verify_writes(&mut cc, &cand).await {
        Ok(tl) => {
            run.mark_write();
            let newer = old_tl.is_none_or(|o| tl > o);
            run.end(
                if newer { "ok" } else { "warning" },
                format!(
                    "a write was accepted on timeline {tl}{}",
                    old_tl.map(|o| format!(" (was {o})")).unwrap_or_default()
                ),
            );
            Some(tl)
        }
        Err(e) => {
            run.end("failed", e.message.clone());
            None
        }
    };

    let old_state = if stopped {
        "stopped".to_owned()
    } else {
        run.begin("stop_old", "Keep the old primary from taking writes").await;
        run.end(
            "warning",
            "its data directory is not on this machine: it stays fenced (read-only, sessions ended) but running; stop it yourself",
        );
        "fenced (read-only) but still running: stop it".to_owned()
    };

    let outcomes = repoint_phases(&mut run, repoint, &primary, &cand, &mut cc, &others, true).await;
    let _ = cc.close().await;

    let ok = new_tl.is_some() && !run.phases.iter().any(|p| p.status == "failed");
    let nodes = promoted(&primary, &cand, new_tl, &old_state, outcomes);
    let next = rejoin_hint(ctx, &primary, &cand);
    let outcome = if ok {
        format!(
            "{} ({}) is the primary; the old primary is {old_state}.",
            cand.name, cand.address
        )
    } else {
        format!(
            "{} was promoted, but not everything went through: {}",
            cand.name,
            run.phases
                .iter()
                .filter(|p| p.status == "failed")
                .map(|p| format!("{}: {}", p.title, p.detail))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    Ok(run.report(
        "switchover",
        Some(&primary.name),
        &cand.name,
        ok,
        outcome,
        nodes,
        new_tl,
        None,
        next,
    ))
}

/// The old primary and the candidate, each with what it is now, when nothing was promoted.
fn two(primary: &NodeConf, primary_state: String, cand: &NodeConf, cand_state: String) -> Vec<NodeOutcome> {
    vec![
        NodeOutcome {
            name: primary.name.clone(),
            address: primary.address.clone(),
            state: primary_state,
        },
        NodeOutcome {
            name: cand.name.clone(),
            address: cand.address.clone(),
            state: cand_state,
        },
    ]
}

/// What the nodes are after a promotion: the environment's names have swapped (the promoted
/// node is now `primary`, the old primary carries the candidate's name), then the standbys.
fn promoted(
    primary: &NodeConf,
    cand: &NodeConf,
    new_tl: Option<i32>,
    old_state: &str,
    mut standbys: Vec<NodeOutcome>,
) -> Vec<NodeOutcome> {
    let mut nodes = vec![
        NodeOutcome {
            name: primary.name.clone(),
            address: cand.address.clone(),
            state: match new_tl {
                Some(tl) => format!("primary (was {}), accepting writes on timeline {tl}", cand.name),
                None => format!("promoted (was {}), but no write was accepted", cand.name),
            },
        },
        NodeOutcome {
            name: cand.name.clone(),
            address: primary.address.clone(),
            state: format!("old primary: {old_state}"),
        },
    ];
    nodes.append(&mut standbys);
    nodes
}

/// The rejoin command, when the old primary's data directory is here (after the swap it is
/// the replica named like the candidate was).
fn rejoin_hint(ctx: &FlowCtx<'_>, primary: &NodeConf, cand: &NodeConf) -> Option<String> {
    ctx.data_dir(primary).map(|_| {
        format!(
            "rejoin the old primary as a standby: dbdeck rejoin --env {} --node {}",
            ctx.cluster.env, cand.name
        )
    })
}

fn candidate(cluster: &Cluster, to: &str) -> Result<NodeConf, ApiError> {
    let names: Vec<&str> = cluster
        .nodes
        .iter()
        .filter(|n| n.name != "primary")
        .map(|n| n.name.as_str())
        .collect();
    match cluster.node(to) {
        Some(n) if n.name != "primary" => Ok(n.clone()),
        _ => Err(ApiError::invalid(format!(
            "'{to}' is not a replica of '{}' (its replicas: {})",
            cluster.env,
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        ))),
    }
}

/// A node's state in words, asked now.
async fn describe(cluster: &Cluster, node: &NodeConf) -> String {
    match cluster.connect(node).await {
        Err(e) => format!("unreachable: {}", e.message),
        Ok(mut c) => {
            let r = topology::probe(&mut c, node).await;
            let _ = c.close().await;
            match r {
                Ok(s) => format!(
                    "{}{}",
                    s.role.unwrap_or_default(),
                    s.replay_lsn
                        .map(|l| format!(", replayed up to {l}"))
                        .unwrap_or_default()
                ),
                Err(e) => format!("answers, but: {e}"),
            }
        }
    }
}

/// An unplanned failover: the primary is gone. Promotes `to`, or the most advanced standby.
/// `force` lets it go on while another node still answers as a primary (the person typed
/// the confirmation): that node is fenced, and stopped when its data directory is here.
pub async fn failover<R: EnvRepoint>(
    ctx: &FlowCtx<'_>,
    to: Option<&str>,
    force: bool,
    check_only: bool,
    last_primary_lsn: Option<Lsn>,
    repoint: &R,
) -> Result<FlowReport, ApiError> {
    let cluster = ctx.cluster;
    let primary = cluster.primary().clone();
    let mut run = Run::new(ctx);

    run.begin("assess", "Find the most advanced standby").await;
    let topo = topology::read(cluster, ctx.settings.lag_threshold_s).await;
    let mut checks = Vec::new();
    let live_primaries: Vec<&topology::NodeState> = topo.primaries();
    let standbys: Vec<&topology::NodeState> = topo
        .nodes
        .iter()
        .filter(|n| n.role.as_deref() == Some("standby"))
        .collect();
    // Received WAL decides; among equals, the one with less left to replay.
    let received = |n: &topology::NodeState| {
        let r = n.receive_lsn.as_deref().and_then(parse_lsn).unwrap_or(0);
        r.max(n.replay_lsn.as_deref().and_then(parse_lsn).unwrap_or(0))
    };
    let replayed = |n: &topology::NodeState| n.replay_lsn.as_deref().and_then(parse_lsn).unwrap_or(0);
    let best = standbys.iter().max_by_key(|n| (received(n), replayed(n))).copied();
    let chosen = match (to, best) {
        (_, None) => None,
        (None, Some(b)) => Some(b),
        (Some(t), Some(b)) => {
            let cand = candidate(cluster, t)?;
            match standbys.iter().find(|n| n.name == cand.name) {
                None => {
                    checks.push(Check::fail(
                        "candidate",
                        format!("{t} does not answer as a standby: {}", describe(cluster, &cand).await),
                    ));
                    None
                }
                Some(n) if received(n) < received(b) => {
                    checks.push(Check::fail(
                        "candidate",
                        format!(
                            "{t} has received up to {}, but {} has more ({}): promoting {t} would lose {}",
                            fmt_lsn(received(n)),
                            b.name,
                            fmt_lsn(received(b)),
                            fmt_bytes(received(b).saturating_sub(received(n)) as f64)
                        ),
                    ));
                    None
                }
                Some(n) => Some(*n),
            }
        }
    };
    for n in &standbys {
        checks.push(Check::new(
            "standby",
            "pass",
            format!(
                "{} has received up to {} and replayed up to {}",
                n.name,
                n.receive_lsn.clone().unwrap_or_else(|| "nothing".into()),
                n.replay_lsn.clone().unwrap_or_else(|| "nothing".into())
            ),
        ));
    }
    for n in topo.nodes.iter().filter(|n| !n.reachable) {
        checks.push(Check::new(
            "node",
            "warn",
            format!("{} does not answer: {}", n.name, n.error.clone().unwrap_or_default()),
        ));
    }
    let mut refused = checks.iter().any(Check::failed);
    if chosen.is_none() && !refused {
        checks.push(Check::fail(
            "candidate",
            "no standby answers: there is nothing to promote",
        ));
        refused = true;
    }
    if !live_primaries.is_empty() {
        let names: Vec<String> = live_primaries
            .iter()
            .map(|n| format!("{} ({})", n.name, n.address))
            .collect();
        if force {
            checks.push(Check::warn(
                "split brain",
                format!(
                    "{} still answer(s) as primary; forced: it will be fenced{}",
                    names.join(", "),
                    if live_primaries
                        .iter()
                        .any(|n| cluster.node(&n.name).and_then(|c| ctx.data_dir(c)).is_some())
                    {
                        " and stopped"
                    } else {
                        ""
                    }
                ),
            ));
        } else {
            checks.push(Check::fail(
                "split brain",
                format!(
                    "{} still answer(s) as primary: promoting another node would make two primaries. Use switchover, \
                 or stop it; to promote anyway, force it with the environment's name typed (CLI: --force {})",
                    names.join(", "),
                    cluster.env
                ),
            ));
            refused = true;
        }
    }
    let wal_loss = chosen.map(|c| {
        let got = received(c);
        match last_primary_lsn {
            Some(last) if last > got => format!(
                "at least {} may be lost: dbdeck last saw the primary at {}, {} has received up to {}",
                fmt_bytes((last - got) as f64),
                fmt_lsn(last),
                c.name,
                fmt_lsn(got)
            ),
            Some(last) => format!(
                "none known: {} has received everything up to {} (dbdeck last saw the primary at {})",
                c.name,
                fmt_lsn(got),
                fmt_lsn(last)
            ),
            None => "unknown: dbdeck never read the primary's position".into(),
        }
    });
    let detail = match chosen {
        Some(c) if !refused => format!(
            "{} is the most advanced standby; WAL loss: {}",
            c.name,
            wal_loss.clone().unwrap_or_default()
        ),
        _ => summary(&checks),
    };
    run.checks(checks);
    let to_name = chosen
        .map(|c| c.name.clone())
        .or(to.map(str::to_owned))
        .unwrap_or_default();
    if refused {
        run.end("failed", detail.clone());
        return Ok(run.report(
            "failover",
            Some(&primary.name),
            &to_name,
            false,
            format!("Failover refused, nothing was changed: {detail}"),
            vec![],
            None,
            wal_loss,
            None,
        ));
    }
    run.end("ok", detail);
    if check_only {
        return Ok(run.report(
            "failover",
            Some(&primary.name),
            &to_name,
            true,
            format!("A failover would promote {to_name}; nothing was changed (assessment only)."),
            vec![],
            None,
            wal_loss,
            None,
        ));
    }
    let cand = candidate(cluster, &to_name)?;
    if let Some(p) = &ctx.patroni {
        return patroni_promote(run, p, "failover", &primary, &cand, repoint, wal_loss).await;
    }

    // A live primary (forced) is fenced first, so it cannot take writes the new one will not have.
    if let Some(p) = live_primaries.first() {
        run.begin("fence", &format!("Fence {}", p.name)).await;
        let node = cluster.node(&p.name).cloned().unwrap_or_else(|| primary.clone());
        let fenced = async {
            let mut c = cluster.connect(&node).await?;
            let r = fence(&mut c, &node, &cand.name).await;
            let _ = c.close().await;
            r
        }
        .await;
        match fenced {
            Ok((lsn, ended)) => run.end("ok", format!("read-only, {ended} session(s) ended at {}", fmt_lsn(lsn))),
            Err(e) => run.end("warning", format!("could not fence it: {}", e.message)),
        }
    }

    let mut cc = cluster.connect(&cand).await?;
    run.begin("catch_up", &format!("Let {} replay what it received", cand.name))
        .await;
    let target = received(chosen.expect("chosen when not refused"));
    match catch_up(&mut cc, &cand, target, ctx.catchup_timeout).await {
        Ok(at) => run.end("ok", format!("replayed up to {}", fmt_lsn(at))),
        Err(e) => {
            run.end("failed", e.message.clone());
            return Ok(run.report(
                "failover",
                Some(&primary.name),
                &cand.name,
                false,
                format!("Stopped before promotion, nothing was promoted: {}", e.message),
                vec![],
                None,
                wal_loss,
                None,
            ));
        }
    }

    run.begin("promote", &format!("Promote {}", cand.name)).await;
    if let Err(e) = promote(&mut cc, &cand).await {
        run.end("failed", e.message.clone());
        let state = describe(cluster, &cand).await;
        return Ok(run.report(
            "failover",
            Some(&primary.name),
            &cand.name,
            false,
            format!("Promotion failed: {}", e.message),
            vec![NodeOutcome {
                name: cand.name.clone(),
                address: cand.address.clone(),
                state,
            }],
            None,
            wal_loss,
            None,
        ));
    }
    run.end("ok", format!("{} is out of recovery", cand.name));

    run.begin("verify", "Verify the new primary takes writes").await;
    let new_tl = match verify_writes(&mut cc, &cand).await {
        Ok(tl) => {
            run.mark_write();
            run.end("ok", format!("a write was accepted on timeline {tl}"));
            Some(tl)
        }
        Err(e) => {
            run.end("failed", e.message.clone());
            None
        }
    };

    run.begin("stop_old", "Keep the old primary from taking writes").await;
    let old_state = match ctx.data_dir(&primary) {
        Some(d) => match d.running().await {
            Ok(true) => match d.stop().await {
                Ok(()) => {
                    run.end("ok", "it was running: stopped");
                    "stopped".to_owned()
                }
                Err(e) => {
                    run.end("warning", format!("could not stop it: {}", e.message));
                    format!("running: {}", e.message)
                }
            },
            Ok(false) => {
                run.end("ok", "it is down; dbdeck starts it again only as a standby (rejoin)");
                "down".to_owned()
            }
            Err(e) => {
                run.end("warning", e.message.clone());
                format!("unknown: {}", e.message)
            }
        },
        None => {
            run.end("warning", "its data directory is not on this machine: if it comes back it must not take writes; rejoin or rebuild it");
            "unreachable (not on this machine)".to_owned()
        }
    };

    let others: Vec<&NodeConf> = cluster
        .nodes
        .iter()
        .filter(|n| n.name != primary.name && n.name != cand.name && topo.node(&n.name).is_some_and(|s| s.reachable))
        .collect();
    if let Some(b) = &ctx.bouncer {
        // In case it was paused by hand while the primary was down.
        let _ = b.resume().await;
    }
    let outcomes = repoint_phases(&mut run, repoint, &primary, &cand, &mut cc, &others, false).await;
    let _ = cc.close().await;

    let ok = new_tl.is_some() && !run.phases.iter().any(|p| p.status == "failed");
    let nodes = promoted(&primary, &cand, new_tl, &old_state, outcomes);
    let next = rejoin_hint(ctx, &primary, &cand);
    let outcome = if ok {
        format!(
            "{} ({}) is the primary. WAL loss: {}",
            cand.name,
            cand.address,
            wal_loss.clone().unwrap_or_default()
        )
    } else {
        format!(
            "{} was promoted, but not everything went through; see the phases",
            cand.name
        )
    };
    Ok(run.report(
        "failover",
        Some(&primary.name),
        &cand.name,
        ok,
        outcome,
        nodes,
        new_tl,
        wal_loss,
        next,
    ))
}

/// Bring a node whose data directory is on this machine back as a standby of the current
/// primary: stop it if it runs, pg_rewind it, configure it, start it, and check it streams.
pub async fn rejoin(ctx: &FlowCtx<'_>, node: &str) -> Result<FlowReport, ApiError> {
    if let Some(p) = &ctx.patroni {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "'{}' is managed by Patroni ({}), which rejoins its members itself (pg_rewind when use_pg_rewind is on)",
                ctx.cluster.env, p.base()
            ),
        )
        .with_hint("watch the member come back in `dbdeck replication status`, or use `patronictl reinit` for a member that cannot"));
    }
    let cluster = ctx.cluster;
    let primary = cluster.primary().clone();
    let target = candidate(cluster, node)?;
    let Some(dir) = ctx.data_dir(&target) else {
        return Err(ApiError::invalid(format!(
            "dbdeck can only rejoin a node whose data directory is on this machine, and {} ({}) has none \
             (replication.local_nodes)",
            target.name, target.address
        ))
        .with_hint(format!(
            "dbdeck env update {} --node-dir {}=/path/to/data",
            cluster.env, target.address
        )));
    };
    let mut run = Run::new(ctx);
    let fail = |run: Run, msg: String, state: String| {
        run.report(
            "rejoin",
            Some(&primary.name),
            &target.name,
            false,
            msg,
            vec![NodeOutcome {
                name: target.name.clone(),
                address: target.address.clone(),
                state,
            }],
            None,
            None,
            None,
        )
    };

    run.begin("checks", "Check the primary and the node").await;
    let mut pc = match cluster.connect(&primary).await {
        Ok(c) => c,
        Err(e) => {
            run.end("failed", e.message.clone());
            return Ok(fail(
                run,
                format!(
                    "The primary does not answer, so there is nothing to rejoin: {}",
                    e.message
                ),
                "unchanged".into(),
            ));
        }
    };
    let standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(&mut pc)
        .await
        .map_err(|e| db_err(&primary, e))?;
    if standby {
        run.end("failed", format!("{} is in recovery", primary.address));
        return Ok(fail(
            run,
            format!(
                "The environment's primary ({}) is not a primary: nothing to rejoin to",
                primary.address
            ),
            "unchanged".into(),
        ));
    }
    let running = dir.running().await?;
    if running && let Ok(mut c) = cluster.connect(&target).await {
        let s = topology::probe(&mut c, &target).await;
        let _ = c.close().await;
        if let Ok(s) = s
            && s.role.as_deref() == Some("standby")
            && s.receiver
                .as_ref()
                .is_some_and(|r| r.status == "streaming" && topology::is_address(&primary, &r.upstream))
        {
            run.end("ok", "already a standby streaming from the primary");
            return Ok(run.report(
                "rejoin",
                Some(&primary.name),
                &target.name,
                true,
                format!("{} already streams from the primary; nothing to do.", target.name),
                vec![NodeOutcome {
                    name: target.name.clone(),
                    address: target.address.clone(),
                    state: format!("standby, streaming from {}", primary.address),
                }],
                None,
                None,
                None,
            ));
        }
    }
    run.end(
        "ok",
        format!(
            "the primary is {}; {} is {}",
            primary.address,
            target.name,
            if running {
                "running and will be stopped"
            } else {
                "stopped"
            }
        ),
    );

    if running {
        run.begin("stop_old", &format!("Stop {}", target.name)).await;
        if let Err(e) = dir.stop().await {
            run.end("failed", e.message.clone());
            return Ok(fail(
                run,
                format!("Could not stop {}: {}", target.name, e.message),
                "running".into(),
            ));
        }
        run.end("ok", "stopped");
    }

    run.begin("checkpoint", "Checkpoint the primary").await;
    if let Err(e) = exec(&mut pc, &primary, "CHECKPOINT".into()).await {
        run.end("failed", e.message.clone());
        return Ok(fail(run, e.message, "stopped".into()));
    }
    run.end("ok", "its control file names the new timeline");

    run.begin("rewind", &format!("Rewind {} with pg_rewind", target.name))
        .await;
    let mut source = Conninfo::default();
    source.set("host", primary.host());
    source.set("port", &primary.port().to_string());
    source.set("user", primary.opts.get_username());
    if let Some(db) = primary.opts.get_database() {
        source.set("dbname", db);
    }
    let password = ctx.primary_password.as_ref().map(|p| p.expose().to_string());
    match dir.rewind(&source.to_string(), password.as_deref()).await {
        Ok(out) => {
            let last = out
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("done")
                .trim()
                .to_owned();
            run.end("ok", last);
        }
        Err(e) => {
            run.end("failed", e.message.clone());
            return Ok(fail(
                run,
                format!(
                    "pg_rewind failed; {} is stopped and unchanged: {}",
                    target.name, e.message
                ),
                "stopped".into(),
            ));
        }
    }

    run.begin("configure", "Configure it as a standby").await;
    let inherited = dir.auto_conf_conninfo().and_then(|s| Conninfo::parse(&s).ok());
    let mut ci = inherited.clone().unwrap_or_else(|| {
        let mut c = Conninfo::default();
        c.set("user", primary.opts.get_username());
        c
    });
    ci.set("host", primary.host());
    ci.set("port", &primary.port().to_string());
    ci.set("application_name", &target.name);
    // A slot when the cluster uses them: the primary has physical slots, or streamed through
    // one itself when it was a standby.
    let slot_wanted: bool = sqlx::query_scalar(
        "SELECT current_setting('primary_slot_name') <> '' \
             OR EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_type = 'physical')",
    )
    .fetch_one(&mut pc)
    .await
    .unwrap_or(false);
    let slot = slot_wanted.then(|| target.name.to_ascii_lowercase().replace('-', "_"));
    if let Some(s) = &slot {
        let made = sqlx::query(
            "SELECT pg_create_physical_replication_slot($1, true) \
             WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
        )
        .bind(s)
        .execute(&mut pc)
        .await;
        if let Err(e) = made {
            run.end("failed", db_err(&primary, e).message);
            return Ok(fail(
                run,
                format!("Could not create slot {s} on the primary"),
                "rewound, stopped".into(),
            ));
        }
    }
    if let Err(e) = dir.make_standby(&ci.to_string(), slot.as_deref()) {
        run.end("failed", e.message.clone());
        return Ok(fail(run, e.message, "rewound, stopped".into()));
    }
    let shown = {
        let mut c = ci.clone();
        if c.get("password").is_some() {
            c.set("password", "********");
        }
        c.to_string()
    };
    run.end(
        "ok",
        format!(
            "standby.signal; primary_conninfo '{shown}'{}",
            slot.as_ref().map(|s| format!("; slot {s}")).unwrap_or_default()
        ),
    );

    run.begin("start", &format!("Start {} as a standby", target.name)).await;
    if let Err(e) = dir.start().await {
        run.end("failed", e.message.clone());
        return Ok(fail(
            run,
            format!(
                "{} is configured as a standby but did not start: {}",
                target.name, e.message
            ),
            "stopped (configured as a standby)".into(),
        ));
    }
    run.end("ok", "started in recovery");

    run.begin("verify", "Verify it streams from the primary").await;
    let _ = pc.close().await;
    match wait_streaming(cluster, &target, &primary).await {
        Ok(()) => run.end("ok", format!("streaming from {}", primary.address)),
        Err(e) => {
            run.end("failed", e.message.clone());
            return Ok(fail(run, e.message, "standby, not streaming".into()));
        }
    }
    Ok(run.report(
        "rejoin",
        Some(&primary.name),
        &target.name,
        true,
        format!(
            "{} ({}) is a standby of {} again.",
            target.name, target.address, primary.address
        ),
        vec![NodeOutcome {
            name: target.name.clone(),
            address: target.address.clone(),
            state: format!("standby, streaming from {}", primary.address),
        }],
        None,
        None,
        None,
    ))
}

/// Wait until Patroni names the member at `cand`'s address leader and says it runs. Polls the
/// configured endpoint, or any member's when that one is down.
async fn await_patroni_leader(p: &Patroni, cand: &NodeConf, timeout: Duration) -> Result<PatroniCluster, ApiError> {
    let deadline = Instant::now() + timeout;
    let mut rests: Vec<String> = p.bases.clone();
    let mut last = String::from("no answer yet");
    loop {
        for base in rests.clone() {
            match p.cluster_from(&base).await {
                Ok(c) => {
                    if let Some(m) = c.member_at(cand.host(), cand.port())
                        && m.is_leader()
                        && m.state == "running"
                    {
                        return Ok(c);
                    }
                    last = c
                        .members
                        .iter()
                        .map(|m| format!("{} {} {}", m.name, m.role, m.state))
                        .collect::<Vec<_>>()
                        .join(", ");
                    for m in &c.members {
                        if let Some(r) = m.rest()
                            && !rests.contains(&r)
                        {
                            rests.push(r);
                        }
                    }
                    break;
                }
                Err(e) => last = e.message,
            }
        }
        if Instant::now() > deadline {
            return Err(ApiError::new(
                ErrorCode::Timeout,
                format!(
                    "Patroni had not made {} the leader after {} s (members: {last})",
                    cand.name,
                    timeout.as_secs()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Connect to the new leader and get a write accepted, retrying for a few seconds while
/// Patroni finishes the promotion.
async fn verify_leader(cluster: &Cluster, cand: &NodeConf) -> Result<(PgConnection, i32), ApiError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = async {
            let mut c = cluster.connect(cand).await?;
            let tl = verify_writes(&mut c, cand).await?;
            Ok::<_, ApiError>((c, tl))
        }
        .await;
        match attempt {
            Ok(x) => return Ok(x),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// The part of a switchover or failover Patroni does: ask it (POST to the leader's REST API
/// for a switchover, to the candidate's for a failover), wait for the new leader, then verify
/// and re-point dbdeck's side (the environment and PgBouncer; Patroni re-points its members).
#[allow(clippy::too_many_arguments)]
async fn patroni_promote<R: EnvRepoint>(
    mut run: Run<'_, '_>,
    p: &Patroni,
    kind: &str,
    primary: &NodeConf,
    cand: &NodeConf,
    repoint: &R,
    wal_loss: Option<String>,
) -> Result<FlowReport, ApiError> {
    let ctx = run.ctx;
    let cluster = ctx.cluster;
    let view = p.cluster().await.map_err(|e| {
        e.with_hint(
            "point the environment's Patroni URL at a member whose Patroni runs (dbdeck env update ENV --patroni URL)",
        )
    })?;
    let member = view.member_at(cand.host(), cand.port()).cloned();
    let leader = view.leader().cloned();
    let Some(member) = member else {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "{} ({}) is not a member of the Patroni cluster at {}",
                cand.name,
                cand.address,
                p.base()
            ),
        ));
    };
    let (rest, body) = match (kind, &leader) {
        ("switchover", Some(l)) => (
            l.rest().unwrap_or_else(|| p.base().to_owned()),
            serde_json::json!({ "leader": l.name, "candidate": member.name }),
        ),
        _ => (
            member.rest().unwrap_or_else(|| p.base().to_owned()),
            serde_json::json!({ "candidate": member.name }),
        ),
    };

    run.begin("patroni", &format!("Patroni: {kind} to {}", member.name))
        .await;
    let mut request = {
        let (p, rest, kind, body) = (p.clone(), rest.clone(), kind.to_owned(), body.clone());
        tokio::spawn(async move { p.request(&rest, &kind, body).await })
    };
    // A refusal comes back at once; a success only after Patroni's own once-a-second polls,
    // so the new leader is watched for in /cluster meanwhile.
    let mut reply: Option<Result<String, ApiError>> = None;
    let waited = tokio::select! {
        w = await_patroni_leader(p, cand, Duration::from_secs(60)) => w.map(|_| ()),
        r = &mut request => {
            let r = r.unwrap_or_else(|e| Err(ApiError::new(ErrorCode::Internal, e.to_string())));
            let refused = r.as_ref().err().cloned();
            reply = Some(r);
            match refused {
                Some(e) => Err(e),
                None => await_patroni_leader(p, cand, Duration::from_secs(60)).await.map(|_| ()),
            }
        }
    };
    if let Err(e) = waited {
        run.end("failed", e.message.clone());
        if let Some(b) = &ctx.bouncer {
            let _ = b.resume().await;
        }
        return Ok(run.report(
            kind,
            Some(&primary.name),
            &cand.name,
            false,
            format!("Patroni did not {kind}: {}. dbdeck changed nothing.", e.message),
            vec![],
            None,
            wal_loss,
            None,
        ));
    }
    run.end(
        "ok",
        format!("Patroni made {} ({}) the leader", member.name, cand.address),
    );

    run.begin("verify", "Verify the new primary takes writes").await;
    let (mut cc, tl) = match verify_leader(cluster, cand).await {
        Ok(x) => x,
        Err(e) => {
            run.end("failed", e.message.clone());
            return Ok(run.report(
                kind,
                Some(&primary.name),
                &cand.name,
                false,
                format!(
                    "Patroni reports {} as leader, but it did not accept a write: {}",
                    cand.name, e.message
                ),
                vec![],
                None,
                wal_loss,
                None,
            ));
        }
    };
    run.mark_write();
    run.end("ok", format!("a write was accepted on timeline {tl}"));

    let mut outcomes = repoint_phases(&mut run, repoint, primary, cand, &mut cc, &[], kind == "switchover").await;
    let _ = cc.close().await;

    run.begin("members", "Wait for Patroni to bring the other members back")
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let settled = loop {
        if let Ok(c) = p
            .cluster_from(&member.rest().unwrap_or_else(|| p.base().to_owned()))
            .await
            && c.members.iter().all(|m| m.is_leader() || m.state == "streaming")
        {
            break Ok(c);
        }
        if Instant::now() > deadline {
            break Err(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    match settled {
        Ok(c) => {
            run.end("ok", "every member streams from the new leader");
            for m in c.members.iter().filter(|m| !m.is_leader()) {
                outcomes.push(NodeOutcome {
                    name: m.name.clone(),
                    address: format!("{}:{}", m.host.clone().unwrap_or_default(), m.port.unwrap_or(0)),
                    state: format!("Patroni member, {} ({})", m.role, m.state),
                });
            }
        }
        Err(()) => run.end(
            "warning",
            "not every member was streaming after 30 s; Patroni is still working on it (see replication status)",
        ),
    }
    let reply = match reply {
        Some(r) => r,
        None => request
            .await
            .unwrap_or_else(|e| Err(ApiError::new(ErrorCode::Internal, e.to_string()))),
    };
    let reply = reply.unwrap_or_else(|e| e.message);
    let ok = !run.phases.iter().any(|p| p.status == "failed");
    let mut nodes = vec![NodeOutcome {
        name: primary.name.clone(),
        address: cand.address.clone(),
        state: format!("Patroni leader (was {}), accepting writes on timeline {tl}", cand.name),
    }];
    nodes.append(&mut outcomes);
    Ok(run.report(
        kind,
        Some(&primary.name),
        &cand.name,
        ok,
        format!("{} ({}) is the primary. Patroni: {reply}", cand.name, cand.address),
        nodes,
        Some(tl),
        wal_loss,
        None,
    ))
}

/// A switchover of a Patroni-managed environment: dbdeck's pre-checks plus Patroni's view,
/// PgBouncer paused around it, and the switchover itself requested from Patroni.
async fn patroni_switchover<R: EnvRepoint>(
    ctx: &FlowCtx<'_>,
    p: &Patroni,
    to: &str,
    check_only: bool,
    repoint: &R,
) -> Result<FlowReport, ApiError> {
    let cluster = ctx.cluster;
    let primary = cluster.primary().clone();
    let cand = candidate(cluster, to)?;
    let mut run = Run::new(ctx);

    run.begin("checks", "Pre-checks").await;
    let topo = topology::read(cluster, ctx.settings.lag_threshold_s).await;
    let mut checks: Vec<Check> = switchover_checks(ctx, &topo, &cand)
        .await
        .into_iter()
        .filter(|c| !matches!(c.name.as_str(), "stop" | "standby"))
        .collect();
    checks.push(match p.cluster().await {
        Err(e) => Check::fail("patroni", e.message),
        Ok(c) if c.pause => Check::fail(
            "patroni",
            "the cluster is in maintenance mode (paused): Patroni will not switch over; `patronictl resume` first",
        ),
        Ok(c) => match (c.leader(), c.member_at(cand.host(), cand.port())) {
            (None, _) => Check::fail("patroni", "Patroni has no leader"),
            (Some(l), _) if !l.is_at(primary.host(), primary.port()) => Check::fail(
                "patroni",
                format!(
                    "Patroni's leader is {} ({}:{}), not the environment's primary ({}): update the environment",
                    l.name,
                    l.host.clone().unwrap_or_default(),
                    l.port.unwrap_or(0),
                    primary.address
                ),
            ),
            (_, None) => Check::fail(
                "patroni",
                format!("{} ({}) is not a member of the Patroni cluster", cand.name, cand.address),
            ),
            (Some(l), Some(m)) if m.state == "streaming" || m.state == "running" => Check::pass(
                "patroni",
                format!(
                    "Patroni{} leader {}; member {} is {} ({} behind); Patroni stops, promotes and rejoins the members itself",
                    c.scope.as_ref().map(|s| format!(" cluster {s}:")).unwrap_or_default(),
                    l.name,
                    m.name,
                    m.state,
                    m.lag_bytes().map(|b| fmt_bytes(b as f64)).unwrap_or_else(|| "unknown".into())
                ),
            ),
            (_, Some(m)) => Check::fail("patroni", format!("member {} is {}, not streaming", m.name, m.state)),
        },
    });
    let failed = checks.iter().any(Check::failed);
    let detail = summary(&checks);
    run.checks(checks);
    if failed || check_only {
        run.end(if failed { "failed" } else { "ok" }, detail.clone());
        let outcome = if failed {
            format!("Pre-checks failed, nothing was changed: {detail}")
        } else {
            "Pre-checks passed; nothing was changed (checks only).".to_owned()
        };
        return Ok(run.report(
            "switchover",
            Some(&primary.name),
            &cand.name,
            !failed,
            outcome,
            vec![],
            None,
            None,
            None,
        ));
    }
    run.end(
        phase_status(run.phases.last().map(|p| p.checks.as_slice()).unwrap_or(&[])),
        detail,
    );

    if let Err(e) = pause_phase(&mut run).await {
        return Ok(run.report(
            "switchover",
            Some(&primary.name),
            &cand.name,
            false,
            format!("Stopped at PgBouncer PAUSE, nothing was changed: {e}"),
            vec![],
            None,
            None,
            None,
        ));
    }
    patroni_promote(run, p, "switchover", &primary, &cand, repoint, None).await
}
