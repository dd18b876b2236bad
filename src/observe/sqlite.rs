//! The SQLite snapshot: what SQLite can say about itself — file and page sizes, free pages,
//! cache and journal settings, a quick integrity check, and every table with its row count.

use std::time::Instant;

use serde::Serialize;
use sqlx::{Row, SqliteConnection};
use ts_rs::TS;

use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Serialize, TS)]
pub struct SqliteSnapshot {
    #[ts(type = "number")]
    pub ts_ms: i64,
    pub took_ms: f64,
    pub queries: u32,
    pub version: String,
    #[ts(type = "number")]
    pub page_size: i64,
    #[ts(type = "number")]
    pub page_count: i64,
    #[ts(type = "number")]
    pub freelist_count: i64,
    #[ts(type = "number")]
    pub size_bytes: i64,
    /// PRAGMA cache_size: pages when positive, KiB when negative.
    #[ts(type = "number")]
    pub cache_size: i64,
    pub journal_mode: String,
    /// `ok`, or the first problems PRAGMA quick_check found.
    pub integrity: String,
    pub tables: Vec<SqliteTable>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SqliteTable {
    pub name: String,
    #[ts(type = "number")]
    pub rows: i64,
    pub indexes: Vec<String>,
    /// Bytes of the table's own pages (from the dbstat table, when SQLite has it).
    #[ts(type = "number | null")]
    pub table_bytes: Option<i64>,
    /// Bytes of all its indexes' pages.
    #[ts(type = "number | null")]
    pub index_bytes: Option<i64>,
}

fn fail(e: sqlx::Error) -> ApiError {
    ApiError::new(
        ErrorCode::ServerError,
        format!("while reading the SQLite database: {e}"),
    )
}

pub async fn snapshot(conn: &mut SqliteConnection) -> Result<SqliteSnapshot, ApiError> {
    let started = Instant::now();
    let ts_ms = crate::store::now_ms();
    let mut queries = 1;
    let r = sqlx::query(
        "SELECT sqlite_version(), (SELECT page_size FROM pragma_page_size), (SELECT page_count FROM pragma_page_count),
                (SELECT freelist_count FROM pragma_freelist_count), (SELECT cache_size FROM pragma_cache_size),
                (SELECT journal_mode FROM pragma_journal_mode)",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(fail)?;
    let (page_size, page_count): (i64, i64) = (r.get(1), r.get(2));
    queries += 1;
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA quick_check(5)")
        .fetch_all(&mut *conn)
        .await
        .map_err(fail)?;
    queries += 1;
    let names = sqlx::query(
        "SELECT m.name, (SELECT group_concat(i.name, ',') FROM sqlite_master i WHERE i.type = 'index' AND i.tbl_name = m.name)
         FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(fail)?;
    // Page sizes per table and index; dbstat is compiled into the bundled SQLite, but a
    // system SQLite may lack it, so its absence only leaves the sizes empty.
    queries += 1;
    let sizes: std::collections::HashMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")
            .fetch_all(&mut *conn)
            .await
            .map(|v| v.into_iter().collect())
            .unwrap_or_default();
    let mut tables = Vec::new();
    for row in names {
        let name: String = row.get(0);
        // Identifiers cannot be bound; quote it (doubling any quote inside).
        let sql = format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\""));
        queries += 1;
        let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await
            .map_err(fail)?;
        let indexes: Vec<String> = row
            .get::<Option<String>, _>(1)
            .map(|s| s.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        let (table_bytes, index_bytes) = if sizes.is_empty() {
            (None, None)
        } else {
            let idx: i64 = indexes.iter().filter_map(|i: &String| sizes.get(i)).sum();
            (sizes.get(&name).copied(), Some(idx))
        };
        tables.push(SqliteTable {
            name,
            rows,
            indexes,
            table_bytes,
            index_bytes,
        });
    }
    Ok(SqliteSnapshot {
        ts_ms,
        took_ms: (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0,
        queries,
        version: r.get(0),
        page_size,
        page_count,
        freelist_count: r.get(3),
        size_bytes: page_size * page_count,
        cache_size: r.get(4),
        journal_mode: r.get(5),
        integrity: if problems == ["ok"] {
            "ok".into()
        } else {
            problems.join("; ")
        },
        tables,
    })
}
