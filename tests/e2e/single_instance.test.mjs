// One window per register: a second start on the same data folder hands over to the
// running window and exits, opening nothing; a start on another data folder (another
// register) opens its own window. On Linux the lock lives on the D-Bus session bus, so
// this test runs its own bus (dbus-daemon) for the apps it starts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, appPath, waitFor } from './webdriver.mjs';

/** A private session bus; resolves to { address, stop }. */
async function sessionBus() {
  const dir = mkdtempSync(join(tmpdir(), 'atslegas-bus-'));
  const address = `unix:path=${join(dir, 'bus')}`;
  const daemon = spawn('dbus-daemon', ['--session', '--nofork', `--address=${address}`], { stdio: 'ignore' });
  daemon.unref(); // never what keeps this test file alive
  await waitFor(() => existsSync(join(dir, 'bus')), 'the D-Bus session bus');
  return { address, stop: () => daemon.kill('SIGTERM') };
}

/** Starts the app binary directly (as a user's second double-click does). */
function startDirect(env) {
  const child = spawn(appPath(), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.log = '';
  child.stdout.on('data', (d) => { child.log += d; });
  child.stderr.on('data', (d) => { child.log += d; });
  child.exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return child;
}

test('a second start on the same register goes to the running window; another register opens its own', { timeout: 180000 }, async () => {
  const bus = await sessionBus();
  const env = { DBUS_SESSION_BUS_ADDRESS: bus.address };
  let app;
  let other;
  try {
    app = await App.start({ name: 'single-instance', env });
    await app.waitVisible('#screen-setup');

    // Same data folder: the second process hands over and exits by itself, successfully.
    const second = startDirect({ ...env, ATSLEGAS_DATA_DIR: app.dataDir });
    const outcome = await Promise.race([
      second.exited,
      new Promise((res) => setTimeout(() => res(null), 20000)),
    ]);
    if (!outcome) second.kill('SIGKILL');
    assert.deepEqual(outcome, { code: 0, signal: null }, `the second start should exit at once:\n${second.log}`);
    // The first window is still there and still answers.
    await app.waitVisible('#screen-setup');
    assert.equal(await app.exec('return document.visibilityState'), 'visible');

    // Another data folder is another register: its window opens and stays.
    const otherDir = mkdtempSync(join(tmpdir(), 'atslegas-e2e-other-'));
    other = startDirect({ ...env, ATSLEGAS_DATA_DIR: otherDir });
    const early = await Promise.race([
      other.exited,
      new Promise((res) => setTimeout(() => res(null), 6000)),
    ]);
    assert.equal(early, null, `a window on another register must stay open:\n${other.log}`);
    await waitFor(() => existsSync(join(otherDir, 'database.db')), 'the other register\'s database');
  } finally {
    if (other) other.kill('SIGKILL');
    if (app) await app.stop();
    bus.stop();
  }
});
