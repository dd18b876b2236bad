//! BEGIN inside a transaction (the migration tool's, or an earlier BEGIN), COMMIT that ends
//! the tool's transaction early; a script that ends inside its own BEGIN is reported by the
//! engine under this id too.

use pg_query::NodeEnum;
use pg_query::protobuf::TransactionStmtKind as K;

use crate::migrate::lint::{Ctx, Hit, Impact, Severity, Stmt};

pub const ID: &str = "transaction-nesting";
pub const SUMMARY: &str = "BEGIN inside a transaction, COMMIT of the tool's transaction, or BEGIN without COMMIT";

pub fn check(s: &Stmt, cx: &Ctx) -> Vec<Hit> {
    let NodeEnum::TransactionStmt(t) = s.node else {
        return vec![];
    };
    let kind = K::try_from(t.kind).unwrap_or(K::Undefined);
    let hit = match kind {
        K::TransStmtBegin | K::TransStmtStart if cx.in_transaction => Hit {
            severity: Severity::Critical,
            title: if cx.open_begins > 0 {
                "BEGIN inside a transaction this script already opened".into()
            } else {
                "BEGIN inside the transaction the migration tool opens".into()
            },
            why: "PostgreSQL does not nest transactions: it warns and ignores this BEGIN, so the matching COMMIT \
                  commits everything before it — and a failure after that leaves the migration half applied and \
                  unrecorded."
                .into(),
            fix: "Remove BEGIN/COMMIT from the file: the tool already runs it in one transaction. Use SAVEPOINT if \
                  a part must be undone on its own."
                .into(),
            impact: Impact::Breaks,
            table: None,
            location: None,
        },
        K::TransStmtCommit | K::TransStmtRollback if cx.in_transaction && cx.open_begins == 0 => Hit {
            severity: Severity::Critical,
            title: "COMMIT/ROLLBACK ends the migration tool's transaction early".into(),
            why: "The statements after it run outside any transaction, and the tool records the migration after \
                  its own transaction — which no longer exists. A failure later leaves it half applied."
                .into(),
            fix: "Remove it, or mark the migration to run outside a transaction (`-- no-transaction` for sqlx) if \
                  it really needs several."
                .into(),
            impact: Impact::Breaks,
            table: None,
            location: None,
        },
        _ => return vec![],
    };
    vec![hit]
}
