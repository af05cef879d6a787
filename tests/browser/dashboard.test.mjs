// The dashboard end to end in a real browser (Debian's Chromium driven by playwright-core): the
// page loads from the real binary, the charts show the data, the log toggle, a range preset, a
// drag-to-zoom and the keyboard change the view and the URL, a shared URL restores its view, the
// CSV download has the rows of the selection, the location picker adds states to the comparison
// chart (by mouse and keyboard) and the URL keeps them across a reload, the table of states
// sorts, the page fits a phone's width, and nothing is fetched from anywhere but the server. Screenshots go to $COVID_ETL_SCREENSHOTS (the build folder).
//
// Run: node tests/browser/dashboard.test.mjs (after `npm ci` in tests/browser); exit status 0 when
// every check passes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { check, cli, deadline, finish, launchChromium, loadDatabase, refuseForeign, startServer, tempDir, watchProblems } from './harness.mjs';

const SHOTS = process.env.COVID_ETL_SCREENSHOTS || path.resolve('..', '..', 'build', 'browser');
deadline(240);

const dir = tempDir('covid-etl-browser-');
const db = loadDatabase(dir, { states: true });
const server = await startServer(db);
const { context, close } = await launchChromium();
const origin = server.url;

const foreign = await refuseForeign(context, origin);
const page = await context.newPage();
const problems = await watchProblems(page);

const query = () => new URL(page.url()).searchParams;
const ready = () => page.waitForFunction(() => document.documentElement.dataset.chartReady === '1', null, { timeout: 20_000 });

// How many pixels of a canvas are close to a colour: a chart with its data drawn has many.
const inkOf = (selector, rgb) => page.evaluate(([sel, [r, g, b]]) => {
  const canvas = document.querySelector(sel);
  if (!canvas) return -1;
  // Read from a copy, not from the chart's own canvas (reading that back again and again makes
  // Chromium warn on the console).
  const copy = document.createElement('canvas');
  copy.width = canvas.width;
  copy.height = canvas.height;
  const ctx = copy.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(canvas, 0, 0);
  const px = ctx.getImageData(0, 0, copy.width, copy.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (Math.abs(px[i] - r) < 40 && Math.abs(px[i + 1] - g) < 40 && Math.abs(px[i + 2] - b) < 40 && px[i + 3] > 200) n++;
  }
  return n;
}, [selector, rgb]);
const CASES_BLUE = [31, 95, 168];
const canvasPicture = (sel) => page.evaluate((s) => document.querySelector(s).toDataURL(), sel);
const tableDates = () => page.$$eval('#days tbody th', (ths) => ths.map((t) => t.textContent));
const compared = () => page.getAttribute('#chart-compare', 'data-locations');
const chips = () => page.$$eval('#loc-chips li', (lis) => lis.map((li) => li.dataset.id));
const compareReady = () => page.waitForFunction(() => document.documentElement.dataset.compareReady === '1', null, { timeout: 20_000 });
const stateRows = () => page.$$eval('#states tbody tr', (trs) => trs.map((tr) => tr.dataset.id));
const COMPARE_RED = [163, 35, 26];  // the second location's colour

await check('the page loads and the first chart shows the data', async () => {
  const response = await page.goto(origin + '/');
  assert.equal(response.status(), 200);
  await ready();
  assert.equal(await page.title(), 'COVID-19 in the United States · covid-etl');
  assert.equal(await page.locator('#chart-total canvas').count(), 1);
  assert.equal(await page.locator('#chart-cases canvas').count(), 1);
  assert.equal(await page.locator('#chart-deaths canvas').count(), 1);
  const ink = await inkOf('#chart-total canvas', CASES_BLUE);
  assert.ok(ink > 300, `only ${ink} pixels of the cases line`);
  const paint = await page.evaluate(() => performance.getEntriesByName('first-chart-paint')[0]?.startTime);
  assert.ok(paint > 0, 'no first-chart-paint mark');
  console.log(`      first chart painted ${paint.toFixed(0)} ms after navigation (informative)`);
});

await check('the summary strip shows the latest values and the freshness', async () => {
  await page.waitForFunction(() => document.getElementById('s-date').textContent !== '–');
  assert.equal(await page.textContent('#s-date'), '2022-04-19');
  assert.equal(await page.textContent('#s-cases'), '80,645,527');
  assert.equal(await page.textContent('#s-deaths'), '987,999');
  assert.equal(await page.textContent('#s-recovered'), '6,298,082');
  assert.match(await page.textContent('#s-recovered-date'), /2020-12-13/);
  // The cards come with the series; the freshness with /api/v1/summary, after the first chart.
  await page.waitForFunction(() => document.getElementById('s-fresh').textContent !== '–');
  assert.equal(await page.textContent('#s-fresh'), 'up to date');
  assert.match(await page.textContent('#s-run'), /last success .* ago \(run 1, ok\)/);
});

await check('the table lists the last days of the selection, negative days marked', async () => {
  const dates = await tableDates();
  assert.equal(dates.length, 14);
  assert.equal(dates[0], '2022-04-19');
  assert.match(await page.textContent('#revision-note'), /2 such days/);
  assert.match(await page.textContent('#csv'), /820 days/);
});

await check('the values under the cursor are shown for every series', async () => {
  const box = await page.locator('#chart-total .u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  const values = await page.$$eval('#chart-total .u-legend .u-value', (els) => els.map((e) => e.textContent));
  assert.equal(values.length, 4);  // date, cases, deaths, recovered
  assert.match(values[0], /^\d{4}-\d{2}-\d{2}$/);
  assert.match(values[1], /^\d{1,3}(,\d{3})+$/);
  assert.match(values[2], /^\d{1,3}(,\d{3})+$/);
  // The daily charts follow the same cursor.
  const daily = await page.$$eval('#chart-cases .u-legend .u-value', (els) => els.map((e) => e.textContent));
  assert.equal(daily[0], values[0]);
  await page.mouse.move(0, 0);
});

await check('the log toggle changes the charts and the URL', async () => {
  const before = await canvasPicture('#chart-total canvas');
  await page.click('#scale');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('scale') === 'log');
  assert.equal(await page.getAttribute('#scale', 'aria-pressed'), 'true');
  await page.waitForTimeout(100);
  assert.notEqual(await canvasPicture('#chart-total canvas'), before);
  assert.ok(await inkOf('#chart-total canvas', CASES_BLUE) > 300);
  await page.click('#scale');
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('scale'));
});

await check('a range preset changes the view, the table, the CSV link and the URL', async () => {
  const before = await canvasPicture('#chart-cases canvas');
  await page.click('#r-30d');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('range') === '30d');
  assert.equal(await page.getAttribute('#r-30d', 'aria-pressed'), 'true');
  assert.equal(await page.getAttribute('#r-all', 'aria-pressed'), 'false');
  assert.equal(await page.inputValue('#from'), '2022-03-21');
  assert.equal(await page.inputValue('#to'), '2022-04-19');
  assert.match(await page.textContent('#csv'), /30 days/);
  assert.equal((await tableDates())[13], '2022-04-06');
  await page.waitForTimeout(100);
  assert.notEqual(await canvasPicture('#chart-cases canvas'), before);
});

await check('the CSV download has the rows of the selection, as `covid-etl export` prints them', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const file = await download.path();
  const text = fs.readFileSync(file, 'utf8');
  assert.equal(text, cli('export', '--db', db, '--from', '2022-03-21', '--to', '2022-04-19'));
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 31);
  assert.equal(lines[0], 'date,cases,deaths,recovered');
  assert.equal(lines[1].slice(0, 10), '2022-03-21');
  assert.equal(lines[30], '2022-04-19,80645527,987999,');
});

await check('the from/to picker selects a range', async () => {
  await page.fill('#from', '2021-03-01');
  await page.fill('#to', '2021-03-31');
  await page.dispatchEvent('#to', 'change');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('from') === '2021-03-01' &&
    new URL(location.href).searchParams.get('to') === '2021-03-31');
  assert.equal((await tableDates())[0], '2021-03-31');
  assert.match(await page.textContent('#csv'), /31 days/);
});

await check('dragging across a chart zooms every chart and goes into the URL', async () => {
  await page.click('#r-all');
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('range') && !new URL(location.href).searchParams.has('from'));
  await page.locator('#chart-deaths').scrollIntoViewIfNeeded();
  const box = await page.locator('#chart-deaths .u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction(() => new URL(location.href).searchParams.has('from'));
  const from = query().get('from');
  const to = query().get('to');
  assert.ok(from > '2020-06-01' && from < to && to < '2021-09-01', `${from} .. ${to}`);
  assert.equal(await page.inputValue('#from'), from);
  assert.equal((await tableDates())[0], to);
  // The other charts show the same dates: their x axes carry the same labels.
  const labels = await page.$$eval('.chart', (charts) => charts.map((c) =>
    [...c.querySelectorAll('.u-axis')][0].textContent));
  assert.equal(labels[0], labels[2]);
  assert.equal(labels[1], labels[2]);
});

await check('the keyboard operates the controls', async () => {
  await page.focus('#r-90d');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('range') === '90d');
  await page.keyboard.press('Tab');  // to "Last 30 days"
  await page.keyboard.press('Space');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('range') === '30d');
  await page.focus('#show-deaths');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('hide') === 'deaths');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('hide'));
});

// The states as the API gives them (fetched here, not by the page), to check the table's order.
const statesApi = await (await fetch(origin + '/api/v1/states')).json();
const sortedIds = (key, dir) => [...statesApi.states].sort((a, b) => {
  const va = key === 'name' ? a.name : key === 'avg' ? a.new_cases_avg7 : a.change_14d_pct;
  const vb = key === 'name' ? b.name : key === 'avg' ? b.new_cases_avg7 : b.change_14d_pct;
  if (va === null || vb === null) return va === vb ? a.name.localeCompare(b.name) : va === null ? 1 : -1;
  if (key === 'name') return dir * va.localeCompare(vb);
  return dir * (va - vb) || a.name.localeCompare(b.name);
}).map((r) => r.id);

await check('the location picker finds a state and adds it: two locations on one chart, in the URL', async () => {
  await page.goto(origin + '/');
  await ready();
  await compareReady();
  assert.equal(await compared(), 'US');
  assert.deepEqual(await chips(), ['US']);
  assert.equal(query().get('loc'), null);  // the default selection is not written
  await page.click('#loc-search');
  await page.keyboard.type('calif');
  await page.waitForSelector('#loc-options li[role="option"]');
  assert.equal(await page.getAttribute('#loc-search', 'aria-expanded'), 'true');
  const options = await page.$$eval('#loc-options li[role="option"]', (lis) => lis.map((li) => li.dataset.id));
  assert.equal(options[0], '06');
  await page.click('#loc-options li[data-id="06"]');
  await page.waitForFunction(() => document.getElementById('chart-compare').dataset.locations === 'US,06');
  assert.deepEqual(await chips(), ['US', '06']);
  assert.equal(query().get('loc'), 'US,06');
  assert.equal(await page.getAttribute('#loc-search', 'aria-expanded'), 'false');
  assert.match(await page.textContent('#loc-chips li[data-id="06"]'), /California.*7-day avg/);
  await page.waitForTimeout(100);
  // Both locations are drawn: the second one's colour is on the canvas.
  const red = await inkOf('#chart-compare canvas', COMPARE_RED);
  assert.ok(red > 200, `only ${red} pixels of California's line`);
  assert.ok(await inkOf('#chart-compare canvas', CASES_BLUE) > 200);
  const legend = await page.$$eval('#chart-compare .u-legend .u-series th', (ths) => ths.map((t) => t.textContent.trim()));
  assert.ok(legend.some((l) => l.includes('United States')) && legend.some((l) => l.includes('California')), legend.join(' | '));
});

await check('a reload restores the locations compared', async () => {
  await page.reload();
  await ready();
  await compareReady();
  assert.equal(await compared(), 'US,06');
  assert.deepEqual(await chips(), ['US', '06']);
  assert.equal(query().get('loc'), 'US,06');
  assert.ok(await inkOf('#chart-compare canvas', COMPARE_RED) > 200);
});

await check('the picker works with the keyboard: arrows choose, Enter adds, a chip button removes', async () => {
  await page.focus('#loc-search');
  await page.keyboard.type('new');
  await page.waitForSelector('#loc-options li[role="option"]');
  const options = await page.$$eval('#loc-options li[role="option"]', (lis) => lis.map((li) => li.dataset.id));
  await page.keyboard.press('ArrowDown');  // the second match
  assert.equal(await page.getAttribute('#loc-search', 'aria-activedescendant'), 'loc-option-1');
  await page.keyboard.press('Enter');
  const want = `US,06,${options[1]}`;
  await page.waitForFunction((w) => document.getElementById('chart-compare').dataset.locations === w, want);
  assert.equal(query().get('loc'), want);
  // Escape closes the list.
  await page.keyboard.type('texas');
  await page.waitForSelector('#loc-options li[role="option"]');
  await page.keyboard.press('Escape');
  assert.equal(await page.getAttribute('#loc-search', 'aria-expanded'), 'false');
  await page.fill('#loc-search', '');
  // Remove California with its chip's button, from the keyboard.
  await page.focus('#loc-chips li[data-id="06"] button.remove');
  await page.keyboard.press('Enter');
  await page.waitForFunction((w) => document.getElementById('chart-compare').dataset.locations === w, `US,${options[1]}`);
  assert.equal(query().get('loc'), `US,${options[1]}`);
  assert.equal(await page.evaluate(() => document.activeElement.className), 'remove');  // the focus stays near
});

await check('the table of states sorts by 7-day average and by change over 14 days', async () => {
  await page.waitForFunction(() => document.querySelectorAll('#states tbody tr').length > 0);
  assert.equal((await stateRows()).length, statesApi.count);
  assert.ok(statesApi.count >= 50, `${statesApi.count} states`);
  // By the latest 7-day average, largest first, at the start.
  assert.deepEqual(await stateRows(), sortedIds('avg', -1));
  assert.equal(await page.getAttribute('#states th:nth-child(3)', 'aria-sort'), 'descending');
  await page.click('#states button[data-sort="change"]');
  assert.deepEqual(await stateRows(), sortedIds('change', -1));
  assert.equal(await page.getAttribute('#states th:nth-child(5)', 'aria-sort'), 'descending');
  assert.equal(await page.getAttribute('#states th:nth-child(3)', 'aria-sort'), 'none');
  await page.click('#states button[data-sort="change"]');
  assert.deepEqual(await stateRows(), sortedIds('change', 1));
  assert.equal(await page.getAttribute('#states th:nth-child(5)', 'aria-sort'), 'ascending');
  await page.focus('#states button[data-sort="name"]');
  await page.keyboard.press('Enter');
  assert.deepEqual(await stateRows(), sortedIds('name', 1));
  await page.click('#states button[data-sort="avg"]');
  assert.deepEqual(await stateRows(), sortedIds('avg', -1));
  // The shown figures are the API's.
  const first = statesApi.states.find((r) => r.id === sortedIds('avg', -1)[0]);
  const cells = await page.$$eval('#states tbody tr:first-child td', (tds) => tds.map((t) => t.textContent));
  assert.equal(cells[0], first.date);
  assert.equal(cells[1], new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 }).format(first.new_cases_avg7));
});

await check('a state\'s + in the table puts it on the chart, up to 6 locations', async () => {
  const ids = sortedIds('avg', -1).filter((id) => !(query().get('loc') || '').split(',').includes(id));
  let count = (await chips()).length;
  for (const id of ids) {
    if (count === 6) break;
    await page.click(`#states tbody tr[data-id="${id}"] th button.add`);
    count++;
    await page.waitForFunction((n) => document.getElementById('chart-compare').dataset.locations.split(',').length === n, count);
  }
  assert.equal((await chips()).length, 6);
  assert.equal(query().get('loc').split(',').length, 6);
  const before = await compared();
  await page.click(`#states tbody tr[data-id="${ids[ids.length - 1]}"] th button.add`);  // a seventh
  assert.match(await page.textContent('#loc-status'), /At most 6/);
  assert.equal(await compared(), before);
  assert.match(await page.textContent('#loc-note'), /6 locations on the chart/);
});

await check('a URL with an unknown location leaves it out and says so', async () => {
  await page.goto(origin + '/?loc=US,99,36');
  await ready();
  await compareReady();
  assert.equal(await compared(), 'US,36');
  assert.match(await page.textContent('#loc-status'), /99/);
  assert.equal(query().get('loc'), 'US,36');
});

fs.mkdirSync(SHOTS, { recursive: true });
await check('a shared URL restores its view (range, scale, hidden series)', async () => {
  await page.goto(origin + '/?from=2020-11-01&to=2021-02-28&scale=log&hide=recovered');
  await ready();
  assert.equal(await page.inputValue('#from'), '2020-11-01');
  assert.equal(await page.inputValue('#to'), '2021-02-28');
  assert.equal(await page.getAttribute('#scale', 'aria-pressed'), 'true');
  assert.equal(await page.isChecked('#show-recovered'), false);
  assert.equal(await page.isChecked('#show-cases'), true);
  assert.equal((await tableDates())[0], '2021-02-28');
  assert.equal(query().get('hide'), 'recovered');
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-shared-view.png'), fullPage: true });
});

await check('the page fits a phone screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(origin + '/?range=90d&loc=US,06,36,48');
  await ready();
  await compareReady();
  await page.waitForTimeout(200);
  const widths = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth,
    canvas: document.querySelector('#chart-total canvas').getBoundingClientRect().width,
    compare: document.querySelector('#chart-compare canvas').getBoundingClientRect().width,
  }));
  assert.ok(widths.compare <= 390 && widths.compare > 250, `the comparison chart is ${widths.compare} px wide`);
  assert.ok(widths.doc <= 390, `the page is ${widths.doc} px wide`);
  assert.ok(widths.canvas <= 390 && widths.canvas > 250, `the chart is ${widths.canvas} px wide`);
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
});

await check('screenshot of the default view', async () => {
  await page.goto(origin + '/');
  await ready();
  await page.waitForFunction(() => document.getElementById('s-date').textContent !== '–');
  const file = path.join(SHOTS, 'dashboard.png');
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 20_000);
  console.log(`      screenshots in ${SHOTS}`);
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
