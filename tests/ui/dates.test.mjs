// Date fields read and write the app's own form (dd.mm.yyyy, a 24-hour clock), never the
// system locale's: ui/dates.js is what the date inputs (components.js dateInput) use.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadUiModule, uiSources } from './load.mjs';

const { formatDateText, isoDay, parseDateText } = await loadUiModule('dates');

test('day_first_dates_and_a_24_hour_clock_are_read_and_written_in_full', () => {
  const p = parseDateText(' 1.2.2027 9:05 ', true);
  assert.deepEqual(p, { year: 2027, month: 2, day: 1, hour: 9, minute: 5, hasTime: true });
  assert.equal(formatDateText(p), '01.02.2027 09:05');
  assert.equal(isoDay(p), '2027-02-01');
  const day = parseDateText('24.11.2026', false);
  assert.equal(formatDateText(day), '24.11.2026');
  assert.equal(formatDateText(parseDateText('24.11.2026', true)), '24.11.2026', 'the time may be left out');
  assert.equal(isoDay(parseDateText('2026-11-24', false)), '2026-11-24', 'ISO is understood too');
});

test('what_is_not_a_real_date_or_time_is_refused', () => {
  for (const bad of ['12/31/2030', '12/31/2030 5:00 PM', '31.02.2026', '13.13.2026', '24.11.26',
    '24.11.2026 24:00', '24.11.2026 17:60', '24.11.2026 17.00', 'rīt', '']) {
    assert.equal(parseDateText(bad, true), null, bad);
  }
  assert.equal(parseDateText('24.11.2026 17:00', false), null, 'no time where only a day is asked');
});

test('no_screen_makes_a_native_date_input_that_follows_the_system_locale', async () => {
  // type="date", type: 'date', or a helper handed the type last ('date') as Logs once did.
  const native = /type(?:=|:\s*)["'](?:date|datetime-local|time|month|week)["']|\w\(['"][\w-]+['"],\s*['"][\w.]+['"],\s*['"](?:date|datetime-local)['"]\)/;
  const found = uiSources({ withHtml: true }).filter(([, text]) => native.test(text)).map(([f]) => f);
  assert.deepEqual(found, [], 'use components.js dateInput: dd.mm.yyyy whatever the locale');
});
