// Typed calls: `await api.envList()` instead of building a Request and switching on `kind`.
// Each helper checks that the response has the kind it expects, so a mismatch between UI and
// backend versions shows up as a readable error instead of `undefined` somewhere later.

import type {
  AppInfo,
  Node as PlanNode,
  NodeTable,
  AuditRecord,
  BenchMode,
  BenchReport,
  Chart,
  DriftMatrix,
  EnvInput,
  EnvSummary,
  Environment,
  FlowReport,
  ExplainOptions,
  HealthSample,
  History,
  ImportReport,
  IndexAdvice,
  IndexReport,
  LintInput,
  LintReport,
  Metric,
  MetricInfo,
  MigrationOverview,
  MigrationPlan,
  PgBouncerCommand,
  PgBouncerStatus,
  PlanComparison,
  PlanReport,
  PoolAdvice,
  PoolMetrics,
  RedisStats,
  RollbackTest,
  RunReport,
  SecretStatus,
  SlotsReport,
  Snapshot,
  SourceFormat,
  TestReport,
  Topology,
  VerifyReport,
} from '../../bindings/api';
import { ApiCallError, type Backend, type Request, type Response } from './types';

export type { MigrationOverview, MigrationPlan, MigrationStatus, RunReport } from '../../bindings/api';

/** Where the migrations are: the folder, and its tool when detection should not decide. */
export type MigrationSource = { dir: string; format?: SourceFormat };

type DataOf<K extends Response['kind']> = Extract<Response, { kind: K }> extends { data: infer D } ? D : undefined;

export class Api {
  constructor(readonly backend: Backend) {}

  private async expect<K extends Response['kind']>(req: Request, kind: K): Promise<DataOf<K>> {
    const res = await this.backend.call(req);
    if (res.kind !== kind) {
      throw new ApiCallError(
        {
          code: 'protocol',
          message: `dbdeck answered '${res.kind}' to '${req.op}', expected '${kind}'`,
          hint: 'the UI and the dbdeck binary may be from different versions; rebuild both',
        },
        req.op,
      );
    }
    return ('data' in res ? res.data : undefined) as DataOf<K>;
  }

  appInfo(): Promise<AppInfo> {
    return this.expect({ op: 'app_info' }, 'app_info');
  }
  envList(): Promise<EnvSummary[]> {
    return this.expect({ op: 'env_list' }, 'env_list');
  }
  envGet(name: string): Promise<Environment> {
    return this.expect({ op: 'env_get', name }, 'env');
  }
  envAdd(env: EnvInput, password?: string): Promise<Environment> {
    return this.expect({ op: 'env_add', env, ...(password ? { password } : {}) }, 'env');
  }
  envUpdate(name: string, env: EnvInput, opts: { password?: string; confirm?: string } = {}): Promise<Environment> {
    const req: Request = { op: 'env_update', name, env };
    if (opts.password) req.password = opts.password;
    if (opts.confirm !== undefined) req.confirm = opts.confirm;
    return this.expect(req, 'env');
  }
  async envRemove(name: string, confirm?: string): Promise<string> {
    const req: Request = { op: 'env_remove', name };
    if (confirm !== undefined) req.confirm = confirm;
    return (await this.expect(req, 'removed')).name;
  }
  envTest(name: string): Promise<TestReport> {
    return this.expect({ op: 'env_test', name }, 'test_report');
  }
  async envSetPassword(name: string, role: string, password: string, confirm?: string): Promise<void> {
    const req: Request = { op: 'env_set_password', name, role, password };
    if (confirm !== undefined) req.confirm = confirm;
    await this.expect(req, 'done');
  }
  envSecrets(name: string): Promise<SecretStatus[]> {
    return this.expect({ op: 'env_secrets', name }, 'secrets');
  }
  async envExport(): Promise<string> {
    return (await this.expect({ op: 'env_export' }, 'exported')).toml;
  }
  envImport(toml: string, replace: boolean): Promise<ImportReport> {
    return this.expect({ op: 'env_import', toml, replace }, 'imported');
  }
  healthHistory(name: string, minutes: number): Promise<HealthSample[]> {
    return this.expect({ op: 'health_history', name, minutes }, 'health');
  }
  /** `width` is the pixel width to draw at (the panel's), so text is drawn at its real size. */
  chartLatency(minutes: number, opts: { name?: string; width?: number } = {}): Promise<Chart> {
    const req: Request = { op: 'chart_latency', minutes };
    if (opts.name) req.name = opts.name;
    if (opts.width) req.width = Math.round(opts.width);
    return this.expect(req, 'chart');
  }
  /** One poll of the environment's primary: sessions, locks, top statements, sizes, cache. */
  snapshot(name: string): Promise<Snapshot> {
    return this.expect({ op: 'snapshot', name }, 'snapshot');
  }
  /** dbdeck's own pools for `name` (each endpoint pinged first), with their circuit breakers. */
  pools(name: string): Promise<PoolMetrics[]> {
    return this.expect({ op: 'pools', name }, 'pools');
  }
  /** Cancel a backend's query, or terminate it; on prod `confirm` is the environment's name. */
  sessionSignal(name: string, pid: number, terminate: boolean, confirm?: string): Promise<{ pid: number; terminate: boolean; found: boolean }> {
    const req: Request = { op: 'session_signal', name, pid, terminate };
    if (confirm !== undefined) req.confirm = confirm;
    return this.expect(req, 'signalled');
  }
  /** The metrics dbdeck keeps history of (label, unit, target). */
  metricList(): Promise<MetricInfo[]> {
    return this.expect({ op: 'metric_list' }, 'metrics');
  }
  /** Points of one metric over the last `minutes`, from raw samples or 1-/10-minute rollups. */
  history(name: string, metric: Metric, minutes: number, points?: number): Promise<History> {
    const req: Request = { op: 'history', name, metric, minutes };
    if (points) req.points = points;
    return this.expect(req, 'history');
  }
  /** One metric drawn by plotters at `width` pixels (the panel's), its target as a dashed line. */
  chartMetric(
    name: string,
    metric: Metric,
    minutes: number,
    opts: { width?: number; height?: number; png?: boolean } = {},
  ): Promise<Chart> {
    const req: Request = { op: 'chart_metric', name, metric, minutes };
    if (opts.width) req.width = Math.round(opts.width);
    if (opts.height) req.height = Math.round(opts.height);
    if (opts.png) req.png = true;
    return this.expect(req, 'chart');
  }
  redisStats(name: string): Promise<RedisStats> {
    return this.expect({ op: 'redis_stats', name }, 'redis');
  }
  pgbouncer(name: string): Promise<PgBouncerStatus> {
    return this.expect({ op: 'pgbouncer', name }, 'pgbouncer');
  }
  /** PAUSE / RESUME / RELOAD / RECONNECT on the admin console; on prod `confirm` is the name. */
  async pgbouncerCommand(name: string, command: PgBouncerCommand, opts: { database?: string; confirm?: string } = {}): Promise<void> {
    const req: Request = { op: 'pgbouncer_command', name, command };
    if (opts.database) req.database = opts.database;
    if (opts.confirm !== undefined) req.confirm = opts.confirm;
    await this.expect(req, 'done');
  }
  /** A load test on a scratch table (created and dropped); progress comes as `bench_progress` events. */
  bench(name: string, mode: BenchMode, clients: number, seconds: number, confirm?: string): Promise<BenchReport> {
    const req: Request = { op: 'bench', name, mode, clients, seconds };
    if (confirm !== undefined) req.confirm = confirm;
    return this.expect(req, 'bench');
  }
  poolAdvice(name: string, instances: number, hours?: number): Promise<PoolAdvice> {
    const req: Request = { op: 'pool_advice', name, instances };
    if (hours) req.hours = hours;
    return this.expect(req, 'pool_advice');
  }
  /** The environment's pool profile as settings for an application's driver. */
  async poolSettings(name: string, format: 'sqlalchemy' | 'hikaricp' | 'pgx' | 'sqlx'): Promise<string> {
    return (await this.expect({ op: 'pool_settings', name, format }, 'text')).text;
  }
  /** EXPLAIN a statement on `name`'s primary. With ANALYZE it runs (rolled back); on prod
   *  `confirm` is the environment's name. `params` are values for $1…$n, in order. */
  explain(
    name: string,
    sql: string,
    options: ExplainOptions,
    opts: { params?: string[]; timeoutS?: number; confirm?: string } = {},
  ): Promise<PlanReport> {
    const req: Request = { op: 'explain', name, sql, options, compact: true };
    if (opts.params?.length) req.params = opts.params;
    if (opts.timeoutS) req.timeout_s = Math.round(opts.timeoutS);
    if (opts.confirm !== undefined) req.confirm = opts.confirm;
    return this.expect(req, 'plan').then(withNodes);
  }
  /** Read pasted EXPLAIN output (JSON or text) and analyse it. */
  /** The server does not echo a pasted plan back (it can be tens of MiB): `raw` is filled in here. */
  async planAnalyze(text: string): Promise<PlanReport> {
    const report = withNodes(await this.expect({ op: 'plan_analyze', text, compact: true }, 'plan'));
    return { ...report, raw: text };
  }
  /** Two plans of the same statement, node by node, with a verdict. */
  planCompare(a: string, b: string): Promise<PlanComparison> {
    return this.expect({ op: 'plan_compare', a, b }, 'plan_comparison');
  }
  /** A self-contained HTML page of the plan, to save or share. */
  async planHtml(text: string, title?: string): Promise<string> {
    const req: Request = { op: 'plan_html', text };
    if (title) req.title = title;
    return (await this.expect(req, 'text')).text;
  }
  /** Index health of a PostgreSQL environment: unused, duplicate, invalid indexes; seq-scanned tables. */
  indexes(name: string): Promise<IndexReport> {
    return this.expect({ op: 'indexes', name }, 'indexes');
  }
  /** Candidate indexes for one statement, checked with the planner (HypoPG or a rolled-back build). */
  indexAdvice(name: string, sql: string, opts: { timeoutS?: number; params?: string[] } = {}): Promise<IndexAdvice> {
    const req: Request = { op: 'index_advice', name, sql };
    if (opts.timeoutS) req.timeout_s = Math.round(opts.timeoutS);
    if (opts.params?.length) req.params = opts.params;
    return this.expect(req, 'index_advice');
  }
  auditList(opts: { env?: string; limit?: number; beforeId?: number } = {}): Promise<AuditRecord[]> {
    const req: Request = { op: 'audit_list' };
    if (opts.env) req.env = opts.env;
    if (opts.limit) req.limit = opts.limit;
    if (opts.beforeId !== undefined) req.before_id = opts.beforeId;
    return this.expect(req, 'audit');
  }
  auditVerify(): Promise<VerifyReport> {
    return this.expect({ op: 'audit_verify' }, 'verified');
  }
  /** A folder's migrations against one environment's history table. */
  async migrateStatus(name: string, src: MigrationSource): Promise<MigrationOverview> {
    const data = await this.expect({ op: 'migrate_status', name, ...src }, 'migration_status');
    return data;
  }
  /** The pending migrations with their SQL, linted against the live target. */
  async migratePlan(name: string, src: MigrationSource): Promise<MigrationPlan> {
    const data = await this.expect({ op: 'migrate_plan', name, ...src }, 'migration_plan');
    return data;
  }
  /** Apply the pending migrations (up to `target`), or try them and roll back (`dryRun`).
   *  Progress comes as `migration_progress` events; on prod `confirm` is the name. */
  async migrateApply(
    name: string,
    src: MigrationSource,
    opts: { target?: string; dryRun?: boolean; lockTimeoutMs?: number; statementTimeoutS?: number; retries?: number; confirm?: string } = {},
  ): Promise<RunReport> {
    const req: Request = { op: 'migrate_apply', name, ...src };
    if (opts.target) req.target = opts.target;
    if (opts.dryRun) req.dry_run = true;
    if (opts.lockTimeoutMs !== undefined) req.lock_timeout_ms = Math.round(opts.lockTimeoutMs);
    if (opts.statementTimeoutS !== undefined) req.statement_timeout_s = Math.round(opts.statementTimeoutS);
    if (opts.retries !== undefined) req.retries = Math.round(opts.retries);
    if (opts.confirm !== undefined) req.confirm = opts.confirm;
    return (await this.expect(req, 'migration_run'));
  }
  /** Run the down scripts of the newest `steps` applied migrations (or down to `to`). */
  async migrateRollback(name: string, src: MigrationSource, opts: { steps?: number; to?: string; confirm?: string } = {}): Promise<RunReport> {
    const req: Request = { op: 'migrate_rollback', name, ...src };
    if (opts.steps !== undefined) req.steps = opts.steps;
    if (opts.to) req.to = opts.to;
    if (opts.confirm !== undefined) req.confirm = opts.confirm;
    return (await this.expect(req, 'migration_run'));
  }
  /** Accept a modified or failed version's file as it is now (audited); the schema is not touched. */
  async migrateRepair(name: string, src: MigrationSource, version: string, confirm?: string): Promise<MigrationOverview> {
    const req: Request = { op: 'migrate_repair', name, ...src, version };
    if (confirm !== undefined) req.confirm = confirm;
    return (await this.expect(req, 'migration_status'));
  }
  /** The folder's versions × environments (all of them unless `envs`), with a verdict each. */
  migrateDrift(src: MigrationSource, envs?: string[]): Promise<DriftMatrix> {
    const req: Request = { op: 'migrate_drift', ...src };
    if (envs?.length) req.envs = envs;
    return this.expect(req, 'drift');
  }
  /** Apply, dump, roll back, apply again and compare, on a scratch database (PostgreSQL only). */
  migrateTestRollback(name: string, src: MigrationSource): Promise<RollbackTest> {
    return this.expect({ op: 'migrate_test_rollback', name, ...src }, 'rollback_test');
  }
  /** The lock-safety lint of scripts (in parallel); with `name`, weighed against that environment's tables. */
  lint(scripts: LintInput[], name?: string): Promise<LintReport[]> {
    const req: Request = { op: 'lint', scripts };
    if (name) req.name = name;
    return this.expect(req, 'lint');
  }

  /** Who is primary, who streams from whom, each standby's lag (recorded as history). */
  replicationStatus(name: string): Promise<Topology> {
    return this.expect({ op: 'replication_status', name }, 'topology');
  }
  /** The primary's replication slots with a forecast; each read records a sample of it. */
  replicationSlots(name: string): Promise<SlotsReport> {
    return this.expect({ op: 'replication_slots', name }, 'slots');
  }
  /** Each standby's replay lag over the last `minutes`, the threshold drawn as a line. */
  chartReplicationLag(name: string, minutes: number, opts: { width?: number; height?: number } = {}): Promise<Chart> {
    const req: Request = { op: 'chart_replication_lag', name, minutes };
    if (opts.width) req.width = Math.round(opts.width);
    if (opts.height) req.height = Math.round(opts.height);
    return this.expect(req, 'chart');
  }
  /** A planned switchover to the replica `to` (or its pre-checks only, changing nothing).
   *  Phases come as `replication_progress` events; on prod `confirm` is the name. */
  switchover(
    name: string,
    to: string,
    opts: { checkOnly?: boolean; confirm?: string; catchupTimeoutS?: number; job?: string } = {},
  ): Promise<FlowReport> {
    const req: Request = { op: 'switchover', name, to };
    if (opts.checkOnly) req.check_only = true;
    if (opts.job) req.job = opts.job;
    if (opts.confirm !== undefined) req.confirm = opts.confirm;
    if (opts.catchupTimeoutS) req.catchup_timeout_s = Math.round(opts.catchupTimeoutS);
    return this.expect(req, 'flow');
  }
  /** Promote `to`, or the most advanced standby, when the primary is gone. `force` (the
   *  environment's name) goes on while another node still answers as primary. */
  failover(
    name: string,
    opts: { to?: string; confirm?: string; force?: string; checkOnly?: boolean; job?: string } = {},
  ): Promise<FlowReport> {
    const req: Request = { op: 'failover', name };
    if (opts.checkOnly) req.check_only = true;
    if (opts.job) req.job = opts.job;
    if (opts.to) req.to = opts.to;
    if (opts.confirm !== undefined) req.confirm = opts.confirm;
    if (opts.force !== undefined) req.force = opts.force;
    return this.expect(req, 'flow');
  }
  /** Rewind `node` (typically the old primary) and start it as a standby of the primary. */
  rejoin(name: string, node: string, confirm?: string, job?: string): Promise<FlowReport> {
    const req: Request = { op: 'rejoin', name, node };
    if (job) req.job = job;
    if (confirm !== undefined) req.confirm = confirm;
    return this.expect(req, 'flow');
  }
}

/**
 * Plans come with their nodes as a table (`compact`: a 10,000-node plan is a third of the JSON
 * to parse). Each node here is a small object over its row: the columns are getters on one
 * shared prototype, so opening a 10,000-node plan makes 10,000 one-slot objects rather than
 * 10,000 copies of 45 properties (0.4 ms against about 100 ms, and the garbage after it). The
 * buffer counters and `fields` are built the first time they are read, then kept. Fields
 * PostgreSQL printed that a typed column repeats were left out on the wire; the row's
 * `fields_order` names one of the table's `orders`, which puts them back from their columns
 * in the order EXPLAIN printed them (see src/plan/wire.rs).
 */
export function decodeNodes(t: NodeTable): PlanNode[] {
  type RowNode = { [ROW]: unknown[]; [k: string]: unknown };
  const proto: object = {};
  const column = (name: string, get: (this: RowNode) => unknown) =>
    Object.defineProperty(proto, name, { enumerable: true, configurable: true, get });
  let orderAt = -1;
  let fieldsAt = -1;
  t.columns.forEach((c, i) => {
    if (typeof c === 'string') {
      if (c === 'fields_order') orderAt = i;
      else if (c === 'fields') fieldsAt = i;
      else column(c, function () {
        return this[ROW][i];
      });
      return;
    }
    const [name, keys] = c;
    const slot = `_${name}`;
    column(name, function () {
      let o = this[slot] as Record<string, unknown> | null | undefined;
      if (o === undefined) {
        const cell = this[ROW][i] as unknown[] | null;
        if (cell === null) o = null;
        else {
          o = {};
          for (let k = 0; k < keys.length; k++) o[keys[k]] = cell[k];
        }
        this[slot] = o;
      }
      return o;
    });
  });
  const restore = t.restore.map(([raw, path]) => {
    const dot = path.indexOf('.');
    return { raw, col: dot < 0 ? path : path.slice(0, dot), key: dot < 0 ? null : path.slice(dot + 1) };
  });
  const orders = t.orders ?? [];
  const restores = orders.map((o) => o.some((e) => e >= 0));
  column('fields', function () {
    if (this._fields !== undefined) return this._fields;
    const thin = (fieldsAt < 0 ? {} : this[ROW][fieldsAt]) as Record<string, unknown>;
    const at = orderAt < 0 ? -1 : (this[ROW][orderAt] as number);
    let fields = thin;
    if (restores[at]) {
      // Each entry in turn: a field put back from its column, or (-1) the next one the row kept.
      const kept = Object.keys(thin);
      let k = 0;
      fields = {};
      for (const e of orders[at]) {
        if (e < 0) {
          const name = kept[k++];
          if (name !== undefined) fields[name] = thin[name];
        } else {
          const r = restore[e];
          fields[r.raw] = r.key === null ? this[r.col] : (this[r.col] as Record<string, unknown>)[r.key];
        }
      }
      for (; k < kept.length; k++) fields[kept[k]] = thin[kept[k]];
    }
    this._fields = fields;
    return fields;
  });
  const out: PlanNode[] = new Array(t.rows.length);
  for (let r = 0; r < t.rows.length; r++) {
    const node = Object.create(proto) as RowNode;
    node[ROW] = t.rows[r];
    out[r] = node as unknown as PlanNode;
  }
  return out;
}

/** Where a decoded node keeps its row. */
const ROW = Symbol('row');

/** A plan answer with its nodes back in `plan.nodes`. */
function withNodes(report: PlanReport): PlanReport {
  if (!report.node_table) return report;
  const { node_table, ...rest } = report;
  return { ...rest, plan: { ...report.plan, nodes: decodeNodes(node_table) } };
}
