//! Connection probes: can dbdeck reach an endpoint, how fast, and what is there.
//!
//! A probe opens one fresh connection (never a pooled one, so it measures the real path),
//! runs a couple of cheap read-only queries and closes it. Failures are classified into the
//! error codes a person can act on — wrong password, unknown host, refused, timeout, TLS —
//! with the server's own message kept. A probe never writes to the target.

use std::str::FromStr;
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::{ConnectOptions, Connection, Row};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use ts_rs::TS;

use crate::env::{Endpoint, Engine, Environment, Role, redact_url};
use crate::error::{ApiError, ErrorCode};
use crate::secrets::Sensitive;

/// One health check of an environment's primary, as stored in the history.
#[derive(Debug, Clone, Serialize, TS, PartialEq)]
pub struct HealthSample {
    pub env: String,
    #[ts(type = "number")]
    pub ts_ms: i64,
    pub reachable: bool,
    pub latency_ms: Option<f64>,
    /// `primary`, `standby` or `sqlite`.
    pub role: Option<String>,
    pub server_version: Option<String>,
    pub error_code: Option<String>,
    pub error: Option<String>,
}

/// What `env test` found at one endpoint.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EndpointReport {
    pub role: Role,
    /// Where dbdeck connected (URL without password).
    pub target: String,
    pub ok: bool,
    /// Time to open the connection, including TLS and authentication.
    pub connect_ms: Option<f64>,
    /// One round trip of a trivial query on the open connection.
    pub latency_ms: Option<f64>,
    pub server_version: Option<String>,
    /// For PostgreSQL: whether the server is a standby (in recovery).
    pub standby: Option<bool>,
    /// TLS protocol and cipher when in use, `off` when not, absent when not applicable.
    pub tls: Option<String>,
    pub error: Option<ApiError>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TestReport {
    pub env: String,
    pub ok: bool,
    #[ts(type = "number")]
    pub as_of_ms: i64,
    pub endpoints: Vec<EndpointReport>,
}

/// What a successful connection found.
#[derive(Debug, Clone, Default)]
struct Found {
    connect_ms: f64,
    latency_ms: f64,
    server_version: String,
    standby: Option<bool>,
    tls: Option<String>,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// Probe one endpoint. `password` is what the keychain gave for it (if it needs one).
pub async fn probe(
    env: &Environment,
    role: &Role,
    endpoint: &Endpoint,
    password: Option<Sensitive<String>>,
) -> EndpointReport {
    let timeout = Duration::from_millis(u64::from(env.pool.connect_timeout_ms));
    let work = async {
        match role {
            Role::Redis => probe_redis(&endpoint.url, password.as_ref()).await,
            Role::PgBouncer => probe_postgres(&endpoint.url, password.as_ref(), true).await,
            _ if env.engine == Engine::Sqlite => probe_sqlite(&endpoint.url).await,
            _ => probe_postgres(&endpoint.url, password.as_ref(), false).await,
        }
    };
    let result = match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(ApiError::new(
            ErrorCode::Timeout,
            format!(
                "no answer from {} within {} ms",
                target_of(&endpoint.url),
                timeout.as_millis()
            ),
        )
        .with_hint(
            "the host may be down, firewalled, or overloaded; raise pool.connect_timeout_ms if it is just slow",
        )),
    };
    report(role, endpoint, result)
}

/// The report for an endpoint that could not even be tried (e.g. its secret is missing).
pub fn failed(role: &Role, endpoint: &Endpoint, error: ApiError) -> EndpointReport {
    report(role, endpoint, Err(error))
}

fn report(role: &Role, endpoint: &Endpoint, result: Result<Found, ApiError>) -> EndpointReport {
    let target = redact_url(&endpoint.url);
    match result {
        Ok(f) => EndpointReport {
            role: role.clone(),
            target,
            ok: true,
            connect_ms: Some(f.connect_ms),
            latency_ms: Some(f.latency_ms),
            server_version: Some(f.server_version),
            standby: f.standby,
            tls: f.tls,
            error: None,
        },
        Err(e) => EndpointReport {
            role: role.clone(),
            target,
            ok: false,
            connect_ms: None,
            latency_ms: None,
            server_version: None,
            standby: None,
            tls: None,
            error: Some(e),
        },
    }
}

impl EndpointReport {
    /// The health sample this report makes for `env` at `ts_ms`.
    pub fn to_sample(&self, env: &str, ts_ms: i64) -> HealthSample {
        HealthSample {
            env: env.to_owned(),
            ts_ms,
            reachable: self.ok,
            latency_ms: self.latency_ms,
            role: self
                .standby
                .map(|s| if s { "standby" } else { "primary" }.to_owned())
                .or_else(|| (self.ok && self.tls.is_none() && self.standby.is_none()).then(|| "sqlite".to_owned())),
            server_version: self.server_version.clone(),
            error_code: self.error.as_ref().map(|e| e.code.as_str().to_owned()),
            error: self.error.as_ref().map(|e| e.message.clone()),
        }
    }
}

fn target_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "sqlite" => u.path().to_owned(),
        Ok(u) => format!(
            "{}:{}",
            u.host_str().unwrap_or("?"),
            u.port().map_or("default".into(), |p| p.to_string())
        ),
        Err(_) => redact_url(url),
    }
}

async fn probe_postgres(url: &str, password: Option<&Sensitive<String>>, pgbouncer: bool) -> Result<Found, ApiError> {
    let mut opts = sqlx::postgres::PgConnectOptions::from_str(url)
        .map_err(|e| ApiError::invalid(format!("{}: {e}", redact_url(url))))?
        .application_name("dbdeck")
        .disable_statement_logging();
    if pgbouncer {
        // PgBouncer refuses startup parameters it does not know unless told to ignore them.
        opts = opts.extra_float_digits(None);
    }
    if let Some(p) = password {
        opts = opts.password(p.expose());
    }
    let target = target_of(url);
    let started = Instant::now();
    let mut conn = opts.connect().await.map_err(|e| classify_pg(e, &target))?;
    let connect_ms = ms(started.elapsed());
    let found = if pgbouncer {
        // PgBouncer's admin console speaks only the simple query protocol.
        let t = Instant::now();
        let rows = sqlx::raw_sql("SHOW VERSION")
            .fetch_all(&mut conn)
            .await
            .map_err(|e| classify_pg(e, &target))?;
        let latency_ms = ms(t.elapsed());
        let version = rows
            .first()
            .and_then(|r| r.try_get::<String, _>(0).ok())
            .unwrap_or_default();
        Found {
            connect_ms,
            latency_ms,
            server_version: version,
            standby: None,
            tls: None,
        }
    } else {
        let t = Instant::now();
        sqlx::query("SELECT 1")
            .execute(&mut conn)
            .await
            .map_err(|e| classify_pg(e, &target))?;
        let latency_ms = ms(t.elapsed());
        let row = sqlx::query(
            "SELECT current_setting('server_version'), pg_is_in_recovery(), \
             (SELECT CASE WHEN ssl THEN coalesce(version, 'TLS') || ' ' || coalesce(cipher, '') ELSE 'off' END \
              FROM pg_stat_ssl WHERE pid = pg_backend_pid())",
        )
        .fetch_one(&mut conn)
        .await
        .map_err(|e| classify_pg(e, &target))?;
        Found {
            connect_ms,
            latency_ms,
            server_version: row.get(0),
            standby: Some(row.get(1)),
            tls: Some(
                row.get::<Option<String>, _>(2)
                    .map_or("off".to_owned(), |s| s.trim().to_owned()),
            ),
        }
    };
    let _ = conn.close().await;
    Ok(found)
}

async fn probe_sqlite(url: &str) -> Result<Found, ApiError> {
    let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .map_err(|e| ApiError::invalid(format!("{url}: {e}")))?
        .create_if_missing(false)
        .read_only(true);
    let path = opts.get_filename().to_owned();
    if !path.exists() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("the SQLite file {} does not exist", path.display()),
        )
        .with_hint("check the path in the environment's URL (sqlite:///absolute/path.db)"));
    }
    let started = Instant::now();
    let mut conn = opts
        .connect()
        .await
        .map_err(|e| ApiError::new(ErrorCode::Unreachable, format!("cannot open {}: {e}", path.display())))?;
    let connect_ms = ms(started.elapsed());
    let t = Instant::now();
    sqlx::query("SELECT 1")
        .execute(&mut conn)
        .await
        .map_err(|e| ApiError::new(ErrorCode::ServerError, e.to_string()))?;
    let latency_ms = ms(t.elapsed());
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| ApiError::new(ErrorCode::ServerError, e.to_string()))?;
    let _ = conn.close().await;
    Ok(Found {
        connect_ms,
        latency_ms,
        server_version: format!("SQLite {version}"),
        standby: None,
        tls: None,
    })
}

/// Redis: PING (after AUTH when a password is set) and the server version from INFO, spoken in
/// RESP directly — a probe needs no client library.
async fn probe_redis(url: &str, password: Option<&Sensitive<String>>) -> Result<Found, ApiError> {
    let u = url::Url::parse(url).map_err(|e| ApiError::invalid(format!("{url}: {e}")))?;
    if u.scheme() == "rediss" {
        return Err(ApiError::new(
            ErrorCode::TlsFailed,
            "TLS to Redis (rediss://) is not supported by dbdeck yet",
        )
        .with_hint("use a redis:// endpoint reachable over a trusted network or tunnel"));
    }
    let host = u.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = u.port().unwrap_or(6379);
    let target = format!("{host}:{port}");
    let started = Instant::now();
    let mut sock = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| classify_io(&e, &target))?;
    let mut buf = vec![0u8; 64 * 1024];
    let cmd = |parts: &[&str]| {
        let mut s = format!("*{}\r\n", parts.len());
        for p in parts {
            s.push_str(&format!("${}\r\n{p}\r\n", p.len()));
        }
        s
    };
    if let Some(p) = password {
        let user = u.username();
        let auth = if user.is_empty() {
            cmd(&["AUTH", p.expose()])
        } else {
            cmd(&["AUTH", user, p.expose()])
        };
        sock.write_all(auth.as_bytes())
            .await
            .map_err(|e| classify_io(&e, &target))?;
        let n = sock.read(&mut buf).await.map_err(|e| classify_io(&e, &target))?;
        let reply = String::from_utf8_lossy(&buf[..n]);
        if !reply.starts_with("+OK") {
            return Err(ApiError::new(
                ErrorCode::AuthFailed,
                format!("Redis at {target} refused the password: {}", reply.trim()),
            )
            .with_hint("update the password with `dbdeck env set-password ENV --role redis --password-stdin`"));
        }
    }
    let connect_ms = ms(started.elapsed());
    let t = Instant::now();
    sock.write_all(cmd(&["PING"]).as_bytes())
        .await
        .map_err(|e| classify_io(&e, &target))?;
    let n = sock.read(&mut buf).await.map_err(|e| classify_io(&e, &target))?;
    let latency_ms = ms(t.elapsed());
    let reply = String::from_utf8_lossy(&buf[..n]).into_owned();
    if reply.starts_with("-NOAUTH") {
        return Err(
            ApiError::new(ErrorCode::AuthFailed, format!("Redis at {target} needs a password"))
                .with_hint("store it with `dbdeck env set-password ENV --role redis --password-stdin`"),
        );
    }
    if !reply.starts_with("+PONG") {
        return Err(ApiError::new(
            ErrorCode::ServerError,
            format!("Redis at {target} answered PING with {}", reply.trim()),
        ));
    }
    sock.write_all(cmd(&["INFO", "server"]).as_bytes())
        .await
        .map_err(|e| classify_io(&e, &target))?;
    let n = sock.read(&mut buf).await.map_err(|e| classify_io(&e, &target))?;
    let info = String::from_utf8_lossy(&buf[..n]);
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .map_or_else(|| "Redis".to_owned(), |v| format!("Redis {}", v.trim()));
    Ok(Found {
        connect_ms,
        latency_ms,
        server_version: version,
        standby: None,
        tls: None,
    })
}

fn classify_io(e: &std::io::Error, target: &str) -> ApiError {
    use std::io::ErrorKind;
    let text = e.to_string();
    match e.kind() {
        ErrorKind::ConnectionRefused => ApiError::new(
            ErrorCode::ConnectionRefused,
            format!("connection refused by {target}: nothing is listening there"),
        )
        .with_hint("check that the server is running and that host and port are right"),
        ErrorKind::TimedOut => ApiError::new(ErrorCode::Timeout, format!("connecting to {target} timed out"))
            .with_hint("the host may be down or a firewall may be dropping packets"),
        _ if text.contains("lookup address")
            || text.contains("Name or service not known")
            || text.contains("nodename nor servname") =>
        {
            ApiError::new(
                ErrorCode::UnknownHost,
                format!("the host in {target} cannot be resolved: {text}"),
            )
            .with_hint("check the host name for typos, and your DNS or VPN")
        }
        _ => ApiError::new(ErrorCode::Unreachable, format!("cannot reach {target}: {text}")),
    }
}

/// Turn a sqlx error from connecting or querying into something a person can act on.
pub fn classify_pg(e: sqlx::Error, target: &str) -> ApiError {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let msg = db.message().to_owned();
            match code.as_str() {
                // PgBouncer reports a wrong SCRAM password as a protocol violation.
                "08P01" if msg.contains("authentication failed") => {
                    ApiError::new(ErrorCode::AuthFailed, format!("{target}: {msg}")).with_hint(
                        "the password is wrong; update it with `dbdeck env set-password ENV --password-stdin`",
                    )
                }
                "28P01" => ApiError::new(ErrorCode::AuthFailed, format!("{target}: {msg}"))
                    .with_hint("the password is wrong; update it with `dbdeck env set-password ENV --password-stdin`"),
                "28000" => ApiError::new(ErrorCode::AuthFailed, format!("{target}: {msg}"))
                    .with_hint("the server has no pg_hba.conf entry or role that lets this user in"),
                "3D000" => ApiError::new(ErrorCode::NotFound, format!("{target}: {msg}"))
                    .with_hint("check the database name at the end of the URL"),
                "57P03" => ApiError::new(ErrorCode::Unreachable, format!("{target}: {msg}"))
                    .with_hint("the server is starting up or shutting down; try again shortly"),
                "53300" => ApiError::new(ErrorCode::ServerError, format!("{target}: {msg}")).with_hint(
                    "the server is out of connection slots; look for idle sessions or raise max_connections",
                ),
                _ => ApiError::new(ErrorCode::ServerError, format!("{target}: {msg} (SQLSTATE {code})")),
            }
        }
        sqlx::Error::Io(io) => classify_io(&io, target),
        sqlx::Error::Tls(t) => ApiError::new(ErrorCode::TlsFailed, format!("TLS with {target} failed: {t}")).with_hint(
            "the server may not offer TLS (try sslmode=prefer), or its certificate is not trusted (sslrootcert=...)",
        ),
        sqlx::Error::PoolTimedOut => ApiError::new(
            ErrorCode::Timeout,
            format!("timed out waiting for a connection to {target}"),
        ),
        sqlx::Error::Configuration(c) => ApiError::invalid(format!("{target}: {c}")),
        other => {
            let text = other.to_string();
            if text.contains("password authentication failed") {
                ApiError::new(ErrorCode::AuthFailed, format!("{target}: {text}"))
            } else if text.to_ascii_lowercase().contains("tls") || text.contains("SSL") {
                ApiError::new(ErrorCode::TlsFailed, format!("TLS with {target} failed: {text}"))
                    .with_hint("the server may not offer TLS (try sslmode=prefer), or its certificate is not trusted")
            } else {
                ApiError::new(ErrorCode::Unreachable, format!("{target}: {text}"))
            }
        }
    }
}
