//! serial / bigserial columns: identity columns are the SQL-standard replacement, with the
//! sequence owned and permissioned with the table.

use crate::migrate::lint::ast::{self, loc, qualified};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "prefer-identity";
pub const SUMMARY: &str = "serial types; use GENERATED … AS IDENTITY";

pub fn check(s: &Stmt, _cx: &Ctx) -> Vec<Hit> {
    ast::new_columns(s.node)
        .into_iter()
        .filter(|(col, _, _)| col.type_name.as_ref().is_some_and(ast::is_serial))
        .map(|(col, table, _)| {
            let ty = col.type_name.as_ref().map(ast::type_name).unwrap_or_default();
            let c = ast::ident(&col.colname);
            Hit {
                severity: Severity::Info,
                title: format!("{}.{c} is {ty}; prefer an identity column", qualified(table)),
                why: "serial makes a separate sequence that needs its own grants, is not tied to the column in \
                      dumps and copies (CREATE TABLE … LIKE), and lets inserts bypass it silently."
                    .into(),
                fix: format!("{c} bigint GENERATED ALWAYS AS IDENTITY"),
                impact: Impact::Style,
                table: Some(ast::relname(table)),
                location: loc(col.location),
            }
        })
        .collect()
}
