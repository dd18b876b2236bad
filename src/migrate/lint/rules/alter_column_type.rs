//! `ALTER COLUMN … TYPE` rewrites the table and its indexes (except a few binary-compatible
//! changes, such as widening a varchar or varchar to text).

use pg_query::protobuf::AlterTableType;

use crate::migrate::lint::ast::{self, alter_cmds, alter_table, column_def, qualified, subtype};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "alter-column-type";
pub const SUMMARY: &str = "ALTER COLUMN TYPE rewrites the table under ACCESS EXCLUSIVE";

pub fn check(s: &Stmt, cx: &Ctx) -> Vec<Hit> {
    let Some((a, table)) = alter_table(s.node) else {
        return vec![];
    };
    if cx.created_here(&ast::relname(table)) {
        return vec![];
    }
    alter_cmds(a)
        .filter(|c| subtype(c) == AlterTableType::AtAlterColumnType)
        .map(|cmd| {
            let t = qualified(table);
            let c = ast::ident(&cmd.name);
            let ty = column_def(cmd)
                .and_then(|d| d.type_name.as_ref())
                .map(ast::type_sql)
                .unwrap_or_else(|| "…".into());
            let relaxed = matches!(ty.split('(').next(), Some("text" | "varchar"));
            Hit {
                severity: if relaxed { Severity::Warning } else { Severity::Critical },
                title: format!("Changing {t}.{c} to {ty} rewrites the table"),
                why: format!(
                    "PostgreSQL rewrites {t} and rebuilds its indexes under ACCESS EXCLUSIVE{}.",
                    if relaxed {
                        " — unless the change is binary-compatible (varchar(n) to a larger n or to text, which only \
                         takes the lock briefly)"
                    } else {
                        ""
                    }
                ),
                fix: format!(
                    "Expand and contract instead:\n\
                     1. ALTER TABLE {t} ADD COLUMN {new} {ty};\n\
                     2. write both columns from the application (or a trigger), backfill {new} in batches;\n\
                     3. switch reads to {new}, then ALTER TABLE {t} DROP COLUMN {c}; and rename in a later release.",
                    new = ast::ident(&format!("{}_new", cmd.name))
                ),
                impact: Impact::Rewrite,
                table: Some(ast::relname(table)),
                location: None,
            }
        })
        .collect()
}
