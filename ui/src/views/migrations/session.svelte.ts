// What the Migrations page is working on — the folder, the status, the drift matrix and the
// apply wizard with its results — kept while the person visits other pages: an apply started
// here goes on, and its progress and report are waiting when they come back. The requests are
// made here, not in the views, for that reason. Answers are held raw: replaced whole, never
// edited.

import type { DriftMatrix, RollbackTest } from '../../bindings/api';
import { toApiCallError, type ApiCallError } from '../../lib/backend';
import type { MigrationOverview, MigrationPlan, MigrationSource, RunReport } from '../../lib/backend/api';
import { api, app } from '../../lib/state.svelte';
import { advance, newRun, rememberedFolder, rememberFolder, settle, type LiveRun, type RunKind } from './model';

export type Tab = 'status' | 'drift' | 'wizard';
export type StepId = 'plan' | 'lint' | 'dry' | 'gate' | 'confirm' | 'apply' | 'verify';
export const STEPS: { id: StepId; label: string }[] = [
  { id: 'plan', label: 'Plan' },
  { id: 'lint', label: 'Lint' },
  { id: 'dry', label: 'Dry run' },
  { id: 'gate', label: 'Rollback test' },
  { id: 'confirm', label: 'Confirm' },
  { id: 'apply', label: 'Apply' },
  { id: 'verify', label: 'Verify' },
];
export const stepIndex = (id: StepId) => STEPS.findIndex((s) => s.id === id);

export type Failed = { what: string; error: ApiCallError };

/** The rollback test's outcome: it ran (and passed or not), it could not run on SQLite, or it
 *  failed to start (unreachable, no rights to create a database…). */
export type Gate = { kind: 'passed' | 'failed'; test: RollbackTest } | { kind: 'skipped'; error: ApiCallError } | { kind: 'error'; error: ApiCallError };

function keyOf(env: string | null, src: MigrationSource): string {
  return JSON.stringify([env, src.dir, src.format ?? null]);
}

/** One read the page shows (status, drift): its answer, what it was for, when, and its error. */
class Loaded<T> {
  data = $state.raw<T | null>(null);
  error = $state.raw<Failed | null>(null);
  busy = $state(false);
  /** The environment and folder `data` is about; '' when nothing was read yet (or it is stale). */
  key = $state('');
  at = $state<number | null>(null);
  private seq = 0;

  async load(key: string, what: string, op: string, read: () => Promise<T>) {
    const mine = ++this.seq;
    this.busy = true;
    if (key !== this.key) this.data = null;
    this.key = key;
    try {
      const d = await read();
      if (mine !== this.seq) return;
      this.data = d;
      this.error = null;
      this.at = Date.now();
    } catch (e) {
      if (mine === this.seq) this.error = { what, error: toApiCallError(e, op) };
    } finally {
      if (mine === this.seq) this.busy = false;
    }
  }
  /** Read again when next shown. */
  stale() {
    this.key = '';
  }
}

class Wizard {
  /** The environment and folder the wizard works on (the page's, when it started). */
  env = $state<string | null>(null);
  src = $state.raw<MigrationSource>({ dir: '' });
  step = $state<StepId>('plan');
  /** The furthest step the stepper lets the person go back and forth to. */
  reached = $state(0);
  busy = $state<null | 'plan' | RunKind>(null);
  error = $state.raw<(Failed & { step: StepId }) | null>(null);
  plan = $state.raw<MigrationPlan | null>(null);
  dry = $state.raw<RunReport | null>(null);
  gate = $state.raw<Gate | null>(null);
  /** Continue past a rollback test that did not pass (or was skipped), said in so many words. */
  gateAck = $state(false);
  /** Outside prod the test may be left out; the stepper then says so. */
  gateLeftOut = $state(false);
  lockTimeoutMs = $state(5000);
  retries = $state(3);
  statementTimeoutS = $state(0);
  /** Apply up to and including this version; '' for every pending one. */
  target = $state('');
  live = $state.raw<LiveRun | null>(null);
  run = $state.raw<RunReport | null>(null);
  back = $state.raw<RunReport | null>(null);
  /** How many of this run's migrations to roll back, newest first; 0 for all of them. */
  rollbackSteps = $state(0);
  /** The server asked for the typed name: the view opens the prod confirmation for this. */
  needConfirm = $state<null | 'apply' | 'rollback'>(null);
  private gen = 0;
  private listening = false;

  /** Something irreversible happened (or is happening): the wizard keeps its place. */
  get committed(): boolean {
    return this.busy === 'apply' || this.busy === 'rollback' || !!this.run || !!this.back;
  }
  get isFor(): string {
    return keyOf(this.env, this.src);
  }
  /** Versions this run applies: every pending one, or those up to the target. */
  get chosen() {
    const steps = this.plan?.steps ?? [];
    if (!this.target) return steps;
    const i = steps.findIndex((s) => s.version === this.target);
    return i < 0 ? steps : steps.slice(0, i + 1);
  }
  get appliedInRun(): number {
    return this.run?.steps.filter((s) => s.outcome === 'applied').length ?? 0;
  }
  get toRollBack(): number {
    return Math.min(this.rollbackSteps || this.appliedInRun, this.appliedInRun);
  }

  reset(env: string | null, src: MigrationSource) {
    this.gen++;
    this.env = env;
    this.src = src;
    this.step = 'plan';
    this.reached = 0;
    this.busy = null;
    this.error = null;
    this.plan = null;
    this.dry = null;
    this.gate = null;
    this.gateAck = false;
    this.gateLeftOut = false;
    this.target = '';
    this.live = null;
    this.run = null;
    this.back = null;
    this.rollbackSteps = 0;
    this.needConfirm = null;
  }

  go(step: StepId) {
    const i = stepIndex(step);
    if (i <= this.reached) this.step = step;
  }
  advanceTo(step: StepId) {
    this.reached = Math.max(this.reached, stepIndex(step));
    this.step = step;
    this.error = null;
  }

  private listen() {
    if (this.listening) return;
    this.listening = true;
    app.onEventOf((e) => {
      if (e.type !== 'migration_progress' || !this.live || this.live.endedAt !== null || e.env !== this.live.env) return;
      this.live = advance(this.live, e.progress);
    });
  }
  private startLive(kind: RunKind) {
    this.listen();
    this.live = newRun(kind, this.env ?? '');
  }
  private endLive(report: RunReport | null = null) {
    if (this.live && this.live.endedAt === null) this.live = settle(this.live, report);
  }

  async makePlan() {
    const env = this.env;
    if (!env || !this.src.dir || this.busy) return;
    const gen = this.gen;
    this.busy = 'plan';
    this.error = null;
    try {
      const p = await api().migratePlan(env, this.src);
      if (gen !== this.gen) return;
      // A new plan: what was tried against the old one no longer holds.
      this.plan = p;
      this.dry = null;
      this.gate = null;
      this.gateAck = false;
      this.gateLeftOut = false;
      this.target = '';
      this.reached = 0;
      this.step = 'plan';
    } catch (e) {
      if (gen === this.gen) this.error = { step: 'plan', what: `Planning ${this.src.dir} on ${env} failed`, error: toApiCallError(e, 'migrate_plan') };
    } finally {
      if (gen === this.gen) this.busy = null;
    }
  }

  async dryRun() {
    const env = this.env;
    if (!env || this.busy) return;
    const gen = this.gen;
    this.busy = 'dry';
    this.error = null;
    this.dry = null;
    this.startLive('dry');
    try {
      const r = await api().migrateApply(env, this.src, { dryRun: true, lockTimeoutMs: this.lockTimeoutMs, retries: this.retries, statementTimeoutS: this.statementTimeoutS });
      if (gen === this.gen) {
        this.dry = r;
        this.endLive(r);
      }
    } catch (e) {
      if (gen === this.gen) this.error = { step: 'dry', what: `The dry run on ${env} could not run`, error: toApiCallError(e, 'migrate_apply') };
    } finally {
      if (gen === this.gen) {
        this.busy = null;
        this.endLive();
      }
    }
  }

  async testRollback(sqlite: boolean) {
    const env = this.env;
    if (!env || this.busy) return;
    const gen = this.gen;
    this.busy = 'gate';
    this.error = null;
    this.gate = null;
    this.gateAck = false;
    this.gateLeftOut = false;
    this.startLive('gate');
    try {
      const t = await api().migrateTestRollback(env, this.src);
      if (gen === this.gen) this.gate = { kind: t.ok ? 'passed' : 'failed', test: t };
    } catch (e) {
      const error = toApiCallError(e, 'migrate_test_rollback');
      if (gen === this.gen) this.gate = sqlite && error.code === 'invalid_input' ? { kind: 'skipped', error } : { kind: 'error', error };
    } finally {
      if (gen === this.gen) {
        this.busy = null;
        this.endLive();
      }
    }
  }

  async apply(onChanged: () => void, confirm?: string) {
    const env = this.env;
    if (!env || this.busy) return;
    this.busy = 'apply';
    this.error = null;
    this.needConfirm = null;
    this.run = null;
    this.back = null;
    this.rollbackSteps = 0;
    this.advanceTo('apply');
    this.startLive('apply');
    try {
      this.run = await api().migrateApply(env, this.src, {
        target: this.target || undefined,
        lockTimeoutMs: this.lockTimeoutMs,
        retries: this.retries,
        statementTimeoutS: this.statementTimeoutS,
        confirm,
      });
      this.endLive(this.run);
      this.advanceTo('verify');
    } catch (e) {
      const error = toApiCallError(e, 'migrate_apply');
      if (error.code === 'confirmation_required' && confirm === undefined) {
        this.step = 'confirm';
        this.needConfirm = 'apply';
      } else {
        this.error = { step: 'apply', what: `Applying migrations on ${env} failed`, error };
      }
    } finally {
      this.busy = null;
      this.endLive();
      onChanged();
    }
  }

  async rollback(onChanged: () => void, confirm?: string) {
    const env = this.env;
    const steps = this.toRollBack;
    if (!env || this.busy || !steps) return;
    this.busy = 'rollback';
    this.error = null;
    this.needConfirm = null;
    this.back = null;
    this.startLive('rollback');
    try {
      this.back = await api().migrateRollback(env, this.src, { steps, confirm });
      this.endLive(this.back);
    } catch (e) {
      const error = toApiCallError(e, 'migrate_rollback');
      if (error.code === 'confirmation_required' && confirm === undefined) this.needConfirm = 'rollback';
      else this.error = { step: 'verify', what: `Rolling back on ${env} failed`, error };
    } finally {
      this.busy = null;
      this.endLive();
      onChanged();
    }
  }
}

class MigrationSession {
  tab = $state<Tab>('status');
  /** The environment `src` was chosen for, and the folder (with its tool, when not detected). */
  srcEnv = $state<string | null>(null);
  src = $state.raw<MigrationSource>({ dir: '' });
  status = new Loaded<MigrationOverview>();
  drift = new Loaded<DriftMatrix>();
  wizard = new Wizard();

  get key(): string {
    return keyOf(this.srcEnv, this.src);
  }
  get driftKey(): string {
    return keyOf(null, this.src);
  }

  /** The current environment changed (or the page opened): take its remembered folder. */
  follow(env: string | null) {
    if (env === this.srcEnv) return;
    this.srcEnv = env;
    const demo = app.info?.demo_migrations ? { env: 'demo', dir: app.info.demo_migrations } : null;
    this.src = env ? rememberedFolder(env, demo) : { dir: '' };
  }

  setFolder(src: MigrationSource) {
    this.src = src.dir.trim() ? { ...src, dir: src.dir.trim() } : { dir: '' };
    if (this.srcEnv && this.src.dir) rememberFolder(this.srcEnv, this.src);
  }

  loadStatus() {
    const env = this.srcEnv;
    const src = this.src;
    if (!env || !src.dir) return;
    void this.status.load(this.key, `Reading the status of ${src.dir} on ${env} failed`, 'migrate_status', () => api().migrateStatus(env, src));
  }

  loadDrift() {
    const src = this.src;
    if (!src.dir) return;
    void this.drift.load(this.driftKey, `Comparing the environments against ${src.dir} failed`, 'migrate_drift', () => api().migrateDrift(src));
  }

  /** After anything that wrote to a history table: read the status again, the drift when next shown. */
  changed = () => {
    this.drift.stale();
    if (this.wizard.env === this.srcEnv && keyOf(this.wizard.env, this.wizard.src) === this.key) this.loadStatus();
    else this.status.stale();
  };

  /** Repair one version (the dialog shows an error thrown here). */
  async repair(version: string, confirm?: string) {
    const env = this.srcEnv;
    if (!env) return;
    const o = await api().migrateRepair(env, this.src, version, confirm);
    this.status.data = o;
    this.status.error = null;
    this.status.at = Date.now();
    this.drift.stale();
    // A plan made while the version was blocked is out of date.
    if (!this.wizard.committed && this.wizard.isFor === this.key) this.wizard.reset(env, this.src);
  }
}

export const migrations = new MigrationSession();
