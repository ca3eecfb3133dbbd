// End to end: back up to a folder from the window (encrypted, with the generated
// recovery passphrase), change the data, restore the backup from the window, and see
// the old data back, with the restore recorded in the history and the audit trail.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, ROOT, waitFor } from './webdriver.mjs';

const PASSWORD = 'Zaļā-Tilta-Iela-7';
const CLI = join(ROOT, 'target', 'debug', 'atslegas-cli');

test('back up, change, restore: the old data is back and the restore is on record', { timeout: 240000 }, async () => {
  const data = mkdtempSync(join(tmpdir(), 'atslegas-e2e-backup-'));
  const drive = mkdtempSync(join(tmpdir(), 'atslegas-e2e-drive-'));
  const cli = (...args) => execFileSync(CLI, ['--data-dir', data, ...args], { encoding: 'utf8' });
  execFileSync(CLI, ['--data-dir', data, 'init', '--root-password-stdin'], { input: `${PASSWORD}\n` });
  cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1');
  cli('key', 'add', '101', '--name', 'Telpa 204');
  cli('issue', '101', '--to', 'E-1', '--override-reason', 'e2e');

  const app = await App.start({ name: 'backup', dataDir: data });
  try {
    await app.waitVisible('#screen-signin');
    await app.fill('Lietotājvārds', 'root');
    await app.fill('Parole', PASSWORD);
    await app.press('Pierakstīties');
    await app.waitVisible('#screen-app');
    // The dashboard says there is no backup yet.
    await waitFor(async () => /Nekad/.test(await app.text('#stat-backup')), 'no backup yet');

    await app.press('Rezerves kopijas');
    await app.waitVisible('#backup-now');
    await app.fill('Mape vai USB disks', drive);
    assert.equal(await app.exec("return document.getElementById('backup-encrypt').checked"), true);
    await app.screenshot('1-backup-screen');
    await app.press('Izveidot rezerves kopiju tagad');
    // The generated recovery passphrase is shown once.
    await app.waitVisible('#recovery-passphrase', true, 60000);
    const passphrase = (await app.text('#recovery-passphrase')).trim();
    assert.match(passphrase, /^[a-z2-9]{5}(-[a-z2-9]{5}){5}$/);
    await app.screenshot('2-recovery-passphrase');
    await app.press('Aizvērt');
    await waitFor(async () => /Gatavs un pārbaudīts/.test(await app.text('#backup-result')), 'the verified backup');
    assert.equal(await app.exec("return document.getElementById('backup-progress').value"), 100);
    await waitFor(async () => /pārbaudīta/.test(await app.text('#backup-history')), 'the history row');
    await app.screenshot('3-backup-done');
    const files = readdirSync(drive);
    assert.equal(files.filter((f) => f.endsWith('.zip')).length, 1);
    assert.equal(files.filter((f) => f.endsWith('.zip.sha256')).length, 1);

    // Change the data after the backup.
    cli('return', '101');
    cli('key', 'add', '102', '--name', 'Arhīvs');

    // Restore from the window: find the backup in the folder, check it, confirm.
    await app.fill('Rezerves kopijas fails', join(drive, files.find((f) => f.endsWith('.zip'))));
    await app.press('Pārbaudīt kopiju');
    await waitFor(async () => /šifrēta/.test(await app.text('#view')), 'the passphrase request');
    await app.fill('Kopijas parole (ja šifrēta)', 'nepareiza-parole-12345');
    await app.press('Pārbaudīt kopiju');
    await waitFor(async () => /Parole nav pareiza/.test(await app.text('#view')), 'the wrong-passphrase message');
    await app.fill('Kopijas parole (ja šifrēta)', passphrase);
    await app.press('Pārbaudīt kopiju');
    await app.waitVisible('#restore-counts', true, 30000);
    assert.match(await app.text('#restore-counts'), /keys\s+2\s+1/);
    await app.screenshot('4-restore-preview');
    await app.press('Atjaunot šo kopiju');
    await waitFor(() => app.exec("return !!document.querySelector('dialog[open]')"), 'the confirmation');
    assert.match(await app.text('dialog[open]'), /aizstāti/);
    await app.press('Atjaunot šo kopiju');
    await waitFor(async () => /Dati atjaunoti/.test(await app.text('dialog[open]') || ''), 'the restored message', 60000);
    await app.screenshot('5-restored');
    await app.press('Aizvērt');

    // Everyone signs in again; the old data is back.
    await app.waitVisible('#screen-signin');
    assert.equal(await app.exec("return localStorage.getItem('atslegas_keys_v1')"), null);
    await app.fill('Lietotājvārds', 'root');
    await app.fill('Parole', PASSWORD);
    await app.press('Pierakstīties');
    await app.waitVisible('#stat-keys-total');
    assert.equal(await app.text('#stat-keys-total .stat-value'), '1');
    assert.equal(await app.text('#stat-keys-out .stat-value'), '1');
    await app.screenshot('6-old-data-back');

    const audit = JSON.parse(cli('--json', 'audit', 'list', '--operation', 'restore_backup'));
    assert.equal(audit.length, 1);
    cli('audit', 'verify');
    const safety = readdirSync(join(data, 'safety-backups')).filter((f) => f.endsWith('-pinned.zip'));
    assert.equal(safety.length, 1);
  } finally {
    await app.stop();
  }
});
