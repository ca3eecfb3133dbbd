// Dashboard: keys out now, overdue keys, the state of backups, and the reference's
// 37-day calendar strip (issued "Izsniegti" / returned "Atgriezti" per day, keys due on
// future days). Clicking a day lists that day's actions.

import { el, invoke, language, localTime, t } from '../admin-common.js';

export const screen = { id: 'dashboard', navKey: 'nav.dashboard', minRole: 'viewer' };

/** @param {number} ts */
function timeOnly(ts) {
  return new Date(ts * 1000).toLocaleTimeString(language() === 'lv' ? 'lv-LV' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
}

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
  const backup = el('div', { class: 'stat', id: 'stat-backup' });
  const last = data.last_verified_backup;
  const stale = !last || (data.now - last) > data.remind_after_days * 86400;
  if (stale) backup.classList.add('warn');
  backup.append(
    el('span', { class: 'stat-value small' }, last ? localTime(last) : t('dash.backup_never')),
    el('span', { class: 'stat-label' }, t('dash.last_backup')),
  );
  if (stale) backup.append(el('span', { class: 'stat-note' }, t('dash.backup_reminder', { days: data.remind_after_days })));
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

  async function showDay(day, cell) {
    if (selected) selected.classList.remove('selected');
    selected = cell;
    cell.classList.add('selected');
    cell.setAttribute('aria-current', 'date');
    const rows = await invoke('day_actions', { start: day.start, end: day.end });
    const title = el('h2', {}, t('dash.day_title', { date: new Date(`${day.date}T12:00:00`).toLocaleDateString(language() === 'lv' ? 'lv-LV' : 'en-GB', { dateStyle: 'full' }) }));
    if (!rows.length) {
      dayPanel.replaceChildren(title, el('p', { class: 'empty' }, t('dash.day_empty')));
      return;
    }
    const table = el('table', { id: 'day-table' });
    const head = el('tr');
    ['dash.col.time', 'dash.col.action', 'dash.col.key', 'dash.col.person', 'dash.col.user', 'dash.col.comment']
      .forEach((k) => head.append(el('th', { scope: 'col' }, t(k))));
    table.append(el('thead'), el('tbody'));
    table.tHead.append(head);
    for (const r of rows) {
      const tr = el('tr');
      [timeOnly(r.at), t(`action.${r.action}`), r.key_number, r.person_name || '', r.user_name, r.comment || '']
        .forEach((v) => tr.append(el('td', {}, v)));
      table.tBodies[0].append(tr);
    }
    dayPanel.replaceChildren(title, table);
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
  view.replaceChildren(el('h1', {}, t('nav.dashboard')), stats, calCard, lower);
  const todayCell = /** @type {HTMLElement} */ (strip.querySelector('.today'));
  todayCell.scrollIntoView({ inline: 'center', block: 'nearest' });
  await showDay(data.calendar[7], todayCell);
}
