// The appliance surfaces event-loop stalls: a count and the last one in its status, and a
// warning in its log. The host runs in this process, so a busy-wait here is a real stall of
// its IMAP server's loop (no hook in the server for it).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplianceHost } from '../../server/appliance/index.js';
import { tempDir, writeConfig } from '../helpers/appliance.js';

test('a stall of the loop shows in the status and the log', async () => {
  const data = tempDir('stall');
  writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
  const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20, stopGraceMs: 2000 });
  try {
    const status = await host.start();
    assert.equal(status.state, 'running', status.problem ?? '');
    assert.deepEqual(status.stalls, { count: 0, last: null });
    await sleep(100);
    const until = performance.now() + 300;
    while (performance.now() < until) {
      /* block the loop */
    }
    await sleep(150);
    const after = await host.getStatus();
    assert.ok(after.stalls.count >= 1 && after.stalls.last !== null, JSON.stringify(after.stalls));
    // Ours is one of them (a loaded machine may add shorter stalls of its own after it).
    const log = await host.getLog({ level: 'warn' });
    const ours = log.map((l) => /^stall: (\d+) ms outside any command/.exec(l.message)).filter((m) => m !== null && Number(m[1]) >= 150);
    assert.ok(ours.length >= 1, JSON.stringify(log));
  } finally {
    await host.stop();
    fs.rmSync(data, { recursive: true, force: true });
  }
});
