// The README's screenshots (docs/screenshots/), made again with the page as it is: not a test.
// Serves `DB` (a database made with `covid-etl run`: give it every level and the populations)
// with the real binary and saves, in Debian's Chromium, at 1400 x 1000: the default view (the
// nation), a county (the first county of `COUNTY`'s state with the most cases, or `COUNTY`), dark
// mode; at 390 x 844 (a phone): the default view; and the county map (the counties of the nation
// on their last date, per 100,000 people). Each waits for its data (cards, charts, freshness,
// map) before the picture is taken.
//
// Usage: node tests/browser/screenshots.mjs DB OUT_DIR [COUNTY]   (after `npm ci` in tests/browser)
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium, startServer } from './harness.mjs';

const [db, out, countyArg] = process.argv.slice(2);
if (!db || !out) {
  console.error('usage: node tests/browser/screenshots.mjs DB OUT_DIR [COUNTY]');
  process.exit(64);
}
fs.mkdirSync(out, { recursive: true });
const server = await startServer(db);
const origin = server.url;
const api = async (p) => (await fetch(origin + '/api/v1/' + p)).json();
let county = countyArg;
if (!county) {
  const r = await api('rankings?level=county&state=06');
  county = r.locations.filter((l) => l.population).sort((a, b) => b.cases - a.cases)[0].id;
}

const { context, close } = await launchChromium({ viewport: { width: 1400, height: 1000 } });
const page = await context.newPage();
async function open(query, id) {
  await page.goto(origin + '/' + query);
  await page.waitForFunction((i) => document.documentElement.dataset.viewReady === i, id, { timeout: 60_000 });
  await page.waitForFunction(() => document.getElementById('s-fresh').textContent !== '–', null, { timeout: 60_000 });
  await page.waitForTimeout(300);  // the charts' last frame
}
async function shot(name, check) {
  const file = path.join(out, name);
  await page.screenshot({ path: file });
  const facts = await page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    freshVisible: document.getElementById('s-fresh-card').offsetParent !== null,
    firstChartBottom: document.querySelector('#chart-total canvas')?.getBoundingClientRect().bottom ?? null,
  }));
  console.log(`${file}: ${JSON.stringify(facts)}`);
  if (check) check(facts);
}

await open('', 'US');
await shot('dashboard.png');
await open(`?loc=${encodeURIComponent(county)}`, county);
await shot('county.png');
await page.emulateMedia({ colorScheme: 'dark' });
await open('?loc=06,48,36,12&per100k=1', '06');
await shot('dark.png');
await page.emulateMedia({ colorScheme: 'light' });
await page.setViewportSize({ width: 390, height: 844 });
await open('', 'US');
await shot('phone.png');

await page.setViewportSize({ width: 1400, height: 1000 });
await page.goto(origin + '/?embed=1&view=map&map=county');
await page.waitForFunction(() => document.getElementById('map-section')?.dataset.mapReady === '1', null, { timeout: 120_000 });
await page.waitForTimeout(300);
await page.locator('#map-section').screenshot({ path: path.join(out, 'map-counties.png') });
console.log(`${path.join(out, 'map-counties.png')}: the county map on ${await page.getAttribute('#map-canvas', 'data-date')}`);

await close();
await server.stop();
