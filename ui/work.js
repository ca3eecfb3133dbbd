// Long work, shared by every screen that runs it: the save dialog, and the one progress
// bar fed by a core channel with a Cancel button (the core stops where that is safe: an
// export leaves no file, an import or a restore writes nothing, a backup leaves no archive).

import { count, el, invoke, t, tauri } from './admin-common.js';

/** Today as YYYY-MM-DD in local time, for suggested file names. */
export function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/**
 * The native save dialog proposing `suggested`; resolves to the chosen path or null.
 * @param {string} suggested a file name with its extension
 */
export function saveAs(suggested) {
  return invoke('pick_save_file', { suggested });
}

/** @typedef {{ step: string, done: number, total: number }} Progress one message from the core: the step, and how far it is */

/**
 * The progress bar of every piece of long work, with a Cancel button. Without `steps` the
 * label counts rows ("Writing — 1 234 / 5 000 (25%)"); with them each step fills its
 * share of one bar that moves steadily from 0 to 100 ("Verifying — 92%"), as backups
 * and restores do.
 * @param {object} opts
 * @param {string} opts.id prefix of the element ids (`${id}-progress`, `${id}-progress-label`, `${id}-cancel`)
 * @param {string} [opts.cancelKey] the Cancel button's text
 * @param {Record<string, [number, number]>} [opts.steps] each step's share of the bar, from and to
 * @param {string} [opts.stepKey] the catalogue prefix of the step names
 * @param {boolean} [opts.keep] `finish` leaves the bar where it stopped (100% once a backup is verified) and only hides Cancel
 */
export function progressBar({ id, cancelKey = 'work.cancel', steps, stepKey = 'work.step.', keep = false }) {
  const wrap = el('div', { class: 'progress', hidden: '' });
  const bar = el('progress', { max: '100', value: '0', id: `${id}-progress` });
  const label = el('span', { class: 'muted', id: `${id}-progress-label` });
  const cancel = el('button', { type: 'button', class: 'secondary small', id: `${id}-cancel` }, t(cancelKey));
  cancel.addEventListener('click', () => {
    cancel.disabled = true;
    label.textContent = t('work.cancelling');
    invoke('work_cancel').catch(() => { /* nothing was running any more */ });
  });
  wrap.append(bar, label, cancel);

  /** @param {Progress} p */
  const update = (p) => {
    if (cancel.disabled) return;
    const step = t(`${stepKey}${p.step.replace(' ', '_')}`);
    if (steps) {
      const [a, b] = steps[p.step] || [0, 100];
      const pct = Math.min(100, Math.round(a + ((b - a) * p.done) / Math.max(1, p.total)));
      bar.value = pct;
      label.textContent = `${step} — ${pct}%`;
    } else if (p.total > 0) {
      const pct = Math.min(100, Math.round((100 * p.done) / p.total));
      bar.value = pct;
      label.textContent = `${step} — ${count(p.done)} / ${count(p.total)} (${pct}%)`;
    } else {
      bar.removeAttribute('value');
      label.textContent = `${step} — ${count(p.done)}`;
    }
  };
  /** A fresh channel for a command's onProgress, feeding this bar. */
  const channel = () => {
    const c = new (tauri().core.Channel)();
    c.onmessage = update;
    return c;
  };
  /** Shows the bar from 0 with Cancel ready. */
  const show = () => {
    wrap.hidden = false;
    bar.value = 0;
    label.textContent = t('work.starting');
    cancel.disabled = false;
    cancel.hidden = false;
  };
  return {
    wrap,
    channel,
    show,
    /** Shows the bar and returns a fresh channel for the command's onProgress. */
    start() {
      show();
      return channel();
    },
    /** The work is done and checked: the bar reads 100%. */
    complete() {
      bar.value = 100;
    },
    /** The work ended (done, failed or cancelled): nothing is left to cancel. */
    finish() {
      if (keep) cancel.hidden = true;
      else wrap.hidden = true;
    },
  };
}

/** A backup's steps and their share of the bar, so one bar moves steadily from 0 to 100. */
/** @type {Record<string, [number, number]>} */
const BACKUP_STEPS = { snapshot: [0, 40], write: [40, 85], verify: [85, 100] };

/**
 * A restore's steps, in the order the core reports them: the backup is checked, the
 * register is built anew from it (the pinned safety backup of the live one is made
 * meanwhile, and waited for if it is not done yet), then copied over the live one.
 * @type {Record<string, [number, number]>}
 */
const RESTORE_STEPS = { verify: [0, 15], rebuild: [15, 75], 'safety backup': [75, 80], apply: [80, 100] };

/**
 * The bar of a backup: it reaches 100% only after the read-back check, and stays there
 * when the work ends (a cancelled backup leaves no archive).
 * @param {string} id prefix of the element ids
 * @param {string} [cancelKey] the Cancel button's text
 */
export function backupBar(id, cancelKey = 'work.cancel') {
  return progressBar({ id, cancelKey, steps: BACKUP_STEPS, stepKey: 'backup.step.', keep: true });
}

/**
 * The bar of a restore: it moves forward only, through the restore's own steps, and
 * stays where it stopped when the work ends.
 * @param {string} id prefix of the element ids
 */
export function restoreBar(id) {
  return progressBar({ id, steps: RESTORE_STEPS, stepKey: 'backup.step.', keep: true });
}

/**
 * The bar of a backup's check before a restore: reading it, then SQLite's checks, the
 * whole bar (the check is all there is to it), taken away once the result is shown.
 * @param {string} id prefix of the element ids
 */
export function checkBar(id) {
  return progressBar({ id, steps: { verify: [0, 100] }, stepKey: 'backup.step.' });
}

/**
 * A message box under a button: `ok-box` or `error`.
 * @param {string} id
 */
export function resultBox(id) {
  const box = el('div', { id, role: 'status' });
  return {
    box,
    /** @param {string} text */
    ok(text) { box.className = 'ok-box'; box.setAttribute('role', 'status'); box.textContent = text; },
    /** @param {string} text */
    error(text) { box.className = 'error'; box.setAttribute('role', 'alert'); box.textContent = text; },
    clear() { box.className = ''; box.textContent = ''; },
  };
}
