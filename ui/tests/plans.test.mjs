// Browser tests of the Plans page: real PostgreSQL 15 plans pasted (tests/plans/*, captured by
// scripts/capture-plans), the tree, findings, the detail panel, the grid, compare and export;
// a malformed paste; explain on the demo's SQLite file; explain, index health and index advice
// on the machine's PostgreSQL (a prod environment asks for its name); the Dashboard's
// "Explain" of a top statement; the same EXPLAIN run on a second environment and compared
// (staging → prod, two databases on that server); and a generated 10,000-node plan that must
// stay virtualised, small in memory and smooth.
//
// Needs PostgreSQL on DBDECK_TEST_PG_URL (trust auth). Creates one scratch table,
// dbdeck_plans_test, and two scratch databases, dbdeck_cmp_staging and dbdeck_cmp_prod, and
// drops them before returning. Screenshots go to tests/out/plans-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, OUT, PG_OK, PG_REFUSED, psqlQuery, screenshots, session } from './helpers.mjs';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'tests', 'plans');
const fixture = (name) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

async function openPlans(page, server) {
  await page.goto(server.url);
  await page.locator('article[data-env=demo]').waitFor({ timeout: 20_000 });
  // Reached from the sidebar, like every page.
  await page.locator('nav a[href="#/plans"]').click();
  await page.locator('nav a[aria-current=page][href="#/plans"]').waitFor();
  await page.getByTestId('plans').waitFor();
}

async function paste(page, text) {
  await page.getByTestId('plan-mode-paste').click();
  await page.getByTestId('plan-input').fill(text);
  await page.getByTestId('plan-analyze').click();
}

/** The node ids of the rows the tree shows, in order. */
async function treeIds(page) {
  return page.locator('[data-testid=plan-tree] [data-testid=plan-node]').evaluateAll((els) => els.map((e) => Number(e.dataset.nodeId)));
}

test('a pasted plan: tree, findings worst first, detail panel, grid, compare, export, a malformed paste', { timeout: 180_000 }, async () => {
  await session(async ({ server, page }) => {
    await openPlans(page, server);
    const text = fixture('cte_subplan.json');
    // What the backend makes of the plan, to check the page against.
    const { data: report } = await server.call({ op: 'plan_analyze', text });
    const nodes = report.plan.nodes;

    await paste(page, text);
    await page.getByTestId('plan-tree').waitFor();
    assert.deepEqual(await treeIds(page), nodes.map((n) => n.id), 'a small plan shows every node, in pre-order');
    const tree = page.getByTestId('plan-tree');
    assert.match(await tree.innerText(), /Seq Scan on visits v/);
    assert.match(await tree.innerText(), /CTE recent/, 'subplan names show as badges');
    assert.match(await tree.innerText(), /SubPlan 2/);
    assert.match(await page.getByTestId('plan-total').innerText(), /^699 ms$/, 'the headline total has its unit');

    // Findings, worst first: the critical one leads, with its word.
    const first = page.getByTestId('plan-finding').first();
    assert.equal(await first.getAttribute('data-severity'), 'critical');
    assert.match(await first.innerText(), /critical/);
    const target = Number(await first.getAttribute('data-node-id'));
    assert.equal(nodes[target].label, 'Seq Scan on visits v');

    // A click on it selects the node and opens the detail panel with every field.
    await first.click();
    const row = page.locator(`[data-testid=plan-tree] [data-testid=plan-node][data-node-id="${target}"]`);
    assert.equal(await row.getAttribute('aria-selected'), 'true', 'the finding selected its node');
    const detail = page.getByTestId('plan-detail');
    await detail.waitFor();
    assert.equal(await detail.getAttribute('data-node-id'), String(target));
    const fields = await detail.getByTestId('plan-detail-fields').innerText();
    for (const k of Object.keys(nodes[target].fields)) assert.ok(fields.includes(k), `the detail panel lists the field ${k}`);
    // In the order EXPLAIN printed them (the answer the page decoded left out the fields a
    // column repeats, and put them back in their places).
    const names = await detail.getByTestId('plan-detail-fields').locator('dt').allInnerTexts();
    assert.deepEqual(names, Object.keys(nodes[target].fields));
    assert.deepEqual(names.slice(0, 3), ['Node Type', 'Parent Relationship', 'Parallel Aware']);
    assert.match(fields, /Rows Removed by Filter/);
    assert.match(await detail.innerText(), /FIX/i, 'the finding comes with its fix');
    assert.match(await detail.innerText(), /CREATE INDEX/);
    await screenshots(page, 'plans-tree', () => detail.waitFor());

    // Keyboard: Escape closes the panel, arrows move the selection.
    await tree.focus();
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'detached' });
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.getByTestId('plan-detail').getAttribute('data-node-id'), '1', 'ArrowDown moved to the second row');

    // Collapse all leaves the root and its children; expand all brings every node back.
    await page.getByTestId('plan-collapse-all').click();
    assert.deepEqual(await treeIds(page), [0, ...nodes[0].children]);
    await page.getByTestId('plan-expand-all').click();
    assert.equal((await treeIds(page)).length, nodes.length);
    // One node folded by its own toggle.
    await page.locator('[data-testid=plan-node][data-node-id="5"] button.tog').click();
    assert.ok(!(await treeIds(page)).includes(6), 'the Hash Join folded away its children');
    await page.locator('[data-testid=plan-node][data-node-id="5"] button.tog').click();

    // The bar metric is selectable.
    await page.getByTestId('plan-metric').selectOption('estimate');
    assert.match(await tree.innerText(), /×200 over/);

    // Grid: sorted by self time, biggest first; a click on the header turns it round.
    await page.getByTestId('plan-tab-grid').click();
    const grid = page.getByTestId('plan-grid');
    await grid.waitFor();
    const gridIds = () => grid.locator('[data-testid=plan-grid-row]').evaluateAll((els) => els.map((e) => Number(e.dataset.nodeId)));
    const bySelf = [...nodes].sort((a, b) => b.exclusive_ms - a.exclusive_ms || a.id - b.id).map((n) => n.id);
    assert.deepEqual(await gridIds(), bySelf, 'the grid opens sorted by self time, descending');
    await page.getByTestId('plan-grid-sort-self').click();
    assert.deepEqual(await gridIds(), [...bySelf].reverse().sort((a, b) => nodes[a].exclusive_ms - nodes[b].exclusive_ms || a - b));
    await page.getByTestId('plan-grid-sort-rows').click();
    const rowsOrder = await gridIds();
    for (let i = 1; i < rowsOrder.length; i++) assert.ok(nodes[rowsOrder[i - 1]].total_rows >= nodes[rowsOrder[i]].total_rows, 'rows, descending');
    await grid.locator('[data-testid=plan-grid-row][data-node-id="8"]').click();
    assert.equal(await page.getByTestId('plan-detail').getAttribute('data-node-id'), '8');
    await screenshots(page, 'plans-grid');

    // Raw, Query and Stats.
    await page.getByTestId('plan-tab-raw').click();
    assert.equal((await page.getByTestId('plan-raw').innerText()).trim(), text.trim());
    await page.getByTestId('plan-tab-query').click();
    assert.match(await page.getByTestId('plans').innerText(), /statement is not known/);
    await page.getByTestId('plan-tab-stats').click();
    const stats = await page.getByTestId('plan-stats').innerText();
    assert.match(stats, /Planning\s+0\.91 ms/);
    assert.match(stats, /Temp written\s+3\.23 MiB/, 'temp blocks as binary sizes');

    // Compare with the same statement's plan captured as text: a verdict and matched nodes.
    await page.getByTestId('plan-tab-compare').click();
    await page.getByTestId('plan-compare-input').fill(fixture('cte_subplan.txt'));
    await page.getByTestId('plan-compare-run').click();
    const verdict = page.getByTestId('plan-verdict');
    await verdict.waitFor();
    assert.match(await verdict.innerText(), /B is 1\.1× slower \(699\.3 ms → 773\.4 ms\)/);
    assert.match(await page.getByTestId('plan-compare-sides').innerText(), /Execution\s+699 ms\s+773 ms/);
    assert.equal(await page.getByTestId('plan-pair').count(), nodes.length, 'every node matched');
    // A changed plan: B scans visits by an index instead; the pair shows "→ new label".
    const changed = fixture('cte_subplan.txt').replace('Seq Scan on public.visits v ', 'Index Scan using visits_person on public.visits v ');
    await page.getByTestId('plan-compare-edit').click();
    await page.getByTestId('plan-compare-input').fill(changed);
    await page.getByTestId('plan-compare-run').click();
    await eventually('the changed node pair', async () => /→ Index Scan using visits_person/.test(await page.getByTestId('plan-pairs').innerText()));
    await screenshots(page, 'plans-compare', () => verdict.waitFor());

    // Export: a download of a self-contained HTML page.
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('plan-export').click()]);
    assert.equal(dl.suggestedFilename(), 'plan.html');
    const html = fs.readFileSync(await dl.path(), 'utf8');
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /Seq Scan on visits/);

    // A text-format plan reads too.
    await page.getByTestId('plan-edit-input').click();
    await page.getByTestId('plan-input').fill(fixture('misestimate.txt'));
    await page.getByTestId('plan-analyze').click();
    await eventually('the text plan', async () => (await treeIds(page)).length === 4);
    assert.equal(await page.getByTestId('plan-paste-form').isVisible(), false, 'the paste box folds away while a plan shows');
    assert.match(await page.getByTestId('plan-findings').innerText(), /warning/);
    assert.match(await page.getByTestId('plan-tree').innerText(), /×20 under/);

    // A malformed paste: the error says where, and the pasted text stays in the box.
    await page.getByTestId('plan-edit-input').click();
    const truncated = text.slice(0, 3000);
    await page.getByTestId('plan-input').fill(truncated);
    await page.getByTestId('plan-analyze').click();
    const err = page.getByTestId('plan-error');
    await err.waitFor();
    assert.match(await err.innerText(), /line \d+, column \d+/);
    assert.match(await err.innerText(), /Hint/i, 'with the hint of what to paste');
    assert.equal(await page.getByTestId('plan-input').inputValue(), truncated, 'the pasted text is kept, to be fixed');
    await page.getByTestId('plan-error-line').click();
    const sel = await page.getByTestId('plan-input').evaluate((t) => t.value.slice(t.selectionStart, t.selectionEnd));
    assert.ok(sel.length > 0 && truncated.includes(sel), 'Show line selects the faulty line');
    await screenshots(page, 'plans-error', () => err.waitFor());
  });
});

test('explain on the demo (SQLite) environment, from the palette; $n parameters ask for values', { timeout: 120_000 }, async () => {
  await session(async ({ server, page }) => {
    await page.goto(server.url);
    await page.locator('article[data-env=demo]').waitFor({ timeout: 20_000 });
    // Ctrl+K → "Explain a statement…".
    await page.keyboard.press('Control+k');
    await page.getByTestId('palette').locator('input').fill('explain a statement');
    await page.keyboard.press('Enter');
    await page.locator('nav a[aria-current=page][href="#/plans"]').waitFor();
    const sql = page.getByTestId('plan-sql');
    await eventually('the statement box has focus', () => sql.evaluate((el) => el === document.activeElement));

    await sql.fill('select * from orders where customer_id = $1 and status = $2');
    assert.equal(await page.getByTestId('plan-params').locator('input').count(), 2, 'one box per parameter');
    await page.getByTestId('plan-param-1').fill('3');
    assert.equal(await page.getByTestId('plan-explain').isDisabled(), true, 'all parameters or none');
    await sql.fill('select * from orders where customer_id = 3');
    assert.equal(await page.getByTestId('plan-params').count(), 0);
    assert.match(await page.getByTestId('plan-analyze-note').innerText(), /executes the statement.*rolls back/s);
    await screenshots(page, 'plans-explain-form');

    await page.getByTestId('plan-explain').click();
    await page.getByTestId('plan-tree').waitFor();
    const labels = await page.locator('[data-testid=plan-node] .label').allInnerTexts();
    assert.ok(labels.some((l) => /orders_customer/.test(l)), `the plan uses the index on customer_id: ${labels.join(' | ')}`);
    assert.match(await page.getByTestId('plan-view').innerText(), /EXPLAIN QUERY PLAN on demo/);
    await page.getByTestId('plan-tab-query').click();
    assert.match(await page.getByTestId('plan-query').innerText(), /customer_id = 3/);
    // An SQLite plan exports too (rebuilt as EXPLAIN JSON for the backend).
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('plan-export').click()]);
    assert.equal(dl.suggestedFilename(), 'plan.html');

    // Index health is PostgreSQL's: a calm message says so.
    await page.getByTestId('plan-mode-indexes').click();
    const ix = page.getByTestId('plan-indexes');
    await ix.locator('[data-code=invalid_input]').waitFor();
    assert.match(await ix.innerText(), /SQLite environment/);
    await page.getByTestId('plan-mode-explain').click();
    assert.equal(await page.getByTestId('plan-advise').isDisabled(), true, 'no index advice for SQLite');
  });
});

test('PostgreSQL: Dashboard → Explain a top statement, prod confirmation, index health and advice', { timeout: 180_000 }, async () => {
  await psqlQuery(`DROP TABLE IF EXISTS dbdeck_plans_test;
    CREATE TABLE dbdeck_plans_test (id int PRIMARY KEY, k int, note text);
    INSERT INTO dbdeck_plans_test SELECT g, g % 1000, 'n' || g FROM generate_series(1, 100000) g;
    CREATE INDEX dbdeck_plans_test_k1 ON dbdeck_plans_test (k);
    CREATE INDEX dbdeck_plans_test_k2 ON dbdeck_plans_test (k);
    ANALYZE dbdeck_plans_test;`);
  try {
    await session(async ({ server, page }) => {
      await server.call({ op: 'env_add', env: { name: 'pg-dev', kind: 'dev', url: PG_OK, replicas: [] } });
      await server.call({ op: 'env_add', env: { name: 'pg-prod', kind: 'prod', url: PG_OK, replicas: [] } });
      const statement = 'select * from dbdeck_plans_test where note = $1';
      // pg_stat_statements is not loaded on this machine: the snapshot's top statements are
      // filled in on the way to the page, so the Explain button has a row to sit on.
      await page.route('**/api/call', async (route) => {
        const body = route.request().postDataJSON();
        if (body?.op !== 'snapshot') return route.continue();
        const res = await route.fetch();
        const json = await res.json();
        if (json.kind === 'snapshot' && json.data.engine === 'postgres') {
          json.data.top = {
            available: true,
            problem: null,
            rows: [{ query_id: '42', query: statement, calls: 12, total_ms: 96, mean_ms: 8, stddev_ms: 1, rows: 12, shared_hit: 100, shared_read: 0, hit_pct: 100, share_pct: 60 }],
          };
        }
        await route.fulfill({ response: res, json });
      });
      await page.goto(server.url);
      await page.locator('article[data-env=pg-dev][data-status=ok]').waitFor({ timeout: 20_000 });
      await page.locator('[data-testid=env-switcher] [data-env=pg-dev]').click();
      await page.evaluate(() => (location.hash = '#/dashboard'));
      await page.getByTestId('top-explain').first().waitFor({ timeout: 20_000 });
      await page.getByTestId('top').screenshot({ path: path.join(OUT, 'plans-dashboard-top-explain.png') });
      await page.getByTestId('top-explain').first().click();
      await page.locator('nav a[aria-current=page][href="#/plans"]').waitFor();
      assert.equal(await page.getByTestId('plan-sql').inputValue(), statement, 'the statement came with the click');
      const p1 = page.getByTestId('plan-param-1');
      await eventually('the first parameter box has focus', () => p1.evaluate((el) => el === document.activeElement));
      await p1.fill('n5');
      await page.getByTestId('plan-explain').click();
      await page.getByTestId('plan-tree').waitFor({ timeout: 20_000 });
      assert.match(await page.getByTestId('plan-view').innerText(), /EXPLAIN \(ANALYZE, BUFFERS, FORMAT JSON\) on pg-dev/);
      assert.match(await page.getByTestId('plan-tree').innerText(), /Seq Scan on dbdeck_plans_test/);
      assert.match(await page.getByTestId('plan-findings').innerText(), /critical|warning/);

      // Index advice for the same statement, $1 and its value as given: a candidate on note,
      // checked by the planner.
      await page.getByTestId('plan-edit-input').click();
      assert.equal(await page.getByTestId('plan-param-1').inputValue(), 'n5', 'the value stays for the advice');
      await page.getByTestId('plan-advise').click();
      const cand = page.getByTestId('plan-advice-candidate').first();
      await cand.waitFor({ timeout: 30_000 });
      assert.match(await cand.innerText(), /CREATE INDEX CONCURRENTLY ON (public\.)?dbdeck_plans_test \(note\)/);
      assert.match(await cand.innerText(), /Used by the planner\s+yes/i);
      assert.match(await cand.innerText(), /→/);
      await screenshots(page, 'plans-advice', () => cand.waitFor());

      // Index health: the duplicate pair, sizes in binary units, the fix to copy.
      await page.getByTestId('plan-mode-indexes').click();
      const findings = page.getByTestId('plan-index-findings');
      await findings.waitFor({ timeout: 20_000 });
      const dup = findings.locator('tr[data-issue=duplicate]').filter({ hasText: 'dbdeck_plans_test_k' });
      await dup.first().waitFor();
      assert.match(await dup.first().innerText(), /duplicate/);
      assert.match(await dup.first().innerText(), /\d+(\.\d+)? KiB/);
      assert.match(await dup.first().innerText(), /DROP INDEX CONCURRENTLY public\.dbdeck_plans_test_k/);
      await screenshots(page, 'plans-indexes', () => findings.waitFor());

      // On prod, EXPLAIN ANALYZE asks for the environment's name first.
      await page.getByTestId('plan-mode-explain').click();
      await page.getByTestId('plan-env').selectOption('pg-prod');
      await page.getByTestId('plan-sql').fill('select count(*) from dbdeck_plans_test where k = 7');
      const run = page.getByTestId('plan-explain');
      assert.match(await run.innerText(), /Explain analyze on pg-prod/);
      await run.click();
      const confirm = page.getByTestId('prod-confirm');
      await confirm.waitFor();
      assert.match(await confirm.innerText(), /executes the statement/);
      await screenshots(page, 'plans-prod-confirm', () => confirm.waitFor());
      await page.getByTestId('confirm-input').fill('pg-prod');
      await page.getByTestId('confirm-action').click();
      await eventually('the prod plan', async () => /on pg-prod/.test(await page.getByTestId('plan-view').innerText().catch(() => '')), 20_000);
      assert.match(await page.getByTestId('plan-view').innerText(), /rolled back/);
    });
  } finally {
    await psqlQuery('DROP TABLE IF EXISTS dbdeck_plans_test');
  }
});

/** PG_OK with another database. */
function pgDatabase(name) {
  const u = new URL(PG_OK);
  u.pathname = `/${name}`;
  return u.toString();
}

test('PostgreSQL: the same EXPLAIN on another environment (staging → prod), compared', { timeout: 180_000 }, async () => {
  // Two databases on the same server stand for staging and prod: the same table and data,
  // the index on k only on "prod", so the plans differ (Seq Scan → Index Scan).
  const dbs = { staging: 'dbdeck_cmp_staging', prod: 'dbdeck_cmp_prod' };
  for (const db of Object.values(dbs)) {
    await psqlQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await psqlQuery(`CREATE DATABASE ${db}`);
    await psqlQuery(
      `CREATE TABLE dbdeck_cmp (id int PRIMARY KEY, k int, note text);
       INSERT INTO dbdeck_cmp SELECT g, g % 1000, 'n' || g FROM generate_series(1, 200000) g;
       ${db === dbs.prod ? 'CREATE INDEX dbdeck_cmp_k ON dbdeck_cmp (k);' : ''}
       ANALYZE dbdeck_cmp;`,
      { url: pgDatabase(db) },
    );
  }
  try {
    await session(async ({ server, page }) => {
      await server.call({ op: 'env_add', env: { name: 'pg-staging', kind: 'staging', url: pgDatabase(dbs.staging), replicas: [] } });
      await server.call({ op: 'env_add', env: { name: 'pg-prod', kind: 'prod', url: pgDatabase(dbs.prod), replicas: [] } });
      await server.call({ op: 'env_add', env: { name: 'pg-down', kind: 'dev', url: PG_REFUSED, replicas: [] } });
      await page.goto(server.url);
      await page.locator('article[data-env=pg-staging][data-status=ok]').waitFor({ timeout: 20_000 });
      await page.locator('[data-testid=env-switcher] [data-env=pg-staging]').click();
      await page.locator('nav a[href="#/plans"]').click();
      await page.getByTestId('plans').waitFor();

      // Explain on staging, with a value for $1.
      await page.getByTestId('plan-env').selectOption('pg-staging');
      await page.getByTestId('plan-sql').fill('select * from dbdeck_cmp where k = $1');
      await page.getByTestId('plan-param-1').fill('7');
      await page.getByTestId('plan-explain').click();
      await page.getByTestId('plan-tree').waitFor({ timeout: 20_000 });
      assert.match(await page.getByTestId('plan-view').innerText(), /on pg-staging/);
      assert.match(await page.getByTestId('plan-tree').innerText(), /Seq Scan on dbdeck_cmp/);
      const totalA = await page.getByTestId('plan-total').innerText();

      // Compare: the other PostgreSQL environments, the same options and value.
      await page.getByTestId('plan-tab-compare').click();
      const form = page.getByTestId('plan-compare-env-form');
      await form.waitFor();
      const choices = await page.getByTestId('plan-compare-env').locator('option').evaluateAll((os) => os.map((o) => o.value));
      assert.deepEqual(choices.sort(), ['pg-down', 'pg-prod'], 'the other PostgreSQL environments: not A\'s own, not the SQLite demo');
      assert.match(await form.innerText(), /EXPLAIN \(ANALYZE, BUFFERS, FORMAT JSON\)/);
      assert.match(await page.getByTestId('plan-compare-params').innerText(), /\$1 = 7/);
      assert.equal(await page.getByTestId('plan-compare-input').count(), 1, 'pasting a plan B stays available');

      // An unreachable environment: the error shows, plan A stays.
      await page.getByTestId('plan-compare-env').selectOption('pg-down');
      await page.getByTestId('plan-compare-env-run').click();
      const err = page.getByTestId('plan-compare-error');
      await err.waitFor({ timeout: 20_000 });
      assert.match(await err.innerText(), /on pg-down failed/);
      assert.match(await err.innerText(), /Hint/i);
      assert.equal(await page.getByTestId('plan-total').innerText(), totalA, 'plan A is still shown');
      await form.waitFor();
      await screenshots(page, 'plans-compare-env-error', () => err.waitFor());

      // Prod with ANALYZE: the name is typed first; refusing runs nothing.
      await page.getByTestId('plan-compare-env').selectOption('pg-prod');
      assert.equal(await err.count(), 0, 'picking another environment clears the last one\'s error');
      const run = page.getByTestId('plan-compare-env-run');
      assert.match(await run.innerText(), /Explain analyze on pg-prod and compare/);
      assert.match(await run.getAttribute('class'), /danger/, 'a run on prod is red');
      await screenshots(page, 'plans-compare-env-before', () => form.waitFor());
      await run.click();
      const confirm = page.getByTestId('prod-confirm');
      await confirm.waitFor();
      assert.match(await confirm.innerText(), /executes the statement/);
      assert.match(await confirm.innerText(), /select \* from dbdeck_cmp where k = \$1/);
      assert.match(await confirm.innerText(), /\$1 = 7/, 'the dialog says which value runs');
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      await confirm.waitFor({ state: 'hidden' });
      assert.equal(await page.getByTestId('plan-verdict').count(), 0, 'nothing ran without the name');

      await run.click();
      await confirm.waitFor();
      await screenshots(page, 'plans-compare-env-confirm', () => confirm.waitFor());
      await page.getByTestId('confirm-input').fill('pg-prod');
      await page.getByTestId('confirm-action').click();
      const verdict = page.getByTestId('plan-verdict');
      await verdict.waitFor({ timeout: 30_000 });
      assert.match(await verdict.innerText(), /B is [\d.]+× faster .*Seq Scan on dbdeck_cmp became (Bitmap Heap|Index) Scan/s);
      // Each side's column is headed by its letter over its environment.
      const label = async (side) => {
        const el = page.getByTestId(`plan-compare-label-${side}`);
        return { text: (await el.innerText()).replace(/\s+/g, ' ').trim(), title: await el.getAttribute('title') };
      };
      assert.deepEqual(await label('a'), { text: 'A · pg-staging', title: 'A · pg-staging' });
      assert.deepEqual(await label('b'), { text: 'B · pg-prod', title: 'B · pg-prod' });
      assert.match(await page.getByTestId('plan-compare-legend').innerText(), /A · pg-staging → B · pg-prod/);
      const bline = await page.getByTestId('plan-compare-b').innerText();
      assert.match(bline, /pg-prod/);
      assert.match(bline, /rolled back/);
      assert.equal(await page.getByTestId('plan-error').count(), 0);
      assert.equal(await page.getByTestId('plan-total').innerText(), totalA, 'plan A is unchanged');
      await screenshots(page, 'plans-compare-env-after', () => verdict.waitFor());

      // Prod ran the same statement with the same value, confirmed by name (the audit log says so).
      const { data: audit } = await server.call({ op: 'audit_list', env: 'pg-prod' });
      const explained = audit.filter((r) => r.action === 'plan.explain');
      assert.ok(explained.some((r) => r.outcome === 'ok'), `an explain on pg-prod went through: ${JSON.stringify(explained.map((r) => r.outcome))}`);
      assert.ok(explained.some((r) => r.params?.sql === 'select * from dbdeck_cmp where k = $1' && r.params?.params === 1));

      // The comparison stays through a tab switch and a visit to another page; the inputs open
      // again on "Change plan B".
      await page.getByTestId('plan-tab-tree').click();
      await page.getByTestId('plan-tab-compare').click();
      assert.match(await page.getByTestId('plan-compare-label-b').innerText(), /pg-prod/);
      await page.locator('nav a[href="#/overview"]').click();
      await page.locator('nav a[href="#/plans"]').click();
      await page.getByTestId('plan-tab-compare').click();
      assert.match(await page.getByTestId('plan-verdict').innerText(), /faster/);
      assert.match(await page.getByTestId('plan-compare-label-b').innerText(), /pg-prod/);
      await page.getByTestId('plan-compare-edit').click();
      await form.waitFor();
      await page.getByTestId('plan-compare-input').waitFor();
    });
  } finally {
    for (const db of Object.values(dbs)) await psqlQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  }
});

/** A plan of `n` nodes: mostly chains under recent nodes (depth), some fan-out under old ones
 *  (breadth), every node with ANALYZE figures. Deterministic. */
function bigPlan(n) {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const types = ['Seq Scan', 'Index Scan', 'Hash Join', 'Nested Loop', 'Sort', 'Aggregate', 'Append'];
  const mk = (i) => ({
    'Node Type': types[i % types.length],
    'Total Cost': i,
    'Plan Rows': 10,
    'Actual Total Time': 0.5 + (i % 97) / 10,
    'Actual Rows': 10 + (i % 50),
    'Actual Loops': 1,
    ...(i % types.length < 2 ? { 'Relation Name': `t${i}` } : {}),
  });
  const all = [mk(0)];
  all[0]['Node Type'] = 'Append';
  for (let i = 1; i < n; i++) {
    const parent = rand() < 0.6 ? all[all.length - 1 - Math.floor(rand() * Math.min(3, all.length))] : all[Math.floor(rand() * all.length)];
    const c = mk(i);
    (parent.Plans ??= []).push(c);
    all.push(c);
  }
  return JSON.stringify([{ Plan: all[0], 'Planning Time': 1.2, 'Execution Time': 5000 }]);
}

test('a 10,000-node plan renders virtualised, in little memory, and stays smooth', { timeout: 180_000 }, async () => {
  await session(async ({ server, page }) => {
    await openPlans(page, server);
    const text = bigPlan(10_000);
    // The backend's reading of it, fetched first: the server's CPU must not compete with the
    // page while the page is being timed.
    const order = await server.call({ op: 'plan_analyze', text }).then((r) => r.data.plan.nodes);
    await page.getByTestId('plan-mode-paste').click();
    await page.getByTestId('plan-input').fill(text);

    // Time from the answer being parsed to the first rows on screen, and every long task after.
    await page.evaluate(() => {
      const orig = Response.prototype.json;
      Response.prototype.json = async function () {
        const v = await orig.call(this);
        if (v && v.kind === 'plan') window.__arrived = performance.now();
        return v;
      };
      window.__long = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) window.__long.push({ at: e.startTime, ms: e.duration });
      }).observe({ type: 'longtask', buffered: false });
      const poll = () => {
        if (window.__arrived && document.querySelector('[data-testid=plan-tree] [data-testid=plan-node]')) {
          requestAnimationFrame(() => (window.__shown = performance.now()));
        } else requestAnimationFrame(poll);
      };
      requestAnimationFrame(poll);
    });
    await page.getByTestId('plan-analyze').click();
    await page.locator('[data-testid=plan-tree] [data-testid=plan-node]').first().waitFor({ timeout: 60_000 });
    await eventually('the first frame with rows', () => page.evaluate(() => window.__shown));
    const { arrived, shown } = await page.evaluate(() => ({ arrived: window.__arrived, shown: window.__shown }));
    const interactiveMs = shown - arrived;
    assert.equal(await page.getByTestId('plan-node-count').innerText(), '10,000');
    assert.ok(interactiveMs <= 300, `interactive ${interactiveMs.toFixed(0)} ms after the data arrived (budget 300 ms)`);

    const rows = () => page.locator('[data-testid=plan-tree] [data-testid=plan-node]').count();
    assert.ok((await rows()) < 200, `the tree renders only what is in view: ${await rows()} rows`);
    assert.match(await page.getByTestId('plan-shown').innerText(), /of 10,000 nodes shown/, 'a plan this large opens collapsed below some depth');

    // Everything after the data arrived: expand, scroll to the end, grid, sort, collapse. Each
    // step is stamped, so a slow frame names the action that caused it.
    const steps = [];
    const stamp = async (name) => steps.push({ name, at: await page.evaluate(() => performance.now()) });
    await stamp('expand all');
    const t0 = steps[0].at;
    await page.getByTestId('plan-expand-all').click();
    assert.match(await page.getByTestId('plan-shown').innerText(), /^10,000 nodes$/);
    assert.ok((await rows()) < 200, `still virtualised when all is expanded: ${await rows()} rows`);
    const tree = page.getByTestId('plan-tree');
    await stamp('scroll the tree');
    for (const f of [0.25, 0.5, 0.75, 1]) {
      await tree.evaluate((el, f) => (el.scrollTop = el.scrollHeight * f), f);
      await page.waitForTimeout(60);
    }
    await page.locator('[data-testid=plan-tree] [data-testid=plan-node]').last().waitFor();
    const shownIds = await treeIds(page);
    // The last row of a pre-order walk is the deepest last descendant of the root.
    let last = 0;
    while (order[last].children.length) last = order[last].children[order[last].children.length - 1];
    assert.equal(shownIds[shownIds.length - 1], last, 'scrolled to the bottom, the last node shows');
    assert.ok((await rows()) < 200);
    // Keyboard: End selects the last row and opens its details.
    await stamp('End key');
    await tree.focus();
    await page.keyboard.press('End');
    assert.equal(await page.getByTestId('plan-detail').getAttribute('data-node-id'), String(last));
    await page.keyboard.press('Escape');

    await stamp('switch to the grid');
    await page.getByTestId('plan-tab-grid').click();
    await page.getByTestId('plan-grid').waitFor();
    assert.ok((await page.locator('[data-testid=plan-grid-row]').count()) < 200, 'the grid is virtualised too');
    assert.match(await page.getByTestId('plan-grid-count').innerText(), /10,000 nodes/);
    await stamp('sort the grid');
    await page.getByTestId('plan-grid-sort-rows').click();
    await stamp('scroll the grid');
    await page.getByTestId('plan-grid').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForTimeout(60);
    await stamp('back to the tree');
    await page.getByTestId('plan-tab-tree').click();
    await stamp('collapse all');
    await page.getByTestId('plan-collapse-all').click();
    await stamp('expand all again');
    await page.getByTestId('plan-expand-all').click();
    await page.waitForTimeout(300);

    const long = await page.evaluate((t0) => window.__long.filter((e) => e.at >= t0), t0);
    const named = long.map((e) => ({ ms: Math.round(e.ms), during: steps.filter((x) => x.at <= e.at).pop()?.name }));
    const worst = Math.max(0, ...long.map((e) => e.ms));
    assert.ok(worst <= 100, `no frame over 100 ms while expanding, scrolling and switching: ${JSON.stringify(named)}`);

    // Memory: the plan, its view and the pasted text in under 100 MB of JS heap.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    assert.ok(usedSize < 100 * 1024 * 1024, `JS heap ${(usedSize / 1048576).toFixed(1)} MiB (budget 100 MB)`);
    fs.writeFileSync(path.join(OUT, 'plans-10k-figures.txt'), `interactive_ms ${interactiveMs.toFixed(1)}\nworst_long_task_ms ${worst.toFixed(1)}\nheap_mib ${(usedSize / 1048576).toFixed(1)}\n`);
    await screenshots(page, 'plans-10k');
  });
});
