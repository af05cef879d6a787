// Shared by the browser tests and bench/serve.sh: load a database from ../shared/data with the real
// binary, serve it on a free port of 127.0.0.1, and launch Debian's Chromium (never a downloaded
// browser) with a fresh profile and no network beyond loopback.
// Also the tests' runner (check, deadline, finish) and their guards: refuseForeign (nothing fetched
// but from the server) and watchProblems (no console error, page error or CSP violation).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

export const BIN = process.env.COVID_ETL_BIN || path.join(repo, 'build', 'covid-etl');
export const SHARED = path.resolve(process.env.COVID_ETL_SHARED_DATA || path.join(repo, '..', 'shared', 'data'));
export const NYT = path.join(SHARED, 'nyt', 'us.csv');
export const JHU = path.join(SHARED, 'jhu', 'time-series-19-covid-combined.csv');
export const STATES = path.join(SHARED, 'nyt', 'us-states.csv');
export const POPULATION = path.join(SHARED, 'jhu', 'UID_ISO_FIPS_LookUp_Table.csv');
export const ANOMALIES = path.join(SHARED, 'nyt', 'anomalies.csv');
export const WHO = path.join(SHARED, 'who', 'WHO-COVID-19-global-data-2026-04-26.csv');
export const GEN_NYT_LIKE = path.join(SHARED, '..', 'tools', 'gen-nyt-like');
export const CHROMIUM = process.env.COVID_ETL_CHROMIUM || '/usr/bin/chromium';

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('COVID_ETL_')) delete env[k];
  return env;
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Runs the binary; throws on a non-zero exit. Returns stdout.
export function cli(...args) {
  const p = spawnSync(BIN, args, { encoding: 'utf8', env: cleanEnv(), timeout: 120_000 });
  if (p.status !== 0) throw new Error(`covid-etl ${args.join(' ')}: exit ${p.status}: ${p.stderr}`);
  return p.stdout;
}

// The national series; with states: true also the NYT state series (us-states.csv).
export function loadDatabase(dir, { states = false } = {}) {
  const db = path.join(dir, 'covid.db');
  cli('run', '--db', db, '--nyt', NYT, '--jhu', JHU, ...(states ? ['--states', STATES] : []));
  return db;
}

// Every level and the reference data: the national series, the states, a small county file made
// by ../shared/tools/gen-nyt-like (60 counties, NYT-shaped: real FIPS codes, 'Unknown' and New
// York City without one; the shared data has no county file), the populations, the NYT's notes
// and the WHO's weekly world series.
export function loadEverything(dir) {
  const db = path.join(dir, 'covid.db');
  const gen = path.join(dir, 'gen');
  const p = spawnSync(GEN_NYT_LIKE, ['--counties', '60', '--days', '1200', '--seed', '7', gen], { encoding: 'utf8', timeout: 60_000 });
  if (p.status !== 0) throw new Error(`gen-nyt-like: exit ${p.status}: ${p.stderr}`);
  cli('run', '--db', db, '--nyt', NYT, '--jhu', JHU, '--states', STATES,
    '--counties', path.join(gen, 'us-counties.csv'), '--population', POPULATION,
    '--anomalies', ANOMALIES, '--who', WHO);
  return db;
}

// Starts `covid-etl serve` on 127.0.0.1 port 0 (with `args` more, e.g. ['--config', file]);
// resolves to { url, stop() } once it prints its port.
export function startServer(db, args = []) {
  const proc = spawn(BIN, ['serve', '--db', db, '--listen', '127.0.0.1:0', ...args], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('serve did not start: ' + stderr)); }, 20_000);
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1],
        // SIGTERM; resolves to the exit status.
        stop: () => new Promise((done) => {
          if (proc.exitCode !== null) return done(proc.exitCode);
          const kill = setTimeout(() => proc.kill('SIGKILL'), 15_000);
          proc.once('exit', (code) => { clearTimeout(kill); done(code); });
          proc.kill('SIGTERM');
        }),
        stderr: () => stderr,
      });
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited ${code}: ${stderr}`)); });
  });
}

// A persistent context on a fresh profile directory (removed by close()).
export async function launchChromium(options = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (scripts/setup.sh installs Debian's chromium)`);
  const profile = tempDir('covid-etl-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: options.viewport || { width: 1280, height: 900 },
    acceptDownloads: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-extensions',
      // Nothing but loopback resolves, so the page cannot reach the network.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

// The tests' runner: check() runs one named check, prints `ok` or `FAIL` with the error, and
// never throws, so the next check runs; finish() prints the count and exits 1 if any failed.
// deadline() ends the process (exit 1) if the test takes longer than `seconds`.
const checks = [];
let deadlineTimer = null;

export function deadline(seconds) {
  deadlineTimer = setTimeout(() => { console.error(`FAIL: timed out after ${seconds} s`); process.exit(1); }, seconds * 1000);
}

export async function check(name, fn) {
  const t = Date.now();
  try {
    await fn();
    checks.push([name, 'ok']);
    console.log(`ok    ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    checks.push([name, 'FAIL']);
    console.log(`FAIL  ${name}\n      ${String(e.stack || e).split('\n').slice(0, 6).join('\n      ')}`);
  }
}

export function finish() {
  if (deadlineTimer) clearTimeout(deadlineTimer);
  const failed = checks.filter(([, s]) => s !== 'ok').length;
  console.log(`${checks.length - failed} of ${checks.length} checks passed`);
  process.exit(failed ? 1 : 0);
}

// Everything the pages of `context` ask for must be on `origin` (or data: URLs); anything else is
// refused and noted in the array returned (a test asserts it stays empty).
export async function refuseForeign(context, origin) {
  const foreign = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + '/') || url.startsWith('data:')) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  return foreign;
}

// Notes every console error or warning, uncaught page error and Content-Security-Policy violation
// of `page` in the array returned (a test asserts it stays empty).
export async function watchProblems(page) {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    problems.push(`console ${m.type()}: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return problems;
}

// How many pixels of the canvas `selector` (in `target`: a page or a frame) are drawn (alpha >
// 200). Read from a copy, not from the canvas itself (reading a chart's own canvas back again and
// again makes Chromium warn on the console).
export function drawnPixels(target, selector) {
  return target.evaluate((sel) => {
    const c = document.querySelector(sel);
    const copy = document.createElement('canvas');
    copy.width = c.width;
    copy.height = c.height;
    const x = copy.getContext('2d', { willReadFrequently: true });
    x.drawImage(c, 0, 0);
    const px = x.getImageData(0, 0, copy.width, copy.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 200) n++;
    return n;
  }, selector);
}
