// Browser tests of the Dashboard page: the demo's SQLite file, the machine's PostgreSQL (with
// sessions of our own: one sleeping, one holding an advisory lock another waits for), Cancel
// and Terminate through their confirm dialogs, and a server that goes away mid-watch.
//
// Needs PostgreSQL on DBDECK_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres,
// trust auth) and psql (PSQL_BIN). Creates nothing in the database; every session it opens is
// ended before the test returns. Screenshots go to tests/out/dashboard-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { addEnvThroughForm, eventually, OUT, PG_OK, PSQL, psqlQuery, psqlSession, screenshots, session } from './helpers.mjs';

/** An advisory lock key no one else uses. */
const LOCK_KEY = 770_011;

/** `select pg_sleep(s)` in its own psql, as the brief of this test says: exits when it ends. */
function sleeper(app, s = 60) {
  const proc = spawn(PSQL, [PG_OK, '-X', '-c', `select pg_sleep(${s})`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PGAPPNAME: app },
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stderr })));
  return {
    exited,
    stop: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** The backend pid of the session with application_name `app` (waits until it exists). */
async function pidOf(app, state) {
  const where = `application_name = '${app}'${state ? ` AND state = '${state}'` : ''}`;
  return Number(await eventually(`a session named ${app}${state ? ` in state ${state}` : ''}`, () => psqlQuery(`SELECT pid FROM pg_stat_activity WHERE ${where} LIMIT 1`)));
}

async function openDashboardFromTile(page, env, engine) {
  const tile = page.locator(`article[data-env="${env}"]`);
  await tile.waitFor({ timeout: 20_000 });
  await tile.getByTestId('tile-dashboard').click();
  assert.match(page.url(), /#\/dashboard$/);
  await page.locator('nav a[aria-current=page][href="#/dashboard"]').waitFor();
  assert.equal(await page.getByTestId('current-env').locator('.env-pill').innerText(), env, 'the tile made its environment current');
  await page.locator(`[data-testid=dashboard][data-engine=${engine}]`).waitFor({ timeout: 20_000 });
}

test('the demo (SQLite) dashboard shows the file, its integrity and every table with its row count', { timeout: 120_000 }, async () => {
  await session(async ({ server, page }) => {
    await page.goto(server.url);
    await page.locator('article[data-env=demo][data-status=ok]').waitFor({ timeout: 20_000 });
    await openDashboardFromTile(page, 'demo', 'sqlite');

    assert.match(await page.getByTestId('dash-version-value').innerText(), /^3\.\d+/);
    assert.match(await page.getByTestId('dash-filesize-value').innerText(), /^\d+(\.\d+)? (KiB|MiB|GiB)$/, 'sizes in binary units');
    assert.match(await page.getByTestId('dash-integrity').innerText(), /check passed/);
    const orders = page.locator('[data-testid=sqlite-table] tr[data-table=orders]');
    assert.match(await orders.getByTestId('rows').innerText(), /^8[,.\u00a0\u202f]?000$/, 'orders has 8,000 rows');
    assert.match(await orders.innerText(), /orders_customer/);
    assert.match(await page.getByTestId('dash-asof').innerText(), /as of .+ · polled in \d+(\.\d+)? ms with \d+ queries/);
    // No server, so none of the PostgreSQL sections.
    assert.equal(await page.getByTestId('sessions').count(), 0);
    assert.equal(await page.getByTestId('top').count(), 0);
    // dbdeck's own pool of the file, breaker closed.
    const pool = page.locator('[data-testid=pool-card][data-role=primary]');
    await pool.waitFor();
    assert.equal((await pool.getByTestId('breaker').innerText()).trim(), 'closed');

    // Sorting by rows puts the largest table first.
    await page.locator('[data-testid=sqlite-table] th').filter({ hasText: 'Rows' }).getByRole('button').click();
    await page.locator('[data-testid=sqlite-table] th').filter({ hasText: 'Rows' }).getByRole('button').click();
    assert.equal(await page.locator('[data-testid=sqlite-table] tbody tr').first().getAttribute('data-table'), 'order_items');

    await screenshots(page, 'dashboard-sqlite', () => page.getByTestId('sqlite-tiles').waitFor());
  });
});

test('a PostgreSQL dashboard: version, sessions, lock tree, cache, pools; Cancel ends a running query', { timeout: 180_000 }, async () => {
  const sleep = sleeper('dash-sleeper');
  const holder = psqlSession('dash-holder', `SELECT pg_advisory_lock(${LOCK_KEY});\nBEGIN;\nSELECT txid_current();\n`);
  let waiter;
  try {
    const sleeperPid = await pidOf('dash-sleeper', 'active');
    const holderPid = await pidOf('dash-holder', 'idle in transaction');
    waiter = psqlSession('dash-waiter', `SELECT pg_advisory_lock(${LOCK_KEY});\n`);
    const waiterPid = await pidOf('dash-waiter', 'active');

    await session(async ({ server, page }) => {
      await page.goto(server.url);
      const dialog = await addEnvThroughForm(page, { name: 'local-pg', url: PG_OK });
      await dialog.getByRole('button', { name: 'Close', exact: true }).click();
      await page.evaluate(() => (location.hash = '#/overview'));
      await openDashboardFromTile(page, 'local-pg', 'postgres');

      // Header tiles.
      assert.match(await page.getByTestId('dash-version-value').innerText(), /^15/);
      assert.match(await page.getByTestId('dash-connections').innerText(), /\d+ of \d+ usable[\s\S]*\b(ok|warn|critical)\b/);
      assert.match(await page.getByTestId('dash-dbsize-value').innerText(), /^\d+(\.\d+)? (KiB|MiB|GiB)$/);
      assert.match(await page.getByTestId('dash-uptime-value').innerText(), /\d+ (s|min|h|d)/);

      // Sessions: ours are there, with their state; the waiter says who blocks it.
      const table = page.getByTestId('sessions-table');
      const sleeperRow = table.locator(`tbody[data-pid="${sleeperPid}"]`);
      await sleeperRow.waitFor({ timeout: 15_000 });
      assert.equal(await sleeperRow.getAttribute('data-state'), 'active');
      assert.match(await sleeperRow.innerText(), /dash-sleeper/);
      assert.match(await sleeperRow.innerText(), /pg_sleep\(60\)/);
      const holderRow = table.locator(`tbody[data-pid="${holderPid}"]`);
      assert.equal(await holderRow.getAttribute('data-state'), 'idle in transaction');
      assert.match(await table.locator(`tbody[data-pid="${waiterPid}"]`).innerText(), new RegExp(`\\b${holderPid}\\b`), 'the waiter is blocked by the holder');
      assert.match(await page.getByTestId('sessions-count').innerText(), /\d+ sessions?/);

      // The filter narrows the table, the state chip too.
      await page.getByRole('searchbox', { name: 'Filter sessions…' }).fill('dash-sleeper');
      assert.equal(await table.locator('tbody[data-pid]').count(), 1);
      await page.getByRole('searchbox', { name: 'Filter sessions…' }).fill('');
      await page.locator('[data-testid=sessions] .chip[data-state="idle in transaction"]').click();
      assert.ok((await table.locator('tbody[data-pid]').count()) >= 1);
      for (const s of await table.locator('tbody[data-pid]').all()) assert.equal(await s.getAttribute('data-state'), 'idle in transaction');
      await page.locator('[data-testid=sessions] .chip[data-state="idle in transaction"]').click();

      // The lock tree: the holder at the top, the waiter beneath it.
      const tree = page.getByTestId('lock-tree');
      await tree.waitFor();
      await tree.locator(`li[data-pid="${holderPid}"][data-depth="0"]`).waitFor();
      await tree.locator(`li[data-pid="${waiterPid}"][data-depth="1"]`).waitFor();

      // pg_stat_statements is not loaded here: a calm notice with the hint, not an error.
      const top = page.getByTestId('top');
      if (await top.getByTestId('top-table').count() === 0) {
        const notice = top.locator('[role=status]');
        await notice.waitFor();
        assert.match(await notice.innerText(), /pg_stat_statements/);
        assert.match(await notice.innerText(), /Hint/i);
      }

      // Cache: the connected database with its ratio (one decimal) and a status word.
      const db = page.locator('[data-testid=cache-table] tr[data-db=postgres]');
      await db.waitFor();
      assert.match(await db.innerText(), /\d+\.\d %[\s\S]*\b(ok|warn|critical|no data)\b/);
      await page.getByTestId('tables').waitFor();
      await page.getByTestId('indexes').waitFor();

      // dbdeck's pool of the primary, breaker closed.
      const pool = page.locator('[data-testid=pool-card][data-role=primary]');
      await pool.waitFor();
      assert.equal((await pool.getByTestId('breaker').innerText()).trim(), 'closed');
      assert.match(await pool.innerText(), /\d+ of \d+ in use/);

      await screenshots(page, 'dashboard-postgres', () => sleeperRow.waitFor());
      // The lower half of the page too (it scrolls).
      await page.locator('#dash-pools').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(OUT, 'dashboard-postgres-lower-light-1280x800.png') });

      // Cancel, through the confirm dialog that shows the SQL and names its button.
      await sleeperRow.getByRole('button', { name: `Cancel the query of backend ${sleeperPid}` }).click();
      const confirm = page.getByTestId('signal-dialog');
      await confirm.waitFor();
      assert.equal((await confirm.getByTestId('signal-sql').innerText()).trim(), `SELECT pg_cancel_backend(${sleeperPid});`);
      const go = confirm.getByTestId('signal-confirm');
      assert.equal((await go.innerText()).trim(), `Cancel query of backend ${sleeperPid}`);
      await page.screenshot({ path: path.join(OUT, 'dashboard-cancel-confirm-light.png') });
      await go.click();
      assert.match(await page.getByTestId('signal-notice').innerText(), new RegExp(`Cancelled the query of backend ${sleeperPid}`));

      // psql reports the cancel and exits; the session is gone from the server and the table.
      const { code, stderr } = await sleep.exited;
      assert.notEqual(code, 0);
      assert.match(stderr, /canceling statement due to user request/);
      await sleeperRow.waitFor({ state: 'detached', timeout: 15_000 });
      const snap = await server.call({ op: 'snapshot', name: 'local-pg' });
      assert.ok(!snap.data.sessions.some((s) => s.pid === sleeperPid), 'the API no longer lists the cancelled session');
      const audit = await server.call({ op: 'audit_list', env: 'local-pg', limit: 20 });
      assert.ok(audit.data.some((r) => r.action === 'session.cancel' && r.outcome === 'ok'), 'the cancel is in the audit log');
    });
  } finally {
    await sleep.stop();
    await waiter?.stop();
    await holder.stop();
  }
});

test('on prod, Terminate needs the name typed; the session then ends', { timeout: 120_000 }, async () => {
  const victim = psqlSession('dash-victim', 'BEGIN;\nSELECT txid_current();\n');
  try {
    const pid = await pidOf('dash-victim', 'idle in transaction');
    await session(async ({ server, page }) => {
      await server.call({ op: 'env_add', env: { name: 'prod-pg', kind: 'prod', url: PG_OK, replicas: [] } });
      await page.goto(server.url);
      await openDashboardFromTile(page, 'prod-pg', 'postgres');
      await page.getByTestId('prod-band').waitFor();
      const row = page.locator(`[data-testid=sessions-table] tbody[data-pid="${pid}"]`);
      await row.waitFor({ timeout: 15_000 });
      assert.ok(await row.getByRole('button', { name: `Cancel the query of backend ${pid}` }).isDisabled(), 'nothing to cancel in an idle session');
      await row.getByRole('button', { name: `Terminate backend ${pid}` }).click();

      const dialog = page.getByTestId('prod-confirm');
      await dialog.waitFor();
      assert.match(await dialog.innerText(), new RegExp(`SELECT pg_terminate_backend\\(${pid}\\);`));
      const go = dialog.getByTestId('confirm-action');
      assert.equal((await go.innerText()).trim(), `Terminate backend ${pid}`);
      assert.ok(await go.isDisabled(), 'disabled until the name is typed');
      await dialog.getByTestId('confirm-input').fill('prod');
      assert.ok(await go.isDisabled());
      await dialog.getByTestId('confirm-input').fill('prod-pg');
      await page.screenshot({ path: path.join(OUT, 'dashboard-terminate-prod-light.png') });
      await go.click();
      await dialog.waitFor({ state: 'hidden' });
      assert.match(await page.getByTestId('signal-notice').innerText(), new RegExp(`Terminated backend ${pid}`));
      // (psql itself notices only when it next reads a command, so ask the server.)
      await eventually(`backend ${pid} to end`, async () => (await psqlQuery(`SELECT count(*) FROM pg_stat_activity WHERE pid = ${pid}`)) === '0');
      await row.waitFor({ state: 'detached', timeout: 15_000 });
    });
  } finally {
    await victim.stop();
  }
});

test('when the server goes away the last data stays, greyed, with its time and the error', { timeout: 120_000 }, async () => {
  // A TCP relay to PostgreSQL that the test can cut, as a server that dies would.
  const upstream = new URL(PG_OK);
  const sockets = new Set();
  const relay = net.createServer((client) => {
    const up = net.connect(Number(upstream.port || 5432), upstream.hostname);
    for (const s of [client, up]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        client.destroy();
        up.destroy();
        sockets.delete(s);
      });
    }
    client.pipe(up);
    up.pipe(client);
  });
  await new Promise((r) => relay.listen(0, '127.0.0.1', r));
  const port = relay.address().port;
  const cut = () => {
    relay.close();
    for (const s of sockets) s.destroy();
  };
  try {
    await session(async ({ server, page }) => {
      const url = new URL(PG_OK);
      url.host = `127.0.0.1:${port}`;
      await server.call({ op: 'env_add', env: { name: 'flaky', kind: 'staging', url: url.toString(), replicas: [] } });
      await page.goto(server.url);
      await openDashboardFromTile(page, 'flaky', 'postgres');
      const version = await page.getByTestId('dash-version-value').innerText();

      cut();
      await page.getByTestId('dash-refresh').click();
      await page.locator('[data-testid=dashboard][data-stale=true]').waitFor({ timeout: 30_000 });
      const err = page.locator('[data-testid=dashboard] > [role=alert]');
      assert.match(await err.innerText(), /Polling flaky failed — showing the data as of/);
      assert.match(await err.innerText(), /Hint/i);
      assert.ok(await err.getByRole('button', { name: 'Copy details' }).isVisible());
      assert.equal(await page.getByTestId('dash-version-value').innerText(), version, 'the last good data is still shown');
      assert.match(await page.getByTestId('dash-stale').innerText(), /stale/);
      await page.screenshot({ path: path.join(OUT, 'dashboard-stale-light.png') });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForTimeout(400);
      await page.screenshot({ path: path.join(OUT, 'dashboard-stale-dark.png') });
    });
  } finally {
    cut();
  }
});
