// Areas (doors, rooms, zones), a tab of Keys: each area with how many keys open it.
// Admins add, rename and delete (soft: old impact reports still name it, and no key
// opens it any more); which keys open an area is set per key ("Opens" on the Keys tab).
// The core decides every rule (a name already taken is refused next to the field).

import { el, invoke, t } from '../admin-common.js';
import { button, deleteButton, formDialog, showDeletedToggle, toast } from '../components.js';

const FIELDS = [
  { name: 'name', labelKey: 'areas.name', required: true, hintKey: 'areas.name_hint' },
  { name: 'description', labelKey: 'areas.description' },
];

/**
 * Paints the areas into `panel`: a toolbar (show deleted; New area for admins) and one
 * row per area.
 * @param {HTMLElement} panel
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export async function render(panel, ctx) {
  const admin = ctx.user.role === 'admin';
  let includeDeleted = false;
  const list = el('div', { class: 'table-wrap' });

  async function load() {
    let areas;
    try {
      areas = await invoke('list_areas', { includeDeleted });
    } catch (err) {
      list.replaceChildren(el('p', { class: 'error', role: 'alert' }, err.message));
      return;
    }
    if (!areas.length) {
      list.replaceChildren(el('p', { class: 'empty' }, t(admin ? 'areas.empty_admin' : 'areas.empty')));
      return;
    }
    const table = el('table', { id: 'areas-table' });
    table.append(el('caption', { class: 'sr-only' }, t('areas.title')));
    const head = el('tr');
    for (const k of ['areas.name', 'areas.description', 'areas.keys', 'common.actions']) head.append(el('th', { scope: 'col' }, t(k)));
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    for (const a of areas) {
      const tr = el('tr', { 'data-area': a.name });
      const nameCell = el('td', { class: 'strong' }, a.name);
      if (a.deleted_at) nameCell.append(el('span', { class: 'badge deleted' }, t('areas.deleted_badge')));
      const keys = el('td', { class: 'num' }, a.deleted_at ? '—' : String(a.keys));
      if (!a.deleted_at && a.keys === 0) keys.append(el('span', { class: 'muted' }, ` ${t('areas.no_keys')}`));
      tr.append(nameCell, el('td', {}, a.description || ''), keys, actions(a));
      tbody.append(tr);
    }
    table.append(thead, tbody);
    list.replaceChildren(table);
  }

  /** @param {string} text already translated */
  async function done(text) {
    toast(text);
    ctx.changed();
    await load();
  }

  /** @param {any} a */
  function actions(a) {
    const td = el('td', { class: 'actions' });
    if (!admin || a.deleted_at) return td;
    const box = el('div', { class: 'row-actions' });
    box.append(button('areas.rename', () => edit(a)));
    const question = a.keys ? t('areas.confirm_delete_keys', { name: a.name, n: a.keys }) : t('areas.confirm_delete', { name: a.name });
    box.append(deleteButton(question, async () => {
      try {
        await invoke('area_delete', { area: a.name });
        await done(t('areas.deleted', { name: a.name }));
      } catch (err) {
        toast(err.message, 'error');
      }
    }));
    td.append(box);
    return td;
  }

  /** @param {any|null} a */
  async function edit(a) {
    const saved = await formDialog({
      titleKey: a ? 'areas.edit_title' : 'areas.new_title',
      fields: FIELDS,
      values: a || {},
      submitKey: 'common.save',
      onSubmit: (v) => invoke('area_save', { original: a ? a.name : null, name: v.name, description: v.description.trim() || null }),
    });
    if (saved) await done(t('areas.saved', { name: saved.name }));
  }

  const toolbar = el('div', { class: 'toolbar' });
  toolbar.append(showDeletedToggle('areas-deleted', (checked) => { includeDeleted = checked; load(); }));
  if (admin) toolbar.append(button('areas.new', () => edit(null), 'primary'));
  const intro = el('p', { class: 'hint sets-intro' }, t(admin ? 'areas.intro_admin' : 'areas.intro'));
  panel.replaceChildren(intro, toolbar, list);
  await load();
}
