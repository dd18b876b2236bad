//! Folder against history: which migrations are applied, pending, modified, missing or failed.
//! Pure: [`compare`] takes what [`super::source`] read and what [`super::history`] read.

use serde::Serialize;
use ts_rs::TS;

use super::history::{Applied, History, RowKind};
use super::source::{Checksum, MigrationKind, Source, SourceFormat, Version};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Applied, and the file still has the checksum recorded then.
    Applied,
    /// In the folder, not applied.
    Pending,
    /// Applied, but the file changed since: dbdeck stops until it is repaired.
    Modified,
    /// In the history, not in the folder.
    Missing,
    /// The tool recorded a failure, or a run that never finished.
    Failed,
    /// A Flyway repeatable whose file changed: it will be applied again.
    Outdated,
    /// Flyway undid it (UNDO_SQL); it is pending again.
    Undone,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Modified => "modified",
            State::Missing => "missing",
            State::Failed => "failed",
            State::Outdated => "outdated",
            State::Undone => "undone",
        }
    }
}

/// One line of the status table.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Entry {
    pub version: Option<Version>,
    pub description: String,
    pub state: State,
    /// The file, when the folder has it.
    pub file: Option<String>,
    pub has_down: bool,
    pub installed_on: Option<String>,
    pub execution_ms: Option<f64>,
    pub checksum_file: Option<Checksum>,
    pub checksum_applied: Option<Checksum>,
}

/// The status of one folder on one database.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(rename = "MigrationStatus")]
pub struct Status {
    pub format: SourceFormat,
    pub table: String,
    /// Versioned in version order (missing ones in their place), then repeatables.
    pub entries: Vec<Entry>,
    pub applied: u32,
    pub pending: u32,
    pub modified: u32,
    pub missing: u32,
    pub failed: u32,
    /// The newest applied version.
    pub current: Option<Version>,
    pub alembic_head: Vec<String>,
    /// Why applying would be refused now (modified or failed migrations), for the person.
    pub blockers: Vec<String>,
}

impl Status {
    pub fn pending_versions(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| matches!(e.state, State::Pending | State::Outdated | State::Undone))
    }
}

/// The last history row of each version: a Flyway undo after an apply makes it pending again.
fn last_rows(history: &History) -> Vec<&Applied> {
    let mut out: Vec<&Applied> = Vec::new();
    for row in &history.rows {
        let same = |a: &&Applied| match (&a.version, &row.version) {
            (Some(x), Some(y)) => x == y,
            (None, None) => a.description == row.description,
            _ => false,
        };
        if let Some(i) = out.iter().position(same) {
            out[i] = row;
        } else {
            out.push(row);
        }
    }
    out
}

pub fn compare(source: &Source, history: &History) -> Status {
    let rows = last_rows(history);
    let mut entries = Vec::new();
    // Versioned: union of the folder's and the history's versions, in order.
    let mut versions: Vec<Version> = source.versioned().filter_map(|m| m.version.clone()).collect();
    for r in &rows {
        if r.kind != RowKind::Repeatable
            && let Some(v) = &r.version
            && !versions.contains(v)
        {
            versions.push(v.clone());
        }
    }
    versions.sort();
    for v in versions {
        let file = source.find(&v);
        let row = rows
            .iter()
            .find(|r| r.version.as_ref() == Some(&v) && r.kind != RowKind::Repeatable);
        let state = match (file, row) {
            (Some(_), None) => State::Pending,
            (None, Some(r)) if r.kind == RowKind::Undo => continue,
            (None, Some(_)) => State::Missing,
            (Some(_), Some(r)) if r.kind == RowKind::Undo => State::Undone,
            (Some(_), Some(r)) if !r.success => State::Failed,
            (Some(m), Some(r)) => match &r.checksum {
                Some(c) if *c != m.up.checksum => State::Modified,
                _ => State::Applied,
            },
            (None, None) => continue,
        };
        entries.push(Entry {
            version: Some(v.clone()),
            description: file
                .map(|m| m.description.clone())
                .or_else(|| row.map(|r| r.description.clone()))
                .unwrap_or_default(),
            state,
            file: file.map(|m| m.up.path.display().to_string()),
            has_down: file.is_some_and(|m| m.down.is_some()),
            installed_on: row.and_then(|r| r.installed_on.clone()),
            execution_ms: row.and_then(|r| r.execution_ms),
            checksum_file: file.map(|m| m.up.checksum.clone()),
            checksum_applied: row.and_then(|r| r.checksum.clone()),
        });
    }
    // Repeatables (Flyway): applied when their latest row has the file's checksum.
    for m in source.migrations.iter().filter(|m| m.kind == MigrationKind::Repeatable) {
        let row = rows
            .iter()
            .find(|r| r.kind == RowKind::Repeatable && r.description == m.description);
        let state = match row {
            None => State::Pending,
            Some(r) if !r.success => State::Failed,
            Some(r) if r.checksum.as_ref() != Some(&m.up.checksum) => State::Outdated,
            Some(_) => State::Applied,
        };
        entries.push(Entry {
            version: None,
            description: m.description.clone(),
            state,
            file: Some(m.up.path.display().to_string()),
            has_down: false,
            installed_on: row.and_then(|r| r.installed_on.clone()),
            execution_ms: row.and_then(|r| r.execution_ms),
            checksum_file: Some(m.up.checksum.clone()),
            checksum_applied: row.and_then(|r| r.checksum.clone()),
        });
    }
    let count = |s: State| entries.iter().filter(|e| e.state == s).count() as u32;
    let mut blockers = Vec::new();
    for e in &entries {
        let name = match &e.version {
            Some(v) => format!("{v} ({})", e.description),
            None => format!("R {}", e.description),
        };
        match e.state {
            State::Modified => blockers.push(format!(
                "{name} was applied with checksum {} but the file now has {}: restore the file, or repair \
                 the history if the change is intended",
                e.checksum_applied.as_ref().map(ToString::to_string).unwrap_or_default(),
                e.checksum_file.as_ref().map(ToString::to_string).unwrap_or_default(),
            )),
            State::Failed => blockers.push(format!(
                "{name} failed or never finished when it was last applied: check the schema by hand, then \
                 repair to clear it"
            )),
            _ => {}
        }
    }
    let current = entries
        .iter()
        .filter(|e| matches!(e.state, State::Applied | State::Modified | State::Missing))
        .filter_map(|e| e.version.clone())
        .max();
    Status {
        format: source.format,
        table: history.table.clone(),
        applied: count(State::Applied),
        pending: count(State::Pending) + count(State::Outdated) + count(State::Undone),
        modified: count(State::Modified),
        missing: count(State::Missing),
        failed: count(State::Failed),
        current,
        alembic_head: history.alembic_head.clone(),
        blockers,
        entries,
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::migrate::source::read_files;

    fn source(list: &[(&str, &str)]) -> Source {
        read_files(
            Path::new("m"),
            list.iter()
                .map(|(p, s)| (PathBuf::from(p), s.as_bytes().to_vec()))
                .collect(),
            None,
        )
    }

    fn row(src: &Source, version: &str, success: bool) -> Applied {
        let v = Version::parse(version).unwrap();
        let m = src.find(&v);
        Applied {
            version: Some(v),
            description: m.map(|m| m.description.clone()).unwrap_or_else(|| "gone".into()),
            kind: RowKind::Versioned,
            installed_on: Some("2026-11-01 10:00:00+00".into()),
            execution_ms: Some(3.5),
            success,
            checksum: m.map(|m| m.up.checksum.clone()).or(Some(Checksum::Sha384("00".into()))),
            script: None,
            rank: None,
        }
    }

    #[test]
    fn applied_pending_modified_missing_failed() {
        let src = source(&[
            ("1_a.sql", "CREATE TABLE a (id bigint);"),
            ("2_b.sql", "CREATE TABLE b (id bigint);"),
            ("3_c.sql", "CREATE TABLE c (id bigint);"),
            ("5_e.sql", "CREATE TABLE e (id bigint);"),
        ]);
        let mut modified = row(&src, "2", true);
        modified.checksum = Some(Checksum::Sha384("ab".repeat(48)));
        let history = History {
            table: "_sqlx_migrations".into(),
            exists: true,
            rows: vec![
                row(&src, "1", true),
                modified,
                row(&src, "3", false),
                row(&src, "4", true),
            ],
            alembic_head: vec![],
        };
        let st = compare(&src, &history);
        let states: Vec<_> = st
            .entries
            .iter()
            .map(|e| (e.version.as_ref().unwrap().to_string(), e.state))
            .collect();
        assert_eq!(
            states,
            [
                ("1".into(), State::Applied),
                ("2".into(), State::Modified),
                ("3".into(), State::Failed),
                ("4".into(), State::Missing),
                ("5".into(), State::Pending),
            ]
        );
        assert_eq!(
            (st.applied, st.pending, st.modified, st.missing, st.failed),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(st.blockers.len(), 2);
        assert!(
            st.blockers[0].starts_with("2 (b) was applied with checksum abababababab"),
            "{}",
            st.blockers[0]
        );
        assert_eq!(st.current.unwrap().as_str(), "4");
    }

    #[test]
    fn flyway_undo_and_repeatables() {
        let src = source(&[
            ("V1__a.sql", "CREATE TABLE a (id bigint);"),
            ("U1__a.sql", "DROP TABLE a;"),
            ("R__views.sql", "CREATE VIEW v AS SELECT 1;"),
            ("R__more.sql", "CREATE VIEW w AS SELECT 2;"),
        ]);
        let mut applied = row(&src, "1", true);
        applied.rank = Some(1);
        let mut undo = applied.clone();
        undo.kind = RowKind::Undo;
        let rep = |d: &str, c: Checksum| Applied {
            version: None,
            description: d.into(),
            kind: RowKind::Repeatable,
            installed_on: None,
            execution_ms: None,
            success: true,
            checksum: Some(c),
            script: None,
            rank: None,
        };
        let history = History {
            table: "flyway_schema_history".into(),
            exists: true,
            rows: vec![
                applied,
                rep("views", Checksum::Crc32(1)),
                rep("more", src.migrations[1].up.checksum.clone()),
                undo,
            ],
            alembic_head: vec![],
        };
        let st = compare(&src, &history);
        let states: Vec<_> = st.entries.iter().map(|e| (e.description.clone(), e.state)).collect();
        assert_eq!(
            states,
            [
                ("a".into(), State::Undone),
                ("more".into(), State::Applied),
                ("views".into(), State::Outdated)
            ]
        );
        assert_eq!(st.pending, 2);
    }
}
