//! DROP DATABASE in a migration.

use pg_query::NodeEnum;

use crate::migrate::lint::ast;
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "drop-database";
pub const SUMMARY: &str = "DROP DATABASE in a migration deletes a whole database";

pub fn check(s: &Stmt, _cx: &Ctx) -> Vec<Hit> {
    let NodeEnum::DropdbStmt(d) = s.node else { return vec![] };
    let name = ast::ident(&d.dbname);
    vec![Hit {
        severity: Severity::Critical,
        title: format!("DROP DATABASE {name} deletes a whole database"),
        why: "Every table and row in it is gone, and it cannot run inside a transaction, so nothing rolls it back."
            .into(),
        fix: "Drop databases by hand, after a backup, not from a migration that runs on every environment.".into(),
        impact: Impact::Breaks,
        table: None,
        location: None,
    }]
}
