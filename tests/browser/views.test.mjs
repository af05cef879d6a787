// The dashboard's views for analysts, in Debian's Chromium (playwright-core) against the real
// binary serving every level (nation, states, a small generated county file, the WHO's countries)
// with populations and the NYT's notes (harness.mjs loadEverything): a state, a county and a
// country as the whole view (cards, charts and table equal to the API's numbers), each
// location's own dates (the clamp bug of issue 18), rates per 100,000 equal to the API's and "no
// population" said where there is none, rankings, the comparison's CSV and a chart's PNG, the
// keyboard tooltip, the notes on anomalous days, the back button, a phone's width, dark mode, the
// sources, and relative URLs only. Screenshots go to $COVID_ETL_SCREENSHOTS.
//
// Run: node tests/browser/views.test.mjs (after `npm ci` in tests/browser); exit status 0 when
// every check passes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { check, deadline, finish, launchChromium, loadEverything, refuseForeign, startServer, tempDir, watchProblems } from './harness.mjs';

const SHOTS = process.env.COVID_ETL_SCREENSHOTS || path.resolve('..', '..', 'build', 'browser');
deadline(240);

const dir = tempDir('covid-etl-views-');
const db = loadEverything(dir);
const server = await startServer(db);
const { context, close } = await launchChromium();
const origin = server.url;
const api = async (p) => {
  const res = await fetch(origin + '/api/v1/' + p);
  assert.equal(res.status, 200, p);
  return res.json();
};

const foreign = await refuseForeign(context, origin);
const page = await context.newPage();
const problems = await watchProblems(page);

const intFmt = new Intl.NumberFormat('en-US');
const avgFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const rateFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const query = () => new URL(page.url()).searchParams;
const viewReady = (id) => page.waitForFunction((i) => document.documentElement.dataset.viewReady === i, id, { timeout: 20_000 });
const open = async (q, id) => {
  await page.goto(origin + '/' + q);
  await viewReady(id);
};
const tableDates = () => page.$$eval('#days tbody th', (ths) => ths.map((t) => t.textContent));
const tip = (chart) => page.$$eval(`#${chart} .tip > *`, (els) => els.map((e) => e.textContent));
// The tooltip of a chart at its last date in view (focus, End).
// Once more if the tip is not shown within 10 s (seen once in CI's make test on the comparison
// chart, not reproduced since: a key press lost while the chart was being replaced?).
async function tipAtEnd(chart) {
  for (let attempt = 0; ; attempt++) {
    await page.focus('#' + chart);
    await page.keyboard.press('End');
    try {
      await page.waitForSelector(`#${chart} .tip:not([hidden])`, { timeout: attempt ? 30_000 : 10_000 });
      return tip(chart);
    } catch (e) {
      if (attempt) throw e;
      console.log(`      no tip on #${chart} after End within 10 s: focused and pressed again`);
    }
  }
}
const line = (lines, label) => {
  const l = lines.find((x) => x.startsWith(label + ': '));
  assert.ok(l, `no "${label}" in ${JSON.stringify(lines)}`);
  return l.slice(label.length + 2);
};

await check('each location\'s own dates: ?from=2022-06-01&to=2023-03-23&loc=06 shows those dates of California', async () => {
  await page.goto(origin + '/?from=2022-06-01&to=2023-03-23&loc=06');
  await page.waitForFunction(() => document.documentElement.dataset.chartReady === '1', null, { timeout: 20_000 });
  const ca = await api('series?location=06&from=2022-06-01&to=2023-03-23');
  assert.equal(ca.count, 296);
  assert.equal(await page.inputValue('#from'), '2022-06-01');
  assert.equal(await page.inputValue('#to'), '2023-03-23');
  assert.equal((await tableDates())[0], '2023-03-23');
  assert.match(await page.textContent('#csv'), /296 days/);
  assert.equal(query().get('from'), '2022-06-01');
  assert.equal(query().get('to'), '2023-03-23');
});

await check('a state is the whole view: title, cards, charts, table and CSV are the state\'s, equal to the API\'s', async () => {
  await open('?loc=06', '06');
  const s = await api('series?location=06');
  const n = s.count - 1;
  assert.equal(await page.title(), 'COVID-19 in California · covid-etl');
  assert.equal(await page.textContent('#title'), 'COVID-19 in California');
  assert.equal(await page.textContent('#s-date'), s.date[n]);
  assert.equal(await page.textContent('#s-cases'), intFmt.format(s.cases[n]));
  assert.equal(await page.textContent('#s-deaths'), intFmt.format(s.deaths[n]));
  assert.match(await page.textContent('#s-cases-new'), new RegExp(`7-day avg ${avgFmt.format(s.new_cases_avg7[n])}`.replace(/[.]/g, '\\.')));
  assert.equal(await page.isVisible('#s-recovered-card'), false);  // not reported below the nation
  const total = await tipAtEnd('chart-total');
  assert.equal(total[0], s.date[n]);
  assert.equal(line(total, 'Cases'), intFmt.format(s.cases[n]));
  assert.equal(line(total, 'Deaths (right axis)'), intFmt.format(s.deaths[n]));
  const cases = await tipAtEnd('chart-cases');
  assert.equal(line(cases, 'New cases'), intFmt.format(s.new_cases[n]));
  assert.equal(line(cases, '7-day average'), avgFmt.format(s.new_cases_avg7[n]));
  const deaths = await tipAtEnd('chart-deaths');
  assert.equal(line(deaths, '7-day average'), avgFmt.format(s.new_deaths_avg7[n]));
  assert.equal((await tableDates())[0], s.date[n]);
  assert.match(await page.getAttribute('#csv', 'href'), /^api\/v1\/export\.csv\?location=06&from=2020-01-25&to=2023-03-23$/);
  // Every date of the state, not the nation's (which end on 2022-04-19).
  assert.equal(await page.inputValue('#to'), '2023-03-23');
});

await check('a county and a country are whole views too', async () => {
  const county = (await api('locations?type=county&q=06')).locations.find((l) => /^\d{5}$/.test(l.id));
  assert.ok(county, 'a county of California');
  await open('?loc=' + county.id, county.id);
  const s = await api('series?location=' + county.id);
  assert.equal(await page.title(), `COVID-19 in ${county.label} · covid-etl`);
  assert.equal(await page.textContent('#s-cases'), intFmt.format(s.cases[s.count - 1]));
  assert.equal(line(await tipAtEnd('chart-cases'), '7-day average'), avgFmt.format(s.new_cases_avg7[s.count - 1]));
  await page.evaluate(() => { document.activeElement.blur(); scrollTo(0, 0); });
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-county.png') });
  await open('?loc=FRA', 'FRA');
  const f = await api('series?location=FRA');
  assert.equal(await page.title(), 'COVID-19 in France · covid-etl');
  assert.equal(await page.textContent('#s-date'), f.date[f.count - 1]);
  assert.equal(await page.textContent('#s-deaths'), intFmt.format(f.deaths[f.count - 1]));
  // The WHO's series is weekly since 2023: the cards and charts say weeks, not days.
  assert.equal(await page.textContent('#s-days'), `${intFmt.format(f.count)} weekly reports since ${f.date[0]}`);
  assert.match(await page.textContent('#s-cases-new'), / that week · 7-day avg /);
  assert.equal(await page.textContent('#h-cases'), 'Weekly new cases');
  await open('?loc=' + county.id, county.id);
  assert.equal(await page.textContent('#h-cases'), 'Daily new cases');
  assert.match(await page.textContent('#s-cases-new'), / that day · 7-day avg /);
});

await check('the WHO\'s United States says its source beside the NYT\'s: the picker, the title', async () => {
  await open('', 'US');
  await page.fill('#place-search', 'United States');
  await page.waitForFunction(() => !document.getElementById('place-options').hidden, null, { timeout: 10_000 });
  const names = await page.$$eval('#place-options li > span:first-child', (spans) => spans.map((s) => s.textContent));
  assert.ok(names.includes('United States'), names.join(' | '));
  assert.ok(names.includes('United States (WHO)'), names.join(' | '));
  await open('?loc=USA', 'USA');
  assert.equal(await page.title(), 'COVID-19 in United States (WHO) · covid-etl');
  assert.equal(await page.textContent('#title'), 'COVID-19 in United States (WHO)');
  await page.fill('#place-search', '');
});

await check('the server draws each view\'s first chart into the page: the view app.js shows, the API\'s values, replaced by uPlot\'s', async () => {
  const county = (await api('locations?type=county&q=06')).locations.find((l) => /^\d{5}$/.test(l.id));
  const nojs = await context.browser().newContext({ javaScriptEnabled: false, viewport: page.viewportSize() });
  const bare = await nojs.newPage();
  for (const [q, id, rate] of [['', 'US'], ['?loc=06&range=90d', '06'], ['?loc=FRA', 'FRA'],
    [`?loc=${county.id},48&per100k=1&hide=deaths&from=2020-06-01`, county.id, true]]) {
    // Without scripts: the drawing alone, on screen, with the API's latest values in its legend.
    await bare.goto(origin + '/' + q);
    const view = await bare.getAttribute('#chart-total .ssr', 'data-view');
    assert.ok(view && view.startsWith(id + '|'), `${q}: ${view}`);
    const box = await bare.locator('#chart-total .ssr-plot .ssr-cases').boundingBox();
    assert.ok(box && box.width > 300 && box.height > 50, `${q}: ${JSON.stringify(box)}`);
    const s = await api('series?location=' + encodeURIComponent(id));
    const legend = await bare.textContent('#chart-total .ssr-legend');
    const cases = rate ? s.cases_per_100k[s.count - 1].toFixed(1) : s.cases[s.count - 1];
    assert.ok(legend.includes(`Cases${rate ? ' per 100k' : ''} ${Number(cases).toLocaleString('en-US', { minimumFractionDigits: rate ? 1 : 0 })}`), `${q}: ${legend}`);
    assert.equal(legend.includes('Deaths'), !q.includes('hide=deaths'), `${q}: ${legend}`);
    const headings = () => [document.title, document.getElementById('title').textContent, document.getElementById('sub').textContent,
      ...['#s-recovered-card', '#show-recovered', '#box-total .recovered-only'].map((q) => `${q} ${document.querySelector(q).getClientRects().length ? 'shown' : 'hidden'}`),
      ...[...document.querySelectorAll('button.preset, #per100k')].map((b) => `${b.id} pressed ${b.getAttribute('aria-pressed')}`),
      ...['from', 'to'].map((id) => { const i = document.getElementById(id); return `${id} ${i.value} in ${i.min}..${i.max}`; }),
      ...[...document.querySelectorAll('input[id^="show-"]')].map((b) => `${b.id} ${b.checked}`),
      ...['s-date', 's-days', 's-cases', 's-deaths', 's-recovered', 's-recovered-date', 'h-cases', 'h-deaths'].map((id) => `${id} ${document.getElementById(id).textContent}`),
      document.getElementById('chart-cases').getAttribute('aria-label'),
      Math.round(document.querySelector('#box-total .table-view').getBoundingClientRect().top + scrollY)];
    const drawnHeadings = await bare.evaluate(headings);
    // With them: app.js reads the same view from the URL (so the mark is the drawing's paint),
    // its own chart takes the drawing's place, and the headings, the nation's only parts and the
    // controls stay as the server wrote them (the first frame is the view's; nothing moves).
    await open(q, id);
    const shown = await page.evaluate(headings);
    const said = `${q}: ${JSON.stringify(shown)} with scripts, ${JSON.stringify(drawnHeadings)} without`;
    assert.deepEqual(shown.slice(0, -1), drawnHeadings.slice(0, -1), said);
    // What follows the chart is where it was (within the cards' pixel of rounding).
    assert.ok(Math.abs(shown.at(-1) - drawnHeadings.at(-1)) <= 2, said);
    assert.deepEqual(await page.evaluate(() => [drawnView, drawnKey]), [view, view], q);
    assert.equal(await page.locator('#chart-total .ssr, #chart-total .ssr-legend').count(), 0, q);
    assert.equal(await page.locator('#chart-total canvas').count(), 1, q);
  }
  // A narrow range of large counts (France's last 30 days, weekly): every axis label its own, the
  // drawing's the same as app.js makes for the same ticks (axisValues).
  await bare.goto(origin + '/?loc=FRA&range=30d');
  for (const axis of ['ssr-y', 'ssr-y2']) {
    const labels = await bare.$$eval(`#chart-total .${axis} text`, (ts) => ts.filter((t) => t.getClientRects().length).map((t) => t.textContent));
    assert.ok(labels.length >= 2, `${axis}: ${labels}`);
    assert.equal(new Set(labels).size, labels.length, `${axis}: ${labels}`);
    const ticks = labels.map((l) => Number(l.replace(/,/g, '')));
    if (labels.every((l) => /^[\d,.]+$/.test(l))) {
      assert.deepEqual(await page.evaluate((t) => axisValues(null, t), ticks), labels, axis);
    }
  }
  // A view the server does not draw (a log scale): the page as it was, uPlot's chart alone.
  await bare.goto(origin + '/?loc=06&scale=log');
  assert.equal(await bare.locator('#chart-total .ssr').count(), 0);
  await nojs.close();
});

await check('per 100,000 people: the charts, cards and comparison show the API\'s rates', async () => {
  await open('?loc=06,48', '06');
  await page.click('#per100k');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('per100k') === '1');
  await viewReady('06');
  const s = await api('series?location=06');
  const n = s.count - 1;
  const total = await tipAtEnd('chart-total');
  assert.equal(line(total, 'Cases per 100k'), rateFmt.format(s.cases_per_100k[n]));
  assert.equal(line(total, 'Deaths per 100k (right axis)'), rateFmt.format(s.deaths_per_100k[n]));
  const cases = await tipAtEnd('chart-cases');
  assert.equal(line(cases, '7-day average per 100k'), rateFmt.format(s.new_cases_avg7_per_100k[n]));
  assert.match(await page.textContent('#s-cases-rate'), new RegExp('^' + rateFmt.format(s.cases_per_100k[n]).replace(/[.]/g, '\\.') + ' per 100k'));
  const tx = await api('series?location=48');
  const cmp = await tipAtEnd('chart-compare');
  assert.equal(cmp[0], s.date[n]);
  const i = tx.date.indexOf(s.date[n]);
  assert.equal(line(cmp, 'Texas'), rateFmt.format(tx.new_cases_avg7_per_100k[i]));
  assert.match(await page.textContent('#h-compare-metric'), /per 100,000/);
  // The CSV link asks for rates too.
  assert.match(await page.getAttribute('#csv', 'href'), /per_100k=true/);
});

await check('a location without a population says so where its rate would be', async () => {
  const none = (await api('locations?type=county&limit=1000')).locations.find((l) => l.population === null);
  assert.ok(none, 'a county without a population');
  await open(`?loc=${encodeURIComponent(none.id)}&per100k=1`, none.id);
  assert.equal(await page.isVisible('#rate-note'), true);
  assert.match(await page.textContent('#rate-note'), /No population figure is known/);
  assert.match(await page.textContent('#s-cases-rate'), /No population figure/);
  assert.match(await page.textContent(`#loc-chips li[data-id="${none.id}"]`), /no population/);
});

await check('rankings: states, the counties of a state and countries, by cases or deaths, absolute or per 100k, sortable', async () => {
  await open('?loc=06', '06');
  const states = await api('rankings?level=state');
  await page.waitForFunction((n) => document.querySelectorAll('#states tbody tr').length === n, states.count);
  const top = [...states.locations].filter((r) => r.new_cases_avg7 !== null).sort((a, b) => b.new_cases_avg7 - a.new_cases_avg7 || a.name.localeCompare(b.name))[0];
  assert.equal(await page.getAttribute('#states tbody tr:first-child', 'data-id'), top.id);
  await page.selectOption('#rank-metric', 'deaths');
  await page.click('#per100k');
  await viewReady('06');
  await page.waitForFunction(() => document.getElementById('rank-avg-head').textContent.includes('per 100k'));
  const byRate = [...states.locations].filter((r) => r.new_deaths_avg7_per_100k !== null).sort((a, b) => b.new_deaths_avg7_per_100k - a.new_deaths_avg7_per_100k || a.name.localeCompare(b.name))[0];
  assert.equal(await page.getAttribute('#states tbody tr:first-child', 'data-id'), byRate.id);
  const cells = await page.$$eval('#states tbody tr:first-child td', (tds) => tds.map((t) => t.textContent));
  assert.equal(cells[1], rateFmt.format(byRate.new_deaths_avg7_per_100k));
  assert.equal(cells[3].replace('−', '-').replace('%', ''), byRate.deaths_change_14d_pct === null ? '–' : (byRate.deaths_change_14d_pct > 0 ? '+' : '') + avgFmt.format(byRate.deaths_change_14d_pct));
  await page.click('#states button[data-sort="name"]');
  const names = await page.$$eval('#states tbody tr th button.link', (bs) => bs.map((b) => b.textContent));
  assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)));
  // The counties of the page's state (California), then the countries.
  await page.selectOption('#rank-level', 'county');
  const counties = await api('rankings?level=county&state=06');
  assert.ok(counties.count >= 2, `${counties.count} counties`);
  await page.waitForFunction((n) => document.querySelectorAll('#states tbody tr').length === n && document.querySelector('#states tbody tr').dataset.id.startsWith('06'), counties.count);
  assert.equal(query().get('rank'), 'county');
  await page.selectOption('#rank-level', 'country');
  const countries = await api('rankings?level=country');
  assert.ok(countries.count > 200);
  await page.waitForFunction((n) => document.querySelectorAll('#states tbody tr').length === n, countries.count);
  // A row's name makes it the page's location.
  await page.click('#states tbody tr[data-id="FRA"] th button.link');
  await viewReady('FRA');
  assert.equal(query().get('loc').split(',')[0], 'FRA');
});

await check('the rankings endpoint checks its parameters', async () => {
  for (const q of ['level=city', 'level=county', 'level=county&state=6', 'level=state&state=06', 'level=state&x=1']) {
    const res = await fetch(origin + '/api/v1/rankings?' + q);
    assert.equal(res.status, 400, q);
  }
  const st = await api('rankings');
  assert.equal(st.level, 'state');
  const old = await api('states');
  for (const r of old.states) {
    const mine = st.locations.find((x) => x.id === r.id);
    assert.equal(mine.new_cases_avg7, r.new_cases_avg7);
    assert.equal(mine.cases_change_14d_pct, r.change_14d_pct);
    assert.equal(mine.new_cases_avg7_per_100k, r.new_cases_avg7_per_100k);
  }
});

await check('the comparison: a metric, its CSV equal to the API\'s values, a chart\'s PNG', async () => {
  await open('?loc=US,06&metric=deaths_total&per100k=1&from=2021-01-01&to=2021-01-31', 'US');
  await page.waitForFunction(() => document.getElementById('chart-compare').dataset.locations === 'US,06');
  assert.equal(await page.inputValue('#metric'), 'deaths_total');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#compare-csv')]);
  const lines = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'date,"United States","California"');
  assert.equal(lines.length, 32);
  const us = await api('series?location=US&from=2021-01-01&to=2021-01-31');
  const ca = await api('series?location=06&from=2021-01-01&to=2021-01-31');
  for (let i = 0; i < 31; i++) {
    assert.equal(lines[i + 1], `${us.date[i]},${us.deaths_per_100k[i]},${ca.deaths_per_100k[i]}`);
  }
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('button.png[data-chart="chart-cases"]')]);
  const bytes = fs.readFileSync(await png.path());
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const width = bytes.readUInt32BE(16);
  assert.equal(width, await page.$eval('#chart-cases canvas', (c) => c.width));
  assert.match(png.suggestedFilename(), /^covid-cases-us\.png$/);
});

await check('the tooltip follows the keyboard along the dates, with the notes of the day', async () => {
  const notes = (await api('annotations?location=US')).annotations;
  assert.ok(notes.length > 0);
  const note = notes.find((n) => (n.type === 'cases' || n.type === 'both') && n.from >= '2020-03-10');
  await open(`?from=2020-03-01&to=${note.from}`, 'US');
  const s = await api(`series?location=US&from=2020-03-01&to=${note.from}`);
  const at = await tipAtEnd('chart-cases');
  assert.equal(at[0], note.from);
  assert.ok(at.includes('Note: ' + note.text), JSON.stringify(at));
  await page.keyboard.press('ArrowLeft');
  const before = await tip('chart-cases');
  assert.equal(before[0], s.date[s.count - 2]);
  assert.equal(line(before, 'New cases'), intFmt.format(s.new_cases[s.count - 2]));
  await page.keyboard.press('Home');
  assert.equal((await tip('chart-cases'))[0], '2020-03-01');
  assert.equal(await page.$$eval('#notes li', (l) => l.length), notes.length);
  // Days left out of the 7-day average are said so in the tooltip.
  const full = await api('series?location=US');
  const j = full.omitted.findIndex((o) => o === 'cases' || o === 'both');
  if (j >= 0) {
    await open(`?from=${full.date[0]}&to=${full.date[j]}`, 'US');
    assert.ok((await tipAtEnd('chart-cases')).includes('Left out of the 7-day average'));
  }
});

await check('the back button steps through views', async () => {
  await open('', 'US');
  await page.waitForSelector('#states tbody tr[data-id="06"]');
  await page.click('#states tbody tr[data-id="06"] th button.link');
  await viewReady('06');
  assert.equal(query().get('loc'), '06');
  await page.click('#r-30d');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('range') === '30d');
  assert.equal(await page.inputValue('#from'), '2023-02-22');
  await page.goBack();
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('range'));
  await page.waitForFunction(() => document.getElementById('from').value === '2020-01-25');
  assert.equal(await page.title(), 'COVID-19 in California · covid-etl');
  await page.goBack();
  await viewReady('US');
  assert.equal(await page.title(), 'COVID-19 in the United States · covid-etl');
  assert.equal(await page.inputValue('#to'), '2022-04-19');
  await page.goForward();
  await viewReady('06');
});

await check('a phone\'s width: the first chart above the fold, no horizontal overflow, legends wrap', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await open('?loc=06,48,36,12', '06');
  await page.waitForTimeout(200);
  const m = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth,
    chartBottom: document.querySelector('#chart-total canvas').getBoundingClientRect().bottom,
    legends: [...document.querySelectorAll('.u-legend')].map((l) => l.getBoundingClientRect().right),
    canvases: [...document.querySelectorAll('.chart canvas')].map((c) => c.getBoundingClientRect().right),
  }));
  assert.ok(m.doc <= 390, `the page is ${m.doc} px wide`);
  assert.ok(m.chartBottom <= 844, `the first chart ends at ${m.chartBottom} px`);
  for (const r of [...m.legends, ...m.canvases]) assert.ok(r <= 390, `something ends at ${r} px`);
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-phone-390.png') });
  await page.setViewportSize({ width: 1280, height: 900 });
});

await check('every axis label is whole (large counts widen the axis) and the drawing shows uPlot\'s own ticks on a phone', async () => {
  // France's cumulative counts over 90 days: labels such as 39,060,500 and 168,207, wider than the
  // 60 px the axes had (they were cut to "060,500" at the chart's left edge, "168,20" at its right).
  await page.setViewportSize({ width: 390, height: 844 });
  const nojs = await context.browser().newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  const bare = await nojs.newPage();
  await bare.goto(origin + '/?loc=FRA&range=90d');
  const drawn = await bare.evaluate(() => {
    const box = (e) => e.getBoundingClientRect();
    const ssr = box(document.querySelector('#chart-total .ssr'));
    const plot = box(document.querySelector('#chart-total .ssr-plot'));
    const texts = (axis) => [...document.querySelectorAll(`#chart-total .${axis} text`)].filter((t) => t.getClientRects().length).map((t) => ({ text: t.textContent, ...box(t).toJSON() }));
    return { ssr: ssr.toJSON(), plot: plot.toJSON(), left: texts('ssr-y'), right: texts('ssr-y2') };
  });
  await nojs.close();
  assert.ok(drawn.left.some((t) => t.text.length >= 10) && drawn.right.length > 0, JSON.stringify(drawn));
  for (const t of drawn.left) assert.ok(t.left >= drawn.ssr.left && t.right <= drawn.plot.left, `left label ${JSON.stringify(t)} in ${JSON.stringify(drawn.ssr)}`);
  for (const t of drawn.right) assert.ok(t.left >= drawn.plot.right && t.right <= drawn.ssr.right, `right label ${JSON.stringify(t)} in ${JSON.stringify(drawn.ssr)}`);
  // uPlot draws its labels on the canvas: each axis must be wider than its widest label, measured
  // in the axis' own font, plus the tick and the gap uPlot leaves beside it.
  await open('?loc=FRA&range=90d', 'FRA');
  const axes = await page.evaluate(() => {
    const ctx = document.createElement('canvas').getContext('2d');
    return charts.flatMap((u) => u.axes.filter((a) => a.show && a.side % 2 === 1 && a._values).map((a) => {
      ctx.font = a.font[0];
      const widest = Math.max(...a._values.map((v) => ctx.measureText(String(v)).width)) / devicePixelRatio;
      return { size: a._size, need: a.ticks.size + a.gap + widest, labels: a._values };
    }));
  });
  assert.ok(axes.length >= 4, JSON.stringify(axes));
  assert.ok(axes.some((a) => a.labels.some((l) => l.length >= 10)), JSON.stringify(axes));
  for (const a of axes) assert.ok(a.size >= a.need, `an axis of ${a.size} px for labels that need ${a.need.toFixed(1)}: ${a.labels}`);
  // And the drawing showed the very ticks uPlot's chart shows on a phone (fewer than on a wide
  // screen), so nothing jumps when one replaces the other.
  assert.deepEqual([drawn.left.map((t) => t.text), drawn.right.map((t) => t.text)], [axes[0].labels, axes[1].labels]);
  await page.setViewportSize({ width: 1280, height: 900 });
});

// WCAG 2 contrast of two CSS colours.
const contrast = (a, b) => page.evaluate(([x, y]) => {
  const lum = (c) => {
    const el = document.createElement('i');
    el.style.color = c;
    document.body.appendChild(el);
    const [r, g, b] = getComputedStyle(el).color.match(/[\d.]+/g).map(Number);
    el.remove();
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const [l1, l2] = [lum(x), lum(y)].sort((p, q) => q - p);
  return (l1 + 0.05) / (l2 + 0.05);
}, [a, b]);
const vars = () => page.evaluate(() => {
  const s = getComputedStyle(document.documentElement);
  return Object.fromEntries(['bg', 'fg', 'muted', 'accent', 'on-accent', 'card', 'bad', 'warn', 'ok', 'cases', 'deaths'].map((k) => [k, s.getPropertyValue('--' + k).trim()]));
});

await check('dark mode follows prefers-color-scheme; text passes WCAG AA in both schemes', async () => {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await open('?loc=06', '06');
    const v = await vars();
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const dark = (await contrast(bg, '#000000')) < 2;
    assert.equal(dark, scheme === 'dark', `${scheme}: body background ${bg}`);
    for (const k of ['fg', 'muted', 'accent', 'bad', 'warn', 'ok', 'cases', 'deaths']) {
      for (const under of [v.bg, v.card]) {
        const c = await contrast(v[k], under);
        assert.ok(c >= 4.5, `${scheme}: --${k} ${v[k]} on ${under}: ${c.toFixed(2)}`);
      }
    }
    assert.ok(await contrast(v['on-accent'], v.accent) >= 4.5, `${scheme}: pressed buttons`);
    if (scheme === 'dark') await page.screenshot({ path: path.join(SHOTS, 'dashboard-dark.png') });
  }
  await page.emulateMedia({ colorScheme: 'light' });
});

await check('the sources are named and linked with their licences and freshness', async () => {
  await open('', 'US');
  await page.waitForFunction(() => document.querySelector('#sources .badge').textContent !== '–');
  const items = await page.$$eval('#sources li', (lis) => lis.map((li) => ({ text: li.textContent, links: [...li.querySelectorAll('a')].map((a) => a.href), badge: li.querySelector('.badge').textContent })));
  assert.match(items[0].text, /New York Times.*CC BY-NC 4\.0/);
  assert.ok(items[0].links.includes('https://creativecommons.org/licenses/by-nc/4.0/'));
  assert.match(items[1].text, /Johns Hopkins.*CC BY 4\.0/);
  assert.match(items[2].text, /World Health Organization.*terms/);
  const sources = (await api('summary')).sources;
  const nyt = sources.find((x) => x.name === 'nyt');
  assert.equal(items[0].badge, nyt.text);
  assert.equal(items[0].badge, 'archived since 2023-03-23');
  // JHU's own date (its last), not the national dataset's, though its recoveries are part of it.
  assert.equal(sources.find((x) => x.name === 'jhu').text, 'archived since 2023-03-10');
  assert.equal(items[1].badge, 'archived since 2023-03-10');
});

await check('screenshot of the default view (the nation)', async () => {
  await open('', 'US');
  await page.waitForFunction(() => document.getElementById('s-fresh').textContent !== '–');
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-default.png') });
});

await check('the page asks for its files and data by relative URLs only', async () => {
  for (const file of ['/', '/app.js']) {
    const text = await (await fetch(origin + file)).text();
    assert.doesNotMatch(text, /(href|src)="\/[^/]/, file);
    assert.doesNotMatch(text, /['"`]\/api\//, file);
  }
});

await check('no request left the server, no console error', async () => {
  assert.deepEqual(foreign, []);
  assert.deepEqual(problems, []);
});

await close();
const status = await server.stop();
await check('the server stops cleanly on SIGTERM', async () => assert.equal(status, 0, server.stderr()));
fs.rmSync(dir, { recursive: true, force: true });
finish();
