// Groups: who belongs together and which keys they may receive. A person may receive a
// key when one of their groups allows it; issuing outside that needs an admin's override.

import { el, invoke, t } from '../admin-common.js';
import { button, deleteButton, formDialog, searchBox, toast } from '../components.js';

export const screen = { id: 'groups', navKey: 'nav.groups', minRole: 'viewer' };

/**
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export async function render(view, ctx) {
  const admin = ctx.user.role === 'admin';
  const list = el('div', { class: 'group-list', role: 'list' });
  const detail = el('section', { class: 'card group-detail', id: 'group-detail' });
  /** @type {any} */
  let current = null;

  async function loadList() {
    const groups = await invoke('list_groups');
    if (!groups.length) {
      list.replaceChildren(el('p', { class: 'empty' }, t(admin ? 'groups.empty_admin' : 'groups.empty')));
      detail.hidden = true;
      pickHint.hidden = true;
      return;
    }
    list.replaceChildren(...groups.map((g) => {
      const b = el('button', { type: 'button', role: 'listitem', class: 'group-item' });
      b.append(el('strong', {}, g.name), el('span', { class: 'muted' }, t('groups.counts', { members: g.member_count, keys: g.key_count })));
      if (current && current.id === g.id) b.classList.add('selected');
      b.addEventListener('click', () => open(g));
      return b;
    }));
    if (current) {
      const again = groups.find((g) => g.id === current.id);
      if (again) await open(again); else { current = null; detail.hidden = true; }
    }
  }

  async function changed(doneText) {
    toast(doneText);
    ctx.changed();
    await loadList();
  }

  /**
   * One member or allowed key of the open group; an admin's chip has a × that removes it.
   * @param {string} text
   * @param {string} removeLabel already translated
   * @param {() => Promise<void>} remove
   */
  function chip(text, removeLabel, remove) {
    const li = el('li', {}, text);
    if (admin) {
      const rm = el('button', { type: 'button', class: 'chip-x', 'aria-label': removeLabel }, '×');
      rm.addEventListener('click', async () => {
        try { await remove(); } catch (err) { toast(err.message, 'error'); }
      });
      li.append(rm);
    }
    return li;
  }

  /**
   * The open group's members or allowed keys: a heading, the chips (or a line saying there
   * are none), and how many more there are than shown.
   * @param {string} title already translated
   * @param {string} none already translated
   * @param {string} id the chip list's id
   * @param {HTMLElement[]} chips
   * @param {number} total
   */
  function chipSection(title, none, id, chips, total) {
    const section = el('section', {});
    section.append(el('h3', {}, title));
    if (!chips.length) section.append(el('p', { class: 'empty' }, none));
    const ul = el('ul', { class: 'chips', id });
    ul.append(...chips);
    section.append(ul);
    if (total > chips.length) section.append(el('p', { class: 'hint' }, t('groups.more', { n: total - chips.length })));
    return section;
  }

  async function open(g) {
    current = g;
    pickHint.hidden = true;
    list.querySelectorAll('.group-item').forEach((b) => b.classList.toggle('selected', b.querySelector('strong').textContent === g.name));
    const d = await invoke('group_detail', { id: g.id });
    detail.hidden = false;
    const head = el('div', { class: 'detail-head' });
    head.append(el('h2', {}, g.name));
    if (admin) {
      head.append(button('common.edit', () => edit(g)), deleteButton(t('groups.confirm_delete', { name: g.name }), async () => {
        try {
          await invoke('group_delete', { name: g.name });
          current = null;
          await changed(t('groups.deleted', { name: g.name }));
        } catch (err) { toast(err.message, 'error'); }
      }));
    }
    const desc = el('p', { class: 'muted' }, g.description || '');

    // Members.
    const memberChips = d.members.map((p) => chip(p.full_name + (p.code ? ` (${p.code})` : ''), t('groups.remove_member', { name: p.full_name }), async () => {
      await invoke('group_members', { name: g.name, personIds: [p.id], add: false });
      await changed(t('groups.member_removed', { name: p.full_name }));
    }));
    const members = chipSection(t('groups.members'), t('groups.no_members'), 'group-members', memberChips, g.member_count);
    if (admin) {
      const results = el('div', { class: 'search-results' });
      const sb = searchBox('groups.add_member', async (text) => {
        if (!text.trim()) { results.replaceChildren(); return; }
        const found = await invoke('list_persons', { args: { search: text, limit: 8 } });
        results.replaceChildren(...found.map((p) => {
          const b = el('button', { type: 'button', class: 'candidate' }, `+ ${p.full_name}${p.code ? ` (${p.code})` : ''}`);
          b.addEventListener('click', async () => {
            try {
              await invoke('group_members', { name: g.name, personIds: [p.id], add: true });
              await changed(t('groups.member_added', { name: p.full_name }));
            } catch (err) { toast(err.message, 'error'); }
          });
          return b;
        }));
      });
      members.append(sb.element, results);
    }

    // Allowed keys.
    const keyChips = d.keys.map((k) => chip(k.number + (k.name ? ` · ${k.name}` : ''), t('groups.remove_key', { number: k.number }), async () => {
      await invoke('group_allow', { name: g.name, keys: [k.number], allow: false });
      await changed(t('groups.key_removed', { number: k.number }));
    }));
    const keys = chipSection(t('groups.keys'), t('groups.no_keys'), 'group-keys', keyChips, g.key_count);
    if (admin) {
      const f = el('form', { class: 'inline-form' });
      const input = /** @type {HTMLInputElement} */ (el('input', { id: 'group-add-keys', type: 'text' }));
      const err = el('p', { class: 'field-error', role: 'alert' });
      f.append(el('label', { for: 'group-add-keys' }, t('groups.add_keys')), input, el('button', { type: 'submit', class: 'secondary small' }, t('groups.allow')), err);
      f.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const numbers = input.value.split(/[\s,;]+/).filter(Boolean);
        if (!numbers.length) return;
        try {
          await invoke('group_allow', { name: g.name, keys: numbers, allow: true });
          await changed(t('groups.keys_added', { keys: numbers.join(', ') }));
        } catch (e) { err.textContent = e.message; }
      });
      keys.append(f, el('p', { class: 'hint' }, t('groups.add_keys_hint')));
    }
    const cols = el('div', { class: 'two-col' });
    cols.append(members, keys);
    detail.replaceChildren(head, desc, cols);
  }

  async function edit(g) {
    const saved = await formDialog({
      titleKey: g ? 'groups.edit_title' : 'groups.new_title',
      fields: [
        { name: 'name', labelKey: 'groups.name', required: true },
        { name: 'description', labelKey: 'groups.description', type: 'textarea' },
      ],
      values: g || {},
      submitKey: 'common.save',
      onSubmit: (v) => invoke('group_save', { original: g ? g.name : null, name: v.name, description: v.description }),
    });
    if (saved) {
      current = saved;
      await changed(t('groups.saved', { name: saved.name }));
    }
  }

  const toolbar = el('div', { class: 'toolbar' });
  if (admin) toolbar.append(button('groups.new', () => edit(null), 'primary'));
  const layout = el('div', { class: 'groups-layout' });
  detail.hidden = true;
  const pickHint = el('p', { class: 'empty card', id: 'group-pick-hint' }, t('groups.pick'));
  layout.append(list, detail, pickHint);
  view.replaceChildren(el('h1', {}, t('nav.groups')), toolbar, layout);
  await loadList();
}
