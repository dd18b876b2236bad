// Browser test of the Replication page on a real streaming bed (scripts/pg-bed: a primary,
// node2 streaming through its own slot, PgBouncer in front), added with the CLI before
// `dbdeck serve` starts: the topology with node2 streaming, the lag chart and the slots; a
// guided switchover through the UI (pre-checks pass, the steps to confirm, live phases, the
// report naming the new primary), then "Rejoin old primary"; a failover refused because the
// primary answers; the Replication settings in the environment form kept on save; and the
// explanation the demo (SQLite) gets instead. The promotion is held back a few seconds
// (DBDECK_FAULT_DELAY) so the live phases can be seen. Screenshots of every state, light and
// dark, at 1280×800 and 1024×700, go to $DBDECK_SHOTS (/tmp/shots-replication).
//
// Needs PostgreSQL 15 and PgBouncer (as for scripts/pg-bed); run as root or postgres.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BIN, eventually, ROOT, session, SIZES } from './helpers.mjs';

const run = promisify(execFile);
const BED = path.join(ROOT, 'scripts', 'pg-bed');
const SHOTS = process.env.DBDECK_SHOTS || '/tmp/shots-replication';
fs.mkdirSync(SHOTS, { recursive: true });

/** The page as it is, light and dark, at each size: `replication-${name}-${scheme}-${w}x${h}.png`.
 *  `ready` runs after each change (scroll what matters into view). */
async function shot(page, name, ready = async () => {}) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [w, h] of SIZES) {
      await page.setViewportSize({ width: w, height: h });
      await ready();
      await page.waitForTimeout(250);
      const file = path.join(SHOTS, `replication-${name}-${scheme}-${w}x${h}.png`);
      await page.screenshot({ path: file });
      assert.ok(fs.statSync(file).size > 10_000, `${file} looks empty`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: SIZES[0][0], height: SIZES[0][1] });
}

/** Scroll <main> so that `testid` is at the top. */
const scrollTo = (page, testid) => () => page.getByTestId(testid).first().evaluate((el) => el.scrollIntoView({ block: 'start' }));
const scrollTop = (page) => () => page.evaluate(() => document.querySelector('main')?.scrollTo({ top: 0 }));

const node = (page, name) => page.locator(`[data-testid=repl-node][data-node="${name}"]`);

test('a live bed: topology, lag, slots, a guided switchover, rejoin, a refused failover; the demo explains', { timeout: 300_000 }, async () => {
  const bedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbdeck-bed-'));
  try {
    const up = await run(BED, ['up', bedDir, '1', '--pgbouncer']);
    const bed = JSON.parse(up.stdout.trim().split('\n').pop());
    const [primary, node2] = [bed.primary, bed.standbys[0]];
    const envArgs = (await run(BED, ['env-args', bedDir])).stdout.trim().split(/\s+/);

    await session(
      async ({ server, page }) => {
        await page.goto(server.url);
        await page.locator('[data-testid=env-switcher] [data-env=bed]').click();
        // Reached from the sidebar, like every page.
        await page.locator('nav a[href="#/replication"]').click();
        await page.locator('nav a[aria-current=page][href="#/replication"]').waitFor();

        // The topology: the primary, node2 under it, streaming.
        await page.locator('[data-testid=repl-node][data-node=primary][data-role=primary]').waitFor({ timeout: 20_000 });
        await page.locator('[data-testid=repl-node][data-node=node2][data-role=standby]').waitFor();
        await node(page, 'node2').locator('[data-testid=repl-receiver][data-status=streaming]').waitFor();
        assert.match(await node(page, 'primary').innerText(), new RegExp(primary.address.replace(/\./g, '\\.')), 'the primary shows its address');
        assert.equal(await node(page, 'node2').locator('xpath=..').getAttribute('data-depth'), '1', 'node2 hangs under the primary');
        assert.match(await node(page, 'node2').getByTestId('repl-lag').innerText(), /B · /, 'the lag is given in bytes and seconds');
        await node(page, 'primary').getByTestId('repl-senders').locator('summary').click();
        assert.match(await node(page, 'primary').getByTestId('repl-senders').innerText(), /node2[\s\S]*streaming[\s\S]*async/, 'the walsender of node2, with its sync state');
        // The lag chart with its range picker, the slots with node2's.
        await page.locator('[data-testid=repl-lag-svg] svg').waitFor({ timeout: 20_000 });
        assert.equal(await page.getByTestId('repl-lag-range').locator('[role=radio]').count(), 3, '15 min, 1 h and 24 h');
        await page.locator('[data-testid=repl-slot][data-slot=node2]').waitFor({ timeout: 20_000 });
        assert.match(await page.getByTestId('repl-keep').innerText(), /unlimited/, 'max_slot_wal_keep_size -1 reads as unlimited');
        assert.match(await page.getByTestId('repl-slots').innerText(), /sharpen/, 'the refresh says each read sharpens the forecast');
        await page.getByTestId('repl-slots-refresh').click();
        await shot(page, 'status', scrollTop(page));
        await shot(page, 'chart-slots', scrollTo(page, 'repl-lag-chart'));

        // The switchover, step 1: the pre-checks pass, and nothing changes.
        await node(page, 'node2').getByTestId('switchover-node2').click();
        await page.locator('[data-testid=sw-verdict][data-ok=true]').waitFor({ timeout: 30_000 });
        const statuses = await page.locator('[data-testid=sw-checks] [data-testid=check]').evaluateAll((els) => els.map((e) => `${e.dataset.name}:${e.dataset.status}`));
        assert.ok(statuses.length >= 8, `every pre-check is listed: ${statuses.join(', ')}`);
        assert.ok(!statuses.some((x) => x.endsWith(':fail')), `no pre-check fails on a healthy bed: ${statuses.join(', ')}`);
        assert.equal(await page.getByTestId('sw-step-checks').getAttribute('data-mark'), 'done');
        await shot(page, 'switchover-1-checks', scrollTop(page));

        // Step 2: what will happen, in order.
        await page.getByTestId('sw-next').click();
        const what = await page.getByTestId('sw-what').innerText();
        const order = ['Pause PgBouncer', 'Fence the old primary', 'Stop the old primary', 'Promote node2', 'Re-point', 'Resume PgBouncer'].map((w) => what.indexOf(w));
        assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), `the steps are listed in the order they run:\n${what}`);
        await shot(page, 'switchover-2-confirm', scrollTop(page));

        // Step 3: live phases (the promotion waits a few seconds: DBDECK_FAULT_DELAY).
        await page.getByTestId('sw-run').click();
        const progress = page.locator('[data-testid=sw-progress][data-running=true]');
        await progress.waitFor({ timeout: 10_000 });
        await progress.locator('[data-testid=phase][data-id=catch_up][data-status=ok]').waitFor({ timeout: 20_000 });
        const live = await progress.locator('[data-testid=phase]').evaluateAll((els) => els.map((e) => e.dataset.id));
        assert.deepEqual(live.slice(0, 3), ['checks', 'pause', 'fence'], `phases arrive as they run: ${live.join(', ')}`);
        await shot(page, 'switchover-3-run', scrollTop(page));

        // Step 4: the report names the new primary.
        const report = page.getByTestId('sw-report');
        await report.waitFor({ timeout: 60_000 });
        assert.equal(await report.getAttribute('data-ok'), 'true', await report.innerText());
        assert.match(await page.getByTestId('sw-report-outcome').innerText(), new RegExp(`node2 \\(${node2.address.replace(/\./g, '\\.')}\\) is the primary`));
        assert.match(await page.getByTestId('sw-report-first-write').innerText(), /^after \d/);
        const nodes = await page.getByTestId('sw-report-nodes').innerText();
        assert.match(nodes, /primary\s+\S+\s+primary \(was node2\)/, nodes);
        assert.match(await page.getByTestId('sw-report-next').innerText(), /rejoin/);
        await shot(page, 'switchover-4-report', scrollTop(page));
        await shot(page, 'switchover-4-report-end', scrollTo(page, 'sw-report-nodes'));

        // Rejoin the old primary (now named node2) as a standby of the new one.
        await page.getByTestId('sw-rejoin').click();
        const rejoined = page.getByTestId('rejoin-report');
        await rejoined.waitFor({ timeout: 90_000 });
        assert.equal(await rejoined.getAttribute('data-ok'), 'true', await rejoined.innerText());
        assert.match(await page.getByTestId('rejoin-report-outcome').innerText(), /is a standby of .* again/);
        await shot(page, 'switchover-5-rejoin', scrollTo(page, 'rejoin-section'));

        // Back to the topology: the roles swapped, and the old primary streams again.
        await page.getByTestId('sw-done').click();
        await eventually('the new topology', async () => {
          const t = (await server.call({ op: 'replication_status', name: 'bed' })).data;
          const p = t.nodes.find((n) => n.name === 'primary');
          const s = t.nodes.find((n) => n.name === 'node2');
          return p?.address === node2.address && p.role === 'primary' && s?.address === primary.address && s.receiver?.status === 'streaming';
        }, 30_000);
        await node(page, 'node2').locator('[data-testid=repl-receiver][data-status=streaming]').waitFor({ timeout: 15_000 });
        assert.match(await node(page, 'primary').innerText(), new RegExp(node2.address.replace(/\./g, '\\.')), 'the page shows the new primary');
        const audit = (await server.call({ op: 'audit_list', env: 'bed' })).data.map((r) => `${r.action}:${r.outcome}`);
        assert.ok(audit.includes('replication.switchover:ok') && audit.includes('replication.rejoin:ok'), audit.join(', '));
        await shot(page, 'after', scrollTop(page));

        // A failover while the primary answers is refused, and the forced path is offered.
        await page.getByTestId('repl-failover').click();
        await page.getByTestId('fo-panel-choose').waitFor();
        await page.getByTestId('fo-primary-answers').waitFor({ timeout: 10_000 });
        await shot(page, 'failover-1-choose', scrollTop(page));
        await page.getByTestId('fo-run').click();
        const dialog = page.getByTestId('fo-confirm-dialog');
        await dialog.waitFor();
        await shot(page, 'failover-2-confirm');
        await dialog.getByTestId('confirm-action').click();
        await page.getByTestId('fo-refused').waitFor({ timeout: 30_000 });
        assert.equal(await page.getByTestId('fo-report').getAttribute('data-ok'), 'false');
        await page.getByTestId('fo-force').waitFor();
        await shot(page, 'failover-3-refused', scrollTop(page));
        await page.getByTestId('fo-force').click();
        const force = page.getByTestId('prod-confirm');
        await force.waitFor();
        assert.ok(await force.getByTestId('confirm-action').isDisabled(), 'forcing needs the name typed, even outside prod');
        await force.getByTestId('confirm-input').fill('bed');
        await shot(page, 'failover-4-force');
        await page.keyboard.press('Escape');
        await page.getByTestId('fo-close').click();

        // The environment form: the Replication settings, kept when saved.
        await page.evaluate(() => (location.hash = '#/environments'));
        await page.getByRole('button', { name: 'Edit bed' }).click();
        const form = page.getByTestId('env-form');
        const repl = form.getByTestId('env-replication');
        await repl.waitFor();
        assert.equal(await repl.getAttribute('open'), '', 'the section is open when the environment has replication settings');
        assert.equal(await repl.getByTestId('env-local-node').count(), 2, 'both data directories');
        assert.equal(await repl.locator('input[name=repl-pgbouncer-ini]').inputValue(), bed.pgbouncer.ini);
        // The section is the form's last: scroll the dialog's body to its end.
        await shot(page, 'env-form', () => repl.evaluate((el) => el.closest('.content')?.scrollTo({ top: 1e6 })));
        await repl.locator('input[name=repl-lag-threshold]').fill('7.5');
        await page.getByTestId('env-form-submit').click();
        await form.waitFor({ state: 'hidden' });
        const saved = (await server.call({ op: 'env_get', name: 'bed' })).data.replication;
        assert.equal(saved.lag_threshold_s, 7.5);
        assert.equal(saved.local_nodes.length, 2, 'saving the form keeps the data directories');
        assert.equal(saved.pgbouncer_ini, bed.pgbouncer.ini, 'and the PgBouncer ini');

        // The demo is SQLite: the page says what it needs instead.
        await page.locator('[data-testid=env-switcher] [data-env=demo]').click();
        await page.evaluate(() => (location.hash = '#/replication'));
        const none = page.locator('[data-testid=repl-none][data-reason=sqlite]');
        await none.waitFor();
        assert.match(await none.innerText(), /needs a PostgreSQL environment/);
        assert.match(await none.innerText(), /replica/);
        await none.getByTestId('repl-none-switch-bed').waitFor();
        await shot(page, 'sqlite', scrollTop(page));
      },
      {
        env: { DBDECK_FAULT_DELAY: 'promote:6000' },
        prepare: async (dir) => {
          await run(BIN, ['--data-dir', dir, 'env', 'add', 'bed', ...envArgs]);
        },
      },
    );
  } finally {
    await run(BED, ['down', bedDir]).catch(() => {});
    fs.rmSync(bedDir, { recursive: true, force: true });
  }
});
