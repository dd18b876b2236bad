//! dbdeck's own connection pools: one sqlx pool per environment endpoint, sized and timed by
//! the environment's [`PoolProfile`], with a circuit breaker and acquire-wait statistics.
//!
//! Every read dbdeck makes on a schedule (health, snapshots) goes through here, so a dead
//! server is not hammered: after `FAILURES_TO_OPEN` consecutive failures the breaker opens and
//! refuses at once; after a back-off it lets one probe through (half-open) and closes on
//! success. Pools are made lazily, with the keychain's password, and forgotten when their
//! environment changes. This module never decides what to run; it only hands out connections.

use std::collections::{HashMap, VecDeque};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{ConnectOptions, Postgres, Sqlite};
use ts_rs::TS;

use crate::env::{Endpoint, Engine, Environment, PoolProfile, Role, redact_url};
use crate::error::{ApiError, ErrorCode};
use crate::probe::classify_pg;
use crate::secrets::Keychain;
use crate::store::now_ms;

/// Consecutive failures that open the breaker.
pub const FAILURES_TO_OPEN: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
const HISTORY: usize = 50;

/// A connection from one of dbdeck's pools.
#[derive(Debug)]
pub enum Conn {
    Postgres(PoolConnection<Postgres>),
    Sqlite(PoolConnection<Sqlite>),
}

#[derive(Debug, Clone)]
enum DbPool {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

impl DbPool {
    fn size(&self) -> u32 {
        match self {
            DbPool::Postgres(p) => p.size(),
            DbPool::Sqlite(p) => p.size(),
        }
    }
    fn idle(&self) -> u32 {
        match self {
            DbPool::Postgres(p) => p.num_idle() as u32,
            DbPool::Sqlite(p) => p.num_idle() as u32,
        }
    }
    async fn close(&self) {
        match self {
            DbPool::Postgres(p) => p.close().await,
            DbPool::Sqlite(p) => p.close().await,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct BreakerEvent {
    #[ts(type = "number")]
    pub ts_ms: i64,
    pub state: BreakerState,
    pub reason: String,
}

/// The breaker's state machine. Pure: time comes in as an argument, so it is tested without
/// sleeping.
#[derive(Debug, Clone)]
pub struct Breaker {
    state: BreakerState,
    failures: u32,
    /// Back-off before the next probe, doubling on each failed probe.
    backoff: Duration,
    retry_at: Option<Instant>,
    /// A half-open probe is in flight; others are refused until it reports.
    probing: bool,
    history: VecDeque<BreakerEvent>,
}

/// What the breaker says about an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Yes,
    /// The breaker is half-open: this attempt is the probe.
    Probe,
    /// Open: no attempt before this instant.
    No(Instant),
}

impl Default for Breaker {
    fn default() -> Self {
        Self {
            state: BreakerState::Closed,
            failures: 0,
            backoff: FIRST_BACKOFF,
            retry_at: None,
            probing: false,
            history: VecDeque::new(),
        }
    }
}

impl Breaker {
    pub fn state(&self) -> BreakerState {
        self.state
    }

    fn record(&mut self, state: BreakerState, reason: String) {
        self.state = state;
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(BreakerEvent {
            ts_ms: now_ms(),
            state,
            reason,
        });
    }

    pub fn admit(&mut self, now: Instant) -> Admit {
        match self.state {
            BreakerState::Closed => Admit::Yes,
            BreakerState::Open => match self.retry_at {
                Some(at) if now < at => Admit::No(at),
                _ => {
                    self.record(BreakerState::HalfOpen, "back-off over: probing".into());
                    self.probing = true;
                    Admit::Probe
                }
            },
            BreakerState::HalfOpen if self.probing => Admit::No(now + Duration::from_millis(200)),
            BreakerState::HalfOpen => {
                self.probing = true;
                Admit::Probe
            }
        }
    }

    pub fn success(&mut self) {
        self.failures = 0;
        self.probing = false;
        self.backoff = FIRST_BACKOFF;
        self.retry_at = None;
        if self.state != BreakerState::Closed {
            self.record(BreakerState::Closed, "a connection succeeded".into());
        }
    }

    pub fn failure(&mut self, now: Instant, reason: &str) {
        self.failures += 1;
        self.probing = false;
        match self.state {
            BreakerState::HalfOpen => {
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                self.retry_at = Some(now + self.backoff);
                self.record(BreakerState::Open, format!("probe failed: {reason}"));
            }
            BreakerState::Closed if self.failures >= FAILURES_TO_OPEN => {
                self.retry_at = Some(now + self.backoff);
                self.record(
                    BreakerState::Open,
                    format!("{} consecutive failures; last: {reason}", self.failures),
                );
            }
            _ => {}
        }
    }
}

/// Acquire waits in a fixed set of buckets (upper bounds in µs, roughly ×2 apart).
#[derive(Debug, Clone)]
pub struct WaitHistogram {
    counts: Vec<u64>,
}

const BUCKETS_US: &[u64] = &[
    50,
    100,
    200,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    30_000_000,
    u64::MAX,
];

impl Default for WaitHistogram {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS_US.len()],
        }
    }
}

impl WaitHistogram {
    pub fn record(&mut self, d: Duration) {
        let us = d.as_micros() as u64;
        let i = BUCKETS_US.iter().position(|b| us <= *b).unwrap_or(BUCKETS_US.len() - 1);
        self.counts[i] += 1;
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The upper bound of the bucket holding quantile `q`, in ms (None when empty). Bucket
    /// bounds make this an over-estimate by at most one bucket, as with Prometheus histograms.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let b = BUCKETS_US[i.min(BUCKETS_US.len() - 2)];
                return Some(b as f64 / 1000.0);
            }
        }
        None
    }
}

/// Live figures of one endpoint's pool.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PoolMetrics {
    pub env: String,
    pub role: Role,
    pub target: String,
    pub max: u32,
    pub min_idle: u32,
    pub size: u32,
    pub idle: u32,
    pub in_use: u32,
    pub waiting: u32,
    pub utilisation_pct: f64,
    #[ts(type = "number")]
    pub acquired: u64,
    /// Acquires that timed out with every connection busy or the server not answering.
    #[ts(type = "number")]
    pub timeouts: u64,
    /// Acquires that failed for another reason (refused, authentication, …) and failures on
    /// connections in use.
    #[ts(type = "number")]
    pub errors: u64,
    pub acquire_p50_ms: Option<f64>,
    pub acquire_p95_ms: Option<f64>,
    pub acquire_p99_ms: Option<f64>,
    pub breaker: BreakerState,
    pub consecutive_failures: u32,
    /// When the breaker will let the next probe through (Unix ms), while open.
    #[ts(type = "number | null")]
    pub next_probe_ms: Option<i64>,
    pub breaker_history: Vec<BreakerEvent>,
}

#[derive(Debug)]
pub struct EndpointPool {
    env: String,
    role: Role,
    url: String,
    profile: PoolProfile,
    pool: DbPool,
    /// The pool's own connect options, for one direct attempt that finds out why the pool
    /// timed out (sqlx retries a refused connection until the acquire timeout and then only
    /// says "timed out").
    diagnose: Option<PgConnectOptions>,
    breaker: Mutex<Breaker>,
    waits: Mutex<WaitHistogram>,
    waiting: AtomicU32,
    acquired: AtomicU64,
    timeouts: AtomicU64,
    errors: AtomicU64,
}

impl EndpointPool {
    /// A connection, or why there is none. Refused at once while the breaker is open.
    pub async fn acquire(&self) -> Result<Conn, ApiError> {
        let target = redact_url(&self.url);
        let admitted = self.breaker.lock().expect("breaker lock").admit(Instant::now());
        if let Admit::No(at) = admitted {
            let wait = at.saturating_duration_since(Instant::now());
            return Err(ApiError::new(
                ErrorCode::Unreachable,
                format!(
                    "{} of '{}' is unreachable: the circuit breaker is open after repeated failures (next probe in {:.1} s)",
                    self.role,
                    self.env,
                    wait.as_secs_f64()
                ),
            )
            .with_hint("dbdeck stops connecting to a failing server for a while; it retries by itself"));
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let result = match &self.pool {
            DbPool::Postgres(p) => p.acquire().await.map(Conn::Postgres),
            DbPool::Sqlite(p) => p.acquire().await.map(Conn::Sqlite),
        };
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        match result {
            Ok(c) => {
                // Only successful acquires: a failed one measures the timeout, not the pool.
                self.waits.lock().expect("waits lock").record(started.elapsed());
                self.acquired.fetch_add(1, Ordering::Relaxed);
                self.breaker.lock().expect("breaker lock").success();
                Ok(c)
            }
            Err(e) => {
                let err = match e {
                    sqlx::Error::PoolTimedOut => {
                        // A refused or failing connection also ends as a pool timeout (sqlx
                        // retries until the deadline): count it by its real cause.
                        let err = self.diagnose_timeout(&target).await;
                        if err.code == ErrorCode::Timeout {
                            self.timeouts.fetch_add(1, Ordering::Relaxed);
                        } else {
                            self.errors.fetch_add(1, Ordering::Relaxed);
                        }
                        err
                    }
                    other => {
                        self.errors.fetch_add(1, Ordering::Relaxed);
                        classify_pg(other, &target)
                    }
                };
                self.breaker
                    .lock()
                    .expect("breaker lock")
                    .failure(Instant::now(), &err.message);
                Err(err)
            }
        }
    }

    /// Why an acquire timed out: every connection busy, or the server not answering (then
    /// say how, from one direct attempt).
    async fn diagnose_timeout(&self, target: &str) -> ApiError {
        let size = self.pool.size();
        let max = self.profile.ceiling();
        if size >= max && self.pool.idle() == 0 {
            return ApiError::new(
                ErrorCode::Timeout,
                format!(
                    "all {max} of dbdeck's connections to {target} stayed busy for {} ms",
                    self.profile.acquire_timeout_ms
                ),
            )
            .with_hint("raise the environment's pool max_connections or acquire_timeout_ms");
        }
        if let Some(opts) = &self.diagnose {
            let wait = Duration::from_millis(u64::from(self.profile.connect_timeout_ms).min(2_000));
            match tokio::time::timeout(wait, opts.connect()).await {
                Ok(Err(e)) => return classify_pg(e, target),
                Ok(Ok(c)) => {
                    use sqlx::Connection;
                    let _ = c.close().await;
                }
                Err(_) => {}
            }
        }
        ApiError::new(
            ErrorCode::Timeout,
            format!(
                "no connection to {target} within {} ms",
                self.profile.acquire_timeout_ms
            ),
        )
        .with_hint("the server may be down, overloaded or unreachable; dbdeck keeps retrying")
    }

    /// Count a failure that happened on an acquired connection (e.g. the server died mid-query).
    pub fn report_failure(&self, reason: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.breaker
            .lock()
            .expect("breaker lock")
            .failure(Instant::now(), reason);
    }

    pub fn metrics(&self) -> PoolMetrics {
        let size = self.pool.size();
        let idle = self.pool.idle().min(size);
        let in_use = size - idle;
        let waits = self.waits.lock().expect("waits lock").clone();
        let breaker = self.breaker.lock().expect("breaker lock").clone();
        let next_probe_ms = match (breaker.state, breaker.retry_at) {
            (BreakerState::Open, Some(at)) => {
                Some(now_ms() + at.saturating_duration_since(Instant::now()).as_millis() as i64)
            }
            _ => None,
        };
        let max = self.profile.ceiling();
        PoolMetrics {
            env: self.env.clone(),
            role: self.role.clone(),
            target: redact_url(&self.url),
            max,
            min_idle: self.profile.min_connections,
            size,
            idle,
            in_use,
            waiting: self.waiting.load(Ordering::Relaxed),
            utilisation_pct: if max == 0 {
                0.0
            } else {
                (f64::from(in_use) * 1000.0 / f64::from(max)).round() / 10.0
            },
            acquired: self.acquired.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            acquire_p50_ms: waits.quantile_ms(0.50),
            acquire_p95_ms: waits.quantile_ms(0.95),
            acquire_p99_ms: waits.quantile_ms(0.99),
            breaker: breaker.state,
            consecutive_failures: breaker.failures,
            next_probe_ms,
            breaker_history: breaker.history.iter().cloned().collect(),
        }
    }
}

/// The environment's pool profile as the settings an application's own pool would take.
pub fn app_settings(p: &PoolProfile, format: &str) -> Result<String, ApiError> {
    let secs = |ms: u32| f64::from(ms) / 1000.0;
    Ok(match format {
        "sqlalchemy" => format!(
            "create_engine(url,\n    pool_size={}, max_overflow={}, pool_timeout={}, pool_recycle={}, pool_pre_ping={},\n    connect_args={{\"connect_timeout\": {}}})\n",
            p.max_connections,
            p.max_overflow,
            secs(p.acquire_timeout_ms),
            p.max_lifetime_s,
            if p.test_before_acquire { "True" } else { "False" },
            p.connect_timeout_ms.div_ceil(1000)
        ),
        "hikaricp" => format!(
            "maximumPoolSize={}\nminimumIdle={}\nconnectionTimeout={}\nidleTimeout={}\nmaxLifetime={}\n# HikariCP always validates connections before handing them out\n",
            p.ceiling(),
            p.min_connections,
            p.acquire_timeout_ms,
            u64::from(p.idle_timeout_s) * 1000,
            u64::from(p.max_lifetime_s) * 1000
        ),
        "pgx" => format!(
            "pool_max_conns={} pool_min_conns={} pool_max_conn_lifetime={}s pool_max_conn_idle_time={}s connect_timeout={}\n",
            p.ceiling(),
            p.min_connections,
            p.max_lifetime_s,
            p.idle_timeout_s,
            p.connect_timeout_ms.div_ceil(1000)
        ),
        "sqlx" => format!(
            "PgPoolOptions::new()\n    .max_connections({})\n    .min_connections({})\n    .acquire_timeout(Duration::from_millis({}))\n    .idle_timeout(Duration::from_secs({}))\n    .max_lifetime(Duration::from_secs({}))\n    .test_before_acquire({})\n",
            p.ceiling(),
            p.min_connections,
            p.acquire_timeout_ms,
            p.idle_timeout_s,
            p.max_lifetime_s,
            p.test_before_acquire
        ),
        other => {
            return Err(ApiError::invalid(format!("'{other}' is not a pool settings format"))
                .with_hint("use sqlalchemy, hikaricp, pgx or sqlx"));
        }
    })
}

/// Connection options for one PostgreSQL endpoint of `env`, its password from the keychain.
/// For work that needs a connection of its own (session settings, advisory locks).
pub async fn pg_options(
    env: &Environment,
    role: &Role,
    endpoint: &Endpoint,
    keychain: &Keychain,
    application: &str,
) -> Result<PgConnectOptions, ApiError> {
    let mut opts = PgConnectOptions::from_str(&endpoint.url)
        .map_err(|e| ApiError::invalid(format!("{}: {e}", redact_url(&endpoint.url))))?
        .application_name(application)
        .disable_statement_logging();
    if let Some(account) = &endpoint.secret {
        let pw = keychain.require(account, &env.name, &role.to_string()).await?;
        opts = opts.password(pw.expose());
    }
    Ok(opts)
}

/// Pools by (environment, role).
type PoolMap = HashMap<(String, Role), Arc<EndpointPool>>;

/// All pools, keyed by environment and role. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct PoolRegistry {
    pools: Arc<Mutex<PoolMap>>,
}

impl PoolRegistry {
    /// The pool of `role` in `env`, made on first use. A pool whose URL or profile no longer
    /// matches the environment is replaced.
    pub async fn get(
        &self,
        env: &Environment,
        role: &Role,
        keychain: &Keychain,
    ) -> Result<Arc<EndpointPool>, ApiError> {
        let endpoint = env
            .endpoint(role)
            .ok_or_else(|| ApiError::invalid(format!("environment '{}' has no {role} endpoint", env.name)))?
            .clone();
        let key = (env.name.clone(), role.clone());
        if let Some(p) = self.pools.lock().expect("pools lock").get(&key)
            && p.url == endpoint.url
            && p.profile == env.pool
        {
            return Ok(p.clone());
        }
        let pool = Arc::new(build(env, role, &endpoint, keychain).await?);
        let old = self.pools.lock().expect("pools lock").insert(key, pool.clone());
        if let Some(old) = old {
            tokio::spawn(async move { old.pool.close().await });
        }
        Ok(pool)
    }

    /// Drop every pool of `env` (after it changed or was removed).
    pub fn forget(&self, env: &str) {
        let gone: Vec<Arc<EndpointPool>> = {
            let mut pools = self.pools.lock().expect("pools lock");
            let keys: Vec<_> = pools.keys().filter(|(e, _)| e == env).cloned().collect();
            keys.into_iter().filter_map(|k| pools.remove(&k)).collect()
        };
        for p in gone {
            tokio::spawn(async move { p.pool.close().await });
        }
    }

    /// Metrics of every pool that exists, optionally of one environment.
    pub fn metrics(&self, env: Option<&str>) -> Vec<PoolMetrics> {
        let pools = self.pools.lock().expect("pools lock");
        let mut out: Vec<PoolMetrics> = pools
            .values()
            .filter(|p| env.is_none_or(|e| p.env == e))
            .map(|p| p.metrics())
            .collect();
        out.sort_by(|a, b| (a.env.as_str(), a.role.to_string()).cmp(&(b.env.as_str(), b.role.to_string())));
        out
    }
}

async fn build(
    env: &Environment,
    role: &Role,
    endpoint: &Endpoint,
    keychain: &Keychain,
) -> Result<EndpointPool, ApiError> {
    let p = env.pool;
    let mut diagnose = None;
    let pool = match (env.engine, role) {
        (Engine::Sqlite, Role::Primary) => {
            let opts = SqliteConnectOptions::from_str(&endpoint.url)
                .map_err(|e| ApiError::invalid(format!("{}: {e}", endpoint.url)))?
                .read_only(true)
                .create_if_missing(false);
            DbPool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(p.ceiling())
                    .min_connections(0)
                    .acquire_timeout(Duration::from_millis(u64::from(p.acquire_timeout_ms)))
                    .idle_timeout(Duration::from_secs(u64::from(p.idle_timeout_s)))
                    .max_lifetime(Duration::from_secs(u64::from(p.max_lifetime_s)))
                    .connect_lazy_with(opts),
            )
        }
        (_, Role::Redis) => return Err(ApiError::invalid("Redis endpoints have no SQL pool")),
        _ => {
            let opts = pg_options(env, role, endpoint, keychain, "dbdeck").await?;
            diagnose = Some(opts.clone());
            DbPool::Postgres(
                PgPoolOptions::new()
                    .max_connections(p.ceiling())
                    .min_connections(p.min_connections)
                    .acquire_timeout(Duration::from_millis(u64::from(p.acquire_timeout_ms)))
                    .idle_timeout(Duration::from_secs(u64::from(p.idle_timeout_s)))
                    .max_lifetime(Duration::from_secs(u64::from(p.max_lifetime_s)))
                    .test_before_acquire(p.test_before_acquire)
                    .connect_lazy_with(opts),
            )
        }
    };
    Ok(EndpointPool {
        env: env.name.clone(),
        role: role.clone(),
        url: endpoint.url.clone(),
        profile: p,
        pool,
        diagnose,
        breaker: Mutex::new(Breaker::default()),
        waits: Mutex::new(WaitHistogram::default()),
        waiting: AtomicU32::new(0),
        acquired: AtomicU64::new(0),
        timeouts: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_opens_after_consecutive_failures_and_backs_off() {
        let mut b = Breaker::default();
        let t0 = Instant::now();
        for _ in 0..FAILURES_TO_OPEN - 1 {
            assert_eq!(b.admit(t0), Admit::Yes);
            b.failure(t0, "refused");
        }
        assert_eq!(b.state(), BreakerState::Closed, "below the threshold it stays closed");
        b.failure(t0, "refused");
        assert_eq!(b.state(), BreakerState::Open);
        assert!(
            matches!(b.admit(t0 + Duration::from_millis(500)), Admit::No(_)),
            "open refuses at once"
        );
        // After the back-off one probe goes through; others wait for it.
        let t1 = t0 + FIRST_BACKOFF;
        assert_eq!(b.admit(t1), Admit::Probe);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(matches!(b.admit(t1), Admit::No(_)), "only one probe at a time");
        // A failed probe reopens with a doubled back-off.
        b.failure(t1, "refused");
        assert_eq!(b.state(), BreakerState::Open);
        assert!(matches!(b.admit(t1 + FIRST_BACKOFF), Admit::No(_)), "back-off doubled");
        assert_eq!(b.admit(t1 + 2 * FIRST_BACKOFF), Admit::Probe);
        b.success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.admit(t1 + 2 * FIRST_BACKOFF), Admit::Yes);
        let states: Vec<_> = b.history.iter().map(|e| e.state).collect();
        use BreakerState::*;
        assert_eq!(
            states,
            vec![Open, HalfOpen, Open, HalfOpen, Closed],
            "history records every transition"
        );
    }

    #[test]
    fn success_resets_the_failure_count() {
        let mut b = Breaker::default();
        let t = Instant::now();
        b.failure(t, "x");
        b.failure(t, "x");
        b.success();
        b.failure(t, "x");
        b.failure(t, "x");
        assert_eq!(b.state(), BreakerState::Closed, "failures must be consecutive");
    }

    #[test]
    fn profiles_export_as_application_settings() {
        let p = PoolProfile::for_kind("prod");
        let sa = app_settings(&p, "sqlalchemy").unwrap();
        assert!(
            sa.contains("pool_size=16, max_overflow=8") && sa.contains("pool_pre_ping=True"),
            "{sa}"
        );
        assert!(app_settings(&p, "hikaricp").unwrap().contains("maximumPoolSize=24"));
        assert!(app_settings(&p, "pgx").unwrap().contains("pool_max_conns=24"));
        assert!(app_settings(&p, "sqlx").unwrap().contains(".max_connections(24)"));
        assert!(app_settings(&p, "django").is_err());
    }

    #[test]
    fn histogram_quantiles() {
        let mut h = WaitHistogram::default();
        assert_eq!(h.quantile_ms(0.5), None);
        for _ in 0..90 {
            h.record(Duration::from_micros(80));
        }
        for _ in 0..10 {
            h.record(Duration::from_millis(40));
        }
        assert_eq!(h.quantile_ms(0.5), Some(0.1), "p50 in the 50–100 µs bucket");
        assert_eq!(h.quantile_ms(0.95), Some(50.0), "p95 in the 20–50 ms bucket");
        assert_eq!(h.quantile_ms(0.99), Some(50.0));
    }
}
