// End to end (issue 13): key sets on the Keys screen's Sets tab (create with keys found by
// search, edit its keys, a refused tag said next to the field, delete after asking); the
// Settings screen's handover card (signature rule and terms saved to config.json, which
// the command-line tool then enforces; too long a text refused next to its field); and
// the first run made clear: a fresh register's keys and persons say no group allows them,
// and the hints go once a group does. Screenshots go to tests/e2e/screenshots/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CLI, register, waitFor } from './webdriver.mjs';

const ENTER = '\uE007';
const VIEWER_PW = 'Skaidra-Diena-Rīgā-42';

/** Opens a screen from the menu and waits for its heading. */
async function nav(app, text) {
  await app.exec(`[...document.querySelectorAll('#nav .nav-item')].find(b => b.textContent === arguments[0]).click()`, text);
  await waitFor(async () => (await app.text('#view h1')) === text, `the ${text} screen`);
}

/** How many "no group" badges the list on screen shows. */
function noGroupBadges(app) {
  return app.exec("return document.querySelectorAll('#view tbody .badge.nogroup').length");
}

/** The numbers of the keys whose row carries the "no group" badge. */
function keysWithoutGroup(app) {
  return app.exec(`return [...document.querySelectorAll('#view tbody tr')]
    .filter(tr => tr.querySelector('.badge.nogroup')).map(tr => tr.cells[0].textContent)`);
}

/** The sets as the command-line tool lists them (name, tag and key numbers). */
function cliSets(cli, ...flags) {
  return JSON.parse(cli('--json', 'set', 'list', ...flags)).map((s) => ({
    name: s.name, tag: s.tag, keys: s.keys.map((k) => k.number), deleted: s.deleted_at !== null,
  }));
}

/** Opens the Keys screen's Sets tab. */
async function setsTab(app) {
  await nav(app, 'Atslēgas');
  await app.click(await app.find('css selector', '#tab-sets'));
  await waitFor(async () => (await app.text('#view [role=tabpanel]') || '').includes('Komplekts (saišķis)'), 'the Sets tab');
}

/** Types into the set form's key search and presses Enter (as a scanner does). */
async function addKey(app, number) {
  const search = await app.byLabel('Atrast atslēgu, ko pievienot');
  await app.type(search, number);
  await app.req('POST', `/element/${search}/value`, { text: ENTER });
  await waitFor(async () => (await app.text('#set-chosen') || '').includes(number), `key ${number} chosen`);
}

test('a fresh register says no group allows a key, and the hints go when a group does', { timeout: 180000 }, async () => {
  const { data, cli } = register('atslegas-e2e-first-run-');
  for (const n of ['101', '102', '103']) cli('key', 'add', n);
  cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1');
  cli('person', 'add', '--name', 'Līga Ozola', '--code', 'E-2');
  const app = await App.start({ name: 'first-run', dataDir: data });
  try {
    await app.signIn();
    await nav(app, 'Atslēgas');
    await app.waitVisible('#first-run');
    assert.match(await app.text('#first-run'), /Atslēgas vēl nevar izsniegt nevienam/);
    assert.match(await app.text('#first-run'), /sadaļā Grupas izveidojiet grupu/);
    await waitFor(async () => (await noGroupBadges(app)) === 3, 'a "no group" badge on every key');
    assert.deepEqual(await keysWithoutGroup(app), ['101', '102', '103']);
    await app.screenshot('01-keys-first-run');

    await nav(app, 'Personas');
    await app.waitVisible('#persons-group-note');
    await waitFor(async () => (await noGroupBadges(app)) === 2, 'a "no group" badge on both persons');
    assert.match(await app.text('#view tbody'), /Vēl nedrīkst saņemt atslēgas/);
    await app.screenshot('02-persons-no-group');

    // The card's button opens Groups.
    await nav(app, 'Atslēgas');
    await app.press('Atvērt grupas');
    await waitFor(async () => (await app.text('#view h1')) === 'Grupas', 'the Groups screen');

    // A group allows 101 to Jānis: the first-run card gives way to a line naming the rest.
    cli('group', 'add', 'Staff');
    cli('group', 'allow', 'Staff', '101');
    cli('group', 'member', 'Staff', 'E-1');
    await nav(app, 'Atslēgas');
    await app.waitVisible('#keys-group-note');
    assert.equal(await app.exec("return document.getElementById('first-run')"), null);
    assert.match(await app.text('#keys-group-note'), /\(2\)/);
    await waitFor(async () => (await keysWithoutGroup(app)).join() === '102,103', 'only 102 and 103 marked');
    await app.screenshot('03-keys-some-without-group');

    cli('group', 'allow', 'Staff', '102', '103');
    await nav(app, 'Personas');
    await waitFor(async () => (await noGroupBadges(app)) === 1, 'only Līga marked');
    assert.match(await app.exec(`return [...document.querySelectorAll('#view tbody tr')]
      .find(tr => tr.querySelector('.badge.nogroup')).cells[0].textContent`), /Līga Ozola/);
    await nav(app, 'Atslēgas');
    await waitFor(async () => (await noGroupBadges(app)) === 0, 'no key marked');
    await app.waitVisible('#view .coverage', false);
    await app.screenshot('04-keys-all-allowed');
  } finally {
    await app.stop();
  }
});

test('a set is created, its keys edited, a clashing tag refused, and deleted, in the window', { timeout: 180000 }, async () => {
  const { data, cli } = register('atslegas-e2e-sets-');
  cli('key', 'add', '101', '--name', 'Telpa 204');
  cli('key', 'add', '102', '--name', 'Arhīvs');
  cli('key', 'add', '103', '--name', 'Pagrabs');
  cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1');
  cli('group', 'add', 'Visi');
  cli('group', 'allow', 'Visi', '101', '102', '103');
  cli('group', 'member', 'Visi', 'E-1');
  const app = await App.start({ name: 'sets', dataDir: data });
  try {
    await app.signIn();
    await setsTab(app);
    assert.match(await app.text('#view [role=tabpanel]'), /Komplektu vēl nav/);

    await app.press('Jauns komplekts');
    await app.fill('Nosaukums', 'Apkopēja, 2. stāvs');
    await app.fill('Birka (svītrkods)', 'R-1');
    await addKey(app, '101');
    await addKey(app, '102');
    // Typing a room finds its key too; a click adds it.
    await app.type(await app.byLabel('Atrast atslēgu, ko pievienot'), 'pagr');
    await waitFor(async () => (await app.text('#set-offers') || '').includes('103'), 'key 103 offered for "pagr"');
    await app.screenshot('05-set-form');
    await app.click(await app.find('css selector', '#set-offers .offer'));
    await waitFor(async () => (await app.text('#set-chosen') || '').includes('103'), 'key 103 chosen');
    await app.press('Saglabāt');
    await app.waitVisible('#sets-table');
    assert.deepEqual(cliSets(cli), [{ name: 'Apkopēja, 2. stāvs', tag: 'R-1', keys: ['101', '102', '103'], deleted: false }]);
    assert.match(await app.text('#sets-table'), /Neviena nav izsniegta/);

    // A key of the set goes out: the list says where it is.
    cli('issue', '102', '--to', 'E-1');
    await nav(app, 'Pārskats');
    await setsTab(app);
    await waitFor(async () => /Izsniegtas 1 no 3 atslēgām/.test(await app.text('#sets-table') || ''), 'one key out');
    assert.match(await app.text('#sets-table'), /Jānis Bērziņš/);
    await app.screenshot('06-sets-list');

    // Edit: a tag that is a key's number is refused next to the tag; then 101 leaves.
    await app.press('Labot');
    await app.fill('Birka (svītrkods)', '103');
    await app.press('Saglabāt');
    await waitFor(async () => /“103” jau apzīmē atslēgu/.test(await app.text('#set-tag-error') || ''), 'the tag refused next to its field');
    await app.screenshot('07-set-tag-refused');
    await app.fill('Birka (svītrkods)', 'R-1');
    await app.click(await app.find('css selector', '#set-chosen button[aria-label="Izņemt atslēgu 101 no komplekta"]'));
    await waitFor(async () => !(await app.text('#set-chosen')).includes('101'), '101 taken out');
    await app.press('Saglabāt');
    await waitFor(async () => cliSets(cli)[0].keys.join() === '102,103', 'the set saved with 102 and 103');
    await waitFor(async () => !/Telpa 204/.test(await app.text('#sets-table') || ''), 'the list without 101');

    // Delete asks first; the set then shows only with "show deleted".
    await app.press('Dzēst');
    await app.waitVisible('dialog[open]');
    assert.match(await app.text('dialog[open]'), /Dzēst komplektu “Apkopēja, 2. stāvs”\?/);
    await app.press('Dzēst');
    await waitFor(async () => /Komplektu vēl nav/.test(await app.text('#view [role=tabpanel]') || ''), 'the set gone from the list');
    assert.deepEqual(cliSets(cli), []);
    assert.equal(cliSets(cli, '--deleted')[0].deleted, true);
    await app.click(await app.byLabel('Rādīt dzēstos'));
    await waitFor(async () => /dzēsts/.test(await app.text('#sets-table') || ''), 'the deleted set shown as deleted');
  } finally {
    await app.stop();
  }
});

test('the handover settings save the signature rule and the terms, and the CLI follows them', { timeout: 180000 }, async () => {
  const { data, cli } = register('atslegas-e2e-handover-settings-');
  cli('key', 'add', '101');
  cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1');
  cli('group', 'add', 'Visi');
  cli('group', 'allow', 'Visi', '101');
  cli('group', 'member', 'Visi', 'E-1');
  const app = await App.start({ name: 'handover-settings', dataDir: data });
  try {
    await app.signIn();
    await nav(app, 'Iestatījumi');
    await app.waitVisible('#handover');
    assert.equal(await app.exec("return document.getElementById('set-signature-never').checked"), true);
    await app.click(await app.find('css selector', '#set-signature-issue_and_return'));
    const lv = 'Atslēgu nedrīkst kopēt vai nodot citiem. Pazaudētu atslēgu ziņo tūlīt: ĀČĒĢĪĶĻŅŠŪŽ.';
    const en = 'The key must not be copied or passed on. Report a lost key at once.';
    await app.fill('Noteikumi latviski', lv);
    await app.fill('Noteikumi angliski', en);
    assert.equal(await app.text('#set-terms-en-count'), `${[...en].length} / 2000 rakstzīmes`);
    await app.click(await app.find('css selector', '#handover-save'));
    await waitFor(async () => /Izsniegšanas iestatījumi saglabāti/.test(await app.text('#toast') || ''), 'saved');
    await app.screenshot('08-settings-handover');

    const config = JSON.parse(readFileSync(join(data, 'config.json'), 'utf8'));
    assert.deepEqual(config.handover, { require_signature: 'issue_and_return', terms_lv: lv, terms_en: en });
    // The command-line tool reads the same file: an issue without a signature exits 5.
    let refused;
    try {
      execFileSync(CLI, ['--data-dir', data, 'issue', '101', '--to', 'E-1'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) { refused = e; }
    assert.ok(refused, 'the CLI issued without a signature');
    assert.equal(refused.status, 5);
    assert.match(refused.stderr, /signature/i);

    // Too long a text is refused next to its field and nothing is saved.
    await app.exec(`const a = document.getElementById('set-terms-en'); a.value = 'x'.repeat(2001);
      a.dispatchEvent(new Event('input'));`);
    assert.equal(await app.text('#set-terms-en-count'), '2001 / 2000 rakstzīmes');
    await app.click(await app.find('css selector', '#handover-save'));
    await waitFor(async () => /2001.*2000/.test(await app.text('#set-terms-en-error') || ''), 'the length refused next to the English terms');
    await app.screenshot('09-settings-terms-too-long');
    assert.equal(JSON.parse(readFileSync(join(data, 'config.json'), 'utf8')).handover.terms_en, en);

    // Back on the screen later, the saved values are shown.
    await nav(app, 'Pārskats');
    await nav(app, 'Iestatījumi');
    await app.waitVisible('#handover');
    assert.equal(await app.exec("return document.getElementById('set-signature-issue_and_return').checked"), true);
    assert.equal(await app.exec("return document.getElementById('set-terms-lv').value"), lv);
  } finally {
    await app.stop();
  }
});

test('a viewer sees the sets and the first-run card but changes nothing, and is told to ask an admin', { timeout: 120000 }, async () => {
  const { data, cli } = register('atslegas-e2e-sets-viewer-');
  execFileSync(CLI, ['--data-dir', data, 'user', 'add', 'anna', '--role', 'viewer', '--password-stdin'], { input: `${VIEWER_PW}\n` });
  cli('key', 'add', '101', '--name', 'Telpa 204');
  cli('set', 'add', 'Apkopēja', '--keys', '101', '--tag', 'R-1');
  const app = await App.start({ name: 'sets-viewer', dataDir: data });
  try {
    await app.signIn('anna', VIEWER_PW);
    await nav(app, 'Atslēgas');
    await app.waitVisible('#first-run');
    assert.match(await app.text('#first-run'), /palūdziet administratoram/);
    await app.click(await app.find('css selector', '#tab-sets'));
    await app.waitVisible('#sets-table');
    assert.match(await app.text('#sets-table'), /Apkopēja[\s\S]*R-1[\s\S]*101/);
    const buttons = await app.exec("return [...document.querySelectorAll('#view [role=tabpanel] button')].map(b => b.textContent)");
    assert.deepEqual(buttons, [], 'a viewer gets no New set, Edit or Delete');
    // The core refuses a viewer whatever the page offers.
    const r = await app.invoke('set_delete', { set: 'R-1' });
    assert.equal(r.refused.code, 'not_allowed');
    assert.equal(cliSets(cli).length, 1);
    await app.screenshot('10-sets-viewer');
  } finally {
    await app.stop();
  }
});
