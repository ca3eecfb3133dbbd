// Key control on the Keys screen (issue 14): report a key lost (with its reason) or found,
// the impact of losing a key (the areas it opens, the other keys that open them and who
// holds them now, whether to re-key) with its printed sheet, and which areas a key opens.
// Every rule and role check is the core's; these dialogs only ask and show its answer.

import { el, invoke, localTime, t } from './admin-common.js';
import { dialogFormEnd, dialogHost, formDialog, statusBadge } from './components.js';
import { printSheet } from './receipt.js';

/**
 * The key a dialog is about, in one line: "101 · Room 204".
 * @param {{number: string, name?: string|null}} key
 */
function keyLine(key) {
  return el('p', { class: 'kc-key' }, key.name ? `${key.number} · ${key.name}` : key.number);
}

/**
 * Asks for the reason (who lost it, how, when) and reports the key lost. Resolves with
 * the key-log row, or null when cancelled; the core's refusal is said next to the reason.
 * The Keys screen, the Desk, offboarding and the stocktake's report all use it.
 * @param {{number: string, name?: string|null, holder_name?: string|null}} key
 * @param {string} [intro] what the screen says of it (else who holds it, if anyone)
 */
export function reportLost(key, intro) {
  const extra = el('div', { class: 'kc-intro' });
  extra.append(keyLine(key));
  if (intro) extra.append(el('p', { class: 'hint' }, intro));
  else if (key.holder_name) extra.append(el('p', { class: 'hint' }, t('kc.lost_holder', { name: key.holder_name })));
  return formDialog({
    titleKey: 'kc.lost_title',
    extra,
    fields: [{ name: 'reason', labelKey: 'kc.lost_reason', type: 'textarea', required: true, hintKey: 'kc.lost_reason_hint' }],
    submitKey: 'kc.lost_submit',
    onSubmit: (v) => invoke('key_lost', { number: key.number, reason: v.reason }),
  });
}

/**
 * Reports a lost key found, with where it was found (optional). Resolves with the
 * key-log row, or null when cancelled.
 * @param {{number: string, name?: string|null}} key
 */
export function reportFound(key) {
  return formDialog({
    titleKey: 'kc.found_title',
    extra: keyLine(key),
    fields: [{ name: 'comment', labelKey: 'kc.found_comment', hintKey: 'kc.found_comment_hint' }],
    submitKey: 'kc.found_submit',
    onSubmit: (v) => invoke('key_found', { number: key.number, comment: v.comment.trim() || null }),
  });
}

/**
 * Who holds a key now, as a cell says it: "Jānis Bērziņš (E-1)", or nothing.
 * @param {{holder?: string|null, holder_code?: string|null}} k
 */
function holderText(k) {
  if (!k.holder) return '';
  return k.holder_code ? `${k.holder} (${k.holder_code})` : k.holder;
}

/**
 * What the impact recommends, in one sentence.
 * @param {any} i the impact (key_impact)
 */
function recommendation(i) {
  if (!i.recommend_rekey) return t('kc.no_area');
  const vars = { number: i.key, areas: i.areas.join(', ') };
  if (!i.other_keys.length) return t('kc.rekey', vars);
  // Only keys someone holds have to be asked back.
  const out = i.other_keys.filter((/** @type {any} */ k) => k.holder).length;
  return t(out ? 'kc.rekey_others_out' : 'kc.rekey_others', { ...vars, n: i.other_keys.length, out });
}

/**
 * The lost report's facts: when, who had it, who reported it, why.
 * @param {any} lost
 * @returns {[string, string][]}
 */
function lostFacts(lost) {
  /** @type {[string, string][]} */
  const rows = [['kc.lost_at', localTime(lost.at)]];
  rows.push(['kc.lost_person', lost.person || t('kc.lost_from_hook')]);
  rows.push(['kc.reported_by', lost.reported_by]);
  if (lost.reason) rows.push(['kc.lost_reason_short', lost.reason]);
  return rows;
}

/**
 * The other keys of the areas, as a table: number, room, status, holder now, areas.
 * @param {any[]} others
 * @param {boolean} paper the printed sheet (the status as plain text, not a badge)
 */
function otherKeysTable(others, paper) {
  const table = el('table', paper ? { class: 'rc-keys' } : {});
  const head = el('tr');
  for (const k of ['keys.number', 'keys.name', 'keys.status', 'kc.holder_now', 'kc.opens_too']) head.append(el('th', { scope: 'col' }, t(k)));
  const thead = el('thead');
  thead.append(head);
  const tbody = el('tbody');
  for (const k of others) {
    const tr = el('tr');
    const status = el('td', {});
    status.append(paper ? t(`status.${k.status}`) : statusBadge(k.status));
    tr.append(el('td', { class: 'strong' }, k.number), el('td', {}, k.name || ''), status,
      el('td', {}, holderText(k) || '—'), el('td', {}, k.areas.join(', ')));
    tbody.append(tr);
  }
  table.append(thead, tbody);
  return table;
}

/**
 * The impact laid out for paper (A4): the key and its loss, the recommendation, the
 * areas and the other keys with their holders, and lines to sign when the locks change.
 * @param {any} i the impact
 */
export function impactSheet(i) {
  const sheet = el('section', { class: 'kc-sheet', 'aria-label': t('kc.impact_title', { number: i.key }) });
  const head = el('header', { class: 'rc-head' });
  const titles = el('div', {});
  titles.append(el('h2', { class: 'rc-title' }, t('kc.impact_title', { number: i.key })));
  if (i.name) titles.append(el('div', { class: 'rc-site' }, i.name));
  head.append(titles, el('div', { class: 'rc-marks' }, t('kc.printed_at', { at: localTime(Math.floor(Date.now() / 1000)) })));
  sheet.append(head);
  const facts = el('div', { class: 'rc-facts' });
  /** @param {string} labelKey @param {string} value */
  const fact = (labelKey, value) => {
    const r = el('div', { class: 'rc-row' });
    r.append(el('span', { class: 'rc-label' }, t(labelKey)), el('span', { class: 'rc-value' }, value));
    facts.append(r);
  };
  fact('keys.status', t(`status.${i.status}`));
  if (i.lost) for (const [k, v] of lostFacts(i.lost)) fact(k, v);
  fact('kc.areas', i.areas.length ? i.areas.join(', ') : t('kc.no_areas_known'));
  sheet.append(facts);
  const advice = el('div', { class: `kc-sheet-advice${i.recommend_rekey ? ' rekey' : ''}` });
  advice.append(el('strong', {}, t(i.recommend_rekey ? 'kc.rekey_title' : 'kc.no_area_title')), el('span', {}, recommendation(i)));
  sheet.append(advice);
  if (i.areas.length) {
    sheet.append(el('h3', { class: 'kc-sheet-h' }, t('kc.other_keys')));
    if (i.other_keys.length) sheet.append(otherKeysTable(i.other_keys, true));
    else sheet.append(el('p', {}, t('kc.no_other_keys')));
  }
  const signs = el('div', { class: 'rc-signs' });
  for (const k of ['kc.sign_rekeyed', 'kc.sign_checked']) {
    const s = el('div', { class: 'rc-sign' });
    s.append(el('div', { class: 'rc-blank' }), el('div', { class: 'rc-sign-label' }, t(k)));
    signs.append(s);
  }
  sheet.append(signs);
  return sheet;
}

/**
 * The impact of losing key `number`, in a dialog: the loss (when it is lost), a clear
 * recommendation, the areas, the other keys with their holders now; Print, and for
 * admins "Opens…" (which areas the key opens), after which the impact is read again.
 * @param {string} number
 * @param {{admin: boolean}} opts
 */
export async function showImpact(number, opts) {
  const d = dialogHost();
  /** @type {any} */
  let impact;
  try {
    impact = await invoke('key_impact', { number });
  } catch (err) {
    impact = null;
    const box = el('div', { class: 'dialog-form' });
    const close = el('button', { type: 'button' }, t('common.close'));
    const buttons = el('div', { class: 'dialog-buttons' });
    buttons.append(close);
    box.append(el('h2', { id: 'dialog-title' }, t('kc.impact_title', { number })), el('p', { class: 'error', role: 'alert' }, err.message), buttons);
    d.replaceChildren(box);
    return new Promise((resolve) => {
      const done = () => { d.close(); resolve(undefined); };
      close.addEventListener('click', done);
      d.oncancel = (e) => { e.preventDefault(); done(); };
      if (!d.open) d.showModal();
      close.focus();
    });
  }
  const i = impact;
  return new Promise((resolve) => {
    const box = el('div', { class: 'dialog-form wide kc-impact', id: 'impact' });
    box.append(el('h2', { id: 'dialog-title' }, t('kc.impact_title', { number: i.key })));
    d.setAttribute('aria-labelledby', 'dialog-title');
    const head = el('div', { class: 'kc-head' });
    head.append(el('span', { class: 'kc-key' }, i.name ? `${i.key} · ${i.name}` : i.key), statusBadge(i.status));
    box.append(head);
    if (i.lost) {
      const dl = el('dl', { class: 'facts kc-lost', id: 'impact-lost' });
      for (const [k, v] of lostFacts(i.lost)) dl.append(el('dt', {}, t(k)), el('dd', {}, v));
      box.append(dl);
    }
    const advice = el('div', { class: `kc-advice ${i.recommend_rekey ? 'rekey' : 'unknown'}`, id: 'impact-advice', role: 'note' });
    advice.append(el('strong', {}, t(i.recommend_rekey ? 'kc.rekey_title' : 'kc.no_area_title')), el('p', {}, recommendation(i)));
    box.append(advice);
    if (i.areas.length) {
      box.append(el('h3', {}, t('kc.areas')));
      const chips = el('ul', { class: 'chips kc-areas', id: 'impact-areas', 'aria-label': t('kc.areas') });
      chips.append(...i.areas.map((/** @type {string} */ a) => el('li', {}, a)));
      box.append(chips);
      box.append(el('h3', {}, t('kc.other_keys')));
      if (i.other_keys.length) {
        const wrap = el('div', { class: 'table-wrap kc-others' });
        const table = otherKeysTable(i.other_keys, false);
        table.id = 'impact-keys';
        wrap.append(table);
        box.append(wrap);
      } else {
        box.append(el('p', { class: 'empty', id: 'impact-keys-none' }, t('kc.no_other_keys')));
      }
    }
    const status = el('p', { class: 'hint', id: 'impact-status', role: 'status' });
    const buttons = el('div', { class: 'dialog-buttons' });
    const print = el('button', { type: 'button', class: 'secondary', id: 'impact-print' }, t('kc.print'));
    const close = el('button', { type: 'button' }, t('common.close'));
    if (opts.admin) {
      const opens = el('button', { type: 'button', class: 'secondary', id: 'impact-opens' }, t('kc.opens_button'));
      opens.addEventListener('click', async () => {
        const saved = await editOpens({ number: i.key, name: i.name });
        // The shared dialog now held the areas form: paint the impact again, as it is now.
        resolve(showImpact(number, opts).then(() => saved));
      });
      buttons.append(opens);
    }
    buttons.append(print, close);
    box.append(status, buttons);
    d.replaceChildren(box);
    print.addEventListener('click', async () => {
      status.className = 'hint';
      try {
        await printSheet(impactSheet(i));
        status.textContent = t('kc.printed');
      } catch (err) {
        status.className = 'hint error';
        status.textContent = err.message;
      }
    });
    const done = () => { d.close(); resolve(undefined); };
    close.addEventListener('click', done);
    d.oncancel = (e) => { e.preventDefault(); done(); };
    if (!d.open) d.showModal();
    close.focus();
  });
}

/**
 * Which areas key `key` opens (admins): every area as a check box, the key's own
 * ticked; saved as exactly the ticked ones. Resolves with the saved areas, or null.
 * @param {{number: string, name?: string|null}} key
 */
export async function editOpens(key) {
  const d = dialogHost();
  const [all, mine] = await Promise.all([invoke('list_areas'), invoke('key_areas_get', { number: key.number })]);
  const ticked = new Set(mine.map((/** @type {any} */ a) => a.name));
  return new Promise((resolve) => {
    const form = el('form', { class: 'dialog-form kc-opens', novalidate: '' });
    form.append(el('h2', { id: 'dialog-title' }, t('kc.opens_title', { number: key.number })));
    d.setAttribute('aria-labelledby', 'dialog-title');
    if (key.name) form.append(keyLine(key));
    const fieldset = el('fieldset', { class: 'kc-area-list', id: 'opens-areas' });
    fieldset.append(el('legend', {}, t('kc.opens_legend')));
    /** @type {HTMLInputElement[]} */
    const boxes = [];
    all.forEach((/** @type {any} */ a, /** @type {number} */ n) => {
      const id = `opens-${n}`;
      const row = el('div', { class: 'field check' });
      const box = /** @type {HTMLInputElement} */ (el('input', { type: 'checkbox', id, value: a.name }));
      box.checked = ticked.has(a.name);
      boxes.push(box);
      row.append(box, el('label', { for: id }, a.name));
      if (a.description) row.append(el('span', { class: 'muted' }, a.description));
      fieldset.append(row);
    });
    if (all.length) form.append(fieldset, el('p', { class: 'hint' }, t('kc.opens_hint')));
    else form.append(el('p', { class: 'empty' }, t('kc.opens_no_areas')));
    const { formError, buttons, cancel, submit } = dialogFormEnd('common.save');
    submit.disabled = !all.length;
    form.append(formError, buttons);
    d.replaceChildren(form);
    /** @param {any} v */
    const close = (v) => { d.close(); resolve(v); };
    cancel.addEventListener('click', () => close(null));
    d.oncancel = (e) => { e.preventDefault(); close(null); };
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      formError.textContent = '';
      submit.disabled = true;
      try {
        close(await invoke('key_areas_set', { number: key.number, areas: boxes.filter((b) => b.checked).map((b) => b.value) }));
      } catch (err) {
        formError.textContent = err.message;
      } finally {
        submit.disabled = false;
      }
    });
    if (!d.open) d.showModal();
    (boxes[0] || cancel).focus();
  });
}
