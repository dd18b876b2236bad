// Browser tests of the web door: the real `dbdeck serve --demo` (with the UI embedded at
// build time) driven by Debian's chromium through playwright-core. Nothing is built here:
// build the UI (`npm run build`) and then dbdeck, and point DBDECK_BIN at the binary.
//
// Each test gets a fresh data directory, server and browser profile, and removes them after.
// Screenshots go to tests/out/ (ignored by git).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { addEnvThroughForm, OUT, PG_OK, PG_REFUSED, session, SIZES } from './helpers.mjs';

test('overview shows the demo environment reachable, with its SQLite version and the latency chart', { timeout: 90_000 }, async () => {
  await session(async ({ server, page }) => {
    await page.goto(server.url);
    assert.ok(!page.url().includes('token='), 'the token must be removed from the address bar');
    const tile = page.locator('article[data-env=demo]');
    await page.locator('article[data-env=demo][data-status=ok]').waitFor({ timeout: 20_000 });
    assert.equal((await tile.getByTestId('tile-status').innerText()).trim(), 'reachable');
    assert.match(await tile.getByTestId('tile-version').innerText(), /^SQLite 3\.\d+/);
    assert.match(await tile.getByTestId('tile-latency').innerText(), /^\d+(\.\d+)? (ms|s)$/, 'latency carries its unit');
    await page.locator('[data-testid=chart] svg').waitFor({ timeout: 15_000 });
    assert.match(await page.getByTestId('chart-asof').innerText(), /as of/);
    // The switcher shows the status as a word, not colour alone.
    assert.match(await page.locator('[data-testid=env-switcher] [data-env=demo]').innerText(), /\bok\b/);
    await page.screenshot({ path: path.join(OUT, 'overview-light.png') });
  });
});

test('an environment added through the UI is tested: ok with PostgreSQL 15, and a refused port shows the error and its hint', { timeout: 120_000 }, async () => {
  await session(async ({ server, page }) => {
    await page.goto(server.url);
    await page.locator('article[data-env=demo]').waitFor();

    const ok = await addEnvThroughForm(page, { name: 'local-pg', url: PG_OK });
    const report = ok.getByTestId('test-report');
    assert.equal(await report.getAttribute('data-ok'), 'true', 'the local PostgreSQL must be reachable');
    assert.match(await report.innerText(), /\bok\b/);
    assert.match(await report.getByTestId('version').first().innerText(), /^15/);
    await page.screenshot({ path: path.join(OUT, 'test-report-ok-light.png') });
    await ok.getByRole('button', { name: 'Close', exact: true }).click();

    const bad = await addEnvThroughForm(page, { name: 'refused-pg', url: PG_REFUSED });
    const badReport = bad.getByTestId('test-report');
    assert.equal(await badReport.getAttribute('data-ok'), 'false');
    const err = badReport.locator('[role=alert][data-code=connection_refused]');
    await err.waitFor();
    const text = await err.innerText();
    assert.match(text, /connection refused/i);
    assert.match(text, /Hint/i, 'a failure shows what to do next');
    assert.match(text, /check that the server is running/i);
    assert.ok(await err.getByRole('button', { name: 'Copy details' }).isVisible());
    await page.screenshot({ path: path.join(OUT, 'test-report-refused-light.png') });
    await bad.getByRole('button', { name: 'Close', exact: true }).click();

    // Both rows are in the table, and the switcher knows them.
    await page.locator('[data-testid=env-table] tr[data-env=local-pg]').waitFor();
    await page.locator('[data-testid=env-table] tr[data-env=refused-pg]').waitFor();
    await page.locator('[data-testid=env-switcher] [data-env=refused-pg][data-status=down]').waitFor({ timeout: 10_000 });
  });
});

test('the audit page shows env.add and env.test, live, and the chain verifies', { timeout: 90_000 }, async () => {
  await session(async ({ server, page }) => {
    await server.call({ op: 'env_add', env: { name: 'local-pg', kind: 'dev', url: PG_OK, replicas: [] } });
    await page.goto(server.url + '#/audit');
    const table = page.getByTestId('audit-table');
    await table.locator('tr[data-action="env.add"][data-outcome=ok]').first().waitFor({ timeout: 10_000 });

    // A test run after the page is open arrives through the event stream.
    await server.call({ op: 'env_test', name: 'local-pg' });
    await table.locator('tr[data-action="env.test"][data-outcome=ok]').first().waitFor({ timeout: 10_000 });
    await table.locator('tr[data-action="env.test"][data-outcome=started]').first().waitFor();

    // Parameters expand as JSON.
    const addRow = table.locator('tr[data-action="env.add"][data-outcome=ok]').first();
    await addRow.getByRole('button', { name: /Show details/ }).click();
    assert.match(await table.locator('pre.json').first().innerText(), /"name": "local-pg"/);

    await page.getByTestId('verify-chain').click();
    const result = page.getByTestId('verify-result');
    await result.waitFor();
    assert.equal(await result.getAttribute('data-ok'), 'true');
    assert.match(await result.innerText(), /chain ok/);
  });
});

test('a prod environment cannot be removed until its name is typed', { timeout: 90_000 }, async () => {
  await session(async ({ server, page }) => {
    await server.call({ op: 'env_add', env: { name: 'prod-eu', kind: 'prod', url: PG_OK, replicas: [] } });
    await page.goto(server.url + '#/environments');
    const row = page.locator('[data-testid=env-table] tr[data-env=prod-eu]');
    await row.waitFor();

    // Selecting prod puts the red band on every page.
    await page.locator('[data-testid=env-switcher] [data-env=prod-eu]').click();
    assert.match(await page.getByTestId('prod-band').innerText(), /PROD — production environment, write actions need confirmation/);

    await row.getByRole('button', { name: 'Remove prod-eu' }).click();
    const dialog = page.getByTestId('prod-confirm');
    await dialog.waitFor();
    const confirm = dialog.getByTestId('confirm-action');
    assert.equal((await confirm.innerText()).trim(), 'Remove prod-eu', 'the button is named for the action');
    assert.ok(await confirm.isDisabled(), 'disabled before anything is typed');
    const input = dialog.getByTestId('confirm-input');
    await input.fill('prod-e');
    assert.ok(await confirm.isDisabled(), 'disabled while the name does not match');
    await input.fill('Prod-eu');
    assert.ok(await confirm.isDisabled(), 'the match is exact');
    await input.fill('prod-eu');
    assert.ok(await confirm.isEnabled(), 'enabled once the name matches');
    await page.screenshot({ path: path.join(OUT, 'prod-confirm-light.png') });
    await confirm.click();
    await row.waitFor({ state: 'detached', timeout: 10_000 });

    const list = await server.call({ op: 'env_list' });
    assert.ok(!list.data.some((s) => s.env.name === 'prod-eu'), 'the backend no longer has prod-eu');
  });
});

test('requests without the token are refused with 401, and the page says which link to open', { timeout: 60_000 }, async () => {
  await session(async ({ server, page }) => {
    const none = await fetch(`${server.origin}/api/call`, { method: 'POST', body: JSON.stringify({ op: 'env_list' }) });
    assert.equal(none.status, 401);
    assert.equal((await none.json()).code, 'unauthorized');
    const wrong = await fetch(`${server.origin}/api/call`, {
      method: 'POST',
      headers: { Authorization: 'Bearer not-the-token' },
      body: JSON.stringify({ op: 'env_list' }),
    });
    assert.equal(wrong.status, 401);
    const events = await fetch(`${server.origin}/api/events`);
    assert.equal(events.status, 401);

    await page.goto(`${server.origin}/#/overview`);
    const gate = page.getByTestId('gate');
    await gate.waitFor();
    assert.match(await gate.innerText(), /This page needs the link dbdeck serve printed \(it carries a one-time token\)/);
    await page.screenshot({ path: path.join(OUT, 'no-token-light.png') });
  });
});

test('import reports each problem with its line and imports nothing; export shows the TOML', { timeout: 60_000 }, async () => {
  await session(async ({ server, page }) => {
    await page.goto(server.url + '#/environments');
    await page.locator('[data-testid=env-table] tr[data-env=demo]').waitFor();
    await page.getByRole('button', { name: 'Import…' }).click();
    const dialog = page.getByTestId('import-dialog');
    const bad = ['[env.fine]', 'kind = "dev"', 'url = "sqlite:///tmp/fine.db"', '', '[env."bad name"]', 'kind = "dev"', 'url = "sqlite:///tmp/x.db"', ''].join('\n');
    await dialog.locator('textarea').fill(bad);
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    const problems = dialog.getByTestId('import-problems');
    await problems.waitFor();
    const text = await problems.innerText();
    assert.match(text, /nothing was imported/);
    assert.match(text, /line 5/, 'the problem points at the line of the bad table');
    await page.screenshot({ path: path.join(OUT, 'import-problems-light.png') });
    const list = await server.call({ op: 'env_list' });
    assert.ok(!list.data.some((s) => s.env.name === 'fine'), 'all or nothing: the valid environment was not imported either');

    await dialog.locator('textarea').fill(bad.split('\n').slice(0, 4).join('\n'));
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    assert.match(await dialog.getByTestId('import-done').innerText(), /Added fine/);
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await page.locator('[data-testid=env-table] tr[data-env=fine]').waitFor();

    await page.getByRole('button', { name: 'Export…' }).click();
    const toml = page.getByTestId('export-toml');
    await toml.waitFor();
    assert.match(await toml.innerText(), /\[env\.fine\]/);
  });
});

test('screenshots of every page in light and dark at 1280×800 and 1024×700', { timeout: 180_000 }, async () => {
  await session(async ({ server, page }) => {
    await server.call({ op: 'env_add', env: { name: 'staging-eu', kind: 'staging', url: PG_OK, replicas: [] } });
    await server.call({
      op: 'env_add',
      env: { name: 'prod-eu', kind: 'prod', url: PG_REFUSED, replicas: [{ name: 'node2', url: 'postgres://postgres@127.0.0.1:2/postgres' }] },
    });
    await server.call({ op: 'env_test', name: 'staging-eu' });
    await page.goto(server.url);
    await page.locator('article[data-env=staging-eu][data-status=ok]').waitFor({ timeout: 15_000 });
    await page.locator('article[data-env=prod-eu][data-status=down]').waitFor({ timeout: 15_000 });
    // A few seconds of health samples so the chart has lines.
    await page.waitForTimeout(6000);

    const shots = [];
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [w, h] of SIZES) {
        await page.setViewportSize({ width: w, height: h });
        for (const route of ['overview', 'environments', 'audit']) {
          await page.evaluate((r) => (location.hash = `#/${r}`), route);
          await page.locator(`nav a[aria-current=page][href="#/${route}"]`).waitFor();
          if (route === 'overview') await page.locator('[data-testid=chart] svg').waitFor();
          if (route === 'audit') await page.locator('[data-testid=audit-table] tr[data-id]').first().waitFor();
          await page.waitForTimeout(400);
          const file = path.join(OUT, `${route}-${scheme}-${w}x${h}.png`);
          await page.screenshot({ path: file });
          shots.push(file);
        }
      }
      // Dialogs at the larger size.
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.evaluate(() => (location.hash = '#/environments'));
      await page.getByTestId('add-env').click();
      await page.getByTestId('env-form').waitFor();
      await page.screenshot({ path: path.join(OUT, `add-form-${scheme}.png`) });
      await page.keyboard.press('Escape');
      await page.locator('[data-testid=env-table] tr[data-env=prod-eu]').getByRole('button', { name: 'Remove prod-eu' }).click();
      await page.getByTestId('confirm-input').fill('prod');
      await page.screenshot({ path: path.join(OUT, `prod-confirm-${scheme}.png`) });
      await page.keyboard.press('Escape');
      await page.locator('[data-testid=env-table] tr[data-env=prod-eu]').getByRole('button', { name: 'Test connection of prod-eu' }).click();
      await page.locator('[data-testid=test-report][data-ok=false]').waitFor({ timeout: 20_000 });
      await page.screenshot({ path: path.join(OUT, `test-report-${scheme}.png`) });
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+k');
      await page.getByTestId('palette').locator('input').fill('test');
      await page.screenshot({ path: path.join(OUT, `palette-${scheme}.png`) });
      await page.keyboard.press('Escape');
      // The prod band, on a page where prod is the current environment.
      await page.locator('[data-testid=env-switcher] [data-env=prod-eu]').click();
      await page.evaluate(() => (location.hash = '#/overview'));
      await page.getByTestId('prod-band').waitFor();
      await page.screenshot({ path: path.join(OUT, `overview-prod-${scheme}.png`) });
      await page.locator('[data-testid=env-switcher] [data-env=demo]').click();
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.evaluate(() => (location.hash = '#/overview'));
    await page.locator('[data-testid=chart] svg').waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(OUT, 'overview-light.png') });
    for (const f of shots) assert.ok(fs.statSync(f).size > 10_000, `${f} looks empty`);

    // A validation error from the backend, shown in the form with its message.
    await page.evaluate(() => (location.hash = '#/environments'));
    await page.getByTestId('add-env').click();
    const form = page.getByTestId('env-form');
    await form.locator('input[name=name]').fill('bad name');
    await form.locator('input[name=url]').fill(PG_OK);
    await page.getByTestId('env-form-submit').click();
    await form.locator('[role=alert][data-code=invalid_input]').waitFor();
    await page.screenshot({ path: path.join(OUT, 'add-form-error-light.png') });
    await page.keyboard.press('Escape');

    // The empty state, once every environment is gone.
    for (const name of ['demo', 'staging-eu']) await server.call({ op: 'env_remove', name });
    await server.call({ op: 'env_remove', name: 'prod-eu', confirm: 'prod-eu' });
    await page.evaluate(() => (location.hash = '#/overview'));
    await page.getByTestId('empty-overview').waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId('empty-overview').innerText(), /No environments yet — add one, or run dbdeck serve --demo/);
    await page.screenshot({ path: path.join(OUT, 'overview-empty-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: path.join(OUT, 'overview-empty-dark.png') });
  });
});
