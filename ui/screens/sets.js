// Key sets (rings), a tab of Keys: a set's name, its tag (the barcode on the ring) and
// its keys with where each one is now. Admins create, edit and delete (soft) sets; the
// core decides every rule (a tag that reads as a key or a person is refused, etc.).

import { el, invoke, t } from '../admin-common.js';
import { clearToast, dialogFormEnd, dialogHost, namedRecordsTab, statusBadge } from '../components.js';

/** How many keys the picker offers for one search. */
const PICK_ROWS = 12;

/**
 * One key of a set: its number, its status, and who holds it when it is out.
 * @param {any} k a SetKey
 */
function keyChip(k) {
  const li = el('li', { class: 'set-key' });
  li.append(el('strong', {}, k.number));
  if (k.name) li.append(el('span', { class: 'muted' }, k.name));
  li.append(statusBadge(k.deleted ? 'deleted' : k.status));
  if (k.status === 'issued' && k.holder_name) li.append(el('span', {}, k.holder_name));
  return li;
}

/**
 * What a set's keys are doing, in one line: "None out" / "2 of 3 keys out" / "All out".
 * @param {any[]} keys
 */
function summary(keys) {
  const out = keys.filter((k) => k.status === 'issued').length;
  if (out === 0) return t('sets.all_in');
  if (out === keys.length) return t('sets.all_out');
  return t('sets.some_out', { out, n: keys.length });
}

/**
 * The form of a set: name, tag and keys picked from the key list by search. Resolves
 * with the saved set, or null when cancelled. Errors appear next to the field the core
 * names.
 * @param {any|null} set the set to edit, or null for a new one
 */
function editDialog(set) {
  const dialog = dialogHost();
  return new Promise((resolve) => {
    /** @type {{number: string, label: string}[]} */
    const chosen = set ? set.keys.map((k) => ({ number: k.number, label: k.name || '' })) : [];
    const form = el('form', { class: 'dialog-form wide set-form', novalidate: '' });
    form.append(el('h2', { id: 'dialog-title' }, t(set ? 'sets.edit_title' : 'sets.new_title')));
    dialog.setAttribute('aria-labelledby', 'dialog-title');

    /** @type {Record<string, {input: HTMLElement, error: HTMLElement}>} */
    const fields = {};
    /**
     * @param {string} name @param {string} labelKey @param {HTMLElement} input
     * @param {string} [hintKey]
     */
    const field = (name, labelKey, input, hintKey) => {
      const id = `set-${name}`;
      input.id = id;
      const row = el('div', { class: 'field' });
      const error = el('p', { class: 'field-error', id: `${id}-error`, role: 'alert' });
      input.setAttribute('aria-describedby', `${id}-error${hintKey ? ` ${id}-hint` : ''}`);
      row.append(el('label', { for: id }, t(labelKey)), input, error);
      if (hintKey) row.append(el('p', { class: 'hint', id: `${id}-hint` }, t(hintKey)));
      fields[name] = { input, error };
      form.append(row);
      return row;
    };
    const name = /** @type {HTMLInputElement} */ (el('input', { type: 'text', value: set ? set.name : '' }));
    field('name', 'sets.name', name, 'sets.name_hint');
    const tag = /** @type {HTMLInputElement} */ (el('input', { type: 'text', value: set && set.tag ? set.tag : '', autocomplete: 'off' }));
    field('tag', 'sets.tag', tag, 'sets.tag_hint');

    // The keys: the chosen ones as chips, and a search that offers keys to add.
    // The chosen keys come first, the search that adds more under them.
    const chips = el('ul', { class: 'chips', id: 'set-chosen', 'aria-label': t('sets.chosen') });
    const none = el('p', { class: 'empty' }, t('sets.no_keys_chosen'));
    const chosenTitle = el('h3', {}, t('sets.chosen'));
    form.append(chosenTitle, none, chips);
    const search = /** @type {HTMLInputElement} */ (el('input', { type: 'search', autocomplete: 'off', spellcheck: 'false' }));
    const keysRow = field('keys', 'sets.find_key', search, 'sets.find_key_hint');
    const offers = el('ul', { class: 'set-offers', id: 'set-offers', 'aria-label': t('sets.offers') });
    keysRow.append(offers);

    function paintChosen() {
      chosenTitle.textContent = `${t('sets.chosen')} (${chosen.length})`;
      none.hidden = chosen.length > 0;
      chips.replaceChildren(...chosen.map((k, i) => {
        const li = el('li', {}, k.label ? `${k.number} · ${k.label}` : k.number);
        const rm = el('button', { type: 'button', class: 'chip-x', 'aria-label': t('sets.remove_key', { number: k.number }) }, '×');
        rm.addEventListener('click', () => { chosen.splice(i, 1); paintChosen(); paintOffers(); search.focus(); });
        li.append(rm);
        return li;
      }));
    }

    /** @type {any[]} */
    let found = [];
    let asked = 0;
    /** @param {any} k */
    function add(k) {
      if (!chosen.some((c) => c.number === k.number)) chosen.push({ number: k.number, label: k.name || '' });
      fields.keys.error.textContent = '';
      paintChosen();
      paintOffers();
    }
    function paintOffers() {
      offers.replaceChildren(...found.map((k) => {
        const taken = chosen.some((c) => c.number === k.number);
        const b = el('button', { type: 'button', class: 'secondary small offer' });
        b.append(el('strong', {}, k.number), el('span', {}, k.name ? ` · ${k.name}` : ''), statusBadge(k.status));
        b.append(el('span', { class: 'muted' }, taken ? ` ${t('sets.in_set')}` : ` + ${t('sets.add')}`));
        b.disabled = taken;
        b.addEventListener('click', () => { add(k); search.focus(); });
        const li = el('li', {});
        li.append(b);
        return li;
      }));
    }
    async function lookUp() {
      const mine = ++asked;
      const text = search.value.trim();
      try {
        const rows = await invoke('list_keys', { args: { search: text, limit: PICK_ROWS } });
        if (mine === asked) { found = rows; paintOffers(); }
      } catch (err) {
        fields.keys.error.textContent = err.message;
      }
    }
    let timer = 0;
    search.addEventListener('input', () => { window.clearTimeout(timer); timer = window.setTimeout(lookUp, 120); });
    // Enter adds the key whose number was typed (or scanned) exactly, else the only offer.
    search.addEventListener('keydown', async (ev) => {
      if (ev.key !== 'Enter') return;
      ev.preventDefault();
      window.clearTimeout(timer);
      await lookUp();
      const text = search.value.trim().toLowerCase();
      const k = found.find((f) => f.number.toLowerCase() === text) || (found.length === 1 ? found[0] : null);
      if (k) { add(k); search.value = ''; }
    });

    const { formError, buttons, cancel, submit } = dialogFormEnd('common.save');
    form.append(formError, buttons);
    dialog.replaceChildren(form);
    paintChosen();

    /** @param {any} result */
    const close = (result) => { dialog.close(); resolve(result); };
    cancel.addEventListener('click', () => close(null));
    dialog.oncancel = (e) => { e.preventDefault(); close(null); };
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearToast();
      Object.values(fields).forEach((f) => { f.error.textContent = ''; f.input.removeAttribute('aria-invalid'); });
      formError.textContent = '';
      if (!name.value.trim()) {
        fields.name.error.textContent = t('form.required');
        name.focus();
        return;
      }
      submit.disabled = true;
      try {
        close(await invoke('set_save', {
          original: set ? set.name : null,
          input: { name: name.value, tag: tag.value.trim() || null, keys: chosen.map((k) => k.number) },
        }));
      } catch (err) {
        const f = err.details && fields[err.details.field];
        // A key number that no longer exists is said next to the keys.
        const target = f || (err.code === 'not_found' ? fields.keys : null);
        if (target) {
          target.error.textContent = err.message;
          target.input.setAttribute('aria-invalid', 'true');
          target.input.focus();
        } else {
          formError.textContent = err.message;
        }
      } finally {
        submit.disabled = false;
      }
    });
    dialog.showModal();
    name.focus();
    lookUp();
  });
}

/**
 * Paints the sets into `panel`: a toolbar (show deleted; New set for admins) and one row
 * per set, with its tag and its keys (where each one is now).
 * @param {HTMLElement} panel
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export function render(panel, ctx) {
  return namedRecordsTab(panel, ctx, {
    prefix: 'sets',
    intro: t('sets.intro'),
    columns: ['sets.tag', 'sets.keys'],
    list: (includeDeleted) => invoke('list_sets', { includeDeleted }),
    cells: (s) => {
      const keysCell = el('td', {});
      keysCell.append(el('p', { class: 'hint' }, summary(s.keys)));
      const ul = el('ul', { class: 'set-keys' });
      ul.append(...s.keys.map(keyChip));
      keysCell.append(ul);
      return [s.tag || '—', keysCell];
    },
    editKey: 'common.edit',
    edit: editDialog,
    confirmDelete: (s) => t('sets.confirm_delete', { name: s.name }),
    remove: (s) => invoke('set_delete', { set: s.name }),
  });
}
