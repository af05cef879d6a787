// covid-etl dashboard: the choropleth maps (US states, US counties of the nation or of one state,
// the world's countries), loaded by the page only when it needs them. It defines
//   window.covidMap = { mount(el, opts) } -> { update(partialOpts), destroy() }
// opts: { level: 'state'|'county'|'country', metric: 'cases'|'deaths', per100k: bool,
//         date: 'YYYY-MM-DD'|null (null: the latest), state: 'SS'|null (counties of one state),
//         dark: bool, embed: bool, onSelect(id), onDateChange(date), onOptsChange(opts) }.
// It builds its own controls inside el (level, state, metric, per 100,000, date slider, play,
// data table, PNG download), a legend, a tooltip (hover, or keyboard focus with the arrow keys) and
// the list of locations that have no shape on the map.
//
// Data: GET api/v1/map (one call per level, metric and month of dates; the latest date alone
// first), by relative URLs, so the page works from any folder; asked through app.js's dataFetch,
// which answers them from a published copy's objects when the page is one (covid-etl publish).
// Shapes: us-atlas's Albers-projected TopoJSON (drawn as they are) and world-atlas's (projected
// with d3-geo's Equal Earth), decoded by topojson-client; each shape is made into a Path2D once, and a frame (a date) only fills them:
// canvas, not SVG (3,142 county paths restyled per frame cost SVG a style recalculation each time).
// Performance marks: 'map-paint' after the first frame is on screen; measures 'map-frame' for
// each date drawn.
(function () {
  'use strict';

  const LEVELS = {
    state: { atlas: 'us-states-albers-10m.json', object: 'states', label: 'States', world: false },
    county: { atlas: 'us-counties-albers-10m.json', object: 'counties', borders: 'states', label: 'Counties', world: false },
    country: { atlas: 'world-countries-110m.json', object: 'countries', label: 'World', world: true },
  };
  // Colour-blind-safe sequential scale (viridis, light to dark), 8 steps.
  const COLORS = ['#fde725', '#a0da39', '#4ac16d', '#1fa187', '#277f8e', '#365c8d', '#46327e', '#440154'];
  // The upper bounds of the first 7 steps: per 100,000 people, or absolute for a county (a state's
  // and a country's absolute bounds are these times LEVEL_FACTOR).
  const BREAKS = {
    cases: { rate: [1, 5, 10, 25, 50, 100, 200], count: [1, 5, 10, 25, 50, 100, 250] },
    deaths: { rate: [0.05, 0.1, 0.25, 0.5, 1, 2, 4], count: [0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  };
  const LEVEL_FACTOR = { county: 1, state: 20, country: 50 };
  const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

  const scripts = new Map();
  function loadScript(src) {
    if (!scripts.has(src)) {
      scripts.set(src, new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = src;
        s.onload = resolve;
        s.onerror = () => reject(new Error('cannot load ' + src));
        document.head.appendChild(s);
      }));
    }
    return scripts.get(src);
  }
  function loadCss() {
    if (document.querySelector('link[data-map-css]')) return;
    const l = document.createElement('link');
    l.rel = 'stylesheet';
    l.href = 'map.css';
    l.dataset.mapCss = '1';
    document.head.appendChild(l);
  }
  async function getJson(url) {
    // The API's data through the page's dataFetch (app.js: the API, or a published copy's objects).
    const res = await (url.startsWith('api/') && window.covidData ? window.covidData.fetch(url) : fetch(url));
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    return res.json();
  }

  // ---- Shapes -------------------------------------------------------------------------------
  const atlases = new Map();  // level -> Promise<{ width, height, features: [{ id, name, path, box }], borders: Path2D|null, outline }>

  function ringPath(p, ring) {
    for (let i = 0; i < ring.length; i++) {
      if (i === 0) p.moveTo(ring[i][0], ring[i][1]);
      else p.lineTo(ring[i][0], ring[i][1]);
    }
    p.closePath();
  }
  function planarPath(geometry, box) {
    const p = new Path2D();
    const polys = geometry.type === 'Polygon' ? [geometry.coordinates]
      : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
    for (const poly of polys) {
      for (const ring of poly) {
        ringPath(p, ring);
        for (const [x, y] of ring) {
          if (x < box[0]) box[0] = x;
          if (y < box[1]) box[1] = y;
          if (x > box[2]) box[2] = x;
          if (y > box[3]) box[3] = y;
        }
      }
    }
    return p;
  }
  function linePath(geometry) {
    const p = new Path2D();
    const lines = geometry.type === 'MultiLineString' ? geometry.coordinates : [geometry.coordinates];
    for (const line of lines) line.forEach(([x, y], i) => (i ? p.lineTo(x, y) : p.moveTo(x, y)));
    return p;
  }

  function loadAtlas(level) {
    if (!atlases.has(level)) {
      atlases.set(level, (async () => {
        const spec = LEVELS[level];
        const libs = [loadScript('topojson-client.min.js')];
        if (spec.world) libs.push(loadScript('d3-array.min.js').then(() => loadScript('d3-geo.min.js')));
        const [topo] = await Promise.all([getJson(spec.atlas), ...libs]);
        const tj = window.topojson;
        const geo = tj.feature(topo, topo.objects[spec.object]).features;
        const features = [];
        let width = 975, height = 610, borders = null, project = null;
        if (spec.world) {
          width = 960;
          height = 500;
          const projection = window.d3.geoEqualEarth().fitExtent([[4, 4], [width - 4, height - 4]], { type: 'Sphere' });
          project = projection;
          for (const f of geo) {
            const p = new Path2D();
            window.d3.geoPath(projection, p)(f);
            const b = window.d3.geoPath(projection).bounds(f);
            features.push({ id: f.id, name: f.properties && f.properties.name, path: p, box: [b[0][0], b[0][1], b[1][0], b[1][1]] });
          }
        } else {
          for (const f of geo) {
            const box = [Infinity, Infinity, -Infinity, -Infinity];
            features.push({ id: f.id, name: f.properties && f.properties.name, path: planarPath(f.geometry, box), box });
          }
          // The counties' borders and the states' (thicker), each one path stroked once a frame.
          if (spec.borders) {
            borders = [
              { path: linePath(tj.mesh(topo, topo.objects[spec.object], (a, b) => a !== b)), width: 0.3 },
              { path: linePath(tj.mesh(topo, topo.objects[spec.borders], (a, b) => a !== b)), width: 1.1 },
            ];
          }
        }
        return { width, height, features, borders, project };
      })());
      atlases.get(level).catch(() => atlases.delete(level));
    }
    return atlases.get(level);
  }

  // ---- Data (api/v1/map), by month ---------------------------------------------------------
  const pad = (n) => String(n).padStart(2, '0');
  function monthOf(date) {
    const [y, m] = date.split('-').map(Number);
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    return { key: `${y}-${pad(m)}`, from: `${y}-${pad(m)}-01`, to: `${y}-${pad(m)}-${pad(last)}` };
  }
  const addDays = (date, n) => new Date(Date.parse(date + 'T00:00:00Z') + n * 86400000).toISOString().slice(0, 10);
  const dayDiff = (a, b) => Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86400000);

  function mapUrl(o, range) {
    let u = `api/v1/map?level=${o.level}&metric=${o.metric}&per_100k=${o.per100k}`;
    if (range) u += `&from=${range.from}&to=${range.to}`;
    return u;
  }

  // ---- The map ------------------------------------------------------------------------------
  function mount(el, opts) {
    loadCss();
    const o = Object.assign({ level: 'state', metric: 'cases', per100k: true, date: null, state: null, dark: false, embed: false }, opts || {});
    const cb = (name, ...args) => { if (typeof o[name] === 'function') o[name](...args); };
    let alive = true;
    let seq = 0;            // the latest load; older ones are dropped
    let atlas = null;       // of o.level
    let base = null;        // the latest response: ids, names, population, shapes, first/last date
    const months = new Map();  // month key -> Promise<response>
    let dates = [];         // the dates of the months loaded, sorted, with their values
    const byDate = new Map();  // date -> values (one per id)
    let cur = null;         // the date shown
    let drawn = [];         // features drawn: [{ f, loc }]
    let byShape = new Map();  // shape id -> location index
    let focusIdx = -1;      // keyboard focus: index into `drawn`
    let playing = null;
    let view = { scale: 1, dx: 0, dy: 0 };
    let bordersLayer = null;  // { key, layer }: the borders, stroked once per size

    el.classList.add('map');
    el.innerHTML = '';
    const h = (tag, attrs, ...kids) => {
      const e = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs || {})) {
        if (k === 'text') e.textContent = v;
        else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? '' : v);
      }
      for (const k of kids) e.append(k);
      return e;
    };
    const title = h('h2', { id: 'map-title', text: 'Map' });
    const levelGroup = h('div', { class: 'map-group', role: 'group', 'aria-label': 'Map level' });
    const levelButtons = {};
    for (const [lv, spec] of Object.entries(LEVELS)) {
      const b = h('button', { type: 'button', class: 'map-level', 'data-level': lv, 'aria-pressed': 'false', text: spec.label });
      b.addEventListener('click', () => { if (o.level !== lv) change({ level: lv, state: null }); });
      levelButtons[lv] = b;
      levelGroup.append(b);
    }
    const stateSel = h('select', { id: 'map-state', 'aria-label': 'Counties of' });
    stateSel.append(h('option', { value: '', text: 'All states' }));
    stateSel.addEventListener('change', () => change({ state: stateSel.value || null }));
    const stateLabel = h('label', { class: 'map-state-label' }, 'Counties of ', stateSel);
    const metricSel = h('select', { id: 'map-metric', 'aria-label': 'Metric' },
      h('option', { value: 'cases', text: 'New cases' }), h('option', { value: 'deaths', text: 'New deaths' }));
    metricSel.addEventListener('change', () => change({ metric: metricSel.value }));
    const rateBox = h('input', { type: 'checkbox', id: 'map-per100k' });
    rateBox.addEventListener('change', () => change({ per100k: rateBox.checked }));
    const controls = h('div', { class: 'map-controls' }, levelGroup, stateLabel,
      h('label', {}, 'Show ', metricSel), h('label', {}, rateBox, ' per 100,000 people'));
    const play = h('button', { type: 'button', id: 'map-play', 'aria-pressed': 'false', text: 'Play' });
    const slider = h('input', { type: 'range', id: 'map-date', min: '0', max: '0', step: '1', value: '0', 'aria-label': 'Date of the map' });
    const dateOut = h('output', { id: 'map-date-text', for: 'map-date', text: '–' });
    const timeRow = h('div', { class: 'map-time' }, play, slider, dateOut);
    const canvas = h('canvas', { id: 'map-canvas', tabindex: '0', role: 'img', 'aria-describedby': 'map-help' });
    const tip = h('div', { class: 'map-tip', id: 'map-tip', role: 'status', hidden: true });
    const frame = h('div', { class: 'map-frame' }, canvas, tip);
    const legend = h('div', { class: 'map-legend', id: 'map-legend', 'aria-label': 'Legend' });
    const help = h('p', { class: 'note', id: 'map-help', text: 'Hover a shape, or focus the map and use the arrow keys, to see its value; click or press Enter to choose it.' });
    const tableBtn = h('button', { type: 'button', id: 'map-table-toggle', 'aria-expanded': 'false', 'aria-controls': 'map-table', text: 'Data table' });
    const pngBtn = h('button', { type: 'button', id: 'map-png', text: 'Download PNG' });
    const actions = h('div', { class: 'map-actions' }, tableBtn, pngBtn);
    const unmatched = h('div', { class: 'map-unmatched note', id: 'map-unmatched' });
    const table = h('div', { class: 'map-table scroll', id: 'map-table', hidden: true });
    const status = h('p', { class: 'note', id: 'map-status', 'aria-live': 'polite' });
    el.append(title, controls, timeRow, frame, legend, help, actions, unmatched, table, status);

    const ctx = canvas.getContext('2d');

    function change(partial) {
      update(partial);
      cb('onOptsChange', { level: o.level, metric: o.metric, per100k: o.per100k, state: o.state });
    }

    function what() {
      const m = o.metric === 'deaths' ? 'new deaths' : 'new cases';
      return o.per100k ? `${m} per 100,000 people per day (7-day average)` : `${m} per day (7-day average)`;
    }
    function breaks() {
      const b = BREAKS[o.metric][o.per100k ? 'rate' : 'count'];
      return o.per100k ? b : b.map((x) => x * LEVEL_FACTOR[o.level]);
    }
    function colorOf(v, br) {
      if (v === null || v === undefined) return null;
      let i = 0;
      while (i < br.length && v >= br[i]) i++;
      return COLORS[i];
    }
    function dark() { return o.dark; }

    function renderLegend() {
      const br = breaks();
      legend.innerHTML = '';
      legend.append(h('span', { class: 'map-legend-title', text: what() }));
      const list = h('ul', {});
      COLORS.forEach((c, i) => {
        const lo = i === 0 ? 0 : br[i - 1];
        const label = i < br.length ? `${fmt.format(lo)}–${fmt.format(br[i])}` : `${fmt.format(lo)}+`;
        const sw = h('span', { class: 'sw' });
        sw.style.background = c;
        list.append(h('li', {}, sw, label));
      });
      const none = h('span', { class: 'sw none' });
      list.append(h('li', {}, none, o.per100k ? 'no data or no population' : 'no data'));
      legend.append(list);
    }

    function size() {
      const w = Math.max(280, Math.min(el.clientWidth || 960, 1100));
      const aspect = atlas ? atlas.height / atlas.width : 0.62;
      const hgt = Math.round(w * aspect);
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(hgt * dpr);
      canvas.style.width = w + 'px';
      canvas.style.height = hgt + 'px';
      // Fit the features drawn (one state's counties, or the whole map) into the canvas.
      let box = [0, 0, atlas ? atlas.width : 975, atlas ? atlas.height : 610];
      if (atlas && o.level === 'county' && o.state && drawn.length) {
        box = [Infinity, Infinity, -Infinity, -Infinity];
        for (const { f } of drawn) {
          box = [Math.min(box[0], f.box[0]), Math.min(box[1], f.box[1]), Math.max(box[2], f.box[2]), Math.max(box[3], f.box[3])];
        }
        const m = Math.max(box[2] - box[0], box[3] - box[1]) * 0.04;
        box = [box[0] - m, box[1] - m, box[2] + m, box[3] + m];
      }
      const s = Math.min(canvas.width / (box[2] - box[0]), canvas.height / (box[3] - box[1]));
      view = { scale: s, dx: (canvas.width - s * (box[2] - box[0])) / 2 - s * box[0], dy: (canvas.height - s * (box[3] - box[1])) / 2 - s * box[1] };
    }

    // Which location each shape shows, from the response's ids and shapes.
    function match() {
      byShape = new Map();
      base.ids.forEach((id, i) => {
        const shapes = base.shapes[id] || [id];
        for (const s of shapes) byShape.set(s, i);
      });
      const names = new Map();
      base.names.forEach((n, i) => names.set(n, i));
      drawn = [];
      const onMap = new Set();
      for (const f of atlas.features) {
        let loc = byShape.get(f.id);
        // world-atlas gives a few countries no code (Kosovo, N. Cyprus, Somaliland): by name.
        if (loc === undefined && f.id === undefined && f.name) loc = names.get(f.name);
        if (o.level === 'county' && o.state && !(f.id || '').startsWith(o.state)) continue;
        drawn.push({ f, loc: loc === undefined ? -1 : loc });
        if (loc !== undefined) onMap.add(loc);
      }
      base.off = [];
      base.ids.forEach((id, i) => {
        if (onMap.has(i)) return;
        if (o.level === 'county' && o.state && !id.startsWith(o.state)) return;
        base.off.push(i);
      });
      focusIdx = -1;
      renderUnmatched();
    }

    function valueOf(loc) {
      const vals = byDate.get(cur);
      return loc >= 0 && vals ? vals[loc] : null;
    }

    function draw() {
      if (!atlas || !base || !cur) return;
      const t0 = performance.now();
      const br = breaks();
      const vals = byDate.get(cur) || [];
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.setTransform(view.scale, 0, 0, view.scale, view.dx, view.dy);
      const none = dark() ? '#3a3d42' : '#d9d9d9';
      // Fill by colour: one fillStyle change per colour.
      const groups = new Map();
      for (const d of drawn) {
        const c = (d.loc >= 0 && colorOf(vals[d.loc], br)) || none;
        if (!groups.has(c)) groups.set(c, []);
        groups.get(c).push(d.f.path);
      }
      for (const [c, paths] of groups) {
        ctx.fillStyle = c;
        for (const p of paths) ctx.fill(p);
      }
      ctx.lineWidth = 0.8 / view.scale;
      ctx.strokeStyle = dark() ? '#1b1d21' : '#ffffff';
      if (atlas.borders) {
        // The borders do not change with the date: stroked once into a layer, then copied.
        const key = `${canvas.width}x${canvas.height}|${view.scale}|${view.dx}|${view.dy}|${dark()}`;
        if (!bordersLayer || bordersLayer.key !== key) {
          const layer = document.createElement('canvas');
          layer.width = canvas.width;
          layer.height = canvas.height;
          const lc = layer.getContext('2d');
          lc.setTransform(view.scale, 0, 0, view.scale, view.dx, view.dy);
          lc.strokeStyle = ctx.strokeStyle;
          for (const b of atlas.borders) {
            lc.lineWidth = b.width * Math.max(1, Math.sqrt(view.scale / 1.3)) / view.scale;
            lc.stroke(b.path);
          }
          bordersLayer = { key, layer };
        }
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.drawImage(bordersLayer.layer, 0, 0);
        ctx.setTransform(view.scale, 0, 0, view.scale, view.dx, view.dy);
      } else {
        for (const d of drawn) ctx.stroke(d.f.path);
      }
      if (focusIdx >= 0 && drawn[focusIdx]) {
        ctx.lineWidth = 2.5 / view.scale;
        ctx.strokeStyle = '#b35c00';
        ctx.stroke(drawn[focusIdx].f.path);
      }
      performance.measure('map-frame', { start: t0, end: performance.now() });
      canvas.dataset.date = cur;
      dateOut.textContent = cur;
      if (!table.hidden) renderTable();
    }

    function describe(loc) {
      if (loc < 0) return null;
      const v = valueOf(loc);
      const shown = v === null || v === undefined
        ? (o.per100k && base.population[loc] === null ? 'no population: no rate' : 'no data')
        : `${fmt.format(v)} ${what()}`;
      return { id: base.ids[loc], name: base.names[loc], text: `${base.names[loc]}: ${shown}, ${cur}` };
    }

    function showTip(loc, x, y) {
      const d = describe(loc);
      if (!d) { tip.hidden = true; return; }
      tip.textContent = d.text;
      tip.dataset.id = d.id;
      tip.hidden = false;
      const fw = frame.clientWidth;
      tip.style.left = Math.min(Math.max(0, x + 12), Math.max(0, fw - tip.offsetWidth)) + 'px';
      tip.style.top = Math.max(0, y - tip.offsetHeight - 8) + 'px';
    }

    function hit(ev) {
      const r = canvas.getBoundingClientRect();
      const dpr = canvas.width / r.width;
      const px = (ev.clientX - r.left) * dpr, py = (ev.clientY - r.top) * dpr;
      const x = (px - view.dx) / view.scale, y = (py - view.dy) / view.scale;
      ctx.setTransform(view.scale, 0, 0, view.scale, view.dx, view.dy);
      for (let i = drawn.length - 1; i >= 0; i--) {
        const b = drawn[i].f.box;
        if (x < b[0] || x > b[2] || y < b[1] || y > b[3]) continue;
        if (ctx.isPointInPath(drawn[i].f.path, px, py)) return { i, x: ev.clientX - r.left, y: ev.clientY - r.top };
      }
      return null;
    }

    canvas.addEventListener('mousemove', (ev) => {
      const found = hit(ev);
      canvas.style.cursor = found && drawn[found.i].loc >= 0 ? 'pointer' : '';
      if (!found) { tip.hidden = true; return; }
      showTip(drawn[found.i].loc, found.x, found.y);
    });
    canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
    canvas.addEventListener('click', (ev) => {
      const found = hit(ev);
      if (found && drawn[found.i].loc >= 0) select(drawn[found.i].loc);
    });
    // Keyboard: the arrow keys move a focus from shape to shape (left to right, then top to
    // bottom), Enter chooses it.
    let order = [];
    canvas.addEventListener('keydown', (ev) => {
      if (!drawn.length) return;
      if (['ArrowRight', 'ArrowDown', 'ArrowLeft', 'ArrowUp', 'Home', 'End'].includes(ev.key)) {
        ev.preventDefault();
        if (order.length !== drawn.length) {
          order = drawn.map((d, i) => i).filter((i) => drawn[i].loc >= 0)
            .sort((a, b) => (drawn[a].f.box[0] + drawn[a].f.box[2]) - (drawn[b].f.box[0] + drawn[b].f.box[2]));
        }
        let k = order.indexOf(focusIdx);
        if (ev.key === 'Home') k = 0;
        else if (ev.key === 'End') k = order.length - 1;
        else k = k < 0 ? 0 : (k + (ev.key === 'ArrowRight' || ev.key === 'ArrowDown' ? 1 : order.length - 1)) % order.length;
        focusIdx = order[k];
        draw();
        const b = drawn[focusIdx].f.box;
        const r = canvas.getBoundingClientRect();
        const dpr = canvas.width / r.width;
        showTip(drawn[focusIdx].loc, ((b[0] + b[2]) / 2 * view.scale + view.dx) / dpr, (b[1] * view.scale + view.dy) / dpr);
      } else if (ev.key === 'Enter' && focusIdx >= 0) {
        ev.preventDefault();
        select(drawn[focusIdx].loc);
      } else if (ev.key === 'Escape') {
        focusIdx = -1;
        tip.hidden = true;
        draw();
      }
    });
    canvas.addEventListener('blur', () => { tip.hidden = true; });

    function select(loc) {
      const id = base.ids[loc];
      el.dataset.selected = id;
      cb('onSelect', id);
    }

    function renderUnmatched() {
      unmatched.innerHTML = '';
      if (!base.off.length) return;
      const p = h('p', { text: `Not on the map (no shape of their own${o.level === 'county' ? ': the NYT\'s Kansas City, Joplin and each state\'s Unknown; New York City is drawn as its five boroughs' : ''}): ` });
      base.off.forEach((loc, k) => {
        // Names only (their values are in the data table): rebuilt per level, not per date.
        const b = h('button', { type: 'button', class: 'linklike', 'data-id': base.ids[loc], text: base.names[loc] });
        b.addEventListener('click', () => select(loc));
        if (k) p.append(', ');
        p.append(b);
      });
      // A long list (locations whose FIPS code is no county's) stays folded.
      const box = h('details', { open: base.off.length <= 20 }, h('summary', { text: `Not on the map: ${base.off.length}` }), p);
      unmatched.append(box);
    }

    function renderTable() {
      const vals = byDate.get(cur) || [];
      const rows = drawn.filter((d) => d.loc >= 0).map((d) => d.loc).concat(base.off);
      const uniq = [...new Set(rows)].sort((a, b) => (vals[b] ?? -1) - (vals[a] ?? -1) || base.names[a].localeCompare(base.names[b]));
      const t = h('table', { id: 'map-data' },
        h('caption', { text: `${what()}, ${cur}` }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: LEVELS[o.level].label.replace('World', 'Country') }), h('th', { scope: 'col', text: 'Value' }))));
      const body = h('tbody', {});
      for (const loc of uniq) {
        const b = h('button', { type: 'button', class: 'linklike', text: base.names[loc] });
        b.addEventListener('click', () => select(loc));
        const v = vals[loc];
        body.append(h('tr', { 'data-id': base.ids[loc] }, h('th', { scope: 'row' }, b), h('td', { text: v === null || v === undefined ? '–' : fmt.format(v) })));
      }
      t.append(body);
      table.innerHTML = '';
      table.append(t);
    }
    tableBtn.addEventListener('click', () => {
      table.hidden = !table.hidden;
      tableBtn.setAttribute('aria-expanded', String(!table.hidden));
      if (!table.hidden) renderTable();
    });

    pngBtn.addEventListener('click', () => {
      const legendH = 60;
      const out = document.createElement('canvas');
      out.width = canvas.width;
      out.height = canvas.height + legendH + 30;
      const c = out.getContext('2d');
      c.fillStyle = dark() ? '#121417' : '#ffffff';
      c.fillRect(0, 0, out.width, out.height);
      c.fillStyle = dark() ? '#e8e8e8' : '#1a1a1a';
      c.font = '16px sans-serif';
      c.fillText(`${LEVELS[o.level].label}: ${what()}, ${cur}`, 10, 20);
      c.drawImage(canvas, 0, 30);
      const br = breaks();
      COLORS.forEach((col, i) => {
        const x = 10 + i * 110, y = canvas.height + 40;
        c.fillStyle = col;
        c.fillRect(x, y, 20, 14);
        c.fillStyle = dark() ? '#e8e8e8' : '#1a1a1a';
        c.font = '12px sans-serif';
        c.fillText(i < br.length ? `< ${fmt.format(br[i])}` : `≥ ${fmt.format(br[br.length - 1])}`, x + 24, y + 12);
      });
      const a = document.createElement('a');
      a.href = out.toDataURL('image/png');
      a.download = `covid-map-${o.level}${o.state ? '-' + o.state : ''}-${o.metric}${o.per100k ? '-per-100k' : ''}-${cur}.png`;
      document.body.append(a);
      a.click();
      a.remove();
    });

    // ---- Dates -------------------------------------------------------------------------------
    function month(date) {
      const m = monthOf(date);
      if (!months.has(m.key)) {
        const p = getJson(mapUrl(o, m)).then((r) => {
          r.dates.forEach((d, k) => byDate.set(d, r.values[k]));
          dates = [...byDate.keys()].sort();
          return r;
        });
        p.catch(() => months.delete(m.key));
        months.set(m.key, p);
      }
      return months.get(m.key);
    }
    // The date shown for a day of the slider: the latest date held on or before it.
    function heldOnOrBefore(day) {
      let best = null;
      for (const d of dates) { if (d <= day) best = d; else break; }
      return best;
    }
    async function goTo(day, report) {
      const my = seq;
      if (!byDate.has(day)) {
        try { await month(day); } catch (e) { status.textContent = 'The map data could not be loaded: ' + e.message; return; }
        if (my !== seq || !alive) return;
      }
      const d = byDate.has(day) ? day : heldOnOrBefore(day) || base.first_date;
      if (!byDate.has(d)) {
        try { await month(d); } catch (e) { return; }
      }
      cur = d;
      slider.value = String(dayDiff(base.first_date, day));
      draw();
      if (report) cb('onDateChange', cur);
      // The next month, for playing on without a wait.
      const next = monthOf(addDays(monthOf(day).to, 1));
      if (playing && next.from <= base.last_date) month(next.from).catch(() => {});
    }
    slider.addEventListener('input', () => { stop(); goTo(addDays(base.first_date, Number(slider.value)), true); });

    function stop() {
      if (!playing) return;
      clearTimeout(playing);
      playing = null;
      play.textContent = 'Play';
      play.setAttribute('aria-pressed', 'false');
    }
    play.addEventListener('click', () => {
      if (playing) return stop();
      play.textContent = 'Pause';
      play.setAttribute('aria-pressed', 'true');
      const step = o.level === 'country' ? 7 : 1;
      let day = cur && cur < base.last_date ? cur : base.first_date;
      const tick = async () => {
        day = addDays(day, step);
        if (day > base.last_date) { stop(); return; }
        await goTo(day, true);
        if (playing) playing = setTimeout(tick, 120);
      };
      playing = setTimeout(tick, 0);
    });

    // ---- Loading -----------------------------------------------------------------------------
    async function load(first) {
      const my = ++seq;
      stop();
      months.clear();
      byDate.clear();
      dates = [];
      for (const [lv, b] of Object.entries(levelButtons)) b.setAttribute('aria-pressed', String(lv === o.level));
      metricSel.value = o.metric;
      rateBox.checked = !!o.per100k;
      stateLabel.hidden = o.level !== 'county';
      title.textContent = o.level === 'country' ? 'Map of the world' : o.level === 'county' ? 'Map of the counties' : 'Map of the states';
      canvas.setAttribute('aria-label', `${title.textContent}: ${what()}`);
      renderLegend();
      el.dataset.mapReady = '0';
      status.textContent = '';
      let latest;
      try {
        [atlas, latest] = await Promise.all([loadAtlas(o.level), getJson(mapUrl(o))]);
      } catch (e) {
        if (my === seq) status.textContent = 'The map could not be loaded: ' + e.message;
        return;
      }
      if (my !== seq || !alive) return;
      base = latest;
      latest.dates.forEach((d, k) => byDate.set(d, latest.values[k]));
      dates = [...byDate.keys()].sort();
      if (o.level === 'county' && stateSel.options.length === 1) fillStates();
      stateSel.value = o.state || '';
      match();
      order = [];
      size();
      if (!base.first_date) {
        status.textContent = 'No data for this map yet.';
        el.dataset.mapReady = '1';
        return;
      }
      slider.max = String(dayDiff(base.first_date, base.last_date));
      slider.step = o.level === 'country' ? '7' : '1';
      const want = o.date && o.date >= base.first_date && o.date <= base.last_date ? o.date : base.last_date;
      await goTo(want, false);
      if (my !== seq) return;
      requestAnimationFrame(() => setTimeout(() => {
        if (first && !performance.getEntriesByName('map-paint').length) performance.mark('map-paint');
        el.dataset.mapReady = '1';
      }, 0));
    }
    async function fillStates() {
      try {
        const s = await getJson('api/v1/locations?type=state&limit=100');
        const list = s.locations.sort((a, b) => a.name.localeCompare(b.name));
        for (const l of list) stateSel.append(h('option', { value: l.id, text: l.name }));
        stateSel.value = o.state || '';
      } catch (e) { /* the list of states is a convenience; the map works without it */ }
    }

    let resizeTimer = 0;
    const onResize = () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => { if (atlas) { size(); draw(); } }, 100); };
    window.addEventListener('resize', onResize);

    function update(partial) {
      const before = { ...o };
      Object.assign(o, partial || {});
      if (o.level !== before.level || o.metric !== before.metric || o.per100k !== before.per100k) {
        load(false);
      } else if (o.state !== before.state) {
        stateSel.value = o.state || '';
        match();
        order = [];
        size();
        draw();
      } else if (partial && 'date' in partial && partial.date && partial.date !== cur && base) {
        goTo(partial.date, false);
      } else if (o.dark !== before.dark) {
        draw();
      }
    }

    // Where a location's shape is on screen (client coordinates of a point inside it), or null:
    // for a page that points at it, and for the tests.
    function pointOf(id) {
      const d = drawn.find((x) => x.loc >= 0 && base.ids[x.loc] === id);
      if (!d) return null;
      const r = canvas.getBoundingClientRect();
      const dpr = canvas.width / r.width;
      ctx.setTransform(view.scale, 0, 0, view.scale, view.dx, view.dy);
      const b = d.f.box;
      // The box's centre, then a grid over the box, finer and finer.
      for (let n = 1; n <= 64; n *= 2) {
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const x = b[0] + (b[2] - b[0]) * (i + 0.5) / n, y = b[1] + (b[3] - b[1]) * (j + 0.5) / n;
            const px = x * view.scale + view.dx, py = y * view.scale + view.dy;
            if (ctx.isPointInPath(d.f.path, px, py)) return { x: r.left + px / dpr, y: r.top + py / dpr };
          }
        }
      }
      return null;
    }

    load(true);
    return {
      update,
      pointOf,
      destroy() {
        alive = false;
        stop();
        window.removeEventListener('resize', onResize);
        el.innerHTML = '';
      },
    };
  }

  window.covidMap = { mount };
})();
