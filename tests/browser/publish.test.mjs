// The published dashboard (covid-etl publish, issue 19) in a real browser: every level loaded
// from the shared data (harness.mjs loadEverything), published to a folder with the real binary,
// the folder served by a plain static server (python3 -m http.server on 127.0.0.1: no covid-etl
// behind it), and the same database served by `covid-etl serve`. The published page must show
// what serve's page shows: the nation's and a state's and a county's cards, recent days, rankings
// and notes, the search's matches, the map; its CSV download has serve's export rows; it asks for
// nothing but its own origin and logs no console error. Screenshots go to $COVID_ETL_SCREENSHOTS.
//
// Run: node tests/browser/publish.test.mjs (after `npm ci` in tests/browser); exit status 0 when
// every check passes.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cli, launchChromium, loadEverything, startServer, tempDir } from './harness.mjs';

const SHOTS = process.env.COVID_ETL_SCREENSHOTS || path.resolve('..', '..', 'build', 'browser');
const deadline = setTimeout(() => { console.error('FAIL: timed out after 240 s'); process.exit(1); }, 240_000);

const checks = [];
async function check(name, fn) {
  const t = Date.now();
  try {
    await fn();
    checks.push([name, 'ok']);
    console.log(`ok    ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    checks.push([name, 'FAIL']);
    console.log(`FAIL  ${name}\n      ${String(e.stack || e).split('\n').slice(0, 6).join('\n      ')}`);
  }
}

// A plain static server over `dir` on a free port of 127.0.0.1; resolves to { url, stop() }.
function staticServer(dir) {
  const proc = spawn('/usr/bin/python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1', '--directory', dir, '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('http.server did not start: ' + out)); }, 20_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({ url: `http://127.0.0.1:${m[1]}`, stop: () => proc.kill('SIGTERM') });
    });
    proc.stderr.on('data', () => {});  // one line per request
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`http.server exited ${code}: ${out}`)); });
  });
}

// With COVID_ETL_PUBLISH_TARGET=s3 (CTest's browser.publish_s3) the site goes to s3rver instead
// (tests/integration/s3server.py: a real S3-compatible server that checks the SigV4 signatures)
// and the page is read from the bucket's plain HTTP endpoint, as a CDN reads it.
const S3 = process.env.COVID_ETL_PUBLISH_TARGET === 's3';
function s3server(dir) {
  const script = path.resolve('..', 'integration', 's3server.py');
  const run = (...args) => {
    const p = spawnSync('/usr/bin/python3', [script, ...args], { encoding: 'utf8', timeout: 300_000 });
    if (p.status !== 0) throw new Error(`s3server.py ${args[0]}: ${p.status}: ${p.stderr}`);
  };
  process.env.AWS_ACCESS_KEY_ID ||= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ||= 'S3RVER';
  run('start', path.join(dir, 's3'), 'site');
  const endpoint = fs.readFileSync(path.join(dir, 's3', 'url'), 'utf8').trim();
  return { dest: `s3://site/dash?endpoint=${endpoint}`, url: `${endpoint}site/dash`, stop: () => run('stop', path.join(dir, 's3')) };
}

const dir = tempDir('covid-etl-publish-');
const db = loadEverything(dir);
const site = path.join(dir, 'site');
const bucket = S3 ? s3server(dir) : null;
const report = JSON.parse(cli('publish', '--json', '--db', db, '--to', S3 ? bucket.dest : site));
const server = await startServer(db);
const statik = S3 ? bucket : await staticServer(site);
const { context, close } = await launchChromium();
const live = server.url;
const published = statik.url;
const api = async (p) => (await fetch(live + p)).json();

const foreign = [];
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (url.startsWith(live + '/') || url.startsWith(published + '/') || url.startsWith('data:')) return route.continue();
  foreign.push(url);
  return route.abort();
});
const problems = [];
const livePage = await context.newPage();
const page = await context.newPage();
for (const [p, name] of [[page, 'published'], [livePage, 'serve']]) {
  p.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${name}: console ${m.type()}: ${m.text()}`); });
  p.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
}

// What a viewer reads of a view, once it is whole (the charts, cards, notes, rankings and the
// freshness card filled).
async function figures(p, origin, query, id) {
  await p.goto(origin + '/' + query);
  await p.waitForFunction((want) => document.documentElement.dataset.viewReady === want, id, { timeout: 30_000 });
  await p.waitForFunction(() => document.getElementById('s-fresh').textContent !== '–', null, { timeout: 20_000 });
  return p.evaluate(() => {
    const text = (sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent.trim());
    return {
      title: document.getElementById('title').textContent,
      // The freshness card's "N min ago" is the time of each load: two loads can be a minute apart.
      cards: text('#summary .big, #summary .small').map((t) => t.replace(/\b\d+ (min|h|days) ago\b/, 'N ago')),
      days: text('#days tbody tr'),
      notes: text('#notes li'),
      rankings: text('#states tbody tr'),
      rankNote: document.getElementById('states-note').textContent,
      status: document.getElementById('status').hidden ? '' : document.getElementById('status').textContent,
    };
  });
}

await check('publish wrote the site: the page, its files, the data index and the data', async () => {
  assert.equal(report.written, report.objects);
  assert.equal(report.deleted, 0);
  for (const f of ['index.html', 'app.js', 'map.js', 'data/index.json', 'publish-manifest.json']) {
    if (S3) assert.equal((await fetch(`${statik.url}/${f}`)).status, 200, f);
    else assert.ok(fs.existsSync(path.join(site, f)), f);
  }
  const index = S3 ? await (await fetch(`${statik.url}/data/index.json`)).json()
    : JSON.parse(fs.readFileSync(path.join(site, 'data', 'index.json'), 'utf8'));
  assert.ok(index.objects['series?location=US'].every((k) => k.startsWith('data/')));  // history, recent rows
  assert.ok(index.objects['map?level=county&metric=cases&per_100k=true']);
});

const county = (await api('/api/v1/locations?type=county&limit=1')).locations[0].id;
for (const [query, id] of [['', 'US'], ['?loc=06', '06'], [`?loc=${county}&rank=county`, county]]) {
  await check(`the published page shows what serve shows: ${id}`, async () => {
    const want = await figures(livePage, live, query, id);
    const got = await figures(page, published, query, id);
    assert.equal(want.status, '');
    assert.ok(want.days.length > 0 && want.rankings.length > 0, JSON.stringify(want));
    assert.deepEqual(got, want);
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `publish-${id}.png`), fullPage: false });
  });
}

await check("a location's series joined from its two objects is serve's response", async () => {
  // The page's own loader (app.js dataFetch: a series is its history and its level's recent rows).
  const country = (await api('/api/v1/locations?type=country&limit=1')).locations[0].id;
  for (const id of ['US', '06', county, country]) {
    const url = 'api/v1/series?location=' + encodeURIComponent(id);
    const want = await (await fetch(`${live}/${url}`)).text();
    const got = await page.evaluate(async (u) => JSON.stringify(await (await window.covidData.fetch(u)).json()), url);
    assert.equal(got, JSON.stringify(JSON.parse(want)), id);
    assert.ok(JSON.parse(got).count > 100, id);
  }
});

await check('the published footer links to no API', async () => {
  assert.match(await page.textContent('footer'), /Published by covid-etl publish/);
  assert.equal(await page.locator('footer a[href^="api/"]').count(), 0);
  assert.match(await livePage.textContent('footer'), /Served by covid-etl serve/);
});

await check('the search finds the same locations', async () => {
  const matches = async (p, origin, text) => {
    await p.goto(origin + '/');
    await p.waitForFunction(() => document.documentElement.dataset.viewReady === 'US', null, { timeout: 30_000 });
    await p.fill('#place-search', text);
    await p.waitForFunction(() => !document.getElementById('place-options').hidden, null, { timeout: 10_000 });
    return p.$$eval('#place-options li', (lis) => lis.map((li) => li.textContent));
  };
  for (const text of ['cal', 'new', '06']) {
    const want = await matches(livePage, live, text);
    assert.ok(want.length > 0, text);
    assert.deepEqual(await matches(page, published, text), want, text);
  }
});

await check('the CSV download has the rows serve exports', async () => {
  await page.goto(published + '/?loc=06&range=30d');
  await page.waitForFunction(() => document.documentElement.dataset.viewReady === '06', null, { timeout: 30_000 });
  const href = await page.getAttribute('#csv', 'href');
  assert.ok(href.startsWith('data:text/csv'), href.slice(0, 40));
  const csv = decodeURIComponent(href.slice(href.indexOf(',') + 1));
  const lines = csv.trim().split('\n');
  const from = lines[1].slice(0, 10);
  const to = lines[lines.length - 1].slice(0, 10);
  const want = await (await fetch(`${live}/api/v1/export.csv?location=06&from=${from}&to=${to}`)).text();
  assert.equal(csv, want);
  assert.equal(lines.length, 31);
});

await check('the map draws from the published data', async () => {
  for (const [p, origin] of [[livePage, live], [page, published]]) {
    await p.goto(origin + '/?map=county');
    await p.waitForFunction(() => document.getElementById('map-section')?.dataset.mapReady === '1', null, { timeout: 30_000 });
  }
  const date = (p) => p.getAttribute('#map-canvas', 'data-date');
  assert.ok(await date(page));
  assert.equal(await date(page), await date(livePage));
  await page.locator('#map-section').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'publish-map.png') });
});

await check('nothing asked of another origin, no console error', async () => {
  assert.deepEqual(foreign, []);
  assert.deepEqual(problems, []);
});

await close();
statik.stop();
await server.stop();
fs.rmSync(dir, { recursive: true, force: true });
clearTimeout(deadline);
const failed = checks.filter(([, r]) => r !== 'ok').length;
console.log(`${checks.length - failed} of ${checks.length} checks passed`);
process.exit(failed ? 1 : 0);
