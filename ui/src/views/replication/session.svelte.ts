// What the Replication page is doing — a switchover being guided step by step, a failover, a
// rejoin — kept while the person visits other pages: a flow started here goes on, and its
// phases and report are waiting when they come back. The flow requests are made here, not in
// the views, for that reason. Answers are held raw: replaced whole, never edited.

import type { FlowReport } from '../../bindings/api';
import { toApiCallError, type ApiCallError } from '../../lib/backend';
import { api, app } from '../../lib/state.svelte';
import { foldPhase, newFlow, ownsJob, settleFlow, type FlowKind, type LiveFlow } from './model';

export type Tab = 'status' | 'switchover' | 'failover';

/** One run of a flow: its live phases (from `replication_progress` events), then its report. */
export class FlowJob {
  live = $state.raw<LiveFlow | null>(null);
  report = $state.raw<FlowReport | null>(null);
  error = $state.raw<ApiCallError | null>(null);
  busy = $state(false);
  /** The server asked for the environment's name (it became prod): the view asks for it. */
  needConfirm = $state(false);
  private listening = false;

  constructor(readonly kind: FlowKind) {}

  reset() {
    if (this.busy) return;
    this.live = null;
    this.report = null;
    this.error = null;
    this.needConfirm = false;
  }

  private listen() {
    if (this.listening) return;
    this.listening = true;
    app.onEventOf((e) => {
      if (e.type !== 'replication_progress' || !this.busy || !this.live) return;
      if (e.env !== this.live.env || !ownsJob(this.live, e.job)) return;
      this.live = foldPhase(this.live, e.job, e.phase);
    });
  }

  /** Run `call`; null when it failed (the error is kept) or the name must be typed first. */
  async run(env: string, op: string, call: (job: string) => Promise<FlowReport>, confirmed: boolean): Promise<FlowReport | null> {
    if (this.busy) return null;
    this.listen();
    this.busy = true;
    this.error = null;
    this.report = null;
    this.needConfirm = false;
    const live = newFlow(this.kind, env);
    this.live = live;
    try {
      const r = await call(live.job ?? '');
      this.report = r;
      this.live = settleFlow(this.live, r);
      return r;
    } catch (e) {
      const error = toApiCallError(e, op);
      if (error.code === 'confirmation_required' && !confirmed) {
        this.needConfirm = true;
        this.live = null;
      } else {
        this.error = error;
        if (this.live) this.live = settleFlow(this.live, null);
      }
      return null;
    } finally {
      this.busy = false;
    }
  }
}

/** What a switchover and a failover share: the environment, the guided steps (`reached`: the
 *  furthest one may go back to), the flow's job, and rejoining the old primary after it. */
class Flow<S extends string> {
  env = $state<string | null>(null);
  step = $state('') as S;
  reached = $state(0);
  readonly run: FlowJob;
  readonly rejoin = new FlowJob('rejoin');

  constructor(
    kind: FlowKind,
    private readonly steps: readonly { id: S }[],
  ) {
    this.run = new FlowJob(kind);
    this.step = steps[0].id;
  }

  /** A flow is running: starting another means leaving its report. */
  get busy(): boolean {
    return this.run.busy || this.rejoin.busy;
  }

  go(step: S) {
    const i = this.steps.findIndex((s) => s.id === step);
    if (i <= this.reached) this.step = step;
  }
  advanceTo(step: S) {
    this.reached = Math.max(this.reached, this.steps.findIndex((s) => s.id === step));
    this.step = step;
  }

  /** Rejoin the node the flow demoted: after it, the old primary has the promoted standby's name. */
  async doRejoin(onChanged: () => void, confirm?: string) {
    const env = this.env;
    const node = this.run.report?.to;
    if (!env || !node || this.busy) return;
    await this.rejoin.run(env, 'rejoin', (job) => api().rejoin(env, node, confirm, job), confirm !== undefined);
    onChanged();
  }
}

export type SwitchoverStep = 'checks' | 'confirm' | 'run' | 'report';
export const SWITCHOVER_STEPS: { id: SwitchoverStep; label: string }[] = [
  { id: 'checks', label: 'Pre-checks' },
  { id: 'confirm', label: 'Confirm' },
  { id: 'run', label: 'Switch over' },
  { id: 'report', label: 'Report' },
];

/** A planned switchover, guided: pre-checks (nothing changes), confirm, run, report — and
 *  rejoining the old primary afterwards. */
class Switchover extends Flow<SwitchoverStep> {
  to = $state<string | null>(null);
  checks = $state.raw<FlowReport | null>(null);
  checking = $state(false);
  checkError = $state.raw<ApiCallError | null>(null);
  /** How long the candidate may take to replay up to the fence (the server's default is 30 s). */
  catchupTimeoutS = $state(30);
  private gen = 0;

  constructor() {
    super('switchover', SWITCHOVER_STEPS);
  }

  /** A flow is running or has run. */
  get committed(): boolean {
    return this.busy || !!this.run.report || !!this.run.error;
  }
  get checksFailed(): boolean {
    return !!this.checks && !this.checks.ok;
  }

  /** Begin a switchover of `env` to its replica `to` with the pre-checks. */
  start(env: string, to: string) {
    if (this.busy) return;
    this.gen++;
    this.env = env;
    this.to = to;
    this.step = 'checks';
    this.reached = 0;
    this.checks = null;
    this.checkError = null;
    this.checking = false;
    this.catchupTimeoutS = 30;
    this.run.reset();
    this.rejoin.reset();
    void this.check();
  }

  close() {
    if (this.busy) return;
    this.gen++;
    this.env = null;
    this.to = null;
    this.checks = null;
    this.checkError = null;
    this.checking = false;
    this.step = 'checks';
    this.reached = 0;
    this.run.reset();
    this.rejoin.reset();
  }

  /** The pre-checks only: nothing changes (check_only). */
  async check() {
    const env = this.env;
    const to = this.to;
    if (!env || !to || this.checking || this.committed) return;
    const gen = this.gen;
    this.checking = true;
    this.checkError = null;
    try {
      const r = await api().switchover(env, to, { checkOnly: true });
      if (gen === this.gen) this.checks = r;
    } catch (e) {
      if (gen === this.gen) {
        this.checks = null;
        this.checkError = toApiCallError(e, 'switchover');
      }
    } finally {
      if (gen === this.gen) this.checking = false;
    }
  }

  async execute(onChanged: () => void, confirm?: string) {
    const env = this.env;
    const to = this.to;
    if (!env || !to || this.busy || this.checksFailed) return;
    this.advanceTo('run');
    const timeout = Number.isFinite(this.catchupTimeoutS) && this.catchupTimeoutS > 0 ? this.catchupTimeoutS : undefined;
    const r = await this.run.run(env, 'switchover', (job) => api().switchover(env, to, { confirm, catchupTimeoutS: timeout, job }), confirm !== undefined);
    if (r) this.advanceTo('report');
    else if (this.run.needConfirm) this.step = 'confirm';
    onChanged();
  }
}

export type FailoverStep = 'choose' | 'run' | 'report';
export const FAILOVER_STEPS: { id: FailoverStep; label: string }[] = [
  { id: 'choose', label: 'Candidate' },
  { id: 'run', label: 'Fail over' },
  { id: 'report', label: 'Report' },
];

/** An unplanned failover: choose the candidate (or let dbdeck take the most advanced
 *  standby), confirm, run, report — forced, with the name typed, when a primary still answers. */
class Failover extends Flow<FailoverStep> {
  /** '' lets dbdeck choose the most advanced standby. */
  to = $state('');
  /** The last run was the forced one. */
  forced = $state(false);

  constructor() {
    super('failover', FAILOVER_STEPS);
  }

  /** Show the flow for `env`: a new one unless it is this environment's, still open. */
  open(env: string) {
    if (this.busy || this.env === env) return;
    this.env = env;
    this.to = '';
    this.step = 'choose';
    this.reached = 0;
    this.forced = false;
    this.run.reset();
    this.rejoin.reset();
  }

  startOver() {
    if (this.busy) return;
    this.step = 'choose';
    this.reached = 0;
    this.forced = false;
    this.run.reset();
    this.rejoin.reset();
  }

  close() {
    if (this.busy) return;
    this.startOver();
    this.env = null;
    this.to = '';
  }

  async execute(onChanged: () => void, opts: { confirm?: string; force?: string } = {}) {
    const env = this.env;
    if (!env || this.busy) return;
    this.forced = opts.force !== undefined;
    this.advanceTo('run');
    const to = this.to || undefined;
    const r = await this.run.run(env, 'failover', (job) => api().failover(env, { to, ...opts, job }), opts.confirm !== undefined);
    if (r) this.advanceTo('report');
    else if (this.run.needConfirm) this.step = 'choose';
    onChanged();
  }
}

class ReplicationSession {
  tab = $state<Tab>('status');
  switchover = new Switchover();
  failover = new Failover();
  /** Bumped after every flow: the page reads the topology and the slots again. */
  changes = $state(0);

  changed = () => {
    this.changes++;
  };
}

export const replication = new ReplicationSession();
