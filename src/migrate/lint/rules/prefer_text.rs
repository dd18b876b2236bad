//! varchar(n): a length limit that is costly to change, with no speed benefit over text.

use crate::migrate::lint::ast::{self, loc, qualified};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "prefer-text";
pub const SUMMARY: &str = "varchar(n); use text with a CHECK on length if a limit is needed";

pub fn check(s: &Stmt, _cx: &Ctx) -> Vec<Hit> {
    ast::new_columns(s.node)
        .into_iter()
        .filter(|(col, _, _)| {
            col.type_name
                .as_ref()
                .is_some_and(|t| ast::type_name(t) == "varchar" && !t.typmods.is_empty())
        })
        .map(|(col, table, _)| {
            let ty = col.type_name.as_ref().map(ast::type_sql).unwrap_or_default();
            let c = ast::ident(&col.colname);
            let n = ty.trim_start_matches("varchar(").trim_end_matches(')');
            Hit {
                severity: Severity::Info,
                title: format!("{}.{c} is {ty}", qualified(table)),
                why: "varchar(n) is stored and compared exactly like text; the limit only adds a check, and \
                      shrinking or (on old versions) changing it takes ACCESS EXCLUSIVE."
                    .into(),
                fix: format!("{c} text CHECK (char_length({c}) <= {n})  -- a CHECK can be changed NOT VALID later"),
                impact: Impact::Style,
                table: Some(ast::relname(table)),
                location: loc(col.location),
            }
        })
        .collect()
}
