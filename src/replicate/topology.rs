//! Who streams from whom, and how far behind: the primary's `pg_stat_replication`, each
//! standby's `pg_stat_wal_receiver` and replay position, matched to the configured nodes.

use futures_util::future::join_all;
use serde::Serialize;
use sqlx::{PgConnection, Row};
use ts_rs::TS;

use super::{Cluster, Lsn, NodeConf, parse_lsn, same_host};
use crate::store::now_ms;

/// One walsender row (`pg_stat_replication`) of a node.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Sender {
    pub pid: i32,
    pub application_name: String,
    /// `null` over a Unix socket.
    pub client_addr: Option<String>,
    pub state: String,
    pub sent_lsn: Option<String>,
    pub write_lsn: Option<String>,
    pub flush_lsn: Option<String>,
    pub replay_lsn: Option<String>,
    pub write_lag_s: Option<f64>,
    pub flush_lag_s: Option<f64>,
    pub replay_lag_s: Option<f64>,
    /// `async`, `potential`, `sync` or `quorum`.
    pub sync_state: String,
    /// The physical slot it streams through, if any.
    pub slot_name: Option<String>,
    /// The configured node this is, when it could be told.
    pub node: Option<String>,
}

/// A standby's WAL receiver (`pg_stat_wal_receiver`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct Receiver {
    /// `streaming`, `catchup`, `waiting`, `starting`, `stopping` or `stopped`.
    pub status: String,
    /// `host:port` it streams from.
    pub upstream: String,
    pub slot_name: Option<String>,
    pub received_tli: Option<i32>,
    pub flushed_lsn: Option<String>,
    /// Seconds since the upstream last said something.
    pub since_message_s: Option<f64>,
}

/// What one node said, or why it said nothing.
#[derive(Debug, Clone, Serialize, TS)]
pub struct NodeState {
    /// `primary` or the replica's name in the environment.
    pub name: String,
    pub address: String,
    pub reachable: bool,
    pub error: Option<String>,
    /// `primary` or `standby` as the server says (not as configured); `null` when unreachable.
    pub role: Option<String>,
    pub version: Option<String>,
    pub timeline: Option<i32>,
    /// The primary's current write position.
    pub current_lsn: Option<String>,
    pub receive_lsn: Option<String>,
    pub replay_lsn: Option<String>,
    /// When the last replayed transaction committed on the primary; `null` if this standby has
    /// replayed none yet.
    #[ts(type = "number | null")]
    pub last_replay_ms: Option<i64>,
    /// Replay lag against the primary, in bytes and seconds; `null` when it cannot be known
    /// (e.g. nothing replayed yet).
    #[ts(type = "number | null")]
    pub lag_bytes: Option<i64>,
    pub lag_s: Option<f64>,
    /// Over the environment's lag threshold.
    pub lag_alert: bool,
    /// A sentence on the lag (why it is null, where it came from).
    pub lag_note: String,
    /// The node (name, or `host:port` when not configured) this standby streams from.
    pub upstream: Option<String>,
    pub receiver: Option<Receiver>,
    pub senders: Vec<Sender>,
}

/// A standby streaming from a configured node that the environment does not list.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Discovered {
    pub application_name: String,
    pub client_addr: Option<String>,
    /// The configured node it streams from.
    pub upstream: String,
    pub state: String,
    pub lag_bytes: Option<i64>,
    /// How to add it (its port cannot be seen from the upstream).
    pub suggestion: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Topology {
    pub env: String,
    #[ts(type = "number")]
    pub ts_ms: i64,
    pub lag_threshold_s: f64,
    /// The node answering as primary (none, or the first of several: see `alerts`).
    pub primary: Option<String>,
    pub nodes: Vec<NodeState>,
    pub discovered: Vec<Discovered>,
    /// What a person should look at first: lag over threshold, unreachable nodes, two
    /// primaries, stopped receivers.
    pub alerts: Vec<String>,
    /// The cluster as Patroni sees it, when the environment has a Patroni endpoint.
    pub patroni: Option<super::patroni::PatroniCluster>,
    /// Why Patroni could not be read.
    pub patroni_error: Option<String>,
}

impl Topology {
    pub fn node(&self, name: &str) -> Option<&NodeState> {
        self.nodes.iter().find(|n| n.name == name)
    }
    /// Nodes answering as primary.
    pub fn primaries(&self) -> Vec<&NodeState> {
        self.nodes
            .iter()
            .filter(|n| n.role.as_deref() == Some("primary"))
            .collect()
    }
}

fn lsn(s: &Option<String>) -> Option<Lsn> {
    s.as_deref().and_then(parse_lsn)
}

/// Everything one node says about itself, in three round trips.
pub async fn probe(c: &mut PgConnection, node: &NodeConf) -> Result<NodeState, sqlx::Error> {
    let r = sqlx::query(
        "SELECT pg_is_in_recovery(), current_setting('server_version'), \
                CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END, \
                pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text, \
                (extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000)::float8, \
                CASE WHEN pg_is_in_recovery() THEN NULL \
                     ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END, \
                CASE WHEN pg_is_in_recovery() AND pg_last_xact_replay_timestamp() IS NOT NULL \
                     THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END",
    )
    .fetch_one(&mut *c)
    .await?;
    let standby: bool = r.get(0);
    let since_replay: Option<f64> = r.get(7);
    let receiver = if standby {
        sqlx::query(
            "SELECT status, coalesce(sender_host, ''), coalesce(sender_port, 0), slot_name, received_tli, \
                    flushed_lsn::text, extract(epoch FROM now() - last_msg_receipt_time)::float8 \
             FROM pg_stat_wal_receiver",
        )
        .fetch_optional(&mut *c)
        .await?
        .map(|w| Receiver {
            status: w.get(0),
            upstream: format!("{}:{}", w.get::<String, _>(1), w.get::<i32, _>(2)),
            slot_name: w.get(3),
            received_tli: w.get(4),
            flushed_lsn: w.get(5),
            since_message_s: w.get(6),
        })
    } else {
        None
    };
    let senders = sqlx::query(
        "SELECT r.pid, r.application_name, host(r.client_addr), coalesce(r.state, ''), r.sent_lsn::text, \
                r.write_lsn::text, r.flush_lsn::text, r.replay_lsn::text, \
                extract(epoch FROM r.write_lag)::float8, extract(epoch FROM r.flush_lag)::float8, \
                extract(epoch FROM r.replay_lag)::float8, coalesce(r.sync_state, ''), \
                (SELECT s.slot_name::text FROM pg_replication_slots s WHERE s.active_pid = r.pid LIMIT 1) \
         FROM pg_stat_replication r ORDER BY r.application_name, r.pid",
    )
    .fetch_all(&mut *c)
    .await?
    .into_iter()
    .map(|s| Sender {
        pid: s.get(0),
        application_name: s.get(1),
        client_addr: s.get(2),
        state: s.get(3),
        sent_lsn: s.get(4),
        write_lsn: s.get(5),
        flush_lsn: s.get(6),
        replay_lsn: s.get(7),
        write_lag_s: s.get(8),
        flush_lag_s: s.get(9),
        replay_lag_s: s.get(10),
        sync_state: s.get(11),
        slot_name: s.get(12),
        node: None,
    })
    .collect();
    let timeline: Option<i32> = r.get(6);
    Ok(NodeState {
        name: node.name.clone(),
        address: node.address.clone(),
        reachable: true,
        error: None,
        role: Some(if standby { "standby" } else { "primary" }.into()),
        version: Some(r.get(1)),
        timeline: timeline.or_else(|| receiver.as_ref().and_then(|w| w.received_tli)),
        current_lsn: r.get(2),
        receive_lsn: r.get(3),
        replay_lsn: r.get(4),
        last_replay_ms: r.get::<Option<f64>, _>(5).map(|v| v as i64),
        lag_bytes: None,
        // Seconds since the last replayed commit, until `assemble` works out the lag.
        lag_s: since_replay,
        lag_alert: false,
        lag_note: String::new(),
        upstream: receiver.as_ref().map(|w| w.upstream.clone()),
        receiver,
        senders,
    })
}

fn unreachable(node: &NodeConf, error: String) -> NodeState {
    NodeState {
        name: node.name.clone(),
        address: node.address.clone(),
        reachable: false,
        error: Some(error),
        role: None,
        version: None,
        timeline: None,
        current_lsn: None,
        receive_lsn: None,
        replay_lsn: None,
        last_replay_ms: None,
        lag_bytes: None,
        lag_s: None,
        lag_alert: false,
        lag_note: String::new(),
        upstream: None,
        receiver: None,
        senders: vec![],
    }
}

/// Ask every configured node at once.
pub async fn read(cluster: &Cluster, lag_threshold_s: f64) -> Topology {
    let probes = join_all(cluster.nodes.iter().map(|n| async move {
        match cluster.connect(n).await {
            Ok(mut c) => {
                let r = probe(&mut c, n).await;
                let _ = sqlx::Connection::close(c).await;
                r.unwrap_or_else(|e| unreachable(n, format!("{} ({}): {e}", n.name, n.address)))
            }
            Err(e) => unreachable(n, e.message),
        }
    }))
    .await;
    assemble(cluster, probes, lag_threshold_s)
}

/// Match senders to nodes, compute lag against the primary, and list what needs attention.
pub fn assemble(cluster: &Cluster, mut nodes: Vec<NodeState>, lag_threshold_s: f64) -> Topology {
    let mut alerts = Vec::new();
    let primaries: Vec<String> = nodes
        .iter()
        .filter(|n| n.role.as_deref() == Some("primary"))
        .map(|n| n.name.clone())
        .collect();
    if primaries.len() > 1 {
        alerts.push(format!(
            "{} nodes answer as primary ({}): split brain; fence all but one",
            primaries.len(),
            primaries.join(", ")
        ));
    }
    let primary = primaries.first().cloned();
    let primary_lsn = primary
        .as_ref()
        .and_then(|p| nodes.iter().find(|n| &n.name == p))
        .and_then(|n| lsn(&n.current_lsn));

    // Upstream names: the configured node at the receiver's host:port.
    let name_at = |addr: &str| -> Option<String> {
        let (h, p) = addr.rsplit_once(':')?;
        cluster.by_address(h, p.parse().ok()?).map(|n| n.name.clone())
    };
    for n in &mut nodes {
        if let Some(up) = n.upstream.clone() {
            n.upstream = Some(name_at(&up).unwrap_or(up));
        }
    }

    // Which sender row is which standby: by application_name, then by slot, then (one left
    // on each side) by elimination.
    let standbys: Vec<(String, Option<String>, Option<String>)> = nodes
        .iter()
        .filter(|n| n.role.as_deref() == Some("standby"))
        .map(|n| {
            (
                n.name.clone(),
                n.upstream.clone(),
                n.receiver.as_ref().and_then(|r| r.slot_name.clone()),
            )
        })
        .collect();
    for n in nodes.iter_mut() {
        let upstream_name = n.name.clone();
        let mine: Vec<&(String, Option<String>, Option<String>)> = standbys
            .iter()
            .filter(|(_, up, _)| up.as_deref() == Some(upstream_name.as_str()))
            .collect();
        let senders = &mut n.senders;
        for s in senders.iter_mut() {
            s.node = mine
                .iter()
                .find(|(name, _, _)| *name == s.application_name)
                .or_else(|| mine.iter().find(|(_, _, slot)| slot.is_some() && *slot == s.slot_name))
                .map(|(name, _, _)| name.clone());
        }
        let unmatched_senders: Vec<usize> = (0..senders.len()).filter(|&k| senders[k].node.is_none()).collect();
        let unmatched_nodes: Vec<&String> = mine
            .iter()
            .map(|(name, _, _)| name)
            .filter(|name| !senders.iter().any(|s| s.node.as_ref() == Some(name)))
            .collect();
        if unmatched_senders.len() == 1 && unmatched_nodes.len() == 1 {
            senders[unmatched_senders[0]].node = Some(unmatched_nodes[0].clone());
        }
    }

    // Lag of each standby against the primary.
    let sender_lag: Vec<(String, Option<f64>)> = nodes
        .iter()
        .flat_map(|n| n.senders.iter())
        .filter_map(|s| s.node.clone().map(|n| (n, s.replay_lag_s)))
        .collect();
    for n in &mut nodes {
        if n.role.as_deref() != Some("standby") {
            n.lag_s = None;
            continue;
        }
        let since_replay = n.lag_s.take();
        let replay = lsn(&n.replay_lsn);
        n.lag_bytes = match (primary_lsn, replay) {
            (Some(p), Some(r)) => Some(p.saturating_sub(r) as i64),
            _ => None,
        };
        let from_sender = sender_lag
            .iter()
            .find(|(name, _)| name == &n.name)
            .and_then(|(_, l)| *l);
        n.lag_s = match n.lag_bytes {
            Some(0) => Some(0.0),
            _ => from_sender.or(since_replay),
        };
        n.lag_note = if n.lag_bytes.is_none() && primary_lsn.is_none() {
            "no primary answered, so lag cannot be measured".into()
        } else if n.last_replay_ms.is_none() && n.lag_s.is_none() {
            "no replay timestamp: it has replayed no transaction yet, so its lag in seconds is unknown".into()
        } else if n.last_replay_ms.is_none() {
            "no replay timestamp yet: it has replayed no transaction (the lag comes from its position)".into()
        } else if n.lag_s.is_none() {
            "behind in bytes, but the time of its last replayed transaction is unknown".into()
        } else if from_sender.is_none() && n.lag_bytes != Some(0) {
            "seconds since the last replayed transaction committed".into()
        } else {
            String::new()
        };
        n.lag_alert = n.lag_s.is_some_and(|s| s > lag_threshold_s);
        if n.lag_alert {
            alerts.push(format!(
                "{} is {:.1} s behind (threshold {lag_threshold_s} s)",
                n.name,
                n.lag_s.unwrap_or_default()
            ));
        }
        match &n.receiver {
            None => alerts.push(format!(
                "{} is in recovery but has no WAL receiver: it is not streaming",
                n.name
            )),
            Some(r) if r.status != "streaming" => {
                alerts.push(format!("{}'s WAL receiver is {}, not streaming", n.name, r.status))
            }
            _ => {}
        }
    }
    for n in &nodes {
        if !n.reachable {
            alerts.push(format!("{} ({}) does not answer", n.name, n.address));
        }
    }

    let discovered = nodes
        .iter()
        .flat_map(|n| {
            n.senders.iter().filter(|s| s.node.is_none()).map(move |s| Discovered {
                application_name: s.application_name.clone(),
                client_addr: s.client_addr.clone(),
                upstream: n.name.clone(),
                state: s.state.clone(),
                lag_bytes: match (primary_lsn, lsn(&s.replay_lsn)) {
                    (Some(p), Some(r)) => Some(p.saturating_sub(r) as i64),
                    _ => None,
                },
                suggestion: format!(
                    "add it with `dbdeck env update {} --replica {}=postgres://USER@{}:PORT/DB` \
                     (its port cannot be seen from {})",
                    cluster.env,
                    suggested_name(&s.application_name),
                    s.client_addr.as_deref().unwrap_or("HOST"),
                    n.name
                ),
            })
        })
        .collect();

    Topology {
        env: cluster.env.clone(),
        ts_ms: now_ms(),
        lag_threshold_s,
        primary,
        nodes,
        discovered,
        alerts,
        patroni: None,
        patroni_error: None,
    }
}

impl Topology {
    /// Add Patroni's view (or why it could not be read), with its alerts.
    pub fn with_patroni(mut self, view: Result<super::patroni::PatroniCluster, String>) -> Self {
        match view {
            Ok(c) => {
                if c.pause {
                    self.alerts
                        .push("Patroni is in maintenance mode (paused): it will not fail over".into());
                }
                if c.leader().is_none() {
                    self.alerts.push("Patroni has no leader".into());
                }
                for m in c.members.iter().filter(|m| !m.is_leader() && m.state != "streaming") {
                    self.alerts.push(format!("Patroni member {} is {}", m.name, m.state));
                }
                self.patroni = Some(c);
            }
            Err(e) => {
                self.alerts.push(format!("Patroni: {e}"));
                self.patroni_error = Some(e);
            }
        }
        self
    }
}

fn suggested_name(app: &str) -> String {
    let s: String = app
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() || s == "walreceiver" {
        "standby".into()
    } else {
        s
    }
}

/// `true` when `a` is the node at `host:port` `b` (loopback names are the same host).
pub fn is_address(a: &NodeConf, b: &str) -> bool {
    b.rsplit_once(':')
        .is_some_and(|(h, p)| p.parse::<u16>().ok() == Some(a.port()) && same_host(a.host(), h))
}
