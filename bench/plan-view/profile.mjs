// Where the time goes between clicking Analyze on dbdeck's Plans page and the first node of
// the tree showing: a CPU profile of the page (Chrome DevTools Protocol) over that span,
// summed by function (self time) and by script, plus the API call's Resource Timing.
//
//   node profile.mjs PLAN.json [--bin PATH] [--top 40] [--cpuprofile OUT.cpuprofile]
//
// Uses DBDECK_BIN / --bin, else the release build under /var/tmp/dbdeck-target. The
// .cpuprofile opens in Chromium's DevTools (Performance → Load profile) for the whole picture.
// This finds where to look; scripts/bench-plan-view is what records figures.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : dflt;
};
const bin = opt('--bin', process.env.DBDECK_BIN || '/var/tmp/dbdeck-target/release/dbdeck');
const top = Number(opt('--top', '40'));
const out = opt('--cpuprofile', null);
const file = args[0];
if (!file) {
  console.error('usage: node profile.mjs PLAN.json [--bin PATH] [--top N] [--cpuprofile OUT]');
  process.exit(2);
}
const text = fs.readFileSync(file, 'utf8');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbdeck-profile-'));
const server = spawn(bin, ['--data-dir', dir, 'serve', '--demo', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let buf = '';
  server.stdout.on('data', (d) => {
    buf += d;
    if (buf.includes('\n')) resolve(buf.split('\n')[0].trim());
  });
  server.once('exit', (c) => reject(new Error(`dbdeck exited with ${c}`)));
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url, { waitUntil: 'load' });
  await page.evaluate(() => (window.location.hash = '#/plans'));
  await page.locator('[data-testid=plans]').waitFor();
  const paste = page.locator('[data-testid=plan-mode-paste]');
  if (await paste.count()) await paste.click();
  await page.evaluate((t) => {
    const ta = document.querySelector('[data-testid=plan-input]');
    Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set.call(ta, t);
    ta.dispatchEvent(new Event('input', { bubbles: true }));
  }, text);
  await page.waitForFunction(() => !document.querySelector('[data-testid=plan-analyze]')?.disabled);
  await page.waitForTimeout(300);

  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const shown = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const t0 = performance.now();
        document.querySelector('[data-testid=plan-analyze]').click();
        const tick = () => {
          if (document.querySelector('[data-testid=plan-node]') || document.querySelector('[data-testid=plan-error]')) {
            requestAnimationFrame(() => setTimeout(() => resolve({ ms: performance.now() - t0, t0 }), 0));
          } else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
  );
  const { profile } = await cdp.send('Profiler.stop');
  const call = await page.evaluate((t0) => {
    const e = performance
      .getEntriesByType('resource')
      .filter((r) => r.name.includes('/api/') && r.startTime >= t0 - 1)
      .sort((a, b) => b.duration - a.duration)[0];
    return e && { name: e.name.replace(/\?.*/, ''), start: e.startTime - t0, firstByte: e.responseStart - t0, end: e.responseEnd - t0, bytes: e.encodedBodySize };
  }, shown.t0);
  if (out) fs.writeFileSync(out, JSON.stringify(profile));

  // Self time per node of the profile, from the samples and their time deltas.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const byFn = new Map();
  const byScript = new Map();
  for (const [id, t] of self) {
    const cf = byId.get(id).callFrame;
    const where = cf.url ? `${path.basename(cf.url.replace(/\?.*/, ''))}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    const s = cf.url ? path.basename(cf.url) : cf.functionName.startsWith('(') ? cf.functionName : '(native)';
    byScript.set(s, (byScript.get(s) ?? 0) + t);
  }
  // What ran when: per 25 ms from the click, the functions with the most self time.
  const timeline = new Map();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    const cf = byId.get(id).callFrame;
    if (cf.functionName === '(idle)') return;
    const bucket = Math.floor((at - profile.startTime) / 25000);
    const m = timeline.get(bucket) ?? new Map();
    const key = `${cf.functionName || '(anonymous)'}${cf.url ? `:${cf.lineNumber + 1}:${cf.columnNumber + 1}` : ''}`;
    m.set(key, (m.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    timeline.set(bucket, m);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`click → first node shown: ${shown.ms.toFixed(0)} ms; profiled ${total.toFixed(0)} ms`);
  if (call) console.log(`API call ${call.name}: sent at ${call.start.toFixed(0)} ms, first byte ${call.firstByte.toFixed(0)} ms, last byte ${call.end.toFixed(0)} ms, ${call.bytes} bytes`);
  console.log('\nself time by script:');
  for (const [k, v] of [...byScript].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`${v.toFixed(1).padStart(8)} ms  ${k}`);
  console.log('\nbusy per 25 ms of the profile (it starts just before the click):');
  for (const [b, m] of [...timeline].sort((x, y) => x[0] - y[0])) {
    const busy = [...m.values()].reduce((a, v) => a + v, 0);
    const tops = [...m].sort((x, y) => y[1] - x[1]).slice(0, 3).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
    console.log(`${String(b * 25).padStart(5)} ms  ${busy.toFixed(0).padStart(3)} busy  ${tops}`);
  }
  console.log(`\nself time by function (top ${top}):`);
  for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${v.toFixed(1).padStart(8)} ms  ${k}`);
} finally {
  await browser.close();
  server.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
