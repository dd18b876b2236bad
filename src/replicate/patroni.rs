//! Patroni's REST API: the cluster as Patroni sees it (`GET /cluster`), and switchover and
//! failover requests (`POST /switchover`, `POST /failover`). When an environment names a
//! Patroni endpoint, dbdeck never promotes or re-points a member itself: Patroni does.
//!
//! Patroni answers a switchover only after its own once-a-second check, so the flows poll
//! `GET /cluster` for the new leader rather than wait for the reply (see docs/BENCHMARKS.md).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::same_host;
use crate::error::{ApiError, ErrorCode};

/// One member as `GET /cluster` lists it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Member {
    pub name: String,
    /// `leader`, `replica`, `sync_standby`, `quorum_standby` or `standby_leader`.
    pub role: String,
    /// `running`, `streaming`, `stopped`, `starting`, … as Patroni reports it.
    pub state: String,
    #[serde(default)]
    #[ts(optional)]
    pub api_url: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub host: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub port: Option<u16>,
    /// Missing while the member's PostgreSQL is not running.
    #[serde(default)]
    #[ts(optional)]
    pub timeline: Option<i32>,
    /// Bytes behind the leader, or the string `"unknown"` when Patroni cannot tell.
    #[serde(default)]
    #[ts(optional, type = "number | string")]
    pub lag: Option<serde_json::Value>,
    /// `X/Y`, or `"unknown"`.
    #[serde(default)]
    #[ts(optional)]
    pub replay_lsn: Option<String>,
}

impl Member {
    /// Bytes behind the leader, when Patroni knows.
    pub fn lag_bytes(&self) -> Option<i64> {
        self.lag.as_ref().and_then(serde_json::Value::as_i64)
    }
    pub fn is_leader(&self) -> bool {
        matches!(self.role.as_str(), "leader" | "standby_leader")
    }
    /// Whether it is the node at `host:port`.
    pub fn is_at(&self, host: &str, port: u16) -> bool {
        self.port == Some(port) && self.host.as_deref().is_some_and(|h| same_host(h, host))
    }
    /// Its REST base (`http://host:port`), from `api_url` (which ends in `/patroni`).
    pub fn rest(&self) -> Option<String> {
        self.api_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').trim_end_matches("/patroni").to_owned())
    }
}

/// The cluster as Patroni sees it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct PatroniCluster {
    #[serde(default)]
    #[ts(optional)]
    pub scope: Option<String>,
    pub members: Vec<Member>,
    /// Maintenance mode: Patroni does not fail over or switch over.
    #[serde(default)]
    pub pause: bool,
}

impl PatroniCluster {
    pub fn leader(&self) -> Option<&Member> {
        self.members.iter().find(|m| m.is_leader())
    }
    pub fn member_at(&self, host: &str, port: u16) -> Option<&Member> {
        self.members.iter().find(|m| m.is_at(host, port))
    }
}

/// A client of one Patroni REST endpoint (any member's).
#[derive(Debug, Clone)]
pub struct Patroni {
    pub base: String,
    http: reqwest::Client,
}

impl Patroni {
    pub fn new(base: &str, timeout: Duration) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot make an HTTP client: {e}")))?;
        Ok(Patroni {
            base: base.trim_end_matches('/').to_owned(),
            http,
        })
    }

    fn unreachable(&self, url: &str, e: reqwest::Error) -> ApiError {
        let code = if e.is_timeout() {
            ErrorCode::Timeout
        } else {
            ErrorCode::Unreachable
        };
        ApiError::new(code, format!("Patroni at {url} did not answer: {e}"))
            .with_hint("check the environment's Patroni REST URL (restapi.connect_address)")
    }

    /// `GET /cluster` from the configured endpoint.
    pub async fn cluster(&self) -> Result<PatroniCluster, ApiError> {
        self.cluster_from(&self.base).await
    }

    /// `GET /cluster` from `base` (another member's REST address, when the configured one is
    /// down).
    pub async fn cluster_from(&self, base: &str) -> Result<PatroniCluster, ApiError> {
        let url = format!("{base}/cluster");
        let r = self
            .http
            .get(&url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| self.unreachable(&url, e))?;
        let status = r.status();
        if !status.is_success() {
            return Err(ApiError::new(
                ErrorCode::ServerError,
                format!("Patroni at {url} answered {status}"),
            ));
        }
        r.json().await.map_err(|e| {
            ApiError::new(
                ErrorCode::ServerError,
                format!("Patroni at {url} sent what is not a cluster: {e}"),
            )
        })
    }

    /// `POST /switchover` or `/failover` to the member at `rest`. Returns Patroni's answer; a
    /// refusal (4xx/5xx) becomes an error carrying Patroni's words.
    pub async fn request(&self, rest: &str, action: &str, body: serde_json::Value) -> Result<String, ApiError> {
        let url = format!("{rest}/{action}");
        let r = self
            .http
            .post(&url)
            .json(&body)
            // Patroni gives up on its own after about 20 s of polling.
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| self.unreachable(&url, e))?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        let text = text.trim().to_owned();
        if status.is_success() {
            Ok(text)
        } else {
            let code = match status.as_u16() {
                412 | 400 | 422 => ErrorCode::Conflict,
                _ => ErrorCode::ServerError,
            };
            Err(ApiError::new(
                code,
                format!(
                    "Patroni refused the {action} ({status}): {}",
                    if text.starts_with('<') { "bad request" } else { &text }
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_cluster_with_unknown_lag_and_no_timeline() {
        let c: PatroniCluster = serde_json::from_str(
            r#"{"members":[
              {"name":"node1","role":"leader","state":"running","api_url":"http://127.0.0.1:8008/patroni",
               "host":"127.0.0.1","port":5432,"timeline":11},
              {"name":"node2","role":"replica","state":"stopped","api_url":"http://127.0.0.1:8009/patroni",
               "host":"127.0.0.1","port":5433,"lag":"unknown","replay_lsn":"unknown"}],"scope":"bed"}"#,
        )
        .unwrap();
        assert_eq!(c.leader().unwrap().name, "node1");
        assert_eq!(c.leader().unwrap().rest().unwrap(), "http://127.0.0.1:8008");
        let n2 = c.member_at("localhost", 5433).unwrap();
        assert_eq!((n2.lag_bytes(), n2.timeline), (None, None));
        assert_eq!(n2.replay_lsn.as_deref(), Some("unknown"));
        assert!(!c.pause);
    }
}
