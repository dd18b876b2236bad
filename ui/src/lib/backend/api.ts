// Typed calls: `await api.envList()` instead of building a Request and switching on `kind`.
// Each helper checks that the response has the kind it expects, so a mismatch between UI and
// backend versions shows up as a readable error instead of `undefined` somewhere later.

import type {
  AppInfo,
  AuditRecord,
  Chart,
  EnvInput,
  EnvSummary,
  Environment,
  HealthSample,
  ImportReport,
  PoolMetrics,
  SecretStatus,
  Snapshot,
  TestReport,
  VerifyReport,
} from '../../bindings/api';
import { ApiCallError, type Backend, type Request, type Response } from './types';

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
}
