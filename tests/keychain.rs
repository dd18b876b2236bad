//! Secrets through the real OS keychain (Secret Service via D-Bus, gnome-keyring in CI) against
//! a real PostgreSQL cluster with SCRAM authentication that the test starts itself.

mod common;
use common::*;

fn keychain_account(d: &DataDir, env: &str, role: &str) -> String {
    let (_, v) = d.json(&["env", "secrets", env]);
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["role"] == role)
        .unwrap_or_else(|| panic!("no secret for {role}: {v}"))["account"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn password_goes_to_the_keychain_and_nowhere_else() {
    require_keychain();
    let canary = "canary-Kx81-Pq7z-unique";
    let pg = PgCluster::start(canary);
    let d = DataDir::new();
    let out = d.run_stdin(
        &[
            "env",
            "add",
            "scram",
            "--kind",
            "staging",
            "--url",
            &pg.url(),
            "--password-stdin",
        ],
        Some(canary),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let (code, r) = d.json(&["env", "test", "scram"]);
    assert_eq!(code, 0, "the keychain password opens the cluster: {r}");
    assert_eq!(
        r["data"]["endpoints"][0]["tls"], "off",
        "this cluster has no TLS and says so"
    );

    let (_, secrets) = d.json(&["env", "secrets", "scram"]);
    assert_eq!(secrets["data"][0]["stored"], true, "{secrets}");

    let (_, env) = d.json(&["env", "show", "scram"]);
    assert!(
        env["data"]["primary"]["secret"].is_string(),
        "the store keeps a reference: {env}"
    );
    let export = stdout(&d.run(&["env", "export"]));
    assert!(export.contains("keychain = [\"primary\"]"), "{export}");

    let hits = found_in_files(d.path(), canary);
    assert!(hits.is_empty(), "the password leaked into {hits:?}");
    assert!(!export.contains(canary));

    // Removing the environment removes its keychain entry too.
    let account = keychain_account(&d, "scram", "primary");
    assert!(d.run(&["env", "remove", "scram"]).status.success());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let left = rt
        .block_on(dbdeck::secrets::Keychain::new("dbdeck").get(&account))
        .unwrap();
    assert!(left.is_none(), "the keychain entry was deleted with the environment");
}

#[test]
fn password_in_a_url_is_moved_to_the_keychain() {
    require_keychain();
    let pw = "url-pass-3vQ9";
    let pg = PgCluster::start(pw);
    let d = DataDir::new();
    let url = format!("postgres://postgres:{pw}@127.0.0.1:{}/postgres", pg.port);
    let out = d.run(&["env", "add", "inurl", "--url", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, env) = d.json(&["env", "show", "inurl"]);
    assert_eq!(
        env["data"]["primary"]["url"],
        pg.url(),
        "the stored URL has no password"
    );
    let (code, r) = d.json(&["env", "test", "inurl"]);
    assert_eq!(code, 0, "{r}");
    assert!(found_in_files(d.path(), pw).is_empty());
}

#[test]
fn wrong_password_missing_entry_and_tls_failure_are_named() {
    require_keychain();
    let pg = PgCluster::start("right-password");
    let d = DataDir::new();
    let out = d.run_stdin(
        &["env", "add", "wrong", "--url", &pg.url(), "--password-stdin"],
        Some("wrong-password"),
    );
    assert!(out.status.success());
    let (code, r) = d.json(&["env", "test", "wrong"]);
    assert_eq!(code, 1);
    let err = &r["data"]["endpoints"][0]["error"];
    assert_eq!(err["code"], "auth_failed", "{r}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("password authentication failed"),
        "{r}"
    );
    assert!(err["hint"].as_str().unwrap().contains("set-password"), "{r}");

    // Fix it the way the hint says; the environment works again.
    let out = d.run_stdin(
        &["env", "set-password", "wrong", "--password-stdin"],
        Some("right-password"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(d.json(&["env", "test", "wrong"]).0, 0);

    // Someone deletes the keychain entry behind dbdeck's back.
    let account = keychain_account(&d, "wrong", "primary");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(dbdeck::secrets::Keychain::new("dbdeck").delete(&account))
        .unwrap();
    let (code, r) = d.json(&["env", "test", "wrong"]);
    assert_eq!(code, 1);
    let err = &r["data"]["endpoints"][0]["error"];
    assert_eq!(err["code"], "secret_missing", "{r}");
    assert!(
        err["hint"].as_str().unwrap().contains("dbdeck env set-password wrong"),
        "{r}"
    );
    let (_, s) = d.json(&["env", "secrets", "wrong"]);
    assert_eq!(s["data"][0]["stored"], false);

    // TLS required by the client but not offered by the server.
    let out = d.run_stdin(
        &[
            "env",
            "add",
            "tls",
            "--url",
            &format!("{}?sslmode=require", pg.url()),
            "--password-stdin",
        ],
        Some("right-password"),
    );
    assert!(out.status.success());
    let (_, r) = d.json(&["env", "test", "tls"]);
    let err = &r["data"]["endpoints"][0]["error"];
    assert_eq!(err["code"], "tls_failed", "{r}");
    assert!(err["hint"].is_string());
}

#[test]
fn prod_password_change_needs_confirmation() {
    require_keychain();
    let d = DataDir::new();
    assert!(
        d.run(&["env", "add", "p", "--kind", "prod", "--url", &local_pg()])
            .status
            .success()
    );
    let out = d.run_stdin(&["env", "set-password", "p", "--password-stdin"], Some("x"));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("needs confirmation"), "{}", stderr(&out));
    let out = d.run_stdin(
        &["env", "set-password", "p", "--password-stdin", "--confirm", "p"],
        Some("x"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(d.run(&["env", "remove", "p", "--confirm", "p"]).status.success());
}
