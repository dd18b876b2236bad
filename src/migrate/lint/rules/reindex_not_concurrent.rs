//! `REINDEX` without CONCURRENTLY blocks writes to the table (and reads that would use the
//! index) for the whole rebuild.

use pg_query::NodeEnum;

use crate::migrate::lint::ast;
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "reindex-not-concurrent";
pub const SUMMARY: &str = "REINDEX without CONCURRENTLY blocks the table for the whole rebuild";

/// REINDEX (CONCURRENTLY) … — the option is a DefElem in `params`.
pub fn is_concurrent(r: &pg_query::protobuf::ReindexStmt) -> bool {
    r.params
        .iter()
        .any(|p| matches!(p.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "concurrently"))
}

pub fn check(s: &Stmt, _cx: &Ctx) -> Vec<Hit> {
    let NodeEnum::ReindexStmt(r) = s.node else {
        return vec![];
    };
    if is_concurrent(r) {
        return vec![];
    }
    let target = r
        .relation
        .as_ref()
        .map(ast::qualified)
        .unwrap_or_else(|| ast::ident(&r.name));
    let kind = s.sql.split_whitespace().nth(1).unwrap_or("INDEX").to_uppercase();
    vec![Hit {
        severity: Severity::Critical,
        title: format!("REINDEX {kind} {target} without CONCURRENTLY blocks writes while it rebuilds"),
        why: "REINDEX locks the table against writes, and the index against every query that would use it, \
              until the rebuild ends."
            .into(),
        fix: format!("REINDEX {kind} CONCURRENTLY {target};  -- PostgreSQL 12+, outside a transaction"),
        impact: Impact::Scan,
        table: r.relation.as_ref().map(ast::relname),
        location: None,
    }]
}
