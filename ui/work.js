// Long exports and imports, shared by the Logs and Data screens: the save dialog, and a
// progress bar fed by a core channel with a Cancel button (the core stops where that is
// safe: an export leaves no file, an import writes nothing).

import { count, el, invoke, t } from './admin-common.js';

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

/**
 * A progress bar with a Cancel button for one piece of long work.
 * @param {string} id prefix of the element ids (`${id}-progress`, `${id}-cancel`)
 */
export function workBar(id) {
  const wrap = el('div', { class: 'progress', hidden: '' });
  const bar = /** @type {HTMLProgressElement} */ (el('progress', { max: '100', value: '0', id: `${id}-progress` }));
  const label = el('span', { class: 'muted', id: `${id}-progress-label` });
  const cancel = el('button', { type: 'button', class: 'secondary small', id: `${id}-cancel` }, t('work.cancel'));
  cancel.addEventListener('click', () => {
    cancel.disabled = true;
    label.textContent = t('work.cancelling');
    invoke('work_cancel').catch(() => { /* nothing was running any more */ });
  });
  wrap.append(bar, label, cancel);
  /** @type {any} */
  let channel = null;
  return {
    wrap,
    /** Shows the bar and returns a fresh channel for the command's onProgress. */
    start() {
      wrap.hidden = false;
      bar.value = 0;
      label.textContent = t('work.starting');
      cancel.disabled = false;
      cancel.hidden = false;
      channel = new window.__TAURI__.core.Channel();
      channel.onmessage = (/** @type {{step: string, done: number, total: number}} */ p) => {
        if (cancel.disabled && !cancel.hidden) return;
        const step = t(`work.step.${p.step.replace(' ', '_')}`);
        if (p.total > 0) {
          const pct = Math.min(100, Math.round((100 * p.done) / p.total));
          bar.value = pct;
          label.textContent = `${step} — ${count(p.done)} / ${count(p.total)} (${pct}%)`;
        } else {
          bar.removeAttribute('value');
          label.textContent = `${step} — ${count(p.done)}`;
        }
      };
      return channel;
    },
    /** Hides the bar: the result box under it says what happened. */
    finish() {
      wrap.hidden = true;
    },
  };
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
