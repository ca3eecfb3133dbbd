// Loads one of the page's modules (ui/NAME.js) into a Node test.
//
// ui/ has no package.json saying its .js files are ES modules (it is the app's web
// root), and Node before 20.19 would read them as CommonJS: so the module is imported
// from a .mjs copy in a temporary folder, which is removed as soon as it is loaded.

import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The page's folder. */
export const UI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui');

/**
 * @param {string} name the module's file name without `.js`, e.g. `dates`
 * @returns {Promise<any>} the module's exports
 */
export async function loadUiModule(name) {
  const dir = mkdtempSync(join(tmpdir(), `atslegas-ui-${name}-`));
  try {
    const copy = join(dir, `${name}.mjs`);
    copyFileSync(join(UI, `${name}.js`), copy);
    return await import(pathToFileURL(copy).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The page's sources: its JavaScript modules (ui/*.js and ui/screens/*.js), with
 * index.html first when `withHtml` is set.
 * @param {{ withHtml?: boolean }} [opts]
 * @returns {Array<[string, string]>} each file's path under ui/ and its text
 */
export function uiSources({ withHtml = false } = {}) {
  const files = [...(withHtml ? ['index.html'] : []),
    ...readdirSync(UI).filter((f) => f.endsWith('.js')),
    ...readdirSync(join(UI, 'screens')).map((f) => join('screens', f))];
  return files.map((f) => [f, readFileSync(join(UI, f), 'utf8')]);
}
