// The desktop app's main process without Electron (server/appliance/desktop-shell.ts): a real
// appliance host, real IMAP logins over a socket, and a recording stand-in for Electron's Tray,
// Notification, login item and window. What Electron itself would draw is not checked here
// (test/appliance/electron.test.ts launches the real app where a binary and a display exist).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ApplianceHost } from '../../server/appliance/index.js';
import { REPEATED_FAILURES, type Notice } from '../../server/appliance/desktop.js';
import { DesktopShell, changesTray, type DesktopPlatform, type TrayEntry } from '../../server/appliance/desktop-shell.js';
import { tempDir, writeConfig } from '../helpers/appliance.js';

const dirs: string[] = [];
const hosts: ApplianceHost[] = [];
after(async () => {
  for (const h of hosts) await h.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

class FakePlatform implements DesktopPlatform {
  tooltip = '';
  menu: TrayEntry[] = [];
  trayDraws = 0;
  notices: Notice[] = [];
  loginItem = false;
  windowShown = 0;
  quitAsked = 0;
  setTray(tooltip: string, menu: TrayEntry[]): void {
    this.tooltip = tooltip;
    this.menu = menu;
    this.trayDraws++;
  }
  notify(notice: Notice): void {
    this.notices.push(notice);
  }
  async loginItemOn(): Promise<boolean> {
    return this.loginItem;
  }
  async setLoginItem(on: boolean): Promise<void> {
    this.loginItem = on;
  }
  showWindow(): void {
    this.windowShown++;
  }
  quit(): void {
    this.quitAsked++;
  }
  status(): string[] {
    return this.menu.filter((e) => e.type === 'status').map((e) => (e as { label: string }).label);
  }
  entry(label: string): TrayEntry {
    const e = this.menu.find((m) => 'label' in m && m.label === label);
    assert.ok(e, `no "${label}" in the tray menu: ${JSON.stringify(this.menu)}`);
    return e;
  }
}

async function until(what: string, test: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function started(): Promise<{ host: ApplianceHost; data: string; port: number }> {
  const data = tempDir('shell');
  dirs.push(data);
  writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
  const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 1, stopGraceMs: 2000 });
  hosts.push(host);
  const status = await host.start();
  assert.equal(status.state, 'running', status.problem ?? '');
  return { host, data, port: status.listeners.find((l) => l.kind === 'imap')!.port };
}

/** A LOGIN with a wrong password over a real socket, answered NO. */
async function failLogin(port: number, user: string): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  await until('the greeting', () => text.includes('* OK'));
  socket.write(`a LOGIN ${user} wrong-password\r\n`);
  await until('the NO', () => /^a NO/m.test(text));
  socket.destroy();
}

describe('desktop shell (the Electron main process, Electron stubbed)', () => {
  it('keeps the tray\'s status in step with the host, with Open, Start at login and Quit', async () => {
    const { host } = await started();
    const platform = new FakePlatform();
    const shell = new DesktopShell(host, platform, { refreshDelayMs: 20 });
    await shell.start();
    try {
      assert.equal(platform.tooltip, 'imapd-ts: Running for this computer only');
      assert.deepEqual(platform.status().slice(2, 3), ['0 sessions, 0 accounts, 0 messages']);
      assert.deepEqual(platform.menu.map((e) => ('label' in e ? e.label : '-')).slice(-5), ['-', 'Open imapd-ts', 'Start at login', '-', 'Quit (stops the mail server)']);
      // An account added and the server stopped: the tray follows the host's events by itself.
      await host.addAccount({ username: 'alice', password: 'long enough password' });
      await host.stopServer();
      await until('the tray to say Stopped', () => platform.tooltip === 'imapd-ts: Stopped');
      assert.equal(platform.status()[0], 'Stopped');
      assert.match(platform.status().join('\n'), /1 account,/);
      await host.startServer();
      await until('the tray to say Running', () => platform.tooltip === 'imapd-ts: Running for this computer only');
      // The menu's actions reach the platform.
      const open = platform.entry('Open imapd-ts');
      assert.equal(open.type, 'action');
      (open as { click(): void }).click();
      assert.equal(platform.windowShown, 1);
      (platform.entry('Quit (stops the mail server)') as { click(): void }).click();
      assert.equal(platform.quitAsked, 1);
    } finally {
      shell.stop();
    }
  });

  it('turns start at login on and off from the tray menu', async () => {
    const { host } = await started();
    const platform = new FakePlatform();
    const shell = new DesktopShell(host, platform);
    await shell.start();
    try {
      const item = platform.entry('Start at login');
      assert.ok(item.type === 'checkbox' && item.checked === false);
      item.click(true);
      await until('the login item', () => platform.loginItem && (platform.entry('Start at login') as { checked: boolean }).checked);
      (platform.entry('Start at login') as { click(on: boolean): void }).click(false);
      await until('the login item off', () => !platform.loginItem && !(platform.entry('Start at login') as { checked: boolean }).checked);
    } finally {
      shell.stop();
    }
  });

  it('notifies once when one address keeps failing to log in, after real failed LOGINs', async () => {
    const { host, port } = await started();
    const platform = new FakePlatform();
    const shell = new DesktopShell(host, platform, { refreshDelayMs: 20 });
    await shell.start();
    try {
      for (let i = 0; i < REPEATED_FAILURES - 1; i++) await failLogin(port, 'admin');
      await until('the tray to count the failures', () => platform.status().includes(`Failed logins today: ${REPEATED_FAILURES - 1}`));
      assert.equal(platform.notices.length, 0, 'not yet');
      await failLogin(port, 'root');
      await until('a notice', () => platform.notices.length > 0);
      assert.equal(platform.notices[0]!.title, 'Repeated failed logins');
      assert.match(platform.notices[0]!.body, /^127\.0\.0\.1 failed to log in 5 times today \(as admin, root\)/);
      await failLogin(port, 'admin');
      await until('the tray to count six', () => platform.status().includes(`Failed logins today: ${REPEATED_FAILURES + 1}`));
      assert.equal(platform.notices.length, 1, 'one notice an hour per address');
    } finally {
      shell.stop();
    }
  });

  it('remembers the window\'s size and place, and the size to restore to when maximized', async () => {
    const { host, data } = await started();
    const platform = new FakePlatform();
    let shell = new DesktopShell(host, platform, { saveDelayMs: 30 });
    await shell.start();
    assert.deepEqual(shell.windowBounds(), { width: 1200, height: 820 });
    shell.windowChanged({ width: 1000, height: 700, x: 5, y: 6 }, false);
    shell.windowChanged({ width: 1010, height: 710, x: 7, y: 8 }, false);
    await until('the save', () => fs.existsSync(path.join(data, 'window.json')));
    await shell.saved();
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(data, 'window.json'), 'utf8')), { width: 1010, height: 710, x: 7, y: 8 });
    // Maximized: the file keeps the size to come back to.
    shell.windowChanged({ width: 1920, height: 1080, x: 0, y: 0 }, true);
    shell.stop(); // a pending save is written at once
    await shell.saved();
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(data, 'window.json'), 'utf8')), { width: 1010, height: 710, x: 7, y: 8, maximized: true });
    // The next start opens the window as it was.
    shell = new DesktopShell(host, new FakePlatform());
    await shell.start();
    assert.deepEqual(shell.windowBounds(), { width: 1010, height: 710, x: 7, y: 8, maximized: true });
    shell.windowChanged({ width: 1010, height: 710, x: 7, y: 8 }, false);
    shell.stop();
    await shell.saved();
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(data, 'window.json'), 'utf8')), { width: 1010, height: 710, x: 7, y: 8 });
  });

  it('notices the disk filling without any event, by looking now and then', async () => {
    const data = tempDir('shell-disk');
    dirs.push(data);
    const real = await (await started()).host.getOverview();
    let free = 500;
    // A host whose disk fills: no event says so, only the Overview does.
    const host = { dataDir: data, subscribe: () => () => undefined, getOverview: async () => ({ ...real, disk: { ...real.disk!, totalBytes: 1000, freeBytes: free } }) };
    const platform = new FakePlatform();
    const shell = new DesktopShell(host, platform, { pollMs: 20 });
    await shell.start();
    try {
      free = 30;
      await until('a notice', () => platform.notices.length > 0);
      assert.deepEqual(platform.notices.map((n) => n.title), ['The disk is nearly full']);
      assert.match(platform.notices[0]!.body, /Only 3% is free/);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(platform.notices.length, 1, 'once while it stays full');
    } finally {
      shell.stop();
    }
  });

  it('redraws the tray for status, sessions and failed logins only', () => {
    const line = (message: string) => ({ type: 'log' as const, line: { seq: 1, time: 0, level: 'info' as const, account: null, message } });
    assert.equal(changesTray(line('LOGIN FAILED user=x ip=1.2.3.4')), true);
    assert.equal(changesTray(line('settings changed')), false);
    assert.equal(changesTray({ type: 'sessions', sessions: [] }), true);
  });
});
