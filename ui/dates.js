// Dates as people type them into the app: day.month.year and a 24-hour clock
// ("24.11.2026", "24.11.2026 17:00"), whatever the system's locale says, because the
// tables show dates that way too. Pure functions, so the UI tests check them without a
// window; components.js builds the input on them. The core reads the same text
// (time::parse_user_time), so a Desk due date is sent as typed.

/**
 * @typedef {{year: number, month: number, day: number, hour: number, minute: number, hasTime: boolean}} DateParts
 */

const DAY = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;
const ISO_DAY = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const CLOCK = /^(\d{1,2}):(\d{2})$/;

/**
 * Reads "24.11.2026" or "24.11.2026 17:00" (also "2026-11-24", and "1.2.2026 9:05");
 * null when it is not a real date and time. A time is accepted only when `withTime`.
 * @param {string} text
 * @param {boolean} withTime
 * @returns {DateParts|null}
 */
export function parseDateText(text, withTime) {
  const [datePart, timePart, ...rest] = String(text).trim().replace('T', ' ').split(/\s+/);
  if (!datePart || rest.length) return null;
  let m = DAY.exec(datePart);
  let year; let month; let day;
  if (m) [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else if ((m = ISO_DAY.exec(datePart))) [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else return null;
  const check = new Date(year, month - 1, day);
  if (month < 1 || month > 12 || check.getFullYear() !== year || check.getMonth() !== month - 1 || check.getDate() !== day) return null;
  let hour = 0; let minute = 0;
  if (timePart !== undefined) {
    const c = withTime ? CLOCK.exec(timePart) : null;
    if (!c) return null;
    [hour, minute] = [Number(c[1]), Number(c[2])];
    if (hour > 23 || minute > 59) return null;
  }
  return { year, month, day, hour, minute, hasTime: timePart !== undefined };
}

/** @param {number} n */
const two = (n) => String(n).padStart(2, '0');

/**
 * The text an input shows for `parts`: "24.11.2026", with " 17:00" when it has a time.
 * @param {DateParts} parts
 */
export function formatDateText(parts) {
  const day = `${two(parts.day)}.${two(parts.month)}.${parts.year}`;
  return parts.hasTime ? `${day} ${two(parts.hour)}:${two(parts.minute)}` : day;
}

/**
 * The day as ISO 8601 ("2026-11-24"), for file names and comparisons.
 * @param {DateParts} parts
 */
export function isoDay(parts) {
  return `${parts.year}-${two(parts.month)}-${two(parts.day)}`;
}
