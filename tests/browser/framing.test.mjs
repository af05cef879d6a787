// Embedding in a real frame (issue 18 §5): a parent page on another loopback origin (a tiny static
// server of this test, another port of 127.0.0.1) frames `?embed=1&view=map`. With that origin in
// `[serve] frame_ancestors` the frame loads the map and its canvas paints; without it (the
// default: `frame-ancestors 'none'`, `X-Frame-Options: DENY`) Chromium blocks the frame, whose
// document is then not the dashboard. Debian's Chromium, the real binary, nothing mocked.
//
// Run: node tests/browser/framing.test.mjs (after `npm ci` in tests/browser); exit status 0 when
// every check passes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { check, deadline, drawnPixels, finish, launchChromium, loadDatabase, startServer, tempDir } from './harness.mjs';

deadline(180);

// The parent: one page with one iframe of `src`, served from 127.0.0.1 on a port of its own.
function startParent() {
  let src = 'about:blank';
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>parent</title><iframe id="embed" src="${src}" width="900" height="620"></iframe>`);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        origin: `http://127.0.0.1:${server.address().port}`,
        frame: (url) => { src = url; },
        stop: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

const dir = tempDir('covid-etl-framing-');
const db = loadDatabase(dir, { states: true });
const parent = await startParent();
const conf = path.join(dir, 'covid-etl.toml');
fs.writeFileSync(conf, `[serve]\nframe_ancestors = ["${parent.origin}"]\n`);
const allowing = await startServer(db, ['--config', conf]);
const denying = await startServer(db);
const { context, close } = await launchChromium({ viewport: { width: 1000, height: 700 } });
const page = await context.newPage();

// The parent framing `server`'s map; returns the frame (null if Chromium has none for it).
async function frameOf(server) {
  parent.frame(server.url + '/?embed=1&view=map');
  await page.goto(parent.origin + '/', { waitUntil: 'load' });
  const handle = await page.$('#embed');
  return handle.contentFrame();
}

await check('the parent is another origin than the servers', async () => {
  assert.notEqual(parent.origin, allowing.url);
  assert.notEqual(parent.origin, denying.url);
});

await check('listed in frame_ancestors: the frame loads the map and it paints', async () => {
  const res = await fetch(allowing.url + '/?embed=1&view=map');
  assert.match(res.headers.get('content-security-policy'), new RegExp(`frame-ancestors 'self' ${parent.origin}`));
  assert.equal(res.headers.get('x-frame-options'), null);
  const frame = await frameOf(allowing);
  assert.ok(frame, 'no frame');
  assert.ok(frame.url().startsWith(allowing.url + '/'), frame.url());
  await frame.waitForFunction(() => document.getElementById('map-section')?.dataset.mapReady === '1', null, { timeout: 30_000 });
  assert.equal(await frame.isVisible('#map-canvas'), true);
  const drawn = await drawnPixels(frame, '#map-canvas');
  assert.ok(drawn > 10_000, `${drawn} pixels drawn`);
  await page.screenshot({ path: path.join(process.env.COVID_ETL_SCREENSHOTS || dir, 'map-framed.png') });
});

await check('not listed (the default): Chromium blocks the frame, its document is not the dashboard', async () => {
  const res = await fetch(denying.url + '/?embed=1&view=map');
  assert.match(res.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  const frame = await frameOf(denying);
  // Blocked: Chromium puts its error page in the frame (chrome-error://chromewebdata/).
  assert.ok(frame, 'no frame');
  assert.ok(!frame.url().startsWith(denying.url), frame.url());
  const dashboard = await frame.evaluate(() => document.getElementById('map-section') !== null).catch(() => false);
  assert.equal(dashboard, false);
  console.log(`      the blocked frame shows ${frame.url()}`);
});

await close();
await parent.stop();
const stopped = [await allowing.stop(), await denying.stop()];
await check('the servers stop cleanly on SIGTERM', async () => assert.deepEqual(stopped, [0, 0]));
fs.rmSync(dir, { recursive: true, force: true });
finish();
