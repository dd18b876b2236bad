//! `dbdeck serve`: the token, the API over HTTP, live events over SSE, the demo, the canary
//! password, and SIGKILL in the middle of writes.

mod common;
use common::*;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
    token: String,
    stderr: Option<std::process::ChildStderr>,
}

impl Server {
    fn start(d: &DataDir, extra: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .arg("--data-dir")
            .arg(d.path())
            .args(["serve", "--port", "0", "--health-interval", "1"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dbdeck serve");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first.trim();
        assert!(url.starts_with("http://127.0.0.1:"), "first line is the URL: {url:?}");
        let (base, token) = url.split_once("/?token=").expect("URL carries the token");
        let stderr = child.stderr.take();
        Server {
            child,
            base: base.to_owned(),
            token: token.to_owned(),
            stderr,
        }
    }

    async fn call(&self, req: Value) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/api/call", self.base))
            .bearer_auth(&self.token)
            .json(&req)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    fn terminate(&mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let mut err = String::new();
        if let Some(mut s) = self.stderr.take() {
            let _ = s.read_to_string(&mut err);
        }
        err
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn every_api_request_needs_the_token() {
    let d = DataDir::new();
    let s = Server::start(&d, &[]);
    let c = reqwest::Client::new();
    let body = json!({"op": "env_list"});

    let r = c.post(format!("{}/api/call", s.base)).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 401, "no token");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "unauthorized");
    assert!(e["hint"].as_str().unwrap().contains("URL"));

    let r = c
        .post(format!("{}/api/call", s.base))
        .bearer_auth("0".repeat(48))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "wrong token of the right length");
    let r = c
        .post(format!("{}/api/call?token=nope", s.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "wrong token in the query");
    let r = c.get(format!("{}/api/events", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 401, "events need the token too");
    for op in ["app_info", "env_export", "audit_list", "audit_verify"] {
        let r = c
            .post(format!("{}/api/call", s.base))
            .json(&json!({"op": op}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{op} without a token");
    }

    let r = c
        .post(format!("{}/api/call", s.base))
        .bearer_auth(&s.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The UI itself is public (it holds no data) and is served with a strict CSP.
    let r = c.get(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn malformed_requests_get_a_typed_error() {
    let d = DataDir::new();
    let s = Server::start(&d, &[]);
    let r = reqwest::Client::new()
        .post(format!("{}/api/call", s.base))
        .bearer_auth(&s.token)
        .body("{\"op\":\"env_add\",\"env\":{}}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "invalid_input");
    assert!(e["message"].as_str().unwrap().starts_with("malformed request"), "{e}");
    let (status, e) = s.call(json!({"op": "env_get", "name": "nope"})).await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")));
}

/// A pasted plan may come as the request body itself; the answer is the one `/api/call` gives.
#[tokio::test]
async fn a_plan_sent_as_the_body_is_read_like_a_plan_in_json() {
    let d = DataDir::new();
    let s = Server::start(&d, &[]);
    let c = reqwest::Client::new();
    let text = std::fs::read_to_string("tests/plans/cte_subplan.json").unwrap();
    let url = format!("{}/api/call/plan_analyze?compact=true", s.base);

    let r = c.post(&url).body(text.clone()).send().await.unwrap();
    assert_eq!(r.status(), 401, "the token is needed here too");

    let r = c
        .post(&url)
        .bearer_auth(&s.token)
        .body(text.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let raw: Value = r.json().await.unwrap();
    let (status, wrapped) = s
        .call(json!({"op": "plan_analyze", "text": text, "compact": true}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(raw, wrapped, "same answer by either door");
    assert!(
        raw["data"]["node_table"]["rows"]
            .as_array()
            .is_some_and(|r| r.len() == 11),
        "{raw}"
    );

    // Not UTF-8: the byte is named, nothing is read.
    let mut bad = text.as_bytes().to_vec();
    bad[40] = 0xff;
    let r = c.post(&url).bearer_auth(&s.token).body(bad).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "invalid_input");
    assert_eq!(e["message"], "the plan is not UTF-8 text (byte 40 is not)");

    // A cut plan: the same positioned error as through /api/call.
    let r = c
        .post(&url)
        .bearer_auth(&s.token)
        .body(text[..text.len() / 2].to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(e["message"].as_str().unwrap().contains("ends early"), "{e}");
}

#[tokio::test]
async fn demo_is_live_with_health_chart_and_events() {
    let d = DataDir::new();
    let s = Server::start(&d, &["--demo"]);

    // Subscribe first, then act: the action's audit records and health arrive as events.
    let mut events = reqwest::Client::new()
        .get(format!("{}/api/events?token={}", s.base, s.token))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let (status, r) = s.call(json!({"op": "env_test", "name": "demo"})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["data"]["ok"], true, "{r}");
    assert!(
        r["data"]["endpoints"][0]["server_version"]
            .as_str()
            .unwrap()
            .starts_with("SQLite 3")
    );

    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && !(seen.contains("\"type\":\"audit\"") && seen.contains("\"type\":\"health\"")) {
        match tokio::time::timeout(Duration::from_secs(5), events.chunk()).await {
            Ok(Ok(Some(b))) => seen.push_str(&String::from_utf8_lossy(&b)),
            _ => break,
        }
    }
    assert!(seen.contains("\"type\":\"audit\""), "audit events stream: {seen}");
    assert!(seen.contains("\"type\":\"health\""), "health events stream: {seen}");

    // The scheduled checks fill the history; the chart draws it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, h) = s
            .call(json!({"op": "health_history", "name": "demo", "minutes": 15}))
            .await;
        if h["data"].as_array().unwrap().len() >= 3 || Instant::now() > deadline {
            assert!(
                h["data"].as_array().unwrap().len() >= 3,
                "health checks run on a schedule: {h}"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (_, c) = s.call(json!({"op": "chart_latency", "minutes": 15})).await;
    let svg = c["data"]["svg"].as_str().unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("<title>demo · "),
        "chart with hover titles"
    );
    assert!(c["data"]["as_of_ms"].is_number());
    // Beyond a day of raw samples the chart is drawn from the latency metric's history.
    let (_, c) = s.call(json!({"op": "chart_latency", "minutes": 30 * 1440})).await;
    assert!(
        c["data"]["svg"].as_str().unwrap().contains("<title>demo · "),
        "{}",
        c["data"]["title"]
    );

    let (_, info) = s.call(json!({"op": "app_info"})).await;
    assert_eq!(info["data"]["demo"], true);
}

#[tokio::test]
async fn canary_password_never_reaches_disk_logs_or_output() {
    require_keychain();
    let canary = "canary-7Hq2-zW4m-serve";
    let pg = PgCluster::start(canary);
    let d = DataDir::new();
    let mut s = Server::start(&d, &["--demo"]);
    let (status, r) = s
        .call(
            json!({"op": "env_add", "env": {"name": "canary", "kind": "staging", "url": pg.url()}, "password": canary}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert!(!r.to_string().contains(canary), "responses never carry the secret");
    let (_, t) = s.call(json!({"op": "env_test", "name": "canary"})).await;
    assert_eq!(t["data"]["ok"], true, "{t}");
    // A failing attempt with the canary in a URL must not leak it into errors or the audit log.
    let bad = format!("postgres://postgres:{canary}@127.0.0.1:{}/postgres", free_port());
    let (_, r) = s
        .call(json!({"op": "env_add", "env": {"name": "bad name", "url": bad}}))
        .await;
    assert!(!r.to_string().contains(canary), "{r}");
    let (_, a) = s.call(json!({"op": "audit_list"})).await;
    assert!(!a.to_string().contains(canary));
    let (_, x) = s.call(json!({"op": "env_export"})).await;
    assert!(!x.to_string().contains(canary));
    tokio::time::sleep(Duration::from_millis(1500)).await; // let health checks use the secret too
    let stderr_text = s.terminate();
    assert!(!stderr_text.contains(canary), "stderr: {stderr_text}");
    let hits = found_in_files(d.path(), canary);
    assert!(hits.is_empty(), "the canary password leaked into {hits:?}");
    assert!(
        d.path().join("logs/dbdeck.log").exists(),
        "the log exists and was scanned"
    );
}

#[tokio::test]
async fn sigkill_during_writes_leaves_a_store_that_opens_and_a_chain_that_verifies() {
    let d = DataDir::new();
    for round in 0..3u64 {
        let mut s = Server::start(&d, &[]);
        let base = s.base.clone();
        let token = s.token.clone();
        let mut writers = Vec::new();
        for w in 0..4u64 {
            let (base, token) = (base.clone(), token.clone());
            writers.push(tokio::spawn(async move {
                let c = reqwest::Client::new();
                // Names whose add was acknowledged and whose removal was never attempted:
                // these must all be in the store after the crash.
                let mut kept = Vec::new();
                for i in 0..10_000u64 {
                    let name = format!("r{round}w{w}n{i}");
                    let add = json!({"op": "env_add", "env": {"name": name, "url": "sqlite:///tmp/none.db"}});
                    match c
                        .post(format!("{base}/api/call"))
                        .bearer_auth(&token)
                        .json(&add)
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 200 => {}
                        _ => break,
                    }
                    if i % 2 == 0 {
                        let rm = json!({"op": "env_remove", "name": name});
                        if c.post(format!("{base}/api/call"))
                            .bearer_auth(&token)
                            .json(&rm)
                            .send()
                            .await
                            .is_err()
                        {
                            break;
                        }
                    } else {
                        kept.push(name);
                    }
                }
                kept
            }));
        }
        tokio::time::sleep(Duration::from_millis(700 + 250 * round)).await;
        s.child.kill().unwrap(); // SIGKILL
        s.child.wait().unwrap();
        let mut kept = Vec::new();
        for w in writers {
            kept.extend(w.await.unwrap());
        }
        assert!(
            !kept.is_empty(),
            "round {round}: writes were acknowledged before the process died"
        );

        let out = d.run(&["audit", "verify"]);
        assert!(
            out.status.success(),
            "round {round}: chain verifies after SIGKILL: {}{}",
            stdout(&out),
            stderr(&out)
        );
        let (code, list) = d.json(&["env", "list"]);
        assert_eq!(code, 0, "round {round}: the store opens: {list}");
        let names: std::collections::HashSet<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["env"]["name"].as_str().unwrap())
            .collect();
        let lost: Vec<&String> = kept.iter().filter(|n| !names.contains(n.as_str())).collect();
        assert!(
            lost.is_empty(),
            "round {round}: acknowledged environments lost in the crash: {lost:?}"
        );
    }
}

#[tokio::test]
async fn a_server_dying_shows_as_down_and_does_not_stop_the_others() {
    require_keychain();
    let pg = PgCluster::start("dying-pw");
    let d = DataDir::new();
    let s = Server::start(&d, &["--demo"]);
    let (status, r) = s
        .call(
            json!({"op": "env_add", "env": {"name": "fragile", "url": pg.url(), "pool": {
            "max_connections": 2, "min_connections": 0, "acquire_timeout_ms": 1000,
            "connect_timeout_ms": 1000, "idle_timeout_s": 60, "max_lifetime_s": 60}}, "password": "dying-pw"}),
        )
        .await;
    assert_eq!(status, 200, "{r}");

    fn latest(list: &Value, name: &str) -> Option<Value> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["env"]["name"] == name)
            .map(|e| e["health"].clone())
    }
    async fn wait_for(s: &Server, want_up: bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, list) = s.call(json!({"op": "env_list"})).await;
            let h = latest(&list, "fragile").unwrap_or(Value::Null);
            if h["reachable"] == want_up {
                return list;
            }
            assert!(
                Instant::now() < deadline,
                "fragile never became reachable={want_up}: {list}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    wait_for(&s, true).await;
    drop(pg); // the server dies (immediate shutdown)
    let list = wait_for(&s, false).await;
    let h = latest(&list, "fragile").unwrap();
    assert_eq!(h["error_code"], "connection_refused", "{h}");
    assert_eq!(
        latest(&list, "demo").unwrap()["reachable"],
        true,
        "the other environment keeps being checked"
    );
    // Nothing about the environment was lost; its test names the cause.
    let (_, t) = s.call(json!({"op": "env_test", "name": "fragile"})).await;
    assert_eq!(t["data"]["endpoints"][0]["error"]["code"], "connection_refused", "{t}");
}
