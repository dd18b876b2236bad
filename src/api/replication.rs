//! Replication requests: topology and lag (recorded as history), slots with forecasts, the lag
//! chart, and the switchover, failover and rejoin flows (progress as `replication_progress`
//! events).

use std::time::Duration;

use serde_json::json;

use super::{Api, Chart, Event, Response, chart_size, finish_chart};
use crate::chart::{Series, TimeChart};
use crate::env::{Engine, Environment, Role};
use crate::error::{ApiError, ErrorCode};
use crate::metrics::{self, MetricInfo};
use crate::replicate::bouncer::Bouncer;
use crate::replicate::flow::{self, EnvRepoint, FlowCtx, FlowReport, Phase};
use crate::replicate::local::{DataDir, pg_bin};
use crate::replicate::patroni::Patroni;
use crate::replicate::slots::{self, SlotsReport};
use crate::replicate::topology::{self, Topology};
use crate::replicate::{Cluster, Lsn, parse_lsn};
use crate::store::now_ms;

/// Series ids of the per-object histories this module records.
const LAG_S: &str = "replica_lag_s/";
const LAG_BYTES: &str = "replica_lag_bytes/";
const SLOT_RETAINED: &str = "slot_retained_bytes/";
const PRIMARY_LSN: &str = "primary_lsn";
/// How far back a slot's growth rate looks.
const FORECAST_WINDOW_MS: i64 = 3600 * 1000;

/// What a flow request asks for.
#[derive(Debug, Clone)]
pub enum FlowKind {
    Switchover {
        to: String,
        check_only: bool,
    },
    Failover {
        to: Option<String>,
        force: bool,
        check_only: bool,
    },
    Rejoin {
        node: String,
    },
}

struct Repoint<'a> {
    api: &'a Api,
    env: String,
}

impl EnvRepoint for Repoint<'_> {
    async fn swap(&self, new_primary: &str) -> Result<(), ApiError> {
        self.api.swap_primary(&self.env, new_primary).await
    }
}

impl Api {
    /// Every PostgreSQL node of `env`, with its password.
    async fn cluster(&self, env: &Environment) -> Result<Cluster, ApiError> {
        if env.engine == Engine::Sqlite {
            return Err(ApiError::invalid(format!(
                "'{}' is an SQLite environment: it has no replication",
                env.name
            )));
        }
        let mut nodes = Vec::new();
        for (role, ep) in env.endpoints() {
            if matches!(role, Role::Primary | Role::Replica(_)) {
                let opts = crate::pool::pg_options(env, &role, ep, &self.inner.keychain, "dbdeck replication").await?;
                nodes.push((role, opts));
            }
        }
        Ok(Cluster::new(env, nodes))
    }

    /// Topology, with each standby's lag and the primary's position recorded as history.
    pub(super) async fn replication_status(&self, name: &str) -> Result<Topology, ApiError> {
        let env = self.inner.store.get_env(name).await?;
        let cluster = self.cluster(&env).await?;
        let mut topo = topology::read(&cluster, env.replication.lag_threshold_s).await;
        if let Some(url) = &env.patroni {
            let view = match Patroni::new(url, cluster.connect_timeout) {
                Ok(p) => p.cluster().await.map_err(|e| e.message),
                Err(e) => Err(e.message),
            };
            topo = topo.with_patroni(view);
        }
        self.record_topology(&topo).await;
        Ok(topo)
    }

    async fn record_topology(&self, topo: &Topology) {
        let mut values = Vec::new();
        for n in &topo.nodes {
            if let Some(s) = n.lag_s {
                values.push((format!("{LAG_S}{}", n.name), s));
            }
            if let Some(b) = n.lag_bytes {
                values.push((format!("{LAG_BYTES}{}", n.name), b as f64));
            }
            if n.role.as_deref() == Some("primary")
                && topo.primary.as_deref() == Some(n.name.as_str())
                && let Some(l) = n.current_lsn.as_deref().and_then(parse_lsn)
            {
                values.push((PRIMARY_LSN.to_owned(), l as f64));
            }
        }
        if let Err(e) = metrics::record_series(&self.inner.store, &topo.env, topo.ts_ms, &values).await {
            tracing::warn!(env = %topo.env, error = %e.message, "could not store replication lag");
        }
    }

    /// The last primary position dbdeck saw (for a failover's loss estimate).
    async fn last_primary_lsn(&self, env: &str) -> Option<Lsn> {
        metrics::samples(&self.inner.store, env, PRIMARY_LSN, 0)
            .await
            .ok()?
            .last()
            .map(|(_, v)| *v as Lsn)
    }

    /// The primary's slots, with a forecast from the retained WAL recorded so far; records
    /// this reading too.
    pub(super) async fn replication_slots(&self, name: &str) -> Result<SlotsReport, ApiError> {
        let env = self.inner.store.get_env(name).await?;
        let cluster = self.cluster(&env).await?;
        let primary = cluster.primary();
        let mut c = cluster.connect(primary).await?;
        let read = slots::read(&mut c).await;
        let _ = sqlx::Connection::close(c).await;
        let (keep, mut list) = read.map_err(|e| crate::probe::classify_pg(e, &primary.address))?;
        let (disk_free, disk_note) = match env.replication.data_dir_of(&primary.address) {
            Some(d) => match DataDir::new(d, pg_bin(env.replication.pg_bin.as_deref()))
                .disk_free()
                .await
            {
                Ok(f) => (Some(f), format!("free space under {d}/pg_wal")),
                Err(e) => (None, e.message),
            },
            None => (
                None,
                "the primary's data directory is not on this machine: disk free space is not known".into(),
            ),
        };
        let now = now_ms();
        let mut values = Vec::new();
        for s in &mut list {
            let id = format!("{SLOT_RETAINED}{}", s.name);
            let earlier = metrics::samples(&self.inner.store, name, &id, now - FORECAST_WINDOW_MS).await?;
            slots::forecast(s, &earlier, now, disk_free);
            if let Some(b) = s.retained_bytes {
                values.push((id, b as f64));
            }
        }
        metrics::record_series(&self.inner.store, name, now, &values).await?;
        Ok(SlotsReport {
            env: name.to_owned(),
            node: primary.name.clone(),
            ts_ms: now,
            max_slot_wal_keep_size_mb: keep,
            disk_free_bytes: disk_free,
            disk_note,
            slots: list,
        })
    }

    /// Each standby's replay lag over the last `minutes`, with the threshold.
    pub(super) async fn lag_chart(
        &self,
        name: &str,
        minutes: u32,
        width: Option<u32>,
        height: Option<u32>,
    ) -> Result<Chart, ApiError> {
        let env = self.inner.store.get_env(name).await?;
        let (width, height) = chart_size(width, height);
        let minutes = minutes.clamp(1, 90 * 1440);
        let to_ms = now_ms();
        let from_ms = to_ms - i64::from(minutes) * 60_000;
        let info = MetricInfo {
            target: Some(env.replication.lag_threshold_s),
            ..metrics::Metric::ReplayLagS.info()
        };
        let mut series = Vec::new();
        let mut as_of_ms = None;
        let configured: Vec<String> = env.replicas.iter().map(|r| format!("{LAG_S}{}", r.name)).collect();
        for id in metrics::series_ids(&self.inner.store, name, LAG_S, from_ms).await? {
            if !configured.contains(&id) {
                continue;
            }
            let h = metrics::history_of(
                &self.inner.store,
                name,
                &id,
                info.clone(),
                from_ms,
                to_ms,
                i64::from(width / 2),
                self.inner.retention,
            )
            .await?;
            as_of_ms = as_of_ms.max(h.points.last().map(|p| p.ts_ms));
            series.push(Series {
                name: id.trim_start_matches(LAG_S).to_owned(),
                colour: None,
                points: h.points.iter().map(|p| (p.ts_ms, Some(p.max))).collect(),
            });
        }
        let chart = TimeChart {
            unit: "s".into(),
            from_ms,
            to_ms,
            series,
            width,
            height,
            legend: true,
            target: Some(env.replication.lag_threshold_s),
            percent: false,
        };
        finish_chart(chart, "Replay lag", Some(name), minutes, as_of_ms).await
    }

    /// Run a switchover, failover or rejoin, audited before and after, with its phases sent as
    /// events as they start and end.
    pub(super) async fn replication_flow(
        &self,
        name: &str,
        kind: FlowKind,
        confirm: Option<&str>,
        catchup_timeout: Option<Duration>,
        job: Option<String>,
    ) -> Result<FlowReport, ApiError> {
        let env = self.inner.store.get_env(name).await?;
        let (action, params) = match &kind {
            FlowKind::Switchover { to, check_only } => (
                if *check_only {
                    "replication.switchover_check"
                } else {
                    "replication.switchover"
                },
                json!({ "to": to }),
            ),
            FlowKind::Failover { to, force, check_only } => (
                if *check_only {
                    "replication.failover_check"
                } else {
                    "replication.failover"
                },
                json!({ "to": to, "force": force }),
            ),
            FlowKind::Rejoin { node } => ("replication.rejoin", json!({ "node": node })),
        };
        let work = async {
            if !matches!(
                kind,
                FlowKind::Switchover { check_only: true, .. } | FlowKind::Failover { check_only: true, .. }
            ) {
                let what = match &kind {
                    FlowKind::Switchover { to, .. } => format!("a switchover to {to}"),
                    FlowKind::Failover { .. } => "a failover".into(),
                    FlowKind::Rejoin { node } => format!("rejoining {node}"),
                };
                env.guard(&what, confirm)?;
            }
            let cluster = self.cluster(&env).await?;
            let bouncer = match &env.pgbouncer {
                Some(_) => {
                    let (url, password, timeout) = self.pgbouncer_endpoint(&env).await?;
                    Some(Bouncer {
                        url,
                        password,
                        timeout,
                        ini: env.replication.pgbouncer_ini.as_ref().map(Into::into),
                    })
                }
                None => None,
            };
            let job = match job.filter(|j| {
                !j.is_empty() && j.len() <= 64 && j.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            }) {
                Some(j) => j,
                None => format!("{}-{}", action.trim_start_matches("replication."), now_ms()),
            };
            let api = self.clone();
            let env_name = env.name.clone();
            let job_id = job.clone();
            let progress = move |p: &Phase| {
                api.emit(Event::ReplicationProgress {
                    env: env_name.clone(),
                    job: job_id.clone(),
                    phase: p.clone(),
                })
            };
            let primary_password = match &env.primary.secret {
                Some(a) => self.inner.keychain.get(a).await?,
                None => None,
            };
            let ctx = FlowCtx {
                cluster: &cluster,
                settings: &env.replication,
                bouncer,
                job,
                progress: &progress,
                catchup_timeout: catchup_timeout.unwrap_or(Duration::from_secs(30)),
                fault_delay: fault_delay(),
                primary_password,
                patroni: match &env.patroni {
                    Some(url) => Some(Patroni::new(url, cluster.connect_timeout)?),
                    None => None,
                },
            };
            let repoint = Repoint {
                api: self,
                env: env.name.clone(),
            };
            match &kind {
                FlowKind::Switchover { to, check_only } => flow::switchover(&ctx, to, *check_only, &repoint).await,
                FlowKind::Failover { to, force, check_only } => {
                    let last = self.last_primary_lsn(&env.name).await;
                    flow::failover(&ctx, to.as_deref(), *force, *check_only, last, &repoint).await
                }
                FlowKind::Rejoin { node } => flow::rejoin(&ctx, node).await,
            }
        };
        self.audited_with(Some(name), action, params, work, |r: &FlowReport| {
            (!r.ok).then(|| r.outcome.clone())
        })
        .await
    }

    /// Make replica `new_primary` the environment's primary and the old primary that replica:
    /// their URLs swap, and so do the passwords in the keychain, so each role's keychain entry
    /// still holds the password of the endpoint in that role.
    pub(super) async fn swap_primary(&self, name: &str, new_primary: &str) -> Result<(), ApiError> {
        let mut env = self.inner.store.get_env(name).await?;
        let Some(i) = env.replicas.iter().position(|r| r.name == new_primary) else {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("'{name}' has no replica '{new_primary}'"),
            ));
        };
        let keychain = &self.inner.keychain;
        let pw_primary = match &env.primary.secret {
            Some(a) => keychain.get(a).await?,
            None => None,
        };
        let pw_replica = match &env.replicas[i].endpoint.secret {
            Some(a) => keychain.get(a).await?,
            None => None,
        };
        let acc_primary = self.account(name, &Role::Primary);
        let acc_replica = self.account(name, &Role::Replica(new_primary.to_owned()));
        for (account, pw) in [(&acc_primary, &pw_replica), (&acc_replica, &pw_primary)] {
            match pw {
                Some(p) => keychain.set(account, p).await?,
                None => {
                    let _ = keychain.delete(account).await;
                }
            }
        }
        let replica_url = std::mem::replace(&mut env.replicas[i].endpoint.url, env.primary.url.clone());
        env.primary.url = replica_url;
        env.primary.secret = pw_replica.map(|_| acc_primary);
        env.replicas[i].endpoint.secret = pw_primary.map(|_| acc_replica);
        self.inner.store.update_env(&env).await?;
        self.inner.pools.forget(name);
        self.emit(Event::EnvsChanged);
        Ok(())
    }

    /// Record each standby's lag during the scheduled health round (environments with replicas).
    pub(super) async fn collect_replication(&self, env: &Environment) {
        if env.replicas.is_empty() || env.engine == Engine::Sqlite {
            return;
        }
        match self.cluster(env).await {
            Ok(cluster) => {
                let topo = topology::read(&cluster, env.replication.lag_threshold_s).await;
                self.record_topology(&topo).await;
            }
            Err(e) => tracing::debug!(env = %env.name, error = %e.message, "replication not collected"),
        }
    }
}

/// `DBDECK_FAULT_DELAY=phase:ms`: wait before a phase of a flow. The tests use it to take a
/// node away at a known point; nothing else should set it.
fn fault_delay() -> Option<(String, Duration)> {
    let v = std::env::var("DBDECK_FAULT_DELAY").ok()?;
    let (phase, ms) = v.split_once(':')?;
    Some((phase.to_owned(), Duration::from_millis(ms.parse().ok()?)))
}

impl Response {
    /// Whether a flow's report says it did not go through (the CLI's exit status).
    pub fn flow_failed(&self) -> bool {
        matches!(self, Response::Flow(r) if !r.ok)
    }
}
