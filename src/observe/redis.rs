//! Redis as a cache tier: hits, misses and hit rate, evictions and expiries, memory against
//! maxmemory, keyspace sizes and throughput, from one INFO call through the redis crate.

use std::time::{Duration, Instant};

use serde::Serialize;
use ts_rs::TS;

use super::{Status, hit_pct, judge};
use crate::env::redact_url;
use crate::error::{ApiError, ErrorCode};
use crate::secrets::Sensitive;

#[derive(Debug, Clone, Serialize, TS)]
pub struct RedisStats {
    #[ts(type = "number")]
    pub ts_ms: i64,
    pub took_ms: f64,
    pub target: String,
    pub version: String,
    #[ts(type = "number")]
    pub uptime_s: i64,
    #[ts(type = "number")]
    pub connected_clients: i64,
    /// The tier this Redis serves (from the environment's cache targets).
    pub tier: String,
    #[ts(type = "number")]
    pub hits: i64,
    #[ts(type = "number")]
    pub misses: i64,
    /// Since the server started (or CONFIG RESETSTAT).
    pub hit_rate_pct: Option<f64>,
    pub hit_target_pct: f64,
    pub hit_status: Status,
    #[ts(type = "number")]
    pub evicted_keys: i64,
    #[ts(type = "number")]
    pub expired_keys: i64,
    #[ts(type = "number")]
    pub used_memory: i64,
    /// 0 means no limit.
    #[ts(type = "number")]
    pub maxmemory: i64,
    pub maxmemory_policy: String,
    pub memory_pct: Option<f64>,
    #[ts(type = "number")]
    pub ops_per_sec: i64,
    pub keyspace: Vec<RedisDb>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RedisDb {
    pub db: String,
    #[ts(type = "number")]
    pub keys: i64,
    #[ts(type = "number")]
    pub expires: i64,
    #[ts(type = "number")]
    pub avg_ttl_ms: i64,
}

fn field<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .map(str::trim)
}

fn num(info: &str, key: &str) -> i64 {
    field(info, key).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Parse the text of `INFO` (all sections).
pub fn parse_info(info: &str, tier: &str, hit_target_pct: f64, target: &str) -> RedisStats {
    let (hits, misses) = (num(info, "keyspace_hits"), num(info, "keyspace_misses"));
    let rate = hit_pct(hits, misses);
    let (used, max) = (num(info, "used_memory"), num(info, "maxmemory"));
    let keyspace = info
        .lines()
        .filter(|l| l.starts_with("db") && l.contains(":keys="))
        .filter_map(|l| {
            let (db, rest) = l.trim().split_once(':')?;
            let get = |k: &str| {
                rest.split(',')
                    .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                    .and_then(|v| v.parse().ok())
            };
            Some(RedisDb {
                db: db.to_owned(),
                keys: get("keys")?,
                expires: get("expires").unwrap_or(0),
                avg_ttl_ms: get("avg_ttl").unwrap_or(0),
            })
        })
        .collect();
    RedisStats {
        ts_ms: crate::store::now_ms(),
        took_ms: 0.0,
        target: target.to_owned(),
        version: field(info, "redis_version").unwrap_or("?").to_owned(),
        uptime_s: num(info, "uptime_in_seconds"),
        connected_clients: num(info, "connected_clients"),
        tier: tier.to_owned(),
        hits,
        misses,
        hit_rate_pct: rate,
        hit_target_pct,
        hit_status: judge(rate, hit_target_pct),
        evicted_keys: num(info, "evicted_keys"),
        expired_keys: num(info, "expired_keys"),
        used_memory: used,
        maxmemory: max,
        maxmemory_policy: field(info, "maxmemory_policy").unwrap_or("?").to_owned(),
        memory_pct: (max > 0).then(|| (used as f64 * 1000.0 / max as f64).round() / 10.0),
        ops_per_sec: num(info, "instantaneous_ops_per_sec"),
        keyspace,
    }
}

/// Connect, run INFO, and parse it. `password` comes from the keychain.
pub async fn stats(
    url: &str,
    password: Option<&Sensitive<String>>,
    timeout: Duration,
    tier: &str,
    hit_target_pct: f64,
) -> Result<RedisStats, ApiError> {
    let target = redact_url(url);
    let mut u = url::Url::parse(url).map_err(|e| ApiError::invalid(format!("{target}: {e}")))?;
    if let Some(p) = password {
        // Only in memory, only for this connection.
        u.set_password(Some(p.expose()))
            .map_err(|()| ApiError::invalid(format!("{target}: cannot carry a password")))?;
    }
    let started = Instant::now();
    let work = async {
        let client = redis::Client::open(u.as_str()).map_err(|e| redis_error(&e, &target))?;
        let mut con = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| redis_error(&e, &target))?;
        let info: String = redis::cmd("INFO")
            .arg("everything")
            .query_async(&mut con)
            .await
            .map_err(|e| redis_error(&e, &target))?;
        Ok::<_, ApiError>(info)
    };
    let info = tokio::time::timeout(timeout, work).await.map_err(|_| {
        ApiError::new(
            ErrorCode::Timeout,
            format!("Redis at {target} did not answer within {} ms", timeout.as_millis()),
        )
    })??;
    let mut s = parse_info(&info, tier, hit_target_pct, &target);
    s.took_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    Ok(s)
}

fn redis_error(e: &redis::RedisError, target: &str) -> ApiError {
    let text = e.to_string();
    if e.is_connection_refusal() {
        ApiError::new(
            ErrorCode::ConnectionRefused,
            format!("connection refused by Redis at {target}"),
        )
        .with_hint("check that Redis is running and that host and port are right")
    } else if text.contains("NOAUTH")
        || text.contains("WRONGPASS")
        || text.contains("uthentication")
        || text.contains("invalid password")
    {
        ApiError::new(
            ErrorCode::AuthFailed,
            format!("Redis at {target} refused the credentials: {text}"),
        )
        .with_hint("store the password with `dbdeck env set-password ENV --role redis --password-stdin`")
    } else if e.is_timeout() {
        ApiError::new(ErrorCode::Timeout, format!("Redis at {target} timed out: {text}"))
    } else {
        ApiError::new(ErrorCode::Unreachable, format!("Redis at {target}: {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:3600\r\n# Clients\r\nconnected_clients:4\r\n\
        # Memory\r\nused_memory:1048576\r\nmaxmemory:4194304\r\nmaxmemory_policy:allkeys-lru\r\n\
        # Stats\r\ninstantaneous_ops_per_sec:120\r\nexpired_keys:7\r\nevicted_keys:3\r\nkeyspace_hits:900\r\nkeyspace_misses:100\r\n\
        # Keyspace\r\ndb0:keys=42,expires=5,avg_ttl=1000\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n";

    #[test]
    fn info_is_read_into_a_cache_view() {
        let s = parse_info(INFO, "query cache", 85.0, "redis://h:6379");
        assert_eq!(s.version, "7.0.15");
        assert_eq!(s.hit_rate_pct, Some(90.0));
        assert_eq!(s.hit_status, Status::Ok);
        assert_eq!(s.memory_pct, Some(25.0));
        assert_eq!((s.evicted_keys, s.expired_keys, s.ops_per_sec), (3, 7, 120));
        assert_eq!(s.keyspace.len(), 2);
        assert_eq!(s.keyspace[0].keys, 42);
        let strict = parse_info(INFO, "response cache", 95.0, "x");
        assert_eq!(strict.hit_status, Status::Warn, "90 % against a 95 % target");
    }
}
