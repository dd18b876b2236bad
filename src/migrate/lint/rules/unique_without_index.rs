//! `ADD CONSTRAINT … UNIQUE` / `PRIMARY KEY` without `USING INDEX` builds the index while the
//! table is locked out. (A UNIQUE constraint cannot be NOT VALID: the safe way is to build the
//! index concurrently and attach it.)

use pg_query::protobuf::{AlterTableType, ConstrType};

use crate::migrate::lint::ast::{self, alter_cmds, alter_table, constraint_def, contype, loc, qualified, subtype};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "unique-without-index";
pub const SUMMARY: &str =
    "ADD UNIQUE / PRIMARY KEY builds its index under ACCESS EXCLUSIVE; build it concurrently first";

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
            ConstrType::ConstrUnique => "UNIQUE",
            ConstrType::ConstrPrimary => "PRIMARY KEY",
            _ => continue,
        };
        if !k.indexname.is_empty() {
            continue;
        }
        let t = qualified(table);
        let cols: Vec<String> = k.keys.iter().filter_map(ast::str_of).map(|c| ast::ident(&c)).collect();
        let name = if k.conname.is_empty() {
            if kind == "UNIQUE" {
                format!("{}_{}_key", table.relname, cols.join("_").replace('"', ""))
            } else {
                format!("{}_pkey", table.relname)
            }
        } else {
            k.conname.clone()
        };
        let n = ast::ident(&name);
        hits.push(Hit {
            severity: Severity::Critical,
            title: format!("{kind} constraint on {t} builds its index while the table is locked"),
            why: format!(
                "ADD CONSTRAINT … {kind} creates a unique index inside ALTER TABLE, holding ACCESS EXCLUSIVE on {t} \
                 for the whole build: no reads or writes. A unique constraint cannot be added NOT VALID."
            ),
            fix: format!(
                "Build the index concurrently, then attach it (the attach is instant):\n\
                 CREATE UNIQUE INDEX CONCURRENTLY {n} ON {t} ({cols});  -- outside a transaction\n\
                 ALTER TABLE {t} ADD CONSTRAINT {n} {kind} USING INDEX {n};",
                cols = cols.join(", ")
            ),
            impact: Impact::Scan,
            table: Some(ast::relname(table)),
            location: loc(k.location),
        });
    }
    hits
}
