// The desktop app's behaviour that needs no Electron binary (server/appliance/desktop.ts):
// the tray's status lines from a real host's Overview, when notices are due, the window's
// remembered bounds, and the Linux autostart entry.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ApplianceHost, type OverviewView } from '../../server/appliance/index.js';
import { DEFAULT_BOUNDS, Notifier, REPEATED_FAILURES, autostartFile, linuxAutostartOn, loadWindowBounds, saveWindowBounds, setLinuxAutostart, trayLines } from '../../server/appliance/desktop.js';
import { tempDir, writeConfig } from '../helpers/appliance.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const dir = (p: string) => {
  const d = tempDir(p);
  dirs.push(d);
  return d;
};

describe('desktop app', () => {
  it('shows the Overview\'s status in the tray', async () => {
    const data = dir('desktop');
    writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
    const host = await ApplianceHost.open({ dataDir: data });
    try {
      await host.start();
      const lines = trayLines(await host.getOverview());
      assert.equal(lines[0], 'Running for this computer only');
      assert.match(lines[1]!, /^Ports \d+ \(STARTTLS\), \d+ \(SSL\/TLS\)$/);
      assert.equal(lines[2], '0 sessions, 0 accounts, 0 messages');
      assert.match(lines[3]!, /^Disk: \d+ GB free$/);
      await host.stopServer();
      assert.equal(trayLines(await host.getOverview())[0], 'Stopped');
    } finally {
      await host.stop();
    }
    assert.deepEqual(trayLines(null), ['Starting...']);
  });

  it('notifies once for an address that keeps failing, and once when the disk fills', () => {
    let now = 0;
    const notifier = new Notifier(() => now);
    const base = { disk: { path: '/', totalBytes: 1000, freeBytes: 500 }, failedLogins: { count: 0, addresses: [] } } as unknown as OverviewView;
    const failing = (count: number, free = 500): OverviewView => ({
      ...base,
      disk: { path: '/', totalBytes: 1000, freeBytes: free },
      failedLogins: { count, addresses: [{ address: '192.0.2.7', count, lastAt: now, usernames: ['admin'] }] },
    });
    assert.deepEqual(notifier.check(failing(REPEATED_FAILURES - 1)), []);
    const first = notifier.check(failing(REPEATED_FAILURES));
    assert.equal(first.length, 1);
    assert.match(first[0]!.body, /192\.0\.2\.7 failed to log in 5 times today \(as admin\)/);
    now += 60_000;
    assert.deepEqual(notifier.check(failing(REPEATED_FAILURES + 3)), [], 'not again within the hour');
    now += 3600_000;
    assert.equal(notifier.check(failing(REPEATED_FAILURES + 4)).length, 1, 'again after an hour, with new failures');
    assert.deepEqual(notifier.check(failing(REPEATED_FAILURES + 4)), [], 'no new failures, no notice');
    const full = notifier.check(failing(REPEATED_FAILURES + 4, 20));
    assert.deepEqual(full.map((n) => n.title), ['The disk is nearly full']);
    assert.deepEqual(notifier.check(failing(REPEATED_FAILURES + 4, 20)), [], 'once while it stays full');
    notifier.check(failing(REPEATED_FAILURES + 4, 500));
    assert.equal(notifier.check(failing(REPEATED_FAILURES + 4, 10)).length, 1, 'again after it recovered');
  });

  it('remembers the window size, and ignores a damaged file', async () => {
    const data = dir('window');
    assert.deepEqual(await loadWindowBounds(data), DEFAULT_BOUNDS);
    await saveWindowBounds(data, { width: 900, height: 700, x: 10, y: 20, maximized: true });
    assert.deepEqual(await loadWindowBounds(data), { width: 900, height: 700, x: 10, y: 20, maximized: true });
    fs.writeFileSync(path.join(data, 'window.json'), '{"width": 5, "height": "tall"}');
    assert.deepEqual(await loadWindowBounds(data), DEFAULT_BOUNDS);
    fs.writeFileSync(path.join(data, 'window.json'), 'not json');
    assert.deepEqual(await loadWindowBounds(data), DEFAULT_BOUNDS);
  });

  it('writes and removes the Linux autostart entry', async () => {
    const config = dir('xdg');
    const file = autostartFile({ XDG_CONFIG_HOME: config });
    assert.equal(file, path.join(config, 'autostart', 'imapd-ts.desktop'));
    assert.equal(await linuxAutostartOn(file), false);
    await setLinuxAutostart(true, '/opt/imapd ts/imapd-ts', file);
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /^\[Desktop Entry\]$/m);
    assert.match(text, /^Exec="\/opt\/imapd ts\/imapd-ts" --hidden$/m);
    assert.equal(await linuxAutostartOn(file), true);
    await setLinuxAutostart(false, '', file);
    assert.equal(await linuxAutostartOn(file), false);
  });
});
