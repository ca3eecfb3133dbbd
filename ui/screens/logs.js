// Logs: the key log and the audit trail with their filters and paging. The audit view
// shows what a change was before and after, and checks the trail (trail-check.js). A
// key-log row of a handover opens its receipt, to print again (a copy) or save as PDF.

import { count, el, invoke, localTime, t } from '../admin-common.js';
import { button, dateInput, infoDialog, pagedTable } from '../components.js';
import { receiptActions } from '../receipt.js';
import { trailCheck } from '../trail-check.js';
import { progressBar, resultBox, saveAs, today } from '../work.js';

export const screen = { id: 'logs', navKey: 'nav.logs', minRole: 'viewer' };

/** Every operation the core writes to the audit trail (`op.<name>` in both catalogues). */
export const OPERATIONS = ['create', 'update', 'delete', 'restore', 'issue', 'return', 'login', 'login_failed',
  'logout', 'session_timeout', 'session_rejected', 'set_password', 'backup', 'restore_backup', 'start_over', 'prune', 'import', 'export', 'upgrade',
  'remember_destination', 'print', 'lost', 'found', 'areas', 'start', 'scan', 'finish', 'offboard'];

/** An audit operation in the user's language (an unknown one as the core wrote it). */
function opLabel(/** @type {string} */ op) {
  const key = `op.${op}`;
  const text = t(key);
  return text === key ? op : text;
}

/** A local day ("2026-11-23", a dateInput's iso()) -> Unix seconds at local midnight. */
function dayStart(v) {
  return v ? Math.floor(new Date(`${v}T00:00:00`).getTime() / 1000) : null;
}

/** @param {string} id @param {string} labelKey @param {string} type */
function field(id, labelKey, type = 'text') {
  const wrap = el('div', { class: 'field inline' });
  const input = /** @type {HTMLInputElement} */ (el('input', { id, type }));
  wrap.append(el('label', { for: id }, t(labelKey)), input);
  return { wrap, input };
}

/** @param {string} id @param {string} labelKey @param {{value: string, label: string}[]} options */
function select(id, labelKey, options) {
  const wrap = el('div', { class: 'field inline' });
  const s = /** @type {HTMLSelectElement} */ (el('select', { id }));
  options.forEach((o) => s.append(el('option', { value: o.value }, o.label)));
  wrap.append(el('label', { for: id }, t(labelKey)), s);
  return { wrap, input: s };
}

/**
 * The export row under a log's filters: one button per file type, each asking where to
 * save (native dialog) and then streaming the rows there, with progress and Cancel.
 * @param {string} id element id prefix
 * @param {string} hintKey what gets exported
 * @param {{ext: string, labelKey: string}[]} formats
 * @param {() => string} baseName the suggested file name without extension
 * @param {(out: string, channel: any) => Promise<{file: string, rows: number}>} run
 * @param {() => string} [problem] a reason not to export yet, checked before the dialog
 */
function exportRow(id, hintKey, formats, baseName, run, problem) {
  const box = el('section', { class: 'export-row', 'aria-label': t('logs.export') });
  const buttons = el('div', { class: 'toolbar' });
  const work = progressBar({ id });
  const result = resultBox(`${id}-result`);
  for (const f of formats) {
    const b = el('button', { type: 'button', class: 'secondary', id: `${id}-${f.ext}` }, t(f.labelKey));
    b.addEventListener('click', async () => {
      result.clear();
      const why = problem ? problem() : '';
      if (why) { result.error(why); return; }
      const out = await saveAs(`${baseName()}.${f.ext}`).catch((e) => { result.error(e.message); return null; });
      if (!out) return;
      buttons.querySelectorAll('button').forEach((x) => { x.disabled = true; });
      try {
        const r = await run(out, work.start());
        work.finish();
        result.ok(t('logs.exported', { n: count(r.rows), file: r.file }));
      } catch (e) {
        work.finish();
        result.error(e.message);
      } finally {
        buttons.querySelectorAll('button').forEach((x) => { x.disabled = false; });
      }
    });
    buttons.append(b);
  }
  box.append(el('h2', { class: 'sr-only' }, t('logs.export')), buttons, el('p', { class: 'hint' }, t(hintKey)), work.wrap, result.box);
  return box;
}

/** @param {any} v */
function pretty(v) {
  return v === null || v === undefined ? '—' : JSON.stringify(v, null, 2);
}

/**
 * @param {HTMLElement} view
 * @param {{user: {role: string}}} ctx
 */
export async function render(view, ctx) {
  const admin = ctx.user.role === 'admin';
  const tabs = el('div', { class: 'tabs', role: 'tablist' });
  const panel = el('div', { role: 'tabpanel' });
  const tabKey = el('button', { type: 'button', role: 'tab', id: 'tab-keylog' }, t('logs.keylog'));
  const tabAudit = el('button', { type: 'button', role: 'tab', id: 'tab-audit' }, t('logs.audit'));
  tabs.append(tabKey);
  if (admin) tabs.append(tabAudit);

  async function keyLog() {
    tabKey.setAttribute('aria-selected', 'true');
    tabAudit.setAttribute('aria-selected', 'false');
    const actors = await invoke('log_actors');
    const from = dateInput({ id: 'kl-from', labelKey: 'logs.from', inline: true });
    const to = dateInput({ id: 'kl-to', labelKey: 'logs.to', inline: true });
    const key = field('kl-key', 'logs.key');
    const person = field('kl-person', 'logs.person');
    const user = select('kl-user', 'logs.user', [{ value: '', label: t('logs.anyone') }, ...actors.map((a) => ({ value: a, label: a }))]);
    const action = select('kl-action', 'logs.action', [{ value: '', label: t('logs.any_action') },
      ...['issued', 'returned', 'lost', 'found'].map((a) => ({ value: a, label: t(`action.${a}`) }))]);
    const error = el('p', { class: 'error', role: 'alert' });
    /** The filters as the core takes them (the list and the export); null when the person is not found. */
    async function filterArgs() {
      let personId = null;
      if (person.input.value.trim()) {
        const m = await invoke('desk_lookup', { text: person.input.value, personChosen: false });
        if (m.kind === 'person') personId = m.person.id;
        else if (m.kind === 'candidates' && m.persons.length === 1) personId = m.persons[0].id;
        else { error.textContent = t('logs.person_unknown'); return null; }
      }
      const end = dayStart(to.iso());
      return {
        start: dayStart(from.iso()), end: end === null ? null : end + 86400,
        keyNumber: key.input.value || null, personId, actor: user.input.value || null,
        action: action.input.value || null,
      };
    }
    const table = pagedTable({
      caption: t('logs.keylog'),
      columns: [
        { labelKey: 'dash.col.time', cell: (r) => localTime(r.at) },
        { labelKey: 'dash.col.action', cell: (r) => t(`action.${r.action}`) },
        { labelKey: 'dash.col.key', cell: (r) => r.key_number, className: 'strong' },
        { labelKey: 'dash.col.person', cell: (r) => r.person_name || '' },
        { labelKey: 'dash.col.user', cell: (r) => r.user_name },
        { labelKey: 'keys.due', cell: (r) => localTime(r.due_back_at) },
        { labelKey: 'dash.col.comment', cell: (r) => [r.comment, r.override_reason && `${t('keys.override')}: ${r.override_reason}`].filter(Boolean).join(' · ') },
        { labelKey: 'logs.receipt', cell: (r) => receiptCell(r), className: 'actions' },
      ],
      // The list's order (newest first): a row's time, then its id.
      cursor: (r) => ({ at: r.at, id: r.id }),
      fetch: async (q) => {
        error.textContent = '';
        const f = await filterArgs();
        if (!f) return [];
        // Keyset paging: a page after the last row of the one before (or the first).
        return invoke('keylog_search', { args: { ...f, limit: q.limit, before: q.after } })
          .catch((e) => { error.textContent = e.message; return []; });
      },
      emptyKey: 'logs.empty',
    });
    const filters = el('form', { class: 'toolbar filters' });
    filters.append(from.wrap, to.wrap, key.wrap, person.wrap, user.wrap, action.wrap, el('button', { type: 'submit', class: 'secondary' }, t('logs.apply')));
    filters.addEventListener('submit', (e) => { e.preventDefault(); table.reset(); });
    [from, to, user, action].forEach((f) => f.input.addEventListener('change', () => table.reset()));
    const exporter = exportRow('kl-export', 'logs.export_keylog_hint',
      [{ ext: 'csv', labelKey: 'logs.export_csv' }, { ext: 'xlsx', labelKey: 'logs.export_xlsx' }],
      () => `keylog_${from.iso() || 'start'}_${to.iso() || today()}`,
      async (out, onProgress) => {
        error.textContent = '';
        const f = await filterArgs();
        if (!f) throw new Error(t('logs.person_unknown'));
        return invoke('export_keylog', { args: { ...f, out }, onProgress });
      },
      () => ([from, to].some((d) => d.input.value.trim() && !d.iso()) ? t('date.invalid', { form: t('date.form') })
        : from.iso() && to.iso() && to.iso() < from.iso() ? t('logs.range_backwards') : ''));
    panel.replaceChildren(filters, exporter, error, table.element);
    await table.refresh();
  }

  async function audit() {
    tabKey.setAttribute('aria-selected', 'false');
    tabAudit.setAttribute('aria-selected', 'true');
    const from = dateInput({ id: 'au-from', labelKey: 'logs.from', inline: true });
    const to = dateInput({ id: 'au-to', labelKey: 'logs.to', inline: true });
    const component = select('au-component', 'logs.component', [{ value: '', label: t('logs.any_component') },
      ...['keys', 'key_sets', 'receipts', 'persons', 'groups', 'users', 'session', 'config', 'backup', 'demo', 'export', 'import', 'database'].map((c) => ({ value: c, label: t(`component.${c}`) }))]);
    const operation = select('au-operation', 'logs.operation', [{ value: '', label: t('logs.any_operation') },
      ...OPERATIONS.map((o) => ({ value: o, label: opLabel(o) }))]);
    const actor = field('au-actor', 'logs.user');
    const record = field('au-record', 'logs.record');
    const table = pagedTable({
      caption: t('logs.audit'),
      columns: [
        { labelKey: 'logs.entry', cell: (r) => String(r.id), className: 'muted' },
        { labelKey: 'dash.col.time', cell: (r) => localTime(r.at) },
        { labelKey: 'logs.user', cell: (r) => r.actor },
        { labelKey: 'logs.component', cell: (r) => t(`component.${r.component}`) },
        { labelKey: 'logs.record', cell: (r) => r.record_id || '' },
        { labelKey: 'logs.operation', cell: (r) => opLabel(r.operation), className: 'strong' },
        { labelKey: 'common.actions', cell: (r) => button('logs.show_change', () => showChange(r)), className: 'actions' },
      ],
      fetch: (q) => {
        const end = dayStart(to.iso());
        return invoke('audit_search', {
          args: {
            component: component.input.value || null, operation: operation.input.value || null,
            actor: actor.input.value || null, recordId: record.input.value || null,
            since: dayStart(from.iso()), until: end === null ? null : end + 86399,
            limit: q.limit, offset: q.offset,
          },
        });
      },
      emptyKey: 'logs.empty',
    });
    const filters = el('form', { class: 'toolbar filters' });
    filters.append(from.wrap, to.wrap, component.wrap, operation.wrap, actor.wrap, record.wrap, el('button', { type: 'submit', class: 'secondary' }, t('logs.apply')));
    filters.addEventListener('submit', (e) => { e.preventDefault(); table.reset(); });
    [from, to, component].forEach((f) => f.input.addEventListener('change', () => table.reset()));
    const exporter = exportRow('au-export', 'logs.export_audit_hint',
      [{ ext: 'csv', labelKey: 'logs.export_csv' }, { ext: 'json', labelKey: 'logs.export_json' }],
      () => `audit_${today()}`,
      (out, onProgress) => {
        const end = dayStart(to.iso());
        return invoke('export_audit', {
          args: {
            component: component.input.value || null, operation: operation.input.value || null,
            actor: actor.input.value || null, recordId: record.input.value || null,
            since: dayStart(from.iso()), until: end === null ? null : end + 86399, out,
          },
          onProgress,
        });
      });
    panel.replaceChildren(trailCheck(), filters, exporter, table.element);
    await table.refresh();
  }

  /**
   * A key-log row's receipt button ("Receipt 12"), or nothing for a row without one.
   * @param {any} r
   */
  function receiptCell(r) {
    if (!r.receipt_number) return '';
    const b = el('button', { type: 'button', class: 'secondary small', id: `kl-receipt-${r.id}` }, t('logs.receipt_n', { n: r.receipt_number }));
    b.addEventListener('click', () => showReceipt(r.receipt_number));
    return b;
  }

  /**
   * A receipt's facts and its print and save buttons (a print after the first says
   * "copy").
   * @param {number} number
   */
  async function showReceipt(number) {
    const r = await invoke('receipt_get', { number });
    const facts = el('dl', { class: 'facts', id: 'receipt-facts' });
    /** @param {string} key @param {string} value */
    const fact = (key, value) => facts.append(el('dt', {}, t(key)), el('dd', {}, value));
    fact('receipt.kind', t(r.kind === 'return' ? 'receipt.kind_return' : 'receipt.kind_issue'));
    fact('receipt.at', localTime(r.at));
    if (r.person) fact('receipt.person', [r.person.full_name, r.person.code, r.person.department].filter(Boolean).join(' · '));
    if (r.set_name) fact('receipt.set', r.set_name);
    fact('receipt.keys', r.keys.map((k) => k.number).join(', '));
    fact('receipt.user', r.user);
    fact('receipt.signed', r.signed ? t('receipt.signed_yes') : t('receipt.not_signed'));
    fact('receipt.printed_times', r.printed > 0 ? t('receipt.printed_n', { n: r.printed }) : t('receipt.never_printed'));
    const box = el('div', {});
    box.append(facts, receiptActions(number, 'log-receipt-actions'));
    return infoDialog(t('receipt.number', { n: number }), box);
  }

  /** @param {any} r */
  function showChange(r) {
    const box = el('div', { class: 'two-col diff' });
    const before = el('section', {});
    before.append(el('h3', {}, t('logs.before')), el('pre', { id: 'audit-before' }, pretty(r.before)));
    const after = el('section', {});
    after.append(el('h3', {}, t('logs.after')), el('pre', { id: 'audit-after' }, pretty(r.after)));
    box.append(before, after);
    return infoDialog(`${opLabel(r.operation)} · ${t(`component.${r.component}`)} ${r.record_id || ''} · ${localTime(r.at)}`, box);
  }

  tabKey.addEventListener('click', keyLog);
  tabAudit.addEventListener('click', audit);
  view.replaceChildren(el('h1', {}, t('nav.logs')), tabs, panel);
  await keyLog();
}
