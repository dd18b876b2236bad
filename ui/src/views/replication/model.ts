// What the Replication page reads out of the API's answers: the topology as an indented tree,
// the tone and word of a lag, a check, a phase or a slot, a flow's live phases folded from its
// events, and a flow's report as text to copy. Pure functions and plain data; no requests.

import type { Check, FlowReport, NodeState, Phase, Slot, Topology } from '../../bindings/api';
import { bytes, ms } from '../../lib/format';

export type Tone = 'ok' | 'warn' | 'crit' | 'unknown' | 'info';

// ---- The topology as a tree ----

export type TreeRow = {
  node: NodeState;
  /** 0 for the primary (and nodes placed beside it), 1 for its standbys, 2 for cascaded ones… */
  depth: number;
  /** Why the node sits where it does, when the topology could not say (unreachable, unknown upstream). */
  placed: string | null;
};

/** The node the tree hangs from: the one answering as primary, else the configured primary. */
export function rootName(t: Topology): string | null {
  return t.primary ?? t.nodes.find((n) => n.name === 'primary')?.name ?? null;
}

/** Every node once, in reading order: the primary, each standby under its upstream (cascaded
 *  ones under theirs), then what could not be placed — an unreachable standby under the
 *  primary (its upstream is unknown), another primary or an unknown upstream at the top. */
export function treeRows(t: Topology): TreeRow[] {
  const names = new Set(t.nodes.map((n) => n.name));
  const root = rootName(t);
  const parentOf = new Map<string, string | null>();
  const placed = new Map<string, string | null>();
  for (const n of t.nodes) {
    if (n.name === root) {
      parentOf.set(n.name, null);
    } else if (n.upstream && names.has(n.upstream) && n.upstream !== n.name) {
      parentOf.set(n.name, n.upstream);
    } else if (n.role === 'primary') {
      parentOf.set(n.name, null);
      placed.set(n.name, 'also answers as primary');
    } else if (n.upstream) {
      parentOf.set(n.name, null);
      placed.set(n.name, `streams from ${n.upstream}, which is not in the environment`);
    } else if (root) {
      parentOf.set(n.name, root);
      placed.set(n.name, n.reachable ? 'upstream unknown: not streaming' : 'upstream unknown: does not answer');
    } else {
      parentOf.set(n.name, null);
    }
  }
  const children = new Map<string | null, NodeState[]>();
  for (const n of t.nodes) {
    const p = parentOf.get(n.name) ?? null;
    if (!children.has(p)) children.set(p, []);
    children.get(p)!.push(n);
  }
  const out: TreeRow[] = [];
  const seen = new Set<string>();
  const walk = (n: NodeState, depth: number) => {
    if (seen.has(n.name)) return;
    seen.add(n.name);
    out.push({ node: n, depth, placed: placed.get(n.name) ?? null });
    for (const c of children.get(n.name) ?? []) walk(c, depth + 1);
  };
  const tops = [...(children.get(null) ?? [])].sort((a, b) => (a.name === root ? -1 : b.name === root ? 1 : 0));
  for (const n of tops) walk(n, 0);
  // A cycle of upstreams (should not happen) still shows every node.
  for (const n of t.nodes) walk(n, 0);
  return out;
}

/** The configured replicas (a switchover can only promote one of these). */
export function isReplica(n: NodeState, t: Topology): boolean {
  return n.name !== 'primary' && n.name !== t.primary;
}

/** An LSN ("16/B374D848") as a number, to compare positions; 0 when there is none. */
export function lsnValue(l: string | null | undefined): number {
  const m = l ? /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(l) : null;
  return m ? parseInt(m[1], 16) * 2 ** 32 + parseInt(m[2], 16) : 0;
}

export function primaryDown(t: Topology | null): boolean {
  if (!t) return false;
  const p = t.nodes.find((n) => n.name === 'primary');
  return !t.primary || (!!p && !p.reachable);
}

// ---- Tones and words ----

export function roleOf(n: NodeState): { tone: Tone; word: string } {
  if (!n.reachable) return { tone: 'crit', word: 'unreachable' };
  if (n.role === 'primary') return { tone: 'info', word: 'primary' };
  if (n.role === 'standby') return { tone: 'unknown', word: 'standby' };
  return { tone: 'unknown', word: n.role ?? 'unknown' };
}

/** A standby's replay lag against the threshold: over it is critical, over half of it a warning. */
export function lagOf(n: NodeState, threshold: number): { tone: Tone; word: string } {
  if (n.lag_alert) return { tone: 'crit', word: 'over threshold' };
  if (n.lag_s === null || n.lag_s === undefined) return n.lag_bytes ? { tone: 'warn', word: 'seconds unknown' } : { tone: 'unknown', word: 'unknown' };
  if (n.lag_s > threshold / 2) return { tone: 'warn', word: 'near threshold' };
  return { tone: 'ok', word: 'ok' };
}

/** Seconds of lag as a person reads them: 0 s, 120 ms, 4.2 s, 2 min 10 s. */
export function lagSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  if (s === 0) return '0 s';
  return ms(s * 1000);
}

export function receiverTone(status: string): Tone {
  if (status === 'streaming') return 'ok';
  if (status === 'catchup' || status === 'starting' || status === 'waiting') return 'warn';
  return 'crit';
}

export const CHECK: Record<string, { tone: Tone; word: string }> = {
  pass: { tone: 'ok', word: 'pass' },
  fail: { tone: 'crit', word: 'FAIL' },
  warn: { tone: 'warn', word: 'warn' },
  skip: { tone: 'unknown', word: 'skip' },
};
export function checkOf(c: Check): { tone: Tone; word: string } {
  return CHECK[c.status] ?? { tone: 'unknown', word: c.status };
}
export function checkCounts(cs: Check[]): Record<'pass' | 'fail' | 'warn' | 'skip', number> {
  const out = { pass: 0, fail: 0, warn: 0, skip: 0 };
  for (const c of cs) if (c.status in out) out[c.status as keyof typeof out]++;
  return out;
}

export const PHASE: Record<string, { tone: Tone | 'running'; word: string }> = {
  running: { tone: 'running', word: 'running' },
  ok: { tone: 'ok', word: 'ok' },
  warning: { tone: 'warn', word: 'warning' },
  failed: { tone: 'crit', word: 'failed' },
  skipped: { tone: 'unknown', word: 'skipped' },
};
export function phaseOf(p: { status: string }): { tone: Tone | 'running'; word: string } {
  return PHASE[p.status] ?? { tone: 'unknown', word: p.status };
}

export function walStatusTone(s: string | null): Tone {
  if (s === 'reserved') return 'ok';
  if (s === 'extended') return 'warn';
  if (s === 'unreserved' || s === 'lost') return 'crit';
  return 'unknown';
}

/** Bytes per second, or "—" when there are not enough samples for a rate. */
export function rate(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  if (v === 0) return '0 B/s';
  return `${v < 0 ? '−' : ''}${bytes(Math.abs(v))}/s`;
}

export function slotKind(s: Slot): string {
  if (s.slot_type === 'logical') return [s.plugin, s.database].filter(Boolean).join(' · ') || 'logical';
  return s.slot_type;
}

/** Text with `backtick` spans, split so the spans can be shown as code. */
export function codeSpans(text: string): { code: boolean; text: string }[] {
  const parts = text.split('`');
  if (parts.length < 3) {
    // No backticks: a trailing CLI command ("…: dbdeck rejoin --env x --node y") is the code.
    const m = /^(.*?)(dbdeck\s+\S.*)$/.exec(text);
    return m ? [{ code: false, text: m[1] }, { code: true, text: m[2] }].filter((p) => p.text) : [{ code: false, text }];
  }
  return parts.map((t, i) => ({ code: i % 2 === 1, text: t })).filter((p) => p.text);
}

// ---- A flow's live phases, folded from `replication_progress` events ----

export type FlowKind = 'switchover' | 'failover' | 'rejoin';

export type LivePhase = Phase & { startedAt: number };

export type LiveFlow = {
  kind: FlowKind;
  env: string;
  /** The job id this page chose and sent with the request; its events carry it. */
  job: string | null;
  startedAt: number;
  endedAt: number | null;
  phases: LivePhase[];
};

/** A job id for a new run: its kind, the time and a random part, so two tabs never share one. */
export function newJobId(kind: FlowKind, now = Date.now()): string {
  return `${kind}-${now}-${Math.random().toString(36).slice(2, 10)}`;
}

export function newFlow(kind: FlowKind, env: string, now = Date.now()): LiveFlow {
  return { kind, env, job: newJobId(kind, now), startedAt: now, endedAt: null, phases: [] };
}

/** Whether an event of `job` belongs to this flow: the id it sent with its request. */
export function ownsJob(f: LiveFlow, job: string): boolean {
  return f.job === job;
}

/** The flow after one event: a phase that starts is added; one that ends replaces its start. */
export function foldPhase(f: LiveFlow, job: string, p: Phase, now = Date.now()): LiveFlow {
  const phases = [...f.phases];
  let i = -1;
  for (let k = phases.length - 1; k >= 0; k--) {
    if (phases[k].id === p.id && phases[k].status === 'running') {
      i = k;
      break;
    }
  }
  if (i >= 0) phases[i] = { ...p, startedAt: phases[i].startedAt };
  else phases.push({ ...p, startedAt: now - (p.status === 'running' ? 0 : p.ms) });
  return { ...f, job: f.job ?? job, phases };
}

/** The flow ended: its report's phases are what happened (events may come late or not at all). */
export function settleFlow(f: LiveFlow, report: FlowReport | null, now = Date.now()): LiveFlow {
  if (!report) {
    return { ...f, endedAt: now, phases: f.phases.map((p) => (p.status === 'running' ? { ...p, status: 'failed', detail: p.detail || 'no answer', ms: now - p.startedAt } : p)) };
  }
  let at = f.startedAt;
  const phases = report.phases.map((p) => {
    const known = f.phases.find((x) => x.id === p.id);
    const startedAt = known?.startedAt ?? at;
    at = startedAt + p.ms;
    return { ...p, startedAt };
  });
  return { ...f, job: report.job, endedAt: now, phases };
}

export function runningPhase(f: LiveFlow | null): LivePhase | null {
  if (!f || f.endedAt !== null) return null;
  return [...f.phases].reverse().find((p) => p.status === 'running') ?? null;
}

// ---- Reports ----

/** The report's `next` asks for the old primary to be rejoined. */
export function wantsRejoin(r: FlowReport): boolean {
  return !!r.next && /rejoin/i.test(r.next);
}

/** A failover refused because a primary still answers: the forced path may be offered. */
export function refusedForSplitBrain(r: FlowReport): boolean {
  return r.kind === 'failover' && !r.ok && r.phases.some((p) => p.checks.some((c) => c.name === 'split brain' && c.status === 'fail'));
}

const KIND_WORD: Record<string, string> = { switchover: 'Switchover', failover: 'Failover', rejoin: 'Rejoin' };

/** A flow as plain text, to paste into a ticket or a chat. */
export function flowText(r: FlowReport): string {
  const what = KIND_WORD[r.kind] ?? r.kind;
  const lines = [
    `${what} on ${r.env}${r.from ? ` from ${r.from}` : ''} to ${r.to}: ${r.ok ? 'ok' : 'FAILED'} in ${ms(r.total_ms)}`,
    r.outcome,
  ];
  const figures = [
    r.first_write_ms !== null ? `first write after ${ms(r.first_write_ms)}` : null,
    r.new_timeline !== null ? `new timeline ${r.new_timeline}` : null,
    r.wal_loss ? `WAL loss: ${r.wal_loss}` : null,
  ].filter(Boolean);
  if (figures.length) lines.push(figures.join('; '));
  lines.push('', 'Phases:');
  r.phases.forEach((p, i) => {
    lines.push(`${i + 1}. ${p.title} — ${phaseOf(p).word}, ${ms(p.ms)}${p.detail ? `: ${p.detail}` : ''}`);
    for (const c of p.checks) lines.push(`   [${checkOf(c).word}] ${c.name}: ${c.reason}`);
  });
  if (r.nodes.length) {
    lines.push('', 'Nodes:');
    for (const n of r.nodes) lines.push(`  ${n.name} (${n.address}): ${n.state}`);
  }
  if (r.next) lines.push('', `Next: ${r.next}`);
  lines.push('', `Job ${r.job}`);
  return lines.join('\n') + '\n';
}
