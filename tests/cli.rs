//! The CLI door end to end: environments against the machine's real PostgreSQL, prod guards,
//! export/import, the audit log, and the errors a person reads when something is wrong.

mod common;
use common::*;

use std::process::Command;

#[test]
fn add_list_show_test_remove_against_real_postgres() {
    let d = DataDir::new();
    let out = d.run(&["env", "add", "local", "--kind", "dev", "--url", &local_pg()]);
    assert!(out.status.success(), "add: {}", stderr(&out));

    let (code, list) = d.json(&["env", "list"]);
    assert_eq!(code, 0);
    assert_eq!(list["kind"], "env_list");
    assert_eq!(list["data"][0]["env"]["name"], "local");
    assert_eq!(
        list["data"][0]["env"]["colour"], "#16a34a",
        "dev gets the dev colour by default"
    );

    let (code, report) = d.json(&["env", "test", "local"]);
    assert_eq!(code, 0, "{report}");
    let ep = &report["data"]["endpoints"][0];
    assert_eq!(ep["ok"], true, "{report}");
    assert!(ep["server_version"].as_str().unwrap().starts_with("15"), "{report}");
    assert_eq!(ep["standby"], false, "the machine's server is a primary");
    assert!(ep["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(
        ep["tls"].is_string(),
        "TLS in use is reported (a protocol or 'off'): {report}"
    );

    // The table view is for people: a header and the row.
    let out = d.run(&["env", "list"]);
    let text = stdout(&out);
    assert!(
        text.contains("NAME") && text.contains("local") && text.contains("ok"),
        "{text}"
    );

    let out = d.run(&["env", "remove", "local"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, list) = d.json(&["env", "list"]);
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
}

#[test]
fn empty_list_says_what_to_do() {
    let d = DataDir::new();
    let out = d.run(&["env", "list"]);
    assert!(stdout(&out).contains("No environments yet"), "{}", stdout(&out));
}

#[test]
fn prod_actions_need_the_typed_name() {
    let d = DataDir::new();
    assert!(
        d.run(&[
            "env",
            "add",
            "main-db",
            "--kind",
            "prod",
            "--url",
            &local_pg(),
            "--colour",
            "#00ff00"
        ])
        .status
        .success()
    );
    let (_, env) = d.json(&["env", "show", "main-db"]);
    assert_eq!(
        env["data"]["colour"], "#dc2626",
        "prod is red whatever colour was asked for"
    );

    let out = d.run(&["env", "update", "main-db", "--url", &local_pg_db("test")]);
    assert_eq!(out.status.code(), Some(1), "editing prod needs confirmation too");
    let out = d.run(&[
        "env",
        "update",
        "main-db",
        "--url",
        &local_pg_db("test"),
        "--confirm",
        "main-db",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, env) = d.json(&["env", "show", "main-db"]);
    assert!(
        env["data"]["primary"]["url"].as_str().unwrap().ends_with("/test"),
        "{env}"
    );

    let out = d.run(&["env", "remove", "main-db"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("needs confirmation") && err.contains("--confirm main-db"),
        "{err}"
    );

    let out = d.run(&["env", "remove", "main-db", "--confirm", "main"]);
    assert_eq!(out.status.code(), Some(1), "a partial name is not a confirmation");

    let (_, list) = d.json(&["env", "list"]);
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "nothing was removed by refused attempts"
    );

    let out = d.run(&["env", "remove", "main-db", "--confirm", "main-db"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Refusals are audited as such.
    let (_, audit) = d.json(&["audit", "list"]);
    let outcomes: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "env.remove")
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        vec!["ok", "started", "refused", "started", "refused", "started"],
        "newest first"
    );
}

#[test]
fn bad_input_is_refused_with_a_clear_error_and_nothing_is_written() {
    let d = DataDir::new();
    let out = d.run(&["env", "add", "x", "--url", "mysql://u:hunter2@h/db"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("not a database URL"), "{err}");
    assert!(!err.contains("hunter2"), "a password is never echoed: {err}");

    let out = d.run(&["env", "add", "bad name", "--url", &local_pg()]);
    assert!(stderr(&out).contains("not a valid environment name"));

    assert!(d.run(&["env", "add", "a", "--url", &local_pg()]).status.success());
    let out = d.run(&["env", "add", "a", "--url", &local_pg()]);
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));

    let (code, v) = d.json(&["env", "show", "nope"]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "not_found");
    assert!(v["error"]["hint"].as_str().unwrap().contains("env list"));
}

#[test]
fn connection_failures_are_named() {
    let d = DataDir::new();
    let refused = format!("postgres://postgres@127.0.0.1:{}/postgres", free_port());
    let (silent, _h) = silent_server();
    let hung = format!("postgres://postgres@127.0.0.1:{silent}/postgres");
    let nodb = local_pg_db("no_such_database");
    for (name, url, extra) in [
        ("refused", refused.as_str(), None),
        ("nohost", "postgres://postgres@no-such-host.invalid:5432/postgres", None),
        ("hung", hung.as_str(), Some("700")),
        ("nodb", nodb.as_str(), None),
        ("sqlite-missing", "sqlite:///nonexistent/dir/x.db", None),
    ] {
        let mut args = vec!["env", "add", name, "--url", url];
        if let Some(ms) = extra {
            args.extend(["--connect-timeout", ms]);
        }
        assert!(d.run(&args).status.success());
    }
    let expect = [
        ("refused", "connection_refused", "connection refused"),
        ("nohost", "unknown_host", "cannot be resolved"),
        ("hung", "timeout", "no answer from"),
        ("nodb", "not_found", "does not exist"),
        ("sqlite-missing", "not_found", "does not exist"),
    ];
    for (name, code, words) in expect {
        let (exit, r) = d.json(&["env", "test", name]);
        assert_eq!(exit, 1, "a failed test exits 1: {r}");
        let err = &r["data"]["endpoints"][0]["error"];
        assert_eq!(err["code"], code, "{name}: {r}");
        assert!(err["message"].as_str().unwrap().contains(words), "{name}: {r}");
        assert!(
            err["hint"].is_string() || name == "sqlite-missing" || name == "nodb",
            "{name} has a hint: {r}"
        );
    }
    // The audit log records the failure and its reason, not "ok".
    let (_, audit) = d.json(&["audit", "list", "--env", "refused", "--limit", "1"]);
    assert_eq!(audit["data"][0]["outcome"], "failed", "{audit}");
    assert!(
        audit["data"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("primary: connection refused"),
        "{audit}"
    );

    // The table view puts the reason on stderr for people.
    let out = d.run(&["env", "test", "refused"]);
    assert!(stderr(&out).contains("hint:"), "{}", stderr(&out));
}

#[test]
fn export_then_import_into_another_data_dir() {
    let a = DataDir::new();
    assert!(
        a.run(&[
            "env",
            "add",
            "local",
            "--url",
            &local_pg(),
            "--replica",
            "node2=postgres://postgres@127.0.0.1:5433/postgres"
        ])
        .status
        .success()
    );
    assert!(
        a.run(&[
            "env",
            "add",
            "shop",
            "--kind",
            "staging",
            "--url",
            "sqlite:///tmp/shop.db"
        ])
        .status
        .success()
    );
    let file = a.path().join("envs.toml");
    let out = a.run(&["env", "export", "--output", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("[env.local]") && text.contains("node2"), "{text}");

    let b = DataDir::new();
    let out = b.run(&["env", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, la) = a.json(&["env", "list"]);
    let (_, lb) = b.json(&["env", "list"]);
    assert_eq!(
        la["data"][0]["env"], lb["data"][0]["env"],
        "the same environment on both sides"
    );

    // A second import without --replace reports the clash and writes nothing.
    let out = b.run(&["env", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert!(
        b.run(&["env", "import", "--replace", file.to_str().unwrap()])
            .status
            .success()
    );
}

#[test]
fn malformed_import_reports_each_line_and_loses_nothing() {
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "keep", "--url", &local_pg()]).status.success());
    let file = d.path().join("bad.toml");
    std::fs::write(
        &file,
        "[env.keep]\nkind = \"dev\"\nurl = \"postgres://h/db\"\n[env.one]\nkind = \"dev\"\nurl = \"postgres://h/db\"\n\n[env.two]\nkind = \"dev\"\nurl = \"ftp://h/x\"\n\n[env.three]\nkind = \"dev\"\nurl = \"postgres://u:secret@h/db\"\ncolour = \"blue\"\n",
    )
    .unwrap();
    let out = d.run(&["env", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("line 1:") && err.contains("'keep' already exists"),
        "{err}"
    );
    assert!(err.contains("line 10:") && err.contains("ftp"), "{err}");
    assert!(err.contains("line 15:") && err.contains("blue"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    let (_, list) = d.json(&["env", "list"]);
    let names: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["env"]["name"].clone())
        .collect();
    assert_eq!(names, vec!["keep"], "the valid 'one' was not half-imported");

    std::fs::write(&file, "[env.x\nkind = 1").unwrap();
    let out = d.run(&["env", "import", file.to_str().unwrap()]);
    assert!(stderr(&out).contains("line 1:"), "{}", stderr(&out));
}

#[test]
fn audit_records_intent_and_outcome_and_verifies() {
    let d = DataDir::new();
    assert!(d.run(&["env", "add", "local", "--url", &local_pg()]).status.success());
    assert!(d.run(&["env", "test", "local"]).status.success());
    let (_, audit) = d.json(&["audit", "list"]);
    let recs = audit["data"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("env.test", "ok"),
            ("env.test", "started"),
            ("env.add", "ok"),
            ("env.add", "started")
        ]
    );
    assert_eq!(recs[0]["intent_id"], recs[1]["id"], "an outcome points at its intent");
    assert_eq!(recs[0]["source"], "cli");
    assert!(!recs[0]["actor"].as_str().unwrap().is_empty());

    let out = d.run(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("audit chain ok: 4 records"), "{}", stdout(&out));
}

#[test]
fn audit_verify_names_the_first_tampered_record() {
    let d = DataDir::new();
    for n in ["a", "b", "c"] {
        assert!(d.run(&["env", "add", n, "--url", &local_pg()]).status.success());
    }
    // Someone edits record 3 in the SQLite file directly.
    let db = d.path().join("store.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::raw_sql("DROP TRIGGER audit_no_update; UPDATE audit SET params = '{}' WHERE id = 3;")
            .execute(&mut c)
            .await
            .unwrap();
    });
    let out = d.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "a broken chain exits non-zero");
    let text = stdout(&out);
    assert!(text.contains("record 3") && text.contains("changed"), "{text}");
}

#[test]
fn malformed_store_is_a_clear_error() {
    let d = DataDir::new();
    std::fs::write(d.path().join("store.db"), b"this is not a database").unwrap();
    let out = d.run(&["env", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("store") && !err.contains("panicked"), "{err}");
}

#[test]
fn no_keychain_means_a_clear_error_and_nothing_stored() {
    let d = DataDir::new();
    let out = Command::new(bin())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", d.path())
        .arg("--data-dir")
        .arg(d.path())
        .args(["env", "add", "x", "--url", "postgres://app:pw-Zr9@127.0.0.1:5432/app"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("OS keychain") && err.contains("hint:"), "{err}");
    let (_, list) = d.json(&["env", "list"]);
    assert!(
        list["data"].as_array().unwrap().is_empty(),
        "no environment without its secret"
    );
    assert!(
        found_in_files(d.path(), "pw-Zr9").is_empty(),
        "the password did not fall back to disk"
    );
    let (_, audit) = d.json(&["audit", "list"]);
    assert_eq!(audit["data"][0]["outcome"], "error", "the failure is audited");
    assert_ne!(audit["data"][0]["actor"], "unknown");
}

#[test]
fn redis_endpoint_is_tested_with_the_environment() {
    let d = DataDir::new();
    let dead = format!("redis://127.0.0.1:{}", free_port());
    assert!(
        d.run(&[
            "env",
            "add",
            "cache",
            "--url",
            &local_pg(),
            "--redis",
            "redis://127.0.0.1:6379/0"
        ])
        .status
        .success()
    );
    assert!(
        d.run(&["env", "add", "nocache", "--url", &local_pg(), "--redis", &dead])
            .status
            .success()
    );
    let (code, r) = d.json(&["env", "test", "cache"]);
    assert_eq!(code, 0, "{r}");
    let redis = &r["data"]["endpoints"][1];
    assert_eq!(redis["role"], "redis");
    assert!(redis["server_version"].as_str().unwrap().starts_with("Redis "), "{r}");
    let (code, r) = d.json(&["env", "test", "nocache"]);
    assert_eq!(code, 1, "one failing endpoint fails the test: {r}");
    assert_eq!(
        r["data"]["endpoints"][0]["ok"], true,
        "the primary is still reported fine"
    );
    assert_eq!(r["data"]["endpoints"][1]["error"]["code"], "connection_refused");
}
