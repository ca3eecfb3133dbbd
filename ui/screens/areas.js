// Areas (doors, rooms, zones), a tab of Keys: each area with how many keys open it.
// Admins add, rename and delete (soft: old impact reports still name it, and no key
// opens it any more); which keys open an area is set per key ("Opens" on the Keys tab).
// The core decides every rule (a name already taken is refused next to the field).

import { el, invoke, t } from '../admin-common.js';
import { formDialog, namedRecordsTab } from '../components.js';

const FIELDS = [
  { name: 'name', labelKey: 'areas.name', required: true, hintKey: 'areas.name_hint' },
  { name: 'description', labelKey: 'areas.description' },
];

/**
 * Paints the areas into `panel`: a toolbar (show deleted; New area for admins) and one
 * row per area, with how many keys open it.
 * @param {HTMLElement} panel
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export function render(panel, ctx) {
  const admin = ctx.user.role === 'admin';
  return namedRecordsTab(panel, ctx, {
    prefix: 'areas',
    intro: t(admin ? 'areas.intro_admin' : 'areas.intro'),
    columns: ['areas.description', 'areas.keys'],
    list: (includeDeleted) => invoke('list_areas', { includeDeleted }),
    cells: (a) => {
      const keys = el('td', { class: 'num' }, a.deleted_at ? '—' : String(a.keys));
      if (!a.deleted_at && a.keys === 0) keys.append(el('span', { class: 'muted' }, ` ${t('areas.no_keys')}`));
      return [a.description || '', keys];
    },
    editKey: 'areas.rename',
    edit: (a) => formDialog({
      titleKey: a ? 'areas.edit_title' : 'areas.new_title',
      fields: FIELDS,
      values: a || {},
      submitKey: 'common.save',
      onSubmit: (v) => invoke('area_save', { original: a ? a.name : null, name: v.name, description: v.description.trim() || null }),
    }),
    confirmDelete: (a) => (a.keys ? t('areas.confirm_delete_keys', { name: a.name, n: a.keys }) : t('areas.confirm_delete', { name: a.name })),
    remove: (a) => invoke('area_delete', { area: a.name }),
  });
}
