//! Migrations against real PostgreSQL clusters the tests start (and SQLite): every folder
//! layout, the history tables their tools keep (checked with sqlx-cli itself), failures
//! halfway, a CREATE INDEX CONCURRENTLY that fails, lock-timeout retries, two runs at once,
//! tampered files, the rollback test, prod confirmation, drift, and lint against a live target.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// Writes `files` (relative path, bytes) into a new temporary folder.
fn folder(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let d = tempfile::Builder::new().prefix("dbdeck-migrations-").tempdir().unwrap();
    for (name, body) in files {
        let p = d.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    d
}

fn dir(d: &tempfile::TempDir) -> &str {
    d.path().to_str().unwrap()
}

fn setup(kind: &str) -> (PgCluster, DataDir) {
    let pg = PgCluster::trust(&[]);
    let d = DataDir::new();
    let out = d.run(&["env", "add", "db", "--kind", kind, "--url", &pg.url()]);
    assert!(out.status.success(), "{}", stderr(&out));
    (pg, d)
}

fn states(v: &Value) -> Vec<(String, String)> {
    v["data"]["status"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["version"].as_str().unwrap_or("R").to_string(),
                e["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn st(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// sqlx-cli, installed by scripts/setup (`cargo install sqlx-cli`).
fn sqlx_cli() -> PathBuf {
    let candidates = [
        std::env::var_os("DBDECK_SQLX_CLI").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin/sqlx")),
        Some(PathBuf::from("/var/tmp/sqlx-cli/bin/sqlx")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.exists())
        .expect("sqlx-cli is not installed: run scripts/setup (cargo install sqlx-cli)")
}

const SQLX: &[(&str, &[u8])] = &[
    (
        "20260101000000_create_accounts.up.sql",
        b"CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);\n",
    ),
    ("20260101000000_create_accounts.down.sql", b"DROP TABLE accounts;\n"),
    // Written on Windows: CRLF line endings and a byte-order mark.
    (
        "20260102000000_add_names.up.sql",
        b"\xEF\xBB\xBFALTER TABLE accounts ADD COLUMN name text;\r\nCOMMENT ON COLUMN accounts.name IS 'display name';\r\n",
    ),
    ("20260102000000_add_names.down.sql", b"ALTER TABLE accounts DROP COLUMN name;\r\n"),
    (
        "20260103000000_index_emails.up.sql",
        b"-- no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY accounts_email ON accounts (email);\n",
    ),
    ("20260103000000_index_emails.down.sql", b"DROP INDEX accounts_email;\n"),
];

#[test]
fn sqlx_folder_applies_and_sqlx_cli_agrees() {
    let (pg, d) = setup("dev");
    let m = folder(SQLX);
    let (code, v) = d.json(&["migrate", "status", "--env", "db", "--dir", dir(&m)]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["format"], "sqlx");
    assert_eq!(v["data"]["status"]["pending"], 3);

    // A dry run: the third runs outside a transaction, so it is tried on a scratch copy of the
    // schema; the target is untouched and the scratch database is gone.
    let (code, v) = d.json(&["migrate", "apply", "--env", "db", "--dir", dir(&m), "--dry-run"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["kind"], "dry_run");
    let outcomes: Vec<&str> = v["data"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["dry_run_ok"; 3]);
    assert!(
        v["data"]["verify"][0]
            .as_str()
            .unwrap()
            .contains("tried on scratch database dbdeck_scratch_"),
        "{v}"
    );
    assert_eq!(
        pg.psql("SELECT to_regclass('_sqlx_migrations') IS NULL, to_regclass('accounts') IS NULL")
            .trim(),
        "t|t"
    );
    assert_eq!(
        pg.psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'dbdeck_scratch_%'")
            .trim(),
        "0"
    );

    // dbdeck applies the first two; sqlx-cli sees them as installed and applies the third.
    let out = d.run(&[
        "migrate",
        "apply",
        "--env",
        "db",
        "--dir",
        dir(&m),
        "--target",
        "20260102000000",
    ]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("[1/2] 20260101000000 create accounts"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("verify ok: 20260102000000 (add names) is recorded in _sqlx_migrations"));
    assert!(
        stdout(&out).contains("verify ok: the schema has what the migrations made: accounts"),
        "{}",
        stdout(&out)
    );

    let sqlx = sqlx_cli();
    let info = Command::new(&sqlx)
        .args(["migrate", "info", "--source", dir(&m), "--database-url", &pg.url()])
        .output()
        .unwrap();
    let info_text = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.status.success(),
        "{info_text}{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let installed = info_text.lines().filter(|l| l.contains("installed")).count();
    let pending = info_text.lines().filter(|l| l.contains("pending")).count();
    assert_eq!((installed, pending), (2, 1), "sqlx migrate info:\n{info_text}");
    assert!(!info_text.contains("different checksum"), "{info_text}");
    let run = Command::new(&sqlx)
        .args(["migrate", "run", "--source", dir(&m), "--database-url", &pg.url()])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "sqlx migrate run: {}",
        String::from_utf8_lossy(&run.stderr)
    );

    // And dbdeck agrees with what sqlx-cli wrote.
    let (_, v) = d.json(&["migrate", "status", "--env", "db", "--dir", dir(&m)]);
    assert_eq!(
        states(&v),
        st(&[
            ("20260101000000", "applied"),
            ("20260102000000", "applied"),
            ("20260103000000", "applied")
        ])
    );
    assert_eq!(
        pg.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email'::regclass")
            .trim(),
        "t"
    );

    // Roll the newest two back; sqlx-cli sees them pending again.
    let out = d.run(&["migrate", "rollback", "--env", "db", "--dir", dir(&m), "--steps", "2"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(pg.psql("SELECT count(*) FROM _sqlx_migrations").trim(), "1");
    let info = Command::new(&sqlx)
        .args(["migrate", "info", "--source", dir(&m), "--database-url", &pg.url()])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&info.stdout)
            .lines()
            .filter(|l| l.contains("pending"))
            .count(),
        2
    );

    // Every run is in the audit log, before and after.
    let (_, audit) = d.json(&["audit", "list", "--env", "db"]);
    let actions: Vec<String> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r["action"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    for a in [
        "migrate.apply started",
        "migrate.apply ok",
        "migrate.rollback started",
        "migrate.rollback ok",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
}

#[test]
fn flyway_folder_keeps_flyway_history_with_undo_and_repeatables() {
    let (pg, d) = setup("dev");
    let m = folder(&[
        (
            "V1__init.sql",
            b"CREATE TABLE items (id bigint PRIMARY KEY, name text);\n",
        ),
        ("V1.1__add_price.sql", b"ALTER TABLE items ADD COLUMN price numeric;\n"),
        ("U1.1__add_price.sql", b"ALTER TABLE items DROP COLUMN price;\n"),
        (
            "R__item_view.sql",
            b"CREATE OR REPLACE VIEW item_names AS SELECT name FROM items;\n",
        ),
    ]);
    let out = d.run(&["migrate", "apply", "--env", "db", "--dir", dir(&m)]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let rows = pg.psql(
        "SELECT installed_rank, coalesce(version, '-'), description, type, script, success FROM flyway_schema_history ORDER BY 1",
    );
    assert_eq!(
        rows.trim(),
        "1|1|init|SQL|V1__init.sql|t\n2|1.1|add price|SQL|V1.1__add_price.sql|t\n3|-|item view|SQL|R__item_view.sql|t"
    );
    // Flyway's checksum: CRC-32 of the lines, signed.
    let crc = pg.psql("SELECT checksum FROM flyway_schema_history WHERE version = '1'");
    let want = dbdeck::migrate::source::flyway_crc32("CREATE TABLE items (id bigint PRIMARY KEY, name text);\n");
    assert_eq!(crc.trim(), want.to_string());

    // Alembic's head is shown, never changed.
    pg.psql("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('ae1027a6acf')");
    let (_, v) = d.json(&["migrate", "status", "--env", "db", "--dir", dir(&m)]);
    assert_eq!(v["data"]["status"]["alembic_head"][0], "ae1027a6acf");

    // Undo writes UNDO_SQL and makes 1.1 pending again.
    let out = d.run(&["migrate", "rollback", "--env", "db", "--dir", dir(&m)]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let (_, v) = d.json(&["migrate", "status", "--env", "db", "--dir", dir(&m)]);
    assert_eq!(states(&v), st(&[("1", "applied"), ("1.1", "undone"), ("R", "applied")]));
    assert!(
        pg.psql("SELECT type FROM flyway_schema_history ORDER BY installed_rank DESC LIMIT 1")
            .contains("UNDO_SQL")
    );

    // A changed repeatable is outdated and applied again, after the versioned ones.
    std::fs::write(
        m.path().join("R__item_view.sql"),
        "CREATE OR REPLACE VIEW item_names AS SELECT name, id FROM items;\n",
    )
    .unwrap();
    let (_, v) = d.json(&["migrate", "status", "--env", "db", "--dir", dir(&m)]);
    assert_eq!(
        states(&v),
        st(&[("1", "applied"), ("1.1", "undone"), ("R", "outdated")])
    );
    let (code, v) = d.json(&["migrate", "apply", "--env", "db", "--dir", dir(&m)]);
    assert_eq!(code, 0, "{v}");
    let done: Vec<&str> = v["data"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    assert_eq!(done, ["V1.1__add_price.sql", "R__item_view.sql"]);
    assert_eq!(
        pg.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'item_names'")
            .trim(),
        "2"
    );
}

#[test]
fn plain_folder_and_the_rollback_test() {
    let (_pg, d) = setup("dev");
    let good = folder(&[
        (
            "up/001_users.sql",
            b"CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
        ),
        ("down/001_users.sql", b"DROP TABLE users;\n"),
        (
            "up/002_email_index.sql",
            b"CREATE INDEX users_email ON users (email);\n",
        ),
        ("down/002_email_index.sql", b"DROP INDEX users_email;\n"),
    ]);
    let (code, v) = d.json(&["migrate", "test-rollback", "--env", "db", "--dir", dir(&good)]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["ok"], true);
    let phases: Vec<&str> = v["data"]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases,
        [
            "apply all",
            "dump the schema",
            "roll back all 2, newest first",
            "apply all again",
            "compare the dumps"
        ]
    );
    // The scratch database is gone, and the target was never touched.
    let (_, v) = d.json(&["migrate", "status", "--env", "db", "--dir", dir(&good)]);
    assert_eq!(v["data"]["status"]["pending"], 2);
    assert_eq!(v["data"]["format"], "plain");

    // A down script that forgets something: the dumps differ and the test says where.
    let leaky = folder(&[
        (
            "up/001_users.sql",
            b"CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
        ),
        ("down/001_users.sql", b"DROP TABLE users;\n"),
        (
            "up/002_extra.sql",
            b"ALTER TABLE users ADD COLUMN nick text;\nCREATE TABLE audit_trail (id bigint);\n",
        ),
        ("down/002_extra.sql", b"ALTER TABLE users DROP COLUMN nick;\n"),
    ]);
    let (code, v) = d.json(&["migrate", "test-rollback", "--env", "db", "--dir", dir(&leaky)]);
    assert_eq!(code, 1, "{v}");
    let last = v["data"]["phases"].as_array().unwrap().last().unwrap().clone();
    assert!(last["name"] == "apply all again" && last["ok"] == false, "{v}");
    assert!(last["detail"].as_str().unwrap().contains("already exists"), "{last}");

    // A missing down script fails the test and is named.
    let no_down = folder(&[
        ("001-users.up.sql", b"CREATE TABLE users (id bigint);\n"),
        ("001-users.down.sql", b"DROP TABLE users;\n"),
        ("002-more.up.sql", b"CREATE TABLE more (id bigint);\n"),
    ]);
    let (code, v) = d.json(&["migrate", "test-rollback", "--env", "db", "--dir", dir(&no_down)]);
    assert_eq!(code, 1);
    assert_eq!(v["data"]["missing_down"][0], "2 more");
}

#[test]
fn a_migration_failing_halfway_is_rolled_back_and_placed() {
    let (pg, d) = setup("dev");
    let m = folder(&[
        ("1_base.sql", b"CREATE TABLE t (id bigint PRIMARY KEY);\n"),
        (
            "2_broken.sql",
            b"CREATE TABLE t2 (id bigint);\n\\echo psql would print this\nINSERT INTO t2 VALUES (1);\nINSERT INTO missing_table\n  SELECT * FROM t;\n",
        ),
        ("3_after.sql", b"CREATE TABLE t3 (id bigint);\n"),
        ("4_latin1.sql", b"SELECT 'caf\xe9';\n"),
    ]);
    let (code, v) = d.json(&["migrate", "status", "--env", "db", "--dir", dir(&m)]);
    assert_eq!(code, 0);
    let problem = &v["data"]["problems"][0];
    assert_eq!(problem["path"], "4_latin1.sql");
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .starts_with("not UTF-8: byte 0xE9 at line 1, column 12"),
        "{problem}"
    );

    let out = d.run(&["migrate", "apply", "--env", "db", "--dir", dir(&m)]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "error: 2_broken.sql:4:13: statement 3: relation \"missing_table\" does not exist (SQLSTATE 42P01)"
        ),
        "{text}"
    );
    assert!(
        text.contains("state: rolled back: nothing of this migration remains"),
        "{text}"
    );
    assert!(
        text.contains("verify ok: 2 (broken) failed and has no history row"),
        "{text}"
    );
    // Migration 1 stays; nothing of 2 remains; 3 never ran.
    assert_eq!(pg.psql("SELECT version FROM _sqlx_migrations").trim(), "1");
    assert_eq!(
        pg.psql("SELECT to_regclass('t2') IS NULL, to_regclass('t3') IS NULL")
            .trim(),
        "t|t"
    );
    let (_, v) = d.json(&["migrate", "status", "--env", "db", "--dir", dir(&m)]);
    assert_eq!(states(&v), st(&[("1", "applied"), ("2", "pending"), ("3", "pending")]));
}

#[test]
fn a_failed_concurrent_index_is_found_with_its_cleanup() {
    let (pg, d) = setup("dev");
    pg.psql("CREATE TABLE people (id bigint, email text); INSERT INTO people VALUES (1, 'a@x'), (2, 'a@x');");
    let m = folder(&[(
        "1_unique_email.sql",
        b"-- no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY people_email ON people (email);\n",
    )]);
    let (code, v) = d.json(&["migrate", "apply", "--env", "db", "--dir", dir(&m)]);
    assert_eq!(code, 1, "{v}");
    let step = &v["data"]["steps"][0];
    assert_eq!(step["transactional"], false);
    assert!(
        step["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("could not create unique index"),
        "{step}"
    );
    assert_eq!(step["left_behind"][0]["index"], "people_email");
    assert_eq!(
        step["left_behind"][0]["cleanup_sql"],
        "DROP INDEX CONCURRENTLY IF EXISTS people_email;"
    );
    assert_eq!(
        pg.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'people_email'::regclass")
            .trim(),
        "f"
    );
    assert_eq!(pg.psql("SELECT count(*) FROM _sqlx_migrations").trim(), "0");
}

/// Another session holding `lock` (a LOCK TABLE) in an open transaction, until dropped.
fn hold(pg: &PgCluster, lock: &str) -> HeldSession {
    let held = HeldSession::open(pg, "lock-holder", &format!("BEGIN; {lock};"));
    wait_until("the other session to hold its lock", 10, || {
        pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lock-holder' AND state = 'idle in transaction'")
            .trim()
            == "1"
    });
    held
}

#[test]
fn lock_timeouts_are_retried_with_back_off() {
    let (pg, d) = setup("dev");
    pg.psql("CREATE TABLE busy (id bigint);");
    let m = folder(&[("1_alter_busy.sql", b"ALTER TABLE busy ADD COLUMN note text;\n")]);

    // No retries: the lock timeout fails the migration and changes nothing.
    let holder = hold(&pg, "LOCK TABLE busy IN ACCESS SHARE MODE");
    let (code, v) = d.json(&[
        "migrate",
        "apply",
        "--env",
        "db",
        "--dir",
        dir(&m),
        "--lock-timeout",
        "100",
        "--retries",
        "0",
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["data"]["steps"][0]["failure"]["sqlstate"], "55P03");
    assert_eq!(
        pg.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'busy'")
            .trim(),
        "1"
    );
    drop(holder);

    // With retries it waits the holder out (1 s, 2 s, 4 s back-off) and applies.
    let holder = hold(&pg, "LOCK TABLE busy IN ACCESS SHARE MODE");
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        drop(holder);
    });
    let out = d.run(&[
        "migrate",
        "apply",
        "--env",
        "db",
        "--dir",
        dir(&m),
        "--lock-timeout",
        "100",
        "--retries",
        "5",
    ]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("canceling statement due to lock timeout; retrying in"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("(attempt 2)"), "{}", stderr(&out));
    release.join().unwrap();
    assert_eq!(
        pg.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'busy'")
            .trim(),
        "2"
    );
}

#[test]
fn two_runs_at_once_never_apply_twice() {
    let (pg, d) = setup("dev");
    let m = folder(&[
        ("1_slow.sql", b"CREATE TABLE slow (id bigint);\nSELECT pg_sleep(2);\n"),
        ("2_next.sql", b"CREATE TABLE next (id bigint);\n"),
    ]);
    // Someone else holds the migration lock (the one sqlx-cli takes too).
    let id = dbdeck::migrate::run::lock_id("postgres");
    let holder = HeldSession::open(&pg, "other-deployer", &format!("SELECT pg_advisory_lock({id});"));
    wait_until("the advisory lock", 10, || {
        pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            .trim()
            == "1"
    });
    let (code, v) = d.json(&["migrate", "apply", "--env", "db", "--dir", dir(&m)]);
    assert_ne!(code, 0);
    assert_eq!(v["error"]["code"], "conflict", "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("another migration run holds the migration lock") && msg.contains("'other-deployer'"),
        "{msg}"
    );
    drop(holder);

    // Two dbdeck processes at once: one applies, the other is turned away; each version once.
    let spawn = || {
        Command::new(bin())
            .arg("--data-dir")
            .arg(d.path())
            .args(["--format", "json", "migrate", "apply", "--env", "db", "--dir", dir(&m)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let ok = [&a, &b].iter().filter(|o| o.status.success()).count();
    assert!(ok >= 1, "{}\n{}", stdout(&a), stdout(&b));
    assert_eq!(
        pg.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM _sqlx_migrations")
            .trim(),
        "1,2"
    );
}

#[test]
fn a_tampered_file_blocks_until_repaired_and_prod_needs_its_name() {
    let (pg, d) = setup("prod");
    let m = folder(&[
        ("1_a.sql", b"CREATE TABLE a (id bigint);\n"),
        ("2_b.sql", b"CREATE TABLE b (id bigint);\n"),
    ]);
    // Prod: nothing happens without the typed name.
    let (code, v) = d.json(&["migrate", "apply", "--env", "db", "--dir", dir(&m)]);
    assert_ne!(code, 0);
    assert_eq!(v["error"]["code"], "confirmation_required");
    assert_eq!(pg.psql("SELECT to_regclass('_sqlx_migrations') IS NULL").trim(), "t");
    let (code, _) = d.json(&[
        "migrate",
        "apply",
        "--env",
        "db",
        "--dir",
        dir(&m),
        "--target",
        "1",
        "--confirm",
        "db",
    ]);
    assert_eq!(code, 0);

    std::fs::write(m.path().join("1_a.sql"), "CREATE TABLE a (id bigint, extra text);\n").unwrap();
    let out = d.run(&["migrate", "status", "--env", "db", "--dir", dir(&m)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("blocked: 1 (a) was applied with checksum"),
        "{}",
        stdout(&out)
    );
    let (code, v) = d.json(&["migrate", "apply", "--env", "db", "--dir", dir(&m), "--confirm", "db"]);
    assert_ne!(code, 0);
    assert_eq!(v["error"]["code"], "conflict");
    assert_eq!(
        pg.psql("SELECT to_regclass('b') IS NULL").trim(),
        "t",
        "nothing applied while modified"
    );

    let (code, v) = d.json(&["migrate", "repair", "--env", "db", "--dir", dir(&m), "--version", "1"]);
    assert_ne!(code, 0);
    assert_eq!(v["error"]["code"], "confirmation_required");
    let (code, v) = d.json(&[
        "migrate",
        "repair",
        "--env",
        "db",
        "--dir",
        dir(&m),
        "--version",
        "1",
        "--confirm",
        "db",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(states(&v), st(&[("1", "applied"), ("2", "pending")]));
    let (_, audit) = d.json(&["audit", "list", "--env", "db"]);
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "migrate.repair" && r["outcome"] == "ok")
    );
}

#[test]
fn drift_across_environments() {
    let pg = PgCluster::trust(&[]);
    pg.psql("CREATE DATABASE staging");
    pg.psql("CREATE DATABASE dev");
    let d = DataDir::new();
    let url = |db: &str| format!("{}/{db}", pg.url().rsplit_once('/').unwrap().0);
    assert!(d.run(&["env", "add", "dev", "--url", &url("dev")]).status.success());
    assert!(
        d.run(&["env", "add", "staging", "--kind", "staging", "--url", &url("staging")])
            .status
            .success()
    );
    assert!(
        d.run(&["env", "add", "gone", "--url", "postgres://postgres@127.0.0.1:1/x"])
            .status
            .success()
    );
    let m = folder(&[
        ("1_a.sql", b"CREATE TABLE a (id bigint);\n"),
        ("2_b.sql", b"CREATE TABLE b (id bigint);\n"),
        ("3_c.sql", b"CREATE TABLE c (id bigint);\n"),
    ]);
    assert!(
        d.run(&["migrate", "apply", "--env", "dev", "--dir", dir(&m)])
            .status
            .success()
    );
    assert!(
        d.run(&[
            "migrate",
            "apply",
            "--env",
            "staging",
            "--dir",
            dir(&m),
            "--target",
            "1"
        ])
        .status
        .success()
    );
    let (code, v) = d.json(&["migrate", "drift", "--dir", dir(&m)]);
    assert_eq!(code, 0, "{v}");
    let verdicts: Vec<(String, String)> = v["data"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["env"].as_str().unwrap().into(), c["verdict"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("dev".into(), "up to date".into()),
            ("gone".into(), "unreachable".into()),
            ("staging".into(), "behind by 2".into())
        ]
    );
    let row2: Vec<&str> = v["data"]["rows"][1]["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(row2, ["applied", "?", "pending"]);
}

#[test]
fn lint_reads_files_and_weighs_the_live_target() {
    let (pg, d) = setup("dev");
    pg.psql(
        "CREATE TABLE empty_t (id bigint); CREATE TABLE big_t (id bigint); \
         INSERT INTO big_t SELECT generate_series(1, 200000); ANALYZE;",
    );
    let m = folder(&[(
        "x.sql",
        b"\\set ON_ERROR_STOP on\nALTER TABLE empty_t ALTER COLUMN id SET NOT NULL;\nALTER TABLE big_t ALTER COLUMN id SET NOT NULL;\n",
    )]);
    let file = m.path().join("x.sql");
    // Without a target: warnings, exit 1 at the default threshold, 0 at "error".
    let out = d.run(&["lint", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("x.sql:1: note: `\\set ON_ERROR_STOP on`: a psql meta-command, skipped"));
    assert_eq!(
        d.run(&["lint", "--severity", "error", file.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );

    // Against the live target: the empty table's scan takes moments; the big one's is named
    // with its size. (Sessions holding locks are weighed in the unit tests: a transaction must
    // be 30 s old to count.)
    let (code, v) = d.json(&["lint", "--env", "db", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    let findings = v[0]["findings"].as_array().unwrap();
    let by = |t: &str| {
        findings
            .iter()
            .find(|f| f["table"] == t && f["rule"] == "set-not-null")
            .unwrap()
    };
    assert_eq!(by("empty_t")["severity"], "info", "{}", by("empty_t"));
    assert!(by("empty_t")["context"].as_str().unwrap().contains("takes moments"));
    let big = by("big_t");
    assert_eq!(
        big["severity"], "warning",
        "200,000 rows: neither small nor an outage by size ({big})"
    );
    assert!(big["context"].as_str().unwrap().contains("about 200,000 rows"), "{big}");
}

#[test]
fn sqlite_environments_migrate_too() {
    let d = DataDir::new();
    let db = d.path().join("app.db");
    std::fs::File::create(&db).unwrap(); // an empty file is an empty SQLite database
    let url = format!("sqlite://{}", db.display());
    assert!(d.run(&["env", "add", "lite", "--url", &url]).status.success());
    let m = folder(&[
        (
            "1_notes.up.sql",
            b"CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n",
        ),
        ("1_notes.down.sql", b"DROP TABLE notes;\n"),
        (
            "2_bad.up.sql",
            b"CREATE TABLE more (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
        ),
        ("2_bad.down.sql", b"DROP TABLE more;\n"),
    ]);
    let (code, v) = d.json(&["migrate", "apply", "--env", "lite", "--dir", dir(&m)]);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["data"]["steps"][1]["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("no such table: nowhere"),
        "{v}"
    );
    let (_, v) = d.json(&["migrate", "status", "--env", "lite", "--dir", dir(&m)]);
    assert_eq!(states(&v), st(&[("1", "applied"), ("2", "pending")]));
    let (code, _) = d.json(&["migrate", "rollback", "--env", "lite", "--dir", dir(&m)]);
    assert_eq!(code, 0);
    let (_, v) = d.json(&["migrate", "status", "--env", "lite", "--dir", dir(&m)]);
    assert_eq!(v["data"]["status"]["pending"], 2);
}
