//! Dropping a column: code still reading it breaks, and the data is gone.

use pg_query::protobuf::AlterTableType;

use crate::migrate::lint::ast::{self, alter_cmds, alter_table, qualified, subtype};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "drop-column";
pub const SUMMARY: &str = "dropping a column breaks code still using it and loses its data";

pub fn check(s: &Stmt, cx: &Ctx) -> Vec<Hit> {
    let Some((a, table)) = alter_table(s.node) else {
        return vec![];
    };
    if cx.created_here(&ast::relname(table)) {
        return vec![];
    }
    alter_cmds(a)
        .filter(|c| subtype(c) == AlterTableType::AtDropColumn)
        .map(|cmd| {
            let t = qualified(table);
            let c = ast::ident(&cmd.name);
            Hit {
                severity: Severity::Warning,
                title: format!("Dropping column {t}.{c}"),
                why: format!(
                    "The drop itself is quick (ACCESS EXCLUSIVE, no rewrite), but any deployed code that still \
                     selects or inserts {c} fails at once, and the column's data cannot be brought back without \
                     a restore."
                ),
                fix: format!(
                    "First deploy code that no longer uses {c} (ORMs: mark it ignored), then drop it in a later \
                     release. Keep a copy if it may be needed: CREATE TABLE {} AS SELECT id, {c} FROM {t};",
                    ast::ident(&format!("{}_{}_backup", table.relname, cmd.name))
                ),
                impact: Impact::Breaks,
                table: Some(ast::relname(table)),
                location: None,
            }
        })
        .collect()
}
