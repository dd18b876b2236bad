//! A lock-taking statement with no `lock_timeout` set before it. Waiting for a strong lock
//! queues every later query on the table behind the migration: one slow transaction becomes
//! an outage. Reported once per script, at the first such statement.

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use crate::migrate::lint::ast::{self, alter_table};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "missing-timeout";
pub const SUMMARY: &str = "a lock-taking statement without lock_timeout (and statement_timeout) set first";

/// The table a statement locks strongly (SHARE or stronger), when it existed before the script.
pub fn strong_lock_table(node: &NodeEnum, cx: &Ctx) -> Option<String> {
    let table = match node {
        NodeEnum::AlterTableStmt(_) => alter_table(node).map(|(_, t)| ast::relname(t)),
        NodeEnum::IndexStmt(ix) if !ix.concurrent => ix.relation.as_ref().map(ast::relname),
        NodeEnum::RenameStmt(r) => r.relation.as_ref().map(ast::relname),
        NodeEnum::TruncateStmt(t) => t.relations.iter().find_map(|n| match n.node.as_ref()? {
            NodeEnum::RangeVar(r) => Some(ast::relname(r)),
            _ => None,
        }),
        NodeEnum::DropStmt(d)
            if !d.concurrent
                && matches!(
                    ObjectType::try_from(d.remove_type),
                    Ok(ObjectType::ObjectTable | ObjectType::ObjectIndex)
                ) =>
        {
            Some(String::new())
        }
        NodeEnum::CreateTrigStmt(t) => t.relation.as_ref().map(ast::relname),
        NodeEnum::ReindexStmt(_) | NodeEnum::ClusterStmt(_) | NodeEnum::RefreshMatViewStmt(_) => Some(String::new()),
        _ => None,
    }?;
    (table.is_empty() || !cx.created_here(&table)).then_some(table)
}

pub fn check(s: &Stmt, cx: &Ctx) -> Vec<Hit> {
    if cx.lock_timeout_set || cx.locks_taken > 0 {
        return vec![];
    }
    let Some(table) = strong_lock_table(s.node, cx) else {
        return vec![];
    };
    let also = if cx.statement_timeout_set {
        ""
    } else {
        " (nor statement_timeout)"
    };
    vec![Hit {
        severity: Severity::Warning,
        title: format!("No lock_timeout{also} is set before the first statement that locks a table"),
        why: "If a long-running query holds a conflicting lock, this statement waits for it — and every query on \
              the table queues behind this one, for as long as that takes."
            .into(),
        fix: "Start the migration with timeouts, and retry on failure rather than wait:\n\
              SET lock_timeout = '5s';\n\
              SET statement_timeout = '15min';\n\
              (dbdeck sets both when it applies migrations, and retries on lock timeout.)"
            .into(),
        impact: Impact::Lock,
        table: (!table.is_empty()).then_some(table),
        location: None,
    }]
}
