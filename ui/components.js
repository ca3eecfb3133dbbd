// Building blocks shared by the screens: a paged, sortable table fed by the core; a form
// dialog that shows the core's validation errors next to the field they name; a
// confirmation dialog; a status line; a date field in the app's own form; and what the
// keys and persons lists share (a Delete that asks, "show deleted", a change followed
// through to the table). All DOM is built with createElement and textContent, never
// from HTML strings.

import { el, language, t } from './admin-common.js';
import { locale } from './format.js';
import { formatDateText, isoDay, parseDateText } from './dates.js';

/**
 * @typedef {{labelKey: string, sort?: string, cell: (row: any) => (string|Node), className?: string}} Column
 */

/**
 * A table whose rows come from the core one page at a time. `fetch` gets
 * {limit, offset, sort, after} and returns rows; one extra row is asked for to know
 * whether a next page exists, so no count of the whole table is needed. With `cursor`
 * (a row's place in the list's order), `after` is the cursor of the last row of the page
 * before (null on the first page), so the core reads a deep page as one index range
 * (keyset paging) instead of skipping `offset` rows.
 * @param {{columns: Column[], fetch: (q: {limit: number, offset: number, sort?: string, after: any}) => Promise<any[]>,
 *   emptyKey: string, pageSize?: number, sort?: string, caption?: string, rowClass?: (row: any) => string,
 *   initial?: any[]|null, cursor?: (row: any) => any, id?: string}} opts
 */
export function pagedTable(opts) {
  const pageSize = opts.pageSize || 50;
  let offset = 0;
  /** Keyset paging: the cursor each page was fetched after, the first page's null. */
  /** @type {any[]} */
  let afters = [null];
  let sort = opts.sort;
  let rows = [];
  const wrap = el('div', { class: 'table-wrap' });
  const table = el('table', opts.id ? { id: opts.id } : {});
  if (opts.caption) table.append(el('caption', { class: 'sr-only' }, opts.caption));
  const thead = el('thead');
  const tbody = el('tbody');
  const empty = el('p', { class: 'empty' });
  const pager = el('div', { class: 'pager' });
  const prev = el('button', { type: 'button', class: 'secondary' });
  const next = el('button', { type: 'button', class: 'secondary' });
  const pageInfo = el('span', { class: 'muted' });
  pager.append(prev, pageInfo, next);
  table.append(thead, tbody);
  wrap.append(table, empty, pager);

  function header() {
    const tr = el('tr');
    for (const c of opts.columns) {
      const th = el('th', { scope: 'col' });
      if (c.sort) {
        const active = sort === c.sort || sort === `-${c.sort}`;
        const desc = sort === `-${c.sort}`;
        th.setAttribute('aria-sort', active ? (desc ? 'descending' : 'ascending') : 'none');
        const b = el('button', { type: 'button', class: 'th-sort' }, t(c.labelKey) + (active ? (desc ? ' ▼' : ' ▲') : ''));
        b.addEventListener('click', () => {
          sort = sort === c.sort ? `-${c.sort}` : c.sort;
          offset = 0;
          afters = [null];
          refresh();
        });
        th.append(b);
      } else {
        th.textContent = t(c.labelKey);
      }
      tr.append(th);
    }
    thead.replaceChildren(tr);
  }

  /** @param {any[]} got up to pageSize + 1 rows */
  function paint(got) {
    header();
    rows = got.slice(0, pageSize);
    tbody.replaceChildren(...rows.map((r) => {
      const tr = el('tr', opts.rowClass ? { class: opts.rowClass(r) } : {});
      for (const c of opts.columns) {
        const td = el('td', c.className ? { class: c.className } : {});
        const v = c.cell(r);
        if (v instanceof Node) td.append(v); else td.textContent = v ?? '';
        tr.append(td);
      }
      return tr;
    }));
    table.hidden = rows.length === 0;
    empty.hidden = rows.length !== 0;
    empty.textContent = t(opts.emptyKey);
    prev.textContent = t('list.prev');
    next.textContent = t('list.next');
    prev.disabled = offset === 0;
    next.disabled = got.length <= pageSize;
    pager.hidden = offset === 0 && got.length <= pageSize;
    pageInfo.textContent = t('list.page', { n: Math.floor(offset / pageSize) + 1 });
  }

  /** The latest request: an answer to an older one (a page the user has already left,
   * or the first page still on its way when Next was clicked) is dropped, never painted
   * over the newer one. */
  let latest = 0;
  async function refresh() {
    const mine = ++latest;
    const got = await opts.fetch({ limit: pageSize + 1, offset, sort, after: afters[afters.length - 1] });
    if (mine === latest) paint(got);
  }
  // First paint from the cache (if the screen has one), then the core's answer replaces it.
  if (opts.initial && opts.initial.length) paint(opts.initial);
  prev.addEventListener('click', () => {
    offset = Math.max(0, offset - pageSize);
    if (afters.length > 1) afters.pop();
    refresh();
  });
  next.addEventListener('click', () => {
    offset += pageSize;
    if (opts.cursor && rows.length) afters.push(opts.cursor(rows[rows.length - 1]));
    refresh();
  });

  return {
    element: wrap,
    refresh,
    /** Back to the first page (after the search changes). */
    reset() { offset = 0; afters = [null]; return refresh(); },
    get rows() { return rows; },
  };
}

/** The dialog element all dialogs share (one at a time). */
export function dialogHost() {
  let d = /** @type {HTMLDialogElement} */ (document.getElementById('dialog'));
  if (!d) {
    d = /** @type {HTMLDialogElement} */ (el('dialog', { id: 'dialog', 'aria-modal': 'true' }));
    document.body.append(d);
  }
  return d;
}

/**
 * The end of a dialog's form: the line for an error of the whole form, then Cancel and
 * the submit button, side by side.
 * @param {string} submitKey the submit button's label
 */
export function dialogFormEnd(submitKey) {
  const formError = el('p', { class: 'error', role: 'alert' });
  const buttons = el('div', { class: 'dialog-buttons' });
  const cancel = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'secondary' }, t('common.cancel')));
  const submit = /** @type {HTMLButtonElement} */ (el('button', { type: 'submit' }, t(submitKey)));
  buttons.append(cancel, submit);
  return { formError, buttons, cancel, submit };
}

/**
 * @typedef {{name: string, labelKey: string, type?: string, required?: boolean,
 *   options?: {value: string, labelKey?: string, label?: string}[], hintKey?: string,
 *   autocomplete?: string}} Field
 */

/**
 * A modal form. `onSubmit(values)` calls the core; its error is shown next to the field
 * the core names (details.field), or under the form. Resolves with onSubmit's result, or
 * null when cancelled.
 * @param {{titleKey: string, fields: Field[], values?: Record<string, any>, submitKey: string,
 *   onSubmit: (v: Record<string, any>) => Promise<any>, extra?: Node}} opts
 */
export function formDialog(opts) {
  const d = dialogHost();
  return new Promise((resolve) => {
    const form = el('form', { class: 'dialog-form', novalidate: '' });
    const title = el('h2', { id: 'dialog-title' }, t(opts.titleKey));
    d.setAttribute('aria-labelledby', 'dialog-title');
    form.append(title);
    if (opts.extra) form.append(opts.extra);
    /** @type {Record<string, {input: HTMLInputElement|HTMLSelectElement|HTMLTextAreaElement, error: HTMLElement}>} */
    const inputs = {};
    for (const f of opts.fields) {
      const id = `f-${f.name}`;
      const row = el('div', { class: f.type === 'checkbox' ? 'field check' : 'field' });
      const label = el('label', { for: id }, t(f.labelKey) + (f.required ? ' *' : ''));
      let input;
      if (f.type === 'select') {
        input = el('select', { id, name: f.name });
        for (const o of f.options || []) {
          const opt = el('option', { value: o.value }, o.labelKey ? t(o.labelKey) : (o.label ?? o.value));
          input.append(opt);
        }
      } else if (f.type === 'textarea') {
        input = el('textarea', { id, name: f.name, rows: '3' });
      } else {
        input = el('input', { id, name: f.name, type: f.type || 'text' });
        if (f.type === 'password') input.setAttribute('autocomplete', f.autocomplete || 'new-password');
      }
      const v = opts.values ? opts.values[f.name] : undefined;
      if (input instanceof HTMLInputElement && f.type === 'checkbox') input.checked = v === undefined ? true : !!v;
      else if (v !== undefined && v !== null) input.value = String(v);
      const error = el('p', { class: 'field-error', id: `${id}-error`, role: 'alert' });
      input.setAttribute('aria-describedby', `${id}-error`);
      if (f.type === 'checkbox') row.append(input, label, error);
      else row.append(label, input, error);
      if (f.hintKey) row.append(el('p', { class: 'hint' }, t(f.hintKey)));
      inputs[f.name] = { input, error };
      form.append(row);
    }
    const { formError, buttons, cancel, submit } = dialogFormEnd(opts.submitKey);
    form.append(formError, buttons);
    d.replaceChildren(form);

    const close = (result) => { d.close(); resolve(result); };
    cancel.addEventListener('click', () => close(null));
    d.oncancel = (e) => { e.preventDefault(); close(null); };
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      Object.values(inputs).forEach((i) => { i.error.textContent = ''; i.input.removeAttribute('aria-invalid'); });
      formError.textContent = '';
      const values = {};
      for (const f of opts.fields) {
        const inp = inputs[f.name].input;
        values[f.name] = f.type === 'checkbox' ? /** @type {HTMLInputElement} */ (inp).checked : inp.value;
      }
      for (const f of opts.fields) {
        if (f.required && f.type !== 'checkbox' && !String(values[f.name]).trim()) {
          inputs[f.name].error.textContent = t('form.required');
          inputs[f.name].input.setAttribute('aria-invalid', 'true');
          inputs[f.name].input.focus();
          return;
        }
      }
      submit.disabled = true;
      try {
        close(await opts.onSubmit(values));
      } catch (err) {
        const field = err.details && err.details.field;
        if (field && inputs[field]) {
          inputs[field].error.textContent = err.message;
          inputs[field].input.setAttribute('aria-invalid', 'true');
          inputs[field].input.focus();
        } else {
          formError.textContent = err.message;
        }
      } finally {
        submit.disabled = false;
      }
    });
    d.showModal();
    const first = form.querySelector('input, select, textarea');
    if (first) /** @type {HTMLElement} */ (first).focus();
  });
}

/**
 * Asks before something destructive. Resolves true when confirmed.
 * @param {string} message already translated
 * @param {string} confirmKey label of the confirming button
 */
export function confirmDialog(message, confirmKey) {
  const d = dialogHost();
  return new Promise((resolve) => {
    const box = el('div', { class: 'dialog-form' });
    box.append(el('h2', { id: 'dialog-title' }, t('confirm.title')), el('p', {}, message));
    const buttons = el('div', { class: 'dialog-buttons' });
    const no = el('button', { type: 'button', class: 'secondary' }, t('common.cancel'));
    const yes = el('button', { type: 'button', class: 'danger' }, t(confirmKey));
    buttons.append(no, yes);
    box.append(buttons);
    d.replaceChildren(box);
    d.setAttribute('aria-labelledby', 'dialog-title');
    const close = (v) => { d.close(); resolve(v); };
    no.addEventListener('click', () => close(false));
    yes.addEventListener('click', () => close(true));
    d.oncancel = (e) => { e.preventDefault(); close(false); };
    d.showModal();
    no.focus();
  });
}

/**
 * Shows content (a table, details) in the dialog with a Close button.
 * @param {string} title already translated
 * @param {Node} content
 */
export function infoDialog(title, content) {
  const d = dialogHost();
  return new Promise((resolve) => {
    const box = el('div', { class: 'dialog-form wide' });
    const close = el('button', { type: 'button' }, t('common.close'));
    const buttons = el('div', { class: 'dialog-buttons' });
    buttons.append(close);
    box.append(el('h2', { id: 'dialog-title' }, title), content, buttons);
    d.replaceChildren(box);
    d.setAttribute('aria-labelledby', 'dialog-title');
    const done = () => { d.close(); resolve(undefined); };
    close.addEventListener('click', done);
    d.oncancel = (e) => { e.preventDefault(); done(); };
    d.showModal();
    close.focus();
  });
}

let toastTimer = 0;

/**
 * A one-line status message at the bottom of the window. A confirmation goes after a
 * few seconds; an error stays until it is dismissed (its × button) or the screen
 * changes, so nobody misses it. Sign-out and every change of screen clear it
 * (clearToast), so no message outlives the screen or the user it was for.
 * @param {string} text already translated
 * @param {'ok'|'error'} [kind]
 */
export function toast(text, kind = 'ok') {
  const box = document.getElementById('toast');
  if (!box) return;
  const close = el('button', { type: 'button', class: 'toast-close', 'aria-label': t('toast.dismiss'), title: t('toast.dismiss') }, '×');
  close.addEventListener('click', clearToast);
  box.replaceChildren(el('span', { class: 'toast-text' }, text), close);
  box.className = `toast ${kind}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  box.hidden = false;
  window.clearTimeout(toastTimer);
  if (kind !== 'error') toastTimer = window.setTimeout(clearToast, 5000);
}

/** Hides the status message at once (sign-out, session end, another screen). */
export function clearToast() {
  window.clearTimeout(toastTimer);
  const box = document.getElementById('toast');
  if (!box) return;
  box.hidden = true;
  box.replaceChildren();
}

/**
 * A date, or a date and time, typed in the app's own form whatever the system's locale:
 * "24.11.2026" or "24.11.2026 17:00" (24-hour clock), as the tables show dates. The
 * placeholder shows the form; a value that is not a date is said under the field. A
 * valid value is rewritten in full ("1.2.2027 9:05" becomes "01.02.2027 09:05"), which
 * is also what the core reads (time::parse_user_time).
 * @param {{id: string, labelKey: string, withTime?: boolean, inline?: boolean}} opts
 */
export function dateInput(opts) {
  const wrap = el('div', { class: `field date-field${opts.inline ? ' inline' : ''}` });
  const form = opts.withTime ? t('date.form_time') : t('date.form');
  const input = /** @type {HTMLInputElement} */ (el('input', {
    id: opts.id, type: 'text', class: opts.withTime ? 'date-input with-time' : 'date-input', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false',
    placeholder: form, 'aria-describedby': `${opts.id}-error`,
  }));
  const error = el('p', { class: 'field-error', id: `${opts.id}-error`, role: 'alert' });
  const control = el('div', { class: 'date-control' });
  const pick = el('button', { type: 'button', class: 'secondary date-pick', id: `${opts.id}-pick`, 'aria-label': t('date.pick'), title: t('date.pick'), 'aria-expanded': 'false' }, '▦');
  control.append(input, pick);
  wrap.append(el('label', { for: opts.id }, t(opts.labelKey)), control, error);
  /** The value read, or null (empty or not a date). */
  const parts = () => parseDateText(input.value, !!opts.withTime);
  pick.addEventListener('click', () => {
    const open = wrap.querySelector('.date-picker');
    if (open) { open.remove(); pick.setAttribute('aria-expanded', 'false'); return; }
    const chosen = parts();
    const picker = monthPicker(chosen, (day) => {
      // The day picked; a time already typed stays.
      const p = parts();
      input.value = formatDateText({ ...day, hour: p ? p.hour : 0, minute: p ? p.minute : 0, hasTime: !!(p && p.hasTime) });
      input.dispatchEvent(new Event('change', { bubbles: true }));
      close();
    }, close);
    // A press anywhere else closes it, as a menu does.
    const away = (/** @type {Event} */ e) => { if (!wrap.contains(/** @type {Node} */ (e.target))) close(); };
    function close() {
      document.removeEventListener('pointerdown', away, true);
      picker.remove();
      pick.setAttribute('aria-expanded', 'false');
      input.focus();
    }
    document.addEventListener('pointerdown', away, true);
    wrap.append(picker);
    pick.setAttribute('aria-expanded', 'true');
    // The keyboard starts on the day chosen, else today, else the 1st.
    /** @type {HTMLElement} */ (picker.querySelector('.pick-day[aria-pressed=true]') || picker.querySelector('.pick-day[aria-current=date]') || picker.querySelector('.pick-day')).focus();
  });
  function check() {
    const p = parts();
    const bad = input.value.trim() !== '' && !p;
    if (p) input.value = formatDateText(p);
    const message = opts.withTime ? t('date.invalid_time', { form }) : t('date.invalid', { form });
    error.textContent = bad ? message : '';
    if (bad) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
  }
  // Registered first, so a screen's own change listener reads the rewritten value.
  input.addEventListener('change', check);
  return {
    wrap,
    input,
    parts,
    /** The day as "2026-11-24", or null. */
    iso() { const p = parts(); return p ? isoDay(p) : null; },
    clear() { input.value = ''; check(); },
  };
}

/**
 * A month of days to click, Monday first, in the app's language (the date field's picker):
 * the month of the day chosen, else this month.
 * @param {{year: number, month: number, day: number}|null} chosen
 * @param {(day: {year: number, month: number, day: number}) => void} onPick
 * @param {() => void} onClose Escape
 */
function monthPicker(chosen, onPick, onClose) {
  const box = el('div', { class: 'date-picker', role: 'group', 'aria-label': t('date.pick') });
  const loc = locale(language());
  const today = new Date();
  let y = chosen ? chosen.year : today.getFullYear();
  let m = chosen ? chosen.month : today.getMonth() + 1;
  function paint() {
    const head = el('div', { class: 'pick-head' });
    const prev = el('button', { type: 'button', class: 'secondary small', 'aria-label': t('date.prev_month'), title: t('date.prev_month') }, '‹');
    const next = el('button', { type: 'button', class: 'secondary small', 'aria-label': t('date.next_month'), title: t('date.next_month') }, '›');
    prev.addEventListener('click', () => { m -= 1; if (m < 1) { m = 12; y -= 1; } paint(); });
    next.addEventListener('click', () => { m += 1; if (m > 12) { m = 1; y += 1; } paint(); });
    head.append(prev, el('span', { class: 'pick-month' }, new Date(y, m - 1, 1).toLocaleDateString(loc, { month: 'long', year: 'numeric' })), next);
    const grid = el('div', { class: 'pick-grid' });
    for (const d of t('date.weekdays').split(',')) grid.append(el('span', { class: 'pick-dow' }, d));
    const lead = (new Date(y, m - 1, 1).getDay() + 6) % 7;
    for (let i = 0; i < lead; i += 1) grid.append(el('span'));
    const days = new Date(y, m, 0).getDate();
    for (let d = 1; d <= days; d += 1) {
      const b = el('button', { type: 'button', class: 'pick-day', 'aria-label': formatDateText({ year: y, month: m, day: d, hour: 0, minute: 0, hasTime: false }) }, String(d));
      if (y === today.getFullYear() && m === today.getMonth() + 1 && d === today.getDate()) b.setAttribute('aria-current', 'date');
      if (chosen && y === chosen.year && m === chosen.month && d === chosen.day) b.setAttribute('aria-pressed', 'true');
      b.addEventListener('click', () => onPick({ year: y, month: m, day: d }));
      grid.append(b);
    }
    box.replaceChildren(head, grid);
  }
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); onClose(); }
  });
  paint();
  return box;
}

/**
 * A labelled search box that calls `onSearch` as the user types (debounced).
 * @param {string} labelKey
 * @param {(text: string) => void} onSearch
 */
export function searchBox(labelKey, onSearch) {
  const id = `search-${labelKey.replace(/\W/g, '-')}`;
  const wrap = el('div', { class: 'field inline' });
  const label = el('label', { for: id }, t(labelKey));
  const input = /** @type {HTMLInputElement} */ (el('input', { id, type: 'search', autocomplete: 'off', spellcheck: 'false' }));
  let timer = 0;
  input.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => onSearch(input.value), 120);
  });
  wrap.append(label, input);
  return { element: wrap, input };
}

/**
 * A small button.
 * @param {string} labelKey
 * @param {() => void} onClick
 * @param {string} [cls]
 */
export function button(labelKey, onClick, cls = 'secondary small') {
  const b = el('button', { type: 'button', class: cls }, t(labelKey));
  b.addEventListener('click', onClick);
  return b;
}

/**
 * A status badge with a translated label.
 * @param {string} status available / issued / lost / retired / deleted
 */
export function statusBadge(status) {
  return el('span', { class: `badge ${status}` }, t(`status.${status}`));
}

/**
 * A Delete button that asks first and calls `onConfirmed` only when confirmed.
 * @param {string} question already translated
 * @param {() => Promise<void>} onConfirmed
 */
export function deleteButton(question, onConfirmed) {
  return button('common.delete', async () => {
    if (await confirmDialog(question, 'common.delete')) await onConfirmed();
  }, 'secondary small danger-text');
}

/**
 * The "show deleted" check box of a register's toolbar.
 * @param {string} id the check box's id
 * @param {(checked: boolean) => void} onChange
 */
export function showDeletedToggle(id, onChange) {
  const wrap = el('div', { class: 'field check inline' });
  const box = /** @type {HTMLInputElement} */ (el('input', { id, type: 'checkbox' }));
  box.addEventListener('change', () => onChange(box.checked));
  wrap.append(box, el('label', { for: id }, t('common.show_deleted')));
  return wrap;
}

/**
 * How a register's list screen (keys, persons) follows a change it made: the status line
 * says it, the app hears of it (the dashboard's counts) and the table fetches its page
 * again. A refused action is said as an error and changes nothing on screen.
 * @param {{refresh: () => Promise<void>}} table
 * @param {() => void} changed
 */
export function listChanges(table, changed) {
  /** @param {string} text already translated */
  async function show(text) {
    toast(text);
    changed();
    await table.refresh();
  }
  return {
    /**
     * Runs one row's action.
     * @param {() => Promise<unknown>} fn
     * @param {string} doneText already translated
     */
    async act(fn, doneText) {
      try {
        await fn();
        await show(doneText);
      } catch (err) {
        toast(err.message, 'error');
      }
    },
    /**
     * Opens the form dialog; a saved row is said by `savedText`.
     * @param {Parameters<typeof formDialog>[0]} form
     * @param {(saved: any) => string} savedText
     */
    async edit(form, savedText) {
      const saved = await formDialog(form);
      if (saved) await show(savedText(saved));
    },
  };
}

/**
 * A tab of named records (the Keys screen's Sets and Areas): an intro, a toolbar (show
 * deleted; New for admins) and one row per record with its cells and, for admins, Edit
 * and Delete (after asking). `prefix` names its ids (`PREFIX-table`, `PREFIX-deleted`)
 * and texts (`PREFIX.title`, `.empty`, `.empty_admin`, `.deleted_badge`, `.new`,
 * `.saved`, `.deleted`). The core decides every rule; a refusal is said in a toast.
 * @param {HTMLElement} panel
 * @param {{user: {role: string}, changed: () => void}} ctx
 * @param {{
 *   prefix: string,
 *   intro: string,
 *   columns: string[],
 *   list: (includeDeleted: boolean) => Promise<any[]>,
 *   cells: (item: any) => (HTMLElement|string)[],
 *   editKey: string,
 *   edit: (item: any|null) => Promise<any|null>,
 *   confirmDelete: (item: any) => string,
 *   remove: (item: any) => Promise<any>,
 * }} opts `columns`: the label keys after the name; `cells`: a row's cells after its
 *   name; `edit`: the form (null: a new record), resolving with the saved record or null
 */
export async function namedRecordsTab(panel, ctx, opts) {
  const { prefix } = opts;
  const admin = ctx.user.role === 'admin';
  let includeDeleted = false;
  const list = el('div', { class: 'table-wrap' });

  async function load() {
    let items;
    try {
      items = await opts.list(includeDeleted);
    } catch (err) {
      list.replaceChildren(el('p', { class: 'error', role: 'alert' }, err.message));
      return;
    }
    if (!items.length) {
      list.replaceChildren(el('p', { class: 'empty' }, t(`${prefix}.${admin ? 'empty_admin' : 'empty'}`)));
      return;
    }
    const table = el('table', { id: `${prefix}-table` });
    table.append(el('caption', { class: 'sr-only' }, t(`${prefix}.title`)));
    const head = el('tr');
    for (const k of [`${prefix}.name`, ...opts.columns, 'common.actions']) head.append(el('th', { scope: 'col' }, t(k)));
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    for (const item of items) {
      const tr = el('tr', { 'data-name': item.name });
      const nameCell = el('td', { class: 'strong' }, item.name);
      if (item.deleted_at) nameCell.append(el('span', { class: 'badge deleted' }, t(`${prefix}.deleted_badge`)));
      const cells = opts.cells(item).map((c) => (typeof c === 'string' ? el('td', {}, c) : c));
      tr.append(nameCell, ...cells, actions(item));
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

  /** @param {any} item */
  function actions(item) {
    const td = el('td', { class: 'actions' });
    if (!admin || item.deleted_at) return td;
    const box = el('div', { class: 'row-actions' });
    box.append(button(opts.editKey, () => edit(item)));
    box.append(deleteButton(opts.confirmDelete(item), async () => {
      try {
        await opts.remove(item);
        await done(t(`${prefix}.deleted`, { name: item.name }));
      } catch (err) {
        toast(err.message, 'error');
      }
    }));
    td.append(box);
    return td;
  }

  /** @param {any|null} item */
  async function edit(item) {
    const saved = await opts.edit(item);
    if (saved) await done(t(`${prefix}.saved`, { name: saved.name }));
  }

  const toolbar = el('div', { class: 'toolbar' });
  toolbar.append(showDeletedToggle(`${prefix}-deleted`, (checked) => { includeDeleted = checked; load(); }));
  if (admin) toolbar.append(button(`${prefix}.new`, () => edit(null), 'primary'));
  panel.replaceChildren(el('p', { class: 'hint sets-intro' }, opts.intro), toolbar, list);
  await load();
}
