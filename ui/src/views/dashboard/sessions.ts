// What a session's figures mean: the tone of its state, when a transaction counts as long,
// and who blocks whom as a forest (the same walk as the backend's `observe::lock_tree`).

import type { Session } from '../../bindings/api';

/** A transaction open longer than this is highlighted (warn), ten times as long is critical. */
export const LONG_XACT_MS = 60_000;

export type Tone = 'ok' | 'warn' | 'crit' | 'info' | 'unknown';

export function stateTone(state: string | null): Tone {
  switch (state) {
    case 'active':
      return 'info';
    case 'idle in transaction':
      return 'warn';
    case 'idle in transaction (aborted)':
      return 'crit';
    default:
      return 'unknown';
  }
}

export function xactTone(xactMs: number | null): Tone | null {
  if (xactMs === null || xactMs < LONG_XACT_MS) return null;
  return xactMs >= LONG_XACT_MS * 10 ? 'crit' : 'warn';
}

/** One line of the lock tree: a session at a depth; `session` is absent when the blocker is
 *  not a client backend (autovacuum, or dbdeck's own poll), `cut` when it closes a cycle. */
export type LockNode = { depth: number; pid: number; session: Session | undefined; waiters: number; cut: boolean };

export function lockForest(sessions: Session[]): LockNode[] {
  const byPid = new Map(sessions.map((s) => [s.pid, s]));
  const waiters = new Map<number, number[]>();
  const blocked = new Set<number>();
  for (const s of sessions) {
    for (const b of s.blocked_by) {
      if (!waiters.has(b)) waiters.set(b, []);
      waiters.get(b)!.push(s.pid);
      blocked.add(s.pid);
    }
  }
  const keys = [...waiters.keys()].sort((a, b) => a - b);
  let roots = keys.filter((p) => !blocked.has(p));
  // Only cycles: start anywhere so they still show.
  if (!roots.length && keys.length) roots = [keys[0]];
  const out: LockNode[] = [];
  const walk = (pid: number, depth: number, path: number[]) => {
    const cut = path.includes(pid);
    const under = waiters.get(pid) ?? [];
    out.push({ depth, pid, session: byPid.get(pid), waiters: under.length, cut });
    if (cut) return;
    for (const w of under) walk(w, depth + 1, [...path, pid]);
  };
  for (const r of roots) walk(r, 0, []);
  return out;
}
