-- Metric history: raw samples per environment, and their roll-ups (1-minute, 10-minute).

CREATE TABLE metric_samples (
    env    TEXT NOT NULL,
    metric TEXT NOT NULL,
    ts_ms  INTEGER NOT NULL,
    value  REAL NOT NULL,
    PRIMARY KEY (env, metric, ts_ms)
) WITHOUT ROWID;

CREATE TABLE metric_rollups (
    env     TEXT NOT NULL,
    metric  TEXT NOT NULL,
    step_ms INTEGER NOT NULL,
    ts_ms   INTEGER NOT NULL,
    avg     REAL NOT NULL,
    min     REAL NOT NULL,
    max     REAL NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (env, metric, step_ms, ts_ms)
) WITHOUT ROWID;
