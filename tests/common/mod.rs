//! Test bed shared by the integration tests: temporary data directories, the `dbdeck` binary,
//! PostgreSQL clusters started from the system binaries on free loopback ports, and small
//! misbehaving TCP servers for the failure modes a real server cannot be asked to show.
#![allow(dead_code)]

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Connection;

pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
/// A PostgreSQL server with trust auth: the machine's own on 127.0.0.1:5432, or the one
/// `scripts/testbed-pg` started (scripts/test exports its URL as DBDECK_TEST_PG_URL).
pub fn local_pg() -> String {
    std::env::var("DBDECK_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The same server, another database.
pub fn local_pg_db(db: &str) -> String {
    let url = local_pg();
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b).to_owned();
    format!("{base}/{db}")
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_dbdeck")
}

/// A fresh data directory, removed when dropped.
pub struct DataDir(pub tempfile::TempDir);

impl DataDir {
    pub fn new() -> Self {
        DataDir(tempfile::Builder::new().prefix("dbdeck-test-").tempdir().unwrap())
    }
    pub fn path(&self) -> &Path {
        self.0.path()
    }
    /// Run the CLI with this data directory.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_stdin(args, None)
    }
    pub fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(bin());
        cmd.arg("--data-dir").arg(self.path()).args(args);
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run dbdeck");
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }
    /// Run with `--format json` and parse stdout; panics with stderr on a non-JSON answer.
    pub fn json(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let mut a = vec!["--format", "json"];
        a.extend_from_slice(args);
        let out = self.run(&a);
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "dbdeck {args:?} did not print JSON ({e}).\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), v)
    }
}

fn stdout_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn is_root() -> bool {
    std::env::var("USER").map(|u| u == "root").unwrap_or(false)
        || Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0\n"))
            .unwrap_or(false)
}

/// Run a PostgreSQL binary as the `postgres` OS user when we are root (initdb and postgres
/// refuse to run as root), with a clean environment so nothing leaks into the cluster.
fn pg_command(prog: &str) -> Command {
    let path = format!("{PG_BIN}/{prog}");
    if is_root() {
        let mut c = Command::new("runuser");
        c.args([
            "-u",
            "postgres",
            "--",
            "env",
            "-u",
            "PGPASSWORD",
            "-u",
            "PGPASSFILE",
            &path,
        ]);
        c
    } else {
        Command::new(path)
    }
}

/// A throwaway PostgreSQL 15 cluster on a free loopback port with SCRAM password auth for
/// every connection, so wrong passwords are really refused. Stopped and removed on drop.
pub struct PgCluster {
    pub port: u16,
    pub password: String,
    dir: tempfile::TempDir,
    settings: Vec<String>,
}

impl PgCluster {
    pub fn start(password: &str) -> Self {
        Self::start_with(Some(password), &[])
    }

    /// Trust authentication (no keychain needed) and extra `-c name=value` settings.
    pub fn trust(settings: &[&str]) -> Self {
        Self::start_with(None, settings)
    }

    pub fn start_with(password: Option<&str>, settings: &[&str]) -> Self {
        let dir = tempfile::Builder::new().prefix("dbdeck-pg-").tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, password.unwrap_or("unused")).unwrap();
        std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o644)).unwrap();
        let data = dir.path().join("data");
        let auth = if password.is_some() { "scram-sha-256" } else { "trust" };
        let out = pg_command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", auth, "-N", "-E", "UTF8", "--locale=C"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut c = PgCluster {
            port: free_port(),
            password: password.unwrap_or_default().to_owned(),
            dir,
            settings: settings.iter().map(|s| (*s).to_owned()).collect(),
        };
        c.start_server();
        c
    }

    /// A streaming standby of `primary` (trust clusters), made with pg_basebackup -R and started
    /// on its own port.
    pub fn standby_of(primary: &PgCluster) -> Self {
        Self::standby_named(primary, None, None)
    }

    /// A standby that names itself `name` to its upstream (application_name), streaming
    /// through physical slot `slot` (created on the upstream) when given.
    pub fn standby_named(upstream: &PgCluster, name: Option<&str>, slot: Option<&str>) -> Self {
        let dir = tempfile::Builder::new().prefix("dbdeck-pg-standby-").tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let data = dir.path().join("data");
        let mut conninfo = format!("host=127.0.0.1 port={} user=postgres", upstream.port);
        if let Some(n) = name {
            conninfo.push_str(&format!(" application_name={n}"));
        }
        let mut cmd = pg_command("pg_basebackup");
        cmd.arg("-d")
            .arg(&conninfo)
            .arg("-D")
            .arg(&data)
            .args(["-R", "-X", "stream", "-c", "fast", "-N"]);
        if let Some(s) = slot {
            cmd.args(["-C", "-S", s]);
        }
        let out = cmd.output().expect("pg_basebackup runs");
        assert!(
            out.status.success(),
            "pg_basebackup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut c = PgCluster {
            port: free_port(),
            password: String::new(),
            dir,
            settings: upstream.settings.clone(),
        };
        c.start_server();
        c
    }

    /// A trust primary set up for replication tests: WAL for standbys and pg_rewind
    /// (`wal_log_hints`), plus `extra` settings.
    pub fn replication_primary(extra: &[&str]) -> Self {
        let mut settings = vec![
            "wal_level=replica",
            "max_wal_senders=10",
            "wal_keep_size=256MB",
            "wal_log_hints=on",
            "hot_standby_feedback=on",
        ];
        settings.extend_from_slice(extra);
        Self::trust(&settings)
    }

    /// Stop the server cleanly and start it again with `setting` (name=value) added.
    pub fn restart_with(&mut self, setting: &str) {
        let out = pg_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "stop"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.settings.push(setting.to_owned());
        self.start_server();
    }

    /// `host:port` as dbdeck names this node.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Whether a server runs on the data directory (`pg_ctl status`).
    pub fn running(&self) -> bool {
        pg_command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(self.data_dir())
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    /// Start (or restart) the server on the same port and data directory.
    pub fn start_server(&mut self) {
        let log = self.dir.path().join("server.log");
        let mut opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        for s in &self.settings {
            opts.push_str(&format!(" -c {s}"));
        }
        let out = pg_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(&log)
            .arg("-o")
            .arg(opts)
            .args(["-w", "-t", "60", "start"])
            .output()
            .expect("pg_ctl runs");
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stop the server at once (as a crash would), keeping the data directory.
    pub fn kill_server(&self) {
        let _ = pg_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }

    /// The postmaster and every backend of this cluster (not the machine's own server).
    pub fn pids(&self) -> Vec<String> {
        let pidfile = std::fs::read_to_string(self.data_dir().join("postmaster.pid")).unwrap_or_default();
        let Some(main) = pidfile.lines().next().map(str::to_owned) else {
            return vec![];
        };
        let children = Command::new("pgrep")
            .args(["-P", &main])
            .output()
            .map(|o| stdout_of(&o))
            .unwrap_or_default();
        std::iter::once(main)
            .chain(children.lines().map(str::to_owned))
            .collect()
    }

    /// Send a signal (STOP, CONT, …) to every process of the cluster.
    pub fn signal(&self, sig: &str) {
        for pid in self.pids() {
            let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid).status();
        }
    }

    /// Run SQL through psql as the postgres user (trust clusters only).
    pub fn psql(&self, sql: &str) -> String {
        let out = self.psql_output(sql);
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout_of(&out)
    }

    /// Run SQL through psql and return how it went, for statements expected to fail.
    pub fn psql_output(&self, sql: &str) -> Output {
        Command::new(format!("{PG_BIN}/psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-Atqc",
                sql,
            ])
            .env("PGPASSWORD", &self.password)
            .output()
            .expect("psql runs")
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.signal("CONT"); // a stopped server cannot be shut down
        let _ = pg_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// A TCP server that accepts connections and never says a word: a hung server.
pub fn silent_server() -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().take(8).flatten() {
            held.push(s);
        }
    });
    (port, h)
}

/// Whether the OS keychain (Secret Service) answers in this session.
pub fn keychain_available() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
}

/// Keychain tests need a real Secret Service; say how to get one instead of failing obscurely.
pub fn require_keychain() {
    assert!(
        keychain_available(),
        "these tests use the real OS keychain: run them through `scripts/with-keychain cargo test` \
         (a dbus session with an unlocked gnome-keyring), as scripts/test does"
    );
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Whether `needle` occurs anywhere in the bytes of any file under `dir`.
pub fn found_in_files(dir: &Path, needle: &str) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| {
            std::fs::read(p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// PgBouncer from Debian's package, in front of `pg`, on a free port, with an admin user
/// `admin` (password `admin_pw`) and SCRAM auth from a plain userlist. Stopped on drop.
pub struct PgBouncer {
    pub port: u16,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl PgBouncer {
    pub fn start(pg_port: u16, admin_password: &str) -> Self {
        Self::with_auth(pg_port, Some(admin_password))
    }

    /// With `None`, trust authentication (users must still be in the userlist).
    pub fn with_auth(pg_port: u16, admin_password: Option<&str>) -> Self {
        let auth_type = if admin_password.is_some() {
            "scram-sha-256"
        } else {
            "trust"
        };
        let admin_password = admin_password.unwrap_or("unused");
        let dir = tempfile::Builder::new().prefix("dbdeck-pgb-").tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let port = free_port();
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("userlist.txt"),
            format!("\"admin\" \"{admin_password}\"\n\"postgres\" \"unused\"\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("pgbouncer.ini"),
            format!(
                "[databases]\napp = host=127.0.0.1 port={pg_port} dbname=postgres user=postgres\n\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
                 auth_type = {auth_type}\nauth_file = {d}/userlist.txt\nadmin_users = admin\n\
                 pool_mode = transaction\nlogfile = {d}/pgbouncer.log\npidfile = {d}/pgbouncer.pid\n"
            ),
        )
        .unwrap();
        let ini = dir.path().join("pgbouncer.ini");
        let mut cmd = if is_root() {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "/usr/sbin/pgbouncer",
            ]);
            c
        } else {
            Command::new("/usr/sbin/pgbouncer")
        };
        let child = cmd
            .arg(&ini)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pgbouncer runs");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "pgbouncer did not start: {}",
                std::fs::read_to_string(dir.path().join("pgbouncer.log")).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        PgBouncer { port, child, _dir: dir }
    }

    pub fn admin_url(&self) -> String {
        format!("postgres://admin@127.0.0.1:{}/pgbouncer", self.port)
    }

    /// Its configuration file (dbdeck re-points `[databases]` in it).
    pub fn ini(&self) -> PathBuf {
        self._dir.path().join("pgbouncer.ini")
    }

    /// A URL to the `app` database through PgBouncer.
    pub fn app_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/app", self.port)
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A psql session that ran `sql` and stays open (holding whatever it took) until dropped.
pub struct HeldSession(std::process::Child);

impl HeldSession {
    pub fn open(pg: &PgCluster, app: &str, sql: &str) -> Self {
        let mut child = Command::new(format!("{PG_BIN}/psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &pg.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-q",
            ])
            .env("PGAPPNAME", app)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{sql}").unwrap();
        // Keep stdin open (psql waits for more) by leaking it into the child handle's lifetime.
        std::mem::forget(stdin);
        HeldSession(child)
    }
}

impl Drop for HeldSession {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `f` every 100 ms until it holds; fails the test after `secs` seconds.
pub fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !f() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Options for a client of PgBouncer, which refuses the startup parameter sqlx sends by default.
pub fn bouncer_options(url: &str) -> sqlx::postgres::PgConnectOptions {
    url.parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .extra_float_digits(None)
}

/// Inserts into `acked (id)` as fast as it can until told to stop, through the first of
/// `targets` that takes it (PgBouncer, or each node of a cluster in turn), and keeps every id
/// the server acknowledged and the longest gap between two acknowledgements.
pub struct Writer {
    stop: Arc<AtomicBool>,
    pub acked: Arc<Mutex<Vec<i64>>>,
    longest_gap: Arc<Mutex<Duration>>,
    handle: std::thread::JoinHandle<()>,
}

impl Writer {
    pub fn start(targets: Vec<sqlx::postgres::PgConnectOptions>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let longest_gap = Arc::new(Mutex::new(Duration::ZERO));
        let (s, a, g) = (stop.clone(), acked.clone(), longest_gap.clone());
        let handle = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut conn: Option<sqlx::PgConnection> = None;
                let mut id: i64 = 0;
                let mut next = 0usize;
                let mut last_ack = Instant::now();
                while !s.load(Ordering::Relaxed) {
                    if conn.is_none() {
                        let t = &targets[next % targets.len()];
                        next += 1;
                        conn = sqlx::PgConnection::connect_with(t).await.ok();
                        if conn.is_none() {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    }
                    id += 1;
                    let sql = format!("INSERT INTO acked (id) VALUES ({id})");
                    match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(conn.as_mut().unwrap())
                        .await
                    {
                        Ok(_) => {
                            let now = Instant::now();
                            let mut gap = g.lock().unwrap();
                            *gap = (*gap).max(now - last_ack);
                            last_ack = now;
                            a.lock().unwrap().push(id);
                        }
                        Err(_) => {
                            conn = None;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            });
        });
        Writer {
            stop,
            acked,
            longest_gap,
            handle,
        }
    }

    pub fn finish(self) -> (Vec<i64>, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap();
        let acked = self.acked.lock().unwrap().clone();
        let gap = *self.longest_gap.lock().unwrap();
        (acked, gap)
    }
}

pub fn missing_from(pg: &PgCluster, acked: &[i64]) -> Vec<i64> {
    let have: HashSet<i64> = pg
        .psql("SELECT id FROM acked")
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    acked.iter().copied().filter(|i| !have.contains(i)).collect()
}
