//! PgBouncer's admin console: SHOW POOLS / STATS / CLIENTS / SERVERS / DATABASES / CONFIG,
//! and the control commands PAUSE, RESUME, RELOAD and RECONNECT.
//!
//! The console speaks only the simple query protocol and accepts few startup parameters, so
//! dbdeck connects without `extra_float_digits` and sends plain text. Results are kept as
//! tables of text, as PgBouncer's columns differ between versions.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Column, ConnectOptions, Connection, PgConnection, Row};
use ts_rs::TS;

use crate::env::redact_url;
use crate::error::{ApiError, ErrorCode};
use crate::probe::classify_pg;
use crate::secrets::Sensitive;

/// One SHOW result.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AdminTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PgBouncerStatus {
    #[ts(type = "number")]
    pub ts_ms: i64,
    pub target: String,
    pub version: String,
    pub pools: AdminTable,
    pub stats: AdminTable,
    pub clients: AdminTable,
    pub servers: AdminTable,
    pub databases: AdminTable,
    pub config: AdminTable,
}

/// The control commands dbdeck offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PgBouncerCommand {
    /// Wait for running transactions, then hold new queries (all databases, or one).
    Pause,
    Resume,
    /// Re-read the configuration file.
    Reload,
    /// Close server connections when they are next released (after a failover).
    Reconnect,
}

impl PgBouncerCommand {
    pub fn sql(self, database: Option<&str>) -> Result<String, ApiError> {
        let verb = match self {
            PgBouncerCommand::Pause => "PAUSE",
            PgBouncerCommand::Resume => "RESUME",
            PgBouncerCommand::Reload => return Ok("RELOAD".into()),
            PgBouncerCommand::Reconnect => "RECONNECT",
        };
        match database {
            None => Ok(verb.into()),
            // Database names go into the command text: allow only plain identifiers.
            Some(db) if !db.is_empty() && db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => {
                Ok(format!("{verb} {db}"))
            }
            Some(db) => Err(ApiError::invalid(format!("'{db}' is not a PgBouncer database name"))),
        }
    }
}

async fn connect(url: &str, password: Option<&Sensitive<String>>, timeout: Duration) -> Result<PgConnection, ApiError> {
    let target = redact_url(url);
    let mut opts = PgConnectOptions::from_str(url)
        .map_err(|e| ApiError::invalid(format!("{target}: {e}")))?
        .extra_float_digits(None)
        .application_name("dbdeck")
        .disable_statement_logging();
    if let Some(p) = password {
        opts = opts.password(p.expose());
    }
    match tokio::time::timeout(timeout, opts.connect()).await {
        Ok(r) => r.map_err(|e| pgbouncer_error(e, &target)),
        Err(_) => Err(ApiError::new(
            ErrorCode::Timeout,
            format!("PgBouncer at {target} did not answer within {} ms", timeout.as_millis()),
        )),
    }
}

fn pgbouncer_error(e: sqlx::Error, target: &str) -> ApiError {
    let mut err = classify_pg(e, target);
    if err.code == ErrorCode::AuthFailed {
        err = err.with_hint(
            "PgBouncer checks the admin user against its auth_file (or auth_query); store the right password with \
             `dbdeck env set-password ENV --role pgbouncer --password-stdin`, and make sure the user is in admin_users",
        );
    }
    err
}

async fn show(conn: &mut PgConnection, what: &str, target: &str) -> Result<AdminTable, ApiError> {
    let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SHOW {what}")))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| pgbouncer_error(e, target))?;
    let columns = rows
        .first()
        .map(|r| r.columns().iter().map(|c| c.name().to_owned()).collect())
        .unwrap_or_default();
    let rows = rows
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.try_get_unchecked::<Option<String>, _>(i).ok().flatten())
                .collect()
        })
        .collect();
    Ok(AdminTable { columns, rows })
}

pub async fn status(
    url: &str,
    password: Option<&Sensitive<String>>,
    timeout: Duration,
) -> Result<PgBouncerStatus, ApiError> {
    let target = redact_url(url);
    let mut conn = connect(url, password, timeout).await?;
    let version = show(&mut conn, "VERSION", &target).await?;
    let status = PgBouncerStatus {
        ts_ms: crate::store::now_ms(),
        target: target.clone(),
        version: version
            .rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .unwrap_or_default(),
        pools: show(&mut conn, "POOLS", &target).await?,
        stats: show(&mut conn, "STATS", &target).await?,
        clients: show(&mut conn, "CLIENTS", &target).await?,
        servers: show(&mut conn, "SERVERS", &target).await?,
        databases: show(&mut conn, "DATABASES", &target).await?,
        config: show(&mut conn, "CONFIG", &target).await?,
    };
    let _ = conn.close().await;
    Ok(status)
}

pub async fn command(
    url: &str,
    password: Option<&Sensitive<String>>,
    timeout: Duration,
    cmd: PgBouncerCommand,
    database: Option<&str>,
) -> Result<(), ApiError> {
    let target = redact_url(url);
    let sql = cmd.sql(database)?;
    let mut conn = connect(url, password, timeout).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .map_err(|e| pgbouncer_error(e, &target))?;
    let _ = conn.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_take_only_plain_database_names() {
        assert_eq!(PgBouncerCommand::Pause.sql(None).unwrap(), "PAUSE");
        assert_eq!(
            PgBouncerCommand::Reconnect.sql(Some("app_db")).unwrap(),
            "RECONNECT app_db"
        );
        assert_eq!(PgBouncerCommand::Reload.sql(Some("ignored")).unwrap(), "RELOAD");
        assert!(PgBouncerCommand::Pause.sql(Some("x; SHUTDOWN")).is_err());
    }
}
