// covid-etl dashboard: one location is the whole view (the nation by default: any state, county
// or country the API knows): its summary cards, cumulative and daily charts (uPlot over
// /api/v1/series), recent days, CSV download and the page title; a comparison of up to 6
// locations on a chosen metric; rankings (/api/v1/rankings: states, a state's counties,
// countries); the sources with their licences and freshness (/api/v1/summary). Every chart has a
// "per 100,000 people" switch, a floating tooltip that the keyboard moves (arrow keys, Home, End),
// a PNG download and a data table with the same numbers. The NYT's notes on anomalous days
// (/api/v1/annotations) and negative days are marked on the daily charts, and the days left out of
// the 7-day average (the series' `omitted`) shaded.
//
// The view lives in the URL's query string, so any view can be bookmarked, and each change is a
// history entry (the back button steps through views; popstate renders the entry):
//   loc=06,US,06037   the locations: the first is the page's, all are compared (default: US)
//   range=90d | from=YYYY-MM-DD&to=YYYY-MM-DD   the dates, within the page location's own dates
//   scale=log, per100k=1, hide=deaths,recovered, metric=deaths_avg7 (the comparison's),
//   rank=county|country, rankby=deaths,
//   map=county, map_metric=deaths, map_rate=absolute, map_date=YYYY-MM-DD, map_state=SS (the map's)
// Every URL is relative (api/v1/...), so the page works from any folder or bucket; the page asks
// data/index.json first, which says where the data is: the API (`covid-etl serve`) or the objects
// of a published copy (`covid-etl publish`: "Data" below).
// The map is web/src/map.js (window.covidMap.mount(el, opts)), loaded after the first chart.
// The page sets the performance mark "first-chart-paint" once the first chart is on screen: when
// the chart the server drew into the page (src/serve/first_chart.h) is of the view shown (its
// data-view), at its paint (Element Timing of its legend) or else in the task after the first frame
// that had it; otherwise in the task after the frame that shows uPlot's.

/* global uPlot */
'use strict';

const API = 'api/v1/';
const DAY = 86400;
const PRESETS = { all: null, '90d': 90, '30d': 30 };
const TOGGLES = ['cases', 'deaths', 'recovered'];
const MAX_LOCATIONS = 6;
const NATION = 'US';
const METRICS = {
  cases_avg7: 'New cases, 7-day average', cases_new: 'New cases, daily', cases_total: 'Cases, cumulative',
  deaths_avg7: 'New deaths, 7-day average', deaths_new: 'New deaths, daily', deaths_total: 'Deaths, cumulative',
};
const RANK_LEVELS = ['state', 'county', 'country'];

const $ = (id) => document.getElementById(id);
const intFmt = new Intl.NumberFormat('en-US');
const avgFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const rateFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

const state = {
  locs: [NATION], range: 'all', from: null, to: null, log: false, hidden: new Set(), per100k: false,
  metric: 'cases_avg7', rank: 'state', rankBy: 'cases',
};
const places = new Map();  // id -> { id, label, type, state, population, color } from /api/v1/locations
const seriesCache = new Map();  // id -> the API's series (a promise while it loads)
const notesCache = new Map();  // id -> the API's annotations (a promise)
let view = null;       // { id, raw, x, notes } of the page's location
let charts = [];       // the page location's uPlot instances, in page order
let compareChart = null;
let syncing = false;
let painted = false;
let onPainted = null;
let drawnPaint = 0;  // when the server's drawing of the first chart was painted (ms), 0: not known
let drawnShown = 0;  // the task after the first frame with the drawing in the page (ms), 0: none
let drawnView = null;  // the data-view of the server's drawing (see viewKey), and the view shown
let drawnKey = null;
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.identifier === 'first-chart') drawnPaint = e.renderTime;
  }).observe({ type: 'element', buffered: true });
} catch (e) { /* no Element Timing: the frame after uPlot's chart is marked */ }
let summary = null;
let colors = null;

const isDate = (s) => typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s + 'T00:00:00Z'));
const toEpoch = (d) => Date.parse(d + 'T00:00:00Z') / 1000;
const toDate = (t) => new Date(t * 1000).toISOString().slice(0, 10);
const known = (v) => v !== null && v !== undefined;
const num = (v) => (known(v) ? intFmt.format(v) : '–');
const signed = (v) => (known(v) ? (v > 0 ? '+' : '') + intFmt.format(v) : '–');
const avg = (v) => (known(v) ? avgFmt.format(v) : '–');
const rate = (v) => (known(v) ? rateFmt.format(v) : '–');
const round2 = (v) => Math.round(v * 100) / 100;
// A column of a series response (all null when the response lacks it).
const col = (raw, key) => raw[key] || new Array(raw.date.length).fill(null);
const perPop = (arr, pop) => arr.map((v) => (known(v) && pop ? round2((v * 1e5) / pop) : null));

function cssColors() {
  const s = getComputedStyle(document.documentElement);
  const v = (k) => s.getPropertyValue('--' + k).trim();
  return {
    fg: v('fg'), muted: v('muted'), grid: v('grid'), cases: v('cases'), deaths: v('deaths'), recovered: v('recovered'),
    casesDaily: v('cases-daily'), deathsDaily: v('deaths-daily'), revision: v('revision'), note: v('note'),
    omitted: v('omitted'), palette: v('palette').split(/\s+/).filter(Boolean),
  };
}

// ---- URL state ----------------------------------------------------------------------------

function readUrl() {
  const q = new URLSearchParams(location.search);
  Object.assign(state, { range: 'all', from: null, to: null, hidden: new Set(), locs: [NATION] });
  if (q.get('range') in PRESETS) state.range = q.get('range');
  const from = q.get('from');
  const to = q.get('to');
  if (isDate(from) || isDate(to)) {
    state.range = 'custom';
    state.from = isDate(from) ? from : null;
    state.to = isDate(to) ? to : null;
  }
  state.log = q.get('scale') === 'log';
  state.per100k = q.get('per100k') === '1';
  state.metric = q.get('metric') in METRICS ? q.get('metric') : 'cases_avg7';
  state.rank = RANK_LEVELS.includes(q.get('rank')) ? q.get('rank') : 'state';
  state.rankBy = q.get('rankby') === 'deaths' ? 'deaths' : 'cases';
  for (const key of (q.get('hide') || '').split(',')) if (TOGGLES.includes(key)) state.hidden.add(key);
  const loc = q.get('loc');
  if (loc !== null) {
    state.locs = [...new Set(loc.split(',').map((s) => s.trim()).filter((s) => s && s.length <= 200))]
      .slice(0, MAX_LOCATIONS);
  }
}

const MAP_KEYS = ['map', 'map_metric', 'map_rate', 'map_date', 'map_state'];

function urlOf() {
  const q = new URLSearchParams();
  if (state.locs.join(',') !== NATION) q.set('loc', state.locs.join(','));
  if (state.range === 'custom') {
    if (state.from) q.set('from', state.from);
    if (state.to) q.set('to', state.to);
  } else if (state.range !== 'all') {
    q.set('range', state.range);
  }
  if (state.log) q.set('scale', 'log');
  if (state.per100k) q.set('per100k', '1');
  if (state.hidden.size) q.set('hide', [...state.hidden].sort().join(','));
  if (state.metric !== 'cases_avg7') q.set('metric', state.metric);
  if (state.rank !== 'state') q.set('rank', state.rank);
  if (state.rankBy !== 'cases') q.set('rankby', state.rankBy);
  // The map's own view (map.js's controls keep it: the hook at the end of this file).
  const now = new URLSearchParams(location.search);
  for (const key of MAP_KEYS) if (now.has(key)) q.set(key, now.get(key));
  const s = q.toString().replace(/%2C/g, ',').replace(/%3A/g, ':');
  return s ? '?' + s : location.pathname;
}

// A new history entry for a change of the view (replace: the same view, said better).
function writeUrl(replace) {
  const url = urlOf();
  if (url === location.search || (url === location.pathname && !location.search)) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
}

// ---- Data ---------------------------------------------------------------------------------

// Where the data comes from. data/index.json (preloaded by index.html) says: `covid-etl serve`
// answers {"api": "api/v1/", "objects": null}: every request goes to the API. A site made by
// `covid-etl publish` (a folder or bucket, no covid-etl behind it) holds {"objects": {request:
// object}, "locations": object}: each API request is answered by its published object (a
// location's series by two: publishedSeries), found by
// requestKey(), which src/publish/publisher.h (canonical_request) mirrors; a request it does not
// map answers 404 "not published"; /api/v1/locations is answered here from the list of every
// location, searched as the server searches (src/serve/locations.h).
let siteIndex = null;
let published = false;  // known once dataIndex() has answered
function dataIndex() {
  if (!siteIndex) {
    siteIndex = fetch('data/index.json')
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null)
      .then((j) => {
        published = !!(j && j.objects);
        // A published copy has no API to link to: say what it is instead.
        const foot = document.querySelector('footer p');
        if (published && foot) {
          foot.innerHTML = 'Published by <code>covid-etl publish</code>: the data as of its last run. Charts: <a href="uPlot.LICENSE.txt">uPlot</a> (MIT).';
        }
        return published ? j : null;
      });
  }
  return siteIndex;
}
// The canonical key of an API URL: its path after api/v1/, then its parameters sorted by name,
// decoded ('api/v1/map?metric=cases&level=state' -> 'map?level=state&metric=cases').
function requestKey(url) {
  const rest = url.slice(API.length);
  const q = rest.indexOf('?');
  const params = [...new URLSearchParams(q < 0 ? '' : rest.slice(q + 1))]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const path = q < 0 ? rest : rest.slice(0, q);
  return params.length ? path + '?' + params.map(([k, v]) => `${k}=${v}`).join('&') : path;
}
const jsonResponse = (body, status) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
// fetch() for the page's data: the API's URL, answered by the API or by a published object.
async function dataFetch(url) {
  const site = url.startsWith(API) ? await dataIndex() : null;
  if (!site) return fetch(url);
  const key = requestKey(url);
  if (key === 'locations' || key.startsWith('locations?')) return jsonResponse(await searchLocations(site, key), 200);
  const object = site.objects[key];
  if (!object) return jsonResponse({ status: 404, error: 'not_found', message: `not published: ${key}` }, 404);
  if (Array.isArray(object)) return jsonResponse(await publishedSeries(object), 200);
  return fetch(object);
}
// A location's series from its two published objects (src/publish/publisher.h): its history
// (the rows before its level's last month) and, in an object shared by its level (a state's
// counties), every location's recent rows by id; joined, they are the API's response.
const recentObjects = new Map();
async function publishedSeries([historyKey, recentKey]) {
  const get = (k) => fetch(k).then((r) => {
    if (!r.ok) throw new Error(`${k}: HTTP ${r.status}`);
    return r.json();
  });
  if (!recentObjects.has(recentKey)) {
    const p = get(recentKey);
    recentObjects.set(recentKey, p);
    p.catch(() => recentObjects.delete(recentKey));
  }
  const [h, all] = await Promise.all([get(historyKey), recentObjects.get(recentKey)]);
  const r = all[h.location];
  if (!r || !r.count) return h;
  const out = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.concat(r[k]) : v;
  out.from = h.count ? h.from : r.from;
  out.to = r.to;
  out.count = h.count + r.count;
  return out;
}
window.covidData = { fetch: dataFetch };  // map.js asks its data through it

// /api/v1/locations over the published list of every location: LocationIndex::search and
// locations_json (src/serve/locations.cc) in JavaScript.
let allLocations = null;
const fold = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
async function searchLocations(site, key) {
  if (!allLocations) {
    allLocations = fetch(site.locations).then((r) => {
      if (!r.ok) throw new Error(`${site.locations}: HTTP ${r.status}`);
      return r.json();
    }).then((j) => j.locations.map((l) => ({ l, name: fold(l.name), label: fold(l.label), id: fold(l.id) })));
    allLocations.catch(() => { allLocations = null; });
  }
  const all = await allLocations;
  const p = new URLSearchParams(key.includes('?') ? key.slice(key.indexOf('?') + 1) : '');
  const type = p.get('type') || '';
  const text = p.get('q') || '';
  const limit = Number(p.get('limit') || 100);
  const ids = p.has('id') ? new Set(p.get('id').split(',').filter(Boolean)) : null;
  const q = fold(text.replace(/^[ \t]+|[ \t]+$/g, ''));
  const hits = [];
  for (const x of all) {
    if ((type && x.l.type !== type) || (ids && !ids.has(x.l.id))) continue;
    let rank;
    if (!q || x.name === q || x.id === q) rank = 0;
    else if (x.name.startsWith(q) || x.id.startsWith(q) || (x.l.fips && x.l.fips.startsWith(q))) rank = 1;
    else {
      let at = x.label.indexOf(q);
      if (at < 0) continue;
      rank = 3;
      for (; at >= 0; at = x.label.indexOf(q, at + 1)) {
        if (at === 0 || !/[a-z0-9\u0080-\uffff]/.test(x.label[at - 1])) { rank = 2; break; }
      }
    }
    hits.push({ rank, x });
  }
  const level = (t) => ({ nation: 0, state: 1, county: 2 }[t] ?? 3);
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  hits.sort((a, b) => a.rank - b.rank || level(a.x.l.type) - level(b.x.l.type) || cmp(a.x.name, b.x.name) ||
    cmp(a.x.label, b.x.label) || cmp(a.x.l.id, b.x.l.id));
  const list = hits.slice(0, limit).map((h) => h.x.l);
  return { q: text, type: type || null, limit, total: hits.length, count: list.length, locations: list };
}

async function getJson(url) {
  const res = await dataFetch(url);
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error((body && body.message) || `${url}: HTTP ${res.status}`);
  return body;
}

function loadSeries(id) {
  if (!seriesCache.has(id)) {
    const p = getJson(API + 'series?location=' + encodeURIComponent(id));
    p.catch(() => seriesCache.delete(id));
    seriesCache.set(id, p);
  }
  return seriesCache.get(id);
}

function loadNotes(id) {
  if (!notesCache.has(id)) notesCache.set(id, getJson(API + 'annotations?location=' + encodeURIComponent(id)).catch(() => ({ annotations: [] })));
  return notesCache.get(id);
}

// Names and populations of the ids not known yet (one request); ids the server does not know
// are dropped from the view, and said so.
async function loadPlaces(ids) {
  const missing = ids.filter((id) => !places.has(id));
  if (!missing.length) return [];
  const found = await getJson(API + 'locations?id=' + missing.map(encodeURIComponent).join(','));
  for (const l of found.locations) places.set(l.id, { ...l, color: null });
  return missing.filter((id) => !places.has(id));
}

const labelOf = (id) => places.get(id)?.label || id;
const popOf = (id) => places.get(id)?.population || null;
const nameForTitle = (id) => (id === NATION ? 'the United States' : labelOf(id));

// ---- The selection ------------------------------------------------------------------------

// The selected [from, to] within the page location's own dates (never another location's).
function selection() {
  const dates = view.raw.date;
  const first = dates[0];
  const last = dates[dates.length - 1];
  let from = first;
  let to = last;
  if (state.range === 'custom') {
    if (state.from && state.from > first) from = state.from;
    if (state.to && state.to < last) to = state.to;
    if (from > last) from = last;
    if (to < first) to = first;
    if (from > to) [from, to] = [to, from];
  } else if (PRESETS[state.range]) {
    from = toDate(toEpoch(last) - (PRESETS[state.range] - 1) * DAY);
    if (from < first) from = first;
  }
  return { from, to };
}

// ---- Charts -------------------------------------------------------------------------------

function chartSize(el) {
  const width = Math.max(260, el.clientWidth || 600);
  return { width, height: width < 600 ? 200 : 290 };
}

const forScale = (arr) => (state.log ? arr.map((v) => (v !== null && v > 0 ? v : null)) : arr);

// A value axis' labels: in millions (M) or thousands (k) with the decimals their step needs
// (20M, 2.5M, 1.25M), or whole numbers grouped where that would take more than two (a narrow
// range such as a few weeks' cumulative counts: 39,060,200 and 39,060,400, not 39.1M twice); on a
// log scale each by its own size (1k, 10k, 1M). src/serve/first_chart.cc labels the same way.
function axisValues(u, splits, axisIdx, space, incr) {
  const own = (v) => {
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 }) + 'M';
    if (a >= 1e3) return (v / 1e3).toLocaleString('en-US', { maximumFractionDigits: 1 }) + 'k';
    return v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  };
  const known = splits.filter((v) => v !== null);
  const log = u && axisIdx !== undefined && u.scales[u.axes[axisIdx].scale].distr === 3;
  const step = incr || (known.length > 1 ? Math.abs(known[1] - known[0]) : 0);
  if (log || !(step > 0)) return splits.map((v) => (v === null ? '' : own(v)));
  const decimals = (x) => {
    let d = 0;
    while (d < 6 && Math.abs(Math.round(x * 10 ** d) - x * 10 ** d) > 1e-6) d++;
    return d;
  };
  const big = Math.max(...known.map(Math.abs));
  let unit = big >= 1e6 ? 1e6 : big >= 1e3 ? 1e3 : 1;
  let d = decimals(step / unit);
  if (unit > 1 && d > 2) {
    unit = 1;
    d = decimals(step);
  }
  const suffix = unit === 1e6 ? 'M' : unit === 1e3 ? 'k' : '';
  return splits.map((v) => (v === null ? '' : v === 0 ? '0' : (v / unit).toLocaleString('en-US', { maximumFractionDigits: Math.min(d, 4) }) + suffix));
}

// A value axis as wide as its widest label, and never narrower than 60 px (a fixed width cut
// "39,060,500" to "060,500"): uPlot asks again with the labels it will draw. The server's drawing
// sizes its label columns to their text too (first_chart.cc, style.css .ssr-w).
function axisSize(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return axis._size;  // settled: uPlot's layout loop stops
  let widest = 0;
  if (values) {
    u.ctx.font = axis.font[0];
    for (const v of values) widest = Math.max(widest, u.ctx.measureText(String(v)).width);
  }
  return Math.max(60, Math.ceil(axis.ticks.size + axis.gap + widest / (window.devicePixelRatio || 1) + 2));
}

const fmtValue = (kind) => (u, v) => (!known(v) ? '–' : state.per100k ? rate(v) : kind === 'avg' ? avg(v) : intFmt.format(v));
const dateValue = (u, v) => (v === null ? '–' : toDate(v));
const dateSeries = () => ({ label: 'Date', value: dateValue });

function baseOptions(el, hooks) {
  const { width, height } = chartSize(el);
  const distr = state.log ? 3 : 1;
  const axis = { stroke: colors.fg, grid: { stroke: colors.grid }, ticks: { stroke: colors.grid } };
  return {
    width,
    height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    cursor: { sync: { key: 'covid', setSeries: false }, drag: { x: true, y: false } },
    legend: { live: true },
    scales: { x: { time: true }, y: { distr, log: 10 }, y2: { distr, log: 10 } },
    axes: [{ ...axis }, { ...axis, values: axisValues, size: axisSize }],
    hooks,
  };
}

// The page location's columns as the charts show them (per 100,000 people when asked: the API's
// rates, or the counts divided by the population for the daily values; null without one).
function columns() {
  const r = view.raw;
  const pop = popOf(view.id);
  if (!state.per100k) {
    return { cases: r.cases, deaths: r.deaths, recovered: r.recovered, new_cases: r.new_cases, new_deaths: r.new_deaths, new_cases_avg7: r.new_cases_avg7, new_deaths_avg7: r.new_deaths_avg7 };
  }
  return {
    cases: col(r, 'cases_per_100k'), deaths: col(r, 'deaths_per_100k'), recovered: perPop(r.recovered, pop),
    new_cases: perPop(r.new_cases, pop), new_deaths: perPop(r.new_deaths, pop),
    new_cases_avg7: col(r, 'new_cases_avg7_per_100k'), new_deaths_avg7: col(r, 'new_deaths_avg7_per_100k'),
  };
}

function totalChart(el, hooks) {
  const c = columns();
  const opts = baseOptions(el, hooks);
  const per = state.per100k ? ' per 100k' : '';
  opts.series = [
    dateSeries(),
    { key: 'cases', label: 'Cases' + per, scale: 'y', stroke: colors.cases, width: 2, value: fmtValue(), show: !state.hidden.has('cases') },
    { key: 'deaths', label: `Deaths${per} (right axis)`, scale: 'y2', stroke: colors.deaths, width: 2, value: fmtValue(), show: !state.hidden.has('deaths') },
    { key: 'recovered', label: 'Recovered' + per, scale: 'y', stroke: colors.recovered, width: 2, dash: [6, 3], value: fmtValue(), show: !state.hidden.has('recovered') },
  ];
  opts.axes.push({ ...opts.axes[1], scale: 'y2', side: 1, grid: { show: false }, stroke: colors.deaths });
  const cols = [view.x, forScale(c.cases), forScale(c.deaths), forScale(c.recovered)];
  if (view.id !== NATION) {  // recovered is reported for the nation only
    opts.series.pop();
    cols.pop();
  }
  return new uPlot(opts, cols, el);
}

// Shades the days the 7-day average left out (omitted: `which` or "both") before the series are
// drawn, and marks the notes' days with a triangle at the top after.
function markers(which) {
  const omitted = (u) => {
    const om = view.raw.omitted;
    if (!om) return;
    const { ctx } = u;
    const { top, height } = u.bbox;
    const half = u.valToPos(DAY, 'x', true) - u.valToPos(0, 'x', true);
    ctx.save();
    ctx.fillStyle = colors.omitted;
    for (let i = 0; i < om.length; i++) {
      if (om[i] !== which && om[i] !== 'both') continue;
      const x = u.valToPos(view.x[i], 'x', true);
      ctx.fillRect(x - half / 2, top, Math.max(1, half), height);
    }
    ctx.restore();
  };
  const notes = (u) => {
    const { ctx } = u;
    const top = u.bbox.top;
    const s = 6 * devicePixelRatio;
    ctx.save();
    ctx.fillStyle = colors.note;
    for (const n of view.notes) {
      if (n.type !== which && n.type !== 'both') continue;
      const x = u.valToPos(toEpoch(n.from), 'x', true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x - s, top);
      ctx.lineTo(x + s, top);
      ctx.lineTo(x, top + s * 1.4);
      ctx.fill();
    }
    ctx.restore();
  };
  return { drawClear: [omitted], draw: [notes] };
}

function dailyChart(el, hooks, which) {
  const c = columns();
  const daily = c['new_' + which];
  const average = c['new_' + which + '_avg7'];
  const revisions = view.raw['new_' + which].map((v, i) => (v !== null && v < 0 ? daily[i] : null));
  const m = markers(which);
  const opts = baseOptions(el, { ...hooks, drawClear: m.drawClear, draw: [...(hooks.draw || []), ...m.draw] });
  const bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.9, 40] }) : undefined;
  const per = state.per100k ? ' per 100k' : '';
  opts.series = [
    dateSeries(),
    { label: (which === 'cases' ? 'New cases' : 'New deaths') + per, stroke: colors[which + 'Daily'], fill: colors[which + 'Daily'], width: 1, paths: bars, points: { show: false }, value: fmtValue() },
    { label: '7-day average' + per, stroke: colors[which], width: 2, value: fmtValue('avg') },
    { label: 'Revision (negative day)', stroke: colors.revision, width: 0, paths: () => null, points: { show: true, size: 8, fill: colors.revision, stroke: colors.revision }, value: fmtValue() },
  ];
  return new uPlot(opts, [view.x, forScale(daily), forScale(average), forScale(revisions)], el);
}

const nextPaint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

// The view of the page's first chart as the server writes it in its drawing's data-view.
function viewKey() {
  const { from, to } = selection();
  return [view.id, from, to, state.per100k ? 1 : 0, [...state.hidden].sort().join(',')].join('|');
}

// The first contentful paint's time (ms): no frame before it was on screen (a frame can be made
// before the browser shows any; 0 when none is reported within 3 s).
const firstPaint = new Promise((resolve) => {
  setTimeout(() => resolve(0), 3000);
  try {
    new PerformanceObserver((list, obs) => {
      for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') { obs.disconnect(); resolve(e.startTime); }
    }).observe({ type: 'paint', buffered: true });
  } catch (e) { resolve(0); }
});

function markPainted() {
  if (painted) return;
  painted = true;
  performance.mark('first-chart-draw');
  Promise.all([nextPaint(), firstPaint]).then(([, fcp]) => {
    const drawn = drawnView && drawnView === drawnKey ? drawnPaint || drawnShown : 0;
    performance.mark('first-chart-paint', { startTime: Math.max(fcp, drawn || performance.now()) });
    document.documentElement.dataset.chartPainted = '1';  // style.css: the sections below, in full
    if (onPainted) onPainted();
  });
}

function onZoom(u) {
  if (syncing || !view) return;
  const min = u.scales.x.min;
  const max = u.scales.x.max;
  if (min === null || max === null) return;
  const dates = view.raw.date;
  let from = toDate(Math.ceil(min / DAY) * DAY);
  let to = toDate(Math.floor(max / DAY) * DAY);
  if (from < dates[0]) from = dates[0];
  if (to > dates[dates.length - 1]) to = dates[dates.length - 1];
  if (from > to) return;
  const sel = selection();
  if (from === sel.from && to === sel.to) return;
  if (from === dates[0] && to === dates[dates.length - 1]) {
    Object.assign(state, { range: 'all', from: null, to: null });
  } else {
    Object.assign(state, { range: 'custom', from, to });
  }
  applyRange(u);
  writeUrl();
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

// The floating tooltip: the values under the cursor, the notes on that day, whether it was left
// out of the average. The keyboard moves the cursor (chart.js keydown below).
function tooltipHook(which) {
  return (u) => {
    let tip = u.root.querySelector('.tip');
    if (!tip) {
      tip = document.createElement('div');
      tip.className = 'tip';
      tip.setAttribute('role', 'status');
      tip.hidden = true;
      u.root.appendChild(tip);
    }
    const i = u.cursor.idx;
    if (i === null || i === undefined || u.cursor.left < 0) {
      tip.hidden = true;
      return;
    }
    const date = toDate(u.data[0][i]);
    const lines = [[date, '']];
    u.series.forEach((s, k) => {
      if (k === 0 || !s.show) return;
      const v = u.data[k][i];
      if (s.label.startsWith('Revision') && !known(v)) return;
      lines.push([s.label, s.value(u, v)]);
    });
    if (which && view) {
      const j = view.raw.date.indexOf(date);
      const om = j >= 0 && view.raw.omitted ? view.raw.omitted[j] : null;
      if (om === which || om === 'both') lines.push(['Left out of the 7-day average', '']);
      for (const n of view.notes) {
        if ((n.type === which || n.type === 'both') && n.from <= date && date <= n.to) lines.push(['Note: ' + n.text, '']);
      }
    }
    tip.replaceChildren(...lines.map(([k, v], n) => {
      const p = document.createElement(n === 0 ? 'strong' : 'div');
      p.textContent = v ? `${k}: ${v}` : k;
      return p;
    }));
    tip.dataset.date = date;
    tip.hidden = false;
    const over = u.over;
    const x = over.offsetLeft + u.cursor.left;
    const right = x > over.offsetLeft + over.clientWidth / 2;
    tip.style.left = right ? '' : `${x + 12}px`;
    tip.style.right = right ? `${u.root.clientWidth - x + 12}px` : '';
    tip.style.top = `${over.offsetTop + 8}px`;
  };
}

const chartHooks = (which) => ({
  setScale: [(u, key) => { if (key === 'x') onZoom(u); }],
  setSeries: [(u, i) => { if (i !== null) onSeriesToggle(u, i); }],
  setCursor: [tooltipHook(which)],
});

const allCharts = () => (compareChart ? [...charts, compareChart] : charts);

// Arrow keys move the cursor of a focused chart along its dates; Home and End go to the ends.
function wireKeyboard(el) {
  el.addEventListener('keydown', (e) => {
    const u = allCharts().find((c) => c.root.parentElement === el);
    if (!u || !['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) return;
    e.preventDefault();
    const xs = u.data[0];
    let lo = xs.findIndex((t) => t >= u.scales.x.min);
    let hi = xs.length - 1;
    while (hi > 0 && xs[hi] > u.scales.x.max) hi--;
    if (lo < 0) lo = 0;
    let i = u.cursor.idx;
    if (i === null || i === undefined || u.cursor.left < 0) i = e.key === 'ArrowLeft' ? hi + 1 : lo - 1;
    if (e.key === 'ArrowLeft') i--;
    else if (e.key === 'ArrowRight') i++;
    else i = e.key === 'Home' ? lo : hi;
    i = Math.min(hi, Math.max(lo, i));
    u.setCursor({ left: u.valToPos(xs[i], 'x'), top: u.over.clientHeight / 2 });
  });
  el.addEventListener('blur', () => {
    const u = allCharts().find((c) => c.root.parentElement === el);
    if (u) u.setCursor({ left: -10, top: -10 });
  });
}

// Builds the page location's three charts. The first time, the first chart is drawn and painted
// before the others are made, so that it is on screen as early as possible.
async function buildCharts(first) {
  for (const c of charts) c.destroy();
  colors = colors || cssColors();
  const drawn = $('chart-total').querySelector('.ssr');
  if (drawn && first) {
    drawnView = drawn.dataset.view;
    drawnKey = viewKey();
  }
  for (const n of $('chart-total').querySelectorAll('.ssr, .ssr-legend')) n.remove();
  const total = totalChart($('chart-total'), { ...chartHooks(null), draw: [markPainted] });
  charts = [total];
  if (first) {
    syncing = true;
    const { from, to } = selection();
    total.setScale('x', { min: toEpoch(from), max: toEpoch(to) });
    syncing = false;
    await new Promise((resolve) => {
      onPainted = resolve;
      setTimeout(resolve, 1000);
    });
  }
  charts.push(dailyChart($('chart-cases'), chartHooks('cases'), 'cases'), dailyChart($('chart-deaths'), chartHooks('deaths'), 'deaths'));
  applyRange(null);
}

// Sets every chart's x range to the selection (except the one the user just zoomed), and the
// controls, table and CSV link with it.
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
  for (const d of document.querySelectorAll('details.table-view[open]')) fillDataTable(d);
}

// ---- Controls, cards, table ------------------------------------------------------------------

function updateControls(from, to) {
  for (const b of document.querySelectorAll('button.preset')) b.setAttribute('aria-pressed', String(b.dataset.range === state.range));
  const dates = view.raw.date;
  for (const id of ['from', 'to']) {
    $(id).min = dates[0];
    $(id).max = dates[dates.length - 1];
  }
  $('from').value = from;
  $('to').value = to;
  $('scale').setAttribute('aria-pressed', String(state.log));
  $('per100k').setAttribute('aria-pressed', String(state.per100k));
  for (const key of TOGGLES) $('show-' + key).checked = !state.hidden.has(key);
  $('metric').value = state.metric;
  $('rank-level').value = state.rank;
  $('rank-metric').value = state.rankBy;
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function updateTable(from, to) {
  const r = view.raw;
  const dates = r.date;
  let hi = dates.length - 1;
  while (hi >= 0 && dates[hi] > to) hi--;
  let lo = hi;
  while (lo > 0 && dates[lo - 1] >= from) lo--;
  const count = hi >= lo && hi >= 0 ? hi - lo + 1 : 0;
  const rows = [];
  for (let i = hi; i >= lo && i > hi - 14; i--) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = dates[i];
    tr.appendChild(th);
    cell(tr, num(r.cases[i]));
    for (const [k, col] of [['new_cases', 'new_cases_avg7'], ['new_deaths', 'new_deaths_avg7']]) {
      if (k === 'new_deaths') cell(tr, num(r.deaths[i]));
      const v = r[k][i];
      const td = cell(tr, signed(v), known(v) && v < 0 ? 'neg' : '');
      if (known(v) && v < 0) td.title = 'Negative: a revision upstream';
      const om = r.omitted ? r.omitted[i] : null;
      const left = om === 'both' || om === k.slice(4);
      cell(tr, avg(r[col][i]) + (left ? ' *' : ''), left ? 'omitted' : '').title = left ? 'This day is left out of the 7-day average' : '';
    }
    cell(tr, r.recovered[i] === null ? 'not reported' : num(r.recovered[i]), r.recovered[i] === null ? 'unknown' : '');
    rows.push(tr);
  }
  document.querySelector('#days tbody').replaceChildren(...rows);
  const csv = $('csv');
  const id = view.id;
  csv.href = published ? exportCsv(r, lo, hi)
    : `${API}export.csv?location=${encodeURIComponent(id)}&from=${from}&to=${to}${state.per100k ? '&per_100k=true' : ''}`;
  csv.download = `covid-${id.replace(/[^A-Za-z0-9_-]/g, '-').toLowerCase()}-${from}-to-${to}.csv`;
  csv.textContent = `Download CSV (${intFmt.format(count)} day${count === 1 ? '' : 's'})`;
}

// A published copy has no export endpoint: the same columns (serve/series.h export_csv), made
// here from the series, as a data: URL.
function exportCsv(r, lo, hi) {
  const cols = ['cases', 'deaths', 'recovered'];
  if (state.per100k) cols.push('cases_per_100k', 'deaths_per_100k', 'new_cases_avg7_per_100k', 'new_deaths_avg7_per_100k');
  const lines = [['date', ...cols].join(',')];
  for (let i = lo; i <= hi && i >= 0; i++) lines.push([r.date[i], ...cols.map((c) => (r[c] && known(r[c][i]) ? r[c][i] : ''))].join(','));
  return 'data:text/csv;charset=utf-8,' + encodeURIComponent(lines.join('\n') + '\n');
}

// Whether a series is weekly (the WHO's since 2023: one date a week, each date's new counts are
// the week's): its last two dates are 7 days apart. Its 7-day average is the week's count / 7.
function isWeekly(r) {
  const n = r.date.length;
  return n >= 2 && Date.parse(r.date[n - 1]) - Date.parse(r.date[n - 2]) === 7 * DAY * 1000;
}

function showCards() {
  const r = view.raw;
  const n = r.date.length;
  const i = n - 1;
  const pop = popOf(view.id);
  const last = (col) => (n && r[col] ? r[col][i] : null);
  const weekly = isWeekly(r);
  $('s-date').textContent = n ? r.date[i] : 'no data';
  $('s-days').textContent = !n ? '' : weekly ? `${intFmt.format(n)} weekly reports since ${r.date[0]}`
    : `${intFmt.format(n)} days since ${r.date[0]}`;
  for (const what of ['cases', 'deaths']) {
    const title = `${weekly ? 'Weekly' : 'Daily'} new ${what}`;
    $('h-' + what).textContent = title;
    $('chart-' + what).setAttribute('aria-label', `${title} with their 7-day average; arrow keys read the values`);
    $('s-' + what).textContent = num(last(what));
    $(`s-${what}-new`).textContent = n ? `${signed(last('new_' + what))} that ${weekly ? 'week' : 'day'} · 7-day avg ${avg(last(`new_${what}_avg7`))}` : '';
    $(`s-${what}-rate`).textContent = !n ? '' : pop
      ? `${rate(last(what + '_per_100k'))} per 100k · 7-day avg ${rate(last(`new_${what}_avg7_per_100k`))} per 100k`
      : 'No population figure: no rate per 100k';
  }
  let k = n - 1;
  while (k >= 0 && r.recovered[k] === null) k--;
  $('s-recovered-card').hidden = view.id !== NATION;
  $('s-recovered').textContent = k >= 0 ? num(r.recovered[k]) : '–';
  $('s-recovered-date').textContent = k >= 0 ? `last reported ${r.date[k]}` : 'never reported';
  $('recovered-note').textContent = k >= 0 ? `; the last value is from ${r.date[k]}` : '';
  $('box-total').classList.toggle('no-recovered', view.id !== NATION);
  $('show-recovered').parentElement.hidden = view.id !== NATION;
  const neg = r.new_cases.filter((v) => v !== null && v < 0).length + r.new_deaths.filter((v) => v !== null && v < 0).length;
  $('revision-note').textContent = neg ? ` (${neg} such day${neg === 1 ? '' : 's'} in the whole series)` : '';
  const place = places.get(view.id);
  $('title').textContent = `COVID-19 in ${nameForTitle(view.id)}`;
  document.title = `COVID-19 in ${nameForTitle(view.id)} · covid-etl`;
  $('sub').textContent = view.id === NATION
    ? 'Cumulative and daily cases and deaths from The New York Times; recoveries from Johns Hopkins University.'
    : `Cumulative and daily cases and deaths from ${(place && place.source) || 'its source'}.`;
  const noRate = state.per100k && !pop;
  $('rate-note').hidden = !noRate;
  $('rate-note').textContent = noRate ? `No population figure is known for ${labelOf(view.id)}: no rates per 100,000 people can be shown, so the charts are empty.` : '';
  const notes = view.notes;
  const list = notes.map((n) => {
    const li = document.createElement('li');
    li.textContent = `${n.from}${n.to !== n.from ? ' – ' + n.to : ''} (${n.type}${n.omit_from_average ? ', left out of the 7-day average' : ''}): ${n.text}`;
    return li;
  });
  $('notes').replaceChildren(...list);
  $('notes-box').hidden = !list.length;
  $('notes-count').textContent = `${list.length} note${list.length === 1 ? '' : 's'} on ${labelOf(view.id)}'s data`;
}

function ago(iso) {
  const ms = Date.now() - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const h = ms / 3.6e6;
  if (h < 1) return Math.max(0, Math.round(ms / 6e4)) + ' min ago';
  if (h < 48) return Math.round(h) + ' h ago';
  return Math.round(h / 24) + ' days ago';
}

// The first clause of an error (up to a colon, semicolon or parenthesis), at most 60 characters.
function shortReason(error) {
  const clause = error.split(/: |; | \(/)[0];
  return clause.length <= 60 ? clause : clause.slice(0, 59) + '…';
}

function showFreshness(s) {
  const card = $('s-fresh-card');
  card.classList.remove('ok', 'stale', 'failed');
  const last = s.last_run;
  const good = s.last_success;
  let text = 'up to date';
  let cls = 'ok';
  if (!last) [text, cls] = ['no runs yet', 'stale'];
  else if (last.status === 'failed') [text, cls] = ['last run failed', 'failed'];
  else if (last.status === 'running') text = 'a run is loading';
  else if (good && Date.now() - Date.parse(good.finished_at) > 36 * 3.6e6) [text, cls] = ['stale', 'stale'];
  $('s-fresh').textContent = text;
  card.classList.add(cls);
  const parts = [good ? `last success ${ago(good.finished_at)} (run ${good.id}, ${good.status})` : 'no successful run yet'];
  // A failed run's error can be a long URL message: the card says a short reason, the whole
  // text is one click away (it must not stretch the row of cards).
  const error = last && last.status === 'failed' ? last.error || '' : '';
  if (error) parts.push(`run ${last.id} failed in ${last.stage || 'a stage'}: ${shortReason(error)}`);
  $('s-run').textContent = parts.join(' · ');
  $('s-run-more').hidden = !error || shortReason(error) === error;
  $('s-run-error').textContent = error;
  // Each publisher's sources' freshness beside its licence (by source name: JHU's recoveries
  // belong to the national dataset, but their state is JHU's own).
  for (const li of document.querySelectorAll('#sources li[data-sources]')) {
    const names = li.dataset.sources.split(',');
    const mine = (s.sources || []).filter((x) => names.includes(x.name));
    const badge = li.querySelector('.badge');
    if (!mine.length) {
      badge.textContent = 'not loaded';
      badge.className = 'badge none';
      continue;
    }
    const worst = mine.find((x) => x.state === 'stale') || mine.find((x) => x.state === 'archived') || mine[0];
    badge.textContent = worst.text;
    badge.className = 'badge ' + worst.state;
    badge.title = mine.map((x) => `${x.name} (${x.dataset}): ${x.text}${x.changed_at ? ', content last changed ' + x.changed_at.slice(0, 10) : ''}`).join('; ');
  }
}

// ---- The data table view of each chart ---------------------------------------------------------

function fillDataTable(details) {
  const chart = allCharts().find((c) => c.root.parentElement.id === details.dataset.chart);
  if (!chart) return;
  const [xs, ...ys] = chart.data;
  const shown = chart.series.map((s, k) => k).filter((k) => k > 0 && chart.series[k].show && !chart.series[k].label.startsWith('Revision'));
  const head = document.createElement('tr');
  for (const text of ['Date', ...shown.map((k) => chart.series[k].label)]) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = text;
    head.appendChild(th);
  }
  const rows = [];
  for (let i = xs.length - 1; i >= 0; i--) {
    if (xs[i] < chart.scales.x.min || xs[i] > chart.scales.x.max) continue;
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = toDate(xs[i]);
    tr.appendChild(th);
    for (const k of shown) cell(tr, chart.series[k].value(chart, ys[k - 1][i]));
    rows.push(tr);
  }
  const table = details.querySelector('table');
  const thead = document.createElement('thead');
  thead.appendChild(head);
  const tbody = document.createElement('tbody');
  tbody.append(...rows);
  table.replaceChildren(thead, tbody);
}

// ---- Downloads ---------------------------------------------------------------------------------

function download(href, name) {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

function downloadPng(chartId) {
  const chart = allCharts().find((c) => c.root.parentElement.id === chartId);
  if (!chart) return;
  const src = chart.ctx.canvas;
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height;
  const ctx = out.getContext('2d');
  ctx.fillStyle = getComputedStyle(document.body).backgroundColor;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(src, 0, 0);
  download(out.toDataURL('image/png'), `covid-${chartId.replace('chart-', '')}-${view.id.replace(/[^A-Za-z0-9_-]/g, '-').toLowerCase()}.png`);
}

function compareCsv() {
  if (!compareChart) return;
  const [xs, ...ys] = compareChart.data;
  const { from, to } = selection();
  const heads = compareChart.series.slice(1).map((s) => `"${s.label.replace(/"/g, '""')}"`);
  const lines = ['date,' + heads.join(',')];
  for (let i = 0; i < xs.length; i++) {
    const d = toDate(xs[i]);
    if (d < from || d > to) continue;
    lines.push(d + ',' + ys.map((col) => (known(col[i]) ? String(col[i]) : '')).join(','));
  }
  download('data:text/csv;charset=utf-8,' + encodeURIComponent(lines.join('\n') + '\n'), `covid-compare-${state.metric}${state.per100k ? '-per-100k' : ''}-${from}-to-${to}.csv`);
}

// ---- Comparing locations --------------------------------------------------------------------

function say(message) {
  $('loc-status').textContent = message;
}

function freeColor() {
  const used = new Set(state.locs.map((id) => places.get(id)?.color).filter(Boolean));
  return colors.palette.find((c) => !used.has(c)) || colors.palette[0];
}

// One location's values of the comparison's metric, as shown (per 100,000 people when asked).
function metricValues(id, raw) {
  const [what, kind] = state.metric.split('_');
  if (!state.per100k) return raw[kind === 'total' ? what : kind === 'new' ? 'new_' + what : `new_${what}_avg7`];
  if (kind === 'total') return col(raw, what + '_per_100k');
  if (kind === 'avg7') return col(raw, `new_${what}_avg7_per_100k`);
  return perPop(raw['new_' + what], popOf(id));
}

function drawCompare(raws) {
  if (compareChart) {
    compareChart.destroy();
    compareChart = null;
  }
  const el = $('chart-compare');
  const shown = state.locs.filter((id) => raws.has(id) && places.has(id));
  el.dataset.locations = shown.join(',');
  el.classList.toggle('empty', shown.length === 0);
  if (!shown.length) return el.replaceChildren();
  const all = new Set();
  for (const id of shown) for (const d of raws.get(id).date) all.add(d);
  const dates = [...all].sort();
  const at = new Map(dates.map((d, i) => [d, i]));
  const cols = [dates.map(toEpoch)];
  const series = [dateSeries()];
  const kind = state.metric.endsWith('_avg7') ? 'avg' : '';
  for (const id of shown) {
    const raw = raws.get(id);
    const values = metricValues(id, raw);
    const col = new Array(dates.length).fill(null);
    raw.date.forEach((d, i) => { col[at.get(d)] = values[i]; });
    const p = places.get(id);
    series.push({ label: p.label, stroke: p.color, width: state.metric.endsWith('_new') ? 1.25 : 2.25, points: { show: false }, value: fmtValue(kind) });
    cols.push(forScale(col));
  }
  const opts = baseOptions(el, chartHooks(null));
  opts.series = series;
  compareChart = new uPlot(opts, cols, el);
  if (view) {
    const { from, to } = selection();
    syncing = true;
    compareChart.setScale('x', { min: toEpoch(from) - (from === to ? DAY / 2 : 0), max: toEpoch(to) + (from === to ? DAY / 2 : 0) });
    syncing = false;
  }
  $('h-compare-metric').textContent = METRICS[state.metric] + (state.per100k ? ', per 100,000 people' : '');
}

function renderChips(raws) {
  const chips = state.locs.filter((id) => places.has(id)).map((id) => {
    const p = places.get(id);
    const li = document.createElement('li');
    li.className = 'chip';
    li.dataset.id = id;
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.backgroundColor = p.color;
    const name = document.createElement('span');
    name.className = 'chip-name';
    name.textContent = p.label;
    const latest = document.createElement('span');
    latest.className = 'chip-value';
    const r = raws.get(id);
    const values = r ? metricValues(id, r) : [];
    let last = values.length - 1;
    while (last >= 0 && !known(values[last])) last--;
    const noPop = state.per100k && !p.population;
    latest.textContent = noPop ? 'no population figure: no rate'
      : last >= 0 ? `${(state.per100k ? rate : state.metric.endsWith('_avg7') ? avg : num)(values[last])}${state.per100k ? ' per 100k' : ''} (${state.metric.endsWith('_avg7') ? '7-day avg, ' : ''}${r.date[last]})` : 'no data';
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
  $('loc-note').textContent = state.locs.length >= MAX_LOCATIONS
    ? `${MAX_LOCATIONS} locations on the chart, the most: remove one to add another.`
    : `Up to ${MAX_LOCATIONS} locations on one chart. Arrow keys choose, Enter adds.`;
}

async function showCompare() {
  for (const [id, p] of places) if (!state.locs.includes(id)) p.color = null;
  for (const id of state.locs) {
    const p = places.get(id);
    if (p && !p.color) p.color = freeColor();
  }
  const raws = new Map();
  await Promise.all(state.locs.map(async (id) => {
    try {
      raws.set(id, await loadSeries(id));
    } catch (e) {
      say(`${labelOf(id)} could not be loaded: ${e.message}`);
    }
  }));
  drawCompare(raws);
  renderChips(raws);
  document.documentElement.dataset.compareReady = '1';
}

async function addLocation(l) {
  if (state.locs.includes(l.id)) return say(`${l.label} is on the chart already.`);
  if (state.locs.length >= MAX_LOCATIONS) return say(`At most ${MAX_LOCATIONS} locations: remove one first.`);
  if (!places.has(l.id)) places.set(l.id, { ...l, color: null });
  places.get(l.id).color = null;
  state.locs.push(l.id);
  places.get(l.id).color = freeColor();
  say(`${l.label} added.`);
  writeUrl();
  await showCompare();
}

function removeLocation(id) {
  const i = state.locs.indexOf(id);
  if (i < 0) return;
  state.locs.splice(i, 1);
  places.get(id).color = null;
  say(`${labelOf(id)} removed.`);
  writeUrl();
  const refocus = () => {
    const buttons = document.querySelectorAll('#loc-chips button.remove');
    (buttons[Math.min(i, buttons.length - 1)] || $('loc-search')).focus();
  };
  if (i === 0 && state.locs.length) return render().then(refocus);
  showCompare().then(refocus);
}

// Makes `l` the page's location (the first of the view's locations).
async function choosePlace(l) {
  if (!places.has(l.id) && l.label && l.type) places.set(l.id, { ...l, color: null });
  const old = state.locs[0];
  state.locs = [l.id, ...state.locs.filter((id) => id !== l.id && id !== old)].slice(0, MAX_LOCATIONS);
  if (old !== l.id && places.get(old)) places.get(old).color = null;
  writeUrl();
  await render();
}

// ---- Searches (comboboxes over /api/v1/locations) -----------------------------------------------

function combobox(inputId, listId, onChoose) {
  const input = $(inputId);
  const list = $(listId);
  const picker = { seq: 0, options: [], active: -1, timer: 0, query: '' };
  const optionId = (i) => `${listId.replace(/s$/, '')}-${i}`;  // loc-option-3
  const render = () => {
    const items = picker.options.map((l, i) => {
      const li = document.createElement('li');
      li.id = optionId(i);
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', String(i === picker.active));
      li.dataset.id = l.id;
      const chosen = inputId === 'loc-search' && state.locs.includes(l.id);
      if (chosen) li.setAttribute('aria-disabled', 'true');
      const name = document.createElement('span');
      name.textContent = l.label;
      const kind = document.createElement('span');
      kind.className = 'kind';
      kind.textContent = `${l.type} ${l.id}${chosen ? ' · on the chart' : ''}`;
      li.append(name, kind);
      li.addEventListener('mousedown', (e) => e.preventDefault());
      li.addEventListener('click', () => choose(i));
      return li;
    });
    if (picker.query && !items.length) {
      const li = document.createElement('li');
      li.className = 'none';
      li.textContent = 'No location matches.';
      items.push(li);
    }
    list.replaceChildren(...items);
    list.hidden = !items.length;
    input.setAttribute('aria-expanded', String(items.length > 0));
    if (picker.active >= 0) {
      input.setAttribute('aria-activedescendant', optionId(picker.active));
      $(optionId(picker.active)).scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  };
  const close = () => {
    Object.assign(picker, { options: [], active: -1, query: '' });
    picker.seq++;
    render();
  };
  const search = async (text) => {
    const seq = ++picker.seq;
    if (!text.trim()) return close();
    try {
      const found = await getJson(`${API}locations?q=${encodeURIComponent(text)}&limit=20`);
      if (seq !== picker.seq) return;
      Object.assign(picker, { options: found.locations, active: found.locations.length ? 0 : -1, query: text });
      render();
    } catch (e) {
      if (seq === picker.seq) say('The search failed: ' + e.message);
    }
  };
  const choose = (i) => {
    const l = picker.options[i];
    if (!l) return;
    input.value = '';
    close();
    onChoose(l);
  };
  input.addEventListener('input', () => {
    clearTimeout(picker.timer);
    picker.timer = setTimeout(() => search(input.value), 120);
  });
  input.addEventListener('keydown', (e) => {
    const n = picker.options.length;
    if (e.key === 'ArrowDown' && n) picker.active = (picker.active + 1) % n;
    else if (e.key === 'ArrowUp' && n) picker.active = (picker.active - 1 + n) % n;
    else if (e.key === 'Enter') return picker.active >= 0 && (e.preventDefault(), choose(picker.active));
    else if (e.key === 'Escape' && n) return e.preventDefault(), close();
    else return;
    e.preventDefault();
    render();
  });
  input.addEventListener('blur', close);
}

// ---- Rankings --------------------------------------------------------------------------------

const ranking = { rows: [], key: 'avg', dir: -1, level: null, note: '' };
const pct = (v) => (!known(v) ? '–' : (v > 0 ? '+' : v < 0 ? '−' : '') + avgFmt.format(Math.abs(v)) + '%');

function rankValue(r, key) {
  const m = state.rankBy;
  if (key === 'name') return r.name;
  if (key === 'change') return r[m + '_change_14d_pct'];
  return state.per100k ? r[`new_${m}_avg7_per_100k`] : r[`new_${m}_avg7`];
}

function renderRankings() {
  const { key, dir } = ranking;
  const rows = [...ranking.rows].sort((a, b) => {
    const va = rankValue(a, key);
    const vb = rankValue(b, key);
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1;
      return a.name.localeCompare(b.name);
    }
    if (key === 'name') return dir * va.localeCompare(vb);
    return dir * (va - vb) || a.name.localeCompare(b.name);
  });
  const m = state.rankBy;
  const fmt = state.per100k ? rate : avg;
  const trs = rows.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.id = r.id;
    const th = document.createElement('th');
    th.scope = 'row';
    const go = document.createElement('button');
    go.type = 'button';
    go.className = 'link';
    go.textContent = r.name;
    go.setAttribute('aria-label', `Show ${r.label || r.name}`);
    go.addEventListener('click', () => choosePlace({ id: r.id, label: r.label || r.name, type: r.type, population: r.population }));
    const add = document.createElement('button');
    add.type = 'button';
    add.className = 'add';
    add.textContent = '+';
    add.setAttribute('aria-label', `Add ${r.label || r.name} to the comparison`);
    add.addEventListener('click', () => addLocation({ id: r.id, label: r.label || r.name, type: r.type, population: r.population }));
    th.append(go, ' ', add);
    tr.appendChild(th);
    cell(tr, r.date || '–');
    const noRate = state.per100k && !r.population;
    cell(tr, noRate ? 'no population' : fmt(rankValue(r, 'avg')), noRate ? 'unknown' : '');
    cell(tr, noRate ? '–' : fmt(state.per100k ? r[`new_${m}_avg7_14d_ago_per_100k`] : r[`new_${m}_avg7_14d_ago`]));
    const c = r[m + '_change_14d_pct'];
    cell(tr, pct(c), c === null ? 'unknown' : c > 0 ? 'up' : c < 0 ? 'down' : '');
    return tr;
  });
  document.querySelector('#states tbody').replaceChildren(...trs);
  for (const b of document.querySelectorAll('#states button.sort')) {
    b.parentElement.setAttribute('aria-sort', b.dataset.sort !== key ? 'none' : dir > 0 ? 'ascending' : 'descending');
  }
  $('states').dataset.sort = `${key}:${dir > 0 ? 'asc' : 'desc'}`;
  $('rank-avg-head').textContent = `7-day average${state.per100k ? ' per 100k' : ''}`;
  $('h-states').textContent = `${{ state: 'States', county: 'Counties', country: 'Countries' }[state.rank]} by new ${m}`;
}

// The page location's state, for the counties' ranking (a state's own id, or a county's state).
function rankState() {
  const p = places.get(view?.id);
  if (!p) return null;
  if (p.type === 'state') return p.id;
  if (p.type === 'county') return /^\d{2}/.test(p.id) ? p.id.slice(0, 2) : null;
  return null;
}

async function loadRankings() {
  let level = state.rank;
  const st = rankState();
  if (level === 'county' && !st) level = 'state';
  const q = level === 'county' ? `level=county&state=${st}` : `level=${level}`;
  $('rank-county').textContent = st ? `Counties of ${labelOf(st)}` : 'Counties (choose a state first)';
  $('rank-county').disabled = !st;
  if (ranking.level === q) return renderRankings();
  try {
    const table = await getJson(API + 'rankings?' + q);
    ranking.rows = table.locations;
    ranking.level = q;
    $('states-note').textContent = table.count
      ? `${table.count} locations; latest date ${table.date || '–'}`
      : 'No data at this level (a run loads it: see the README).';
    renderRankings();
  } catch (e) {
    $('states-note').textContent = 'The rankings could not be loaded: ' + e.message;
  }
}

// ---- The whole view -----------------------------------------------------------------------------

function fail(message) {
  const el = $('status');
  el.textContent = message;
  el.hidden = !message;
}

// Renders the view the state holds: the page location's charts, cards and table, then the
// comparison, rankings and map.
let renderSeq = 0;
async function render(first) {
  const seq = ++renderSeq;
  delete document.documentElement.dataset.viewReady;
  fail('');
  const id = state.locs[0] || NATION;
  if (!state.locs.length) state.locs = [NATION];
  // Names and populations: before the first chart only when rates need the population, else
  // after it (the first chart needs the series alone).
  let named = null;
  const names = () => named || (named = loadPlaces(state.locs).catch((e) => (say('The locations could not be loaded: ' + e.message), [])));
  let raw;
  try {
    [raw] = await Promise.all([loadSeries(id), state.per100k ? names() : null]);
  } catch (e) {
    const unknown = await names();
    if (unknown.includes(id) && state.locs.length > 1) {
      state.locs = state.locs.filter((x) => x !== id);
      say(`Not a known location, left out: ${id}.`);
      writeUrl(true);
      return render(first);
    }
    fail(`The series of ${id} could not be loaded: ${e.message}`);
    return;
  }
  if (seq !== renderSeq) return;
  if (raw.date.length === 0) {
    fail('The database holds no data for this location yet: run `covid-etl run` (without access to the upstream URLs: `covid-etl run --nyt FILE --jhu FILE --states FILE`, from local copies), then reload.');
    return;
  }
  view = { id, raw, x: raw.date.map(toEpoch), notes: [] };
  performance.mark('data-fetched');
  await buildCharts(first);
  document.documentElement.dataset.chartReady = '1';
  const unknown = await names();
  if (seq !== renderSeq) return;
  if (unknown.length) {
    state.locs = state.locs.filter((x) => !unknown.includes(x));
    say(`Not a known location, left out: ${unknown.join(', ')}.`);
    writeUrl(true);
  }
  view.notes = (await loadNotes(id)).annotations;
  if (seq !== renderSeq) return;
  for (const c of charts.slice(1)) c.redraw(false, false);
  showCards();
  await Promise.all([showCompare(), loadRankings()]);
  document.documentElement.dataset.viewReady = id;
}

function wireControls() {
  const change = (fn, rebuild) => () => {
    fn();
    writeUrl();
    if (rebuild) render();
    else applyRange(null);
  };
  for (const b of document.querySelectorAll('button.preset')) {
    b.addEventListener('click', change(() => Object.assign(state, { range: b.dataset.range, from: null, to: null })));
  }
  for (const id of ['from', 'to']) {
    $(id).addEventListener('change', () => {
      const from = $('from').value;
      const to = $('to').value;
      if (!isDate(from) || !isDate(to)) return;
      change(() => Object.assign(state, { range: 'custom', from: from <= to ? from : to, to: from <= to ? to : from }))();
    });
  }
  $('scale').addEventListener('click', change(() => { state.log = !state.log; }, true));
  $('per100k').addEventListener('click', change(() => { state.per100k = !state.per100k; }, true));
  $('metric').addEventListener('change', () => {
    state.metric = $('metric').value;
    writeUrl();
    showCompare();
  });
  $('rank-level').addEventListener('change', () => {
    state.rank = $('rank-level').value;
    writeUrl();
    loadRankings();
  });
  $('rank-metric').addEventListener('change', () => {
    state.rankBy = $('rank-metric').value;
    writeUrl();
    renderRankings();
  });
  for (const key of TOGGLES) {
    $('show-' + key).addEventListener('change', (e) => {
      const i = charts[0].series.findIndex((s) => s.key === key);
      charts[0].setSeries(i, { show: e.target.checked });
    });
  }
  for (const b of document.querySelectorAll('#states button.sort')) {
    b.addEventListener('click', () => {
      const key = b.dataset.sort;
      ranking.dir = ranking.key === key ? -ranking.dir : key === 'name' ? 1 : -1;
      ranking.key = key;
      renderRankings();
    });
  }
  for (const b of document.querySelectorAll('button.png')) b.addEventListener('click', () => downloadPng(b.dataset.chart));
  $('compare-csv').addEventListener('click', compareCsv);
  for (const d of document.querySelectorAll('details.table-view')) d.addEventListener('toggle', () => d.open && fillDataTable(d));
  for (const el of document.querySelectorAll('.chart')) wireKeyboard(el);
  combobox('loc-search', 'loc-options', addLocation);
  combobox('place-search', 'place-options', choosePlace);
  window.addEventListener('popstate', () => {
    readUrl();
    render();
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    colors = cssColors();
    for (const p of places.values()) p.color = null;
    render();
  });
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
  wireControls();
  // The first chart the server drew into the page is put on screen before anything else is done
  // (its series is on its way meanwhile: the page's Link header preloads it).
  if ($('chart-total').querySelector('.ssr')) {
    await nextPaint();
    drawnShown = performance.now();
  }
  await render(true);
  const sum = getJson(API + 'summary');
  if (!view) return;
  try {
    summary = await sum;
    showFreshness(summary);
  } catch (e) {
    fail('The summary could not be loaded: ' + e.message);
  }
}

// ?embed=1&view=map: the map alone (below), none of the charts.
if (!(new URLSearchParams(location.search).get('embed') === '1' && new URLSearchParams(location.search).get('view') === 'map')) main();

// ---- The map (web/src/map.js, loaded after the first chart; its interface is in its header) ----
// A click on the map makes the location the page's; ?embed=1&view=map shows
// the map alone; the map's view (map, map_metric, map_rate, map_date, map_state) is in the URL.
(function mapHook() {
  const el = document.getElementById('map-section');
  if (!el) return;
  const q = new URLSearchParams(location.search);
  const embed = q.get('embed') === '1' && q.get('view') === 'map';
  if (embed) document.documentElement.classList.add('embed-map');
  const keep = (o) => {
    const u = new URL(location.href);
    for (const [k, v] of Object.entries(o)) { if (v === null || v === undefined || v === '') u.searchParams.delete(k); else u.searchParams.set(k, v); }
    history.replaceState(null, '', u);
  };
  const start = () => {
    const s = document.createElement('script');
    s.src = 'map.js';
    s.onload = async () => {
      if (view && !q.get('map')) await loadPlaces([view.id]).catch(() => []);  // its level, for the map's
      const dark = matchMedia('(prefers-color-scheme: dark)');
      const map = window.covidMap.mount(el, {
        // Without map= in the URL: the world for a country's view, the states otherwise.
        level: ['state', 'county', 'country'].includes(q.get('map')) ? q.get('map')
          : view && (places.get(view.id) || {}).type === 'country' ? 'country' : 'state',
        metric: q.get('map_metric') === 'deaths' ? 'deaths' : 'cases',
        per100k: q.get('map_rate') !== 'absolute',
        date: q.get('map_date'), state: q.get('map_state'), dark: dark.matches, embed,
        onSelect: async (id) => {
          if (embed) return;
          await choosePlace({ id });
        },
        onDateChange: (d) => keep({ map_date: d }),
        onOptsChange: (o) => keep({ map: o.level, map_metric: o.metric === 'deaths' ? 'deaths' : null, map_rate: o.per100k ? null : 'absolute', map_state: o.state }),
      });
      dark.addEventListener('change', (e) => map.update({ dark: e.matches }));
      el.mapHandle = map;  // for the tests (pointOf)
    };
    document.body.appendChild(s);
  };
  if (embed || document.documentElement.dataset.chartReady === '1') start();
  else new MutationObserver((m, obs) => { if (document.documentElement.dataset.chartReady === '1') { obs.disconnect(); start(); } })
    .observe(document.documentElement, { attributes: true, attributeFilter: ['data-chart-ready'] });
})();
