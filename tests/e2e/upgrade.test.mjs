// An upgrade as a user meets it: the window opens a register that the first released
// version (schema 1, tests/fixtures/schema-1) left behind, the old users sign in with
// their passwords, every key and person is there, the search finds "Bērziņš" by
// "berzins", and the Logs screen shows the upgrade with its safety backup.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, ROOT, waitFor } from './webdriver.mjs';

const FIXTURE = join(ROOT, 'tests', 'fixtures', 'schema-1');

async function nav(app, text) {
  await app.press(text);
  await waitFor(async () => (await app.text('#view h1')) === text, `the ${text} screen`);
}

test('a register from schema 1 opens upgraded in the window, with its safety backup in the audit trail', { timeout: 180000 }, async () => {
  const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'atslegas-e2e-upgrade-'));
  cpSync(join(FIXTURE, 'data'), dir, { recursive: true });
  const app = await App.start({ name: 'upgrade', dataDir: dir });
  try {
    await app.waitVisible('#screen-signin');
    const safety = readdirSync(join(dir, 'safety-backups')).filter((f) => f.endsWith('.zip'));
    assert.equal(safety.length, 1, `one safety backup: ${safety}`);
    assert.ok(existsSync(join(dir, 'safety-backups', `${safety[0]}.sha256`)));

    await app.signIn(expected.root_user, expected.root_password);
    await app.waitVisible('#stat-keys-total');
    assert.equal(await app.text('#stat-keys-total .stat-value'), String(expected.keys.length));
    assert.equal(await app.text('#stat-keys-out .stat-value'), String(expected.keys_out.length));

    await nav(app, 'Personas');
    await app.fill('Meklēt personas', 'berzins');
    await waitFor(async () => (await app.text('#view tbody') || '').includes('Jānis Bērziņš'), 'Bērziņš found by berzins');

    await nav(app, 'Žurnāli');
    await app.press('Audita žurnāls');
    await app.exec("const s = document.getElementById('au-operation'); s.value = 'upgrade'; s.dispatchEvent(new Event('change'))");
    await app.press('Meklēt');
    // Filtered to the upgrade: one row, by the app itself, on the database.
    await waitFor(async () => (await app.exec("return document.querySelectorAll('#view tbody tr').length")) === 1
      && (await app.text('#view tbody')).includes('atjaunināšana'), 'the upgrade alone in the audit trail');
    const row = await app.text('#view tbody');
    assert.match(row, /app:upgrade/);
    assert.match(row, /Datubāze/);
    await app.screenshot('1-logs-upgrade');
  } finally {
    await app.stop();
  }
});
