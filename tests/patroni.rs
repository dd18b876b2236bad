//! A Patroni-managed environment against a real 2-node Patroni cluster (Patroni from PyPI,
//! etcd from Debian) that `scripts/patroni-bed` starts on loopback ports: dbdeck reads the
//! cluster from Patroni's REST API, and switches over through it, never behind its back.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::Value;

struct PatroniBed {
    dir: tempfile::TempDir,
    info: Value,
}

impl PatroniBed {
    fn up() -> Self {
        let dir = tempfile::Builder::new().prefix("dbdeck-patroni-").tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/patroni-bed");
        let out = Command::new(&script)
            .arg("up")
            .arg(dir.path())
            .output()
            .expect("patroni-bed runs");
        assert!(
            out.status.success(),
            "scripts/patroni-bed up failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let info = serde_json::from_slice(&out.stdout).expect("patroni-bed prints JSON");
        PatroniBed { dir, info }
    }

    fn node(&self, name: &str) -> &Value {
        self.info["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .unwrap()
    }

    fn url(&self, name: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/postgres",
            self.info["password"].as_str().unwrap(),
            self.node(name)["pg_port"]
        )
    }
}

impl Drop for PatroniBed {
    fn drop(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/patroni-bed");
        let _ = Command::new(script).arg("down").arg(self.dir.path()).output();
    }
}

fn member<'a>(topo: &'a Value, name: &str) -> &'a Value {
    topo["patroni"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap()
}

#[test]
fn patroni_switches_over_and_fails_over_with_no_lost_write_and_dbdeck_never_promotes_behind_its_back() {
    require_keychain();
    let bed = PatroniBed::up();
    assert_eq!(bed.info["leader"], "node1");
    let d = DataDir::new();
    let rest1 = bed.node("node1")["rest"].as_str().unwrap().to_owned();
    // Two endpoints, the first of them dead (nothing listens on port 9): every read of Patroni's
    // view goes on to the next one.
    let endpoints = format!("http://127.0.0.1:9,{rest1}");
    let out = d.run(&[
        "env",
        "add",
        "pat",
        "--url",
        &bed.url("node1"),
        "--replica",
        &format!("node2={}", bed.url("node2")),
        "--patroni",
        &endpoints,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Patroni's view beside dbdeck's own.
    let (code, v) = d.json(&["replication", "status", "--env", "pat"]);
    assert_eq!(code, 0, "{v}");
    let t = &v["data"];
    assert_eq!(member(t, "node1")["role"], "leader", "{t}");
    assert_eq!(member(t, "node2")["state"], "streaming", "{t}");
    let text = stdout(&d.run(&["replication", "status", "--env", "pat"]));
    assert!(text.contains("Patroni cluster") && text.contains("MEMBER"), "{text}");

    // Rejoin and a failover while the leader is up are refused; nothing changes.
    let (code, v) = d.json(&["rejoin", "--env", "pat", "--node", "node2", "--yes"]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "conflict", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("managed by Patroni"),
        "{v}"
    );
    let (code, v) = d.json(&["failover", "--env", "pat", "--yes"]);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["data"]["outcome"].as_str().unwrap().starts_with("Failover refused"),
        "{v}"
    );

    // A switchover under a writer that follows whichever node takes writes.
    let targets = vec![bed.url("node1").parse().unwrap(), bed.url("node2").parse().unwrap()];
    let psql = |name: &str, sql: &str| {
        let out = Command::new(format!("{PG_BIN}/psql"))
            .args(["-d", &bed.url(name), "-Atqc", sql])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    psql("node1", "CREATE TABLE acked (id bigint PRIMARY KEY)");
    let writer = Writer::start(targets);
    wait_until("the writer to get going", 20, || {
        writer.acked.lock().unwrap().len() > 50
    });
    let (code, v) = d.json(&["switchover", "--env", "pat", "--to", "node2", "--yes"]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (acked, gap) = writer.finish();
    assert_eq!(code, 0, "{v}");
    let r = &v["data"];
    assert_eq!(r["ok"], true, "{r}");
    let ids: Vec<&str> = r["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"patroni"), "{ids:?}");
    for own in ["fence", "stop_old", "promote", "catch_up"] {
        assert!(!ids.contains(&own), "dbdeck must leave {own} to Patroni: {ids:?}");
    }
    assert!(
        r["outcome"]
            .as_str()
            .unwrap()
            .contains("Patroni: Successfully switched over"),
        "{r}"
    );

    let have: std::collections::HashSet<i64> = psql("node2", "SELECT id FROM acked")
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect();
    let lost: Vec<i64> = acked.iter().copied().filter(|i| !have.contains(i)).collect();
    assert!(lost.is_empty(), "{} acknowledged inserts lost", lost.len());
    eprintln!(
        "{} acknowledged inserts through the Patroni switchover, longest gap {gap:?}",
        acked.len()
    );

    let (_, v) = d.json(&["replication", "status", "--env", "pat"]);
    let t = &v["data"];
    assert_eq!(member(t, "node2")["role"], "leader", "{t}");
    let (_, env) = d.json(&["env", "show", "pat"]);
    assert!(
        env["data"]["primary"]["url"]
            .as_str()
            .unwrap()
            .contains(&bed.node("node2")["pg_port"].to_string()),
        "{env}"
    );

    // Failover through Patroni: in maintenance mode Patroni neither restarts nor replaces a
    // dead leader, so the person fails over by hand; dbdeck asks Patroni to do it.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new()
            .patch(format!("{rest1}/config"))
            .json(&serde_json::json!({ "pause": true }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
    });
    wait_until("Patroni to report maintenance mode", 20, || {
        let (_, v) = d.json(&["replication", "status", "--env", "pat"]);
        v["data"]["patroni"]["pause"] == true
    });
    let leader_dir = bed.node("node2")["data_dir"].as_str().unwrap().to_owned();
    let out = Command::new("setpriv")
        .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
        .arg(format!("{PG_BIN}/pg_ctl"))
        .args(["-D", &leader_dir, "-m", "immediate", "-w", "stop"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, v) = d.json(&["failover", "--env", "pat", "--yes"]);
    assert_eq!(code, 0, "{v}");
    let r = &v["data"];
    assert_eq!(r["ok"], true, "{r}");
    let ids: Vec<&str> = r["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"patroni") && !ids.contains(&"promote"), "{ids:?}");
    assert!(
        r["outcome"]
            .as_str()
            .unwrap()
            .contains("Patroni: Successfully failed over"),
        "{r}"
    );
    let (_, v) = d.json(&["replication", "status", "--env", "pat"]);
    assert_eq!(member(&v["data"], "node1")["role"], "leader", "{v}");
    assert_eq!(psql("node1", "SELECT count(*) > 0 FROM acked").trim(), "t");

    let audit = stdout(&d.run(&["audit", "list", "--env", "pat"]));
    assert!(
        audit.contains("replication.switchover") && audit.contains("replication.failover"),
        "{audit}"
    );
}
