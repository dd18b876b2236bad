//! How the CLI shows snapshots and pools to a person: tables with units, durations in words,
//! sizes in binary units. `--format json` prints the same data the other doors get.

use serde_json::json;

use crate::cli::{Format, table};
use crate::observe::postgres::PgSnapshot;
use crate::observe::{Snapshot, Status, lock_tree};
use crate::pool::PoolMetrics;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Summary,
    Sessions,
    Locks,
    Top,
    Cache,
}

/// 1536 → "1.5 KiB".
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v.abs() >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// 340 → "340 ms", 130_000 → "2 min 10 s".
pub fn duration_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.2} ms")
    } else if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms < 3_600_000.0 {
        let s = (ms / 1000.0) as u64;
        format!("{} min {} s", s / 60, s % 60)
    } else {
        let m = (ms / 60_000.0) as u64;
        format!("{} h {} min", m / 60, m % 60)
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1} %"))
}

fn word(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Warn => "warn",
        Status::Critical => "CRITICAL",
        Status::Unknown => "unknown",
    }
}

fn one_line(q: &str, max: usize) -> String {
    let flat: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

/// The cache part of a snapshot as JSON (what `dbdeck cache --format json` prints).
pub fn cache_json(snap: &Snapshot) -> serde_json::Value {
    match snap {
        Snapshot::Postgres(pg) => json!({
            "target_pct": pg.buffer_cache_target_pct,
            "databases": pg.databases,
            "tables": pg.tables,
            "indexes": pg.indexes,
        }),
        Snapshot::Sqlite(s) => serde_json::to_value(s).expect("serialises"),
    }
}

/// Print one view of a snapshot; returns the exit code.
pub fn print_view(format: Format, view: View, snap: &Snapshot) -> i32 {
    let pg = match snap {
        Snapshot::Postgres(pg) => pg,
        Snapshot::Sqlite(s) => {
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(snap).expect("serialises"));
                return 0;
            }
            if view != View::Summary && view != View::Cache {
                println!("SQLite has no sessions, locks or statement statistics; showing the database instead.");
            }
            println!(
                "SQLite {} · {} ({} pages of {}) · {} free pages · journal {} · cache_size {} · integrity {}",
                s.version,
                bytes(s.size_bytes),
                s.page_count,
                bytes(s.page_size),
                s.freelist_count,
                s.journal_mode,
                s.cache_size,
                s.integrity
            );
            let rows = s
                .tables
                .iter()
                .map(|t| vec![t.name.clone(), t.rows.to_string(), t.indexes.join(", ")])
                .collect();
            table(&["TABLE", "ROWS", "INDEXES"], rows);
            return 0;
        }
    };
    if format == Format::Json {
        let v = match view {
            View::Summary => serde_json::to_value(snap),
            View::Sessions => serde_json::to_value(&pg.sessions),
            View::Locks => Ok(json!(
                lock_tree(&pg.sessions)
                    .iter()
                    .map(|(depth, pid)| json!({"depth": depth, "pid": pid}))
                    .collect::<Vec<_>>()
            )),
            View::Top => serde_json::to_value(&pg.top),
            View::Cache => Ok(cache_json(snap)),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&v.expect("serialises")).expect("serialises")
        );
        return 0;
    }
    match view {
        View::Summary => summary(pg),
        View::Sessions => sessions(pg),
        View::Locks => locks(pg),
        View::Top => top(pg),
        View::Cache => cache(pg),
    }
    0
}

fn summary(pg: &PgSnapshot) {
    let s = &pg.server;
    println!(
        "PostgreSQL {} · {} · database {} · up since {}",
        s.version,
        if s.in_recovery { "standby" } else { "primary" },
        s.database,
        chrono::DateTime::from_timestamp_millis(s.started_ms)
            .map_or("?".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
    );
    println!(
        "connections {} of {} usable ({:.1} %, {}) · oldest transaction ID age {} ({}) · poll {} in {} queries",
        s.connections,
        s.max_connections - s.reserved_connections,
        s.connection_utilisation_pct,
        word(s.connection_status),
        s.oldest_xid_age,
        word(s.xid_status),
        duration_ms(pg.took_ms),
        pg.queries
    );
}

fn sessions(pg: &PgSnapshot) {
    use std::collections::BTreeMap;
    let mut by_state: BTreeMap<String, usize> = BTreeMap::new();
    for s in &pg.sessions {
        *by_state
            .entry(s.state.clone().unwrap_or_else(|| "unknown".into()))
            .or_default() += 1;
    }
    let counts: Vec<String> = by_state.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    println!("{} sessions · {}", pg.sessions.len(), counts.join(" · "));
    let rows = pg
        .sessions
        .iter()
        .map(|s| {
            vec![
                s.pid.to_string(),
                s.user.clone().unwrap_or_default(),
                s.application.clone(),
                s.state.clone().unwrap_or_default(),
                match (&s.wait_event_type, &s.wait_event) {
                    (Some(t), Some(e)) => format!("{t}/{e}"),
                    _ => "-".into(),
                },
                s.xact_ms.map_or("-".into(), duration_ms),
                s.query_ms.map_or("-".into(), duration_ms),
                if s.blocked_by.is_empty() {
                    "-".into()
                } else {
                    format!("{:?}", s.blocked_by)
                },
                one_line(&s.query, 60),
            ]
        })
        .collect();
    table(
        &[
            "PID",
            "USER",
            "APPLICATION",
            "STATE",
            "WAIT",
            "XACT AGE",
            "QUERY AGE",
            "BLOCKED BY",
            "QUERY",
        ],
        rows,
    );
}

fn locks(pg: &PgSnapshot) {
    let tree = lock_tree(&pg.sessions);
    if tree.is_empty() {
        println!("No session is waiting for a lock.");
        return;
    }
    for (depth, pid) in tree {
        let s = pg.sessions.iter().find(|s| s.pid == pid);
        let what = s.map_or(String::from("(not visible)"), |s| {
            format!(
                "{} {} {} · {}",
                s.state.clone().unwrap_or_default(),
                s.application,
                s.xact_ms.map_or(String::new(), |x| format!("xact {}", duration_ms(x))),
                one_line(&s.query, 70)
            )
        });
        let lead = if depth == 0 {
            String::new()
        } else {
            format!("{}└─ waits: ", "   ".repeat(depth - 1))
        };
        println!("{lead}pid {pid} {what}");
    }
}

fn top(pg: &PgSnapshot) {
    if let Some(p) = &pg.top.problem {
        println!("{}", p.render());
        return;
    }
    let rows = pg
        .top
        .rows
        .iter()
        .map(|q| {
            vec![
                duration_ms(q.total_ms),
                format!("{:.1} %", q.share_pct),
                q.calls.to_string(),
                duration_ms(q.mean_ms),
                duration_ms(q.stddev_ms),
                q.rows.to_string(),
                pct(q.hit_pct),
                one_line(&q.query, 70),
            ]
        })
        .collect();
    table(
        &[
            "TOTAL",
            "SHARE",
            "CALLS",
            "MEAN",
            "STDDEV",
            "ROWS",
            "CACHE HIT",
            "QUERY",
        ],
        rows,
    );
}

fn cache(pg: &PgSnapshot) {
    let rows = pg
        .databases
        .iter()
        .map(|d| {
            vec![
                d.name.clone(),
                bytes(d.size_bytes),
                pct(d.cache_hit_pct),
                word(d.cache_status).into(),
                d.deadlocks.to_string(),
                d.xid_age.to_string(),
            ]
        })
        .collect();
    table(
        &["DATABASE", "SIZE", "CACHE HIT", "VS 99 %", "DEADLOCKS", "XID AGE"],
        rows,
    );
    println!();
    let rows = pg
        .tables
        .iter()
        .map(|t| {
            vec![
                format!("{}.{}", t.schema, t.name),
                bytes(t.total_bytes),
                t.rows_estimate.to_string(),
                pct(t.heap_hit_pct),
                pct(t.index_hit_pct),
                t.seq_scans.to_string(),
                t.idx_scans.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "TABLE",
            "TOTAL SIZE",
            "ROWS (EST.)",
            "HEAP HIT",
            "INDEX HIT",
            "SEQ SCANS",
            "IDX SCANS",
        ],
        rows,
    );
    println!();
    let rows = pg
        .indexes
        .iter()
        .map(|i| {
            vec![
                format!("{}.{}", i.schema, i.name),
                i.table.clone(),
                bytes(i.size_bytes),
                i.scans.to_string(),
                pct(i.hit_pct),
            ]
        })
        .collect();
    table(&["INDEX", "TABLE", "SIZE", "SCANS", "CACHE HIT"], rows);
}

pub fn print_redis(r: &crate::observe::redis::RedisStats) {
    println!(
        "Redis {} at {} ({}) · hit rate {} against {:.0} % ({}) · {} hits, {} misses · {} evicted, {} expired",
        r.version,
        r.target,
        r.tier,
        pct(r.hit_rate_pct),
        r.hit_target_pct,
        word(r.hit_status),
        r.hits,
        r.misses,
        r.evicted_keys,
        r.expired_keys
    );
    println!(
        "memory {} of {} ({}, policy {}) · {} ops/s · {} clients",
        bytes(r.used_memory),
        if r.maxmemory == 0 {
            "no limit".to_owned()
        } else {
            bytes(r.maxmemory)
        },
        pct(r.memory_pct),
        r.maxmemory_policy,
        r.ops_per_sec,
        r.connected_clients
    );
    let rows = r
        .keyspace
        .iter()
        .map(|k| {
            vec![
                k.db.clone(),
                k.keys.to_string(),
                k.expires.to_string(),
                duration_ms(k.avg_ttl_ms as f64),
            ]
        })
        .collect();
    table(&["DB", "KEYS", "WITH TTL", "AVG TTL"], rows);
}

/// Print PgBouncer's SHOW tables (all, or the one named by `what`).
pub fn print_pgbouncer(
    format: Format,
    st: &crate::observe::pgbouncer::PgBouncerStatus,
    what: Option<&str>,
) -> Result<i32, crate::error::ApiError> {
    let all = [
        ("pools", &st.pools),
        ("stats", &st.stats),
        ("clients", &st.clients),
        ("servers", &st.servers),
        ("databases", &st.databases),
        ("config", &st.config),
    ];
    let chosen: Vec<_> = match what {
        None => all.iter().collect(),
        Some(w) => {
            let found: Vec<_> = all.iter().filter(|(n, _)| *n == w).collect();
            if found.is_empty() {
                return Err(crate::error::ApiError::invalid(format!(
                    "'{w}' is not one of pools, stats, clients, servers, databases, config"
                )));
            }
            found
        }
    };
    if format == Format::Json {
        let v: serde_json::Map<String, serde_json::Value> = chosen
            .iter()
            .map(|(n, t)| ((*n).to_owned(), serde_json::to_value(t).expect("serialises")))
            .collect();
        let mut out = json!({ "version": st.version, "target": st.target });
        out.as_object_mut().expect("object").extend(v);
        println!("{}", serde_json::to_string_pretty(&out).expect("serialises"));
        return Ok(0);
    }
    println!("{} at {}", st.version, st.target);
    for (name, t) in chosen {
        println!("\nSHOW {}: {} rows", name.to_uppercase(), t.rows.len());
        let headers: Vec<String> = t.columns.iter().map(|c| c.to_uppercase()).collect();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let rows = t
            .rows
            .iter()
            .map(|r| r.iter().map(|c| c.clone().unwrap_or_default()).collect())
            .collect();
        table(&headers, rows);
    }
    Ok(0)
}

pub fn print_pools(pools: &[PoolMetrics]) {
    if pools.is_empty() {
        println!("No pools yet: dbdeck opens them when it first connects.");
        return;
    }
    let q = |v: Option<f64>| v.map_or("-".into(), duration_ms);
    let rows = pools
        .iter()
        .map(|p| {
            vec![
                p.env.clone(),
                p.role.to_string(),
                format!("{}/{}", p.in_use, p.max),
                p.idle.to_string(),
                p.waiting.to_string(),
                format!("{:.1} %", p.utilisation_pct),
                format!(
                    "{} / {} / {}",
                    q(p.acquire_p50_ms),
                    q(p.acquire_p95_ms),
                    q(p.acquire_p99_ms)
                ),
                p.acquired.to_string(),
                p.timeouts.to_string(),
                p.errors.to_string(),
                format!("{:?}", p.breaker).to_lowercase(),
            ]
        })
        .collect();
    table(
        &[
            "ENV",
            "ROLE",
            "IN USE",
            "IDLE",
            "WAITING",
            "UTIL",
            "ACQUIRE P50/P95/P99",
            "ACQUIRED",
            "TIMEOUTS",
            "ERRORS",
            "BREAKER",
        ],
        rows,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_like_a_person_writes_them() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(duration_ms(340.2), "340 ms");
        assert_eq!(duration_ms(130_000.0), "2 min 10 s");
        assert_eq!(duration_ms(0.42), "0.42 ms");
    }
}
