//! CREATE/DROP INDEX CONCURRENTLY or REINDEX CONCURRENTLY inside a transaction: PostgreSQL
//! refuses it ("cannot run inside a transaction block").

use pg_query::NodeEnum;

use super::reindex_not_concurrent::is_concurrent;
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "concurrent-in-transaction";
pub const SUMMARY: &str = "a CONCURRENTLY statement inside a transaction fails";

pub fn check(s: &Stmt, cx: &Ctx) -> Vec<Hit> {
    if !cx.in_transaction {
        return vec![];
    }
    let what = match s.node {
        NodeEnum::IndexStmt(ix) if ix.concurrent => "CREATE INDEX CONCURRENTLY",
        NodeEnum::DropStmt(d) if d.concurrent => "DROP INDEX CONCURRENTLY",
        NodeEnum::ReindexStmt(r) if is_concurrent(r) => "REINDEX CONCURRENTLY",
        _ => return vec![],
    };
    let whose = if cx.open_begins > 0 {
        "the BEGIN earlier in this script"
    } else {
        "the migration tool's transaction"
    };
    vec![Hit {
        severity: Severity::Critical,
        title: format!("{what} runs inside a transaction ({whose}) and will fail"),
        why: format!(
            "PostgreSQL refuses {what} in a transaction block (\"cannot run inside a transaction block\"): the \
             migration stops here."
        ),
        fix: "Put it in a migration of its own that runs outside a transaction: first line `-- no-transaction` \
              (sqlx), executeInTransaction=false in the script's .conf (Flyway), and no BEGIN/COMMIT around it."
            .into(),
        impact: Impact::Breaks,
        table: None,
        location: None,
    }]
}
