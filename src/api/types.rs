//! The wire types of dbdeck's one API: what a door (Tauri, HTTP, CLI) sends in and gets back.
//!
//! These types are the contract with the UI. TypeScript declarations are generated from them
//! into `ui/src/bindings/api.ts` (see `crate::api::bindings`); change them here, never there.
//! Nothing secret may appear in a type that is serialised: passwords only travel inwards, as
//! [`Sensitive`], which can be deserialised but not serialised.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::advice::PoolAdvice;
use crate::audit::{AuditRecord, VerifyReport};
use crate::bench::{BenchMode, BenchReport};
use crate::env::{EnvInput, Environment, Role};
use crate::error::ApiError;
use crate::metrics::{History, Metric, MetricInfo};
use crate::migrate::source::SourceFormat;
use crate::observe::Snapshot;
use crate::observe::pgbouncer::{PgBouncerCommand, PgBouncerStatus};
use crate::observe::redis::RedisStats;
use crate::pool::PoolMetrics;
use crate::probe::{HealthSample, TestReport};
use crate::secrets::{KeychainStatus, SecretStatus, Sensitive};

/// One call into dbdeck. Tagged by `op` on the wire: `{"op":"env_test","name":"demo"}`.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Version, data directory, keychain availability, whether the demo is loaded.
    AppInfo,
    /// Every environment with its latest health sample.
    EnvList,
    /// One environment by name.
    EnvGet { name: String },
    /// Add an environment. A password in any URL, or in `password`, goes to the keychain.
    EnvAdd {
        env: EnvInput,
        #[serde(default)]
        #[ts(optional)]
        password: Option<Sensitive<String>>,
    },
    /// Replace an environment's settings (the name stays). Needs `confirm` = name on prod.
    EnvUpdate {
        name: String,
        env: EnvInput,
        #[serde(default)]
        #[ts(optional)]
        password: Option<Sensitive<String>>,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
    },
    /// Remove an environment and its keychain entries. Needs `confirm` = name on prod.
    EnvRemove {
        name: String,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
    },
    /// Connect to the environment's primary (and replicas) and report what was found.
    EnvTest { name: String },
    /// Store a password for one endpoint of an environment in the keychain.
    EnvSetPassword {
        name: String,
        role: Role,
        password: Sensitive<String>,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
    },
    /// Which endpoints need a secret, and whether the keychain has it.
    EnvSecrets { name: String },
    /// All environments as TOML, with no secrets.
    EnvExport,
    /// Read environments from TOML. Problems are reported with their line; nothing is
    /// written unless the whole document is valid.
    EnvImport {
        toml: String,
        /// Replace environments that already exist (default: report them as problems).
        #[serde(default)]
        replace: bool,
    },
    /// Health samples of one environment over the last `minutes`.
    HealthHistory { name: String, minutes: u32 },
    /// A chart (SVG) of connection latency over the last `minutes`, one series per
    /// environment, or only `name` when given.
    ChartLatency {
        #[serde(default)]
        #[ts(optional)]
        name: Option<String>,
        minutes: u32,
        /// Pixel size to draw at (default 860 × 260), so text stays readable when the page scales it.
        #[serde(default)]
        #[ts(optional)]
        width: Option<u32>,
        #[serde(default)]
        #[ts(optional)]
        height: Option<u32>,
        /// Also rasterise the chart to PNG (for export), returned as base64.
        #[serde(default)]
        #[ts(optional)]
        png: Option<bool>,
    },
    /// Poll the environment's primary: sessions, locks, sizes, cache hit ratios, top queries.
    Snapshot { name: String },
    /// Live figures of dbdeck's own pools (and their circuit breakers) for one environment,
    /// or every pool when `name` is absent. Each endpoint of the environment is pinged
    /// through its pool first, so the figures are current.
    Pools {
        #[serde(default)]
        #[ts(optional)]
        name: Option<String>,
    },
    /// The environment's pool profile as settings for an application's pool: `sqlalchemy`,
    /// `hikaricp`, `pgx` or `sqlx`.
    PoolSettings { name: String, format: String },
    /// Cancel a backend's running query, or terminate the backend. Needs `confirm` on prod.
    SessionSignal {
        name: String,
        pid: i32,
        #[serde(default)]
        terminate: bool,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
    },
    /// The environment's Redis as a cache tier: hit rate against its target, memory, evictions.
    RedisStats { name: String },
    /// The environment's PgBouncer: SHOW POOLS, STATS, CLIENTS, SERVERS, DATABASES, CONFIG.
    Pgbouncer { name: String },
    /// PAUSE, RESUME, RELOAD or RECONNECT on the environment's PgBouncer (all databases, or
    /// one). Needs `confirm` on prod.
    PgbouncerCommand {
        name: String,
        command: PgBouncerCommand,
        #[serde(default)]
        #[ts(optional)]
        database: Option<String>,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
    },
    /// Drive the environment through a pool of `clients` connections for `seconds` and report
    /// throughput and latency. Works in a scratch table it creates and drops. Needs `confirm`
    /// on prod.
    Bench {
        name: String,
        mode: BenchMode,
        clients: u32,
        seconds: u32,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
    },
    /// Recommend pool size and overflow per application, from the server's connection limit,
    /// the number of application instances, and the sessions observed over the last `hours`
    /// (default 24), with the arithmetic shown.
    PoolAdvice {
        name: String,
        instances: u32,
        #[serde(default)]
        #[ts(optional)]
        hours: Option<u32>,
    },
    /// Every metric dbdeck records, with labels, units and targets.
    MetricList,
    /// One metric of one environment over the last `minutes`, bucketed to about `points`.
    History {
        name: String,
        metric: Metric,
        minutes: u32,
        #[serde(default)]
        #[ts(optional)]
        points: Option<u32>,
    },
    /// A chart (SVG) of one metric of one environment, or of every environment when `name` is
    /// absent, with the metric's target drawn as a line.
    ChartMetric {
        #[serde(default)]
        #[ts(optional)]
        name: Option<String>,
        metric: Metric,
        minutes: u32,
        #[serde(default)]
        #[ts(optional)]
        width: Option<u32>,
        #[serde(default)]
        #[ts(optional)]
        height: Option<u32>,
        /// Also rasterise the chart to PNG (for export), returned as base64.
        #[serde(default)]
        #[ts(optional)]
        png: Option<bool>,
    },
    /// EXPLAIN one statement on an environment, safely: in a transaction that is rolled back,
    /// with statement and lock timeouts; ANALYZE on prod needs the environment's name typed.
    Explain {
        name: String,
        sql: String,
        #[serde(default)]
        options: crate::plan::run::ExplainOptions,
        /// Values for `$1…$n`, in order (servers before PostgreSQL 16, or with ANALYZE).
        #[serde(default)]
        #[ts(optional)]
        params: Option<Vec<String>>,
        /// statement_timeout for the run (default 30 s).
        #[serde(default)]
        #[ts(optional)]
        timeout_s: Option<u32>,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
        /// Send the nodes as a table (`node_table`): a fraction of the size for big plans.
        #[serde(default)]
        #[ts(optional)]
        compact: Option<bool>,
    },
    /// Read and analyse a plan someone pasted: EXPLAIN's JSON or PostgreSQL's text format.
    PlanAnalyze {
        text: String,
        /// Send the nodes as a table (`node_table`).
        #[serde(default)]
        #[ts(optional)]
        compact: Option<bool>,
    },
    /// Two plans side by side, nodes matched.
    PlanCompare { a: String, b: String },
    /// A plan as one self-contained HTML file that opens offline.
    PlanHtml {
        text: String,
        #[serde(default)]
        #[ts(optional)]
        title: Option<String>,
    },
    /// Index health: unused, duplicate, overlapping, invalid, oversized; seq-scanned tables.
    Indexes { name: String },
    /// Indexes that would help one statement, checked by the planner (HypoPG, or built in a
    /// rolled-back transaction off prod).
    IndexAdvice {
        name: String,
        sql: String,
        #[serde(default)]
        #[ts(optional)]
        timeout_s: Option<u32>,
        /// Check by building each real index in a rolled-back transaction even when HypoPG is
        /// there (exact sizes and costs; locks the table against writes meanwhile). Never on prod.
        #[serde(default)]
        #[ts(optional)]
        build_in_transaction: Option<bool>,
        /// Values for $1, $2, … in order (as for `explain`); without them a parameterised
        /// statement is planned generically where the server can (PostgreSQL 16+).
        #[serde(default)]
        #[ts(optional)]
        params: Option<Vec<String>>,
    },
    /// The newest audit records first; `before_id` pages backwards.
    AuditList {
        #[serde(default)]
        #[ts(optional)]
        env: Option<String>,
        #[serde(default)]
        #[ts(optional)]
        limit: Option<u32>,
        #[serde(default)]
        #[ts(optional)]
        before_id: Option<i64>,
    },
    /// Walk the audit hash chain.
    AuditVerify,
    /// A migration folder's status on one environment: applied, pending, modified, missing.
    MigrateStatus {
        name: String,
        dir: String,
        #[serde(default)]
        #[ts(optional)]
        format: Option<SourceFormat>,
    },
    /// The pending migrations with their SQL, each linted against the live target.
    MigratePlan {
        name: String,
        dir: String,
        #[serde(default)]
        #[ts(optional)]
        format: Option<SourceFormat>,
    },
    /// Apply the pending migrations one at a time (progress as `migration_progress` events);
    /// `dry_run` tries them and rolls back (or uses a scratch copy of the schema).
    MigrateApply {
        name: String,
        dir: String,
        #[serde(default)]
        #[ts(optional)]
        format: Option<SourceFormat>,
        /// Up to and including this version.
        #[serde(default)]
        #[ts(optional)]
        target: Option<String>,
        #[serde(default)]
        #[ts(optional)]
        dry_run: Option<bool>,
        #[serde(default)]
        #[ts(optional)]
        lock_timeout_ms: Option<u64>,
        #[serde(default)]
        #[ts(optional)]
        statement_timeout_s: Option<u64>,
        #[serde(default)]
        #[ts(optional)]
        retries: Option<u32>,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
    },
    /// Run down/undo migrations, newest first: `steps` of them (default 1) or down to `to`.
    MigrateRollback {
        name: String,
        dir: String,
        #[serde(default)]
        #[ts(optional)]
        format: Option<SourceFormat>,
        #[serde(default)]
        #[ts(optional)]
        steps: Option<u32>,
        #[serde(default)]
        #[ts(optional)]
        to: Option<String>,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
    },
    /// Accept a modified migration's new checksum, or clear a failed one (audited).
    MigrateRepair {
        name: String,
        dir: String,
        #[serde(default)]
        #[ts(optional)]
        format: Option<SourceFormat>,
        version: String,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
    },
    /// Versions × environments: who is behind, who diverged.
    MigrateDrift {
        dir: String,
        #[serde(default)]
        #[ts(optional)]
        format: Option<SourceFormat>,
        #[serde(default)]
        #[ts(optional)]
        envs: Option<Vec<String>>,
    },
    /// On a scratch database: apply all, dump, roll each back, apply again, dump, compare.
    MigrateTestRollback {
        name: String,
        dir: String,
        #[serde(default)]
        #[ts(optional)]
        format: Option<SourceFormat>,
    },
    /// Lock-safety lint of SQL scripts (linted in parallel); with `name`, weighed against that
    /// environment's tables, sessions and replicas.
    Lint {
        scripts: Vec<crate::migrate::lint::LintInput>,
        #[serde(default)]
        #[ts(optional)]
        name: Option<String>,
    },
    /// Replication topology of an environment: each node's role, LSNs, timeline, WAL
    /// receiver and walsenders, each standby's lag, unconfigured standbys, alerts. Records the
    /// lag as history.
    ReplicationStatus { name: String },
    /// The primary's replication slots, with WAL retained and a forecast of invalidation or a
    /// full disk. Records the retained WAL, so each reading sharpens the next forecast.
    ReplicationSlots { name: String },
    /// A chart of each standby's replay lag with the environment's threshold.
    ChartReplicationLag {
        name: String,
        minutes: u32,
        #[serde(default)]
        #[ts(optional)]
        width: Option<u32>,
        #[serde(default)]
        #[ts(optional)]
        height: Option<u32>,
        /// Also rasterise the chart to PNG (for export), returned as base64.
        #[serde(default)]
        #[ts(optional)]
        png: Option<bool>,
    },
    /// A planned switchover to the replica `to` (phases as `replication_progress` events).
    /// `check_only` runs the pre-checks and changes nothing.
    Switchover {
        name: String,
        to: String,
        #[serde(default)]
        #[ts(optional)]
        check_only: Option<bool>,
        /// Required for prod: the environment's name.
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
        /// How long the candidate may take to replay up to the fence (default 30).
        #[serde(default)]
        #[ts(optional)]
        catchup_timeout_s: Option<u64>,
        /// An id for this run's `replication_progress` events, chosen by the caller so it can
        /// tell its own events from another run's (letters, digits, `-`, `_`; made up if absent).
        #[serde(default)]
        #[ts(optional)]
        job: Option<String>,
    },
    /// An unplanned failover to `to`, or to the most advanced standby. Refused while another
    /// node answers as a primary unless `force` is the environment's name.
    Failover {
        name: String,
        #[serde(default)]
        #[ts(optional)]
        to: Option<String>,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
        #[serde(default)]
        #[ts(optional)]
        force: Option<String>,
        /// Only assess (the most advanced standby, what may be lost, whether it would be
        /// refused); change nothing.
        #[serde(default)]
        #[ts(optional)]
        check_only: Option<bool>,
        /// An id for this run's `replication_progress` events, chosen by the caller so it can
        /// tell its own events from another run's (letters, digits, `-`, `_`; made up if absent).
        #[serde(default)]
        #[ts(optional)]
        job: Option<String>,
    },
    /// Bring `node` (a replica whose data directory is on this machine, typically the old
    /// primary) back as a standby of the primary with pg_rewind.
    Rejoin {
        name: String,
        node: String,
        #[serde(default)]
        #[ts(optional)]
        confirm: Option<String>,
        /// An id for this run's `replication_progress` events, chosen by the caller so it can
        /// tell its own events from another run's (letters, digits, `-`, `_`; made up if absent).
        #[serde(default)]
        #[ts(optional)]
        job: Option<String>,
    },
}

/// What a call returns. Tagged by `kind`, with the value under `data`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Response {
    AppInfo(AppInfo),
    EnvList(Vec<EnvSummary>),
    Env(Environment),
    Removed { name: String },
    TestReport(TestReport),
    Secrets(Vec<SecretStatus>),
    Exported { toml: String },
    Imported(ImportReport),
    Health(Vec<HealthSample>),
    Chart(Chart),
    Audit(Vec<AuditRecord>),
    Verified(VerifyReport),
    Snapshot(Snapshot),
    Pools(Vec<PoolMetrics>),
    Signalled { pid: i32, terminate: bool, found: bool },
    Metrics(Vec<MetricInfo>),
    Redis(RedisStats),
    Pgbouncer(PgBouncerStatus),
    Bench(BenchReport),
    PoolAdvice(PoolAdvice),
    Text { text: String },
    History(History),
    Plan(Box<crate::plan::run::PlanReport>),
    PlanComparison(Box<PlanComparison>),
    Indexes(crate::plan::indexes::IndexReport),
    IndexAdvice(Box<crate::plan::indexes::IndexAdvice>),
    MigrationStatus(Box<crate::migrate::MigrationOverview>),
    MigrationPlan(Box<crate::migrate::MigrationPlan>),
    MigrationRun(Box<crate::migrate::run::RunReport>),
    Drift(crate::migrate::DriftMatrix),
    RollbackTest(Box<crate::migrate::RollbackTest>),
    Lint(Vec<crate::migrate::lint::LintReport>),
    Topology(Box<crate::replicate::topology::Topology>),
    Slots(crate::replicate::slots::SlotsReport),
    Flow(Box<crate::replicate::flow::FlowReport>),
    Done,
}

/// Two plans and how they differ.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PlanComparison {
    pub a: crate::plan::Plan,
    pub b: crate::plan::Plan,
    pub comparison: crate::plan::compare::Comparison,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    /// True when the demo environment was set up for this run (`--demo`).
    pub demo: bool,
    pub keychain: KeychainStatus,
    /// OS user recorded as the actor in the audit log.
    pub user: String,
    /// Seconds between health checks of each environment.
    pub health_interval_s: u32,
    /// Why the demo environment could not be set up, when it could not.
    pub demo_error: Option<ApiError>,
    /// The demo's migration folder, with `--demo`: the wizard starts there.
    pub demo_migrations: Option<String>,
}

/// An environment and the last thing known about its health.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EnvSummary {
    pub env: Environment,
    pub health: Option<HealthSample>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportReport {
    pub added: Vec<String>,
    pub replaced: Vec<String>,
    /// Empty when the import succeeded; when not empty nothing was written.
    pub problems: Vec<ImportProblem>,
}

#[derive(Debug, Clone, Serialize, TS, PartialEq, Eq)]
pub struct ImportProblem {
    /// 1-based line in the TOML document, when the problem has a place.
    pub line: Option<u32>,
    pub message: String,
}

/// A rendered chart. `svg` is a complete standalone SVG document produced by plotters.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Chart {
    pub title: String,
    pub svg: String,
    /// Unix milliseconds of the newest point, for the "as of" label.
    pub as_of_ms: Option<i64>,
    pub series: Vec<String>,
    /// The size the SVG was drawn at.
    pub width: u32,
    pub height: u32,
    /// The chart as a PNG (base64), when the request asked for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub png_base64: Option<String>,
}

/// Pushed to every subscriber (SSE in the browser, a Tauri channel in the desktop).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A health check of an environment finished.
    Health { sample: HealthSample },
    /// Environments were added, changed or removed; reload the list.
    EnvsChanged,
    /// An audit record was appended.
    Audit { record: AuditRecord },
    /// A second of a running benchmark finished.
    BenchProgress {
        env: String,
        second: u32,
        seconds: u32,
        ops: u64,
    },
    /// A step of a running migration (apply, dry run, rollback, rollback test).
    MigrationProgress {
        env: String,
        progress: crate::migrate::run::Progress,
    },
    /// A phase of a running switchover, failover or rejoin started or ended.
    ReplicationProgress {
        env: String,
        job: String,
        phase: crate::replicate::flow::Phase,
    },
}
