// Users of the app (admins only; the core refuses everyone else). Create, change role,
// activate or deactivate, set a password: another user's (their sessions end), or one's
// own with the current one (one's other sessions end).

import { el, invoke, localTime, t } from '../admin-common.js';
import { button, formDialog, pagedTable, toast } from '../components.js';

export const screen = { id: 'users', navKey: 'nav.users', minRole: 'admin' };

const ROLES = ['admin', 'operator', 'viewer'].map((r) => ({ value: r, labelKey: `role.${r}` }));

/**
 * @param {HTMLElement} view
 * @param {{user: {username: string, role: string}, changed: () => void}} ctx
 */
export async function render(view, ctx) {
  const table = pagedTable({
    caption: t('nav.users'),
    columns: [
      { labelKey: 'users.username', cell: (u) => u.username + (u.is_root ? ' ★' : ''), className: 'strong' },
      { labelKey: 'users.role', cell: (u) => t(`role.${u.role}`) },
      { labelKey: 'users.state', cell: (u) => t(u.active ? 'users.active' : 'users.inactive') },
      { labelKey: 'users.last_login', cell: (u) => localTime(u.last_login_at) || t('users.never') },
      { labelKey: 'common.actions', cell: actions, className: 'actions' },
    ],
    fetch: async ({ limit, offset }) => (await invoke('list_users')).slice(offset, offset + limit),
    emptyKey: 'users.empty',
  });

  async function done(text) {
    toast(text);
    ctx.changed();
    await table.refresh();
  }

  function actions(u) {
    const box = el('div', { class: 'row-actions' });
    box.append(button('users.set_password', () => setPassword(u)));
    if (u.is_root || u.username === ctx.user.username) return box;
    box.append(button('users.change_role', () => changeRole(u)));
    box.append(button(u.active ? 'users.deactivate' : 'users.activate', async () => {
      try {
        await invoke('user_update', { username: u.username, role: null, active: !u.active });
        await done(t(u.active ? 'users.deactivated' : 'users.activated', { name: u.username }));
      } catch (err) { toast(err.message, 'error'); }
    }));
    return box;
  }

  async function changeRole(u) {
    const saved = await formDialog({
      titleKey: 'users.change_role',
      fields: [{ name: 'role', labelKey: 'users.role', type: 'select', options: ROLES }],
      values: { role: u.role },
      submitKey: 'common.save',
      onSubmit: (v) => invoke('user_update', { username: u.username, role: v.role, active: null }),
    });
    if (saved) await done(t('users.saved', { name: saved.username }));
  }

  async function setPassword(u) {
    if (u.username === ctx.user.username) {
      if (await changeOwnPassword()) await done(t('users.own_password_changed'));
      return;
    }
    const ok = await passwordDialog(
      'users.set_password',
      [{ name: 'password', labelKey: 'users.password', type: 'password', required: true, hintKey: 'setup.hint' }],
      (v) => invoke('user_set_password', { username: u.username, password: v.password }),
    );
    if (ok) await done(t('users.password_set', { name: u.username }));
  }

  async function create() {
    const saved = await formDialog({
      titleKey: 'users.new_title',
      fields: [
        { name: 'username', labelKey: 'users.username', required: true },
        { name: 'role', labelKey: 'users.role', type: 'select', options: ROLES },
        { name: 'password', labelKey: 'users.password', type: 'password', required: true, hintKey: 'setup.hint' },
      ],
      values: { role: 'operator' },
      submitKey: 'common.save',
      onSubmit: (v) => invoke('user_create', { username: v.username, role: v.role, password: v.password }),
    });
    if (saved) await done(t('users.saved', { name: saved.username }));
  }

  const toolbar = el('div', { class: 'toolbar' });
  toolbar.append(button('users.new', create, 'primary'));
  view.replaceChildren(el('h1', {}, t('nav.users')), toolbar, table.element);
  await table.refresh();
}

/**
 * A password dialog: `fields` first, then the new password again; the two must match
 * before `save` asks the core. Resolves true once saved, false when closed.
 * @param {string} titleKey
 * @param {import('../components.js').Field[]} fields
 * @param {(v: Record<string, any>) => Promise<unknown>} save
 * @returns {Promise<boolean>}
 */
async function passwordDialog(titleKey, fields, save) {
  const ok = await formDialog({
    titleKey,
    fields: [...fields, { name: 'confirm', labelKey: 'setup.confirm', type: 'password', required: true }],
    submitKey: 'common.save',
    onSubmit: async (v) => {
      if (v.password !== v.confirm) throw Object.assign(new Error(t('setup.mismatch')), { details: { field: 'confirm' } });
      await save(v);
      return true;
    },
  });
  return ok === true;
}

/**
 * The signed-in user's own password, for every role (the top bar's "My password"; the
 * Users screen for oneself): the core asks for the current one and ends one's other
 * sessions. Resolves true once changed.
 * @returns {Promise<boolean>}
 */
export function changeOwnPassword() {
  return passwordDialog('users.own_password_title', [
    { name: 'current', labelKey: 'users.current_password', type: 'password', required: true, autocomplete: 'current-password' },
    { name: 'password', labelKey: 'users.new_password', type: 'password', required: true, hintKey: 'setup.hint' },
  ], (v) => invoke('user_change_own_password', { current: v.current, password: v.password }));
}
