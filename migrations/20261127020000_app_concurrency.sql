-- Observed concurrency per application (PostgreSQL): active and total sessions at each
-- collection, the input of pool-size advice. Kept as long as raw metrics.
CREATE TABLE app_sessions (
    env    TEXT NOT NULL,
    app    TEXT NOT NULL,
    ts_ms  INTEGER NOT NULL,
    active INTEGER NOT NULL,
    total  INTEGER NOT NULL,
    PRIMARY KEY (env, app, ts_ms)
) WITHOUT ROWID;
