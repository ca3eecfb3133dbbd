// End to end: back up to a folder from the window (encrypted, with the generated
// recovery passphrase), change the data, restore the backup from the window, and see
// the old data back, with the restore recorded in the history and the audit trail.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, closeWindowTitled, register, waitFor } from './webdriver.mjs';


/**
 * A register with one person holding one key, and an empty folder for its backups.
 * @param {string} prefix the data folder's name prefix
 */
function oneKeyOut(prefix) {
  const { data, cli } = register(prefix);
  const drive = mkdtempSync(join(tmpdir(), 'atslegas-e2e-drive-'));
  cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1');
  cli('key', 'add', '101', '--name', 'Telpa 204');
  cli('issue', '101', '--to', 'E-1', '--override-reason', 'e2e');
  return { data, cli, drive };
}

test('back up, change, restore: the old data is back and the restore is on record', { timeout: 240000 }, async () => {
  const { data, cli, drive } = oneKeyOut('atslegas-e2e-backup-');

  const app = await App.start({ name: 'backup', dataDir: data });
  try {
    await app.signIn();
    // The dashboard says there is no backup yet.
    await waitFor(async () => /Nekad/.test(await app.text('#stat-backup')), 'no backup yet');

    // Two older backups on the drive, made by the command-line tool meanwhile.
    cli('backup', 'create', '--to', drive);
    cli('backup', 'create', '--to', drive);

    await app.press('Rezerves kopijas');
    await app.waitVisible('#backup-now');
    // Retention: rules that keep nothing are refused; then keep only the newest backup.
    for (const label of ['Jaunākās (skaits)', 'Pa vienai dienā (dienas)', 'Pa vienai nedēļā (nedēļas)', 'Pa vienai mēnesī (mēneši)']) {
      await app.fill(label, '0');
    }
    await app.press('Saglabāt glabāšanas noteikumus');
    await waitFor(async () => /neviena kopija/.test(await app.text('#retention-result')), 'the keeps-nothing refusal');
    await app.fill('Jaunākās (skaits)', '1');
    await app.press('Saglabāt glabāšanas noteikumus');
    await waitFor(async () => /saglabāti/.test(await app.text('#retention-result')), 'the saved rules');
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
    // The rules were applied after the verified backup: the two older ones are gone.
    assert.match(await app.text('#backup-result'), /Dzēstas vecās kopijas: 2\./);
    assert.equal(await app.exec("return document.getElementById('backup-progress').value"), 100);
    await waitFor(async () => /pārbaudīta/.test(await app.text('#backup-history')), 'the history row');
    // The two deleted ones stay in the history, marked as deleted by the rules.
    assert.equal((await app.text('#backup-history')).match(/dzēsta pēc glabāšanas noteikumiem/g)?.length, 2);
    await app.screenshot('3-backup-done');
    const files = readdirSync(drive);
    assert.equal(files.filter((f) => f.endsWith('.zip')).length, 1);
    assert.equal(files.filter((f) => f.endsWith('.zip.sha256')).length, 1);
    // The folder is remembered as a known drive by the marker written in it.
    assert.ok(files.includes('.atslegas-drive.json'), `no drive marker in ${files}`);

    // Saved rules go to config.json with the other backup settings.
    await app.fill('Jaunākās (skaits)', '3');
    await app.fill('Pa vienai dienā (dienas)', '5');
    await app.press('Saglabāt glabāšanas noteikumus');
    const config = () => JSON.parse(readFileSync(join(data, 'config.json'), 'utf8'));
    await waitFor(async () => config().backup.keep_daily === 5, 'the rules saved again');
    const cfg = config();
    assert.deepEqual([cfg.backup.keep_last, cfg.backup.keep_daily, cfg.backup.keep_weekly, cfg.backup.keep_monthly], [3, 5, 0, 0]);
    assert.equal(cfg.backup.known_drives.length, 1);
    assert.equal(cfg.backup.known_drives[0].last_path, realpathSync(drive));
    // Back on the screen, the plugged-in known drive is offered.
    await app.press('Rezerves kopijas');
    await waitFor(async () => /Pievienots zināms disks/.test(await app.text('#known-drives')), 'the known-drive offer');
    assert.equal(await app.exec("return document.getElementById('retention-keep-last').value"), '3');
    await app.screenshot('3b-retention-and-known-drive');

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
    // What the line under the button says while the backup is checked, and after.
    await app.exec(`
      window.restoreResultSeen = [];
      const line = document.getElementById('restore-result');
      new MutationObserver(() => window.restoreResultSeen.push(line.textContent))
        .observe(line, { childList: true, characterData: true, subtree: true });
      window.checkBarSeen = [];
      const label = document.getElementById('check-progress-label');
      new MutationObserver(() => window.checkBarSeen.push(label.textContent))
        .observe(label, { childList: true, characterData: true, subtree: true });`);
    await app.press('Pārbaudīt kopiju');
    await app.waitVisible('#restore-counts', true, 30000);
    const said = await app.exec('return window.restoreResultSeen');
    assert.ok(said.some((/** @type {string} */ l) => /Pārbauda kopiju…/.test(l)), `the check said it was working: ${said}`);
    assert.equal(await app.text('#restore-result'), '', 'and says nothing once the preview is shown');
    // The bar moved with the check (the backup read, then checked), and went once done.
    const bar = await app.exec('return window.checkBarSeen');
    assert.ok(bar.some((/** @type {string} */ l) => /pārbaude — [1-9]\d*%/.test(l)), `the bar moved while checking: ${bar}`);
    assert.equal(await app.exec("return document.getElementById('check-progress').closest('.progress').hidden"), true);
    assert.match(await app.text('#restore-counts'), /keys\s+2\s+1/);
    // The warning is in the window's language, with its numbers.
    assert.match(await app.text('#view'), /mazāk atslēgu kustību \(1\) nekā reģistrā tagad \(2\)/);
    await app.screenshot('4-restore-preview');
    await app.press('Atjaunot šo kopiju');
    await waitFor(() => app.exec("return !!document.querySelector('dialog[open]')"), 'the confirmation');
    assert.match(await app.text('dialog[open]'), /aizstāti/);
    // Every figure the restore's bar shows, as it shows it.
    await app.exec(`
      window.restoreBarSeen = [];
      const bar = document.getElementById('restore-progress');
      new MutationObserver(() => window.restoreBarSeen.push(Number(bar.getAttribute('value'))))
        .observe(bar, { attributes: true, attributeFilter: ['value'] });`);
    await app.press('Atjaunot šo kopiju');
    await waitFor(async () => /Dati atjaunoti/.test(await app.text('dialog[open]') || ''), 'the restored message', 60000);
    // The bar only moved forward, through the restore's own steps, to 100%.
    const seen = await app.exec('return window.restoreBarSeen');
    assert.ok(seen.length >= 4, `the bar moved: ${seen}`);
    assert.ok(seen.every((v, i) => i === 0 || v >= seen[i - 1]), `the bar went back: ${seen}`);
    assert.equal(seen[seen.length - 1], 100, `the bar ended at 100%: ${seen}`);
    assert.match(await app.text('#restore-progress-label'), /atjaunošana — 100%/);
    await app.screenshot('5-restored');
    await app.press('Aizvērt');

    // Everyone signs in again; the old data is back.
    await app.waitVisible('#screen-signin');
    assert.equal(await app.exec("return localStorage.getItem('atslegas_keys_v1')"), null);
    await app.signIn();
    await app.waitVisible('#stat-keys-total');
    assert.equal(await app.text('#stat-keys-total .stat-value'), '1');
    assert.equal(await app.text('#stat-keys-out .stat-value'), '1');
    await app.screenshot('6-old-data-back');

    // The backup's configuration came back (keep the newest 1, nothing daily), and the
    // window took it up: it shows it, and saving a setting later does not write back
    // the rules it had before the restore.
    assert.deepEqual([config().backup.keep_last, config().backup.keep_daily], [1, 0]);
    await app.press('Rezerves kopijas');
    await app.waitVisible('#backup-now');
    await waitFor(async () => (await app.exec("return document.getElementById('retention-keep-last').value")) === '1', 'the restored rules on screen');
    await app.fill('Pa vienai nedēļā (nedēļas)', '2');
    await app.press('Saglabāt glabāšanas noteikumus');
    await waitFor(async () => config().backup.keep_weekly === 2, 'the rule saved after the restore');
    assert.deepEqual([config().backup.keep_last, config().backup.keep_daily], [1, 0]);

    const audit = JSON.parse(cli('--json', 'audit', 'list', '--operation', 'restore_backup'));
    assert.equal(audit.length, 1);
    cli('audit', 'verify');
    const safety = readdirSync(join(data, 'safety-backups')).filter((f) => f.endsWith('-pinned.zip'));
    assert.equal(safety.length, 1);
  } finally {
    await app.stop();
  }
});

/**
 * A register with one key out and a backup of it, then a second key, then `damage` (a
 * Python script given the database's path) run on its file.
 * @param {string} prefix the data folder's name prefix
 * @param {string} damage the script
 */
function damagedAfterBackup(prefix, damage) {
  const { data, cli, drive } = oneKeyOut(prefix);
  cli('backup', 'create', '--to', drive);
  const archive = join(drive, readdirSync(drive).find((f) => f.endsWith('.zip')));
  cli('key', 'add', '102', '--name', 'Arhīvs');
  execFileSync('python3', ['-c', damage, join(data, 'database.db')]);
  return { data, cli, archive };
}

/**
 * After a restore over a damaged register: the dialog names the copy kept aside (the one
 * file in safety-backups/), then the register is the backup's again: one key, the one
 * added after the backup gone.
 * @param {App} app
 * @param {string} data the data folder
 * @param {(...args: string[]) => string} cli
 * @param {string} shot the screenshot's name
 */
async function keptAsideThenTheBackups(app, data, cli, shot) {
  const kept = readdirSync(join(data, 'safety-backups'));
  assert.equal(kept.length, 1, `${kept}`);
  assert.match(kept[0], /-pinned-damaged\.sqlite$/);
  assert.match(await app.text('#restored-damaged'), /bojāta/);
  assert.ok((await app.text('#restored-damaged')).includes(kept[0]), await app.text('#restored-damaged'));
  await app.screenshot(shot);
  await app.press('Aizvērt');
  await app.waitVisible('#screen-signin');
  await app.signIn();
  await app.waitVisible('#stat-keys-total');
  assert.equal(await app.text('#stat-keys-total .stat-value'), '1');
  const keys = JSON.parse(cli('--json', 'key', 'list'));
  assert.deepEqual(keys.map((/** @type {any} */ k) => k.number), ['101']);
}

// The key log's root page in the live file, its cell pointers overwritten: SQLite's checks
// fail (as the Database health check would say), and the register still opens.
const DAMAGE = `
import sqlite3, sys
path = sys.argv[1]
c = sqlite3.connect(path)
c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
root = c.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'key_log'").fetchone()[0]
size = c.execute("PRAGMA page_size").fetchone()[0]
c.close()
with open(path, "r+b") as f:
    f.seek((root - 1) * size)
    page = bytearray(f.read(size))
    assert page[0] == 0x0D, "the key log fits in its root page"
    cells = int.from_bytes(page[3:5], "big")
    page[8:8 + 2 * cells] = bytes([0xFF]) * (2 * cells)
    f.seek((root - 1) * size)
    f.write(page)
try:
    check = sqlite3.connect(path).execute("PRAGMA quick_check").fetchone()[0]
except sqlite3.DatabaseError as e:  # damage the check itself stops at
    check = str(e)
assert check != "ok", check
`;

test('a damaged register is restored over from the window, and kept aside as it was', { timeout: 240000 }, async () => {
  const { data, cli, archive } = damagedAfterBackup('atslegas-e2e-damaged-', DAMAGE);

  const app = await App.start({ name: 'backup-damaged', dataDir: data });
  try {
    await app.signIn();
    await app.press('Rezerves kopijas');
    await app.waitVisible('#backup-now');
    await app.fill('Rezerves kopijas fails', archive);
    await app.press('Pārbaudīt kopiju');
    await app.waitVisible('#restore-counts', true, 30000);
    await app.press('Atjaunot šo kopiju');
    await waitFor(() => app.exec("return !!document.querySelector('dialog[open]')"), 'the confirmation');
    await app.press('Atjaunot šo kopiju');
    await waitFor(async () => /Dati atjaunoti/.test(await app.text('dialog[open]') || ''), 'the restored message', 60000);
    // Where the damaged register went (a copy as it was), and the backup's register.
    await keptAsideThenTheBackups(app, data, cli, '7-restored-over-damaged');
  } finally {
    await app.stop();
  }
});

// The list of tables on the file's first page, its cell pointers overwritten: SQLite
// cannot open the register at all (nothing can even count its rows).
const DAMAGE_SCHEMA = `
import sqlite3, sys
path = sys.argv[1]
c = sqlite3.connect(path)
c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
c.close()
with open(path, "r+b") as f:
    head = bytearray(f.read(112))
    at = 100
    size = 12 if head[at] == 0x05 else 8
    cells = int.from_bytes(head[at + 3:at + 5], "big")
    assert cells > 0, "the first page lists the tables"
    f.seek(at + size)
    f.write(bytes([0xFF]) * (2 * cells))
try:
    sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_schema").fetchone()
    raise SystemExit("the register still opens")
except sqlite3.DatabaseError:
    pass
`;

test('a register too damaged to open is restored from the start screen, and kept aside as it was', { timeout: 240000 }, async () => {
  const { data, cli, archive } = damagedAfterBackup('atslegas-e2e-unopenable-', DAMAGE_SCHEMA);

  const app = await App.start({ name: 'backup-unopenable', dataDir: data });
  try {
    // The start screen says what is wrong, and offers the way out.
    await app.waitVisible('#screen-startup-error');
    assert.match(await app.text('#startup-message'), /ir bojāts, un to nevar atvērt/);
    await app.waitVisible('#rescue');
    await app.screenshot('8-cannot-open');

    // No file and no backup folder here: "Look in the folder" asks which folder, in the
    // native folder picker titled for it; closing the picker changes nothing.
    await app.press('Meklēt mapē');
    await waitFor(() => closeWindowTitled('Izvēlieties mapi vai disku, kurā ir rezerves kopijas'), 'the folder picker');
    assert.equal(await app.text('#restore-result'), '', 'no error for a closed picker');
    assert.equal(await app.text('#restore-found'), '', 'nothing listed');

    await app.fill('Rezerves kopijas fails', archive);
    await app.press('Pārbaudīt kopiju');
    await app.waitVisible('#restore-counts', true, 30000);
    // Nothing can be counted now: dashes, and the warning that says why.
    assert.match(await app.text('#restore-counts'), /keys\s+—\s+1/);
    assert.match(await app.text('#rescue'), /Reģistru tagad nevar nolasīt pilnībā/);
    await app.screenshot('9-rescue-preview');
    await app.press('Atjaunot šo kopiju');
    await waitFor(async () => /Bojātā reģistra vietā/.test(await app.text('dialog[open]') || ''), 'the confirmation');
    await app.press('Atjaunot šo kopiju');
    await waitFor(async () => /Dati atjaunoti/.test(await app.text('dialog[open]') || ''), 'the restored message', 60000);
    // The copy kept aside, then the register opens again with the backup's data.
    await keptAsideThenTheBackups(app, data, cli, '10-rescued');
    const audit = JSON.parse(cli('--json', 'audit', 'list', '--operation', 'restore_backup'));
    assert.equal(audit.length, 1);
    assert.match(audit[0].actor, /^window:/);
  } finally {
    await app.stop();
  }
});

test('a register too damaged to open, with no backup, is started anew from the start screen', { timeout: 240000 }, async () => {
  const { data, cli } = oneKeyOut('atslegas-e2e-start-over-');
  execFileSync('python3', ['-c', DAMAGE_SCHEMA, join(data, 'database.db')]);
  const damaged = readFileSync(join(data, 'database.db'));

  const app = await App.start({ name: 'backup-start-over', dataDir: data });
  try {
    await app.waitVisible('#start-over');
    await app.press('Sākt jaunu reģistru');
    await waitFor(async () => /jauns, tukšs reģistrs/.test(await app.text('dialog[open]') || ''), 'the confirmation');
    await app.press('Sākt jaunu reģistru');
    await waitFor(async () => /Jauns reģistrs ir sākts/.test(await app.text('dialog[open]') || ''), 'the started message', 60000);
    // The damaged register, kept aside byte for byte, and named.
    const kept = readdirSync(join(data, 'safety-backups'));
    assert.equal(kept.length, 1, `${kept}`);
    assert.match(kept[0], /-pinned-damaged\.sqlite$/);
    assert.ok(readFileSync(join(data, 'safety-backups', kept[0])).equals(damaged), 'the kept copy is the damaged file');
    assert.ok((await app.text('#started-over')).includes(kept[0]), await app.text('#started-over'));
    await app.screenshot('11-started-over');
    await app.press('Aizvērt');

    // A new register: first-run setup, its trail beginning with the start.
    await app.waitVisible('#screen-setup');
    const audit = JSON.parse(cli('--json', 'audit', 'list', '--operation', 'start_over'));
    assert.equal(audit.length, 1);
    assert.match(audit[0].actor, /^window:/);
    assert.deepEqual(JSON.parse(cli('--json', 'key', 'list')), []);
  } finally {
    await app.stop();
  }
});
