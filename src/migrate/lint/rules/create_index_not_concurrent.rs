//! `CREATE INDEX` without CONCURRENTLY on an existing table blocks its writes for the whole
//! build.

use pg_query::NodeEnum;

use crate::migrate::lint::ast::{self, qualified};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "create-index-not-concurrent";
pub const SUMMARY: &str = "CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build";

pub fn check(s: &Stmt, cx: &Ctx) -> Vec<Hit> {
    let NodeEnum::IndexStmt(ix) = s.node else { return vec![] };
    let Some(table) = ix.relation.as_ref() else {
        return vec![];
    };
    if ix.concurrent || cx.created_here(&ast::relname(table)) {
        return vec![];
    }
    let t = qualified(table);
    let name = if ix.idxname.is_empty() {
        String::new()
    } else {
        format!("{} ", ast::ident(&ix.idxname))
    };
    let mut safe = ix.clone();
    safe.concurrent = true;
    let safe = ast::deparse(NodeEnum::IndexStmt(safe));
    Some(Hit {
        severity: Severity::Critical,
        title: format!("CREATE INDEX {name}on {t} without CONCURRENTLY blocks writes while it builds"),
        why: format!(
            "A plain CREATE INDEX holds a SHARE lock on {t} for the whole build: every INSERT, UPDATE and DELETE \
             on {t} waits until the index is complete."
        ),
        fix: format!(
            "{safe};\n\
             It must run outside a transaction: on its own in a migration marked `-- no-transaction` (sqlx) or \
             with executeInTransaction=false (Flyway). If it fails it leaves an INVALID index to drop before \
             retrying."
        ),
        impact: Impact::Scan,
        table: Some(ast::relname(table)),
        location: None,
    })
    .into_iter()
    .collect()
}
