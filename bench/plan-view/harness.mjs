// Measures how pev2 and dbdeck's Plans page handle PostgreSQL EXPLAIN plans of growing size, in
// the same headless Chromium, and prints a Markdown table.
//
//   node harness.mjs [--runs 3] [--timeout 150] [--slow 60] [--plans cte,1000,5000,10000]
//                    [--viewers dbdeck,pev2] [--dbdeck-bin PATH] [--json FILE] [--markdown FILE]
//                    [--screenshots]   (out/shot-VIEWER-PLAN.png after the first render)
//   node harness.mjs --report out/results.json   (print the tables again from saved results)
//
// Needs the pev2 page built into dist-pev2/ (`npx vite build`) and a dbdeck binary (DBDECK_BIN,
// --dbdeck-bin, or the release/debug build under /var/tmp/dbdeck-target, release first).
//
// For each viewer and plan, --runs fresh page loads (a new Chromium each run, and for dbdeck a
// new `dbdeck serve --demo` on a new data directory), each with:
//  * render: the plan text is put in place first (pev2: handed to the page; dbdeck: typed into
//    the paste box), then the clock starts at the hand-over (pev2: window.__pev2Show(text);
//    dbdeck: click on Analyze, which includes the round trip to the backend that parses the
//    plan) and stops when the first node (pev2: a .plan-node card; dbdeck: a
//    [data-testid=plan-node] row) has a box AND a requestAnimationFrame callback followed by a
//    setTimeout(0) has run after it, i.e. a frame with the node was produced and the main thread
//    was free to take input again;
//  * heap: CDP Performance.getMetrics JSHeapUsedSize once the page is quiet (below), and after a
//    forced garbage collection (HeapProfiler.collectGarbage);
//  * DOM nodes: document.getElementsByTagName('*').length at the same time;
//  * scroll: the node list (dbdeck: the plan tree; pev2: its outline of nodes on the left, the
//    row-per-node counterpart of dbdeck's tree) scrolled to the bottom in steps of 90% of its
//    height, one step per animation frame; the longest frame (gap between rAF callbacks) and the
//    longest 'longtask' PerformanceObserver entry while it ran;
//  * grid: a click on the Grid tab (both have one) until its first row has a box plus a rAF
//    round trip; the time, the longest frame and the longest long task meanwhile.
//  * quiet: the end of the last long task after the hand-over, once a whole second has passed
//    with none (TTI-like; work a viewer still does after showing its first node lands here), or
//    the render time if that is later;
// Each run has a hard timeout (--timeout seconds, for the render; the later steps get 45 s
// each); a run that hits it is recorded as timed out, its browser is closed, and the remaining
// runs of that viewer and plan are skipped (so are they after a plan the viewer rejects). To keep
// the whole run to about a quarter of an hour on two cores, a render slower than --slow seconds
// is not repeated either: that cell shows one run (marked [1/3 runs]).
// Results are written to out/results.json after every run.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { generatePlan, planStats } from './gen-plan.mjs';
import { serveStatic } from './static-server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROME_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const VIEWPORT = { width: 1280, height: 800 };
const STEP_TIMEOUT_MS = 45_000;

// ---------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = {
    runs: 3,
    timeout: 150,
    slow: 60,
    plans: ['cte', '1000', '5000', '10000'],
    viewers: ['dbdeck', 'pev2'],
    dbdeckBin: process.env.DBDECK_BIN || null,
    json: null,
    markdown: null,
    screenshots: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runs') o.runs = Number(v());
    else if (a === '--timeout') o.timeout = Number(v());
    else if (a === '--slow') o.slow = Number(v());
    else if (a === '--plans') o.plans = v().split(',');
    else if (a === '--viewers') o.viewers = v().split(',');
    else if (a === '--dbdeck-bin') o.dbdeckBin = v();
    else if (a === '--json') o.json = v();
    else if (a === '--markdown') o.markdown = v();
    else if (a === '--screenshots') o.screenshots = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(0, 30).join('\n') + '\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.runs >= 1) || !(o.timeout > 0)) throw new Error('--runs and --timeout must be positive');
  if (!o.dbdeckBin) {
    const rel = '/var/tmp/dbdeck-target/release/dbdeck';
    const dbg = '/var/tmp/dbdeck-target/debug/dbdeck';
    o.dbdeckBin = fs.existsSync(rel) ? rel : dbg;
  }
  return o;
}

const log = (...a) => process.stderr.write(a.join(' ') + '\n');

// What is running (browsers, dbdeck servers), so that an interrupt stops it all.
const live = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    log(`${sig}: stopping ${live.size} process(es)`);
    await Promise.allSettled([...live].map((stop) => stop()));
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------
// Plans

function preparePlans(keys, dir) {
  fs.mkdirSync(dir, { recursive: true });
  return keys.map((k) => {
    let file;
    let label;
    let kind;
    if (k === 'cte') {
      file = path.join(REPO, 'tests', 'plans', 'cte_subplan.json');
      label = 'cte_subplan.json (real PG 15)';
      kind = 'real';
    } else {
      const n = Number(k);
      if (!Number.isInteger(n) || n < 4) throw new Error(`bad plan ${k}: use cte or a node count`);
      file = path.join(dir, `gen-${n}.json`);
      fs.writeFileSync(file, generatePlan(n, 1) + '\n');
      label = `generated ${n.toLocaleString('en-US')}`;
      kind = 'generated';
    }
    const text = fs.readFileSync(file, 'utf8');
    const st = planStats(text);
    return { key: k, label, kind, file, text, nodes: st.count, depth: st.maxDepth, widest: st.widest, bytes: st.bytes };
  });
}

// ---------------------------------------------------------------------------------------------
// Processes

async function startDbdeck(bin) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbdeck-bench-plan-'));
  const proc = spawn(bin, ['--data-dir', dir, 'serve', '--demo', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
    detached: true,
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`dbdeck printed no URL within 60 s; stderr:\n${stderr}`)), 60_000);
    proc.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl).trim());
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dbdeck exited with ${code} before printing its URL; stderr:\n${stderr}`));
    });
  });
  async function stop() {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(-proc.pid, 'SIGTERM');
      const t = new Promise((r) => setTimeout(() => r('timeout'), 5000));
      if ((await Promise.race([exited, t])) === 'timeout') {
        process.kill(-proc.pid, 'SIGKILL');
        await exited;
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    live.delete(stop);
  }
  live.add(stop);
  return { url, stop };
}

async function startBrowser() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS });
  const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light' });
  await context.addInitScript(PAGE_PROBE);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('crash', () => errors.push('page crashed'));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  async function close() {
    await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 15_000))]);
    live.delete(close);
  }
  live.add(close);
  return { browser, page, cdp, errors, close };
}

// ---------------------------------------------------------------------------------------------
// In-page helpers (installed before any page script runs)

const PAGE_PROBE = `(() => {
  const b = (window.__bench = { longtasks: [] });
  try { performance.setResourceTimingBufferSize(100000); } catch (e) {}
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push({ start: e.startTime, dur: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) { b.noLongtask = String(e); }
  const frame = () => new Promise((r) => requestAnimationFrame(() => r(performance.now())));
  b.frame = frame;
  b.longestTask = (t0, t1) => b.longtasks.filter((e) => e.start + e.dur > t0 && e.start < t1).reduce((m, e) => Math.max(m, e.dur), 0);
  b.visible = (sel) => {
    for (const el of document.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) return el;
    }
    return null;
  };
  // Resolves when 'sel' has a box and a frame plus a macrotask have run after it; or when
  // 'errSel' has a box (with its text); or after timeoutMs. Records frame gaps meanwhile.
  b.waitShown = (sel, errSel, t0, timeoutMs) => new Promise((resolve) => {
    b.t0 = t0;
    let last = t0, maxGap = 0;
    const tick = (now) => {
      maxGap = Math.max(maxGap, now - last);
      last = now;
      if (b.visible(sel)) {
        requestAnimationFrame((n2) => {
          maxGap = Math.max(maxGap, n2 - last);
          setTimeout(() => {
            const t1 = performance.now();
            resolve({ ok: true, ms: t1 - t0, maxFrame: maxGap, longTask: b.longestTask(t0, t1) });
          }, 0);
        });
        return;
      }
      const err = errSel && b.visible(errSel);
      if (err) { resolve({ ok: false, error: err.innerText.trim().replace(/\\s+/g, ' ').slice(0, 300), ms: now - t0 }); return; }
      if (now - t0 > timeoutMs) { resolve({ ok: false, timedOut: true, ms: now - t0 }); return; }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  // After t0: waits for 1 s with no long task (polling every 100 ms, at most timeoutMs) and
  // returns when the last long task before that quiet second ended, relative to t0.
  b.quiet = (t0, timeoutMs) => new Promise((resolve) => {
    const lastEnd = () => b.longtasks.filter((e) => e.start + e.dur > t0).reduce((m, e) => Math.max(m, e.start + e.dur), t0);
    const poll = () => {
      const now = performance.now();
      if (now - lastEnd() >= 1000 || now - t0 > timeoutMs) resolve({ ms: lastEnd() - t0, capped: now - t0 > timeoutMs });
      else setTimeout(poll, 100);
    };
    poll();
  });
  b.scroller = (sel) => {
    const root = document.querySelector(sel);
    if (!root) return null;
    const scrollable = (el) => el.scrollHeight > el.clientHeight + 2 && /(auto|scroll)/.test(getComputedStyle(el).overflowY);
    if (scrollable(root)) return root;
    for (const el of root.querySelectorAll('*')) if (scrollable(el)) return el;
    for (let el = root.parentElement; el; el = el.parentElement) if (scrollable(el)) return el;
    return null;
  };
  b.scrollToBottom = async (sel, maxSteps) => {
    const el = b.scroller(sel);
    if (!el) return { ok: false, error: 'nothing to scroll (the list fits)' };
    const t0 = await frame();
    let last = t0, maxGap = 0, steps = 0;
    const step = Math.max(1, Math.floor(el.clientHeight * 0.9));
    while (el.scrollTop + el.clientHeight < el.scrollHeight - 1 && steps < maxSteps) {
      el.scrollTop = el.scrollTop + step;
      steps++;
      const now = await frame();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }
    const n2 = await frame();
    maxGap = Math.max(maxGap, n2 - last);
    const t1 = performance.now();
    return { ok: true, steps, px: el.scrollHeight, ms: t1 - t0, maxFrame: maxGap, longTask: b.longestTask(t0, t1),
             reachedBottom: el.scrollTop + el.clientHeight >= el.scrollHeight - 1 };
  };
})();`;

/** Run `fn` with a deadline; resolves to { timedOut: true } when it passes. */
async function withDeadline(ms, fn) {
  let timer;
  const deadline = new Promise((r) => (timer = setTimeout(() => r({ timedOut: true }), ms)));
  try {
    return await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function settle(page, ms = 300) {
  await page.evaluate(() => window.__bench.frame().then(() => window.__bench.frame()));
  await page.waitForTimeout(ms);
}

async function heapAndDom(page, cdp) {
  const metric = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? null;
  };
  const heap = await metric();
  const dom = await page.evaluate(() => document.getElementsByTagName('*').length);
  await cdp.send('HeapProfiler.collectGarbage');
  const heapGc = await metric();
  return { heapMB: heap / 2 ** 20, heapGcMB: heapGc / 2 ** 20, dom };
}

// ---------------------------------------------------------------------------------------------
// Viewers

const VIEWERS = {
  pev2: {
    name: 'pev2',
    nodeSel: '.plan-node',
    listSel: '.diagram',
    gridTabSel: 'a.nav-link[href="#grid"]',
    gridRowSel: '.plan-grid tbody tr',
    async open(ctx, env) {
      await ctx.page.goto(env.pev2Origin + '/', { waitUntil: 'load' });
      await ctx.page.waitForFunction(() => window.__pev2Ready === true, null, { timeout: 30_000 });
    },
    async put(ctx, plan) {
      await ctx.page.evaluate((t) => (window.__benchText = t), plan.text);
    },
    async go(ctx, timeoutMs) {
      return ctx.page.evaluate(
        ([sel, tmo]) => {
          const t0 = performance.now();
          window.__pev2Show(window.__benchText);
          return window.__bench.waitShown(sel, '.plan-container .alert-danger, .alert.alert-danger', t0, tmo);
        },
        [this.nodeSel, timeoutMs],
      );
    },
    extra: async (ctx) => ctx.page.evaluate(() => ({ nodeCards: document.querySelectorAll('.plan-node').length })),
  },
  dbdeck: {
    name: 'dbdeck',
    nodeSel: '[data-testid=plan-node]',
    listSel: '[data-testid=plan-tree]',
    gridTabSel: '[data-testid=plan-tab-grid]',
    gridRowSel: '[data-testid=plan-grid-row]',
    async open(ctx, env) {
      const { page } = ctx;
      await page.goto(ctx.server.url, { waitUntil: 'load' });
      // The sidebar link when there is one; otherwise the route itself.
      const link = page.locator('nav a[href="#/plans"]');
      try {
        await link.waitFor({ timeout: 20_000 });
        await link.click();
      } catch {
        await page.evaluate(() => (window.location.hash = '#/plans'));
      }
      try {
        await page.locator('[data-testid=plans]').waitFor({ timeout: 15_000 });
      } catch {
        throw new PageMissing('the Plans page ([data-testid=plans]) is not in this build of the UI');
      }
      const paste = page.locator('[data-testid=plan-mode-paste]');
      if (await paste.count()) await paste.click();
      await page.locator('[data-testid=plan-input]').waitFor({ timeout: 15_000 });
    },
    async put(ctx, plan) {
      const { page } = ctx;
      await page.evaluate((t) => {
        const ta = document.querySelector('[data-testid=plan-input]');
        const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
        setter.call(ta, t);
        ta.dispatchEvent(new Event('input', { bubbles: true }));
      }, plan.text);
      await page.waitForFunction(() => !document.querySelector('[data-testid=plan-analyze]')?.disabled, null, { timeout: 30_000 });
    },
    async go(ctx, timeoutMs) {
      return ctx.page.evaluate(
        ([sel, tmo]) => {
          const t0 = performance.now();
          document.querySelector('[data-testid=plan-analyze]').click();
          return window.__bench.waitShown(sel, '[data-testid=plan-error]', t0, tmo);
        },
        [this.nodeSel, timeoutMs],
      );
    },
    // The share of the render time spent on the API call (request out to last response byte),
    // and the size of the answer, from Resource Timing.
    extra: async (ctx) =>
      ctx.page.evaluate(() => {
        const calls = performance
          .getEntriesByType('resource')
          .filter((e) => e.name.includes('/api/call') && e.startTime >= window.__bench.t0 - 1)
          .sort((a, b) => b.duration - a.duration);
        return {
          rowsInDom: document.querySelectorAll('[data-testid=plan-node]').length,
          nodeCount: document.querySelector('[data-testid=plan-node-count]')?.textContent?.trim() ?? null,
          apiMs: calls[0]?.duration ?? null,
          // Request sent to first response byte (the backend's parse and analysis), and the rest.
          apiWaitMs: calls[0] ? calls[0].responseStart - calls[0].startTime : null,
          apiResponseBytes: calls[0]?.encodedBodySize ?? null,
        };
      }),
  },
};

class PageMissing extends Error {}

async function oneRun(viewer, plan, env, opts) {
  const out = { viewer: viewer.name, plan: plan.key, status: 'ok' };
  const ctx = { server: null };
  let br = null;
  try {
    if (viewer.name === 'dbdeck') ctx.server = await startDbdeck(opts.dbdeckBin);
    br = await startBrowser();
    Object.assign(ctx, br);
    await viewer.open(ctx, env);
    await viewer.put(ctx, plan);
    await settle(ctx.page, 500);

    const tmo = opts.timeout * 1000;
    const r = await withDeadline(tmo + 10_000, () => viewer.go(ctx, tmo));
    if (r.timedOut) {
      out.status = 'timeout';
      out.renderMs = null;
      return out;
    }
    if (!r.ok) {
      out.status = 'error';
      out.error = r.error;
      out.renderMs = r.ms;
      return out;
    }
    out.renderMs = r.ms;
    out.renderLongTask = r.longTask;
    const q = await withDeadline(STEP_TIMEOUT_MS + 5_000, () => ctx.page.evaluate((tmo) => window.__bench.quiet(window.__bench.t0, tmo), STEP_TIMEOUT_MS));
    out.quietMs = q.timedOut ? null : Math.max(q.ms, r.ms);
    out.quietCapped = !!(q.timedOut || q.capped);
    await settle(ctx.page, 200);
    Object.assign(out, await heapAndDom(ctx.page, ctx.cdp));
    Object.assign(out, await viewer.extra(ctx));
    if (opts.screenshots && plan.first) await ctx.page.screenshot({ path: path.join(HERE, 'out', `shot-${viewer.name}-${plan.key}.png`) });

    const sc = await withDeadline(STEP_TIMEOUT_MS, () => ctx.page.evaluate((sel) => window.__bench.scrollToBottom(sel, 3000), viewer.listSel));
    out.scroll = sc.timedOut ? { ok: false, error: 'timed out' } : sc;
    await settle(ctx.page, 300);

    const g = await withDeadline(STEP_TIMEOUT_MS + 5_000, () =>
      ctx.page.evaluate(
        ([tab, row, tmo]) => {
          const el = document.querySelector(tab);
          if (!el) return { ok: false, error: 'no grid tab' };
          const t0 = performance.now();
          el.click();
          return window.__bench.waitShown(row, null, t0, tmo);
        },
        [viewer.gridTabSel, viewer.gridRowSel, STEP_TIMEOUT_MS],
      ),
    );
    out.grid = g.timedOut ? { ok: false, timedOut: true } : g;
    if (ctx.errors.length) out.pageErrors = ctx.errors.slice(0, 5);
    return out;
  } catch (e) {
    if (e instanceof PageMissing) {
      out.status = 'missing';
      out.error = e.message;
      return out;
    }
    out.status = 'error';
    out.error = String(e?.message ?? e).split('\n')[0];
    return out;
  } finally {
    if (br) await br.close();
    if (ctx.server) await ctx.server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Summary

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

function summarise(runs) {
  const ok = runs.filter((r) => r.status === 'ok');
  const bad = runs.find((r) => r.status !== 'ok');
  const s = {
    runs: runs.length,
    okRuns: ok.length,
    status: ok.length ? 'ok' : bad?.status ?? 'none',
    error: bad?.error ?? null,
  };
  if (!ok.length) return s;
  const pick = (f) => median(ok.map(f));
  s.renderMs = pick((r) => r.renderMs);
  s.renderMin = Math.min(...ok.map((r) => r.renderMs));
  s.renderMax = Math.max(...ok.map((r) => r.renderMs));
  s.renderLongTask = pick((r) => r.renderLongTask);
  s.quietMs = pick((r) => r.quietMs);
  s.heapMB = pick((r) => r.heapMB);
  s.heapGcMB = pick((r) => r.heapGcMB);
  s.dom = pick((r) => r.dom);
  s.scrollFrame = pick((r) => (r.scroll?.ok ? r.scroll.maxFrame : null));
  s.scrollTask = pick((r) => (r.scroll?.ok ? r.scroll.longTask : null));
  s.scrollSteps = pick((r) => (r.scroll?.ok ? r.scroll.steps : null));
  s.scrollNote = ok.map((r) => (r.scroll?.ok ? null : r.scroll?.error === 'timed out' ? `timed out (> ${STEP_TIMEOUT_MS / 1000} s)` : r.scroll?.error)).find(Boolean) ?? null;
  s.gridMs = pick((r) => (r.grid?.ok ? r.grid.ms : null));
  s.gridFrame = pick((r) => (r.grid?.ok ? r.grid.maxFrame : null));
  s.gridTask = pick((r) => (r.grid?.ok ? r.grid.longTask : null));
  s.gridNote = ok.map((r) => (r.grid?.ok ? null : r.grid?.timedOut ? `timed out (> ${STEP_TIMEOUT_MS / 1000} s)` : r.grid?.error)).find(Boolean) ?? null;
  s.rowsInDom = pick((r) => r.rowsInDom);
  s.apiMs = pick((r) => r.apiMs);
  s.apiWaitMs = pick((r) => r.apiWaitMs);
  s.apiResponseBytes = pick((r) => r.apiResponseBytes);
  s.nodeCards = pick((r) => r.nodeCards);
  return s;
}

const f0 = (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const f1 = (x) => (x === null || x === undefined ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 }));
const size = (bytes) => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`);
const ratio = (a, b) => {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return '–';
  const r = a / b;
  return `${r >= 10 ? Math.round(r).toLocaleString('en-US') : r.toFixed(r >= 1 ? 1 : 2)}×`;
};

function statusText(s, timeoutS) {
  if (s.status === 'timeout') return `timed out (> ${timeoutS} s)`;
  if (s.status === 'missing') return 'Plans page not in this build';
  if (s.status === 'error') return `failed: ${s.error}`;
  return s.status;
}

function markdown(plans, cells, opts, meta) {
  const L = [];
  L.push(`Median of ${opts.runs} fresh page loads (min–max for render). Chromium ${meta.chromium}, ${meta.cpus} CPUs; ${meta.dbdeck}, built ${meta.binMtime}; pev2 ${meta.pev2}.`);
  L.push(`1-minute load average over the runs: ${meta.loadRange} (anything well above 0 means other work shared the CPUs).`);
  L.push('');
  L.push('| Plan | Nodes (max depth) | JSON size | Viewer | Render → interactive, ms | Quiet (last long task ends), ms | JS heap after render, MB (after GC) | DOM elements | Scroll tree to bottom: longest frame / long task, ms (steps) | Grid tab: switch / longest frame, ms |');
  L.push('|---|---:|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const p of plans) {
    for (const v of opts.viewers) {
      const s = cells[`${v}:${p.key}`];
      if (!s) continue;
      const head = `| ${p.label} | ${p.nodes.toLocaleString('en-US')} (${p.depth}) | ${size(p.bytes)} | ${v} |`;
      if (s.status !== 'ok') {
        L.push(`${head} ${statusText(s, opts.timeout)} | – | – | – | – | – |`);
        continue;
      }
      const render = `${f0(s.renderMs)} (${f0(s.renderMin)}–${f0(s.renderMax)})${s.okRuns < s.runsWanted ? ` [${s.okRuns}/${s.runsWanted} runs]` : ''}`;
      const scroll = s.scrollFrame === null ? s.scrollNote ?? '–' : `${f0(s.scrollFrame)} / ${f0(s.scrollTask)} (${f0(s.scrollSteps)})`;
      const grid = s.gridMs === null ? s.gridNote ?? '–' : `${f0(s.gridMs)} / ${f0(s.gridFrame)}`;
      L.push(`${head} ${render} | ${f0(s.quietMs)} | ${f1(s.heapMB)} (${f1(s.heapGcMB)}) | ${f0(s.dom)} | ${scroll} | ${grid} |`);
    }
  }
  const api = plans.map((p) => [p, cells[`dbdeck:${p.key}`]]).filter(([, s]) => s?.status === 'ok' && s.apiMs !== null);
  if (api.length) {
    L.push('');
    L.push('dbdeck\'s render time includes the plan_analyze API call (parse and analysis in the backend, then the answer):');
    L.push('');
    L.push('| Plan | Render → interactive, ms | API call, ms | of which waiting for the first byte, ms | Answer size |');
    L.push('|---|---:|---:|---:|---:|');
    for (const [p, s] of api) L.push(`| ${p.label} | ${f0(s.renderMs)} | ${f0(s.apiMs)} | ${f0(s.apiWaitMs)} | ${s.apiResponseBytes === null ? '–' : size(s.apiResponseBytes)} |`);
  }
  if (opts.viewers.includes('pev2') && opts.viewers.includes('dbdeck')) {
    L.push('');
    L.push('Ratios, pev2 ÷ dbdeck (above 1 means pev2 takes more):');
    L.push('');
    L.push('| Plan | Render time | JS heap (after GC) | DOM elements | Scroll longest frame | Grid switch time | Note |');
    L.push('|---|---:|---:|---:|---:|---:|---|');
    for (const p of plans) {
      const a = cells[`pev2:${p.key}`];
      const b = cells[`dbdeck:${p.key}`];
      if (!a || !b) continue;
      if (a.status !== 'ok' || b.status !== 'ok') {
        const why = [a.status !== 'ok' ? `pev2 ${statusText(a, opts.timeout)}` : null, b.status !== 'ok' ? `dbdeck ${statusText(b, opts.timeout)}` : null].filter(Boolean).join('; ');
        const lower = a.status === 'timeout' && b.status === 'ok' ? `> ${ratio(opts.timeout * 1000, b.renderMs)}` : '–';
        L.push(`| ${p.label} | ${lower} | – | – | – | – | ${why} |`);
        continue;
      }
      const gridRatio = a.gridMs === null && a.gridNote?.startsWith('timed out') ? `> ${ratio(STEP_TIMEOUT_MS, b.gridMs)}` : ratio(a.gridMs, b.gridMs);
      L.push(`| ${p.label} | ${ratio(a.renderMs, b.renderMs)} | ${ratio(a.heapMB, b.heapMB)} (${ratio(a.heapGcMB, b.heapGcMB)}) | ${ratio(a.dom, b.dom)} | ${ratio(a.scrollFrame, b.scrollFrame)} | ${gridRatio} | |`);
    }
  }
  return L.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------

/** --report FILE: print the tables again from a results.json, with this version's summary. */
function report(file) {
  const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
  const opts = saved.options;
  const cells = {};
  for (const v of opts.viewers) {
    for (const p of saved.plans) {
      const runs = saved.runs.filter((r) => r.viewer === v && r.plan === p.key);
      if (!runs.length) continue;
      cells[`${v}:${p.key}`] = { ...summarise(runs), runsWanted: opts.runs };
    }
  }
  process.stdout.write(markdown(saved.plans, cells, opts, saved.meta));
}

async function main() {
  const ri = process.argv.indexOf('--report');
  if (ri >= 0) return report(process.argv[ri + 1]);
  const opts = parseArgs(process.argv.slice(2));
  const outDir = path.join(HERE, 'out');
  const plans = preparePlans(opts.plans, path.join(outDir, 'plans'));
  for (const p of plans) log(`plan ${p.key}: ${p.nodes} nodes, depth ${p.depth}, widest ${p.widest}, ${p.bytes} bytes`);

  const env = {};
  let pev2Server = null;
  if (opts.viewers.includes('pev2')) {
    const dist = path.join(HERE, 'dist-pev2');
    if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error('dist-pev2/ is missing: run `npx vite build` in bench/plan-view first');
    pev2Server = await serveStatic({ '/': dist });
    env.pev2Origin = pev2Server.origin;
  }
  if (opts.viewers.includes('dbdeck') && !fs.existsSync(opts.dbdeckBin)) throw new Error(`no dbdeck binary at ${opts.dbdeckBin}`);

  const meta = {
    chromium: 'unknown',
    cpus: os.cpus().length,
    dbdeck: `dbdeck ${opts.dbdeckBin.includes('/release/') ? 'release' : opts.dbdeckBin.includes('/debug/') ? 'debug' : ''} build (${opts.dbdeckBin})`.replace('  ', ' '),
    pev2: JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', 'pev2', 'package.json'), 'utf8')).version,
    started: new Date().toISOString(),
    loadBefore: os.loadavg()[0],
    binMtime: fs.existsSync(opts.dbdeckBin) ? fs.statSync(opts.dbdeckBin).mtime.toISOString() : null,
  };
  {
    const b = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS });
    meta.chromium = b.version();
    await b.close();
  }

  // dbdeck first, then pev2 (its big plans are slow), each smallest plan first.
  const order = ['dbdeck', 'pev2'].filter((v) => opts.viewers.includes(v));
  const raw = [];
  const cells = {};
  const jsonPath = opts.json ?? path.join(outDir, 'results.json');
  const writeJson = () =>
    fs.writeFileSync(jsonPath, JSON.stringify({ meta, options: { ...opts }, plans: plans.map(({ text, ...p }) => p), cells, runs: raw }, null, 2) + '\n');
  for (const v of order) {
    let missing = false;
    for (const p of plans) {
      const runs = [];
      for (let i = 0; i < opts.runs; i++) {
        if (missing) {
          runs.push({ viewer: v, plan: p.key, status: 'missing', error: 'the Plans page is not in this build of the UI' });
          break;
        }
        const t = Date.now();
        const load1 = os.loadavg()[0];
        const r = await oneRun(VIEWERS[v], { ...p, first: i === 0 }, env, opts);
        r.run = i + 1;
        r.wallS = (Date.now() - t) / 1000;
        // Other work on the machine skews every figure here (2 cores): keep the 1-minute load
        // average before and after each run, and the binary's mtime (a rebuild mid-run shows).
        r.loadBefore = load1;
        r.loadAfter = os.loadavg()[0];
        if (v === 'dbdeck') r.binMtime = fs.statSync(opts.dbdeckBin).mtime.toISOString();
        runs.push(r);
        raw.push(r);
        log(`${v} ${p.key} run ${i + 1} (load ${r.loadBefore.toFixed(1)}→${r.loadAfter.toFixed(1)}): ${r.status}${r.renderMs != null ? ` render ${Math.round(r.renderMs)} ms` : ''}${r.heapMB ? `, heap ${r.heapMB.toFixed(1)} MB` : ''}${r.dom ? `, ${r.dom} elements` : ''}${r.error ? ` (${r.error})` : ''} [${r.wallS.toFixed(1)} s]`);
        if (r.status === 'missing') missing = true;
        writeJson();
        if (r.status !== 'ok') break; // a timeout or a rejection repeats; skip the other runs
        if (r.renderMs > opts.slow * 1000) break; // too slow to repeat within the time budget
      }
      cells[`${v}:${p.key}`] = summarise(runs);
      cells[`${v}:${p.key}`].runsWanted = opts.runs;
    }
  }
  if (pev2Server) await pev2Server.close();
  const loads = raw.flatMap((r) => [r.loadBefore, r.loadAfter]).filter((x) => typeof x === 'number');
  meta.loadRange = loads.length ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : 'n/a';
  const mtimes = [...new Set(raw.map((r) => r.binMtime).filter(Boolean))];
  if (mtimes.length > 1) log(`warning: the dbdeck binary changed during the run (${mtimes.join(', ')})`);
  meta.binMtimes = mtimes;

  const md = markdown(plans, cells, opts, meta);
  process.stdout.write(md);
  if (opts.markdown) fs.writeFileSync(opts.markdown, md);
  writeJson();
}

main().catch((e) => {
  log(`bench failed: ${e?.stack ?? e}`);
  process.exit(1);
});
