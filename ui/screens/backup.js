// Backup & restore (admins): one big "Back up now" to the remembered destination, a
// folder picker, encryption, the history with each step's status, and restore with a
// preview and a confirmation that says what will be replaced. Progress comes from the
// core through a channel and reaches 100% only after the read-back verification.
// One function per card; render() only puts them in order and connects them.

import { AppError, clearCache, el, invoke, localTime, size, t } from '../admin-common.js';
import { button, confirmDialog, infoDialog } from '../components.js';
import { backupBar, checkBar, restoreBar } from '../work.js';

export const screen = { id: 'backup', navKey: 'nav.backup', minRole: 'admin' };

/** Shows a recovery passphrase once, with a Print button. @param {string} pp */
export async function showPassphrase(pp) {
  const box = el('div', {});
  box.append(el('p', {}, t('backup.passphrase_once')), el('p', { class: 'passphrase', id: 'recovery-passphrase' }, pp));
  const print = el('button', { type: 'button', class: 'secondary' }, t('backup.print'));
  print.addEventListener('click', () => window.print());
  box.append(print);
  await infoDialog(t('backup.passphrase_title'), box);
}

/**
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void, signedOut?: (key: string) => void}} ctx
 */
export async function render(view, ctx) {
  const o = await invoke('backup_overview');
  const auto = await autoBackupCard();
  const history = historyCard();
  const make = backupCard(o, {
    // The folder is remembered now: automatic backups go there.
    done: () => auto.refresh().catch(() => { /* the card keeps what it said */ }),
    ended: history.refresh,
  });
  view.replaceChildren(el('h1', {}, t('nav.backup')), make.card, auto.card, retentionCard(o.retention),
    history.card, restoreCard(make.destination));
  await history.refresh();
  make.go.focus();
}

/**
 * "Back up now": the destination (a remembered drive plugged in is offered first),
 * encryption with its passphrase, the bar, and what happened.
 * @param {{destinations: string[], encrypt: boolean}} o the backup overview
 * @param {{done: () => void, ended: () => Promise<void>}} then `done` after a backup made, `ended` after any attempt
 */
function backupCard(o, then) {
  const card = el('section', { class: 'card' });
  card.append(el('h2', {}, t('backup.make')));
  const destWrap = el('div', { class: 'field' });
  const dest = el('input', { id: 'backup-dest', type: 'text', value: o.destinations[0] || '' });
  const pick = button('backup.choose', async () => {
    const f = await invoke('pick_folder', { title: t('backup.pick_destination') });
    if (f) dest.value = f;
  });
  const destRow = el('div', { class: 'inline-row' });
  destRow.append(dest, pick);
  destWrap.append(el('label', { for: 'backup-dest' }, t('backup.destination')), destRow, el('p', { class: 'hint' }, t('backup.destination_hint')));
  const encWrap = el('div', { class: 'field check' });
  const enc = el('input', { id: 'backup-encrypt', type: 'checkbox' });
  enc.checked = o.encrypt;
  encWrap.append(enc, el('label', { for: 'backup-encrypt' }, t('backup.encrypt')));
  const passWrap = el('div', { class: 'field' });
  const pass = el('input', { id: 'backup-pass', type: 'password', autocomplete: 'new-password' });
  passWrap.append(el('label', { for: 'backup-pass' }, t('backup.passphrase')), pass, el('p', { class: 'hint' }, t('backup.passphrase_hint')));
  enc.addEventListener('change', () => { passWrap.hidden = !enc.checked; });
  passWrap.hidden = !enc.checked;
  const go = el('button', { type: 'button', class: 'big-button', id: 'backup-now' }, t('backup.now'));
  // A remembered drive plugged in now (found by its marker, wherever it is mounted).
  const drivesBox = el('div', { id: 'known-drives' });
  invoke('known_drives_present').then((present) => {
    for (const d of present) {
      const offer = el('div', { class: 'ok-box known-drive' });
      const now = el('button', { type: 'button' }, t('backup.known_drive_now', { label: d.label }));
      now.addEventListener('click', () => { dest.value = d.path; go.click(); });
      offer.append(el('span', {}, `${t('backup.known_drive', { label: d.label })} `), now);
      drivesBox.append(offer);
    }
  }).catch(() => { /* the offer is a convenience: without it the screen works as before */ });
  const bar = backupBar('backup');
  const result = el('div', { id: 'backup-result', role: 'status' });
  go.addEventListener('click', async () => {
    result.textContent = '';
    result.className = '';
    if (!dest.value.trim()) { result.className = 'error'; result.textContent = t('backup.no_destination'); dest.focus(); return; }
    go.disabled = true;
    try {
      const done = await invoke('backup_run', {
        args: { destination: dest.value.trim(), encrypt: enc.checked, passphrase: pass.value || null },
        onProgress: bar.start(),
      });
      bar.complete();
      result.className = 'ok-box';
      result.textContent = t('backup.done', { file: done.report.file, size: size(done.report.size) });
      result.append(...pruneNotes(done));
      then.done();
      pass.value = '';
      if (done.recovery_passphrase) await showPassphrase(done.recovery_passphrase);
      await then.ended();
    } catch (err) {
      result.className = 'error';
      result.textContent = err.message;
      await then.ended();
    } finally {
      bar.finish();
      go.disabled = false;
    }
  });
  card.append(drivesBox, destWrap, encWrap, passWrap, go, bar.wrap, result);
  return { card, go, destination: () => dest.value.trim() };
}

/**
 * What retention did after the backup: deleted, left alone, or why it failed.
 * @param {{pruned?: {deleted: unknown[], left_alone: unknown[]}, prune_error?: any}} done
 */
function pruneNotes(done) {
  const notes = [];
  const p = done.pruned;
  if (p && p.deleted.length) notes.push(el('span', { class: 'pruned' }, ` ${t('backup.pruned', { n: p.deleted.length })}`));
  if (p && p.left_alone.length) notes.push(el('span', { class: 'error' }, ` ${t('backup.left_alone', { n: p.left_alone.length })}`));
  if (done.prune_error) notes.push(el('span', { class: 'error' }, ` ${t('backup.prune_failed', { reason: new AppError(done.prune_error).message })}`));
  return notes;
}

/**
 * The retention rules: how many backups of each kind to keep, saved by the core.
 * @param {Record<string, number>} rules
 */
function retentionCard(rules) {
  const keep = el('section', { class: 'card', id: 'retention' });
  keep.append(el('h2', {}, t('backup.retention')), el('p', { class: 'hint' }, t('backup.retention_hint')));
  const ruleRow = el('div', { class: 'inline-row' });
  /** @type {Record<string, HTMLInputElement>} */
  const ruleInputs = {};
  for (const [name, key] of [['keep_last', 'backup.keep_last'], ['keep_daily', 'backup.keep_daily'], ['keep_weekly', 'backup.keep_weekly'], ['keep_monthly', 'backup.keep_monthly']]) {
    const id = `retention-${name.replace('_', '-')}`;
    const input = el('input', { id, type: 'number', min: '0', max: '1000', step: '1', value: String(rules[name]) });
    ruleInputs[name] = input;
    const wrap = el('div', { class: 'field' });
    wrap.append(el('label', { for: id }, t(key)), input);
    ruleRow.append(wrap);
  }
  const keepResult = el('p', { id: 'retention-result', role: 'status' });
  const keepSave = el('button', { type: 'button', class: 'secondary', id: 'retention-save' }, t('backup.retention_save'));
  keepSave.addEventListener('click', async () => {
    keepResult.className = '';
    keepResult.textContent = '';
    /** @param {string} name */
    const n = (name) => Number.parseInt(ruleInputs[name].value || '0', 10);
    try {
      const saved = await invoke('backup_retention_save', {
        rules: { keepLast: n('keep_last'), keepDaily: n('keep_daily'), keepWeekly: n('keep_weekly'), keepMonthly: n('keep_monthly') },
      });
      for (const [name, input] of Object.entries(ruleInputs)) input.value = String(saved[name]);
      keepResult.className = 'ok-box';
      keepResult.textContent = t('backup.retention_saved');
    } catch (err) {
      keepResult.className = 'error';
      keepResult.textContent = err.message;
    }
  });
  keep.append(ruleRow, keepSave, keepResult);
  return keep;
}

/** The history of backups, each with its steps' status; `refresh` reads it again. */
function historyCard() {
  const card = el('section', { class: 'card' });
  async function refresh() {
    const rows = (await invoke('backup_overview')).history;
    card.replaceChildren(el('h2', {}, t('backup.history')));
    if (!rows.length) { card.append(el('p', { class: 'empty' }, t('backup.history_empty'))); return; }
    const table = el('table', { id: 'backup-history' });
    const head = el('tr');
    ['backup.col.when', 'backup.col.file', 'backup.col.size', 'backup.col.status', 'backup.col.steps'].forEach((k) => head.append(el('th', { scope: 'col' }, t(k))));
    table.append(el('thead'), el('tbody'));
    table.tHead.append(head);
    for (const r of rows) {
      const tr = el('tr', r.status === 'failed' ? { class: 'overdue' } : r.pruned_at ? { class: 'muted' } : {});
      const steps = Array.isArray(r.steps) ? r.steps.map((/** @type {{name: string, status: string}} */ s) => `${t(`backup.step.${s.name}`)}: ${t(`backup.status.${s.status}`)}`).join(' · ') : '';
      tr.append(el('td', {}, localTime(r.finished_at || r.started_at)),
        el('td', {}, `${r.file_name || ''}${r.encrypted ? ' · AES' : ''}${r.pinned ? ` (${t('backup.pinned')})` : ''}`),
        el('td', {}, size(r.size_bytes)),
        el('td', {}, t(`backup.status.${r.status}`) + (r.error ? ` — ${r.error}` : '')
          + (r.pruned_at ? ` · ${t('backup.pruned_row', { date: localTime(r.pruned_at) })}` : '')),
        el('td', { class: 'muted' }, steps));
      table.tBodies[0].append(tr);
    }
    card.append(table);
  }
  return { card, refresh };
}

/**
 * The commands a restore card calls: the signed-in admin's, or (`RESCUE`) the start
 * screen's, over a register too damaged to open, where nobody can sign in.
 * @typedef {{ id: string, list: string, preview: string, run: string, hint: string, confirm: string }} RestoreCommands
 */
/** @type {RestoreCommands} */
const RESTORE = { id: 'restore', list: 'backup_list', preview: 'restore_preview', run: 'restore_run', hint: 'backup.restore_hint', confirm: 'backup.confirm_restore' };
/** @type {RestoreCommands} */
export const RESCUE = { id: 'rescue', list: 'rescue_list', preview: 'rescue_preview', run: 'rescue_run', hint: 'rescue.hint', confirm: 'rescue.confirm' };

/**
 * Restore: a file (chosen, or found in a folder), its passphrase, the core's preview of
 * what would be replaced, and the restore after a confirmation.
 * @param {() => string} destination the backup card's folder, listed when no file is given
 * @param {RestoreCommands} [cmds] whose restore: the signed-in admin's by default
 */
export function restoreCard(destination, cmds = RESTORE) {
  const rest = el('section', { class: 'card', id: cmds.id });
  rest.append(el('h2', {}, t('backup.restore')), el('p', { class: 'hint' }, t(cmds.hint)));
  const fileWrap = el('div', { class: 'field' });
  const file = el('input', { id: 'restore-file', type: 'text' });
  const fileRow = el('div', { class: 'inline-row' });
  fileRow.append(file, button('backup.choose_file', async () => {
    const f = await invoke('pick_backup_file');
    if (f) file.value = f;
  }), button('backup.list_folder', listFolder));
  fileWrap.append(el('label', { for: 'restore-file' }, t('backup.file')), fileRow);
  const rpassWrap = el('div', { class: 'field' });
  const rpass = el('input', { id: 'restore-pass', type: 'password', autocomplete: 'off' });
  rpassWrap.append(el('label', { for: 'restore-pass' }, t('backup.restore_passphrase')), rpass);
  const found = el('div', { id: 'restore-found' });
  const previewBox = el('div', { id: 'restore-preview' });
  const cbar = checkBar('check');
  const rbar = restoreBar('restore');
  const rresult = el('p', { role: 'alert', id: 'restore-result' });
  const check = el('button', { type: 'button', class: 'secondary' }, t('backup.check'));
  check.addEventListener('click', doPreview);
  rest.append(fileWrap, found, rpassWrap, check, cbar.wrap, previewBox, rbar.wrap, rresult);

  async function listFolder() {
    let dir = file.value.trim() ? file.value.trim().replace(/[\\/][^\\/]*\.zip$/, '') : destination();
    // No file and no backup folder (the start screen has none): ask which folder.
    if (!dir) dir = await invoke('pick_folder', { title: t('backup.pick_backups') }) || '';
    if (!dir) return;
    try {
      const list = await invoke(cmds.list, { dir });
      found.replaceChildren(list.length ? el('p', {}, t('backup.found', { n: list.length, dir })) : el('p', { class: 'empty' }, t('backup.none_found', { dir })));
      for (const f of list) {
        const b = el('button', { type: 'button', class: 'candidate' },
          // What a listing shows is unverified: an encrypted backup's manifest is sealed
          // with the rest, so only its name's time and its entries are told.
          f.problem ? `${f.file} — ${f.problem}`
            : `${f.manifest ? f.manifest.created_at_iso : localTime(f.created_at)} · ${f.kind}${f.manifest ? ` · ${f.manifest.source_machine}` : ''}${f.encrypted ? ' · AES' : ''}${f.manifest ? '' : ` · ${t('backup.sealed')}`}${f.verified_sidecar ? '' : ` · ${t('backup.not_verified')}`}`);
        b.addEventListener('click', () => { file.value = f.file; doPreview(); });
        found.append(b);
      }
    } catch (err) { rresult.className = 'error'; rresult.textContent = err.message; }
  }

  async function doPreview() {
    rresult.textContent = '';
    previewBox.replaceChildren();
    if (!file.value.trim()) { rresult.className = 'error'; rresult.textContent = t('backup.no_file'); return; }
    check.disabled = true;
    // The check reads the whole archive (seconds for a large register): say it is working.
    rresult.className = 'muted';
    rresult.textContent = t('backup.checking');
    try {
      // The bar moves as the backup is read and checked; Cancel stops the check.
      const p = await invoke(cmds.preview, { file: file.value.trim(), passphrase: rpass.value || null, onProgress: cbar.start() });
      rresult.textContent = '';
      const table = el('table', { id: 'restore-counts' });
      const head = el('tr');
      ['backup.col.table', 'backup.col.now', 'backup.col.backup'].forEach((k) => head.append(el('th', { scope: 'col' }, t(k))));
      table.append(el('thead'), el('tbody'));
      table.tHead.append(head);
      for (const [name, n] of Object.entries(p.counts_backup)) {
        const tr = el('tr');
        // A register too damaged to count has no figures now: a dash, not a zero.
        tr.append(el('td', {}, name), el('td', {}, name in p.counts_now ? String(p.counts_now[name]) : '—'), el('td', {}, String(n)));
        table.tBodies[0].append(tr);
      }
      const info = el('p', { class: 'ok-box' }, t('backup.preview_ok', { date: localTime(p.manifest.created_at), machine: p.manifest.source_machine }));
      const warn = p.warning_codes.map((/** @type {{code: string, vars: Record<string, any>}} */ w) => el('p', { class: 'error' }, t(`restore_warning.${w.code}`, w.vars)));
      const apply = el('button', { type: 'button', class: 'danger', id: 'restore-apply' }, t('backup.restore_now'));
      apply.addEventListener('click', () => doRestore(p));
      previewBox.append(info, table, ...warn, apply);
    } catch (err) {
      rresult.className = 'error';
      rresult.textContent = err.message;
    } finally {
      check.disabled = false;
      cbar.finish();
    }
  }

  /** @param {any} p the core's restore preview */
  async function doRestore(p) {
    const ok = await confirmDialog(t(cmds.confirm, { date: localTime(p.manifest.created_at), keylog: p.counts_backup.key_log ?? 0, now: p.counts_now.key_log ?? 0 }), 'backup.restore_now');
    if (!ok) return;
    try {
      const done = await invoke(cmds.run, { file: file.value.trim(), passphrase: rpass.value || null, database: true, config: true, onProgress: rbar.start() });
      clearCache();
      const said = el('div');
      said.append(el('p', {}, t('backup.restored', { date: localTime(p.manifest.created_at) })));
      // The register replaced was damaged: where its copy is, since it is no backup to restore.
      if (done.safety_backup_damaged) said.append(el('p', { class: 'hint', id: 'restored-damaged' }, t('backup.restored_damaged', { file: done.safety_backup })));
      await infoDialog(t('backup.restored_title'), said);
      window.location.reload();
    } catch (err) {
      rbar.finish();
      rresult.className = 'error';
      rresult.textContent = err.message;
    }
  }

  return rest;
}

/**
 * For someone with no backup, on the start screen of a register too damaged to open: a
 * new, empty register in its place (the damaged one kept aside), after a confirmation.
 */
export function startOverCard() {
  const card = el('section', { class: 'card', id: 'start-over' });
  const result = el('p', { role: 'alert', id: 'start-over-result' });
  const go = el('button', { type: 'button', class: 'danger', id: 'start-over-now' }, t('rescue.start_over'));
  go.addEventListener('click', async () => {
    if (!(await confirmDialog(t('rescue.start_over_confirm'), 'rescue.start_over'))) return;
    go.disabled = true;
    try {
      const kept = await invoke('rescue_start_over');
      clearCache();
      await infoDialog(t('rescue.started_over_title'), el('p', { id: 'started-over' }, t('rescue.started_over', { file: kept })));
      window.location.reload();
    } catch (err) {
      result.className = 'error';
      result.textContent = err.message;
      go.disabled = false;
    }
  });
  card.append(el('h2', {}, t('rescue.no_backup')), el('p', { class: 'hint' }, t('rescue.start_over_hint')), go, result);
  return card;
}

/**
 * Automatic backups: when (off, when the app is closed, daily), encrypted or not, the
 * passphrase (kept on this computer only), and where they go: the drive or folder of the
 * last backup made here, when it is plugged in.
 */
async function autoBackupCard() {
  const a = await invoke('auto_backup_get');
  const card = el('section', { class: 'card', id: 'auto-backup' });
  card.append(el('h2', {}, t('auto.title')), el('p', { class: 'hint' }, t('auto.hint')));
  const modeWrap = el('div', { class: 'field' });
  const mode = /** @type {HTMLSelectElement} */ (el('select', { id: 'auto-mode' }));
  for (const m of ['off', 'at_exit', 'daily']) mode.append(el('option', { value: m }, t(`auto.mode.${m}`)));
  mode.value = a.mode;
  modeWrap.append(el('label', { for: 'auto-mode' }, t('auto.mode')), mode);
  const encWrap = el('div', { class: 'field check' });
  const enc = /** @type {HTMLInputElement} */ (el('input', { id: 'auto-encrypt', type: 'checkbox' }));
  enc.checked = a.encrypt;
  encWrap.append(enc, el('label', { for: 'auto-encrypt' }, t('auto.encrypt')));
  const passWrap = el('div', { class: 'field' });
  const pass = /** @type {HTMLInputElement} */ (el('input', { id: 'auto-pass', type: 'password', autocomplete: 'new-password' }));
  passWrap.append(el('label', { for: 'auto-pass' }, t('auto.passphrase')), pass, el('p', { class: 'hint' }, t('auto.passphrase_hint')));
  const where = el('p', { id: 'auto-where' });
  const result = el('p', { id: 'auto-result', role: 'status' });
  const save = el('button', { type: 'button', class: 'secondary', id: 'auto-save' }, t('auto.save'));
  const sync = () => {
    const on = mode.value !== 'off';
    encWrap.hidden = !on;
    passWrap.hidden = !on || !enc.checked;
  };
  /** @param {any} st */
  const describe = (st) => {
    where.className = 'hint';
    if (st.passphrase_missing && st.mode !== 'off') {
      where.className = 'error';
      where.textContent = t('auto.passphrase_missing');
    } else if (!st.destination_label) {
      where.textContent = t('auto.no_destination');
    } else if (st.destination) {
      where.textContent = t('auto.goes_to', { label: st.destination_label });
    } else {
      where.textContent = t('auto.absent', { label: st.destination_label });
    }
  };
  mode.addEventListener('change', sync);
  enc.addEventListener('change', sync);
  save.addEventListener('click', async () => {
    result.className = '';
    result.textContent = '';
    save.disabled = true;
    try {
      const saved = await invoke('auto_backup_set', { args: { mode: mode.value, encrypt: enc.checked, passphrase: pass.value || null } });
      pass.value = '';
      describe(saved.settings);
      result.className = 'ok-box';
      result.textContent = t(`auto.saved.${saved.settings.mode}`);
      if (saved.recovery_passphrase) await showPassphrase(saved.recovery_passphrase);
    } catch (err) {
      result.className = 'error';
      result.textContent = err.message;
    } finally {
      save.disabled = false;
    }
  });
  sync();
  describe(a);
  card.append(modeWrap, encWrap, passWrap, where, save, result);
  return { card, refresh: async () => describe(await invoke('auto_backup_get')) };
}
