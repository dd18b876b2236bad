//! Lock-safety lint of migration SQL, with PostgreSQL's own parser (libpg_query through the
//! `pg_query` crate).
//!
//! A script is read statement by statement, with positions. psql meta-commands (`\echo`,
//! `\set`, `\i`…) are blanked out with a note, and extension-script placeholders
//! (`@extschema@`) are read as identifiers, so the rest of a real-world script is still linted.
//! A statement the parser rejects is reported at the token it stopped at, and the others are
//! linted anyway.
//!
//! Each rule is a pure function in its own file under [`rules`]: it looks at one statement and
//! what the script did before it ([`Ctx`]) and returns [`Hit`]s. The engine adds the rule id
//! and the position, drops hits suppressed with a `-- dbdeck-lint: ignore <rule>` comment
//! before the statement, and — when linting against a live environment — changes the severity
//! with what the target says ([`live`]): a rewrite of an empty table is fine, of a 50 GB table
//! is not, and a lock behind a long-running transaction waits for it.

pub mod ast;
pub mod live;
pub mod rules;

pub use dbdeck_pg_parse as parse;

use std::collections::HashSet;

use pg_query::NodeEnum;
use serde::Serialize;
use ts_rs::TS;

pub use crate::plan::analyze::Severity;

/// The kind of harm a hit does, which the live context weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// Rewrites the whole table under an ACCESS EXCLUSIVE lock.
    Rewrite,
    /// Scans the whole table while holding a lock that blocks writes (or everything).
    Scan,
    /// Takes a strong lock, briefly, but waits behind every running transaction on the table.
    Lock,
    /// Breaks running application code (a rename, a dropped column) whatever the size.
    Breaks,
    /// Style and future-proofing (types, identity): size does not matter.
    Style,
}

/// What a rule found in one statement.
#[derive(Debug, Clone)]
pub struct Hit {
    pub severity: Severity,
    pub title: String,
    /// Why it is dangerous: the lock taken, whether the table is rewritten.
    pub why: String,
    /// The safe pattern, as SQL where there is one.
    pub fix: String,
    pub impact: Impact,
    /// The table it touches, `schema.name` or `name` as written.
    pub table: Option<String>,
    /// Byte offset of the part it is about, as the parser gave it (its `location`).
    pub location: Option<usize>,
}

/// One finding, placed in the file.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LintFinding {
    pub rule: String,
    pub severity: Severity,
    /// 1-based.
    pub line: u32,
    pub column: u32,
    /// Byte offset in the file.
    pub offset: u32,
    /// The statement's first line, shortened.
    pub statement: String,
    pub title: String,
    pub why: String,
    pub fix: String,
    pub table: Option<String>,
    pub impact: Impact,
    /// What the live target said that changed the severity ("orders has 0 rows: the rewrite
    /// is instant"), when linted against an environment.
    pub context: Option<String>,
}

/// Something the linter did that the person should know (a skipped meta-command).
#[derive(Debug, Clone, Serialize, TS)]
pub struct LintNote {
    pub line: u32,
    pub message: String,
}

/// The lint of one file (or one piece of SQL).
#[derive(Debug, Clone, Serialize, TS)]
pub struct LintReport {
    pub file: Option<String>,
    pub statements: u32,
    pub findings: Vec<LintFinding>,
    pub notes: Vec<LintNote>,
    /// Findings suppressed by comments.
    pub suppressed: u32,
}

impl LintReport {
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// One script to lint.
#[derive(Debug, Clone, serde::Deserialize, Serialize, TS)]
pub struct LintInput {
    pub sql: String,
    #[serde(default)]
    #[ts(optional)]
    pub file: Option<String>,
    /// The script runs inside a transaction its tool opens.
    #[serde(default)]
    pub in_transaction: bool,
}

/// Lints many scripts on every core; reports in the order given.
pub fn lint_all(inputs: &[LintInput]) -> Vec<LintReport> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(inputs.len().max(1));
    let one = |i: &LintInput| {
        lint(
            &i.sql,
            i.file.as_deref(),
            &LintOptions {
                in_transaction: i.in_transaction,
                timeouts_set: false,
            },
        )
    };
    if threads <= 1 {
        return inputs.iter().map(one).collect();
    }
    // Interleaved, so big and small files spread over the threads.
    let mut out: Vec<Option<LintReport>> = vec![None; inputs.len()];
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    inputs
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, x)| (i, one(x)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, r) in h.join().expect("lint thread") {
                out[i] = Some(r);
            }
        }
    });
    out.into_iter().map(|r| r.expect("every script linted")).collect()
}

/// How the script will be run. (The live target is weighed afterwards: [`live::LiveContext::apply`].)
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// The migration tool wraps the script in a transaction (sqlx without
    /// `-- no-transaction`, Flyway by default).
    pub in_transaction: bool,
    /// The runner sets lock_timeout and statement_timeout itself (dbdeck's apply does).
    pub timeouts_set: bool,
}

/// What the script has done before the statement a rule looks at.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Inside a transaction: the tool's, or an explicit BEGIN.
    pub in_transaction: bool,
    /// 1 while a BEGIN of the script itself is open (transactions do not nest).
    pub open_begins: u32,
    pub lock_timeout_set: bool,
    pub statement_timeout_set: bool,
    /// Statements so far that took a strong lock on an existing table.
    pub locks_taken: u32,
    /// Tables created earlier in this script (lower-cased names as written): changing them
    /// locks nobody out.
    pub created: HashSet<String>,
}

impl Ctx {
    pub fn created_here(&self, table: &str) -> bool {
        self.created.contains(&table.to_lowercase())
    }
}

/// One statement, parsed.
#[derive(Debug)]
pub struct Stmt<'a> {
    pub node: &'a NodeEnum,
    /// Its text.
    pub sql: &'a str,
}

/// The rule ids a comment before a statement silences: `-- dbdeck-lint: ignore rule-a, rule-b`
/// (or `ignore-all`).
fn suppressions(leading: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in leading.lines() {
        let Some(pos) = line.find("dbdeck-lint:") else { continue };
        let rest = line[pos + "dbdeck-lint:".len()..].trim().trim_end_matches("*/").trim();
        if let Some(ids) = rest.strip_prefix("ignore") {
            let ids = ids.trim();
            if ids.is_empty() || ids == "-all" || ids == "all" {
                out.push("*".into());
            } else {
                out.extend(ids.split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_string));
            }
        }
    }
    out
}

/// Replaces psql meta-command lines with spaces (keeping every byte offset) and extension
/// placeholders with identifiers of the same length; returns the notes.
pub fn prepare(sql: &str) -> (String, Vec<LintNote>) {
    let mut out = String::with_capacity(sql.len());
    let mut notes = Vec::new();
    let mut quit = false;
    for (i, line) in sql.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if quit || trimmed.starts_with('\\') {
            let body = line.trim_end_matches(['\n', '\r']);
            if !quit {
                let cmd = trimmed.split_whitespace().next().unwrap_or("\\");
                let what = match cmd {
                    "\\q" | "\\quit" => {
                        quit = true;
                        "psql stops reading here; the rest of the file is not linted".to_string()
                    }
                    "\\i" | "\\ir" | "\\include" | "\\include_relative" => {
                        "includes another file, which is not linted here: lint it on its own".to_string()
                    }
                    _ => "a psql meta-command, skipped".to_string(),
                };
                notes.push(LintNote {
                    line: i as u32 + 1,
                    message: format!("`{}`: {what}", body.trim()),
                });
            }
            out.extend(
                body.chars()
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .take(body.len()),
            );
            // Multi-byte characters become one space each: pad to keep byte offsets.
            let pad = body.len() - body.chars().count();
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&line[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    for (from, to) in [
        ("@extschema@", "\"extschema\""),
        ("@extowner@", "\"extowner\""),
        ("@database_owner@", "\"database_owner\""),
    ] {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    (out, notes)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let mut off = offset;
    while !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |p| p + 1);
    let col = before[start..].chars().count() + 1;
    (line as u32, col as u32)
}

/// Skips whitespace and comments from `at`: where the statement's first token is.
fn first_token(sql: &str, mut at: usize) -> usize {
    let b = sql.as_bytes();
    loop {
        while at < b.len() && b[at].is_ascii_whitespace() {
            at += 1;
        }
        if b[at..].starts_with(b"--") {
            while at < b.len() && b[at] != b'\n' {
                at += 1;
            }
        } else if b[at..].starts_with(b"/*") {
            at = sql[at + 2..].find("*/").map_or(b.len(), |p| at + 2 + p + 2);
        } else {
            return at.min(b.len());
        }
    }
}

/// Statements no rule looks at — routines, types, operators, grants, comments, DML — by their
/// leading words; everything else is parsed into a tree.
fn tree_not_needed(stmt: &str) -> bool {
    let body = &stmt[first_token(stmt, 0).min(stmt.len())..];
    let mut words = body
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_uppercase());
    let first = words.next().unwrap_or_default();
    let mut second = words.next().unwrap_or_default();
    if first == "CREATE" && second == "OR" {
        // CREATE OR REPLACE …
        second = words.nth(1).unwrap_or_default();
    }
    const OBJECTS: &[&str] = &[
        "FUNCTION",
        "PROCEDURE",
        "AGGREGATE",
        "OPERATOR",
        "TYPE",
        "CAST",
        "LANGUAGE",
        "TRUSTED",
        "PROCEDURAL",
        "TEXT",
        "COLLATION",
        "CONVERSION",
        "ACCESS",
        "EXTENSION",
        "SCHEMA",
        "DOMAIN",
        "SEQUENCE",
        "POLICY",
        "RULE",
        "PUBLICATION",
        "SUBSCRIPTION",
        "SERVER",
        "USER",
        "EVENT",
        "TRANSFORM",
        "STATISTICS",
        "ROLE",
        "GROUP",
        "ROUTINE",
        "VIEW",
        "RECURSIVE",
    ];
    match first.as_str() {
        "CREATE" | "ALTER" => OBJECTS.contains(&second.as_str()) || (first == "ALTER" && second == "DEFAULT"),
        "COMMENT" | "GRANT" | "REVOKE" | "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "DO" | "CALL" | "SECURITY"
        | "NOTIFY" | "LISTEN" | "VALUES" | "EXPLAIN" => true,
        _ => false,
    }
}

/// Byte ranges of the statements of a script the parser rejects, split at the scanner's `;`
/// tokens (so quotes, dollar quotes and comments are respected), blank pieces left out.
/// (libpg_query's own scanner split drops a statement whose first word is not a keyword.)
pub fn split(text: &str) -> Vec<(usize, usize)> {
    let semis: Vec<usize> = match pg_query::scan(text) {
        Ok(s) => s
            .tokens
            .iter()
            .filter(|t| t.token == pg_query::protobuf::Token::Ascii59 as i32)
            .map(|t| t.start as usize)
            .collect(),
        Err(_) => return vec![(0, text.len())],
    };
    let mut out = Vec::new();
    let mut start = 0;
    for end in semis.into_iter().chain([text.len()]) {
        if first_token(text, start) < end {
            out.push((start, end));
        }
        start = (end + 1).min(text.len());
    }
    out
}

fn excerpt(stmt: &str) -> String {
    let first = stmt.trim_start().lines().next().unwrap_or("").trim();
    if first.chars().count() > 100 {
        let cut: String = first.chars().take(97).collect();
        format!("{cut}…")
    } else {
        first.to_string()
    }
}

/// A statement's byte range, where the text its parser saw starts, and its parse.
/// `Ok(None)`: a statement no rule reads (counted, not parsed into a tree).
type Piece = (
    usize,
    usize,
    usize,
    Result<Option<Vec<NodeEnum>>, (String, Option<usize>)>,
);

/// Lints one script.
pub fn lint(sql: &str, file: Option<&str>, opts: &LintOptions) -> LintReport {
    let (text, notes) = prepare(sql);
    let mut report = LintReport {
        file: file.map(str::to_string),
        statements: 0,
        findings: Vec::new(),
        notes,
        suppressed: 0,
    };
    // (start, end) byte ranges of the statements, and their parse, in order.
    // `base`: where the text the parser saw starts, for the locations inside its tree.
    let mut pieces: Vec<Piece> = Vec::new();
    // The raw parser splits the script (and checks its grammar) without building trees; only
    // statements some rule reads are parsed into one (libpg_query's tree serialisation is most
    // of the cost of a parse).
    match pg_query::split_with_parser(&text) {
        Ok(stmts) => {
            for piece in stmts {
                let start = piece.as_ptr() as usize - text.as_ptr() as usize;
                let end = start + piece.len();
                let parsed = if tree_not_needed(piece) {
                    Ok(None)
                } else {
                    parse::parse(piece)
                        .map(|p| {
                            Some(
                                p.stmts
                                    .into_iter()
                                    .filter_map(|r| r.stmt.and_then(|n| n.node))
                                    .collect(),
                            )
                        })
                        .map_err(|e| (e.message, e.offset.map(|o| start + o)))
                };
                pieces.push((start, end, start, parsed));
            }
        }
        Err(_) => {
            // Statement by statement, so one bad statement does not hide the rest.
            for (start, end) in split(&text) {
                let piece = &text[start..end];
                let parsed = parse::parse(piece)
                    .map(|p| {
                        Some(
                            p.stmts
                                .into_iter()
                                .filter_map(|r| r.stmt.and_then(|n| n.node))
                                .collect(),
                        )
                    })
                    .map_err(|e| (e.message, e.offset.map(|o| start + o)));
                pieces.push((start, end, start, parsed));
            }
        }
    }
    let mut cx = Ctx {
        in_transaction: opts.in_transaction,
        lock_timeout_set: opts.timeouts_set,
        statement_timeout_set: opts.timeouts_set,
        ..Ctx::default()
    };
    let mut prev_end = 0usize;
    for (start, end, base, parsed) in pieces {
        let token = first_token(&text, start).min(end.max(start));
        let leading = &sql[prev_end.min(token)..token];
        let stmt_text = &text[token..end.max(token)];
        let original = &sql[token..end.max(token)];
        prev_end = end;
        let ignored = suppressions(leading);
        let nodes = match parsed {
            Ok(Some(n)) => n,
            Ok(None) => {
                report.statements += 1;
                continue;
            }
            Err((message, at)) => {
                let at = at.filter(|&a| a >= token).unwrap_or(token);
                let (line, column) = line_col(sql, at);
                report.statements += 1;
                report.findings.push(LintFinding {
                    rule: "syntax-error".into(),
                    severity: Severity::Critical,
                    line,
                    column,
                    offset: at as u32,
                    statement: excerpt(original),
                    title: format!("PostgreSQL cannot parse this statement: {message}"),
                    why: "PostgreSQL would refuse it too, and the migration would fail here.".into(),
                    fix: "Correct the statement; the position is where the parser stopped.".into(),
                    table: None,
                    impact: Impact::Breaks,
                    context: None,
                });
                continue;
            }
        };
        for node in &nodes {
            report.statements += 1;
            let stmt = Stmt { node, sql: stmt_text };
            for rule in rules::RULES {
                for hit in (rule.check)(&stmt, &cx) {
                    if ignored.iter().any(|i| i == "*" || i == rule.id) {
                        report.suppressed += 1;
                        continue;
                    }
                    let at = hit
                        .location
                        .map(|l| base + l)
                        .filter(|&a| a >= token && a < end.max(token + 1))
                        .unwrap_or(token);
                    let (line, column) = line_col(sql, at);
                    let finding = LintFinding {
                        rule: rule.id.into(),
                        severity: hit.severity,
                        line,
                        column,
                        offset: at as u32,
                        statement: excerpt(original),
                        title: hit.title.clone(),
                        why: hit.why.clone(),
                        fix: hit.fix.clone(),
                        table: hit.table.clone(),
                        impact: hit.impact,
                        context: None,
                    };
                    report.findings.push(finding);
                }
            }
            advance(&mut cx, node);
        }
    }
    // An explicit transaction left open at the end of the script.
    if cx.open_begins > 0 {
        let (line, column) = line_col(sql, sql.len());
        report.findings.push(LintFinding {
            rule: rules::transaction_nesting::ID.into(),
            severity: Severity::Critical,
            line,
            column,
            offset: sql.len() as u32,
            statement: String::new(),
            title: "The script ends inside a transaction it opened (BEGIN without COMMIT)".into(),
            why: "Whatever runs the script next either commits work nobody reviewed as one unit or \
                  rolls it all back when the session ends; with a migration tool the locks taken are \
                  held until the tool's own commit."
                .into(),
            fix: "End the script with COMMIT;, or remove the BEGIN and let the migration tool wrap the \
                  file in its transaction."
                .into(),
            table: None,
            impact: Impact::Breaks,
            context: None,
        });
    }
    report
        .findings
        .sort_by_key(|f| (f.offset, std::cmp::Reverse(f.severity)));
    report
}

/// What a statement changes in the script's state, for the statements after it.
fn advance(cx: &mut Ctx, node: &NodeEnum) {
    use pg_query::protobuf::TransactionStmtKind as K;
    if rules::missing_timeout::strong_lock_table(node, cx).is_some() {
        cx.locks_taken += 1;
    }
    match node {
        // PostgreSQL's transactions are flat: a BEGIN inside one is ignored (with a warning), and
        // the first COMMIT or ROLLBACK ends it, the tool's own included.
        NodeEnum::TransactionStmt(t) => match K::try_from(t.kind).unwrap_or(K::Undefined) {
            K::TransStmtBegin | K::TransStmtStart => {
                cx.open_begins = 1;
                cx.in_transaction = true;
            }
            K::TransStmtCommit | K::TransStmtRollback | K::TransStmtPrepare => {
                cx.open_begins = 0;
                cx.in_transaction = false;
            }
            _ => {}
        },
        NodeEnum::VariableSetStmt(v) => {
            let name = v.name.to_lowercase();
            let off = v
                .args
                .iter()
                .any(|a| ast::const_str(a).is_some_and(|s| s == "0" || s.eq_ignore_ascii_case("0s")));
            if name == "lock_timeout" {
                cx.lock_timeout_set = !off;
            } else if name == "statement_timeout" {
                cx.statement_timeout_set = !off;
            }
        }
        NodeEnum::CreateStmt(c) => {
            if let Some(r) = &c.relation {
                cx.created.insert(ast::relname(r).to_lowercase());
                cx.created.insert(r.relname.to_lowercase());
            }
        }
        NodeEnum::CreateTableAsStmt(c) => {
            if let Some(r) = c.into.as_ref().and_then(|i| i.rel.as_ref()) {
                cx.created.insert(ast::relname(r).to_lowercase());
                cx.created.insert(r.relname.to_lowercase());
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;

/// A report as text, the way the CLI prints it and the snapshots keep it.
pub fn render(report: &LintReport) -> String {
    use std::fmt::Write;
    let file = report.file.as_deref().unwrap_or("<sql>");
    let mut out = String::new();
    for n in &report.notes {
        let _ = writeln!(out, "{file}:{}: note: {}", n.line, n.message);
    }
    for f in &report.findings {
        let sev = match f.severity {
            Severity::Critical => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let _ = writeln!(out, "{file}:{}:{}: {sev} [{}] {}", f.line, f.column, f.rule, f.title);
        if !f.statement.is_empty() {
            let _ = writeln!(out, "  | {}", f.statement);
        }
        let _ = writeln!(out, "  why: {}", f.why);
        let mut lines = f.fix.lines();
        let _ = writeln!(out, "  fix: {}", lines.next().unwrap_or(""));
        for l in lines {
            let _ = writeln!(out, "       {l}");
        }
        if let Some(c) = &f.context {
            let _ = writeln!(out, "  live: {c}");
        }
    }
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        out,
        "{file}: {} statement{}, {} error{}, {} warning{}, {} info{}",
        report.statements,
        if report.statements == 1 { "" } else { "s" },
        count(Severity::Critical),
        if count(Severity::Critical) == 1 { "" } else { "s" },
        count(Severity::Warning),
        if count(Severity::Warning) == 1 { "" } else { "s" },
        count(Severity::Info),
        if report.suppressed > 0 {
            format!(" ({} suppressed)", report.suppressed)
        } else {
            String::new()
        },
    );
    out
}
