// The plan view's arithmetic, done once per plan and kept out of Svelte's reactivity: a
// 10,000-node plan must not become 10,000 proxies. Views read typed arrays by node id.
// Pure functions and a read-only model; no DOM, no state.

import type { Buffers, Finding, Node, Plan, PlanReport, Severity } from '../../bindings/api';
import { bytes, ms, num, pct } from '../../lib/format';

/** Findings of one node by severity, worst first: [{ severity, count }]. */
export function severityCounts(plan: Plan, node: Node): { severity: Severity; count: number }[] {
  if (!node.findings.length) return [];
  let c = 0;
  let w = 0;
  let i = 0;
  for (const fi of node.findings) {
    const s = plan.findings[fi]?.severity;
    if (s === 'critical') c++;
    else if (s === 'warning') w++;
    else if (s === 'info') i++;
  }
  const out: { severity: Severity; count: number }[] = [];
  if (c) out.push({ severity: 'critical', count: c });
  if (w) out.push({ severity: 'warning', count: w });
  if (i) out.push({ severity: 'info', count: i });
  return out;
}

/** PostgreSQL's block size; the sizes shown are blocks × 8 KiB. */
export const BLOCK = 8192;

export type Metric = 'time' | 'rows' | 'estimate' | 'cost' | 'buffers';
export const METRICS: { id: Metric; label: string; title: string }[] = [
  { id: 'time', label: 'Self time', title: 'Time spent in the node itself, children excluded' },
  { id: 'rows', label: 'Rows', title: 'Rows the node returned (all loops); the estimate when the plan was not analysed' },
  { id: 'estimate', label: 'Estimate', title: 'How many times the row estimate was off' },
  { id: 'cost', label: 'Self cost', title: "The planner's cost of the node itself, children excluded" },
  { id: 'buffers', label: 'Buffers', title: 'Blocks the node itself touched: shared and local hit and read, temp read and written' },
];

export const SEVERITY_RANK: Record<Severity, number> = { critical: 3, warning: 2, info: 1 };
export const SEVERITY_TONE: Record<Severity, 'crit' | 'warn' | 'info'> = { critical: 'crit', warning: 'warn', info: 'info' };

export function blocksOf(b: Buffers): number {
  return b.shared_hit + b.shared_read + b.local_hit + b.local_read + b.temp_read + b.temp_written;
}

/** Findings, worst first (stable within a severity: the backend's own order). */
export function findingsWorstFirst(findings: Finding[]): { f: Finding; i: number }[] {
  return findings.map((f, i) => ({ f, i })).sort((a, b) => SEVERITY_RANK[b.f.severity] - SEVERITY_RANK[a.f.severity] || a.i - b.i);
}

export class PlanModel {
  readonly plan: Plan;
  readonly nodes: Node[];
  readonly n: number;
  /** total_cost minus the children's total_cost, never below zero. */
  readonly selfCost: Float64Array;
  /** Worst finding severity per node: 0 none, 1 info, 2 warning, 3 critical. */
  readonly worst: Uint8Array;
  /** Blocks the node itself touched. */
  readonly selfBlocks: Float64Array;
  /** Nodes in each node's subtree, itself included. */
  readonly subtreeSize: Int32Array;
  /** Which figures the plan has: timings (ANALYZE with TIMING), actual rows (ANALYZE). */
  readonly timed: boolean;
  readonly analyzed: boolean;
  private maxCache = new Map<Metric, number>();
  private lowerLabels: string[] | null = null;

  constructor(plan: Plan) {
    this.plan = plan;
    this.nodes = plan.nodes;
    this.n = plan.nodes.length;
    this.selfCost = new Float64Array(this.n);
    this.worst = new Uint8Array(this.n);
    this.selfBlocks = new Float64Array(this.n);
    let anyTime = false;
    for (let i = 0; i < this.n; i++) {
      const node = this.nodes[i];
      let kids = 0;
      for (const c of node.children) kids += this.nodes[c]?.total_cost ?? 0;
      this.selfCost[i] = Math.max(0, node.total_cost - kids);
      this.selfBlocks[i] = blocksOf(node.exclusive_buffers);
      if (node.exclusive_ms !== null) anyTime = true;
      let w = 0;
      for (const fi of node.findings) {
        const f = plan.findings[fi];
        if (f) w = Math.max(w, SEVERITY_RANK[f.severity]);
      }
      this.worst[i] = w;
    }
    // Pre-order: a child's id is above its parent's, so one backwards pass sums subtrees.
    this.subtreeSize = new Int32Array(this.n).fill(1);
    for (let i = this.n - 1; i >= 0; i--) {
      const p = this.nodes[i].parent;
      if (p !== null && p < i) this.subtreeSize[p] += this.subtreeSize[i];
    }
    this.timed = plan.timed || anyTime;
    this.analyzed = plan.analyzed;
  }

  /** The metric's value for a node, or null when the plan has no such figure. */
  value(id: number, m: Metric): number | null {
    const node = this.nodes[id];
    switch (m) {
      case 'time':
        return node.exclusive_ms;
      case 'rows':
        return node.total_rows ?? node.plan_rows;
      case 'estimate':
        return node.misestimate;
      case 'cost':
        return this.selfCost[id];
      case 'buffers':
        return this.selfBlocks[id];
    }
  }

  max(m: Metric): number {
    let v = this.maxCache.get(m);
    if (v === undefined) {
      v = 0;
      for (let i = 0; i < this.n; i++) {
        const x = this.value(i, m);
        if (x !== null && x > v) v = x;
      }
      this.maxCache.set(m, v);
    }
    return v;
  }

  /** Width of the node's bar, 0–100 % of the largest value (estimates on a log scale). */
  barPct(id: number, m: Metric): number {
    const v = this.value(id, m);
    const max = this.max(m);
    if (v === null || max <= 0) return 0;
    if (m === 'estimate') {
      const lm = Math.log(max);
      return lm > 0 ? (Math.log(Math.max(v, 1)) / lm) * 100 : 0;
    }
    return (v / max) * 100;
  }

  /** The metric as text with its unit. */
  figure(id: number, m: Metric): string {
    const node = this.nodes[id];
    switch (m) {
      case 'time':
        return node.exclusive_ms === null ? '—' : ms(node.exclusive_ms);
      case 'rows':
        return node.total_rows !== null ? `${num(Math.round(node.total_rows))} rows` : `est. ${num(Math.round(node.plan_rows))} rows`;
      case 'estimate':
        return misestimateText(node);
      case 'cost':
        return costText(this.selfCost[id]);
      case 'buffers':
        return this.selfBlocks[id] ? bytes(this.selfBlocks[id] * BLOCK) : '—';
    }
  }

  /** A second, smaller figure next to the metric: the share of the run for time. */
  subFigure(id: number, m: Metric): string {
    const node = this.nodes[id];
    if (m === 'time') return node.exclusive_pct === null ? '' : pct(node.exclusive_pct);
    if (m === 'cost') {
      const root = this.nodes[0]?.total_cost ?? 0;
      return root > 0 ? pct((this.selfCost[id] / root) * 100) : '';
    }
    if (m === 'buffers') return this.selfBlocks[id] ? `${num(this.selfBlocks[id])} blk` : '';
    return '';
  }

  /** Lower-case label and subplan name, for filters. */
  haystack(id: number): string {
    if (!this.lowerLabels) {
      this.lowerLabels = this.nodes.map((x) => `${x.id} ${x.label} ${x.subplan_name ?? ''} ${x.node_type}`.toLowerCase());
    }
    return this.lowerLabels[id];
  }

  /** Ancestors of a node, nearest first. */
  ancestors(id: number): number[] {
    const out: number[] = [];
    let p = this.nodes[id]?.parent ?? null;
    while (p !== null && p !== undefined) {
      out.push(p);
      p = this.nodes[p].parent;
    }
    return out;
  }
}

export function costText(c: number | null | undefined): string {
  if (c === null || c === undefined || !Number.isFinite(c)) return '—';
  return c >= 100 ? num(Math.round(c)) : c.toFixed(2);
}

/** "20× under", "3.1× over", "exact"; "—" without actual rows. */
export function misestimateText(n: Pick<Node, 'misestimate' | 'estimate_ratio'>): string {
  if (n.misestimate === null || n.estimate_ratio === null) return '—';
  if (n.misestimate < 1.05) return 'on target';
  const f = factor(n.misestimate);
  return `${f} ${n.estimate_ratio > 1 ? 'under' : 'over'}`;
}

/** A misestimate factor: ×1.3, ×20, ×1,200. */
export function factor(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return x < 10 ? `×${x.toFixed(1)}` : `×${num(Math.round(x))}`;
}

/** Tone of a misestimate: off by 10× or more is worth a look, by 100× or more it is bad. */
export function misestimateTone(x: number | null | undefined): 'crit' | 'warn' | null {
  if (x === null || x === undefined) return null;
  return x >= 100 ? 'crit' : x >= 10 ? 'warn' : null;
}

/**
 * The rows the tree shows, in order: pre-order, skipping what is under a collapsed node. Cost
 * is the number of rows shown, not the plan's size.
 */
export function visibleRows(nodes: Node[], collapsed: Uint8Array): Int32Array {
  const out = new Int32Array(nodes.length);
  let k = 0;
  if (!nodes.length) return out;
  const stack: number[] = [0];
  while (stack.length) {
    const i = stack.pop()!;
    out[k++] = i;
    if (!collapsed[i]) {
      const ch = nodes[i].children;
      for (let j = ch.length - 1; j >= 0; j--) stack.push(ch[j]);
    }
  }
  return out.subarray(0, k);
}

/** For a large plan, the depth to collapse at so about `budget` rows show; null when all fit. */
export function autoCollapseDepth(nodes: Node[], budget = 400): number | null {
  if (nodes.length <= budget) return null;
  const perDepth: number[] = [];
  for (const x of nodes) perDepth[x.depth] = (perDepth[x.depth] ?? 0) + 1;
  let shown = 0;
  for (let d = 0; d < perDepth.length; d++) {
    shown += perDepth[d] ?? 0;
    if (shown > budget) return Math.max(1, d - 1);
  }
  return null;
}

/** $1…$n in a statement (outside strings, quoted names and comments): the highest n. */
export function parameterCount(sql: string): number {
  const code = sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?(\*\/|$)/g, ' ')
    .replace(/'(?:[^']|'')*'?/g, "''")
    .replace(/"(?:[^"]|"")*"?/g, '""')
    .replace(/\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?\$\1\$/g, "''");
  let max = 0;
  for (const m of code.matchAll(/\$(\d+)/g)) max = Math.max(max, Number(m[1]));
  return Math.min(max, 100);
}

/**
 * The plan as EXPLAIN (FORMAT JSON) would have printed it, rebuilt from each node's fields.
 * Used where the raw text is not PostgreSQL's (SQLite's EXPLAIN QUERY PLAN) and the backend
 * needs a plan it can read again (export, compare).
 */
export function planAsJson(plan: Plan): string {
  const build = (id: number): Record<string, unknown> => {
    const node = plan.nodes[id];
    const out: Record<string, unknown> = { ...node.fields };
    if (!('Node Type' in out)) out['Node Type'] = node.node_type;
    if (node.children.length) out.Plans = node.children.map(build);
    return out;
  };
  const top: Record<string, unknown> = { Plan: plan.nodes.length ? build(0) : {} };
  if (plan.planning_ms !== null) top['Planning Time'] = plan.planning_ms;
  if (plan.execution_ms !== null) top['Execution Time'] = plan.execution_ms;
  if (Object.keys(plan.settings).length) top.Settings = plan.settings;
  return JSON.stringify([top]);
}

/** The text to hand back to the backend for this report (export, compare). */
export function rawFor(report: PlanReport): string {
  return report.method.startsWith('EXPLAIN QUERY PLAN') ? planAsJson(report.plan) : report.raw;
}

/** The first "line N" (and "column M") in an error message, for "Show line N". */
export function errorPlace(message: string): { line: number; column: number | null } | null {
  const m = /line (\d+)(?:, column (\d+))?/.exec(message);
  return m ? { line: Number(m[1]), column: m[2] !== undefined ? Number(m[2]) : null } : null;
}

/** Character range of 1-based `line` in `text`. */
export function lineRange(text: string, line: number): [number, number] {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return [text.length, text.length];
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  return [start, end < 0 ? text.length : end];
}
