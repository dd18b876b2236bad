//! `dbdeck bench`: drive an environment through dbdeck's own connection pool and measure.
//!
//! Each client is a task that takes a connection from a pool sized to the number of clients
//! and runs one prepared statement after another until the time is up: a primary-key lookup
//! (`select`, the same work as `pgbench -S`), an insert (`insert`), or four lookups to one
//! insert (`mixed`). All of it happens in a scratch table the run creates and drops; nothing
//! else in the database is touched. The report has throughput, exact latency percentiles,
//! errors, and a chart of operations per second.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use ts_rs::TS;

use crate::chart::{Series, TimeChart};
use crate::env::{Environment, redact_url};
use crate::error::{ApiError, ErrorCode};
use crate::probe::classify_pg;
use crate::secrets::Sensitive;

/// Rows in the scratch table (the size of pgbench's accounts table at scale 1).
pub const SCRATCH_ROWS: i64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum BenchMode {
    Select,
    Insert,
    Mixed,
}

impl FromStr for BenchMode {
    type Err = ApiError;
    fn from_str(s: &str) -> Result<Self, ApiError> {
        match s {
            "select" => Ok(BenchMode::Select),
            "insert" => Ok(BenchMode::Insert),
            "mixed" => Ok(BenchMode::Mixed),
            _ => Err(ApiError::invalid(format!(
                "'{s}' is not a bench mode: use select, insert or mixed"
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct BenchReport {
    pub env: String,
    pub mode: BenchMode,
    pub clients: u32,
    pub seconds: f64,
    #[ts(type = "number")]
    pub ops: u64,
    pub ops_per_sec: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    #[ts(type = "number")]
    pub errors: u64,
    /// The first error seen, if any.
    pub first_error: Option<String>,
    /// Operations completed in each second of the run.
    pub per_second: Vec<u64>,
    /// A chart of `per_second` (SVG).
    pub chart_svg: String,
}

/// Run the benchmark. The caller has already checked the prod guard and audits the run.
pub async fn run(
    env: &Environment,
    password: Option<Sensitive<String>>,
    mode: BenchMode,
    clients: u32,
    seconds: u32,
    progress: impl Fn(u32, u64) + Send + Sync + 'static,
) -> Result<BenchReport, ApiError> {
    if env.engine != crate::env::Engine::Postgres {
        return Err(ApiError::invalid(
            "dbdeck bench drives PostgreSQL environments; this one is SQLite",
        ));
    }
    if !(1..=256).contains(&clients) || !(1..=3600).contains(&seconds) {
        return Err(ApiError::invalid("use 1–256 clients and 1–3600 seconds"));
    }
    let target = redact_url(&env.primary.url);
    let mut opts = PgConnectOptions::from_str(&env.primary.url)
        .map_err(|e| ApiError::invalid(format!("{target}: {e}")))?
        .application_name("dbdeck bench")
        .disable_statement_logging();
    if let Some(p) = &password {
        opts = opts.password(p.expose());
    }
    let pool = PgPoolOptions::new()
        .max_connections(clients)
        .min_connections(clients)
        .acquire_timeout(Duration::from_millis(u64::from(env.pool.acquire_timeout_ms)))
        .test_before_acquire(false)
        .connect_with(opts)
        .await
        .map_err(|e| classify_pg(e, &target))?;
    let table = format!("dbdeck_bench_{}", hex::encode(rand::random::<[u8; 4]>()));
    let result = run_on(&pool, &table, mode, clients, seconds, &target, env, progress).await;
    // The scratch table goes whatever happened.
    let dropped = sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(&pool)
        .await;
    pool.close().await;
    let report = result?;
    dropped.map_err(|e| {
        ApiError::new(
            ErrorCode::ServerError,
            format!("the run finished but its scratch table {table} could not be dropped: {e}"),
        )
    })?;
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn run_on(
    pool: &PgPool,
    table: &str,
    mode: BenchMode,
    clients: u32,
    seconds: u32,
    target: &str,
    env: &Environment,
    progress: impl Fn(u32, u64) + Send + Sync + 'static,
) -> Result<BenchReport, ApiError> {
    // `table` is made here from hex digits only; it is safe in statement text.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE UNLOGGED TABLE {table} (id bigint PRIMARY KEY, balance int NOT NULL, note text NOT NULL);
         INSERT INTO {table} SELECT g, 0, repeat('x', 84) FROM generate_series(1, {SCRATCH_ROWS}) g;
         CREATE SEQUENCE {table}_ids START {start} OWNED BY {table}.id;
         ANALYZE {table};",
        start = SCRATCH_ROWS + 1
    )))
    .execute(pool)
    .await
    .map_err(|e| classify_pg(e, target))?;
    let select: Arc<str> = format!("SELECT balance FROM {table} WHERE id = $1").into();
    let insert: Arc<str> =
        format!("INSERT INTO {table} (id, balance, note) VALUES (nextval('{table}_ids'), $1, 'bench')").into();

    let started = Instant::now();
    let deadline = started + Duration::from_secs(u64::from(seconds));
    let per_second = Arc::new(
        (0..seconds as usize + 1)
            .map(|_| std::sync::atomic::AtomicU64::new(0))
            .collect::<Vec<_>>(),
    );
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (pool, select, insert, per_second) = (pool.clone(), select.clone(), insert.clone(), per_second.clone());
        tasks.push(tokio::spawn(async move {
            // Each client takes its connection from the pool once and keeps it, as an
            // application's worker would; the statements are prepared on it once.
            let mut conn = match pool.acquire().await {
                Ok(c) => c,
                Err(e) => return (Vec::new(), 1, Some(e.to_string())),
            };
            let mut lat: Vec<u32> = Vec::with_capacity(100_000);
            let mut errors = 0u64;
            let mut first_error = None;
            let mut rng = u64::from(c).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut n = 0u64;
            while Instant::now() < deadline {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let id = (rng % SCRATCH_ROWS as u64) as i64 + 1;
                let write = match mode {
                    BenchMode::Select => false,
                    BenchMode::Insert => true,
                    BenchMode::Mixed => n % 5 == 4,
                };
                n += 1;
                let t = Instant::now();
                let r = if write {
                    sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
                        .bind(id as i32)
                        .execute(&mut *conn)
                        .await
                        .map(|_| ())
                } else {
                    sqlx::query(sqlx::AssertSqlSafe(select.clone()))
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await
                        .map(|_| ())
                };
                let us = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                match r {
                    Ok(()) => {
                        lat.push(us);
                        let sec = started.elapsed().as_secs() as usize;
                        if let Some(slot) = per_second.get(sec) {
                            slot.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if first_error.is_none() {
                            first_error = Some(e.to_string());
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            (lat, errors, first_error)
        }));
    }
    // Progress once a second while the clients run.
    let ticker = {
        let per_second = per_second.clone();
        tokio::spawn(async move {
            for s in 1..=seconds {
                tokio::time::sleep_until((started + Duration::from_secs(u64::from(s))).into()).await;
                let done = per_second
                    .get(s as usize - 1)
                    .map_or(0, |c| c.load(std::sync::atomic::Ordering::Relaxed));
                progress(s, done);
            }
        })
    };
    let mut all: Vec<u32> = Vec::new();
    let (mut errors, mut first_error) = (0, None);
    for t in tasks {
        let (lat, e, fe) = t
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("a bench client stopped: {e}")))?;
        all.extend(lat);
        errors += e;
        first_error = first_error.or(fe);
    }
    ticker.abort();
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let q = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        f64::from(all[i]) / 1000.0
    };
    let per_second: Vec<u64> = per_second
        .iter()
        .take(seconds as usize)
        .map(|c| c.load(std::sync::atomic::Ordering::Relaxed))
        .collect();
    let ops = all.len() as u64;
    let now = crate::store::now_ms();
    let start_ms = now - (elapsed * 1000.0) as i64;
    let chart = TimeChart {
        unit: "ops/s".into(),
        from_ms: start_ms,
        to_ms: start_ms + i64::from(seconds) * 1000,
        series: vec![Series {
            name: env.name.clone(),
            colour: Some(env.colour.clone()),
            points: per_second
                .iter()
                .enumerate()
                .map(|(i, n)| (start_ms + (i as i64 + 1) * 1000, Some(*n as f64)))
                .collect(),
        }],
        width: 860,
        height: 260,
        legend: false,
        target: None,
        percent: false,
    };
    let chart_svg = crate::chart::render(chart, "benchmark").await?;
    Ok(BenchReport {
        env: env.name.clone(),
        mode,
        clients,
        seconds: (elapsed * 100.0).round() / 100.0,
        ops,
        ops_per_sec: (ops as f64 / elapsed * 10.0).round() / 10.0,
        p50_ms: q(0.50),
        p95_ms: q(0.95),
        p99_ms: q(0.99),
        max_ms: all.last().map_or(0.0, |v| f64::from(*v) / 1000.0),
        errors,
        first_error,
        per_second,
        chart_svg,
    })
}
