// Keys: instant search (in the core, diacritics-insensitive), sort, paging, create, edit,
// retire, soft delete and restore, and a key's full history; lost and found, the impact
// of a lost key and which areas it opens (key-control.js); the list as it was at a past
// moment ("As of"); and the Sets and Areas tabs (sets.js, areas.js). Only admins change
// keys and areas, operators report keys lost and found; the core refuses others
// whatever the page shows.
//
// A key that no group allows can be handed to nobody without an admin's override: each
// such key says so, and so does a card while no key at all is allowed (the first run),
// because there is no default group that allows everything (ARCHITECTURE.md, groups).

import { cached, el, invoke, localTime, t } from '../admin-common.js';
import { button, dateInput, deleteButton, infoDialog, listChanges, pagedTable, searchBox, showDeletedToggle, statusBadge, toast } from '../components.js';
import { editOpens, reportFound, reportLost, showImpact } from '../key-control.js';
import * as areas from './areas.js';
import * as sets from './sets.js';

export const screen = { id: 'keys', navKey: 'nav.keys', minRole: 'viewer' };

const FIELDS = [
  { name: 'number', labelKey: 'keys.number', required: true },
  { name: 'name', labelKey: 'keys.name' },
  { name: 'location', labelKey: 'keys.location' },
  { name: 'key_type', labelKey: 'keys.type' },
  { name: 'copies_note', labelKey: 'keys.copies' },
];

/** @param {any} row */
function keyStatus(row) {
  return row.deleted_at ? 'deleted' : row.status;
}

/** Which tab of the screen is open: 'keys', 'sets' or 'areas' (kept while the app runs). */
let tab = 'keys';

/** Opens the Groups screen as its menu button does. */
export function openGroups() {
  const b = /** @type {HTMLElement|null} */ (document.querySelector('#nav [data-screen="groups"]'));
  if (b) b.click();
}

/**
 * A key nobody may receive yet (no group allows it), unless it is out of use anyway.
 * @param {any} r a key
 */
function waitsForGroup(r) {
  return r.groups === 0 && !r.deleted_at && (r.status === 'available' || r.status === 'issued');
}

/**
 * The status cell: the status, and "No group yet" when no group allows the key.
 * @param {any} r a key
 */
function statusCell(r) {
  const box = el('span', { class: 'status-cell' });
  box.append(statusBadge(keyStatus(r)));
  if (waitsForGroup(r)) box.append(el('span', { class: 'badge nogroup', title: t('keys.no_group_long') }, t('keys.no_group')));
  return box;
}

/**
 * What the groups allow, above the list: on the first run (keys, none allowed) a card
 * that says what to do, later a line while some keys wait for a group; nothing when
 * every key is allowed.
 * @param {HTMLElement} box
 * @param {boolean} admin
 */
async function paintCoverage(box, admin) {
  let c;
  try {
    c = await invoke('keys_group_coverage');
  } catch {
    box.replaceChildren();
    return;
  }
  const open = button('keys.open_groups', openGroups, 'primary');
  if (c.keys > 0 && c.allowed === 0) {
    const card = el('section', { class: 'card first-run', id: 'first-run', role: 'note' });
    card.append(el('h2', {}, t('keys.first_run_title')),
      el('p', {}, t('keys.first_run_text')),
      el('p', {}, t(admin ? 'keys.first_run_admin' : 'keys.first_run_other')),
      open);
    box.replaceChildren(card);
  } else if (c.keys > c.allowed) {
    const line = el('div', { class: 'group-note', id: 'keys-group-note', role: 'note' });
    line.append(el('p', {}, t('keys.some_no_group', { n: c.keys - c.allowed })), open);
    open.className = 'secondary small';
    box.replaceChildren(line);
  } else {
    box.replaceChildren();
  }
}

/**
 * @param {{number: string, id: number}} key
 */
export async function showHistory(key) {
  const table = pagedTable({
    columns: [
      { labelKey: 'dash.col.time', cell: (r) => localTime(r.at) },
      { labelKey: 'dash.col.action', cell: (r) => t(`action.${r.action}`) },
      { labelKey: 'dash.col.person', cell: (r) => r.person_name || '' },
      { labelKey: 'dash.col.user', cell: (r) => r.user_name },
      { labelKey: 'dash.col.comment', cell: (r) => [r.comment, r.override_reason && `${t('keys.override')}: ${r.override_reason}`].filter(Boolean).join(' · ') },
    ],
    fetch: ({ offset }) => invoke('key_history', { id: key.id, offset }),
    emptyKey: 'keys.history_empty',
  });
  await table.refresh();
  await infoDialog(t('keys.history_title', { number: key.number }), table.element);
}

/**
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export async function render(view, ctx) {
  const tabs = el('div', { class: 'tabs', role: 'tablist', 'aria-label': t('nav.keys') });
  const panel = el('div', { role: 'tabpanel', class: 'tab-panel' });
  const tabKeys = el('button', { type: 'button', role: 'tab', id: 'tab-keys' }, t('keys.tab_keys'));
  const tabSets = el('button', { type: 'button', role: 'tab', id: 'tab-sets' }, t('sets.title'));
  const tabAreas = el('button', { type: 'button', role: 'tab', id: 'tab-areas' }, t('areas.title'));
  tabs.append(tabKeys, tabSets, tabAreas);
  const all = { keys: tabKeys, sets: tabSets, areas: tabAreas };
  /** @param {string} which */
  async function open(which) {
    tab = which;
    for (const [name, b] of Object.entries(all)) b.setAttribute('aria-selected', String(name === which));
    panel.setAttribute('aria-labelledby', `tab-${which}`);
    if (which === 'sets') await sets.render(panel, ctx);
    else if (which === 'areas') await areas.render(panel, ctx);
    else await keysTab(panel, ctx);
  }
  for (const [name, b] of Object.entries(all)) b.addEventListener('click', () => open(name));
  view.replaceChildren(el('h1', {}, t('nav.keys')), tabs, panel);
  await open(tab);
}

/**
 * The keys tab: the list with its toolbar, and what the groups allow above it.
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
async function keysTab(view, ctx) {
  const admin = ctx.user.role === 'admin';
  // Operators and admins report keys lost and found; viewers only look.
  const reports = admin || ctx.user.role === 'operator';
  const coverage = el('div', { class: 'coverage' });
  let search = '';
  let status = '';
  let includeDeleted = false;

  const table = pagedTable({
    caption: t('nav.keys'),
    sort: 'number',
    columns: [
      { labelKey: 'keys.number', sort: 'number', cell: (r) => r.number, className: 'strong' },
      { labelKey: 'keys.name', sort: 'name', cell: (r) => r.name || '' },
      { labelKey: 'keys.location', cell: (r) => r.location || '' },
      { labelKey: 'keys.status', sort: 'status', cell: statusCell },
      { labelKey: 'keys.holder', cell: (r) => r.holder_name || '' },
      { labelKey: 'keys.due', sort: 'due', cell: (r) => localTime(r.due_back_at) },
      // Up to seven buttons: they wrap to a second line rather than widen the table.
      { labelKey: 'common.actions', cell: actions, className: 'actions kc-actions' },
    ],
    rowClass: (r) => (r.status === 'issued' && r.due_back_at && r.due_back_at * 1000 < Date.now() ? 'overdue' : ''),
    fetch: (q) => invoke('list_keys', { args: { ...q, search, status, includeDeleted } }),
    initial: cached('keys'),
    emptyKey: admin ? 'keys.empty_admin' : 'keys.empty',
  });

  // Every change here (a new key, a retired one) may change what the groups cover.
  const { act, edit: openForm } = listChanges(table, () => { ctx.changed(); paintCoverage(coverage, admin); });

  function actions(r) {
    const box = el('div', { class: 'row-actions' });
    box.append(button('keys.history', () => showHistory(r)));
    const vars = { number: r.number };
    if (!r.deleted_at) {
      box.append(button('kc.impact', () => showImpact(r.number, { admin })));
      if (reports && (r.status === 'available' || r.status === 'issued')) box.append(button('kc.report_lost', () => lost(r)));
      if (reports && r.status === 'lost') box.append(button('kc.found', () => found(r)));
    }
    if (!admin) return box;
    if (r.deleted_at) {
      box.append(button('common.restore', () => act(() => invoke('key_restore', { id: r.id }), t('keys.restored', vars))));
      return box;
    }
    box.append(button('kc.opens', () => opens(r)));
    box.append(button('common.edit', () => edit(r)));
    if (r.status === 'available') {
      box.append(button('keys.retire', () => act(() => invoke('key_set_retired', { id: r.id, retired: true }), t('keys.retired_done', vars))));
    } else if (r.status === 'retired') {
      box.append(button('keys.unretire', () => act(() => invoke('key_set_retired', { id: r.id, retired: false }), t('keys.unretired_done', vars))));
    }
    box.append(deleteButton(t('keys.confirm_delete', vars), () => act(() => invoke('key_delete', { id: r.id }), t('keys.deleted', vars))));
    return box;
  }

  /**
   * Reports key `r` lost, then shows at once what its loss opens.
   * @param {any} r
   */
  async function lost(r) {
    const done = await reportLost(r);
    if (!done) return;
    toast(t('kc.lost_done', { number: r.number }));
    ctx.changed();
    await table.refresh();
    await showImpact(r.number, { admin });
  }

  /** @param {any} r a lost key */
  async function found(r) {
    const done = await reportFound(r);
    if (!done) return;
    toast(t('kc.found_done', { number: r.number }));
    ctx.changed();
    await table.refresh();
  }

  /** @param {any} r */
  async function opens(r) {
    const saved = await editOpens(r);
    if (saved) toast(saved.length ? t('kc.opens_saved', { number: r.number, areas: saved.map((/** @type {any} */ a) => a.name).join(', ') }) : t('kc.opens_saved_none', { number: r.number }));
  }

  function edit(row) {
    return openForm({
      titleKey: row ? 'keys.edit_title' : 'keys.new_title',
      fields: FIELDS,
      values: row || {},
      submitKey: 'common.save',
      onSubmit: (v) => invoke('key_save', { id: row ? row.id : null, input: v }),
    }, (saved) => t('keys.saved', { number: saved.number }));
  }

  const toolbar = el('div', { class: 'toolbar' });
  const sb = searchBox('keys.search', (v) => { search = v; table.reset(); });
  const statusWrap = el('div', { class: 'field inline' });
  const statusSel = /** @type {HTMLSelectElement} */ (el('select', { id: 'keys-status' }));
  for (const s of ['', 'available', 'issued', 'lost', 'retired']) {
    statusSel.append(el('option', { value: s }, s ? t(`status.${s}`) : t('keys.all_statuses')));
  }
  statusSel.addEventListener('change', () => { status = statusSel.value; table.reset(); });
  statusWrap.append(el('label', { for: 'keys-status' }, t('keys.status')), statusSel);
  const delWrap = showDeletedToggle('keys-deleted', (checked) => { includeDeleted = checked; table.reset(); });
  const asOf = asOfView();
  toolbar.append(sb.element, statusWrap, delWrap, asOf.field.wrap);
  /** @type {HTMLElement[]} */
  const liveOnly = [sb.element, statusWrap, delWrap, coverage, table.element];
  if (admin) {
    const add = button('keys.new', () => edit(null), 'primary');
    toolbar.append(add);
    liveOnly.push(add);
  }
  asOf.onChange((past) => { for (const e of liveOnly) e.hidden = past; if (!past) table.refresh(); });

  view.replaceChildren(toolbar, asOf.banner, coverage, table.element, asOf.table.element);
  await Promise.all([table.refresh(), paintCoverage(coverage, admin)]);
  sb.input.focus();
}

/**
 * "As of": a date-and-time field that switches the tab to the keys as they were at that
 * moment (state then, who held each key, since when, due when), under a banner that says
 * so, with "Back to now"; clearing the field returns to the live list.
 */
function asOfView() {
  const field = dateInput({ id: 'keys-as-of', labelKey: 'asof.label', withTime: true, inline: true });
  field.input.title = t('asof.hint');
  const banner = el('div', { class: 'as-of-banner', id: 'as-of-banner', role: 'status', hidden: '' });
  const bannerText = el('p', {});
  const back = button('asof.back', () => { field.clear(); show(''); });
  banner.append(bannerText, back);
  /** The moment shown, as typed (the app's date text), or '' for now. */
  let at = '';
  const table = pagedTable({
    caption: t('asof.caption'),
    columns: [
      { labelKey: 'keys.number', cell: (r) => r.key_number, className: 'strong' },
      { labelKey: 'keys.name', cell: (r) => r.key_name || '' },
      { labelKey: 'keys.location', cell: (r) => r.location || '' },
      { labelKey: 'asof.state', cell: (r) => statusBadge(r.status) },
      { labelKey: 'asof.holder', cell: (r) => (r.person_name ? `${r.person_name}${r.person_code ? ` (${r.person_code})` : ''}` : '') },
      { labelKey: 'asof.since', cell: (r) => localTime(r.since), className: 'when' },
      { labelKey: 'keys.due', cell: (r) => localTime(r.due_back_at), className: 'when' },
      { labelKey: 'common.actions', cell: (r) => button('keys.history', () => showHistory({ id: r.key_id, number: r.key_number })), className: 'actions' },
    ],
    fetch: async ({ limit, offset }) => (at ? (await invoke('keys_as_of', { at, limit, offset })).rows : []),
    emptyKey: 'asof.empty',
  });
  table.element.id = 'as-of-table';
  table.element.hidden = true;
  /** @type {(past: boolean) => void} */
  let changed = () => {};
  /** @param {string} text the moment, or '' for now */
  async function show(text) {
    at = text;
    banner.hidden = !at;
    table.element.hidden = !at;
    changed(!!at);
    if (!at) return;
    // A day alone means its end (time::parse_user_time), and the banner says so.
    const p = field.parts();
    bannerText.textContent = t(p && !p.hasTime ? 'asof.banner_day' : 'asof.banner', { at });
    try {
      await table.reset();
    } catch (err) {
      field.input.setAttribute('aria-invalid', 'true');
      bannerText.textContent = err.message;
    }
  }
  // The field rewrites a valid value in full on change (dateInput), and says a wrong one.
  field.input.addEventListener('change', () => {
    const text = field.input.value.trim();
    if (!text) show('');
    else if (field.parts()) show(text);
  });
  field.input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { ev.preventDefault(); field.input.dispatchEvent(new Event('change')); }
  });
  return {
    field,
    banner,
    table,
    /** @param {(past: boolean) => void} fn called when the view turns to the past or back to now */
    onChange(fn) { changed = fn; },
  };
}
