//! Migration requests: status, plan, apply (and dry run), rollback, repair, drift, the rollback
//! test and lint. Each opens a connection of its own to the environment's primary (migrations
//! set session state and take an advisory lock, which must not leak into a pool).

use std::path::Path;
use std::time::Instant;

use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, SqliteConnection};

use super::{Api, Event, Response};
use crate::env::{self, Engine, Environment, Role};
use crate::error::ApiError;
use crate::migrate::OnTarget;
use crate::migrate::history::{self, Db};
use crate::migrate::lint::{self, live};
use crate::migrate::run::{self, ApplyOptions, RunKind, RunReport};
use crate::migrate::scratch::{self, Scratch};
use crate::migrate::source::{self, Source, SourceFormat};
use crate::migrate::status::{self, State};
use crate::migrate::{
    DriftColumn, DriftMatrix, DriftRow, MigrationOverview, MigrationPlan, PlanStep, RollbackTest, TestPhase,
};
use crate::probe::classify_pg;

/// The default replica-lag threshold the lint weighs rewrites against, in seconds.
const LAG_THRESHOLD_S: f64 = 5.0;

enum MigConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

impl MigConn {
    fn db(&mut self) -> Db<'_> {
        match self {
            MigConn::Pg(c) => Db::Pg(c),
            MigConn::Sqlite(c) => Db::Sqlite(c),
        }
    }
    async fn close(self) {
        let _ = match self {
            MigConn::Pg(c) => c.close().await,
            MigConn::Sqlite(c) => c.close().await,
        };
    }
}

/// Options for migrating one environment, from a request.
#[derive(Debug, Clone, Default)]
pub struct MigrateArgs {
    pub name: String,
    pub dir: String,
    pub format: Option<SourceFormat>,
}

pub fn read_source(dir: &str, format: Option<SourceFormat>) -> Result<Source, ApiError> {
    source::read_dir(Path::new(dir), format).map_err(|e| ApiError::invalid(e.0))
}

impl Api {
    async fn migrate_conn(&self, env: &Environment) -> Result<MigConn, ApiError> {
        let target = env::redact_url(&env.primary.url);
        match env.engine {
            Engine::Sqlite => {
                let opts = <SqliteConnectOptions as std::str::FromStr>::from_str(&env.primary.url)
                    .map_err(|e| ApiError::invalid(format!("{target}: {e}")))?
                    .create_if_missing(false);
                Ok(MigConn::Sqlite(opts.connect().await.map_err(|e| {
                    ApiError::invalid(format!("cannot open {target} for writing: {e}"))
                })?))
            }
            _ => {
                let opts = self.pg_opts(env).await?;
                Ok(MigConn::Pg(
                    PgConnection::connect_with(&opts)
                        .await
                        .map_err(|e| classify_pg(e, &target))?,
                ))
            }
        }
    }

    async fn pg_opts(&self, env: &Environment) -> Result<sqlx::postgres::PgConnectOptions, ApiError> {
        crate::pool::pg_options(
            env,
            &Role::Primary,
            &env.primary,
            &self.inner.keychain,
            "dbdeck migrate",
        )
        .await
    }

    async fn pg_password(&self, env: &Environment) -> Result<Option<String>, ApiError> {
        match &env.primary.secret {
            Some(account) => Ok(Some(
                self.inner
                    .keychain
                    .require(account, &env.name, "primary")
                    .await?
                    .expose()
                    .to_string(),
            )),
            None => Ok(None),
        }
    }

    async fn overview(&self, c: &mut MigConn, env: &str, src: &Source) -> Result<MigrationOverview, ApiError> {
        let hist = history::read(&mut c.db(), src.format).await?;
        Ok(MigrationOverview {
            env: env.into(),
            dir: src.dir.display().to_string(),
            format: src.format,
            detected_from: src.detected_from.clone(),
            problems: src.problems.clone(),
            status: status::compare(src, &hist),
        })
    }

    pub(super) async fn migrate_status(&self, a: MigrateArgs) -> Result<Response, ApiError> {
        let env = self.inner.store.get_env(&a.name).await?;
        let src = read_source(&a.dir, a.format)?;
        let mut c = self.migrate_conn(&env).await?;
        let o = self.overview(&mut c, &env.name, &src).await;
        c.close().await;
        Ok(Response::MigrationStatus(Box::new(o?)))
    }

    pub(super) async fn migrate_plan(&self, a: MigrateArgs) -> Result<Response, ApiError> {
        let env = self.inner.store.get_env(&a.name).await?;
        let src = read_source(&a.dir, a.format)?;
        let mut c = self.migrate_conn(&env).await?;
        let result = self.plan_on(&mut c, &env, &src).await;
        c.close().await;
        Ok(Response::MigrationPlan(Box::new(result?)))
    }

    async fn plan_on(&self, c: &mut MigConn, env: &Environment, src: &Source) -> Result<MigrationPlan, ApiError> {
        let overview = self.overview(c, &env.name, src).await?;
        // Blocked (modified or failed migrations): the plan shows why, with no steps.
        let pending: Vec<_> = run::pending(src, &overview.status, None).unwrap_or_default();
        let pg = matches!(c, MigConn::Pg(_));
        let mut steps = Vec::new();
        for m in pending {
            let pieces = if pg {
                run::pieces(&m.up).unwrap_or_default()
            } else {
                vec![]
            };
            let transactional = run::transactional(src.format, &m.up, &pieces);
            // SQLite scripts run whole; their statements are counted by the scanner's `;`s.
            let statements = if pg {
                pieces.len()
            } else {
                lint::split(&lint::prepare(&m.up.sql).0).len()
            };
            let file = m.up.path.display().to_string();
            let lint = if pg {
                lint::lint(
                    &m.up.sql,
                    Some(&file),
                    // dbdeck's apply sets lock_timeout and statement_timeout itself.
                    &lint::LintOptions {
                        in_transaction: transactional,
                        timeouts_set: true,
                    },
                )
            } else {
                lint::LintReport {
                    file: Some(file.clone()),
                    statements: 0,
                    findings: vec![],
                    notes: vec![],
                    suppressed: 0,
                }
            };
            steps.push(PlanStep {
                version: m.version.clone(),
                description: m.description.clone(),
                file,
                sql: m.up.sql.clone(),
                down_file: m.down.as_ref().map(|d| d.path.display().to_string()),
                transactional,
                statements: statements as u32,
                lint,
            });
        }
        let mut live_ctx = None;
        if let MigConn::Pg(pgc) = c {
            let reports: Vec<_> = steps.iter().map(|s| s.lint.clone()).collect();
            let ctx = live::load(pgc, &env.name, &live::tables_of(&reports), LAG_THRESHOLD_S).await?;
            for s in &mut steps {
                ctx.apply(&mut s.lint);
            }
            live_ctx = Some(ctx);
        }
        let dry_run_method = if steps.iter().all(|s| s.transactional) {
            "transaction"
        } else {
            "scratch database"
        };
        Ok(MigrationPlan {
            env: env.name.clone(),
            prod: env.is_prod(),
            overview,
            steps,
            dry_run_method: dry_run_method.into(),
            live: live_ctx,
        })
    }

    fn progress_sink(&self, env: &str) -> impl Fn(run::Progress) + Send + Sync + 'static {
        let events = self.inner.events.clone();
        let env = env.to_string();
        move |progress| {
            let _ = events.send(Event::MigrationProgress {
                env: env.clone(),
                progress,
            });
        }
    }

    pub(super) async fn migrate_apply(
        &self,
        a: MigrateArgs,
        o: ApplyOptions,
        dry_run: bool,
        confirm: Option<String>,
    ) -> Result<Response, ApiError> {
        let env = self.inner.store.get_env(&a.name).await?;
        let src = read_source(&a.dir, a.format)?;
        let action = if dry_run { "migrate.dry_run" } else { "migrate.apply" };
        let params = json!({
            "dir": a.dir,
            "format": src.format.as_str(),
            "target": o.target,
            "lock_timeout_ms": o.lock_timeout_ms,
            "statement_timeout_s": o.statement_timeout_s,
            "retries": o.retries,
        });
        let sink = self.progress_sink(&env.name);
        let report = self
            .audited_with(
                Some(&env.name),
                action,
                params,
                async {
                    if !dry_run {
                        env.guard("applying migrations", confirm.as_deref())?;
                    }
                    let mut c = self.migrate_conn(&env).await?;
                    let r = if dry_run {
                        self.dry_run_on(&mut c, &env, &src, &o, &sink).await
                    } else {
                        run::apply(&mut c.db(), &src, &o, false, &sink).await
                    };
                    c.close().await;
                    r
                },
                |r: &RunReport| (!r.ok).then(|| run_failure(r)),
            )
            .await?;
        Ok(Response::MigrationRun(Box::new(report)))
    }

    /// In one rolled-back transaction when every step allows; else on a scratch copy of the
    /// target's schema and history.
    async fn dry_run_on(
        &self,
        c: &mut MigConn,
        env: &Environment,
        src: &Source,
        o: &ApplyOptions,
        sink: &(dyn Fn(run::Progress) + Send + Sync),
    ) -> Result<RunReport, ApiError> {
        let in_place = match run::apply(&mut c.db(), src, o, true, sink).await {
            Ok(r) => return Ok(r),
            Err(e) if e.message.contains("cannot be tried and rolled back here") && matches!(c, MigConn::Pg(_)) => e,
            Err(e) => return Err(e),
        };
        tracing::info!(reason = %in_place.message, "dry run on a scratch database");
        let opts = self.pg_opts(env).await?;
        let password = self.pg_password(env).await?;
        let dump = scratch::dump(&opts, password.as_deref(), &[src.format.history_table()]).await;
        // No history table yet: the schema alone.
        let dump = match dump {
            Ok(d) => d,
            Err(_) => scratch::dump(&opts, password.as_deref(), &[]).await?,
        };
        let sc = Scratch::create(&opts, &env.name).await?;
        let result = async {
            // The dump sets search_path to '' for its session: load it on a connection of its
            // own, then apply on a fresh one.
            let mut loader = sc.connect().await?;
            run::execute_script(&mut loader, &dump)
                .await
                .on_target()
                .map_err(|e| e.prefixed("loading the schema copy into the scratch database"))?;
            let _ = loader.close().await;
            let mut sconn = sc.connect().await?;
            let mut r = run::apply(&mut Db::Pg(&mut sconn), src, o, false, sink).await?;
            let _ = sconn.close().await;
            r.kind = RunKind::DryRun;
            for s in &mut r.steps {
                if s.outcome == run::StepOutcome::Applied {
                    s.outcome = run::StepOutcome::DryRunOk;
                }
            }
            r.verify.insert(
                0,
                format!(
                    "ok: tried on scratch database {} (a copy of the schema), then dropped",
                    sc.name
                ),
            );
            Ok::<_, ApiError>(r)
        }
        .await;
        sc.drop().await?;
        let mut r = result?;
        // The status shown is the target's, unchanged.
        r.after = Some(self.overview(c, &env.name, src).await?.status);
        Ok(r)
    }

    pub(super) async fn migrate_rollback(
        &self,
        a: MigrateArgs,
        o: ApplyOptions,
        steps: Option<u32>,
        to: Option<String>,
        confirm: Option<String>,
    ) -> Result<Response, ApiError> {
        let env = self.inner.store.get_env(&a.name).await?;
        let src = read_source(&a.dir, a.format)?;
        let sink = self.progress_sink(&env.name);
        let params = json!({ "dir": a.dir, "format": src.format.as_str(), "steps": steps, "to": to });
        let report = self
            .audited_with(
                Some(&env.name),
                "migrate.rollback",
                params,
                async {
                    env.guard("rolling back migrations", confirm.as_deref())?;
                    let mut c = self.migrate_conn(&env).await?;
                    let r = run::rollback(&mut c.db(), &src, &o, steps, to.as_deref(), &sink).await;
                    c.close().await;
                    r
                },
                |r: &RunReport| (!r.ok).then(|| run_failure(r)),
            )
            .await?;
        Ok(Response::MigrationRun(Box::new(report)))
    }

    pub(super) async fn migrate_repair(
        &self,
        a: MigrateArgs,
        version: String,
        confirm: Option<String>,
    ) -> Result<Response, ApiError> {
        let env = self.inner.store.get_env(&a.name).await?;
        let src = read_source(&a.dir, a.format)?;
        let v = source::Version::parse(&version)
            .ok_or_else(|| ApiError::invalid(format!("'{version}' is not a version")))?;
        let params = json!({ "dir": a.dir, "format": src.format.as_str(), "version": v.as_str() });
        let overview = self
            .audited(Some(&env.name), "migrate.repair", params, async {
                env.guard("repairing the migration history", confirm.as_deref())?;
                let m = src
                    .find(&v)
                    .ok_or_else(|| ApiError::invalid(format!("version {v} is not in the folder")))?;
                let mut c = self.migrate_conn(&env).await?;
                let result = async {
                    let before = self.overview(&mut c, &env.name, &src).await?;
                    let e = before.status.entries.iter().find(|e| e.version.as_ref() == Some(&v));
                    match e.map(|e| e.state) {
                        Some(State::Modified | State::Failed) => {}
                        other => {
                            return Err(ApiError::invalid(format!(
                                "version {v} is {}: there is nothing to repair",
                                other.map_or("not in the history", State::as_str)
                            )));
                        }
                    }
                    history::repair(&mut c.db(), src.format, &v, &m.up.checksum).await?;
                    self.overview(&mut c, &env.name, &src).await
                }
                .await;
                c.close().await;
                result
            })
            .await?;
        Ok(Response::MigrationStatus(Box::new(overview)))
    }

    pub(super) async fn migrate_drift(
        &self,
        dir: String,
        format: Option<SourceFormat>,
        envs: Option<Vec<String>>,
    ) -> Result<Response, ApiError> {
        let src = read_source(&dir, format)?;
        let all = self.inner.store.list_envs().await?;
        let mut chosen: Vec<Environment> = match &envs {
            Some(names) => all.into_iter().filter(|e| names.contains(&e.name)).collect(),
            None => all,
        };
        // Columns in promotion order: dev, test, staging, prod (others in between), then by name.
        let rank = |kind: &str| match kind {
            "dev" | "local" => 0,
            "test" | "qa" => 1,
            "staging" => 3,
            "prod" => 4,
            _ => 2,
        };
        chosen.sort_by(|a, b| (rank(&a.kind), &a.name).cmp(&(rank(&b.kind), &b.name)));
        let mut columns = Vec::new();
        let mut statuses = Vec::new();
        for env in &chosen {
            let st = async {
                let mut c = self.migrate_conn(env).await?;
                let o = self.overview(&mut c, &env.name, &src).await;
                c.close().await;
                o
            }
            .await;
            match st {
                Ok(o) => {
                    let s = o.status;
                    let verdict = if s.modified + s.missing + s.failed > 0 {
                        let mut parts = Vec::new();
                        for (n, what) in [
                            (s.modified, "modified"),
                            (s.missing, "missing from the folder"),
                            (s.failed, "failed"),
                        ] {
                            if n > 0 {
                                parts.push(format!("{n} {what}"));
                            }
                        }
                        format!("diverged: {}", parts.join(", "))
                    } else if s.pending > 0 {
                        format!("behind by {}", s.pending)
                    } else {
                        "up to date".into()
                    };
                    columns.push(DriftColumn {
                        env: env.name.clone(),
                        kind: env.kind.clone(),
                        current: s.current.clone(),
                        pending: s.pending,
                        modified: s.modified,
                        missing: s.missing,
                        failed: s.failed,
                        verdict,
                        error: None,
                    });
                    statuses.push(Some(s));
                }
                Err(e) => {
                    columns.push(DriftColumn {
                        env: env.name.clone(),
                        kind: env.kind.clone(),
                        current: None,
                        pending: 0,
                        modified: 0,
                        missing: 0,
                        failed: 0,
                        verdict: "unreachable".into(),
                        error: Some(e.render()),
                    });
                    statuses.push(None);
                }
            }
        }
        // Rows: every version any status knows, in order.
        let mut keys: Vec<(Option<source::Version>, String)> = Vec::new();
        for s in statuses.iter().flatten() {
            for e in &s.entries {
                let k = (e.version.clone(), e.description.clone());
                if !keys.iter().any(|x| x.0 == k.0 && (k.0.is_some() || x.1 == k.1)) {
                    keys.push(k);
                }
            }
        }
        if statuses.iter().all(Option::is_none) {
            keys = src
                .migrations
                .iter()
                .map(|m| (m.version.clone(), m.description.clone()))
                .collect();
        }
        keys.sort_by(|a, b| match (&a.0, &b.0) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.1.cmp(&b.1),
        });
        let rows = keys
            .into_iter()
            .map(|(version, description)| DriftRow {
                in_folder: match &version {
                    Some(v) => src.find(v).is_some(),
                    None => src
                        .migrations
                        .iter()
                        .any(|m| m.version.is_none() && m.description == description),
                },
                states: statuses
                    .iter()
                    .map(|s| match s {
                        None => "?".into(),
                        Some(s) => s
                            .entries
                            .iter()
                            .find(|e| e.version == version && (version.is_some() || e.description == description))
                            .map_or("-".into(), |e| e.state.as_str().to_string()),
                    })
                    .collect(),
                version,
                description,
            })
            .collect();
        Ok(Response::Drift(DriftMatrix {
            dir,
            format: src.format,
            columns,
            rows,
        }))
    }

    pub(super) async fn migrate_test_rollback(&self, a: MigrateArgs) -> Result<Response, ApiError> {
        let env = self.inner.store.get_env(&a.name).await?;
        if env.engine == Engine::Sqlite {
            return Err(ApiError::invalid(
                "the rollback test needs a PostgreSQL server to make a scratch database on; this environment is SQLite",
            ));
        }
        let src = read_source(&a.dir, a.format)?;
        let params = json!({ "dir": a.dir, "format": src.format.as_str() });
        let sink = self.progress_sink(&env.name);
        let report = self
            .audited_with(
                Some(&env.name),
                "migrate.test_rollback",
                params,
                async {
                    let opts = self.pg_opts(&env).await?;
                    let password = self.pg_password(&env).await?;
                    let sc = Scratch::create(&opts, &env.name).await?;
                    let r = rollback_test(&sc, password.as_deref(), &src, &env.name, &sink).await;
                    sc.drop().await?;
                    r
                },
                |r: &RollbackTest| (!r.ok).then(|| "the rollback test failed".to_string()),
            )
            .await?;
        Ok(Response::RollbackTest(Box::new(report)))
    }

    pub(super) async fn lint_scripts(
        &self,
        scripts: Vec<lint::LintInput>,
        name: Option<String>,
    ) -> Result<Response, ApiError> {
        let mut reports = tokio::task::spawn_blocking(move || lint::lint_all(&scripts))
            .await
            .map_err(|e| ApiError::new(crate::error::ErrorCode::Internal, format!("the lint stopped: {e}")))?;
        if let Some(name) = name {
            let env = self.inner.store.get_env(&name).await?;
            if env.engine != Engine::Sqlite {
                let MigConn::Pg(mut c) = self.migrate_conn(&env).await? else {
                    unreachable!("PostgreSQL")
                };
                let ctx = live::load(&mut c, &env.name, &live::tables_of(&reports), LAG_THRESHOLD_S).await;
                let _ = c.close().await;
                let ctx = ctx?;
                for r in &mut reports {
                    ctx.apply(r);
                }
            }
        }
        Ok(Response::Lint(reports))
    }
}

/// One line naming the failed step, for the audit record.
fn run_failure(r: &RunReport) -> String {
    r.steps
        .iter()
        .find_map(|s| s.failure.as_ref().map(|f| format!("{}: {}", f.file, f.message)))
        .unwrap_or_else(|| {
            r.verify
                .iter()
                .find(|v| !v.starts_with("ok"))
                .cloned()
                .unwrap_or_default()
        })
}

/// apply all → dump → roll each back → apply again → dump; the dumps must match.
async fn rollback_test(
    sc: &Scratch,
    password: Option<&str>,
    src: &Source,
    env: &str,
    sink: &(dyn Fn(run::Progress) + Send + Sync),
) -> Result<RollbackTest, ApiError> {
    let t0 = Instant::now();
    let mut phases = Vec::new();
    let o = ApplyOptions {
        retries: 0,
        ..ApplyOptions::default()
    };
    let missing_down: Vec<String> = src
        .versioned()
        .filter(|m| m.down.is_none())
        .map(|m| m.label())
        .collect();
    let mut c = sc.connect().await?;
    let mut ok = true;
    let t = Instant::now();
    let first = run::apply(&mut Db::Pg(&mut c), src, &o, false, sink).await?;
    let n = first.steps.len() as u32;
    ok &= phase(&mut phases, "apply all".into(), &first, t);
    let mut diff = Vec::new();
    if ok {
        let t = Instant::now();
        let before = scratch::normalise(&scratch::dump(&sc.options, password, &[]).await?);
        phases.push(TestPhase {
            name: "dump the schema".into(),
            ok: true,
            detail: format!("{} lines", before.len()),
            ms: t.elapsed().as_secs_f64() * 1000.0,
        });
        if missing_down.is_empty() {
            let t = Instant::now();
            let back = run::rollback(&mut Db::Pg(&mut c), src, &o, Some(n), None, sink).await?;
            ok &= phase(&mut phases, format!("roll back all {n}, newest first"), &back, t);
            if ok {
                let t = Instant::now();
                let again = run::apply(&mut Db::Pg(&mut c), src, &o, false, sink).await?;
                ok &= phase(&mut phases, "apply all again".into(), &again, t);
                if ok {
                    let t = Instant::now();
                    let after = scratch::normalise(&scratch::dump(&sc.options, password, &[]).await?);
                    diff = scratch::diff(&before, &after, 40);
                    let same = diff.is_empty();
                    phases.push(TestPhase {
                        name: "compare the dumps".into(),
                        ok: same,
                        detail: if same {
                            "identical".into()
                        } else {
                            format!("{} line(s) differ", diff.len())
                        },
                        ms: t.elapsed().as_secs_f64() * 1000.0,
                    });
                    ok &= same;
                }
            }
        } else {
            ok = false;
            phases.push(TestPhase {
                name: "roll back".into(),
                ok: false,
                detail: format!("{} migration(s) have no down script", missing_down.len()),
                ms: 0.0,
            });
        }
    }
    let _ = c.close().await;
    Ok(RollbackTest {
        env: env.into(),
        scratch_database: sc.name.clone(),
        ok,
        phases,
        missing_down,
        diff,
        ms: t0.elapsed().as_secs_f64() * 1000.0,
    })
}

/// Records one phase of the rollback test from a run's report; returns whether it passed.
fn phase(phases: &mut Vec<TestPhase>, name: String, r: &RunReport, t: Instant) -> bool {
    let fail = r.steps.iter().find_map(|s| s.failure.as_ref());
    phases.push(TestPhase {
        name,
        ok: r.ok,
        detail: match fail {
            Some(f) => format!("{} statement {}: {}", f.file, f.statement, f.message),
            None => format!("{} migration(s)", r.steps.len()),
        },
        ms: t.elapsed().as_secs_f64() * 1000.0,
    });
    r.ok
}
