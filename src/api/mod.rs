//! The one door into dbdeck's domain. The Tauri shell, the HTTP server and the CLI all turn
//! their transport into a [`Request`] and hand it to [`Api::call`]; none of them holds domain
//! logic. Every action that touches a database or dbdeck's own configuration goes through
//! [`Api::audited`], which writes an intent before and an outcome after.

pub mod bindings;
mod migrate;
mod replication;
pub use migrate::read_source;
pub use plans::plan_text;
mod plans;
mod types;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::broadcast;

pub use types::*;

use crate::audit::{AuditLog, Entry};
use crate::chart::{Series, TimeChart};
use crate::env::{Environment, Role, config};
use crate::error::{ApiError, ErrorCode};
use crate::metrics::{self, Metric};
use crate::observe::{self, Snapshot};
use crate::pool::{Conn, PoolMetrics, PoolRegistry};
use crate::probe::{self, EndpointReport, HealthSample, TestReport};
use crate::secrets::{Keychain, SecretStatus, Sensitive};
use crate::store::{Store, now_ms};
use crate::{demo, env};

/// How to open the API.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    pub data_dir: PathBuf,
    /// Set up (or refresh) the demo environment.
    pub demo: bool,
    /// Which door is calling, for the audit log: `cli`, `web` or `desktop`.
    pub source: String,
    pub health_interval: Duration,
    /// Keychain service name; one per product, accounts are namespaced per data directory.
    pub keychain_service: String,
    /// How long metric history is kept at each resolution.
    pub retention: metrics::Retention,
}

impl ApiOptions {
    pub fn new(data_dir: impl Into<PathBuf>, source: &str) -> Self {
        Self {
            data_dir: data_dir.into(),
            demo: false,
            source: source.to_owned(),
            health_interval: Duration::from_secs(5),
            keychain_service: "dbdeck".to_owned(),
            retention: metrics::Retention::default(),
        }
    }
}

/// Cheap to clone; all clones share one state.
#[derive(Debug, Clone)]
pub struct Api {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    data_dir: PathBuf,
    store: Store,
    audit: AuditLog,
    keychain: Keychain,
    events: broadcast::Sender<Event>,
    demo: bool,
    install_id: String,
    health_interval: Duration,
    /// False while the demo environment is being set up in the background; calls wait for it,
    /// so the server can answer (and show the UI) before the demo database exists.
    ready: tokio::sync::watch::Receiver<bool>,
    demo_error: std::sync::Mutex<Option<ApiError>>,
    pools: PoolRegistry,
    /// Environments whose scheduled health check is still running (a slow one is skipped,
    /// never queued, and never delays the others).
    checking: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The last cumulative counters read from each PostgreSQL environment, to turn them into
    /// rates per interval.
    counters: std::sync::Mutex<std::collections::HashMap<String, PgCounters>>,
    retention: metrics::Retention,
}

/// Cumulative pg_stat_database totals at one moment.
#[derive(Debug, Clone, Copy)]
struct PgCounters {
    ts_ms: i64,
    xacts: i64,
    hit: i64,
    read: i64,
    deadlocks: i64,
}

/// What one pooled check found.
struct Ping {
    latency_ms: f64,
    version: String,
    role: String,
    /// PostgreSQL only: client connections and cumulative counters.
    pg: Option<(i64, PgCounters)>,
    /// PostgreSQL only: (application, active, total) sessions right now.
    apps: Vec<(String, i64, i64)>,
}

const HEALTH_RETENTION: Duration = Duration::from_secs(24 * 3600);

impl Api {
    pub async fn open(opts: ApiOptions) -> Result<Self, ApiError> {
        std::fs::create_dir_all(&opts.data_dir).map_err(|e| {
            ApiError::new(
                ErrorCode::Store,
                format!("cannot create the data directory {}: {e}", opts.data_dir.display()),
            )
        })?;
        let store = Store::open(&opts.data_dir).await?;
        let install_id = store.install_id().await?;
        let (events, _) = broadcast::channel(512);
        let (ready_tx, ready) = tokio::sync::watch::channel(!opts.demo);
        let api = Api {
            inner: Arc::new(Inner {
                data_dir: opts.data_dir.clone(),
                audit: AuditLog::new(store.clone(), &opts.source),
                store,
                keychain: Keychain::new(opts.keychain_service),
                events,
                demo: opts.demo,
                install_id,
                health_interval: opts.health_interval,
                ready,
                demo_error: std::sync::Mutex::new(None),
                pools: PoolRegistry::default(),
                checking: std::sync::Mutex::new(std::collections::HashSet::new()),
                counters: std::sync::Mutex::new(std::collections::HashMap::new()),
                retention: opts.retention,
            }),
        };
        if opts.demo {
            let background = api.clone();
            tokio::spawn(async move {
                if let Err(e) = background.ensure_demo().await {
                    tracing::error!(error = %e.message, "the demo environment could not be set up");
                    *background.inner.demo_error.lock().expect("demo_error lock") = Some(e);
                }
                let _ = ready_tx.send(true);
                background.emit(Event::EnvsChanged);
            });
        }
        Ok(api)
    }

    /// Wait until background set-up (the demo) has finished.
    pub async fn ready(&self) {
        let mut rx = self.inner.ready.clone();
        // An Err means the set-up task died; carry on without it.
        let _ = rx.wait_for(|r| *r).await;
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    fn emit(&self, e: Event) {
        // No subscriber is fine: the CLI has none.
        let _ = self.inner.events.send(e);
    }

    /// The keychain account that holds the secret of `role` in environment `env`.
    fn account(&self, env: &str, role: &Role) -> String {
        format!("{}/{env}/{role}", self.inner.install_id)
    }

    async fn ensure_demo(&self) -> Result<(), ApiError> {
        demo::ensure_demo_db(&self.inner.data_dir).await?;
        demo::ensure_demo_migrations(&self.inner.data_dir)?;
        if !self.inner.store.env_exists(demo::DEMO_ENV).await? {
            let input = demo::demo_input(&self.inner.data_dir);
            let params = json!({ "env": env_params(&input), "reason": "--demo" });
            self.audited(Some(demo::DEMO_ENV), "env.add", params, self.add_env(input, None))
                .await?;
        }
        Ok(())
    }

    /// Run `work` between an intent record and an outcome record.
    pub async fn audited<T>(
        &self,
        env: Option<&str>,
        action: &str,
        params: serde_json::Value,
        work: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        self.audited_with(env, action, params, work, |_| None).await
    }

    /// Like [`Api::audited`], for work that can complete yet find a failure (a connection test
    /// that reached nothing): `judge` returns the failure's description, recorded as
    /// outcome `failed`.
    pub async fn audited_with<T>(
        &self,
        env: Option<&str>,
        action: &str,
        params: serde_json::Value,
        work: impl Future<Output = Result<T, ApiError>>,
        judge: impl Fn(&T) -> Option<String>,
    ) -> Result<T, ApiError> {
        let intent = self
            .inner
            .audit
            .append(Entry {
                env: env.map(str::to_owned),
                action: action.to_owned(),
                params: params.clone(),
                outcome: "started".into(),
                detail: None,
                intent_id: None,
            })
            .await?;
        self.emit(Event::Audit { record: intent.clone() });
        let result = work.await;
        let (outcome, detail) = match &result {
            Ok(value) => match judge(value) {
                Some(failure) => ("failed", Some(failure)),
                None => ("ok", None),
            },
            Err(e) if e.code == ErrorCode::ConfirmationRequired => ("refused", Some(e.message.clone())),
            Err(e) => ("error", Some(e.message.clone())),
        };
        match self
            .inner
            .audit
            .append(Entry {
                env: env.map(str::to_owned),
                action: action.to_owned(),
                params,
                outcome: outcome.into(),
                detail,
                intent_id: Some(intent.id),
            })
            .await
        {
            Ok(rec) => self.emit(Event::Audit { record: rec }),
            Err(e) => tracing::error!(action, error = %e.message, "could not write the outcome audit record"),
        }
        result
    }

    /// Dispatch one request.
    pub async fn call(&self, req: Request) -> Result<Response, ApiError> {
        self.ready().await;
        match req {
            Request::AppInfo => Ok(Response::AppInfo(AppInfo {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                data_dir: self.inner.data_dir.display().to_string(),
                demo: self.inner.demo,
                keychain: self.inner.keychain.status().await,
                user: self.inner.audit.actor().to_owned(),
                health_interval_s: self.inner.health_interval.as_secs() as u32,
                demo_error: self.inner.demo_error.lock().expect("demo_error lock").clone(),
                demo_migrations: self
                    .inner
                    .demo
                    .then(|| demo::demo_migrations(&self.inner.data_dir).display().to_string()),
            })),
            Request::EnvList => {
                let mut out = Vec::new();
                for env in self.inner.store.list_envs().await? {
                    let health = self.inner.store.latest_health(&env.name).await?;
                    out.push(EnvSummary { env, health });
                }
                Ok(Response::EnvList(out))
            }
            Request::EnvGet { name } => Ok(Response::Env(self.inner.store.get_env(&name).await?)),
            Request::EnvAdd { env, password } => {
                let name = env.name.clone();
                let params = json!({ "env": env_params(&env) });
                let e = self
                    .audited(Some(&name), "env.add", params, self.add_env(env, password))
                    .await?;
                Ok(Response::Env(e))
            }
            Request::EnvUpdate {
                name,
                env,
                password,
                confirm,
            } => {
                let params = json!({ "env": env_params(&env) });
                let e = self
                    .audited(
                        Some(&name),
                        "env.update",
                        params,
                        self.update_env(&name, env, password, confirm.as_deref()),
                    )
                    .await?;
                Ok(Response::Env(e))
            }
            Request::EnvRemove { name, confirm } => {
                self.audited(
                    Some(&name),
                    "env.remove",
                    json!({}),
                    self.remove_env(&name, confirm.as_deref()),
                )
                .await?;
                Ok(Response::Removed { name })
            }
            Request::EnvTest { name } => {
                let env = self.inner.store.get_env(&name).await?;
                let report = self
                    .audited_with(
                        Some(&name),
                        "env.test",
                        json!({}),
                        self.test_env(&env),
                        |r: &TestReport| {
                            let failures: Vec<String> = r
                                .endpoints
                                .iter()
                                .filter_map(|e| e.error.as_ref().map(|err| format!("{}: {}", e.role, err.message)))
                                .collect();
                            (!failures.is_empty()).then(|| failures.join("; "))
                        },
                    )
                    .await?;
                Ok(Response::TestReport(report))
            }
            Request::EnvSetPassword {
                name,
                role,
                password,
                confirm,
            } => {
                let params = json!({ "role": role.to_string() });
                self.audited(
                    Some(&name),
                    "env.set_password",
                    params,
                    self.set_password(&name, &role, password, confirm.as_deref()),
                )
                .await?;
                Ok(Response::Done)
            }
            Request::EnvSecrets { name } => Ok(Response::Secrets(self.secrets(&name).await?)),
            Request::EnvExport => {
                let envs = self.inner.store.list_envs().await?;
                let names: Vec<_> = envs.iter().map(|e| e.name.clone()).collect();
                let toml = self
                    .audited(None, "env.export", json!({ "environments": names }), async {
                        Ok(config::export(&envs))
                    })
                    .await?;
                Ok(Response::Exported { toml })
            }
            Request::EnvImport { toml, replace } => {
                let report = self
                    .audited(
                        None,
                        "env.import",
                        json!({ "replace": replace, "bytes": toml.len() }),
                        self.import(&toml, replace),
                    )
                    .await?;
                Ok(Response::Imported(report))
            }
            Request::HealthHistory { name, minutes } => {
                self.inner.store.get_env(&name).await?;
                let since = now_ms() - i64::from(minutes.clamp(1, 60 * 24 * 90)) * 60_000;
                Ok(Response::Health(
                    self.inner.store.health_since(Some(&name), since).await?,
                ))
            }
            Request::ChartLatency {
                name,
                minutes,
                width,
                height,
                png,
            } => {
                let size = chart_size(width, height);
                let mut chart = self.latency_chart(name.as_deref(), minutes, size).await?;
                if png == Some(true) {
                    chart.png_base64 = Some(chart_png(&chart).await?);
                }
                Ok(Response::Chart(chart))
            }
            Request::AuditList { env, limit, before_id } => Ok(Response::Audit(
                self.inner
                    .audit
                    .list(env.as_deref(), limit.unwrap_or(200), before_id)
                    .await?,
            )),
            Request::AuditVerify => Ok(Response::Verified(self.inner.audit.verify().await?)),
            Request::MigrateStatus { name, dir, format } => {
                self.migrate_status(migrate::MigrateArgs { name, dir, format }).await
            }
            Request::MigratePlan { name, dir, format } => {
                self.migrate_plan(migrate::MigrateArgs { name, dir, format }).await
            }
            Request::MigrateApply {
                name,
                dir,
                format,
                target,
                dry_run,
                lock_timeout_ms,
                statement_timeout_s,
                retries,
                confirm,
            } => {
                let d = crate::migrate::run::ApplyOptions::default();
                let o = crate::migrate::run::ApplyOptions {
                    lock_timeout_ms: lock_timeout_ms.unwrap_or(d.lock_timeout_ms),
                    statement_timeout_s: statement_timeout_s.unwrap_or(d.statement_timeout_s),
                    retries: retries.unwrap_or(d.retries),
                    target,
                    ..d
                };
                self.migrate_apply(
                    migrate::MigrateArgs { name, dir, format },
                    o,
                    dry_run.unwrap_or(false),
                    confirm,
                )
                .await
            }
            Request::MigrateRollback {
                name,
                dir,
                format,
                steps,
                to,
                confirm,
            } => {
                let o = crate::migrate::run::ApplyOptions::default();
                self.migrate_rollback(migrate::MigrateArgs { name, dir, format }, o, steps, to, confirm)
                    .await
            }
            Request::MigrateRepair {
                name,
                dir,
                format,
                version,
                confirm,
            } => {
                self.migrate_repair(migrate::MigrateArgs { name, dir, format }, version, confirm)
                    .await
            }
            Request::MigrateDrift { dir, format, envs } => self.migrate_drift(dir, format, envs).await,
            Request::MigrateTestRollback { name, dir, format } => {
                self.migrate_test_rollback(migrate::MigrateArgs { name, dir, format })
                    .await
            }
            Request::Lint { scripts, name } => self.lint_scripts(scripts, name).await,
            Request::Snapshot { name } => {
                let env = self.inner.store.get_env(&name).await?;
                Ok(Response::Snapshot(self.snapshot(&env).await?))
            }
            Request::RedisStats { name } => {
                let env = self.inner.store.get_env(&name).await?;
                let Some(ep) = &env.redis else {
                    return Err(ApiError::invalid(format!("environment '{name}' has no Redis endpoint"))
                        .with_hint("add one with `dbdeck env update NAME --redis redis://host:6379`"));
                };
                let password = match &ep.secret {
                    Some(a) => Some(self.inner.keychain.require(a, &name, "redis").await?),
                    None => None,
                };
                let timeout = Duration::from_millis(u64::from(env.pool.connect_timeout_ms));
                Ok(Response::Redis(
                    observe::redis::stats(
                        &ep.url,
                        password.as_ref(),
                        timeout,
                        &env.cache.redis_tier,
                        env.cache.redis_hit_pct,
                    )
                    .await?,
                ))
            }
            Request::Pgbouncer { name } => {
                let env = self.inner.store.get_env(&name).await?;
                let (url, password, timeout) = self.pgbouncer_endpoint(&env).await?;
                Ok(Response::Pgbouncer(
                    observe::pgbouncer::status(&url, password.as_ref(), timeout).await?,
                ))
            }
            Request::PgbouncerCommand {
                name,
                command,
                database,
                confirm,
            } => {
                let env = self.inner.store.get_env(&name).await?;
                let params = json!({ "command": command, "database": database });
                let action = format!(
                    "pgbouncer.{}",
                    serde_json::to_value(command)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                );
                self.audited(Some(&name), &action, params, async {
                    let sql = command.sql(database.as_deref())?;
                    env.guard(&format!("running {sql} on PgBouncer"), confirm.as_deref())?;
                    let (url, password, timeout) = self.pgbouncer_endpoint(&env).await?;
                    observe::pgbouncer::command(&url, password.as_ref(), timeout, command, database.as_deref()).await
                })
                .await?;
                Ok(Response::Done)
            }
            Request::Bench {
                name,
                mode,
                clients,
                seconds,
                confirm,
            } => {
                let env = self.inner.store.get_env(&name).await?;
                let params = json!({ "mode": mode, "clients": clients, "seconds": seconds });
                let report = self
                    .audited(Some(&name), "bench", params, async {
                        env.guard(
                            &format!("a {seconds} s benchmark with {clients} clients (it writes a scratch table)"),
                            confirm.as_deref(),
                        )?;
                        let password = match &env.primary.secret {
                            Some(a) => Some(self.inner.keychain.require(a, &name, "primary").await?),
                            None => None,
                        };
                        let events = self.inner.events.clone();
                        let env_name = name.clone();
                        crate::bench::run(&env, password, mode, clients, seconds, move |second, ops| {
                            let _ = events.send(Event::BenchProgress {
                                env: env_name.clone(),
                                second,
                                seconds,
                                ops,
                            });
                        })
                        .await
                    })
                    .await?;
                Ok(Response::Bench(report))
            }
            Request::PoolAdvice { name, instances, hours } => {
                let env = self.inner.store.get_env(&name).await?;
                Ok(Response::PoolAdvice(
                    self.pool_advice(&env, instances, hours.unwrap_or(24)).await?,
                ))
            }
            Request::PoolSettings { name, format } => {
                let env = self.inner.store.get_env(&name).await?;
                Ok(Response::Text {
                    text: crate::pool::app_settings(&env.pool, &format)?,
                })
            }
            Request::MetricList => Ok(Response::Metrics(metrics::ALL.iter().map(|m| m.info()).collect())),
            Request::ReplicationStatus { name } => {
                Ok(Response::Topology(Box::new(self.replication_status(&name).await?)))
            }
            Request::ReplicationSlots { name } => Ok(Response::Slots(self.replication_slots(&name).await?)),
            Request::ChartReplicationLag {
                name,
                minutes,
                width,
                height,
                png,
            } => {
                let mut chart = self.lag_chart(&name, minutes, width, height).await?;
                if png == Some(true) {
                    chart.png_base64 = Some(chart_png(&chart).await?);
                }
                Ok(Response::Chart(chart))
            }
            Request::Switchover {
                name,
                to,
                check_only,
                confirm,
                catchup_timeout_s,
                job,
            } => {
                let kind = replication::FlowKind::Switchover {
                    to,
                    check_only: check_only.unwrap_or(false),
                };
                let timeout = catchup_timeout_s.map(Duration::from_secs);
                Ok(Response::Flow(Box::new(
                    self.replication_flow(&name, kind, confirm.as_deref(), timeout, job)
                        .await?,
                )))
            }
            Request::Failover {
                name,
                to,
                confirm,
                force,
                check_only,
                job,
            } => {
                let kind = replication::FlowKind::Failover {
                    to,
                    force: force.as_deref() == Some(name.as_str()),
                    check_only: check_only.unwrap_or(false),
                };
                if force.as_deref().is_some_and(|f| f != name) {
                    return Err(ApiError::new(
                        ErrorCode::ConfirmationRequired,
                        format!("a forced failover needs the environment's name, '{name}', typed exactly"),
                    ));
                }
                Ok(Response::Flow(Box::new(
                    self.replication_flow(&name, kind, confirm.as_deref(), None, job)
                        .await?,
                )))
            }
            Request::Rejoin {
                name,
                node,
                confirm,
                job,
            } => {
                let kind = replication::FlowKind::Rejoin { node };
                Ok(Response::Flow(Box::new(
                    self.replication_flow(&name, kind, confirm.as_deref(), None, job)
                        .await?,
                )))
            }
            Request::History {
                name,
                metric,
                minutes,
                points,
            } => {
                self.inner.store.get_env(&name).await?;
                let to = now_ms();
                let from = to - i64::from(minutes.clamp(1, 90 * 1440)) * 60_000;
                let points = i64::from(points.unwrap_or(600).clamp(10, 5000));
                Ok(Response::History(
                    metrics::history(&self.inner.store, &name, metric, from, to, points, self.inner.retention).await?,
                ))
            }
            Request::ChartMetric {
                name,
                metric,
                minutes,
                width,
                height,
                png,
            } => {
                let size = chart_size(width, height);
                let mut chart = self.metric_chart(name.as_deref(), metric, minutes, size).await?;
                if png == Some(true) {
                    chart.png_base64 = Some(chart_png(&chart).await?);
                }
                Ok(Response::Chart(chart))
            }
            Request::Pools { name } => Ok(Response::Pools(self.pool_metrics(name.as_deref()).await?)),
            Request::Explain {
                name,
                sql,
                options,
                params,
                timeout_s,
                confirm,
                compact,
            } => {
                let r = self
                    .explain(name, sql, options, params.unwrap_or_default(), timeout_s, confirm)
                    .await;
                compacted(r, compact)
            }
            Request::PlanAnalyze { text, compact } => compacted(self.plan_analyze(text).await, compact),
            Request::PlanCompare { a, b } => self.plan_compare(a, b).await,
            Request::PlanHtml { text, title } => self.plan_html(text, title).await,
            Request::Indexes { name } => self.indexes(name).await,
            Request::IndexAdvice {
                name,
                sql,
                timeout_s,
                build_in_transaction,
                params,
            } => {
                let build = build_in_transaction.unwrap_or(false);
                self.index_advice(name, sql, params.unwrap_or_default(), timeout_s, build)
                    .await
            }
            Request::SessionSignal {
                name,
                pid,
                terminate,
                confirm,
            } => {
                let env = self.inner.store.get_env(&name).await?;
                let action = if terminate {
                    "session.terminate"
                } else {
                    "session.cancel"
                };
                let found = self
                    .audited(
                        Some(&name),
                        action,
                        json!({ "pid": pid }),
                        self.signal(&env, pid, terminate, confirm.as_deref()),
                    )
                    .await?;
                Ok(Response::Signalled { pid, terminate, found })
            }
        }
    }

    async fn add_env(
        &self,
        input: env::EnvInput,
        password: Option<Sensitive<String>>,
    ) -> Result<Environment, ApiError> {
        let (env, secrets) = input.into_environment(password, |e, r| self.account(e, r))?;
        if self.inner.store.env_exists(&env.name).await? {
            return Err(ApiError::new(
                ErrorCode::AlreadyExists,
                format!("an environment named '{}' already exists", env.name),
            )
            .with_hint("choose another name, or edit the existing environment"));
        }
        // Keychain first: if it fails, nothing is in the store that points at a missing secret.
        let mut stored: Vec<String> = Vec::new();
        for (role, pw) in &secrets.0 {
            let account = self.account(&env.name, role);
            if let Err(e) = self.inner.keychain.set(&account, pw).await {
                for a in &stored {
                    let _ = self.inner.keychain.delete(a).await;
                }
                return Err(e);
            }
            stored.push(account);
        }
        if let Err(e) = self.inner.store.insert_env(&env).await {
            for a in &stored {
                let _ = self.inner.keychain.delete(a).await;
            }
            return Err(e);
        }
        self.emit(Event::EnvsChanged);
        Ok(env)
    }

    async fn update_env(
        &self,
        name: &str,
        mut input: env::EnvInput,
        password: Option<Sensitive<String>>,
        confirm: Option<&str>,
    ) -> Result<Environment, ApiError> {
        let old = self.inner.store.get_env(name).await?;
        old.guard(&format!("changing the settings of '{name}'"), confirm)?;
        input.name = name.to_owned();
        let (mut env, secrets) = input.into_environment(password, |e, r| self.account(e, r))?;
        // An endpoint that keeps its role keeps its stored password unless a new one was given.
        let old_endpoints: Vec<(Role, Option<String>)> = old
            .endpoints()
            .into_iter()
            .map(|(r, e)| (r, e.secret.clone()))
            .collect();
        let keep = |role: &Role, ep: &mut env::Endpoint| {
            if ep.secret.is_none() {
                ep.secret = old_endpoints
                    .iter()
                    .find(|(r, _)| r == role)
                    .and_then(|(_, s)| s.clone());
            }
        };
        keep(&Role::Primary, &mut env.primary);
        for r in &mut env.replicas {
            keep(&Role::Replica(r.name.clone()), &mut r.endpoint);
        }
        if let Some(e) = env.pgbouncer.as_mut() {
            keep(&Role::PgBouncer, e);
        }
        if let Some(e) = env.redis.as_mut() {
            keep(&Role::Redis, e);
        }
        for (role, pw) in &secrets.0 {
            self.inner.keychain.set(&self.account(name, role), pw).await?;
        }
        self.inner.store.update_env(&env).await?;
        self.inner.pools.forget(name);
        // Endpoints that are gone take their secrets with them.
        for (role, secret) in &old_endpoints {
            if let Some(account) = secret
                && env.endpoint(role).and_then(|e| e.secret.as_ref()) != Some(account)
            {
                let _ = self.inner.keychain.delete(account).await;
            }
        }
        self.emit(Event::EnvsChanged);
        Ok(env)
    }

    async fn remove_env(&self, name: &str, confirm: Option<&str>) -> Result<(), ApiError> {
        let env = self.inner.store.get_env(name).await?;
        env.guard(&format!("removing '{name}'"), confirm)?;
        self.inner.store.delete_env(name).await?;
        self.inner.pools.forget(name);
        for (_, ep) in env.endpoints() {
            if let Some(account) = &ep.secret
                && let Err(e) = self.inner.keychain.delete(account).await
            {
                tracing::warn!(env = name, error = %e.message, "could not delete a keychain entry");
            }
        }
        self.emit(Event::EnvsChanged);
        Ok(())
    }

    async fn set_password(
        &self,
        name: &str,
        role: &Role,
        password: Sensitive<String>,
        confirm: Option<&str>,
    ) -> Result<(), ApiError> {
        let mut env = self.inner.store.get_env(name).await?;
        env.guard(&format!("changing a password of '{name}'"), confirm)?;
        if env.engine == env::Engine::Sqlite {
            return Err(ApiError::invalid(format!(
                "'{name}' is an SQLite environment; it has no password"
            )));
        }
        if env.endpoint(role).is_none() {
            return Err(ApiError::invalid(format!(
                "environment '{name}' has no {role} endpoint"
            )));
        }
        let account = self.account(name, role);
        self.inner.keychain.set(&account, &password).await?;
        self.inner.pools.forget(name);
        let ep = match role {
            Role::Primary => Some(&mut env.primary),
            Role::Replica(n) => env.replicas.iter_mut().find(|r| &r.name == n).map(|r| &mut r.endpoint),
            Role::PgBouncer => env.pgbouncer.as_mut(),
            Role::Redis => env.redis.as_mut(),
        };
        if let Some(ep) = ep
            && ep.secret.as_deref() != Some(account.as_str())
        {
            ep.secret = Some(account);
            self.inner.store.update_env(&env).await?;
            self.emit(Event::EnvsChanged);
        }
        Ok(())
    }

    async fn secrets(&self, name: &str) -> Result<Vec<SecretStatus>, ApiError> {
        let env = self.inner.store.get_env(name).await?;
        let mut out = Vec::new();
        for (role, ep) in env.endpoints() {
            let Some(account) = &ep.secret else { continue };
            let (stored, error) = match self.inner.keychain.get(account).await {
                Ok(v) => (v.is_some(), None),
                Err(e) => (false, Some(e.message)),
            };
            out.push(SecretStatus {
                role: role.to_string(),
                account: account.clone(),
                stored,
                error,
            });
        }
        Ok(out)
    }

    async fn probe_endpoint(&self, env: &Environment, role: &Role, ep: &env::Endpoint) -> EndpointReport {
        let password = match &ep.secret {
            Some(account) => match self.inner.keychain.require(account, &env.name, &role.to_string()).await {
                Ok(p) => Some(p),
                Err(e) => return probe::failed(role, ep, e),
            },
            None => None,
        };
        probe::probe(env, role, ep, password).await
    }

    async fn test_env(&self, env: &Environment) -> Result<TestReport, ApiError> {
        let endpoints = env.endpoints();
        let reports =
            futures_util::future::join_all(endpoints.iter().map(|(role, ep)| self.probe_endpoint(env, role, ep))).await;
        let as_of_ms = now_ms();
        if let Some(primary) = reports.first() {
            let sample = primary.to_sample(&env.name, as_of_ms);
            self.inner.store.insert_health(&sample).await?;
            self.emit(Event::Health { sample });
        }
        let ok = reports.iter().all(|r| r.ok);
        Ok(TestReport {
            env: env.name.clone(),
            ok,
            as_of_ms,
            endpoints: reports,
        })
    }

    async fn import(&self, text: &str, replace: bool) -> Result<ImportReport, ApiError> {
        let (parsed, mut problems) = config::parse_all(text);
        let mut envs = Vec::new();
        let (mut added, mut replaced) = (Vec::new(), Vec::new());
        for item in parsed {
            let name = item.input.name.clone();
            let exists = self.inner.store.env_exists(&name).await?;
            if exists && !replace {
                problems.push(ImportProblem {
                    line: item.line,
                    message: format!("environment '{name}' already exists (import with replace to overwrite it)"),
                });
                continue;
            }
            if exists {
                let old = self.inner.store.get_env(&name).await?;
                if old.is_prod() {
                    problems.push(ImportProblem {
                        line: item.line,
                        message: format!("environment '{name}' is prod; change it with `dbdeck env update`, which asks for confirmation"),
                    });
                    continue;
                }
            }
            let (mut env, _) = item.input.into_environment(None, |e, r| self.account(e, r))?;
            for role in &item.keychain_roles {
                let account = self.account(&env.name, role);
                match role {
                    Role::Primary => env.primary.secret = Some(account),
                    Role::Replica(n) => {
                        if let Some(r) = env.replicas.iter_mut().find(|r| &r.name == n) {
                            r.endpoint.secret = Some(account);
                        }
                    }
                    Role::PgBouncer => {
                        if let Some(e) = env.pgbouncer.as_mut() {
                            e.secret = Some(account);
                        }
                    }
                    Role::Redis => {
                        if let Some(e) = env.redis.as_mut() {
                            e.secret = Some(account);
                        }
                    }
                }
            }
            if exists {
                replaced.push(name)
            } else {
                added.push(name)
            }
            envs.push(env);
        }
        if !problems.is_empty() {
            return Ok(ImportReport {
                added: vec![],
                replaced: vec![],
                problems,
            });
        }
        self.inner.store.upsert_envs(&envs).await?;
        for e in &envs {
            self.inner.pools.forget(&e.name);
        }
        self.emit(Event::EnvsChanged);
        Ok(ImportReport {
            added,
            replaced,
            problems,
        })
    }

    async fn latency_chart(
        &self,
        name: Option<&str>,
        minutes: u32,
        (width, height): (u32, u32),
    ) -> Result<Chart, ApiError> {
        let minutes = minutes.clamp(1, 60 * 24 * 90);
        // Raw health samples are kept for a day; longer ranges come from the latency metric's
        // roll-ups (averages per minute or ten minutes, without the unreachable gaps).
        if i64::from(minutes) * 60_000 > HEALTH_RETENTION.as_millis() as i64 {
            return self
                .metric_chart(name, Metric::LatencyMs, minutes, (width, height))
                .await;
        }
        let to_ms = now_ms();
        let from_ms = to_ms - i64::from(minutes) * 60_000;
        let envs = self.chart_envs(name).await?;
        let samples = self.inner.store.health_since(name, from_ms).await?;
        let as_of_ms = samples.iter().map(|s| s.ts_ms).max();
        let series: Vec<Series> = envs
            .iter()
            .map(|e| Series {
                name: e.name.clone(),
                colour: Some(e.colour.clone()),
                points: samples
                    .iter()
                    .filter(|s| s.env == e.name)
                    .map(|s| (s.ts_ms, if s.reachable { s.latency_ms } else { None }))
                    .collect(),
            })
            .collect();
        let chart = TimeChart {
            unit: "ms".into(),
            from_ms,
            to_ms,
            series,
            width,
            height,
            // The pages draw their own legend with live values; the SVG carries only the plot.
            legend: false,
            target: None,
            percent: false,
        };
        finish_chart(chart, "Round-trip latency", name, minutes, as_of_ms).await
    }

    /// One health check of an environment's primary through dbdeck's pool (so the circuit
    /// breaker sees it), stored and broadcast, with the metrics it yields.
    pub async fn check_health(&self, env: &Environment) -> HealthSample {
        let ts = now_ms();
        let probe = self.pooled_ping(env, &Role::Primary, true).await;
        let mut values: Vec<(Metric, f64)> = Vec::new();
        let sample = match probe {
            Ok(ping) => {
                values.push((Metric::LatencyMs, ping.latency_ms));
                values.push((Metric::Availability, 100.0));
                if !ping.apps.is_empty()
                    && let Err(e) = metrics::record_apps(&self.inner.store, &env.name, ts, &ping.apps).await
                {
                    tracing::warn!(env = %env.name, error = %e.message, "could not store application sessions");
                }
                if let Some((connections, now)) = ping.pg {
                    values.push((Metric::Connections, connections as f64));
                    let before = self
                        .inner
                        .counters
                        .lock()
                        .expect("counters lock")
                        .insert(env.name.clone(), now);
                    values.extend(rates(before, now));
                }
                HealthSample {
                    env: env.name.clone(),
                    ts_ms: ts,
                    reachable: true,
                    latency_ms: Some(ping.latency_ms),
                    role: Some(ping.role),
                    server_version: Some(ping.version),
                    error_code: None,
                    error: None,
                }
            }
            Err(e) => {
                values.push((Metric::Availability, 0.0));
                HealthSample {
                    env: env.name.clone(),
                    ts_ms: ts,
                    reachable: false,
                    latency_ms: None,
                    role: None,
                    server_version: None,
                    error_code: Some(e.code.as_str().to_owned()),
                    error: Some(e.message),
                }
            }
        };
        if let Some(p) = self
            .inner
            .pools
            .metrics(Some(&env.name))
            .into_iter()
            .find(|p| p.role == Role::Primary)
        {
            values.push((Metric::PoolUtilisationPct, p.utilisation_pct));
            if let Some(p95) = p.acquire_p95_ms {
                values.push((Metric::AcquireP95Ms, p95));
            }
        }
        // An environment removed while its check ran has nowhere to go.
        match self.inner.store.env_exists(&env.name).await {
            Ok(true) => {
                match self.inner.store.insert_health(&sample).await {
                    Ok(()) => self.emit(Event::Health { sample: sample.clone() }),
                    Err(e) => tracing::warn!(env = %env.name, error = %e.message, "could not store a health sample"),
                }
                if let Err(e) = metrics::record(&self.inner.store, &env.name, ts, &values).await {
                    tracing::warn!(env = %env.name, error = %e.message, "could not store metrics");
                }
                self.collect_replication(env).await;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e.message, "health check could not read the store"),
        }
        sample
    }

    /// One trivial round trip through the pool, and for PostgreSQL (when `counters`) the
    /// cumulative statistics the metrics are made from.
    async fn pooled_ping(&self, env: &Environment, role: &Role, counters: bool) -> Result<Ping, ApiError> {
        let pool = self.inner.pools.get(env, role, &self.inner.keychain).await?;
        let conn = pool.acquire().await?;
        let started = std::time::Instant::now();
        match conn {
            Conn::Postgres(mut c) => {
                use sqlx::Row;
                let row = sqlx::query("SELECT current_setting('server_version'), pg_is_in_recovery()")
                    .fetch_one(&mut *c)
                    .await;
                let latency_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
                match row {
                    Ok(r) => {
                        let standby: bool = r.get(1);
                        let mut ping = Ping {
                            latency_ms,
                            version: r.get(0),
                            role: if standby { "standby" } else { "primary" }.to_owned(),
                            pg: None,
                            apps: Vec::new(),
                        };
                        if counters {
                            let totals = sqlx::query(
                                "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
                                        sum(xact_commit + xact_rollback)::int8, sum(blks_hit)::int8,
                                        sum(blks_read)::int8, sum(deadlocks)::int8
                                 FROM pg_stat_database",
                            )
                            .fetch_one(&mut *c)
                            .await;
                            match totals {
                                Ok(r) => {
                                    let counters = PgCounters {
                                        ts_ms: now_ms(),
                                        xacts: r.get::<Option<i64>, _>(1).unwrap_or(0),
                                        hit: r.get::<Option<i64>, _>(2).unwrap_or(0),
                                        read: r.get::<Option<i64>, _>(3).unwrap_or(0),
                                        deadlocks: r.get::<Option<i64>, _>(4).unwrap_or(0),
                                    };
                                    ping.pg = Some((r.get(0), counters));
                                }
                                Err(e) => return Err(self.failed_on(&pool, env, e)),
                            }
                            let apps = sqlx::query(
                                "SELECT coalesce(nullif(application_name, ''), '(no name)'),
                                        count(*) FILTER (WHERE state = 'active'), count(*)
                                 FROM pg_stat_activity
                                 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
                                   AND application_name NOT LIKE 'dbdeck%'
                                 GROUP BY 1",
                            )
                            .fetch_all(&mut *c)
                            .await
                            .map_err(|e| self.failed_on(&pool, env, e))?;
                            ping.apps = apps.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
                        }
                        Ok(ping)
                    }
                    Err(e) => Err(self.failed_on(&pool, env, e)),
                }
            }
            Conn::Sqlite(mut c) => {
                match sqlx::query_scalar::<_, String>("SELECT sqlite_version()")
                    .fetch_one(&mut *c)
                    .await
                {
                    Ok(v) => Ok(Ping {
                        latency_ms: (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0,
                        version: format!("SQLite {v}"),
                        role: "sqlite".to_owned(),
                        pg: None,
                        apps: Vec::new(),
                    }),
                    Err(e) => Err(self.failed_on(&pool, env, e)),
                }
            }
        }
    }

    fn failed_on(&self, pool: &crate::pool::EndpointPool, env: &Environment, e: sqlx::Error) -> ApiError {
        let err = probe::classify_pg(e, &env::redact_url(&env.primary.url));
        pool.report_failure(&err.message);
        err
    }

    async fn pool_advice(
        &self,
        env: &Environment,
        instances: u32,
        hours: u32,
    ) -> Result<crate::advice::PoolAdvice, ApiError> {
        if !(1..=1000).contains(&instances) {
            return Err(ApiError::invalid("instances must be between 1 and 1000"));
        }
        let pool = self.inner.pools.get(env, &Role::Primary, &self.inner.keychain).await?;
        let (max, reserved): (i32, i32) = match pool.acquire().await? {
            Conn::Postgres(mut c) => sqlx::query_as(
                "SELECT current_setting('max_connections')::int4, current_setting('superuser_reserved_connections')::int4",
            )
            .fetch_one(&mut *c)
            .await
            .map_err(|e| probe::classify_pg(e, &env::redact_url(&env.primary.url)))?,
            Conn::Sqlite(_) => {
                return Err(ApiError::invalid(format!("'{}' is an SQLite environment: it has no connection limit to share", env.name)));
            }
        };
        let since = now_ms() - i64::from(hours.clamp(1, 24 * 7)) * 3_600_000;
        let loads = metrics::app_loads(&self.inner.store, &env.name, since).await?;
        Ok(crate::advice::advise(max, reserved, instances, &loads))
    }

    async fn pgbouncer_endpoint(
        &self,
        env: &Environment,
    ) -> Result<(String, Option<Sensitive<String>>, Duration), ApiError> {
        let Some(ep) = &env.pgbouncer else {
            return Err(ApiError::invalid(format!("environment '{}' has no PgBouncer endpoint", env.name)).with_hint(
                "add its admin console with `dbdeck env update NAME --pgbouncer postgres://admin@host:6432/pgbouncer`",
            ));
        };
        let password = match &ep.secret {
            Some(a) => Some(self.inner.keychain.require(a, &env.name, "pgbouncer").await?),
            None => None,
        };
        Ok((
            ep.url.clone(),
            password,
            Duration::from_millis(u64::from(env.pool.connect_timeout_ms)),
        ))
    }

    /// Where replica-safe monitoring reads (sizes) go: a replica whose breaker is closed and
    /// whose replay lag is within the environment's threshold (least lag wins), when read
    /// routing is on; otherwise the primary (`None`). The text says which, and why.
    async fn pick_reader(&self, env: &Environment) -> (Option<sqlx::pool::PoolConnection<sqlx::Postgres>>, String) {
        if !env.routing.replica_reads {
            return (None, "primary (replica reads are off)".into());
        }
        if env.replicas.is_empty() {
            return (None, "primary (no replicas)".into());
        }
        let mut why = Vec::new();
        let mut best: Option<(f64, String, sqlx::pool::PoolConnection<sqlx::Postgres>)> = None;
        for r in &env.replicas {
            let role = Role::Replica(r.name.clone());
            let pool = match self.inner.pools.get(env, &role, &self.inner.keychain).await {
                Ok(p) => p,
                Err(e) => {
                    why.push(format!("{}: {}", r.name, e.message));
                    continue;
                }
            };
            if pool.metrics().breaker == crate::pool::BreakerState::Open {
                why.push(format!("{}: its circuit breaker is open", r.name));
                continue;
            }
            let mut conn = match pool.acquire().await {
                Ok(Conn::Postgres(c)) => c,
                Ok(Conn::Sqlite(_)) => continue,
                Err(e) => {
                    why.push(format!("{}: {}", r.name, e.message));
                    continue;
                }
            };
            let lag: Result<Option<f64>, sqlx::Error> = sqlx::query_scalar(
                "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL
                             WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
                             ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END",
            )
            .fetch_one(&mut *conn)
            .await;
            match lag {
                Ok(Some(l)) if l <= env.routing.max_lag_s => {
                    if best.as_ref().is_none_or(|b| l < b.0) {
                        best = Some((l, r.name.clone(), conn));
                    }
                }
                Ok(Some(l)) => why.push(format!(
                    "{}: {l:.1} s behind (limit {} s)",
                    r.name, env.routing.max_lag_s
                )),
                Ok(None) => why.push(format!("{}: not replaying (not a standby, or lag unknown)", r.name)),
                Err(e) => {
                    let e = probe::classify_pg(e, &r.name);
                    pool.report_failure(&e.message);
                    why.push(format!("{}: {}", r.name, e.message));
                }
            }
        }
        match best {
            Some((lag, name, conn)) => (Some(conn), format!("replica:{name} ({lag:.1} s behind)")),
            None => (None, format!("primary (no replica qualified: {})", why.join("; "))),
        }
    }

    async fn metric_chart(
        &self,
        name: Option<&str>,
        metric: Metric,
        minutes: u32,
        (width, height): (u32, u32),
    ) -> Result<Chart, ApiError> {
        let minutes = minutes.clamp(1, 90 * 1440);
        let to_ms = now_ms();
        let from_ms = to_ms - i64::from(minutes) * 60_000;
        let envs = self.chart_envs(name).await?;
        let mut info = metric.info();
        if metric == Metric::CacheHitPct {
            // Each environment has its own buffer-cache target; draw the strictest shown.
            info.target = envs.iter().map(|e| e.cache.buffer_cache_pct).reduce(f64::max);
        }
        let mut series = Vec::new();
        let mut as_of_ms = None;
        for e in &envs {
            let h = metrics::history(
                &self.inner.store,
                &e.name,
                metric,
                from_ms,
                to_ms,
                i64::from(width / 2),
                self.inner.retention,
            )
            .await?;
            as_of_ms = as_of_ms.max(h.points.last().map(|p| p.ts_ms));
            series.push(Series {
                name: e.name.clone(),
                colour: Some(e.colour.clone()),
                points: h.points.iter().map(|p| (p.ts_ms, Some(p.avg))).collect(),
            });
        }
        let chart = TimeChart {
            unit: info.unit.clone(),
            from_ms,
            to_ms,
            series,
            width,
            height,
            legend: false,
            target: info.target,
            percent: info.unit == "%",
        };
        finish_chart(chart, &info.label, name, minutes, as_of_ms).await
    }

    /// The environments a chart draws: the one named, or all of them.
    async fn chart_envs(&self, name: Option<&str>) -> Result<Vec<Environment>, ApiError> {
        match name {
            Some(n) => Ok(vec![self.inner.store.get_env(n).await?]),
            None => self.inner.store.list_envs().await,
        }
    }

    async fn snapshot(&self, env: &Environment) -> Result<Snapshot, ApiError> {
        let pool = self.inner.pools.get(env, &Role::Primary, &self.inner.keychain).await?;
        let target = env::redact_url(&env.primary.url);
        let result = match pool.acquire().await? {
            Conn::Postgres(mut c) => {
                let (mut reader, sizes_from) = self.pick_reader(env).await;
                observe::postgres::snapshot(
                    &mut c,
                    reader.as_deref_mut(),
                    sizes_from,
                    &target,
                    env.cache.buffer_cache_pct,
                )
                .await
                .map(Snapshot::Postgres)
            }
            Conn::Sqlite(mut c) => observe::sqlite::snapshot(&mut c).await.map(Snapshot::Sqlite),
        };
        if let Err(e) = &result
            && matches!(
                e.code,
                ErrorCode::Unreachable | ErrorCode::ConnectionRefused | ErrorCode::Timeout
            )
        {
            pool.report_failure(&e.message);
        }
        result
    }

    async fn pool_metrics(&self, name: Option<&str>) -> Result<Vec<PoolMetrics>, ApiError> {
        if let Some(name) = name {
            let env = self.inner.store.get_env(name).await?;
            let roles: Vec<Role> = env
                .endpoints()
                .into_iter()
                .map(|(r, _)| r)
                .filter(|r| matches!(r, Role::Primary | Role::Replica(_)))
                .collect();
            // Ping each endpoint so every pool exists and its figures are current; a failure
            // shows in the figures (errors, breaker), not as an error of this call.
            futures_util::future::join_all(roles.iter().map(|r| self.pooled_ping(&env, r, false))).await;
            // sqlx returns a released connection to its pool from a background task; give it
            // a moment so the figures do not count the pings' own connections as in use.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(self.inner.pools.metrics(name))
    }

    async fn signal(
        &self,
        env: &Environment,
        pid: i32,
        terminate: bool,
        confirm: Option<&str>,
    ) -> Result<bool, ApiError> {
        let what = if terminate {
            format!("terminating backend {pid}")
        } else {
            format!("cancelling the query of backend {pid}")
        };
        env.guard(&what, confirm)?;
        let pool = self.inner.pools.get(env, &Role::Primary, &self.inner.keychain).await?;
        match pool.acquire().await? {
            Conn::Postgres(mut c) => {
                observe::postgres::signal_backend(&mut c, pid, terminate, &env::redact_url(&env.primary.url)).await
            }
            Conn::Sqlite(_) => Err(ApiError::invalid(format!(
                "'{}' is an SQLite environment: it has no backends",
                env.name
            ))),
        }
    }

    /// Check every environment's health on a schedule until the returned task is aborted.
    /// Each environment is checked in its own task: a slow or dead one is skipped while its
    /// previous check still runs, and never delays or stops the others.
    pub fn spawn_health_checks(&self) -> tokio::task::JoinHandle<()> {
        let api = self.clone();
        tokio::spawn(async move {
            api.ready().await;
            let mut tick = tokio::time::interval(api.inner.health_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut rounds: u64 = 0;
            let mut last_rollup = std::time::Instant::now();
            loop {
                tick.tick().await;
                if last_rollup.elapsed() >= Duration::from_secs(60) {
                    last_rollup = std::time::Instant::now();
                    if let Err(e) = metrics::roll_up(&api.inner.store, api.inner.retention, now_ms()).await {
                        tracing::warn!(error = %e.message, "rolling up metric history failed");
                    }
                }
                match api.inner.store.list_envs().await {
                    Ok(envs) => {
                        for env in envs {
                            if !api
                                .inner
                                .checking
                                .lock()
                                .expect("checking lock")
                                .insert(env.name.clone())
                            {
                                continue;
                            }
                            let api = api.clone();
                            tokio::spawn(async move {
                                api.check_health(&env).await;
                                api.inner.checking.lock().expect("checking lock").remove(&env.name);
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e.message, "health round could not list environments"),
                }
                rounds += 1;
                if rounds % 720 == 1
                    && let Err(e) = api.inner.store.prune_health(HEALTH_RETENTION).await
                {
                    tracing::warn!(error = %e.message, "pruning health history failed");
                }
            }
        })
    }
}

/// A plan answer with its nodes as a table, when the caller asked for that.
fn compacted(r: Result<Response, ApiError>, compact: Option<bool>) -> Result<Response, ApiError> {
    match r {
        Ok(Response::Plan(mut report)) if compact == Some(true) => {
            report.compact();
            Ok(Response::Plan(report))
        }
        other => other,
    }
}

/// Render `chart` and wrap it with its title ("LABEL of ENV, last RANGE") for the API.
async fn finish_chart(
    chart: TimeChart,
    label: &str,
    name: Option<&str>,
    minutes: u32,
    as_of_ms: Option<i64>,
) -> Result<Chart, ApiError> {
    let (width, height) = (chart.width, chart.height);
    let series = chart.series.iter().map(|s| s.name.clone()).collect();
    let svg = crate::chart::render(chart, label).await?;
    let title = match name {
        Some(n) => format!("{label} of {n}, last {}", humanise_minutes(minutes)),
        None => format!("{label}, last {}", humanise_minutes(minutes)),
    };
    Ok(Chart {
        title,
        svg,
        as_of_ms,
        series,
        width,
        height,
        png_base64: None,
    })
}

/// Rasterise a drawn chart at twice its size, off the async threads, as base64.
async fn chart_png(chart: &Chart) -> Result<String, ApiError> {
    use base64::Engine as _;
    let (svg, title, w, h) = (chart.svg.clone(), chart.title.clone(), chart.width, chart.height);
    let png = tokio::task::spawn_blocking(move || crate::chart::to_png(&svg, &title, w, h, 2.0))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("chart rendering stopped: {e}")))?
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot export the chart as PNG: {e}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(png))
}

/// The pixel size to draw a chart at: what the page asked for, within sane bounds.
fn chart_size(width: Option<u32>, height: Option<u32>) -> (u32, u32) {
    (
        width.unwrap_or(860).clamp(320, 4000),
        height.unwrap_or(260).clamp(160, 2000),
    )
}

/// Rates over the interval between two readings of cumulative counters. A counter that went
/// backwards (statistics reset, server restarted) gives no rate for that interval.
fn rates(before: Option<PgCounters>, now: PgCounters) -> Vec<(Metric, f64)> {
    let Some(b) = before else { return vec![] };
    let dt = (now.ts_ms - b.ts_ms) as f64 / 1000.0;
    if dt <= 0.0 || now.xacts < b.xacts || now.hit < b.hit || now.read < b.read || now.deadlocks < b.deadlocks {
        return vec![];
    }
    let mut out = vec![
        (Metric::Tps, ((now.xacts - b.xacts) as f64 / dt * 10.0).round() / 10.0),
        (Metric::Deadlocks, (now.deadlocks - b.deadlocks) as f64),
    ];
    if let Some(p) = observe::hit_pct(now.hit - b.hit, now.read - b.read) {
        out.push((Metric::CacheHitPct, p));
    }
    out
}

/// What of an environment input is safe to keep in the audit log forever: URLs with any
/// password masked.
fn env_params(e: &env::EnvInput) -> serde_json::Value {
    json!({
        "name": e.name,
        "kind": e.kind,
        "url": env::redact_url(&e.url),
        "replicas": e.replicas.iter().map(|r| json!({"name": r.name, "url": env::redact_url(&r.url)})).collect::<Vec<_>>(),
        "pgbouncer": e.pgbouncer.as_deref().map(env::redact_url),
        "redis": e.redis.as_deref().map(env::redact_url),
        "patroni": e.patroni,
    })
}

fn humanise_minutes(m: u32) -> String {
    match m {
        m if m % 1440 == 0 => format!("{} d", m / 1440),
        m if m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{m} min"),
    }
}
