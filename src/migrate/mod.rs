//! Schema migrations: reading a team's migration folder ([`source`]), the history tables their
//! tools keep ([`history`]), status and drift ([`status`]), the lock-safety lint ([`lint`]),
//! applying, dry-running and rolling back ([`run`]), and scratch databases for dry runs and
//! rollback tests ([`scratch`]).

pub mod history;
pub mod lint;
pub mod run;
pub mod scratch;
pub mod source;
pub mod status;

use serde::Serialize;
use ts_rs::TS;

use self::source::{SourceFormat, SourceProblem, Version};

/// A folder's status on one environment, with what could not be read in the folder.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MigrationOverview {
    pub env: String,
    pub dir: String,
    pub format: SourceFormat,
    pub detected_from: String,
    pub problems: Vec<SourceProblem>,
    pub status: status::Status,
}

/// One pending migration as the wizard's plan shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PlanStep {
    pub version: Option<Version>,
    pub description: String,
    pub file: String,
    pub sql: String,
    pub down_file: Option<String>,
    pub transactional: bool,
    pub statements: u32,
    pub lint: lint::LintReport,
}

/// What applying would do, linted against the live target.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MigrationPlan {
    pub env: String,
    pub prod: bool,
    pub overview: MigrationOverview,
    pub steps: Vec<PlanStep>,
    /// "transaction" when every step can be tried and rolled back in place, else "scratch
    /// database" (a copy of the target's schema that is dropped afterwards).
    pub dry_run_method: String,
    /// The target's tables, sessions and replicas as the lint read them.
    pub live: Option<lint::live::LiveContext>,
}

/// One cell of the drift matrix.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DriftColumn {
    pub env: String,
    pub kind: String,
    /// None when the environment could not be read (then `error` says why).
    pub current: Option<Version>,
    pub pending: u32,
    pub modified: u32,
    pub missing: u32,
    pub failed: u32,
    /// "up to date", "behind by 3", "diverged: 2 modified", "unreachable".
    pub verdict: String,
    pub error: Option<String>,
}

/// Versions × environments.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DriftRow {
    pub version: Option<Version>,
    pub description: String,
    pub in_folder: bool,
    /// One state per column, in `columns` order ("applied", "pending", …, "?" unreadable).
    pub states: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DriftMatrix {
    pub dir: String,
    pub format: SourceFormat,
    pub columns: Vec<DriftColumn>,
    pub rows: Vec<DriftRow>,
}

/// The outcome of `migrate test-rollback`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RollbackTest {
    pub env: String,
    pub scratch_database: String,
    pub ok: bool,
    /// Each phase: "apply all", "dump", "roll back 3 (add email)", "apply again", "dump again".
    pub phases: Vec<TestPhase>,
    /// Migrations without a down script.
    pub missing_down: Vec<String>,
    /// The first lines where the two schema dumps differ ("-" first, "+" after the round trip).
    pub diff: Vec<String>,
    pub ms: f64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TestPhase {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    pub ms: f64,
}

/// Errors from the database being migrated are the target's, not dbdeck's local store's (which
/// is what a bare `?` on a `sqlx::Error` would say).
pub(crate) trait OnTarget<T> {
    fn on_target(self) -> Result<T, crate::error::ApiError>;
}

impl<T> OnTarget<T> for Result<T, sqlx::Error> {
    fn on_target(self) -> Result<T, crate::error::ApiError> {
        self.map_err(|e| crate::probe::classify_pg(e, "the target database"))
    }
}
