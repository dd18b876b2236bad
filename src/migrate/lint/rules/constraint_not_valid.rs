//! Adding a FOREIGN KEY or CHECK constraint to an existing table without NOT VALID: the whole
//! table is checked while writes are blocked.

use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ConstrType};

use crate::migrate::lint::ast::{self, alter_cmds, alter_table, constraint_def, contype, loc, qualified, subtype};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "constraint-without-not-valid";
pub const SUMMARY: &str = "ADD FOREIGN KEY / CHECK without NOT VALID scans the table while blocking writes";

pub fn check(s: &Stmt, cx: &Ctx) -> Vec<Hit> {
    let Some((a, table)) = alter_table(s.node) else {
        return vec![];
    };
    if cx.created_here(&ast::relname(table)) {
        return vec![];
    }
    let mut hits = Vec::new();
    for cmd in alter_cmds(a).filter(|c| subtype(c) == AlterTableType::AtAddConstraint) {
        let Some(k) = constraint_def(cmd) else { continue };
        let kind = match contype(k) {
            ConstrType::ConstrForeign => "FOREIGN KEY",
            ConstrType::ConstrCheck => "CHECK",
            _ => continue,
        };
        if k.skip_validation {
            continue;
        }
        let t = qualified(table);
        let name = if k.conname.is_empty() {
            format!("{}_{}", table.relname, if kind == "CHECK" { "check" } else { "fkey" })
        } else {
            k.conname.clone()
        };
        let mut safe_cmd = cmd.clone();
        let mut safe_k = k.clone();
        safe_k.skip_validation = true;
        safe_k.initially_valid = false;
        safe_k.conname = name.clone();
        safe_cmd.def = Some(Box::new(pg_query::Node {
            node: Some(NodeEnum::Constraint(Box::new(safe_k))),
        }));
        let mut safe = a.clone();
        safe.cmds = vec![pg_query::Node {
            node: Some(NodeEnum::AlterTableCmd(Box::new(safe_cmd))),
        }];
        let other = k
            .pktable
            .as_ref()
            .map(|p| format!(" and SHARE ROW EXCLUSIVE on {}", qualified(p)))
            .unwrap_or_default();
        hits.push(Hit {
            severity: Severity::Warning,
            title: format!("{kind} constraint on {t} is added without NOT VALID"),
            why: format!(
                "Adding it validates every existing row while holding SHARE ROW EXCLUSIVE on {t}{other}: \
                 writes wait for the whole check."
            ),
            fix: format!(
                "Add it NOT VALID (instant; new rows are checked at once), then validate without blocking writes:\n\
                 {};\n\
                 ALTER TABLE {t} VALIDATE CONSTRAINT {};  -- SHARE UPDATE EXCLUSIVE",
                ast::deparse(NodeEnum::AlterTableStmt(safe)),
                ast::ident(&name)
            ),
            impact: Impact::Scan,
            table: Some(ast::relname(table)),
            location: loc(k.location),
        });
    }
    hits
}
