// Dashboard: keys out now, overdue keys, the state of backups, and the reference's
// 37-day calendar strip (issued "Izsniegti" / returned "Atgriezti" per day, keys due on
// future days), sized so that whole days fill its width with today in sight. Clicking a
// day lists that day's actions.

import { el, invoke, language, localTime, t } from '../admin-common.js';
import { button, infoDialog, pagedTable } from '../components.js';
import { reminderText } from '../reminders.js';

export const screen = { id: 'dashboard', navKey: 'nav.dashboard', minRole: 'viewer' };

/** @param {number} ts */
function timeOnly(ts) {
  return new Date(ts * 1000).toLocaleTimeString(language() === 'lv' ? 'lv-LV' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
}

/** The narrowest a day of the strip may be (its counts must stay readable), and the gap. */
const DAY_MIN_PX = 64;
const DAY_GAP_PX = 6;

/**
 * Sizes the strip's days so a whole number of them fills its width (no half-cut day at
 * either edge) and scrolls it, a whole day at a time, so that today shows with the days
 * before it: as many of the past week as fit beside the days ahead. Done again when the
 * window is resized, keeping the first day shown.
 * @param {HTMLElement} strip
 * @param {number} todayIndex
 */
function fitStrip(strip, todayIndex) {
  const days = strip.children.length;
  let first = -1;
  const fit = () => {
    const width = strip.clientWidth;
    if (!width) return;
    const shown = Math.max(1, Math.min(days, Math.floor((width + DAY_GAP_PX) / (DAY_MIN_PX + DAY_GAP_PX))));
    const dayWidth = (width - (shown - 1) * DAY_GAP_PX) / shown;
    strip.style.setProperty('--day-w', `${dayWidth}px`);
    if (first < 0) first = Math.max(0, todayIndex - Math.floor((shown - 1) / 2));
    first = Math.min(first, days - shown);
    strip.scrollLeft = first * (dayWidth + DAY_GAP_PX);
  };
  fit();
  strip.addEventListener('scroll', () => {
    const w = parseFloat(strip.style.getPropertyValue('--day-w')) || DAY_MIN_PX;
    first = Math.round(strip.scrollLeft / (w + DAY_GAP_PX));
  }, { passive: true });
  // One observer at a time: the strip of the dashboard painted before (the screen was
  // left, or painted again) is let go, with everything it holds.
  if (stripObserver) stripObserver.disconnect();
  const observer = new ResizeObserver(() => {
    if (strip.isConnected) fit();
    else observer.disconnect();
  });
  observer.observe(strip);
  stripObserver = observer;
}

/** @type {ResizeObserver | null} the observer of the strip shown now */
let stripObserver = null;

/**
 * Puts `text` on the clipboard (the selection, when the asynchronous clipboard is
 * refused); false when neither works (the dialog then says to press Ctrl+C).
 * @param {string} text
 */
async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // WebKitGTK refuses the asynchronous clipboard without a fresh user gesture; the
    // selected text copies the older way.
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/**
 * The keys overdue or due today, with the holders' phone and e-mail, each with its
 * reminder text to copy (SPEC §11); nothing when none is due.
 * @param {any[]} due DueKey rows, most overdue first
 */
function duePanel(due) {
  const panel = el('section', { class: 'card', id: 'due-panel' });
  panel.append(el('h2', {}, t('remind.panel_title')));
  /** @param {any} d */
  const copyButton = (d) => button('remind.copy', async () => {
    const text = reminderText(d);
    const box = el('div', { class: 'reminder-text' });
    const status = el('p', { class: 'hint', role: 'status', id: 'reminder-status' });
    const area = /** @type {HTMLTextAreaElement} */ (el('textarea', { id: 'reminder-text', rows: '4', readonly: '', 'aria-label': t('remind.text_label') }));
    area.value = text;
    box.append(status, area);
    // The text is shown (and selected) whatever the clipboard does, so the user sees
    // what is sent and can copy it by hand.
    const shown = infoDialog(t('remind.dialog_title', { name: d.person_name }), box);
    area.focus();
    area.select();
    const copied = await copy(text);
    status.className = copied ? 'hint' : 'hint error';
    status.textContent = t(copied ? 'remind.copied' : 'remind.copy_by_hand');
    await shown;
  });
  /** @param {string} href @param {string|null} text */
  const link = (href, text) => (text ? el('a', { href }, text) : '');
  // The core sends every due key (a few hundred at most); the page shows ten at a time,
  // the first painted at once.
  const list = pagedTable({
    id: 'due-table',
    pageSize: DUE_PAGE,
    initial: due,
    emptyKey: 'remind.panel_title',
    rowClass: (d) => (d.overdue ? 'overdue' : ''),
    fetch: async (q) => due.slice(q.offset, q.offset + q.limit),
    columns: [
      { labelKey: 'dash.col.key', cell: (d) => d.key_number + (d.key_name ? ` · ${d.key_name}` : '') },
      { labelKey: 'dash.col.person', cell: (d) => (d.person_code ? `${d.person_name} (${d.person_code})` : d.person_name) },
      { labelKey: 'remind.col.phone', className: 'phone', cell: (d) => link(`tel:${(d.phone || '').replace(/\s/g, '')}`, d.phone) },
      { labelKey: 'remind.col.email', cell: (d) => link(`mailto:${d.email}`, d.email) },
      {
        labelKey: 'dash.col.due',
        cell: (d) => {
          const when = el('span', {}, localTime(d.due_back_at));
          when.append(el('span', { class: `badge ${d.overdue ? 'lost' : 'due-today'}` }, t(d.overdue ? 'dash.overdue_badge' : 'remind.today_badge')));
          return when;
        },
      },
      { labelKey: 'common.actions', className: 'actions', cell: copyButton },
    ],
  });
  panel.append(list.element);
  return panel;
}

/** Rows of the due panel on one page (the day panel's come with the dashboard,
 * `day_page`): the dashboard stays one screen long however busy the day, and its memory
 * small. */
const DUE_PAGE = 10;

/** @param {HTMLElement} view */
export async function render(view) {
  const data = await invoke('dashboard');
  const todayIso = data.calendar[7].date;

  const stats = el('div', { class: 'stats' });
  const stat = (id, value, labelKey, cls = '') => {
    const box = el('div', { class: `stat ${cls}`, id });
    box.append(el('span', { class: 'stat-value' }, String(value)), el('span', { class: 'stat-label' }, t(labelKey)));
    return box;
  };
  stats.append(
    stat('stat-keys-out', data.summary.keys_out, 'dash.keys_out'),
    stat('stat-keys-overdue', data.summary.keys_overdue, 'dash.keys_overdue', data.summary.keys_overdue ? 'warn' : ''),
    stat('stat-keys-total', data.summary.keys_total, 'dash.keys_total'),
  );
  // The reminder is the core's (backup::history::reminder): never / overdue / recent, and
  // whether this user can make a backup; anyone else is told to ask an admin.
  const backup = el('div', { class: 'stat', id: 'stat-backup' });
  const reminder = data.backup;
  const last = reminder.last_verified;
  backup.append(
    el('span', { class: 'stat-value small' }, last ? localTime(last) : t('dash.backup_never')),
    el('span', { class: 'stat-label' }, t('dash.last_backup')),
  );
  if (reminder.age !== 'recent') {
    backup.classList.add('warn');
    const why = reminder.age === 'never'
      ? t('dash.backup_never_made')
      : t('dash.backup_older', { days: reminder.remind_after_days });
    const what = reminder.can_back_up ? '' : t('dash.backup_ask_admin');
    backup.append(el('span', { class: 'stat-note', id: 'backup-reminder' }, [why, what].filter(Boolean).join(' ')));
    if (reminder.can_back_up) {
      // Only an admin gets the way there: the menu's Backups screen.
      const go = el('button', { type: 'button', class: 'secondary small', id: 'backup-go' }, t('dash.backup_go'));
      go.addEventListener('click', () => /** @type {HTMLElement|null} */ (document.querySelector('.nav-item[data-screen="backup"]'))?.click());
      backup.append(go);
    }
  }
  stats.append(backup);

  // The strip.
  const strip = el('div', { class: 'calendar', role: 'list', 'aria-label': t('dash.calendar') });
  const dayPanel = el('section', { class: 'card', id: 'day-panel' });
  let selected = null;
  for (const day of data.calendar) {
    const date = new Date(`${day.date}T12:00:00`);
    const cell = el('button', {
      type: 'button', role: 'listitem', class: 'day', 'data-date': day.date,
      'aria-label': `${day.date}: ${t('dash.issued')} ${day.issued}, ${t('dash.returned')} ${day.returned}, ${t('dash.due')} ${day.due}`,
    });
    if (day.date === todayIso) cell.classList.add('today');
    if (day.date > todayIso) cell.classList.add('future');
    cell.append(
      el('span', { class: 'dow' }, date.toLocaleDateString(language() === 'lv' ? 'lv-LV' : 'en-GB', { weekday: 'short' })),
      el('span', { class: 'dom' }, String(date.getDate())),
    );
    const counts = el('span', { class: 'counts' });
    if (day.date <= todayIso) {
      counts.append(el('span', { class: 'c-issued', title: t('dash.issued') }, `↗ ${day.issued}`),
        el('span', { class: 'c-returned', title: t('dash.returned') }, `↘ ${day.returned}`));
    } else {
      counts.append(el('span', { class: day.due ? 'c-due' : 'c-none', title: t('dash.due') }, `◷ ${day.due}`));
    }
    cell.append(counts);
    cell.addEventListener('click', () => showDay(day, cell));
    strip.append(cell);
  }
  const legend = el('p', { class: 'legend muted' }, `↗ ${t('dash.issued')}   ↘ ${t('dash.returned')}   ◷ ${t('dash.due')}`);

  /**
   * @param {any} day a calendar day
   * @param {HTMLElement} cell its button in the strip
   * @param {any[]} [first] the day's first page when the core sent it already (today's,
   *   with the dashboard): painted at once, no round trip
   */
  async function showDay(day, cell, first) {
    if (selected) selected.classList.remove('selected');
    selected = cell;
    cell.classList.add('selected');
    cell.setAttribute('aria-current', 'date');
    const title = el('h2', {}, t('dash.day_title', { date: new Date(`${day.date}T12:00:00`).toLocaleDateString(language() === 'lv' ? 'lv-LV' : 'en-GB', { dateStyle: 'full' }) }));
    const list = pagedTable({
      id: 'day-table',
      pageSize: data.day_page,
      emptyKey: 'dash.day_empty',
      initial: first,
      fetch: (q) => invoke('day_actions', { start: day.start, end: day.end, limit: q.limit, offset: q.offset }),
      columns: [
        { labelKey: 'dash.col.time', cell: (r) => timeOnly(r.at) },
        { labelKey: 'dash.col.action', cell: (r) => t(`action.${r.action}`) },
        { labelKey: 'dash.col.key', cell: (r) => r.key_number },
        { labelKey: 'dash.col.person', cell: (r) => r.person_name || '' },
        { labelKey: 'dash.col.user', cell: (r) => r.user_name },
        // The comment and an admin's exception reason, as the key log shows them.
        { labelKey: 'dash.col.comment', cell: (r) => [r.comment, r.override_reason && `${t('keys.override')}: ${r.override_reason}`].filter(Boolean).join(' · ') },
      ],
    });
    if (!first || !first.length) await list.refresh();
    // A click on another day meanwhile: that day's panel is the one shown.
    if (selected === cell) dayPanel.replaceChildren(title, list.element);
  }

  // Keys out now, the soonest due first; overdue ones highlighted.
  const outPanel = el('section', { class: 'card', id: 'keys-out-panel' });
  outPanel.append(el('h2', {}, t('dash.keys_out_title')));
  if (!data.keys_out.length) {
    outPanel.append(el('p', { class: 'empty', id: 'keys-out-empty' }, t('dash.no_keys_out')));
  } else {
    const table = el('table', { id: 'keys-out-table' });
    const head = el('tr');
    ['dash.col.key', 'dash.col.person', 'dash.col.due'].forEach((k) => head.append(el('th', { scope: 'col' }, t(k))));
    table.append(el('thead'), el('tbody'));
    table.tHead.append(head);
    for (const k of data.keys_out) {
      const late = k.due_back_at !== null && k.due_back_at < data.now;
      const tr = el('tr', late ? { class: 'overdue' } : {});
      const due = el('td', {}, localTime(k.due_back_at));
      if (late) due.append(el('span', { class: 'badge lost' }, t('dash.overdue_badge')));
      tr.append(el('td', {}, k.number + (k.name ? ` · ${k.name}` : '')), el('td', {}, k.holder_name || ''), due);
      table.tBodies[0].append(tr);
    }
    outPanel.append(table);
  }

  const calCard = el('section', { class: 'card' });
  calCard.append(el('h2', {}, t('dash.calendar')), strip, legend);
  const lower = el('div', { class: 'two-col' });
  lower.append(dayPanel, outPanel);
  const due = data.due.length ? [duePanel(data.due)] : [];
  view.replaceChildren(el('h1', {}, t('nav.dashboard')), stats, ...due, calCard, lower);
  const todayCell = /** @type {HTMLElement} */ (strip.querySelector('.today'));
  fitStrip(strip, [...strip.children].indexOf(todayCell));
  await showDay(data.calendar[7], todayCell, data.today);
  markPainted();
}

/** The mark the dashboard sets once a frame with its data has been painted. */
export const PAINTED_MARK = 'dashboard-painted';

/**
 * Sets `performance.mark(PAINTED_MARK)` after the next frame is painted: a task queued
 * from a frame's animation callback runs once that frame is drawn. Sign-in is measured
 * from the click to this mark (scripts/measure-window.mjs); only the latest is kept.
 */
function markPainted() {
  requestAnimationFrame(() => setTimeout(() => {
    performance.clearMarks(PAINTED_MARK);
    performance.mark(PAINTED_MARK);
  }, 0));
}
