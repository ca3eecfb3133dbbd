// End to end, the office admin's day in the real window: set up, add a group, a person
// with a Latvian name and two keys through the screens; issue at the Desk with the
// keyboard only; see it in "keys out" and today's calendar; be refused a double issue;
// return it; search "berzins"; switch the language; sign out (the cache goes); and a
// viewer cannot open Users. Screenshots of every screen go to tests/e2e/screenshots/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { App, waitFor } from './webdriver.mjs';

const ENTER = '\uE007';

/** Today's cell of the calendar strip, as {issued, returned} read from its label. */
async function todayCounts(app) {
  const label = await app.exec("return document.querySelector('.day.today').getAttribute('aria-label')");
  const n = (word) => Number(new RegExp(`${word} (\\d+)`).exec(label)[1]);
  return { issued: n('Izsniegti'), returned: n('Atgriezti') };
}

async function nav(app, text) {
  await app.press(text);
  await app.waitVisible('#view h1');
  await waitFor(async () => (await app.text('#view h1')) === text, `the ${text} screen`);
}

/** Waits until the screen's table shows `text`; `what` names it if it does not. */
async function inTheList(app, text, what) {
  await waitFor(async () => (await app.text('#view tbody') || '').includes(text), what);
}

/** Waits for the Desk's signature pad with the focus on it, and accepts it empty with Enter. */
async function signOnPad(app) {
  await app.waitVisible('#signature-dialog');
  await waitFor(async () => (await app.focusedId()) === 'signature-canvas', 'the focus on the signature pad');
  await app.keys(ENTER);
  await app.waitVisible('#signature-dialog', false);
}

/** Opens a new person's form with the name and code filled (the caller adds the rest and saves). */
async function newPerson(app, name, code) {
  await app.press('Jauna persona');
  await app.fill('Vārds, uzvārds', name);
  await app.fill('Personas kods / darba nr.', code);
}

test('an office day: setup, data, desk issue and return, calendar, search, language, roles', { timeout: 300000 }, async () => {
  const app = await App.start({ name: 'dashboard' });
  try {
    await app.waitVisible('#screen-setup');
    await app.createRoot();
    await app.waitVisible('#screen-app');
    await app.waitVisible('.calendar');
    assert.equal(await app.exec("return document.querySelectorAll('.calendar .day').length"), 37);
    assert.match(await app.text('#keys-out-panel'), /neviena atslēga nav izsniegta/);
    // The dashboard marks the frame that painted its data: scripts/measure-window.mjs
    // times a sign-in to it.
    await waitFor(() => app.exec("return performance.getEntriesByName('dashboard-painted', 'mark').length === 1"),
      'the dashboard-painted mark');
    await app.screenshot('01-dashboard-empty');

    // Keys: the empty state says what to do; add two keys.
    await nav(app, 'Atslēgas');
    await waitFor(async () => /pievienojiet pirmo/.test(await app.text('#view')), 'the empty state');
    await app.screenshot('02-keys-empty');
    for (const [number, room] of [['101', 'Telpa 204'], ['102', 'Arhīvs']]) {
      await app.press('Jauna atslēga');
      await app.fill('Numurs', number);
      await app.fill('Telpa', room);
      await app.press('Saglabāt');
      await inTheList(app, number, `key ${number} in the list`);
    }
    // A duplicate number is refused next to the field.
    await app.press('Jauna atslēga');
    await app.fill('Numurs', '101');
    await app.press('Saglabāt');
    await app.waitVisible('#f-number-error');
    assert.match(await app.text('#f-number-error'), /101/);
    await app.screenshot('03-keys-duplicate-refused');
    await app.press('Atcelt');

    // Persons: a Latvian name, with a code a scanner would read.
    await nav(app, 'Personas');
    await newPerson(app, 'Jānis Bērziņš', 'E-1001');
    await app.fill('Nodaļa', 'Grāmatvedība');
    await app.press('Saglabāt');
    await inTheList(app, 'Jānis Bērziņš', 'the person in the list');
    await newPerson(app, 'Ģirts Ķēniņš', 'E-1002');
    // A bad value is refused by the core and explained next to its field, in Latvian.
    await app.fill('E-pasts', 'girts-bez-domena');
    await app.press('Saglabāt');
    await waitFor(async () => (await app.text('dialog[open]') || '').includes('“girts-bez-domena” nav e-pasta adrese.'), 'the e-mail rule in Latvian');
    await app.screenshot('04a-person-invalid-email');
    await app.fill('E-pasts', 'girts@example.lv');
    await app.press('Saglabāt');
    await inTheList(app, 'Ģirts Ķēniņš', 'the second person');
    await app.screenshot('04-persons');

    // Groups: the person may receive key 101 (not 102).
    await nav(app, 'Grupas');
    await app.press('Jauna grupa');
    await app.fill('Nosaukums', 'Grāmatvedība');
    await app.press('Saglabāt');
    await app.waitVisible('#group-detail');
    await app.fill('Pievienot personu (meklēt)', 'berz');
    await app.press('+ Jānis Bērziņš (E-1001)');
    await waitFor(async () => (await app.text('#group-members') || '').includes('Jānis Bērziņš'), 'the member');
    await app.fill('Atļaut atslēgas (numuri)', '101');
    await app.press('Atļaut');
    await waitFor(async () => (await app.text('#group-keys') || '').includes('101'), 'the allowed key');
    await app.screenshot('05-groups');

    // Desk, keyboard only: person code, Enter, key number, Enter.
    await nav(app, 'Izsniegšana');
    assert.equal(await app.focusedId(), 'desk-input');
    await app.keys(`E-1001${ENTER}`);
    await waitFor(async () => (await app.text('#desk-person') || '').includes('Jānis Bērziņš'), 'the person chosen');
    assert.equal(await app.focusedId(), 'desk-input');
    await app.keys(`101${ENTER}`);
    // The signature pad opens with the focus; Enter on the empty pad goes on (no
    // signature is required by default).
    await signOnPad(app);
    await waitFor(async () => /Izsniegta atslēga 101/.test(await app.text('#desk-message')), 'the issue confirmed');
    assert.equal(await app.focusedId(), 'desk-input');
    // Key 102 is outside the person's rights: refused inline, with what to do.
    await app.keys(`102${ENTER}`);
    await waitFor(async () => /nav tiesību/.test(await app.text('#desk-message')), 'the refusal');
    await app.screenshot('06-desk-issued-and-refused');
    await app.keys('\uE00C'); // Escape: finish with this person
    await waitFor(async () => /nav izvēlēta/.test(await app.text('#desk-person')), 'no person chosen');

    // Issuing the same key again (to someone else) is refused: it is out.
    await app.keys(`E-1002${ENTER}`);
    await waitFor(async () => (await app.text('#desk-person') || '').includes('Ģirts Ķēniņš'), 'the second person chosen');
    await app.keys(`101${ENTER}`);
    await waitFor(async () => /jau ir izsniegta: to tur Jānis Bērziņš/.test(await app.text('#desk-message')), 'the double-issue refusal');
    await app.screenshot('07-desk-double-issue-refused');
    await app.keys('\uE00C');

    // Dashboard: the key is out and today's count says one issued.
    await nav(app, 'Pārskats');
    await waitFor(async () => (await app.text('#keys-out-panel') || '').includes('Jānis Bērziņš'), 'the key in keys out');
    assert.equal(await app.text('#stat-keys-out .stat-value'), '1');
    assert.deepEqual(await todayCounts(app), { issued: 1, returned: 0 });
    assert.match(await app.text('#day-panel'), /101[\s\S]*Jānis Bērziņš[\s\S]*root/);
    await app.screenshot('08-dashboard-key-out');

    // The core refuses it too, whatever the page sends.
    const again = await app.invoke('desk_hand_over', { args: { text: '101', personId: 2 } });
    assert.equal(again.refused.code, 'key_already_issued');

    // Return: scan the key with no person chosen.
    await nav(app, 'Izsniegšana');
    await app.keys(`101${ENTER}`);
    await signOnPad(app);
    await waitFor(async () => /Atgriezta atslēga 101/.test(await app.text('#desk-message')), 'the return confirmed');
    await nav(app, 'Pārskats');
    await waitFor(async () => (await todayCounts(app)).returned === 1, 'the returned count');
    assert.deepEqual(await todayCounts(app), { issued: 1, returned: 1 });
    await app.screenshot('08-dashboard-returned');

    // Search without diacritics finds the Latvian name (in the core's index).
    await nav(app, 'Personas');
    await app.fill('Meklēt personas', 'berzins');
    await inTheList(app, 'Jānis Bērziņš', 'the search result');
    await app.fill('Meklēt personas', 'kalnins');
    await waitFor(async () => /Personu vēl nav/.test(await app.text('#view')), 'no match');

    // Logs: the key log and the audit trail with before/after.
    await nav(app, 'Žurnāli');
    await inTheList(app, 'Atgriezts', 'the key log');
    await app.screenshot('09-logs-keylog');
    await app.press('Audita žurnāls');
    await inTheList(app, 'atgriešana', 'the audit trail, in Latvian');
    await app.screenshot('10-logs-audit');
    // Filtered by an operation chosen by its Latvian name.
    await app.exec("const s = document.getElementById('au-operation'); s.value = 'return'; s.dispatchEvent(new Event('change'))");
    assert.equal(await app.exec("const s = document.getElementById('au-operation'); return s.options[s.selectedIndex].text"), 'atgriešana');
    await app.press('Meklēt');
    await waitFor(async () => {
      const ops = await app.exec("return [...document.querySelectorAll('#view tbody tr')].map((r) => r.cells[5].textContent)");
      return ops.length === 1 && ops[0] === 'atgriešana';
    }, 'only the return in the audit trail');

    // Users: an admin adds a viewer.
    await nav(app, 'Lietotāji');
    await app.press('Jauns lietotājs');
    await app.fill('Lietotājvārds', 'skatitajs');
    await app.exec("document.getElementById('f-role').value = 'viewer'");
    await app.fill('Parole', 'Skatītāja-Parole-1');
    await app.press('Saglabāt');
    await inTheList(app, 'skatitajs', 'the new user');
    await app.screenshot('11-users');

    // Settings and About.
    await nav(app, 'Iestatījumi');
    // The integrity check reads the whole file, so it runs when asked, not on every visit.
    assert.match(await app.text('#integrity'), /vēl nav pārbaudīts/);
    await app.press('Pārbaudīt tagad');
    await waitFor(async () => /kārtībā \(pārbaudīts /.test(await app.text('#integrity')), 'the integrity check');
    assert.match(await app.text('#integrity-check'), /Pārbaudīt vēlreiz/);
    await app.exec("document.getElementById('integrity').scrollIntoView({ block: 'center' })");
    await app.screenshot('12-settings-about');

    // Switch the language: every visible label changes.
    await app.exec("const s = document.getElementById('lang-select'); s.value = 'en'; s.dispatchEvent(new Event('change'));");
    await waitFor(async () => (await app.text('#view h1')) === 'Settings', 'English');
    assert.match(await app.text('#nav'), /Dashboard[\s\S]*Desk[\s\S]*Keys/);
    await app.press('Dashboard');
    await waitFor(async () => /Keys out now/.test(await app.text('#view')), 'the English dashboard');
    await app.screenshot('13-dashboard-english');
    await app.exec("const s = document.getElementById('lang-select'); s.value = 'lv'; s.dispatchEvent(new Event('change'));");

    // Sign out: the cache is gone.
    assert.notEqual(await app.exec("return localStorage.getItem('atslegas_keys_v1')"), null);
    assert.deepEqual(await app.signOut(), []);

    // A viewer sees no Users screen, and the core refuses the call anyway.
    await app.signIn('skatitajs', 'Skatītāja-Parole-1');
    const navText = await app.text('#nav');
    assert.doesNotMatch(navText, /Lietotāji/);
    assert.doesNotMatch(navText, /Izsniegšana/);
    const refused = await app.invoke('list_users');
    assert.equal(refused.refused.code, 'not_allowed');
    const issue = await app.invoke('desk_hand_over', { args: { text: '101', personId: 1 } });
    assert.equal(issue.refused.code, 'not_allowed');
    await nav(app, 'Atslēgas');
    assert.equal(await app.exec("return [...document.querySelectorAll('button')].some(b => b.textContent === 'Jauna atslēga')"), false);
    await app.screenshot('14-viewer-keys');
  } finally {
    await app.stop();
  }
});
