// What the Migrations page reads out of the API's answers: the tone and word of each state,
// the folder remembered per environment, the live progress of a run folded from its events,
// and the run report as text to copy. Pure functions and plain data; no requests.

import type { Checksum, DriftColumn, Failure, LintFinding, PlanStep, Progress, Severity, SourceFormat, State } from '../../bindings/api';
import type { MigrationSource, RunReport } from '../../lib/backend/api';
import { ms } from '../../lib/format';

export type Tone = 'ok' | 'warn' | 'crit' | 'info' | '';

export type { Mark } from '../../lib/components/Stepper.svelte';

/** A migration's state as a badge: its tone and what it means, for the title. */
export const STATE: Record<State, { tone: Tone; means: string }> = {
  applied: { tone: 'ok', means: 'applied, and the file still has the checksum recorded then' },
  pending: { tone: 'warn', means: 'in the folder, not applied yet' },
  modified: { tone: 'crit', means: 'applied, but the file changed since: applying is refused until it is restored or repaired' },
  missing: { tone: 'crit', means: 'in the history table, not in the folder' },
  failed: { tone: 'crit', means: 'the last run of it failed or never finished: applying is refused until it is repaired' },
  outdated: { tone: 'warn', means: 'a repeatable migration whose file changed: it will be applied again' },
  undone: { tone: 'info', means: 'undone by Flyway: pending again' },
};

/** A drift cell ("applied", …, "-" not in that history, "?" the environment could not be read). */
export function cellState(s: string): { tone: Tone; word: string; means: string } {
  if (s === '-') return { tone: '', word: '—', means: 'not in this environment’s history, nor in the folder' };
  if (s === '?') return { tone: '', word: 'unknown', means: 'the environment could not be read' };
  const known = STATE[s as State];
  return known ? { tone: known.tone, word: s, means: known.means } : { tone: '', word: s, means: s };
}

/** A drift column's verdict: "up to date", "behind by 3", "diverged: …", "unreachable". */
export function verdictTone(c: DriftColumn): 'ok' | 'warn' | 'crit' | 'down' {
  if (c.error !== null || c.verdict === 'unreachable') return 'down';
  if (c.verdict.startsWith('diverged')) return 'crit';
  if (c.pending > 0 || c.verdict.startsWith('behind')) return 'warn';
  return 'ok';
}

export const SEVERITY_TONE: Record<Severity, Tone> = { critical: 'crit', warning: 'warn', info: 'info' };
const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

export function findingsWorstFirst(fs: LintFinding[]): LintFinding[] {
  return [...fs].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.line - b.line || a.column - b.column);
}

export function severityCounts(steps: PlanStep[]): Record<Severity, number> {
  const out: Record<Severity, number> = { critical: 0, warning: 0, info: 0 };
  for (const s of steps) for (const f of s.lint.findings) out[f.severity]++;
  return out;
}

/** "20261101090000 create reviews", or the description alone for a repeatable. */
export function label(m: { version: string | null; description: string }): string {
  return m.version ? `${m.version} ${m.description}` : m.description;
}

/** The file's name, without its folder (the folder is on the page already). */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}

/** "sha384 1f0c9a2b…", short enough for a cell; the whole value goes in the title. */
export function checksumText(c: Checksum | null, full = false): string {
  if (!c) return '—';
  const v = String(c.value);
  return `${c.kind} ${full || v.length <= 12 ? v : `${v.slice(0, 12)}…`}`;
}

/** Where a failure happened, as editors take it: "file.sql:12:5". */
export function failurePlace(f: Failure): string {
  return [f.file, f.line, f.line !== null ? f.column : null].filter((x) => x !== null).join(':');
}

export function statementWord(f: Failure): string {
  return f.statement === 0 ? 'the whole script (SQLite runs it as one)' : `statement ${f.statement}`;
}

/** A verify line, "ok: …" or "FAILED: …", split into its verdict and its text. */
export function verifyLine(line: string): { ok: boolean; text: string } {
  const m = /^(ok|FAILED):\s*/i.exec(line);
  return m ? { ok: m[1].toLowerCase() === 'ok', text: line.slice(m[0].length) } : { ok: !/fail/i.test(line), text: line };
}

// ---- The folder, remembered per environment ----

const FOLDER_KEY = 'dbdeck.migrations.folder';

function readJson(key: string): MigrationSource | null {
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? 'null');
    return v && typeof v.dir === 'string' ? { dir: v.dir, ...(v.format ? { format: v.format as SourceFormat } : {}) } : null;
  } catch {
    return null;
  }
}

/** The folder last used with `env`; else the demo's folder for the demo environment; else the
 *  folder last used with any environment (a team's environments share one folder). */
export function rememberedFolder(env: string, demo: { env: string; dir: string } | null): MigrationSource {
  return readJson(`${FOLDER_KEY}.${env}`) ?? (demo && demo.env === env ? { dir: demo.dir } : null) ?? readJson(FOLDER_KEY) ?? { dir: '' };
}

export function rememberFolder(env: string, src: MigrationSource) {
  try {
    const v = JSON.stringify(src);
    localStorage.setItem(`${FOLDER_KEY}.${env}`, v);
    localStorage.setItem(FOLDER_KEY, v);
  } catch {
    // Storage refused (a private window): the folder is kept for this page only.
  }
}

// ---- A run's live progress, folded from `migration_progress` events ----

export type RunKind = 'dry' | 'apply' | 'rollback' | 'gate';

export type LiveRun = {
  kind: RunKind;
  env: string;
  startedAt: number;
  endedAt: number | null;
  /** The migration running now (1-based) and how many the run has. */
  k: number;
  n: number;
  label: string;
  attempt: number;
  statement: { i: number; count: number; excerpt: string } | null;
  retries: { k: number; attempt: number; wait_ms: number; reason: string; at: number }[];
  /** Migrations finished, in order. */
  done: { k: number; label: string; ok: boolean; ms: number }[];
  /** Progress events that arrived while the run went on. */
  events: number;
};

export function newRun(kind: RunKind, env: string, now = Date.now()): LiveRun {
  return { kind, env, startedAt: now, endedAt: null, k: 0, n: 0, label: '', attempt: 1, statement: null, retries: [], done: [], events: 0 };
}

/** The run after one event. A rollback test applies, rolls back and applies again: each pass
 *  starts again at k = 1, and the finished list starts over with it. */
export function advance(run: LiveRun, p: Progress, now = Date.now()): LiveRun {
  const r = { ...run, events: run.events + 1 };
  switch (p.phase) {
    case 'migration': {
      // A first attempt at a migration already finished: a new pass has begun.
      const restart = p.attempt === 1 && r.done.some((d) => d.k >= p.k);
      return { ...r, k: p.k, n: p.n, label: p.label, attempt: p.attempt, statement: null, done: restart ? [] : r.done };
    }
    case 'statement':
      return { ...r, statement: { i: p.i, count: p.count, excerpt: p.excerpt } };
    case 'retry':
      return { ...r, retries: [...r.retries, { k: p.k, attempt: p.attempt, wait_ms: p.wait_ms, reason: p.reason, at: now }] };
    case 'done':
      return { ...r, statement: null, done: [...r.done.filter((d) => d.k !== p.k), { k: p.k, label: p.k === r.k ? r.label : `migration ${p.k}`, ok: p.ok, ms: p.ms }] };
  }
}

/** The run ended: its report is what happened. Events travel apart from the answer and may
 *  come late or not at all (a dropped event stream), so the finished list is the report's. */
export function settle(r: LiveRun, report: RunReport | null, now = Date.now()): LiveRun {
  if (!report) return { ...r, endedAt: now, statement: null };
  const ran = report.steps.filter((s) => s.outcome !== 'not_run');
  const last = ran[ran.length - 1];
  return {
    ...r,
    endedAt: now,
    statement: null,
    n: report.steps.length,
    k: ran.length,
    label: last ? label(last) : r.label,
    done: ran.map((s, i) => ({ k: i + 1, label: label(s), ok: s.outcome !== 'failed', ms: s.ms })),
  };
}

/** Share of the run done, 0–100: finished migrations, plus the statements of the one running. */
export function runPct(r: LiveRun): number {
  if (!r.n) return 0;
  const finished = r.done.length;
  const current = r.statement && r.statement.count ? (r.statement.i - 1) / r.statement.count : 0;
  const running = r.done.some((d) => d.k === r.k) ? 0 : current;
  return Math.min(100, ((finished + running) / r.n) * 100);
}

// ---- Reports as text ----

const OUTCOME_WORD: Record<string, string> = {
  applied: 'applied',
  rolled_back: 'rolled back',
  dry_run_ok: 'ok (rolled back)',
  failed: 'FAILED',
  not_run: 'not run',
};
export function outcomeWord(o: string): string {
  return OUTCOME_WORD[o] ?? o;
}

/** A run as plain text, to paste into a ticket or a chat: steps with timings, checks, failure. */
export function reportText(r: RunReport, env: string, dir: string): string {
  const what = r.kind === 'dry_run' ? 'Dry run' : r.kind === 'rollback' ? 'Rollback' : 'Apply';
  const lines = [`${what} of ${dir} on ${env}: ${r.ok ? 'ok' : 'FAILED'} in ${ms(r.ms)}`, ''];
  r.steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${label(s)} — ${outcomeWord(s.outcome)}${s.outcome === 'not_run' ? '' : `, ${ms(s.ms)}`}${s.attempts > 1 ? `, ${s.attempts} attempts` : ''}`);
    if (s.failure) {
      const f = s.failure;
      lines.push(`   at ${failurePlace(f)}, ${statementWord(f)}${f.sqlstate ? `, SQLSTATE ${f.sqlstate}` : ''}`);
      lines.push(`   ${f.message}`);
      lines.push(`   ${f.state}`);
    }
    for (const lb of s.left_behind) lines.push(`   left behind: INVALID index ${lb.index} on ${lb.table}; clean up with: ${lb.cleanup_sql}`);
  });
  if (r.verify.length) {
    lines.push('', 'Checks:');
    for (const v of r.verify) lines.push(`  ${v}`);
  }
  if (r.after) lines.push('', `After: ${r.after.applied} applied, ${r.after.pending} pending, current ${r.after.current ?? 'none'}`);
  return lines.join('\n') + '\n';
}
