//! Replication slots: what each holds back, and when that becomes a problem.
//!
//! A slot keeps WAL from its restart LSN on, whether anyone reads it or not. The forecast
//! divides what is left — the slot's `safe_wal_size` before `max_slot_wal_keep_size`
//! invalidates it, and the free space of the disk under pg_wal when dbdeck can see it — by how
//! fast the retained WAL grew over the samples dbdeck recorded (each `slots` read records one).

use serde::Serialize;
use sqlx::{PgConnection, Row};
use ts_rs::TS;

use super::{fmt_bytes, fmt_duration};

/// Warn when a slot is forecast to be invalidated, or the disk to fill, within this long.
pub const WARN_WITHIN_S: f64 = 24.0 * 3600.0;

#[derive(Debug, Clone, Serialize, TS)]
pub struct Slot {
    pub name: String,
    /// `physical` or `logical`.
    pub slot_type: String,
    pub plugin: Option<String>,
    pub database: Option<String>,
    pub active: bool,
    pub active_pid: Option<i32>,
    pub temporary: bool,
    pub restart_lsn: Option<String>,
    pub confirmed_flush_lsn: Option<String>,
    /// `reserved`, `extended`, `unreserved` or `lost`.
    pub wal_status: Option<String>,
    /// Bytes that can still be written before this slot is invalidated; `null` when
    /// max_slot_wal_keep_size is unlimited.
    #[ts(type = "number | null")]
    pub safe_wal_size: Option<i64>,
    /// WAL this slot holds back.
    #[ts(type = "number | null")]
    pub retained_bytes: Option<i64>,
    /// How fast `retained_bytes` grew over the recorded samples.
    pub growth_bytes_per_s: Option<f64>,
    pub invalidated_in_s: Option<f64>,
    pub disk_full_in_s: Option<f64>,
    /// The forecast in a sentence.
    pub forecast: String,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SlotsReport {
    pub env: String,
    /// The node the slots were read from (the primary).
    pub node: String,
    #[ts(type = "number")]
    pub ts_ms: i64,
    /// `-1` means unlimited: a stuck slot can fill the disk.
    pub max_slot_wal_keep_size_mb: i64,
    /// Free space of the file system under pg_wal, when its data directory is on this machine.
    #[ts(type = "number | null")]
    pub disk_free_bytes: Option<i64>,
    pub disk_note: String,
    pub slots: Vec<Slot>,
}

/// Read the slots of the node `c` is connected to (forecast fields left empty).
pub async fn read(c: &mut PgConnection) -> Result<(i64, Vec<Slot>), sqlx::Error> {
    let keep: i64 = sqlx::query_scalar("SELECT setting::int8 FROM pg_settings WHERE name = 'max_slot_wal_keep_size'")
        .fetch_one(&mut *c)
        .await?;
    let rows = sqlx::query(
        "SELECT slot_name::text, slot_type, plugin::text, database::text, active, active_pid, temporary, \
                restart_lsn::text, confirmed_flush_lsn::text, wal_status, safe_wal_size, \
                CASE WHEN restart_lsn IS NULL THEN NULL ELSE pg_wal_lsn_diff( \
                    CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, \
                    restart_lsn)::int8 END \
         FROM pg_replication_slots ORDER BY slot_name",
    )
    .fetch_all(&mut *c)
    .await?;
    let slots = rows
        .into_iter()
        .map(|r| Slot {
            name: r.get(0),
            slot_type: r.get(1),
            plugin: r.get(2),
            database: r.get(3),
            active: r.get(4),
            active_pid: r.get(5),
            temporary: r.get(6),
            restart_lsn: r.get(7),
            confirmed_flush_lsn: r.get(8),
            wal_status: r.get(9),
            safe_wal_size: r.get(10),
            retained_bytes: r.get(11),
            growth_bytes_per_s: None,
            invalidated_in_s: None,
            disk_full_in_s: None,
            forecast: String::new(),
            warnings: vec![],
        })
        .collect();
    Ok((keep, slots))
}

/// Fill in a slot's forecast from earlier samples of its retained WAL (`(ts_ms, bytes)`,
/// oldest first) and the current one at `now_ms`.
pub fn forecast(slot: &mut Slot, earlier: &[(i64, f64)], now_ms: i64, disk_free: Option<i64>) {
    let retained = slot.retained_bytes.unwrap_or(0) as f64;
    // The oldest sample at least a second old: the longest baseline, least noise.
    let base = earlier.iter().find(|(t, _)| now_ms - *t >= 1000);
    slot.growth_bytes_per_s = base.map(|(t, b)| (retained - b) / ((now_ms - t) as f64 / 1000.0));
    let rate = slot.growth_bytes_per_s.filter(|r| *r > 0.0);
    slot.invalidated_in_s = match (rate, slot.safe_wal_size) {
        (Some(r), Some(safe)) => Some(safe.max(0) as f64 / r),
        _ => None,
    };
    slot.disk_full_in_s = match (rate, disk_free) {
        (Some(r), Some(free)) => Some(free.max(0) as f64 / r),
        _ => None,
    };
    slot.forecast = match (slot.growth_bytes_per_s, rate) {
        (None, _) => "one sample so far: read the slots again later for a growth rate".into(),
        (Some(_), None) => "retained WAL is not growing".into(),
        (Some(_), Some(r)) => {
            let mut s = format!("retained WAL grows {}/s", fmt_bytes(r));
            match slot.invalidated_in_s {
                Some(t) => s.push_str(&format!(
                    "; invalidated by max_slot_wal_keep_size in about {}",
                    fmt_duration(t)
                )),
                None if slot.safe_wal_size.is_none() => s.push_str("; max_slot_wal_keep_size is unlimited"),
                None => {}
            }
            match slot.disk_full_in_s {
                Some(t) => s.push_str(&format!("; pg_wal fills the disk in about {}", fmt_duration(t))),
                None => s.push_str("; the disk's free space is not visible from here"),
            }
            s
        }
    };
    let mut w = Vec::new();
    match slot.wal_status.as_deref() {
        Some("lost") => {
            w.push("invalidated: its consumer can no longer resume; drop the slot and rebuild the consumer".into())
        }
        Some("unreserved") => {
            w.push("past max_slot_wal_keep_size: it will be invalidated at the next checkpoint".into())
        }
        _ => {}
    }
    if !slot.active && retained > 0.0 && slot.wal_status.as_deref() != Some("lost") {
        w.push(format!(
            "inactive: nothing reads it, and it holds back {} of WAL",
            fmt_bytes(retained)
        ));
    }
    if let Some(t) = slot.invalidated_in_s.filter(|t| *t < WARN_WITHIN_S) {
        w.push(format!("at this rate it is invalidated in about {}", fmt_duration(t)));
    }
    if let Some(t) = slot.disk_full_in_s.filter(|t| *t < WARN_WITHIN_S) {
        w.push(format!(
            "at this rate pg_wal fills the disk in about {}",
            fmt_duration(t)
        ));
    }
    slot.warnings = w;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(retained: i64, safe: Option<i64>, active: bool) -> Slot {
        Slot {
            name: "s".into(),
            slot_type: "physical".into(),
            plugin: None,
            database: None,
            active,
            active_pid: None,
            temporary: false,
            restart_lsn: Some("0/1000000".into()),
            confirmed_flush_lsn: None,
            wal_status: Some("reserved".into()),
            safe_wal_size: safe,
            retained_bytes: Some(retained),
            growth_bytes_per_s: None,
            invalidated_in_s: None,
            disk_full_in_s: None,
            forecast: String::new(),
            warnings: vec![],
        }
    }

    #[test]
    fn a_growing_stuck_slot_is_forecast_and_warned() {
        let mut s = slot(20 << 20, Some(40 << 20), false);
        // 10 MiB more than 10 s ago: 1 MiB/s, 40 MiB left → 40 s.
        forecast(&mut s, &[(0, (10 << 20) as f64)], 10_000, Some(100 << 20));
        assert_eq!(s.growth_bytes_per_s, Some(1048576.0));
        assert_eq!(s.invalidated_in_s, Some(40.0));
        assert_eq!(s.disk_full_in_s, Some(100.0));
        assert!(s.warnings.iter().any(|w| w.starts_with("inactive")));
        assert!(s.warnings.iter().any(|w| w.contains("invalidated in about 40 s")));
        assert!(s.forecast.contains("1.0 MiB/s"), "{}", s.forecast);
    }

    #[test]
    fn first_sample_and_flat_slots_have_no_forecast() {
        let mut s = slot(1 << 20, None, true);
        forecast(&mut s, &[], 10_000, None);
        assert!(s.forecast.starts_with("one sample"));
        assert!(s.warnings.is_empty());
        forecast(&mut s, &[(0, (1 << 20) as f64)], 10_000, None);
        assert_eq!(s.forecast, "retained WAL is not growing");
    }
}
