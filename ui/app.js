// The page's entry: decides which screen to show (startup error, first-run setup,
// sign-in, the signed-in app), wires the forms and the navigation, and returns to
// sign-in when the session ends. Each screen is a module in screens/.

import {
  AppError, applyI18n, clearCache, el, invoke, language, loadData, onSessionEnded,
  sessionEnded, setLanguage, t,
} from './admin-common.js';
import * as keyboard from './keyboard.js';
import * as dashboard from './screens/dashboard.js';
import * as desk from './screens/desk.js';
import * as keys from './screens/keys.js';
import * as persons from './screens/persons.js';
import * as stocktake from './screens/stocktake.js';
import * as groups from './screens/groups.js';
import * as users from './screens/users.js';
import * as logs from './screens/logs.js';
import * as data from './screens/data.js';
import * as settings from './screens/settings.js';
import * as backupScreen from './screens/backup.js';
import { clearToast, toast } from './components.js';
import { startReminders, stopReminders } from './reminders.js';
import { listenForClose, startDaily, stopDaily } from './auto-backup.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const SCREENS = ['screen-startup-error', 'screen-setup', 'screen-signin', 'screen-app'];
const MODULES = [dashboard, desk, keys, persons, stocktake, groups, users, logs, data, backupScreen, settings];
const RANK = { viewer: 0, operator: 1, admin: 2 };

/** @type {{username: string, role: string} | null} */
let currentUser = null;
let currentScreen = 'dashboard';
let idleTimer = 0;
let timeoutSeconds = 3600;

/** @param {string} id the top-level screen to show; the others are hidden */
function show(id) {
  $('busy').hidden = true;
  SCREENS.forEach((s) => { $(s).hidden = s !== id; });
  $('user-box').hidden = id !== 'screen-app';
  $('main').classList.toggle('wide', id === 'screen-app');
  const first = $(id).querySelector('input');
  if (first) first.focus();
}

/** @param {HTMLFormElement} form @param {boolean} busy */
function setBusy(form, busy) {
  form.querySelectorAll('button, input').forEach((e) => { /** @type {HTMLButtonElement | HTMLInputElement} */ (e).disabled = busy; });
}

/** Password strength as the core judges it (the core has the final word). */
function strength(pw) {
  if (pw.length < 10 || /^(.)\1*$/.test(pw)) return 'weak';
  const classes = [/[a-zāčēģīķļņšūž]/, /[A-ZĀČĒĢĪĶĻŅŠŪŽ]/, /\d/, /[^\p{L}\d]/u].filter((r) => r.test(pw)).length;
  return pw.length >= 14 || classes >= 3 ? 'good' : 'ok';
}

function updateStrength() {
  const pw = /** @type {HTMLInputElement} */ ($('setup-password')).value;
  const s = strength(pw);
  const bar = $('setup-meter-bar');
  bar.className = s === 'weak' ? '' : s;
  bar.style.width = pw ? (s === 'weak' ? '30%' : s === 'ok' ? '65%' : '100%') : '0';
  $('setup-strength').textContent = pw ? t(`strength.${s}`) : '';
}

async function onSetup(ev) {
  ev.preventDefault();
  const form = /** @type {HTMLFormElement} */ (ev.target);
  const pw = /** @type {HTMLInputElement} */ ($('setup-password')).value;
  const confirm = /** @type {HTMLInputElement} */ ($('setup-confirm')).value;
  $('setup-error').textContent = '';
  if (pw !== confirm) {
    $('setup-error').textContent = t('setup.mismatch');
    $('setup-confirm').focus();
    return;
  }
  await enterBy(form, 'setup-error', () => invoke('setup_root', { password: pw }));
}

async function onSignIn(ev) {
  ev.preventDefault();
  const form = /** @type {HTMLFormElement} */ (ev.target);
  $('signin-error').textContent = '';
  $('signin-notice').textContent = '';
  const password = /** @type {HTMLInputElement} */ ($('signin-password'));
  const entered = await enterBy(form, 'signin-error', () => invoke('sign_in', {
    username: /** @type {HTMLInputElement} */ ($('signin-username')).value,
    password: password.value,
  }));
  if (!entered) password.value = '';
  if (!$('screen-signin').hidden) password.focus();
}

/**
 * Signs in by `signIn` (the first setup or a sign-in) with the form busy meanwhile, and
 * opens the app; a refusal is said in the form's error line. Resolves whether it did.
 * @param {HTMLFormElement} form
 * @param {string} errorId
 * @param {() => Promise<any>} signIn resolves with the signed-in user
 */
async function enterBy(form, errorId, signIn) {
  setBusy(form, true);
  try {
    currentUser = await signIn();
    form.reset();
    await enterApp();
    return true;
  } catch (err) {
    $(errorId).textContent = err.message;
    return false;
  } finally {
    setBusy(form, false);
  }
}

/** @param {string} [noticeKey] a message to show above the form */
function toSignIn(noticeKey) {
  currentUser = null;
  stopDaily();
  stopReminders();
  clearCache();
  // A message was for the user who signed out (or whose session ended): it goes too.
  clearToast();
  window.clearTimeout(idleTimer);
  const d = /** @type {HTMLDialogElement|null} */ (document.getElementById('dialog'));
  if (d && d.open) d.close();
  $('view').replaceChildren();
  show('screen-signin');
  $('signin-notice').textContent = noticeKey ? t(noticeKey) : '';
}

async function onSignOut() {
  try { await invoke('sign_out'); } catch { /* already ended: sign-in anyway */ }
  toSignIn('signin.signed_out');
}

/** The screens this user's role may open. */
function allowedModules() {
  return MODULES.filter((m) => RANK[currentUser.role] >= RANK[m.screen.minRole]);
}

function renderNav() {
  const nav = $('nav');
  nav.replaceChildren(...allowedModules().map((m, i) => {
    const shortcut = keyboard.screenShortcut(i);
    const b = el('button', { type: 'button', class: 'nav-item', 'data-screen': m.screen.id }, t(m.screen.navKey));
    if (shortcut) b.title = shortcut;
    if (m.screen.id === currentScreen) b.setAttribute('aria-current', 'page');
    b.addEventListener('click', () => openScreen(m.screen.id));
    return b;
  }));
}

/** Called by screens after every change: re-syncs the cache from the core. */
function changed() {
  loadData(currentUser).catch(() => { /* a session error returns to sign-in */ });
}

/**
 * @param {string} id
 * @param {{keepMessage?: boolean}} [opts] keepMessage: the same screen painted again
 *   to show news the status line is telling (the daily backup's)
 */
async function openScreen(id, opts = {}) {
  const mod = allowedModules().find((m) => m.screen.id === id) || dashboard;
  currentScreen = mod.screen.id;
  // A message belongs to the screen it came from.
  if (!opts.keepMessage) clearToast();
  renderNav();
  const view = $('view');
  try {
    await mod.render(view, { user: currentUser, changed });
  } catch (err) {
    if (sessionEnded(err)) return;
    view.replaceChildren(el('h1', {}, t(mod.screen.navKey)), el('p', { class: 'error', role: 'alert' }, err.message));
  }
}

async function enterApp() {
  $('user-name').textContent = currentUser.username;
  $('user-role').textContent = `(${t(`role.${currentUser.role}`)})`;
  show('screen-app');
  resetIdle();
  // The first screen asks the core for its own data; the cache the lists paint from at
  // once (emptied at sign-out) is filled after it, so the first screen never waits for
  // it (sign-in is measured to the painted dashboard: docs/BENCHMARK.md).
  await openScreen(currentScreen);
  changed();
  // The daily automatic backup, if one is due (the core decides; usually nothing).
  startDaily(() => {
    // The dashboard shows the last verified backup: show the new one.
    if (currentUser && currentScreen === 'dashboard' && !document.querySelector('dialog[open]')) openScreen('dashboard', { keepMessage: true });
  });
  // Keys overdue or due today: a desktop notification now and every hour.
  startReminders();
}

/** After timeout_seconds without input, ask the core: it ends the session and says so. */
function resetIdle() {
  window.clearTimeout(idleTimer);
  if (!currentUser) return;
  idleTimer = window.setTimeout(async () => {
    try { await invoke('home_summary'); resetIdle(); } catch { /* handled by onSessionEnded */ }
  }, (timeoutSeconds + 1) * 1000);
}

async function start() {
  const sel = /** @type {HTMLSelectElement} */ ($('lang-select'));
  const status = await invoke('app_status');
  if (!localStorage.getItem('atslegas_lang')) setLanguage(status.language);
  else setLanguage(language());
  sel.value = language();
  const brand = () => {
    // The product's name, and the site's when one is configured.
    const site = status.site_name && status.site_name !== 'Atslegas' ? ` · ${status.site_name}` : '';
    $('site-name').textContent = t('app.title') + site;
  };
  brand();
  sel.addEventListener('change', async () => {
    setLanguage(sel.value);
    brand();
    updateStrength();
    if (currentUser) {
      $('user-role').textContent = `(${t(`role.${currentUser.role}`)})`;
      await openScreen(currentScreen);
    }
  });
  timeoutSeconds = status.timeout_seconds || 3600;

  listenForClose();
  $('setup-form').addEventListener('submit', onSetup);
  $('setup-password').addEventListener('input', updateStrength);
  $('signin-form').addEventListener('submit', onSignIn);
  $('sign-out').addEventListener('click', onSignOut);
  // Every role changes its own password here (only admins have the Users screen).
  $('my-password').addEventListener('click', async () => {
    if (await users.changeOwnPassword()) toast(t('users.own_password_changed'));
  });
  $('reload').addEventListener('click', async () => {
    await loadData(currentUser);
    await openScreen(currentScreen);
    toast(t('common.reloaded'));
  });
  ['keydown', 'pointerdown'].forEach((e) => document.addEventListener(e, resetIdle, { passive: true }));
  keyboard.SCREEN_KEYS.forEach((key, i) => keyboard.on(`Alt+${key}`, () => {
    const mod = allowedModules()[i];
    if (!mod) return false;
    openScreen(mod.screen.id);
    return true;
  }));
  keyboard.listen(() => Boolean(currentUser) && !document.querySelector('dialog[open]'));
  onSessionEnded((err) => {
    if (currentUser) toSignIn(err.code === 'session_expired' ? 'signin.timed_out' : undefined);
  });

  if (status.startup_error) {
    $('startup-message').textContent = new AppError(status.startup_error).message;
    $('startup-data-dir').textContent = status.data_dir;
    // A register too damaged to open is mended right here, by restoring a backup.
    if (status.startup_error.code === 'register_damaged') {
      $('startup-rescue').replaceChildren(backupScreen.restoreCard(() => '', backupScreen.RESCUE), backupScreen.startOverCard());
      $('screen-startup-error').classList.add('rescuing');
    }
    show('screen-startup-error');
  } else if (!status.set_up) {
    show('screen-setup');
  } else if (status.user) {
    currentUser = status.user;
    await enterApp();
  } else {
    show('screen-signin');
  }
}

applyI18n(document);
start().catch((err) => {
  $('busy').textContent = `${t('err.unexpected')}: ${err.message}`;
});
