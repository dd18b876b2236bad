// Shared by the browser tests: start `dbdeck serve --demo` on a fresh data directory, drive
// Debian's chromium through playwright-core, and clean both up. Nothing is built here: build
// the UI (`npm run build`) and then dbdeck, and point DBDECK_BIN at the binary.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BIN = process.env.DBDECK_BIN || '/var/tmp/dbdeck-target/debug/dbdeck';
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'out');
/** The repository (scripts/, the Cargo workspace), two levels above this file. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The machine's PostgreSQL 15, trust auth, no password. */
export const PG_OK = process.env.DBDECK_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const PSQL = process.env.PSQL_BIN || '/usr/lib/postgresql/15/bin/psql';
export const PG_REFUSED = 'postgres://postgres@127.0.0.1:1/postgres';
export const CHROME_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SIZES = [
  [1280, 800],
  [1024, 700],
];

fs.mkdirSync(OUT, { recursive: true });

/** Start `dbdeck serve --demo` on a free port; its first stdout line is the URL with the token.
 *  `prepare(dataDir)` runs first, on the fresh data directory (e.g. `dbdeck env add` with the
 *  CLI); `env` adds variables to the server's environment. */
export async function startServer({ prepare, env = {} } = {}) {
  assert.ok(fs.existsSync(BIN), `dbdeck binary not found at ${BIN}: build it or set DBDECK_BIN`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbdeck-web-'));
  if (prepare) await prepare(dir);
  const proc = spawn(BIN, ['--data-dir', dir, 'serve', '--demo', '--port', '0', '--health-interval', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`dbdeck printed no URL within 30 s; stderr:\n${stderr}`)), 30_000);
    proc.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl).trim());
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dbdeck exited with ${code} before printing its URL; stderr:\n${stderr}`));
    });
  });
  const u = new URL(url);
  const token = u.searchParams.get('token');
  assert.ok(token, `the first line of stdout must be the URL with ?token=…, got: ${url}`);
  const origin = u.origin;

  /** Call the API directly, as a script would. */
  async function call(request) {
    const res = await fetch(`${origin}/api/call`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(request),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`${request.op} failed (${res.status}): ${JSON.stringify(body)}`);
    return body;
  }

  async function stop() {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timeout = new Promise((r) => setTimeout(() => r('timeout'), 5000));
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        proc.kill('SIGKILL');
        await exited;
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { url, origin, token, call, stop, stderr: () => stderr };
}

/** A fresh chromium profile; page errors and CSP violations fail the test. */
export async function startBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dbdeck-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROME_ARGS,
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
  });
  const problems = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  async function close() {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  return { context, page, problems, close };
}

/** Run `fn` with a fresh server (started with `opts`, see startServer) and browser, and
 *  always clean both up. */
export async function session(fn, opts = {}) {
  const server = await startServer(opts);
  let browser;
  try {
    browser = await startBrowser();
    await fn({ server, page: browser.page, browser });
    assert.deepEqual(browser.problems, [], 'the page must run without script errors or CSP violations');
  } finally {
    await browser?.close();
    await server.stop();
  }
}

export async function addEnvThroughForm(page, { name, url, kind }) {
  await page.goto(page.url().split('#')[0] + '#/environments');
  await page.getByTestId('add-env').click();
  const form = page.getByTestId('env-form');
  await form.locator('input[name=name]').fill(name);
  if (kind) await form.locator('select[name=kind]').selectOption(kind);
  await form.locator('input[name=url]').fill(url);
  await page.getByTestId('env-form-submit').click();
  // Adding closes the form and tests the new environment straight away.
  const dialog = page.getByTestId('test-dialog');
  await dialog.getByTestId('test-report').waitFor({ timeout: 20_000 });
  return dialog;
}

/** Screenshots of the page as it is, light and dark, at every size in SIZES, named
 *  `${name}-${scheme}-${w}x${h}.png`; `ready` runs after each change, before the picture. */
export async function screenshots(page, name, ready = async () => {}) {
  const files = [];
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [w, h] of SIZES) {
      await page.setViewportSize({ width: w, height: h });
      await ready();
      await page.waitForTimeout(300);
      const file = path.join(OUT, `${name}-${scheme}-${w}x${h}.png`);
      await page.screenshot({ path: file });
      assert.ok(fs.statSync(file).size > 10_000, `${file} looks empty`);
      files.push(file);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: SIZES[0][0], height: SIZES[0][1] });
  return files;
}

/** A psql session of its own (application_name `app`), left running until `stop()`.
 *  `sql` is sent on stdin and stdin stays open, so the session lives on (idle, or idle in a
 *  transaction) after its statements; `exited` resolves with { code, stderr }. */
export function psqlSession(app, sql, { url = PG_OK } = {}) {
  const proc = spawn(PSQL, [url, '-X', '-q', '-v', 'ON_ERROR_STOP=0'], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, PGAPPNAME: app, PGCONNECT_TIMEOUT: '5' },
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  proc.stdin.write(sql.endsWith('\n') ? sql : `${sql}\n`);
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal, stderr })));
  function stop() {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.stdin.end();
      proc.kill('SIGTERM');
    }
    return exited;
  }
  return { proc, exited, stop, stderr: () => stderr };
}

/** One query through psql, its rows as text (`-At`: unaligned, tuples only). */
export async function psqlQuery(sql, { url = PG_OK } = {}) {
  const proc = spawn(PSQL, [url, '-X', '-At', '-c', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (err += d));
  const code = await new Promise((resolve) => proc.once('exit', resolve));
  assert.equal(code, 0, `psql failed: ${err}`);
  return out.trim();
}

/** Wait until `check()` is truthy (polling every 250 ms), or fail with `what`. */
export async function eventually(what, check, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
