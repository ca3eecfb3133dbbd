// Desk: the daily job with the keyboard only. Scan or type a person's code, badge or
// name, then one or more key numbers (or a set's tag or name), each followed by Enter;
// the signature pad opens with the focus and Enter there hands over: issued. Scan a key
// that is out: returned the same way. Escape (or Enter on an empty field) finishes with
// the person. The core decides every step (desk_plan checks before the pad opens,
// nothing written); refusals are shown inline with what to do. A set coming back is
// checked off on the pad: a key left unticked stays out, and the Desk says so. Each
// handover gets a receipt to print or save.

import { el, invoke, language, localTime, t } from '../admin-common.js';
import { receiptActions } from '../receipt.js';
import { signaturePad } from '../signature-pad.js';
import { button, dateInput } from '../components.js';
import { reportFound, reportLost } from '../key-control.js';

export const screen = { id: 'desk', navKey: 'nav.desk', minRole: 'operator' };

/**
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export async function render(view, ctx) {
  /** @type {any} */
  let person = null;
  let pendingKey = null;
  // Whether the last scan named a set (its repeat is said as a set's).
  let scannedSet = false;

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
  const receiptBox = el('div', { id: 'desk-receipt', class: 'desk-receipt', hidden: '' });
  // Keys of a set that did not come back, each to report lost on the spot.
  const missingBox = el('div', { id: 'desk-missing', class: 'desk-missing', hidden: '' });
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
    dueField.clear();
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

  /**
   * Keys as a receipt line names them: "101", or "101, 102" for several.
   * @param {string[]} keys
   */
  const keyList = (keys) => keys.join(', ');

  /**
   * What the pad says will happen, from the core's plan.
   * @param {any} plan
   */
  function padTexts(plan) {
    const kind = plan.step === 'issue' ? 'issue' : 'return';
    const form = plan.set ? 'set' : (plan.keys.length > 1 ? 'many' : 'one');
    const vars = { keys: keyList(plan.keys), set: plan.set || '', name: plan.person_name || '' };
    return {
      title: t(`pad.title_${kind}_${form}`, vars),
      detail: plan.person_name ? t(`pad.detail_${kind}`, vars) : '',
    };
  }

  /**
   * What a handover did, in a sentence (with its receipt number).
   * @param {any} outcome
   */
  function doneText(outcome) {
    const h = outcome.handover;
    const e = outcome.entry;
    const keys = h.entries.map((x) => x.key_number);
    const form = h.set ? 'set' : (keys.length > 1 ? 'many' : 'one');
    const vars = { key: e.key_number, keys: keyList(keys), set: h.set || '', name: e.person_name || '' };
    const missing = h.missing || [];
    let text;
    if (outcome.outcome === 'issued') {
      text = t(form === 'one' ? 'desk.issued' : `desk.issued_${form}`, vars);
      if (e.due_back_at) text += ` (${t('desk.due_short')} ${localTime(e.due_back_at)})`;
    } else if (missing.length) {
      text = t(keys.length > 1 ? 'desk.returned_set_part_many' : 'desk.returned_set_part_one', vars);
    } else {
      text = t(form === 'one' ? 'desk.returned' : `desk.returned_${form}`, vars);
    }
    text += ` · ${t('desk.receipt', { n: h.receipt })}`;
    // Part of a set came back: on a line of its own, what is still out and to whom.
    if (missing.length) {
      text += `\n${t(missing.length > 1 ? 'desk.missing_many' : 'desk.missing_one', { keys: keyList(missing), name: e.person_name || '' })}`;
    }
    return text;
  }

  /**
   * The keys of a returned set that did not come back (still out to `name`), each with
   * "Report lost": the reason is asked, and the key becomes nobody's (SPEC §11).
   * @param {string[]} keys
   * @param {string} name the holder
   */
  function showMissing(keys, name) {
    const list = el('ul', { class: 'desk-missing-list' });
    for (const number of keys) {
      const li = el('li', {});
      const b = button('desk.report_lost', async () => {
        const done = await reportLost({ number, holder_name: name });
        if (done) {
          li.replaceChildren(el('strong', {}, number), el('span', { class: 'badge lost' }, t('status.lost')));
          log(t('desk.reported_lost', { key: number }), 'returned still-out');
          ctx.changed();
        }
        scan.focus();
      }, 'secondary small danger-text');
      b.setAttribute('aria-label', t('desk.report_lost_key', { key: number }));
      li.append(el('strong', {}, number), b);
      list.append(li);
    }
    missingBox.replaceChildren(el('p', {}, t('desk.missing_title', { name })), list);
    missingBox.hidden = false;
  }

  /**
   * A lost key was scanned: it is in hand, so offer to report it found (then it can be
   * handed out again with the next scan).
   * @param {string} number
   */
  function offerFound(number) {
    const b = button('desk.report_found', async () => {
      const done = await reportFound({ number });
      if (done) {
        missingBox.replaceChildren(el('p', {}, t('desk.reported_found', { key: number })));
        say(t('desk.reported_found', { key: number }), 'ok');
        log(t('desk.reported_found', { key: number }), 'returned');
        ctx.changed();
      }
      scan.focus();
    });
    b.id = 'desk-found';
    missingBox.replaceChildren(el('p', {}, t('desk.lost_scanned', { key: number })), b);
    missingBox.hidden = false;
  }

  /** The receipt of the last handover, with its print and save buttons. */
  function showReceipt(number) {
    receiptBox.replaceChildren(el('strong', {}, t('desk.receipt', { n: number })), receiptActions(number, 'desk-receipt-actions', () => scan.focus()));
    receiptBox.hidden = false;
  }

  /**
   * A scanned key or set: the core plans the handover (a refusal is thrown and shown by
   * the caller), the person signs on the pad, then it is handed over with its receipt.
   * @param {string} text a key number, or a set's tag or name
   * @param {string} [overrideReason] an admin's reason to issue outside the group rights
   */
  async function scanKey(text, overrideReason) {
    /** @param {{key: string, person_name: string}} r a double read (Plan or Outcome) */
    const repeat = (r) => {
      const said = t(scannedSet ? 'desk.repeat_set' : 'desk.repeat', { key: r.key, name: r.person_name });
      say(said, 'info');
      log(said, 'info');
    };
    const args = {
      text,
      personId: person ? person.id : null,
      due: due.value || null,
      comment: comment.value || null,
      overrideReason: overrideReason || null,
    };
    const plan = await invoke('desk_plan', { args });
    if (plan.step === 'repeat') { repeat(plan); return; }
    // A set coming back: its keys are checked off on the pad; the core checks the keys
    // left unticked (they stay out; none coming back is refused) before the pad closes.
    const ring = plan.step === 'return' && plan.set && plan.keys.length > 1;
    const pad = await signaturePad({
      ...padTexts(plan),
      required: plan.signature_required,
      keys: ring ? plan.keys : undefined,
      holder: plan.person_name || '',
      check: async (missing) => {
        try {
          await invoke('desk_plan', { args: { ...args, missing } });
          return null;
        } catch (err) {
          return err.message;
        }
      },
    });
    scan.focus();
    if (!pad) {
      say(t('desk.cancelled'), 'info');
      return;
    }
    const outcome = await invoke('desk_hand_over', { args: { ...args, signature: pad.signature, missing: pad.missing } });
    if (outcome.outcome === 'repeat') { repeat(outcome); return; }
    const said = doneText(outcome);
    const partial = outcome.handover.missing && outcome.handover.missing.length > 0;
    say(said, partial ? 'warn' : 'ok');
    log(said, outcome.outcome === 'issued' ? 'issued' : (partial ? 'returned still-out' : 'returned'));
    showReceipt(outcome.handover.receipt);
    if (partial) showMissing(outcome.handover.missing, outcome.entry.person_name || '');
    ctx.changed();
    if (person) await renderPerson();
  }

  async function onScan(ev) {
    ev.preventDefault();
    const text = scan.value.trim();
    overrideBox.hidden = true;
    missingBox.hidden = true;
    if (!text) { finish(); return; }
    scan.select();
    try {
      const m = await invoke('desk_lookup', { text, personChosen: !!person });
      if (m.kind === 'person') {
        await choosePerson(m.person);
      } else if (m.kind === 'key' || m.kind === 'set') {
        scannedSet = m.kind === 'set';
        await scanKey(m.kind === 'key' ? m.key.number : text);
        scan.value = '';
        scan.focus();
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
      if (['key_not_available', 'key_not_issued'].includes(err.code) && err.details && err.details.status === 'lost' && ctx.user.role !== 'viewer') {
        offerFound(err.details.key);
      }
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
  left.append(form, opts, message, candidates, overrideBox, missingBox, receiptBox);
  const right = el('div', { class: 'desk-side' });
  const jcard = el('section', { class: 'card' });
  jcard.append(el('h2', {}, t('desk.journal')), journal);
  right.append(personBox, jcard);
  main.append(left, right);
  view.replaceChildren(el('h1', {}, t('nav.desk')), main);
  await renderPerson();
  scan.focus();
}
