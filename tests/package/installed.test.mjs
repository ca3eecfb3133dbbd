// The installed package, in the clean Debian root that tests/package/install.sh made: the
// window that apt-get put in /usr/bin starts under Xvfb inside that root, shows the
// first-run screen, creates its database in the user's data folder (no --data-dir: the
// default a new user gets), and About shows the one version of the workspace.
// Run by install.sh (it sets ATSLEGAS_INSTALL_ROOT and ATSLEGAS_VERSION), never alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App, waitFor } from '../e2e/webdriver.mjs';

const ROOT_DIR = process.env.ATSLEGAS_INSTALL_ROOT;
const VERSION = process.env.ATSLEGAS_VERSION;
const PASSWORD = 'Uzstādīta-Versija-2026';

/** A command inside the root, with a clean environment (what a user's session would have). */
function inRoot(...cmd) {
  return ['/usr/bin/env', '-i', 'HOME=/root', 'LANG=C.UTF-8',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...cmd];
}

test('the installed window sets up a new register and shows its version', { timeout: 300000 }, async (t) => {
  if (!ROOT_DIR || !VERSION) {
    t.skip('run by tests/package/install.sh');
    return;
  }
  // Xvfb inside the root, on a display number of its own: X's abstract sockets are
  // shared with this machine's displays even from inside a chroot.
  const driver = (port, nativePort) => {
    const display = 200 + (port % 500);
    return {
      cmd: 'chroot',
      args: [ROOT_DIR, ...inRoot('/bin/sh', '-c',
        `Xvfb :${display} -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
         export DISPLAY=:${display}; sleep 1;
         exec tauri-driver --port ${port} --native-port ${nativePort}`)],
    };
  };
  const app = await App.start({ name: 'installed', driver, application: '/usr/bin/atslegas' });
  try {
    await app.waitVisible('#screen-setup');
    await app.screenshot('1-first-run');
    const db = join(ROOT_DIR, 'root', '.local', 'share', 'atslegas', 'database.db');
    const config = join(ROOT_DIR, 'root', '.config', 'atslegas', 'config.json');
    await waitFor(() => existsSync(db), `the database at ${db}`);
    assert.ok(existsSync(config), `config.json at ${config}`);

    await app.createRoot(PASSWORD);
    await app.waitVisible('#screen-app');
    assert.equal(await app.text('#user-name'), 'root');

    await app.press('Iestatījumi');
    await app.waitVisible('#about');
    const about = await app.text('#about');
    assert.match(about, new RegExp(`\\b${VERSION.replace(/\./g, '\\.')}\\b`), `About shows ${VERSION}:\n${about}`);
    assert.ok(about.includes('/root/.local/share/atslegas'), `About names the data folder:\n${about}`);
    await app.exec("document.getElementById('about').scrollIntoView()");
    await app.screenshot('2-about');
  } finally {
    await app.stop();
  }

  // The installed CLI reads the register the window made.
  const status = JSON.parse(execFileSync('chroot', [ROOT_DIR, ...inRoot('atslegas-cli', '--json', 'status')], { encoding: 'utf8' }));
  assert.equal(status.set_up, true, JSON.stringify(status));
});
