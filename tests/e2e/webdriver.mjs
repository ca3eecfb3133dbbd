// A small WebDriver client for driving the real Atslegas window (tauri-driver +
// WebKitWebDriver) with nothing but Node's fetch. Each test gets its own data directory,
// its own driver ports and its own app process.
//
// tauri-driver only rewrites the new-session request; later requests go straight to
// WebKitWebDriver's port, which avoids tauri-driver's occasional dropped connection.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..', '..');
export const SCREENSHOTS = join(HERE, 'screenshots');
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** The app binary under test (ATSLEGAS_APP overrides the debug build). */
export function appPath() {
  const p = process.env.ATSLEGAS_APP || join(ROOT, 'target', 'debug', 'atslegas');
  if (!existsSync(p)) throw new Error(`${p} is missing: build it first (cargo build -p atslegas)`);
  return p;
}

/** The command-line tool built beside the app; tests set up and inspect registers with it
 * (ATSLEGAS_CLI overrides the debug build, as the measurement script does with the release one). */
export const CLI = process.env.ATSLEGAS_CLI || join(ROOT, 'target', 'debug', 'atslegas-cli');

/** root's password in every register the tests set up. */
export const PASSWORD = 'Zaļā-Tilta-Iela-7';

/**
 * The screens a user visits, in the menu's order: each one's button text and the element
 * that shows once the screen has its data. The large e2e test and
 * scripts/measure-window.mjs both visit them all, so a new screen is added here once.
 * @type {[string, string][]}
 */
export const SCREENS = [
  ['Izsniegšana', '#desk-input'],
  ['Atslēgas', '#view tbody tr'],
  ['Personas', '#view tbody tr'],
  ['Grupas', '.group-item'],
  ['Lietotāji', '#view tbody tr'],
  ['Žurnāli', '#view tbody tr'],
  ['Rezerves kopijas', '#backup-now'],
  ['Iestatījumi', '#about dd'],
];

/**
 * The command-line tool on one data folder: `cli('key', 'add', '101')` returns its output.
 * @param {string} dataDir
 * @param {object} [options] for execFileSync (a timeout)
 * @returns {(...args: string[]) => string}
 */
export function cliIn(dataDir, options = {}) {
  return (...args) => execFileSync(CLI, ['--data-dir', dataDir, ...args], { encoding: 'utf8', ...options });
}

/**
 * A new register in a fresh temporary folder, set up by the command-line tool with root
 * and PASSWORD, as an office does before its first start of the window.
 * @param {string} prefix the temporary folder's name
 * @param {{config?: object, cli?: object}} [opts] `config`: written as config.json
 *   first; `cli`: execFileSync options for every `cli` call (a timeout)
 * @returns {{data: string, cli: (...args: string[]) => string}}
 */
export function register(prefix, opts = {}) {
  const data = mkdtempSync(join(tmpdir(), prefix));
  if (opts.config) writeFileSync(join(data, 'config.json'), JSON.stringify(opts.config));
  execFileSync(CLI, ['--data-dir', data, 'init', '--root-password-stdin'], { input: `${PASSWORD}\n` });
  return { data, cli: cliIn(data, opts.cli) };
}

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {any} */ (s.address());
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// No request may wait for ever: a hung driver or window must fail the test, not the run.
const REQUEST_MS = 60000;

// Every driver started by this process, killed with its whole process group (tauri-driver,
// WebKitWebDriver and the app) if a test ends without stopping it: a timed-out test must
// not leave a window behind that keeps the test file, and so the whole run, alive.
const running = new Set();
function killGroup(child) {
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  running.delete(child);
}
process.on('exit', () => { for (const c of [...running]) killGroup(c); });
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => { for (const c of [...running]) killGroup(c); process.exit(1); });
}

/**
 * Closes every top-level window titled `title` as a window manager's close button does
 * (close_window.py): the app's, or a native dialog it opened. False when there is none.
 * @param {string} title
 */
export function closeWindowTitled(title) {
  try {
    execFileSync('/usr/bin/python3', [join(HERE, 'close_window.py'), title], { timeout: 10000, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Polls `fn` until it returns a truthy value or `ms` pass. */
export async function waitFor(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

async function portOpen(port) {
  try {
    await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch { return false; }
}

// ---------------------------------------------------------------- processes (Linux /proc)

/** Every process's children, by its id, from /proc. */
function childrenOf() {
  /** @type {Map<number, number[]>} */
  const kids = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // The name is in parentheses and may hold spaces: the fields after it are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch { /* gone meanwhile */ }
  }
  return kids;
}

/** The process `root` and every process under it. */
export function processTree(root) {
  const kids = childrenOf();
  const out = [];
  const walk = (p) => { out.push(p); (kids.get(p) || []).forEach(walk); };
  walk(root);
  return out;
}

/** The app's process: the one under the driver that runs the app's binary. */
export function appProcess(driverPid, binary) {
  const want = resolve(binary);
  for (const p of processTree(driverPid)) {
    try {
      if (resolve(readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0]) === want) return p;
    } catch { /* gone */ }
  }
  return null;
}

export class App {
  /**
   * Starts tauri-driver and, through it, the app in a new window.
   * By default the driver runs here, on a fresh data folder of its own. `driver` replaces
   * that: it gets the two ports and returns the command that starts tauri-driver (the
   * package test runs it inside a clean Debian root, with the app's default data folder),
   * and `application` is then the app's path as that driver sees it.
   * `env` adds variables to the default driver's (and so the app's) environment.
   * @param {{dataDir?: string, name: string, env?: object,
   *   driver?: (port: number, nativePort: number) => {cmd: string, args: string[], env?: object},
   *   application?: string}} opts
   */
  static async start(opts) {
    const app = new App();
    app.name = opts.name;
    app.port = await freePort();
    app.nativePort = await freePort();
    app.log = '';
    const ports = ['--port', String(app.port), '--native-port', String(app.nativePort)];
    let driver;
    if (opts.driver) {
      driver = opts.driver(app.port, app.nativePort);
    } else {
      app.dataDir = opts.dataDir || mkdtempSync(join(tmpdir(), 'atslegas-e2e-'));
      driver = { cmd: 'tauri-driver', args: ports, env: { ...process.env, ...opts.env, ATSLEGAS_DATA_DIR: app.dataDir } };
    }
    app.driver = spawn(driver.cmd, driver.args, {
      env: driver.env || process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(app.driver);
    // The driver must not keep this process alive on its own (see `running`).
    app.driver.unref();
    app.driver.stdout.unref();
    app.driver.stderr.unref();
    app.driver.stdout.on('data', (d) => { app.log += d; });
    app.driver.stderr.on('data', (d) => { app.log += d; });
    await waitFor(() => portOpen(app.port), 'tauri-driver to listen', 20000);
    // A binary that crashes at start makes session creation hang: give up after 60 s.
    const res = await fetch(`http://127.0.0.1:${app.port}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ capabilities: { alwaysMatch: { 'tauri:options': { application: opts.application || appPath() } } } }),
      signal: AbortSignal.timeout(60000),
    }).then((r) => r.json()).catch((e) => { throw new Error(`no session (${e.message}); driver log:\n${app.log}`); });
    if (!res.value || !res.value.sessionId) throw new Error(`session refused: ${JSON.stringify(res)}\n${app.log}`);
    app.session = res.value.sessionId;
    app.base = `http://127.0.0.1:${app.nativePort}/session/${app.session}`;
    await app.waitVisible('#busy', false);
    return app;
  }

  /** One WebDriver request to WebKitWebDriver; throws with the driver's message. */
  async req(method, path, body) {
    let j;
    try {
      const r = await fetch(this.base + path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_MS),
      });
      j = await r.json();
    } catch (e) {
      throw new Error(`${method} ${path}: no answer from the driver (${e.message}); driver log:\n${this.log.slice(-4000)}`);
    }
    if (j.value && j.value.error) throw new Error(`${method} ${path}: ${j.value.error}: ${j.value.message}`);
    return j.value;
  }

  /** Runs a script in the page and returns its result. */
  exec(script, ...args) {
    return this.req('POST', '/execute/sync', { script, args });
  }

  async find(using, value) {
    const v = await this.req('POST', '/element', { using, value });
    return v[ELEMENT];
  }

  /** The input a user finds by its visible label text. */
  async byLabel(text) {
    return waitFor(async () => {
      const id = await this.exec(
        `const scope = document.querySelector('dialog[open]') || document;
         const shown = (e) => e.getClientRects().length > 0;
         const l = [...scope.querySelectorAll('label')].find(l => shown(l) && l.textContent.trim().replace(/\\s*\\*$/, '') === arguments[0]);
         return l ? (l.htmlFor || (l.querySelector('input,select,textarea') || {}).id || null) : null;`, text);
      return id ? this.find('css selector', `#${id}`) : null;
    }, `a visible field labelled "${text}"`);
  }

  /** A visible button found by its text. */
  async button(text) {
    return waitFor(async () => {
      const id = await this.exec(
        `const scope = document.querySelector('dialog[open]') || document;
         const b = [...scope.querySelectorAll('button')].find(b => b.getClientRects().length > 0 && !b.disabled && b.textContent.trim() === arguments[0]);
         if (!b) return null; if (!b.id) b.id = 'b' + Math.random().toString(36).slice(2); return b.id;`, text);
      return id ? this.find('css selector', `#${id}`) : null;
    }, `a visible button "${text}"`);
  }

  async type(elementId, text) {
    await this.req('POST', `/element/${elementId}/clear`, {});
    await this.req('POST', `/element/${elementId}/value`, { text });
  }

  /** Types into whatever has the focus, as a keyboard (or a barcode scanner) would. */
  async keys(text) {
    const active = await this.req('GET', '/element/active');
    await this.req('POST', `/element/${active[ELEMENT]}/value`, { text });
  }

  /** The id attribute of the focused element. */
  focusedId() {
    return this.exec('return document.activeElement ? document.activeElement.id : null;');
  }

  /** Calls a core command from the page, as the UI does; resolves to {ok} or {refused} (the core's error). */
  invoke(cmd, args = {}) {
    return this.req('POST', '/execute/async', {
      script: `const done = arguments[arguments.length - 1];
        window.__TAURI__.core.invoke(arguments[0], arguments[1]).then(v => done({ ok: v }), e => done({ refused: e }));`,
      args: [cmd, args],
    });
  }

  async click(elementId) {
    await this.req('POST', `/element/${elementId}/click`, {});
  }

  async fill(label, text) {
    await this.type(await this.byLabel(label), text);
  }

  async press(buttonText) {
    await this.click(await this.button(buttonText));
  }

  /** Signs in on the sign-in screen as a user does, and waits for the app's screens. */
  async signIn(user = 'root', password = PASSWORD) {
    await this.waitVisible('#screen-signin');
    await this.fill('Lietotājvārds', user);
    await this.fill('Parole', password);
    await this.press('Pierakstīties');
    await this.waitVisible('#screen-app');
  }

  /** Fills the first-run form with `password` twice and asks for the root user; what
   * follows (the app, or the refusal) is the caller's to wait for. */
  async createRoot(password = PASSWORD) {
    await this.fill('Jaunā parole', password);
    await this.fill('Atkārtojiet paroli', password);
    await this.press('Izveidot galveno lietotāju');
  }

  /** Signs out as a user does and waits for the sign-in screen; returns which of the
   * app's cached lists are still in localStorage (none should be). */
  async signOut() {
    await this.press('Izrakstīties');
    await this.waitVisible('#screen-signin');
    return this.exec(
      "return ['atslegas_users_v1','atslegas_keys_v1','atslegas_persons_v1'].filter(k => localStorage.getItem(k) !== null)");
  }

  /** On the Backups screen: `drive` as the folder, encryption turned off, and a backup by
   * hand started (its progress and result are the caller's to wait for). */
  async backUpUnencryptedTo(drive) {
    await this.fill('Mape vai USB disks', drive);
    await this.click(await this.byLabel('Šifrēt (AES-256)'));
    await this.press('Izveidot rezerves kopiju tagad');
  }

  /** Waits until the element matching `css` is shown (or hidden, with visible=false). */
  async waitVisible(css, visible = true, ms = 15000) {
    await waitFor(() => this.exec(
      // offsetParent is null for fixed elements such as an open <dialog>; getClientRects works for both.
      'const e = document.querySelector(arguments[0]); return !!e && ((e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden") === arguments[1]);', css, visible,
    ), `${css} to be ${visible ? 'shown' : 'hidden'}`, ms);
  }

  /** The visible text of an element (innerText keeps line breaks). */
  text(css) {
    return this.exec('const e = document.querySelector(arguments[0]); return e ? e.innerText : null;', css);
  }

  /** Saves a PNG of the window under tests/e2e/screenshots/. */
  async screenshot(label) {
    await sleep(500);
    // The window paints without compositing layers (see src-tauri's lib.rs), and then
    // WebKit's driver takes a screenshot after the page's next paint: a still page (no
    // caret, no animation) would never give one. A transparent pixel, shown and taken
    // away while the driver waits, does.
    await this.exec(`setTimeout(() => {
      const px = document.createElement('div');
      px.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none';
      document.body.append(px);
      setTimeout(() => px.remove(), 100);
    }, 100)`);
    const b64 = await this.req('GET', '/screenshot');
    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = join(SCREENSHOTS, `${this.name}-${label}.png`);
    writeFileSync(file, Buffer.from(b64, 'base64'));
    return file;
  }

  /**
   * Clicks the window's close button, as a window manager does it (WM_DELETE_WINDOW):
   * the app may stop the close and ask first. WebDriver's own "close window" destroys
   * the page without asking the app, so it cannot test that.
   */
  closeWindow() {
    closeWindowTitled('Atslegas');
  }

  async stop() {
    try { await fetch(this.base, { method: 'DELETE', signal: AbortSignal.timeout(10000) }); } catch { /* already gone */ }
    this.driver.kill('SIGTERM');
    await sleep(300);
    killGroup(this.driver);
  }
}
