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

/// A client of a Patroni cluster's REST API, through the endpoints the environment names (any
/// member's answers for the cluster; several, comma-separated, are tried in turn, so the view
/// survives the loss of the member the first one is on).
#[derive(Debug, Clone)]
pub struct Patroni {
    /// The configured endpoints, in the order they are tried; never empty.
    pub bases: Vec<String>,
    http: reqwest::Client,
}

impl Patroni {
    /// `urls`: one REST base URL, or several separated by commas.
    pub fn new(urls: &str, timeout: Duration) -> Result<Self, ApiError> {
        let bases: Vec<String> = crate::env::patroni_endpoints(urls)
            .map(|u| u.trim_end_matches('/').to_owned())
            .collect();
        if bases.is_empty() {
            return Err(ApiError::invalid("the environment names no Patroni REST URL"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot make an HTTP client: {e}")))?;
        Ok(Patroni { bases, http })
    }

    /// The first configured endpoint (what messages name).
    pub fn base(&self) -> &str {
        &self.bases[0]
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

    /// `GET /cluster` from the first configured endpoint that answers. When none does, the
    /// error is the first one's, naming every endpoint tried.
    pub async fn cluster(&self) -> Result<PatroniCluster, ApiError> {
        let mut failed: Vec<ApiError> = Vec::new();
        for base in &self.bases {
            match self.cluster_from(base).await {
                Ok(c) => return Ok(c),
                Err(e) => failed.push(e),
            }
        }
        let all = failed.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
        let mut first = failed.swap_remove(0);
        if self.bases.len() > 1 {
            first.message = format!("none of the {} Patroni endpoints answered: {all}", self.bases.len());
        }
        Err(first)
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
    fn several_endpoints_are_kept_in_order() {
        let p = Patroni::new(" http://a:8008/ , http://b:8008,,", Duration::from_secs(1)).unwrap();
        assert_eq!(p.bases, ["http://a:8008", "http://b:8008"]);
        assert_eq!(p.base(), "http://a:8008");
        assert!(Patroni::new(" , ", Duration::from_secs(1)).is_err());
    }

    /// The first endpoint refuses (nothing listens there); the second answers for the cluster.
    #[tokio::test]
    async fn the_next_endpoint_answers_when_the_first_is_down() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_port = dead.local_addr().unwrap().port();
        drop(dead);
        let live = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let live_port = live.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = live.accept().await {
                let mut buf = [0u8; 1024];
                let _ = sock.read(&mut buf).await;
                let body = r#"{"members":[{"name":"n1","role":"leader","state":"running"}]}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(format!("{head}{body}").as_bytes()).await;
            }
        });
        let urls = format!("http://127.0.0.1:{dead_port},http://127.0.0.1:{live_port}");
        let p = Patroni::new(&urls, Duration::from_secs(2)).unwrap();
        assert_eq!(p.cluster().await.unwrap().leader().unwrap().name, "n1");

        let p = Patroni::new(
            &format!("http://127.0.0.1:{dead_port},http://127.0.0.1:{dead_port}"),
            Duration::from_secs(2),
        )
        .unwrap();
        let e = p.cluster().await.unwrap_err();
        assert!(
            e.message.starts_with("none of the 2 Patroni endpoints answered"),
            "{}",
            e.message
        );
    }

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
