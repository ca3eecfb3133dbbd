// End to end, what a new user tripped over (issue 13): a message (toast) that outlived
// sign-out; a register never backed up that said "older than 7 days", and a viewer told
// to make a backup a viewer cannot make; date fields that followed the system's locale
// (mm/dd/yyyy under English) instead of the app's dd.mm.yyyy; the dashboard's day list
// without the exception (override) reason; and the 37-day strip half-cutting its first
// day at 1280 px. Screenshots go to tests/e2e/screenshots/first_use-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { App, register, waitFor } from './webdriver.mjs';

const ENTER = '\uE007';
const VIEWER_PW = 'Skats-Pa-Logu-42';

async function nav(app, text) {
  await app.press(text);
  await waitFor(async () => (await app.text('#view h1')) === text, `the ${text} screen`);
}

/** Whether the status line (toast) is showing. */
function toastShown(app) {
  return app.exec("const e = document.getElementById('toast'); return !!e && !e.hidden && e.getClientRects().length > 0;");
}

test('a message ends with sign-out; the backup reminder says never and fits the role', { timeout: 300000 }, async () => {
  const { data } = register('atslegas-e2e-first-use-');
  const app = await App.start({ name: 'first_use', dataDir: data });
  try {
    await app.signIn();
    // A fresh register: never backed up (not "older than 7 days"); the admin may make one.
    await app.waitVisible('#stat-backup');
    assert.match(await app.text('#stat-backup'), /Nekad/);
    assert.match(await app.text('#backup-reminder'), /Šim reģistram vēl nav nevienas rezerves kopijas/);
    assert.doesNotMatch(await app.text('#stat-backup'), /Vecāka par/);
    await app.waitVisible('#backup-go');
    await app.screenshot('01-admin-never-backed-up');
    // Its button takes the admin to the Backups screen.
    await app.click(await app.find('css selector', '#backup-go'));
    await waitFor(async () => (await app.text('#view h1')) === 'Rezerves kopijas', 'the Backups screen');

    // A confirmation from creating a user is showing when the admin signs out...
    await nav(app, 'Lietotāji');
    await app.press('Jauns lietotājs');
    await app.fill('Lietotājvārds', 'skatitajs');
    await app.byLabel('Loma');
    await app.exec("const s = document.getElementById('f-role'); s.value = 'viewer'; s.dispatchEvent(new Event('change'));");
    await app.fill('Parole', VIEWER_PW);
    await app.press('Saglabāt');
    await waitFor(async () => /skatitajs saglabāts/.test(await app.text('#toast') || '') && toastShown(app), 'the user-created message');
    await app.screenshot('01b-user-created-message');
    await app.signOut();
    // ...and is gone at once with the session, not seconds later.
    assert.equal(await toastShown(app), false, 'the message outlived sign-out');
    await app.signIn('skatitajs', VIEWER_PW);
    await app.waitVisible('#stat-backup');
    assert.equal(await toastShown(app), false, 'the message showed again after the next sign-in');

    // A viewer is told to ask an admin, with no button a viewer cannot use.
    assert.match(await app.text('#backup-reminder'), /Palūdziet administratoram izveidot rezerves kopiju/);
    assert.equal(await app.exec("return document.getElementById('backup-go')"), null);
    await app.screenshot('02-viewer-ask-an-admin');
    // The same in English.
    await app.exec("const s = document.getElementById('lang-select'); s.value = 'en'; s.dispatchEvent(new Event('change'));");
    await waitFor(async () => /Ask an admin to make a backup/.test(await app.text('#backup-reminder') || ''), 'the English reminder');
    assert.match(await app.text('#backup-reminder'), /never been backed up/);
    await app.exec("const s = document.getElementById('lang-select'); s.value = 'lv'; s.dispatchEvent(new Event('change'));");
    await waitFor(async () => /Palūdziet/.test(await app.text('#backup-reminder') || ''), 'Latvian again');

    // An error stays until dismissed (not a few seconds), and goes with the screen.
    await app.exec("return import('./components.js').then(m => m.toast('Kļūda pārbaudei', 'error'))");
    await new Promise((r) => setTimeout(r, 6000));
    assert.equal(await toastShown(app), true, 'an error message vanished on its own');
    await nav(app, 'Žurnāli');
    assert.equal(await toastShown(app), false, 'an error message outlived its screen');
  } finally {
    await app.stop();
  }
});

test('dates follow the app, not the system locale; the day list shows the exception; the strip fits 1280 px', { timeout: 300000 }, async () => {
  const { data, cli } = register('atslegas-e2e-first-use-dates-');
  cli('person', 'add', '--name', 'Jānis Bērziņš', '--code', 'E-1');
  cli('person', 'add', '--name', 'Ilze Ozola', '--code', 'E-2');
  cli('key', 'add', '101', '--name', 'Telpa 204');
  cli('key', 'add', '102', '--name', 'Arhīvs');
  cli('group', 'add', 'Grāmatvedība');
  cli('group', 'allow', 'Grāmatvedība', '101');
  cli('group', 'member', 'Grāmatvedība', 'E-1');
  // Ilze may not take 102: an admin issues it anyway, with a reason.
  cli('issue', '102', '--to', 'E-2', '--override-reason', 'Avārija: ūdens noplūde arhīvā');

  // An English system locale, which made the old inputs read mm/dd/yyyy.
  const app = await App.start({ name: 'first_use', dataDir: data, env: { LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8', LC_TIME: 'en_US.UTF-8' } });
  try {
    await app.req('POST', '/window/rect', { width: 1280, height: 800 });
    await app.signIn();
    await app.waitVisible('#day-table');

    // The day list shows the exception reason, as the key log does.
    await waitFor(async () => /izņēmums: Avārija: ūdens noplūde arhīvā/.test(await app.text('#day-table') || ''), 'the override reason in the day list');

    // The strip at 1280 px: today in sight, every day either whole in view or out of it.
    const strip = await app.exec(`
      const s = document.querySelector('.calendar').getBoundingClientRect();
      const days = [...document.querySelectorAll('.calendar .day')].map(d => d.getBoundingClientRect());
      const today = document.querySelector('.calendar .day.today').getBoundingClientRect();
      const inside = (r) => r.left >= s.left - 0.5 && r.right <= s.right + 0.5;
      const outside = (r) => r.right <= s.left + 0.5 || r.left >= s.right - 0.5;
      return { width: window.innerWidth, shown: days.filter(inside).length,
        cut: days.filter(r => !inside(r) && !outside(r)).length, today: inside(today) };`);
    assert.equal(strip.width, 1280);
    assert.equal(strip.cut, 0, `a half-cut day in the strip: ${JSON.stringify(strip)}`);
    assert.ok(strip.today, 'today is not in sight');
    assert.ok(strip.shown >= 12, `only ${strip.shown} days shown`);
    await app.screenshot('03-dashboard-1280x800');

    // The Desk's due date: the app's form, not the system's (LANG=en_US), in both languages.
    await nav(app, 'Izsniegšana');
    const due = await app.exec(`const e = document.getElementById('desk-due');
      return { type: e.type, placeholder: e.placeholder, label: document.querySelector('label[for=desk-due]').textContent };`);
    assert.deepEqual(due, { type: 'text', placeholder: 'dd.mm.gggg hh:mm', label: 'Jāatdod līdz (neobligāti)' });
    await app.exec("const s = document.getElementById('lang-select'); s.value = 'en'; s.dispatchEvent(new Event('change'));");
    await waitFor(async () => (await app.exec("return document.getElementById('desk-due').placeholder")) === 'dd.mm.yyyy hh:mm', 'the English placeholder');
    await app.exec("const s = document.getElementById('lang-select'); s.value = 'lv'; s.dispatchEvent(new Event('change'));");
    await waitFor(async () => (await app.exec("return document.getElementById('desk-due').placeholder")) === 'dd.mm.gggg hh:mm', 'Latvian again');

    // Something not a date is said under the field.
    const dueEl = await app.find('css selector', '#desk-due');
    await app.type(dueEl, '12/31/2030 5:00 PM');
    await app.exec("document.getElementById('desk-due').blur()");
    await waitFor(async () => /Rakstiet datumu šādi: dd\.mm\.gggg hh:mm/.test(await app.text('#desk-due-error') || ''), 'the date-form message');
    await app.screenshot('04-desk-due-invalid');

    // A due date three days ahead at 17:00, typed short: shown in full, and the core gets it right.
    const when = new Date();
    when.setDate(when.getDate() + 3);
    when.setHours(17, 0, 0, 0);
    const dd = String(when.getDate()).padStart(2, '0');
    const mm = String(when.getMonth() + 1).padStart(2, '0');
    await app.type(dueEl, `${when.getDate()}.${when.getMonth() + 1}.${when.getFullYear()} 17:00`);
    await app.exec("document.getElementById('desk-due').blur()");
    assert.equal(await app.exec("return document.getElementById('desk-due').value"), `${dd}.${mm}.${when.getFullYear()} 17:00`);
    assert.equal(await app.text('#desk-due-error'), '');
    // The calendar button opens a month in the app's language; Escape closes it and
    // leaves the value (and the Desk's person) alone.
    await app.click(await app.find('css selector', '#desk-due-pick'));
    await app.waitVisible('.date-picker');
    assert.match(await app.text('.date-picker .pick-month'), /\d{4}/);
    // It opens on the month of the date typed, that day marked and focused.
    assert.equal(await app.exec("return document.activeElement.getAttribute('aria-label')"), `${dd}.${mm}.${when.getFullYear()}`);
    await app.screenshot('05-desk-due-typed-and-picker');
    await app.keys('\uE00C');
    await waitFor(() => app.exec("return document.querySelector('.date-picker') === null"), 'the calendar to close');
    assert.equal(await app.exec("return document.getElementById('desk-due').value"), `${dd}.${mm}.${when.getFullYear()} 17:00`);
    await app.type(await app.find('css selector', '#desk-input'), `E-1${ENTER}`);
    await waitFor(async () => /Jānis Bērziņš/.test(await app.text('#desk-person') || ''), 'the person chosen');
    await app.type(await app.find('css selector', '#desk-input'), `101${ENTER}`);
    // When the signature pad opens (no signature is required here), Enter goes on.
    await waitFor(async () => {
      if (/Izsniegta atslēga 101/.test(await app.text('#desk-message') || '')) return true;
      if (await app.exec("return !!document.querySelector('dialog[open]')")) await app.keys(ENTER);
      return false;
    }, 'key 101 issued', 30000);
    const keys = await app.invoke('list_keys', { args: { limit: 10 } });
    const k101 = keys.ok.find((k) => k.number === '101');
    assert.equal(k101.status, 'issued');
    assert.equal(k101.due_back_at, Math.floor(when.getTime() / 1000), 'the due date reached the core as typed (local time)');
    await nav(app, 'Pārskats');
    await waitFor(async () => (await app.text('#keys-out-table') || '').includes(`${dd}.${mm}.${when.getFullYear()} 17:00`), 'the due date in keys out');

    // The Logs filters take dd.mm.yyyy too.
    await nav(app, 'Žurnāli');
    const ph = await app.exec("return [document.getElementById('kl-from').placeholder, document.getElementById('kl-to').type]");
    assert.deepEqual(ph, ['dd.mm.gggg', 'text']);
    const t0 = new Date();
    const today = `${String(t0.getDate()).padStart(2, '0')}.${String(t0.getMonth() + 1).padStart(2, '0')}.${t0.getFullYear()}`;
    // "From" picked on the calendar (today), "To" typed.
    await app.click(await app.find('css selector', '#kl-from-pick'));
    await app.waitVisible('.date-picker');
    await app.click(await app.find('css selector', '.date-picker [aria-current=date]'));
    await waitFor(() => app.exec("return document.querySelector('.date-picker') === null"), 'the calendar to close');
    assert.equal(await app.exec("return document.getElementById('kl-from').value"), today);
    await app.type(await app.find('css selector', '#kl-to'), today);
    await app.exec("document.getElementById('kl-to').blur()");
    await waitFor(async () => /Avārija/.test(await app.text('#view tbody') || ''), 'today\'s rows in the key log');
    await app.screenshot('06-logs-date-filters');
  } finally {
    await app.stop();
  }
});
