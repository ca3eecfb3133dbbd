// Desk: the daily job with the keyboard only. Scan or type a person's code, badge or
// name, then one or more key numbers, each followed by Enter: issued. Scan a key that is
// out: returned. Escape (or Enter on an empty field) finishes with the person. The core
// decides every step; refusals are shown inline with what to do.

import { el, invoke, language, localTime, t } from '../admin-common.js';
import { dateInput } from '../components.js';

export const screen = { id: 'desk', navKey: 'nav.desk', minRole: 'operator' };

/**
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export async function render(view, ctx) {
  /** @type {any} */
  let person = null;
  let pendingKey = null;

  const form = el('form', { class: 'desk-scan', novalidate: '' });
  const scanLabel = el('label', { for: 'desk-input' }, t('desk.scan_label'));
  const scan = /** @type {HTMLInputElement} */ (el('input', { id: 'desk-input', type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'big' }));
  const hint = el('p', { class: 'hint', id: 'desk-hint' });
  scan.setAttribute('aria-describedby', 'desk-hint');
  form.append(scanLabel, scan, hint);

  const opts = el('div', { class: 'desk-options' });
  // dd.mm.yyyy hh:mm whatever the system locale; the core reads it as typed.
  const dueField = dateInput({ id: 'desk-due', labelKey: 'desk.due', withTime: true });
  const dueWrap = dueField.wrap;
  const due = dueField.input;
  const commentWrap = el('div', { class: 'field grow' });
  const comment = /** @type {HTMLInputElement} */ (el('input', { id: 'desk-comment', type: 'text' }));
  commentWrap.append(el('label', { for: 'desk-comment' }, t('desk.comment')), comment);
  opts.append(dueWrap, commentWrap);

  const personBox = el('section', { class: 'card person-box', id: 'desk-person', 'aria-live': 'polite' });
  const message = el('div', { id: 'desk-message', role: 'alert' });
  const candidates = el('div', { id: 'desk-candidates' });
  const overrideBox = el('form', { id: 'desk-override', class: 'override', hidden: '' });
  const journal = el('ol', { id: 'desk-journal', class: 'journal', 'aria-label': t('desk.journal') });

  function setHint() {
    hint.textContent = person ? t('desk.hint_person', { name: person.full_name }) : t('desk.hint_start');
  }

  async function renderPerson() {
    if (!person) {
      personBox.replaceChildren(el('p', { class: 'muted' }, t('desk.no_person')));
      setHint();
      return;
    }
    const detail = await invoke('person_detail', { id: person.id });
    const head = el('div', { class: 'person-head' });
    head.append(el('strong', { class: 'person-name' }, person.full_name),
      el('span', { class: 'muted' }, [person.code, person.department].filter(Boolean).join(' · ')));
    const held = el('p', {}, detail.keys.length
      ? `${t('desk.holds')}: ${detail.keys.map((k) => k.number).join(', ')}`
      : t('desk.holds_none'));
    const groups = el('p', { class: 'muted' }, detail.groups.length
      ? `${t('desk.groups')}: ${detail.groups.map((g) => g.name).join(', ')}`
      : t('desk.groups_none'));
    const done = el('button', { type: 'button', class: 'secondary small' }, t('desk.finish'));
    done.addEventListener('click', finish);
    personBox.replaceChildren(head, held, groups, done);
    setHint();
  }

  function say(text, kind) {
    message.className = `desk-message ${kind}`;
    message.textContent = text;
  }

  function log(text, kind) {
    const now = new Date().toLocaleTimeString(language() === 'lv' ? 'lv-LV' : 'en-GB');
    const li = el('li', { class: kind }, `${now} — ${text}`);
    journal.prepend(li);
  }

  function finish() {
    person = null;
    pendingKey = null;
    overrideBox.hidden = true;
    candidates.replaceChildren();
    due.value = '';
    comment.value = '';
    say('', '');
    renderPerson();
    scan.focus();
  }

  async function choosePerson(p) {
    candidates.replaceChildren();
    person = p;
    say(t('desk.person_chosen', { name: p.full_name }), 'ok');
    await renderPerson();
    scan.value = '';
    scan.focus();
  }

  async function scanKey(number, overrideReason) {
    const outcome = await invoke('desk_scan', {
      args: {
        keyNumber: number,
        personId: person ? person.id : null,
        due: due.value || null,
        comment: comment.value || null,
        overrideReason: overrideReason || null,
      },
    });
    const e = outcome.entry;
    if (outcome.outcome === 'issued') {
      const text = t('desk.issued', { key: e.key_number, name: e.person_name }) + (e.due_back_at ? ` (${t('desk.due_short')} ${localTime(e.due_back_at)})` : '');
      say(text, 'ok');
      log(text, 'issued');
    } else {
      const text = t('desk.returned', { key: e.key_number, name: e.person_name || '' });
      say(text, 'ok');
      log(text, 'returned');
    }
    ctx.changed();
    if (person) await renderPerson();
  }

  async function onScan(ev) {
    ev.preventDefault();
    const text = scan.value.trim();
    overrideBox.hidden = true;
    if (!text) { finish(); return; }
    scan.select();
    try {
      const m = await invoke('desk_lookup', { text, personChosen: !!person });
      if (m.kind === 'person') {
        await choosePerson(m.person);
      } else if (m.kind === 'key') {
        await scanKey(m.key.number);
        scan.value = '';
      } else if (m.kind === 'candidates') {
        if (m.persons.length === 1) { await choosePerson(m.persons[0]); return; }
        say(t('desk.pick_person'), 'info');
        candidates.replaceChildren(...m.persons.map((p) => {
          const b = el('button', { type: 'button', class: 'candidate' }, `${p.full_name}${p.code ? ` (${p.code})` : ''}${p.department ? ` · ${p.department}` : ''}`);
          b.addEventListener('click', () => choosePerson(p));
          return b;
        }));
        /** @type {HTMLElement} */ (candidates.firstChild).focus();
      } else {
        say(t('desk.nothing', { text }), 'error');
      }
    } catch (err) {
      say(err.message, 'error');
      log(err.message, 'refused');
      if (err.code === 'no_rights' && ctx.user.role === 'admin') {
        pendingKey = text;
        overrideBox.hidden = false;
        /** @type {HTMLInputElement} */ (overrideBox.querySelector('input')).focus();
      }
    }
  }

  // The admin's override: a reason, then issue outside the group rights.
  const reason = el('input', { id: 'desk-override-reason', type: 'text' });
  overrideBox.append(el('label', { for: 'desk-override-reason' }, t('desk.override_reason')), reason,
    el('button', { type: 'submit' }, t('desk.override_submit')));
  overrideBox.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await scanKey(pendingKey, /** @type {HTMLInputElement} */ (reason).value);
      overrideBox.hidden = true;
      /** @type {HTMLInputElement} */ (reason).value = '';
      scan.value = '';
    } catch (err) {
      say(err.message, 'error');
    }
    scan.focus();
  });

  form.addEventListener('submit', onScan);
  view.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !document.querySelector('dialog[open]')) { e.preventDefault(); finish(); }
  });

  const main = el('div', { class: 'desk' });
  const left = el('section', { class: 'card' });
  left.append(form, opts, message, candidates, overrideBox);
  const right = el('div', { class: 'desk-side' });
  const jcard = el('section', { class: 'card' });
  jcard.append(el('h2', {}, t('desk.journal')), journal);
  right.append(personBox, jcard);
  main.append(left, right);
  view.replaceChildren(el('h1', {}, t('nav.desk')), main);
  await renderPerson();
  scan.focus();
}
