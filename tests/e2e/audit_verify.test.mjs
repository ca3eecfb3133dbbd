// End to end (issue 11, finding 3): Logs → Audit checks the trail against the journal and
// the backups on the remembered drive plugged in. Intact, it says up to which backup; an
// encrypted backup is checked with its passphrase; after someone deletes the newest audit
// rows and the journal with an SQLite tool, it says in red which rows were removed and
// which backup still has them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, register, waitFor } from './webdriver.mjs';


/** Signs in as root and opens Logs → Audit. */
async function openAudit(app) {
  await app.signIn();
  await app.press('Žurnāli');
  await app.press('Audita žurnāls');
  await app.waitVisible('#trail-verify');
}

/** Presses a verify button and waits for the verdict. */
async function verify(app, buttonText) {
  await app.press(buttonText);
  await waitFor(async () => (await app.exec("return !!document.querySelector('#trail-verdict') && !document.getElementById('trail-verify').disabled")), 'the verdict', 60000);
  return app.text('#trail-result');
}

test('the audit trail is verified up to the backup on the drive, and rows deleted behind the app are named in red', { timeout: 300000 }, async () => {
  const { data, cli } = register('atslegas-e2e-trail-');
  const drive = mkdtempSync(join(tmpdir(), 'atslegas-e2e-trail-drive-'));
  cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1');
  cli('key', 'add', '101', '--name', 'Telpa 204');
  cli('key', 'add', '102', '--name', 'Arhīvs');
  cli('issue', '101', '--to', 'E-1', '--override-reason', 'e2e');

  let app = await App.start({ name: 'audit-verify', dataDir: data });
  let plain;
  let tip;
  let passphrase;
  try {
    await openAudit(app);
    // Nothing to compare with yet: no backup, no journal line, no drive.
    let text = await verify(app, 'Pārbaudīt žurnālu');
    assert.match(text, /Audita žurnāls ir neskarts/);
    assert.match(text, /Vēl nav ne rezerves kopijas, ne žurnāla rindas/);
    assert.match(text, /Neviens zināmais rezerves kopiju disks nav pievienots/);

    // An encrypted backup from the window makes the folder a remembered drive (its marker).
    await app.press('Rezerves kopijas');
    await app.fill('Mape vai USB disks', drive);
    assert.equal(await app.exec("return document.getElementById('backup-encrypt').checked"), true);
    await app.press('Izveidot rezerves kopiju tagad');
    await app.waitVisible('#recovery-passphrase', true, 60000);
    passphrase = (await app.text('#recovery-passphrase')).trim();
    await app.press('Aizvērt');
    await waitFor(async () => /Gatavs un pārbaudīts/.test(await app.text('#backup-result')), 'the verified backup');
    const sealed = readdirSync(drive).find((f) => f.endsWith('.zip'));
    assert.ok(readdirSync(drive).includes('.atslegas-drive.json'));

    // More work, then a plain backup to the same drive by the command-line tool.
    for (const k of ['103', '104', '105', '106']) cli('key', 'add', k);
    cli('issue', '102', '--to', 'E-1', '--override-reason', 'e2e');
    // A second apart from the first, so its file name differs.
    await new Promise((r) => { setTimeout(r, 1100); });
    cli('backup', 'create', '--to', drive);
    plain = readdirSync(drive).find((f) => f.endsWith('.zip') && f !== sealed);
    assert.ok(plain, `no second backup in ${readdirSync(drive)}`);
    const r = JSON.parse(cli('--json', 'audit', 'verify', '--against', join(drive, plain)));
    tip = r.anchor.id;

    await app.press('Žurnāli');
    await app.press('Audita žurnāls');
    text = await verify(app, 'Pārbaudīt žurnālu');
    assert.match(text, /Audita žurnāls ir neskarts/);
    assert.match(text, new RegExp(`Pārbaudīts līdz rezerves kopijai ${plain.replace('.', '\\.')} \\(`));
    assert.match(text, /Pievienotajos rezerves kopiju diskos atrastās kopijas: 2\./);
    // The encrypted one is offered its passphrase.
    assert.match(await app.text('#trail-sealed'), new RegExp(sealed.replace('.', '\\.')));
    assert.equal(await app.exec("return document.querySelector('#trail-result .trail-alarm')"), null);
    await app.screenshot('1-intact');

    // A wrong passphrase opens nothing, and says so; the right one checks it too.
    await app.fill('Rezerves kopijas parole', 'nepareiza-parole-12345');
    text = await verify(app, 'Pārbaudīt vēlreiz ar paroli');
    assert.match(text, /ar ievadīto paroli nevarēja atvērt/);
    await app.fill('Rezerves kopijas parole', passphrase);
    text = await verify(app, 'Pārbaudīt vēlreiz ar paroli');
    assert.match(text, /Audita žurnāls ir neskarts/);
    assert.equal(await app.exec("return document.getElementById('trail-sealed')"), null);
    await app.screenshot('2-intact-with-passphrase');
  } finally {
    await app.stop();
  }

  // Someone with the data folder deletes the newest audit rows (the trigger first) and
  // the journal that would give them away.
  const keep = tip - 5;
  execFileSync('sqlite3', [join(data, 'database.db'),
    `DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id > ${keep};`]);
  rmSync(join(data, 'operations-journal.jsonl'));

  app = await App.start({ name: 'audit-verify', dataDir: data });
  try {
    await openAudit(app);
    const text = await verify(app, 'Pārbaudīt žurnālu');
    assert.match(text, /Audita žurnāls NAV neskarts/);
    // The rows signing in wrote since come after the ones kept; from there to the
    // backup's tip they are gone, and the backup is named.
    const last = Number(execFileSync('sqlite3', [join(data, 'database.db'), 'SELECT max(id) FROM audit_log;'], { encoding: 'utf8' }).trim());
    assert.ok(last < tip, `${last} < ${tip}`);
    assert.match(text, new RegExp(`Dzēsti audita ieraksti no nr\\. ${last + 1} līdz nr\\. ${tip}.*kopijā ${plain.replace('.', '\\.')}`));
    // Key 102's issue lost its audit row: the key log says so too.
    assert.match(text, /Atslēgu žurnāla ierakstam nr\. 2 nav audita ieraksta/);
    assert.match(text, /Atvienojiet rezerves kopiju disku/);
    assert.equal(await app.exec("return getComputedStyle(document.querySelector('#trail-verdict')).color"), 'rgb(179, 38, 30)');
    await app.screenshot('3-rows-removed');
    // With the passphrase, the older encrypted backup still vouches for what came before.
    await app.fill('Rezerves kopijas parole', passphrase);
    const again = await verify(app, 'Pārbaudīt vēlreiz ar paroli');
    assert.match(again, /Audita žurnāls NAV neskarts/);
    assert.match(again, /Pārbaudīts līdz rezerves kopijai atslegas-/);
    await app.screenshot('4-rows-removed-with-passphrase');
  } finally {
    await app.stop();
  }
  const exit = (() => {
    try { cli('audit', 'verify'); return 0; } catch (e) { return e.status; }
  })();
  assert.equal(exit, 7, 'the command-line tool finds the same on the remembered drive');
});
