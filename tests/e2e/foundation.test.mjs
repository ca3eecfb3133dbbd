// End to end, in the real window: first-run setup, sign out, a refused sign-in, sign in,
// the home screen reading real data from the core, and changing one's own password (the
// current one is asked for). Screenshots go to tests/e2e/screenshots/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App, CLI, PASSWORD, cliIn, processTree, register, waitFor } from './webdriver.mjs';

const NEW_PASSWORD = 'Sarkanā-Tilta-Iela-8';

/** In the own-password dialog: a wrong current password is refused beside its field;
 * the dialog stays open with the new password filled in twice. */
async function wrongCurrentPasswordIsRefused(app) {
  await app.fill('Pašreizējā parole', 'not-the-password');
  await app.fill('Jaunā parole', NEW_PASSWORD);
  await app.fill('Atkārtojiet paroli', NEW_PASSWORD);
  await app.press('Saglabāt');
  await app.waitVisible('#f-current-error');
  assert.match(await app.text('#f-current-error'), /Pašreizējā parole nav pareiza/);
}

test('first-run setup, sign out, sign in, and the home shows real counts', { timeout: 180000 }, async () => {
  const app = await App.start({ name: 'foundation' });
  try {
    // First start with an empty database: the setup screen, no default password anywhere.
    await app.waitVisible('#screen-setup');
    await app.screenshot('1-setup');

    // The page is painted without WebKit's compositing layers (about 120 MB less memory,
    // docs/BENCHMARK.md): the web process WebKit started has the setting.
    const web = processTree(app.driver.pid).filter((p) => {
      try { return readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('WebKitWebProces'); } catch { return false; }
    });
    assert.equal(web.length, 1, 'one WebKit web process under the app');
    const environ = readFileSync(`/proc/${web[0]}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes('WEBKIT_DISABLE_COMPOSITING_MODE=1'), 'the web process paints without compositing layers');

    // A weak password is refused by the core with its reason shown next to the form.
    await app.createRoot('short');
    await app.waitVisible('#setup-error');
    assert.match(await app.text('#setup-error'), /par vāju/);

    await app.createRoot();
    await app.waitVisible('#screen-app');
    assert.equal(await app.text('#user-name'), 'root');
    await app.waitVisible('#stat-keys-total');
    assert.equal(await app.text('#stat-keys-total .stat-value'), '0');
    await app.screenshot('2-home-empty');

    // Data added behind the window's back (by the CLI on the same data folder) shows up
    // after Reload: the home reads the core, not a fixture.
    const cli = cliIn(app.dataDir);
    cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1');
    cli('key', 'add', '101', '--name', 'Telpa 204');
    cli('key', 'add', '102');
    cli('issue', '101', '--to', 'E-1', '--override-reason', 'e2e');
    await app.press('Pārlādēt');
    await app.waitVisible('#keys-out-table');
    assert.equal(await app.text('#stat-keys-total .stat-value'), '2');
    assert.equal(await app.text('#stat-keys-out .stat-value'), '1');
    assert.match(await app.text('#keys-out-table tbody'), /101 · Telpa 204\s+Jānis Bērziņš/);
    const cachedKeys = await app.exec("return JSON.parse(localStorage.getItem('atslegas_keys_v1')).length");
    assert.equal(cachedKeys, 2);
    await app.screenshot('3-home-with-data');

    // Sign out: back to sign-in, the cache is gone.
    assert.deepEqual(await app.signOut(), []);

    // A wrong password is refused with a clear message, the same one an unknown user gets.
    await app.fill('Lietotājvārds', 'root');
    await app.fill('Parole', 'not-the-password');
    await app.press('Pierakstīties');
    await app.waitVisible('#signin-error');
    const refusedText = await app.text('#signin-error');
    assert.match(refusedText, /Nepareizs lietotājvārds vai parole, vai arī konts ir bloķēts vai deaktivizēts/);
    await app.screenshot('4-signin-refused');
    await app.exec("document.getElementById('signin-error').textContent = ''");
    await app.fill('Lietotājvārds', 'nobody');
    await app.fill('Parole', PASSWORD);
    await app.press('Pierakstīties');
    await waitFor(async () => (await app.text('#signin-error')) === refusedText, 'the same refusal for an unknown user');

    await app.signIn();
    await app.waitVisible('#stat-keys-out');
    assert.equal(await app.text('#stat-keys-out .stat-value'), '1');
    await app.screenshot('5-home-after-sign-in');

    // Changing one's own password asks for the current one; a wrong one is refused next
    // to its field and changes nothing.
    await app.press('Lietotāji');
    await app.press('Mainīt paroli');
    await wrongCurrentPasswordIsRefused(app);
    await app.screenshot('6-own-password-wrong-current');
    const asRoot = (password) => spawnSync(CLI, ['--data-dir', app.dataDir, '--as', 'root', 'key', 'list'],
      { encoding: 'utf8', env: { ...process.env, ATSLEGAS_PASSWORD: password } });
    assert.equal(asRoot(PASSWORD).status, 0, 'the old password still works');
    await app.fill('Pašreizējā parole', PASSWORD);
    await app.press('Saglabāt');
    await app.waitVisible('#dialog', false);
    await waitFor(async () => /Jūsu parole nomainīta/.test(await app.text('body')), 'the change is confirmed');
    // The old password is refused (exit 4), the new one works, and this window's session
    // lives on.
    const old = asRoot(PASSWORD);
    assert.equal(old.status, 4, old.stderr);
    assert.match(old.stderr, /user name or password is wrong/);
    assert.equal(asRoot(NEW_PASSWORD).status, 0);
    assert.ok((await app.invoke('home_summary')).ok, 'the window is still signed in');
    const changed = JSON.parse(cli('--json', 'audit', 'list', '--operation', 'set_password'));
    assert.equal(changed.length, 1);
    assert.deepEqual([changed[0].actor, changed[0].after], ['root', { own: true, sessions_ended: 0 }]);

    // Every step above is in the audit trail, and the chain verifies.
    const audit = JSON.parse(cli('--json', 'audit', 'list', '--component', 'session'));
    const ops = audit.map((a) => a.operation);
    for (const op of ['login', 'logout', 'login_failed']) assert.ok(ops.includes(op), `audit has ${op}: ${ops}`);
    cli('audit', 'verify');
    // Sessions live in the session folder, named by a hash, never by the token.
    assert.ok(existsSync(join(app.dataDir, 'sessions')));
    assert.equal(readdirSync(join(app.dataDir, 'sessions')).filter((f) => f.endsWith('.json')).length, 1);
  } finally {
    await app.stop();
  }
});

test('a malformed config.json is shown with its line and key, and is not overwritten', { timeout: 120000 }, async () => {
  const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'atslegas-e2e-cfg-'));
  const bad = '{\n  "log_level": "loud"\n}\n';
  writeFileSync(join(dir, 'config.json'), bad);
  const app = await App.start({ name: 'bad-config', dataDir: dir });
  try {
    await app.waitVisible('#screen-startup-error');
    const msg = await app.text('#startup-message');
    assert.match(msg, /2\. rinda/);
    assert.match(msg, /log_level/);
    await app.screenshot('1-startup-error');
    assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), bad);
  } finally {
    await app.stop();
  }
});

test('after the inactivity timeout the window returns to sign-in and the core refuses the old session', { timeout: 120000 }, async () => {
  const { data: dir, cli } = register('atslegas-e2e-timeout-', { config: { client_sessions: { timeout_seconds: 10 } } });
  const app = await App.start({ name: 'timeout', dataDir: dir });
  try {
    await app.signIn();
    // Nobody touches anything for longer than the timeout.
    await app.waitVisible('#screen-signin', true, 30000);
    assert.match(await app.text('#signin-notice'), /neaktivitātes dēļ/);
    await app.screenshot('1-timed-out');
    const refused = await app.invoke('home_summary');
    assert.ok(refused.refused, 'the core refuses the expired session');
    const audit = JSON.parse(cli('--json', 'audit', 'list', '--operation', 'session_timeout'));
    assert.equal(audit.length, 1);
  } finally {
    await app.stop();
  }
});

test('an operator, who has no Users screen, changes their own password from the top bar', { timeout: 120000 }, async () => {
  const { data, cli } = register('atslegas-e2e-own-password-');
  const OLGA = 'Zilā-Jūra-Viļņi-3';
  const added = spawnSync(CLI, ['--data-dir', data, 'user', 'add', 'olga', '--role', 'operator', '--password-stdin'], { input: `${OLGA}\n`, encoding: 'utf8' });
  assert.equal(added.status, 0, added.stderr);
  const app = await App.start({ name: 'own-password', dataDir: data });
  try {
    await app.signIn('olga', OLGA);
    assert.equal(await app.exec("return !!document.querySelector('#nav [data-screen=users]')"), false, 'no Users screen for an operator');
    await app.press('Mana parole');
    await app.waitVisible('#dialog');
    assert.equal(await app.text('#dialog-title'), 'Mainīt manu paroli');

    // A wrong current password is refused next to its field.
    await wrongCurrentPasswordIsRefused(app);
    await app.screenshot('own-password-operator');

    await app.fill('Pašreizējā parole', OLGA);
    await app.press('Saglabāt');
    await app.waitVisible('#dialog', false);
    await waitFor(async () => /Jūsu parole nomainīta/.test(await app.text('body')), 'the change is confirmed');
    const changed = JSON.parse(cli('--json', 'audit', 'list', '--operation', 'set_password'));
    assert.deepEqual([changed[0].actor, changed[0].after], ['olga', { own: true, sessions_ended: 0 }]);

    // The new password signs in; the old one no longer does.
    await app.signOut();
    await app.fill('Lietotājvārds', 'olga');
    await app.fill('Parole', OLGA);
    await app.press('Pierakstīties');
    await app.waitVisible('#signin-error');
    await app.signIn('olga', NEW_PASSWORD);
    assert.equal(await app.text('#user-name'), 'olga');
  } finally {
    await app.stop();
  }
});
