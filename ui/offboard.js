// Offboarding a person (issue 14), opened from the Persons screen: what the person holds
// (keys with due dates and the sets they belong to), a scan field that takes a held key
// back as the Desk does (desk_plan, the signature pad, desk_hand_over), "Report lost" per
// key, what they held at a past moment, and Finish, which deactivates the person and makes
// the numbered clearance to print. Every rule (who may finish with keys held) is the core's.

import { el, invoke, localTime, t } from './admin-common.js';
import { button, dateInput } from './components.js';
import { reportLost as reportLostDialog } from './key-control.js';
import { printSheet } from './receipt.js';
import { takeBack } from './take-back.js';

/**
 * A labelled line of a printed sheet (the receipt's classes, so it prints alike).
 * @param {string} labelKey
 * @param {string} value
 */
function sheetRow(labelKey, value) {
  const r = el('div', { class: 'rc-row' });
  r.append(el('span', { class: 'rc-label' }, t(labelKey)), el('span', { class: 'rc-value' }, value));
  return r;
}

/**
 * A signature line with its label.
 * @param {string} labelKey
 */
function signLine(labelKey) {
  const s = el('div', { class: 'rc-sign' });
  s.append(el('div', { class: 'rc-blank' }), el('div', { class: 'rc-sign-label' }, t(labelKey)));
  return s;
}

/**
 * A clearance laid out for A4: the site, its number, when, who left, what they still
 * hold (or that they hold none), who finished it, and the two signature lines.
 * @param {any} c the clearance (offboard_finish / clearance_get)
 */
export function clearanceSheet(c) {
  const sheet = el('section', { 'aria-label': t('offboard.clearance_n', { n: c.number }) });
  const copy = el('article', { class: 'rc-copy clearance' });
  const head = el('header', { class: 'rc-head' });
  const titles = el('div', {});
  titles.append(el('div', { class: 'rc-site' }, c.site_name),
    el('h2', { class: 'rc-title' }, t('offboard.sheet_title', { n: c.number })));
  head.append(titles);
  const facts = el('div', { class: 'rc-facts' });
  facts.append(sheetRow('receipt.at', localTime(c.at)),
    sheetRow('receipt.person', [c.person_name, c.person_code, c.department].filter(Boolean).join(' · ')),
    sheetRow('offboard.finished_by', c.actor));
  copy.append(head, facts);
  if (c.still_held && c.still_held.length) {
    copy.append(el('p', { class: 'clearance-state held' }, t('offboard.sheet_still_held', { keys: c.still_held.join(', ') })));
    if (c.override_reason) copy.append(el('p', { class: 'clearance-reason' }, `${t('offboard.sheet_reason')}: ${c.override_reason}`));
  } else {
    copy.append(el('p', { class: 'clearance-state' }, t('offboard.sheet_clear')));
  }
  const signs = el('div', { class: 'rc-signs' });
  signs.append(signLine('offboard.sheet_person_signature'), signLine('receipt.office_signature'));
  copy.append(signs);
  sheet.append(copy);
  return sheet;
}

/**
 * The clearance's number and its Print button.
 * @param {any} c the clearance
 * @param {string} id the box's id
 */
function clearanceBox(c, id) {
  const box = el('div', { class: 'clearance-box', id });
  const status = el('p', { class: 'hint', role: 'status' });
  box.append(el('strong', { class: 'clearance-number' }, t('offboard.clearance_n', { n: c.number })),
    el('span', { class: 'muted' }, `${localTime(c.at)} · ${c.actor}`),
    button('offboard.print', async () => {
      try {
        await printSheet(clearanceSheet(c));
        status.className = 'hint';
        status.textContent = t('offboard.printed', { n: c.number });
      } catch (err) {
        status.className = 'hint error';
        status.textContent = err.message;
      }
    }), status);
  return box;
}

/**
 * Shows the offboarding of `person` in `view` (in place of the Persons list).
 * @param {HTMLElement} view
 * @param {any} person a row of list_persons
 * @param {{user: {role: string}, changed: () => void}} ctx
 * @param {() => void} back returns to the Persons list
 */
export async function showOffboarding(view, person, ctx, back) {
  const admin = ctx.user.role === 'admin';
  /** @type {any} */
  let status = null;

  const title = el('h1', {}, t('offboard.title', { name: person.full_name }));
  const sub = el('p', { class: 'muted', id: 'offboard-who' });
  const backBtn = button('offboard.back', back, 'secondary');
  const head = el('div', { class: 'offboard-head' });
  const heading = el('div', {});
  heading.append(title, sub);
  head.append(heading, backBtn);

  // The scan field: a held key (or a held set's tag) comes back as at the Desk.
  const form = el('form', { class: 'desk-scan', novalidate: '' });
  const scan = /** @type {HTMLInputElement} */ (el('input', { id: 'offboard-input', type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'big', 'aria-describedby': 'offboard-hint' }));
  form.append(el('label', { for: 'offboard-input' }, t('offboard.scan_label')), scan,
    el('p', { class: 'hint', id: 'offboard-hint' }, t('offboard.scan_hint')));
  const message = el('div', { id: 'offboard-message', role: 'alert' });

  const held = el('div', { id: 'offboard-held' });
  const finishBox = el('section', { class: 'card offboard-finish', id: 'offboard-finish', 'aria-live': 'polite' });
  const asOfBox = el('section', { class: 'card', id: 'offboard-as-of' });

  /** @param {string} text @param {string} kind ok / info / warn / error */
  function say(text, kind) {
    message.className = text ? `desk-message ${kind}` : '';
    message.textContent = text;
  }

  async function refresh() {
    status = await invoke('offboard_status', { id: person.id });
    const p = status.person;
    sub.textContent = [p.code, p.department, t(p.active ? 'status.active' : 'status.inactive')].filter(Boolean).join(' · ');
    paintHeld();
    await paintFinish();
  }

  function paintHeld() {
    const h = el('h2', {}, t('offboard.holds', { n: status.keys.length }));
    if (!status.keys.length) {
      held.replaceChildren(h, el('p', { class: 'offboard-clear', id: 'offboard-none' }, t('offboard.holds_none')));
      return;
    }
    const table = el('table', { id: 'offboard-keys' });
    const hr = el('tr');
    // The Sets column only when a key held belongs to one.
    const withSets = status.keys.some((/** @type {any} */ k) => k.sets.length > 0);
    ['receipt.key', 'receipt.room', 'receipt.location', 'keys.due', ...(withSets ? ['offboard.sets'] : []), 'common.actions']
      .forEach((k) => hr.append(el('th', { scope: 'col' }, t(k))));
    const thead = el('thead');
    thead.append(hr);
    const tbody = el('tbody');
    for (const k of status.keys) {
      const tr = el('tr', { 'data-key': k.number });
      const overdue = k.due_back_at && k.due_back_at * 1000 < Date.now();
      const due = el('td', { class: overdue ? 'due overdue' : 'due' }, k.due_back_at ? localTime(k.due_back_at) : t('offboard.no_due'));
      const act = el('td', { class: 'actions' });
      const lost = button('offboard.report_lost', () => reportLost(k.number), 'secondary small danger-text');
      lost.setAttribute('aria-label', t('offboard.report_lost_key', { key: k.number }));
      act.append(lost);
      tr.append(el('td', { class: 'strong' }, k.number), el('td', {}, k.name || ''), el('td', {}, k.location || ''), due);
      if (withSets) tr.append(el('td', {}, k.sets.join(', ')));
      tr.append(act);
      tbody.append(tr);
    }
    table.append(thead, tbody);
    held.replaceChildren(h, table);
    if (status.sets.length) {
      const ul = el('ul', { class: 'offboard-sets', id: 'offboard-sets' });
      status.sets.forEach((s) => ul.append(el('li', {}, t(s.whole ? 'offboard.set_whole' : 'offboard.set_part', {
        set: s.tag ? `${s.name} (${s.tag})` : s.name, keys: s.keys.join(', '),
      }))));
      held.append(el('h3', {}, t('offboard.sets')), ul);
    }
  }

  /**
   * The Finish card. A person already offboarded shows their latest clearance to print;
   * Finish is offered again only when that clearance still names keys that are now back
   * (a clean clearance replaces it).
   */
  async function paintFinish() {
    /** @type {HTMLElement[]} */
    const parts = [el('h2', {}, t('offboard.finish_title'))];
    const p = status.person;
    const latest = !p.active && status.clearances.length ? await invoke('clearance_get', { number: status.clearances[0] }) : null;
    if (latest) {
      parts.push(el('p', { class: 'offboard-clear', id: 'offboard-done' }, t('offboard.done', { name: latest.person_name, n: latest.number })),
        clearanceBox(latest, 'offboard-clearance'));
      if (status.clearances.length > 1) {
        parts.push(el('p', { class: 'muted', id: 'offboard-earlier' }, t('offboard.earlier', { list: status.clearances.slice(1).map((n) => `№ ${n}`).join(', ') })));
      }
    }
    if (latest && !status.clear) {
      parts.push(el('p', { class: 'offboard-still', id: 'offboard-still' }, t('offboard.still_after', { keys: status.keys.map((k) => k.number).join(', ') })));
      finishBox.replaceChildren(...parts);
      return;
    }
    const again = latest && latest.still_held.length > 0;
    if (latest && !again) {
      finishBox.replaceChildren(...parts);
      return;
    }
    const error = el('p', { class: 'error', id: 'offboard-finish-error', role: 'alert' });
    const finishBtn = el('button', { type: 'button', class: 'primary', id: 'offboard-finish-button' }, t('offboard.finish'));
    /** @type {HTMLInputElement|null} */
    let reason = null;
    if (status.clear) {
      parts.push(el('p', {}, t(again ? 'offboard.finish_clear_again' : 'offboard.finish_clear')));
    } else {
      const keys = status.keys.map((k) => k.number).join(', ');
      parts.push(el('p', { class: 'offboard-still', id: 'offboard-still' }, t(admin ? 'offboard.still_held_admin' : 'offboard.still_held', { keys, n: status.keys.length })));
      if (admin) {
        const wrap = el('div', { class: 'field' });
        reason = /** @type {HTMLInputElement} */ (el('input', { id: 'offboard-reason', type: 'text', autocomplete: 'off' }));
        wrap.append(el('label', { for: 'offboard-reason' }, t('offboard.override_reason')), reason);
        parts.push(wrap);
      } else {
        finishBtn.disabled = true;
      }
    }
    finishBtn.addEventListener('click', async () => {
      error.textContent = '';
      const why = reason ? reason.value.trim() : '';
      if (!status.clear && reason && !why) {
        error.textContent = t('offboard.reason_needed');
        reason.focus();
        return;
      }
      finishBtn.disabled = true;
      try {
        await invoke('offboard_finish', { id: person.id, overrideReason: why || null });
        ctx.changed();
        await refresh();
        const print = finishBox.querySelector('#offboard-clearance button');
        if (print) /** @type {HTMLElement} */ (print).focus();
      } catch (err) {
        error.textContent = err.message;
        finishBtn.disabled = false;
      }
    });
    parts.push(error, finishBtn);
    finishBox.replaceChildren(...parts);
  }


  /** @param {string} number */
  async function reportLost(number) {
    const done = await reportLostDialog({ number }, t('offboard.lost_intro', { key: number, name: person.full_name }));
    if (done) {
      say(t('offboard.lost_done', { key: number }), 'warn');
      ctx.changed();
      await refresh();
    }
    scan.focus();
  }

  /**
   * Takes a held key (or a held set) back as the Desk does (take-back.js): the person
   * signs on the pad (required or not, as the register says), then it is returned.
   * @param {string} text
   */
  async function returnHeld(text) {
    const wanted = text.toLowerCase();
    const key = status.keys.find((k) => k.number.toLowerCase() === wanted);
    const set = status.sets.find((s) => s.name.toLowerCase() === wanted || (s.tag && s.tag.toLowerCase() === wanted));
    if (!key && !set) {
      say(t('offboard.not_held', { text, name: person.full_name }), 'error');
      return;
    }
    const outcome = await takeBack(key ? key.number : text);
    if (!outcome) { say(t('desk.cancelled'), 'info'); return; }
    if (outcome.repeat) { say(t('desk.repeat', { key: outcome.repeat.key, name: outcome.repeat.person_name }), 'info'); return; }
    const keys = outcome.handover.entries.map((x) => x.key_number).join(', ');
    say(`${t('offboard.returned', { keys })} · ${t('desk.receipt', { n: outcome.handover.receipt })}`, 'ok');
    ctx.changed();
    await refresh();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = scan.value.trim();
    if (!text) return;
    try {
      await returnHeld(text);
      scan.value = '';
    } catch (err) {
      say(err.message, 'error');
      scan.select();
    }
    scan.focus();
  });

  // What the person held at a moment (the register as of then).
  const asOf = dateInput({ id: 'offboard-as-of-at', labelKey: 'offboard.as_of', withTime: true });
  const asOfRows = el('div', { id: 'offboard-as-of-rows' });
  const asOfForm = el('form', { class: 'as-of-form', novalidate: '' });
  asOfForm.append(asOf.wrap, el('button', { type: 'submit', class: 'secondary' }, t('offboard.as_of_show')));
  asOfForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    asOf.input.dispatchEvent(new Event('change'));
    try {
      const page = await invoke('person_as_of', { id: person.id, at: asOf.input.value });
      asOfRows.replaceChildren(asOfList(page));
    } catch (err) {
      asOfRows.replaceChildren(el('p', { class: 'error', role: 'alert' }, err.message));
    }
  });
  asOfBox.append(el('h2', {}, t('offboard.as_of_title')), asOfForm, asOfRows);

  const left = el('section', { class: 'card' });
  left.append(form, message, held);
  const right = el('div', { class: 'desk-side' });
  right.append(finishBox, asOfBox);
  const main = el('div', { class: 'desk offboard' });
  main.append(left, right);
  view.replaceChildren(head, main);
  await refresh();
  scan.focus();
}

/**
 * The keys a person held at a moment, as a short list (or "none").
 * @param {{at: number, rows: any[]}} page
 */
export function asOfList(page) {
  const box = el('div', {});
  box.append(el('p', { class: 'muted' }, t('offboard.as_of_at', { at: localTime(page.at) })));
  if (!page.rows.length) {
    box.append(el('p', { class: 'empty' }, t('offboard.as_of_none')));
    return box;
  }
  const ul = el('ul', { class: 'as-of-list' });
  page.rows.forEach((r) => ul.append(el('li', {}, `${r.key_number}${r.key_name ? ` · ${r.key_name}` : ''}${r.since ? ` — ${t('offboard.since', { at: localTime(r.since) })}` : ''}${r.due_back_at ? `, ${t('desk.due_short')} ${localTime(r.due_back_at)}` : ''}`)));
  box.append(ul);
  return box;
}
