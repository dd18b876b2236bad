//! `DROP INDEX` without CONCURRENTLY takes ACCESS EXCLUSIVE on the index's table.

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use crate::migrate::lint::ast;
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "drop-index-not-concurrent";
pub const SUMMARY: &str = "DROP INDEX without CONCURRENTLY locks the table out, waiting behind running queries";

pub fn check(s: &Stmt, _cx: &Ctx) -> Vec<Hit> {
    let NodeEnum::DropStmt(d) = s.node else { return vec![] };
    if ObjectType::try_from(d.remove_type) != Ok(ObjectType::ObjectIndex) || d.concurrent {
        return vec![];
    }
    let names: Vec<String> = d
        .objects
        .iter()
        .filter_map(|o| match o.node.as_ref()? {
            NodeEnum::List(l) => Some(
                l.items
                    .iter()
                    .filter_map(ast::str_of)
                    .map(|s| ast::ident(&s))
                    .collect::<Vec<_>>()
                    .join("."),
            ),
            _ => None,
        })
        .collect();
    let list = names.join(", ");
    vec![Hit {
        severity: Severity::Warning,
        title: format!("DROP INDEX {list} without CONCURRENTLY locks its table"),
        why: "Dropping an index takes ACCESS EXCLUSIVE on its table. The drop itself is quick, but it queues \
              behind every running query on the table, and every new query queues behind it."
            .into(),
        fix: {
            let mut safe = d.clone();
            safe.concurrent = true;
            format!(
                "{};  -- one index per statement, outside a transaction",
                ast::deparse(NodeEnum::DropStmt(safe))
            )
        },
        impact: Impact::Lock,
        table: None,
        location: None,
    }]
}
