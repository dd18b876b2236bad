//! Renaming a column or a table breaks every running application that still uses the old name.

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use crate::migrate::lint::ast::{self, qualified};
use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "rename-column-or-table";
pub const SUMMARY: &str = "renaming a column or table breaks code still using the old name";

pub fn check(s: &Stmt, cx: &Ctx) -> Vec<Hit> {
    let NodeEnum::RenameStmt(r) = s.node else { return vec![] };
    let Some(table) = r.relation.as_ref() else {
        return vec![];
    };
    if cx.created_here(&ast::relname(table)) {
        return vec![];
    }
    let t = qualified(table);
    let new = ast::ident(&r.newname);
    let hit = match ObjectType::try_from(r.rename_type) {
        Ok(ObjectType::ObjectColumn) => {
            let old = ast::ident(&r.subname);
            Hit {
                severity: Severity::Warning,
                title: format!("Renaming column {t}.{old} to {new} breaks queries that use the old name"),
                why: "The rename is instant, but application code deployed before it still selects and writes the \
                      old name, and fails from the moment the migration commits."
                    .into(),
                fix: format!(
                    "Expand and contract across releases:\n\
                     1. ALTER TABLE {t} ADD COLUMN {new} …;  and write both columns;\n\
                     2. backfill {new} in batches, then read from {new};\n\
                     3. once no deployed code uses {old}: ALTER TABLE {t} DROP COLUMN {old};"
                ),
                impact: Impact::Breaks,
                table: Some(ast::relname(table)),
                location: None,
            }
        }
        Ok(ObjectType::ObjectTable) => Hit {
            severity: Severity::Warning,
            title: format!("Renaming table {t} to {new} breaks queries that use the old name"),
            why: "The rename is instant, but code deployed before it fails on the old name from the moment the \
                  migration commits."
                .into(),
            fix: format!(
                "Keep the old name working while code moves over — in one transaction:\n\
                 ALTER TABLE {t} RENAME TO {new};\n\
                 CREATE VIEW {t} AS SELECT * FROM {new};  -- a simple view is updatable\n\
                 and drop the view once no deployed code uses it."
            ),
            impact: Impact::Breaks,
            table: Some(ast::relname(table)),
            location: None,
        },
        _ => return vec![],
    };
    vec![hit]
}
