// Every screen with a large register (10,000 persons, 3,000 keys, 100,000 key movements
// made by `atslegas-cli demo`): each opens, pages in the core, and is saved as a
// screenshot to look at. The timings are reported, not asserted (SPEC §8: speed is the
// benchmark's job, docs/BENCHMARK.md).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { App, SCREENS, register, waitFor } from './webdriver.mjs';

test('every screen renders with 10,000 persons, 3,000 keys and 100,000 movements', { timeout: 300000 }, async () => {
  const { data, cli } = register('atslegas-e2e-large-', { cli: { maxBuffer: 256 * 1024 * 1024 } });
  cli('demo', '--persons', '10000', '--keys', '3000', '--log-rows', '100000');
  const app = await App.start({ name: 'large', dataDir: data });
  try {
    await app.signIn();
    await app.waitVisible('.calendar');
    await waitFor(async () => Number(await app.text('#stat-keys-total .stat-value')) > 2900, 'the key count');
    await app.screenshot('1-dashboard');
    const timings = {};
    let n = 2;
    for (const [name, ready] of SCREENS) {
      const t0 = Date.now();
      await app.press(name);
      await app.waitVisible(ready, true, 30000);
      timings[name] = Date.now() - t0;
      await app.screenshot(`${n++}-${name.normalize('NFD').replace(/[^\w]/g, '').toLowerCase()}`);
    }
    // Lists show one page, never the whole table.
    await app.press('Personas');
    await app.waitVisible('#view tbody tr');
    assert.equal(await app.exec("return document.querySelectorAll('#view tbody tr').length"), 50);
    // The first paint comes from the cache, where Next may still be off; the core's
    // answer turns it on.
    await waitFor(async () => app.exec("return !document.querySelector('.pager button:last-child').disabled"), 'Next enabled');
    await app.press('Nākamā →');
    await waitFor(async () => /2\. lapa/.test(await app.text('.pager')), 'page 2');
    assert.equal(await app.exec("return document.querySelectorAll('#view tbody tr').length"), 50);
    await app.screenshot(`${n++}-persons-page-2`);
    // A search goes back to its first page and finds the name without its diacritics.
    await app.fill('Meklēt personas', 'berzins');
    await waitFor(async () => (await app.text('#view tbody')).includes('Bērziņ'), 'the search result');
    const names = await app.exec("return [...document.querySelectorAll('#view tbody tr')].map((r) => r.textContent)");
    assert.ok(names.length > 0 && names.every((row) => /Bērziņ/.test(row)), `every row matches: ${names.slice(0, 3)}`);
    await app.screenshot(`${n++}-persons-search`);

    // The key log pages by cursor (keyset paging): each page goes on where the one
    // before ended, and Previous comes back to it. The CLI's key log (oldest first,
    // ties by id) is the reference.
    const all = JSON.parse(cli('--json', 'keylog', '--start', '0', '--end', '4102444800')).reverse().map((r) => r.keyNumber);
    await app.press('Žurnāli');
    await app.waitVisible('#view tbody tr');
    const pageKeys = () => app.exec("return [...document.querySelectorAll('#view tbody tr')].map((r) => r.cells[2].textContent)");
    await waitFor(async () => JSON.stringify(await pageKeys()) === JSON.stringify(all.slice(0, 50)), 'the newest 50 movements');
    for (const p of [2, 3]) {
      await app.press('Nākamā →');
      await waitFor(async () => new RegExp(`${p}\\. lapa`).test(await app.text('.pager')), `key-log page ${p}`);
    }
    assert.deepEqual(await pageKeys(), all.slice(100, 150));
    await app.press('← Iepriekšējā');
    await waitFor(async () => /2\. lapa/.test(await app.text('.pager')), 'back to key-log page 2');
    assert.deepEqual(await pageKeys(), all.slice(50, 100));
    await app.screenshot(`${n++}-keylog-page-2`);
    console.log('screen timings (ms, including WebDriver round trips):', JSON.stringify(timings));
  } finally {
    await app.stop();
  }
});
