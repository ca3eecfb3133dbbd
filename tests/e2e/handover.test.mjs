// End to end, the handover record at the Desk (issue 13): a key scan opens the signature
// pad with the focus; a signature drawn with WebDriver pointer actions is stored (the
// CLI's receipt says signed); Enter hands over and names the receipt; a second read of the
// same key within 10 s is ignored and said; a set is issued by typing its tag; receipts
// print from the Desk and from the key log (a reprint says "copy"), and save as PDF (A4
// and 80 mm); with
// require_signature "issue" an empty pad + Enter is refused and nothing is issued; a set
// comes back with a key unticked on the pad's checklist, which stays out and is said.
// Screenshots of the pad and of both receipt layouts go to tests/e2e/screenshots/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { App, SCREENSHOTS, register, waitFor } from './webdriver.mjs';

const ENTER = '\uE007';
const ESCAPE = '\uE00C';
const TAB = '\uE004';
const SPACE = '\uE00D';
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

const TERMS_LV = 'Atslēgu nedrīkst nodot citām personām. Nozaudējot nekavējoties ziņojiet birojam.';
const TERMS_EN = 'The key may not be passed on. Report a lost key to the office at once.';

/** A register with a person who may take keys 101–103, and the set "Ring A" (101, 102). */
function office(prefix, handover = {}) {
  const reg = register(prefix, {
    config: { site_name: 'Birojs Zaļā ielā', handover: { terms_lv: TERMS_LV, terms_en: TERMS_EN, ...handover } },
    // receipt() asks for receipts that are not there: keep the CLI's refusal off the log.
    cli: { stdio: 'pipe' },
  });
  const { cli } = reg;
  cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1001', '--department', 'Grāmatvedība');
  cli('key', 'add', '101', '--name', 'Telpa 204', '--location', 'Skapis A');
  cli('key', 'add', '102', '--name', 'Arhīvs', '--location', 'Skapis A');
  cli('key', 'add', '103', '--name', 'Serveru telpa', '--location', 'Skapis B');
  cli('group', 'add', 'Visi');
  cli('group', 'allow', 'Visi', '101', '102', '103');
  cli('group', 'member', 'Visi', 'E-1001');
  cli('set', 'add', 'Ring A', '--keys', '101,102', '--tag', 'R-1');
  return reg;
}

/** The receipt `n` as the CLI reads it, or null when there is none. */
function receipt(cli, n) {
  try { return JSON.parse(cli('--json', 'receipt', 'show', String(n))); } catch { return null; }
}

/** A key's status as the CLI reads it. */
function keyStatus(cli, number) {
  return JSON.parse(cli('--json', 'key', 'list')).find((k) => k.number === number).status;
}

/**
 * Sets the window's language. The webview's storage (where the language is kept) is
 * shared by every window of the app on this machine: a test that switches it sets it
 * back, and each test here starts by choosing Latvian.
 * @param {string} lang
 */
function language(app, lang) {
  return app.exec("const s = document.getElementById('lang-select'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));", lang);
}

async function openDesk(app) {
  await app.press('Izsniegšana');
  await app.waitVisible('#desk-input');
  await waitFor(async () => (await app.focusedId()) === 'desk-input', 'the scan field focused');
}

/** Waits for the signature pad with the focus on its canvas; returns its title. */
async function padOpen(app) {
  await app.waitVisible('#signature-dialog');
  await waitFor(async () => (await app.focusedId()) === 'signature-canvas', 'the focus on the pad');
  return app.text('#signature-title');
}

/**
 * Draws two strokes on the pad with W3C pointer actions (a mouse: press, move, release),
 * offsets from the canvas's centre.
 */
async function drawSignature(app) {
  const canvas = await app.find('css selector', '#signature-canvas');
  const origin = { [ELEMENT]: canvas };
  const stroke = (points) => [
    { type: 'pointerMove', origin, x: points[0][0], y: points[0][1], duration: 0 },
    { type: 'pointerDown', button: 0 },
    ...points.slice(1).map(([x, y]) => ({ type: 'pointerMove', origin, x, y, duration: 40 })),
    { type: 'pointerUp', button: 0 },
  ];
  const wave = [];
  for (let i = 0; i <= 24; i++) wave.push([-220 + i * 16, Math.round(Math.sin(i / 2) * 35)]);
  await app.req('POST', '/actions', {
    actions: [{
      type: 'pointer', id: 'pen', parameters: { pointerType: 'mouse' },
      actions: [...stroke(wave), ...stroke([[-180, 40], [-120, -30], [-60, 45], [0, -20], [60, 30]])],
    }],
  });
  await app.req('DELETE', '/actions');
}

/**
 * Shows the receipt as it would print (the page's print preview class), saves a
 * screenshot of it, and returns its text.
 */
async function printedPage(app, label) {
  await app.exec("document.body.classList.add('receipt-preview'); window.scrollTo(0, 0);");
  await waitFor(() => app.exec("const i = document.querySelector('#receipt-print img'); return !i || (i.complete && i.naturalWidth > 0);"), 'the signature image');
  const text = await app.text('#receipt-print');
  await app.screenshot(label);
  // The whole sheet (an A4 page is taller than the window), where the driver can.
  try {
    const sheet = await app.find('css selector', '#receipt-print');
    const b64 = await app.req('GET', `/element/${sheet}/screenshot`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    writeFileSync(join(SCREENSHOTS, `${app.name}-${label}-sheet.png`), Buffer.from(b64, 'base64'));
  } catch { /* the window's screenshot above is enough */ }
  await app.exec("document.body.classList.remove('receipt-preview');");
  return text;
}

test('a signed issue, a repeat scan ignored, a set by its tag, receipts printed and saved', { timeout: 300000 }, async () => {
  const { data, cli } = office('atslegas-e2e-handover-');
  const saves = mkdtempSync(join(tmpdir(), 'atslegas-e2e-handover-pdf-'));
  // WebDriver cannot click the system's save and print dialogs: the debug build's
  // stand-ins answer the save dialog with a file in `saves` and skip the print dialog.
  const app = await App.start({ name: 'handover', dataDir: data, env: { ATSLEGAS_E2E_DIALOG_DIR: saves, ATSLEGAS_E2E_NO_PRINT: '1' } });
  try {
    await language(app, 'lv');
    await app.signIn();
    await openDesk(app);
    await app.keys(`E-1001${ENTER}`);
    await waitFor(async () => (await app.text('#desk-person') || '').includes('Jānis Bērziņš'), 'the person chosen');

    // A key scan: the pad opens with the focus and says what will happen; nothing yet.
    await app.keys(`103${ENTER}`);
    assert.equal(await padOpen(app), 'Izsniegt atslēgu 103 personai Jānis Bērziņš');
    assert.match(await app.text('#signature-hint'), /Paraksts nav obligāts/);
    assert.equal(keyStatus(cli, '103'), 'available', 'nothing is issued before the pad is accepted');
    await app.screenshot('01-pad-open');
    await drawSignature(app);
    await waitFor(() => app.exec("return document.querySelector('.signature-area').classList.contains('signed')"), 'the strokes drawn');
    await app.screenshot('02-pad-signed');
    await app.keys(ENTER);
    await app.waitVisible('#signature-dialog', false);
    await waitFor(async () => /Izsniegta atslēga 103 → Jānis Bērziņš · Kvīts Nr\. 1/.test(await app.text('#desk-message')), 'the issue with its receipt');
    assert.equal(await app.focusedId(), 'desk-input', 'the scan field has the focus again');
    assert.match(await app.text('#desk-journal'), /Kvīts Nr\. 1/);
    assert.match(await app.text('#desk-receipt'), /Kvīts Nr\. 1/);
    const first = receipt(cli, 1);
    assert.equal(first.signed, true);
    assert.match(first.signature, /^<svg[^>]*viewBox="0 0 600 200"[^>]*><path d="M[\d. ]+L/);
    assert.deepEqual(first.keys.map((k) => k.number), ['103']);
    assert.equal(keyStatus(cli, '103'), 'issued');

    // The scanner reads the same key again at once: ignored, and the Desk says so.
    await app.keys(`103${ENTER}`);
    await waitFor(async () => /Skenējums ignorēts: atslēga 103 tikko izsniegta personai Jānis Bērziņš/.test(await app.text('#desk-message')), 'the repeat said');
    assert.equal(await app.exec("return !!document.querySelector('dialog[open]')"), false, 'no pad for a repeat');
    assert.equal(receipt(cli, 2), null, 'no handover for a repeat');
    assert.equal(keyStatus(cli, '103'), 'issued', 'a repeat is not a return');
    await app.screenshot('03-desk-repeat-ignored');

    // A set by its tag: one pad for both keys, Enter on the empty pad goes on (no signature
    // is required here), one receipt.
    await app.keys(`R-1${ENTER}`);
    assert.equal(await padOpen(app), 'Izsniegt komplektu “Ring A” (atslēgas 101, 102) personai Jānis Bērziņš');
    await app.keys(ENTER);
    await waitFor(async () => /Izsniegts komplekts “Ring A” \(101, 102\) → Jānis Bērziņš · Kvīts Nr\. 2/.test(await app.text('#desk-message')), 'the set issued');
    assert.equal(await app.focusedId(), 'desk-input');
    const second = receipt(cli, 2);
    assert.equal(second.set_name, 'Ring A');
    assert.deepEqual(second.keys.map((k) => k.number), ['101', '102']);
    assert.equal(second.signed, false);
    await app.keys(`R-1${ENTER}`);
    await waitFor(async () => /Skenējums ignorēts: komplekts “Ring A” tikko izsniegts/.test(await app.text('#desk-message')), 'the set repeat said');
    assert.equal(receipt(cli, 3), null);
    await app.screenshot('04-desk-set-issued');

    // Print from the Desk: A4 with two copies, then the 80 mm roll, which is a copy now.
    await app.click(await app.find('css selector', '#desk-receipt-actions-a4'));
    await waitFor(async () => /Kvīts Nr\. 2 nosūtīta drukāšanai\./.test(await app.text('#desk-receipt-actions-status')), 'printed');
    assert.equal(receipt(cli, 2).printed, 1, 'the print is counted');
    assert.equal(await app.focusedId(), 'desk-input', 'after printing, the next scan goes to the scan field');
    let page = await printedPage(app, '05-receipt-a4');
    for (const want of ['Birojs Zaļā ielā', 'Izsniegšanas kvīts Nr. 2', 'Saņēmēja eksemplārs', 'Biroja eksemplārs', 'griezt šeit',
      'Jānis Bērziņš · E-1001 · Grāmatvedība', 'Ring A', 'Telpa 204', 'Arhīvs', 'Skapis A', TERMS_LV, 'nav parakstīts', second.audit_hash, 'root']) {
      assert.ok(page.includes(want), `the A4 receipt shows ${want}:\n${page}`);
    }
    assert.doesNotMatch(page, /Kopija/i, 'the first print is the original');
    assert.equal((page.match(/Izsniegšanas kvīts Nr\. 2/g) || []).length, 2, 'two copies on the A4 page');
    await app.click(await app.find('css selector', '#desk-receipt-actions-80mm'));
    await waitFor(async () => /nosūtīta drukāšanai kā kopija/.test(await app.text('#desk-receipt-actions-status')), 'the reprint');
    page = await printedPage(app, '06-receipt-80mm-copy');
    assert.match(page, /Kopija/i);
    assert.equal((page.match(/Izsniegšanas kvīts Nr\. 2/g) || []).length, 1, 'one copy on the roll');
    assert.equal(await app.exec("return document.getElementById('receipt-print').classList.contains('layout-80mm')"), true);

    // The key log: the row of key 103 names its receipt; print it (the signature shown as
    // an image) and save it as PDF.
    await app.press('Žurnāli');
    await waitFor(async () => (await app.text('#view tbody') || '').includes('Kvīts 1'), 'the receipt in the key log');
    await app.screenshot('07-keylog-receipts');
    await app.press('Kvīts 1');
    await waitFor(async () => /parakstīts/.test(await app.text('#receipt-facts') || ''), 'the receipt facts');
    await app.click(await app.find('css selector', '#log-receipt-actions-a4'));
    await waitFor(async () => /Kvīts Nr\. 1 nosūtīta drukāšanai\./.test(await app.text('#log-receipt-actions-status')), 'printed from the log');
    page = await printedPage(app, '08-receipt-a4-signed');
    assert.ok(page.includes('Izsniegšanas kvīts Nr. 1') && page.includes('Serveru telpa'), page);
    assert.doesNotMatch(page, /nav parakstīts/);
    assert.equal(await app.exec("return document.querySelectorAll('#receipt-print img.rc-signature').length"), 2, 'the signature on both copies');
    assert.match(await app.exec("return document.querySelector('#receipt-print img.rc-signature').src"), /^data:image\/svg\+xml/);
    await app.click(await app.find('css selector', '#log-receipt-actions-80mm'));
    await waitFor(async () => /kā kopija/.test(await app.text('#log-receipt-actions-status')), 'the reprint from the log');
    page = await printedPage(app, '09-receipt-80mm-signed-copy');
    assert.match(page, /Kopija/i);
    await app.click(await app.find('css selector', '#log-receipt-actions-pdf'));
    const pdf = join(saves, 'kvits-1.pdf');
    await waitFor(async () => (await app.text('#log-receipt-actions-status') || '').includes(pdf), 'the PDF saved');
    assert.ok(existsSync(pdf));
    assert.equal(readFileSync(pdf).subarray(0, 5).toString(), '%PDF-');
    assert.equal(receipt(cli, 1).printed, 3, 'two prints and one PDF counted');
    // The 80 mm roll saves as PDF too, beside the A4 file.
    await app.click(await app.find('css selector', '#log-receipt-actions-pdf-80mm'));
    const roll = join(saves, 'kvits-1-80mm.pdf');
    await waitFor(async () => (await app.text('#log-receipt-actions-status') || '').includes(roll), 'the 80 mm PDF saved');
    assert.equal(readFileSync(roll).subarray(0, 5).toString(), '%PDF-');
    assert.equal(receipt(cli, 1).printed, 4);
    await app.screenshot('10-log-receipt-saved');
  } finally {
    await app.stop();
  }
});

test('a required signature: an empty pad and Enter is refused, Esc clears then cancels, nothing is issued', { timeout: 300000 }, async () => {
  const { data, cli } = office('atslegas-e2e-handover-required-', { require_signature: 'issue' });
  const app = await App.start({ name: 'handover-required', dataDir: data });
  try {
    await language(app, 'lv');
    await app.signIn();
    await openDesk(app);
    await app.keys(`E-1001${ENTER}`);
    await waitFor(async () => (await app.text('#desk-person') || '').includes('Jānis Bērziņš'), 'the person chosen');
    await app.keys(`101${ENTER}`);
    await padOpen(app);
    assert.match(await app.text('#signature-hint'), /Paraksts ir obligāts/);
    await app.keys(ENTER);
    await waitFor(async () => /paraksts ir obligāts/.test(await app.text('#signature-error') || ''), 'the refusal on the pad');
    assert.equal(await app.exec("return document.getElementById('signature-dialog').open"), true, 'the pad stays open');
    assert.equal(await app.focusedId(), 'signature-canvas');
    await app.screenshot('01-pad-signature-required');

    // Esc clears what was drawn (the pad stays); Esc on the empty pad cancels.
    await drawSignature(app);
    await waitFor(() => app.exec("return document.querySelector('.signature-area').classList.contains('signed')"), 'the strokes drawn');
    await app.keys(ESCAPE);
    await waitFor(() => app.exec("return !document.querySelector('.signature-area').classList.contains('signed')"), 'the pad cleared');
    assert.equal(await app.exec("return document.getElementById('signature-dialog').open"), true);
    await app.keys(ESCAPE);
    await app.waitVisible('#signature-dialog', false);
    await waitFor(async () => /Atcelts: nekas netika izsniegts/.test(await app.text('#desk-message')), 'the cancel said');
    assert.equal(await app.focusedId(), 'desk-input');
    assert.equal(keyStatus(cli, '101'), 'available');
    assert.equal(receipt(cli, 1), null);

    // The core refuses it too, whatever the page sends.
    const refused = await app.invoke('desk_hand_over', { args: { text: '101', personId: 1 } });
    assert.equal(refused.refused.code, 'signature_required');
    assert.equal(keyStatus(cli, '101'), 'available');

    // Signed, it goes.
    await app.keys(`101${ENTER}`);
    await padOpen(app);
    await drawSignature(app);
    await app.press('Apstiprināt (Enter)');
    await waitFor(async () => /Izsniegta atslēga 101 → Jānis Bērziņš · Kvīts Nr\. 1/.test(await app.text('#desk-message')), 'the signed issue');
    assert.equal(receipt(cli, 1).signed, true);
  } finally {
    await app.stop();
  }
});

test('in English, an admin issues a key outside the group rights with a reason, then the pad', { timeout: 300000 }, async () => {
  const { data, cli } = office('atslegas-e2e-handover-override-');
  cli('key', 'add', '104', '--name', 'Katlu telpa');
  const app = await App.start({ name: 'handover-override', dataDir: data, env: { ATSLEGAS_E2E_NO_PRINT: '1' } });
  try {
    await language(app, 'lv');
    await app.signIn();
    await language(app, 'en');
    await app.press('Desk');
    await waitFor(async () => (await app.focusedId()) === 'desk-input', 'the scan field focused');
    await app.keys(`E-1001${ENTER}`);
    await waitFor(async () => (await app.text('#desk-person') || '').includes('Jānis Bērziņš'), 'the person chosen');
    // No group allows key 104: refused before any pad, and the admin is offered the reason.
    await app.keys(`104${ENTER}`);
    await waitFor(async () => /has no right to key 104/.test(await app.text('#desk-message')), 'the refusal');
    assert.equal(await app.exec("return !!document.querySelector('dialog[open]')"), false, 'no pad for a refusal');
    await waitFor(async () => (await app.focusedId()) === 'desk-override-reason', 'the reason field');
    await app.keys(`Spare key for the boiler check${ENTER}`);
    assert.equal(await padOpen(app), 'Issue key 104 to Jānis Bērziņš');
    assert.match(await app.text('#signature-hint'), /A signature is optional/);
    await drawSignature(app);
    await app.screenshot('01-pad-english');
    await app.keys(ENTER);
    await waitFor(async () => /Issued key 104 → Jānis Bērziņš · Receipt no\. 1/.test(await app.text('#desk-message')), 'the issue');
    assert.equal(await app.focusedId(), 'desk-input');
    assert.equal(receipt(cli, 1).signed, true);
    assert.equal(keyStatus(cli, '104'), 'issued');
    const rows = cli('--json', 'keylog', '--start', '0', '--end', '4102444800');
    assert.match(rows, /Spare key for the boiler check/, 'the reason in the key log');
  } finally {
    await language(app, 'lv').catch(() => {});
    await app.stop();
  }
});

test('a set comes back without one key: unticked on the pad, it stays out and the Desk says so; both PDF layouts save', { timeout: 300000 }, async () => {
  const { data, cli } = office('atslegas-e2e-handover-missing-');
  const saves = mkdtempSync(join(tmpdir(), 'atslegas-e2e-handover-missing-pdf-'));
  const app = await App.start({ name: 'handover-missing', dataDir: data, env: { ATSLEGAS_E2E_DIALOG_DIR: saves, ATSLEGAS_E2E_NO_PRINT: '1' } });
  try {
    await language(app, 'lv');
    await app.signIn();
    await openDesk(app);
    await app.keys(`E-1001${ENTER}`);
    await waitFor(async () => (await app.text('#desk-person') || '').includes('Jānis Bērziņš'), 'the person chosen');
    // The ring goes out by its tag: an issue has no checklist.
    await app.keys(`R-1${ENTER}`);
    await padOpen(app);
    assert.equal(await app.exec("return document.getElementById('signature-keys').hidden"), true, 'no checklist for an issue');
    await app.keys(ENTER);
    await waitFor(async () => /Izsniegts komplekts “Ring A” \(101, 102\) → Jānis Bērziņš · Kvīts Nr\. 1/.test(await app.text('#desk-message')), 'the set issued');

    // A due time that is not a date shows its error; finishing with the person (Esc)
    // empties the field and its error with it.
    const dueInput = await app.find('css selector', '#desk-due');
    await app.type(dueInput, '31.02.2026');
    await app.click(await app.find('css selector', '#desk-comment'));
    await waitFor(async () => (await app.text('#desk-due-error') || '') !== '', 'the due error');
    await app.click(await app.find('css selector', '#desk-input'));
    await app.keys(ESCAPE);
    await waitFor(async () => /Persona nav izvēlēta/.test(await app.text('#desk-person') || ''), 'the person finished');
    assert.equal(await app.exec("return document.getElementById('desk-due').value"), '');
    assert.equal(await app.text('#desk-due-error'), '', 'the due error went with the value');
    assert.equal(await app.exec("return document.getElementById('desk-due').getAttribute('aria-invalid')"), null);

    // With no person chosen the tag brings the ring back: the pad lists its keys, ticked.
    await app.click(await app.find('css selector', '#desk-input'));
    await app.keys(`R-1${ENTER}`);
    assert.equal(await padOpen(app), 'Pieņemt atpakaļ komplektu “Ring A” (atslēgas 101, 102)');
    assert.match(await app.text('#signature-keys'), /Atgrieztās atslēgas/);
    assert.deepEqual(await app.exec("return [...document.querySelectorAll('#signature-keys input')].map((b) => [b.value, b.checked])"),
      [['101', true], ['102', true]]);
    // The keyboard: Tab from the pad to the list, Space unticks; both unticked and
    // Enter: the core refuses (nothing would come back) and the pad stays open.
    await app.keys(TAB);
    await waitFor(async () => (await app.focusedId()) === 'signature-key-101', 'the focus on the first key');
    await app.keys(SPACE);
    await app.keys(TAB);
    await waitFor(async () => (await app.focusedId()) === 'signature-key-102', 'the focus on the second key');
    await app.keys(SPACE);
    assert.deepEqual(await app.exec("return [...document.querySelectorAll('#signature-keys input')].map((b) => b.checked)"), [false, false]);
    // The core's refusal shows at once, and again on Enter; the pad stays open.
    await waitFor(async () => /nekas netiktu atgriezts/.test(await app.text('#signature-error') || ''), 'the refusal on the pad');
    await app.keys(ENTER);
    await sleep(300);
    assert.match(await app.text('#signature-error'), /nekas netiktu atgriezts/);
    assert.equal(await app.exec("return document.getElementById('signature-dialog').open"), true, 'the pad stays open');
    assert.equal(await app.focusedId(), 'signature-key-101', 'back on the list');
    assert.equal(receipt(cli, 2), null, 'nothing returned');
    await app.screenshot('01-pad-ring-nothing-back');
    // 101 came back after all: ticked again; 102 stays out. Signed, then Enter.
    await app.keys(SPACE);
    await waitFor(async () => (await app.text('#signature-error') || '') === '', 'the refusal gone');
    assert.match(await app.text('#signature-still-out'), /Atslēga 102 nav atgriezta: tā paliks izsniegta personai Jānis Bērziņš/);
    await drawSignature(app);
    await waitFor(() => app.exec("return document.querySelector('.signature-area').classList.contains('signed')"), 'the strokes drawn');
    await app.screenshot('02-pad-ring-checklist');
    await app.click(await app.find('css selector', '#signature-key-101'));
    await waitFor(() => app.exec("return !document.getElementById('signature-key-101').checked"), 'a click unticks');
    await app.click(await app.find('css selector', '#signature-key-101'));
    await waitFor(() => app.exec("return document.getElementById('signature-key-101').checked"), 'a click ticks');
    await app.keys(ENTER);
    await app.waitVisible('#signature-dialog', false);
    const said = 'Atgriezta komplekta “Ring A” atslēga 101 (Jānis Bērziņš) · Kvīts Nr. 2\nAtslēga 102 nav atgriezta: joprojām izsniegta personai Jānis Bērziņš.';
    // textContent: the webview's innerText drops the message's line break (white-space: pre-line).
    const message = () => app.exec("return document.getElementById('desk-message').textContent");
    await waitFor(async () => (await message()) === said, 'the return with the key still out')
      .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await message())}`); });
    assert.match(await app.text('#desk-journal'), /Atslēga 102 nav atgriezta: joprojām izsniegta personai Jānis Bērziņš/);
    assert.equal(await app.focusedId(), 'desk-input');
    await app.screenshot('03-desk-ring-partly-back');

    // The register: the receipt lists what came back; 102 is still out to Jānis.
    const back = receipt(cli, 2);
    assert.equal(back.kind, 'return');
    assert.equal(back.signed, true);
    assert.deepEqual(back.keys.map((k) => k.number), ['101']);
    assert.equal(keyStatus(cli, '101'), 'available');
    assert.equal(keyStatus(cli, '102'), 'issued');
    // The key log in the reference's shape (its actions in Latvian): 101 and 102 went
    // out, only 101 came back.
    const rows = JSON.parse(cli('--json', 'keylog', '--start', '0', '--end', '4102444800'));
    assert.deepEqual(rows.map((r) => [r.action, r.keyNumber]), [['Izsniegts', '101'], ['Izsniegts', '102'], ['Atgriezti', '101']]);
    const holder = JSON.parse(cli('--json', 'key', 'list')).find((k) => k.number === '102');
    assert.equal(holder.holder_name, 'Jānis Bērziņš');

    // Both layouts save as PDF, side by side.
    await app.click(await app.find('css selector', '#desk-receipt-actions-pdf'));
    const a4 = join(saves, 'kvits-2.pdf');
    await waitFor(async () => (await app.text('#desk-receipt-actions-status') || '').includes(a4), 'the A4 PDF saved');
    await app.click(await app.find('css selector', '#desk-receipt-actions-pdf-80mm'));
    const roll = join(saves, 'kvits-2-80mm.pdf');
    await waitFor(async () => (await app.text('#desk-receipt-actions-status') || '').includes(roll), 'the 80 mm PDF saved');
    assert.equal(await app.focusedId(), 'desk-input');
    for (const f of [a4, roll]) assert.equal(readFileSync(f).subarray(0, 5).toString(), '%PDF-', f);
    assert.notDeepEqual(readFileSync(a4), readFileSync(roll), 'two layouts, two files');
    assert.equal(receipt(cli, 2).printed, 2, 'each save counted');
    await app.screenshot('04-desk-receipt-pdf-80mm');

    // The key that did not come back is reported lost on the spot, with its reason.
    assert.match(await app.text('#desk-missing'), /Nav atgrieztas \(joprojām izsniegtas personai Jānis Bērziņš\)/);
    await app.click(await app.find('css selector', '#desk-missing button'));
    await app.fill('Iemesls: kas, kā un kad to pazaudēja', 'Pazaudēta ceļā uz darbu');
    await app.press('Pieteikt kā nozaudētu');
    await waitFor(async () => /102\s*nozaudēta/.test(await app.text('#desk-missing') || ''), 'key 102 marked lost at the Desk');
    assert.equal(keyStatus(cli, '102'), 'lost');
    const lostRow = JSON.parse(cli('--json', 'key', 'history', '102'))[0];
    assert.equal(lostRow.action, 'lost');
    assert.equal(lostRow.comment, 'Pazaudēta ceļā uz darbu');
    assert.equal(lostRow.person_name, 'Jānis Bērziņš', 'who had it');
    assert.equal(await app.focusedId(), 'desk-input');
    await app.screenshot('05-desk-missing-key-reported-lost');

    // Later the lost key turns up and is scanned: the Desk offers to report it found,
    // and then it can be handed out again.
    await app.keys(`102${ENTER}`);
    await app.waitVisible('#desk-found');
    assert.match(await app.text('#desk-missing'), /Atslēga 102 reģistrā ir nozaudēta/);
    await app.click(await app.find('css selector', '#desk-found'));
    await app.fill('Kur tā atrasta', 'Zem galda');
    await app.press('Atzīmēt kā atrastu');
    await waitFor(async () => /Atslēga 102 pieteikta kā atrasta/.test(await app.text('#desk-message') || ''), 'key 102 found at the Desk');
    assert.equal(keyStatus(cli, '102'), 'available');
    assert.equal(JSON.parse(cli('--json', 'key', 'history', '102'))[0].comment, 'Zem galda');
    await app.screenshot('06-desk-lost-key-found');
  } finally {
    await app.stop();
  }
});
