// The Compare tab's work, kept outside the component: plan A (the plan shown) against a plan B
// that is either pasted or explained on another environment with the same statement, options,
// values and timeout. It lives with the plan in the page's session, so switching tabs or pages
// while a long EXPLAIN ANALYZE runs loses nothing, and an error never touches plan A.
// Plans are held raw: a comparison of two 10,000-node plans must not become proxies.

import type { ExplainOptions, PlanComparison, PlanReport } from '../../bindings/api';
import { toApiCallError, type ApiCallError } from '../../lib/backend';
import { api } from '../../lib/state.svelte';
import { rawFor } from './model';

/** How plan A was obtained, when dbdeck ran it: what to run again on another environment. */
export type ExplainOrigin = {
  env: string;
  sql: string;
  options: ExplainOptions;
  /** Values for $1…$n, in order; empty when there were none. */
  params: string[];
  timeoutS: number;
};

/** What plan B is. */
export type SideB =
  | { kind: 'paste'; chars: number }
  | { kind: 'env'; env: string; method: string; rolledBack: boolean; chars: number; atMs: number };

export type CompareError = { what: string; error: ApiCallError; retry: (() => void) | null };

export class CompareState {
  /** The plan shown (A); never changed here. */
  readonly report: PlanReport;
  readonly origin: ExplainOrigin | null;
  /** The pasted text of plan B, kept across tab switches. */
  paste = $state('');
  /** The environment picked to run B on (null: the page's default). */
  env = $state<string | null>(null);
  result = $state.raw<PlanComparison | null>(null);
  b = $state.raw<SideB | null>(null);
  busy = $state<null | 'paste' | 'explain' | 'compare'>(null);
  /** Which environment `busy` is running on, for the status line. */
  busyEnv = $state<string | null>(null);
  error = $state.raw<CompareError | null>(null);
  /** The inputs are open again over a result ("Change plan B"). */
  editing = $state(false);
  /** B explained but not yet compared (the compare failed): retried without running B again. */
  private explainedB: { raw: string; side: SideB } | null = null;
  private rawA: string | null = null;

  constructor(report: PlanReport, origin: ExplainOrigin | null) {
    this.report = report;
    this.origin = origin;
  }

  /** Plan A as the backend reads it (computed once: for SQLite it is rebuilt as JSON). */
  get a(): string {
    return (this.rawA ??= rawFor(this.report));
  }

  /** "A" and "B", or "A · staging" and "B · prod" when B was explained on an environment. */
  get labels(): { a: string; b: string; aEnv: string | null; bEnv: string | null } {
    const b = this.b;
    if (b?.kind === 'env' && this.origin) return { a: `A · ${this.origin.env}`, b: `B · ${b.env}`, aEnv: this.origin.env, bEnv: b.env };
    return { a: 'A', b: 'B', aEnv: null, bEnv: null };
  }

  async comparePaste(): Promise<void> {
    const text = this.paste;
    if (!text.trim() || this.busy) return;
    this.busy = 'paste';
    this.busyEnv = null;
    this.error = null;
    try {
      const result = await api().planCompare(this.a, text);
      this.result = result;
      this.b = { kind: 'paste', chars: text.length };
      this.editing = false;
    } catch (err) {
      this.error = { what: 'Comparing the plans failed', error: toApiCallError(err, 'plan_compare'), retry: () => void this.comparePaste() };
    } finally {
      this.busy = null;
    }
  }

  /**
   * EXPLAIN the statement of plan A on `env` with A's options and values, then compare.
   * Returns 'confirm' when the server asks for the environment's name (it is prod) and none
   * was given: the caller opens the prod confirmation and calls again with the typed name.
   */
  async explainOn(env: string, confirm?: string): Promise<'confirm' | void> {
    const o = this.origin;
    if (!o || this.busy) return;
    this.busy = 'explain';
    this.busyEnv = env;
    this.error = null;
    this.explainedB = null;
    let explained: { raw: string; side: SideB };
    try {
      const r = await api().explain(env, o.sql, o.options, { params: o.params.length ? o.params : undefined, timeoutS: o.timeoutS, confirm });
      explained = {
        raw: rawFor(r),
        side: { kind: 'env', env, method: r.method, rolledBack: r.rolled_back, chars: r.raw.length, atMs: Date.now() },
      };
    } catch (err) {
      this.busy = null;
      this.busyEnv = null;
      const error = toApiCallError(err, 'explain');
      if (error.code === 'confirmation_required' && confirm === undefined) return 'confirm';
      this.error = {
        what: `Explaining the statement on ${env} failed`,
        error,
        // A refused confirmation is not retried blindly: the name has to be typed again.
        retry: error.code === 'confirmation_required' ? null : () => void this.explainOn(env, confirm),
      };
      return;
    }
    this.explainedB = explained;
    await this.compareExplained();
  }

  /** Compare A with the B just explained (again, after a failed compare). */
  async compareExplained(): Promise<void> {
    const e = this.explainedB;
    if (!e) return;
    this.busy = 'compare';
    this.error = null;
    try {
      this.result = await api().planCompare(this.a, e.raw);
      this.b = e.side;
      this.editing = false;
      this.explainedB = null;
    } catch (err) {
      this.error = { what: 'Comparing the plans failed', error: toApiCallError(err, 'plan_compare'), retry: () => void this.compareExplained() };
    } finally {
      this.busy = null;
      this.busyEnv = null;
    }
  }
}

/** The Compare tab's state for a plan just shown; `ran` is how dbdeck explained it, if it did. */
export function compareFor(report: PlanReport, ran: { params: string[]; timeoutS: number } | null): CompareState {
  const origin: ExplainOrigin | null =
    report.env && report.sql && report.options && ran
      ? { env: report.env, sql: report.sql, options: report.options, params: ran.params, timeoutS: ran.timeoutS }
      : null;
  return new CompareState(report, origin);
}
