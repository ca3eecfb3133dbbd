// "Is the audit trail intact?": the Logs → Audit card (admins) that has the core check the
// trail against the journal and the backups on the remembered drives plugged in now, and
// says what it found in plain words. The core's `detail` texts are English: every problem
// is told here by its `kind`, with the row numbers as values.

import { count, el, invoke, localTime, t } from './admin-common.js';

/** @param {string} path */
function baseName(path) {
  return String(path || '').split(/[\\/]/).pop() || '';
}

/**
 * The anchor's values for the texts: the file's name and its date in local time.
 * @param {{source: string, file: string, at: number, id: number}} a
 */
function anchorVars(a) {
  return { file: baseName(a.file), date: localTime(a.at), anchor_id: a.id };
}

/**
 * "Verified up to backup NAME of DATE" (or the journal line, or an export).
 * @param {{source: string, file: string, at: number, id: number}} a
 */
function upTo(a) {
  return t(`verify.up_to.${a.source}`, anchorVars(a));
}

/**
 * One problem of the chain (audit.rs `Problem`) in the user's language.
 * @param {{id: number, kind: string, key_log_id?: number, detail: string}} p
 */
function chainProblem(p) {
  const key = `verify.problem.${p.kind}`;
  const text = t(key, { id: p.id, kl: p.key_log_id });
  return text === key ? p.detail : text;
}

/**
 * One anchor the live trail does not reach (anchors.rs `AnchorProblem`).
 * @param {{id: number, kind: string, from_id?: number, anchor: any, detail: string}} p
 */
function anchorProblem(p) {
  const where = p.anchor.source === 'journal' ? 'journal' : 'archive';
  const kind = p.kind === 'row_differs' && p.from_id ? 'row_differs_range' : p.kind;
  const key = `verify.problem.${kind}.${where}`;
  const text = t(key, { id: p.id, from: p.from_id, ...anchorVars(p.anchor) });
  return text === key ? p.detail : text;
}

/**
 * The card: a button, the result, and (when encrypted backups were skipped) a
 * passphrase field with a button to verify again with it.
 */
export function trailCheck() {
  const card = el('section', { class: 'card trail-check', id: 'trail-check', 'aria-labelledby': 'trail-check-title' });
  const run = el('button', { type: 'button', class: 'secondary', id: 'trail-verify' }, t('verify.run'));
  const head = el('div', { class: 'trail-head' });
  const words = el('div', {});
  words.append(el('h2', { id: 'trail-check-title' }, t('verify.title')), el('p', { class: 'hint' }, t('verify.hint')));
  head.append(words, run);
  const result = el('div', { id: 'trail-result', role: 'status' });
  card.append(head, result);

  /** @param {string|null} passphrase */
  async function verify(passphrase) {
    card.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    result.className = 'muted';
    result.setAttribute('role', 'status');
    result.replaceChildren(el('p', {}, t('verify.running')));
    try {
      show(await invoke('audit_verify', { passphrase }), passphrase);
    } catch (e) {
      result.className = 'error';
      result.setAttribute('role', 'alert');
      result.replaceChildren(el('p', {}, e.message));
    } finally {
      card.querySelectorAll('button').forEach((b) => { b.disabled = false; });
    }
  }

  /** @param {any} r the core's report @param {string|null} passphrase */
  function show(r, passphrase) {
    const parts = [];
    // What an anchor says first: rows gone or rewritten since a backup is the headline.
    const problems = [...r.anchor_problems.map(anchorProblem), ...r.problems.map(chainProblem)];
    if (r.ok) {
      const box = el('div', { class: 'ok-box', id: 'trail-verdict' });
      box.append(el('p', { class: 'trail-line' }, t('verify.intact', { n: count(r.rows_checked) })),
        el('p', { class: 'trail-line', id: 'trail-up-to' }, r.anchor ? upTo(r.anchor) : t('verify.no_anchor')));
      parts.push(box);
      result.setAttribute('role', 'status');
    } else {
      const box = el('div', { class: 'trail-alarm', id: 'trail-verdict' });
      box.append(el('p', { class: 'trail-alarm-title' }, t('verify.tampered')));
      const list = el('ul', { id: 'trail-problems' });
      problems.forEach((text) => list.append(el('li', {}, text)));
      box.append(list, el('p', {}, t('verify.advice')));
      if (r.anchor) box.append(el('p', { id: 'trail-up-to' }, upTo(r.anchor)));
      parts.push(box);
      result.setAttribute('role', 'alert');
    }
    const facts = el('ul', { class: 'trail-facts hint' });
    facts.append(el('li', {}, r.backups_found
      ? t('verify.backups_found', { n: count(r.backups_found) })
      : t('verify.no_drive')));
    if (r.key_log.not_covered) facts.append(el('li', {}, t('verify.key_log_not_covered', { n: count(r.key_log.not_covered) })));
    // Encrypted backups skipped for want of a passphrase, or (when one was given) the
    // ones it did not open: offered again with the passphrase field.
    const sealed = r.not_checked.filter((x) => x.reason === 'encrypted');
    const refused = passphrase ? r.not_checked.filter((x) => x.reason === 'unreadable') : [];
    for (const n of r.not_checked.filter((x) => !sealed.includes(x) && !refused.includes(x))) {
      const key = `verify.reason.${n.reason}`;
      const text = t(key, { file: baseName(n.file) });
      facts.append(el('li', {}, text === key ? `${baseName(n.file)}: ${n.detail}` : text));
    }
    for (const n of r.note_codes) facts.append(el('li', {}, `${t('verify.note')} ${t(`verify.note.${n.code}`, { at: localTime(n.at) })}`));
    parts.push(facts);
    if (sealed.length) parts.push(passphraseBox(sealed, 'verify.sealed'));
    else if (refused.length) parts.push(passphraseBox(refused, 'verify.passphrase_wrong'));
    result.className = '';
    result.replaceChildren(...parts);
  }

  /**
   * Encrypted backups not checked, and a passphrase field to check them too.
   * @param {{file: string}[]} sealed @param {string} whyKey what happened to them
   */
  function passphraseBox(sealed, whyKey) {
    const box = el('div', { class: 'trail-sealed', id: 'trail-sealed' });
    box.append(el('p', {}, t(whyKey, { n: count(sealed.length) })));
    const list = el('ul', {});
    sealed.forEach((s) => list.append(el('li', {}, baseName(s.file))));
    const field = el('div', { class: 'field' });
    const input = /** @type {HTMLInputElement} */ (el('input', { id: 'trail-pass', type: 'password', autocomplete: 'off' }));
    field.append(el('label', { for: 'trail-pass' }, t('verify.passphrase')), input);
    const again = el('button', { type: 'button', id: 'trail-verify-pass' }, t('verify.run_with_passphrase'));
    const form = el('form', { class: 'inline-row' });
    form.append(field, again);
    form.addEventListener('submit', (e) => { e.preventDefault(); verify(input.value || null); });
    again.setAttribute('type', 'submit');
    box.append(list, form);
    return box;
  }

  run.addEventListener('click', () => verify(null));
  return card;
}
