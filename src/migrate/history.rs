//! The history tables migration tools keep, read and written the way each tool does.
//!
//! - `_sqlx_migrations` (sqlx): version BIGINT, description, installed_on, success, checksum
//!   (SHA-384 bytes), execution_time in nanoseconds.
//! - `flyway_schema_history` (Flyway): installed_rank, version (NULL for repeatables),
//!   description, type (`SQL`, `UNDO_SQL`), script, checksum (CRC-32, INTEGER), installed_by,
//!   installed_on, execution_time in milliseconds, success.
//! - `dbdeck_schema_history` (dbdeck's plain folders): the sqlx shape with a SHA-256 checksum
//!   and milliseconds.
//! - `alembic_version` (Alembic): read only; its head revision is shown, never changed.

use serde::Serialize;
use sqlx::{PgConnection, Row, SqliteConnection};
use ts_rs::TS;

use super::source::{Checksum, SourceFormat, Version};
use crate::error::ApiError;
use crate::migrate::OnTarget;

/// A connection to the database being migrated.
#[derive(Debug)]
pub enum Db<'a> {
    Pg(&'a mut PgConnection),
    Sqlite(&'a mut SqliteConnection),
}

impl Db<'_> {
    pub fn is_pg(&self) -> bool {
        matches!(self, Db::Pg(_))
    }
    /// Runs statements that return nothing (one or several, simple protocol).
    pub async fn execute(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
        use sqlx::Executor;
        let q = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()));
        Ok(match self {
            Db::Pg(c) => c.execute(q).await?.rows_affected(),
            Db::Sqlite(c) => c.execute(q).await?.rows_affected(),
        })
    }
    async fn table_exists(&mut self, table: &str) -> Result<bool, ApiError> {
        Ok(match self {
            Db::Pg(c) => sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
                .bind(table)
                .fetch_one(&mut **c)
                .await
                .on_target()?,
            Db::Sqlite(c) => {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
                    .bind(table)
                    .fetch_one(&mut **c)
                    .await
                    .on_target()?
                    > 0
            }
        })
    }
}

/// Whether a history row is an undo (Flyway `UNDO_SQL`) or a forward migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    Versioned,
    Repeatable,
    Undo,
}

/// One row of a history table.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Applied {
    /// None for a Flyway repeatable.
    pub version: Option<Version>,
    pub description: String,
    pub kind: RowKind,
    /// As the database printed it.
    pub installed_on: Option<String>,
    pub execution_ms: Option<f64>,
    /// False: the tool recorded a failure (Flyway), or a run that never finished (sqlx "dirty").
    pub success: bool,
    pub checksum: Option<Checksum>,
    /// Flyway's script file name.
    pub script: Option<String>,
    /// Flyway's installed_rank; sqlx's rows are ordered by version.
    pub rank: Option<i64>,
}

/// What the database says was applied.
#[derive(Debug, Clone, Serialize, TS)]
pub struct History {
    pub table: String,
    /// False: the table does not exist yet (nothing was ever applied by this tool).
    pub exists: bool,
    pub rows: Vec<Applied>,
    /// Alembic's head revision(s), when `alembic_version` exists: shown, never changed.
    pub alembic_head: Vec<String>,
}

fn opt_ms(v: Option<i64>, per_ms: f64) -> Option<f64> {
    v.filter(|&n| n >= 0).map(|n| n as f64 / per_ms)
}

/// Reads the history table of `format` (and Alembic's head, if any).
pub async fn read(db: &mut Db<'_>, format: SourceFormat) -> Result<History, ApiError> {
    let table = format.history_table();
    let exists = db.table_exists(table).await?;
    let mut rows = Vec::new();
    if exists {
        rows = match format {
            SourceFormat::Sqlx | SourceFormat::Plain => read_sqlx_shape(db, format).await?,
            SourceFormat::Flyway => read_flyway(db).await?,
        };
    }
    let mut alembic_head = Vec::new();
    if db.table_exists("alembic_version").await? {
        alembic_head = match db {
            Db::Pg(c) => sqlx::query_scalar("SELECT version_num::text FROM alembic_version ORDER BY 1")
                .fetch_all(&mut **c)
                .await
                .on_target()?,
            Db::Sqlite(c) => sqlx::query_scalar("SELECT CAST(version_num AS TEXT) FROM alembic_version ORDER BY 1")
                .fetch_all(&mut **c)
                .await
                .on_target()?,
        };
    }
    Ok(History {
        table: table.into(),
        exists,
        rows,
        alembic_head,
    })
}

async fn read_sqlx_shape(db: &mut Db<'_>, format: SourceFormat) -> Result<Vec<Applied>, ApiError> {
    let table = format.history_table();
    let sql = format!(
        "SELECT version, description, CAST(installed_on AS TEXT) AS installed_on, success, checksum, \
         execution_time FROM {table} ORDER BY version"
    );
    let rows: Vec<SqlxRow> = match db {
        Db::Pg(c) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut **c)
            .await
            .on_target()?
            .iter()
            .map(sqlx_row)
            .collect::<Result<_, _>>()
            .on_target()?,
        Db::Sqlite(c) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut **c)
            .await
            .on_target()?
            .iter()
            .map(sqlx_row)
            .collect::<Result<_, _>>()
            .on_target()?,
    };
    // Both record nanoseconds (dbdeck's own table keeps sqlx's shape).
    let per_ms = 1e6;
    let wrap: fn(String) -> Checksum = match format {
        SourceFormat::Plain => Checksum::Sha256,
        _ => Checksum::Sha384,
    };
    Ok(rows
        .into_iter()
        .map(
            |(version, description, installed_on, success, checksum, exec)| Applied {
                version: Version::parse(&version.to_string()),
                description,
                kind: RowKind::Versioned,
                installed_on,
                execution_ms: opt_ms(Some(exec), per_ms),
                success,
                checksum: Some(wrap(hex::encode(checksum))),
                script: None,
                rank: None,
            },
        )
        .collect())
}

/// A row of the sqlx-shaped tables: version, description, installed_on, success, checksum,
/// execution_time.
type SqlxRow = (i64, String, Option<String>, bool, Vec<u8>, i64);

/// The same decoding for both engines' rows.
fn sqlx_row<R>(r: &R) -> Result<SqlxRow, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    bool: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    String: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    Option<String>: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    Vec<u8>: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
{
    Ok((
        r.try_get(0usize)?,
        r.try_get(1usize)?,
        r.try_get(2usize)?,
        r.try_get(3usize)?,
        r.try_get(4usize)?,
        r.try_get(5usize)?,
    ))
}

/// A row of `flyway_schema_history`: rank, version, description, type, script, checksum,
/// installed_on, execution_time, success.
type FlywayRow = (
    i64,
    Option<String>,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    i64,
    bool,
);

/// The same decoding for both engines' rows.
fn flyway_row<R>(r: &R) -> Result<FlywayRow, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    bool: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    String: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    Option<String>: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    Option<i64>: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
{
    Ok((
        r.try_get(0usize)?,
        r.try_get(1usize)?,
        r.try_get(2usize)?,
        r.try_get(3usize)?,
        r.try_get(4usize)?,
        r.try_get(5usize)?,
        r.try_get(6usize)?,
        r.try_get(7usize)?,
        r.try_get(8usize)?,
    ))
}

async fn read_flyway(db: &mut Db<'_>) -> Result<Vec<Applied>, ApiError> {
    let rows: Vec<FlywayRow> = match db {
        Db::Pg(c) => sqlx::query(
            "SELECT installed_rank::bigint, version, description, type, script, checksum::bigint, \
             installed_on::text, execution_time::bigint, success FROM flyway_schema_history ORDER BY installed_rank",
        )
        .fetch_all(&mut **c)
        .await
        .on_target()?
        .iter()
        .map(flyway_row)
        .collect::<Result<_, _>>()
        .on_target()?,
        Db::Sqlite(c) => sqlx::query(
            "SELECT installed_rank, version, description, type, script, checksum, CAST(installed_on AS TEXT), \
             execution_time, success FROM flyway_schema_history ORDER BY installed_rank",
        )
        .fetch_all(&mut **c)
        .await
        .on_target()?
        .iter()
        .map(flyway_row)
        .collect::<Result<_, _>>()
        .on_target()?,
    };
    Ok(rows
        .into_iter()
        .filter(|r| r.3 != "BASELINE" && r.3 != "SCHEMA")
        .map(
            |(rank, version, description, ty, script, checksum, installed_on, exec, success)| Applied {
                version: version.as_deref().and_then(Version::parse),
                description,
                kind: match (ty.as_str(), &version) {
                    ("UNDO_SQL", _) => RowKind::Undo,
                    (_, None) => RowKind::Repeatable,
                    _ => RowKind::Versioned,
                },
                installed_on,
                execution_ms: opt_ms(Some(exec), 1.0),
                success,
                checksum: checksum.map(|c| Checksum::Crc32(c as i32)),
                script: Some(script),
                rank: Some(rank),
            },
        )
        .collect())
}

/// Creates the history table of `format` if missing, with the DDL its own tool uses.
pub async fn ensure_table(db: &mut Db<'_>, format: SourceFormat) -> Result<(), ApiError> {
    let ddl = match (format, db.is_pg()) {
        (SourceFormat::Sqlx | SourceFormat::Plain, true) => format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    version BIGINT PRIMARY KEY,\n    description TEXT NOT NULL,\n    \
             installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),\n    success BOOLEAN NOT NULL,\n    checksum BYTEA NOT NULL,\n    \
             execution_time BIGINT NOT NULL\n)",
            format.history_table()
        ),
        (SourceFormat::Sqlx | SourceFormat::Plain, false) => format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    version BIGINT PRIMARY KEY,\n    description TEXT NOT NULL,\n    \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    success BOOLEAN NOT NULL,\n    \
             checksum BLOB NOT NULL,\n    execution_time BIGINT NOT NULL\n)",
            format.history_table()
        ),
        (SourceFormat::Flyway, _) => "CREATE TABLE IF NOT EXISTS flyway_schema_history (\n    \
             installed_rank INT NOT NULL PRIMARY KEY,\n    version VARCHAR(50),\n    description VARCHAR(200) NOT NULL,\n    \
             type VARCHAR(20) NOT NULL,\n    script VARCHAR(1000) NOT NULL,\n    checksum INTEGER,\n    \
             installed_by VARCHAR(100) NOT NULL,\n    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    \
             execution_time INTEGER NOT NULL,\n    success BOOLEAN NOT NULL\n)"
            .to_string(),
    };
    db.execute(&ddl).await.on_target()?;
    if format == SourceFormat::Flyway {
        db.execute("CREATE INDEX IF NOT EXISTS flyway_schema_history_s_idx ON flyway_schema_history (success)")
            .await
            .on_target()?;
    }
    Ok(())
}

/// What to record for one applied (or undone) script.
#[derive(Debug)]
pub struct Record<'a> {
    pub version: Option<&'a Version>,
    pub description: &'a str,
    pub script: &'a str,
    pub checksum: &'a Checksum,
    pub execution_ms: f64,
    pub success: bool,
    pub undo: bool,
    /// Who applied it (Flyway's installed_by).
    pub user: &'a str,
}

/// Writes one history row the way the folder's tool would, inside the caller's transaction
/// when there is one.
pub async fn record(db: &mut Db<'_>, format: SourceFormat, r: &Record<'_>) -> Result<(), ApiError> {
    match format {
        SourceFormat::Sqlx | SourceFormat::Plain => {
            let version = r
                .version
                .and_then(Version::as_i64)
                .ok_or_else(|| ApiError::invalid(format!("{} versions are integers", format.as_str())))?;
            let checksum = match r.checksum {
                Checksum::Sha384(h) | Checksum::Sha256(h) => hex::decode(h).unwrap_or_default(),
                Checksum::Crc32(_) => return Err(ApiError::invalid("a CRC-32 checksum in a sqlx history")),
            };
            let nanos = (r.execution_ms * 1e6) as i64;
            let table = format.history_table();
            if r.undo {
                // sqlx's revert deletes the row.
                let sql = format!("DELETE FROM {table} WHERE version = {version}");
                db.execute(&sql).await.on_target()?;
                return Ok(());
            }
            match db {
                Db::Pg(c) => {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO {table} (version, description, success, checksum, execution_time) \
                         VALUES ($1, $2, $3, $4, $5)"
                    )))
                    .bind(version)
                    .bind(r.description)
                    .bind(r.success)
                    .bind(checksum)
                    .bind(nanos)
                    .execute(&mut **c)
                    .await
                    .on_target()?;
                }
                Db::Sqlite(c) => {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO {table} (version, description, success, checksum, execution_time) \
                         VALUES (?, ?, ?, ?, ?)"
                    )))
                    .bind(version)
                    .bind(r.description)
                    .bind(r.success)
                    .bind(checksum)
                    .bind(nanos)
                    .execute(&mut **c)
                    .await
                    .on_target()?;
                }
            }
        }
        SourceFormat::Flyway => {
            let checksum = match r.checksum {
                Checksum::Crc32(n) => Some(*n),
                _ => None,
            };
            let version = r.version.map(|v| v.as_str().to_string());
            let ty = if r.undo { "UNDO_SQL" } else { "SQL" };
            let ms = r.execution_ms.round() as i32;
            match db {
                Db::Pg(c) => {
                    sqlx::query(
                        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, \
                         checksum, installed_by, execution_time, success) \
                         SELECT coalesce(max(installed_rank), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8 \
                         FROM flyway_schema_history",
                    )
                    .bind(version)
                    .bind(r.description)
                    .bind(ty)
                    .bind(r.script)
                    .bind(checksum)
                    .bind(r.user)
                    .bind(ms)
                    .bind(r.success)
                    .execute(&mut **c)
                    .await
                    .on_target()?;
                }
                Db::Sqlite(c) => {
                    sqlx::query(
                        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, \
                         checksum, installed_by, execution_time, success) \
                         SELECT coalesce(max(installed_rank), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ? \
                         FROM flyway_schema_history",
                    )
                    .bind(version)
                    .bind(r.description)
                    .bind(ty)
                    .bind(r.script)
                    .bind(checksum)
                    .bind(r.user)
                    .bind(ms)
                    .bind(r.success)
                    .execute(&mut **c)
                    .await
                    .on_target()?;
                }
            }
        }
    }
    Ok(())
}

/// Replaces the recorded checksum of `version` with the file's (an explicit, audited repair),
/// and clears a failed row so the migration can be applied again. Returns rows changed.
pub async fn repair(
    db: &mut Db<'_>,
    format: SourceFormat,
    version: &Version,
    checksum: &Checksum,
) -> Result<u64, ApiError> {
    let n = match format {
        SourceFormat::Sqlx | SourceFormat::Plain => {
            let v = version
                .as_i64()
                .ok_or_else(|| ApiError::invalid("sqlx versions are integers"))?;
            let bytes = match checksum {
                Checksum::Sha384(h) | Checksum::Sha256(h) => h.clone(),
                Checksum::Crc32(_) => return Err(ApiError::invalid("a CRC-32 checksum in a sqlx history")),
            };
            let table = format.history_table();
            let hexlit = if db.is_pg() {
                format!("'\\x{bytes}'::bytea")
            } else {
                format!("X'{bytes}'")
            };
            // A failed (dirty) row is removed: the migration is pending again.
            let gone = db
                .execute(&format!("DELETE FROM {table} WHERE version = {v} AND NOT success"))
                .await
                .on_target()?;
            gone + db
                .execute(&format!("UPDATE {table} SET checksum = {hexlit} WHERE version = {v}"))
                .await
                .on_target()?
        }
        SourceFormat::Flyway => {
            let Checksum::Crc32(c) = checksum else {
                return Err(ApiError::invalid("Flyway checksums are CRC-32"));
            };
            let v = version.as_str().replace('\'', "");
            let gone = db
                .execute(&format!(
                    "DELETE FROM flyway_schema_history WHERE version = '{v}' AND NOT success"
                ))
                .await
                .on_target()?;
            gone + db
                .execute(&format!(
                    "UPDATE flyway_schema_history SET checksum = {c} WHERE version = '{v}' AND type = 'SQL'"
                ))
                .await
                .on_target()?
        }
    };
    Ok(n)
}
