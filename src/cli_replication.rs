//! `dbdeck replication status`, `slots`, `switchover`, `failover` and `rejoin`: requests, the
//! live phases on stderr, and the reports.

use std::io::IsTerminal;

use clap::{Args, Subcommand};

use crate::api::{Api, Event, Request, Response};
use crate::cli::{Format, table};
use crate::error::ApiError;
use crate::replicate::flow::{FlowReport, Phase};
use crate::replicate::slots::SlotsReport;
use crate::replicate::topology::{NodeState, Topology};
use crate::replicate::{fmt_bytes, fmt_duration};

#[derive(Debug, Subcommand)]
pub enum ReplicationCommand {
    /// Topology: each node's role, timeline and position, who streams from whom, each
    /// standby's lag against the threshold, standbys the environment does not list.
    Status {
        #[arg(long)]
        env: String,
    },
}

#[derive(Debug, Args)]
pub struct SwitchoverArgs {
    #[arg(long)]
    pub env: String,
    /// The replica to promote.
    #[arg(long)]
    pub to: String,
    /// Run the pre-checks only; change nothing.
    #[arg(long)]
    pub check_only: bool,
    /// Do not ask before going ahead after the pre-checks.
    #[arg(long)]
    pub yes: bool,
    /// Required for prod: the environment's name.
    #[arg(long)]
    pub confirm: Option<String>,
    /// How long the candidate may take to replay up to the fence, in seconds.
    #[arg(long, value_name = "S")]
    pub catchup_timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct FailoverArgs {
    #[arg(long)]
    pub env: String,
    /// The standby to promote (default: the most advanced one).
    #[arg(long)]
    pub to: Option<String>,
    /// Only assess: which standby would be promoted, what may be lost; change nothing.
    #[arg(long)]
    pub check_only: bool,
    /// Do not ask before promoting.
    #[arg(long)]
    pub yes: bool,
    /// Required for prod: the environment's name.
    #[arg(long)]
    pub confirm: Option<String>,
    /// Promote even though another node still answers as a primary (it is fenced, and
    /// stopped if its data directory is here): the environment's name, typed.
    #[arg(long, value_name = "ENV")]
    pub force: Option<String>,
}

#[derive(Debug, Args)]
pub struct RejoinArgs {
    #[arg(long)]
    pub env: String,
    /// The replica to rewind and restart as a standby (its data directory must be on this
    /// machine).
    #[arg(long)]
    pub node: String,
    /// Do not ask first.
    #[arg(long)]
    pub yes: bool,
    /// Required for prod: the environment's name.
    #[arg(long)]
    pub confirm: Option<String>,
}

/// Ask on the terminal; without one, the person must have said `--yes`.
fn ask(question: &str, yes: bool) -> Result<bool, ApiError> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(ApiError::invalid(format!(
            "{question} — not asked, as there is no terminal: add --yes to go ahead"
        )));
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| ApiError::invalid(format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

fn phase_line(p: &Phase) -> String {
    match p.status.as_str() {
        "running" => format!("… {}", p.title),
        s => format!(
            "{} {} ({:.0} ms){}",
            match s {
                "ok" => "✓",
                "warning" => "!",
                "skipped" => "-",
                _ => "✗",
            },
            p.title,
            p.ms,
            if p.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", p.detail)
            }
        ),
    }
}

/// Send a flow request, printing its phases as they happen (table format).
async fn run_flow(api: &Api, req: Request) -> Result<Response, ApiError> {
    // Phases go to stderr in either format: stdout stays the report (JSON with --format json).
    let mut events = api.subscribe();
    let progress = tokio::spawn(async move {
        while let Ok(e) = events.recv().await {
            if let Event::ReplicationProgress { phase, .. } = e {
                eprintln!("{}", phase_line(&phase));
            }
        }
    });
    let resp = api.call(req).await;
    progress.abort();
    resp
}

pub async fn switchover(api: &Api, format: Format, a: SwitchoverArgs) -> Result<i32, ApiError> {
    let check = |check_only| Request::Switchover {
        name: a.env.clone(),
        to: a.to.clone(),
        check_only: Some(check_only),
        confirm: a.confirm.clone(),
        catchup_timeout_s: a.catchup_timeout,
        job: None,
    };
    if a.check_only || !a.yes {
        let resp = run_flow(api, check(true)).await?;
        match &resp {
            Response::Flow(r) if r.ok && !a.check_only => {
                print_flow(r);
                if !ask(&format!("Switch {} over to {}?", a.env, a.to), false)? {
                    eprintln!("Stopped after the pre-checks; nothing was changed.");
                    return Ok(1);
                }
            }
            _ => return Ok(crate::cli::print(format, &resp)),
        }
    }
    let resp = run_flow(api, check(false)).await?;
    Ok(crate::cli::print(format, &resp))
}

pub async fn failover(api: &Api, format: Format, a: FailoverArgs) -> Result<i32, ApiError> {
    let target = a.to.clone().unwrap_or_else(|| "the most advanced standby".into());
    if !a.check_only && !ask(&format!("Fail {} over to {target}?", a.env), a.yes)? {
        return Ok(1);
    }
    let req = Request::Failover {
        name: a.env,
        to: a.to,
        confirm: a.confirm,
        force: a.force,
        check_only: Some(a.check_only),
        job: None,
    };
    let resp = run_flow(api, req).await?;
    Ok(crate::cli::print(format, &resp))
}

pub async fn rejoin(api: &Api, format: Format, a: RejoinArgs) -> Result<i32, ApiError> {
    if !ask(
        &format!("Rewind {} and restart it as a standby of {}'s primary?", a.node, a.env),
        a.yes,
    )? {
        return Ok(1);
    }
    let req = Request::Rejoin {
        name: a.env,
        node: a.node,
        confirm: a.confirm,
        job: None,
    };
    let resp = run_flow(api, req).await?;
    Ok(crate::cli::print(format, &resp))
}

fn lag_text(n: &NodeState) -> String {
    match (n.lag_bytes, n.lag_s) {
        (Some(b), Some(s)) => format!("{} / {s:.2} s", fmt_bytes(b as f64)),
        (Some(b), None) => format!("{} / ? s", fmt_bytes(b as f64)),
        (None, Some(s)) => format!("{s:.2} s"),
        (None, None) => "?".into(),
    }
}

pub fn print_topology(t: &Topology) {
    // A tree: nodes nobody streams to them from first, each followed by its downstream.
    fn walk(t: &Topology, name: &str, depth: usize, rows: &mut Vec<Vec<String>>, seen: &mut Vec<String>) {
        if seen.iter().any(|s| s == name) {
            return;
        }
        seen.push(name.to_owned());
        let Some(n) = t.node(name) else { return };
        let indent = if depth == 0 {
            String::new()
        } else {
            format!("{}└ ", "  ".repeat(depth - 1))
        };
        let role = match (&n.role, n.reachable) {
            (_, false) => "unreachable".to_owned(),
            (Some(r), _) => r.clone(),
            (None, _) => "?".into(),
        };
        let state = match (&n.receiver, n.role.as_deref()) {
            (Some(r), _) => r.status.clone(),
            (None, Some("standby")) => "no receiver".into(),
            (None, Some("primary")) => format!("{} sender(s)", n.senders.len()),
            _ => n.error.clone().unwrap_or_default(),
        };
        let lsn = n.current_lsn.clone().or(n.replay_lsn.clone()).unwrap_or_default();
        let lag = if n.role.as_deref() == Some("standby") {
            format!("{}{}", lag_text(n), if n.lag_alert { " ALERT" } else { "" })
        } else {
            String::new()
        };
        rows.push(vec![
            format!("{indent}{}", n.name),
            n.address.clone(),
            role,
            n.timeline.map(|t| t.to_string()).unwrap_or_default(),
            lsn,
            lag,
            state,
        ]);
        for child in t.nodes.iter().filter(|c| c.upstream.as_deref() == Some(name)) {
            walk(t, &child.name, depth + 1, rows, seen);
        }
    }
    let mut rows = Vec::new();
    let mut seen = Vec::new();
    let known = |u: &Option<String>| u.as_ref().is_some_and(|u| t.node(u).is_some());
    for n in t.nodes.iter().filter(|n| !known(&n.upstream)) {
        walk(t, &n.name, 0, &mut rows, &mut seen);
    }
    for n in &t.nodes {
        walk(t, &n.name, 0, &mut rows, &mut seen);
    }
    table(
        &["NODE", "ADDRESS", "ROLE", "TL", "LSN", "LAG (bytes / s)", "STATE"],
        rows,
    );
    for n in t.nodes.iter().filter(|n| !n.lag_note.is_empty()) {
        println!("{}: {}", n.name, n.lag_note);
    }
    for n in &t.nodes {
        for s in &n.senders {
            println!(
                "{} → {} ({}): {} {}, sent {} replayed {}, replay lag {}",
                n.name,
                s.node.clone().unwrap_or_else(|| s.application_name.clone()),
                s.client_addr.clone().unwrap_or_else(|| "socket".into()),
                s.state,
                s.sync_state,
                s.sent_lsn.clone().unwrap_or_default(),
                s.replay_lsn.clone().unwrap_or_default(),
                s.replay_lag_s
                    .map(|l| format!("{l:.3} s"))
                    .unwrap_or_else(|| "idle".into())
            );
        }
    }
    if let Some(p) = &t.patroni {
        println!(
            "\nPatroni{}{}:",
            p.scope.as_ref().map(|s| format!(" cluster {s}")).unwrap_or_default(),
            if p.pause { " (maintenance mode)" } else { "" }
        );
        table(
            &["MEMBER", "ROLE", "STATE", "HOST", "TL", "LAG"],
            p.members
                .iter()
                .map(|m| {
                    vec![
                        m.name.clone(),
                        m.role.clone(),
                        m.state.clone(),
                        format!("{}:{}", m.host.clone().unwrap_or_default(), m.port.unwrap_or(0)),
                        m.timeline.map(|t| t.to_string()).unwrap_or_default(),
                        match (&m.lag, m.lag_bytes()) {
                            (_, Some(b)) => fmt_bytes(b as f64),
                            (Some(v), None) => v.as_str().unwrap_or("?").to_owned(),
                            (None, None) => String::new(),
                        },
                    ]
                })
                .collect(),
        );
    }
    if !t.discovered.is_empty() {
        println!("\nStandbys not in the environment:");
        for d in &t.discovered {
            println!(
                "  {} from {} via {}: {}; {}",
                d.application_name,
                d.client_addr.clone().unwrap_or_else(|| "socket".into()),
                d.upstream,
                d.state,
                d.suggestion
            );
        }
    }
    if t.alerts.is_empty() {
        println!("\nNo alerts (lag threshold {} s).", t.lag_threshold_s);
    } else {
        println!("\nAlerts:");
        for a in &t.alerts {
            println!("  {a}");
        }
    }
}

pub fn print_slots(r: &SlotsReport) {
    if r.slots.is_empty() {
        println!("{} has no replication slots.", r.node);
    } else {
        let rows = r
            .slots
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.slot_type.clone(),
                    if s.active { "yes".into() } else { "NO".into() },
                    s.wal_status.clone().unwrap_or_default(),
                    s.retained_bytes.map(|b| fmt_bytes(b as f64)).unwrap_or_default(),
                    s.safe_wal_size
                        .map(|b| fmt_bytes(b as f64))
                        .unwrap_or_else(|| "unlimited".into()),
                    s.growth_bytes_per_s
                        .map(|g| format!("{}/s", fmt_bytes(g)))
                        .unwrap_or_else(|| "-".into()),
                    s.invalidated_in_s.map(fmt_duration).unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        table(
            &[
                "SLOT",
                "TYPE",
                "ACTIVE",
                "WAL STATUS",
                "RETAINED",
                "SAFE SIZE",
                "GROWTH",
                "INVALID IN",
            ],
            rows,
        );
        for s in &r.slots {
            println!("{}: {}", s.name, s.forecast);
            for w in &s.warnings {
                println!("  ! {w}");
            }
        }
    }
    println!(
        "max_slot_wal_keep_size: {}; disk: {}",
        if r.max_slot_wal_keep_size_mb < 0 {
            "unlimited (a stuck slot can fill the disk)".to_owned()
        } else {
            format!("{} MB", r.max_slot_wal_keep_size_mb)
        },
        match r.disk_free_bytes {
            Some(f) => format!("{} free", fmt_bytes(f as f64)),
            None => r.disk_note.clone(),
        }
    );
}

pub fn print_flow(r: &FlowReport) {
    for p in &r.phases {
        println!("{}", phase_line(p));
        for c in &p.checks {
            println!("    {:<5} {:<13} {}", c.status, c.name, c.reason);
        }
    }
    if !r.nodes.is_empty() {
        println!();
        table(
            &["NODE", "ADDRESS", "NOW"],
            r.nodes
                .iter()
                .map(|n| vec![n.name.clone(), n.address.clone(), n.state.clone()])
                .collect(),
        );
    }
    println!("\n{}", r.outcome);
    if let Some(w) = &r.wal_loss {
        println!("WAL loss: {w}");
    }
    match r.first_write_ms {
        Some(w) => println!(
            "{:.0} ms in all; first write on the new primary after {w:.0} ms.",
            r.total_ms
        ),
        None => println!("{:.0} ms in all.", r.total_ms),
    }
    if let Some(n) = &r.next {
        println!("Next: {n}");
    }
}
