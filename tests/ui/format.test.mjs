// Counts and sizes read the same on every screen, in the user's language: ui/format.js is
// the one formatter, and no other module formats a size of its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const UI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui');
// As in i18n.test.mjs: ui/ has no package.json saying its files are ES modules.
const copy = join(mkdtempSync(join(tmpdir(), 'atslegas-format-')), 'format.mjs');
copyFileSync(join(UI, 'format.js'), copy);
const { formatCount, formatSize } = await import(pathToFileURL(copy).href);

// Intl separates Latvian thousands with a no-break space.
const nb = (s) => s.replace(/ /g, '\u00a0');

test('sizes_use_one_unit_ladder_and_the_languages_decimal_separator', () => {
  const cases = [
    [0, '0 B', '0 B'],
    [512, '512 B', '512 B'],
    [1024, '1 KiB', '1 KiB'],
    [37 * 1024 + 100, '37 KiB', '37 KiB'],
    [1024 * 1024 - 1, '1,0 MiB', '1.0 MiB'],
    [1.5 * 1024 * 1024, '1,5 MiB', '1.5 MiB'],
    [170_000_000, '162,1 MiB', '162.1 MiB'],
    [1024 ** 3 - 1, '1,0 GiB', '1.0 GiB'],
    [5e9, '4,7 GiB', '4.7 GiB'],
  ];
  for (const [bytes, lv, en] of cases) {
    assert.equal(formatSize(bytes, 'lv'), lv, `${bytes} bytes in Latvian`);
    assert.equal(formatSize(bytes, 'en'), en, `${bytes} bytes in English`);
  }
});

test('an_unknown_size_is_empty_not_zero', () => {
  assert.equal(formatSize(null, 'en'), '');
  assert.equal(formatSize(undefined, 'lv'), '');
});

test('counts_are_grouped_as_each_language_writes_them', () => {
  assert.equal(formatCount(1234567, 'lv'), nb('1 234 567'));
  assert.equal(formatCount(1234567, 'en'), '1,234,567');
  assert.equal(formatCount(null, 'en'), '0');
});

test('no_module_but_format_js_formats_a_size', () => {
  const files = [...readdirSync(UI).filter((f) => f.endsWith('.js')),
    ...readdirSync(join(UI, 'screens')).map((f) => join('screens', f))];
  for (const f of files.filter((f) => f !== 'format.js')) {
    const text = readFileSync(join(UI, f), 'utf8');
    assert.doesNotMatch(text, /\bKiB\b|\bMiB\b|1048576|1024 \* 1024/, `${f} formats a size of its own: use size() from admin-common.js`);
  }
});
