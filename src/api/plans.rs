//! The query-plan operations of the API: explain, analyse, compare, export, index health and
//! advice. The work itself lives in `crate::plan`; this is where it meets environments, pools,
//! the prod guard and the audit log.

use std::time::Duration;

use serde_json::json;

use super::{Api, PlanComparison, Response};
use crate::env::{self, Role};
use crate::error::ApiError;
use crate::plan::{self, run::ExplainOptions};
use crate::pool::Conn;

/// A plan sent as bytes (the body of `POST /api/call/plan_analyze`, or the desktop window's raw
/// invoke) as text: it must be UTF-8, and the error says where it is not.
pub fn plan_text(bytes: Vec<u8>) -> Result<String, ApiError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        ApiError::invalid(format!("the plan is not UTF-8 text (byte {at} is not)"))
            .with_hint("save the plan as UTF-8, or paste it rather than its file")
    })
}

/// Read a plan off the async threads (a 10,000-node plan is a few milliseconds of CPU).
pub(super) async fn parse_plan(text: String) -> Result<plan::Plan, ApiError> {
    tokio::task::spawn_blocking(move || plan::parse(&text))
        .await
        .map_err(|e| {
            ApiError::new(
                crate::error::ErrorCode::Internal,
                format!("the plan reader stopped: {e}"),
            )
        })?
        .map_err(ApiError::from)
}

impl Api {
    pub(super) async fn explain(
        &self,
        name: String,
        sql: String,
        options: ExplainOptions,
        params: Vec<String>,
        timeout_s: Option<u32>,
        confirm: Option<String>,
    ) -> Result<Response, ApiError> {
        let env = self.inner.store.get_env(&name).await?;
        let timeout = Duration::from_secs(u64::from(timeout_s.unwrap_or(30).clamp(1, 24 * 3600)));
        let audit = json!({
            "sql": sql,
            "analyze": options.analyze,
            "params": params.len(),
            "timeout_s": timeout.as_secs(),
        });
        let report = self
            .audited(Some(&name), "plan.explain", audit, async {
                if options.analyze {
                    env.guard("EXPLAIN ANALYZE (it runs the statement)", confirm.as_deref())?;
                }
                let pool = self.inner.pools.get(&env, &Role::Primary, &self.inner.keychain).await?;
                let target = env::redact_url(&env.primary.url);
                let mut report = match pool.acquire().await? {
                    Conn::Postgres(mut c) => {
                        let r = plan::run::explain_pg(&mut c, &sql, &options, &params, timeout, &target).await;
                        if r.is_err() {
                            // The connection may hold a half-finished transaction or a
                            // prepared statement: do not give it back to the pool.
                            c.close_on_drop();
                        }
                        r?
                    }
                    Conn::Sqlite(mut c) => plan::run::explain_sqlite(&mut c, &sql, &options).await?,
                };
                report.env = Some(name.clone());
                Ok(report)
            })
            .await?;
        Ok(Response::Plan(Box::new(report)))
    }

    pub(super) async fn plan_analyze(&self, text: String) -> Result<Response, ApiError> {
        let plan = parse_plan(text).await?;
        Ok(Response::Plan(Box::new(plan::run::PlanReport {
            env: None,
            sql: plan.query.clone(),
            options: None,
            kind: None,
            rolled_back: false,
            method: match plan.format {
                plan::PlanFormat::Json => "pasted plan (JSON)".into(),
                plan::PlanFormat::Text => "pasted plan (text)".into(),
            },
            // The caller has the text; echoing a 10,000-node plan back would add tens of MiB.
            raw: String::new(),
            plan,
            notes: vec![],
            node_table: None,
        })))
    }

    pub(super) async fn plan_compare(&self, a: String, b: String) -> Result<Response, ApiError> {
        let pa = parse_plan(a).await.map_err(|e| e.prefixed("plan A"))?;
        let pb = parse_plan(b).await.map_err(|e| e.prefixed("plan B"))?;
        let comparison = plan::compare::compare(&pa, &pb);
        Ok(Response::PlanComparison(Box::new(PlanComparison {
            a: pa,
            b: pb,
            comparison,
        })))
    }

    pub(super) async fn plan_html(&self, text: String, title: Option<String>) -> Result<Response, ApiError> {
        let p = parse_plan(text).await?;
        let title = title.unwrap_or_else(|| "Query plan".into());
        Ok(Response::Text {
            text: plan::html::render(&p, &title),
        })
    }

    pub(super) async fn indexes(&self, name: String) -> Result<Response, ApiError> {
        let env = self.inner.store.get_env(&name).await?;
        let pool = self.inner.pools.get(&env, &Role::Primary, &self.inner.keychain).await?;
        let target = env::redact_url(&env.primary.url);
        match pool.acquire().await? {
            Conn::Postgres(mut c) => Ok(Response::Indexes(plan::indexes::report(&mut c, &name, &target).await?)),
            Conn::Sqlite(_) => Err(ApiError::invalid(format!(
                "'{name}' is an SQLite environment: SQLite keeps no index usage statistics"
            ))
            .with_hint("explain a statement instead: SQLite's plan shows which index each step uses")),
        }
    }

    pub(super) async fn index_advice(
        &self,
        name: String,
        sql: String,
        params: Vec<String>,
        timeout_s: Option<u32>,
        build_in_transaction: bool,
    ) -> Result<Response, ApiError> {
        let env = self.inner.store.get_env(&name).await?;
        let timeout = Duration::from_secs(u64::from(timeout_s.unwrap_or(30).clamp(1, 24 * 3600)));
        let advice = self
            .audited(
                Some(&name),
                "plan.index_advice",
                json!({ "sql": sql, "params": params.len(), "build_in_transaction": build_in_transaction }),
                async {
                    let pool = self.inner.pools.get(&env, &Role::Primary, &self.inner.keychain).await?;
                    let target = env::redact_url(&env.primary.url);
                    match pool.acquire().await? {
                        Conn::Postgres(mut c) => {
                            let r = plan::indexes::advise(
                                &mut c,
                                &env,
                                &sql,
                                &params,
                                build_in_transaction,
                                timeout,
                                &target,
                            )
                            .await;
                            if r.is_err() {
                                c.close_on_drop();
                            }
                            r
                        }
                        Conn::Sqlite(_) => Err(ApiError::invalid(format!(
                            "'{name}' is an SQLite environment: index advice needs PostgreSQL's planner"
                        ))),
                    }
                },
            )
            .await?;
        Ok(Response::IndexAdvice(Box::new(advice)))
    }
}
