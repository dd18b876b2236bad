//! `ALTER COLUMN … SET NOT NULL` scans the whole table under ACCESS EXCLUSIVE.

use pg_query::protobuf::AlterTableType;

use crate::migrate::lint::ast::{self, alter_cmds, alter_table, qualified, subtype};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "set-not-null";
pub const SUMMARY: &str = "SET NOT NULL scans the table under ACCESS EXCLUSIVE";

pub fn check(s: &Stmt, cx: &Ctx) -> Vec<Hit> {
    let Some((a, table)) = alter_table(s.node) else {
        return vec![];
    };
    if cx.created_here(&ast::relname(table)) {
        return vec![];
    }
    alter_cmds(a)
        .filter(|c| subtype(c) == AlterTableType::AtSetNotNull)
        .map(|cmd| {
            let t = qualified(table);
            let c = ast::ident(&cmd.name);
            let check = ast::ident(&format!("{}_{}_not_null", table.relname, cmd.name));
            Hit {
                severity: Severity::Warning,
                title: format!("SET NOT NULL on {t}.{c} scans the whole table while blocking it"),
                why: format!(
                    "PostgreSQL checks every row for NULLs while holding ACCESS EXCLUSIVE on {t}: reads and writes \
                     wait for the full scan."
                ),
                fix: format!(
                    "Prove it with a NOT VALID check first; SET NOT NULL then skips the scan (PostgreSQL 12+):\n\
                     ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID;\n\
                     ALTER TABLE {t} VALIDATE CONSTRAINT {check};  -- SHARE UPDATE EXCLUSIVE: writes go on\n\
                     ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n\
                     ALTER TABLE {t} DROP CONSTRAINT {check};"
                ),
                impact: Impact::Scan,
                table: Some(ast::relname(table)),
                location: None,
            }
        })
        .collect()
}
