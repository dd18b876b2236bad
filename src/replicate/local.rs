//! What dbdeck does to a data directory on this machine: stop and start its server, rewind it,
//! turn it into a standby, and tell how much room its disk has.
//!
//! PostgreSQL refuses to run as root; when dbdeck runs as root these commands run as the owner
//! of the data directory (through `setpriv`), with a clean environment so nothing of dbdeck's
//! leaks into the server.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use crate::error::{ApiError, ErrorCode};

/// Where pg_ctl and pg_rewind are: the configured directory, else the newest
/// /usr/lib/postgresql/N/bin that has pg_ctl, else PATH.
pub fn pg_bin(configured: Option<&str>) -> PathBuf {
    if let Some(c) = configured {
        return PathBuf::from(c);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b).unwrap_or_default()
}

/// A data directory dbdeck was given, with the binaries to drive it.
#[derive(Debug, Clone)]
pub struct DataDir {
    pub path: PathBuf,
    pub bin: PathBuf,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> ApiError {
    ApiError::new(ErrorCode::Internal, format!("{what} {}: {e}", path.display()))
}

impl DataDir {
    pub fn new(path: &str, bin: PathBuf) -> Self {
        DataDir {
            path: PathBuf::from(path),
            bin,
        }
    }

    /// A command for `prog` run as the data directory's owner.
    fn command(&self, prog: &str) -> Result<Command, ApiError> {
        let meta =
            std::fs::metadata(&self.path).map_err(|e| io_err("cannot read the data directory", &self.path, e))?;
        let exe = if self.bin.as_os_str().is_empty() {
            PathBuf::from(prog)
        } else {
            self.bin.join(prog)
        };
        let me = std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(u32::MAX);
        let mut c = if me == 0 && meta.uid() != 0 {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={}", meta.uid()))
                .arg(format!("--regid={}", meta.gid()))
                .arg("--clear-groups")
                .arg(exe);
            c
        } else {
            Command::new(exe)
        };
        c.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LC_ALL", "C")
            .current_dir("/")
            .kill_on_drop(true);
        Ok(c)
    }

    async fn run(&self, mut c: Command, what: &str, timeout: Duration) -> Result<String, ApiError> {
        let out = tokio::time::timeout(timeout, c.output())
            .await
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::Timeout,
                    format!("{what} did not finish within {} s", timeout.as_secs()),
                )
            })?
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("{what} could not run: {e}")))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(ApiError::new(
                ErrorCode::ServerError,
                format!("{what} failed: {}", text.trim()),
            ))
        }
    }

    /// Whether a server is running on this data directory (`pg_ctl status`).
    pub async fn running(&self) -> Result<bool, ApiError> {
        let mut c = self.command("pg_ctl")?;
        c.arg("status").arg("-D").arg(&self.path);
        let out = c
            .output()
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("pg_ctl status could not run: {e}")))?;
        // 0 running, 3 not running, 4 no data directory.
        match out.status.code() {
            Some(0) => Ok(true),
            Some(3) => Ok(false),
            _ => Err(ApiError::new(
                ErrorCode::InvalidInput,
                format!(
                    "{} is not a data directory dbdeck can use: {}",
                    self.path.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            )),
        }
    }

    /// Stop the server (fast: sessions are ended, a shutdown checkpoint is written and sent to
    /// the standbys that are still connected). `pg_ctl stop` is told not to wait, and the
    /// postmaster's pid file is watched every 10 ms instead: pg_ctl's own wait looks ten times
    /// a second, which put up to 100 ms into every switchover's write outage.
    pub async fn stop(&self) -> Result<(), ApiError> {
        let mut c = self.command("pg_ctl")?;
        c.arg("stop").arg("-D").arg(&self.path).args(["-m", "fast", "-W"]);
        self.run(c, "pg_ctl stop", Duration::from_secs(30)).await?;
        let pidfile = self.path.join("postmaster.pid");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while pidfile.exists() {
            if std::time::Instant::now() > deadline {
                return Err(ApiError::new(
                    ErrorCode::Timeout,
                    format!(
                        "the server on {} was still running 60 s after pg_ctl stop",
                        self.path.display()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Where the last checkpoint record starts (`pg_controldata`): after a clean stop, the
    /// shutdown checkpoint, the last record this server wrote.
    pub async fn checkpoint_lsn(&self) -> Result<super::Lsn, ApiError> {
        let mut c = self.command("pg_controldata")?;
        c.arg("-D").arg(&self.path);
        let out = self.run(c, "pg_controldata", Duration::from_secs(30)).await?;
        out.lines()
            .find_map(|l| l.strip_prefix("Latest checkpoint location:"))
            .and_then(|v| super::parse_lsn(v.trim()))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Internal,
                    "pg_controldata named no latest checkpoint location",
                )
            })
    }

    /// Start the server with the options it last ran with (`postmaster.opts`), logging to
    /// `dbdeck-start.log` in the data directory.
    pub async fn start(&self) -> Result<(), ApiError> {
        let opts = std::fs::read_to_string(self.path.join("postmaster.opts"))
            .map_err(|e| io_err("cannot read the last start options in", &self.path, e))?;
        let args = postmaster_args(&opts);
        let mut c = self.command("pg_ctl")?;
        c.arg("start")
            .arg("-D")
            .arg(&self.path)
            .arg("-l")
            .arg(self.path.join("dbdeck-start.log"))
            .args(["-w", "-t", "60"]);
        if !args.is_empty() {
            c.arg("-o").arg(shell_join(&args));
        }
        self.run(c, "pg_ctl start", Duration::from_secs(70)).await.map(|_| ())
    }

    /// Rewind this (stopped) data directory to the timeline of `source` (a libpq conninfo;
    /// its password, if any, goes through the environment, not the command line).
    pub async fn rewind(&self, source: &str, password: Option<&str>) -> Result<String, ApiError> {
        let mut c = self.command("pg_rewind")?;
        c.arg("-D")
            .arg(&self.path)
            .arg(format!("--source-server={source}"))
            .arg("--no-sync");
        if let Some(p) = password {
            c.env("PGPASSWORD", p);
        }
        self.run(c, "pg_rewind", Duration::from_secs(600)).await
    }

    /// Make the directory start as a standby of `conninfo` (through `slot` when given):
    /// `standby.signal`, and `primary_conninfo` / `primary_slot_name` in
    /// postgresql.auto.conf. dbdeck's fence (`default_transaction_read_only`) is removed.
    pub fn make_standby(&self, conninfo: &str, slot: Option<&str>) -> Result<(), ApiError> {
        let auto = self.path.join("postgresql.auto.conf");
        let old = std::fs::read_to_string(&auto).unwrap_or_default();
        let mut out: Vec<String> = old
            .lines()
            .filter(|l| {
                let key = l.split('=').next().unwrap_or("").trim();
                !matches!(
                    key,
                    "primary_conninfo" | "primary_slot_name" | "default_transaction_read_only"
                )
            })
            .map(str::to_owned)
            .collect();
        out.push(format!("primary_conninfo = {}", super::conninfo::sql_literal(conninfo)));
        if let Some(s) = slot {
            out.push(format!("primary_slot_name = {}", super::conninfo::sql_literal(s)));
        }
        write_keeping_owner(&auto, &(out.join("\n") + "\n"))?;
        write_keeping_owner(&self.path.join("standby.signal"), "")?;
        Ok(())
    }

    /// `primary_conninfo` as written in postgresql.auto.conf (after a rewind, the new
    /// primary's own, which names the replication user it streamed with).
    pub fn auto_conf_conninfo(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.path.join("postgresql.auto.conf")).ok()?;
        text.lines().rev().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == "primary_conninfo").then(|| unquote_conf(v.trim()))
        })
    }

    /// Free bytes of the file system that holds pg_wal.
    pub async fn disk_free(&self) -> Result<i64, ApiError> {
        let wal = self.path.join("pg_wal");
        let out = Command::new("df")
            .args(["-B1", "--output=avail"])
            .arg(&wal)
            .output()
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("df could not run: {e}")))?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Internal,
                    format!(
                        "df could not read {}: {}",
                        wal.display(),
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                )
            })
    }
}

/// Write `text` to `path` through a temporary file renamed into place, keeping the owner and
/// mode of the file it replaces (or of the directory, for a new file).
pub fn write_keeping_owner(path: &Path, text: &str) -> Result<(), ApiError> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let like = std::fs::metadata(path)
        .or_else(|_| std::fs::metadata(dir))
        .map_err(|e| io_err("cannot read", path, e))?;
    let tmp = dir.join(format!(
        ".{}.dbdeck-tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    std::fs::write(&tmp, text).map_err(|e| io_err("cannot write", &tmp, e))?;
    let mode = if like.is_dir() { 0o600 } else { like.mode() & 0o7777 };
    let done = std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .and_then(|_| std::os::unix::fs::chown(&tmp, Some(like.uid()), Some(like.gid())))
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = done {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err("cannot replace", path, e));
    }
    Ok(())
}

/// The arguments of `postmaster.opts` after the program, without `-D DIR` (pg_ctl adds it).
pub fn postmaster_args(opts: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for ch in opts.trim().chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    args.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        args.push(cur);
    }
    let mut out = Vec::new();
    let mut it = args.into_iter().skip(1);
    while let Some(a) = it.next() {
        if a == "-D" {
            it.next();
            continue;
        }
        out.push(a);
    }
    out
}

fn shell_join(args: &[String]) -> String {
    args.iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn unquote_conf(v: &str) -> String {
    match v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'"),
        None => v.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postmaster_opts_keep_everything_but_the_data_directory() {
        let opts = "/usr/lib/postgresql/15/bin/postgres \"-D\" \"/tmp/x/data\" \"-p\" \"5433\" \"-c\" \"listen_addresses=127.0.0.1\"\n";
        assert_eq!(
            postmaster_args(opts),
            ["-p", "5433", "-c", "listen_addresses=127.0.0.1"]
        );
        assert_eq!(shell_join(&["a b".into(), "it's".into()]), "'a b' 'it'\\''s'");
        assert_eq!(unquote_conf("'host=a password=''x'''"), "host=a password='x'");
    }
}
