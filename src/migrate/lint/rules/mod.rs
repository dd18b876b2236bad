//! The lint rules, one per file. Each is a pure function of one statement and what the script
//! did before it; `tests.rs` beside the engine snapshot-tests them on `tests/lint/*.sql`.

use super::{Ctx, Hit, Stmt};

pub mod alter_column_type;
pub mod concurrent_in_transaction;
pub mod constraint_not_valid;
pub mod create_index_not_concurrent;
pub mod drop_column;
pub mod drop_database;
pub mod drop_index_not_concurrent;
pub mod drop_table;
pub mod missing_timeout;
pub mod not_null_without_default;
pub mod prefer_bigint_keys;
pub mod prefer_identity;
pub mod prefer_text;
pub mod prefer_timestamptz;
pub mod reindex_not_concurrent;
pub mod rename;
pub mod set_not_null;
pub mod transaction_nesting;
pub mod truncate_cascade;
pub mod unique_without_index;
pub mod volatile_default;

/// A rule: its id (what a suppression comment names), one line on what it catches, and its check.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub summary: &'static str,
    pub check: fn(&Stmt, &Ctx) -> Vec<Hit>,
}

macro_rules! rule {
    ($m:ident) => {
        Rule {
            id: $m::ID,
            summary: $m::SUMMARY,
            check: $m::check,
        }
    };
}

/// Every rule, in the order findings on one statement are listed.
pub const RULES: &[Rule] = &[
    rule!(volatile_default),
    rule!(not_null_without_default),
    rule!(set_not_null),
    rule!(alter_column_type),
    rule!(create_index_not_concurrent),
    rule!(drop_index_not_concurrent),
    rule!(reindex_not_concurrent),
    rule!(concurrent_in_transaction),
    rule!(constraint_not_valid),
    rule!(unique_without_index),
    rule!(rename),
    rule!(drop_column),
    rule!(drop_table),
    rule!(drop_database),
    rule!(truncate_cascade),
    rule!(missing_timeout),
    rule!(transaction_nesting),
    rule!(prefer_bigint_keys),
    rule!(prefer_identity),
    rule!(prefer_text),
    rule!(prefer_timestamptz),
];
