// The signature pad of the Desk: a modal dialog with a canvas the person signs on with a
// mouse, a finger or a pen (Pointer Events, pointer capture, no scrolling while drawing).
// Keyboard-first like the Desk: it opens with the focus on the pad; Enter accepts, Esc
// clears (Esc on an empty pad cancels). It only draws: what it returns is an SVG of
// paths in absolute M/L commands, which the core checks (`signature.rs`) and stores.
// A set coming back shows its keys as a checklist below the pad ("came back", all ticked;
// Tab from the pad reaches it, Space toggles, Enter still accepts): the keys unticked are
// returned as `missing`, and the caller's `check` may refuse them before the pad closes.

import { el, onSessionEnded, t } from './admin-common.js';

/** The drawing area in SVG units (the canvas is scaled to fit the dialog). */
const W = 600;
const H = 200;

/** Cancels the pad that is open, if one is. */
let cancelOpen = () => {};
// A session that ends (timed out) takes the pad with it: nothing is handed over.
onSessionEnded(() => cancelOpen());

/**
 * One stroke's points as SVG path data ("M10 20 L11 22 ..."), rounded to 0.1 unit.
 * A single dot gets a tiny line, so it draws (and the core keeps it).
 * @param {{x: number, y: number}[]} pts
 */
function pathData(pts) {
  const n = (v) => String(Math.round(v * 10) / 10);
  const [first, ...rest] = pts;
  const tail = rest.length ? rest : [{ x: first.x + 0.5, y: first.y }];
  return `M${n(first.x)} ${n(first.y)} ${tail.map((p) => `L${n(p.x)} ${n(p.y)}`).join(' ')}`;
}

/**
 * The strokes as the SVG the core takes.
 * @param {{x: number, y: number}[][]} strokes
 */
export function strokesToSvg(strokes) {
  const paths = strokes.filter((s) => s.length).map((s) => `<path d="${pathData(s)}"/>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}">${paths}</svg>`;
}

/**
 * Opens the pad. Resolves with {signature, missing} (an SVG, or null when the person did
 * not sign and no signature is required; the keys of the checklist left unticked), or
 * null when the handover is cancelled.
 * @param {{title: string, detail?: string, required: boolean, keys?: string[], holder?: string,
 *   check?: (missing: string[]) => Promise<string|null>}} opts texts already translated;
 *   `keys` (a set coming back) shows the checklist, `holder` names who keeps the keys
 *   unticked, and `check` answers a refusal to show (the pad stays open) or null
 * @returns {Promise<{signature: string|null, missing: string[]}|null>}
 */
export function signaturePad(opts) {
  let d = /** @type {HTMLDialogElement|null} */ (document.getElementById('signature-dialog'));
  if (!d) {
    d = /** @type {HTMLDialogElement} */ (el('dialog', { id: 'signature-dialog', class: 'signature-dialog', 'aria-modal': 'true', 'aria-labelledby': 'signature-title' }));
    document.body.append(d);
  }
  const dialog = d;
  return new Promise((resolve) => {
    /** @type {{x: number, y: number}[][]} */
    const strokes = [];
    /** @type {{x: number, y: number}[]|null} */
    let current = null;

    const title = el('h2', { id: 'signature-title' }, opts.title);
    const detail = el('p', { class: 'signature-detail' }, opts.detail || '');
    detail.hidden = !opts.detail;
    const canvas = /** @type {HTMLCanvasElement} */ (el('canvas', {
      id: 'signature-canvas', class: 'signature-canvas', tabindex: '0', role: 'img',
      'aria-label': t('pad.canvas'), 'aria-describedby': 'signature-hint',
    }));
    const line = el('div', { class: 'signature-line', 'aria-hidden': 'true' }, t('pad.sign_here'));
    const area = el('div', { class: 'signature-area' });
    area.append(canvas, line);
    const hint = el('p', { class: 'hint', id: 'signature-hint' },
      `${t('pad.keys')} ${opts.required ? t('pad.required') : t('pad.optional')}`);
    const error = el('p', { class: 'error', id: 'signature-error', role: 'alert' });
    // The keys of a set coming back, each ticked until the operator says it is missing.
    /** @type {HTMLInputElement[]} */
    const boxes = [];
    const keyList = el('fieldset', { class: 'signature-keys', id: 'signature-keys', 'aria-describedby': 'signature-keys-hint' });
    const stillOut = el('p', { class: 'signature-still-out', id: 'signature-still-out', role: 'status' });
    if (opts.keys && opts.keys.length) {
      const items = el('div', { class: 'signature-key-items' });
      for (const k of opts.keys) {
        const box = /** @type {HTMLInputElement} */ (el('input', { type: 'checkbox', id: `signature-key-${k}`, value: k }));
        box.checked = true;
        box.addEventListener('change', () => { error.textContent = ''; sayStillOut(); });
        boxes.push(box);
        const item = el('label', { class: 'signature-key', for: box.id });
        item.append(box, el('span', {}, k));
        items.append(item);
      }
      keyList.append(el('legend', {}, t('pad.came_back')), items,
        el('p', { class: 'hint', id: 'signature-keys-hint' }, t('pad.came_back_hint')), stillOut);
    } else {
      keyList.hidden = true;
    }
    /** The keys unticked, in the set's order. */
    const missing = () => boxes.filter((b) => !b.checked).map((b) => b.value);
    /** Says which keys stay out; with none ticked, the core's refusal at once instead. */
    async function sayStillOut() {
      const m = missing();
      const none = m.length === boxes.length;
      stillOut.textContent = m.length && !none
        ? t(m.length > 1 ? 'pad.stays_out_many' : 'pad.stays_out_one', { keys: m.join(', '), name: opts.holder || '' })
        : '';
      if (none && opts.check) {
        const refusal = await opts.check(m);
        // Only if nothing was ticked meanwhile.
        if (refusal && missing().length === boxes.length) error.textContent = refusal;
      }
    }
    const buttons = el('div', { class: 'dialog-buttons' });
    const cancel = el('button', { type: 'button', class: 'secondary', id: 'signature-cancel' }, t('pad.cancel'));
    const clear = el('button', { type: 'button', class: 'secondary', id: 'signature-clear' }, t('pad.clear'));
    const accept = el('button', { type: 'button', id: 'signature-accept' }, t('pad.accept'));
    buttons.append(cancel, clear, accept);
    const box = el('div', { class: 'dialog-form signature-form' });
    // The error line follows the checklist, so a refusal about the keys shows beside them.
    box.append(title, detail, area, keyList, error, hint, buttons);
    dialog.replaceChildren(box);

    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    /** Sizes the bitmap to the shown size (sharp on HiDPI) and draws the strokes again. */
    function resize() {
      const r = canvas.getBoundingClientRect();
      const ratio = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(r.width * ratio));
      canvas.height = Math.max(1, Math.round(r.height * ratio));
      redraw();
    }
    function redraw() {
      ctx.setTransform(canvas.width / W, 0, 0, canvas.height / H, 0, 0);
      ctx.clearRect(0, 0, W, H);
      ctx.lineWidth = 2.5;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.strokeStyle = '#10243e';
      for (const s of strokes) {
        ctx.beginPath();
        ctx.moveTo(s[0].x, s[0].y);
        (s.length > 1 ? s.slice(1) : [{ x: s[0].x + 0.5, y: s[0].y }]).forEach((p) => ctx.lineTo(p.x, p.y));
        ctx.stroke();
      }
      area.classList.toggle('signed', strokes.length > 0);
    }
    /** @param {PointerEvent} e */
    function point(e) {
      const r = canvas.getBoundingClientRect();
      const x = ((e.clientX - r.left) / r.width) * W;
      const y = ((e.clientY - r.top) / r.height) * H;
      return { x: Math.min(W, Math.max(0, x)), y: Math.min(H, Math.max(0, y)) };
    }
    canvas.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 && e.pointerType === 'mouse') return;
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      canvas.focus();
      current = [point(e)];
      strokes.push(current);
      error.textContent = '';
      redraw();
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!current) return;
      e.preventDefault();
      // A pen or a fast mouse reports points in between as coalesced events.
      const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
      (events.length ? events : [e]).forEach((c) => current && current.push(point(c)));
      redraw();
    });
    const end = () => { current = null; };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);

    let done = false;
    let checking = false;
    function finish(result) {
      if (done) return;
      done = true;
      cancelOpen = () => {};
      window.removeEventListener('resize', resize);
      dialog.close();
      resolve(result);
    }
    function clearPad() {
      strokes.length = 0;
      current = null;
      error.textContent = '';
      redraw();
      canvas.focus();
    }
    async function tryAccept() {
      if (checking) return;
      if (!strokes.length && opts.required) {
        error.textContent = t('pad.required_error');
        canvas.focus();
        return;
      }
      const m = missing();
      if (m.length && opts.check) {
        // The core checks the keys left out (none coming back is refused); the pad stays.
        checking = true;
        accept.setAttribute('disabled', '');
        const refusal = await opts.check(m);
        checking = false;
        accept.removeAttribute('disabled');
        if (done) return;
        if (refusal) {
          error.textContent = refusal;
          boxes[0].focus();
          return;
        }
      }
      finish({ signature: strokes.length ? strokesToSvg(strokes) : null, missing: m });
    }
    accept.addEventListener('click', tryAccept);
    clear.addEventListener('click', clearPad);
    cancel.addEventListener('click', () => finish(null));
    dialog.onkeydown = (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        if (strokes.length) clearPad(); else finish(null);
      } else if (e.key === 'Enter' && !(e.target instanceof HTMLButtonElement)) {
        e.preventDefault();
        tryAccept();
      }
    };
    // Esc is handled above (it clears first); the dialog never closes by itself.
    dialog.oncancel = (e) => e.preventDefault();
    window.addEventListener('resize', resize);
    cancelOpen = () => finish(null);
    dialog.showModal();
    resize();
    canvas.focus();
  });
}
