// Export & import (admins): "Export all" to one ZIP, and bulk import of persons, keys,
// groups or users from a CSV or JSON file. The import always shows the core's dry run
// first (every bad row with its line, column and reason); the Import button appears only
// for a file without bad rows, and the core checks the file again as it imports.

import { count, el, invoke, size, t } from '../admin-common.js';
import { button } from '../components.js';
import { progressBar, resultBox, saveAs, today } from '../work.js';

export const screen = { id: 'data', navKey: 'nav.data', minRole: 'admin' };

const KINDS = ['persons', 'keys', 'groups', 'users'];

/**
 * A table with a header row.
 * @param {string} id
 * @param {string[]} headKeys
 * @param {string[][]} rows
 */
function table(id, headKeys, rows) {
  const tbl = el('table', { id });
  const head = el('tr');
  headKeys.forEach((k) => head.append(el('th', { scope: 'col' }, t(k))));
  tbl.append(el('thead'), el('tbody'));
  tbl.tHead.append(head);
  for (const r of rows) {
    const tr = el('tr');
    r.forEach((c) => tr.append(el('td', {}, c)));
    tbl.tBodies[0].append(tr);
  }
  return tbl;
}

/**
 * A bad row's reason in the user's language when the core named its rule, else the
 * core's (English) text.
 * @param {{reason: string, rule?: string, vars?: Record<string, unknown>}} e
 */
function reason(e) {
  const key = `rule.${e.rule}`;
  const text = e.rule ? t(key, e.vars || {}) : '';
  return text && text !== key ? text : e.reason;
}

/**
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export async function render(view, ctx) {
  // ---- export all
  const exp = el('section', { class: 'card' });
  const expWork = progressBar({ id: 'export-all' });
  const expResult = resultBox('export-all-result');
  const expGo = el('button', { type: 'button', id: 'export-all' }, t('data.export_all_button'));
  expGo.addEventListener('click', async () => {
    expResult.clear();
    const out = await saveAs(`atslegas-export_${today()}.zip`).catch((e) => { expResult.error(e.message); return null; });
    if (!out) return;
    expGo.disabled = true;
    try {
      const r = await invoke('export_all', { out, onProgress: expWork.start() });
      expWork.finish();
      expResult.ok(t('data.exported_all', { n: count(r.rows), tables: r.tables.length, file: r.file, size: size(r.size) }));
    } catch (e) {
      expWork.finish();
      expResult.error(e.message);
    } finally {
      expGo.disabled = false;
    }
  });
  exp.append(el('h2', {}, t('data.export_all')), el('p', { class: 'hint' }, t('data.export_all_hint')), expGo, expWork.wrap, expResult.box);

  // ---- import
  const imp = el('section', { class: 'card' });
  const kindWrap = el('div', { class: 'field' });
  const kind = /** @type {HTMLSelectElement} */ (el('select', { id: 'import-kind' }));
  KINDS.forEach((k) => kind.append(el('option', { value: k }, t(`data.kind.${k}`))));
  const columns = el('p', { class: 'hint', id: 'import-columns' });
  kindWrap.append(el('label', { for: 'import-kind' }, t('data.kind')), kind, columns);

  const fileWrap = el('div', { class: 'field' });
  const file = /** @type {HTMLInputElement} */ (el('input', { id: 'import-file', type: 'text', spellcheck: 'false' }));
  const fileRow = el('div', { class: 'inline-row' });
  fileRow.append(file, button('data.choose_file', async () => {
    const f = await invoke('pick_import_file');
    if (f) { file.value = f; clearPreview(); }
  }));
  fileWrap.append(el('label', { for: 'import-file' }, t('data.file')), fileRow, el('p', { class: 'hint' }, t('data.file_hint')));

  const existing = el('fieldset', { class: 'field choice' });
  existing.append(el('legend', {}, t('data.existing')));
  /** @type {Record<string, HTMLInputElement>} */
  const radios = {};
  for (const v of ['skip', 'update']) {
    const row = el('div', { class: 'check' });
    const r = /** @type {HTMLInputElement} */ (el('input', { type: 'radio', name: 'import-existing', id: `import-existing-${v}`, value: v }));
    r.checked = v === 'skip';
    radios[v] = r;
    row.append(r, el('label', { for: `import-existing-${v}` }, t(`data.existing_${v}`)));
    existing.append(row);
  }
  const existingHint = el('p', { class: 'hint', id: 'import-match' });
  existing.append(existingHint);

  const check = el('button', { type: 'button', class: 'secondary', id: 'import-check' }, t('data.check'));
  const work = progressBar({ id: 'import' });
  const message = resultBox('import-result');
  const preview = el('div', { id: 'import-preview' });

  // "Copy as path" on Windows puts the path in quotes.
  const path = () => file.value.trim().replace(/^"(.*)"$/, '$1');
  const args = () => ({ what: kind.value, file: path(), onExisting: radios.update.checked ? 'update' : 'skip' });

  function describeKind() {
    columns.textContent = t(`data.columns.${kind.value}`);
    existingHint.textContent = t(`data.match.${kind.value}`);
  }
  function clearPreview() {
    preview.replaceChildren();
    message.clear();
  }
  kind.addEventListener('change', () => { describeKind(); clearPreview(); });
  file.addEventListener('input', clearPreview);
  Object.values(radios).forEach((r) => r.addEventListener('change', clearPreview));

  /** @param {boolean} busy */
  function setBusy(busy) {
    [check, kind, file, ...Object.values(radios), ...preview.querySelectorAll('button')].forEach((e) => { e.disabled = busy; });
  }

  /** @param {any} p the core's preview */
  function showPreview(p) {
    const bad = p.errors.length;
    const counts = table('import-counts',
      ['data.col.rows', 'data.col.created', 'data.col.updated', 'data.col.skipped', 'data.col.bad'],
      [[count(p.rows), count(p.created), count(p.updated), count(p.skipped), count(bad)]]);
    const countsWrap = el('div', { class: 'table-wrap' });
    countsWrap.append(counts);
    /** @type {HTMLElement[]} */
    const parts = [el('h3', {}, t('data.preview')), countsWrap];
    if (bad) {
      parts.push(el('p', { class: 'error', role: 'alert', id: 'import-bad' }, t('data.has_errors', { n: count(bad) })));
      const wrap = el('div', { class: 'table-wrap scroll' });
      wrap.append(table('import-errors', ['data.col.line', 'data.col.column', 'data.col.reason'],
        p.errors.map((/** @type {any} */ e) => [String(e.line), e.column || '—', reason(e)])));
      parts.push(wrap);
    } else if (p.created + p.updated === 0) {
      parts.push(el('p', { class: 'notice' }, t('data.nothing_to_do')));
    } else {
      const go = el('button', { type: 'button', id: 'import-run' }, t('data.import_button', { n: count(p.created + p.updated) }));
      go.addEventListener('click', runImport);
      parts.push(el('p', { class: 'hint' }, t('data.import_hint')), go);
    }
    if (p.planned.length) {
      parts.push(el('h3', {}, t('data.planned')));
      const wrap = el('div', { class: 'table-wrap scroll' });
      wrap.append(table('import-planned', ['data.col.line', 'data.col.action', 'data.col.record'],
        p.planned.map((/** @type {any} */ r) => [String(r.line), t(`data.action.${r.action}`), r.label])));
      parts.push(wrap);
      if (p.planned_total > p.planned.length) parts.push(el('p', { class: 'hint' }, t('data.planned_more', { n: count(p.planned.length), total: count(p.planned_total) })));
    }
    preview.replaceChildren(...parts);
    preview.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }

  /**
   * The core's dry run (`import_preview`) or import (`import_run`) of the chosen file, with
   * its progress; `then` shows the answer, a refusal is said under the button.
   * @param {string} command
   * @param {(r: any) => void} then
   */
  async function importing(command, then) {
    setBusy(true);
    try {
      const r = await invoke(command, { args: args(), onProgress: work.start() });
      work.finish();
      then(r);
    } catch (e) {
      work.finish();
      message.error(e.message);
    } finally {
      setBusy(false);
    }
  }

  async function runCheck() {
    clearPreview();
    if (!path()) { message.error(t('data.no_file')); file.focus(); return; }
    await importing('import_preview', showPreview);
  }

  async function runImport() {
    message.clear();
    await importing('import_run', (r) => {
      if (r.applied) {
        preview.replaceChildren();
        message.ok(t('data.imported', { created: count(r.created), updated: count(r.updated), skipped: count(r.skipped), backup: r.safety_backup || '—' }));
        ctx.changed();
      } else {
        // The file changed since the preview: show what the core found now.
        showPreview(r);
      }
    });
  }
  check.addEventListener('click', runCheck);

  imp.append(el('h2', {}, t('data.import')), el('p', { class: 'hint' }, t('data.import_intro')),
    kindWrap, fileWrap, existing, check, work.wrap, message.box, preview);
  describeKind();

  view.replaceChildren(el('h1', {}, t('nav.data')), exp, imp);
}
