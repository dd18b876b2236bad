//! Dropping a table that existed before this script: its data is gone and code using it breaks.

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use crate::migrate::lint::ast;
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "drop-table";
pub const SUMMARY: &str = "DROP TABLE loses data and breaks code still using the table";

pub fn check(s: &Stmt, cx: &Ctx) -> Vec<Hit> {
    let NodeEnum::DropStmt(d) = s.node else { return vec![] };
    if ObjectType::try_from(d.remove_type) != Ok(ObjectType::ObjectTable) {
        return vec![];
    }
    d.objects
        .iter()
        .filter_map(|o| match o.node.as_ref()? {
            NodeEnum::List(l) => Some(l.items.iter().filter_map(ast::str_of).collect::<Vec<_>>().join(".")),
            _ => None,
        })
        .filter(|name| !cx.created_here(name))
        .map(|name| {
            let q = name.split('.').map(ast::ident).collect::<Vec<_>>().join(".");
            let kept = format!("{}_dropped", name.rsplit('.').next().unwrap_or(&name));
            Hit {
                severity: Severity::Critical,
                title: format!("DROP TABLE {q} deletes the table and all its rows"),
                why: format!(
                    "The data is gone unless restored from a backup, code still using {q} fails, and the drop waits \
                     for ACCESS EXCLUSIVE behind every running query on it{}.",
                    if d.behavior == pg_query::protobuf::DropBehavior::DropCascade as i32 {
                        "; CASCADE also drops the views and foreign keys that depend on it"
                    } else {
                        ""
                    }
                ),
                fix: format!(
                    "Stop using it in code first, then park it instead of dropping it:\n\
                     ALTER TABLE {q} RENAME TO {};\n\
                     and drop it in a later release once nothing has missed it.",
                    ast::ident(&kept)
                ),
                impact: Impact::Breaks,
                table: Some(name),
                location: None,
            }
        })
        .collect()
}
