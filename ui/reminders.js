// Overdue reminders (issue 14, SPEC §11): after sign-in and every hour while the app is
// open, a desktop notification names the keys overdue or due today (the shell shows it:
// `notify`); and the reminder text a user copies for one holder (the dashboard's list),
// both in the user's language. The list itself is the core's (`overdue_list`).

import { invoke, localTime, t } from './admin-common.js';

/** How often the reminder comes while the app is open. */
const EVERY_MS = 60 * 60 * 1000;
/** How many keys the notification names before "and N more". */
const NAMED = 5;

let timer = 0;

/**
 * The notification for the keys `due` lists (overdue or due today), or null when none.
 * @param {any[]} due DueKey rows, most overdue first
 * @returns {{title: string, body: string}|null}
 */
export function notification(due) {
  if (!due.length) return null;
  const overdue = due.filter((d) => d.overdue).length;
  const today = due.length - overdue;
  const title = overdue && today ? t('remind.title_both', { overdue, today })
    : overdue ? t('remind.title_overdue', { n: overdue }) : t('remind.title_today', { n: today });
  const lines = due.slice(0, NAMED).map((d) => `${d.key_number} · ${d.person_name} · ${localTime(d.due_back_at)}`);
  if (due.length > NAMED) lines.push(t('remind.more', { n: due.length - NAMED }));
  return { title, body: lines.join('\n') };
}

/**
 * What a user sends the holder of one key: who, which key, when it was due.
 * @param {any} d a DueKey row
 */
export function reminderText(d) {
  const key = d.key_name ? `${d.key_number} (${d.key_name})` : d.key_number;
  return t(d.overdue ? 'remind.text_overdue' : 'remind.text_today', { name: d.person_name, key, due: localTime(d.due_back_at) });
}

/** Asks the core for the keys due and shows the notification; quiet when none is due. */
async function remindNow() {
  try {
    const n = notification(await invoke('overdue_list'));
    if (n) await invoke('notify', n);
  } catch {
    // A session that ended is the app's to handle; a reminder that failed comes again.
  }
}

/** After sign-in: remind now, then every hour. */
export function startReminders() {
  stopReminders();
  remindNow();
  timer = window.setInterval(remindNow, EVERY_MS);
}

/** At sign-out. */
export function stopReminders() {
  window.clearInterval(timer);
  timer = 0;
}
