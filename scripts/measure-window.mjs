#!/usr/bin/env node
// Measures the window with the reference data set (docs/BENCHMARK.md, issue 15): the time
// from the click on the sign-in button to the dashboard painted with its data, and the
// memory (PSS) of the app and every process it started (WebKit's web and network
// processes), on the sign-in screen and after a sign-in and a visit to every screen.
// Figures come from here, never from a timed test.
//
//   ATSLEGAS_APP=target/release/atslegas \
//     xvfb-run -a -s "-screen 0 1280x800x24" node scripts/measure-window.mjs [options]
//
//   --runs N          sign-ins to time (signed out between them), default 10
//   --log-rows N      key-log rows of the demo register (default: demo's 1,000,000)
//   --persons N, --keys N   the same for persons and keys (demo's defaults: 10,000, 3,000)
//   --data DIR        measure an existing register (made by `demo`) instead of a new one;
//                     the window signs in and out of it (sessions and audit rows)
//   --keep            keep the new register and print its folder (for --data next time)
//   --settle S        seconds to wait before reading memory, default 5
//   --markdown        print the tables as Markdown
//
// The CLI that makes the register is ATSLEGAS_CLI, else target/release/atslegas-cli when
// built, else the debug one (tests/e2e/webdriver.mjs).

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const releaseCli = join(ROOT, 'target', 'release', 'atslegas-cli');
if (!process.env.ATSLEGAS_CLI && existsSync(releaseCli)) process.env.ATSLEGAS_CLI = releaseCli;
// SCREENS: every screen a user visits and what shows once it has its data, the list
// tests/e2e/large.test.mjs visits too.
const { App, CLI, PASSWORD, SCREENS, appPath, appProcess, cliIn, processTree, register, waitFor } = await import('../tests/e2e/webdriver.mjs');

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
/** @param {string} name @param {string|undefined} [dflt] */
function opt(name, dflt) {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}
const flag = (name) => argv.includes(`--${name}`);
if (flag('help') || flag('h')) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const RUNS = Math.max(1, Number(opt('runs', '10')));
const SETTLE_MS = Number(opt('settle', '5')) * 1000;
const STEP_SETTLE_MS = 1000;
const MARKDOWN = flag('markdown');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- memory

/**
 * PSS (proportional set size: each shared page divided among the processes sharing it,
 * so the figures add up) of the app and its descendants, in kB, from smaps_rollup.
 * @returns {{pid: number, name: string, pss: number, anon: number, file: number, rss: number}[]}
 */
function memory(root) {
  const rows = [];
  for (const pid of processTree(root)) {
    try {
      const roll = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const kb = (field) => Number((roll.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm')) || [])[1] || 0);
      const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      rows.push({ pid, name, pss: kb('Pss'), anon: kb('Pss_Anon'), file: kb('Pss_File'), rss: kb('Rss') });
    } catch { /* gone, or a kernel thread */ }
  }
  return rows;
}

const mb = (kb) => (kb / 1024).toFixed(1);

// ---------------------------------------------------------------- sign-in timing

/**
 * Signs in as root and returns the milliseconds from the click on the sign-in button to
 * the dashboard's mark (`dashboard-painted`, set by ui/screens/dashboard.js once a frame
 * with its data has been painted), both read from the page's own clock.
 */
async function timedSignIn(app) {
  await app.waitVisible('#screen-signin');
  await app.fill('Lietotājvārds', 'root');
  await app.fill('Parole', PASSWORD);
  const button = await app.button('Pierakstīties');
  await app.exec(`
    performance.clearMarks('signin-click');
    performance.clearMarks('dashboard-painted');
    document.getElementById('signin-submit').addEventListener('click',
      () => performance.mark('signin-click'), { capture: true, once: true });`);
  await app.click(button);
  const r = await waitFor(() => app.exec(`
    const c = performance.getEntriesByName('signin-click')[0];
    const p = performance.getEntriesByName('dashboard-painted')[0];
    if (!c || !p) return null;
    return { ms: p.startTime - c.startTime };`),
  'the dashboard painted with its data (performance mark "dashboard-painted")', 60000);
  return r;
}

/** Signs out from the dashboard: the next sign-in opens the screen the user left. */
async function signOut(app) {
  await app.press('Pārskats');
  await app.waitVisible('.calendar');
  await app.press('Izrakstīties');
  await app.waitVisible('#screen-signin');
}

// ---------------------------------------------------------------- output

/** @param {string[]} head @param {string[][]} rows */
function table(head, rows) {
  if (MARKDOWN) {
    const line = (r) => `| ${r.join(' | ')} |`;
    return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
  }
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

/** @param {ReturnType<typeof memory>} rows @param {string} title */
function memoryTable(rows, title) {
  const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
  const body = rows.map((r) => [`${r.name} (${r.pid})`, mb(r.pss), mb(r.anon), mb(r.file), mb(r.rss)]);
  body.push([MARKDOWN ? '**all**' : 'all', mb(sum('pss')), mb(sum('anon')), mb(sum('file')), mb(sum('rss'))]);
  return `${MARKDOWN ? '#### ' : ''}${title}\n\n${table(['process', 'PSS MB', 'anon', 'file', 'RSS MB'], body)}\n`;
}

/**
 * PSS after each screen, the whole app and its web process, with the change from the
 * reading before: which screen makes the web process grow.
 * @param {[string, ReturnType<typeof memory>][]} steps
 */
function stepsTable(steps) {
  const total = (rows) => rows.reduce((s, r) => s + r.pss, 0);
  const web = (rows) => rows.filter((r) => /WebKitWeb/i.test(r.name)).reduce((s, r) => s + r.pss, 0);
  let before = null;
  const body = steps.map(([name, rows]) => {
    const row = [name, mb(total(rows)), mb(web(rows)), before ? `${web(rows) >= web(before) ? '+' : ''}${mb(web(rows) - web(before))}` : ''];
    before = rows;
    return row;
  });
  return `${MARKDOWN ? '#### ' : ''}memory after each screen (${STEP_SETTLE_MS / 1000} s after it showed)\n\n${table(['after', 'whole app PSS MB', 'web process', 'change'], body)}\n`;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

// ---------------------------------------------------------------- run

const binary = appPath();
let dataDir = opt('data');
let made = false;
if (!dataDir) {
  const counts = ['persons', 'keys', 'log-rows'].flatMap((k) => (opt(k) ? [`--${k}`, opt(k)] : []));
  const t0 = Date.now();
  const reg = register('atslegas-measure-', { cli: { maxBuffer: 256 * 1024 * 1024 } });
  dataDir = reg.data;
  made = true;
  console.error(`making the register (demo ${counts.join(' ') || 'defaults'}) in ${dataDir} with ${CLI} ...`);
  reg.cli('demo', ...counts);
  console.error(`  made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
/** What the register holds, as `atslegas-cli status` says it (printed with the figures). */
let status = '';
try { status = JSON.stringify(JSON.parse(cliIn(dataDir)('--json', 'status'))); } catch { /* shown without it */ }

const app = await App.start({ name: 'measure', dataDir });
let exitCode = 0;
try {
  const pid = appProcess(app.driver.pid, binary);
  if (!pid) throw new Error(`no process of ${binary} under the driver`);
  await app.waitVisible('#screen-signin');
  await sleep(SETTLE_MS);
  const atSignIn = memory(pid);

  const times = [];
  const first = await timedSignIn(app);
  times.push(first.ms);
  // Where the memory goes: a reading after each screen, once it has settled a moment.
  const steps = [['sign-in screen', atSignIn]];
  await sleep(STEP_SETTLE_MS);
  steps.push(['dashboard', memory(pid)]);
  for (const [name, ready] of SCREENS) {
    await app.press(name);
    await app.waitVisible(ready, true, 60000);
    await sleep(STEP_SETTLE_MS);
    steps.push([name, memory(pid)]);
  }
  await sleep(SETTLE_MS);
  const afterScreens = memory(pid);

  for (let i = 1; i < RUNS; i++) {
    await signOut(app);
    const r = await timedSignIn(app);
    times.push(r.ms);
  }

  const sorted = [...times].sort((a, b) => a - b);
  const f = (ms) => ms.toFixed(0);
  console.log(`${MARKDOWN ? '### ' : ''}Atslegas window, ${binary}`);
  console.log(`register: ${dataDir}${status ? `\nstatus: ${status}` : ''}\n`);
  console.log(memoryTable(atSignIn, 'memory on the sign-in screen'));
  console.log(memoryTable(afterScreens, `memory after sign-in and a visit to every screen (${SCREENS.length + 1})`));
  console.log(stepsTable(steps));
  console.log(`${MARKDOWN ? '#### ' : ''}sign-in: click to the dashboard painted with data (ms)\n`);
  console.log(table(['runs', 'p50', 'min', 'max', 'first', 'all'],
    [[String(times.length), f(percentile(sorted, 0.5)), f(sorted[0]), f(sorted[sorted.length - 1]), f(times[0]), times.map(f).join(' ')]]));
} catch (e) {
  console.error(e);
  exitCode = 1;
} finally {
  await app.stop();
  if (made && !flag('keep')) rmSync(dataDir, { recursive: true, force: true });
  else if (made) console.error(`kept the register: --data ${dataDir}`);
}
process.exit(exitCode);
