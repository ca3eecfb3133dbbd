// End to end: closing the window while a backup runs asks first. "Keep working" lets
// the backup finish; "Stop it and close" cancels it where that is safe (no archive,
// no .partial left on the drive) and the app quits. The window is closed the way a
// window manager does it (WM_DELETE_WINDOW), as a user clicking [x].

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, register, waitFor } from './webdriver.mjs';


test('closing while a backup runs asks, and stopping it leaves nothing half-written', { timeout: 300000 }, async () => {
  const { data, cli } = register('atslegas-e2e-busy-', { cli: { timeout: 240000 } });
  const drive = mkdtempSync(join(tmpdir(), 'atslegas-e2e-busydrive-'));
  // Large enough that a backup takes a few seconds in a debug build.
  cli('demo', '--persons', '10000', '--keys', '3000', '--log-rows', '300000');

  const app = await App.start({ name: 'busy', dataDir: data });
  let quit = false;
  try {
    await app.signIn();
    await app.press('Rezerves kopijas');

    // Close during a backup; keep working: the backup finishes.
    await app.backUpUnencryptedTo(drive);
    await app.waitVisible('#backup-progress');
    app.closeWindow();
    await app.waitVisible('#close-busy', true, 10000);
    assert.match(await app.text('#close-busy'), /Darbs vēl notiek/);
    await app.screenshot('1-asked');
    await app.press('Turpināt darbu');
    await waitFor(async () => /Gatavs un pārbaudīts/.test(await app.text('#backup-result')), 'the backup to finish', 120000);
    const done = readdirSync(drive).filter((f) => f.endsWith('.zip'));
    assert.equal(done.length, 1);

    // Close during the next backup; stop it and close: the app quits, nothing is half-written.
    await app.press('Izveidot rezerves kopiju tagad');
    await app.waitVisible('#backup-progress');
    app.closeWindow();
    await app.waitVisible('#close-busy', true, 10000);
    await app.press('Pārtraukt un aizvērt');
    await waitFor(async () => {
      try { await app.exec('return 1'); return false; } catch { return true; }
    }, 'the app to quit', 30000);
    quit = true;
    const left = readdirSync(drive);
    assert.deepEqual(left.filter((f) => f.endsWith('.zip')), done, `only the finished backup: ${left}`);
    assert.deepEqual(left.filter((f) => f.includes('partial')), [], `no partial file: ${left}`);
    // The stopped backup is on record as cancelled, the finished one as verified.
    const history = execFileSync('sqlite3', [join(data, 'database.db'), 'SELECT status FROM backups ORDER BY id'], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(history, ['verified', 'cancelled']);
  } finally {
    if (quit) await app.stop().catch(() => {}); else await app.stop();
  }
});
