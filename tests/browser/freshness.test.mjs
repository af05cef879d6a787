// The freshness card after a failed run whose error is long (issue 20): the card says a short
// reason, the whole error is one click away ("Full error"), and the row of cards keeps its width
// and stays short, on a desktop and on a phone.
//
// Run: node tests/browser/freshness.test.mjs (after `npm ci` in tests/browser); exit status 0 when
// every check passes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { BIN, check, deadline, finish, launchChromium, loadDatabase, startServer, tempDir } from './harness.mjs';

deadline(180);

const dir = tempDir('covid-etl-freshness-');
const db = loadDatabase(dir);
// A run that fails: a source on a closed port, behind a path of 200 characters.
const url = 'http://127.0.0.1:9/' + 'a-very-long-path/'.repeat(12) + 'us.csv';
const config = `${dir}/config.toml`;
fs.writeFileSync(config, '[extract]\nretries = 0\n');
const failed = spawnSync(BIN, ['run', '--config', config, '--db', db, '--nyt', url, '--jhu', url], { encoding: 'utf8', timeout: 60_000 });
const server = await startServer(db);
const { context, close } = await launchChromium();
const page = await context.newPage();

await check('the failed run is in the database with a long error', async () => {
  assert.notEqual(failed.status, 0, failed.stderr);
  const runs = await (await fetch(server.url + '/api/v1/runs?limit=1')).json();
  assert.equal(runs.runs[0].status, 'failed');
  assert.ok(runs.runs[0].error.length > 150, runs.runs[0].error);
});

for (const [name, width] of [['desktop', 1280], ['phone', 390]]) {
  await check(`${name}: a short reason in the card, the whole error on demand, the row unchanged`, async () => {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(server.url + '/');
    await page.waitForFunction(() => document.getElementById('s-fresh').textContent === 'last run failed');
    // The card shows on a phone too (the phone's styles hid it once, which made this check pass
    // on nothing).
    assert.equal(await page.isVisible('#s-fresh-card'), true);
    const run = await page.textContent('#s-run');
    assert.ok(run.length < 180, run);
    assert.match(run, /failed in/);
    const error = (await (await fetch(server.url + '/api/v1/runs?limit=1')).json()).runs[0].error;
    assert.equal(await page.textContent('#s-run-error'), error);
    assert.equal(await page.isVisible('#s-run-error'), false);
    const box = await page.evaluate(() => {
      const cards = [...document.querySelectorAll('.card')].filter((c) => c.offsetParent !== null);
      const row = cards[0].parentElement;
      const fresh = document.getElementById('s-fresh-card').getBoundingClientRect();
      const other = cards.filter((c) => c.id !== 's-fresh-card').map((c) => c.getBoundingClientRect());
      return {
        rowWidth: row.scrollWidth, rowClient: row.clientWidth, page: document.documentElement.scrollWidth,
        freshWidth: fresh.width, freshHeight: fresh.height,
        otherWidth: Math.max(...other.map((r) => r.width)), otherHeight: Math.max(...other.map((r) => r.height)),
      };
    });
    assert.ok(box.rowWidth <= box.rowClient, JSON.stringify(box));
    assert.ok(box.page <= width, JSON.stringify(box));
    assert.ok(box.freshWidth <= box.otherWidth * 1.5 + 1, JSON.stringify(box));
    assert.ok(box.freshHeight <= box.otherHeight * 1.6 + 1, JSON.stringify(box));
    if (await page.isVisible('#s-run-more summary')) {
      await page.click('#s-run-more summary');
      assert.equal(await page.isVisible('#s-run-error'), true);
    }
  });
}

await close();
await server.stop();
fs.rmSync(dir, { recursive: true, force: true });
finish();
