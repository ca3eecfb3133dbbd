// Closing the window, and automatic backups the user sees. Closing while long work runs
// asks whether to stop it. At exit, a dialog with the backup's progress and a
// Skip button, then the app quits; daily, a check after sign-in and every half hour
// whose backup (when the core says one is due) shows as a bar under the top bar. The core
// decides whether one is due; nothing here guesses.

import { AppError, el, invoke, t, tauri } from './admin-common.js';
import { toast } from './components.js';
import { backupBar } from './work.js';

/** How often the daily check asks the core (it runs a backup at most once a day). */
const DAILY_CHECK_MS = 30 * 60 * 1000;

let dailyTimer = 0;
let dailyRunning = false;
/** @type {() => void} */
let afterDaily = () => {};

/** Listens for the window being closed while an exit backup is due, or while work runs. */
export function listenForClose() {
  const events = tauri() && tauri().event;
  if (!events) return;
  events.listen('atslegas://exit-backup', () => { exitBackup(); });
  events.listen('atslegas://close-while-busy', () => { closeWhileBusy(); });
}

/**
 * A modal dialog of its own (the shared one may be showing a form the user is filling
 * in when the window is closed), with its title, then `content`, then a button row.
 * @param {string} id
 * @param {string} titleKey
 * @param {Node[]} content
 */
function ownDialog(id, titleKey, content) {
  const d = /** @type {HTMLDialogElement} */ (el('dialog', { id, 'aria-modal': 'true', 'aria-labelledby': `${id}-title` }));
  const box = el('div', { class: 'dialog-form' });
  const buttons = el('div', { class: 'dialog-buttons' });
  box.append(el('h2', { id: `${id}-title` }, t(titleKey)), ...content, buttons);
  d.append(box);
  document.body.append(d);
  const remove = () => { d.close(); d.remove(); };
  return { d, buttons, remove };
}

/** Work is running: keep working, or stop it (safely) and close. */
function closeWhileBusy() {
  const { d, buttons, remove } = ownDialog('close-busy', 'close_busy.title', [el('p', {}, t('close_busy.message'))]);
  const stay = el('button', { type: 'button', class: 'secondary' }, t('close_busy.stay'));
  const quit = el('button', { type: 'button', class: 'danger' }, t('close_busy.quit'));
  buttons.append(stay, quit);
  const keep = async () => {
    remove();
    await invoke('app_quit_cancelled');
  };
  stay.addEventListener('click', keep);
  d.oncancel = (e) => { e.preventDefault(); keep(); };
  quit.addEventListener('click', () => {
    quit.disabled = true;
    stay.disabled = true;
    quit.textContent = t('close_busy.stopping');
    invoke('app_quit', { stopWork: true });
  });
  d.showModal();
  stay.focus();
}

/** The backup made when the window is closed; quits when it is done or skipped. */
async function exitBackup() {
  // Its Cancel stops the backup where that is safe, and the app closes without it.
  const bar = backupBar('exit-backup', 'auto.exit_skip');
  const message = el('p', { id: 'exit-backup-message', role: 'status' }, t('auto.exit_running'));
  const { d, buttons, remove } = ownDialog('exit-backup', 'auto.exit_title', [message, bar.wrap]);
  buttons.hidden = true;
  // Escape does what Skip does: the backup stops where it is safe, the app closes.
  d.oncancel = (e) => { e.preventDefault(); invoke('work_cancel').catch(() => {}); };
  d.showModal();
  try {
    const out = await invoke('auto_backup_run', { trigger: 'exit', onProgress: bar.start() });
    bar.finish();
    if (out.outcome === 'done') {
      bar.complete();
      message.className = 'ok-box';
      message.textContent = t('auto.exit_done', { file: out.report.file });
      await new Promise((r) => setTimeout(r, 2500));
    }
    await invoke('app_quit');
  } catch (err) {
    bar.finish();
    if (err instanceof AppError && err.code === 'cancelled') { await invoke('app_quit'); return; }
    message.className = 'error';
    message.setAttribute('role', 'alert');
    message.textContent = `${t('auto.exit_failed')} ${err.message}`;
    const quit = el('button', { type: 'button', class: 'danger', id: 'exit-anyway' }, t('auto.exit_anyway'));
    const back = el('button', { type: 'button', class: 'secondary' }, t('auto.exit_back'));
    quit.addEventListener('click', () => invoke('app_quit'));
    back.addEventListener('click', async () => {
      await invoke('app_quit_cancelled');
      remove();
    });
    buttons.append(back, quit);
    buttons.hidden = false;
    back.focus();
  }
}

/**
 * Starts the daily check for the signed-in session (stopped by `stopDaily`).
 * @param {() => void} onBackup called after a daily backup was made (to refresh what shows it)
 */
export function startDaily(onBackup) {
  stopDaily();
  afterDaily = onBackup;
  dailyCheck();
  dailyTimer = window.setInterval(dailyCheck, DAILY_CHECK_MS);
}

export function stopDaily() {
  window.clearInterval(dailyTimer);
  dailyTimer = 0;
}

/** Asks the core for the daily backup; shows it only when one is actually made. */
async function dailyCheck() {
  if (dailyRunning) return;
  dailyRunning = true;
  const banner = el('div', { class: 'auto-banner', id: 'auto-banner', role: 'status' });
  const bar = backupBar('auto-banner');
  banner.append(el('span', {}, t('auto.daily_running')), bar.wrap);
  const channel = bar.channel();
  const feed = channel.onmessage;
  channel.onmessage = (p) => {
    // The first progress message means a backup is really being made.
    if (!banner.isConnected) { document.body.append(banner); bar.show(); }
    feed(p);
  };
  try {
    const out = await invoke('auto_backup_run', { trigger: 'daily', onProgress: channel });
    if (out.outcome === 'done') {
      toast(t('auto.daily_done', { file: out.report.file }));
      afterDaily();
    }
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'cancelled')) toast(`${t('auto.daily_failed')} ${err.message}`, 'error');
  } finally {
    banner.remove();
    dailyRunning = false;
  }
}
