// Numbers as the user reads them: counts and sizes in Latvian ("1 234", "1,5 MiB") or
// English ("1,234", "1.5 MiB") form. Pure functions of the value and the language, so the
// UI tests can check them without a window; admin-common.js binds them to the user's
// language. Never format a count or a size anywhere else.

/**
 * The locale of a language code: Latvian, else British English (day.month dates).
 * @param {string} lang
 */
export function locale(lang) {
  return lang === 'lv' ? 'lv-LV' : 'en-GB';
}

/**
 * @param {number} n
 * @param {string} lang
 * @param {number} [digits] fraction digits, always shown
 */
function number(n, lang, digits = 0) {
  return n.toLocaleString(locale(lang), { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * A count: "1 234" in Latvian, "1,234" in English.
 * @param {number|null|undefined} n
 * @param {string} lang
 */
export function formatCount(n, lang) {
  return number(Number(n || 0), lang);
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * A size in bytes, in binary units: bytes under 1 KiB, whole KiB under 1 MiB, then MiB
 * and GiB with one decimal ("512 B", "37 KiB", "1,5 MiB" / "1.5 MiB", "2,0 GiB"). The
 * unit is chosen after rounding, so a size never reads "1024 KiB". An unknown size
 * (a backup that failed before its file existed) is the empty string.
 * @param {number|null|undefined} n
 * @param {string} lang
 */
export function formatSize(n, lang) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '';
  const bytes = Math.max(0, Number(n));
  if (bytes < KiB) return `${number(bytes, lang)} B`;
  if (Math.round(bytes / KiB) < 1024) return `${number(Math.round(bytes / KiB), lang)} KiB`;
  if (Math.round((10 * bytes) / MiB) < 10240) return `${number(bytes / MiB, lang, 1)} MiB`;
  return `${number(bytes / GiB, lang, 1)} GiB`;
}
