// End to end (issue 14): overdue reminders. After sign-in the app sends a desktop
// notification naming the keys overdue or due today (read here from the file a debug
// build writes instead, ATSLEGAS_E2E_NOTIFY_LOG), and the dashboard lists them with the
// holders' phone and e-mail and a reminder text to copy, in the user's language. The
// register is the demo generator's, which leaves some keys overdue; the command-line
// tool's `overdue --json` is the reference. Screenshots go to tests/e2e/screenshots/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, register, waitFor } from './webdriver.mjs';

test('after sign-in a notification names the overdue keys, and the dashboard gives contacts and a reminder to copy', { timeout: 240000 }, async () => {
  const { data, cli } = register('atslegas-e2e-remind-', { cli: { timeout: 120000 } });
  cli('demo', '--persons', '60', '--keys', '40', '--log-rows', '600', '--years', '1');
  const due = JSON.parse(cli('--json', 'overdue'));
  const overdue = due.filter((d) => d.overdue);
  assert.ok(overdue.length > 0, 'the demo leaves some keys overdue');
  const log = join(data, 'notifications.jsonl');
  const app = await App.start({ name: 'reminders', dataDir: data, env: { ATSLEGAS_E2E_NOTIFY_LOG: log } });
  try {
    await app.signIn();
    // The notification: sent once at sign-in, worded in Latvian, naming the first keys.
    const sent = await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').trim(), 'the reminder notification');
    const lines = sent.split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1, 'one reminder at sign-in');
    const today = due.length - overdue.length;
    const title = today ? `Nokavētas atslēgas: ${overdue.length}; jāatdod šodien: ${today}` : `Nokavētas atslēgas: ${overdue.length}`;
    assert.equal(lines[0].title, title);
    assert.ok(lines[0].body.startsWith(`${due[0].key_number} · ${due[0].person_name} · `), lines[0].body);
    if (due.length > 5) assert.match(lines[0].body, new RegExp(`… un vēl ${due.length - 5}$`));

    // The dashboard's list: every key the core lists, with the holder's contacts.
    await app.waitVisible('#due-panel');
    const rows = await app.exec(`return [...document.querySelectorAll('#due-table tbody tr')].map(tr => [...tr.cells].map(c => c.textContent))`);
    assert.equal(rows.length, due.length);
    assert.ok(rows[0][0].startsWith(due[0].key_number), `${rows[0][0]} vs ${due[0].key_number}`);
    assert.ok(rows[0][1].includes(due[0].person_name));
    if (due[0].phone) assert.equal(rows[0][2], due[0].phone);
    if (due[0].email) assert.equal(rows[0][3], due[0].email);
    await app.screenshot('reminders-01-dashboard-due');

    // Copy the reminder text of the most overdue key: shown, selected, in Latvian.
    // A real click (the clipboard wants a user's gesture).
    await app.click(await app.find('css selector', '#due-table tbody tr .actions button'));
    await app.waitVisible('#reminder-text');
    const text = await app.exec("return document.getElementById('reminder-text').value");
    assert.ok(text.startsWith(`Labdien, ${due[0].person_name}!`), text);
    assert.ok(text.includes(`atslēga ${due[0].key_number}`), text);
    assert.match(text, due[0].overdue ? /bija jāatdod/ : /jāatdod šodien/);
    await waitFor(async () => (await app.text('#reminder-status')) === 'Atgādinājuma teksts nokopēts.', 'the text copied to the clipboard');
    await app.screenshot('reminders-02-reminder-text');
  } finally {
    await app.stop();
  }
});
