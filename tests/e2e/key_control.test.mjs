// End to end (issue 14): key control on the Keys screen. A key reported lost with its
// reason opens its impact at once (the areas it opens, the other keys of those areas and
// their holders now, the re-key recommendation; printable), the CLI sees the loss, and the
// key is found again; which areas a key opens is set from the window; the Areas tab
// creates, renames (a taken name refused next to the field) and deletes after asking; the
// list as of a past moment shows a key out that is back now; a viewer sees impact and
// "as of" but no button that writes. Screenshots go to tests/e2e/screenshots/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CLI, register, waitFor } from './webdriver.mjs';

const VIEWER_PW = 'Skaidra-Diena-Rīgā-42';

/**
 * Starts the window on `dataDir` with a webview profile of its own (XDG_DATA_HOME), so
 * the language or cache another test run leaves in the shared profile cannot leak in.
 */
function start(name, dataDir, env = {}) {
  return App.start({ name, dataDir, env: { XDG_DATA_HOME: mkdtempSync(join(tmpdir(), 'atslegas-e2e-profile-')), ...env } });
}

/** Opens a screen from the menu and waits for its heading. */
async function nav(app, text) {
  await app.exec(`[...document.querySelectorAll('#nav .nav-item')].find(b => b.textContent === arguments[0]).click()`, text);
  await waitFor(async () => (await app.text('#view h1')) === text, `the ${text} screen`);
}

/** Opens the Keys screen's Keys tab and waits for key `number` in the list. */
async function keysTab(app, number) {
  await nav(app, 'Atslēgas');
  await app.click(await app.find('css selector', '#tab-keys'));
  await waitFor(async () => (await rowText(app, number)) !== null, `key ${number} in the list`);
}

/** The text of the live list's row of key `number`, or null. */
function rowText(app, number) {
  return app.exec(`const tr = [...document.querySelectorAll('#view tbody tr')].find(tr => tr.cells[0] && tr.cells[0].textContent === arguments[0]);
    return tr ? tr.innerText : null;`, number);
}

/** The texts of the buttons in the row of key `number`. */
function rowButtons(app, number) {
  return app.exec(`const tr = [...document.querySelectorAll('#view tbody tr')].find(tr => tr.cells[0] && tr.cells[0].textContent === arguments[0]);
    return tr ? [...tr.querySelectorAll('button')].map(b => b.textContent) : null;`, number);
}

/** Clicks the button `text` in the row of key `number`. */
async function pressInRow(app, number, text) {
  const id = await waitFor(() => app.exec(`const tr = [...document.querySelectorAll('#view tbody tr')].find(tr => tr.cells[0] && tr.cells[0].textContent === arguments[0]);
    const b = tr && [...tr.querySelectorAll('button')].find(b => b.textContent === arguments[1]);
    if (!b) return null; if (!b.id) b.id = 'b' + Math.random().toString(36).slice(2); return b.id;`, number, text), `"${text}" in the row of key ${number}`);
  await app.click(await app.find('css selector', `#${id}`));
}

/** A key as the CLI lists it. */
function cliKey(cli, number) {
  return JSON.parse(cli('--json', 'key', 'list', '--search', number)).find((k) => k.number === number);
}

/** "06.12.2026 21:56", the app's date text, of a Date in local time. */
function dateText(d) {
  const two = (n) => String(n).padStart(2, '0');
  return `${two(d.getDate())}.${two(d.getMonth() + 1)}.${d.getFullYear()} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A register with keys, areas, holders: 101 opens both areas, 102 and 103 one each. */
function keyControlRegister(prefix) {
  const r = register(prefix);
  const { cli } = r;
  cli('key', 'add', '101', '--name', 'Serveru telpa');
  cli('key', 'add', '102', '--name', 'Serveru telpa (rezerve)');
  cli('key', 'add', '103', '--name', 'Arhīvs');
  cli('key', 'add', '104', '--name', 'Noliktava');
  cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1');
  cli('person', 'add', '--name', 'Līga Ozola', '--code', 'E-2');
  cli('group', 'add', 'Visi');
  cli('group', 'allow', 'Visi', '101', '102', '103', '104');
  cli('group', 'member', 'Visi', 'E-1', 'E-2');
  cli('area', 'add', 'Serveru telpa');
  cli('area', 'add', 'Arhīvs');
  cli('key', 'opens', '101', 'Serveru telpa', 'Arhīvs');
  cli('key', 'opens', '102', 'Serveru telpa');
  cli('key', 'opens', '103', 'Arhīvs');
  return r;
}

// The as-of register is set up first, so the minute it waits for passes while the other
// tests run: 105 goes out now and comes back after the next minute starts.
const asOfRegister = register('atslegas-e2e-as-of-');
asOfRegister.cli('key', 'add', '105', '--name', 'Zāle');
asOfRegister.cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1');
asOfRegister.cli('group', 'add', 'Visi');
asOfRegister.cli('group', 'allow', 'Visi', '105');
asOfRegister.cli('group', 'member', 'Visi', 'E-1');
asOfRegister.cli('issue', '105', '--to', 'E-1');
const issuedAt = new Date();

test('a key reported lost shows its impact at once, the CLI sees it, and it is found again', { timeout: 120000 }, async () => {
  const { data, cli } = keyControlRegister('atslegas-e2e-lost-');
  cli('issue', '101', '--to', 'E-1');
  cli('issue', '102', '--to', 'E-2');
  const app = await start('lost', data, { ATSLEGAS_E2E_NO_PRINT: '1' });
  try {
    await app.signIn();
    await keysTab(app, '101');
    await app.screenshot('key-control-keys-list');
    await pressInRow(app, '101', 'Pieteikt zudumu');
    await app.waitVisible('dialog[open]');
    assert.match(await app.text('dialog[open]'), /101 · Serveru telpa[\s\S]*izsniegta personai Jānis Bērziņš/);
    // No reason: said next to the field, nothing recorded.
    await app.press('Pieteikt kā nozaudētu');
    await waitFor(async () => /obligāts/.test(await app.text('#f-reason-error') || ''), 'the reason required next to its field');
    assert.equal(cliKey(cli, '101').status, 'issued');
    await app.screenshot('key-control-lost-dialog');
    const reason = 'Jānis pazaudēja 6.12. pēc darba, ceļā uz mājām';
    await app.fill('Iemesls: kas, kā un kad to pazaudēja', reason);
    await app.press('Pieteikt kā nozaudētu');

    // The impact opens by itself: areas, the other keys with their holders, re-key.
    await app.waitVisible('#impact');
    assert.equal(await app.text('#dialog-title'), 'Atslēgas 101 zuduma ietekme');
    assert.deepEqual(await app.exec("return [...document.querySelectorAll('#impact-areas li')].map(li => li.textContent)"), ['Arhīvs', 'Serveru telpa']);
    const others = await app.exec("return [...document.querySelectorAll('#impact-keys tbody tr')].map(tr => [...tr.cells].map(td => td.innerText.trim()))");
    assert.deepEqual(others, [
      ['102', 'Serveru telpa (rezerve)', 'izsniegta', 'Līga Ozola (E-2)', 'Serveru telpa'],
      ['103', 'Arhīvs', 'pieejama', '—', 'Arhīvs'],
    ]);
    assert.match(await app.text('#impact-advice'), /Ieteicams nomainīt slēdzenes[\s\S]*Kam ir atslēga 101, tas var atvērt: Arhīvs, Serveru telpa[\s\S]*\(2\)[\s\S]*izsniegtās \(1\) paprasiet atpakaļ/);
    assert.match(await app.text('#impact-lost'), new RegExp(`Jānis Bērziņš[\\s\\S]*root[\\s\\S]*${reason}`));
    await app.screenshot('key-control-impact');

    // Print: the sheet the printer gets (the dialog itself is skipped in tests).
    await app.click(await app.find('css selector', '#impact-print'));
    await waitFor(async () => /drukāšanai/.test(await app.text('#impact-status') || ''), 'printed');
    const sheet = await app.exec("return document.querySelector('#receipt-print.kc-sheet').textContent");
    assert.match(sheet, /Atslēgas 101 zuduma ietekme[\s\S]*Arhīvs, Serveru telpa[\s\S]*Līga Ozola \(E-2\)[\s\S]*Slēdzenes nomainītas/);
    await app.exec("document.body.classList.add('receipt-preview'); window.scrollTo(0, 0);");
    await app.screenshot('key-control-impact-print');
    await app.exec("document.body.classList.remove('receipt-preview');");
    await app.press('Aizvērt');

    // Recorded: the CLI sees key 101 lost with the reason.
    const impact = JSON.parse(cli('--json', 'key', 'impact', '101'));
    assert.equal(impact.status, 'lost');
    assert.equal(impact.lost.reason, reason);
    assert.equal(impact.lost.person, 'Jānis Bērziņš');
    assert.equal(impact.recommend_rekey, true);
    assert.deepEqual(JSON.parse(cli('--json', 'key', 'list', '--status', 'lost')).map((k) => k.number), ['101']);
    await waitFor(async () => /nozaudēta/.test(await rowText(app, '101') || ''), 'the row says lost');
    assert.deepEqual(await rowButtons(app, '101'), ['Vēsture', 'Ietekme', 'Atrasta', 'Ko atver', 'Labot', 'Dzēst']);

    // Found again, with where.
    await pressInRow(app, '101', 'Atrasta');
    await app.fill('Kur tā atrasta', 'Pie ieejas, apsardzē');
    await app.press('Atzīmēt kā atrastu');
    await waitFor(async () => /Atslēga 101 atrasta/.test(await app.text('#toast') || ''), 'found said');
    assert.equal(cliKey(cli, '101').status, 'available');
    assert.deepEqual(JSON.parse(cli('--json', 'key', 'list', '--status', 'lost')), []);
    await waitFor(async () => /pieejama/.test(await rowText(app, '101') || ''), 'the row says available');

    // 104 opens no known area: the impact says so; "Ko atver" sets it, and the impact follows.
    await pressInRow(app, '104', 'Ietekme');
    await app.waitVisible('#impact');
    assert.match(await app.text('#impact-advice'), /Nav zināms, ko šī atslēga atver[\s\S]*norādiet, kādas zonas/);
    await app.screenshot('key-control-impact-no-area');
    await app.press('Ko atver…');
    await app.waitVisible('#opens-areas');
    await app.click(await app.byLabel('Arhīvs'));
    await app.screenshot('key-control-opens');
    await app.press('Saglabāt');
    await waitFor(async () => (await app.text('#impact-areas') || '').includes('Arhīvs'), 'the impact painted again with Arhīvs');
    assert.match(await app.text('#impact-keys'), /101[\s\S]*103/);
    await app.press('Aizvērt');
    assert.deepEqual(JSON.parse(cli('--json', 'key', 'impact', '104')).areas, ['Arhīvs']);

    // The row's "Ko atver" shows the key's areas ticked; none ticked clears them.
    await pressInRow(app, '104', 'Ko atver');
    await app.waitVisible('#opens-areas');
    assert.equal(await app.exec("return [...document.querySelectorAll('#opens-areas input:checked')].map(i => i.value).join()"), 'Arhīvs');
    await app.click(await app.byLabel('Arhīvs'));
    await app.press('Saglabāt');
    await waitFor(async () => /104 vairs nav norādīta neviena zona/.test(await app.text('#toast') || ''), 'cleared said');
    assert.deepEqual(JSON.parse(cli('--json', 'key', 'impact', '104')).areas, []);

    // A key already lost cannot be lost again: the core refuses it whatever the page shows.
    cli('key', 'lost', '103', '--reason', 'Nokrita liftā');
    const r = await app.invoke('key_lost', { number: '103', reason: 'vēlreiz' });
    assert.equal(r.refused.code, 'key_not_losable');
  } finally {
    await app.stop();
  }
});

test('the Areas tab creates, renames and deletes an area after asking', { timeout: 90000 }, async () => {
  const { data, cli } = keyControlRegister('atslegas-e2e-areas-');
  const areas = (...flags) => JSON.parse(cli('--json', 'area', 'list', ...flags));
  const app = await start('areas', data);
  try {
    await app.signIn();
    await nav(app, 'Atslēgas');
    await app.click(await app.find('css selector', '#tab-areas'));
    await app.waitVisible('#areas-table');
    assert.match(await app.text('#areas-table'), /Arhīvs[\s\S]*2[\s\S]*Serveru telpa[\s\S]*2/);

    await app.press('Jauna zona');
    await app.fill('Nosaukums', 'Pagrabs');
    await app.fill('Apraksts', 'Ieeja no pagalma');
    await app.press('Saglabāt');
    await waitFor(async () => /Pagrabs[\s\S]*Ieeja no pagalma[\s\S]*0 \(neviena atslēga\)/.test(await app.text('#areas-table') || ''), 'the new area listed');
    assert.deepEqual(areas().map((a) => a.name), ['Arhīvs', 'Pagrabs', 'Serveru telpa']);

    // Rename: a name already taken is refused next to the field; then a new one.
    await app.exec(`[...document.querySelectorAll('#areas-table tr')].find(tr => tr.dataset.name === 'Pagrabs')
      .querySelector('button').click()`);
    await app.waitVisible('dialog[open]');
    await app.fill('Nosaukums', 'Arhīvs');
    await app.press('Saglabāt');
    await waitFor(async () => (await app.text('#f-name-error') || '').length > 0, 'the taken name refused next to the field');
    await app.fill('Nosaukums', 'Pagrabs un katlu telpa');
    await app.press('Saglabāt');
    await waitFor(async () => /Pagrabs un katlu telpa/.test(await app.text('#areas-table') || ''), 'the renamed area listed');
    assert.ok(areas().some((a) => a.name === 'Pagrabs un katlu telpa' && a.description === 'Ieeja no pagalma'));
    await app.screenshot('key-control-areas');

    // Delete asks first and names how many keys lose it.
    await app.exec(`[...document.querySelectorAll('#areas-table tr')].find(tr => tr.dataset.name === 'Arhīvs')
      .querySelectorAll('button')[1].click()`);
    await app.waitVisible('dialog[open]');
    assert.match(await app.text('dialog[open]'), /Dzēst zonu “Arhīvs”\? Atslēgām, kas to atver \(2\)/);
    await app.press('Dzēst');
    await waitFor(async () => !/Arhīvs/.test(await app.text('#areas-table') || ''), 'Arhīvs gone from the list');
    assert.deepEqual(areas().map((a) => a.name), ['Pagrabs un katlu telpa', 'Serveru telpa']);
    assert.ok(areas('--include-deleted').some((a) => a.name === 'Arhīvs' && a.deleted_at !== null));
    assert.deepEqual(JSON.parse(cli('--json', 'key', 'impact', '101')).areas, ['Serveru telpa']);
    await app.click(await app.byLabel('Rādīt dzēstos'));
    await waitFor(async () => /Arhīvs\s*dzēsta/.test(await app.text('#areas-table') || ''), 'the deleted area shown as deleted');
  } finally {
    await app.stop();
  }
});

test('"as of" a past minute shows a key out that is back now, and "Back to now" returns', { timeout: 120000 }, async () => {
  const { data, cli } = asOfRegister;
  // The minute after the issue, and the return only once it has begun.
  const minute = new Date(issuedAt);
  minute.setSeconds(0, 0);
  minute.setMinutes(minute.getMinutes() + 1);
  const wait = minute.getTime() + 1500 - Date.now();
  if (wait > 0) await sleep(wait);
  cli('return', '105');
  assert.equal(cliKey(cli, '105').status, 'available');
  const at = dateText(minute);

  const app = await start('as-of', data);
  try {
    await app.signIn();
    await keysTab(app, '105');
    assert.match(await rowText(app, '105'), /pieejama/);
    await app.fill('Stāvoklis uz', at);
    await app.keys('\uE007');
    await app.waitVisible('#as-of-banner');
    assert.equal(await app.text('#as-of-banner p'), `Rāda atslēgas, kā tās bija ${at}`);
    await waitFor(async () => /105[\s\S]*izsniegta[\s\S]*Jānis Bērziņš \(E-1\)/.test(await app.text('#as-of-table') || ''), 'key 105 shown out then');
    // The live list and its filters are away while the past is shown.
    await app.waitVisible('#search-keys-search', false);
    // Since: the day and time.
    assert.match(await app.exec("return document.querySelector('#as-of-table tbody tr').cells[5].textContent"),
      new RegExp(`^${dateText(issuedAt).slice(0, 10).replace(/\./g, '\\.')} \\d\\d:\\d\\d$`));
    await app.screenshot('key-control-as-of');

    await app.press('Atpakaļ uz tagadni');
    await app.waitVisible('#as-of-banner', false);
    await app.waitVisible('#as-of-table', false);
    assert.equal(await app.exec("return document.getElementById('keys-as-of').value"), '');
    await waitFor(async () => /pieejama/.test(await rowText(app, '105') || ''), 'the live list again');

    // A moment before the key existed: nothing; clearing the field is "now" too.
    await app.fill('Stāvoklis uz', '01.01.2020 12:00');
    await app.keys('\uE007');
    await waitFor(async () => /vēl nebija nevienas atslēgas/.test(await app.text('#view [role=tabpanel]') || ''), 'no key then');
    await app.req('POST', `/element/${await app.byLabel('Stāvoklis uz')}/clear`, {});
    await app.keys('\uE007');
    await app.waitVisible('#as-of-banner', false);
    await waitFor(async () => /pieejama/.test(await rowText(app, '105') || ''), 'the live list after clearing');
  } finally {
    await app.stop();
  }
});

test('a viewer sees the impact and the past but no button that writes (also in English); an operator reports keys lost and found', { timeout: 120000 }, async () => {
  const { data, cli } = keyControlRegister('atslegas-e2e-kc-viewer-');
  execFileSync(CLI, ['--data-dir', data, 'user', 'add', 'anna', '--role', 'viewer', '--password-stdin'], { input: `${VIEWER_PW}\n` });
  execFileSync(CLI, ['--data-dir', data, 'user', 'add', 'olga', '--role', 'operator', '--password-stdin'], { input: `${VIEWER_PW}\n` });
  cli('issue', '101', '--to', 'E-1');
  cli('key', 'lost', '101', '--reason', 'Pazaudēja autobusā');
  const app = await start('viewer', data);
  try {
    await app.signIn('anna', VIEWER_PW);
    await keysTab(app, '101');
    assert.deepEqual(await rowButtons(app, '101'), ['Vēsture', 'Ietekme']);
    assert.deepEqual(await rowButtons(app, '102'), ['Vēsture', 'Ietekme']);
    await pressInRow(app, '101', 'Ietekme');
    await app.waitVisible('#impact');
    assert.match(await app.text('#impact-lost'), /Pazaudēja autobusā/);
    assert.equal(await app.exec("return document.getElementById('impact-opens')"), null);
    await app.press('Aizvērt');
    await app.waitVisible('#keys-as-of');
    await app.click(await app.find('css selector', '#tab-areas'));
    await app.waitVisible('#areas-table');
    assert.deepEqual(await app.exec("return [...document.querySelectorAll('#view [role=tabpanel] button')].map(b => b.textContent)"), []);
    const r = await app.invoke('area_delete', { area: 'Arhīvs' });
    assert.equal(r.refused.code, 'not_allowed');

    // The same in English: the impact and the past read in the other catalogue.
    await app.exec("const s = document.getElementById('lang-select'); s.value = 'en'; s.dispatchEvent(new Event('change'));");
    await nav(app, 'Dashboard');
    await nav(app, 'Keys');
    await app.click(await app.find('css selector', '#tab-keys'));
    await waitFor(async () => (await rowText(app, '101')) !== null, 'key 101 listed');
    await pressInRow(app, '101', 'Impact');
    await app.waitVisible('#impact');
    assert.equal(await app.text('#dialog-title'), 'Impact of losing key 101');
    assert.match(await app.text('#impact-advice'), /Re-keying recommended[\s\S]*Whoever has key 101 can open: Arhīvs, Serveru telpa[\s\S]*\(2\)/);
    // No other key is out now, so nobody is to be asked for one.
    assert.doesNotMatch(await app.text('#impact-advice'), /bring them back/);
    await app.screenshot('key-control-impact-en');
    await app.press('Close');
    const later = dateText(new Date(Date.now() + 120000));
    await app.fill('As of', later);
    await app.keys('\uE007');
    await waitFor(async () => (await app.text('#as-of-banner p')) === `Showing the keys as of ${later}`, 'the banner in English');
    await waitFor(async () => /101[\s\S]*lost[\s\S]*Jānis Bērziņš \(E-1\)/.test(await app.text('#as-of-table') || ''), 'key 101 lost, with who had it');
    await app.screenshot('key-control-as-of-en');
    await app.press('Back to now');
    await app.waitVisible('#as-of-banner', false);
    await app.exec("const s = document.getElementById('lang-select'); s.value = 'lv'; s.dispatchEvent(new Event('change'));");

    // An operator reports keys lost and found, but changes no key and no area.
    await app.signOut();
    await app.signIn('olga', VIEWER_PW);
    await keysTab(app, '101');
    assert.deepEqual(await rowButtons(app, '101'), ['Vēsture', 'Ietekme', 'Atrasta']);
    assert.deepEqual(await rowButtons(app, '102'), ['Vēsture', 'Ietekme', 'Pieteikt zudumu']);
  } finally {
    await app.stop();
  }
});
