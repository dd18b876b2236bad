//! PgBouncer's part in a switchover: PAUSE before the old primary is fenced, point its
//! `[databases]` at the new primary (rewrite pgbouncer.ini, RELOAD), RESUME.

use std::path::PathBuf;
use std::time::Duration;

use super::conninfo::Conninfo;
use super::same_host;
use crate::error::{ApiError, ErrorCode};
use crate::observe::pgbouncer::{self, PgBouncerCommand};
use crate::secrets::Sensitive;

/// How long PAUSE may wait for running transactions before the switchover gives up.
pub const PAUSE_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
pub struct Bouncer {
    pub url: String,
    pub password: Option<Sensitive<String>>,
    pub timeout: Duration,
    pub ini: Option<PathBuf>,
}

impl Bouncer {
    async fn send(&self, cmd: PgBouncerCommand, limit: Duration) -> Result<(), ApiError> {
        match tokio::time::timeout(
            limit,
            pgbouncer::command(&self.url, self.password.as_ref(), self.timeout, cmd, None),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(ApiError::new(
                ErrorCode::Timeout,
                format!(
                    "PgBouncer did not finish {} within {} s",
                    cmd.sql(None).unwrap_or_default(),
                    limit.as_secs()
                ),
            )
            .with_hint("a long transaction through PgBouncer holds PAUSE back; end it, or switch over later")),
        }
    }

    /// Wait for running transactions to end, then hold new queries.
    pub async fn pause(&self) -> Result<(), ApiError> {
        self.send(PgBouncerCommand::Pause, PAUSE_TIMEOUT).await
    }

    pub async fn resume(&self) -> Result<(), ApiError> {
        self.send(PgBouncerCommand::Resume, self.timeout + Duration::from_secs(5))
            .await
    }

    /// Point every database of pgbouncer.ini that goes to `from` (`host:port`) at `to`, and
    /// RELOAD. Returns the databases re-pointed. Without an ini file, says so.
    pub async fn repoint(&self, from: (&str, u16), to: (&str, u16)) -> Result<Vec<String>, ApiError> {
        let Some(ini) = &self.ini else {
            return Err(ApiError::invalid(
                "dbdeck was not given PgBouncer's ini file (replication.pgbouncer_ini), so it cannot re-point it",
            ));
        };
        let text = std::fs::read_to_string(ini)
            .map_err(|e| ApiError::invalid(format!("cannot read {}: {e}", ini.display())))?;
        let (new, names) = repoint_ini(&text, from, to).map_err(ApiError::invalid)?;
        if names.is_empty() {
            return Ok(names);
        }
        super::local::write_keeping_owner(ini, &new)?;
        self.send(PgBouncerCommand::Reload, self.timeout + Duration::from_secs(5))
            .await?;
        Ok(names)
    }
}

/// Rewrite the `[databases]` entries of a pgbouncer.ini that connect to `from` so they connect
/// to `to`. Everything else is kept byte for byte.
pub fn repoint_ini(text: &str, from: (&str, u16), to: (&str, u16)) -> Result<(String, Vec<String>), String> {
    let mut out = String::with_capacity(text.len());
    let mut names = Vec::new();
    let mut in_databases = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            in_databases = t.eq_ignore_ascii_case("[databases]");
            out.push_str(line);
            continue;
        }
        if !in_databases || t.is_empty() || t.starts_with(';') || t.starts_with('#') {
            out.push_str(line);
            continue;
        }
        let Some((name, value)) = t.split_once('=') else {
            out.push_str(line);
            continue;
        };
        let mut ci = Conninfo::parse(value.trim()).map_err(|e| format!("pgbouncer.ini line {}: {e}", i + 1))?;
        let host = ci.get("host").unwrap_or("localhost").to_owned();
        let port: u16 = ci.get("port").and_then(|p| p.parse().ok()).unwrap_or(5432);
        if port == from.1 && same_host(&host, from.0) {
            ci.set("host", to.0);
            ci.set("port", &to.1.to_string());
            let end = if line.ends_with('\n') { "\n" } else { "" };
            out.push_str(&format!("{} = {ci}{end}", name.trim()));
            names.push(name.trim().to_owned());
        } else {
            out.push_str(line);
        }
    }
    Ok((out, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repoints_only_the_old_primarys_databases() {
        let ini = "[databases]\n; comment\napp = host=127.0.0.1 port=5433 dbname=app user=postgres\n\
                   other = host=db9 port=5433 dbname=x\nlocal = dbname=y\n\n[pgbouncer]\nlisten_port = 6432\n";
        let (out, names) = repoint_ini(ini, ("localhost", 5433), ("127.0.0.1", 5434)).unwrap();
        assert_eq!(names, ["app"]);
        assert!(out.contains("app = host=127.0.0.1 port=5434 dbname=app user=postgres\n"));
        assert!(out.contains("other = host=db9 port=5433 dbname=x\n"));
        assert!(out.ends_with("[pgbouncer]\nlisten_port = 6432\n"));
        let (_, names) = repoint_ini(ini, ("localhost", 5432), ("db2", 5432)).unwrap();
        assert_eq!(names, ["local"]);
        assert!(repoint_ini("[databases]\nbad = host='x\n", ("x", 1), ("y", 2)).is_err());
    }
}
