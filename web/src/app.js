// covid-etl dashboard: three uPlot charts of the nation over /api/v1/series, a summary strip from
// /api/v1/summary, a table of recent days and a CSV link for the selection; then a chart that
// compares up to 6 locations (daily new cases and their 7-day averages), chosen with a search
// over /api/v1/locations, and a sortable table of the states from /api/v1/states.
//
// The view's state (range, scale, hidden series, locations compared) lives in the URL's query
// string, so a view can be shared: ?range=90d | ?from=YYYY-MM-DD&to=YYYY-MM-DD, &scale=log,
// &hide=deaths,recovered, &loc=US,06,06037 (absent: the nation alone; empty: none).
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
const MAX_LOCATIONS = 6;
const DEFAULT_LOCATIONS = ['US'];
// One colour per location compared, kept while it stays on the chart.
const PALETTE = ['#1f5fa8', '#a3231a', '#1b6e38', '#7a4f00', '#6a3d9a', '#00707a'];
const COLORS = {
  cases: '#1f5fa8', casesDaily: 'rgba(31, 95, 168, 0.35)',
  deaths: '#a3231a', deathsDaily: 'rgba(163, 35, 26, 0.35)',
  recovered: '#1b6e38', revision: '#d1001c',
};

const $ = (id) => document.getElementById(id);
const intFmt = new Intl.NumberFormat('en-US');
const avgFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

const state = { range: 'all', from: null, to: null, log: false, hidden: new Set(), locs: [...DEFAULT_LOCATIONS] };
let data = null;       // { x: [epoch seconds], raw: the API's columns }
let charts = [];       // the nation's uPlot instances, in page order
let compareChart = null;  // the comparison's, when it has locations
const places = new Map();  // location id -> { id, label, type, color, raw: its series or null }
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
  const loc = q.get('loc');
  if (loc !== null) {
    state.locs = [...new Set(loc.split(',').map((s) => s.trim()).filter((s) => s && s.length <= 200))]
      .slice(0, MAX_LOCATIONS);
  }
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
  if (state.locs.join(',') !== DEFAULT_LOCATIONS.join(',')) q.set('loc', state.locs.join(','));
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

const chartHooks = () => ({
  setScale: [(u, key) => { if (key === 'x') onZoom(u); }],
  setSeries: [(u, i) => { if (i !== null) onSeriesToggle(u, i); }],
});

const allCharts = () => (compareChart ? [...charts, compareChart] : charts);

// Builds the three charts (and the comparison's again, once it is there). The first time, the
// first chart is drawn and painted before the others are made, so that it is on screen as early
// as possible.
async function buildCharts(first) {
  for (const c of charts) c.destroy();
  const hooks = chartHooks();
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
  if (compareChart) drawCompare();
  applyRange(null);
}

// Sets every chart's x range to the selection (except the one the user just zoomed), and the
// controls, table, CSV link and URL with it.
function applyRange(source) {
  const { from, to } = selection();
  const min = toEpoch(from);
  const max = toEpoch(to);
  syncing = true;
  for (const c of allCharts()) {
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

// ---- Comparing locations --------------------------------------------------------------------

const fade = (hex, alpha) => {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
};

function say(message) {
  $('loc-status').textContent = message;
}

// The first colour of the palette no location on the chart has.
function freeColor() {
  const used = new Set(state.locs.map((id) => places.get(id)?.color).filter(Boolean));
  return PALETTE.find((c) => !used.has(c)) || PALETTE[0];
}

// Names for the ids not known yet (one request), then the series of those not loaded yet. Ids
// the server does not know are dropped from the selection, and said so.
async function loadPlaces() {
  const missing = state.locs.filter((id) => !places.has(id));
  if (missing.length) {
    const found = await getJson('/api/v1/locations?id=' + missing.map(encodeURIComponent).join(','));
    for (const l of found.locations) places.set(l.id, { ...l, color: null, raw: null });
    const unknown = missing.filter((id) => !places.has(id));
    if (unknown.length) {
      state.locs = state.locs.filter((id) => places.has(id));
      say(`Not a known location, left out: ${unknown.join(', ')}.`);
    }
  }
  for (const id of state.locs) {
    const p = places.get(id);
    if (!p.color) p.color = freeColor();
  }
  await Promise.all(state.locs.map(async (id) => {
    const p = places.get(id);
    if (p.raw) return;
    p.raw = id === 'US' && data ? data.raw : await getJson('/api/v1/series?location=' + encodeURIComponent(id));
  }));
}

// Daily new cases (thin) and their 7-day average (thick) of every location chosen, on the dates
// of any of them.
function drawCompare() {
  if (compareChart) {
    compareChart.destroy();
    compareChart = null;
  }
  const el = $('chart-compare');
  const shown = state.locs.map((id) => places.get(id)).filter((p) => p && p.raw);
  el.dataset.locations = shown.map((p) => p.id).join(',');
  el.classList.toggle('empty', shown.length === 0);
  if (!shown.length) {
    el.replaceChildren();
    return;
  }
  const all = new Set();
  for (const p of shown) for (const d of p.raw.date) all.add(d);
  const dates = [...all].sort();
  const at = new Map(dates.map((d, i) => [d, i]));
  const columns = [dates.map(toEpoch)];
  const series = [{ value: (u, v) => (v === null ? '–' : toDate(v)) }];
  for (const p of shown) {
    const average = new Array(dates.length).fill(null);
    const daily = new Array(dates.length).fill(null);
    p.raw.date.forEach((d, i) => {
      average[at.get(d)] = p.raw.new_cases_avg7[i];
      daily[at.get(d)] = p.raw.new_cases[i];
    });
    series.push({ label: `${p.label}: 7-day average`, stroke: p.color, width: 2.5, value: seriesValue('avg') });
    series.push({ label: `${p.label}: daily`, stroke: fade(p.color, 0.4), width: 1, points: { show: false }, value: seriesValue() });
    columns.push(forScale(average), forScale(daily));
  }
  const opts = baseOptions(el, chartHooks());
  opts.series = series;
  opts.axes = [{}, { values: axisValues, size: 60 }];
  compareChart = new uPlot(opts, columns, el);
  if (data) {
    const { from, to } = selection();
    syncing = true;
    compareChart.setScale('x', { min: toEpoch(from) - (from === to ? DAY / 2 : 0), max: toEpoch(to) + (from === to ? DAY / 2 : 0) });
    syncing = false;
  }
}

function renderChips() {
  const chips = state.locs.map((id) => {
    const p = places.get(id);
    const li = document.createElement('li');
    li.className = 'chip';
    li.dataset.id = id;
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.backgroundColor = p.color;  // CSSOM, not an inline style attribute: CSP allows it
    const name = document.createElement('span');
    name.className = 'chip-name';
    name.textContent = p.label;
    const latest = document.createElement('span');
    latest.className = 'chip-value';
    const r = p.raw;
    let last = r ? r.date.length - 1 : -1;
    while (last >= 0 && r.new_cases_avg7[last] === null) last--;
    latest.textContent = last >= 0 ? `${avg(r.new_cases_avg7[last])} a day (7-day avg, ${r.date[last]})` : 'no data';
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove';
    remove.textContent = '×';
    remove.setAttribute('aria-label', `Remove ${p.label} from the chart`);
    remove.addEventListener('click', () => removeLocation(id));
    li.append(swatch, name, latest, remove);
    return li;
  });
  $('loc-chips').replaceChildren(...chips);
  const full = state.locs.length >= MAX_LOCATIONS;
  $('loc-note').textContent = full
    ? `${MAX_LOCATIONS} locations on the chart, the most: remove one to add another.`
    : `Up to ${MAX_LOCATIONS} locations on one chart. Arrow keys choose, Enter adds.`;
}

// Shows the selection as it now is: series loaded, chart, chips, URL.
async function showSelection() {
  try {
    await loadPlaces();
  } catch (e) {
    say('The locations could not be loaded: ' + e.message);
  }
  drawCompare();
  renderChips();
  writeUrl();
  document.documentElement.dataset.compareReady = '1';
}

async function addLocation(l) {
  if (state.locs.includes(l.id)) return say(`${l.label} is on the chart already.`);
  if (state.locs.length >= MAX_LOCATIONS) return say(`At most ${MAX_LOCATIONS} locations: remove one first.`);
  if (!places.has(l.id)) places.set(l.id, { id: l.id, label: l.label, type: l.type, color: null, raw: null });
  places.get(l.id).color = freeColor();
  state.locs.push(l.id);
  say(`${l.label} added.`);
  await showSelection();
}

function removeLocation(id) {
  const i = state.locs.indexOf(id);
  if (i < 0) return;
  const p = places.get(id);
  state.locs.splice(i, 1);
  p.color = null;
  say(`${p.label} removed.`);
  drawCompare();  // what stays is loaded already
  renderChips();
  writeUrl();
  // Keep the keyboard where it was: on the next chip's button, or on the search.
  const buttons = document.querySelectorAll('#loc-chips button.remove');
  (buttons[Math.min(i, buttons.length - 1)] || $('loc-search')).focus();
}

async function initCompare() {
  await showSelection();
}

// ---- The search (a combobox over /api/v1/locations) -----------------------------------------

const picker = { seq: 0, options: [], active: -1, timer: 0 };

function renderOptions() {
  const list = $('loc-options');
  const input = $('loc-search');
  const items = picker.options.map((l, i) => {
    const li = document.createElement('li');
    li.id = `loc-option-${i}`;
    li.setAttribute('role', 'option');
    li.setAttribute('aria-selected', String(i === picker.active));
    li.dataset.id = l.id;
    const chosen = state.locs.includes(l.id);
    if (chosen) li.setAttribute('aria-disabled', 'true');
    const name = document.createElement('span');
    name.textContent = l.label;
    const kind = document.createElement('span');
    kind.className = 'kind';
    kind.textContent = `${l.type} ${l.id}${chosen ? ' · on the chart' : ''}`;
    li.append(name, kind);
    li.addEventListener('mousedown', (e) => e.preventDefault());  // the search keeps the focus
    li.addEventListener('click', () => choose(i));
    return li;
  });
  if (picker.query && !items.length) {
    const li = document.createElement('li');
    li.className = 'none';
    li.textContent = 'No state or county matches.';
    items.push(li);
  }
  list.replaceChildren(...items);
  const open = items.length > 0;
  list.hidden = !open;
  input.setAttribute('aria-expanded', String(open));
  if (picker.active >= 0) {
    input.setAttribute('aria-activedescendant', `loc-option-${picker.active}`);
    $(`loc-option-${picker.active}`).scrollIntoView({ block: 'nearest' });
  } else {
    input.removeAttribute('aria-activedescendant');
  }
}

function closeOptions() {
  picker.options = [];
  picker.active = -1;
  picker.query = '';
  picker.seq++;  // an answer still on its way is dropped
  renderOptions();
}

async function search(text) {
  const seq = ++picker.seq;
  if (!text.trim()) return closeOptions();
  try {
    const found = await getJson(`/api/v1/locations?q=${encodeURIComponent(text)}&limit=20`);
    if (seq !== picker.seq) return;
    picker.options = found.locations;
    picker.active = found.locations.length ? 0 : -1;
    picker.query = text;
    renderOptions();
  } catch (e) {
    if (seq === picker.seq) say('The search failed: ' + e.message);
  }
}

function choose(i) {
  const l = picker.options[i];
  if (!l) return;
  $('loc-search').value = '';
  closeOptions();
  addLocation(l);
}

function wirePicker() {
  const input = $('loc-search');
  input.addEventListener('input', () => {
    clearTimeout(picker.timer);
    picker.timer = setTimeout(() => search(input.value), 120);
  });
  input.addEventListener('keydown', (e) => {
    const n = picker.options.length;
    if (e.key === 'ArrowDown' && n) {
      picker.active = (picker.active + 1) % n;
      renderOptions();
    } else if (e.key === 'ArrowUp' && n) {
      picker.active = (picker.active - 1 + n) % n;
      renderOptions();
    } else if (e.key === 'Enter') {
      if (picker.active >= 0) choose(picker.active);
    } else if (e.key === 'Escape') {
      if (!n) return;
      closeOptions();
    } else {
      return;
    }
    e.preventDefault();
  });
  input.addEventListener('blur', () => closeOptions());
}

// ---- The table of states --------------------------------------------------------------------

const statesView = { rows: [], key: 'avg', dir: -1 };

const pct = (v) => (v === null || v === undefined ? '–' : (v > 0 ? '+' : v < 0 ? '−' : '') + avgFmt.format(Math.abs(v)) + '%');

function renderStates() {
  const { key, dir } = statesView;
  const value = (r) => (key === 'name' ? r.name : key === 'avg' ? r.new_cases_avg7 : r.change_14d_pct);
  const rows = [...statesView.rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || vb === null) {  // unknown last, whichever the direction
      if (va !== vb) return va === null ? 1 : -1;
      return a.name.localeCompare(b.name);
    }
    if (key === 'name') return dir * va.localeCompare(vb);
    return dir * (va - vb) || a.name.localeCompare(b.name);
  });
  const trs = rows.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.id = r.id;
    const th = document.createElement('th');
    th.scope = 'row';
    const add = document.createElement('button');
    add.type = 'button';
    add.className = 'link';
    add.textContent = r.name;
    add.setAttribute('aria-label', `Add ${r.name} to the chart`);
    add.addEventListener('click', () => addLocation({ id: r.id, label: r.name, type: 'state' }));
    th.appendChild(add);
    tr.appendChild(th);
    cell(tr, r.date || '–');
    cell(tr, avg(r.new_cases_avg7));
    cell(tr, avg(r.new_cases_avg7_14d_ago));
    const c = r.change_14d_pct;
    cell(tr, pct(c), c === null ? 'unknown' : c > 0 ? 'up' : c < 0 ? 'down' : '');
    return tr;
  });
  document.querySelector('#states tbody').replaceChildren(...trs);
  for (const b of document.querySelectorAll('#states button.sort')) {
    const th = b.parentElement;
    th.setAttribute('aria-sort', b.dataset.sort !== key ? 'none' : dir > 0 ? 'ascending' : 'descending');
  }
  $('states').dataset.sort = `${key}:${dir > 0 ? 'asc' : 'desc'}`;
}

async function loadStates() {
  for (const b of document.querySelectorAll('#states button.sort')) {
    b.addEventListener('click', () => {
      const key = b.dataset.sort;
      statesView.dir = statesView.key === key ? -statesView.dir : key === 'name' ? 1 : -1;
      statesView.key = key;
      renderStates();
    });
  }
  try {
    const table = await getJson('/api/v1/states');
    statesView.rows = table.states;
    $('states-note').textContent = table.count
      ? `${table.count} states and territories; latest date ${table.date || '–'}`
      : 'No state data loaded (a run loads it with --states or [datasets] states = true).';
    renderStates();
  } catch (e) {
    $('states-note').textContent = 'The states could not be loaded: ' + e.message;
  }
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
    for (const c of allCharts()) c.setSize(chartSize(c.root.parentElement));
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
    fail('The database holds no data yet: run `covid-etl run` (without access to the upstream URLs: `covid-etl run --nyt FILE --jhu FILE --states FILE`, from local copies), then reload.');
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
  if (data.x.length === 0) return;
  wirePicker();
  await Promise.all([initCompare(), loadStates()]);
}

main();
