// Keyboard shortcuts as a table: `on('Alt+1', fn)` binds a key with its modifiers, and one
// keydown listener looks the pressed combination up. It never binds plain keys, so typing
// in a field is never taken over; what a shortcut may do is decided by its caller.

/** @typedef {(e: KeyboardEvent) => boolean | void} Handler returns false when it did nothing */

/**
 * The Alt+digit table: Alt+1..9, then Alt+0, open the menu's screens in order (the n-th
 * screen the signed-in role may open). A menu longer than ten (an admin's, since the
 * Stocktake screen) leaves its last screens to the mouse and Tab.
 */
export const SCREEN_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

/**
 * The shortcut of the menu's `i`-th screen ("Alt+4"), or null past the tenth.
 * @param {number} i
 */
export function screenShortcut(i) {
  return i < SCREEN_KEYS.length ? `Alt+${SCREEN_KEYS[i]}` : null;
}

/** @type {Map<string, Handler>} */
const bindings = new Map();

/**
 * The name of a key press as bindings write it: modifiers in a fixed order, then the key
 * ("Alt+1", "Ctrl+Shift+F").
 * @param {KeyboardEvent} e
 */
export function combination(e) {
  const mods = [e.ctrlKey && 'Ctrl', e.altKey && 'Alt', e.shiftKey && 'Shift', e.metaKey && 'Meta'].filter(Boolean);
  return [...mods, e.key].join('+');
}

/**
 * Binds `combo` ("Alt+1") to `fn`; a later binding of the same combination replaces it.
 * @param {string} combo
 * @param {Handler} fn
 */
export function on(combo, fn) {
  bindings.set(combo, fn);
}

/**
 * Starts listening. A key press a binding handled is not passed on to the page.
 * @param {() => boolean} [active] whether shortcuts apply now (signed in, no dialog open)
 */
export function listen(active = () => true) {
  document.addEventListener('keydown', (e) => {
    const fn = bindings.get(combination(e));
    if (fn && active() && fn(e) !== false) e.preventDefault();
  });
}
