//! The CLI door: `dbdeck <command> [--format table|json]`.
//!
//! Each command builds a [`Request`], calls the API, and prints the response — a table for
//! people, JSON for scripts (the same JSON the other doors get). Exit codes: 0 success, 1 the
//! action failed or found problems, 2 bad usage. No domain logic lives here.

use std::io::{IsTerminal, Read};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::api::{Api, ApiOptions, Request, Response};
use crate::cli_views::View;
use crate::env::{EnvInput, ReplicaInput, Role};
use crate::error::ApiError;
use crate::secrets::Sensitive;

#[derive(Debug, Parser)]
#[command(
    name = "dbdeck",
    version,
    about = "Administration console for PostgreSQL and SQLite environments"
)]
pub struct Cli {
    /// Folder for the store, logs and demo database (default: the OS data directory).
    #[arg(long, global = true, env = "DBDECK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
// Parsed once per run: the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Manage environments.
    #[command(subcommand)]
    Env(EnvCommand),
    /// Serve the UI and API to a browser on this machine.
    Serve(ServeArgs),
    /// Read and verify the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Everything one poll of the environment's primary finds.
    Snapshot(EnvArg),
    /// dbdeck's own connection pools: size, in use, waits, timeouts, circuit breaker.
    Pools {
        #[arg(long)]
        env: String,
        /// Instead, print the environment's pool profile as an application's settings:
        /// sqlalchemy, hikaricp, pgx or sqlx.
        #[arg(long = "as", value_name = "FORMAT")]
        as_settings: Option<String>,
    },
    /// Sessions (pg_stat_activity) grouped by state, with long transactions.
    Sessions(EnvArg),
    /// Who blocks whom (pg_blocking_pids), as a tree.
    Locks(EnvArg),
    /// The most expensive statements (pg_stat_statements).
    Top(EnvArg),
    /// Buffer-cache hit ratios per database, table and index.
    Cache(EnvArg),
    /// PgBouncer's admin console: show its state, or pause/resume/reload/reconnect.
    #[command(subcommand)]
    Pgbouncer(PgbouncerCommandArgs),
    /// Drive an environment through dbdeck's pool and report ops/s and latency percentiles.
    Bench {
        #[arg(long)]
        env: String,
        #[arg(long, default_value_t = 4)]
        clients: u32,
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        /// select (primary-key lookups, like pgbench -S), insert, or mixed (4:1).
        #[arg(long, default_value = "select")]
        mode: String,
        /// Also write the ops/s chart here (.svg).
        #[arg(long)]
        chart: Option<PathBuf>,
        /// Required for prod: the environment's name.
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Advice: indexes for a statement (`advise --env NAME "SQL"`, checked by the planner), or
    /// pool size and overflow per application (`advise --env NAME --instances N`).
    Advise {
        #[arg(long)]
        env: String,
        /// The statement to find indexes for.
        sql: Option<String>,
        /// Pool advice: how many instances of each application run (pods, processes).
        #[arg(long, conflicts_with = "sql")]
        instances: Option<u32>,
        /// Pool advice: hours of observed sessions to use.
        #[arg(long, default_value_t = 24)]
        hours: u32,
        /// Index advice: statement_timeout for each planner check, in seconds.
        #[arg(long, default_value_t = 30)]
        timeout: u32,
        /// Index advice: check by building each real index in a rolled-back transaction, even
        /// when HypoPG is there (exact sizes; blocks writes to the table meanwhile; never on prod).
        #[arg(long)]
        build_in_transaction: bool,
        /// Index advice: a value for $1, $2, … in order (repeat the flag); without them a
        /// parameterised statement is planned generically (PostgreSQL 16 and later).
        #[arg(long = "param", conflicts_with = "instances")]
        params: Vec<String>,
    },
    /// EXPLAIN a statement safely: FORMAT JSON underneath, inside a transaction that is rolled
    /// back, with statement and lock timeouts. Prints the tree and the findings.
    Explain {
        #[arg(long)]
        env: String,
        /// The statement ("-" reads it from stdin).
        sql: String,
        /// Execute it to measure (writes are rolled back; DDL is refused; prod needs --confirm).
        #[arg(long)]
        analyze: bool,
        #[arg(long)]
        buffers: bool,
        #[arg(long)]
        verbose: bool,
        #[arg(long)]
        settings: bool,
        /// WAL usage (with --analyze).
        #[arg(long)]
        wal: bool,
        /// Per-node timing off (lower overhead with --analyze).
        #[arg(long)]
        no_timing: bool,
        #[arg(long)]
        no_costs: bool,
        /// A value for $1, $2, … in order (repeat the flag); NULL is NULL.
        #[arg(long = "param")]
        params: Vec<String>,
        /// statement_timeout in seconds.
        #[arg(long, default_value_t = 30)]
        timeout: u32,
        /// Required for --analyze on prod: the environment's name.
        #[arg(long)]
        confirm: Option<String>,
        /// Also write the plan as a self-contained HTML file.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Read plans from files: analyse one, or compare two.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Schema migrations (sqlx, Flyway or plain folders): status, plan, apply, rollback,
    /// rollback test, repair, drift across environments.
    #[command(subcommand)]
    Migrate(crate::cli_migrate::MigrateCommand),
    /// Lock-safety lint of SQL files or migration folders (exit 1 at --severity).
    Lint(crate::cli_migrate::LintArgs),
    /// Replication topology and lag.
    #[command(subcommand)]
    Replication(crate::cli_replication::ReplicationCommand),
    /// Replication slots of the primary: WAL retained, and when a slot is invalidated or the
    /// disk fills at the current rate.
    Slots {
        #[arg(long)]
        env: String,
    },
    /// Planned switchover to a replica: pre-checks, PgBouncer pause, fence, catch-up, promote,
    /// verify, stop the old primary, re-point, resume.
    Switchover(crate::cli_replication::SwitchoverArgs),
    /// Unplanned failover when the primary is gone: promote the most advanced standby.
    Failover(crate::cli_replication::FailoverArgs),
    /// Rewind a node (typically the old primary) and restart it as a standby.
    Rejoin(crate::cli_replication::RejoinArgs),
    /// Index health: unused, duplicate, overlapping, invalid and oversized indexes, and tables
    /// read mostly by sequential scans.
    Indexes {
        #[arg(long)]
        env: String,
    },
    /// The metrics dbdeck records (for --metric).
    Metrics,
    /// One metric's history (`--csv` for a spreadsheet).
    History {
        #[arg(long)]
        env: String,
        /// e.g. latency_ms, tps, cache_hit_pct (see `dbdeck metrics`).
        #[arg(long)]
        metric: String,
        /// How far back: 15m, 1h, 6h, 24h, 7d, 30d, 90d.
        #[arg(long, default_value = "1h")]
        since: String,
        /// Print CSV (timestamp, avg, min, max) instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// Draw one metric (every environment unless --env) as an SVG or PNG file. `--metric
    /// replay_lag_s --env E` draws each standby's replay lag with the threshold.
    Chart {
        #[arg(long)]
        env: Option<String>,
        #[arg(long)]
        metric: String,
        #[arg(long, default_value = "1h")]
        since: String,
        /// Where to write the chart (.svg or .png).
        #[arg(long, short)]
        output: PathBuf,
        #[arg(long, default_value_t = 960)]
        width: u32,
        #[arg(long, default_value_t = 320)]
        height: u32,
    },
    /// Cancel a backend's query (or terminate it with --terminate).
    Cancel {
        #[arg(long)]
        env: String,
        pid: i32,
        #[arg(long)]
        terminate: bool,
        /// Required for prod: the environment's name.
        #[arg(long)]
        confirm: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PgbouncerCommandArgs {
    /// SHOW POOLS, STATS, CLIENTS, SERVERS, DATABASES and CONFIG (or just one with --what).
    Show {
        #[arg(long)]
        env: String,
        /// pools, stats, clients, servers, databases or config.
        #[arg(long)]
        what: Option<String>,
    },
    /// PAUSE: wait for running transactions, then hold new queries.
    Pause(PgbouncerTarget),
    /// RESUME after a pause.
    Resume(PgbouncerTarget),
    /// RELOAD the configuration file.
    Reload(PgbouncerTarget),
    /// RECONNECT: close server connections as they are released.
    Reconnect(PgbouncerTarget),
}

#[derive(Debug, Args)]
pub struct PgbouncerTarget {
    #[arg(long)]
    pub env: String,
    /// One PgBouncer database instead of all.
    #[arg(long)]
    pub database: Option<String>,
    /// Required for prod: the environment's name.
    #[arg(long)]
    pub confirm: Option<String>,
}

#[derive(Debug, Args)]
pub struct EnvArg {
    /// The environment.
    #[arg(long)]
    pub env: String,
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Add an environment. A password in a URL or on stdin goes to the OS keychain.
    Add(AddArgs),
    /// Change an environment's settings; options not given keep their value.
    Update(UpdateArgs),
    /// List environments with their last health check.
    List,
    /// Show one environment.
    Show { name: String },
    /// Connect to every endpoint and report latency, version, role and TLS.
    Test { name: String },
    /// Remove an environment and its keychain entries.
    Remove {
        name: String,
        /// Required for prod: the environment's name.
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Store the password of one endpoint in the OS keychain (read from stdin).
    SetPassword {
        name: String,
        /// primary, replica:NAME, pgbouncer or redis.
        #[arg(long, default_value = "primary")]
        role: String,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Show which endpoints have a password in the keychain.
    Secrets { name: String },
    /// Write all environments as TOML (no secrets).
    Export {
        /// Write to a file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Read environments from a TOML file (`-` for stdin). All or nothing.
    Import {
        file: PathBuf,
        /// Overwrite environments that already exist (never prod).
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    pub name: String,
    /// dev, staging, prod or a custom word.
    #[arg(long, default_value = "dev")]
    pub kind: String,
    /// postgres://user@host:port/db or sqlite:///path/file.db
    #[arg(long)]
    pub url: String,
    /// #rrggbb (prod is always red).
    #[arg(long)]
    pub colour: Option<String>,
    /// A streaming replica, NAME=URL; repeat for more.
    #[arg(long = "replica", value_name = "NAME=URL")]
    pub replicas: Vec<String>,
    #[arg(long)]
    pub pgbouncer: Option<String>,
    #[arg(long)]
    pub redis: Option<String>,
    /// Patroni REST API base URL; several members' URLs, comma-separated, are tried in turn.
    #[arg(long)]
    pub patroni: Option<String>,
    /// Read the primary's password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub pool: PoolArgs,
    #[command(flatten)]
    pub routing: RoutingArgs,
    #[command(flatten)]
    pub replication: ReplicationArgs,
}

/// How dbdeck watches and drives replication.
#[derive(Debug, Args, Default)]
pub struct ReplicationArgs {
    /// Replay lag (seconds) above which a standby is in alert and a switchover refused.
    #[arg(long, value_name = "S")]
    pub lag_threshold: Option<f64>,
    /// A node's data directory on this machine (HOST:PORT=DIR, repeatable): dbdeck may stop
    /// it after a switchover and rejoin it with pg_rewind.
    #[arg(long = "node-dir", value_name = "HOST:PORT=DIR")]
    pub data_dirs: Vec<String>,
    /// Where pg_ctl and pg_rewind are.
    #[arg(long, value_name = "DIR")]
    pub pg_bin: Option<String>,
    /// The pgbouncer.ini dbdeck may rewrite to re-point PgBouncer at a new primary.
    #[arg(long, value_name = "FILE")]
    pub pgbouncer_ini: Option<String>,
}

impl ReplicationArgs {
    fn apply(
        &self,
        current: Option<crate::env::ReplicationSettings>,
    ) -> Result<Option<crate::env::ReplicationSettings>, ApiError> {
        if self.lag_threshold.is_none()
            && self.data_dirs.is_empty()
            && self.pg_bin.is_none()
            && self.pgbouncer_ini.is_none()
        {
            return Ok(current);
        }
        let mut r = current.unwrap_or_default();
        r.lag_threshold_s = self.lag_threshold.unwrap_or(r.lag_threshold_s);
        for d in &self.data_dirs {
            let (address, dir) = d
                .split_once('=')
                .ok_or_else(|| ApiError::invalid(format!("--node-dir '{d}' is not HOST:PORT=DIR")))?;
            r.local_nodes.retain(|n| n.address != address);
            r.local_nodes.push(crate::env::LocalNode {
                address: address.to_owned(),
                data_dir: dir.to_owned(),
            });
        }
        if self.pg_bin.is_some() {
            r.pg_bin = self.pg_bin.clone();
        }
        if self.pgbouncer_ini.is_some() {
            r.pgbouncer_ini = self.pgbouncer_ini.clone();
        }
        Ok(Some(r))
    }
}

/// Read routing of dbdeck's monitoring reads.
#[derive(Debug, Args, Default)]
pub struct RoutingArgs {
    /// Let replica-safe monitoring reads (sizes) go to a healthy replica.
    #[arg(long, value_name = "BOOL")]
    pub replica_reads: Option<bool>,
    /// The most replay lag (seconds) a replica may have to be read from.
    #[arg(long, value_name = "S")]
    pub max_replica_lag: Option<f64>,
}

impl RoutingArgs {
    fn apply(&self, current: Option<crate::env::ReadRouting>) -> Option<crate::env::ReadRouting> {
        if self.replica_reads.is_none() && self.max_replica_lag.is_none() {
            return current;
        }
        let mut r = current.unwrap_or_default();
        r.replica_reads = self.replica_reads.unwrap_or(r.replica_reads);
        r.max_lag_s = self.max_replica_lag.unwrap_or(r.max_lag_s);
        Some(r)
    }
}

/// The pool profile's knobs; any not given keep their value (or the kind's default).
#[derive(Debug, Args, Default)]
pub struct PoolArgs {
    /// Steady pool size.
    #[arg(long, value_name = "N")]
    pub pool_size: Option<u32>,
    /// Burst capacity above the pool size.
    #[arg(long, value_name = "N")]
    pub max_overflow: Option<u32>,
    /// Connections kept open when idle.
    #[arg(long, value_name = "N")]
    pub min_idle: Option<u32>,
    /// Wait this long for a free connection (ms).
    #[arg(long, value_name = "MS")]
    pub acquire_timeout: Option<u32>,
    /// Give up connecting after this long (ms; default 5000).
    #[arg(long, value_name = "MS")]
    pub connect_timeout: Option<u32>,
    /// Close connections idle this long (s).
    #[arg(long, value_name = "S")]
    pub idle_timeout: Option<u32>,
    /// Recycle connections after this long (s).
    #[arg(long, value_name = "S")]
    pub max_lifetime: Option<u32>,
    /// Ping a connection before handing it out.
    #[arg(long, value_name = "BOOL")]
    pub pre_ping: Option<bool>,
}

impl PoolArgs {
    fn any(&self) -> bool {
        self.pool_size.is_some()
            || self.max_overflow.is_some()
            || self.min_idle.is_some()
            || self.acquire_timeout.is_some()
            || self.connect_timeout.is_some()
            || self.idle_timeout.is_some()
            || self.max_lifetime.is_some()
            || self.pre_ping.is_some()
    }

    fn apply(&self, mut p: crate::env::PoolProfile) -> crate::env::PoolProfile {
        p.max_connections = self.pool_size.unwrap_or(p.max_connections);
        p.max_overflow = self.max_overflow.unwrap_or(p.max_overflow);
        p.min_connections = self.min_idle.unwrap_or(p.min_connections);
        p.acquire_timeout_ms = self.acquire_timeout.unwrap_or(p.acquire_timeout_ms);
        p.connect_timeout_ms = self.connect_timeout.unwrap_or(p.connect_timeout_ms);
        p.idle_timeout_s = self.idle_timeout.unwrap_or(p.idle_timeout_s);
        p.max_lifetime_s = self.max_lifetime.unwrap_or(p.max_lifetime_s);
        p.test_before_acquire = self.pre_ping.unwrap_or(p.test_before_acquire);
        p
    }
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    pub name: String,
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long)]
    pub colour: Option<String>,
    /// Replace the replicas with these (NAME=URL, repeatable).
    #[arg(long = "replica", value_name = "NAME=URL")]
    pub replicas: Vec<String>,
    /// Remove every replica.
    #[arg(long, conflicts_with = "replicas")]
    pub no_replicas: bool,
    #[arg(long)]
    pub pgbouncer: Option<String>,
    #[arg(long)]
    pub redis: Option<String>,
    #[arg(long)]
    pub patroni: Option<String>,
    #[command(flatten)]
    pub pool: PoolArgs,
    #[command(flatten)]
    pub routing: RoutingArgs,
    #[command(flatten)]
    pub replication: ReplicationArgs,
    /// Required for prod: the environment's name.
    #[arg(long)]
    pub confirm: Option<String>,
}

fn parse_replicas(list: &[String]) -> Result<Vec<ReplicaInput>, ApiError> {
    list.iter()
        .map(|r| {
            r.split_once('=')
                .map(|(n, u)| ReplicaInput {
                    name: n.to_owned(),
                    url: u.to_owned(),
                })
                .ok_or_else(|| {
                    ApiError::invalid(format!(
                        "--replica expects NAME=URL, got '{}'",
                        crate::env::redact_url(r)
                    ))
                })
        })
        .collect()
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Add and show the demo environment (an SQLite database in the data directory).
    #[arg(long)]
    pub demo: bool,
    /// Address to listen on. Anything but loopback exposes dbdeck to your network.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port; 0 picks a free one.
    #[arg(long, default_value_t = 7878)]
    pub port: u16,
    /// Seconds between health checks of each environment.
    #[arg(long, default_value_t = 5)]
    pub health_interval: u64,
    /// Keep raw metric samples this long (e.g. 24h).
    #[arg(long, default_value = "24h")]
    pub keep_raw: String,
    /// Keep 1-minute roll-ups this long.
    #[arg(long, default_value = "7d")]
    pub keep_1m: String,
    /// Keep 10-minute roll-ups this long.
    #[arg(long, default_value = "90d")]
    pub keep_10m: String,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show the newest records first.
    List {
        #[arg(long)]
        env: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Walk the hash chain; exit 1 naming the first bad record.
    Verify,
}

pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("dev", "dbdeck", "dbdeck")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".dbdeck"))
}

fn read_stdin_secret() -> Result<Sensitive<String>, ApiError> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| ApiError::invalid(format!("cannot read the password from stdin: {e}")))?;
    let s = s.trim_end_matches(['\n', '\r']).to_owned();
    if s.is_empty() {
        return Err(ApiError::invalid("no password on stdin").with_hint("pipe it in: `printf %s \"$PW\" | dbdeck …`"));
    }
    Ok(Sensitive::new(s))
}

/// Run a parsed command. Returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    crate::logging::init(&data_dir);
    let format = cli.format;
    match dispatch(cli, data_dir).await {
        Ok(code) => code,
        Err(e) => {
            if format == Format::Json {
                println!("{}", serde_json::json!({ "error": e }));
            } else {
                eprintln!("{}", e.render());
            }
            1
        }
    }
}

async fn dispatch(cli: Cli, data_dir: PathBuf) -> Result<i32, ApiError> {
    if let Command::Serve(args) = cli.command {
        return serve(args, data_dir).await;
    }
    let api = Api::open(ApiOptions::new(&data_dir, "cli")).await?;
    let req = match cli.command {
        Command::Env(c) => match c {
            EnvCommand::Add(a) => {
                let password = if a.password_stdin {
                    Some(read_stdin_secret()?)
                } else {
                    None
                };
                let replicas = parse_replicas(&a.replicas)?;
                let pool = a
                    .pool
                    .any()
                    .then(|| a.pool.apply(crate::env::PoolProfile::for_kind(&a.kind)));
                Request::EnvAdd {
                    env: EnvInput {
                        name: a.name,
                        kind: a.kind,
                        colour: a.colour,
                        url: a.url,
                        replicas,
                        pgbouncer: a.pgbouncer,
                        redis: a.redis,
                        patroni: a.patroni,
                        pool,
                        cache: None,
                        routing: a.routing.apply(None),
                        replication: a.replication.apply(None)?,
                    },
                    password,
                }
            }
            EnvCommand::Update(u) => {
                let Response::Env(current) = api.call(Request::EnvGet { name: u.name.clone() }).await? else {
                    unreachable!("env_get answers with an environment")
                };
                let mut input = current.to_input();
                if let Some(k) = u.kind {
                    input.kind = k;
                }
                if let Some(x) = u.url {
                    input.url = x;
                }
                if u.colour.is_some() {
                    input.colour = u.colour;
                }
                if u.no_replicas {
                    input.replicas.clear();
                } else if !u.replicas.is_empty() {
                    input.replicas = parse_replicas(&u.replicas)?;
                }
                if u.pgbouncer.is_some() {
                    input.pgbouncer = u.pgbouncer;
                }
                if u.redis.is_some() {
                    input.redis = u.redis;
                }
                if u.patroni.is_some() {
                    input.patroni = u.patroni;
                }
                if let Some(pool) = input.pool.as_mut() {
                    *pool = u.pool.apply(*pool);
                }
                input.routing = u.routing.apply(input.routing.take());
                input.replication = u.replication.apply(input.replication.take())?;
                Request::EnvUpdate {
                    name: u.name,
                    env: input,
                    password: None,
                    confirm: u.confirm,
                }
            }
            EnvCommand::List => Request::EnvList,
            EnvCommand::Show { name } => Request::EnvGet { name },
            EnvCommand::Test { name } => Request::EnvTest { name },
            EnvCommand::Remove { name, confirm } => Request::EnvRemove { name, confirm },
            EnvCommand::SetPassword {
                name,
                role,
                password_stdin: _,
                confirm,
            } => Request::EnvSetPassword {
                name,
                role: role.parse::<Role>()?,
                password: read_stdin_secret()?,
                confirm,
            },
            EnvCommand::Secrets { name } => Request::EnvSecrets { name },
            EnvCommand::Export { output } => {
                let resp = api.call(Request::EnvExport).await?;
                if let (Some(path), Response::Exported { toml }) = (&output, &resp) {
                    std::fs::write(path, toml)
                        .map_err(|e| ApiError::invalid(format!("cannot write {}: {e}", path.display())))?;
                    eprintln!("wrote {}", path.display());
                    return Ok(0);
                }
                return Ok(print(cli.format, &resp));
            }
            EnvCommand::Import { file, replace } => {
                let toml = if file.as_os_str() == "-" {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .map_err(|e| ApiError::invalid(format!("reading stdin: {e}")))?;
                    s
                } else {
                    std::fs::read_to_string(&file)
                        .map_err(|e| ApiError::invalid(format!("cannot read {}: {e}", file.display())))?
                };
                Request::EnvImport { toml, replace }
            }
        },
        Command::Audit(c) => match c {
            AuditCommand::List { env, limit } => Request::AuditList {
                env,
                limit: Some(limit),
                before_id: None,
            },
            AuditCommand::Verify => Request::AuditVerify,
        },
        Command::Snapshot(e) => Request::Snapshot { name: e.env },
        Command::Pools {
            env,
            as_settings: Some(format),
        } => Request::PoolSettings { name: env, format },
        Command::Pools { env, as_settings: None } => Request::Pools { name: Some(env) },
        Command::Pgbouncer(p) => {
            use crate::observe::pgbouncer::PgBouncerCommand as C;
            let (cmd, t) = match p {
                PgbouncerCommandArgs::Show { env, what } => {
                    let Response::Pgbouncer(st) = api.call(Request::Pgbouncer { name: env }).await? else {
                        unreachable!("pgbouncer answers with its status")
                    };
                    return crate::cli_views::print_pgbouncer(cli.format, &st, what.as_deref());
                }
                PgbouncerCommandArgs::Pause(t) => (C::Pause, t),
                PgbouncerCommandArgs::Resume(t) => (C::Resume, t),
                PgbouncerCommandArgs::Reload(t) => (C::Reload, t),
                PgbouncerCommandArgs::Reconnect(t) => (C::Reconnect, t),
            };
            Request::PgbouncerCommand {
                name: t.env,
                command: cmd,
                database: t.database,
                confirm: t.confirm,
            }
        }
        Command::Bench {
            env,
            clients,
            seconds,
            mode,
            chart,
            confirm,
        } => {
            let mode: crate::bench::BenchMode = mode.parse()?;
            let mut events = api.subscribe();
            let show_progress = cli.format == Format::Table && std::io::stderr().is_terminal();
            let progress = tokio::spawn(async move {
                while let Ok(e) = events.recv().await {
                    if let crate::api::Event::BenchProgress {
                        second, seconds, ops, ..
                    } = e
                        && show_progress
                    {
                        eprint!("\r  {second:>3}/{seconds} s  {ops:>8} ops in the last second ");
                    }
                }
            });
            let resp = api
                .call(Request::Bench {
                    name: env,
                    mode,
                    clients,
                    seconds,
                    confirm,
                })
                .await;
            progress.abort();
            if show_progress {
                eprintln!();
            }
            let resp = resp?;
            if let (Some(path), Response::Bench(r)) = (&chart, &resp) {
                std::fs::write(path, &r.chart_svg)
                    .map_err(|e| ApiError::invalid(format!("cannot write {}: {e}", path.display())))?;
            }
            return Ok(print(cli.format, &resp));
        }
        Command::Advise {
            env,
            sql,
            instances,
            hours,
            timeout,
            build_in_transaction,
            params,
        } => match (sql, instances) {
            (Some(sql), _) => Request::IndexAdvice {
                name: env,
                sql: read_arg(sql)?,
                timeout_s: Some(timeout),
                build_in_transaction: Some(build_in_transaction),
                params: Some(params),
            },
            (None, Some(instances)) => Request::PoolAdvice {
                name: env,
                instances,
                hours: Some(hours),
            },
            (None, None) => {
                return Err(ApiError::invalid(
                    "advise needs a statement (index advice) or --instances N (pool advice)",
                )
                .with_hint("dbdeck advise --env NAME \"SELECT …\"   or   dbdeck advise --env NAME --instances 4"));
            }
        },
        Command::Explain {
            env,
            sql,
            analyze,
            buffers,
            verbose,
            settings,
            wal,
            no_timing,
            no_costs,
            params,
            timeout,
            confirm,
            html,
        } => {
            let sql = read_arg(sql)?;
            let options = crate::plan::run::ExplainOptions {
                analyze,
                buffers,
                verbose,
                settings,
                wal,
                timing: no_timing.then_some(false),
                costs: no_costs.then_some(false),
            };
            let resp = api
                .call(Request::Explain {
                    name: env.clone(),
                    sql,
                    options,
                    params: Some(params),
                    timeout_s: Some(timeout),
                    confirm,
                    compact: None,
                })
                .await?;
            if let (Some(path), Response::Plan(r)) = (&html, &resp) {
                write_file(
                    path,
                    crate::plan::html::render(&r.plan, &format!("Plan on {env}")).as_bytes(),
                )?;
            }
            return Ok(print(cli.format, &resp));
        }
        Command::Plan(PlanCommand::Analyze { file, html }) => {
            let text = read_file_arg(&file)?;
            let resp = api.call(Request::PlanAnalyze { text, compact: None }).await?;
            if let (Some(path), Response::Plan(r)) = (&html, &resp) {
                write_file(
                    path,
                    crate::plan::html::render(&r.plan, &file.display().to_string()).as_bytes(),
                )?;
            }
            return Ok(print(cli.format, &resp));
        }
        Command::Plan(PlanCommand::Compare { a, b }) => Request::PlanCompare {
            a: read_file_arg(&a)?,
            b: read_file_arg(&b)?,
        },
        Command::Indexes { env } => Request::Indexes { name: env },
        Command::Migrate(c) => {
            let code = crate::cli_migrate::migrate(&api, cli.format, c).await;
            api.store().close().await;
            return code;
        }
        Command::Lint(a) => {
            let code = crate::cli_migrate::lint_cmd(&api, cli.format, a).await;
            api.store().close().await;
            return code;
        }
        Command::Replication(crate::cli_replication::ReplicationCommand::Status { env }) => {
            Request::ReplicationStatus { name: env }
        }
        Command::Slots { env } => Request::ReplicationSlots { name: env },
        Command::Switchover(a) => {
            let code = crate::cli_replication::switchover(&api, cli.format, a).await;
            api.store().close().await;
            return code;
        }
        Command::Failover(a) => {
            let code = crate::cli_replication::failover(&api, cli.format, a).await;
            api.store().close().await;
            return code;
        }
        Command::Rejoin(a) => {
            let code = crate::cli_replication::rejoin(&api, cli.format, a).await;
            api.store().close().await;
            return code;
        }
        Command::Metrics => Request::MetricList,
        Command::History {
            env,
            metric,
            since,
            csv,
        } => {
            let req = Request::History {
                name: env,
                metric: crate::metrics::Metric::parse(&metric)?,
                minutes: crate::metrics::parse_since(&since)?,
                points: None,
            };
            let resp = api.call(req).await?;
            if let (true, Response::History(h)) = (csv, &resp) {
                println!("timestamp,avg,min,max");
                for p in &h.points {
                    let t = chrono::DateTime::from_timestamp_millis(p.ts_ms)
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default();
                    println!("{t},{},{},{}", p.avg, p.min, p.max);
                }
                return Ok(0);
            }
            return Ok(print(cli.format, &resp));
        }
        Command::Chart {
            env,
            metric,
            since,
            output,
            width,
            height,
        } => {
            let png = match output
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("svg") => false,
                Some("png") => true,
                _ => {
                    return Err(
                        ApiError::invalid(format!("{} is neither an .svg nor a .png file", output.display()))
                            .with_hint(
                                "name the output file chart.svg (vector, hover shows values) or chart.png (picture)",
                            ),
                    );
                }
            };
            let minutes = crate::metrics::parse_since(&since)?;
            let req = if metric == crate::metrics::Metric::ReplayLagS.id() {
                Request::ChartReplicationLag {
                    name: env.ok_or_else(|| {
                        ApiError::invalid("the replay lag chart is of one environment's standbys: add --env NAME")
                    })?,
                    minutes,
                    width: Some(width),
                    height: Some(height),
                    png: Some(png),
                }
            } else {
                Request::ChartMetric {
                    name: env,
                    metric: crate::metrics::Metric::parse(&metric)?,
                    minutes,
                    width: Some(width),
                    height: Some(height),
                    png: Some(png),
                }
            };
            let Response::Chart(c) = api.call(req).await? else {
                unreachable!("chart answers with a chart")
            };
            let bytes = match &c.png_base64 {
                Some(b64) => {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| {
                        ApiError::new(crate::error::ErrorCode::Internal, format!("PNG came back garbled: {e}"))
                    })?
                }
                None => c.svg.clone().into_bytes(),
            };
            std::fs::write(&output, &bytes)
                .map_err(|e| ApiError::invalid(format!("cannot write {}: {e}", output.display())))?;
            if cli.format == Format::Json {
                println!(
                    "{}",
                    serde_json::json!({ "title": c.title, "file": output, "series": c.series, "as_of_ms": c.as_of_ms })
                );
            } else {
                println!("wrote {} ({})", output.display(), c.title);
            }
            return Ok(0);
        }
        Command::Cancel {
            env,
            pid,
            terminate,
            confirm,
        } => Request::SessionSignal {
            name: env,
            pid,
            terminate,
            confirm,
        },
        Command::Sessions(e) => return snapshot_view(&api, cli.format, View::Sessions, e.env).await,
        Command::Locks(e) => return snapshot_view(&api, cli.format, View::Locks, e.env).await,
        Command::Top(e) => return snapshot_view(&api, cli.format, View::Top, e.env).await,
        Command::Cache(e) => {
            let Response::Snapshot(snap) = api.call(Request::Snapshot { name: e.env.clone() }).await? else {
                unreachable!("snapshot answers with a snapshot")
            };
            let Response::Env(environment) = api.call(Request::EnvGet { name: e.env.clone() }).await? else {
                unreachable!("env_get answers with an environment")
            };
            let redis = match environment.redis {
                Some(_) => match api.call(Request::RedisStats { name: e.env }).await? {
                    Response::Redis(r) => Some(r),
                    _ => unreachable!("redis_stats answers with stats"),
                },
                None => None,
            };
            if cli.format == Format::Json {
                let mut v = crate::cli_views::cache_json(&snap);
                v["redis"] = serde_json::to_value(&redis).expect("serialises");
                println!("{}", serde_json::to_string_pretty(&v).expect("serialises"));
            } else {
                crate::cli_views::print_view(cli.format, View::Cache, &snap);
                if let Some(r) = &redis {
                    println!();
                    crate::cli_views::print_redis(r);
                }
            }
            return Ok(0);
        }
        Command::Serve(_) => unreachable!("handled above"),
    };
    let resp = api.call(req).await?;
    let code = print(cli.format, &resp);
    api.store().close().await;
    Ok(code)
}

async fn snapshot_view(api: &Api, format: Format, view: View, env: String) -> Result<i32, ApiError> {
    let Response::Snapshot(snap) = api.call(Request::Snapshot { name: env }).await? else {
        unreachable!("snapshot answers with a snapshot")
    };
    Ok(crate::cli_views::print_view(format, view, &snap))
}

async fn serve(args: ServeArgs, data_dir: PathBuf) -> Result<i32, ApiError> {
    let mut opts = ApiOptions::new(&data_dir, "web");
    opts.demo = args.demo;
    opts.health_interval = std::time::Duration::from_secs(args.health_interval.max(1));
    let minutes = |s: &str| crate::metrics::parse_since(s).map(|m| std::time::Duration::from_secs(u64::from(m) * 60));
    opts.retention = crate::metrics::Retention {
        raw: minutes(&args.keep_raw)?,
        one_minute: minutes(&args.keep_1m)?,
        ten_minutes: minutes(&args.keep_10m)?,
    };
    let api = Api::open(opts).await?;
    let server = crate::serve::start(api.clone(), SocketAddr::new(args.bind, args.port))
        .await
        .map_err(|e| {
            ApiError::new(
                crate::ErrorCode::InvalidInput,
                format!("cannot listen on {}:{}: {e}", args.bind, args.port),
            )
            .with_hint("pick another --port, or --port 0 for a free one")
        })?;
    // First line of stdout: the URL with this run's token. Scripts and tests read it.
    println!("{}", server.url());
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: listening on {}, reachable from your network; the token is the only protection",
            args.bind
        );
    }
    tracing::info!(addr = %server.addr, demo = args.demo, "serving");
    let health = api.spawn_health_checks();
    tokio::select! {
        r = server.handle => {
            health.abort();
            match r {
                Ok(Ok(())) => Ok(0),
                Ok(Err(e)) => Err(ApiError::new(crate::ErrorCode::Internal, format!("the server stopped: {e}"))),
                Err(e) => Err(ApiError::new(crate::ErrorCode::Internal, format!("the server stopped: {e}"))),
            }
        }
        _ = shutdown_signal() => {
            health.abort();
            api.store().close().await;
            Ok(0)
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Print a response; returns the exit code it implies.
pub(crate) fn print(format: Format, resp: &Response) -> i32 {
    let code = exit_code(resp);
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(resp).expect("responses serialise"));
        return code;
    }
    let colour = std::io::stdout().is_terminal();
    let paint = |ok: bool, s: &str| -> String {
        if !colour {
            s.to_owned()
        } else if ok {
            format!("\x1b[32m{s}\x1b[0m")
        } else {
            format!("\x1b[31m{s}\x1b[0m")
        }
    };
    match resp {
        Response::EnvList(list) => {
            if list.is_empty() {
                println!(
                    "No environments yet. Add one with `dbdeck env add NAME --url URL`, or run `dbdeck serve --demo`."
                );
            } else {
                let rows = list
                    .iter()
                    .map(|s| {
                        let h = s.health.as_ref();
                        vec![
                            s.env.name.clone(),
                            s.env.kind.clone(),
                            crate::env::redact_url(&s.env.primary.url),
                            h.map_or("never checked".into(), |h| {
                                if h.reachable {
                                    paint(true, "ok")
                                } else {
                                    paint(false, "down")
                                }
                            }),
                            h.and_then(|h| h.latency_ms)
                                .map_or("-".into(), |l| format!("{l:.2} ms")),
                            h.and_then(|h| h.role.clone()).unwrap_or_else(|| "-".into()),
                            h.and_then(|h| h.server_version.clone()).unwrap_or_else(|| "-".into()),
                        ]
                    })
                    .collect();
                table(
                    &["NAME", "KIND", "PRIMARY", "HEALTH", "LATENCY", "ROLE", "VERSION"],
                    rows,
                );
            }
        }
        Response::Env(e) => {
            println!("name:      {}", e.name);
            println!(
                "kind:      {}{}",
                e.kind,
                if e.is_prod() {
                    "  (write actions need --confirm NAME)"
                } else {
                    ""
                }
            );
            println!("colour:    {}", e.colour);
            println!("engine:    {:?}", e.engine);
            println!(
                "primary:   {}{}",
                e.primary.url,
                if e.primary.secret.is_some() {
                    "  [password in keychain]"
                } else {
                    ""
                }
            );
            for r in &e.replicas {
                println!("replica:   {} = {}", r.name, r.endpoint.url);
            }
            if let Some(p) = &e.pgbouncer {
                println!("pgbouncer: {}", p.url);
            }
            if let Some(p) = &e.redis {
                println!("redis:     {}", p.url);
            }
            if let Some(p) = &e.patroni {
                println!("patroni:   {p}");
            }
            let p = &e.pool;
            println!(
                "pool:      size {} + overflow {} · min idle {} · acquire timeout {} ms · connect timeout {} ms · idle {} s · lifetime {} s · pre-ping {}",
                p.max_connections,
                p.max_overflow,
                p.min_connections,
                p.acquire_timeout_ms,
                p.connect_timeout_ms,
                p.idle_timeout_s,
                p.max_lifetime_s,
                if p.test_before_acquire { "on" } else { "off" }
            );
        }
        Response::Removed { name } => println!("removed {name}"),
        Response::TestReport(r) => {
            let rows = r
                .endpoints
                .iter()
                .map(|e| {
                    vec![
                        e.role.to_string(),
                        e.target.clone(),
                        if e.ok {
                            paint(true, "ok")
                        } else {
                            paint(false, "FAILED")
                        },
                        e.latency_ms.map_or("-".into(), |l| format!("{l:.2} ms")),
                        e.connect_ms.map_or("-".into(), |l| format!("{l:.1} ms")),
                        e.server_version.clone().unwrap_or_else(|| "-".into()),
                        e.standby
                            .map_or("-".into(), |s| if s { "standby".into() } else { "primary".into() }),
                        e.tls.clone().unwrap_or_else(|| "n/a".into()),
                    ]
                })
                .collect();
            table(
                &["ROLE", "TARGET", "RESULT", "LATENCY", "CONNECT", "VERSION", "IS", "TLS"],
                rows,
            );
            for e in &r.endpoints {
                if let Some(err) = &e.error {
                    eprintln!("{}: {}", e.role, err.render().trim_start_matches("error: "));
                }
            }
        }
        Response::Secrets(list) => {
            if list.is_empty() {
                println!("No endpoint of this environment uses a password.");
            }
            let rows = list
                .iter()
                .map(|s| {
                    vec![
                        s.role.clone(),
                        s.account.clone(),
                        if s.stored {
                            paint(true, "stored")
                        } else {
                            paint(false, "missing")
                        },
                        s.error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            table(&["ROLE", "KEYCHAIN ACCOUNT", "STATUS", "ERROR"], rows);
        }
        Response::Exported { toml } => print!("{toml}"),
        Response::Imported(r) => {
            for p in &r.problems {
                match p.line {
                    Some(l) => eprintln!("line {l}: {}", p.message),
                    None => eprintln!("{}", p.message),
                }
            }
            if r.problems.is_empty() {
                println!("imported: {} added, {} replaced", r.added.len(), r.replaced.len());
                for n in &r.added {
                    println!("  + {n}");
                }
                for n in &r.replaced {
                    println!("  ~ {n}");
                }
            } else {
                eprintln!(
                    "nothing was imported ({} problem{})",
                    r.problems.len(),
                    if r.problems.len() == 1 { "" } else { "s" }
                );
            }
        }
        Response::Audit(records) => {
            let rows = records
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.ts.clone(),
                        format!("{} ({})", r.actor, r.source),
                        r.env.clone().unwrap_or_else(|| "-".into()),
                        r.action.clone(),
                        r.outcome.clone(),
                        r.detail.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            table(&["ID", "TIME", "WHO", "ENV", "ACTION", "OUTCOME", "DETAIL"], rows);
        }
        Response::Verified(v) => {
            if v.ok {
                println!("audit chain ok: {} records, head {}", v.records, &v.head_hash[..16]);
            } else if let Some(b) = &v.first_bad {
                println!("{}: record {}: {}", paint(false, "audit chain BROKEN"), b.id, b.reason);
            }
        }
        Response::Health(samples) => {
            let rows = samples
                .iter()
                .map(|s| {
                    vec![
                        s.ts_ms.to_string(),
                        s.reachable.to_string(),
                        s.latency_ms.map_or("-".into(), |l| format!("{l:.2}")),
                    ]
                })
                .collect();
            table(&["TS_MS", "REACHABLE", "LATENCY_MS"], rows);
        }
        Response::Chart(c) => print!("{}", c.svg),
        Response::AppInfo(a) => println!(
            "dbdeck {} · data {} · keychain {}",
            a.version, a.data_dir, a.keychain.backend
        ),
        Response::Snapshot(snap) => {
            for v in [View::Summary, View::Sessions, View::Locks, View::Top, View::Cache] {
                crate::cli_views::print_view(Format::Table, v, snap);
                println!();
            }
        }
        Response::Pools(pools) => crate::cli_views::print_pools(pools),
        Response::Redis(r) => crate::cli_views::print_redis(r),
        Response::Text { text } => print!("{text}"),
        Response::Plan(r) => crate::cli_plans::print_plan_report(r),
        Response::PlanComparison(c) => crate::cli_plans::print_comparison(c),
        Response::Indexes(r) => crate::cli_plans::print_indexes(r),
        Response::IndexAdvice(a) => crate::cli_plans::print_advice(a),
        Response::Topology(t) => crate::cli_replication::print_topology(t),
        Response::Slots(r) => crate::cli_replication::print_slots(r),
        Response::Flow(r) => crate::cli_replication::print_flow(r),
        r @ (Response::MigrationStatus(_)
        | Response::MigrationPlan(_)
        | Response::MigrationRun(_)
        | Response::Drift(_)
        | Response::RollbackTest(_)
        | Response::Lint(_)) => crate::cli_migrate::print(r),
        Response::PoolAdvice(a) => {
            if a.apps.is_empty() {
                println!(
                    "No application sessions were observed yet: run `dbdeck serve` (it collects them) while the applications work."
                );
            }
            let rows = a
                .apps
                .iter()
                .map(|x| {
                    vec![
                        x.application.clone(),
                        format!("{:.1}", x.active_p95),
                        x.active_max.to_string(),
                        x.pool_size.to_string(),
                        x.max_overflow.to_string(),
                    ]
                })
                .collect();
            table(
                &[
                    "APPLICATION",
                    "ACTIVE P95",
                    "ACTIVE MAX",
                    "POOL SIZE / INSTANCE",
                    "MAX OVERFLOW / INSTANCE",
                ],
                rows,
            );
            println!();
            for s in &a.steps {
                println!("  {s}");
            }
        }
        Response::Bench(r) => {
            println!(
                "{} · {:?} · {} clients · {:.1} s: {} operations, {:.1} ops/s",
                r.env, r.mode, r.clients, r.seconds, r.ops, r.ops_per_sec
            );
            println!(
                "latency p50 {} · p95 {} · p99 {} · max {} · errors {}{}",
                crate::cli_views::duration_ms(r.p50_ms),
                crate::cli_views::duration_ms(r.p95_ms),
                crate::cli_views::duration_ms(r.p99_ms),
                crate::cli_views::duration_ms(r.max_ms),
                r.errors,
                r.first_error
                    .as_deref()
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default()
            );
        }
        Response::Pgbouncer(st) => {
            let _ = crate::cli_views::print_pgbouncer(Format::Table, st, None);
        }
        Response::Metrics(list) => {
            let rows = list
                .iter()
                .map(|m| {
                    vec![
                        m.id.id().to_owned(),
                        m.label.clone(),
                        m.unit.clone(),
                        m.target.map_or("-".into(), |t| format!("{t} {}", m.unit)),
                    ]
                })
                .collect();
            table(&["METRIC", "WHAT", "UNIT", "TARGET"], rows);
        }
        Response::History(h) => {
            println!(
                "{} of {} · {} points from {} data{}",
                h.info.label,
                h.env,
                h.points.len(),
                h.source,
                if h.bucket_ms > 0 {
                    format!(", {} s buckets", h.bucket_ms / 1000)
                } else {
                    String::new()
                }
            );
            let rows = h
                .points
                .iter()
                .map(|p| {
                    vec![
                        chrono::DateTime::from_timestamp_millis(p.ts_ms)
                            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                            .unwrap_or_default(),
                        crate::chart::fmt_value(p.avg, &h.info.unit),
                        crate::chart::fmt_value(p.min, &h.info.unit),
                        crate::chart::fmt_value(p.max, &h.info.unit),
                    ]
                })
                .collect();
            table(&["TIME (UTC)", "AVG", "MIN", "MAX"], rows);
        }
        Response::Signalled { pid, terminate, found } => match (found, terminate) {
            (true, true) => println!("terminated backend {pid}"),
            (true, false) => println!("sent a cancel request to backend {pid}"),
            (false, _) => println!("no backend {pid} was found (it may have finished already)"),
        },
        Response::Done => println!("done"),
    }
    code
}

fn exit_code(resp: &Response) -> i32 {
    match resp {
        Response::TestReport(r) if !r.ok => 1,
        Response::Verified(v) if !v.ok => 1,
        Response::Imported(r) if !r.problems.is_empty() => 1,
        r if r.flow_failed() => 1,
        r => crate::cli_migrate::exit_code(r),
    }
}

fn visible_len(s: &str) -> usize {
    // Colour codes take no columns.
    let mut n = 0;
    let mut in_esc = false;
    for c in s.chars() {
        match (in_esc, c) {
            (false, '\x1b') => in_esc = true,
            (true, 'm') => in_esc = false,
            (true, _) => {}
            _ => n += 1,
        }
    }
    n
}

pub(crate) fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(visible_len(c));
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(widths[i] - visible_len(c) + 2));
            }
        }
        println!("{}", s.trim_end());
    };
    line(headers.iter().map(|h| (*h).to_owned()).collect());
    for r in rows {
        line(r);
    }
}

#[derive(Subcommand, Debug)]
pub enum PlanCommand {
    /// Analyse a plan file (EXPLAIN's JSON or text output; "-" is stdin): the tree, the
    /// findings with fixes, and the hottest nodes.
    Analyze {
        file: PathBuf,
        /// Also write it as a self-contained HTML file.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Compare two plan files (before/after, staging/prod): nodes matched, differences shown.
    Compare { a: PathBuf, b: PathBuf },
}

/// A statement given on the command line, or "-" for stdin.
fn read_arg(s: String) -> Result<String, ApiError> {
    if s != "-" {
        return Ok(s);
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .map_err(|e| ApiError::invalid(format!("cannot read stdin: {e}")))?;
    Ok(text)
}

/// A file's text, or stdin for "-".
fn read_file_arg(path: &std::path::Path) -> Result<String, ApiError> {
    if path.as_os_str() == "-" {
        return read_arg("-".into());
    }
    std::fs::read_to_string(path).map_err(|e| ApiError::invalid(format!("cannot read {}: {e}", path.display())))
}

fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), ApiError> {
    std::fs::write(path, bytes).map_err(|e| ApiError::invalid(format!("cannot write {}: {e}", path.display())))
}
