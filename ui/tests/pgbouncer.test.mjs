// Browser test of the Dashboard's PgBouncer panel on a prod environment: Debian's PgBouncer in
// front of the machine's PostgreSQL (admin console with trust auth, so no keychain is needed),
// its SHOW tables, and PAUSE / RESUME through the typed-name prod confirmation.
//
// Needs /usr/sbin/pgbouncer (Debian package pgbouncer). As root it runs as the postgres user.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually, PG_OK, screenshots, session } from './helpers.mjs';

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function startPgBouncer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbdeck-pgb-ui-'));
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const pg = new URL(PG_OK);
  fs.writeFileSync(path.join(dir, 'userlist.txt'), '"admin" ""\n');
  fs.writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    `[databases]\napp = host=${pg.hostname} port=${pg.port || 5432} dbname=postgres user=postgres\n\n` +
      `[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = ${port}\nunix_socket_dir =\nauth_type = trust\n` +
      `auth_file = ${dir}/userlist.txt\nadmin_users = admin\npool_mode = transaction\n` +
      `logfile = ${dir}/pgbouncer.log\npidfile = ${dir}/pgbouncer.pid\n`,
  );
  const ini = path.join(dir, 'pgbouncer.ini');
  const root = process.getuid?.() === 0;
  const proc = root
    ? spawn('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '/usr/sbin/pgbouncer', ini], { stdio: 'ignore' })
    : spawn('/usr/sbin/pgbouncer', [ini], { stdio: 'ignore' });
  await eventually('pgbouncer to listen', () =>
    new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.end();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    }),
  );
  return {
    url: `postgres://admin@127.0.0.1:${port}/pgbouncer`,
    stop: () => {
      proc.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('the PgBouncer panel shows SHOW tables and pauses and resumes a prod pooler only after the typed name', { timeout: 120_000 }, async () => {
  const bouncer = await startPgBouncer();
  try {
    await session(async ({ server, page }) => {
      await server.call({ op: 'env_add', env: { name: 'pooled-prod', kind: 'prod', url: PG_OK, pgbouncer: bouncer.url } });
      await page.goto(server.url);
      const tile = page.locator('article[data-env="pooled-prod"]');
      await tile.waitFor({ timeout: 20_000 });
      await tile.getByTestId('tile-dashboard').click();
      await page.getByTestId('pgbouncer-version').waitFor({ timeout: 20_000 });
      assert.match(await page.getByTestId('pgbouncer-version').innerText(), /^PgBouncer 1\./);
      await page.getByTestId('pgbouncer-pools').waitFor();

      // PAUSE app on prod: the typed-name confirmation, the command shown, the button named for it.
      await page.getByTestId('pgbouncer-db').selectOption('app');
      await page.getByTestId('pgbouncer-pause').click();
      const dialog = page.getByTestId('prod-confirm');
      await dialog.waitFor();
      assert.match(await dialog.getByTestId('pgbouncer-sql').innerText(), /^PAUSE app;/);
      const go = dialog.getByTestId('confirm-action');
      assert.ok(await go.isDisabled(), 'nothing runs before the name is typed');
      await dialog.getByTestId('confirm-input').fill('pooled');
      assert.ok(await go.isDisabled(), 'a partial name is not a confirmation');
      await dialog.getByTestId('confirm-input').fill('pooled-prod');
      await go.click();
      await page.getByTestId('pgbouncer-done').waitFor({ timeout: 15_000 });
      const paused = await eventually('PgBouncer to report the pause', async () => {
        const st = (await server.call({ op: 'pgbouncer', name: 'pooled-prod' })).data;
        const i = st.databases.columns.indexOf('paused');
        const row = st.databases.rows.find((r) => r[0] === 'app');
        return row && row[i] === '1' ? st : null;
      });
      assert.ok(paused, 'SHOW DATABASES says app is paused');
      // The SHOW tables are tabs; each names its row count.
      const dbTab = page.getByTestId('pgbouncer-tab-databases');
      await dbTab.click();
      await page.getByTestId('pgbouncer-databases').waitFor();
      assert.equal(await dbTab.getAttribute('aria-selected'), 'true');
      assert.match(await dbTab.innerText(), /^SHOW DATABASES\s*\d+$/);
      await screenshots(page, 'pgbouncer', async () => {
        await page.getByTestId('pgbouncer').scrollIntoViewIfNeeded();
      });

      await page.getByTestId('pgbouncer-resume').click();
      await dialog.waitFor();
      await dialog.getByTestId('confirm-input').fill('pooled-prod');
      await dialog.getByTestId('confirm-action').click();
      await eventually('PgBouncer to resume', async () => {
        const st = (await server.call({ op: 'pgbouncer', name: 'pooled-prod' })).data;
        const i = st.databases.columns.indexOf('paused');
        const row = st.databases.rows.find((r) => r[0] === 'app');
        return row && row[i] === '0';
      });
      const audit = (await server.call({ op: 'audit_list', env: 'pooled-prod' })).data.map((r) => `${r.action}:${r.outcome}`);
      assert.ok(audit.includes('pgbouncer.pause:ok') && audit.includes('pgbouncer.resume:ok'), audit.join(', '));
    });
  } finally {
    bouncer.stop();
  }
});
