// How numbers read everywhere: always with a unit, durations humanised, times relative with
// the absolute time one hover away. Pure functions, no state.

import type { EnvSummary, HealthSample } from '../bindings/api';

/** Milliseconds as a person reads them: 0.42 ms, 12.3 ms, 340 ms, 1.24 s, 2 min 10 s. */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v < 10) return `${v.toFixed(2)} ms`;
  if (v < 100) return `${v.toFixed(1)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  return seconds(v / 1000);
}

/** Seconds: 4.2 s, 42 s, 2 min 10 s, 3 h 5 min, 2 d 4 h. */
export function seconds(s: number): string {
  if (s < 10) return `${s.toFixed(2).replace(/\.?0+$/, '')} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) {
    const rest = Math.round(s - m * 60);
    return rest ? `${m} min ${rest} s` : `${m} min`;
  }
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** "just now", "4 s ago", "3 min ago", "2 h ago", then a date. */
export function ago(tsMs: number | null | undefined, now: number): string {
  if (tsMs === null || tsMs === undefined) return 'never';
  const s = Math.max(0, (now - tsMs) / 1000);
  if (s < 2) return 'just now';
  if (s < 60) return `${Math.floor(s)} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ago`;
  return new Date(tsMs).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

/** Full local time with seconds and the zone, for titles and "copy details". */
export function stamp(tsMs: number | string | Date): string {
  const d = tsMs instanceof Date ? tsMs : new Date(tsMs);
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
}

/** Compact local time for tables: today "14:03:27", otherwise "Nov 26 14:03". */
export function shortTime(ts: string | number, now: number): string {
  const d = new Date(ts);
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) {
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  }
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}

export type Status = 'ok' | 'down' | 'unknown';

export function healthStatus(h: HealthSample | null | undefined): Status {
  if (!h) return 'unknown';
  return h.reachable ? 'ok' : 'down';
}

export const STATUS_WORD: Record<Status, string> = { ok: 'ok', down: 'down', unknown: 'never checked' };

/** Engine-qualified version: "SQLite 3.46.1" stays, "15.20 (Debian …)" → "PostgreSQL 15.20". */
export function version(v: string | null | undefined, engine?: string): string {
  if (!v) return '—';
  if (/^[0-9]/.test(v)) {
    const short = v.split(' ')[0];
    return engine === 'postgres' || !engine ? `PostgreSQL ${short}` : short;
  }
  return v;
}

export function pluralise(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Roles of an environment's endpoints, as the backend names them (primary, replica:NAME…). */
export function endpointRoles(s: EnvSummary['env']): { role: string; url: string; secret: boolean }[] {
  const out = [{ role: 'primary', url: s.primary.url, secret: !!s.primary.secret }];
  for (const r of s.replicas) out.push({ role: `replica:${r.name}`, url: r.endpoint.url, secret: !!r.endpoint.secret });
  if (s.pgbouncer) out.push({ role: 'pgbouncer', url: s.pgbouncer.url, secret: !!s.pgbouncer.secret });
  if (s.redis) out.push({ role: 'redis', url: s.redis.url, secret: !!s.redis.secret });
  return out;
}

/** Readable foreground (black or white) on a `#rrggbb` background. */
export function onColour(hex: string): string {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex);
  if (!m) return '#fff';
  const v = parseInt(m[1], 16);
  const [r, g, b] = [(v >> 16) & 255, (v >> 8) & 255, v & 255].map((c) => {
    const x = c / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return lum > 0.4 ? '#111' : '#fff';
}

/** Rows as CSV (RFC 4180 quoting), for "Copy as CSV". */
export function toCsv(header: string[], rows: (string | number | null | undefined)[][]): string {
  const q = (v: string | number | null | undefined) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(q).join(',')).join('\n') + '\n';
}

/** Bytes in binary units: 512 B, 4 KiB, 7.35 MiB, 118 GiB. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${v} B`;
  const digits = v < 10 ? 2 : v < 100 ? 1 : 0;
  // Whole numbers (page sizes: 4 KiB, 8 KiB) without ".00".
  return `${Number.isInteger(v) ? v : v.toFixed(digits)} ${units[i]}`;
}

/** A percentage with one decimal: 99.9 %; "—" when there is nothing to divide. */
export function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(1)} %`;
}

const NUMBER = new Intl.NumberFormat();

/** A count with the reader's digit grouping: 8,000. (One formatter, made once: tables of
 *  thousands of rows call this on every scroll.) */
export function num(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : NUMBER.format(v);
}

/** Large counts short: 950, 12.4 thousand, 1.2 million, 2.1 billion. */
export function compact(v: number): string {
  if (Math.abs(v) < 10_000) return num(v);
  const [d, word] = Math.abs(v) >= 1e9 ? [1e9, 'billion'] : Math.abs(v) >= 1e6 ? [1e6, 'million'] : [1e3, 'thousand'];
  return `${(v / d).toFixed(1).replace(/\.0$/, '')} ${word}`;
}

/** A judgement from the backend (ok / warn / critical / unknown) as a StatusDot tone and word. */
export type Judgement = 'ok' | 'warn' | 'critical' | 'unknown';
export const JUDGEMENT: Record<Judgement, { tone: 'ok' | 'warn' | 'crit' | 'unknown'; word: string }> = {
  ok: { tone: 'ok', word: 'ok' },
  warn: { tone: 'warn', word: 'warn' },
  critical: { tone: 'crit', word: 'critical' },
  unknown: { tone: 'unknown', word: 'no data' },
};

/** Lower-case words a filter box was given; a row matches when its text holds every one. */
export function matchesWords(hay: string, words: string[]): boolean {
  const h = hay.toLowerCase();
  return words.every((w) => h.includes(w));
}
export function filterWords(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}
