// Keys: instant search (in the core, diacritics-insensitive), sort, paging, create, edit,
// retire, soft delete and restore, and a key's full history; and the Sets tab (sets.js).
// Only admins change keys; the core refuses others whatever the page shows.
//
// A key that no group allows can be handed to nobody without an admin's override: each
// such key says so, and so does a card while no key at all is allowed (the first run),
// because there is no default group that allows everything (ARCHITECTURE.md, groups).

import { cached, el, invoke, localTime, t } from '../admin-common.js';
import { button, deleteButton, infoDialog, listChanges, pagedTable, searchBox, showDeletedToggle, statusBadge } from '../components.js';
import * as sets from './sets.js';

export const screen = { id: 'keys', navKey: 'nav.keys', minRole: 'viewer' };

const FIELDS = [
  { name: 'number', labelKey: 'keys.number', required: true },
  { name: 'name', labelKey: 'keys.name' },
  { name: 'location', labelKey: 'keys.location' },
  { name: 'key_type', labelKey: 'keys.type' },
  { name: 'copies_note', labelKey: 'keys.copies' },
];

/** @param {any} row */
function keyStatus(row) {
  return row.deleted_at ? 'deleted' : row.status;
}

/** Which tab of the screen is open: 'keys' or 'sets' (kept while the app runs). */
let tab = 'keys';

/** Opens the Groups screen as its menu button does. */
export function openGroups() {
  const b = /** @type {HTMLElement|null} */ (document.querySelector('#nav [data-screen="groups"]'));
  if (b) b.click();
}

/**
 * A key nobody may receive yet (no group allows it), unless it is out of use anyway.
 * @param {any} r a key
 */
function waitsForGroup(r) {
  return r.groups === 0 && !r.deleted_at && (r.status === 'available' || r.status === 'issued');
}

/**
 * The status cell: the status, and "No group yet" when no group allows the key.
 * @param {any} r a key
 */
function statusCell(r) {
  const box = el('span', { class: 'status-cell' });
  box.append(statusBadge(keyStatus(r)));
  if (waitsForGroup(r)) box.append(el('span', { class: 'badge nogroup', title: t('keys.no_group_long') }, t('keys.no_group')));
  return box;
}

/**
 * What the groups allow, above the list: on the first run (keys, none allowed) a card
 * that says what to do, later a line while some keys wait for a group; nothing when
 * every key is allowed.
 * @param {HTMLElement} box
 * @param {boolean} admin
 */
async function paintCoverage(box, admin) {
  let c;
  try {
    c = await invoke('keys_group_coverage');
  } catch {
    box.replaceChildren();
    return;
  }
  const open = button('keys.open_groups', openGroups, 'primary');
  if (c.keys > 0 && c.allowed === 0) {
    const card = el('section', { class: 'card first-run', id: 'first-run', role: 'note' });
    card.append(el('h2', {}, t('keys.first_run_title')),
      el('p', {}, t('keys.first_run_text')),
      el('p', {}, t(admin ? 'keys.first_run_admin' : 'keys.first_run_other')),
      open);
    box.replaceChildren(card);
  } else if (c.keys > c.allowed) {
    const line = el('div', { class: 'group-note', id: 'keys-group-note', role: 'note' });
    line.append(el('p', {}, t('keys.some_no_group', { n: c.keys - c.allowed })), open);
    open.className = 'secondary small';
    box.replaceChildren(line);
  } else {
    box.replaceChildren();
  }
}

/**
 * @param {{number: string, id: number}} key
 */
export async function showHistory(key) {
  const table = pagedTable({
    columns: [
      { labelKey: 'dash.col.time', cell: (r) => localTime(r.at) },
      { labelKey: 'dash.col.action', cell: (r) => t(`action.${r.action}`) },
      { labelKey: 'dash.col.person', cell: (r) => r.person_name || '' },
      { labelKey: 'dash.col.user', cell: (r) => r.user_name },
      { labelKey: 'dash.col.comment', cell: (r) => [r.comment, r.override_reason && `${t('keys.override')}: ${r.override_reason}`].filter(Boolean).join(' · ') },
    ],
    fetch: ({ offset }) => invoke('key_history', { id: key.id, offset }),
    emptyKey: 'keys.history_empty',
  });
  await table.refresh();
  await infoDialog(t('keys.history_title', { number: key.number }), table.element);
}

/**
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export async function render(view, ctx) {
  const tabs = el('div', { class: 'tabs', role: 'tablist', 'aria-label': t('nav.keys') });
  const panel = el('div', { role: 'tabpanel', class: 'tab-panel' });
  const tabKeys = el('button', { type: 'button', role: 'tab', id: 'tab-keys' }, t('keys.tab_keys'));
  const tabSets = el('button', { type: 'button', role: 'tab', id: 'tab-sets' }, t('sets.title'));
  tabs.append(tabKeys, tabSets);
  /** @param {string} which */
  async function open(which) {
    tab = which;
    tabKeys.setAttribute('aria-selected', String(which === 'keys'));
    tabSets.setAttribute('aria-selected', String(which === 'sets'));
    panel.setAttribute('aria-labelledby', which === 'keys' ? 'tab-keys' : 'tab-sets');
    if (which === 'sets') await sets.render(panel, ctx);
    else await keysTab(panel, ctx);
  }
  tabKeys.addEventListener('click', () => open('keys'));
  tabSets.addEventListener('click', () => open('sets'));
  view.replaceChildren(el('h1', {}, t('nav.keys')), tabs, panel);
  await open(tab);
}

/**
 * The keys tab: the list with its toolbar, and what the groups allow above it.
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
async function keysTab(view, ctx) {
  const admin = ctx.user.role === 'admin';
  const coverage = el('div', { class: 'coverage' });
  let search = '';
  let status = '';
  let includeDeleted = false;

  const table = pagedTable({
    caption: t('nav.keys'),
    sort: 'number',
    columns: [
      { labelKey: 'keys.number', sort: 'number', cell: (r) => r.number, className: 'strong' },
      { labelKey: 'keys.name', sort: 'name', cell: (r) => r.name || '' },
      { labelKey: 'keys.location', cell: (r) => r.location || '' },
      { labelKey: 'keys.status', sort: 'status', cell: statusCell },
      { labelKey: 'keys.holder', cell: (r) => r.holder_name || '' },
      { labelKey: 'keys.due', sort: 'due', cell: (r) => localTime(r.due_back_at) },
      { labelKey: 'common.actions', cell: actions, className: 'actions' },
    ],
    rowClass: (r) => (r.status === 'issued' && r.due_back_at && r.due_back_at * 1000 < Date.now() ? 'overdue' : ''),
    fetch: (q) => invoke('list_keys', { args: { ...q, search, status, includeDeleted } }),
    initial: cached('keys'),
    emptyKey: admin ? 'keys.empty_admin' : 'keys.empty',
  });

  // Every change here (a new key, a retired one) may change what the groups cover.
  const { act, edit: openForm } = listChanges(table, () => { ctx.changed(); paintCoverage(coverage, admin); });

  function actions(r) {
    const box = el('div', { class: 'row-actions' });
    box.append(button('keys.history', () => showHistory(r)));
    if (!admin) return box;
    const vars = { number: r.number };
    if (r.deleted_at) {
      box.append(button('common.restore', () => act(() => invoke('key_restore', { id: r.id }), t('keys.restored', vars))));
      return box;
    }
    box.append(button('common.edit', () => edit(r)));
    if (r.status === 'available') {
      box.append(button('keys.retire', () => act(() => invoke('key_set_retired', { id: r.id, retired: true }), t('keys.retired_done', vars))));
    } else if (r.status === 'retired') {
      box.append(button('keys.unretire', () => act(() => invoke('key_set_retired', { id: r.id, retired: false }), t('keys.unretired_done', vars))));
    }
    box.append(deleteButton(t('keys.confirm_delete', vars), () => act(() => invoke('key_delete', { id: r.id }), t('keys.deleted', vars))));
    return box;
  }

  function edit(row) {
    return openForm({
      titleKey: row ? 'keys.edit_title' : 'keys.new_title',
      fields: FIELDS,
      values: row || {},
      submitKey: 'common.save',
      onSubmit: (v) => invoke('key_save', { id: row ? row.id : null, input: v }),
    }, (saved) => t('keys.saved', { number: saved.number }));
  }

  const toolbar = el('div', { class: 'toolbar' });
  const sb = searchBox('keys.search', (v) => { search = v; table.reset(); });
  const statusWrap = el('div', { class: 'field inline' });
  const statusSel = /** @type {HTMLSelectElement} */ (el('select', { id: 'keys-status' }));
  for (const s of ['', 'available', 'issued', 'lost', 'retired']) {
    statusSel.append(el('option', { value: s }, s ? t(`status.${s}`) : t('keys.all_statuses')));
  }
  statusSel.addEventListener('change', () => { status = statusSel.value; table.reset(); });
  statusWrap.append(el('label', { for: 'keys-status' }, t('keys.status')), statusSel);
  const delWrap = showDeletedToggle('keys-deleted', (checked) => { includeDeleted = checked; table.reset(); });
  toolbar.append(sb.element, statusWrap, delWrap);
  if (admin) toolbar.append(button('keys.new', () => edit(null), 'primary'));

  view.replaceChildren(toolbar, coverage, table.element);
  await Promise.all([table.refresh(), paintCoverage(coverage, admin)]);
  sb.input.focus();
}
