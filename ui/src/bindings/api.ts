// Generated from dbdeck's Rust API types by ts-rs (src/api/bindings.rs). Do not edit.
// Regenerate: DBDECK_UPDATE_BINDINGS=1 cargo test -p dbdeck --lib bindings

export type Request = { "op": "app_info" } | { "op": "env_list" } | { "op": "env_get", name: string, } | { "op": "env_add", env: EnvInput, password?: string, } | { "op": "env_update", name: string, env: EnvInput, password?: string, confirm?: string, } | { "op": "env_remove", name: string, confirm?: string, } | { "op": "env_test", name: string, } | { "op": "env_set_password", name: string, role: string, password: string, confirm?: string, } | { "op": "env_secrets", name: string, } | { "op": "env_export" } | { "op": "env_import", toml: string, 
/**
 * Replace environments that already exist (default: report them as problems).
 */
replace: boolean, } | { "op": "health_history", name: string, minutes: number, } | { "op": "chart_latency", name?: string, minutes: number, 
/**
 * Pixel size to draw at (default 860 × 260), so text stays readable when the page scales it.
 */
width?: number, height?: number, 
/**
 * Also rasterise the chart to PNG (for export), returned as base64.
 */
png?: boolean, } | { "op": "snapshot", name: string, } | { "op": "pools", name?: string, } | { "op": "pool_settings", name: string, format: string, } | { "op": "session_signal", name: string, pid: number, terminate: boolean, confirm?: string, } | { "op": "redis_stats", name: string, } | { "op": "pgbouncer", name: string, } | { "op": "pgbouncer_command", name: string, command: PgBouncerCommand, database?: string, confirm?: string, } | { "op": "bench", name: string, mode: BenchMode, clients: number, seconds: number, confirm?: string, } | { "op": "pool_advice", name: string, instances: number, hours?: number, } | { "op": "metric_list" } | { "op": "history", name: string, metric: Metric, minutes: number, points?: number, } | { "op": "chart_metric", name?: string, metric: Metric, minutes: number, width?: number, height?: number, 
/**
 * Also rasterise the chart to PNG (for export), returned as base64.
 */
png?: boolean, } | { "op": "explain", name: string, sql: string, options: ExplainOptions, 
/**
 * Values for `$1…$n`, in order (servers before PostgreSQL 16, or with ANALYZE).
 */
params?: Array<string>, 
/**
 * statement_timeout for the run (default 30 s).
 */
timeout_s?: number, confirm?: string, 
/**
 * Send the nodes as a table (`node_table`): a fraction of the size for big plans.
 */
compact?: boolean, } | { "op": "plan_analyze", text: string, 
/**
 * Send the nodes as a table (`node_table`).
 */
compact?: boolean, } | { "op": "plan_compare", a: string, b: string, } | { "op": "plan_html", text: string, title?: string, } | { "op": "indexes", name: string, } | { "op": "index_advice", name: string, sql: string, timeout_s?: number, 
/**
 * Check by building each real index in a rolled-back transaction even when HypoPG is
 * there (exact sizes and costs; locks the table against writes meanwhile). Never on prod.
 */
build_in_transaction?: boolean, 
/**
 * Values for $1, $2, … in order (as for `explain`); without them a parameterised
 * statement is planned generically where the server can (PostgreSQL 16+).
 */
params?: Array<string>, } | { "op": "audit_list", env?: string, limit?: number, before_id?: number, } | { "op": "audit_verify" } | { "op": "migrate_status", name: string, dir: string, format?: SourceFormat, } | { "op": "migrate_plan", name: string, dir: string, format?: SourceFormat, } | { "op": "migrate_apply", name: string, dir: string, format?: SourceFormat, 
/**
 * Up to and including this version.
 */
target?: string, dry_run?: boolean, lock_timeout_ms?: number, statement_timeout_s?: number, retries?: number, confirm?: string, } | { "op": "migrate_rollback", name: string, dir: string, format?: SourceFormat, steps?: number, to?: string, confirm?: string, } | { "op": "migrate_repair", name: string, dir: string, format?: SourceFormat, version: string, confirm?: string, } | { "op": "migrate_drift", dir: string, format?: SourceFormat, envs?: Array<string>, } | { "op": "migrate_test_rollback", name: string, dir: string, format?: SourceFormat, } | { "op": "lint", scripts: Array<LintInput>, name?: string, } | { "op": "replication_status", name: string, } | { "op": "replication_slots", name: string, } | { "op": "chart_replication_lag", name: string, minutes: number, width?: number, height?: number, 
/**
 * Also rasterise the chart to PNG (for export), returned as base64.
 */
png?: boolean, } | { "op": "switchover", name: string, to: string, check_only?: boolean, 
/**
 * Required for prod: the environment's name.
 */
confirm?: string, 
/**
 * How long the candidate may take to replay up to the fence (default 30).
 */
catchup_timeout_s?: number, 
/**
 * An id for this run's `replication_progress` events, chosen by the caller so it can
 * tell its own events from another run's (letters, digits, `-`, `_`; made up if absent).
 */
job?: string, } | { "op": "failover", name: string, to?: string, confirm?: string, force?: string, 
/**
 * Only assess (the most advanced standby, what may be lost, whether it would be
 * refused); change nothing.
 */
check_only?: boolean, 
/**
 * An id for this run's `replication_progress` events, chosen by the caller so it can
 * tell its own events from another run's (letters, digits, `-`, `_`; made up if absent).
 */
job?: string, } | { "op": "rejoin", name: string, node: string, confirm?: string, 
/**
 * An id for this run's `replication_progress` events, chosen by the caller so it can
 * tell its own events from another run's (letters, digits, `-`, `_`; made up if absent).
 */
job?: string, };

export type Response = { "kind": "app_info", "data": AppInfo } | { "kind": "env_list", "data": Array<EnvSummary> } | { "kind": "env", "data": Environment } | { "kind": "removed", "data": { name: string, } } | { "kind": "test_report", "data": TestReport } | { "kind": "secrets", "data": Array<SecretStatus> } | { "kind": "exported", "data": { toml: string, } } | { "kind": "imported", "data": ImportReport } | { "kind": "health", "data": Array<HealthSample> } | { "kind": "chart", "data": Chart } | { "kind": "audit", "data": Array<AuditRecord> } | { "kind": "verified", "data": VerifyReport } | { "kind": "snapshot", "data": Snapshot } | { "kind": "pools", "data": Array<PoolMetrics> } | { "kind": "signalled", "data": { pid: number, terminate: boolean, found: boolean, } } | { "kind": "metrics", "data": Array<MetricInfo> } | { "kind": "redis", "data": RedisStats } | { "kind": "pgbouncer", "data": PgBouncerStatus } | { "kind": "bench", "data": BenchReport } | { "kind": "pool_advice", "data": PoolAdvice } | { "kind": "text", "data": { text: string, } } | { "kind": "history", "data": History } | { "kind": "plan", "data": PlanReport } | { "kind": "plan_comparison", "data": PlanComparison } | { "kind": "indexes", "data": IndexReport } | { "kind": "index_advice", "data": IndexAdvice } | { "kind": "migration_status", "data": MigrationOverview } | { "kind": "migration_plan", "data": MigrationPlan } | { "kind": "migration_run", "data": RunReport } | { "kind": "drift", "data": DriftMatrix } | { "kind": "rollback_test", "data": RollbackTest } | { "kind": "lint", "data": Array<LintReport> } | { "kind": "topology", "data": Topology } | { "kind": "slots", "data": SlotsReport } | { "kind": "flow", "data": FlowReport } | { "kind": "done" };

export type Event = { "type": "health", sample: HealthSample, } | { "type": "envs_changed" } | { "type": "audit", record: AuditRecord, } | { "type": "bench_progress", env: string, second: number, seconds: number, ops: number, } | { "type": "migration_progress", env: string, progress: Progress, } | { "type": "replication_progress", env: string, job: string, phase: Phase, };

export type ApiError = { code: ErrorCode, message: string, hint?: string, };

export type ErrorCode = "invalid_input" | "not_found" | "already_exists" | "confirmation_required" | "keychain_unavailable" | "secret_missing" | "auth_failed" | "unknown_host" | "connection_refused" | "timeout" | "tls_failed" | "unreachable" | "server_error" | "store" | "unauthorized" | "conflict" | "internal";

export type AppInfo = { version: string, data_dir: string, 
/**
 * True when the demo environment was set up for this run (`--demo`).
 */
demo: boolean, keychain: KeychainStatus, 
/**
 * OS user recorded as the actor in the audit log.
 */
user: string, 
/**
 * Seconds between health checks of each environment.
 */
health_interval_s: number, 
/**
 * Why the demo environment could not be set up, when it could not.
 */
demo_error: ApiError | null, 
/**
 * The demo's migration folder, with `--demo`: the wizard starts there.
 */
demo_migrations: string | null, };

export type EnvSummary = { env: Environment, health: HealthSample | null, };

export type ImportReport = { added: Array<string>, replaced: Array<string>, 
/**
 * Empty when the import succeeded; when not empty nothing was written.
 */
problems: Array<ImportProblem>, };

export type ImportProblem = { 
/**
 * 1-based line in the TOML document, when the problem has a place.
 */
line: number | null, message: string, };

export type Chart = { title: string, svg: string, 
/**
 * Unix milliseconds of the newest point, for the "as of" label.
 */
as_of_ms: number | null, series: Array<string>, 
/**
 * The size the SVG was drawn at.
 */
width: number, height: number, 
/**
 * The chart as a PNG (base64), when the request asked for one.
 */
png_base64?: string, };

export type Environment = { name: string, 
/**
 * `dev`, `staging`, `prod`, or a custom word.
 */
kind: string, 
/**
 * `#rrggbb`; prod is always red.
 */
colour: string, engine: Engine, primary: Endpoint, replicas: Array<Replica>, pgbouncer?: Endpoint, redis?: Endpoint, patroni?: string, pool: PoolProfile, cache: CacheTargets, routing: ReadRouting, replication: ReplicationSettings, };

export type EnvInput = { name: string, kind: string, colour?: string, url: string, replicas: Array<ReplicaInput>, pgbouncer?: string, redis?: string, patroni?: string, pool?: PoolProfile, cache?: CacheTargets, routing?: ReadRouting, replication?: ReplicationSettings, };

export type ReplicaInput = { name: string, url: string, };

export type Endpoint = { url: string, secret?: string, };

export type Replica = { name: string, endpoint: Endpoint, };

export type Engine = "postgres" | "sqlite";

export type PoolProfile = { 
/**
 * The steady pool size.
 */
max_connections: number, 
/**
 * Minimum idle connections kept open.
 */
min_connections: number, acquire_timeout_ms: number, connect_timeout_ms: number, 
/**
 * Close a connection idle this long (only those above the minimum).
 */
idle_timeout_s: number, 
/**
 * Recycle a connection after this long, whatever it is doing.
 */
max_lifetime_s: number, 
/**
 * Burst capacity above `max_connections`.
 */
max_overflow: number, 
/**
 * Check a connection with a ping before handing it out (pre-ping).
 */
test_before_acquire: boolean, };

export type HealthSample = { env: string, ts_ms: number, reachable: boolean, latency_ms: number | null, 
/**
 * `primary`, `standby` or `sqlite`.
 */
role: string | null, server_version: string | null, error_code: string | null, error: string | null, };

export type TestReport = { env: string, ok: boolean, as_of_ms: number, endpoints: Array<EndpointReport>, };

export type EndpointReport = { role: string, 
/**
 * Where dbdeck connected (URL without password).
 */
target: string, ok: boolean, 
/**
 * Time to open the connection, including TLS and authentication.
 */
connect_ms: number | null, 
/**
 * One round trip of a trivial query on the open connection.
 */
latency_ms: number | null, server_version: string | null, 
/**
 * For PostgreSQL: whether the server is a standby (in recovery).
 */
standby: boolean | null, 
/**
 * TLS protocol and cipher when in use, `off` when not, absent when not applicable.
 */
tls: string | null, error: ApiError | null, };

export type KeychainStatus = { available: boolean, backend: string, error?: string, };

export type SecretStatus = { role: string, account: string, stored: boolean, error?: string, };

export type AuditRecord = { id: number, 
/**
 * RFC 3339, UTC, milliseconds.
 */
ts: string, 
/**
 * OS user who ran dbdeck.
 */
actor: string, 
/**
 * Which door: `cli`, `web` or `desktop`.
 */
source: string, env: string | null, action: string, params: JsonValue, 
/**
 * `started` for an intent; `ok`, `error` or `refused` for an outcome.
 */
outcome: string, detail: string | null, 
/**
 * For an outcome: the id of its intent.
 */
intent_id: number | null, prev_hash: string, hash: string, };

export type VerifyReport = { ok: boolean, records: number, head_hash: string, first_bad: BadRecord | null, };

export type BadRecord = { id: number, reason: string, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

export type Snapshot = { "engine": "postgres" } & PgSnapshot | { "engine": "sqlite" } & SqliteSnapshot;

export type Status = "ok" | "warn" | "critical" | "unknown";

export type PgSnapshot = { ts_ms: number, 
/**
 * Wall time the poll took.
 */
took_ms: number, 
/**
 * Statements the poll sent (kept small on purpose).
 */
queries: number, 
/**
 * The environment's buffer-cache target the statuses are judged against.
 */
buffer_cache_target_pct: number, 
/**
 * Which node the size figures came from (`primary`, or a replica and its lag) and why.
 */
sizes_from: string, server: Server, sessions: Array<Session>, databases: Array<Database>, tables: Array<Table>, indexes: Array<Index>, top: TopQueries, };

export type Server = { version: string, in_recovery: boolean, database: string, started_ms: number, max_connections: number, reserved_connections: number, 
/**
 * Client backends connected now (all databases).
 */
connections: number, 
/**
 * connections / (max_connections - reserved) in percent.
 */
connection_utilisation_pct: number, connection_status: Status, 
/**
 * Age of the oldest unfrozen transaction ID of any database; wraparound is at ~2.1 billion.
 */
oldest_xid_age: number, xid_status: Status, };

export type Session = { pid: number, database: string | null, user: string | null, application: string, client: string, 
/**
 * active, idle, idle in transaction, …
 */
state: string | null, wait_event_type: string | null, wait_event: string | null, 
/**
 * How long the current transaction has been open.
 */
xact_ms: number | null, 
/**
 * How long the current (or last) statement has been running.
 */
query_ms: number | null, 
/**
 * How long the session has been in its current state.
 */
state_ms: number | null, query: string, 
/**
 * Sessions holding locks this one waits for (pg_blocking_pids).
 */
blocked_by: Array<number>, };

export type Database = { name: string, size_bytes: number, backends: number, commits: number, rollbacks: number, deadlocks: number, blocks_hit: number, blocks_read: number, cache_hit_pct: number | null, cache_status: Status, xid_age: number, temp_bytes: number, };

export type Table = { schema: string, name: string, total_bytes: number, table_bytes: number, index_bytes: number, 
/**
 * Planner's estimate (pg_class.reltuples); -1 when never analysed.
 */
rows_estimate: number, seq_scans: number, idx_scans: number, dead_rows: number, heap_hit_pct: number | null, index_hit_pct: number | null, };

export type Index = { schema: string, table: string, name: string, size_bytes: number, scans: number, blocks_hit: number, blocks_read: number, hit_pct: number | null, };

export type TopQueries = { 
/**
 * False when pg_stat_statements cannot be read; `problem` says why and how to fix it.
 */
available: boolean, problem: ApiError | null, rows: Array<TopQuery>, };

export type TopQuery = { 
/**
 * pg_stat_statements' queryid as text: it uses all 64 bits, which JavaScript numbers
 * would round.
 */
query_id: string, 
/**
 * Normalised text ($1, $2 … for constants), cut at 4,000 characters.
 */
query: string, calls: number, total_ms: number, mean_ms: number, stddev_ms: number, rows: number, shared_hit: number, shared_read: number, hit_pct: number | null, 
/**
 * Share of all statements' total time, percent.
 */
share_pct: number, };

export type SqliteSnapshot = { ts_ms: number, took_ms: number, queries: number, version: string, page_size: number, page_count: number, freelist_count: number, size_bytes: number, 
/**
 * PRAGMA cache_size: pages when positive, KiB when negative.
 */
cache_size: number, journal_mode: string, 
/**
 * `ok`, or the first problems PRAGMA quick_check found.
 */
integrity: string, tables: Array<SqliteTable>, };

export type SqliteTable = { name: string, rows: number, indexes: Array<string>, 
/**
 * Bytes of the table's own pages (from the dbstat table, when SQLite has it).
 */
table_bytes: number | null, 
/**
 * Bytes of all its indexes' pages.
 */
index_bytes: number | null, };

export type PoolMetrics = { env: string, role: string, target: string, max: number, min_idle: number, size: number, idle: number, in_use: number, waiting: number, utilisation_pct: number, acquired: number, 
/**
 * Acquires that timed out with every connection busy or the server not answering.
 */
timeouts: number, 
/**
 * Acquires that failed for another reason (refused, authentication, …) and failures on
 * connections in use.
 */
errors: number, acquire_p50_ms: number | null, acquire_p95_ms: number | null, acquire_p99_ms: number | null, breaker: BreakerState, consecutive_failures: number, 
/**
 * When the breaker will let the next probe through (Unix ms), while open.
 */
next_probe_ms: number | null, breaker_history: Array<BreakerEvent>, };

export type BreakerState = "closed" | "open" | "half_open";

export type BreakerEvent = { ts_ms: number, state: BreakerState, reason: string, };

export type Metric = "latency_ms" | "availability" | "connections" | "tps" | "cache_hit_pct" | "deadlocks" | "pool_utilisation_pct" | "acquire_p95_ms" | "replay_lag_s";

export type MetricInfo = { id: Metric, label: string, unit: string, 
/**
 * A target drawn as a line on its chart (e.g. 99 % for the buffer cache).
 */
target: number | null, 
/**
 * Whether higher is better (for colouring against the target).
 */
higher_is_better: boolean, };

export type History = { env: string, info: MetricInfo, 
/**
 * Where the points came from: `raw`, `1m` or `10m`.
 */
source: string, 
/**
 * Width of each point's bucket.
 */
bucket_ms: number, points: Array<Point>, };

export type Point = { ts_ms: number, avg: number, min: number, max: number, 
/**
 * Samples behind the point.
 */
n: number, };

export type RedisStats = { ts_ms: number, took_ms: number, target: string, version: string, uptime_s: number, connected_clients: number, 
/**
 * The tier this Redis serves (from the environment's cache targets).
 */
tier: string, hits: number, misses: number, 
/**
 * Since the server started (or CONFIG RESETSTAT).
 */
hit_rate_pct: number | null, hit_target_pct: number, hit_status: Status, evicted_keys: number, expired_keys: number, used_memory: number, 
/**
 * 0 means no limit.
 */
maxmemory: number, maxmemory_policy: string, memory_pct: number | null, ops_per_sec: number, keyspace: Array<RedisDb>, };

export type RedisDb = { db: string, keys: number, expires: number, avg_ttl_ms: number, };

export type CacheTargets = { 
/**
 * PostgreSQL buffer cache (shared_buffers) hit ratio, percent.
 */
buffer_cache_pct: number, 
/**
 * What the environment's Redis is used as, e.g. `query cache`, `response cache`,
 * `session store`; names the tier in the UI.
 */
redis_tier: string, 
/**
 * Redis keyspace hit rate, percent.
 */
redis_hit_pct: number, };

export type ReadRouting = { 
/**
 * Let replica-safe monitoring reads (sizes) go to a healthy replica.
 */
replica_reads: boolean, 
/**
 * The most replay lag, in seconds, a replica may have to be read from.
 */
max_lag_s: number, };

export type PgBouncerStatus = { ts_ms: number, target: string, version: string, pools: AdminTable, stats: AdminTable, clients: AdminTable, servers: AdminTable, databases: AdminTable, config: AdminTable, };

export type AdminTable = { columns: Array<string>, rows: Array<Array<string | null>>, };

export type PgBouncerCommand = "pause" | "resume" | "reload" | "reconnect";

export type BenchMode = "select" | "insert" | "mixed";

export type BenchReport = { env: string, mode: BenchMode, clients: number, seconds: number, ops: number, ops_per_sec: number, p50_ms: number, p95_ms: number, p99_ms: number, max_ms: number, errors: number, 
/**
 * The first error seen, if any.
 */
first_error: string | null, 
/**
 * Operations completed in each second of the run.
 */
per_second: Array<number>, 
/**
 * A chart of `per_second` (SVG).
 */
chart_svg: string, };

export type PoolAdvice = { max_connections: number, reserved: number, 
/**
 * Left for tools such as dbdeck, psql and monitoring.
 */
admin_margin: number, usable: number, instances: number, apps: Array<AppAdvice>, 
/**
 * Total connections the advice would use at peak (all apps, all instances, with overflow).
 */
total_at_peak: number, scaled_down: boolean, 
/**
 * The arithmetic, one line per step, for a person to check.
 */
steps: Array<string>, };

export type AppAdvice = { application: string, active_p95: number, active_max: number, 
/**
 * Per instance.
 */
pool_size: number, 
/**
 * Per instance, above `pool_size`, closed again when idle.
 */
max_overflow: number, };

export type AppLoad = { application: string, 
/**
 * 95th percentile of its active sessions (whole application, all instances).
 */
active_p95: number, active_max: number, 
/**
 * Samples the figures come from.
 */
samples: number, };

export type PlanComparison = { a: Plan, b: Plan, comparison: Comparison, };

export type Plan = { format: PlanFormat, 
/**
 * Pre-order; `nodes[0]` is the root.
 */
nodes: Array<Node>, 
/**
 * The statement, when known (dbdeck ran it, or the person pasted it alongside).
 */
query: string | null, planning_ms: number | null, execution_ms: number | null, planning_buffers: Buffers | null, triggers: Array<Trigger>, jit: Jit | null, 
/**
 * Non-default settings that affected the plan (EXPLAIN SETTINGS).
 */
settings: { [key in string]: string }, 
/**
 * ANALYZE ran: actual rows and loops are known.
 */
analyzed: boolean, 
/**
 * ANALYZE ran with TIMING on: actual times are known.
 */
timed: boolean, 
/**
 * Findings, worst first.
 */
findings: Array<Finding>, 
/**
 * Summary figures for the header.
 */
summary: Summary, };

export type Node = { id: number, parent: number | null, children: Array<number>, depth: number, 
/**
 * "Seq Scan", "Hash Join", "Aggregate", "ModifyTable"…
 */
node_type: string, 
/**
 * A one-line label the way people read it: "Hash Join (Inner)", "Seq Scan on visits v".
 */
label: string, 
/**
 * Outer, Inner, InitPlan, SubPlan, Member…
 */
relationship: string | null, 
/**
 * "CTE recent", "SubPlan 2", "InitPlan 1 (returns $0)".
 */
subplan_name: string | null, relation: string | null, schema: string | null, alias: string | null, index_name: string | null, cte_name: string | null, parallel_aware: boolean, startup_cost: number, total_cost: number, 
/**
 * Estimated rows per loop.
 */
plan_rows: number, plan_width: number, 
/**
 * Per loop, as PostgreSQL reports it; None without ANALYZE or with TIMING off.
 */
actual_startup_ms: number | null, actual_total_ms: number | null, 
/**
 * Rows per loop; None without ANALYZE.
 */
actual_rows: number | null, loops: number | null, 
/**
 * ANALYZE ran and this node never did (loops = 0).
 */
never_executed: boolean, workers_planned: number | null, workers_launched: number | null, rows_removed_by_filter: number | null, rows_removed_by_join_filter: number | null, rows_removed_by_index_recheck: number | null, heap_fetches: number | null, exact_heap_blocks: number | null, lossy_heap_blocks: number | null, buffers: Buffers, io_read_ms: number | null, io_write_ms: number | null, 
/**
 * Every field as PostgreSQL named it (child plans excluded), for the detail panel.
 */
fields: Record<string, unknown>, 
/**
 * Wall time of this node and everything under it, loops and workers accounted for.
 */
inclusive_ms: number | null, 
/**
 * Wall time spent in this node alone.
 */
exclusive_ms: number | null, 
/**
 * `exclusive_ms` as a share of the whole execution, 0–100.
 */
exclusive_pct: number | null, 
/**
 * Buffers of this node alone.
 */
exclusive_buffers: Buffers, 
/**
 * Total rows out (rows × loops).
 */
total_rows: number | null, 
/**
 * Actual ÷ estimated rows (> 1: under-estimated, < 1: over-estimated).
 */
estimate_ratio: number | null, 
/**
 * max(ratio, 1/ratio): how many times off the estimate was.
 */
misestimate: number | null, 
/**
 * Indices into `Plan::findings` about this node.
 */
findings: Array<number>, };

export type Buffers = { shared_hit: number, shared_read: number, shared_dirtied: number, shared_written: number, local_hit: number, local_read: number, local_dirtied: number, local_written: number, temp_read: number, temp_written: number, };

export type Trigger = { name: string, relation: string | null, constraint: string | null, time_ms: number, calls: number, };

export type Jit = { functions: number, generation_ms: number, inlining_ms: number, optimization_ms: number, emission_ms: number, total_ms: number, 
/**
 * "Inlining true, Optimization true, …"
 */
options: string, };

export type Summary = { node_count: number, max_depth: number, 
/**
 * Execution time if known, else the root's inclusive time.
 */
total_ms: number | null, total_cost: number, buffers: Buffers, trigger_ms: number, 
/**
 * The largest misestimate factor in the plan.
 */
worst_misestimate: number | null, 
/**
 * Node ids, hottest first by exclusive time (at most 10).
 */
hottest: Array<number>, };

export type PlanFormat = "json" | "text";

export type Finding = { kind: FindingKind, severity: Severity, 
/**
 * The node it is about; None for plan-wide findings (JIT, triggers).
 */
node: number | null, 
/**
 * A short headline: "Seq Scan on visits removes 99.9 % of the rows it reads".
 */
title: string, 
/**
 * What is happening, in plain words, with the plan's own numbers.
 */
detail: string, 
/**
 * What to try.
 */
fix: string, };

export type FindingKind = "slow_node" | "bad_estimate" | "seq_scan_selective_filter" | "nested_loop_large_outer" | "sort_spill" | "hash_spill" | "lossy_bitmap" | "heap_fetches" | "missing_parallelism" | "workers_not_launched" | "stale_statistics" | "slow_triggers" | "jit_overhead";

export type Severity = "info" | "warning" | "critical";

export type Comparison = { a: SideSummary, b: SideSummary, 
/**
 * In A's order, with B-only nodes after A's.
 */
pairs: Array<NodePair>, 
/**
 * A's time ÷ B's time: above 1, B is faster.
 */
speedup: number | null, 
/**
 * One sentence: "B is 14.2× faster (812 ms → 57 ms); Seq Scan on visits became Index Scan…".
 */
verdict: string, };

export type SideSummary = { total_ms: number | null, planning_ms: number | null, total_cost: number, node_count: number, shared_blocks: number, temp_blocks: number, findings: number, };

export type NodePair = { a: number | null, b: number | null, 
/**
 * The label of A's node, or B's when only B has it.
 */
label: string, 
/**
 * B's label when it differs from A's (the operation changed).
 */
b_label: string | null, a_ms: number | null, b_ms: number | null, a_rows: number | null, b_rows: number | null, a_blocks: number, b_blocks: number, a_cost: number | null, b_cost: number | null, 
/**
 * b_ms − a_ms (exclusive time).
 */
delta_ms: number | null, depth: number, };

export type ExplainOptions = { analyze: boolean, buffers: boolean, verbose: boolean, settings: boolean, wal: boolean, 
/**
 * Per-node timing with ANALYZE (on unless turned off; off lowers the overhead).
 */
timing?: boolean, 
/**
 * Cost estimates (on unless turned off).
 */
costs?: boolean, };

export type StatementKind = "read" | "write" | "ddl";

export type PlanReport = { 
/**
 * The environment it ran on; None for a pasted plan.
 */
env: string | null, sql: string | null, options: ExplainOptions | null, kind: StatementKind | null, 
/**
 * The statement ran (ANALYZE) and its transaction was rolled back.
 */
rolled_back: boolean, 
/**
 * How the plan was obtained: "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)", "generic plan", …
 */
method: string, 
/**
 * EXPLAIN's output as the server gave it (JSON for PostgreSQL). Empty for a pasted plan:
 * the caller already has that text.
 */
raw: string, plan: Plan, 
/**
 * Things the reader should know: "ran in a rolled-back transaction", "parameters bound …".
 */
notes: Array<string>, 
/**
 * When the request asked for `compact`: the nodes as a table, and `plan.nodes` empty.
 */
node_table?: NodeTable, };

export type IndexReport = { env: string, 
/**
 * When the statistics the usage figures count from were reset (unix ms), if known.
 */
stats_since_ms: number | null, index_count: number, total_index_bytes: number, findings: Array<IndexFinding>, seq_scan_tables: Array<SeqScanTable>, };

export type IndexFinding = { issue: IndexIssue, schema: string, table: string, index: string, definition: string, size_bytes: number, table_bytes: number, scans: number, 
/**
 * The other index, for duplicates and overlaps.
 */
other: string | null, detail: string, 
/**
 * The statement that fixes it (to review, never run by dbdeck).
 */
fix: string, };

export type IndexIssue = "unused" | "duplicate" | "overlapping" | "invalid" | "larger_than_table";

export type SeqScanTable = { schema: string, table: string, seq_scans: number, seq_rows_read: number, index_scans: number, live_rows: number, size_bytes: number, 
/**
 * Rows read per sequential scan.
 */
rows_per_scan: number, };

export type IndexAdvice = { env: string, sql: string, cost_before: number, 
/**
 * Whether HypoPG was available for the checks.
 */
hypopg: boolean, candidates: Array<IndexCandidate>, 
/**
 * The plan the advice was drawn from (EXPLAIN without ANALYZE).
 */
plan: Plan, notes: Array<string>, };

export type IndexCandidate = { schema: string | null, table: string, columns: Array<string>, 
/**
 * Why: "filter of Seq Scan on visits (removes 99.9 % of rows)".
 */
reason: string, 
/**
 * The statement to build it, to review and run yourself.
 */
ddl: string, validation: Validation, 
/**
 * The planner chose the index when it was available.
 */
used: boolean | null, cost_before: number, cost_after: number | null, 
/**
 * (before − after) ÷ before, in %.
 */
improvement_pct: number | null, note: string | null, };

export type Validation = "hypopg" | "transaction" | "not_validated";

export type MigrationOverview = { env: string, dir: string, format: SourceFormat, detected_from: string, problems: Array<SourceProblem>, status: MigrationStatus, };

export type MigrationPlan = { env: string, prod: boolean, overview: MigrationOverview, steps: Array<PlanStep>, 
/**
 * "transaction" when every step can be tried and rolled back in place, else "scratch
 * database" (a copy of the target's schema that is dropped afterwards).
 */
dry_run_method: string, 
/**
 * The target's tables, sessions and replicas as the lint read them.
 */
live: LiveContext | null, };

export type PlanStep = { version: string | null, description: string, file: string, sql: string, down_file: string | null, transactional: boolean, statements: number, lint: LintReport, };

export type DriftMatrix = { dir: string, format: SourceFormat, columns: Array<DriftColumn>, rows: Array<DriftRow>, };

export type DriftColumn = { env: string, kind: string, 
/**
 * None when the environment could not be read (then `error` says why).
 */
current: string | null, pending: number, modified: number, missing: number, failed: number, 
/**
 * "up to date", "behind by 3", "diverged: 2 modified", "unreachable".
 */
verdict: string, error: string | null, };

export type DriftRow = { version: string | null, description: string, in_folder: boolean, 
/**
 * One state per column, in `columns` order ("applied", "pending", …, "?" unreadable).
 */
states: Array<string>, };

export type RollbackTest = { env: string, scratch_database: string, ok: boolean, 
/**
 * Each phase: "apply all", "dump", "roll back 3 (add email)", "apply again", "dump again".
 */
phases: Array<TestPhase>, 
/**
 * Migrations without a down script.
 */
missing_down: Array<string>, 
/**
 * The first lines where the two schema dumps differ ("-" first, "+" after the round trip).
 */
diff: Array<string>, ms: number, };

export type TestPhase = { name: string, ok: boolean, detail: string, ms: number, };

export type SourceFormat = "sqlx" | "flyway" | "plain";

export type SourceProblem = { path: string, message: string, };

export type Checksum = { "kind": "sha384", "value": string } | { "kind": "crc32", "value": number } | { "kind": "sha256", "value": string };

export type MigrationStatus = { format: SourceFormat, table: string, 
/**
 * Versioned in version order (missing ones in their place), then repeatables.
 */
entries: Array<Entry>, applied: number, pending: number, modified: number, missing: number, failed: number, 
/**
 * The newest applied version.
 */
current: string | null, alembic_head: Array<string>, 
/**
 * Why applying would be refused now (modified or failed migrations), for the person.
 */
blockers: Array<string>, };

export type Entry = { version: string | null, description: string, state: State, 
/**
 * The file, when the folder has it.
 */
file: string | null, has_down: boolean, installed_on: string | null, execution_ms: number | null, checksum_file: Checksum | null, checksum_applied: Checksum | null, };

export type State = "applied" | "pending" | "modified" | "missing" | "failed" | "outdated" | "undone";

export type RunReport = { kind: RunKind, format: SourceFormat, steps: Array<StepReport>, ok: boolean, ms: number, 
/**
 * The status read again after the run.
 */
after: MigrationStatus | null, 
/**
 * Checks after the run, each "ok: …" or "FAILED: …".
 */
verify: Array<string>, };

export type RunKind = "apply" | "dry_run" | "rollback";

export type StepReport = { version: string | null, description: string, file: string, outcome: StepOutcome, transactional: boolean, statements: number, attempts: number, ms: number, failure: Failure | null, left_behind: Array<LeftBehind>, };

export type StepOutcome = "applied" | "rolled_back" | "dry_run_ok" | "failed" | "not_run";

export type Failure = { file: string, 
/**
 * 1-based; 0 when the whole script ran as one (SQLite).
 */
statement: number, line: number | null, column: number | null, message: string, sqlstate: string | null, 
/**
 * What state the database is in now, in words.
 */
state: string, };

export type LeftBehind = { index: string, table: string, cleanup_sql: string, };

export type Progress = { "phase": "migration", k: number, n: number, label: string, attempt: number, } | { "phase": "statement", k: number, i: number, count: number, excerpt: string, } | { "phase": "retry", k: number, attempt: number, wait_ms: number, reason: string, } | { "phase": "done", k: number, ok: boolean, ms: number, };

export type LintReport = { file: string | null, statements: number, findings: Array<LintFinding>, notes: Array<LintNote>, 
/**
 * Findings suppressed by comments.
 */
suppressed: number, };

export type LintInput = { sql: string, file?: string, 
/**
 * The script runs inside a transaction its tool opens.
 */
in_transaction: boolean, };

export type LintFinding = { rule: string, severity: Severity, 
/**
 * 1-based.
 */
line: number, column: number, 
/**
 * Byte offset in the file.
 */
offset: number, 
/**
 * The statement's first line, shortened.
 */
statement: string, title: string, why: string, fix: string, table: string | null, impact: Impact, 
/**
 * What the live target said that changed the severity ("orders has 0 rows: the rewrite
 * is instant"), when linted against an environment.
 */
context: string | null, };

export type LintNote = { line: number, message: string, };

export type Impact = "rewrite" | "scan" | "lock" | "breaks" | "style";

export type LiveContext = { env: string, 
/**
 * Keyed by lower-case `name` and `schema.name`.
 */
tables: Record<string, TableFacts>, long_transactions: Array<LongTransaction>, 
/**
 * The most lagged replica's replay lag, when the primary reports it.
 */
replica_lag_s: number | null, lag_threshold_s: number, };

export type TableFacts = { schema: string, name: string, 
/**
 * The planner's estimate (reltuples); None before the first ANALYZE.
 */
rows: number | null, 
/**
 * Table, indexes and TOAST.
 */
bytes: number, };

export type LongTransaction = { pid: number, age_s: number, state: string, query: string, 
/**
 * Tables it holds a lock on, as `regclass` prints them.
 */
tables: Array<string>, };

export type ReplicationSettings = { 
/**
 * Replay lag, in seconds, above which a standby is in alert and a switchover to it is
 * refused.
 */
lag_threshold_s: number, 
/**
 * Data directories on this machine that dbdeck may stop, start and rewind, by the node's
 * `host:port`. A node listed here can be stopped for good after a switchover and rejoined
 * as a standby with pg_rewind; any other node is only fenced.
 */
local_nodes: Array<LocalNode>, 
/**
 * Where pg_ctl and pg_rewind are (default: the newest /usr/lib/postgresql/N/bin, else PATH).
 */
pg_bin?: string, 
/**
 * The pgbouncer.ini dbdeck may rewrite to point PgBouncer's databases at a new primary.
 */
pgbouncer_ini?: string, };

export type LocalNode = { 
/**
 * `host:port` as in the node's URL.
 */
address: string, data_dir: string, };

export type Check = { name: string, 
/**
 * `pass`, `fail`, `warn` or `skip`.
 */
status: string, reason: string, };

export type Topology = { env: string, ts_ms: number, lag_threshold_s: number, 
/**
 * The node answering as primary (none, or the first of several: see `alerts`).
 */
primary: string | null, nodes: Array<NodeState>, discovered: Array<Discovered>, 
/**
 * What a person should look at first: lag over threshold, unreachable nodes, two
 * primaries, stopped receivers.
 */
alerts: Array<string>, 
/**
 * The cluster as Patroni sees it, when the environment has a Patroni endpoint.
 */
patroni: PatroniCluster | null, 
/**
 * Why Patroni could not be read.
 */
patroni_error: string | null, };

export type NodeState = { 
/**
 * `primary` or the replica's name in the environment.
 */
name: string, address: string, reachable: boolean, error: string | null, 
/**
 * `primary` or `standby` as the server says (not as configured); `null` when unreachable.
 */
role: string | null, version: string | null, timeline: number | null, 
/**
 * The primary's current write position.
 */
current_lsn: string | null, receive_lsn: string | null, replay_lsn: string | null, 
/**
 * When the last replayed transaction committed on the primary; `null` if this standby has
 * replayed none yet.
 */
last_replay_ms: number | null, 
/**
 * Replay lag against the primary, in bytes and seconds; `null` when it cannot be known
 * (e.g. nothing replayed yet).
 */
lag_bytes: number | null, lag_s: number | null, 
/**
 * Over the environment's lag threshold.
 */
lag_alert: boolean, 
/**
 * A sentence on the lag (why it is null, where it came from).
 */
lag_note: string, 
/**
 * The node (name, or `host:port` when not configured) this standby streams from.
 */
upstream: string | null, receiver: Receiver | null, senders: Array<Sender>, };

export type Sender = { pid: number, application_name: string, 
/**
 * `null` over a Unix socket.
 */
client_addr: string | null, state: string, sent_lsn: string | null, write_lsn: string | null, flush_lsn: string | null, replay_lsn: string | null, write_lag_s: number | null, flush_lag_s: number | null, replay_lag_s: number | null, 
/**
 * `async`, `potential`, `sync` or `quorum`.
 */
sync_state: string, 
/**
 * The physical slot it streams through, if any.
 */
slot_name: string | null, 
/**
 * The configured node this is, when it could be told.
 */
node: string | null, };

export type Receiver = { 
/**
 * `streaming`, `catchup`, `waiting`, `starting`, `stopping` or `stopped`.
 */
status: string, 
/**
 * `host:port` it streams from.
 */
upstream: string, slot_name: string | null, received_tli: number | null, flushed_lsn: string | null, 
/**
 * Seconds since the upstream last said something.
 */
since_message_s: number | null, };

export type Discovered = { application_name: string, client_addr: string | null, 
/**
 * The configured node it streams from.
 */
upstream: string, state: string, lag_bytes: number | null, 
/**
 * How to add it (its port cannot be seen from the upstream).
 */
suggestion: string, };

export type Slot = { name: string, 
/**
 * `physical` or `logical`.
 */
slot_type: string, plugin: string | null, database: string | null, active: boolean, active_pid: number | null, temporary: boolean, restart_lsn: string | null, confirmed_flush_lsn: string | null, 
/**
 * `reserved`, `extended`, `unreserved` or `lost`.
 */
wal_status: string | null, 
/**
 * Bytes that can still be written before this slot is invalidated; `null` when
 * max_slot_wal_keep_size is unlimited.
 */
safe_wal_size: number | null, 
/**
 * WAL this slot holds back.
 */
retained_bytes: number | null, 
/**
 * How fast `retained_bytes` grew over the recorded samples.
 */
growth_bytes_per_s: number | null, invalidated_in_s: number | null, disk_full_in_s: number | null, 
/**
 * The forecast in a sentence.
 */
forecast: string, warnings: Array<string>, };

export type SlotsReport = { env: string, 
/**
 * The node the slots were read from (the primary).
 */
node: string, ts_ms: number, 
/**
 * `-1` means unlimited: a stuck slot can fill the disk.
 */
max_slot_wal_keep_size_mb: number, 
/**
 * Free space of the file system under pg_wal, when its data directory is on this machine.
 */
disk_free_bytes: number | null, disk_note: string, slots: Array<Slot>, };

export type Phase = { 
/**
 * Stable id: `checks`, `pause`, `fence`, `catch_up`, `promote`, `verify`, `stop_old`,
 * `repoint`, `resume`, `assess`, `checkpoint`, `rewind`, `configure`, `start`.
 */
id: string, title: string, 
/**
 * `running`, `ok`, `warning`, `failed` or `skipped`.
 */
status: string, 
/**
 * How long it took (so far, while running).
 */
ms: number, detail: string, checks: Array<Check>, };

export type NodeOutcome = { 
/**
 * Its name in the environment after the flow.
 */
name: string, address: string, state: string, };

export type FlowReport = { 
/**
 * `switchover`, `failover` or `rejoin`.
 */
kind: string, env: string, 
/**
 * A job id shared by the progress events of this run.
 */
job: string, 
/**
 * The node that was primary (name before the flow).
 */
from: string | null, 
/**
 * The node promoted or rejoined (name before the flow).
 */
to: string, ok: boolean, 
/**
 * What happened, in a sentence or two.
 */
outcome: string, phases: Array<Phase>, total_ms: number, 
/**
 * From the start to the first write the new primary accepted.
 */
first_write_ms: number | null, new_timeline: number | null, nodes: Array<NodeOutcome>, 
/**
 * How much WAL a failover may have lost, when it can be told.
 */
wal_loss: string | null, 
/**
 * The next thing to do, if any (e.g. the rejoin command).
 */
next: string | null, };

export type PatroniCluster = { scope?: string, members: Array<Member>, 
/**
 * Maintenance mode: Patroni does not fail over or switch over.
 */
pause: boolean, };

export type Member = { name: string, 
/**
 * `leader`, `replica`, `sync_standby`, `quorum_standby` or `standby_leader`.
 */
role: string, 
/**
 * `running`, `streaming`, `stopped`, `starting`, … as Patroni reports it.
 */
state: string, api_url?: string, host?: string, port?: number, 
/**
 * Missing while the member's PostgreSQL is not running.
 */
timeline?: number, 
/**
 * Bytes behind the leader, or the string `"unknown"` when Patroni cannot tell.
 */
lag?: number | string, 
/**
 * `X/Y`, or `"unknown"`.
 */
replay_lsn?: string, };

export type NodeTable = { 
/**
 * Column names in row order; a column holding an object is `[name, [its keys]]` and its
 * cells are arrays of the values in that order.
 */
columns: Array<string | [string, string[]]>, rows: unknown[][], 
/**
 * `[PostgreSQL's field name, column or column.key]`; `orders` refer to them by position.
 */
restore: Array<[string, string]>, 
/**
 * The fields' orders the rows' `fields_order` index (see the module's documentation).
 */
orders: number[][], };
