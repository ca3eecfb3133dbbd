// The page's entry: decides which screen to show (startup error, first-run setup,
// sign-in, home), wires the forms, and returns to sign-in when the session ends.

import {
  AppError, applyI18n, cached, clearCache, el, invoke, language, loadData, localTime, onSessionEnded,
  setLanguage, t,
} from './admin-common.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const SCREENS = ['screen-startup-error', 'screen-setup', 'screen-signin', 'screen-home'];

/** @type {{username: string, role: string} | null} */
let currentUser = null;
let idleTimer = 0;
let timeoutSeconds = 3600;

/** @param {string} id the screen to show; the others are hidden */
function show(id) {
  $('busy').hidden = true;
  SCREENS.forEach((s) => { $(s).hidden = s !== id; });
  $('user-box').hidden = id !== 'screen-home';
  const first = $(id).querySelector('input');
  if (first) first.focus();
}

/** @param {HTMLFormElement} form @param {boolean} busy */
function setBusy(form, busy) {
  form.querySelectorAll('button, input').forEach((e) => { e.disabled = busy; });
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
  setBusy(form, true);
  try {
    currentUser = await invoke('setup_root', { password: pw });
    form.reset();
    await enterHome();
  } catch (err) {
    $('setup-error').textContent = err.message;
  } finally {
    setBusy(form, false);
  }
}

async function onSignIn(ev) {
  ev.preventDefault();
  const form = /** @type {HTMLFormElement} */ (ev.target);
  $('signin-error').textContent = '';
  $('signin-notice').textContent = '';
  setBusy(form, true);
  try {
    currentUser = await invoke('sign_in', {
      username: /** @type {HTMLInputElement} */ ($('signin-username')).value,
      password: /** @type {HTMLInputElement} */ ($('signin-password')).value,
    });
    form.reset();
    await enterHome();
  } catch (err) {
    $('signin-error').textContent = err.message;
    /** @type {HTMLInputElement} */ ($('signin-password')).value = '';
  } finally {
    setBusy(form, false);
    if (!$('screen-signin').hidden) $('signin-password').focus();
  }
}

/** @param {string} [noticeKey] a message to show above the form */
function toSignIn(noticeKey) {
  currentUser = null;
  clearCache();
  window.clearTimeout(idleTimer);
  show('screen-signin');
  $('signin-notice').textContent = noticeKey ? t(noticeKey) : '';
}

async function onSignOut() {
  try { await invoke('sign_out'); } catch { /* already ended: sign-in anyway */ }
  toSignIn('signin.signed_out');
}

/** Renders the keys-out table from a key list (cached or fresh). */
function renderKeysOut(keys) {
  const out = keys.filter((k) => k.status === 'issued');
  const body = $('keys-out-body');
  body.replaceChildren(...out.map((k) => {
    const tr = el('tr');
    tr.append(el('td', {}, k.number), el('td', {}, k.name || ''), el('td', {}, k.holder_name || ''),
      el('td', {}, localTime(k.due_back_at)));
    return tr;
  }));
  $('keys-out-table').hidden = out.length === 0;
  $('keys-out-empty').hidden = out.length !== 0;
}

async function refreshHome() {
  const [summary, data] = await Promise.all([invoke('home_summary'), loadData(currentUser)]);
  $('stat-keys-total').textContent = String(summary.keys_total);
  $('stat-keys-out').textContent = String(summary.keys_out);
  $('stat-keys-overdue').textContent = String(summary.keys_overdue);
  $('stat-persons-total').textContent = String(summary.persons_total);
  renderKeysOut(data.keys);
}

async function enterHome() {
  $('user-name').textContent = currentUser.username;
  $('user-role').textContent = `(${t(`role.${currentUser.role}`)})`;
  show('screen-home');
  const keys = cached('keys');
  if (keys) renderKeysOut(keys);
  resetIdle();
  try {
    await refreshHome();
  } catch { /* a session error returns to sign-in through onSessionEnded */ }
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
  sel.addEventListener('change', () => {
    setLanguage(sel.value);
    if (currentUser) $('user-role').textContent = `(${t(`role.${currentUser.role}`)})`;
    updateStrength();
  });
  timeoutSeconds = status.timeout_seconds || 3600;

  $('setup-form').addEventListener('submit', onSetup);
  $('setup-password').addEventListener('input', updateStrength);
  $('signin-form').addEventListener('submit', onSignIn);
  $('sign-out').addEventListener('click', onSignOut);
  $('reload').addEventListener('click', () => refreshHome().catch(() => {}));
  ['keydown', 'pointerdown'].forEach((e) => document.addEventListener(e, resetIdle, { passive: true }));
  onSessionEnded((err) => {
    if (currentUser) toSignIn(err.code === 'session_expired' ? 'signin.timed_out' : undefined);
  });

  if (status.startup_error) {
    $('startup-message').textContent = new AppError(status.startup_error).message;
    $('startup-data-dir').textContent = status.data_dir;
    show('screen-startup-error');
  } else if (!status.set_up) {
    show('screen-setup');
  } else if (status.user) {
    currentUser = status.user;
    await enterHome();
  } else {
    show('screen-signin');
  }
}

applyI18n(document);
start().catch((err) => {
  $('busy').textContent = `${t('err.unexpected')}: ${err.message}`;
});
