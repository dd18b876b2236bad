//! `ADD COLUMN … NOT NULL` without a DEFAULT: fails on any table that has rows.

use pg_query::protobuf::AlterTableType;

use crate::migrate::lint::ast::{self, alter_cmds, alter_table, column_def, loc, qualified, subtype};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "not-null-column-without-default";
pub const SUMMARY: &str = "ADD COLUMN … NOT NULL without DEFAULT fails on a table with rows";

pub fn check(s: &Stmt, cx: &Ctx) -> Vec<Hit> {
    let Some((a, table)) = alter_table(s.node) else {
        return vec![];
    };
    if cx.created_here(&ast::relname(table)) {
        return vec![];
    }
    alter_cmds(a)
        .filter(|c| subtype(c) == AlterTableType::AtAddColumn)
        .filter_map(column_def)
        .filter(|col| ast::not_null(col) && ast::default_expr(col).is_none())
        .filter(|col| !col.type_name.as_ref().is_some_and(ast::is_serial))
        .map(|col| {
            let t = qualified(table);
            let c = ast::ident(&col.colname);
            let ty = col.type_name.as_ref().map(ast::type_sql).unwrap_or_else(|| "…".into());
            Hit {
                severity: Severity::Warning,
                title: format!("Column {c} is added to {t} as NOT NULL with no DEFAULT"),
                why: format!(
                    "Existing rows would get NULL, so the statement fails with \"column contains null values\" \
                     as soon as {t} has a row — the migration works on an empty development database and breaks on \
                     staging or prod."
                ),
                fix: format!(
                    "Give it a constant default (no rewrite since PostgreSQL 11):\n\
                     ALTER TABLE {t} ADD COLUMN {c} {ty} NOT NULL DEFAULT …;\n\
                     or add it nullable, backfill in batches, then add NOT NULL safely (see set-not-null)."
                ),
                impact: Impact::Scan,
                table: Some(ast::relname(table)),
                location: loc(col.location),
            }
        })
        .collect()
}
