// Shared by every screen: the one `invoke` wrapper (errors become translated messages; the
// codes that mean the session ended are listed here once), i18n `t(key)`, counts, sizes
// and times in the user's language, and the localStorage cache of users, keys and persons
// with loadData(). The cache only speeds up the first paint; the core decides every action.

import { formatCount, formatSize, locale } from './format.js';
import { CATALOGS } from './i18n.js';

/** localStorage keys of the cache (documented names: never rename without a new version). */
export const CACHE_KEYS = {
  users: 'atslegas_users_v1',
  keys: 'atslegas_keys_v1',
  persons: 'atslegas_persons_v1',
};
const LANG_KEY = 'atslegas_lang';

let lang = localStorage.getItem(LANG_KEY) || 'lv';

/** @returns {string} the current language code */
export function language() {
  return lang;
}

/**
 * Switches the language and re-labels the page.
 * @param {string} code 'lv' or 'en'
 */
export function setLanguage(code) {
  lang = CATALOGS[code] ? code : 'lv';
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang;
  applyI18n(document);
}

/**
 * The text for `key` in the current language, with {name} placeholders filled.
 * @param {string} key
 * @param {Record<string, unknown>} [vars]
 */
export function t(key, vars = {}) {
  const text = CATALOGS[lang][key] ?? CATALOGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

/**
 * Fills every element with data-i18n (text), data-i18n-placeholder and data-i18n-aria.
 * @param {ParentNode} root
 */
export function applyI18n(root) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(/** @type {HTMLElement} */ (el).dataset.i18n); });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => {
    const input = /** @type {HTMLInputElement} */ (el);
    input.placeholder = t(input.dataset.i18nPlaceholder);
  });
  root.querySelectorAll('[data-i18n-aria]').forEach((el) => { el.setAttribute('aria-label', t(/** @type {HTMLElement} */ (el).dataset.i18nAria)); });
  document.title = t('app.title');
}

/** An error from a command, with the user's-language message. */
export class AppError extends Error {
  /** @param {{code: string, message: string, details: any}} raw */
  constructor(raw) {
    const code = raw && raw.code ? raw.code : 'unexpected';
    const key = `err.${code}`;
    const details = (raw && raw.details) || {};
    const rule = code === 'invalid_input' && details.rule ? `rule.${details.rule}` : '';
    let translated;
    if (rule && CATALOGS[lang][rule]) translated = t(rule, details.vars || {});
    else if (CATALOGS[lang][key]) translated = t(key, details);
    else translated = (raw && raw.message) || String(raw);
    super(translated);
    this.code = code;
    this.details = raw && raw.details;
  }
}

/**
 * The part of Tauri's global API (`app.withGlobalTauri`) the page uses.
 * @typedef {{
 *   core: {
 *     invoke: (cmd: string, args?: Record<string, unknown>) => Promise<any>,
 *     Channel: new () => { onmessage: (message: any) => void },
 *   },
 *   event?: { listen: (event: string, handler: (e: unknown) => void) => Promise<unknown> },
 * }} TauriGlobal
 */

/** @returns {TauriGlobal} */
export function tauri() {
  return /** @type {{ __TAURI__: TauriGlobal }} */ (/** @type {unknown} */ (window)).__TAURI__;
}

/** The error codes that mean the session is over: the app returns to sign-in. */
export const SESSION_ENDED = ['session_expired', 'session_invalid', 'not_signed_in'];

/**
 * Whether `err` says the session ended (the app has already gone back to sign-in).
 * @param {unknown} err
 */
export function sessionEnded(err) {
  return err instanceof AppError && SESSION_ENDED.includes(err.code);
}

/** @type {{ sessionEnded: ((err: AppError) => void)[] }} */
const listeners = { sessionEnded: [] };

/**
 * Calls a core command. Rejects with AppError; a timed-out or invalid session also
 * notifies the app so it can return to sign-in.
 * @param {string} cmd
 * @param {Record<string, unknown>} [args]
 */
export async function invoke(cmd, args = {}) {
  try {
    return await tauri().core.invoke(cmd, args);
  } catch (raw) {
    const err = new AppError(typeof raw === 'object' ? raw : { code: 'unexpected', message: String(raw) });
    if (sessionEnded(err)) listeners.sessionEnded.forEach((fn) => fn(err));
    throw err;
  }
}

/** @param {(err: AppError) => void} fn called when the core says the session ended */
export function onSessionEnded(fn) {
  listeners.sessionEnded.push(fn);
}

/**
 * Reads a cached list (for the first paint).
 * @param {'users'|'keys'|'persons'} name
 * @returns {any[]|null}
 */
export function cached(name) {
  try {
    const v = JSON.parse(localStorage.getItem(CACHE_KEYS[name]) || 'null');
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/** How many rows of each list the cache keeps: the first page, enough for a first paint. */
export const CACHE_ROWS = 50;

/**
 * Re-syncs the cache from the core: the first page of keys, persons and (for admins)
 * users. Called on load, after every change, and by the Reload button. Lists never read
 * whole tables: they page through the core; the cache only paints their first page.
 * @param {{role: string}} user the signed-in user
 * @returns {Promise<{users: any[], keys: any[], persons: any[]}>}
 */
export async function loadData(user) {
  const [keys, persons, users] = await Promise.all([
    invoke('list_keys', { args: { limit: CACHE_ROWS + 1 } }),
    invoke('list_persons', { args: { limit: CACHE_ROWS + 1 } }),
    user && user.role === 'admin' ? invoke('list_users') : Promise.resolve([]),
  ]);
  localStorage.setItem(CACHE_KEYS.keys, JSON.stringify(keys));
  localStorage.setItem(CACHE_KEYS.persons, JSON.stringify(persons));
  localStorage.setItem(CACHE_KEYS.users, JSON.stringify(users));
  return { users, keys, persons };
}

/** Forgets the cache (sign-out, restore). */
export function clearCache() {
  Object.values(CACHE_KEYS).forEach((k) => localStorage.removeItem(k));
}

/**
 * Creates an element with text (never HTML) and attributes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attrs]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * A Unix time in the desktop's local time zone.
 * @param {number|null|undefined} ts
 */
export function localTime(ts) {
  if (ts === null || ts === undefined) return '';
  // Numeric and compact ("10.11.2026 21:28"): it fits a table cell on one line.
  return new Date(ts * 1000).toLocaleString(locale(lang), {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).replace(',', '');
}

/**
 * A count in the user's language ("1 234" / "1,234").
 * @param {number|null|undefined} n
 */
export function count(n) {
  return formatCount(n, lang);
}

/**
 * A size in bytes in the user's language, as format.js writes it.
 * @param {number|null|undefined} n
 */
export function size(n) {
  return formatSize(n, lang);
}
