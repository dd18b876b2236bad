//! `dbdeck migrate …` and `dbdeck lint …`: the commands and how their answers print.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::api::{Api, Event, Request, Response};
use crate::cli::{Format, table};
use crate::cli_views::duration_ms;
use crate::error::ApiError;
use crate::migrate::lint::{self, LintReport, Severity};
use crate::migrate::run::{Progress, RunReport, StepOutcome};
use crate::migrate::source::SourceFormat;
use crate::migrate::{DriftMatrix, MigrationOverview, MigrationPlan, RollbackTest};

#[derive(clap::Args, Debug)]
pub struct Target {
    #[arg(long)]
    pub env: String,
    /// The migration folder.
    #[arg(long)]
    pub dir: PathBuf,
    /// sqlx, flyway or plain; detected from the file names when left out.
    #[arg(long = "layout", value_parser = parse_layout)]
    pub layout: Option<SourceFormat>,
}

fn parse_layout(s: &str) -> Result<SourceFormat, String> {
    SourceFormat::parse(s).ok_or_else(|| format!("'{s}' is not a layout: use sqlx, flyway or plain"))
}

#[derive(Subcommand, Debug)]
pub enum MigrateCommand {
    /// Applied, pending, modified, missing and failed migrations, with dates and durations.
    Status(Target),
    /// The pending migrations with their SQL, linted against the live target.
    Plan(Target),
    /// Apply the pending migrations, one at a time, with live progress.
    Apply {
        #[command(flatten)]
        t: Target,
        /// Up to and including this version.
        #[arg(long)]
        target: Option<String>,
        /// Try them and roll back (or use a scratch copy of the schema); nothing is changed.
        #[arg(long)]
        dry_run: bool,
        /// lock_timeout for each statement, in milliseconds.
        #[arg(long, default_value_t = 5000)]
        lock_timeout: u64,
        /// statement_timeout in seconds (0: none).
        #[arg(long, default_value_t = 0)]
        statement_timeout: u64,
        /// Attempts after the first when a lock cannot be had in time (back-off doubles from 1 s).
        #[arg(long, default_value_t = 3)]
        retries: u32,
        /// Required on prod: the environment's name.
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Run down/undo migrations, newest first.
    Rollback {
        #[command(flatten)]
        t: Target,
        /// How many (default 1).
        #[arg(long, conflicts_with = "to")]
        steps: Option<u32>,
        /// Down to (not including) this version.
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Apply all, roll each back, apply again on a scratch database; fail if the schema differs.
    TestRollback(Target),
    /// Accept a modified migration's new checksum, or clear a failed one (audited).
    Repair {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        version: String,
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Versions × environments: who is behind, who diverged.
    Drift {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long = "layout", value_parser = parse_layout)]
        layout: Option<SourceFormat>,
        /// Only these environments (repeat); all of them by default.
        #[arg(long = "env")]
        envs: Vec<String>,
    },
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// SQL files or migration folders ("-" reads stdin).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Weigh the findings against this environment's tables, sessions and replicas.
    #[arg(long)]
    pub env: Option<String>,
    /// Exit 1 when a finding is at or above this: info, warning or error.
    #[arg(long, default_value = "warning")]
    pub severity: String,
    /// Read single files as run inside a transaction (folders know from their layout).
    #[arg(long)]
    pub in_transaction: bool,
}

fn dir_str(p: &Path) -> String {
    p.display().to_string()
}

/// Runs a `migrate` subcommand.
pub async fn migrate(api: &Api, format: Format, cmd: MigrateCommand) -> Result<i32, ApiError> {
    let req = match cmd {
        MigrateCommand::Status(t) => Request::MigrateStatus {
            name: t.env,
            dir: dir_str(&t.dir),
            format: t.layout,
        },
        MigrateCommand::Plan(t) => Request::MigratePlan {
            name: t.env,
            dir: dir_str(&t.dir),
            format: t.layout,
        },
        MigrateCommand::Apply {
            t,
            target,
            dry_run,
            lock_timeout,
            statement_timeout,
            retries,
            confirm,
        } => Request::MigrateApply {
            name: t.env,
            dir: dir_str(&t.dir),
            format: t.layout,
            target,
            dry_run: Some(dry_run),
            lock_timeout_ms: Some(lock_timeout),
            statement_timeout_s: Some(statement_timeout),
            retries: Some(retries),
            confirm,
        },
        MigrateCommand::Rollback { t, steps, to, confirm } => Request::MigrateRollback {
            name: t.env,
            dir: dir_str(&t.dir),
            format: t.layout,
            steps,
            to,
            confirm,
        },
        MigrateCommand::TestRollback(t) => Request::MigrateTestRollback {
            name: t.env,
            dir: dir_str(&t.dir),
            format: t.layout,
        },
        MigrateCommand::Repair { t, version, confirm } => Request::MigrateRepair {
            name: t.env,
            dir: dir_str(&t.dir),
            format: t.layout,
            version,
            confirm,
        },
        MigrateCommand::Drift { dir, layout, envs } => Request::MigrateDrift {
            dir: dir_str(&dir),
            format: layout,
            envs: (!envs.is_empty()).then_some(envs),
        },
    };
    // Progress goes to stderr as it happens; the answer to stdout at the end.
    let mut events = api.subscribe();
    let show = format == Format::Table;
    let progress = tokio::spawn(async move {
        while let Ok(e) = events.recv().await {
            if let Event::MigrationProgress { progress, .. } = e
                && show
            {
                eprintln!("{}", progress_line(&progress));
            }
        }
    });
    let resp = api.call(req).await;
    progress.abort();
    let resp = resp?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&resp).expect("responses serialise"));
        return Ok(exit_code(&resp));
    }
    print(&resp);
    Ok(exit_code(&resp))
}

pub fn progress_line(p: &Progress) -> String {
    match p {
        Progress::Migration { k, n, label, attempt } => {
            format!(
                "[{k}/{n}] {label}{}",
                if *attempt > 1 {
                    format!(" (attempt {attempt})")
                } else {
                    String::new()
                }
            )
        }
        Progress::Statement { i, count, excerpt, .. } => format!("      statement {i}/{count}: {excerpt}"),
        Progress::Retry { wait_ms, reason, .. } => {
            format!("      {reason}; retrying in {}", duration_ms(*wait_ms as f64))
        }
        Progress::Done { ok, ms, .. } => {
            format!("      {} in {}", if *ok { "done" } else { "FAILED" }, duration_ms(*ms))
        }
    }
}

pub fn exit_code(resp: &Response) -> i32 {
    match resp {
        Response::MigrationRun(r) if !r.ok => 1,
        Response::RollbackTest(r) if !r.ok => 1,
        Response::MigrationStatus(o) if !o.status.blockers.is_empty() => 1,
        _ => 0,
    }
}

/// Prints a migration answer as tables and text.
pub fn print(resp: &Response) {
    match resp {
        Response::MigrationStatus(o) => print_overview(o),
        Response::MigrationPlan(p) => print_plan(p),
        Response::MigrationRun(r) => print_run(r),
        Response::Drift(d) => print_drift(d),
        Response::RollbackTest(t) => print_test(t),
        Response::Lint(rs) => rs.iter().for_each(|r| print!("{}", lint::render(r))),
        _ => {}
    }
}

fn print_overview(o: &MigrationOverview) {
    let s = &o.status;
    println!(
        "{} on {}: {} layout ({}), history in {}",
        o.dir,
        o.env,
        o.format.as_str(),
        o.detected_from,
        s.table
    );
    let rows = s
        .entries
        .iter()
        .map(|e| {
            vec![
                e.version.as_ref().map_or("R".into(), ToString::to_string),
                e.description.clone(),
                e.state.as_str().to_uppercase(),
                e.installed_on.clone().unwrap_or_default(),
                e.execution_ms.map(duration_ms).unwrap_or_default(),
                if e.has_down { "yes".into() } else { "-".into() },
            ]
        })
        .collect();
    table(&["VERSION", "DESCRIPTION", "STATE", "INSTALLED", "TOOK", "DOWN"], rows);
    println!(
        "{} applied, {} pending, {} modified, {} missing, {} failed; current version {}",
        s.applied,
        s.pending,
        s.modified,
        s.missing,
        s.failed,
        s.current.as_ref().map_or("none".into(), ToString::to_string)
    );
    if !s.alembic_head.is_empty() {
        println!("alembic_version (read only): {}", s.alembic_head.join(", "));
    }
    for p in &o.problems {
        println!("could not read {}: {}", p.path.display(), p.message);
    }
    for b in &s.blockers {
        println!("blocked: {b}");
    }
}

fn print_plan(p: &MigrationPlan) {
    print_overview(&p.overview);
    if p.steps.is_empty() {
        println!("nothing to apply");
        return;
    }
    println!("\n{} to apply (dry run: {}):", p.steps.len(), p.dry_run_method);
    for (i, s) in p.steps.iter().enumerate() {
        println!(
            "\n[{}/{}] {} {} — {} statement(s), {}{}",
            i + 1,
            p.steps.len(),
            s.version.as_ref().map_or("R".into(), ToString::to_string),
            s.description,
            s.statements,
            if s.transactional {
                "in a transaction"
            } else {
                "OUTSIDE a transaction"
            },
            s.down_file
                .as_ref()
                .map_or(", no down script".into(), |d| format!(", down: {d}"))
        );
        print!("{}", lint::render(&s.lint));
    }
}

fn print_run(r: &RunReport) {
    let rows = r
        .steps
        .iter()
        .map(|s| {
            vec![
                s.version.as_ref().map_or("R".into(), ToString::to_string),
                s.description.clone(),
                match s.outcome {
                    StepOutcome::Applied => "applied",
                    StepOutcome::RolledBack => "rolled back",
                    StepOutcome::DryRunOk => "ok (dry run)",
                    StepOutcome::Failed => "FAILED",
                    StepOutcome::NotRun => "not run",
                }
                .into(),
                s.statements.to_string(),
                s.attempts.to_string(),
                duration_ms(s.ms),
            ]
        })
        .collect();
    table(
        &["VERSION", "DESCRIPTION", "OUTCOME", "STATEMENTS", "ATTEMPTS", "TOOK"],
        rows,
    );
    for s in &r.steps {
        if let Some(f) = &s.failure {
            let at = match (f.line, f.column) {
                (Some(l), Some(c)) => format!("{}:{l}:{c}", f.file),
                _ => f.file.clone(),
            };
            println!(
                "error: {at}: statement {}: {}{}",
                f.statement,
                f.message,
                f.sqlstate
                    .as_ref()
                    .map(|c| format!(" (SQLSTATE {c})"))
                    .unwrap_or_default()
            );
            println!("state: {}", f.state);
        }
        for l in &s.left_behind {
            println!(
                "left behind: INVALID index {} on {}; clean up with: {}",
                l.index, l.table, l.cleanup_sql
            );
        }
    }
    for v in &r.verify {
        println!("verify {v}");
    }
    if r.steps.is_empty() {
        println!("nothing to do: no pending migrations");
    }
    println!("{} in {}", if r.ok { "ok" } else { "FAILED" }, duration_ms(r.ms));
}

fn print_drift(d: &DriftMatrix) {
    let mut headers = vec!["VERSION".to_string(), "DESCRIPTION".into(), "FOLDER".into()];
    headers.extend(d.columns.iter().map(|c| c.env.to_uppercase()));
    let rows = d
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.version.as_ref().map_or("R".into(), ToString::to_string),
                r.description.clone(),
                if r.in_folder { "yes".into() } else { "-".into() },
            ];
            row.extend(r.states.iter().cloned());
            row
        })
        .collect();
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    table(&h, rows);
    for c in &d.columns {
        println!(
            "{} ({}): {}{}",
            c.env,
            c.kind,
            c.verdict,
            c.error.as_ref().map(|e| format!(" — {e}")).unwrap_or_default()
        );
    }
}

fn print_test(t: &RollbackTest) {
    for p in &t.phases {
        println!(
            "{} {:<32} {:>10}  {}",
            if p.ok { "ok  " } else { "FAIL" },
            p.name,
            duration_ms(p.ms),
            p.detail
        );
    }
    for m in &t.missing_down {
        println!("no down script: {m}");
    }
    for d in &t.diff {
        println!("  {d}");
    }
    println!(
        "rollback test {} on scratch database {} (dropped) in {}",
        if t.ok { "passed" } else { "FAILED" },
        t.scratch_database,
        duration_ms(t.ms)
    );
}

fn parse_severity(s: &str) -> Result<Severity, ApiError> {
    match s {
        "info" => Ok(Severity::Info),
        "warning" => Ok(Severity::Warning),
        "error" | "critical" => Ok(Severity::Critical),
        _ => Err(ApiError::invalid(format!(
            "'{s}' is not a severity: use info, warning or error"
        ))),
    }
}

/// `dbdeck lint`: every file (a folder's migrations with their layout's transaction rule),
/// exit 1 when a finding reaches `--severity`.
pub async fn lint_cmd(api: &Api, format: Format, a: LintArgs) -> Result<i32, ApiError> {
    let threshold = parse_severity(&a.severity)?;
    // (file name, sql, in a transaction)
    let mut inputs: Vec<(String, String, bool)> = Vec::new();
    for p in &a.paths {
        if p.as_os_str() == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| ApiError::invalid(format!("cannot read stdin: {e}")))?;
            inputs.push(("<stdin>".into(), text, a.in_transaction));
        } else if p.is_dir() {
            let src = crate::api::read_source(&dir_str(p), None)?;
            for m in &src.migrations {
                for s in std::iter::once(&m.up).chain(m.down.as_ref()) {
                    let pieces = crate::migrate::run::pieces(s).unwrap_or_default();
                    let tx = crate::migrate::run::transactional(src.format, s, &pieces);
                    inputs.push((p.join(&s.path).display().to_string(), s.sql.clone(), tx));
                }
            }
            for prob in &src.problems {
                eprintln!("{}: not linted: {}", p.join(&prob.path).display(), prob.message);
            }
        } else {
            let bytes = std::fs::read(p).map_err(|e| ApiError::invalid(format!("cannot read {}: {e}", p.display())))?;
            let sql = crate::migrate::source::decode(&bytes)
                .map_err(|e| ApiError::invalid(format!("{}: {e}", p.display())))?;
            inputs.push((p.display().to_string(), sql, a.in_transaction));
        }
    }
    let scripts = inputs
        .into_iter()
        .map(|(file, sql, in_transaction)| lint::LintInput {
            sql,
            file: Some(file),
            in_transaction,
        })
        .collect();
    let Response::Lint(reports) = api
        .call(Request::Lint {
            scripts,
            name: a.env.clone(),
        })
        .await?
    else {
        unreachable!("lint answers with reports")
    };
    let worst = reports.iter().filter_map(LintReport::worst).max();
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&reports).expect("reports serialise"));
    } else {
        let colour = std::io::stdout().is_terminal();
        for r in &reports {
            let text = lint::render(r);
            if colour {
                for line in text.lines() {
                    let painted = if line.contains(": error [") {
                        format!("\x1b[31m{line}\x1b[0m")
                    } else if line.contains(": warning [") {
                        format!("\x1b[33m{line}\x1b[0m")
                    } else {
                        line.to_string()
                    };
                    println!("{painted}");
                }
            } else {
                print!("{text}");
            }
        }
    }
    Ok(i32::from(worst.is_some_and(|w| w >= threshold)))
}
