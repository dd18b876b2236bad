//! The local store: one SQLite file (`store.db`) in the data directory, through sqlx.
//!
//! It keeps environments, health history and the audit chain. WAL mode lets the health
//! collector write while the UI reads, and makes a killed process leave a consistent file.
//! The schema lives in `migrations/` and is embedded in the binary. The store never holds a
//! secret: environments carry keychain account names only.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::env::Environment;
use crate::error::{ApiError, ErrorCode};
use crate::probe::HealthSample;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Cheap to clone: a handle on the pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    pub async fn open(data_dir: &Path) -> Result<Self, ApiError> {
        let path = data_dir.join("store.db");
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(ApiError::from)?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode survives a killed process; only an OS crash can lose the
            // last commits, never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::Store,
                    format!("cannot open the local store {}: {e}", path.display()),
                )
                .with_hint("check that the data directory exists and is writable")
            })?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A random id for this data directory, made once; namespaces keychain entries so two
    /// data directories never share secrets.
    pub async fn install_id(&self) -> Result<String, ApiError> {
        let fresh = hex::encode(rand::random::<[u8; 6]>());
        sqlx::query("INSERT INTO meta (key, value) VALUES ('install_id', ?) ON CONFLICT (key) DO NOTHING")
            .bind(&fresh)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT value FROM meta WHERE key = 'install_id'")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get(0))
    }

    pub async fn list_envs(&self) -> Result<Vec<Environment>, ApiError> {
        let rows = sqlx::query("SELECT doc FROM environments ORDER BY created_ms, name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| decode_env(r.get(0))).collect()
    }

    pub async fn get_env(&self, name: &str) -> Result<Environment, ApiError> {
        let row = sqlx::query("SELECT doc FROM environments WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => decode_env(r.get(0)),
            None => Err(ApiError::not_found("environment", name)
                .with_hint("`dbdeck env list` shows the environments this data directory has")),
        }
    }

    pub async fn env_exists(&self, name: &str) -> Result<bool, ApiError> {
        Ok(sqlx::query("SELECT 1 FROM environments WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    pub async fn insert_env(&self, env: &Environment) -> Result<(), ApiError> {
        let now = now_ms();
        let res = sqlx::query("INSERT INTO environments (name, doc, created_ms, updated_ms) VALUES (?, ?, ?, ?)")
            .bind(&env.name)
            .bind(encode_env(env))
            .bind(now)
            .bind(now)
            .execute(&self.pool)
            .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(ApiError::new(
                ErrorCode::AlreadyExists,
                format!("an environment named '{}' already exists", env.name),
            )
            .with_hint("choose another name, or edit the existing environment")),
            other => other.map(|_| ()).map_err(Into::into),
        }
    }

    pub async fn update_env(&self, env: &Environment) -> Result<(), ApiError> {
        let n = sqlx::query("UPDATE environments SET doc = ?, updated_ms = ? WHERE name = ?")
            .bind(encode_env(env))
            .bind(now_ms())
            .bind(&env.name)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(ApiError::not_found("environment", &env.name));
        }
        Ok(())
    }

    /// Insert or replace several environments in one transaction: all or none.
    pub async fn upsert_envs(&self, envs: &[Environment]) -> Result<(), ApiError> {
        let mut tx = self.pool.begin().await?;
        let now = now_ms();
        for env in envs {
            sqlx::query(
                "INSERT INTO environments (name, doc, created_ms, updated_ms) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (name) DO UPDATE SET doc = excluded.doc, updated_ms = excluded.updated_ms",
            )
            .bind(&env.name)
            .bind(encode_env(env))
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_env(&self, name: &str) -> Result<(), ApiError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM environments WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM health_samples WHERE env = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn insert_health(&self, s: &HealthSample) -> Result<(), ApiError> {
        sqlx::query(
            "INSERT INTO health_samples (env, ts_ms, reachable, latency_ms, role, server_version, error_code, error) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&s.env)
        .bind(s.ts_ms)
        .bind(s.reachable)
        .bind(s.latency_ms)
        .bind(&s.role)
        .bind(&s.server_version)
        .bind(&s.error_code)
        .bind(&s.error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Samples since `since_ms`, oldest first; all environments when `env` is None.
    pub async fn health_since(&self, env: Option<&str>, since_ms: i64) -> Result<Vec<HealthSample>, ApiError> {
        let rows = sqlx::query(
            "SELECT env, ts_ms, reachable, latency_ms, role, server_version, error_code, error \
             FROM health_samples WHERE ts_ms >= ? AND (? IS NULL OR env = ?) ORDER BY ts_ms",
        )
        .bind(since_ms)
        .bind(env)
        .bind(env)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(health_from_row).collect())
    }

    pub async fn latest_health(&self, env: &str) -> Result<Option<HealthSample>, ApiError> {
        let row = sqlx::query(
            "SELECT env, ts_ms, reachable, latency_ms, role, server_version, error_code, error \
             FROM health_samples WHERE env = ? ORDER BY ts_ms DESC LIMIT 1",
        )
        .bind(env)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(health_from_row))
    }

    /// Drop raw health samples older than `keep`.
    pub async fn prune_health(&self, keep: Duration) -> Result<u64, ApiError> {
        let cutoff = now_ms() - keep.as_millis() as i64;
        Ok(sqlx::query("DELETE FROM health_samples WHERE ts_ms < ?")
            .bind(cutoff)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn health_from_row(r: &sqlx::sqlite::SqliteRow) -> HealthSample {
    HealthSample {
        env: r.get(0),
        ts_ms: r.get(1),
        reachable: r.get(2),
        latency_ms: r.get(3),
        role: r.get(4),
        server_version: r.get(5),
        error_code: r.get(6),
        error: r.get(7),
    }
}

fn encode_env(env: &Environment) -> String {
    serde_json::to_string(env).expect("an Environment always serialises")
}

fn decode_env(doc: String) -> Result<Environment, ApiError> {
    serde_json::from_str(&doc).map_err(|e| {
        ApiError::new(
            ErrorCode::Store,
            format!("an environment in the local store cannot be read: {e}"),
        )
    })
}
