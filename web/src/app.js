// covid-etl dashboard: three uPlot charts over /api/v1/series, a summary strip from
// /api/v1/summary, a table of recent days and a CSV link for the selection.
//
// The view's state (range, scale, hidden series) lives in the URL's query string, so a view can
// be shared: ?range=90d | ?from=YYYY-MM-DD&to=YYYY-MM-DD, &scale=log, &hide=deaths,recovered.
// The page sets the performance mark "first-chart-paint" once the first chart is on screen.
// Loaded as a plain script at the end of the body (after uPlot's), so that it runs as soon as it
// has arrived, without waiting for the page's first layout.

/* global uPlot */
'use strict';

const SERIES_URL = '/api/v1/series?location=US';
const SUMMARY_URL = '/api/v1/summary';
const DAY = 86400;
const PRESETS = { all: null, '90d': 90, '30d': 30 };
const TOGGLES = ['cases', 'deaths', 'recovered'];
const COLORS = {
  cases: '#1f5fa8', casesDaily: 'rgba(31, 95, 168, 0.35)',
  deaths: '#a3231a', deathsDaily: 'rgba(163, 35, 26, 0.35)',
  recovered: '#1b6e38', revision: '#d1001c',
};

const $ = (id) => document.getElementById(id);
const intFmt = new Intl.NumberFormat('en-US');
const avgFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

const state = { range: 'all', from: null, to: null, log: false, hidden: new Set() };
let data = null;       // { x: [epoch seconds], raw: the API's columns }
let charts = [];       // uPlot instances, in page order
let syncing = false;   // a zoom being copied from one chart to the others
let painted = false;
let onPainted = null;  // resolves buildCharts' wait for the first chart's paint

const isDate = (s) => typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s + 'T00:00:00Z'));
const toEpoch = (d) => Date.parse(d + 'T00:00:00Z') / 1000;
const toDate = (t) => new Date(t * 1000).toISOString().slice(0, 10);
const num = (v) => (v === null || v === undefined ? '–' : intFmt.format(v));
const signed = (v) => (v === null || v === undefined ? '–' : (v > 0 ? '+' : '') + intFmt.format(v));
const avg = (v) => (v === null || v === undefined ? '–' : avgFmt.format(v));

// ---- URL state ----------------------------------------------------------------------------

function readUrl() {
  const q = new URLSearchParams(location.search);
  const range = q.get('range');
  if (range in PRESETS) state.range = range;
  const from = q.get('from');
  const to = q.get('to');
  if (isDate(from) || isDate(to)) {
    state.range = 'custom';
    state.from = isDate(from) ? from : null;
    state.to = isDate(to) ? to : null;
  }
  state.log = q.get('scale') === 'log';
  for (const key of (q.get('hide') || '').split(',')) if (TOGGLES.includes(key)) state.hidden.add(key);
}

function writeUrl() {
  const q = new URLSearchParams();
  if (state.range === 'custom') {
    if (state.from) q.set('from', state.from);
    if (state.to) q.set('to', state.to);
  } else if (state.range !== 'all') {
    q.set('range', state.range);
  }
  if (state.log) q.set('scale', 'log');
  if (state.hidden.size) q.set('hide', [...state.hidden].sort().join(','));
  const s = q.toString();
  history.replaceState(null, '', s ? '?' + s.replace(/%2C/g, ',') : location.pathname);
}

// The selected [from, to] as dates within the data.
function selection() {
  const dates = data.raw.date;
  const first = dates[0];
  const last = dates[dates.length - 1];
  let from = first;
  let to = last;
  if (state.range === 'custom') {
    from = state.from && state.from > first ? state.from : first;
    to = state.to && state.to < last ? state.to : last;
    if (from > to) [from, to] = [to, from];
  } else if (PRESETS[state.range]) {
    from = toDate(toEpoch(last) - (PRESETS[state.range] - 1) * DAY);
    if (from < first) from = first;
  }
  return { from, to };
}

// ---- Charts -------------------------------------------------------------------------------

function chartSize(el) {
  const width = Math.max(280, el.clientWidth || 600);
  return { width, height: width < 600 ? 220 : 300 };
}

// On a log scale, values that are not positive cannot be drawn: they become gaps.
const forScale = (arr) => (state.log ? arr.map((v) => (v !== null && v > 0 ? v : null)) : arr);

function axisValues(u, splits) {
  return splits.map((v) => {
    if (v === null) return '';
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 }) + 'M';
    if (a >= 1e3) return (v / 1e3).toLocaleString('en-US', { maximumFractionDigits: 1 }) + 'k';
    return v.toLocaleString('en-US');
  });
}

function baseOptions(el, hooks) {
  const { width, height } = chartSize(el);
  const distr = state.log ? 3 : 1;
  return {
    width,
    height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    cursor: { sync: { key: 'covid', setSeries: false }, drag: { x: true, y: false } },
    legend: { live: true },
    scales: { x: { time: true }, y: { distr, log: 10 }, y2: { distr, log: 10 } },
    hooks,
  };
}

function seriesValue(kind) {
  return (u, v) => (v === null || v === undefined ? '–' : kind === 'avg' ? avg(v) : intFmt.format(v));
}

function totalChart(el, hooks) {
  const r = data.raw;
  const opts = baseOptions(el, hooks);
  opts.series = [
    { value: (u, v) => (v === null ? '–' : toDate(v)) },
    { key: 'cases', label: 'Cases', scale: 'y', stroke: COLORS.cases, width: 2, value: seriesValue(), show: !state.hidden.has('cases') },
    { key: 'deaths', label: 'Deaths (right axis)', scale: 'y2', stroke: COLORS.deaths, width: 2, value: seriesValue(), show: !state.hidden.has('deaths') },
    { key: 'recovered', label: 'Recovered', scale: 'y', stroke: COLORS.recovered, width: 2, dash: [6, 3], value: seriesValue(), show: !state.hidden.has('recovered') },
  ];
  opts.axes = [
    {},
    { scale: 'y', values: axisValues, size: 60 },
    { scale: 'y2', side: 1, values: axisValues, size: 60, grid: { show: false }, stroke: COLORS.deaths },
  ];
  return new uPlot(opts, [data.x, forScale(r.cases), forScale(r.deaths), forScale(r.recovered)], el);
}

function dailyChart(el, hooks, which) {
  const r = data.raw;
  const daily = r['new_' + which];
  const average = r['new_' + which + '_avg7'];
  const revisions = daily.map((v) => (v !== null && v < 0 ? v : null));
  const opts = baseOptions(el, hooks);
  const bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.9, 40] }) : undefined;
  opts.series = [
    { value: (u, v) => (v === null ? '–' : toDate(v)) },
    { label: which === 'cases' ? 'New cases' : 'New deaths', stroke: COLORS[which + 'Daily'], fill: COLORS[which + 'Daily'], width: 1, paths: bars, points: { show: false }, value: seriesValue() },
    { label: '7-day average', stroke: COLORS[which], width: 2, value: seriesValue('avg') },
    { label: 'Revision (negative day)', stroke: COLORS.revision, width: 0, paths: () => null, points: { show: true, size: 8, fill: COLORS.revision, stroke: COLORS.revision }, value: seriesValue() },
  ];
  opts.axes = [{}, { values: axisValues, size: 60 }];
  return new uPlot(opts, [data.x, forScale(daily), forScale(average), forScale(revisions)], el);
}

function markPainted() {
  if (painted) return;
  painted = true;
  performance.mark('first-chart-draw');
  // The next frame shows the drawn canvas; the task after it runs once that frame is painted.
  requestAnimationFrame(() => performance.mark('first-chart-frame'));
  nextPaint().then(() => {
    performance.mark('first-chart-paint');
    if (onPainted) onPainted();
  });
}

function onZoom(u) {
  if (syncing) return;
  const min = u.scales.x.min;
  const max = u.scales.x.max;
  if (min === null || max === null) return;
  const dates = data.raw.date;
  let from = toDate(Math.ceil(min / DAY) * DAY);
  let to = toDate(Math.floor(max / DAY) * DAY);
  if (from < dates[0]) from = dates[0];
  if (to > dates[dates.length - 1]) to = dates[dates.length - 1];
  if (from > to) return;
  const sel = selection();
  if (from === sel.from && to === sel.to) return;
  if (from === dates[0] && to === dates[dates.length - 1]) {
    state.range = 'all';
    state.from = state.to = null;
  } else {
    state.range = 'custom';
    state.from = from;
    state.to = to;
  }
  applyRange(u);
}

function onSeriesToggle(u, i) {
  const key = u.series[i].key;
  if (!key) return;
  if (u.series[i].show) state.hidden.delete(key);
  else state.hidden.add(key);
  const box = $('show-' + key);
  if (box) box.checked = u.series[i].show;
  writeUrl();
}

const nextPaint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

// Builds the three charts. The first time, the first chart is drawn and painted before the
// others are made, so that it is on screen as early as possible.
async function buildCharts(first) {
  for (const c of charts) c.destroy();
  const hooks = {
    setScale: [(u, key) => { if (key === 'x') onZoom(u); }],
    setSeries: [(u, i) => { if (i !== null) onSeriesToggle(u, i); }],
  };
  const total = totalChart($('chart-total'), { ...hooks, draw: [markPainted] });
  charts = [total];
  if (first) {
    syncing = true;
    const { from, to } = selection();
    total.setScale('x', { min: toEpoch(from), max: toEpoch(to) });
    syncing = false;
    // Nothing else runs until the first chart is on screen (or a second has passed).
    await new Promise((resolve) => {
      onPainted = resolve;
      setTimeout(resolve, 1000);
    });
  }
  charts.push(dailyChart($('chart-cases'), hooks, 'cases'), dailyChart($('chart-deaths'), hooks, 'deaths'));
  applyRange(null);
}

// Sets every chart's x range to the selection (except the one the user just zoomed), and the
// controls, table, CSV link and URL with it.
function applyRange(source) {
  const { from, to } = selection();
  const min = toEpoch(from);
  const max = toEpoch(to);
  syncing = true;
  for (const c of charts) {
    if (c !== source) c.setScale('x', { min: min === max ? min - DAY / 2 : min, max: min === max ? max + DAY / 2 : max });
  }
  syncing = false;
  updateControls(from, to);
  updateTable(from, to);
  writeUrl();
}

// ---- Controls, table, summary ---------------------------------------------------------------

function updateControls(from, to) {
  for (const b of document.querySelectorAll('button.preset')) {
    b.setAttribute('aria-pressed', String(b.dataset.range === state.range));
  }
  const dates = data.raw.date;
  for (const id of ['from', 'to']) {
    $(id).min = dates[0];
    $(id).max = dates[dates.length - 1];
  }
  $('from').value = from;
  $('to').value = to;
  $('scale').setAttribute('aria-pressed', String(state.log));
  for (const key of TOGGLES) $('show-' + key).checked = !state.hidden.has(key);
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function updateTable(from, to) {
  const r = data.raw;
  const dates = r.date;
  let hi = dates.length - 1;
  while (hi >= 0 && dates[hi] > to) hi--;
  let lo = hi;
  while (lo > 0 && dates[lo - 1] >= from) lo--;
  const count = hi >= lo && hi >= 0 ? hi - lo + 1 : 0;
  const body = document.querySelector('#days tbody');
  const rows = [];
  for (let i = hi; i >= lo && i > hi - 14; i--) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = dates[i];
    tr.appendChild(th);
    cell(tr, num(r.cases[i]));
    const nc = cell(tr, signed(r.new_cases[i]), r.new_cases[i] < 0 && r.new_cases[i] !== null ? 'neg' : '');
    if (r.new_cases[i] < 0 && r.new_cases[i] !== null) nc.title = 'Negative: a revision upstream';
    cell(tr, avg(r.new_cases_avg7[i]));
    cell(tr, num(r.deaths[i]));
    const nd = cell(tr, signed(r.new_deaths[i]), r.new_deaths[i] < 0 && r.new_deaths[i] !== null ? 'neg' : '');
    if (r.new_deaths[i] < 0 && r.new_deaths[i] !== null) nd.title = 'Negative: a revision upstream';
    cell(tr, avg(r.new_deaths_avg7[i]));
    cell(tr, r.recovered[i] === null ? 'not reported' : num(r.recovered[i]), r.recovered[i] === null ? 'unknown' : '');
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  const csv = $('csv');
  csv.href = `/api/v1/export.csv?location=US&from=${from}&to=${to}`;
  csv.download = `covid-us-${from}-to-${to}.csv`;
  csv.textContent = `Download CSV (${intFmt.format(count)} day${count === 1 ? '' : 's'})`;
}

function ago(iso) {
  const ms = Date.now() - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const h = ms / 3.6e6;
  if (h < 1) return Math.max(0, Math.round(ms / 6e4)) + ' min ago';
  if (h < 48) return Math.round(h) + ' h ago';
  return Math.round(h / 24) + ' days ago';
}

function showSummary(s) {
  const l = s.latest;
  if (l) {
    $('s-date').textContent = l.date;
    $('s-days').textContent = `${intFmt.format(s.days)} days since ${s.first_date}`;
    $('s-cases').textContent = num(l.cases);
    $('s-cases-new').textContent = `${signed(l.new_cases)} that day · 7-day avg ${avg(l.new_cases_avg7)}`;
    $('s-deaths').textContent = num(l.deaths);
    $('s-deaths-new').textContent = `${signed(l.new_deaths)} that day · 7-day avg ${avg(l.new_deaths_avg7)}`;
  } else {
    $('s-date').textContent = 'no data yet';
  }
  $('s-recovered').textContent = num(s.recovered_last);
  $('s-recovered-date').textContent = s.recovered_last_date ? `last reported ${s.recovered_last_date}` : 'never reported';
  const card = $('s-fresh-card');
  card.classList.remove('ok', 'stale', 'failed');
  const last = s.last_run;
  const good = s.last_success;
  if (!last) {
    $('s-fresh').textContent = 'no runs yet';
    card.classList.add('stale');
  } else if (last.status === 'failed') {
    $('s-fresh').textContent = 'last run failed';
    card.classList.add('failed');
  } else if (last.status === 'running') {
    $('s-fresh').textContent = 'a run is loading';
    card.classList.add('ok');
  } else if (good && Date.now() - Date.parse(good.finished_at) > 36 * 3.6e6) {
    $('s-fresh').textContent = 'stale';
    card.classList.add('stale');
  } else {
    $('s-fresh').textContent = 'up to date';
    card.classList.add('ok');
  }
  const parts = [];
  if (good) parts.push(`last success ${ago(good.finished_at)} (run ${good.id}, ${good.status})`);
  else parts.push('no successful run yet');
  if (last && last.status === 'failed') parts.push(`run ${last.id} failed in ${last.stage || 'a stage'}: ${last.error || ''}`);
  $('s-run').textContent = parts.join(' · ');
  $('recovered-note').textContent = s.recovered_last_date ? `; the last value is from ${s.recovered_last_date}` : '';
}

function fail(message) {
  const el = $('status');
  el.textContent = message;
  el.hidden = false;
}

async function getJson(url) {
  const res = await fetch(url);
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error((body && body.message) || `${url}: HTTP ${res.status}`);
  return body;
}

function wireControls() {
  for (const b of document.querySelectorAll('button.preset')) {
    b.addEventListener('click', () => {
      state.range = b.dataset.range;
      state.from = state.to = null;
      applyRange(null);
    });
  }
  for (const id of ['from', 'to']) {
    $(id).addEventListener('change', () => {
      const from = $('from').value;
      const to = $('to').value;
      if (!isDate(from) || !isDate(to)) return;
      state.range = 'custom';
      state.from = from <= to ? from : to;
      state.to = from <= to ? to : from;
      applyRange(null);
    });
  }
  $('scale').addEventListener('click', () => {
    state.log = !state.log;
    buildCharts(false);
  });
  for (const key of TOGGLES) {
    $('show-' + key).addEventListener('change', (e) => {
      const i = charts[0].series.findIndex((s) => s.key === key);
      charts[0].setSeries(i, { show: e.target.checked });
    });
  }
  let width = 0;
  new ResizeObserver(() => {
    const w = $('chart-total').clientWidth;
    if (!charts.length || w === width) return;
    width = w;
    for (const c of charts) c.setSize(chartSize(c.root.parentElement));
  }).observe(document.querySelector('main'));
}

async function main() {
  performance.mark('app-start');
  readUrl();
  const summary = getJson(SUMMARY_URL);
  try {
    const raw = await getJson(SERIES_URL);
    performance.mark('data-fetched');
    data = { raw, x: raw.date.map(toEpoch) };
  } catch (e) {
    fail('The series could not be loaded: ' + e.message);
    return;
  }
  if (data.x.length === 0) {
    fail('The database holds no data yet: run `covid-etl run`, then reload.');
  } else {
    await buildCharts(true);
    wireControls();
    document.documentElement.dataset.chartReady = '1';
    const neg = data.raw.new_cases.filter((v) => v !== null && v < 0).length +
      data.raw.new_deaths.filter((v) => v !== null && v < 0).length;
    $('revision-note').textContent = neg ? ` (${neg} such day${neg === 1 ? '' : 's'} in the whole series)` : '';
  }
  try {
    showSummary(await summary);
  } catch (e) {
    fail('The summary could not be loaded: ' + e.message);
  }
}

main();
