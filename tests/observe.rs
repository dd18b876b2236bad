//! Observing servers: snapshots of a real PostgreSQL cluster with pg_stat_statements (sessions,
//! a real lock wait, top statements, sizes, cache ratios), cancelling a backend, the SQLite
//! demo, and the circuit breaker when the server dies, comes back, or freezes.

mod common;
use common::*;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A psql session kept open (holding a transaction, waiting on a lock, …) until dropped.
#[test]
fn snapshot_of_a_busy_server_shows_sessions_locks_top_and_cache() {
    let pg = PgCluster::trust(&["shared_preload_libraries=pg_stat_statements", "track_io_timing=on"]);
    pg.psql("CREATE EXTENSION pg_stat_statements");
    pg.psql("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL); INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 20000) g; ANALYZE accounts");
    for _ in 0..5 {
        pg.psql("SELECT sum(balance) FROM accounts WHERE id < 500");
    }
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "busy", "--url", &pg.url()]).status.success());

    // A transaction that holds a row lock, and another that waits for it.
    let _holder = HeldSession::open(
        &pg,
        "holder-app",
        "BEGIN; UPDATE accounts SET balance = 0 WHERE id = 1;",
    );
    wait_until("the holder's transaction", 10, || {
        pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'holder-app' AND state = 'idle in transaction'") == "1\n"
    });
    let _waiter = HeldSession::open(&pg, "waiter-app", "UPDATE accounts SET balance = 1 WHERE id = 1;");
    wait_until("the waiter to block", 10, || {
        pg.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'waiter-app' AND wait_event_type = 'Lock'",
        ) == "1\n"
    });

    let (code, snap) = d.json(&["snapshot", "--env", "busy"]);
    assert_eq!(code, 0, "{snap}");
    let s = &snap["data"];
    assert_eq!(s["engine"], "postgres");
    assert!(
        s["queries"].as_u64().unwrap() <= 15,
        "one poll stays cheap: {}",
        s["queries"]
    );
    assert!(s["server"]["version"].as_str().unwrap().starts_with("15"));
    assert!(s["server"]["connections"].as_i64().unwrap() >= 3);

    let sessions = s["sessions"].as_array().unwrap();
    let holder = sessions
        .iter()
        .find(|x| x["application"] == "holder-app")
        .expect("holder listed");
    let waiter = sessions
        .iter()
        .find(|x| x["application"] == "waiter-app")
        .expect("waiter listed");
    assert_eq!(holder["state"], "idle in transaction");
    assert!(holder["xact_ms"].as_f64().unwrap() > 0.0, "transaction age is reported");
    assert_eq!(
        waiter["blocked_by"],
        serde_json::json!([holder["pid"]]),
        "the waiter names its blocker"
    );

    let accounts = s["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "accounts")
        .expect("table listed");
    assert!(accounts["total_bytes"].as_i64().unwrap() > 500_000, "{accounts}");
    assert_eq!(accounts["rows_estimate"], 20000);
    let db = s["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "postgres")
        .unwrap();
    assert!(db["cache_hit_pct"].as_f64().unwrap() > 50.0, "{db}");
    assert!(["ok", "warn", "critical"].contains(&db["cache_status"].as_str().unwrap()));

    assert_eq!(s["top"]["available"], true, "{}", s["top"]);
    let top = s["top"]["rows"].as_array().unwrap();
    assert!(
        top.iter()
            .any(|q| q["query"].as_str().unwrap().contains("sum(balance)")),
        "normalised statements listed"
    );
    assert!(
        top.iter().all(|q| q["query_id"].is_string()),
        "64-bit ids travel as strings"
    );

    // The lock tree, for people and for scripts.
    let out = d.run(&["locks", "--env", "busy"]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("pid {}", holder["pid"])) && text.contains("└─ waits:"),
        "{text}"
    );
    let (_, tree) = d.json(&["locks", "--env", "busy"]);
    assert_eq!(tree[0]["pid"], holder["pid"]);
    assert_eq!(tree[1], serde_json::json!({"depth": 1, "pid": waiter["pid"]}));

    // Cancel the waiter; its statement ends, the lock wait disappears; audited.
    let pid = waiter["pid"].to_string();
    let out = d.run(&["cancel", "--env", "busy", &pid]);
    assert!(stdout(&out).contains("sent a cancel request"), "{}", stdout(&out));
    wait_until("the wait to end", 10, || {
        pg.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") == "0\n"
    });
    let (_, audit) = d.json(&["audit", "list", "--limit", "2"]);
    assert_eq!(audit["data"][0]["action"], "session.cancel");
    assert_eq!(audit["data"][0]["params"]["pid"].to_string(), pid);

    for view in ["sessions", "top", "cache"] {
        let out = d.run(&[view, "--env", "busy"]);
        assert!(out.status.success(), "{view}: {}", stderr(&out));
    }
}

#[test]
fn missing_pg_stat_statements_says_how_to_fix_it() {
    let pg = PgCluster::trust(&[]);
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "plain", "--url", &pg.url()]).status.success());
    let (code, top) = d.json(&["top", "--env", "plain"]);
    assert_eq!(code, 0, "the rest of the snapshot still works: {top}");
    assert_eq!(top["available"], false);
    assert!(
        top["problem"]["message"].as_str().unwrap().contains("not loaded"),
        "{top}"
    );
    assert!(
        top["problem"]["hint"]
            .as_str()
            .unwrap()
            .contains("shared_preload_libraries"),
        "{top}"
    );
}

#[test]
fn terminating_on_prod_needs_the_typed_name() {
    let pg = PgCluster::trust(&[]);
    let d = DataDir::new();
    assert!(
        d.run(&["env", "add", "live", "--kind", "prod", "--url", &pg.url()])
            .status
            .success()
    );
    let _victim = HeldSession::open(&pg, "victim", "SELECT pg_sleep(60);");
    wait_until("the victim", 10, || {
        pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim'") == "1\n"
    });
    let pid = pg
        .psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'victim'")
        .trim()
        .to_owned();
    let out = d.run(&["cancel", "--env", "live", &pid, "--terminate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("needs confirmation"), "{}", stderr(&out));
    assert_eq!(
        pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim'"),
        "1\n",
        "nothing happened"
    );
    let out = d.run(&["cancel", "--env", "live", &pid, "--terminate", "--confirm", "live"]);
    assert!(stdout(&out).contains("terminated backend"), "{}", stdout(&out));
    wait_until("the backend to go", 10, || {
        pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim'") == "0\n"
    });
}

#[test]
fn sqlite_snapshot_of_the_demo() {
    let d = DataDir::new();
    // Let serve create the demo, then read it from the CLI.
    let mut child = Command::new(bin())
        .arg("--data-dir")
        .arg(d.path())
        .args(["serve", "--demo", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    wait_until("the demo environment", 20, || {
        let (_, l) = d.json(&["env", "list"]);
        l["data"].as_array().is_some_and(|a| !a.is_empty())
    });
    let _ = child.kill();
    let _ = child.wait();
    let (code, snap) = d.json(&["snapshot", "--env", "demo"]);
    assert_eq!(code, 0, "{snap}");
    let s = &snap["data"];
    assert_eq!(s["engine"], "sqlite");
    assert_eq!(s["integrity"], "ok");
    let orders = s["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "orders")
        .unwrap();
    assert_eq!(orders["rows"], 8000);
    assert!(
        orders["indexes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == "orders_customer")
    );
}

fn pools_of(d: &DataDir, env: &str) -> Value {
    let (_, p) = d.json(&["pools", "--env", env]);
    p["data"][0].clone()
}

#[test]
fn pools_report_live_figures() {
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "local", "--url", &local_pg()]).status.success());
    let p = pools_of(&d, "local");
    assert_eq!(p["role"], "primary");
    assert_eq!(p["breaker"], "closed");
    assert_eq!(p["acquired"], 1, "{p}");
    assert!(p["acquire_p50_ms"].as_f64().is_some(), "{p}");
    assert_eq!(p["max"], 6, "dev's pool profile: 4 + 2 overflow");
    let out = d.run(&["pools", "--env", "local"]);
    assert!(stdout(&out).contains("ACQUIRE P50/P95/P99"), "{}", stdout(&out));

    // The knobs change the pool at once (it is rebuilt) and export as an application's settings.
    let out = d.run(&[
        "env",
        "update",
        "local",
        "--pool-size",
        "3",
        "--max-overflow",
        "1",
        "--pre-ping",
        "false",
        "--max-lifetime",
        "900",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(pools_of(&d, "local")["max"], 4);
    let out = d.run(&["pools", "--env", "local", "--as", "sqlalchemy"]);
    let text = stdout(&out);
    assert!(
        text.contains("pool_size=3, max_overflow=1")
            && text.contains("pool_recycle=900")
            && text.contains("pool_pre_ping=False"),
        "{text}"
    );
    let out = d.run(&["env", "show", "local"]);
    assert!(
        stdout(&out).contains("size 3 + overflow 1") && stdout(&out).contains("pre-ping off"),
        "{}",
        stdout(&out)
    );
}

mod serve_faults {
    use super::*;
    use std::io::{BufRead, BufReader};

    struct Served {
        child: Child,
        base: String,
        token: String,
    }

    impl Served {
        fn start(d: &DataDir) -> Self {
            let mut child = Command::new(bin())
                .arg("--data-dir")
                .arg(d.path())
                .args(["serve", "--port", "0", "--health-interval", "1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut first = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut first)
                .unwrap();
            let (base, token) = first.trim().split_once("/?token=").unwrap();
            Served {
                child,
                base: base.into(),
                token: token.into(),
            }
        }

        async fn call(&self, req: Value) -> Value {
            reqwest::Client::new()
                .post(format!("{}/api/call", self.base))
                .bearer_auth(&self.token)
                .json(&req)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        }

        async fn latest(&self, env: &str) -> Value {
            let l = self.call(serde_json::json!({"op": "env_list"})).await;
            l["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["env"]["name"] == env)
                .unwrap()["health"]
                .clone()
        }
    }

    impl Drop for Served {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    async fn wait_for(s: &Served, what: &str, secs: u64, f: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let h = s.latest("fragile").await;
            if f(&h) {
                return h;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; last health {h}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn fast_env(url: &str) -> Value {
        serde_json::json!({"op": "env_add", "env": {"name": "fragile", "url": url, "pool": {
            "max_connections": 2, "min_connections": 0, "acquire_timeout_ms": 800,
            "connect_timeout_ms": 800, "idle_timeout_s": 60, "max_lifetime_s": 600}}})
    }

    #[tokio::test]
    async fn breaker_opens_when_the_server_dies_and_closes_when_it_returns() {
        let mut pg = PgCluster::trust(&[]);
        let d = DataDir::new();
        let s = Served::start(&d);
        s.call(fast_env(&pg.url())).await;
        wait_for(&s, "reachable", 20, |h| h["reachable"] == true).await;

        pg.kill_server();
        let h = wait_for(&s, "unreachable", 20, |h| h["reachable"] == false).await;
        assert!(
            ["connection_refused", "unreachable"].contains(&h["error_code"].as_str().unwrap()),
            "{h}"
        );
        // After three failures the breaker opens and refuses at once.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let p = s.call(serde_json::json!({"op": "pools", "name": "fragile"})).await;
            if p["data"][0]["breaker"] == "open" {
                assert!(p["data"][0]["next_probe_ms"].is_number());
                let history = p["data"][0]["breaker_history"].as_array().unwrap();
                assert!(
                    history.last().unwrap()["reason"]
                        .as_str()
                        .unwrap()
                        .contains("consecutive failures"),
                    "{p}"
                );
                break;
            }
            assert!(Instant::now() < deadline, "the breaker never opened: {p}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let started = Instant::now();
        let snap = s.call(serde_json::json!({"op": "snapshot", "name": "fragile"})).await;
        assert_eq!(snap["code"], "unreachable", "{snap}");
        assert!(
            snap["message"].as_str().unwrap().contains("circuit breaker is open"),
            "{snap}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "an open breaker answers at once, without connecting"
        );

        // The server comes back; the next probe closes the breaker and health recovers by itself.
        pg.start_server();
        wait_for(&s, "recovery", 90, |h| h["reachable"] == true).await;
        let p = s.call(serde_json::json!({"op": "pools", "name": "fragile"})).await;
        assert_eq!(p["data"][0]["breaker"], "closed", "{p}");
    }

    #[tokio::test]
    async fn a_frozen_server_times_out_and_nothing_hangs() {
        let pg = PgCluster::trust(&[]);
        let d = DataDir::new();
        let s = Served::start(&d);
        s.call(fast_env(&pg.url())).await;
        wait_for(&s, "reachable", 20, |h| h["reachable"] == true).await;
        pg.signal("STOP");
        let h = wait_for(&s, "a timeout", 30, |h| h["reachable"] == false).await;
        assert_eq!(h["error_code"], "timeout", "{h}");
        // The API itself stays responsive while the server is frozen.
        let started = Instant::now();
        let list = s.call(serde_json::json!({"op": "env_list"})).await;
        assert!(list["data"].is_array());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "env_list does not wait on the frozen server"
        );
        pg.signal("CONT");
        wait_for(&s, "recovery", 90, |h| h["reachable"] == true).await;
    }
}

#[tokio::test]
async fn collectors_fill_metric_history_that_charts_and_exports() {
    let pg = PgCluster::trust(&[]);
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "metered", "--url", &pg.url()]).status.success());
    let mut child = Command::new(bin())
        .arg("--data-dir")
        .arg(d.path())
        .args(["serve", "--port", "0", "--health-interval", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    // Some work to count while the collector runs.
    for _ in 0..5 {
        pg.psql("SELECT count(*) FROM pg_class");
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let _ = child.kill();
    let _ = child.wait();

    let (code, h) = d.json(&["history", "--env", "metered", "--metric", "tps", "--since", "15m"]);
    assert_eq!(code, 0, "{h}");
    assert_eq!(h["data"]["source"], "raw");
    let points = h["data"]["points"].as_array().unwrap();
    assert!(points.len() >= 2, "a rate per interval after the first: {h}");
    assert!(points.iter().all(|p| p["avg"].as_f64().unwrap() >= 0.0));
    let (_, c) = d.json(&[
        "history",
        "--env",
        "metered",
        "--metric",
        "cache_hit_pct",
        "--since",
        "15m",
    ]);
    assert!(!c["data"]["points"].as_array().unwrap().is_empty(), "{c}");
    let (_, a) = d.json(&[
        "history",
        "--env",
        "metered",
        "--metric",
        "availability",
        "--since",
        "15m",
    ]);
    assert!(
        a["data"]["points"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["avg"] == 100.0),
        "{a}"
    );

    let out = d.run(&[
        "history",
        "--env",
        "metered",
        "--metric",
        "latency_ms",
        "--since",
        "15m",
        "--csv",
    ]);
    let csv = stdout(&out);
    assert!(
        csv.starts_with("timestamp,avg,min,max\n") && csv.lines().count() >= 3,
        "{csv}"
    );

    let file = d.path().join("hit.svg");
    let out = d.run(&[
        "chart",
        "--metric",
        "cache_hit_pct",
        "--since",
        "15m",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.contains("<title>metered · "), "hover titles per point");
    assert!(
        svg.contains("target 70.0 %"),
        "the environment's buffer-cache target (70 % by default) is drawn and named"
    );
    // The same chart as a picture, titled, at twice the size asked for.
    let png = d.path().join("hit.png");
    let out = d.run(&[
        "chart",
        "--metric",
        "cache_hit_pct",
        "--since",
        "15m",
        "--width",
        "500",
        "--height",
        "200",
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 1000);
    let out = d.run(&["chart", "--metric", "cache_hit_pct", "-o", "chart.jpg"]);
    assert!(stderr(&out).contains("neither an .svg nor a .png"), "{}", stderr(&out));
    let out = d.run(&[
        "chart",
        "--metric",
        "nope",
        "--since",
        "15m",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        stderr(&out).contains("not a metric") && stderr(&out).contains("cache_hit_pct"),
        "{}",
        stderr(&out)
    );
}

/// A private Redis with a password, on a free port, stopped on drop.
struct PrivateRedis {
    child: Child,
    port: u16,
}

impl PrivateRedis {
    fn start(password: &str) -> Self {
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args([
                "--requirepass",
                password,
                "--maxmemory",
                "64mb",
                "--maxmemory-policy",
                "allkeys-lru",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        wait_until("redis", 10, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        PrivateRedis { child, port }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn redis_cache_tier_hit_rate_memory_and_a_wrong_password() {
    require_keychain();
    let redis = PrivateRedis::start("redis-pw-77");
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-p", &redis.port.to_string(), "-a", "redis-pw-77", "--no-auth-warning"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
    };
    cli(&["SET", "k1", "v"]);
    cli(&["SET", "k2", "v", "EX", "600"]);
    for _ in 0..9 {
        cli(&["GET", "k1"]);
    }
    cli(&["GET", "missing"]);

    let d = DataDir::new();
    let url = format!("redis://:redis-pw-77@127.0.0.1:{}/0", redis.port);
    assert!(
        d.run(&["env", "add", "cached", "--url", &local_pg(), "--redis", &url])
            .status
            .success()
    );
    let (_, secrets) = d.json(&["env", "secrets", "cached"]);
    assert_eq!(
        secrets["data"][0]["role"], "redis",
        "the Redis password went to the keychain: {secrets}"
    );

    let (code, c) = d.json(&["cache", "--env", "cached"]);
    assert_eq!(code, 0, "{c}");
    let out = d.run(&["cache", "--env", "cached"]);
    let text = stdout(&out);
    assert!(text.contains("hit rate 90.0 % against 85 % (ok)"), "{text}");
    assert!(text.contains("of 64.0 MiB") && text.contains("allkeys-lru"), "{text}");
    assert!(text.contains("db0"), "{text}");

    // The wrong password: a clear error that says how to fix it.
    let out = d.run_stdin(
        &["env", "set-password", "cached", "--role", "redis", "--password-stdin"],
        Some("wrong"),
    );
    assert!(out.status.success());
    let out = d.run(&["cache", "--env", "cached"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("refused the credentials") && err.contains("set-password"),
        "{err}"
    );
}

#[test]
fn pgbouncer_admin_console_show_and_control() {
    require_keychain();
    let pg = PgCluster::trust(&[]);
    let bouncer = PgBouncer::start(pg.port, "admin_pw");
    let d = DataDir::new();
    let out = d.run(&[
        "env",
        "add",
        "pooled",
        "--url",
        &pg.url(),
        "--pgbouncer",
        &bouncer.admin_url(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = d.run_stdin(
        &[
            "env",
            "set-password",
            "pooled",
            "--role",
            "pgbouncer",
            "--password-stdin",
        ],
        Some("admin_pw"),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // env test reaches the admin console too.
    let (code, t) = d.json(&["env", "test", "pooled"]);
    assert_eq!(code, 0, "{t}");
    assert!(
        t["data"]["endpoints"][1]["server_version"]
            .as_str()
            .unwrap()
            .contains("PgBouncer"),
        "{t}"
    );

    let (code, st) = d.json(&["pgbouncer", "show", "--env", "pooled"]);
    assert_eq!(code, 0, "{st}");
    assert!(st["version"].as_str().unwrap().starts_with("PgBouncer 1."), "{st}");
    assert!(
        st["pools"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "cl_active"),
        "{st}"
    );
    assert!(
        st["databases"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r[0] == "app"),
        "{st}"
    );
    let out = d.run(&["pgbouncer", "show", "--env", "pooled", "--what", "config"]);
    assert!(
        stdout(&out).contains("SHOW CONFIG") && stdout(&out).contains("pool_mode"),
        "{}",
        stdout(&out)
    );

    for cmd in ["pause", "resume", "reconnect", "reload"] {
        let out = d.run(&["pgbouncer", cmd, "--env", "pooled", "--database", "app"]);
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
    }
    let (_, audit) = d.json(&["audit", "list", "--limit", "8"]);
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"pgbouncer.pause") && actions.contains(&"pgbouncer.reload"),
        "{actions:?}"
    );

    // A wrong admin password is named as such.
    let out = d.run_stdin(
        &[
            "env",
            "set-password",
            "pooled",
            "--role",
            "pgbouncer",
            "--password-stdin",
        ],
        Some("nope"),
    );
    assert!(out.status.success());
    let out = d.run(&["pgbouncer", "show", "--env", "pooled"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("authentication failed") && err.contains("admin_users"),
        "{err}"
    );
}

#[test]
fn pgbouncer_control_on_prod_needs_confirmation() {
    let pg = PgCluster::trust(&[]);
    let bouncer = PgBouncer::start(pg.port, "admin_pw");
    let d = DataDir::new();
    let url = format!("postgres://admin:admin_pw@127.0.0.1:{}/pgbouncer", bouncer.port);
    if keychain_available() {
        assert!(
            d.run(&[
                "env",
                "add",
                "live",
                "--kind",
                "prod",
                "--url",
                &pg.url(),
                "--pgbouncer",
                &url
            ])
            .status
            .success()
        );
        let out = d.run(&["pgbouncer", "pause", "--env", "live"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("needs confirmation") && stderr(&out).contains("PAUSE"),
            "{}",
            stderr(&out)
        );
        let out = d.run(&["pgbouncer", "pause", "--env", "live", "--confirm", "live"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = d.run(&["pgbouncer", "resume", "--env", "live", "--confirm", "live"]);
        assert!(out.status.success(), "{}", stderr(&out));
    } else {
        require_keychain();
    }
}

#[test]
fn bench_measures_through_the_pool_and_leaves_nothing_behind() {
    let pg = PgCluster::trust(&[]);
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "bench-me", "--url", &pg.url()]).status.success());
    let chart = d.path().join("bench.svg");
    let (code, r) = d.json(&[
        "bench",
        "--env",
        "bench-me",
        "--clients",
        "2",
        "--seconds",
        "2",
        "--mode",
        "mixed",
        "--chart",
        chart.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{r}");
    let b = &r["data"];
    assert!(b["ops"].as_u64().unwrap() > 100, "{b}");
    assert_eq!(b["errors"], 0);
    assert!(b["p50_ms"].as_f64().unwrap() <= b["p99_ms"].as_f64().unwrap());
    assert_eq!(b["per_second"].as_array().unwrap().len(), 2);
    assert!(
        std::fs::read_to_string(&chart).unwrap().contains("<title>bench-me · "),
        "the ops/s chart was written"
    );
    assert_eq!(
        pg.psql("SELECT count(*) FROM pg_class WHERE relname LIKE 'dbdeck_bench%'"),
        "0\n",
        "the scratch table and its sequence are dropped"
    );
    let (_, audit) = d.json(&["audit", "list", "--limit", "1"]);
    assert_eq!(audit["data"][0]["action"], "bench");

    // Prod needs the typed name; nothing is created without it.
    assert!(
        d.run(&["env", "add", "live", "--kind", "prod", "--url", &pg.url()])
            .status
            .success()
    );
    let out = d.run(&["bench", "--env", "live", "--seconds", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("needs confirmation"), "{}", stderr(&out));
}

#[tokio::test]
async fn pool_advice_from_observed_sessions_shows_its_arithmetic() {
    let pg = PgCluster::trust(&["max_connections=40"]);
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "shop", "--url", &pg.url()]).status.success());
    let _busy1 = HeldSession::open(&pg, "shop-api", "SELECT pg_sleep(30);");
    let _busy2 = HeldSession::open(&pg, "shop-api", "SELECT pg_sleep(30);");
    let _idle = HeldSession::open(&pg, "shop-worker", "SELECT 1;");
    let mut child = Command::new(bin())
        .arg("--data-dir")
        .arg(d.path())
        .args(["serve", "--port", "0", "--health-interval", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let _ = child.kill();
    let _ = child.wait();

    let (code, a) = d.json(&["advise", "--env", "shop", "--instances", "2"]);
    assert_eq!(code, 0, "{a}");
    let a = &a["data"];
    assert_eq!(a["max_connections"], 40);
    assert_eq!(a["usable"], 40 - 3 - 3, "40 − 3 reserved − admin margin 3");
    let api = a["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["application"] == "shop-api")
        .expect("shop-api observed");
    assert_eq!(api["active_max"], 2, "{a}");
    assert_eq!(api["pool_size"], 2, "ceil(2 × 1.25 / 2) = 2: {a}");
    let worker = a["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["application"] == "shop-worker")
        .expect("idle apps listed");
    assert_eq!(worker["active_max"], 0);
    assert!(
        a["steps"][0]
            .as_str()
            .unwrap()
            .starts_with("usable = max_connections 40"),
        "{a}"
    );
    let out = d.run(&["advise", "--env", "shop", "--instances", "2"]);
    assert!(
        stdout(&out).contains("POOL SIZE / INSTANCE") && stdout(&out).contains("shop-api: pool = ceil"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn sizes_are_read_from_a_replica_when_routing_allows_and_from_the_primary_otherwise() {
    let primary = PgCluster::trust(&[]);
    primary.psql("CREATE TABLE big_one AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 20000) g");
    let standby = PgCluster::standby_of(&primary);
    wait_until("the standby to replay the table", 20, || {
        standby.psql("SELECT count(*) FROM pg_class WHERE relname = 'big_one'") == "1\n"
    });
    let d = DataDir::new();
    let replica = format!("node2={}", standby.url());
    let out = d.run(&[
        "env",
        "add",
        "routed",
        "--url",
        &primary.url(),
        "--replica",
        &replica,
        "--replica-reads",
        "true",
        "--max-replica-lag",
        "30",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let (code, snap) = d.json(&["snapshot", "--env", "routed"]);
    assert_eq!(code, 0, "{snap}");
    let s = &snap["data"];
    assert!(
        s["sizes_from"].as_str().unwrap().starts_with("replica:node2 ("),
        "{}",
        s["sizes_from"]
    );
    let t = s["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "big_one")
        .expect("table listed");
    assert!(
        t["total_bytes"].as_i64().unwrap() > 4_000_000,
        "sizes came back from the replica: {t}"
    );
    assert_eq!(
        s["server"]["in_recovery"], false,
        "everything else still describes the primary"
    );

    // The replica goes away: sizes come from the primary, and the snapshot says why.
    standby.kill_server();
    let (_, snap) = d.json(&["snapshot", "--env", "routed"]);
    let from = snap["data"]["sizes_from"].as_str().unwrap().to_owned();
    assert!(from.starts_with("primary (no replica qualified: node2:"), "{from}");
    let t = snap["data"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "big_one")
        .cloned()
        .unwrap();
    assert!(t["total_bytes"].as_i64().unwrap() > 4_000_000);

    // Off by default.
    assert!(
        d.run(&["env", "update", "routed", "--replica-reads", "false"])
            .status
            .success()
    );
    let (_, snap) = d.json(&["snapshot", "--env", "routed"]);
    assert_eq!(snap["data"]["sizes_from"], "primary (replica reads are off)");
}
