//! Key columns of type integer or smallint: the sequence runs out (at 2,147,483,647 for
//! integer) and widening the column later rewrites the table.

use crate::migrate::lint::ast::{self, loc, qualified};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};
use pg_query::protobuf::ConstrType;

pub const ID: &str = "prefer-bigint-keys";
pub const SUMMARY: &str = "integer / smallint key columns run out; use bigint";

pub fn check(s: &Stmt, _cx: &Ctx) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (col, table, pk) in ast::new_columns(s.node) {
        let Some(ty) = col.type_name.as_ref() else { continue };
        let name = ast::type_name(ty);
        let (small, max) = match name.as_str() {
            "int4" | "serial" | "serial4" => ("integer", "2,147,483,647"),
            "int2" | "smallserial" | "serial2" => ("smallint", "32,767"),
            _ => continue,
        };
        let is_key = pk.contains(&col.colname)
            || ast::is_serial(ty)
            || ast::constraints(col)
                .any(|k| matches!(ast::contype(k), ConstrType::ConstrPrimary | ConstrType::ConstrIdentity));
        if !is_key {
            continue;
        }
        let c = ast::ident(&col.colname);
        hits.push(Hit {
            severity: Severity::Warning,
            title: format!("Key column {}.{c} is {small}", qualified(table)),
            why: format!(
                "Its values stop at {max}; when the sequence gets there inserts fail, and changing the type then \
                 rewrites the table under ACCESS EXCLUSIVE."
            ),
            fix: format!("{c} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY  -- 8 bytes instead of 4 per row"),
            impact: Impact::Style,
            table: Some(ast::relname(table)),
            location: loc(col.location),
        });
    }
    hits
}
