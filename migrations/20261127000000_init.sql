-- dbdeck's local store: environments, health history and the audit chain.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- One row per environment; `doc` is the Environment as JSON (never a secret).
CREATE TABLE environments (
    name       TEXT PRIMARY KEY NOT NULL,
    doc        TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);

CREATE TABLE health_samples (
    id             INTEGER PRIMARY KEY,
    env            TEXT NOT NULL,
    ts_ms          INTEGER NOT NULL,
    reachable      INTEGER NOT NULL,
    latency_ms     REAL,
    role           TEXT,
    server_version TEXT,
    error_code     TEXT,
    error          TEXT
);
CREATE INDEX health_samples_env_ts ON health_samples (env, ts_ms);

-- Append-only, hash-chained. AUTOINCREMENT keeps ids from being reused, so a removed tail
-- still shows in sqlite_sequence.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ts        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    source    TEXT NOT NULL,
    env       TEXT,
    action    TEXT NOT NULL,
    params    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    detail    TEXT,
    intent_id INTEGER,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_env ON audit (env, id);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
