// Stocktake (issue 14): counting the key cabinet with a barcode scanner (it types the
// number and Enter). One large scan field with the focus, a large running count and a
// clear sign per scan; Finish shows what is missing and what was found that should not
// be on its hook, each with its way to resolve it. The core compares and decides; this
// screen only shows, and viewers only look.

import { count, el, invoke, localTime, t } from '../admin-common.js';
import { button } from '../components.js';
import { reportLost } from '../key-control.js';
import { printSheet } from '../receipt.js';
import { takeBack } from '../take-back.js';

export const screen = { id: 'stocktake', navKey: 'nav.stocktake', minRole: 'viewer' };

/**
 * What a key's state in the register means for a count, in a sentence: "issued to X",
 * "reported lost", "retired".
 * @param {{status: string, holder: string|null}} k
 */
function registerSays(k) {
  if (k.status === 'issued') return t('stocktake.says_issued', { name: k.holder || '?' });
  if (k.status === 'lost') return t('stocktake.says_lost');
  if (k.status === 'retired') return t('stocktake.says_retired');
  return t(`status.${k.status}`);
}

/**
 * A key as a list names it: "101 · Telpa 204 (Skapis A)".
 * @param {{number: string, name: string|null, location: string|null}} k
 */
function keyLabel(k) {
  return `${k.number}${k.name ? ` · ${k.name}` : ''}${k.location ? ` (${k.location})` : ''}`;
}

/**
 * A finished count's one line: when, who, the numbers.
 * @param {any} s a Stocktake
 */
function summary(s) {
  const r = s.report || { expected: 0, counted: s.counted, missing: [], unexpected: [] };
  return t('stocktake.summary', {
    id: s.id, at: localTime(s.finished_at || s.started_at), by: s.finished_by || s.started_by,
    counted: count(r.counted), expected: count(r.expected), missing: count(r.missing.length), unexpected: count(r.unexpected.length),
  });
}

/**
 * A count's report laid out for A4 (printSheet).
 * @param {any} s a finished Stocktake
 * @param {string} site the site's name
 */
function reportSheet(s, site) {
  const sheet = el('section', { 'aria-label': t('stocktake.report_n', { id: s.id }) });
  const copy = el('article', { class: 'rc-copy stocktake-sheet' });
  const head = el('header', { class: 'rc-head' });
  const titles = el('div', {});
  titles.append(el('div', { class: 'rc-site' }, site), el('h2', { class: 'rc-title' }, t('stocktake.report_n', { id: s.id })));
  head.append(titles);
  const facts = el('div', { class: 'rc-facts' });
  /** @param {string} k @param {string} v */
  const row = (k, v) => {
    const r = el('div', { class: 'rc-row' });
    r.append(el('span', { class: 'rc-label' }, t(k)), el('span', { class: 'rc-value' }, v));
    return r;
  };
  const r = s.report;
  facts.append(row('stocktake.started', `${localTime(s.started_at)} · ${s.started_by}`),
    row('stocktake.finished', `${localTime(s.finished_at)} · ${s.finished_by || ''}`),
    row('stocktake.expected', count(r.expected)), row('stocktake.counted', count(r.counted)));
  copy.append(head, facts);
  /** @param {string} titleKey @param {any[]} keys @param {boolean} says */
  const table = (titleKey, keys, says) => {
    copy.append(el('h3', {}, `${t(titleKey)}: ${count(keys.length)}`));
    if (!keys.length) { copy.append(el('p', {}, t('stocktake.none'))); return; }
    const tb = el('table', { class: 'rc-keys' });
    const hr = el('tr');
    ['receipt.key', 'receipt.room', 'receipt.location', ...(says ? ['stocktake.register_says'] : [])].forEach((k) => hr.append(el('th', { scope: 'col' }, t(k))));
    const thead = el('thead');
    thead.append(hr);
    const tbody = el('tbody');
    keys.forEach((k) => {
      const tr = el('tr');
      tr.append(el('td', { class: 'strong' }, k.number), el('td', {}, k.name || ''), el('td', {}, k.location || ''));
      if (says) tr.append(el('td', {}, registerSays(k)));
      tbody.append(tr);
    });
    tb.append(thead, tbody);
    copy.append(tb);
  };
  table('stocktake.missing', r.missing, false);
  table('stocktake.unexpected', r.unexpected, true);
  const signs = el('div', { class: 'rc-signs' });
  const sign = el('div', { class: 'rc-sign' });
  sign.append(el('div', { class: 'rc-blank' }), el('div', { class: 'rc-sign-label' }, t('receipt.office_signature')));
  signs.append(sign);
  copy.append(signs);
  sheet.append(copy);
  return sheet;
}

/**
 * @param {HTMLElement} view
 * @param {{user: {role: string}, changed: () => void}} ctx
 */
export async function render(view, ctx) {
  const canCount = ctx.user.role !== 'viewer';
  const main = el('div', { class: 'stocktake' });
  const reportBox = el('section', { class: 'card stocktake-report', id: 'stocktake-report', hidden: '' });
  const history = el('section', { class: 'card', id: 'stocktake-history' });
  // A report just finished (or opened from the list) stands first: it is what to act on.
  view.replaceChildren(el('h1', {}, t('nav.stocktake')), reportBox, main, history);

  /** @type {HTMLInputElement|null} */
  let scanField = null;

  async function paint() {
    const [open, past] = await Promise.all([invoke('stocktake_current'), invoke('stocktake_list')]);
    if (open) paintOpen(open); else paintIdle();
    paintHistory(past.filter((/** @type {any} */ s) => s.finished_at));
    if (scanField) scanField.focus();
  }

  function paintIdle() {
    scanField = null;
    const card = el('section', { class: 'card stocktake-idle', id: 'stocktake-idle' });
    card.append(el('h2', {}, t('stocktake.none_open')), el('p', {}, t('stocktake.explain')));
    if (canCount) {
      const start = el('button', { type: 'button', class: 'primary', id: 'stocktake-start' }, t('stocktake.start'));
      const error = el('p', { class: 'error', role: 'alert' });
      start.addEventListener('click', async () => {
        try {
          await invoke('stocktake_start');
          reportBox.hidden = true;
          await paint();
        } catch (err) { error.textContent = err.message; }
      });
      card.append(start, error);
      main.replaceChildren(card);
      start.focus();
    } else {
      card.append(el('p', { class: 'muted' }, t('stocktake.viewer')));
      main.replaceChildren(card);
    }
  }

  /** @param {{stocktake: any, recent: any[]}} open */
  function paintOpen(open) {
    const s = open.stocktake;
    const card = el('section', { class: 'card stocktake-open', id: 'stocktake-open' });
    const info = el('p', { class: 'muted' }, t('stocktake.open_since', { id: s.id, at: localTime(s.started_at), by: s.started_by }));
    const countBox = el('div', { class: 'stocktake-count', role: 'status', 'aria-live': 'polite' });
    const countNum = el('span', { class: 'stocktake-count-number', id: 'stocktake-count' }, count(s.counted));
    countBox.append(countNum, el('span', { class: 'stocktake-count-label' }, t('stocktake.counted_label')));
    const sign = el('div', { class: 'stocktake-sign', id: 'stocktake-sign', role: 'alert', hidden: '' });
    const recent = el('ol', { class: 'stocktake-recent', id: 'stocktake-recent', 'aria-label': t('stocktake.recent') });
    // The scans so far (after a restart of the screen): said by the key's state.
    open.recent.forEach((k) => recent.append(recentItem(k.status === 'available' ? 'expected' : 'unexpected', keyLabel(k), k.status === 'available' ? '' : t('stocktake.sign_unexpected_detail', { says: registerSays(k) }))));

    const top = el('div', { class: 'stocktake-top' });
    const left = el('div', { class: 'grow' });
    left.append(info);
    if (canCount) {
      const form = el('form', { class: 'desk-scan', novalidate: '' });
      const scan = /** @type {HTMLInputElement} */ (el('input', { id: 'stocktake-input', type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'big huge', 'aria-describedby': 'stocktake-hint' }));
      form.append(el('label', { for: 'stocktake-input' }, t('stocktake.scan_label')), scan, el('p', { class: 'hint', id: 'stocktake-hint' }, t('stocktake.scan_hint')));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const text = scan.value.trim();
        scan.value = '';
        if (!text) return;
        try {
          const r = await invoke('stocktake_scan', { text });
          if (!r) return;
          countNum.textContent = count(r.counted);
          const { title, detail } = signTexts(r);
          sign.className = `stocktake-sign ${r.outcome}`;
          sign.replaceChildren(el('strong', { class: 'stocktake-sign-title' }, title), el('span', { class: 'stocktake-sign-detail' }, detail));
          sign.hidden = false;
          recent.prepend(recentItem(r.outcome, r.key ? keyLabel(r.key) : r.text, r.outcome === 'expected' ? '' : detail));
        } catch (err) {
          sign.className = 'stocktake-sign unknown';
          sign.replaceChildren(el('strong', { class: 'stocktake-sign-title' }, err.message));
          sign.hidden = false;
        }
        scan.focus();
      });
      left.append(form);
      scanField = scan;
    } else {
      scanField = null;
      left.append(el('p', { class: 'muted' }, t('stocktake.viewer')));
    }
    top.append(left, countBox);
    card.append(top, sign);
    if (canCount) {
      const finish = el('button', { type: 'button', class: 'primary', id: 'stocktake-finish' }, t('stocktake.finish'));
      const error = el('p', { class: 'error', role: 'alert' });
      finish.addEventListener('click', async () => {
        try {
          const done = await invoke('stocktake_finish');
          ctx.changed();
          await paint();
          await showReport(done, true);
        } catch (err) { error.textContent = err.message; }
      });
      const row = el('div', { class: 'stocktake-finish-row' });
      row.append(finish, el('span', { class: 'hint' }, t('stocktake.finish_hint')));
      card.append(row, error);
    }
    card.append(el('h2', {}, t('stocktake.recent')), recent);
    main.replaceChildren(card);
  }

  /**
   * The sign of one scan: a title and what the register says.
   * @param {any} r a Scan
   */
  function signTexts(r) {
    const key = r.key ? r.key.number : r.text;
    switch (r.outcome) {
      case 'expected': return { title: t('stocktake.sign_expected', { key }), detail: [r.key.name, r.key.location].filter(Boolean).join(' · ') };
      case 'unexpected': return { title: t('stocktake.sign_unexpected', { key }), detail: t('stocktake.sign_unexpected_detail', { says: registerSays(r.key) }) };
      case 'repeat': return { title: t('stocktake.sign_repeat', { key }), detail: t('stocktake.sign_repeat_detail') };
      default: return { title: t('stocktake.sign_unknown', { text: r.text }), detail: t('stocktake.sign_unknown_detail') };
    }
  }

  /**
   * A line of the recent scans.
   * @param {string} outcome expected / unexpected / unknown / repeat
   * @param {string} what
   * @param {string} detail
   */
  function recentItem(outcome, what, detail) {
    const li = el('li', { class: outcome });
    li.append(el('span', { class: `stocktake-mark ${outcome}` }, t(`stocktake.mark_${outcome}`)), el('strong', {}, what), el('span', { class: 'muted' }, detail));
    return li;
  }

  /** @param {any[]} past finished counts, newest first */
  function paintHistory(past) {
    /** @type {HTMLElement[]} */
    const parts = [el('h2', {}, t('stocktake.history'))];
    if (!past.length) parts.push(el('p', { class: 'empty' }, t('stocktake.history_empty')));
    else {
      const ul = el('ul', { class: 'stocktake-history' });
      past.forEach((s) => {
        const li = el('li', {});
        const b = button('stocktake.show_report', () => showReport(s, false));
        b.setAttribute('aria-label', t('stocktake.show_report_n', { id: s.id }));
        li.append(el('span', {}, summary(s)), b);
        ul.append(li);
      });
      parts.push(ul);
    }
    history.replaceChildren(...parts);
  }

  /**
   * Shows a finished count's report with a way to resolve each difference.
   * @param {any} s a finished Stocktake
   * @param {boolean} fresh just finished (said so)
   */
  async function showReport(s, fresh) {
    const r = s.report;
    /** @type {HTMLElement[]} */
    const parts = [el('h2', {}, t('stocktake.report_n', { id: s.id }))];
    if (fresh) parts.push(el('p', { class: 'desk-message ok' }, t('stocktake.finished_msg', { id: s.id })));
    parts.push(el('p', { id: 'stocktake-report-summary' }, summary(s)));
    const status = el('p', { class: 'hint', id: 'stocktake-report-status', role: 'status' });

    /**
     * One list of differences.
     * @param {string} id
     * @param {string} titleKey
     * @param {string} emptyKey
     * @param {any[]} keys
     * @param {(k: any, cell: HTMLElement) => void} action fills the action cell
     */
    const list = (id, titleKey, emptyKey, keys, action) => {
      parts.push(el('h3', {}, `${t(titleKey)}: ${count(keys.length)}`));
      if (!keys.length) { parts.push(el('p', { class: 'empty' }, t(emptyKey))); return; }
      const ul = el('ul', { class: 'stocktake-diff', id });
      keys.forEach((k) => {
        const li = el('li', { 'data-key': k.number });
        const cell = el('span', { class: 'row-actions' });
        li.append(el('strong', {}, keyLabel(k)), el('span', { class: 'muted' }, titleKey === 'stocktake.missing' ? t('stocktake.missing_detail') : registerSays(k)), cell);
        if (canCount) action(k, cell);
        ul.append(li);
      });
      parts.push(ul);
    };

    /** @param {HTMLElement} cell @param {string} text a resolved difference */
    const resolved = (cell, text) => {
      cell.replaceChildren(el('span', { class: 'badge resolved', role: 'status' }, text));
      status.textContent = '';
    };
    /** @param {unknown} err */
    const refused = (err) => { status.className = 'hint error'; status.textContent = /** @type {Error} */ (err).message; };

    list('stocktake-missing', 'stocktake.missing', 'stocktake.none_missing', r.missing, (k, cell) => {
      const b = button('stocktake.report_lost', async () => {
        const done = await reportLost(k, t('stocktake.lost_intro', { key: k.number, id: s.id }));
        if (done) { resolved(cell, t('stocktake.resolved_lost', { key: k.number })); ctx.changed(); }
      }, 'secondary small danger-text');
      b.setAttribute('aria-label', t('offboard.report_lost_key', { key: k.number }));
      cell.append(b);
    });
    list('stocktake-unexpected', 'stocktake.unexpected', 'stocktake.none_unexpected', r.unexpected, (k, cell) => {
      if (k.status === 'issued') {
        const b = button('stocktake.return', async () => {
          try {
            const out = await takeBack(k.number);
            if (!out || out.repeat) return;
            resolved(cell, t('stocktake.resolved_returned', { key: k.number, n: out.handover.receipt }));
            ctx.changed();
          } catch (err) { refused(err); }
        });
        b.setAttribute('aria-label', t('stocktake.return_key', { key: k.number }));
        cell.append(b);
      } else if (k.status === 'lost') {
        const b = button('stocktake.found', async () => {
          try {
            await invoke('key_found', { number: k.number, comment: t('stocktake.found_comment', { id: s.id }) });
            resolved(cell, t('stocktake.resolved_found', { key: k.number }));
            ctx.changed();
          } catch (err) { refused(err); }
        });
        b.setAttribute('aria-label', t('stocktake.found_key', { key: k.number }));
        cell.append(b);
      } else if (k.status === 'retired') {
        cell.append(el('span', { class: 'hint' }, t('stocktake.retired_hint')));
      }
    });

    const printStatus = el('span', { class: 'hint', role: 'status' });
    const print = button('stocktake.print', async () => {
      try {
        const app = await invoke('app_status');
        await printSheet(reportSheet(s, app.site_name || t('app.title')));
        printStatus.className = 'hint';
        printStatus.textContent = t('stocktake.printed', { id: s.id });
      } catch (err) {
        printStatus.className = 'hint error';
        printStatus.textContent = err.message;
      }
    });
    const bar = el('div', { class: 'toolbar' });
    bar.append(print, printStatus);
    parts.push(status, bar);
    reportBox.replaceChildren(...parts);
    reportBox.hidden = false;
    reportBox.scrollIntoView({ block: 'start' });
    // The first difference to resolve (else Print) has the focus, not Start: an Enter
    // meant for the last scan must not open a new count.
    /** @type {HTMLElement} */ (reportBox.querySelector('.row-actions button') || print).focus();
  }

  await paint();
}
