// Receipts in the window: printed through the system print dialog (two copies on one A4
// page, the holder's above the office's with a cut line, or one 80 mm thermal copy), and
// saved as PDF by the core. A print is counted first (`receipt_printed`, audited): the
// receipt as it was before says whether this one is a copy. The receipt is built with
// createElement/textContent into a print-only container; the signature is the stored SVG
// shown as an image (a data: URL), never inserted as markup.
//
// The print dialog is the system's, opened by the shell (`print_page`; window.print()
// shows nothing in the Linux webview). Tests cannot click it: a debug build started with
// ATSLEGAS_E2E_NO_PRINT skips it, and the tests add the class `receipt-preview` to
// <body>, which shows the page as it would print.

import { el, invoke, language, localTime, t } from './admin-common.js';

/** @typedef {'a4'|'80mm'} PaperLayout */

/** The core's name of a layout (receipt_pdf::Layout). */
const CORE_LAYOUT = { a4: 'a4_two_copies', '80mm': 'thermal80' };

/**
 * The page size rule of a layout: one small stylesheet each, switched on before printing
 * (an @page rule cannot depend on a class, and the CSP allows no inline style).
 * @param {PaperLayout} layout
 */
function usePageSize(layout) {
  /** @type {Promise<void>[]} */
  const loading = [];
  for (const l of /** @type {PaperLayout[]} */ (['a4', '80mm'])) {
    const id = `receipt-page-${l}`;
    let link = /** @type {HTMLLinkElement|null} */ (document.getElementById(id));
    if (!link) {
      link = /** @type {HTMLLinkElement} */ (el('link', { id, rel: 'stylesheet', href: `receipt-page-${l}.css` }));
      const ready = link;
      loading.push(new Promise((res) => { ready.onload = () => res(); ready.onerror = () => res(); }));
      document.head.append(link);
    }
    link.media = l === layout ? 'print' : 'not all';
  }
  return Promise.all(loading);
}

/**
 * A labelled line of the receipt.
 * @param {string} labelKey
 * @param {string|Node} value
 */
function row(labelKey, value) {
  const r = el('div', { class: 'rc-row' });
  const v = el('span', { class: 'rc-value' });
  if (value instanceof Node) v.append(value); else v.textContent = value;
  r.append(el('span', { class: 'rc-label' }, t(labelKey)), v);
  return r;
}

/**
 * One copy of a receipt.
 * @param {any} r the receipt (receipt_get)
 * @param {boolean} copy a reprint
 * @param {string} [whose] the copy's label ("holder's copy"), already translated
 */
function oneCopy(r, copy, whose) {
  const c = el('article', { class: 'rc-copy' });
  const head = el('header', { class: 'rc-head' });
  const titles = el('div', {});
  titles.append(el('div', { class: 'rc-site' }, r.site_name),
    el('h2', { class: 'rc-title' }, t(r.kind === 'return' ? 'receipt.title_return' : 'receipt.title_issue', { n: r.number })));
  const marks = el('div', { class: 'rc-marks' });
  if (whose) marks.append(el('div', { class: 'rc-whose' }, whose));
  if (copy) marks.append(el('div', { class: 'rc-copy-mark' }, t('receipt.copy')));
  head.append(titles, marks);
  c.append(head);

  const facts = el('div', { class: 'rc-facts' });
  facts.append(row('receipt.at', localTime(r.at)));
  if (r.person) {
    const p = r.person;
    facts.append(row('receipt.person', [p.full_name, p.code, p.department].filter(Boolean).join(' · ')));
  }
  if (r.set_name) facts.append(row('receipt.set', r.set_name));
  if (r.kind === 'issue') facts.append(row('receipt.due', r.due_back_at ? localTime(r.due_back_at) : t('receipt.no_due')));
  facts.append(row('receipt.user', r.user));
  c.append(facts);

  const table = el('table', { class: 'rc-keys' });
  const hr = el('tr');
  ['receipt.key', 'receipt.room', 'receipt.location'].forEach((k) => hr.append(el('th', { scope: 'col' }, t(k))));
  const thead = el('thead');
  thead.append(hr);
  const tbody = el('tbody');
  for (const k of r.keys) {
    const tr = el('tr');
    tr.append(el('td', { class: 'strong' }, k.number), el('td', {}, k.name || ''), el('td', {}, k.location || ''));
    tbody.append(tr);
  }
  table.append(thead, tbody);
  c.append(table);

  const lv = language() === 'lv';
  const terms = lv ? (r.terms_lv || r.terms_en) : (r.terms_en || r.terms_lv);
  if (terms) c.append(el('p', { class: 'rc-terms' }, terms));

  const signs = el('div', { class: 'rc-signs' });
  const holder = el('div', { class: 'rc-sign' });
  if (r.signature) {
    const img = /** @type {HTMLImageElement} */ (el('img', { class: 'rc-signature', alt: t('receipt.signature_alt', { name: r.person ? r.person.full_name : '' }) }));
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(r.signature)}`;
    holder.append(img);
  } else {
    holder.append(el('div', { class: 'rc-unsigned' }, t('receipt.not_signed')));
  }
  holder.append(el('div', { class: 'rc-sign-label' }, t('receipt.holder_signature')));
  const office = el('div', { class: 'rc-sign' });
  office.append(el('div', { class: 'rc-blank' }), el('div', { class: 'rc-sign-label' }, t('receipt.office_signature')));
  signs.append(holder, office);
  c.append(signs);

  const hash = el('p', { class: 'rc-hash' });
  hash.append(el('span', {}, `${t('receipt.audit_hash')}: `), el('code', {}, r.audit_hash || '—'));
  c.append(hash);
  return c;
}

/**
 * A receipt laid out for paper.
 * @param {any} r the receipt
 * @param {PaperLayout} layout
 * @param {boolean} copy a reprint
 */
export function receiptSheet(r, layout, copy) {
  const sheet = el('section', { id: 'receipt-print', class: `receipt-sheet layout-${layout}`, 'aria-label': t('receipt.number', { n: r.number }) });
  if (layout === 'a4') {
    sheet.append(oneCopy(r, copy, t('receipt.holder_copy')),
      el('div', { class: 'rc-cut', 'aria-hidden': 'true' }, t('receipt.cut')),
      oneCopy(r, copy, t('receipt.office_copy')));
  } else {
    sheet.append(oneCopy(r, copy));
  }
  return sheet;
}

/**
 * Prints receipt `number` through the system print dialog; a reprint says "copy".
 * @param {number} number
 * @param {PaperLayout} layout
 */
export async function printReceipt(number, layout) {
  const before = await invoke('receipt_printed', { number, how: layout === 'a4' ? 'print_a4' : 'print_80mm' });
  await printSheet(receiptSheet(before, layout, before.printed > 0), layout);
  return before;
}

/**
 * Prints any sheet laid out for paper (a receipt, the impact of a lost key, a stocktake's
 * report, a clearance) through the system print dialog: it becomes the page's one
 * printed element (`#receipt-print`, `.receipt-sheet`: hidden on screen, the only thing
 * on paper). Resolves with false when the end-to-end stand-in skipped the dialog.
 * @param {HTMLElement} sheet
 * @param {PaperLayout} [layout]
 * @returns {Promise<boolean>}
 */
export async function printSheet(sheet, layout = 'a4') {
  sheet.id = 'receipt-print';
  sheet.classList.add('receipt-sheet', `layout-${layout}`);
  const old = document.getElementById('receipt-print');
  if (old) old.replaceWith(sheet); else document.body.append(sheet);
  await usePageSize(layout);
  // Images (a signature) must be decoded before the page is printed.
  await Promise.all([...sheet.querySelectorAll('img')].map((i) => /** @type {HTMLImageElement} */ (i).decode().catch(() => undefined)));
  return invoke('print_page');
}

/**
 * Saves receipt `number` as PDF where the save dialog says, in the window's language.
 * Resolves with the file's path, or null when the dialog was closed.
 * @param {number} number
 * @param {PaperLayout} layout
 * @returns {Promise<string|null>}
 */
export function saveReceiptPdf(number, layout) {
  return invoke('receipt_save_pdf', { number, layout: CORE_LAYOUT[layout], lang: language() === 'lv' ? 'lv' : 'en' });
}

/**
 * The receipt's buttons, in two labelled groups: Print [A4] [80 mm] and Save PDF [A4]
 * [80 mm] (each button's accessible name says both: "Print (A4)"), with a status line
 * that says what happened (or the refusal).
 * @param {number} number
 * @param {string} idPrefix ids of the buttons and the status line
 * @param {() => void} [after] called when a button's work is done (the Desk puts the
 *   focus back on its scan field, so the next scan is not lost)
 */
export function receiptActions(number, idPrefix, after) {
  const box = el('div', { class: 'receipt-actions', id: idPrefix });
  const status = el('p', { class: 'hint', id: `${idPrefix}-status`, role: 'status' });
  /**
   * @param {string} nameKey the button's full name ("Print (A4)")
   * @param {'a4'|'80mm'} layout
   * @param {string} id
   * @param {() => Promise<string>} fn
   */
  const b = (nameKey, layout, id, fn) => {
    const btn = el('button', { type: 'button', class: 'secondary small', id: `${idPrefix}-${id}`, 'aria-label': t(nameKey), title: t(nameKey) },
      t(layout === 'a4' ? 'receipt.layout_a4' : 'receipt.layout_80'));
    btn.addEventListener('click', async () => {
      status.className = 'hint';
      try {
        status.textContent = await fn();
      } catch (e) {
        status.className = 'hint error';
        status.textContent = e.message;
      }
      if (after) after();
    });
    return btn;
  };
  /** @param {string} labelKey @param {HTMLElement[]} buttons */
  const group = (labelKey, buttons) => {
    const g = el('div', { class: 'receipt-action-group', role: 'group', 'aria-label': t(labelKey) });
    g.append(el('span', { class: 'receipt-action-label', 'aria-hidden': 'true' }, t(labelKey)), ...buttons);
    return g;
  };
  /** @param {string|null} file */
  const saved = (file) => (file ? t('receipt.saved', { file }) : '');
  const printed = (r) => (r.printed > 0 ? t('receipt.printed_copy', { n: number }) : t('receipt.printed', { n: number }));
  box.append(
    group('receipt.print', [
      b('receipt.print_a4', 'a4', 'a4', async () => printed(await printReceipt(number, 'a4'))),
      b('receipt.print_80', '80mm', '80mm', async () => printed(await printReceipt(number, '80mm'))),
    ]),
    group('receipt.pdf', [
      b('receipt.save_pdf', 'a4', 'pdf', async () => saved(await saveReceiptPdf(number, 'a4'))),
      b('receipt.save_pdf_80', '80mm', 'pdf-80mm', async () => saved(await saveReceiptPdf(number, '80mm'))),
    ]),
    status,
  );
  return box;
}
