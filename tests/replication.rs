//! Replication against real clusters the tests start: a primary with streaming standbys
//! (pg_basebackup, loopback ports), PgBouncer in front, dbdeck driving them through its CLI.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;
use sqlx::Connection;

/// Add environment `rep`: `primary`, the named replicas, data directories of all of them on
/// this machine, and `extra` arguments.
fn add_env(d: &DataDir, primary: &PgCluster, replicas: &[(&str, &PgCluster)], extra: &[String]) {
    let mut args: Vec<String> = vec!["env".into(), "add".into(), "rep".into(), "--url".into(), primary.url()];
    for (name, r) in replicas {
        args.push("--replica".into());
        args.push(format!("{name}={}", r.url()));
    }
    for c in std::iter::once(primary).chain(replicas.iter().map(|(_, r)| *r)) {
        args.push("--node-dir".into());
        args.push(format!("{}={}", c.address(), c.data_dir().display()));
    }
    args.extend(extra.iter().cloned());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = d.run(&a);
    assert!(out.status.success(), "env add: {}", stderr(&out));
}

fn status(d: &DataDir) -> Value {
    let (code, v) = d.json(&["replication", "status", "--env", "rep"]);
    assert_eq!(code, 0, "{v}");
    v["data"].clone()
}

fn node<'a>(topo: &'a Value, name: &str) -> &'a Value {
    topo["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no node {name} in {topo}"))
}

fn sender_port(standby: &PgCluster) -> String {
    standby
        .psql("SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'")
        .trim()
        .to_owned()
}

fn wait_replayed(primary: &PgCluster, standby: &PgCluster) {
    let lsn = primary.psql("SELECT pg_current_wal_lsn()").trim().to_owned();
    wait_until("the standby to replay", 30, || {
        standby
            .psql(&format!("SELECT pg_last_wal_replay_lsn() >= '{lsn}'"))
            .trim()
            == "t"
    });
}

fn phase<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no phase {id} in {report}"))
}

#[test]
fn topology_shows_cascades_unlisted_standbys_lag_and_a_standby_that_replayed_nothing() {
    let primary = PgCluster::replication_primary(&[]);
    let node2 = PgCluster::standby_named(&primary, Some("node2"), Some("node2"));
    // Its own slot on node2 (without one it would inherit node2's primary_slot_name).
    let node3 = PgCluster::standby_named(&node2, Some("node3"), Some("node3"));
    let stray = PgCluster::standby_named(&primary, Some("reporting"), None);
    let d = DataDir::new();
    add_env(
        &d,
        &primary,
        &[("node2", &node2), ("node3", &node3)],
        &["--lag-threshold".into(), "1".into()],
    );
    wait_until("node3 to stream from node2", 30, || {
        sender_port(&node3) == node2.port.to_string()
    });

    // Nothing has been committed since the base backups: no replay timestamp yet.
    let t = status(&d);
    let n2 = node(&t, "node2");
    assert_eq!(node(&t, "primary")["role"], "primary");
    assert_eq!(n2["role"], "standby");
    assert_eq!(n2["upstream"], "primary");
    assert_eq!(node(&t, "node3")["upstream"], "node2", "node3 cascades from node2: {t}");
    assert!(n2["last_replay_ms"].is_null());
    assert_eq!(n2["lag_bytes"], 0, "{t}");
    let senders = node(&t, "primary")["senders"].as_array().unwrap();
    assert!(
        senders
            .iter()
            .any(|s| s["node"] == "node2" && s["slot_name"] == "node2"),
        "{t}"
    );
    let discovered = t["discovered"].as_array().unwrap();
    assert_eq!(discovered.len(), 1, "{t}");
    assert_eq!(discovered[0]["application_name"], "reporting");
    assert!(
        discovered[0]["suggestion"]
            .as_str()
            .unwrap()
            .contains("dbdeck env update rep --replica reporting=")
    );
    drop(stray);

    // Replay paused on node2, writes on the primary: node2 (and node3 behind it) go over the
    // 1 s threshold and raise an alert; the table shows it.
    node2.psql("SELECT pg_wal_replay_pause()");
    primary.psql("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000)");
    std::thread::sleep(Duration::from_millis(1500));
    primary.psql("INSERT INTO t VALUES (0)");
    let t = status(&d);
    let n2 = node(&t, "node2");
    assert!(n2["lag_bytes"].as_i64().unwrap() > 0, "{t}");
    assert_eq!(n2["lag_alert"], true, "{t}");
    assert!(
        t["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().starts_with("node2 is")),
        "{t}"
    );
    let out = d.run(&["replication", "status", "--env", "rep"]);
    let text = stdout(&out);
    assert!(
        text.contains("└ node2") && text.contains("└ node3") && text.contains("ALERT"),
        "{text}"
    );

    node2.psql("SELECT pg_wal_replay_resume()");
    wait_replayed(&primary, &node2);
    let t = status(&d);
    assert_eq!(node(&t, "node2")["lag_alert"], false, "{t}");
    assert_eq!(node(&t, "node2")["lag_bytes"], 0, "{t}");
}

#[test]
fn a_slot_whose_consumer_stopped_is_forecast_to_be_invalidated() {
    let primary = PgCluster::replication_primary(&["max_slot_wal_keep_size=96MB"]);
    let standby = PgCluster::standby_named(&primary, Some("node2"), Some("node2"));
    let d = DataDir::new();
    add_env(&d, &primary, &[("node2", &standby)], &[]);
    standby.kill_server();

    let (code, first) = d.json(&["slots", "--env", "rep"]);
    assert_eq!(code, 0, "{first}");
    let slot = &first["data"]["slots"][0];
    assert_eq!(slot["name"], "node2");
    assert_eq!(slot["active"], false);
    assert!(slot["forecast"].as_str().unwrap().starts_with("one sample"), "{slot}");

    // About 32 MiB of WAL the stopped standby will never read.
    std::thread::sleep(Duration::from_millis(1100));
    primary.psql(
        "CREATE TABLE filler (v text); INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 25000)",
    );
    let (code, second) = d.json(&["slots", "--env", "rep"]);
    assert_eq!(code, 0, "{second}");
    let r = &second["data"];
    let slot = &r["slots"][0];
    assert!(slot["retained_bytes"].as_i64().unwrap() > 20 << 20, "{slot}");
    assert!(slot["growth_bytes_per_s"].as_f64().unwrap() > 0.0, "{slot}");
    let invalid_in = slot["invalidated_in_s"]
        .as_f64()
        .expect("a forecast with a bounded slot");
    assert!(invalid_in < 24.0 * 3600.0, "{slot}");
    assert!(
        r["disk_free_bytes"].as_i64().unwrap() > 0,
        "the primary's disk is local: {r}"
    );
    assert!(slot["disk_full_in_s"].as_f64().is_some(), "{slot}");
    let warnings: Vec<&str> = slot["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w.starts_with("inactive: nothing reads it")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("at this rate it is invalidated in about")),
        "{warnings:?}"
    );

    let out = d.run(&["slots", "--env", "rep"]);
    let text = stdout(&out);
    assert!(
        text.contains("node2") && text.contains("NO") && text.contains("! inactive"),
        "{text}"
    );
}

#[test]
fn switchover_under_load_loses_no_acknowledged_write_and_the_old_primary_rejoins() {
    let primary = PgCluster::replication_primary(&[]);
    primary.psql("CREATE TABLE acked (id bigint PRIMARY KEY)");
    let node2 = PgCluster::standby_named(&primary, Some("node2"), Some("node2"));
    let node3 = PgCluster::standby_named(&primary, Some("node3"), Some("node3"));
    let bouncer = PgBouncer::with_auth(primary.port, None);
    let d = DataDir::new();
    add_env(
        &d,
        &primary,
        &[("node2", &node2), ("node3", &node3)],
        &[
            "--pgbouncer".into(),
            bouncer.admin_url(),
            "--pgbouncer-ini".into(),
            bouncer.ini().display().to_string(),
        ],
    );
    let writer = Writer::start(vec![bouncer_options(&bouncer.app_url())]);
    wait_until("the writer to get going", 20, || {
        writer.acked.lock().unwrap().len() > 50
    });

    let (code, v) = d.json(&["switchover", "--env", "rep", "--to", "node2", "--yes"]);
    std::thread::sleep(Duration::from_millis(500));
    let (acked, gap) = writer.finish();
    assert_eq!(code, 0, "{v}");
    let r = &v["data"];
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["new_timeline"], 2, "{r}");
    for id in [
        "checks", "pause", "fence", "stop_old", "catch_up", "promote", "verify", "repoint", "resume", "standbys",
    ] {
        assert_eq!(phase(r, id)["status"], "ok", "phase {id}: {r}");
    }
    let order: Vec<&str> = r["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "checks", "pause", "fence", "stop_old", "catch_up", "promote", "verify", "repoint", "resume", "standbys"
        ]
    );
    assert!(r["first_write_ms"].as_f64().unwrap() < r["total_ms"].as_f64().unwrap());

    // Every acknowledged insert is on the new primary, and writes went on after it.
    let missing = missing_from(&node2, &acked);
    assert!(
        missing.is_empty(),
        "{} acknowledged inserts lost: {missing:?}",
        missing.len()
    );
    let max_on_new: i64 = node2.psql("SELECT max(id) FROM acked").trim().parse().unwrap();
    assert!(
        acked.len() > 100 && max_on_new == *acked.last().unwrap(),
        "writes resumed through PgBouncer"
    );
    eprintln!("{} acknowledged inserts, longest gap {gap:?}", acked.len());

    // The old primary is stopped; node3 follows the new primary; PgBouncer points at it; the
    // environment's primary is node2's address, and the old primary is now listed as node2.
    assert!(!primary.running(), "the old primary must be stopped");
    assert_eq!(node2.psql("SELECT pg_is_in_recovery()").trim(), "f");
    assert_eq!(sender_port(&node3), node2.port.to_string());
    let ini = std::fs::read_to_string(bouncer.ini()).unwrap();
    assert!(ini.contains(&format!("port={}", node2.port)), "{ini}");
    let (_, env) = d.json(&["env", "show", "rep"]);
    assert!(
        env["data"]["primary"]["url"]
            .as_str()
            .unwrap()
            .contains(&node2.port.to_string()),
        "{env}"
    );
    let t = status(&d);
    assert_eq!(t["primary"], "primary");
    assert_eq!(node(&t, "primary")["address"], node2.address());
    assert_eq!(node(&t, "node2")["reachable"], false, "the old primary is down: {t}");
    assert!(
        r["next"]
            .as_str()
            .unwrap()
            .contains("dbdeck rejoin --env rep --node node2")
    );

    // Rejoin the old primary (now named node2) with pg_rewind; it streams from the new primary
    // and has what was written after the switchover.
    node2.psql("INSERT INTO acked VALUES (-1)");
    let (code, v) = d.json(&["rejoin", "--env", "rep", "--node", "node2", "--yes"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["ok"], true, "{v}");
    assert_eq!(phase(&v["data"], "rewind")["status"], "ok");
    assert!(primary.running());
    assert_eq!(primary.psql("SELECT pg_is_in_recovery()").trim(), "t");
    assert_eq!(sender_port(&primary), node2.port.to_string());
    let slots = node2.psql("SELECT slot_name || ':' || active FROM pg_replication_slots ORDER BY 1");
    assert!(
        slots.contains("node2:true"),
        "the rejoined node streams through its own slot: {slots}"
    );
    wait_replayed(&node2, &primary);
    assert_eq!(primary.psql("SELECT count(*) FROM acked WHERE id = -1").trim(), "1");
    let audit = stdout(&d.run(&["audit", "list", "--env", "rep"]));
    assert!(
        audit.contains("replication.switchover") && audit.contains("replication.rejoin"),
        "{audit}"
    );
}

#[test]
fn switchover_is_refused_when_the_candidate_lags_or_has_lower_settings() {
    let mut primary = PgCluster::replication_primary(&[]);
    let node2 = PgCluster::standby_named(&primary, Some("node2"), None);
    let d = DataDir::new();
    add_env(
        &d,
        &primary,
        &[("node2", &node2)],
        &["--lag-threshold".into(), "1".into()],
    );

    // Lag over the threshold.
    node2.psql("SELECT pg_wal_replay_pause()");
    primary.psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
    std::thread::sleep(Duration::from_millis(1500));
    primary.psql("INSERT INTO t VALUES (2)");
    let (code, v) = d.json(&["switchover", "--env", "rep", "--to", "node2", "--yes"]);
    assert_eq!(code, 1, "{v}");
    let r = &v["data"];
    assert_eq!(r["ok"], false);
    assert!(
        r["outcome"]
            .as_str()
            .unwrap()
            .starts_with("Pre-checks failed, nothing was changed"),
        "{r}"
    );
    let checks = phase(r, "checks")["checks"].as_array().unwrap();
    let lag = checks.iter().find(|c| c["name"] == "lag").unwrap();
    assert_eq!(lag["status"], "fail");
    assert!(
        lag["reason"].as_str().unwrap().contains("over the 1 s threshold"),
        "{lag}"
    );
    assert_eq!(r["phases"].as_array().unwrap().len(), 1, "nothing ran after the checks");
    assert_eq!(primary.psql("SELECT pg_is_in_recovery()").trim(), "f");
    assert_eq!(primary.psql("SHOW default_transaction_read_only").trim(), "off");
    node2.psql("SELECT pg_wal_replay_resume()");
    wait_replayed(&primary, &node2);

    // The primary raises max_connections; the standby keeps the lower value.
    primary.restart_with("max_connections=150");
    wait_until("the standby to reconnect", 30, || {
        sender_port(&node2) == primary.port.to_string()
    });
    let out = d.run(&["switchover", "--env", "rep", "--to", "node2", "--check-only"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("max_connections is 100 on node2, 150 on the primary"),
        "{text}"
    );
    assert!(text.contains("Pre-checks failed, nothing was changed"), "{text}");
}

#[test]
fn a_candidate_that_vanishes_mid_switchover_leaves_the_old_primary_writable() {
    let primary = PgCluster::replication_primary(&[]);
    primary.psql("CREATE TABLE acked (id bigint PRIMARY KEY)");
    let node2 = PgCluster::standby_named(&primary, Some("node2"), None);
    let bouncer = PgBouncer::with_auth(primary.port, None);
    let d = DataDir::new();
    add_env(
        &d,
        &primary,
        &[("node2", &node2)],
        &[
            "--pgbouncer".into(),
            bouncer.admin_url(),
            "--pgbouncer-ini".into(),
            bouncer.ini().display().to_string(),
        ],
    );
    let ini_before = std::fs::read_to_string(bouncer.ini()).unwrap();

    // The candidate is killed once the old primary is fenced, before the catch-up.
    let mut child = Command::new(bin())
        .arg("--data-dir")
        .arg(d.path())
        .args([
            "--format",
            "json",
            "switchover",
            "--env",
            "rep",
            "--to",
            "node2",
            "--yes",
        ])
        .env("DBDECK_FAULT_DELAY", "catch_up:3000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    for line in err.lines() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.starts_with("✓ Fence the old primary") {
            node2.kill_server();
        }
    }
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {seen:?}"));
    assert_eq!(out.status.code(), Some(1), "{v}");
    let r = &v["data"];
    assert_eq!(r["ok"], false);
    assert!(
        r["outcome"].as_str().unwrap().starts_with("Stopped before promotion"),
        "{r}"
    );
    assert_eq!(phase(r, "catch_up")["status"], "failed");
    let states: Vec<String> = r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["state"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        states[0].starts_with("primary, restarted, writable again and PgBouncer resumed"),
        "{states:?}"
    );
    assert!(states[1].starts_with("unreachable"), "{states:?}");

    // Nothing was lost or moved: the primary takes writes directly and through PgBouncer, the
    // environment and PgBouncer's ini still point at it.
    primary.psql("INSERT INTO acked VALUES (1)");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = sqlx::PgConnection::connect_with(&bouncer_options(&bouncer.app_url()))
            .await
            .unwrap();
        sqlx::raw_sql("INSERT INTO acked VALUES (2)")
            .execute(&mut c)
            .await
            .unwrap();
    });
    assert_eq!(primary.psql("SELECT count(*) FROM acked").trim(), "2");
    assert_eq!(std::fs::read_to_string(bouncer.ini()).unwrap(), ini_before);
    let (_, env) = d.json(&["env", "show", "rep"]);
    assert!(
        env["data"]["primary"]["url"]
            .as_str()
            .unwrap()
            .contains(&primary.port.to_string())
    );
}

#[test]
fn failover_is_refused_while_the_primary_answers_and_promotes_the_most_advanced_standby_when_it_is_gone() {
    let primary = PgCluster::replication_primary(&[]);
    primary.psql("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100)");
    let node2 = PgCluster::standby_named(&primary, Some("node2"), Some("node2"));
    let node3 = PgCluster::standby_named(&primary, Some("node3"), Some("node3"));
    let d = DataDir::new();
    add_env(&d, &primary, &[("node2", &node2), ("node3", &node3)], &[]);
    wait_replayed(&primary, &node2);
    wait_replayed(&primary, &node3);
    // dbdeck reads the topology (and so the primary's position) while all is well.
    status(&d);

    // The primary still answers: refused, nothing changed.
    let (code, v) = d.json(&["failover", "--env", "rep", "--yes"]);
    assert_eq!(code, 1, "{v}");
    let r = &v["data"];
    assert!(r["outcome"].as_str().unwrap().starts_with("Failover refused"), "{r}");
    assert!(
        r["outcome"].as_str().unwrap().contains("still answer(s) as primary"),
        "{r}"
    );
    assert_eq!(node2.psql("SELECT pg_is_in_recovery()").trim(), "t");
    assert_eq!(node3.psql("SELECT pg_is_in_recovery()").trim(), "t");
    // A wrongly typed --force is refused too.
    let (code, v) = d.json(&["failover", "--env", "rep", "--yes", "--force", "nope"]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "confirmation_required", "{v}");

    // node3 is down while the primary takes more writes; then the primary dies and node3
    // comes back, behind node2.
    node3.kill_server();
    primary.psql("INSERT INTO t SELECT generate_series(101, 200)");
    wait_replayed(&primary, &node2);
    primary.kill_server();
    let mut node3 = node3;
    node3.start_server();

    // The assessment alone changes nothing.
    let (code, v) = d.json(&["failover", "--env", "rep", "--check-only"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["to"], "node2", "{v}");
    assert!(
        v["data"]["outcome"].as_str().unwrap().contains("nothing was changed"),
        "{v}"
    );
    assert_eq!(node2.psql("SELECT pg_is_in_recovery()").trim(), "t");

    // Asking for node3 is refused: node2 has received more.
    let (code, v) = d.json(&["failover", "--env", "rep", "--to", "node3", "--yes"]);
    assert_eq!(code, 1, "{v}");
    let outcome = v["data"]["outcome"].as_str().unwrap();
    assert!(outcome.contains("node2 has more"), "{outcome}");
    assert_eq!(node3.psql("SELECT pg_is_in_recovery()").trim(), "t");

    let (code, v) = d.json(&["failover", "--env", "rep", "--yes"]);
    assert_eq!(code, 0, "{v}");
    let r = &v["data"];
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["to"], "node2", "the most advanced standby: {r}");
    assert_eq!(node2.psql("SELECT pg_is_in_recovery()").trim(), "f");
    assert_eq!(
        node2.psql("SELECT count(*) FROM t").trim(),
        "200",
        "nothing acknowledged was lost"
    );
    assert!(r["wal_loss"].as_str().unwrap().starts_with("none known"), "{r}");
    assert_eq!(phase(r, "stop_old")["status"], "ok");
    assert!(!primary.running());
    // node3 was re-pointed at the new primary and catches up with what it missed.
    assert_eq!(sender_port(&node3), node2.port.to_string());
    wait_until("node3 to catch up", 30, || {
        node3.psql("SELECT count(*) FROM t").trim() == "200"
    });
    let (_, env) = d.json(&["env", "show", "rep"]);
    assert!(
        env["data"]["primary"]["url"]
            .as_str()
            .unwrap()
            .contains(&node2.port.to_string())
    );
}
