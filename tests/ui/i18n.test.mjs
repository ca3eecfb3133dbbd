// Every text the page shows comes from both catalogues: a key used in the markup or in a
// screen module that is missing in Latvian or English would show as a raw key.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UI, loadUiModule, uiSources } from './load.mjs';

const { CATALOGS } = await loadUiModule('i18n');

function sources() {
  return uiSources({ withHtml: true });
}

/** Keys named literally: data-i18n="k", t('k'), and the *Key: 'k' options of components. */
function usedKeys() {
  const keys = new Map();
  const patterns = [
    /data-i18n(?:-[a-z]+)?="([a-z_]+\.[a-z_.]+)"/g,
    /\bt\('([a-z_]+\.[a-z_.]+)'/g,
    /(?:labelKey|titleKey|submitKey|emptyKey|hintKey|navKey|confirmKey|noticeKey): '([a-z_]+\.[a-z_.]+)'/g,
    /button\('([a-z_]+\.[a-z_.]+)'/g,
    /(?:searchBox|field|select)\([^)]*?'([a-z_]+\.[a-z_]+)'/g,
  ];
  for (const [file, text] of sources()) {
    for (const re of patterns) {
      for (const m of text.matchAll(re)) keys.set(m[1], file);
    }
  }
  return keys;
}

test('every key the page uses exists in Latvian and in English', () => {
  const used = usedKeys();
  assert.ok(used.size > 150, `found only ${used.size} keys: the scan is broken`);
  const missing = [];
  for (const [key, file] of used) {
    for (const lang of ['lv', 'en']) {
      if (!(key in CATALOGS[lang])) missing.push(`${lang}: ${key} (${file})`);
    }
  }
  assert.deepEqual(missing, []);
});

test('both catalogues have the same keys, apart from translated error messages', () => {
  const lv = Object.keys(CATALOGS.lv).filter((k) => !k.startsWith('err.'));
  const en = Object.keys(CATALOGS.en).filter((k) => !k.startsWith('err.'));
  assert.deepEqual(lv.filter((k) => !en.includes(k)), []);
  assert.deepEqual(en.filter((k) => !lv.includes(k)), []);
});

test('status, action, role and component labels exist for every value the core sends', () => {
  const values = {
    status: ['available', 'issued', 'lost', 'retired', 'deleted', 'active', 'inactive'],
    action: ['issued', 'returned', 'lost', 'found'],
    role: ['admin', 'operator', 'viewer'],
    component: ['keys', 'persons', 'groups', 'users', 'session', 'config', 'backup', 'demo'],
    op: operations(),
  };
  for (const [prefix, list] of Object.entries(values)) {
    for (const v of list) {
      for (const lang of ['lv', 'en']) assert.ok(`${prefix}.${v}` in CATALOGS[lang], `${lang}: ${prefix}.${v}`);
    }
  }
});

test('every validation rule the core or the window names has its message in Latvian and in English', () => {
  // The window's own rules (the save paths of src-tauri/src/save_paths.rs) too.
  const dirs = [join(UI, '..', 'core', 'src'), join(UI, '..', 'src-tauri', 'src')];
  const files = dirs.flatMap((d) => readdirSync(d, { recursive: true })
    .filter((f) => String(f).endsWith('.rs')).map((f) => join(d, String(f))));
  const rules = new Set();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    // Error::invalid_rule(field, "rule", ...) or (field, if c { "a" } else { "b" }, ...)
    for (const m of text.matchAll(/invalid_rule\(\s*[^,]+,\s*(if [^{]+\{\s*"(\w+)"\s*\}\s*else\s*\{\s*"(\w+)"\s*\}|"(\w+)")/g)) {
      [m[2], m[3], m[4]].filter(Boolean).forEach((r) => rules.add(r));
    }
    // A bad import row's rule: RowError::new(...).rule("rule", vars)
    for (const m of text.matchAll(/\.rule\(\s*"(\w+)"/g)) rules.add(m[1]);
  }
  assert.ok(rules.size >= 10, `found only ${rules.size} rules: the scan is broken`);
  const missing = [];
  for (const r of rules) {
    for (const lang of ['lv', 'en']) if (!(`rule.${r}` in CATALOGS[lang])) missing.push(`${lang}: rule.${r}`);
  }
  assert.deepEqual(missing, []);
});

/** The OPERATIONS list of the Logs screen, read from its source. */
function operations() {
  const text = readFileSync(join(UI, 'screens', 'logs.js'), 'utf8');
  const m = text.match(/export const OPERATIONS = \[([^\]]*)\]/);
  assert.ok(m, 'logs.js has its OPERATIONS list');
  return [...m[1].matchAll(/'([a-z_]+)'/g)].map((x) => x[1]);
}

test('the Logs screen knows every operation the core writes to the audit trail', () => {
  const core = join(UI, '..', 'core', 'src');
  const files = readdirSync(core, { recursive: true }).filter((f) => String(f).endsWith('.rs'));
  const written = new Set();
  for (const f of files) {
    const text = readFileSync(join(core, String(f)), 'utf8').split('#[cfg(test)]')[0];
    // operation: "x" in an audit Change, and the concept modules' record(..., "x", ...)
    for (const m of text.matchAll(/operation: "([a-z_]+)"/g)) written.add(m[1]);
    for (const m of text.matchAll(/record\(tx, now, actor,(?: [a-z.]+,)? "([a-z_]+)"/g)) written.add(m[1]);
    for (const m of text.matchAll(/audit_group\(\s*tx,[^"]*"([a-z_]+)"/g)) written.add(m[1]);
    // Change::new(actor, "component", "operation"), and audit_user(tx, now, by, user, "x", ...)
    for (const m of text.matchAll(/Change::new\([^,()]+,\s*"[a-z_]+",\s*"([a-z_]+)"\)/g)) written.add(m[1]);
    for (const m of text.matchAll(/audit_user\(\s*tx,\s*now,\s*[^,]+,\s*[^,]+,\s*"([a-z_]+)"/g)) written.add(m[1]);
  }
  assert.ok(written.size >= 12, `found only ${written.size} operations: the scan is broken`);
  const known = operations();
  assert.deepEqual([...written].filter((o) => !known.includes(o)), []);
});

test('every problem, skipped-backup reason and note the trail check names is told in Latvian and in English', () => {
  const core = join(UI, '..', 'core', 'src');
  const kinds = new Set();
  const reasons = new Set();
  const notes = new Set();
  for (const f of ['audit.rs', 'anchors.rs']) {
    const text = readFileSync(join(core, f), 'utf8').split('#[cfg(test)]')[0];
    for (const m of text.matchAll(/kind: "([a-z_]+)"/g)) kinds.add(m[1]);
    // NotChecked { reason: "x", .. } and the `not("x", ..)` shorthand of anchors.rs
    for (const m of text.matchAll(/(?:reason: |not\(\s*)"([a-z_]+)"/g)) reasons.add(m[1]);
    // The note codes: ("…", "x_interrupted")
    for (const m of text.matchAll(/"([a-z_]+_interrupted)"/g)) notes.add(m[1]);
  }
  assert.ok(kinds.size >= 7 && reasons.size >= 4 && notes.size >= 2, `found ${[...kinds]}, ${[...reasons]} and ${[...notes]}: the scan is broken`);
  const missing = [];
  for (const lang of ['lv', 'en']) {
    const keys = Object.keys(CATALOGS[lang]);
    // An anchor's problem has a text per place (verify.problem.rows_removed.archive ...).
    for (const k of kinds) if (!keys.some((x) => x === `verify.problem.${k}` || x.startsWith(`verify.problem.${k}.`))) missing.push(`${lang}: verify.problem.${k}`);
    // Encrypted backups are offered the passphrase field (verify.sealed) instead.
    for (const r of reasons) if (r !== 'encrypted' && !keys.includes(`verify.reason.${r}`)) missing.push(`${lang}: verify.reason.${r}`);
    for (const n of notes) if (!keys.includes(`verify.note.${n}`)) missing.push(`${lang}: verify.note.${n}`);
  }
  assert.deepEqual(missing, []);
});
