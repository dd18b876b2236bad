//! TypeScript declarations for the UI, generated from the API's Rust types with ts-rs.
//!
//! `ui/src/bindings/api.ts` is committed. The test below fails when it is stale; run
//! `DBDECK_UPDATE_BINDINGS=1 cargo test -p dbdeck --lib bindings` to rewrite it.

use ts_rs::{Config, TS};

use super::types::*;
use crate::audit::{AuditRecord, BadRecord, VerifyReport};
use crate::env::{Endpoint, Engine, EnvInput, Environment, PoolProfile, Replica, ReplicaInput};
use crate::error::{ApiError, ErrorCode};
use crate::probe::{EndpointReport, HealthSample, TestReport};
use crate::secrets::{KeychainStatus, SecretStatus};

/// The whole generated file.
pub fn typescript() -> String {
    let cfg = Config::new().with_large_int("number");
    let decls = [
        Request::decl(&cfg),
        Response::decl(&cfg),
        Event::decl(&cfg),
        ApiError::decl(&cfg),
        ErrorCode::decl(&cfg),
        AppInfo::decl(&cfg),
        EnvSummary::decl(&cfg),
        ImportReport::decl(&cfg),
        ImportProblem::decl(&cfg),
        Chart::decl(&cfg),
        Environment::decl(&cfg),
        EnvInput::decl(&cfg),
        ReplicaInput::decl(&cfg),
        Endpoint::decl(&cfg),
        Replica::decl(&cfg),
        Engine::decl(&cfg),
        PoolProfile::decl(&cfg),
        HealthSample::decl(&cfg),
        TestReport::decl(&cfg),
        EndpointReport::decl(&cfg),
        KeychainStatus::decl(&cfg),
        SecretStatus::decl(&cfg),
        AuditRecord::decl(&cfg),
        VerifyReport::decl(&cfg),
        BadRecord::decl(&cfg),
        serde_json::Value::decl(&cfg),
        crate::observe::Snapshot::decl(&cfg),
        crate::observe::Status::decl(&cfg),
        crate::observe::postgres::PgSnapshot::decl(&cfg),
        crate::observe::postgres::Server::decl(&cfg),
        crate::observe::postgres::Session::decl(&cfg),
        crate::observe::postgres::Database::decl(&cfg),
        crate::observe::postgres::Table::decl(&cfg),
        crate::observe::postgres::Index::decl(&cfg),
        crate::observe::postgres::TopQueries::decl(&cfg),
        crate::observe::postgres::TopQuery::decl(&cfg),
        crate::observe::sqlite::SqliteSnapshot::decl(&cfg),
        crate::observe::sqlite::SqliteTable::decl(&cfg),
        crate::pool::PoolMetrics::decl(&cfg),
        crate::pool::BreakerState::decl(&cfg),
        crate::pool::BreakerEvent::decl(&cfg),
        crate::metrics::Metric::decl(&cfg),
        crate::metrics::MetricInfo::decl(&cfg),
        crate::metrics::History::decl(&cfg),
        crate::metrics::Point::decl(&cfg),
        crate::observe::redis::RedisStats::decl(&cfg),
        crate::observe::redis::RedisDb::decl(&cfg),
        crate::env::CacheTargets::decl(&cfg),
        crate::env::ReadRouting::decl(&cfg),
        crate::observe::pgbouncer::PgBouncerStatus::decl(&cfg),
        crate::observe::pgbouncer::AdminTable::decl(&cfg),
        crate::observe::pgbouncer::PgBouncerCommand::decl(&cfg),
        crate::bench::BenchMode::decl(&cfg),
        crate::bench::BenchReport::decl(&cfg),
        crate::advice::PoolAdvice::decl(&cfg),
        crate::advice::AppAdvice::decl(&cfg),
        crate::advice::AppLoad::decl(&cfg),
        PlanComparison::decl(&cfg),
        crate::plan::Plan::decl(&cfg),
        crate::plan::Node::decl(&cfg),
        crate::plan::Buffers::decl(&cfg),
        crate::plan::Trigger::decl(&cfg),
        crate::plan::Jit::decl(&cfg),
        crate::plan::Summary::decl(&cfg),
        crate::plan::PlanFormat::decl(&cfg),
        crate::plan::Finding::decl(&cfg),
        crate::plan::FindingKind::decl(&cfg),
        crate::plan::Severity::decl(&cfg),
        crate::plan::compare::Comparison::decl(&cfg),
        crate::plan::compare::SideSummary::decl(&cfg),
        crate::plan::compare::NodePair::decl(&cfg),
        crate::plan::run::ExplainOptions::decl(&cfg),
        crate::plan::run::StatementKind::decl(&cfg),
        crate::plan::run::PlanReport::decl(&cfg),
        crate::plan::indexes::IndexReport::decl(&cfg),
        crate::plan::indexes::IndexFinding::decl(&cfg),
        crate::plan::indexes::IndexIssue::decl(&cfg),
        crate::plan::indexes::SeqScanTable::decl(&cfg),
        crate::plan::indexes::IndexAdvice::decl(&cfg),
        crate::plan::indexes::IndexCandidate::decl(&cfg),
        crate::plan::indexes::Validation::decl(&cfg),
        crate::migrate::MigrationOverview::decl(&cfg),
        crate::migrate::MigrationPlan::decl(&cfg),
        crate::migrate::PlanStep::decl(&cfg),
        crate::migrate::DriftMatrix::decl(&cfg),
        crate::migrate::DriftColumn::decl(&cfg),
        crate::migrate::DriftRow::decl(&cfg),
        crate::migrate::RollbackTest::decl(&cfg),
        crate::migrate::TestPhase::decl(&cfg),
        crate::migrate::source::SourceFormat::decl(&cfg),
        crate::migrate::source::SourceProblem::decl(&cfg),
        crate::migrate::source::Checksum::decl(&cfg),
        crate::migrate::status::Status::decl(&cfg),
        crate::migrate::status::Entry::decl(&cfg),
        crate::migrate::status::State::decl(&cfg),
        crate::migrate::run::RunReport::decl(&cfg),
        crate::migrate::run::RunKind::decl(&cfg),
        crate::migrate::run::StepReport::decl(&cfg),
        crate::migrate::run::StepOutcome::decl(&cfg),
        crate::migrate::run::Failure::decl(&cfg),
        crate::migrate::run::LeftBehind::decl(&cfg),
        crate::migrate::run::Progress::decl(&cfg),
        crate::migrate::lint::LintReport::decl(&cfg),
        crate::migrate::lint::LintInput::decl(&cfg),
        crate::migrate::lint::LintFinding::decl(&cfg),
        crate::migrate::lint::LintNote::decl(&cfg),
        crate::migrate::lint::Impact::decl(&cfg),
        crate::migrate::lint::live::LiveContext::decl(&cfg),
        crate::migrate::lint::live::TableFacts::decl(&cfg),
        crate::migrate::lint::live::LongTransaction::decl(&cfg),
        crate::env::ReplicationSettings::decl(&cfg),
        crate::env::LocalNode::decl(&cfg),
        crate::replicate::Check::decl(&cfg),
        crate::replicate::topology::Topology::decl(&cfg),
        crate::replicate::topology::NodeState::decl(&cfg),
        crate::replicate::topology::Sender::decl(&cfg),
        crate::replicate::topology::Receiver::decl(&cfg),
        crate::replicate::topology::Discovered::decl(&cfg),
        crate::replicate::slots::Slot::decl(&cfg),
        crate::replicate::slots::SlotsReport::decl(&cfg),
        crate::replicate::flow::Phase::decl(&cfg),
        crate::replicate::flow::NodeOutcome::decl(&cfg),
        crate::replicate::flow::FlowReport::decl(&cfg),
        crate::replicate::patroni::PatroniCluster::decl(&cfg),
        crate::replicate::patroni::Member::decl(&cfg),
        crate::plan::wire::NodeTable::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from dbdeck's Rust API types by ts-rs (src/api/bindings.rs). Do not edit.\n\
         // Regenerate: DBDECK_UPDATE_BINDINGS=1 cargo test -p dbdeck --lib bindings\n\n",
    );
    for d in decls {
        out.push_str("export ");
        out.push_str(d.trim());
        out.push_str("\n\n");
    }
    out.trim_end().to_owned() + "\n"
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn committed_bindings_are_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings/api.ts");
        let fresh = super::typescript();
        if std::env::var_os("DBDECK_UPDATE_BINDINGS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &fresh).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "ui/src/bindings/api.ts is stale: the API types changed. Run \
             `DBDECK_UPDATE_BINDINGS=1 cargo test -p dbdeck --lib bindings` and commit the result"
        );
    }
}
