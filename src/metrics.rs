//! Metric history: what the collectors measured, kept in the local store with downsampling.
//!
//! Raw samples (one per environment, metric and collection) are kept for a day; every minute
//! they are rolled up into 1-minute buckets (kept a week) and those into 10-minute buckets
//! (kept 90 days), each holding average, minimum, maximum and count. A read picks the finest
//! source that covers the range and buckets it to a few hundred points, so a 90-day chart
//! costs no more than a 15-minute one. This module only stores and reads numbers; collecting
//! them is the API's health loop.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use ts_rs::TS;

use crate::error::ApiError;
use crate::store::{Store, now_ms};

/// Every metric dbdeck records, with its unit. Add one here and the collector, the history,
/// the charts and the CLI know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Round trip of a trivial query through dbdeck's pool.
    LatencyMs,
    /// 100 when the check reached the server, 0 when not (its average is availability).
    Availability,
    /// Client backends connected (PostgreSQL).
    Connections,
    /// Commits plus rollbacks per second, all databases (PostgreSQL).
    Tps,
    /// Buffer-cache hit ratio over the interval, all databases (PostgreSQL).
    CacheHitPct,
    /// Deadlocks detected during the interval (PostgreSQL).
    Deadlocks,
    /// Connections of dbdeck's pool in use, as a share of its maximum.
    PoolUtilisationPct,
    /// 95th percentile of the time to get a connection from dbdeck's pool.
    AcquireP95Ms,
    /// A standby's replay lag. Recorded per standby (`replica_lag_s/NAME`), so not in [`ALL`].
    ReplayLagS,
}

pub const ALL: &[Metric] = &[
    Metric::LatencyMs,
    Metric::Availability,
    Metric::Connections,
    Metric::Tps,
    Metric::CacheHitPct,
    Metric::Deadlocks,
    Metric::PoolUtilisationPct,
    Metric::AcquireP95Ms,
];

/// How a metric is shown.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MetricInfo {
    pub id: Metric,
    pub label: String,
    pub unit: String,
    /// A target drawn as a line on its chart (e.g. 99 % for the buffer cache).
    pub target: Option<f64>,
    /// Whether higher is better (for colouring against the target).
    pub higher_is_better: bool,
}

impl Metric {
    pub fn id(self) -> &'static str {
        match self {
            Metric::LatencyMs => "latency_ms",
            Metric::Availability => "availability",
            Metric::Connections => "connections",
            Metric::Tps => "tps",
            Metric::CacheHitPct => "cache_hit_pct",
            Metric::Deadlocks => "deadlocks",
            Metric::PoolUtilisationPct => "pool_utilisation_pct",
            Metric::AcquireP95Ms => "acquire_p95_ms",
            Metric::ReplayLagS => "replay_lag_s",
        }
    }

    pub fn parse(s: &str) -> Result<Metric, ApiError> {
        ALL.iter().copied().find(|m| m.id() == s).ok_or_else(|| {
            ApiError::invalid(format!("'{s}' is not a metric")).with_hint(format!(
                "one of: {}",
                ALL.iter().map(|m| m.id()).collect::<Vec<_>>().join(", ")
            ))
        })
    }

    pub fn info(self) -> MetricInfo {
        let (label, unit, target, higher) = match self {
            Metric::LatencyMs => ("Round-trip latency", "ms", None, false),
            Metric::Availability => ("Availability", "%", Some(99.9), true),
            Metric::Connections => ("Connections", "conn", None, false),
            Metric::Tps => ("Transactions per second", "tx/s", None, true),
            // The target is the environment's (CacheTargets), drawn per chart.
            Metric::CacheHitPct => ("Buffer-cache hit ratio", "%", None, true),
            Metric::Deadlocks => ("Deadlocks", "deadlocks", None, false),
            Metric::PoolUtilisationPct => ("dbdeck pool utilisation", "%", Some(80.0), false),
            Metric::AcquireP95Ms => ("Pool acquire wait p95", "ms", None, false),
            Metric::ReplayLagS => ("Replay lag", "s", None, false),
        };
        MetricInfo {
            id: self,
            label: label.into(),
            unit: unit.into(),
            target,
            higher_is_better: higher,
        }
    }
}

/// How long each resolution is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub raw: Duration,
    pub one_minute: Duration,
    pub ten_minutes: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            raw: Duration::from_secs(24 * 3600),
            one_minute: Duration::from_secs(7 * 24 * 3600),
            ten_minutes: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

const MINUTE: i64 = 60_000;
const TEN_MINUTES: i64 = 600_000;

/// A series read back for a range.
#[derive(Debug, Clone, Serialize, TS)]
pub struct History {
    pub env: String,
    pub info: MetricInfo,
    /// Where the points came from: `raw`, `1m` or `10m`.
    pub source: String,
    /// Width of each point's bucket.
    #[ts(type = "number")]
    pub bucket_ms: i64,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Point {
    #[ts(type = "number")]
    pub ts_ms: i64,
    pub avg: f64,
    pub min: f64,
    pub max: f64,
    /// Samples behind the point.
    #[ts(type = "number")]
    pub n: i64,
}

pub async fn record(store: &Store, env: &str, ts_ms: i64, values: &[(Metric, f64)]) -> Result<(), ApiError> {
    let values: Vec<&(Metric, f64)> = values.iter().filter(|(_, v)| v.is_finite()).collect();
    if values.is_empty() {
        return Ok(());
    }
    let mut q =
        sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT OR REPLACE INTO metric_samples (env, metric, ts_ms, value) ");
    q.push_values(values, |mut b, (m, v)| {
        b.push_bind(env).push_bind(m.id()).push_bind(ts_ms).push_bind(*v);
    });
    q.build().execute(store.pool()).await?;
    Ok(())
}

/// Store what each application had open at one collection.
pub async fn record_apps(store: &Store, env: &str, ts_ms: i64, apps: &[(String, i64, i64)]) -> Result<(), ApiError> {
    if apps.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT OR REPLACE INTO app_sessions (env, app, ts_ms, active, total) ",
    );
    q.push_values(apps, |mut b, (app, active, total)| {
        b.push_bind(env)
            .push_bind(app)
            .push_bind(ts_ms)
            .push_bind(*active)
            .push_bind(*total);
    });
    q.build().execute(store.pool()).await?;
    Ok(())
}

/// Observed load of every application since `since_ms`: p95 and max of its active sessions.
/// Collections in which an application had no session count as zero for it.
pub async fn app_loads(store: &Store, env: &str, since_ms: i64) -> Result<Vec<crate::advice::AppLoad>, ApiError> {
    let samples: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT ts_ms) FROM metric_samples WHERE env = ? AND metric = 'availability' AND ts_ms >= ?",
    )
    .bind(env)
    .bind(since_ms)
    .fetch_one(store.pool())
    .await?;
    let rows = sqlx::query("SELECT app, active FROM app_sessions WHERE env = ? AND ts_ms >= ? ORDER BY app")
        .bind(env)
        .bind(since_ms)
        .fetch_all(store.pool())
        .await?;
    let mut by_app: std::collections::BTreeMap<String, Vec<i64>> = std::collections::BTreeMap::new();
    for r in rows {
        by_app.entry(r.get(0)).or_default().push(r.get(1));
    }
    Ok(by_app
        .into_iter()
        .map(|(application, mut active)| {
            let seen = active.len() as i64;
            // Pad with the collections where the application had no session at all.
            active.extend(std::iter::repeat_n(0, (samples - seen).max(0) as usize));
            let max = active.iter().copied().max().unwrap_or(0);
            crate::advice::AppLoad {
                application,
                active_p95: crate::advice::p95(&mut active),
                active_max: max,
                samples: active.len() as i64,
            }
        })
        .collect())
}

/// Roll raw samples up into 1-minute buckets and those into 10-minute buckets, for every
/// complete bucket not rolled up yet; then drop what is past its retention. Idempotent.
pub async fn roll_up(store: &Store, retention: Retention, now: i64) -> Result<(), ApiError> {
    let pool = store.pool();
    let until_1m = now.div_euclid(MINUTE) * MINUTE;
    let from_1m = watermark(store, "rollup_1m_until")
        .await?
        .unwrap_or(until_1m - retention.raw.as_millis() as i64);
    if until_1m > from_1m {
        sqlx::query(
            "INSERT OR REPLACE INTO metric_rollups (env, metric, step_ms, ts_ms, avg, min, max, n)
             SELECT env, metric, 60000, (ts_ms / 60000) * 60000, avg(value), min(value), max(value), count(*)
             FROM metric_samples WHERE ts_ms >= ? AND ts_ms < ?
             GROUP BY env, metric, ts_ms / 60000",
        )
        .bind(from_1m)
        .bind(until_1m)
        .execute(pool)
        .await?;
        set_watermark(store, "rollup_1m_until", until_1m).await?;
    }
    let until_10m = until_1m.div_euclid(TEN_MINUTES) * TEN_MINUTES;
    let from_10m = watermark(store, "rollup_10m_until")
        .await?
        .unwrap_or(until_10m - retention.one_minute.as_millis() as i64);
    if until_10m > from_10m {
        sqlx::query(
            "INSERT OR REPLACE INTO metric_rollups (env, metric, step_ms, ts_ms, avg, min, max, n)
             SELECT env, metric, 600000, (ts_ms / 600000) * 600000, sum(avg * n) / sum(n), min(min), max(max), sum(n)
             FROM metric_rollups WHERE step_ms = 60000 AND ts_ms >= ? AND ts_ms < ?
             GROUP BY env, metric, ts_ms / 600000",
        )
        .bind(from_10m)
        .bind(until_10m)
        .execute(pool)
        .await?;
        set_watermark(store, "rollup_10m_until", until_10m).await?;
    }
    let expired = [
        ("DELETE FROM metric_samples WHERE ts_ms < ?", retention.raw),
        ("DELETE FROM app_sessions WHERE ts_ms < ?", retention.raw),
        (
            "DELETE FROM metric_rollups WHERE step_ms = 60000 AND ts_ms < ?",
            retention.one_minute,
        ),
        (
            "DELETE FROM metric_rollups WHERE step_ms = 600000 AND ts_ms < ?",
            retention.ten_minutes,
        ),
    ];
    for (sql, keep) in expired {
        sqlx::query(sql)
            .bind(now - keep.as_millis() as i64)
            .execute(pool)
            .await?;
    }
    Ok(())
}

async fn watermark(store: &Store, key: &str) -> Result<Option<i64>, ApiError> {
    let row = sqlx::query("SELECT value FROM meta WHERE key = ?")
        .bind(key)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.and_then(|r| r.get::<String, _>(0).parse().ok()))
}

async fn set_watermark(store: &Store, key: &str, v: i64) -> Result<(), ApiError> {
    sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(v.to_string())
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Read `metric` of `env` for [from, to], at most about `max_points` points.
pub async fn history(
    store: &Store,
    env: &str,
    metric: Metric,
    from_ms: i64,
    to_ms: i64,
    max_points: i64,
    retention: Retention,
) -> Result<History, ApiError> {
    history_of(
        store,
        env,
        metric.id(),
        metric.info(),
        from_ms,
        to_ms,
        max_points,
        retention,
    )
    .await
}

/// Record samples of per-object series (a standby's lag, a slot's retained WAL), whose ids are
/// `metric/object` (e.g. `replica_lag_s/node2`). They are rolled up like the fixed metrics.
pub async fn record_series(store: &Store, env: &str, ts_ms: i64, values: &[(String, f64)]) -> Result<(), ApiError> {
    let values: Vec<&(String, f64)> = values.iter().filter(|(_, v)| v.is_finite()).collect();
    if values.is_empty() {
        return Ok(());
    }
    let mut q =
        sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT OR REPLACE INTO metric_samples (env, metric, ts_ms, value) ");
    q.push_values(values, |mut b, (id, v)| {
        b.push_bind(env).push_bind(id.as_str()).push_bind(ts_ms).push_bind(*v);
    });
    q.build().execute(store.pool()).await?;
    Ok(())
}

/// The raw samples of series `id` since `since_ms`, oldest first.
pub async fn samples(store: &Store, env: &str, id: &str, since_ms: i64) -> Result<Vec<(i64, f64)>, ApiError> {
    let rows = sqlx::query(
        "SELECT ts_ms, value FROM metric_samples WHERE env = ? AND metric = ? AND ts_ms >= ? ORDER BY ts_ms",
    )
    .bind(env)
    .bind(id)
    .bind(since_ms)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Series ids of `env` that start with `prefix` and have a sample since `since_ms`.
pub async fn series_ids(store: &Store, env: &str, prefix: &str, since_ms: i64) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(
        "SELECT DISTINCT metric FROM metric_samples WHERE env = ? AND metric >= ? AND metric < ? AND ts_ms >= ? ORDER BY metric",
    )
    .bind(env)
    .bind(prefix)
    .bind(format!("{prefix}\u{10ffff}"))
    .bind(since_ms)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Read series `id` of `env` for [from, to], at most about `max_points` points.
#[allow(clippy::too_many_arguments)]
pub async fn history_of(
    store: &Store,
    env: &str,
    id: &str,
    info: MetricInfo,
    from_ms: i64,
    to_ms: i64,
    max_points: i64,
    retention: Retention,
) -> Result<History, ApiError> {
    let span = (to_ms - from_ms).max(1);
    let now = now_ms();
    // The finest source that still holds the start of the range.
    let (source, step) = if from_ms >= now - retention.raw.as_millis() as i64 {
        ("raw", 1)
    } else if from_ms >= now - retention.one_minute.as_millis() as i64 {
        ("1m", MINUTE)
    } else {
        ("10m", TEN_MINUTES)
    };
    let bucket = (span / max_points.max(1)).max(step);
    // The chosen source covers the range up to its roll-up watermark; what came after is read
    // from the finer sources, so the newest minutes are never missing from a long chart.
    let wm1 = watermark(store, "rollup_1m_until").await?.unwrap_or(i64::MIN);
    let wm10 = watermark(store, "rollup_10m_until").await?.unwrap_or(i64::MIN);
    let segments: Vec<(i64, i64, i64)> = match source {
        "raw" => vec![(0, from_ms, to_ms)],
        "1m" => vec![
            (MINUTE, from_ms, to_ms.min(wm1.saturating_sub(1))),
            (0, from_ms.max(wm1), to_ms),
        ],
        _ => vec![
            (TEN_MINUTES, from_ms, to_ms.min(wm10.saturating_sub(1))),
            (MINUTE, from_ms.max(wm10), to_ms.min(wm1.saturating_sub(1))),
            (0, from_ms.max(wm1).max(wm10), to_ms),
        ],
    };
    let mut points: Vec<Point> = Vec::new();
    for (step_ms, from, to) in segments {
        if from > to {
            continue;
        }
        let rows = if step_ms == 0 {
            sqlx::query(
                "SELECT (ts_ms / ?1) * ?1, avg(value), min(value), max(value), count(*) FROM metric_samples
                 WHERE env = ?2 AND metric = ?3 AND ts_ms >= ?4 AND ts_ms <= ?5
                 GROUP BY ts_ms / ?1 ORDER BY 1",
            )
            .bind(bucket)
            .bind(env)
            .bind(id)
            .bind(from)
            .bind(to)
            .fetch_all(store.pool())
            .await?
        } else {
            sqlx::query(
                "SELECT (ts_ms / ?1) * ?1, sum(avg * n) / sum(n), min(min), max(max), sum(n) FROM metric_rollups
                 WHERE env = ?2 AND metric = ?3 AND step_ms = ?6 AND ts_ms >= ?4 AND ts_ms <= ?5
                 GROUP BY ts_ms / ?1 ORDER BY 1",
            )
            .bind(bucket)
            .bind(env)
            .bind(id)
            .bind(from)
            .bind(to)
            .bind(step_ms)
            .fetch_all(store.pool())
            .await?
        };
        for r in &rows {
            let n: i64 = r.get(4);
            let p = Point {
                ts_ms: r.get(0),
                avg: r.get(1),
                min: r.get(2),
                max: r.get(3),
                n,
            };
            // A bucket split across two sources is merged, weighted by samples.
            match points.last_mut() {
                Some(last) if last.ts_ms == p.ts_ms => {
                    let m = last.n + n;
                    last.avg = (last.avg * last.n as f64 + p.avg * n as f64) / m.max(1) as f64;
                    last.min = last.min.min(p.min);
                    last.max = last.max.max(p.max);
                    last.n = m;
                }
                _ => points.push(p),
            }
        }
    }
    Ok(History {
        env: env.to_owned(),
        info,
        source: source.to_owned(),
        bucket_ms: if source == "raw" && bucket == 1 { 0 } else { bucket },
        points,
    })
}

/// "15m", "1h", "7d" → minutes.
pub fn parse_since(s: &str) -> Result<u32, ApiError> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u32 = num
        .parse()
        .map_err(|_| ApiError::invalid(format!("'{s}' is not a duration like 15m, 1h or 7d")))?;
    let minutes = match unit {
        "m" | "min" => n,
        "h" => n * 60,
        "d" => n * 1440,
        _ => return Err(ApiError::invalid(format!("'{s}' is not a duration like 15m, 1h or 7d"))),
    };
    if minutes == 0 || minutes > 90 * 1440 {
        return Err(ApiError::invalid(format!("'{s}' is outside 1 minute … 90 days")));
    }
    Ok(minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_since("15m").unwrap(), 15);
        assert_eq!(parse_since("1h").unwrap(), 60);
        assert_eq!(parse_since("7d").unwrap(), 10080);
        assert!(parse_since("91d").is_err());
        assert!(parse_since("h").is_err());
    }

    #[tokio::test]
    async fn raw_rolls_up_and_reads_back_at_every_resolution() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let now = now_ms();
        let start = (now - 3 * 3_600_000).div_euclid(TEN_MINUTES) * TEN_MINUTES;
        // Three hours of 5-second samples: a ramp, so averages are checkable.
        let mut t = start;
        while t < now {
            record(&store, "e", t, &[(Metric::Tps, ((t - start) / 5_000) as f64)])
                .await
                .unwrap();
            t += 5_000;
        }
        let retention = Retention::default();
        roll_up(&store, retention, now).await.unwrap();
        roll_up(&store, retention, now).await.unwrap(); // idempotent

        let raw = history(&store, "e", Metric::Tps, now - 15 * MINUTE, now, 1000, retention)
            .await
            .unwrap();
        assert_eq!(raw.source, "raw");
        assert!(raw.points.len() >= 170, "15 min of 5 s samples: {}", raw.points.len());

        let n1: i64 = sqlx::query_scalar("SELECT count(*) FROM metric_rollups WHERE step_ms = 60000")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!((170..=191).contains(&n1), "one bucket per complete minute: {n1}");
        let first: (f64, f64, f64, i64) =
            sqlx::query_as("SELECT avg, min, max, n FROM metric_rollups WHERE step_ms = 60000 ORDER BY ts_ms LIMIT 1")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(first, (5.5, 0.0, 11.0, 12), "a minute of a ramp 0..11");
        let ten: (f64, i64) =
            sqlx::query_as("SELECT avg, n FROM metric_rollups WHERE step_ms = 600000 ORDER BY ts_ms LIMIT 1")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(ten, (59.5, 120), "ten minutes, weighted by count");

        // Bucketing keeps a long range to about max_points.
        let wide = history(&store, "e", Metric::Tps, now - 3 * 3_600_000, now, 100, retention)
            .await
            .unwrap();
        assert!(wide.points.len() <= 101, "{}", wide.points.len());
    }

    #[tokio::test]
    async fn retention_drops_old_data() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let now = now_ms();
        record(&store, "e", now - 2 * 86_400_000, &[(Metric::LatencyMs, 1.0)])
            .await
            .unwrap();
        record(&store, "e", now - 1_000, &[(Metric::LatencyMs, 2.0)])
            .await
            .unwrap();
        roll_up(&store, Retention::default(), now).await.unwrap();
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM metric_samples")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(left, 1, "raw samples older than a day are gone");
    }
}
