// Time to first chart paint of the dashboard in Debian's Chromium: the page's "first-chart-paint"
// performance mark (set in the task after the frame that shows the first chart), in ms after
// navigation start. Each load is a fresh browser context (empty cache, new connections); one
// browser process for all of them. Prints "median M, p90 P (min A, max B, first-contentful-paint F)
// over N loads", then the bytes the page transferred before its first chart was painted (every
// response that ended before the mark, by the Resource Timing API: compressed sizes).
// Goal (issue 18): median <= 150 ms, p90 <= 300 ms over 20 loads.
//
// Usage: node bench/serve_paint.mjs http://127.0.0.1:PORT/   (PAINT_RUNS=20)
//        node bench/serve_paint.mjs http://127.0.0.1:PORT/ --map state|county|country
// With --map: the map alone (?embed=1&view=map&map=LEVEL), its "map-paint" mark (set after the
// frame that shows the map's latest date), median and 90th percentile; then, in each load, one
// animation frame: the slider moved one day back within a month already loaded, timed from the
// input event to the next frame on screen (and the draw alone, the page's "map-frame" measure).
import { chromium } from '../tests/browser/node_modules/playwright-core/index.mjs';
import { CHROMIUM } from '../tests/browser/harness.mjs';

const url = process.argv[2];
const runs = Number(process.env.PAINT_RUNS || 20);
const mapAt = process.argv.indexOf('--map');
const mapLevel = mapAt > 0 ? process.argv[mapAt + 1] : null;
const shotAt = process.argv.indexOf('--shot');  // with --map: a screenshot of the map to this file
const shot = shotAt > 0 ? process.argv[shotAt + 1] : null;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
});
const paint = [];
const fcp = [];
const bytes = [];
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
if (mapLevel) {
  const frames = [];
  const draws = [];
  for (let i = 0; i < runs + 1; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(new URL(`?embed=1&view=map&map=${mapLevel}`, url).href, { waitUntil: 'load' });
    await page.waitForFunction(() => performance.getEntriesByName('map-paint').length > 0, null, { timeout: 30_000 });
    const p = await page.evaluate(() => performance.getEntriesByName('map-paint')[0].startTime);
    // A date in the middle of the last month: its month is loaded by a first move, then the move
    // one day back is timed.
    const [f, d] = await page.evaluate(async () => {
      const slider = document.getElementById('map-date');
      const canvas = document.getElementById('map-canvas');
      const move = async (v) => {
        slider.value = String(v);
        slider.dispatchEvent(new Event('input', { bubbles: true }));
        for (let k = 0; k < 200 && canvas.dataset.date === before; k++) await new Promise((r) => setTimeout(r, 10));
      };
      let before = canvas.dataset.date;
      const last = Number(slider.max);
      await move(last - 12);
      before = canvas.dataset.date;
      performance.clearMeasures('map-frame');
      const t0 = performance.now();
      slider.value = String(last - 13);
      slider.dispatchEvent(new Event('input', { bubbles: true }));
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const t1 = performance.now();
      const m = performance.getEntriesByName('map-frame');
      return [t1 - t0, m.length ? m[m.length - 1].duration : NaN];
    });
    if (i > 0) {
      paint.push(p);
      frames.push(f);
      draws.push(d);
    }
    await context.close();
  }
  if (shot) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    await page.goto(new URL(`?embed=1&view=map&map=${mapLevel}`, url).href, { waitUntil: 'load' });
    await page.waitForFunction(() => document.getElementById('map-section')?.dataset.mapReady === '1', null, { timeout: 30_000 });
    await page.locator('#map-section .map-frame').screenshot({ path: shot });
    await context.close();
  }
  await browser.close();
  console.log(`map ${mapLevel}: painted median ${pct(paint, 0.5).toFixed(0)} ms, p90 ${pct(paint, 0.9).toFixed(0)} ms; ` +
    `next date on screen median ${pct(frames, 0.5).toFixed(1)} ms, p90 ${pct(frames, 0.9).toFixed(1)} ms ` +
    `(draw alone median ${pct(draws, 0.5).toFixed(1)} ms) over ${runs} loads`);
  process.exit(0);
}
for (let i = 0; i < runs + 1; i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // Nothing is run in the page while it loads (no polling): wait for the load event, then a moment.
  await page.goto(url, { waitUntil: 'load' });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  if (!(await page.evaluate(() => performance.getEntriesByName('first-chart-paint').length))) {
    throw new Error('no first-chart-paint mark within a second of the load event');
  }
  const [p, f, b] = await page.evaluate(() => {
    const mark = performance.getEntriesByName('first-chart-paint')[0].startTime;
    const nav = performance.getEntriesByType('navigation')[0];
    const before = performance.getEntriesByType('resource').filter((r) => r.responseEnd <= mark);
    const list = before.map((r) => `${new URL(r.name).pathname}${new URL(r.name).search} ${r.transferSize}`);
    return [mark, performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      { total: nav.transferSize + before.reduce((n, r) => n + r.transferSize, 0), list: [`/ ${nav.transferSize}`, ...list] }];
  });
  if (i > 0) {  // the first load warms the browser process up, not the page
    paint.push(p);
    fcp.push(f);
    bytes.push(b);
  }
  await context.close();
}
await browser.close();
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const p90 = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.ceil(s.length * 0.9) - 1)]; };
console.log(`median ${median(paint).toFixed(0)}, p90 ${p90(paint).toFixed(0)} (min ${Math.min(...paint).toFixed(0)}, max ${Math.max(...paint).toFixed(0)}, ` +
  `first-contentful-paint ${median(fcp).toFixed(0)}) over ${runs} loads`);
const last = bytes[bytes.length - 1];
console.log(`bytes before the first chart: ${last.total} (${last.list.join(', ')})`);
