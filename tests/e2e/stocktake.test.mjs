// End to end (issue 14): a stocktake typed on the keyboard, as a barcode scanner types it.
// Start; key numbers + Enter in the large scan field: a key on its hook (green,
// "counted"), a key the register says is issued (amber, names the holder), a text that is
// no key (red), the same key again (grey, not counted twice), a lost key (amber); the
// large count follows. Finish shows the report: 302 missing, 303 and 304 unexpected, each
// resolved on the spot (303 taken back through the signature pad, 304 found, 302
// reported lost with a reason); the report prints on A4 and the count is listed with the
// past ones. The CLI's `stocktake show` and `key list` then agree. A viewer (in English)
// follows an open count but gets no scan field or Finish, and the core refuses them.
// Screenshots go to tests/e2e/screenshots/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { App, CLI, register, waitFor } from './webdriver.mjs';

const ENTER = '\uE007';
const VIEWER_PW = 'Skaidra-Diena-Rīgā-42';

/** Sets the window's language (the webview keeps it for every window of the app). */
function language(app, lang) {
  return app.exec("const s = document.getElementById('lang-select'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));", lang);
}

/** Opens a screen from the menu and waits for its heading. */
async function nav(app, text) {
  await app.exec(`[...document.querySelectorAll('#nav .nav-item')].find(b => b.textContent === arguments[0]).click()`, text);
  await waitFor(async () => (await app.text('#view h1')) === text, `the ${text} screen`);
}

/** Types `text` + Enter in the scan field and waits for the sign of that scan. */
async function scan(app, text, sign) {
  await waitFor(async () => (await app.focusedId()) === 'stocktake-input', 'the scan field focused');
  const before = await app.exec("return document.getElementById('stocktake-recent').children.length");
  await app.keys(`${text}${ENTER}`);
  await waitFor(async () => (await app.exec("return document.getElementById('stocktake-recent').children.length")) > before, `the scan of ${text} listed`);
  const shown = await app.exec("const s = document.getElementById('stocktake-sign'); return { cls: s.className, text: s.innerText };");
  assert.equal(shown.cls, `stocktake-sign ${sign}`, `the sign of ${text}: ${shown.text}`);
  return shown.text;
}

/** Each key's status as the CLI reads it. */
function statuses(cli) {
  return Object.fromEntries(JSON.parse(cli('--json', 'key', 'list')).map((k) => [k.number, k.status]));
}

test('a stocktake typed on the keyboard: signs and count, the report, its differences resolved', { timeout: 120000 }, async () => {
  const { data, cli } = register('atslegas-e2e-stocktake-', { config: { site_name: 'Birojs Zaļā ielā' } });
  cli('person', 'add', '--name', 'Ilze Kalna', '--code', 'E-3001');
  cli('key', 'add', '301', '--name', 'Telpa 1', '--location', 'Skapis A');
  cli('key', 'add', '302', '--name', 'Telpa 2', '--location', 'Skapis A');
  cli('key', 'add', '303', '--name', 'Serveru telpa', '--location', 'Skapis B');
  cli('key', 'add', '304', '--name', 'Pagrabs', '--location', 'Skapis B');
  cli('group', 'add', 'Visi');
  cli('group', 'allow', 'Visi', '301', '302', '303', '304');
  cli('group', 'member', 'Visi', 'E-3001');
  cli('issue', '303', '--to', 'E-3001');
  cli('key', 'lost', '304', '--reason', 'Nav atrasta kopš remonta');
  const app = await App.start({ name: 'stocktake', dataDir: data, env: { ATSLEGAS_E2E_NO_PRINT: '1' } });
  try {
    await language(app, 'lv');
    await app.signIn();
    await nav(app, 'Inventarizācija');
    assert.match(await app.text('#stocktake-idle'), /Inventarizācija nav sākta[\s\S]*noskenējiet katru atslēgu/);
    assert.match(await app.text('#stocktake-history'), /Pabeigtu inventarizāciju vēl nav/);
    await app.screenshot('01-idle');
    await app.press('Sākt inventarizāciju');
    await app.waitVisible('#stocktake-input');
    assert.equal(await app.text('#stocktake-count'), '0');

    assert.match(await scan(app, '301', 'expected'), /301: saskaitīta/);
    assert.equal(await app.text('#stocktake-count'), '1');
    assert.match(await scan(app, '303', 'unexpected'), /303: saskaitīta, bet nav gaidīta[\s\S]*izsniegta personai Ilze Kalna/);
    assert.equal(await app.text('#stocktake-count'), '2');
    await app.screenshot('02-unexpected');
    assert.match(await scan(app, 'X-999', 'unknown'), /Nav tādas atslēgas: “X-999”/);
    assert.equal(await app.text('#stocktake-count'), '2', 'an unknown text is not counted');
    await app.screenshot('03-unknown');
    assert.match(await scan(app, '301', 'repeat'), /301: jau saskaitīta/);
    assert.equal(await app.text('#stocktake-count'), '2', 'a repeat is not counted twice');
    assert.match(await scan(app, '304', 'unexpected'), /Reģistrā tā ir nozaudēta/);
    assert.equal(await app.text('#stocktake-count'), '3');
    const recent = await app.text('#stocktake-recent');
    assert.match(recent, /NEGAIDĪTA\s+304[\s\S]*ATKĀRTOTA\s+301[\s\S]*NEZINĀMA\s+X-999[\s\S]*NEGAIDĪTA\s+303[\s\S]*SASKAITĪTA\s+301/i);
    await app.screenshot('04-scanned');

    // Finish: the report.
    await app.press('Pabeigt inventarizāciju');
    await app.waitVisible('#stocktake-report');
    assert.match(await app.text('#stocktake-report-summary'), /saskaitītas 3 no 2 gaidītajām; trūkst 1, negaidītas 2/);
    assert.match(await app.text('#stocktake-missing'), /302 · Telpa 2/);
    assert.match(await app.text('#stocktake-unexpected'), /303 · Serveru telpa[\s\S]*izsniegta personai Ilze Kalna[\s\S]*304 · Pagrabs[\s\S]*nozaudēta/);
    assert.match(await app.text('#stocktake-idle'), /Inventarizācija nav sākta/, 'a new count can start');
    await app.screenshot('05-report');

    const shown = JSON.parse(cli('--json', 'stocktake', 'show', '1'));
    assert.deepEqual(shown.missing.map((k) => k.number), ['302']);
    assert.deepEqual(shown.unexpected.map((k) => k.number), ['303', '304']);
    assert.equal(shown.counted, 3);
    assert.equal(shown.expected, 2);
    assert.equal(shown.finished_by, 'root');

    // The differences resolved: 303 is on its hook, so it comes back (the pad, Enter).
    await app.click(await app.find('css selector', '#stocktake-report button[aria-label="Pieņemt atpakaļ atslēgu 303"]'));
    await app.waitVisible('#signature-dialog');
    await waitFor(async () => (await app.focusedId()) === 'signature-canvas', 'the focus on the pad');
    await app.keys(ENTER);
    await waitFor(async () => /Atslēga 303 pieņemta atpakaļ \(kvīts Nr\. 2\)/.test(await app.text('#stocktake-unexpected') || ''), '303 returned');
    await app.click(await app.find('css selector', '#stocktake-report button[aria-label="Pieteikt atslēgu 304 kā atrastu"]'));
    await waitFor(async () => /Atslēga 304 pieteikta kā atrasta/.test(await app.text('#stocktake-unexpected') || ''), '304 found');
    await app.click(await app.find('css selector', '#stocktake-report button[aria-label="Pieteikt atslēgu 302 kā nozaudētu"]'));
    await app.fill('Iemesls: kas, kā un kad to pazaudēja', 'Nav skapī inventarizācijā Nr. 1');
    await app.press('Pieteikt kā nozaudētu');
    await waitFor(async () => /Atslēga 302 pieteikta kā nozaudēta/.test(await app.text('#stocktake-missing') || ''), '302 lost');
    await app.screenshot('06-resolved');
    assert.deepEqual(statuses(cli), { 301: 'available', 302: 'lost', 303: 'available', 304: 'available' });

    // The report prints, and the count is listed with the past ones.
    await app.press('Drukāt atskaiti');
    await waitFor(async () => /Atskaite Nr\. 1 nosūtīta drukāšanai/.test(await app.text('#stocktake-report') || ''), 'printed');
    await app.exec("document.body.classList.add('receipt-preview'); window.scrollTo(0, 0);");
    const sheet = await app.text('#receipt-print');
    for (const want of ['Birojs Zaļā ielā', 'Inventarizācijas Nr. 1 atskaite', 'Trūkst: 1', '302', 'Negaidītas: 2', 'izsniegta personai Ilze Kalna', 'Biroja paraksts']) {
      assert.ok(sheet.includes(want), `the printed report shows ${want}:\n${sheet}`);
    }
    await app.screenshot('07-report-sheet');
    await app.exec("document.body.classList.remove('receipt-preview');");
    assert.match(await app.text('#stocktake-history'), /Nr\. 1, .*\(root\): saskaitītas 3 no 2 gaidītajām/);
  } finally {
    await app.stop();
  }
});

test('a viewer follows an open count (in English) but cannot scan, finish or start one', { timeout: 90000 }, async () => {
  const { data, cli } = register('atslegas-e2e-stocktake-viewer-');
  execFileSync(CLI, ['--data-dir', data, 'user', 'add', 'vera', '--role', 'viewer', '--password-stdin'], { input: `${VIEWER_PW}\n` });
  cli('key', 'add', '401', '--name', 'Room 1');
  cli('key', 'add', '402', '--name', 'Room 2');
  cli('stocktake', 'start');
  cli('stocktake', 'scan', '401');
  const app = await App.start({ name: 'stocktake-viewer', dataDir: data });
  try {
    await language(app, 'lv');
    await app.signIn('vera', VIEWER_PW);
    await language(app, 'en');
    await waitFor(async () => (await app.text('#view h1')) === 'Dashboard', 'the page in English');
    await nav(app, 'Stocktake');
    await app.waitVisible('#stocktake-open');
    assert.equal(await app.text('#stocktake-count'), '1');
    assert.match(await app.text('#stocktake-recent'), /COUNTED\s+401 · Room 1/i);
    assert.match(await app.text('#stocktake-open'), /Operators and admins count; you may look\./);
    assert.equal(await app.exec("return !!document.getElementById('stocktake-input') || !!document.getElementById('stocktake-finish')"), false, 'no scan field, no Finish');
    await app.screenshot('08-viewer-en');
    // The core refuses a viewer whatever the page offers.
    assert.equal((await app.invoke('stocktake_scan', { text: '402' })).refused.code, 'not_allowed');
    assert.equal((await app.invoke('stocktake_finish')).refused.code, 'not_allowed');
    assert.equal(JSON.parse(cli('--json', 'stocktake', 'show')).counted, 1);
    await language(app, 'lv');
  } finally {
    await app.stop();
  }
});
