//! TRUNCATE … CASCADE empties every table that references the named ones, which the statement
//! does not list.

use pg_query::NodeEnum;
use pg_query::protobuf::DropBehavior;

use crate::migrate::lint::ast;
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "truncate-cascade";
pub const SUMMARY: &str = "TRUNCATE … CASCADE empties tables the statement does not name";

pub fn check(s: &Stmt, _cx: &Ctx) -> Vec<Hit> {
    let NodeEnum::TruncateStmt(t) = s.node else {
        return vec![];
    };
    if t.behavior != DropBehavior::DropCascade as i32 {
        return vec![];
    }
    let names: Vec<String> = t
        .relations
        .iter()
        .filter_map(|n| match n.node.as_ref()? {
            NodeEnum::RangeVar(r) => Some(ast::qualified(r)),
            _ => None,
        })
        .collect();
    let list = names.join(", ");
    vec![Hit {
        severity: Severity::Critical,
        title: format!("TRUNCATE {list} CASCADE also empties every table that references them"),
        why: "CASCADE follows foreign keys: tables not named here — possibly in other teams' schemas — lose all \
              their rows too, under ACCESS EXCLUSIVE."
            .into(),
        fix: format!(
            "Name every table to empty, without CASCADE, so the statement fails if one was forgotten:\n\
             TRUNCATE {list}, <referencing tables>;"
        ),
        impact: Impact::Breaks,
        table: names.first().cloned(),
        location: None,
    }]
}
