//! Observing a server: one snapshot type per engine, cheap to collect, read-only.
//!
//! A snapshot is what a DBA looks at first when something is slow: who is connected and
//! doing what, who blocks whom, which statements cost most, how big things are, and whether
//! the buffer cache is doing its job. Every query here is a catalogue or statistics view read
//! (no table scans of user data, no locks beyond AccessShare on catalogues), and the number of
//! queries one snapshot sends is counted and reported so it can be kept small.

pub mod pgbouncer;
pub mod postgres;
pub mod redis;
pub mod sqlite;

use serde::Serialize;
use ts_rs::TS;

/// Everything one poll of an environment's primary found.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "engine", rename_all = "snake_case")]
pub enum Snapshot {
    Postgres(postgres::PgSnapshot),
    Sqlite(sqlite::SqliteSnapshot),
}

/// A status judged against a target, always shown with its word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warn,
    Critical,
    Unknown,
}

/// Hit ratio in percent (one decimal), None when nothing was read at all.
pub fn hit_pct(hit: i64, read: i64) -> Option<f64> {
    let total = hit + read;
    (total > 0).then(|| (hit as f64 * 1000.0 / total as f64).round() / 10.0)
}

/// Ok at or above target, warn within 10 points below it, critical further down.
pub fn judge(value: Option<f64>, target: f64) -> Status {
    match value {
        None => Status::Unknown,
        Some(v) if v >= target => Status::Ok,
        Some(v) if v >= target - 10.0 => Status::Warn,
        Some(_) => Status::Critical,
    }
}

/// Who blocks whom, as a forest: each entry is (depth, pid), roots first (sessions that block
/// others and wait for no one), each followed by the sessions waiting on it. A session waiting
/// on several appears under each of them; cycles (a deadlock about to be broken) are cut.
pub fn lock_tree(sessions: &[postgres::Session]) -> Vec<(usize, i32)> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut waiters: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    let mut blocked: BTreeSet<i32> = BTreeSet::new();
    for s in sessions {
        for b in &s.blocked_by {
            waiters.entry(*b).or_default().push(s.pid);
            blocked.insert(s.pid);
        }
    }
    let mut roots: Vec<i32> = waiters.keys().copied().filter(|p| !blocked.contains(p)).collect();
    if roots.is_empty() {
        // Only cycles: start anywhere so they still show.
        roots.extend(waiters.keys().next().copied());
    }
    let mut out = Vec::new();
    fn walk(
        pid: i32,
        depth: usize,
        waiters: &BTreeMap<i32, Vec<i32>>,
        path: &mut Vec<i32>,
        out: &mut Vec<(usize, i32)>,
    ) {
        out.push((depth, pid));
        if path.contains(&pid) {
            return;
        }
        path.push(pid);
        for w in waiters.get(&pid).into_iter().flatten() {
            walk(*w, depth + 1, waiters, path, out);
        }
        path.pop();
    }
    for r in roots {
        walk(r, 0, &waiters, &mut Vec::new(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(pid: i32, blocked_by: Vec<i32>) -> postgres::Session {
        postgres::Session {
            pid,
            database: None,
            user: None,
            application: String::new(),
            client: String::new(),
            state: None,
            wait_event_type: None,
            wait_event: None,
            xact_ms: None,
            query_ms: None,
            state_ms: None,
            query: String::new(),
            blocked_by,
        }
    }

    #[test]
    fn lock_tree_puts_blockers_first_and_waiters_beneath() {
        let s = vec![
            session(1, vec![]),
            session(2, vec![1]),
            session(3, vec![2]),
            session(4, vec![1]),
            session(9, vec![]),
        ];
        assert_eq!(lock_tree(&s), vec![(0, 1), (1, 2), (2, 3), (1, 4)]);
        assert!(lock_tree(&[session(5, vec![])]).is_empty(), "no waiting, no tree");
        let cycle = vec![session(1, vec![2]), session(2, vec![1])];
        assert_eq!(
            lock_tree(&cycle),
            vec![(0, 1), (1, 2), (2, 1)],
            "a cycle is shown once, then cut"
        );
    }

    #[test]
    fn ratios_and_judgement() {
        assert_eq!(hit_pct(0, 0), None);
        assert_eq!(hit_pct(999, 1), Some(99.9));
        assert_eq!(judge(Some(99.9), 90.0), Status::Ok);
        assert_eq!(judge(Some(85.0), 90.0), Status::Warn);
        assert_eq!(judge(Some(50.0), 90.0), Status::Critical);
        assert_eq!(judge(None, 90.0), Status::Unknown);
    }
}
