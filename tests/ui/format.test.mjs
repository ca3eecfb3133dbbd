// Counts and sizes read the same on every screen, in the user's language: ui/format.js is
// the one formatter, and no other module formats a size of its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadUiModule, uiSources } from './load.mjs';

const { formatCount, formatSize } = await loadUiModule('format');

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
  for (const [f, text] of uiSources().filter(([f]) => f !== 'format.js')) {
    assert.doesNotMatch(text, /\bKiB\b|\bMiB\b|1048576|1024 \* 1024/, `${f} formats a size of its own: use size() from admin-common.js`);
  }
});
