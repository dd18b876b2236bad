// Browser tests of the Dashboard's observation panels against the machine's PostgreSQL and
// Redis: the History chart (SVG, CSV download), the Redis panel, a 2-second select benchmark
// with live progress, pool advice with its arithmetic, the app-settings export, and a pool
// size edited in the environment form showing up as the pool's maximum.
//
// Needs PostgreSQL on DBDECK_TEST_PG_URL (trust auth) and Redis on 127.0.0.1:6379 without a
// password (REDIS_CLI, default redis-cli, primes one key so there are hits and misses; it is
// deleted again). PgBouncer is not started here: its panel is left to the Rust tests.
// The benchmark creates and drops its own scratch table. Screenshots: tests/out/observe-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { eventually, PG_OK, screenshots, session } from './helpers.mjs';

const REDIS_URL = 'redis://127.0.0.1:6379/0';
const REDIS_CLI = process.env.REDIS_CLI || 'redis-cli';
const KEY = `dbdeck-ui-test-${process.pid}`;

function redis(...args) {
  return execFileSync(REDIS_CLI, ['-h', '127.0.0.1', '-p', '6379', '-n', '0', ...args], { encoding: 'utf8' }).trim();
}

async function show(page, testid) {
  await page.getByTestId(testid).scrollIntoViewIfNeeded();
}

test('History, Redis, benchmark, pool advice and the pool profile on the dashboard of a PostgreSQL environment', { timeout: 180_000 }, async () => {
  // A hit and a miss, so the hit rate has something to divide.
  redis('SET', KEY, 'x', 'EX', '600');
  redis('GET', KEY);
  redis('GET', `${KEY}-missing`);
  try {
    await session(async ({ server, page }) => {
      await server.call({ op: 'env_add', env: { name: 'pgobs', kind: 'dev', url: PG_OK, replicas: [], redis: REDIS_URL } });
      await page.goto(server.url);
      const tile = page.locator('article[data-env=pgobs]');
      await tile.waitFor({ timeout: 20_000 });
      await tile.getByTestId('tile-dashboard').click();
      await page.locator('[data-testid=dashboard][data-engine=postgres]').waitFor({ timeout: 20_000 });

      // History: the latency chart as an SVG drawn at the panel's width, with its source.
      const history = page.getByTestId('history');
      await history.getByTestId('history-metric').selectOption('latency_ms');
      await history.locator('[data-testid=history-chart] svg').waitFor({ timeout: 20_000 });
      assert.match(await history.getByTestId('history-metric').locator('option:checked').innerText(), /latency \(ms\)/i);
      await eventually('the history has a source and an as-of time', async () =>
        /^(raw samples|1-minute averages|10-minute averages)$/.test(await history.getByTestId('history-source').innerText().catch(() => '')) &&
        /as of/.test(await history.getByTestId('history-asof').innerText()),
      );
      const drawn = Number(await history.locator('[data-testid=history-chart] svg').first().getAttribute('width'));
      const box = await history.getByTestId('history-chart').boundingBox();
      assert.ok(drawn >= 320 && box && Math.abs(drawn - box.width) < 80, `chart drawn at ${drawn} px for a ${box?.width} px panel`);
      // Every range of the shared picker is offered.
      assert.deepEqual(
        await history.getByTestId('history-range').getByRole('radio').allInnerTexts(),
        ['15 min', '1 h', '6 h', '24 h', '7 d', '30 d', '90 d'],
      );

      // CSV download: ISO timestamps with avg, min and max.
      const [csvDl] = await Promise.all([page.waitForEvent('download'), history.getByTestId('history-csv').click()]);
      assert.match(csvDl.suggestedFilename(), /^dbdeck-pgobs-latency_ms-\d+min\.csv$/);
      const csv = fs.readFileSync(await csvDl.path(), 'utf8').trim().split('\n');
      assert.equal(csv[0], 'timestamp,avg,min,max');
      assert.ok(csv.length >= 2, 'at least one point');
      assert.match(csv[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,[\d.]+,[\d.]+,[\d.]+$/);
      const [svgDl] = await Promise.all([page.waitForEvent('download'), history.getByTestId('history-svg').click()]);
      assert.match(fs.readFileSync(await svgDl.path(), 'utf8'), /^<svg/);

      // Redis: tier, a hit rate with its status word, the version.
      const r = page.getByTestId('redis');
      await r.getByTestId('redis-hit-rate').waitFor({ timeout: 20_000 });
      assert.match(await r.locator('h2').innerText(), /Redis · query cache/);
      assert.match(await r.getByTestId('redis-hit-rate').innerText(), /^\d+\.\d %$/);
      assert.match(await r.getByTestId('redis-hit').innerText(), /target 85 %[\s\S]*(ok|warn|critical)/);
      assert.match(await r.getByTestId('redis-version').innerText(), /^Redis \d+\.\d+/);
      assert.match(await r.getByTestId('redis-memory').innerText(), /no limit|of \d/);

      await screenshots(page, 'observe-history', () => show(page, 'history'));
      await screenshots(page, 'observe-redis', () => show(page, 'redis'));

      // Benchmark: the note, live progress, a report with ops/s > 0 and its chart.
      await page.getByTestId('dash-bench').click();
      const bench = page.getByTestId('bench-dialog');
      await bench.waitFor();
      assert.match(await bench.getByTestId('bench-note').innerText(), /creates an unlogged scratch table[\s\S]*drops the table/);
      await bench.locator('input[name=mode][value=select]').check();
      await bench.getByTestId('bench-clients').fill('2');
      await bench.getByTestId('bench-seconds').fill('2');
      assert.equal(await bench.getByTestId('bench-run').innerText(), 'Run a 2 s benchmark on pgobs');
      await bench.getByTestId('bench-run').click();
      await bench.getByTestId('bench-progress').waitFor({ timeout: 10_000 });
      await eventually('a progress event', async () => /second [12] of 2/.test(await bench.getByTestId('bench-second').innerText().catch(() => '')), 20_000);
      await bench.getByTestId('bench-report').waitFor({ timeout: 60_000 });
      const opsPerSec = Number(await bench.getByTestId('bench-ops').innerText());
      assert.ok(opsPerSec > 0, `ops/s ${opsPerSec}`);
      await bench.locator('[data-testid=bench-chart] svg').waitFor();
      await screenshots(page, 'observe-bench');
      await bench.getByRole('button', { name: 'Close', exact: true }).click();

      // Pool advice for 2 instances shows the arithmetic.
      await page.getByTestId('pool-advice').click();
      const advice = page.getByTestId('advice-dialog');
      await advice.getByTestId('advice-instances').fill('2');
      await advice.getByTestId('advice-run').click();
      const steps = await advice.getByTestId('advice-steps').innerText();
      assert.match(steps, /usable = max_connections \d+/);
      assert.match(steps, /× 2 instances/);
      await screenshots(page, 'observe-advice');
      await advice.getByRole('button', { name: 'Close', exact: true }).click();

      // The pool profile as app settings.
      const pool = page.locator('[data-testid=pool-card][data-role=primary]');
      await pool.waitFor();
      assert.match(await pool.innerText(), /of 6 in use/, 'dev profile: size 4 + overflow 2');
      await page.getByTestId('pool-export').click();
      const settings = page.getByTestId('settings-dialog');
      await eventually('SQLAlchemy settings', async () => /pool_size=4, max_overflow=2/.test(await settings.getByTestId('settings-text').innerText()));
      await settings.locator('input[name=format][value=hikaricp]').check();
      await eventually('HikariCP settings', async () => /maximumPoolSize|maximum-pool-size/i.test(await settings.getByTestId('settings-text').innerText()));
      await settings.getByRole('button', { name: 'Close', exact: true }).click();

      // Pool size 8 in the form: the pool's maximum becomes 8 + 2.
      await page.goto(server.url.split('#')[0] + '#/environments');
      await page.locator('tr[data-env=pgobs]').getByRole('button', { name: 'Edit pgobs' }).click();
      const form = page.getByTestId('env-form');
      await form.getByTestId('env-pool').locator('summary').click();
      assert.match(await form.getByTestId('env-pool').innerText(), /default 4/);
      await form.locator('input[name=pool-max_connections]').fill('8');
      await screenshots(page, 'observe-envform', () => form.locator('input[name=pool-max_connections]').scrollIntoViewIfNeeded());
      await page.getByTestId('env-form-submit').click();
      await form.waitFor({ state: 'hidden' });
      const saved = await server.call({ op: 'env_get', name: 'pgobs' });
      assert.equal(saved.data.pool.max_connections, 8);
      assert.equal(saved.data.pool.max_overflow, 2);
      await page.goto(server.url.split('#')[0] + '#/dashboard');
      await eventually('the pool card shows the new maximum', async () => /of 10 in use/.test(await page.locator('[data-testid=pool-card][data-role=primary]').innerText().catch(() => '')), 20_000);
      assert.match(await page.getByTestId('pool-profile').innerText(), /size 8 \+ overflow 2/);
      await screenshots(page, 'observe-pools', () => show(page, 'pools'));
    });
  } finally {
    redis('DEL', KEY);
  }
});
