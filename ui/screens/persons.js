// Persons (key holders): instant search ("berzins" finds "Bērziņš"), sort, paging,
// create, edit, soft delete and restore, and a person's keys in hand, groups and history.

import { cached, el, invoke, localTime, t } from '../admin-common.js';
import { button, dateInput, deleteButton, infoDialog, listChanges, pagedTable, searchBox, showDeletedToggle, statusBadge, toast } from '../components.js';
import { openGroups } from './keys.js';
import { asOfList, showOffboarding } from '../offboard.js';

export const screen = { id: 'persons', navKey: 'nav.persons', minRole: 'viewer' };

const FIELDS = [
  { name: 'full_name', labelKey: 'persons.name', required: true },
  { name: 'code', labelKey: 'persons.code' },
  { name: 'department', labelKey: 'persons.department' },
  { name: 'phone', labelKey: 'persons.phone' },
  { name: 'email', labelKey: 'persons.email', type: 'email' },
  { name: 'badge', labelKey: 'persons.badge' },
  { name: 'notes', labelKey: 'persons.notes', type: 'textarea' },
  { name: 'active', labelKey: 'persons.active', type: 'checkbox' },
];

/** @param {any} p */
async function showDetail(p) {
  const d = await invoke('person_detail', { id: p.id });
  const box = el('div', { class: 'detail' });
  const facts = el('dl', { class: 'facts' });
  for (const [k, v] of [['persons.code', d.person.code], ['persons.department', d.person.department],
    ['persons.phone', d.person.phone], ['persons.email', d.person.email], ['persons.badge', d.person.badge],
    ['persons.notes', d.person.notes]]) {
    if (v) facts.append(el('dt', {}, t(k)), el('dd', {}, v));
  }
  box.append(facts);
  box.append(el('h3', {}, t('persons.keys_in_hand')));
  if (!d.keys.length) box.append(el('p', { class: 'empty' }, t('persons.no_keys')));
  else {
    const ul = el('ul', { id: 'person-keys' });
    d.keys.forEach((k) => ul.append(el('li', {}, `${k.number}${k.name ? ` · ${k.name}` : ''}${k.due_back_at ? ` — ${t('keys.due')}: ${localTime(k.due_back_at)}` : ''}`)));
    box.append(ul);
  }
  box.append(el('h3', {}, t('persons.groups')));
  box.append(el('p', {}, d.groups.length ? d.groups.map((g) => g.name).join(', ') : t('persons.no_groups')));
  box.append(el('h3', {}, t('persons.history')));
  if (!d.history.length) box.append(el('p', { class: 'empty' }, t('persons.no_history')));
  else {
    const ul = el('ul', { class: 'history' });
    d.history.forEach((h) => ul.append(el('li', {}, `${localTime(h.at)} — ${t(`action.${h.action}`)} ${h.key_number} (${h.user_name})`)));
    box.append(ul);
  }
  box.append(asOfSection(p));
  await infoDialog(d.person.full_name, box);
}

/**
 * "As of": the keys the person held at a moment typed in the app's date form.
 * @param {any} p a person
 */
function asOfSection(p) {
  const box = el('section', { class: 'as-of', id: 'person-as-of' });
  const field = dateInput({ id: 'person-as-of-at', labelKey: 'offboard.as_of', withTime: true });
  const rows = el('div', { id: 'person-as-of-rows' });
  const form = el('form', { class: 'as-of-form', novalidate: '' });
  form.append(field.wrap, el('button', { type: 'submit', class: 'secondary' }, t('offboard.as_of_show')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    field.input.dispatchEvent(new Event('change'));
    try {
      rows.replaceChildren(asOfList(await invoke('person_as_of', { id: p.id, at: field.input.value })));
    } catch (err) {
      rows.replaceChildren(el('p', { class: 'error', role: 'alert' }, err.message));
    }
  });
  box.append(el('h3', {}, t('offboard.as_of_title')), form, rows);
  return box;
}

/**
 * A person who may receive keys but is in no group: no key can be handed to them without
 * an admin's override (there is no default group; ARCHITECTURE.md, groups).
 * @param {any} r a person
 */
function waitsForGroup(r) {
  return r.groups === 0 && r.active && !r.deleted_at;
}

/**
 * The state cell: active, inactive or deleted, and "May receive no keys yet" when the
 * person is in no group.
 * @param {any} r a person
 */
function stateCell(r) {
  const box = el('span', { class: 'status-cell' });
  box.append(statusBadge(r.deleted_at ? 'deleted' : (r.active ? 'active' : 'inactive')));
  if (waitsForGroup(r)) box.append(el('span', { class: 'badge nogroup', title: t('persons.no_group_long') }, t('persons.no_group')));
  return box;
}

/**
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export async function render(view, ctx) {
  const canEdit = ctx.user.role !== 'viewer';
  let search = '';
  let includeDeleted = false;
  const note = el('div', { class: 'group-note', id: 'persons-group-note', role: 'note' });
  note.hidden = true;
  note.append(el('p', {}, t(ctx.user.role === 'admin' ? 'persons.some_no_group_admin' : 'persons.some_no_group')),
    button('keys.open_groups', openGroups, 'secondary small'));

  const table = pagedTable({
    caption: t('nav.persons'),
    sort: 'name',
    columns: [
      { labelKey: 'persons.name', sort: 'name', cell: (r) => r.full_name, className: 'strong' },
      { labelKey: 'persons.code', sort: 'code', cell: (r) => r.code || '' },
      { labelKey: 'persons.department', sort: 'department', cell: (r) => r.department || '' },
      { labelKey: 'persons.badge', cell: (r) => r.badge || '' },
      { labelKey: 'persons.state', cell: stateCell },
      { labelKey: 'common.actions', cell: actions, className: 'actions' },
    ],
    fetch: async (q) => {
      const rows = await invoke('list_persons', { args: { ...q, search, includeDeleted } });
      // Said once above the list when this page has someone in no group.
      note.hidden = !rows.some(waitsForGroup);
      return rows;
    },
    initial: cached('persons'),
    emptyKey: canEdit ? 'persons.empty_edit' : 'persons.empty',
  });

  const { act, edit: openForm } = listChanges(table, ctx.changed);

  function actions(r) {
    const box = el('div', { class: 'row-actions' });
    box.append(button('common.details', () => showDetail(r)));
    if (!canEdit) return box;
    const vars = { name: r.full_name };
    if (r.deleted_at) {
      box.append(button('common.restore', () => act(() => invoke('person_restore', { id: r.id }), t('persons.restored', vars))));
      return box;
    }
    box.append(button('common.edit', () => edit(r)));
    const off = button('persons.offboard', () => offboard(r));
    off.setAttribute('aria-label', t('persons.offboard_name', vars));
    box.append(off);
    box.append(deleteButton(t('persons.confirm_delete', vars), () => act(() => invoke('person_delete', { id: r.id }), t('persons.deleted', vars))));
    return box;
  }

  /** The person's offboarding in place of the list; Back paints the list again. */
  function offboard(row) {
    return showOffboarding(view, row, ctx, () => render(view, ctx)).catch((err) => toast(err.message, 'error'));
  }

  function edit(row) {
    return openForm({
      titleKey: row ? 'persons.edit_title' : 'persons.new_title',
      fields: FIELDS,
      values: row || { active: true },
      submitKey: 'common.save',
      onSubmit: (v) => invoke('person_save', { id: row ? row.id : null, input: v }),
    }, (saved) => t('persons.saved', { name: saved.full_name }));
  }

  const toolbar = el('div', { class: 'toolbar' });
  const sb = searchBox('persons.search', (v) => { search = v; table.reset(); });
  const delWrap = showDeletedToggle('persons-deleted', (checked) => { includeDeleted = checked; table.reset(); });
  toolbar.append(sb.element, delWrap);
  if (canEdit) toolbar.append(button('persons.new', () => edit(null), 'primary'));

  view.replaceChildren(el('h1', {}, t('nav.persons')), toolbar, note, table.element);
  await table.refresh();
  sb.input.focus();
}
