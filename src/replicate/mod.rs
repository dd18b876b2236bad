//! Replication: what the nodes of an environment are doing (topology, lag, slots), and the
//! flows that change who is primary (switchover, failover, rejoin).
//!
//! Reads go to every configured node over connections of their own (never dbdeck's pools: a
//! flow must see each node, not whichever one a pool routed to). The flows are in [`flow`];
//! what they do to a data directory on this machine is in [`local`]; PgBouncer's part in
//! [`bouncer`].

pub mod bouncer;
pub mod conninfo;
pub mod flow;
pub mod local;
pub mod patroni;
pub mod slots;
pub mod topology;

use std::time::Duration;

use serde::Serialize;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use ts_rs::TS;

use crate::env::{Environment, Role};
use crate::error::{ApiError, ErrorCode};
use crate::probe::classify_pg;

/// A position in the write-ahead log.
pub type Lsn = u64;

/// `16/B374D848` → 0x16_B374D848.
pub fn parse_lsn(s: &str) -> Option<Lsn> {
    let (hi, lo) = s.trim().split_once('/')?;
    Some((u64::from_str_radix(hi, 16).ok()? << 32) | u64::from_str_radix(lo, 16).ok()?)
}

pub fn fmt_lsn(l: Lsn) -> String {
    format!("{:X}/{:X}", l >> 32, l & 0xFFFF_FFFF)
}

/// One configured node: the environment's primary or one of its replicas.
#[derive(Debug, Clone)]
pub struct NodeConf {
    /// `primary` or the replica's name.
    pub name: String,
    pub role: Role,
    /// `host:port`, as in the URL.
    pub address: String,
    pub opts: PgConnectOptions,
}

impl NodeConf {
    pub fn host(&self) -> &str {
        self.address.rsplit_once(':').map(|(h, _)| h).unwrap_or(&self.address)
    }
    pub fn port(&self) -> u16 {
        self.address
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(5432)
    }
}

/// The nodes of an environment with their credentials resolved, and how long to wait for each.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub env: String,
    pub nodes: Vec<NodeConf>,
    pub connect_timeout: Duration,
}

/// `host:port` of a PostgreSQL URL (the port defaults to 5432).
pub fn address_of(url: &str) -> String {
    let opts: Result<PgConnectOptions, _> = url.parse();
    match opts {
        Ok(o) => format!("{}:{}", o.get_host(), o.get_port()),
        Err(_) => url.to_owned(),
    }
}

impl Cluster {
    /// Build from an environment; `options` resolves an endpoint's connection options (with
    /// its password from the keychain).
    pub fn new(env: &Environment, nodes: Vec<(Role, PgConnectOptions)>) -> Self {
        let nodes = nodes
            .into_iter()
            .map(|(role, opts)| NodeConf {
                name: match &role {
                    Role::Replica(n) => n.clone(),
                    other => other.to_string(),
                },
                address: format!("{}:{}", opts.get_host(), opts.get_port()),
                role,
                opts,
            })
            .collect();
        Cluster {
            env: env.name.clone(),
            nodes,
            connect_timeout: Duration::from_millis(u64::from(env.pool.connect_timeout_ms)),
        }
    }

    pub fn node(&self, name: &str) -> Option<&NodeConf> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn primary(&self) -> &NodeConf {
        self.nodes
            .iter()
            .find(|n| n.role == Role::Primary)
            .expect("an environment always has a primary")
    }

    /// The configured node at `host:port`, if any.
    pub fn by_address(&self, host: &str, port: u16) -> Option<&NodeConf> {
        self.nodes
            .iter()
            .find(|n| n.port() == port && same_host(n.host(), host))
    }

    /// Open a connection of its own to `node`, giving up after the environment's connect timeout.
    pub async fn connect(&self, node: &NodeConf) -> Result<PgConnection, ApiError> {
        let target = format!("{} ({})", node.name, node.address);
        match tokio::time::timeout(self.connect_timeout, PgConnection::connect_with(&node.opts)).await {
            Ok(r) => r.map_err(|e| classify_pg(e, &target)),
            Err(_) => Err(ApiError::new(
                ErrorCode::Timeout,
                format!("{target} did not answer within {} ms", self.connect_timeout.as_millis()),
            )),
        }
    }
}

/// Whether two host names are the same machine as far as a conninfo can tell.
pub fn same_host(a: &str, b: &str) -> bool {
    let loopback = |h: &str| matches!(h, "localhost" | "127.0.0.1" | "::1");
    a.eq_ignore_ascii_case(b) || (loopback(a) && loopback(b))
}

/// A pass/fail line of a pre-check or a verification.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Check {
    pub name: String,
    /// `pass`, `fail`, `warn` or `skip`.
    pub status: String,
    pub reason: String,
}

impl Check {
    pub fn new(name: &str, status: &str, reason: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status: status.into(),
            reason: reason.into(),
        }
    }
    pub fn pass(name: &str, reason: impl Into<String>) -> Self {
        Self::new(name, "pass", reason)
    }
    pub fn fail(name: &str, reason: impl Into<String>) -> Self {
        Self::new(name, "fail", reason)
    }
    pub fn warn(name: &str, reason: impl Into<String>) -> Self {
        Self::new(name, "warn", reason)
    }
    pub fn skip(name: &str, reason: impl Into<String>) -> Self {
        Self::new(name, "skip", reason)
    }
    pub fn failed(&self) -> bool {
        self.status == "fail"
    }
}

/// Bytes as a person reads them (`12.0 MiB`).
pub fn fmt_bytes(b: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut i = 0;
    while v.abs() >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// Seconds as a person reads them (`45 s`, `12 min`, `3.5 h`, `2.1 days`).
pub fn fmt_duration(s: f64) -> String {
    if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 5400.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_round_trip() {
        assert_eq!(parse_lsn("16/B374D848"), Some(0x16_B374_D848));
        assert_eq!(fmt_lsn(0x16_B374_D848), "16/B374D848");
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("nonsense"), None);
        assert_eq!(parse_lsn("1/zz"), None);
    }

    #[test]
    fn hosts_and_sizes() {
        assert!(same_host("localhost", "127.0.0.1"));
        assert!(!same_host("db1", "db2"));
        assert_eq!(fmt_bytes(12.0 * 1024.0 * 1024.0), "12.0 MiB");
        assert_eq!(fmt_duration(7200.0), "2.0 h");
        assert_eq!(address_of("postgres://u@db1:5433/app"), "db1:5433");
        assert_eq!(address_of("postgres://u@db1/app"), "db1:5432");
    }
}
