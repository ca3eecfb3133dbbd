// End to end, export and import in the real window: import a persons CSV (Excel's ";"
// with Latvian letters) that has one bad row, see the preview name that row's line and
// column with nothing written, fix the file, import, and see the persons; export the key
// log for a date range as CSV and XLSX and the audit trail of persons as JSON from the
// Logs screen; export everything as a ZIP. The page calling an export itself with a
// file the save dialog did not answer cannot write over it.
//
// Native save dialogs cannot be clicked through WebDriver: the debug build answers them
// with ATSLEGAS_E2E_DIALOG_DIR/<suggested name> (see src-tauri/src/data_commands.rs).
// The import's file is typed into its field, as a user may do.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CLI, register, waitFor } from './webdriver.mjs';


/** A local date as the date inputs want it (YYYY-MM-DD). */
function ymd(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

async function nav(app, text) {
  await app.press(text);
  await waitFor(async () => (await app.text('#view h1')) === text, `the ${text} screen`);
}

/** Types a day ("2026-11-23") into a date field as a user does, in the app's form
 * (23.11.2026), and leaves the field (the change event). */
async function setDate(app, id, isoDay) {
  const [y, m, d] = isoDay.split('-');
  await app.type(await app.find('css selector', `#${id}`), `${d}.${m}.${y}`);
  await app.exec('document.getElementById(arguments[0]).blur();', id);
  assert.equal(await app.exec('return document.getElementById(arguments[0]).value;', id), `${d}.${m}.${y}`);
}

const BAD = [
  'Vārds;Kods;Nodaļa;E-pasts',
  'Jānis Bērziņš;E-1;Grāmatvedība;janis@example.lv',
  'Ģirts Ķēniņš;E-2;Saimniecības daļa;girts-bez-domena',
  'Ļena Šņore;E-3;Kanceleja;',
  '',
].join('\r\n');

test('import persons with a preview, export the key log and everything', { timeout: 300000 }, async () => {
  const { data, cli } = register('atslegas-e2e-data-');
  const out = mkdtempSync(join(tmpdir(), 'atslegas-e2e-out-'));
  cli('person', 'add', '--name', 'Anna Kalniņa', '--code', 'E-100');
  cli('key', 'add', '101', '--name', 'Telpa 204');
  cli('key', 'add', '102', '--name', 'Arhīvs');
  cli('issue', '101', '--to', 'E-100', '--override-reason', 'e2e');
  cli('issue', '102', '--to', 'E-100', '--override-reason', 'e2e');
  cli('return', '101');

  const csv = join(out, 'personas.csv');
  writeFileSync(csv, `\uFEFF${BAD}`);

  process.env.ATSLEGAS_E2E_DIALOG_DIR = out;
  const app = await App.start({ name: 'export-import', dataDir: data });
  try {
    await app.signIn();

    // ---- import: the preview shows the bad row and writes nothing
    await nav(app, 'Eksports un imports');
    assert.equal(await app.exec("return document.getElementById('import-kind').value"), 'persons');
    await app.fill('Fails (CSV vai JSON)', csv);
    await app.screenshot('1-data-screen');
    await app.press('Pārbaudīt failu');
    await app.waitVisible('#import-errors', true, 30000);
    const errors = await app.text('#import-errors tbody');
    assert.match(errors, /^3\s+email\s+“girts-bez-domena” nav e-pasta adrese\./m, errors);
    assert.equal((await app.text('#import-errors tbody')).trim().split('\n').length, 1);
    assert.match(await app.text('#import-counts tbody'), /3\s+2\s+0\s+0\s+1/);
    assert.match(await app.text('#import-bad'), /1 kļūdainas rindas/);
    assert.equal(await app.exec("return !!document.getElementById('import-run')"), false);
    await app.screenshot('2-preview-bad-row');
    assert.doesNotMatch(cli('person', 'list'), /Bērziņš/);

    // Fix the file, check again, import.
    writeFileSync(csv, `\uFEFF${BAD.replace('girts-bez-domena', 'girts@example.lv')}`);
    await app.press('Pārbaudīt failu');
    await app.waitVisible('#import-run', true, 30000);
    assert.equal(await app.exec("return !!document.getElementById('import-errors')"), false);
    assert.match(await app.text('#import-counts tbody'), /3\s+3\s+0\s+0\s+0/);
    assert.match(await app.text('#import-planned tbody'), /Ģirts Ķēniņš \(E-2\)/);
    await app.screenshot('3-preview-clean');
    await app.press('Importēt (3)');
    await waitFor(async () => /Importēts: 3 jauni/.test(await app.text('#import-result') || ''), 'the import result', 60000);
    await app.screenshot('4-imported');
    const safety = readdirSync(join(data, 'safety-backups')).filter((f) => f.endsWith('.zip'));
    assert.equal(safety.length, 1, 'one pinned safety backup');

    await nav(app, 'Personas');
    await waitFor(async () => /Ļena Šņore/.test(await app.text('#view tbody') || ''), 'the imported persons');
    const list = await app.text('#view tbody');
    for (const n of ['Jānis Bērziņš', 'Ģirts Ķēniņš', 'Ļena Šņore', 'Anna Kalniņa']) assert.ok(list.includes(n), n);
    await app.screenshot('5-persons');
    const audit = JSON.parse(cli('--json', 'audit', 'list', '--operation', 'import', '--component', 'persons'));
    assert.equal(audit.length, 3);

    // ---- key log export for a date range (CSV and XLSX)
    await nav(app, 'Žurnāli');
    const today = new Date();
    const from = ymd(new Date(today.getTime() - 86400000));
    const to = ymd(today);
    // A backwards range is refused before any dialog opens.
    await setDate(app, 'kl-from', to);
    await setDate(app, 'kl-to', from);
    await app.press('Eksportēt CSV…');
    await waitFor(async () => /pirms datuma “No”/.test(await app.text('#kl-export-result') || ''), 'the backwards-range message');
    assert.equal(readdirSync(out).filter((f) => f.startsWith('keylog_')).length, 0);
    await setDate(app, 'kl-from', from);
    await setDate(app, 'kl-to', to);
    await app.press('Eksportēt CSV…');
    await waitFor(async () => /Saglabāts: 3 rindas/.test(await app.text('#kl-export-result') || ''), 'the key-log CSV export', 30000);
    const klCsv = join(out, `keylog_${from}_${to}.csv`);
    assert.ok((await app.text('#kl-export-result')).includes(klCsv));
    await app.screenshot('6-keylog-exported');
    const bytes = readFileSync(klCsv);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
    const lines = bytes.toString('utf8').slice(1).trim().split('\r\n');
    assert.equal(lines[0], 'id,action,keyNumber,at,userName,comment,person,personCode,dueBackAt');
    assert.equal(lines.length, 4);
    assert.ok(lines.slice(1).every((l) => l.includes('Anna Kalniņa')));

    await app.press('Eksportēt Excel (XLSX)…');
    await waitFor(async () => /\.xlsx/.test(await app.text('#kl-export-result') || ''), 'the key-log XLSX export', 30000);
    const xlsx = readFileSync(join(out, `keylog_${from}_${to}.xlsx`));
    assert.equal(xlsx.subarray(0, 2).toString(), 'PK');
    assert.match(await app.text('#kl-export-result'), /Saglabāts: 3 rindas/);
    // The export takes the other filters too: only the returns.
    await app.exec(`const s = document.getElementById('kl-action'); s.value = 'returned'; s.dispatchEvent(new Event('change'));`);
    await app.press('Eksportēt CSV…');
    await waitFor(async () => /Saglabāts: 1 rindas/.test(await app.text('#kl-export-result') || ''), 'the filtered export', 30000);
    const returns = readFileSync(klCsv, 'utf8').slice(1).trim().split('\r\n');
    assert.equal(returns.length, 2);
    assert.match(returns[1], /^\d+,Atgriezti,101,/);

    // ---- save paths come from the dialog (issue 11, finding 9): the page calling an
    // export itself with a file that exists is refused, whichever export, and the file is
    // left as it was; the dialog's answer was good for one export only; a new file in an
    // existing folder may still be named.
    const victim = join(out, 'victim.csv');
    writeFileSync(victim, 'precious\r\n');
    const exportTo = (cmd, args) => app.req('POST', '/execute/async', {
      script: `const done = arguments[arguments.length - 1];
        const onProgress = new window.__TAURI__.core.Channel();
        window.__TAURI__.core.invoke(arguments[0], { ...arguments[1], onProgress })
          .then(v => done({ ok: v }), e => done({ refused: e }));`,
      args: [cmd, args],
    });
    for (const [cmd, args] of [
      ['export_keylog', { args: { out: victim } }],
      ['export_audit', { args: { out: victim } }],
      ['export_all', { out: victim }],
      ['export_keylog', { args: { out: klCsv } }],
    ]) {
      const r = await exportTo(cmd, args);
      assert.ok(r.refused, `${cmd} ${JSON.stringify(args)}: ${JSON.stringify(r)}`);
      assert.equal(r.refused.code, 'invalid_input', JSON.stringify(r));
      assert.equal(r.refused.details.rule, 'save_path_exists', JSON.stringify(r));
      assert.ok(r.refused.message.includes('Save'), r.refused.message);
    }
    assert.equal(readFileSync(victim, 'utf8'), 'precious\r\n');
    assert.equal(readFileSync(klCsv, 'utf8').slice(1).trim().split('\r\n').length, 2, 'the last export is still there');
    assert.ok(!existsSync(`${victim}.partial`));
    const typed = join(out, 'typed-new.csv');
    const made = await exportTo('export_keylog', { args: { out: typed } });
    assert.ok(made.ok, JSON.stringify(made));
    assert.equal(readFileSync(typed, 'utf8').slice(1).trim().split('\r\n').length, 4);

    // ---- the audit trail with its current filter, as JSON
    await app.press('Audita žurnāls');
    await app.waitVisible('#au-component');
    await app.exec(`const s = document.getElementById('au-component'); s.value = 'persons';
      s.dispatchEvent(new Event('change', { bubbles: true }));`);
    await app.press('Eksportēt JSON…');
    await waitFor(async () => /Saglabāts: 4 rindas/.test(await app.text('#au-export-result') || ''), 'the audit JSON export', 30000);
    const auditFile = readdirSync(out).find((f) => f.startsWith('audit_') && f.endsWith('.json'));
    const rows = JSON.parse(readFileSync(join(out, auditFile), 'utf8'));
    assert.deepEqual(rows.map((r) => r.operation).sort(), ['create', 'import', 'import', 'import']);
    assert.ok(rows.every((r) => r.component === 'persons'));
    await app.screenshot('7-audit-exported');

    // ---- export everything
    await nav(app, 'Eksports un imports');
    await app.press('Eksportēt visu…');
    await waitFor(async () => /Saglabāts: .* rindas no 17 tabulām/.test(await app.text('#export-all-result') || ''), 'the export-all result', 60000);
    await app.screenshot('8-exported-all');
    const zip = readdirSync(out).find((f) => f.startsWith('atslegas-export_') && f.endsWith('.zip'));
    assert.ok(zip, 'the zip is there');
    assert.ok(!existsSync(join(out, `${zip}.partial`)));
    const entries = execFileSync('unzip', ['-Z1', join(out, zip)], { encoding: 'utf8' }).trim().split('\n');
    for (const e of ['manifest.json', 'persons.csv', 'keys.csv', 'key_log.csv', 'audit_log.csv', 'areas.csv', 'stocktakes.csv', 'clearances.csv']) assert.ok(entries.includes(e), e);
    const persons = execFileSync('unzip', ['-p', join(out, zip), 'persons.csv'], { encoding: 'utf8' });
    assert.ok(persons.includes('Ļena Šņore'));
    execFileSync(CLI, ['--data-dir', mkdtempSync(join(tmpdir(), 'atslegas-e2e-back-')), 'import', 'all', join(out, zip)]);
  } finally {
    delete process.env.ATSLEGAS_E2E_DIALOG_DIR;
    await app.stop();
  }
});
