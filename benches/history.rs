//! Metric history at scale: disk used by 30 days of history for three environments collected
//! every 5 s (in the steady state retention leaves: 24 h raw, 7 days of 1-minute roll-ups, the
//! rest as 10-minute roll-ups), and the time to render a 30-day chart from it.
//!
//!   cargo bench --bench history
//!
//! Prints a Markdown table; docs/BENCHMARKS.md records a run.

use std::time::Instant;

use dbdeck::api::{Api, ApiOptions, Request, Response};
use dbdeck::env::EnvInput;
use dbdeck::metrics::{ALL, Metric};

const ENVS: [&str; 3] = ["alpha", "beta", "gamma"];
const DAY: i64 = 86_400_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let api = Api::open(ApiOptions::new(dir.path(), "bench")).await.unwrap();
    for name in ENVS {
        let env = EnvInput {
            name: name.into(),
            kind: "staging".into(),
            colour: None,
            url: format!("sqlite://{}/{name}.db", dir.path().display()),
            replicas: vec![],
            pgbouncer: None,
            redis: None,
            patroni: None,
            pool: None,
            cache: None,
            routing: None,
            replication: None,
        };
        api.call(Request::EnvAdd { env, password: None }).await.unwrap();
    }
    let pool = api.store().pool().clone();
    let now = dbdeck::store::now_ms();
    let started = Instant::now();
    let mut rows = 0u64;
    for env in ENVS {
        for (mi, m) in ALL.iter().enumerate() {
            let id = metric_id(*m);
            // 24 h of raw 5-second samples.
            let raw: Vec<(i64, f64)> = (0..DAY / 5_000).map(|i| (now - DAY + i * 5_000, wave(i, mi))).collect();
            rows += raw.len() as u64;
            for chunk in raw.chunks(5_000) {
                let mut q =
                    sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO metric_samples (env, metric, ts_ms, value) ");
                q.push_values(chunk, |mut b, (t, v)| {
                    b.push_bind(env).push_bind(id).push_bind(*t).push_bind(*v);
                });
                q.build().execute(&pool).await.unwrap();
            }
            // 7 days of 1-minute roll-ups, 30 days of 10-minute roll-ups.
            for (step, span) in [(60_000i64, 7 * DAY), (600_000i64, 30 * DAY)] {
                let ups: Vec<(i64, f64)> = (0..span / step).map(|i| (now - span + i * step, wave(i, mi))).collect();
                rows += ups.len() as u64;
                for chunk in ups.chunks(4_000) {
                    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                        "INSERT INTO metric_rollups (env, metric, step_ms, ts_ms, avg, min, max, n) ",
                    );
                    q.push_values(chunk, |mut b, (t, v)| {
                        b.push_bind(env)
                            .push_bind(id)
                            .push_bind(step)
                            .push_bind(*t)
                            .push_bind(*v)
                            .push_bind(v - 1.0)
                            .push_bind(v + 1.0)
                            .push_bind(step / 5_000);
                    });
                    q.build().execute(&pool).await.unwrap();
                }
            }
        }
    }
    let fill_s = started.elapsed().as_secs_f64();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .unwrap();
    let bytes: u64 = ["store.db", "store.db-wal", "store.db-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum();

    let mut times = Vec::new();
    let mut points = 0;
    for _ in 0..21 {
        let t = Instant::now();
        let resp = api
            .call(Request::ChartMetric {
                name: None,
                metric: Metric::Tps,
                minutes: 30 * 1440,
                width: Some(860),
                height: Some(260),
                png: None,
            })
            .await
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if let Response::Chart(c) = resp {
            points = c.svg.matches("<title>").count();
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut one = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        api.call(Request::History {
            name: "alpha".into(),
            metric: Metric::Tps,
            minutes: 30 * 1440,
            points: None,
        })
        .await
        .unwrap();
        one.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    one.sort_by(|a, b| a.partial_cmp(b).unwrap());

    println!("| measure | value | goal |");
    println!("|---|---:|---:|");
    println!(
        "| rows of history (3 environments × {} metrics) | {rows} | |",
        ALL.len()
    );
    println!(
        "| store size after checkpoint | {:.1} MiB | ≤ 200 MB |",
        bytes as f64 / 1_048_576.0
    );
    println!(
        "| 30-day chart, 3 series ({points} points), median of 21 | {:.1} ms (min {:.1}, max {:.1}) | ≤ 100 ms |",
        times[10], times[0], times[20]
    );
    println!(
        "| 30-day history read of one series, median of 21 | {:.1} ms | |",
        one[10]
    );
    println!("| time to generate the data | {fill_s:.1} s | |");
}

fn metric_id(m: Metric) -> &'static str {
    m.id()
}

fn wave(i: i64, phase: usize) -> f64 {
    50.0 + 40.0 * ((i as f64 / 120.0) + phase as f64).sin()
}
