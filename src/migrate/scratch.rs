//! Scratch databases on the target's server: for a dry run of migrations that cannot run in a
//! transaction (a copy of the target's schema and history) and for the rollback test (empty).
//! Always dropped afterwards, whatever happened.

use std::process::Stdio;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::error::ApiError;
use crate::migrate::OnTarget;
use crate::probe::classify_pg;

/// A database made for one run.
#[derive(Debug)]
pub struct Scratch {
    pub name: String,
    admin: PgConnectOptions,
    pub options: PgConnectOptions,
}

impl Scratch {
    /// `CREATE DATABASE dbdeck_scratch_<random>` next to the target (needs CREATEDB).
    pub async fn create(target: &PgConnectOptions, label: &str) -> Result<Self, ApiError> {
        let name = format!("dbdeck_scratch_{}", hex::encode(rand::random::<[u8; 5]>()));
        let mut admin = PgConnection::connect_with(target)
            .await
            .map_err(|e| classify_pg(e, label))?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE template0"
        )))
        .execute(&mut admin)
        .await
        .map_err(|e| {
            ApiError::from(e)
                .prefixed("cannot create a scratch database (the role needs CREATEDB)")
                .with_hint("grant CREATEDB to the environment's role, or dry-run on a development environment")
        })?;
        let _ = admin.close().await;
        Ok(Scratch {
            options: target.clone().database(&name),
            admin: target.clone(),
            name,
        })
    }

    pub async fn connect(&self) -> Result<PgConnection, ApiError> {
        self.options.connect().await.map_err(|e| classify_pg(e, &self.name))
    }

    /// Drops it (ending any session still on it).
    pub async fn drop(self) -> Result<(), ApiError> {
        let mut admin = PgConnection::connect_with(&self.admin)
            .await
            .map_err(|e| classify_pg(e, &self.name))?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await
        .on_target()?;
        let _ = admin.close().await;
        Ok(())
    }
}

/// Runs `pg_dump` against a database: `--schema-only` plus the data of `data_tables` (the
/// history table), owners and grants left out. The password goes through the environment.
pub async fn dump(opts: &PgConnectOptions, password: Option<&str>, data_tables: &[&str]) -> Result<String, ApiError> {
    let mut args: Vec<String> = vec![
        "--no-owner".into(),
        "--no-privileges".into(),
        "--no-comments".into(),
        format!(
            "--host={}",
            opts.get_socket()
                .map_or(opts.get_host().to_string(), |s| s.display().to_string())
        ),
        format!("--port={}", opts.get_port()),
        format!("--username={}", opts.get_username()),
        format!("--dbname={}", opts.get_database().unwrap_or("postgres")),
    ];
    let schema = run_pg_dump(&[args.clone(), vec!["--schema-only".into()]].concat(), password).await?;
    if data_tables.is_empty() {
        return Ok(schema);
    }
    args.push("--data-only".into());
    args.push("--inserts".into());
    for t in data_tables {
        args.push(format!("--table={t}"));
    }
    let data = run_pg_dump(&args, password).await?;
    Ok(format!("{schema}\n{data}"))
}

async fn run_pg_dump(args: &[String], password: Option<&str>) -> Result<String, ApiError> {
    let mut cmd = tokio::process::Command::new("pg_dump");
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let out = cmd.output().await.map_err(|e| {
        ApiError::invalid(format!("cannot run pg_dump: {e}"))
            .with_hint("install PostgreSQL's client programs (Debian: postgresql-client)")
    })?;
    if !out.status.success() {
        return Err(ApiError::invalid(format!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    String::from_utf8(out.stdout).map_err(|_| ApiError::invalid("pg_dump wrote something that is not UTF-8"))
}

/// A schema dump with what differs between two identical schemas taken out: comments, blank
/// lines, psql meta-commands (`\restrict` keys change every dump), SET lines.
pub fn normalise(dump: &str) -> Vec<String> {
    dump.lines()
        .map(str::trim_end)
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("--")
                && !l.starts_with('\\')
                && !l.starts_with("SET ")
                && !l.starts_with("SELECT pg_catalog.set_config")
        })
        .map(str::to_string)
        .collect()
}

/// The first `limit` lines that differ between two normalised dumps, `-`/`+` prefixed.
pub fn diff(a: &[String], b: &[String], limit: usize) -> Vec<String> {
    let sa: std::collections::HashSet<&String> = a.iter().collect();
    let sb: std::collections::HashSet<&String> = b.iter().collect();
    let mut out: Vec<String> = a.iter().filter(|l| !sb.contains(l)).map(|l| format!("- {l}")).collect();
    out.extend(b.iter().filter(|l| !sa.contains(l)).map(|l| format!("+ {l}")));
    if out.is_empty() && a != b {
        out.push("~ the same lines in a different order".into());
    }
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_drops_what_changes_between_dumps() {
        let d = "--\n-- PostgreSQL database dump\n\\restrict abc\nSET statement_timeout = 0;\n\nCREATE TABLE public.a (\n    id bigint\n);\n\\unrestrict abc\n";
        assert_eq!(normalise(d), ["CREATE TABLE public.a (", "    id bigint", ");"]);
        let a = normalise("CREATE TABLE a (id bigint);\nCREATE INDEX i ON a (id);");
        let b = normalise("CREATE TABLE a (id bigint);");
        assert_eq!(diff(&a, &b, 10), ["- CREATE INDEX i ON a (id);"]);
    }
}
