//! Pool-size advice: how big each application's connection pool should be, from what the
//! server allows and what the applications were seen to use.
//!
//! The arithmetic is shown with the answer. Usable connections are `max_connections` minus
//! the slots reserved for superusers and a margin for admin tools (dbdeck included). Each
//! application's steady pool per instance covers its observed 95th-percentile active
//! sessions with 25 % headroom; overflow covers the gap to its observed peak. When the sum
//! over all instances would exceed the usable connections, every application is scaled down
//! in proportion and the advice says so. Pure: numbers in, advice out.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What was observed of one application.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct AppLoad {
    pub application: String,
    /// 95th percentile of its active sessions (whole application, all instances).
    pub active_p95: f64,
    pub active_max: i64,
    /// Samples the figures come from.
    #[ts(type = "number")]
    pub samples: i64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PoolAdvice {
    pub max_connections: i32,
    pub reserved: i32,
    /// Left for tools such as dbdeck, psql and monitoring.
    pub admin_margin: i32,
    pub usable: i32,
    pub instances: u32,
    pub apps: Vec<AppAdvice>,
    /// Total connections the advice would use at peak (all apps, all instances, with overflow).
    pub total_at_peak: i64,
    pub scaled_down: bool,
    /// The arithmetic, one line per step, for a person to check.
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppAdvice {
    pub application: String,
    pub active_p95: f64,
    pub active_max: i64,
    /// Per instance.
    pub pool_size: u32,
    /// Per instance, above `pool_size`, closed again when idle.
    pub max_overflow: u32,
}

pub const HEADROOM: f64 = 1.25;

pub fn advise(max_connections: i32, reserved: i32, instances: u32, apps: &[AppLoad]) -> PoolAdvice {
    let instances_f = f64::from(instances.max(1));
    let admin_margin = (max_connections / 20).clamp(3, 10);
    let usable = (max_connections - reserved - admin_margin).max(1);
    let mut steps = vec![format!(
        "usable = max_connections {max_connections} − reserved {reserved} − admin margin {admin_margin} = {usable}"
    )];
    let mut out: Vec<AppAdvice> = apps
        .iter()
        .map(|a| {
            let size = ((a.active_p95 * HEADROOM) / instances_f).ceil().max(1.0) as u32;
            let peak_per_instance = (a.active_max as f64 / instances_f).ceil() as u32;
            let overflow = peak_per_instance.saturating_sub(size).max(size.div_ceil(4));
            steps.push(format!(
                "{}: pool = ceil(p95 {:.1} × {HEADROOM} ÷ {} instances) = {size}; overflow = max(peak {} ÷ {} − {size}, ¼ of pool) = {overflow}",
                a.application, a.active_p95, instances, a.active_max, instances
            ));
            AppAdvice {
                application: a.application.clone(),
                active_p95: a.active_p95,
                active_max: a.active_max,
                pool_size: size,
                max_overflow: overflow,
            }
        })
        .collect();
    let total = |v: &[AppAdvice]| -> i64 {
        v.iter()
            .map(|a| i64::from(a.pool_size + a.max_overflow) * i64::from(instances.max(1)))
            .sum()
    };
    let mut total_at_peak = total(&out);
    steps.push(format!(
        "at peak: Σ (pool + overflow) × {instances} instances = {total_at_peak}"
    ));
    let scaled_down = total_at_peak > i64::from(usable);
    if scaled_down {
        let factor = f64::from(usable) / total_at_peak as f64;
        for a in &mut out {
            a.pool_size = ((f64::from(a.pool_size) * factor).floor() as u32).max(1);
            a.max_overflow = (f64::from(a.max_overflow) * factor).floor() as u32;
        }
        total_at_peak = total(&out);
        steps.push(format!(
            "that exceeds {usable} usable: every pool scaled by {factor:.2} → {total_at_peak} at peak. Consider PgBouncer in transaction mode, or fewer instances"
        ));
    }
    PoolAdvice {
        max_connections,
        reserved,
        admin_margin,
        usable,
        instances,
        apps: out,
        total_at_peak,
        scaled_down,
        steps,
    }
}

/// The 95th percentile of `values` (nearest rank); 0 when empty.
pub fn p95(values: &mut [i64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable();
    let rank = ((values.len() as f64) * 0.95).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1] as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str, p95: f64, max: i64) -> AppLoad {
        AppLoad {
            application: name.into(),
            active_p95: p95,
            active_max: max,
            samples: 100,
        }
    }

    #[test]
    fn sizes_cover_p95_with_headroom_and_overflow_covers_the_peak() {
        let a = advise(100, 3, 2, &[app("api", 16.0, 30), app("worker", 2.0, 3)]);
        assert_eq!(a.usable, 92, "100 − 3 − 5");
        let api = &a.apps[0];
        assert_eq!(
            (api.pool_size, api.max_overflow),
            (10, 5),
            "ceil(16×1.25/2)=10; peak 15 per instance"
        );
        let worker = &a.apps[1];
        assert_eq!((worker.pool_size, worker.max_overflow), (2, 1));
        assert_eq!(a.total_at_peak, (15 + 3) * 2);
        assert!(!a.scaled_down);
        assert!(
            a.steps.iter().any(|s| s.starts_with("api: pool = ceil(p95 16.0")),
            "{:?}",
            a.steps
        );
    }

    #[test]
    fn too_many_instances_are_scaled_to_fit() {
        let a = advise(50, 3, 10, &[app("api", 40.0, 80)]);
        assert!(a.scaled_down);
        assert!(a.total_at_peak <= i64::from(a.usable), "{a:?}");
        assert!(a.steps.last().unwrap().contains("PgBouncer"));
    }

    #[test]
    fn percentile() {
        let mut v: Vec<i64> = (1..=100).collect();
        assert_eq!(p95(&mut v), 95.0);
        assert_eq!(p95(&mut []), 0.0);
    }
}
