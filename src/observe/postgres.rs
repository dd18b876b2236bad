//! The PostgreSQL snapshot: server and connections, sessions with who blocks whom, databases
//! (size, commits, deadlocks, buffer-cache hit ratio, transaction ID age), the largest tables
//! and the busiest indexes with their cache hit ratios, and the top statements from
//! pg_stat_statements. Eight read-only queries per poll; the two that compute sizes may run on
//! a replica when read routing chose one.

use std::time::Instant;

use serde::Serialize;
use sqlx::{PgConnection, Row};
use ts_rs::TS;

use super::{Status, hit_pct, judge};
use crate::error::{ApiError, ErrorCode};
use crate::probe::classify_pg;

/// Rows kept for the lists that can be long.
pub const LIST_LIMIT: i64 = 50;

#[derive(Debug, Clone, Serialize, TS)]
pub struct PgSnapshot {
    #[ts(type = "number")]
    pub ts_ms: i64,
    /// Wall time the poll took.
    pub took_ms: f64,
    /// Statements the poll sent (kept small on purpose).
    pub queries: u32,
    /// The environment's buffer-cache target the statuses are judged against.
    pub buffer_cache_target_pct: f64,
    /// Which node the size figures came from (`primary`, or a replica and its lag) and why.
    pub sizes_from: String,
    pub server: Server,
    pub sessions: Vec<Session>,
    pub databases: Vec<Database>,
    pub tables: Vec<Table>,
    pub indexes: Vec<Index>,
    pub top: TopQueries,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Server {
    pub version: String,
    pub in_recovery: bool,
    pub database: String,
    #[ts(type = "number")]
    pub started_ms: i64,
    pub max_connections: i32,
    pub reserved_connections: i32,
    /// Client backends connected now (all databases).
    pub connections: i32,
    /// connections / (max_connections - reserved) in percent.
    pub connection_utilisation_pct: f64,
    pub connection_status: Status,
    /// Age of the oldest unfrozen transaction ID of any database; wraparound is at ~2.1 billion.
    #[ts(type = "number")]
    pub oldest_xid_age: i64,
    pub xid_status: Status,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Session {
    pub pid: i32,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    pub client: String,
    /// active, idle, idle in transaction, …
    pub state: Option<String>,
    pub wait_event_type: Option<String>,
    pub wait_event: Option<String>,
    /// How long the current transaction has been open.
    pub xact_ms: Option<f64>,
    /// How long the current (or last) statement has been running.
    pub query_ms: Option<f64>,
    /// How long the session has been in its current state.
    pub state_ms: Option<f64>,
    pub query: String,
    /// Sessions holding locks this one waits for (pg_blocking_pids).
    pub blocked_by: Vec<i32>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Database {
    pub name: String,
    #[ts(type = "number")]
    pub size_bytes: i64,
    pub backends: i32,
    #[ts(type = "number")]
    pub commits: i64,
    #[ts(type = "number")]
    pub rollbacks: i64,
    #[ts(type = "number")]
    pub deadlocks: i64,
    #[ts(type = "number")]
    pub blocks_hit: i64,
    #[ts(type = "number")]
    pub blocks_read: i64,
    pub cache_hit_pct: Option<f64>,
    pub cache_status: Status,
    #[ts(type = "number")]
    pub xid_age: i64,
    #[ts(type = "number")]
    pub temp_bytes: i64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Table {
    #[serde(skip)]
    #[ts(skip)]
    oid: i64,
    pub schema: String,
    pub name: String,
    #[ts(type = "number")]
    pub total_bytes: i64,
    #[ts(type = "number")]
    pub table_bytes: i64,
    #[ts(type = "number")]
    pub index_bytes: i64,
    /// Planner's estimate (pg_class.reltuples); -1 when never analysed.
    #[ts(type = "number")]
    pub rows_estimate: i64,
    #[ts(type = "number")]
    pub seq_scans: i64,
    #[ts(type = "number")]
    pub idx_scans: i64,
    #[ts(type = "number")]
    pub dead_rows: i64,
    pub heap_hit_pct: Option<f64>,
    pub index_hit_pct: Option<f64>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Index {
    #[serde(skip)]
    #[ts(skip)]
    oid: i64,
    pub schema: String,
    pub table: String,
    pub name: String,
    #[ts(type = "number")]
    pub size_bytes: i64,
    #[ts(type = "number")]
    pub scans: i64,
    #[ts(type = "number")]
    pub blocks_hit: i64,
    #[ts(type = "number")]
    pub blocks_read: i64,
    pub hit_pct: Option<f64>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TopQueries {
    /// False when pg_stat_statements cannot be read; `problem` says why and how to fix it.
    pub available: bool,
    pub problem: Option<ApiError>,
    pub rows: Vec<TopQuery>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TopQuery {
    /// pg_stat_statements' queryid as text: it uses all 64 bits, which JavaScript numbers
    /// would round.
    pub query_id: String,
    /// Normalised text ($1, $2 … for constants), cut at 4,000 characters.
    pub query: String,
    #[ts(type = "number")]
    pub calls: i64,
    pub total_ms: f64,
    pub mean_ms: f64,
    pub stddev_ms: f64,
    #[ts(type = "number")]
    pub rows: i64,
    #[ts(type = "number")]
    pub shared_hit: i64,
    #[ts(type = "number")]
    pub shared_read: i64,
    pub hit_pct: Option<f64>,
    /// Share of all statements' total time, percent.
    pub share_pct: f64,
}

/// Poll a server over one connection.
/// `sizes` is where the size functions run: a replica when read routing chose one (sizes are
/// the same on a physical standby, and the most expensive part of a poll), else `conn`.
pub async fn snapshot(
    conn: &mut PgConnection,
    mut sizes: Option<&mut PgConnection>,
    sizes_from: String,
    target: &str,
    buffer_target_pct: f64,
) -> Result<PgSnapshot, ApiError> {
    let started = Instant::now();
    let ts_ms = crate::store::now_ms();
    let err = |e: sqlx::Error| classify_pg(e, target);
    let mut queries = 0;

    queries += 1;
    let s = sqlx::query(
        "SELECT current_setting('server_version'), pg_is_in_recovery(), current_database(),
                (extract(epoch FROM pg_postmaster_start_time()) * 1000)::int8,
                current_setting('max_connections')::int4,
                current_setting('superuser_reserved_connections')::int4,
                (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int4,
                (SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements')::int4,
                current_setting('shared_preload_libraries'),
                (SELECT max(age(datfrozenxid)) FROM pg_database)::int8",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(err)?;
    let (max_connections, reserved, connections): (i32, i32, i32) = (s.get(4), s.get(5), s.get(6));
    let usable = (max_connections - reserved).max(1);
    let utilisation = (f64::from(connections) * 1000.0 / f64::from(usable)).round() / 10.0;
    let oldest_xid_age: i64 = s.get::<Option<i64>, _>(9).unwrap_or(0);
    let server = Server {
        version: s.get(0),
        in_recovery: s.get(1),
        database: s.get(2),
        started_ms: s.get(3),
        max_connections,
        reserved_connections: reserved,
        connections,
        connection_utilisation_pct: utilisation,
        connection_status: match utilisation {
            u if u >= 90.0 => Status::Critical,
            u if u >= 75.0 => Status::Warn,
            _ => Status::Ok,
        },
        oldest_xid_age,
        // autovacuum_freeze_max_age defaults to 200 M; wraparound trouble starts near 2^31.
        xid_status: match oldest_xid_age {
            a if a >= 1_500_000_000 => Status::Critical,
            a if a >= 500_000_000 => Status::Warn,
            _ => Status::Ok,
        },
    };
    let pgss_installed: i32 = s.get(7);
    let preload: String = s.get(8);

    queries += 1;
    let sessions = sqlx::query(
        "SELECT pid, datname, usename, application_name, coalesce(host(client_addr), 'local socket'), state,
                wait_event_type, wait_event,
                (extract(epoch FROM now() - xact_start) * 1000)::float8,
                (extract(epoch FROM now() - query_start) * 1000)::float8,
                (extract(epoch FROM now() - state_change) * 1000)::float8,
                left(query, 2000), pg_blocking_pids(pid)
         FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
         ORDER BY xact_start NULLS LAST, pid
         LIMIT 1000",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err)?
    .iter()
    .map(|r| Session {
        pid: r.get(0),
        database: r.get(1),
        user: r.get(2),
        application: r.get::<Option<String>, _>(3).unwrap_or_default(),
        client: r.get(4),
        state: r.get(5),
        wait_event_type: r.get(6),
        wait_event: r.get(7),
        xact_ms: r.get(8),
        query_ms: r.get(9),
        state_ms: r.get(10),
        query: r.get::<Option<String>, _>(11).unwrap_or_default(),
        blocked_by: r.get(12),
    })
    .collect();

    queries += 1;
    let mut databases: Vec<Database> = sqlx::query(
        "SELECT d.datname, 0::int8, s.numbackends, s.xact_commit, s.xact_rollback, s.deadlocks,
                s.blks_hit, s.blks_read, age(d.datfrozenxid)::int8, s.temp_bytes
         FROM pg_database d JOIN pg_stat_database s ON s.datid = d.oid
         WHERE d.datallowconn AND has_database_privilege(d.oid, 'CONNECT')
         ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err)?
    .iter()
    .map(|r| {
        let (hit, read): (i64, i64) = (r.get(6), r.get(7));
        let pct = hit_pct(hit, read);
        Database {
            name: r.get(0),
            size_bytes: r.get(1),
            backends: r.get(2),
            commits: r.get(3),
            rollbacks: r.get(4),
            deadlocks: r.get(5),
            blocks_hit: hit,
            blocks_read: read,
            cache_hit_pct: pct,
            cache_status: judge(pct, buffer_target_pct),
            xid_age: r.get(8),
            temp_bytes: r.get(9),
        }
    })
    .collect();

    // The largest tables by the catalogue's page count first, so sizes are computed for at
    // most LIST_LIMIT relations however many the database has.
    queries += 1;
    let mut tables: Vec<Table> = sqlx::query(
        "WITH big AS (
            SELECT c.oid, n.nspname, c.relname, c.reltuples
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm', 'p')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
            ORDER BY c.relpages DESC, c.relname
            LIMIT $1)
         SELECT big.nspname, big.relname, big.oid::int8, 0::int8,
                0::int8, big.reltuples::int8,
                coalesce(s.seq_scan, 0), coalesce(s.idx_scan, 0), coalesce(s.n_dead_tup, 0),
                coalesce(io.heap_blks_hit, 0), coalesce(io.heap_blks_read, 0),
                coalesce(io.idx_blks_hit, 0), coalesce(io.idx_blks_read, 0)
         FROM big
         LEFT JOIN pg_stat_all_tables s ON s.relid = big.oid
         LEFT JOIN pg_statio_all_tables io ON io.relid = big.oid
         ORDER BY 2",
    )
    .bind(LIST_LIMIT)
    .fetch_all(&mut *conn)
    .await
    .map_err(err)?
    .iter()
    .map(|r| Table {
        oid: r.get(2),
        schema: r.get(0),
        name: r.get(1),
        total_bytes: 0,
        table_bytes: 0,
        index_bytes: 0,
        rows_estimate: r.get(5),
        seq_scans: r.get(6),
        idx_scans: r.get(7),
        dead_rows: r.get(8),
        heap_hit_pct: hit_pct(r.get(9), r.get(10)),
        index_hit_pct: hit_pct(r.get(11), r.get(12)),
    })
    .collect();

    queries += 1;
    let mut indexes: Vec<Index> = sqlx::query(
        "SELECT io.schemaname, io.relname, io.indexrelname, io.indexrelid::int8,
                coalesce(s.idx_scan, 0), io.idx_blks_hit, io.idx_blks_read
         FROM pg_statio_user_indexes io JOIN pg_stat_user_indexes s ON s.indexrelid = io.indexrelid
         ORDER BY io.idx_blks_hit + io.idx_blks_read DESC, io.indexrelname
         LIMIT $1",
    )
    .bind(LIST_LIMIT)
    .fetch_all(&mut *conn)
    .await
    .map_err(err)?
    .iter()
    .map(|r| Index {
        oid: r.get(3),
        schema: r.get(0),
        table: r.get(1),
        name: r.get(2),
        size_bytes: 0,
        scans: r.get(4),
        blocks_hit: r.get(5),
        blocks_read: r.get(6),
        hit_pct: hit_pct(r.get(5), r.get(6)),
    })
    .collect();

    // Sizes, on the node read routing chose. Relations are matched by OID, which a physical
    // standby shares with its primary.
    {
        let size_conn: &mut PgConnection = match sizes.as_mut() {
            Some(c) => c,
            None => &mut *conn,
        };
        queries += 1;
        let db_sizes: std::collections::HashMap<String, i64> = sqlx::query_as(
            "SELECT datname::text, pg_database_size(oid) FROM pg_database
             WHERE datallowconn AND has_database_privilege(oid, 'CONNECT')",
        )
        .fetch_all(&mut *size_conn)
        .await
        .map_err(err)?
        .into_iter()
        .collect();
        for d in &mut databases {
            d.size_bytes = db_sizes.get(&d.name).copied().unwrap_or(0);
        }
        databases.sort_by(|a, b| b.size_bytes.cmp(&a.size_bytes).then_with(|| a.name.cmp(&b.name)));
        let oids: Vec<i64> = tables
            .iter()
            .map(|t| t.oid)
            .chain(indexes.iter().map(|i| i.oid))
            .collect();
        queries += 1;
        let rel: std::collections::HashMap<i64, (i64, i64, i64)> = sqlx::query_as::<_, (i64, i64, i64, i64)>(
            "SELECT c.oid::int8, pg_total_relation_size(c.oid), pg_relation_size(c.oid), pg_indexes_size(c.oid)
             FROM pg_class c WHERE c.oid::int8 = ANY($1)",
        )
        .bind(&oids)
        .fetch_all(&mut *size_conn)
        .await
        .map_err(err)?
        .into_iter()
        .map(|(oid, total, table, idx)| (oid, (total, table, idx)))
        .collect();
        for t in &mut tables {
            let (total, table, idx) = rel.get(&t.oid).copied().unwrap_or_default();
            (t.total_bytes, t.table_bytes, t.index_bytes) = (total, table, idx);
        }
        tables.sort_by(|a, b| b.total_bytes.cmp(&a.total_bytes).then_with(|| a.name.cmp(&b.name)));
        for i in &mut indexes {
            i.size_bytes = rel.get(&i.oid).map_or(0, |r| r.1);
        }
    }

    let top = if pgss_installed == 0 {
        let preloaded = preload.split(',').any(|l| l.trim() == "pg_stat_statements");
        TopQueries {
            available: false,
            problem: Some(pgss_missing(&server.database, preloaded)),
            rows: vec![],
        }
    } else {
        queries += 1;
        match sqlx::query(
            "SELECT queryid, left(query, 4000), calls, total_exec_time, mean_exec_time, stddev_exec_time, rows,
                    shared_blks_hit, shared_blks_read, sum(total_exec_time) OVER ()
             FROM pg_stat_statements
             WHERE queryid IS NOT NULL
             ORDER BY total_exec_time DESC
             LIMIT $1",
        )
        .bind(LIST_LIMIT)
        .fetch_all(&mut *conn)
        .await
        {
            Ok(rows) => TopQueries {
                available: true,
                problem: None,
                rows: rows
                    .iter()
                    .map(|r| {
                        let total: f64 = r.get(3);
                        let all: f64 = r.get(9);
                        TopQuery {
                            query_id: r.get::<i64, _>(0).to_string(),
                            query: r.get::<Option<String>, _>(1).unwrap_or_default(),
                            calls: r.get(2),
                            total_ms: total,
                            mean_ms: r.get(4),
                            stddev_ms: r.get(5),
                            rows: r.get(6),
                            shared_hit: r.get(7),
                            shared_read: r.get(8),
                            hit_pct: hit_pct(r.get(7), r.get(8)),
                            share_pct: if all > 0.0 {
                                (total * 1000.0 / all).round() / 10.0
                            } else {
                                0.0
                            },
                        }
                    })
                    .collect(),
            },
            // Installed but not preloaded: reading it fails with "must be loaded via
            // shared_preload_libraries".
            Err(e) => TopQueries {
                available: false,
                problem: Some(match e {
                    sqlx::Error::Database(db) if db.code().as_deref() == Some("55000") => {
                        pgss_missing(&server.database, false)
                    }
                    other => classify_pg(other, target),
                }),
                rows: vec![],
            },
        }
    };

    Ok(PgSnapshot {
        ts_ms,
        took_ms: (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0,
        queries,
        buffer_cache_target_pct: buffer_target_pct,
        sizes_from,
        server,
        sessions,
        databases,
        tables,
        indexes,
        top,
    })
}

fn pgss_missing(database: &str, preloaded: bool) -> ApiError {
    if preloaded {
        ApiError::new(
            ErrorCode::NotFound,
            format!("pg_stat_statements is loaded but not installed in database '{database}'"),
        )
        .with_hint("run CREATE EXTENSION pg_stat_statements; in that database (no restart needed)")
    } else {
        ApiError::new(ErrorCode::NotFound, "pg_stat_statements is not loaded on this server").with_hint(
            "add pg_stat_statements to shared_preload_libraries in postgresql.conf, restart the server, \
             then run CREATE EXTENSION pg_stat_statements; in the database dbdeck connects to",
        )
    }
}

/// Cancel the query of a backend (or terminate the backend). Returns whether PostgreSQL found
/// and signalled it.
pub async fn signal_backend(
    conn: &mut PgConnection,
    pid: i32,
    terminate: bool,
    target: &str,
) -> Result<bool, ApiError> {
    let sql = if terminate {
        "SELECT pg_terminate_backend($1)"
    } else {
        "SELECT pg_cancel_backend($1)"
    };
    sqlx::query_scalar(sql)
        .bind(pid)
        .fetch_one(conn)
        .await
        .map_err(|e| classify_pg(e, target))
}
