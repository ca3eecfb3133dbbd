// Keys: instant search (in the core, diacritics-insensitive), sort, paging, create, edit,
// retire, soft delete and restore, and a key's full history. Only admins change keys;
// the core refuses others whatever the page shows.

import { cached, el, invoke, localTime, t } from '../admin-common.js';
import { button, deleteButton, infoDialog, listChanges, pagedTable, searchBox, showDeletedToggle, statusBadge } from '../components.js';

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
  const admin = ctx.user.role === 'admin';
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
      { labelKey: 'keys.status', sort: 'status', cell: (r) => statusBadge(keyStatus(r)) },
      { labelKey: 'keys.holder', cell: (r) => r.holder_name || '' },
      { labelKey: 'keys.due', sort: 'due', cell: (r) => localTime(r.due_back_at) },
      { labelKey: 'common.actions', cell: actions, className: 'actions' },
    ],
    rowClass: (r) => (r.status === 'issued' && r.due_back_at && r.due_back_at * 1000 < Date.now() ? 'overdue' : ''),
    fetch: (q) => invoke('list_keys', { args: { ...q, search, status, includeDeleted } }),
    initial: cached('keys'),
    emptyKey: admin ? 'keys.empty_admin' : 'keys.empty',
  });

  const { act, edit: openForm } = listChanges(table, ctx.changed);

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

  view.replaceChildren(el('h1', {}, t('nav.keys')), toolbar, table.element);
  await table.refresh();
  sb.input.focus();
}
