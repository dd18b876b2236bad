// Browser tests of the Migrations page on the demo (SQLite): the folder prefilled with the
// demo's migrations, the status, the drift matrix, and the wizard from plan to verify —
// lint, dry run, the rollback-test gate skipped for SQLite, confirm, apply with progress,
// verify — then a rollback of one. A slow migration shows live progress while it runs; a
// prod environment asks for its name (apply, repair) and for the skipped gate to be
// acknowledged. On the machine's PostgreSQL (DBDECK_TEST_PG_URL): lint findings weighed
// against the live table, a rollback test that passes, and an apply that meets a lock held by
// another session (retried, then failed with its SQLSTATE), rolled back and applied again.
// Creates the database dbdeck_migrations_test and drops it before returning. Screenshots of
// every step, light and dark, go to $DBDECK_SHOTS (/tmp/shots) as migrations-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, PG_OK, psqlQuery, psqlSession, session } from './helpers.mjs';

const SHOTS = process.env.DBDECK_SHOTS || '/tmp/shots';
fs.mkdirSync(SHOTS, { recursive: true });

/** The page as it is, light and dark, at each size: `migrations-${name}-${scheme}-${w}x${h}.png`. */
async function shot(page, name, sizes = [[1280, 800]]) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [w, h] of sizes) {
      await page.setViewportSize({ width: w, height: h });
      await page.waitForTimeout(250);
      const file = path.join(SHOTS, `migrations-${name}-${scheme}-${w}x${h}.png`);
      await page.screenshot({ path: file });
      assert.ok(fs.statSync(file).size > 10_000, `${file} looks empty`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function openMigrations(page, server) {
  await page.goto(server.url);
  await page.locator('article[data-env=demo]').waitFor({ timeout: 20_000 });
  // Reached from the sidebar, like every page.
  await page.locator('nav a[href="#/migrations"]').click();
  await page.locator('nav a[aria-current=page][href="#/migrations"]').waitFor();
  await page.getByTestId('migrations').waitFor();
}

/** The step panel in view (the page scrolls inside <main>), its heading at the top. */
async function showStep(page, id) {
  const panel = page.getByTestId(`wiz-panel-${id}`);
  await panel.waitFor();
  await page.getByTestId('wiz-stepper').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  return panel;
}

/** A migration folder of sqlx files: [[version_name, up, down], …]. */
function folder(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbdeck-migrations-'));
  for (const [name, up, down] of files) {
    fs.writeFileSync(path.join(dir, `${name}.up.sql`), up);
    if (down) fs.writeFileSync(path.join(dir, `${name}.down.sql`), down);
  }
  return dir;
}

/** Plan → Lint → Dry run, then onto the rollback-test gate: on SQLite it says it is skipped;
 *  `leaveOut` (PostgreSQL outside prod) offers to go on without running it. */
async function throughToGate(page, n, { leaveOut = false } = {}) {
  await eventually(`${n} planned steps`, async () => (await page.getByTestId('wiz-plan-step').count()) === n);
  await page.getByTestId('wiz-next').click();
  await page.getByTestId('wiz-lint').waitFor();
  await page.getByTestId('wiz-next').click();
  await page.getByTestId('wiz-dry-run').click();
  await page.getByTestId('wiz-dry-verdict').waitFor({ timeout: 60_000 });
  await page.getByTestId('wiz-next').click();
  if (leaveOut) assert.equal(await page.getByTestId('wiz-next').innerText(), 'Go on without it');
  else await page.getByTestId('wiz-gate-skipped').waitFor();
}

test('the demo: status, drift, the wizard from plan to verify, then roll back one', { timeout: 180_000 }, async () => {
  await session(async ({ server, page }) => {
    const { data: info } = await server.call({ op: 'app_info' });
    assert.ok(info.demo_migrations, 'with --demo, app_info names the demo migration folder');
    await openMigrations(page, server);
    assert.equal(await page.getByTestId('mig-dir').inputValue(), info.demo_migrations, 'the demo environment starts with the demo folder');

    // Status: three pending, nothing applied.
    await page.getByTestId('mig-status').waitFor();
    assert.equal(await page.getByTestId('mig-pending-value').innerText(), '3');
    assert.equal(await page.getByTestId('mig-applied-value').innerText(), '0');
    assert.equal(await page.locator('[data-testid=mig-table] tbody tr[data-state=pending]').count(), 3);
    assert.match(await page.getByTestId('mig-table').innerText(), /20261101090000\s+create reviews/);
    assert.equal(await page.getByTestId('mig-tab-wizard').locator('.badge').innerText(), '3', 'the Apply tab counts what is pending');
    await shot(page, 'status', [
      [1280, 800],
      [1024, 700],
    ]);

    // Drift: the demo column is behind by 3, each cell pending.
    await page.getByTestId('mig-tab-drift').click();
    const col = page.locator('[data-testid=drift-col][data-env=demo]');
    await col.waitFor();
    assert.match(await col.getByTestId('drift-verdict').innerText(), /behind by 3/);
    assert.equal(await col.getAttribute('data-verdict'), 'warn');
    assert.equal(await page.locator('[data-testid=drift-table] tbody td[data-state=pending]').count(), 3);
    assert.match(await page.getByTestId('drift-summary').innerText(), /0 of 1 environment up to date · demo behind by 3/);
    await shot(page, 'drift');

    // The tab strip: arrow keys move between tabs, and focus follows.
    await page.getByTestId('mig-tab-drift').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByTestId('mig-tab-wizard').getAttribute('aria-selected'), 'true');
    assert.ok(await page.getByTestId('mig-tab-wizard').evaluate((el) => el === document.activeElement), 'focus moved with the selection');

    // 1. Plan: three steps, their SQL one click away.
    await eventually('3 planned steps', async () => (await page.getByTestId('wiz-plan-step').count()) === 3);
    assert.match(await page.getByTestId('wiz-plan-summary').innerText(), /3 pending migrations on demo/);
    assert.equal(await page.getByTestId('wiz-step-plan').getAttribute('data-mark'), 'done');
    const first = page.getByTestId('wiz-plan-step').first();
    assert.match(await first.innerText(), /in a transaction/);
    assert.match(await first.innerText(), /down script/);
    await first.locator('button.head').click();
    assert.match(await page.getByTestId('wiz-plan-sql').innerText(), /CREATE TABLE reviews/);
    await showStep(page, 'plan');
    await shot(page, 'plan', [
      [1280, 800],
      [1024, 700],
    ]);

    // 2. Lint: SQLite is not linted, and the page says why.
    await page.getByTestId('wiz-next').click();
    await showStep(page, 'lint');
    assert.match(await page.getByTestId('wiz-lint-sqlite').innerText(), /Not linted: demo is SQLite/);
    assert.match(await page.getByTestId('wiz-live').innerText(), /No live figures for SQLite/);
    await shot(page, 'lint');

    // 3. Dry run: three ok, in a transaction that is rolled back.
    await page.getByTestId('wiz-next').click();
    assert.equal(await page.getByTestId('wiz-blocked').innerText(), 'Run the dry run first.', 'Next waits for the dry run');
    assert.equal(await page.getByTestId('wiz-dry-method').innerText(), 'transaction');
    await page.getByTestId('wiz-dry-run').click();
    await page.getByTestId('wiz-dry-verdict').waitFor();
    assert.match(await page.getByTestId('wiz-dry-verdict').innerText(), /All 3 ran/);
    assert.equal(await page.locator('[data-testid=wiz-dry-report] [data-testid=run-step][data-outcome=dry_run_ok]').count(), 3);
    assert.equal((await server.call({ op: 'migrate_status', name: 'demo', dir: info.demo_migrations })).data.status.pending, 3, 'the dry run kept nothing');
    await showStep(page, 'dry');
    await shot(page, 'dry-run');

    // 4. Rollback test: skipped on SQLite, with the server's reason.
    await page.getByTestId('wiz-next').click();
    await page.getByTestId('wiz-gate-skipped').waitFor();
    const gate = await page.getByTestId('wiz-gate').innerText();
    assert.match(gate, /the rollback test needs a PostgreSQL server/, "the server's reason is shown");
    assert.match(gate, /This gate is skipped for demo/);
    assert.equal(await page.getByTestId('wiz-step-gate').getAttribute('data-mark'), 'skipped');
    await showStep(page, 'gate');
    await shot(page, 'gate');

    // 5. Confirm: the defaults, what will happen.
    await page.getByTestId('wiz-next').click();
    await showStep(page, 'confirm');
    assert.equal(await page.getByTestId('wiz-lock-timeout').inputValue(), '5000');
    assert.equal(await page.getByTestId('wiz-retries').inputValue(), '3');
    assert.equal(await page.getByTestId('wiz-statement-timeout').inputValue(), '0');
    assert.match(await page.getByTestId('wiz-confirm-what').innerText(), /20261103090000 add customer tier/);
    assert.match(await page.getByTestId('wiz-checks').innerText(), /Rollback test: skipped \(SQLite\)/);
    assert.equal(await page.getByTestId('wiz-apply').innerText(), 'Apply 3 migrations to demo');
    await shot(page, 'confirm', [
      [1280, 800],
      [1024, 700],
    ]);

    // 6–7. Apply, then Verify: three applied, every check ok.
    await page.getByTestId('wiz-apply').click();
    const verdict = page.getByTestId('wiz-verdict');
    await verdict.waitFor({ timeout: 30_000 });
    assert.match(await verdict.innerText(), /3 migrations applied to demo/);
    assert.equal(await page.locator('[data-testid=wiz-run-report] [data-testid=run-step][data-outcome=applied]').count(), 3);
    const checks = page.locator('[data-testid=wiz-run-report] [data-testid=run-verify-line]');
    assert.equal(await checks.count(), 3);
    assert.deepEqual(await checks.evaluateAll((els) => els.map((e) => e.dataset.ok)), ['true', 'true', 'true'], 'every verify line is ok');
    assert.match(await page.locator('[data-testid=wiz-run-report] [data-testid=run-after]').innerText(), /afterwards 3 applied, 0 pending/);
    await showStep(page, 'verify');
    await shot(page, 'verify', [
      [1280, 800],
      [1024, 700],
    ]);
    // The Apply step keeps its progress: 3 of 3, done.
    await page.getByTestId('wiz-step-apply').click();
    const progress = page.getByTestId('wiz-progress');
    assert.match(await progress.innerText(), /Migration 3 of 3/);
    assert.match(await progress.innerText(), /3 of 3 done/);
    assert.equal(await progress.getAttribute('data-running'), 'false');
    await showStep(page, 'apply');
    await shot(page, 'apply');
    await page.getByTestId('wiz-step-verify').click();

    // Status: three applied.
    await page.getByTestId('mig-tab-status').click();
    await eventually('3 applied in the status', async () => (await page.getByTestId('mig-applied-value').innerText()) === '3');
    assert.equal(await page.getByTestId('mig-pending-value').innerText(), '0');

    // Roll back the newest one: a plain confirm outside prod, then one pending again.
    await page.getByTestId('mig-tab-wizard').click();
    await page.getByTestId('wiz-rollback-steps').selectOption('1');
    assert.equal(await page.getByTestId('wiz-rollback').innerText(), 'Roll back 1 migration on demo…');
    await page.getByTestId('wiz-rollback').click();
    const dialog = page.getByTestId('rollback-dialog');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /20261103090000_add_customer_tier\.down\.sql/, 'the dialog names the down script it runs');
    await shot(page, 'rollback-confirm');
    await dialog.getByTestId('confirm-action').click();
    await page.getByTestId('wiz-back-verdict').waitFor();
    assert.match(await page.getByTestId('wiz-back-verdict').innerText(), /Rolled back 1 migration/);
    assert.equal(await page.locator('[data-testid=wiz-back-report] [data-testid=run-step][data-outcome=rolled_back]').count(), 1);
    await page.getByTestId('wiz-undo').scrollIntoViewIfNeeded();
    await shot(page, 'rolled-back');
    await page.getByTestId('mig-tab-status').click();
    await eventually('1 pending after the rollback', async () => (await page.getByTestId('mig-pending-value').innerText()) === '1');
    assert.equal(await page.locator('[data-testid=mig-table] tbody tr[data-state=pending]').getAttribute('data-version'), '20261103090000');

    // Everything was audited.
    const { data: audit } = await server.call({ op: 'audit_list', env: 'demo', limit: 50 });
    const actions = audit.filter((r) => r.outcome === 'ok').map((r) => r.action);
    for (const a of ['migrate.dry_run', 'migrate.apply', 'migrate.rollback']) assert.ok(actions.includes(a), `${a} is in the audit log`);
  });
});

test('a slow migration: the Apply step shows live progress while it runs', { timeout: 180_000 }, async () => {
  // About a second or two of work on SQLite for the first migration: long enough to watch.
  const rows = 1_200_000;
  const dir = folder([
    [
      '20261201000000_fill_numbers',
      `CREATE TABLE numbers AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${rows}) SELECT x FROM c;\n`,
      'DROP TABLE numbers;\n',
    ],
    ['20261202000000_index_numbers', 'CREATE INDEX numbers_x ON numbers (x);\n', 'DROP INDEX numbers_x;\n'],
  ]);
  try {
    await session(async ({ server, page }) => {
      await openMigrations(page, server);
      await page.getByTestId('mig-dir').fill(dir);
      await page.getByTestId('mig-open').click();
      await page.getByTestId('mig-status').waitFor();
      await eventually('the new folder read', async () => (await page.getByTestId('mig-pending-value').innerText()) === '2');
      await page.getByTestId('mig-tab-wizard').click();
      await throughToGate(page, 2);
      await page.getByTestId('wiz-next').click();
      await page.getByTestId('wiz-apply').click();

      // While it runs: migration k of 2, a bar, the time going by.
      const running = page.locator('[data-testid=wiz-progress][data-running=true]');
      await running.waitFor({ timeout: 10_000 });
      await eventually('a migration under way', async () => /Migration [12] of 2/.test(await running.innerText()), 10_000);
      assert.match(await running.innerText(), /elapsed/);
      assert.equal(await page.getByTestId('wiz-step-apply').getAttribute('data-mark'), 'running');
      await page.screenshot({ path: path.join(SHOTS, 'migrations-apply-running-light-1280x800.png') });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForTimeout(150);
      if (await running.count()) await page.screenshot({ path: path.join(SHOTS, 'migrations-apply-running-dark-1280x800.png') });
      await page.emulateMedia({ colorScheme: 'light' });

      await page.getByTestId('wiz-verdict').waitFor({ timeout: 60_000 });
      assert.match(await page.getByTestId('wiz-verdict').innerText(), /2 migrations applied/);
      await page.getByTestId('wiz-step-apply').click();
      const done = page.getByTestId('wiz-progress');
      assert.ok(Number(await done.getAttribute('data-events')) > 0, 'progress events reached the page while the run went on');
      assert.match(await done.innerText(), /Migration 2 of 2/);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('prod: the skipped gate is acknowledged, applying and repairing ask for the name', { timeout: 180_000 }, async () => {
  const dir = folder([['20261201000000_create_things', 'CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT);\n', 'DROP TABLE things;\n']]);
  const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbdeck-prod-'));
  const db = path.join(dbDir, 'prod.db');
  fs.writeFileSync(db, ''); // An empty file is an empty SQLite database.
  try {
    await session(async ({ server, page }) => {
      await server.call({ op: 'env_add', env: { name: 'shop-prod', kind: 'prod', url: `sqlite://${db}`, replicas: [] } });
      await openMigrations(page, server);
      await page.locator('[data-testid=env-switcher] [data-env=shop-prod]').click();
      await page.getByTestId('prod-band').waitFor();
      assert.equal(await page.getByTestId('mig-dir').inputValue(), '', 'the demo folder is not offered to another environment');
      await page.getByTestId('mig-dir').fill(dir);
      await page.getByTestId('mig-open').click();
      await eventually('the folder read on prod', async () => (await page.getByTestId('mig-pending-value').innerText()) === '1');

      await page.getByTestId('mig-tab-wizard').click();
      await throughToGate(page, 1);
      // On prod a skipped gate holds the wizard until it is acknowledged.
      assert.match(await page.getByTestId('wiz-blocked').innerText(), /Acknowledge/);
      assert.ok(await page.getByTestId('wiz-next').isDisabled(), 'Next waits for the acknowledgement');
      assert.equal(await page.getByTestId('wiz-step-gate').getAttribute('data-mark'), 'warn');
      await page.getByTestId('wiz-gate-ack').locator('input').check();
      await showStep(page, 'gate');
      await shot(page, 'prod-gate');
      await page.getByTestId('wiz-next').click();
      assert.equal(await page.getByTestId('wiz-apply').innerText(), 'Apply 1 migration to shop-prod…');

      // The typed name.
      await page.getByTestId('wiz-apply').click();
      const confirm = page.getByTestId('prod-confirm');
      await confirm.waitFor();
      assert.ok(await confirm.getByTestId('confirm-action').isDisabled(), 'the button waits for the name');
      await confirm.getByTestId('confirm-input').fill('shop-prod');
      await shot(page, 'prod-confirm');
      await confirm.getByTestId('confirm-action').click();
      await page.getByTestId('wiz-verdict').waitFor({ timeout: 30_000 });
      assert.match(await page.getByTestId('wiz-verdict').innerText(), /1 migration applied to shop-prod/);

      // The file changes after it was applied: the status blocks, Repair asks for the name.
      fs.appendFileSync(path.join(dir, '20261201000000_create_things.up.sql'), '-- reviewed\n');
      await page.getByTestId('mig-tab-status').click();
      await page.getByTestId('mig-open').click();
      await page.getByTestId('mig-blockers').waitFor();
      assert.match(await page.getByTestId('mig-blockers').innerText(), /20261201000000/);
      assert.equal(await page.getByTestId('mig-modified-value').innerText(), '1');
      await shot(page, 'prod-blocked');
      await page.getByTestId('mig-repair').click();
      await confirm.waitFor();
      assert.match(await confirm.innerText(), /The schema is not changed/);
      await confirm.getByTestId('confirm-input').fill('shop-prod');
      await confirm.getByTestId('confirm-action').click();
      await page.getByTestId('mig-blockers').waitFor({ state: 'detached' });
      assert.equal(await page.getByTestId('mig-modified-value').innerText(), '0');
      assert.equal(await page.locator('[data-testid=mig-table] tbody tr').getAttribute('data-state'), 'applied');

      const { data: audit } = await server.call({ op: 'audit_list', env: 'shop-prod', limit: 50 });
      const ok = audit.filter((r) => r.outcome === 'ok').map((r) => r.action);
      assert.ok(ok.includes('migrate.apply') && ok.includes('migrate.repair'), `apply and repair are audited on prod: ${ok.join(', ')}`);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(dbDir, { recursive: true, force: true });
  }
});

test('PostgreSQL: lint against the live table, the rollback test, a lock held by another session', { timeout: 240_000 }, async () => {
  const DB = 'dbdeck_migrations_test';
  const url = new URL(PG_OK);
  url.pathname = `/${DB}`;
  await psqlQuery(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await psqlQuery(`CREATE DATABASE ${DB}`);
  await psqlQuery(
    'CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint NOT NULL, total numeric(12, 2) NOT NULL); ' +
      'INSERT INTO orders (customer_id, total) SELECT g % 100, g FROM generate_series(1, 5000) g; ANALYZE orders;',
    { url: url.href },
  );
  const dir = folder([
    [
      '20261201000000_create_orders',
      'CREATE TABLE IF NOT EXISTS orders (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    customer_id bigint NOT NULL,\n    total numeric(12, 2) NOT NULL\n);\n',
      'DROP TABLE orders;\n',
    ],
    ['20261202000000_index_orders_by_customer', 'CREATE INDEX orders_customer ON orders (customer_id);\n', 'DROP INDEX orders_customer;\n'],
    [
      '20261203000000_add_order_status',
      "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';\nALTER TABLE orders ALTER COLUMN total TYPE numeric(14, 2);\n",
      'ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);\nALTER TABLE orders DROP COLUMN status;\n',
    ],
  ]);
  let locker = null;
  try {
    await session(async ({ server, page }) => {
      await server.call({ op: 'env_add', env: { name: 'pg-stage', kind: 'staging', url: url.href, replicas: [] } });
      await openMigrations(page, server);
      await page.locator('[data-testid=env-switcher] [data-env=pg-stage]').click();
      await page.getByTestId('mig-dir').fill(dir);
      await page.getByTestId('mig-open').click();
      await eventually('3 pending on pg-stage', async () => (await page.getByTestId('mig-pending-value').innerText()) === '3');

      // Plan: statements counted one by one on PostgreSQL.
      await page.getByTestId('mig-tab-wizard').click();
      await eventually('3 planned steps', async () => (await page.getByTestId('wiz-plan-step').count()) === 3);
      assert.match(await page.getByTestId('wiz-plan-step').nth(2).innerText(), /2 statements/);

      // Lint: findings per file, the live table weighing them, the fix to copy.
      await page.getByTestId('wiz-next').click();
      await showStep(page, 'lint');
      const index = page.locator('[data-testid=wiz-finding][data-rule=create-index-not-concurrent]');
      await index.waitFor();
      assert.match(await index.getByTestId('wiz-finding-context').innerText(), /orders in pg-stage has about 5,000 rows/);
      assert.match(await index.innerText(), /CREATE INDEX CONCURRENTLY/, 'the fix is shown');
      // dbdeck sets lock_timeout and statement_timeout itself when it applies: no noise about them.
      assert.equal(await page.locator('[data-testid=wiz-finding][data-rule=missing-timeout]').count(), 0);
      assert.equal(await page.getByTestId('wiz-lint-file').count(), 2, 'findings grouped by file; the clean file has no group');
      assert.match(await page.getByTestId('wiz-live').innerText(), /public\.orders\s+5,000\s+408 KiB/);
      await shot(page, 'pg-lint', [
        [1280, 800],
        [1024, 700],
      ]);

      // Dry run in one transaction, then the rollback test on a scratch database: passed.
      await page.getByTestId('wiz-next').click();
      await page.getByTestId('wiz-dry-run').click();
      await page.getByTestId('wiz-dry-verdict').waitFor({ timeout: 30_000 });
      assert.match(await page.getByTestId('wiz-dry-verdict').innerText(), /All 3 ran/);
      await page.getByTestId('wiz-next').click();
      assert.equal(await page.getByTestId('wiz-next').innerText(), 'Go on without it', 'outside prod the test may be left out');
      await page.getByTestId('wiz-gate-run').click();
      const result = page.getByTestId('wiz-gate-result');
      await result.waitFor({ timeout: 60_000 });
      assert.match(await result.innerText(), /Passed/);
      assert.match(await page.getByTestId('wiz-gate-phases').innerText(), /compare the dumps\s+— identical/);
      assert.equal(await page.getByTestId('wiz-step-gate').getAttribute('data-mark'), 'done');
      await showStep(page, 'gate');
      await shot(page, 'pg-gate');

      // Another session holds orders: the index waits 300 ms, is retried once, then fails.
      await page.getByTestId('wiz-next').click();
      await page.getByTestId('wiz-lock-timeout').fill('300');
      await page.getByTestId('wiz-retries').fill('1');
      locker = psqlSession('dbdeck-test-locker', 'BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;', { url: url.href });
      await eventually('the other session holds the lock', async () =>
        (await psqlQuery("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'dbdeck-test-locker' AND l.mode = 'AccessExclusiveLock' AND l.granted")) === '1',
      );
      await page.getByTestId('wiz-apply').click();
      await page.getByTestId('wiz-retries').waitFor({ timeout: 15_000 });
      assert.match(await page.getByTestId('wiz-retries').innerText(), /migration 2, attempt 1: lock not granted in time/);
      const verdict = page.getByTestId('wiz-verdict');
      await verdict.waitFor({ timeout: 30_000 });
      assert.match(await verdict.innerText(), /Applying stopped at 20261202000000 index orders by customer/);
      const failure = page.locator('[data-testid=wiz-run-report] [data-testid=run-failure]');
      assert.match(await failure.innerText(), /SQLSTATE\s+55P03/);
      assert.match(await failure.getByTestId('run-failure-place').innerText(), /20261202000000_index_orders_by_customer\.up\.sql:1/);
      assert.match(await failure.innerText(), /lock timeout/);
      assert.deepEqual(
        await page.locator('[data-testid=wiz-run-report] [data-testid=run-step]').evaluateAll((els) => els.map((e) => e.dataset.outcome)),
        ['applied', 'failed', 'not_run'],
      );
      assert.equal(await page.getByTestId('wiz-step-apply').getAttribute('data-mark'), 'failed');
      await showStep(page, 'verify');
      await shot(page, 'pg-verify-failed', [
        [1280, 800],
        [1024, 700],
      ]);
      await locker.stop();
      locker = null;

      // Roll back what this run applied, then start over: the whole folder goes in.
      assert.equal(await page.getByTestId('wiz-rollback').innerText(), 'Roll back 1 migration on pg-stage…');
      await page.getByTestId('wiz-rollback').click();
      await page.getByTestId('rollback-dialog').getByTestId('confirm-action').click();
      await page.getByTestId('wiz-back-verdict').waitFor();
      assert.match(await page.getByTestId('wiz-back-verdict').innerText(), /Rolled back 1 migration/);
      await page.getByTestId('wiz-start-over').click();
      await throughToGate(page, 3, { leaveOut: true });
      await page.getByTestId('wiz-next').click();
      await page.getByTestId('wiz-apply').click();
      await page.getByTestId('wiz-verdict').waitFor({ timeout: 30_000 });
      assert.match(await page.getByTestId('wiz-verdict').innerText(), /3 migrations applied to pg-stage/);
      assert.equal(await page.getByTestId('wiz-step-gate').getAttribute('data-mark'), 'skipped', 'the stepper says the test was left out');

      // Drift: pg-stage up to date, the demo behind.
      await page.getByTestId('mig-tab-drift').click();
      const cols = page.getByTestId('drift-col');
      await eventually('two columns', async () => (await cols.count()) === 2);
      assert.match(await page.locator('[data-testid=drift-col][data-env=pg-stage]').innerText(), /up to date/);
      assert.match(await page.locator('[data-testid=drift-col][data-env=demo]').innerText(), /behind by 3/);
      await shot(page, 'pg-drift');

      // A unique index built CONCURRENTLY runs outside a transaction: the dry run goes to a
      // scratch copy of the schema (no rows: it passes); on the real rows it fails and leaves
      // an INVALID index behind, with the statement that cleans it up.
      // (The rollback above ran DROP TABLE orders: the table is new and empty. Two orders of one
      // customer make the unique index fail.)
      await psqlQuery('INSERT INTO orders (customer_id, total) VALUES (7, 10), (7, 20)', { url: url.href });
      const name = '20261204000000_one_order_per_customer';
      fs.writeFileSync(path.join(dir, `${name}.up.sql`), '-- no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY orders_one_per_customer ON orders (customer_id);\n');
      fs.writeFileSync(path.join(dir, `${name}.down.sql`), '-- no-transaction\nDROP INDEX CONCURRENTLY orders_one_per_customer;\n');
      await page.getByTestId('mig-tab-wizard').click();
      await page.getByTestId('wiz-start-over').click();
      await eventually('1 planned step', async () => (await page.getByTestId('wiz-plan-step').count()) === 1);
      assert.match(await page.getByTestId('wiz-plan-step').innerText(), /no transaction/);
      await page.getByTestId('wiz-next').click();
      await page.getByTestId('wiz-next').click();
      assert.equal(await page.getByTestId('wiz-dry-method').innerText(), 'scratch database');
      await page.getByTestId('wiz-dry-run').click();
      await page.getByTestId('wiz-dry-verdict').waitFor({ timeout: 60_000 });
      assert.match(await page.getByTestId('wiz-dry-verdict').innerText(), /All 1 ran/);
      assert.match(await page.getByTestId('wiz-dry-report').innerText(), /tried on scratch database dbdeck_scratch_/);
      await page.getByTestId('wiz-next').click();
      await page.getByTestId('wiz-next').click();
      await page.getByTestId('wiz-apply').click();
      await page.getByTestId('wiz-verdict').waitFor({ timeout: 30_000 });
      assert.match(await page.getByTestId('wiz-verdict').innerText(), /Applying stopped at 20261204000000/);
      assert.match(await page.locator('[data-testid=wiz-run-report] [data-testid=run-failure]').innerText(), /SQLSTATE\s+23505/);
      const left = page.locator('[data-testid=wiz-run-report] [data-testid=run-left-behind]');
      assert.match(await left.innerText(), /INVALID index\s+orders_one_per_customer on orders/);
      assert.match(await left.innerText(), /DROP INDEX CONCURRENTLY IF EXISTS orders_one_per_customer;/);
      assert.ok(await left.getByRole('button', { name: /Copy/ }).isVisible(), 'the clean-up statement can be copied');
      assert.equal(await page.locator('[data-testid=wiz-undo]').count(), 0, 'nothing was applied, so there is nothing to roll back');
      await showStep(page, 'verify');
      await shot(page, 'pg-left-behind');
    });
  } finally {
    await locker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    await psqlQuery(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  }
});
