//! The audit log: an append-only, hash-chained record of every action dbdeck takes.
//!
//! Each action is written twice — an intent before it runs and an outcome after — so a crash
//! in between still leaves the intent. Every record carries the hash of the one before it;
//! [`AuditLog::verify`] recomputes the chain and names the first record that was changed,
//! removed or reordered. Parameters are recorded without secrets: callers pass only values
//! that are safe to keep forever. This module must never update or delete a record.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use ts_rs::TS;

use crate::error::ApiError;
use crate::store::Store;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Serialize, TS, PartialEq)]
pub struct AuditRecord {
    #[ts(type = "number")]
    pub id: i64,
    /// RFC 3339, UTC, milliseconds.
    pub ts: String,
    /// OS user who ran dbdeck.
    pub actor: String,
    /// Which door: `cli`, `web` or `desktop`.
    pub source: String,
    pub env: Option<String>,
    pub action: String,
    pub params: serde_json::Value,
    /// `started` for an intent; `ok`, `error` or `refused` for an outcome.
    pub outcome: String,
    pub detail: Option<String>,
    /// For an outcome: the id of its intent.
    #[ts(type = "number | null")]
    pub intent_id: Option<i64>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, TS, PartialEq, Eq)]
pub struct VerifyReport {
    pub ok: bool,
    #[ts(type = "number")]
    pub records: u64,
    pub head_hash: String,
    pub first_bad: Option<BadRecord>,
}

#[derive(Debug, Clone, Serialize, TS, PartialEq, Eq)]
pub struct BadRecord {
    #[ts(type = "number")]
    pub id: i64,
    pub reason: String,
}

/// What to write; id, time and hashes are filled in by [`AuditLog::append`].
#[derive(Debug, Clone)]
pub struct Entry {
    pub env: Option<String>,
    pub action: String,
    pub params: serde_json::Value,
    pub outcome: String,
    pub detail: Option<String>,
    pub intent_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    store: Store,
    actor: String,
    source: String,
}

fn hash_of(r: &AuditRecord) -> String {
    // A JSON array is an unambiguous encoding of the fields, in a fixed order.
    let canonical = serde_json::json!([
        r.id,
        r.ts,
        r.actor,
        r.source,
        r.env,
        r.action,
        r.params,
        r.outcome,
        r.detail,
        r.intent_id,
        r.prev_hash
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// The OS user running dbdeck: `$USER` (or its Windows/login equivalents), else the name of
/// the process's real uid from /etc/passwd, else `uid <n>`.
pub fn os_user() -> String {
    if let Some(u) = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
    {
        return u;
    }
    let uid = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next().map(str::to_owned))
    });
    let Some(uid) = uid else { return "unknown".to_owned() };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid).then(|| f[0].to_owned())
            })
        })
        .unwrap_or(format!("uid {uid}"))
}

impl AuditLog {
    pub fn new(store: Store, source: &str) -> Self {
        Self {
            store,
            actor: os_user(),
            source: source.to_owned(),
        }
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Append one record. `BEGIN IMMEDIATE` takes SQLite's write lock before reading the
    /// head, so two processes appending at once still form one chain.
    pub async fn append(&self, e: Entry) -> Result<AuditRecord, ApiError> {
        let mut conn = self.store.pool().acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let result: Result<AuditRecord, ApiError> = async {
            let head = sqlx::query("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *conn)
                .await?;
            let seq: Option<i64> = sqlx::query("SELECT seq FROM sqlite_sequence WHERE name = 'audit'")
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.get(0));
            let (last_id, prev_hash) = match head {
                Some(r) => (r.get::<i64, _>(0), r.get::<String, _>(1)),
                None => (0, GENESIS.to_owned()),
            };
            let mut rec = AuditRecord {
                id: last_id.max(seq.unwrap_or(0)) + 1,
                ts: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                actor: self.actor.clone(),
                source: self.source.clone(),
                env: e.env,
                action: e.action,
                params: e.params,
                outcome: e.outcome,
                detail: e.detail,
                intent_id: e.intent_id,
                prev_hash,
                hash: String::new(),
            };
            rec.hash = hash_of(&rec);
            sqlx::query(
                "INSERT INTO audit (id, ts, actor, source, env, action, params, outcome, detail, intent_id, prev_hash, hash) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(rec.id)
            .bind(&rec.ts)
            .bind(&rec.actor)
            .bind(&rec.source)
            .bind(&rec.env)
            .bind(&rec.action)
            .bind(rec.params.to_string())
            .bind(&rec.outcome)
            .bind(&rec.detail)
            .bind(rec.intent_id)
            .bind(&rec.prev_hash)
            .bind(&rec.hash)
            .execute(&mut *conn)
            .await?;
            Ok(rec)
        }
        .await;
        match &result {
            Ok(_) => {
                sqlx::query("COMMIT").execute(&mut *conn).await?;
            }
            Err(_) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            }
        }
        result
    }

    /// Newest first.
    pub async fn list(
        &self,
        env: Option<&str>,
        limit: u32,
        before_id: Option<i64>,
    ) -> Result<Vec<AuditRecord>, ApiError> {
        let rows = sqlx::query(
            "SELECT id, ts, actor, source, env, action, params, outcome, detail, intent_id, prev_hash, hash FROM audit \
             WHERE (? IS NULL OR env = ?) AND id < ? ORDER BY id DESC LIMIT ?",
        )
        .bind(env)
        .bind(env)
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows.iter().map(record_from_row).collect())
    }

    /// Walk the whole chain from the first record.
    pub async fn verify(&self) -> Result<VerifyReport, ApiError> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query(
            "SELECT id, ts, actor, source, env, action, params, outcome, detail, intent_id, prev_hash, hash FROM audit ORDER BY id",
        )
        .fetch(self.store.pool());
        let mut expected_prev = GENESIS.to_owned();
        let mut expected_id = 1i64;
        let mut count = 0u64;
        let bad = |id: i64, reason: String, count: u64, head: &str| VerifyReport {
            ok: false,
            records: count,
            head_hash: head.to_owned(),
            first_bad: Some(BadRecord { id, reason }),
        };
        while let Some(row) = rows.try_next().await? {
            let rec = record_from_row(&row);
            if rec.id != expected_id {
                let reason = if rec.id > expected_id {
                    format!(
                        "records {expected_id}..{} are missing (removed from the log)",
                        rec.id - 1
                    )
                } else {
                    format!("record id {} is out of order", rec.id)
                };
                return Ok(bad(expected_id, reason, count, &expected_prev));
            }
            if rec.prev_hash != expected_prev {
                return Ok(bad(
                    rec.id,
                    "its link to the previous record is broken (a record before it was changed or replaced)".into(),
                    count,
                    &expected_prev,
                ));
            }
            if hash_of(&rec) != rec.hash {
                return Ok(bad(
                    rec.id,
                    "its contents were changed after it was written".into(),
                    count,
                    &expected_prev,
                ));
            }
            expected_prev = rec.hash;
            expected_id += 1;
            count += 1;
        }
        drop(rows);
        let seq: i64 = sqlx::query("SELECT seq FROM sqlite_sequence WHERE name = 'audit'")
            .fetch_optional(self.store.pool())
            .await?
            .map(|r| r.get(0))
            .unwrap_or(0);
        if seq >= expected_id {
            return Ok(bad(
                expected_id,
                format!("records {expected_id}..{seq} were written and later removed from the end of the log"),
                count,
                &expected_prev,
            ));
        }
        Ok(VerifyReport {
            ok: true,
            records: count,
            head_hash: expected_prev,
            first_bad: None,
        })
    }
}

fn record_from_row(r: &sqlx::sqlite::SqliteRow) -> AuditRecord {
    let params: String = r.get(6);
    AuditRecord {
        id: r.get(0),
        ts: r.get(1),
        actor: r.get(2),
        source: r.get(3),
        env: r.get(4),
        action: r.get(5),
        // Unparseable text is kept as a string so verify can still recompute (and flag) it.
        params: serde_json::from_str(&params).unwrap_or(serde_json::Value::String(params)),
        outcome: r.get(7),
        detail: r.get(8),
        intent_id: r.get(9),
        prev_hash: r.get(10),
        hash: r.get(11),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn log() -> (tempfile::TempDir, AuditLog) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        (dir, AuditLog::new(store, "test"))
    }

    fn entry(action: &str) -> Entry {
        Entry {
            env: Some("dev".into()),
            action: action.into(),
            params: serde_json::json!({"n": 1}),
            outcome: "ok".into(),
            detail: None,
            intent_id: None,
        }
    }

    #[tokio::test]
    async fn chain_verifies_and_links() {
        let (_d, log) = log().await;
        let a = log.append(entry("a")).await.unwrap();
        let b = log.append(entry("b")).await.unwrap();
        assert_eq!(a.prev_hash, GENESIS);
        assert_eq!(b.prev_hash, a.hash);
        let r = log.verify().await.unwrap();
        assert!(r.ok && r.records == 2, "{r:?}");
        assert_eq!(r.head_hash, b.hash);
    }

    #[tokio::test]
    async fn tampering_is_refused_by_triggers_and_caught_by_verify() {
        let (_d, log) = log().await;
        for a in ["a", "b", "c", "d"] {
            log.append(entry(a)).await.unwrap();
        }
        let pool = log.store.pool();
        let err = sqlx::query("UPDATE audit SET action = 'x' WHERE id = 2")
            .execute(pool)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");

        // Someone with write access to the file drops the guard and edits record 2.
        sqlx::query("DROP TRIGGER audit_no_update").execute(pool).await.unwrap();
        sqlx::query("UPDATE audit SET outcome = 'error' WHERE id = 2")
            .execute(pool)
            .await
            .unwrap();
        let r = log.verify().await.unwrap();
        assert_eq!(r.first_bad.as_ref().map(|b| b.id), Some(2), "{r:?}");
        assert!(r.first_bad.unwrap().reason.contains("changed"));
    }

    #[tokio::test]
    async fn removing_a_record_or_the_tail_is_caught() {
        let (_d, log) = log().await;
        for a in ["a", "b", "c", "d"] {
            log.append(entry(a)).await.unwrap();
        }
        let pool = log.store.pool();
        sqlx::query("DROP TRIGGER audit_no_delete").execute(pool).await.unwrap();
        sqlx::query("DELETE FROM audit WHERE id = 4")
            .execute(pool)
            .await
            .unwrap();
        let r = log.verify().await.unwrap();
        assert_eq!(
            r.first_bad.as_ref().map(|b| b.id),
            Some(4),
            "tail removal shows via sqlite_sequence: {r:?}"
        );
        sqlx::query("DELETE FROM audit WHERE id = 2")
            .execute(pool)
            .await
            .unwrap();
        let r = log.verify().await.unwrap();
        assert_eq!(r.first_bad.as_ref().map(|b| b.id), Some(2), "{r:?}");
        assert!(r.first_bad.unwrap().reason.contains("missing"));
    }
}
