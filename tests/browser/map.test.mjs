// The maps (web/src/map.js) end to end in Debian's Chromium: the state, county and world maps
// paint from /api/v1/map; a click on a county chooses it (onSelect: it becomes the page's
// location); the date slider changes the map's date and the values shown are the API's for that
// date; hover and keyboard focus show a location's name and value; the data table lists the API's
// values; the PNG download is a PNG; ?embed=1&view=map shows the map alone; nothing is fetched from
// elsewhere, no console error, no CSP violation. Screenshots go to $COVID_ETL_SCREENSHOTS.
//
// Data: the real national, state, WHO and population files and a generated county set (gen-nyt-like
// --counties 400 --days 90: its FIPS codes are mostly real counties').
//
// Run: node tests/browser/map.test.mjs (after `npm ci` in tests/browser).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, cli, deadline, drawnPixels, finish, JHU, launchChromium, NYT, refuseForeign, SHARED, startServer, STATES, tempDir, watchProblems } from './harness.mjs';

const SHOTS = process.env.COVID_ETL_SCREENSHOTS || path.resolve('..', '..', 'build', 'browser');
deadline(240);

const dir = tempDir('covid-etl-map-');
const gen = path.join(dir, 'gen');
const g = spawnSync('/usr/bin/python3', [path.join(SHARED, '..', 'tools', 'gen-nyt-like'), gen, '--counties', '400', '--days', '90'], { encoding: 'utf8' });
if (g.status !== 0) throw new Error('gen-nyt-like: ' + g.stderr);
const conf = path.join(dir, 'covid-etl.toml');
fs.writeFileSync(conf, `[sources]\nwho = "${path.join(SHARED, 'who', 'WHO-COVID-19-global-data-2026-04-26.csv')}"\n` +
  `population = "${path.join(SHARED, 'jhu', 'UID_ISO_FIPS_LookUp_Table.csv')}"\n`);
const db = path.join(dir, 'covid.db');
cli('run', '--config', conf, '--db', db, '--nyt', NYT, '--jhu', JHU, '--states', STATES, '--counties', path.join(gen, 'us-counties.csv'));
const server = await startServer(db);
const { context, close } = await launchChromium();
const origin = server.url;
const api = async (p) => (await fetch(origin + p)).json();

const foreign = await refuseForeign(context, origin);
const page = await context.newPage();
const problems = await watchProblems(page);

const mapReady = () => page.waitForFunction(() => document.getElementById('map-section')?.dataset.mapReady === '1', null, { timeout: 30_000 });
const mapDate = () => page.getAttribute('#map-canvas', 'data-date');
const ink = () => drawnPixels(page, '#map-canvas');
// A point inside a location's shape, in the viewport (the map scrolled into view first).
const pointOf = async (id) => {
  await page.locator('#map-canvas').scrollIntoViewIfNeeded();
  return page.evaluate((i) => document.getElementById('map-section').mapHandle.pointOf(i), id);
};
const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

await check('the states map paints the latest date from the API', async () => {
  await page.goto(origin + '/');
  await mapReady();
  const latest = await api('/api/v1/map?level=state&metric=cases&per_100k=true');
  assert.equal(await mapDate(), latest.last_date);
  assert.ok(await ink() > 100_000, 'the map is nearly empty');
  assert.equal(await page.getAttribute('#map-section button[data-level="state"]', 'aria-pressed'), 'true');
  assert.ok(await page.evaluate(() => performance.getEntriesByName('map-paint').length === 1));
  assert.match(await page.textContent('#map-legend'), /per 100,000/);
});

await check('hovering a state shows its name and the API\'s value', async () => {
  const latest = await api('/api/v1/map?level=state');
  const i = latest.ids.indexOf('48');
  const p = await pointOf('48');
  assert.ok(p, 'Texas is not on the map');
  await page.mouse.move(p.x, p.y);
  await page.waitForSelector('#map-tip:not([hidden])');
  const text = await page.textContent('#map-tip');
  assert.ok(text.startsWith('Texas: '), text);
  assert.ok(text.includes(fmt.format(latest.values[0][i])), `${text} lacks ${latest.values[0][i]}`);
  assert.equal(await page.getAttribute('#map-tip', 'data-id'), '48');
});

let county;
await check('a click on a county chooses it: it becomes the page\'s location', async () => {
  await page.click('#map-section button[data-level="county"]');
  await mapReady();
  assert.equal(new URL(page.url()).searchParams.get('map'), 'county');
  const latest = await api('/api/v1/map?level=county');
  county = latest.ids.find((id) => /^\d{5}$/.test(id) && id.startsWith('06'));
  const p = await pointOf(county);
  assert.ok(p, `${county} is not on the map`);
  await page.mouse.click(p.x, p.y);
  await page.waitForFunction((id) => document.getElementById('map-section').dataset.selected === id, county);
  await page.waitForFunction((id) => document.documentElement.dataset.viewReady === id, county, { timeout: 20_000 });
  assert.equal(new URL(page.url()).searchParams.get('loc').split(',')[0], county);
  assert.equal(new URL(page.url()).searchParams.get('map'), 'county');
  // New York City is drawn as its five boroughs, Kansas City and each Unknown are listed.
  const bronx = await pointOf('36:New York City');
  assert.ok(bronx, 'New York City has no shape');
  assert.match(await page.textContent('#map-unmatched'), /Kansas City/);
  assert.match(await page.textContent('#map-unmatched'), /Unknown/);
});

await check('the slider changes the map\'s date; the values shown are the API\'s for that date', async () => {
  const before = await mapDate();
  const picture = await page.evaluate(() => document.getElementById('map-canvas').toDataURL());
  const month = await api('/api/v1/map?level=county&from=2020-03-01&to=2020-03-31');
  const target = month.dates[month.dates.length - 6];
  const first = (await api('/api/v1/map?level=county')).first_date;
  const days = Math.round((Date.parse(target) - Date.parse(first)) / 86400000);
  await page.$eval('#map-date', (el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', { bubbles: true })); }, days);
  await page.waitForFunction((d) => document.getElementById('map-canvas').dataset.date === d, target);
  assert.notEqual(target, before);
  assert.notEqual(await page.evaluate(() => document.getElementById('map-canvas').toDataURL()), picture);
  await page.waitForFunction((d) => new URL(location.href).searchParams.get('map_date') === d, target);
  // The tooltip of the county at that date shows the API's value.
  const k = month.dates.indexOf(target);
  const v = month.values[k][month.ids.indexOf(county)];
  const p = await pointOf(county);
  await page.mouse.move(p.x, p.y);
  await page.waitForFunction((d) => document.getElementById('map-tip').textContent.endsWith(d), target);
  const text = await page.textContent('#map-tip');
  assert.ok(v === null ? text.includes('no ') : text.includes(fmt.format(v)), `${text} (API: ${v})`);
  await page.mouse.move(0, 0);
});

await check('play animates the map through the dates, pause stops it', async () => {
  const from = await mapDate();
  await page.click('#map-play');
  await page.waitForFunction((d) => document.getElementById('map-canvas').dataset.date > d, from);
  await page.click('#map-play');
  assert.equal(await page.getAttribute('#map-play', 'aria-pressed'), 'false');
  const stopped = await mapDate();
  await page.waitForTimeout(400);
  assert.equal(await mapDate(), stopped);
});

await check('the keyboard: arrows move a focus over the shapes with their values, Enter chooses', async () => {
  await page.focus('#map-canvas');
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#map-tip:not([hidden])');
  const id = await page.getAttribute('#map-tip', 'data-id');
  assert.ok(id, 'no location focused');
  await page.keyboard.press('ArrowRight');
  const next = await page.getAttribute('#map-tip', 'data-id');
  assert.notEqual(next, id);
  await page.keyboard.press('Enter');
  await page.waitForFunction((i) => document.getElementById('map-section').dataset.selected === i, next);
});

await check('the data table lists every location with the API\'s values', async () => {
  await page.click('#map-table-toggle');
  const d = await mapDate();
  const m = await api(`/api/v1/map?level=county&from=${d}&to=${d}`);
  const rows = await page.$$eval('#map-data tbody tr', (trs) => trs.map((tr) => [tr.dataset.id, tr.querySelector('td').textContent]));
  assert.equal(rows.length, m.ids.length);
  for (const [id, text] of rows.slice(0, 50)) {
    const v = m.values[0][m.ids.indexOf(id)];
    assert.equal(text, v === null ? '–' : fmt.format(v), id);
  }
  await page.click('#map-table-toggle');
});

await check('the counties of one state, and the deaths in absolute numbers', async () => {
  await page.selectOption('#map-state', '06');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('map_state') === '06');
  assert.ok(await pointOf(county));
  assert.equal(await pointOf('48201'), null);  // Harris County, Texas: not drawn
  await page.selectOption('#map-metric', 'deaths');
  await page.uncheck('#map-per100k');
  await mapReady();
  assert.match(await page.textContent('#map-legend'), /new deaths per day/);
  assert.equal(new URL(page.url()).searchParams.get('map_rate'), 'absolute');
});

await check('the world map: countries by their ISO codes', async () => {
  await page.click('#map-section button[data-level="country"]');
  await mapReady();
  const latest = await api('/api/v1/map?level=country&metric=deaths&per_100k=false');
  assert.equal(await mapDate(), latest.last_date);
  const p = await pointOf('FRA');
  assert.ok(p, 'France is not on the map');
  await page.mouse.move(p.x, p.y);
  await page.waitForSelector('#map-tip:not([hidden])');
  assert.match(await page.textContent('#map-tip'), /^France: /);
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.locator('#map-section').screenshot({ path: path.join(SHOTS, 'map-world.png') });
});

await check('the PNG download is a picture of the map', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#map-png')]);
  assert.match(download.suggestedFilename(), /^covid-map-country-deaths-\d{4}-\d{2}-\d{2}\.png$/);
  const bytes = fs.readFileSync(await download.path());
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(bytes.length > 20_000);
});

await check('a country\'s view opens on the world map, a state\'s on the states map', async () => {
  for (const [loc, level] of [['FRA', 'country'], ['06', 'state']]) {
    await page.goto(origin + '/?loc=' + loc);
    await mapReady();
    assert.equal(await page.getAttribute(`#map-section button[data-level="${level}"]`, 'aria-pressed'), 'true', loc);
  }
});

await check('?embed=1&view=map shows the map alone', async () => {
  await page.goto(origin + '/?embed=1&view=map&map=county');
  await mapReady();
  assert.equal(await page.isVisible('#map-canvas'), true);
  assert.equal(await page.isVisible('header.top'), false);
  assert.equal(await page.isVisible('#chart-total'), false);
  assert.equal(await page.isVisible('footer'), false);
  const res = await fetch(origin + '/?embed=1&view=map');
  assert.equal(res.headers.get('x-frame-options'), 'DENY');  // no frame_ancestors configured
  await page.screenshot({ path: path.join(SHOTS, 'map-embed.png') });
});

await check('no request left the server, no console error, no CSP violation', async () => {
  assert.deepEqual(foreign, []);
  assert.deepEqual(problems, []);
});

await close();
const status = await server.stop();
await check('the server stops cleanly on SIGTERM', async () => assert.equal(status, 0, server.stderr()));
fs.rmSync(dir, { recursive: true, force: true });
finish();
