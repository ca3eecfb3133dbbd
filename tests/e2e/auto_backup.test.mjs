// End to end: automatic backups in the real window. At exit: an admin turns them on
// (encrypted, with the passphrase shown once), makes one backup by hand so the folder is
// remembered, changes data, closes the window: the window shows the backup, then quits,
// and the new archive opens with the passphrase. Daily: with a day-old backup and a
// change, signing in makes the daily backup beside the work.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CLI, register, waitFor } from './webdriver.mjs';

const archives = (dir) => readdirSync(dir).filter((f) => f.endsWith('.zip')).sort();

test('closing the window makes the automatic backup, shows it, then quits', { timeout: 240000 }, async () => {
  const { data, cli } = register('atslegas-e2e-auto-', { cli: { timeout: 60000 } });
  const drive = mkdtempSync(join(tmpdir(), 'atslegas-e2e-autodrive-'));
  cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1');

  const app = await App.start({ name: 'auto', dataDir: data });
  let closed = false;
  try {
    await app.signIn();
    await app.press('Rezerves kopijas');
    await app.waitVisible('#auto-backup');
    // Before any backup to a drive there is nowhere to go, and the screen says so.
    assert.match(await app.text('#auto-where'), /Vispirms izveidojiet vienu rezerves kopiju/);

    // One backup by hand (not encrypted) remembers the folder.
    await app.backUpUnencryptedTo(drive);
    await waitFor(async () => /Gatavs un pārbaudīts/.test(await app.text('#backup-result')), 'the backup by hand', 60000);
    const byHand = archives(drive);
    assert.equal(byHand.length, 1);
    // The card says at once where automatic backups will go now.
    await waitFor(async () => /pievienots tagad/.test(await app.text('#auto-where')), 'the destination named');

    // Turn automatic backups on at exit, encrypted with a generated passphrase.
    await app.press('Rezerves kopijas');
    await app.waitVisible('#auto-backup');
    await app.exec("const s = document.getElementById('auto-mode'); s.value = 'at_exit'; s.dispatchEvent(new Event('change'));");
    assert.equal(await app.exec("return document.getElementById('auto-encrypt').checked"), true);
    await app.exec("document.getElementById('auto-backup').scrollIntoView()");
    await app.screenshot('1-settings');
    await app.press('Saglabāt automātisko kopiju iestatījumus');
    await app.waitVisible('#recovery-passphrase');
    const passphrase = (await app.text('#recovery-passphrase')).trim();
    assert.match(passphrase, /^[a-z2-9]{5}(-[a-z2-9]{5}){5}$/);
    await app.press('Aizvērt');
    await waitFor(async () => /aizverot programmu/.test(await app.text('#auto-result')), 'the saved settings');
    assert.match(await app.text('#auto-where'), /pievienots tagad/);
    await app.exec("document.getElementById('auto-backup').scrollIntoView()");
    await app.screenshot('2-saved');

    // Nothing changed since the backup by hand: closing would not back up. Change data.
    cli('key', 'add', '101', '--name', 'Telpa 204');

    // Close the window as the user does.
    app.closeWindow();
    await app.waitVisible('#exit-backup', true, 20000);
    await app.screenshot('3-closing');
    // The backup is made and verified, then the app quits by itself.
    await waitFor(async () => archives(drive).length === 2, 'the exit backup', 60000);
    await waitFor(async () => {
      try { await app.exec('return 1'); return false; } catch { return true; }
    }, 'the app to quit', 30000);
    closed = true;

    const newest = join(drive, archives(drive).find((f) => !byHand.includes(f)));
    execFileSync(CLI, ['--data-dir', data, 'backup', 'verify', newest, '--passphrase-stdin'], { input: `${passphrase}\n` });
    const audit = JSON.parse(cli('--json', 'audit', 'list', '--operation', 'backup', '--limit', '1'));
    assert.equal(audit[0].actor, 'app:automatic-backup');
    assert.equal(audit[0].after.encrypted, true);
  } finally {
    if (!closed) await app.stop(); else await app.stop().catch(() => {});
  }
});

test('signing in makes the daily backup when the last one is a day old and data changed', { timeout: 240000 }, async () => {
  const { data, cli } = register('atslegas-e2e-daily-', { cli: { timeout: 60000 } });
  const drive = mkdtempSync(join(tmpdir(), 'atslegas-e2e-dailydrive-'));

  // A first session: one backup by hand remembers the folder; daily, not encrypted.
  let app = await App.start({ name: 'daily', dataDir: data });
  try {
    await app.signIn();
    await app.press('Rezerves kopijas');
    await app.backUpUnencryptedTo(drive);
    await waitFor(async () => /Gatavs un pārbaudīts/.test(await app.text('#backup-result')), 'the backup by hand', 60000);
  } finally {
    await app.stop();
  }
  cli('backup', 'auto-set', '--mode', 'daily', '--no-encrypt');
  // Less than a day since that backup: a change alone does not make another.
  cli('person', 'add', '--name', 'Anna Liepa', '--code', 'E-2');
  assert.match(cli('backup', 'auto'), /less than a day old/);
  // Make that backup a day old, as if it was made yesterday.
  const db = join(data, 'database.db');
  execFileSync('sqlite3', [db, "UPDATE backups SET finished_at = finished_at - 90000, started_at = started_at - 90000"]);

  app = await App.start({ name: 'daily', dataDir: data });
  try {
    await app.signIn();
    await waitFor(async () => /Ikdienas rezerves kopija izveidota/.test(await app.text('#toast') || ''), 'the daily backup', 60000);
    assert.equal(archives(drive).length, 2);
    // The dashboard shows the new backup as the last verified one (today).
    const today = new Date();
    const dd = `${String(today.getDate()).padStart(2, '0')}.${String(today.getMonth() + 1).padStart(2, '0')}.${today.getFullYear()}`;
    await waitFor(async () => (await app.text('#stat-backup')).includes(dd), `the dashboard to show today's backup (${dd})`);
    await app.screenshot('1-daily-done');
    // Once a day: signing in again does not make another.
    await app.press('Izrakstīties');
    await app.signIn();
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(archives(drive).length, 2);
  } finally {
    await app.stop();
  }
});
