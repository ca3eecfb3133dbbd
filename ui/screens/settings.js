// Settings (admins change them; everyone sees them) and About: version, where the data
// is, and the database's health.

import { el, invoke, localTime, setLanguage, size, t } from '../admin-common.js';
import { clearToast, toast } from '../components.js';

export const screen = { id: 'settings', navKey: 'nav.settings', minRole: 'viewer' };

/**
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export async function render(view, ctx) {
  const admin = ctx.user.role === 'admin';
  const [s, about] = await Promise.all([invoke('settings_get'), invoke('about')]);

  const form = el('form', { class: 'card settings', novalidate: '' });
  form.append(el('h2', {}, t('settings.title')));
  const row = (id, labelKey, input, hintKey) => {
    const w = el('div', { class: 'field' });
    input.id = id;
    w.append(el('label', { for: id }, t(labelKey)), input, el('p', { class: 'field-error', role: 'alert', id: `${id}-error` }));
    if (hintKey) w.append(el('p', { class: 'hint' }, t(hintKey)));
    form.append(w);
    return input;
  };
  const site = row('set-site', 'settings.site_name', el('input', { type: 'text', value: s.site_name }));
  const lang = row('set-language', 'settings.language', el('select'));
  for (const l of ['lv', 'en']) lang.append(el('option', { value: l }, t(`lang.${l}`)));
  lang.value = s.language;
  const timeout = row('set-timeout', 'settings.timeout', el('input', { type: 'number', min: '1', max: '1440', value: String(Math.round(s.timeout_seconds / 60)) }), 'settings.timeout_hint');
  const remind = row('set-remind', 'settings.remind', el('input', { type: 'number', min: '1', max: '365', value: String(s.remind_after_days) }));
  const error = el('p', { class: 'error', role: 'alert' });
  const save = el('button', { type: 'submit' }, t('common.save'));
  form.append(error, save);
  if (!admin) {
    form.querySelectorAll('input, select, button').forEach((e) => { /** @type {HTMLInputElement | HTMLSelectElement | HTMLButtonElement} */ (e).disabled = true; });
    form.append(el('p', { class: 'hint' }, t('settings.admin_only')));
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    form.querySelectorAll('.field-error').forEach((e) => { e.textContent = ''; });
    try {
      await invoke('settings_update', {
        change: {
          site_name: site.value,
          language: lang.value,
          timeout_seconds: Math.round(Number(timeout.value) * 60),
          remind_after_days: Number(remind.value),
        },
      });
      setLanguage(lang.value);
      document.getElementById('site-name').textContent = site.value && site.value !== 'Atslegas' ? `${t('app.title')} · ${site.value}` : t('app.title');
      toast(t('settings.saved'));
      ctx.changed();
      await render(view, ctx);
    } catch (err) {
      const map = { site_name: 'set-site', language: 'set-language', timeout_seconds: 'set-timeout', remind_after_days: 'set-remind' };
      const target = err.details && map[err.details.field];
      if (target) document.getElementById(`${target}-error`).textContent = err.message;
      else error.textContent = err.message;
    }
  });

  const handover = handoverCard(s, admin, ctx);

  const info = el('section', { class: 'card about', id: 'about' });
  info.append(el('h2', {}, t('about.title')));
  const dl = el('dl', { class: 'facts' });
  const h = about.health;
  for (const [k, v] of [
    ['about.version', about.version],
    ['about.data_dir', about.data_dir + (about.portable ? ` (${t('about.portable')})` : '')],
    ['about.config_file', about.config_file],
    ['about.database', about.database],
    ['about.db_size', size(h.size_bytes + h.wal_bytes)],
    ['about.schema', String(h.schema_version)],
    ['about.sqlite', h.sqlite_version],
  ]) {
    dl.append(el('dt', {}, t(k)), el('dd', {}, v));
  }
  dl.append(el('dt', {}, t('about.integrity')), integrityCheck());
  info.append(dl);
  const cols = el('div', { class: 'two-col' });
  // The general settings and About on the left, the (tall) handover card on the right:
  // both forms start at the top of the screen.
  const left = el('div', { class: 'stack' });
  left.append(form, info);
  cols.append(left, handover);
  view.replaceChildren(el('h1', {}, t('nav.settings')), cols);
}

/**
 * The last integrity check's answer in this window, so coming back to Settings shows it
 * without reading the whole database again.
 * @type {{ok: boolean, problems: string[], at: number} | null}
 */
let lastCheck = null;

/**
 * The integrity line of About: the last result and a button that runs SQLite's full
 * check. It runs in the core on a connection of its own, so the Desk is not held up while
 * a large register is read; the answer lands here if the screen is still open.
 */
function integrityCheck() {
  const dd = el('dd', { id: 'integrity' });
  const status = el('span', { id: 'integrity-status', role: 'status' });
  const hint = el('p', { class: 'hint', id: 'integrity-hint' });
  const button = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'secondary small', id: 'integrity-check' }));
  const paint = () => {
    status.className = lastCheck && !lastCheck.ok ? 'danger-text' : '';
    hint.textContent = '';
    if (!lastCheck) {
      status.textContent = t('about.integrity_not_checked');
    } else {
      // The verdict stands out; when it was checked reads as the quieter part.
      const when = t('about.integrity_checked_at', { time: localTime(lastCheck.at) });
      const verdict = el('span', { class: lastCheck.ok ? 'ok-text' : '' }, t(lastCheck.ok ? 'about.integrity_ok' : 'about.integrity_bad'));
      status.replaceChildren(verdict, lastCheck.ok ? ` (${when})` : ` (${when}): ${lastCheck.problems.join('; ')}`);
      if (!lastCheck.ok) hint.textContent = t('about.integrity_bad_hint');
    }
    button.textContent = t(lastCheck ? 'about.integrity_again' : 'about.integrity_check');
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.className = '';
    status.textContent = t('about.integrity_checking');
    hint.textContent = '';
    try {
      const found = await invoke('db_check');
      lastCheck = { ok: found.ok, problems: found.problems, at: Math.floor(Date.now() / 1000) };
      paint();
    } catch (err) {
      status.className = 'danger-text';
      status.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
  paint();
  dd.append(status, ' ', button, hint);
  return dd;
}

/** The signature rules, in the order the Settings screen offers them. */
const SIGNATURE_RULES = ['never', 'issue', 'issue_and_return'];

/**
 * The Handover card: when the person must sign, and the terms printed on every receipt
 * in Latvian and in English. It saves on its own; the core checks every value and its
 * refusal is shown next to the field it names.
 * @param {any} s the settings
 * @param {boolean} admin
 * @param {{changed: () => void}} ctx
 */
function handoverCard(s, admin, ctx) {
  const form = el('form', { class: 'card settings', id: 'handover', novalidate: '' });
  form.append(el('h2', {}, t('handover.title')));

  const rules = el('fieldset', { class: 'field choices', id: 'set-signature', 'aria-describedby': 'set-signature-error' });
  rules.append(el('legend', {}, t('handover.signature')));
  for (const rule of SIGNATURE_RULES) {
    const id = `set-signature-${rule}`;
    const row = el('div', { class: 'choice' });
    const radio = /** @type {HTMLInputElement} */ (el('input', { type: 'radio', name: 'require_signature', id, value: rule, 'aria-describedby': `${id}-hint` }));
    radio.checked = s.require_signature === rule;
    const text = el('label', { for: id });
    text.append(el('strong', {}, t(`handover.rule_${rule}`)), el('span', { class: 'hint', id: `${id}-hint` }, t(`handover.rule_${rule}_hint`)));
    row.append(radio, text);
    rules.append(row);
  }
  rules.append(el('p', { class: 'field-error', role: 'alert', id: 'set-signature-error' }));
  form.append(rules);

  const max = s.terms_max || 2000;
  /**
   * One terms text area with its character count ("120 / 2000"), red past the limit.
   * @param {string} lang 'lv' or 'en'
   */
  const terms = (lang) => {
    const id = `set-terms-${lang}`;
    const w = el('div', { class: 'field' });
    const area = /** @type {HTMLTextAreaElement} */ (el('textarea', { id, rows: '5', 'aria-describedby': `${id}-count ${id}-error` }));
    area.value = s[`terms_${lang}`] || '';
    const counter = el('p', { class: 'hint counter', id: `${id}-count` });
    const paint = () => {
      const n = [...area.value.trim()].length;
      counter.textContent = t('handover.count', { n, max });
      counter.classList.toggle('danger-text', n > max);
    };
    area.addEventListener('input', paint);
    paint();
    w.append(el('label', { for: id }, t(`handover.terms_${lang}`)), area, counter,
      el('p', { class: 'field-error', role: 'alert', id: `${id}-error` }));
    form.append(w);
    return area;
  };
  form.append(el('p', { class: 'hint' }, t('handover.terms_hint')));
  const lv = terms('lv');
  const en = terms('en');

  const error = el('p', { class: 'error', role: 'alert' });
  const save = el('button', { type: 'submit', id: 'handover-save' }, t('handover.save'));
  form.append(error, save);
  if (!admin) {
    form.querySelectorAll('input, textarea, button').forEach((e) => { /** @type {HTMLInputElement | HTMLTextAreaElement | HTMLButtonElement} */ (e).disabled = true; });
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    // A "saved" from the last press must not stand beside this press's refusal.
    clearToast();
    error.textContent = '';
    form.querySelectorAll('.field-error').forEach((e) => { e.textContent = ''; });
    const picked = /** @type {HTMLInputElement|null} */ (form.querySelector('input[name=require_signature]:checked'));
    try {
      await invoke('settings_update', {
        change: { require_signature: picked ? picked.value : 'never', terms_lv: lv.value, terms_en: en.value },
      });
      toast(t('handover.saved'));
      ctx.changed();
    } catch (err) {
      const map = { require_signature: 'set-signature', terms_lv: 'set-terms-lv', terms_en: 'set-terms-en' };
      const target = err.details && map[err.details.field];
      if (target) {
        document.getElementById(`${target}-error`).textContent = err.message;
        const input = document.getElementById(target);
        if (input) input.focus();
      } else {
        error.textContent = err.message;
      }
    }
  });
  return form;
}
