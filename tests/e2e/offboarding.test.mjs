// End to end (issue 14): offboarding a leaving person from the Persons screen. The person
// holds two keys (issued by the CLI); "Aiziešana" lists them with their sets, the "as of"
// field shows what was held at a moment, one key comes back by typing its number in the
// scan field (the Desk's signature pad, Enter), the other is reported lost with a reason,
// and Finish makes clearance no. 1, printed on an A4 sheet; the CLI then shows the person
// inactive with the clearance. An operator cannot finish while a key is held (the button
// says why, the core refuses even a reason); an admin finishes with a reason, which the
// clearance keeps with the key still held. Screenshots go to tests/e2e/screenshots/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { App, CLI, register, waitFor } from './webdriver.mjs';

const ENTER = '\uE007';
const OPERATOR_PW = 'Oskara-Garā-Parole-42';

/** Sets the window's language (the webview keeps it for every window of the app). */
function language(app, lang) {
  return app.exec("const s = document.getElementById('lang-select'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));", lang);
}

/** Opens a screen from the menu and waits for its heading. */
async function nav(app, text) {
  await app.exec(`[...document.querySelectorAll('#nav .nav-item')].find(b => b.textContent === arguments[0]).click()`, text);
  await waitFor(async () => (await app.text('#view h1')) === text, `the ${text} screen`);
}

/** Opens the offboarding of the person named `name` from the Persons list. */
async function openOffboarding(app, name) {
  await nav(app, 'Personas');
  await waitFor(async () => (await app.text('#view tbody') || '').includes(name), `${name} in the list`);
  await app.click(await app.find('css selector', `#view button[aria-label="Aiziešana: ${name}"]`));
  await waitFor(async () => (await app.text('#view h1')) === `Aiziešana: ${name}`, 'the offboarding view');
  await waitFor(async () => (await app.focusedId()) === 'offboard-input', 'the scan field focused');
}

/** The offboarding status as the CLI reads it. */
function offboard(cli, code) {
  return JSON.parse(cli('--json', 'person', 'offboard', code));
}

/** A local time as the app's date field writes it, `minutes` from now. */
function dateText(minutes) {
  const d = new Date(Date.now() + minutes * 60000);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getDate())}.${p(d.getMonth() + 1)}.${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A register with Anna (holds 201 and 202, the set "Ring B") and Pēteris (holds 203). */
function office(prefix) {
  const reg = register(prefix, { config: { site_name: 'Birojs Zaļā ielā' } });
  const { cli } = reg;
  cli('person', 'add', '--name', 'Anna Liepa', '--code', 'E-2001', '--department', 'Kanceleja');
  cli('person', 'add', '--name', 'Pēteris Ozols', '--code', 'E-2002', '--department', 'Noliktava');
  cli('key', 'add', '201', '--name', 'Telpa 12', '--location', 'Skapis A');
  cli('key', 'add', '202', '--name', 'Arhīvs', '--location', 'Skapis A');
  cli('key', 'add', '203', '--name', 'Noliktava', '--location', 'Skapis B');
  cli('group', 'add', 'Visi');
  cli('group', 'allow', 'Visi', '201', '202', '203');
  cli('group', 'member', 'Visi', 'E-2001', 'E-2002');
  cli('set', 'add', 'Ring B', '--keys', '201,202', '--tag', 'R-2');
  cli('issue', '201', '--to', 'E-2001', '--due', dateText(7 * 24 * 60));
  cli('issue', '202', '--to', 'E-2001');
  cli('issue', '203', '--to', 'E-2002');
  return reg;
}

test('offboarding: one key returned by typing it, one reported lost, then the clearance printed', { timeout: 120000 }, async () => {
  const { data, cli } = office('atslegas-e2e-offboard-');
  const app = await App.start({ name: 'offboarding', dataDir: data, env: { ATSLEGAS_E2E_NO_PRINT: '1' } });
  try {
    await language(app, 'lv');
    await app.signIn();
    await openOffboarding(app, 'Anna Liepa');
    const held = await app.text('#offboard-keys');
    assert.match(held, /201\s+Telpa 12\s+Skapis A[\s\S]*Ring B/);
    assert.match(held, /202\s+Arhīvs[\s\S]*bez termiņa/);
    assert.match(await app.text('#offboard-sets'), /Ring B \(R-2\): viss komplekts \(201, 202\)/);
    assert.match(await app.text('#offboard-still'), /Vēl rokās: 201, 202/);

    // As of a moment: what Anna held then (both keys).
    await app.fill('Brīdis', dateText(1));
    await app.click(await app.find('css selector', '#offboard-as-of button[type=submit]'));
    await waitFor(async () => /201 · Telpa 12[\s\S]*202 · Arhīvs/.test(await app.text('#offboard-as-of-rows') || ''), 'what was held at that moment');
    await app.screenshot('01-holds');

    // A key typed in the scan field comes back as at the Desk: the pad, Enter.
    await app.click(await app.find('css selector', '#offboard-input'));
    await app.keys(`201${ENTER}`);
    await app.waitVisible('#signature-dialog');
    assert.equal(await app.text('#signature-title'), 'Pieņemt atpakaļ atslēgu 201');
    await waitFor(async () => (await app.focusedId()) === 'signature-canvas', 'the focus on the pad');
    await app.keys(ENTER);
    await app.waitVisible('#signature-dialog', false);
    await waitFor(async () => /Pieņemta atpakaļ: 201 · Kvīts Nr\. 4/.test(await app.text('#offboard-message') || ''), 'the return said');
    await waitFor(async () => !/201/.test(await app.text('#offboard-keys')), 'the list refreshed');
    assert.equal(await app.focusedId(), 'offboard-input', 'the next scan goes to the scan field');
    // A key she does not hold is not taken from someone else.
    await app.keys(`203${ENTER}`);
    await waitFor(async () => /“203” nav personas Anna Liepa rokās/.test(await app.text('#offboard-message') || ''), 'not held said');
    assert.equal(offboard(cli, 'E-2002').keys.length, 1, 'Pēteris still holds 203');

    // The other key is reported lost, with a reason.
    await app.press('Pieteikt nozaudētu');
    await app.waitVisible('dialog[open] textarea');
    await app.fill('Iemesls: kas, kā un kad to pazaudēja', 'Pazaudēta pārcelšanās laikā');
    await app.screenshot('02-report-lost');
    await app.press('Pieteikt kā nozaudētu');
    await app.waitVisible('#offboard-none');
    assert.match(await app.text('#offboard-message'), /Atslēga 202 pieteikta kā nozaudēta/);
    assert.match(await app.text('#offboard-finish'), /Rokās nav neviena atslēga/);

    // Finish: inactive, clearance no. 1, printed.
    await app.press('Pabeigt');
    await app.waitVisible('#offboard-clearance');
    assert.match(await app.text('#offboard-done'), /Persona Anna Liepa tagad ir neaktīva\. Izveidota izziņa Nr\. 1\./);
    assert.equal(await app.exec("return !!document.getElementById('offboard-finish-button')"), false, 'nothing left to finish');
    assert.match(await app.text('#offboard-who'), /neaktīva/);
    await app.screenshot('03-finished');
    await app.press('Drukāt');
    await waitFor(async () => /Izziņa Nr\. 1 nosūtīta drukāšanai/.test(await app.text('#offboard-clearance') || ''), 'printed');
    await app.exec("document.body.classList.add('receipt-preview'); window.scrollTo(0, 0);");
    const sheet = await app.text('#receipt-print');
    for (const want of ['Birojs Zaļā ielā', 'Izziņa par atslēgu nodošanu Nr. 1', 'Anna Liepa · E-2001 · Kanceleja', 'Personai rokās nav neviena šī reģistra atslēga.', 'root', 'Personas paraksts', 'Biroja paraksts']) {
      assert.ok(sheet.includes(want), `the clearance shows ${want}:\n${sheet}`);
    }
    await app.screenshot('04-clearance-sheet');
    await app.exec("document.body.classList.remove('receipt-preview');");

    // The person's details say what was held at a moment too: nothing out any more.
    await app.press('← Atpakaļ uz personām');
    await app.press('Sīkāk');
    await app.fill('Brīdis', dateText(1));
    await app.click(await app.find('css selector', '#person-as-of button[type=submit]'));
    await waitFor(async () => /Stāvoklis/.test(await app.text('#person-as-of-rows') || ''), 'as of in the details');
    assert.doesNotMatch(await app.text('#person-as-of-rows'), /201 ·/);
    await app.screenshot('05-details-as-of');
    await app.press('Aizvērt');

    const after = offboard(cli, 'E-2001');
    assert.equal(after.person.active, false);
    assert.deepEqual(after.clearances, [1]);
    assert.deepEqual(after.keys, []);
    const keys = JSON.parse(cli('--json', 'key', 'list'));
    assert.equal(keys.find((k) => k.number === '201').status, 'available');
    assert.equal(keys.find((k) => k.number === '202').status, 'lost');
  } finally {
    await app.stop();
  }
});

test('offboarding: an operator cannot finish while a key is held; an admin can, with a reason', { timeout: 120000 }, async () => {
  const { data, cli } = office('atslegas-e2e-offboard-held-');
  execFileSync(CLI, ['--data-dir', data, 'user', 'add', 'oskars', '--role', 'operator', '--password-stdin'], { input: `${OPERATOR_PW}\n` });
  const app = await App.start({ name: 'offboarding-held', dataDir: data, env: { ATSLEGAS_E2E_NO_PRINT: '1' } });
  try {
    await language(app, 'lv');
    await app.signIn('oskars', OPERATOR_PW);
    await openOffboarding(app, 'Pēteris Ozols');
    assert.match(await app.text('#offboard-still'), /Vēl rokās: 203\..*var tikai administrators/);
    assert.equal(await app.exec("return document.getElementById('offboard-finish-button').disabled"), true);
    assert.equal(await app.exec("return !!document.getElementById('offboard-reason')"), false, 'no reason field for an operator');
    await app.screenshot('05-operator-held');
    // The core refuses whatever the page offers.
    const { person } = offboard(cli, 'E-2002');
    assert.equal((await app.invoke('offboard_finish', { id: person.id })).refused.code, 'person_holds_keys');
    assert.equal((await app.invoke('offboard_finish', { id: person.id, overrideReason: 'Aizgāja' })).refused.code, 'not_allowed');
    assert.equal(offboard(cli, 'E-2002').person.active, true);
    await app.signOut();

    await app.signIn();
    await openOffboarding(app, 'Pēteris Ozols');
    assert.match(await app.text('#offboard-still'), /norādiet iemeslu/);
    await app.press('Pabeigt');
    await waitFor(async () => /Norādiet iemeslu/.test(await app.text('#offboard-finish-error') || ''), 'the reason asked for');
    await app.fill('Iemesls pabeigt, kamēr atslēgas ir rokās', 'Atslēga paliek maiņas vadītājam');
    await app.press('Pabeigt');
    await app.waitVisible('#offboard-clearance');
    assert.match(await app.text('#offboard-clearance'), /Izziņa Nr\. 1/);
    assert.match(await app.text('#offboard-still'), /Vēl rokās: 203\. Kad atslēgas būs atpakaļ/);
    await app.press('Drukāt');
    await waitFor(async () => /nosūtīta drukāšanai/.test(await app.text('#offboard-clearance') || ''), 'printed');
    const sheet = await app.text('#receipt-print');
    assert.ok(sheet.includes('Vēl rokās esošās atslēgas: 203'), sheet);
    assert.ok(sheet.includes('Administratora iemesls: Atslēga paliek maiņas vadītājam'), sheet);
    await app.screenshot('06-admin-override');
    await app.exec("document.body.classList.add('receipt-preview'); window.scrollTo(0, 0);");
    await app.screenshot('07-clearance-sheet-held');
    await app.exec("document.body.classList.remove('receipt-preview');");

    const after = offboard(cli, 'E-2002');
    assert.equal(after.person.active, false);
    assert.deepEqual(after.clearances, [1]);
    const c = JSON.parse(cli('--json', 'person', 'offboard', 'E-2002'));
    assert.deepEqual(c.keys.map((k) => k.number), ['203'], 'the key is still out');
  } finally {
    await app.stop();
  }
});
