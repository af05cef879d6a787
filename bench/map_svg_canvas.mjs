// Canvas or SVG for the county map: the time from a new date's colours to the next frame on
// screen, for the 3,142 counties of us-atlas (counties-albers-10m.json), in Debian's Chromium.
// Canvas: the page's own map (web/src/map.js: Path2D per county, filled again per date; the
// slider moved one day within a loaded month). SVG: the same shapes as 3,142 <path> elements in
// an <svg> of the same size, each one's fill set per date. Median and 90th percentile of 20 frames.
//
// Usage: node bench/map_svg_canvas.mjs http://127.0.0.1:PORT/   (a server with county data)
import { chromium } from '../tests/browser/node_modules/playwright-core/index.mjs';
import { CHROMIUM } from '../tests/browser/harness.mjs';

const url = process.argv[2];
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(new URL('?embed=1&view=map&map=county', url).href);
await page.waitForFunction(() => document.getElementById('map-section')?.dataset.mapReady === '1', null, { timeout: 60_000 });
const result = await page.evaluate(async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
  // Canvas: the page's map, one day back at a time within the month loaded first.
  const slider = document.getElementById('map-date');
  const canvas = document.getElementById('map-canvas');
  const last = Number(slider.max);
  slider.value = String(last - 25);
  slider.dispatchEvent(new Event('input'));
  for (let k = 0; k < 500 && !canvas.dataset.date; k++) await frame();
  await new Promise((r) => setTimeout(r, 1500));
  const canvasTimes = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    slider.value = String(last - 25 - (i % 2));
    slider.dispatchEvent(new Event('input'));
    await frame();
    canvasTimes.push(performance.now() - t);
  }
  // SVG: the same shapes, restyled.
  const topo = await (await fetch('us-counties-albers-10m.json')).json();
  const features = window.topojson.feature(topo, topo.objects.counties).features;
  const d = (g) => (g.type === 'Polygon' ? [g.coordinates] : g.coordinates)
    .map((poly) => poly.map((ring) => 'M' + ring.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join('L') + 'Z').join('')).join('');
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 975 610');
  svg.setAttribute('width', canvas.style.width);
  svg.setAttribute('height', canvas.style.height);
  const paths = features.map((f) => { const p = document.createElementNS(ns, 'path'); p.setAttribute('d', d(f.geometry)); p.setAttribute('stroke', '#fff'); p.setAttribute('stroke-width', '0.3'); svg.append(p); return p; });
  canvas.parentElement.append(svg);
  const colors = ['#fde725', '#a0da39', '#4ac16d', '#1fa187', '#277f8e', '#365c8d', '#46327e', '#440154'];
  await frame();
  const svgTimes = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    paths.forEach((p, k) => p.setAttribute('fill', colors[(k * 7 + i) % 8]));
    await frame();
    svgTimes.push(performance.now() - t);
  }
  return { canvas: [pct(canvasTimes, 0.5), pct(canvasTimes, 0.9)], svg: [pct(svgTimes, 0.5), pct(svgTimes, 0.9)], n: paths.length };
});
await browser.close();
console.log(`county map, next date to the next frame (${result.n} counties): canvas median ${result.canvas[0].toFixed(1)} ms, p90 ${result.canvas[1].toFixed(1)} ms; ` +
  `SVG median ${result.svg[0].toFixed(1)} ms, p90 ${result.svg[1].toFixed(1)} ms (20 frames each)`);
