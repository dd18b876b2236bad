//! timestamp without time zone: the same instant reads differently per session time zone.

use crate::migrate::lint::ast::{self, loc, qualified};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "prefer-timestamptz";
pub const SUMMARY: &str = "timestamp without time zone; use timestamptz";

pub fn check(s: &Stmt, _cx: &Ctx) -> Vec<Hit> {
    ast::new_columns(s.node)
        .into_iter()
        .filter(|(col, _, _)| col.type_name.as_ref().is_some_and(|t| ast::type_name(t) == "timestamp"))
        .map(|(col, table, _)| {
            let c = ast::ident(&col.colname);
            Hit {
                severity: Severity::Warning,
                title: format!("{}.{c} is timestamp without time zone", qualified(table)),
                why: "It stores a wall-clock reading with no zone: values written from sessions in different time \
                      zones cannot be compared, and daylight-saving changes make an hour ambiguous. Converting \
                      later rewrites the table."
                    .into(),
                fix: format!("{c} timestamptz  -- stores an instant; shown in each session's time zone"),
                impact: Impact::Style,
                table: Some(ast::relname(table)),
                location: loc(col.location),
            }
        })
        .collect()
}
