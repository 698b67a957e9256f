// The Overview and what the GUI's new screens ask of the host, in process on real sockets
// and real Maildirs: the figures and warnings, failed logins counted from real LOGINs,
// Stop and Start (and settings applied while stopped not starting the server), the
// "Let other devices connect" switch, the mail program setup links, what a Maildir
// location holds, the GUI password, and one appliance per data directory.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ApiError, ApplianceHost, invokeApi } from '../../server/appliance/index.js';
import { buildOverview } from '../../server/appliance/overview.js';
import { FailedLogins } from '../../server/appliance/failed-logins.js';
import { bigMaildir, rawConnect, tempDir, writeConfig } from '../helpers/appliance.js';

const dirs: string[] = [];
const hosts: ApplianceHost[] = [];
after(async () => {
  for (const h of hosts) await h.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function started(extra = ''): Promise<{ host: ApplianceHost; data: string; port: number }> {
  const data = tempDir('overview');
  dirs.push(data);
  writeConfig(data, `PORT=0\n${extra}`, 'SSLPORT=0\n');
  const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 10, stopGraceMs: 1000, setupPort: 0 });
  hosts.push(host);
  const status = await host.start();
  assert.equal(status.state, 'running', status.problem ?? '');
  return { host, data, port: status.listeners.find((l) => l.kind === 'imap')!.port };
}

async function login(port: number, user: string, pass: string): Promise<string> {
  const { socket } = await rawConnect(port);
  return new Promise((resolve, reject) => {
    let data = '';
    socket.on('data', (c) => {
      data += c.toString('latin1');
      const m = /^a (OK|NO|BAD)[^\r\n]*\r\n/m.exec(data);
      if (m) {
        socket.destroy();
        resolve(m[0]);
      }
    });
    socket.on('error', reject);
    socket.write(`a LOGIN ${user} ${pass}\r\n`);
  });
}

function get(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

describe('appliance overview', () => {
  it('counts mail, disk and failed logins with their addresses, live', async () => {
    const { host, data, port } = await started();
    const maildir = path.join(data, 'moved', 'bob');
    bigMaildir(maildir, 30, ['Archive']);
    await host.addAccount({ username: 'bob', password: 'bobs password', maildir });
    const events: string[] = [];
    const unsubscribe = host.subscribe((e) => {
      if (e.type === 'log') events.push(e.line.message);
    });
    assert.match(await login(port, 'bob', 'wrong'), /^a NO/);
    assert.match(await login(port, 'nobody', 'x'), /^a NO/);
    assert.match(await login(port, 'bob', '"bobs password"'), /^a OK/);
    unsubscribe();
    const o = await host.getOverview();
    assert.equal(o.status.state, 'running');
    assert.equal(o.network, false);
    assert.equal(o.messages, 30);
    assert.ok(o.mailBytes > 0);
    assert.ok(o.disk && o.disk.totalBytes > 0 && o.disk.freeBytes > 0 && o.disk.freeBytes <= o.disk.totalBytes, JSON.stringify(o.disk));
    assert.equal(o.failedLogins.count, 2);
    assert.deepEqual(o.failedLogins.addresses.map((a) => [a.address, a.count, a.usernames.sort()]), [['127.0.0.1', 2, ['bob', 'nobody']]]);
    assert.ok(events.some((m) => m.startsWith('LOGIN FAILED')), 'the failures went by as log events');
    assert.equal(typeof o.setupPort, 'number');
    // Nothing to warn about but, on a loaded machine, a stall of the loop (scrypt, the indexer).
    assert.deepEqual(o.warnings.filter((w) => w.kind !== 'stall'), []);
  });

  it('warns of an unused setting, a certificate about to expire, stalls and polling', () => {
    const now = Date.UTC(2026, 0, 1);
    const status = {
      state: 'running', problem: null, configProblem: null, version: 'x', dataDir: '/d', configDir: '/d/config', startedAt: now - 1000,
      listeners: [{ kind: 'imaps', address: '::', port: 993, startTls: false }], sessions: 0, accounts: 0,
      tls: { fingerprint256: 'AB', subject: 'CN=x', validFrom: now - 1e9, validTo: now + 10 * 86_400_000, source: 'generated', certFile: '/c', warnings: [] },
      firstSteps: [], jobs: [], stalls: { count: 2, last: { at: now, ms: 250, commands: ['SEARCH'] } }, adminPassword: false,
    } as const;
    const o = buildOverview({
      status: structuredClone(status) as never, accounts: [], disk: { path: '/d', totalBytes: 1000, freeBytes: 10 },
      failedLogins: { count: 0, addresses: [] }, settingWarnings: ['imapd line 3: FOO: not a setting'], pollingFolders: ['bob: Archive'],
      setupPort: null, announced: false, now,
    });
    assert.equal(o.network, true);
    assert.deepEqual(o.warnings.map((w) => w.kind).sort(), ['certificate', 'disk', 'polling', 'setting', 'stall']);
    assert.match(o.warnings.find((w) => w.kind === 'certificate')!.message, /expires in 10 days/);
    assert.match(o.warnings.find((w) => w.kind === 'stall')!.message, /250 ms during SEARCH/);
  });

  it('keeps failed logins for a day, bounded', () => {
    let now = 1_000_000_000;
    const f = new FailedLogins(() => now);
    for (let i = 0; i < 12_000; i++) f.add(`10.0.0.${i % 3}`, `u${i % 9}`);
    assert.equal(f.view().count, 10_000);
    assert.ok(f.view().addresses.every((a) => a.usernames.length <= 5));
    // The 10,000 newest stay: i from 2,000 on; of those, i % 3 === 1 came from 10.0.0.1.
    assert.equal(f.recentFrom('10.0.0.1', 60_000), 3333);
    now += 25 * 3600_000;
    assert.deepEqual(f.view(), { count: 0, addresses: [] });
  });

  it('stops and starts the server; settings applied while stopped do not start it', async () => {
    const { host, port } = await started();
    const stopped = await host.stopServer();
    assert.equal(stopped.state, 'stopped');
    assert.deepEqual(stopped.listeners, []);
    await assert.rejects(rawConnect(port), /ECONNREFUSED/);
    const applied = await host.applySettings({ MAXPERIP: '7' });
    assert.equal(applied.applied, true);
    assert.equal((await host.getStatus()).state, 'stopped');
    const again = await host.startServer();
    assert.equal(again.state, 'running');
    const newPort = again.listeners.find((l) => l.kind === 'imap')!.port;
    const c = await rawConnect(newPort);
    assert.match(c.first, /^\* OK/);
    c.socket.destroy();
    // Both through the transports' checks too.
    assert.deepEqual(await invokeApi(host, 'startServer', ['x']).then((e) => e.ok), false);
  });

  it('lets other devices connect with one switch, and back', async () => {
    const { host, data } = await started();
    const on = await host.setNetworkAccess(true);
    assert.equal(on.applied, true, JSON.stringify(on.errors));
    const file = fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8');
    assert.match(file, /^ADDRESS=0$/m);
    assert.match(fs.readFileSync(path.join(data, 'config', 'imapd-ssl'), 'utf8'), /^SSLADDRESS=0$/m);
    const o = await host.getOverview();
    assert.equal(o.network, true);
    const info = await host.connectionInfo();
    assert.equal(info.localOnly, false);
    // The setup server moved to the network too, and serves the files.
    const setup = await host.clientSetup('alice');
    assert.equal(setup.problem, null);
    assert.match(setup.host, /\.local$/);
    assert.deepEqual(setup.methods.map((m) => m.id).sort(), ['autoconfig', 'autodiscover', 'mobileconfig']);
    for (const m of setup.methods) assert.match(m.qr, /^data:image\/svg\+xml;base64,/);
    const url = new URL(setup.methods.find((m) => m.id === 'autoconfig')!.url);
    const fetched = await get(`http://127.0.0.1:${url.port}${url.pathname}${url.search}`);
    assert.equal(fetched.status, 200);
    assert.match(fetched.body, /<username>alice<\/username>/);
    const off = await host.setNetworkAccess(false);
    assert.equal(off.applied, true);
    assert.equal((await host.getOverview()).network, false);
    assert.match(fs.readFileSync(path.join(data, 'config', 'imapd'), 'utf8'), /^ADDRESS=127\.0\.0\.1$/m);
  });

  it('says what is at a Maildir location before an account is made on it', async () => {
    const { host, data } = await started();
    const maildir = path.join(data, 'old', 'carol');
    bigMaildir(maildir, 55, ['A', 'B', 'C']);
    const found = await host.inspectMaildir(maildir);
    assert.equal(found.kind, 'maildir');
    assert.equal(found.summary.includes('55 messages in 4 folders'), true, found.summary);
    const missing = await host.inspectMaildir(path.join(data, 'nothing', 'here'));
    assert.equal(missing.kind, 'missing');
    fs.writeFileSync(path.join(data, 'afile'), 'x');
    assert.equal((await host.inspectMaildir(path.join(data, 'afile'))).kind, 'other');
    await assert.rejects(host.inspectMaildir('relative/path'), (e: unknown) => e instanceof ApiError && e.field === 'maildir');
    await assert.rejects(host.addAccount({ username: 'with space', password: 'long enough' }), (e: unknown) => e instanceof ApiError && e.field === 'username' && /spaces/.test(e.message));
  });

  it('keeps a GUI password as a hash, and refuses a short one', async () => {
    const { host, data } = await started();
    assert.equal((await host.getStatus()).adminPassword, false);
    await assert.rejects(host.setAdminPassword('short'), (e: unknown) => e instanceof ApiError && e.field === 'password');
    await host.setAdminPassword('a long GUI password');
    const stored = fs.readFileSync(path.join(data, 'gui-password'), 'utf8');
    assert.match(stored, /^\$scrypt\$/);
    assert.ok(!stored.includes('a long GUI password'));
    assert.equal(fs.statSync(path.join(data, 'gui-password')).mode & 0o077, 0);
    assert.equal((await host.getStatus()).adminPassword, true);
    assert.equal(await host.admin.verify('a long GUI password'), true);
    const cookie = host.admin.issue();
    assert.equal(host.admin.check(cookie), true);
    assert.equal(host.admin.check(cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))), false);
    assert.equal(host.admin.check(host.admin.issue(Date.now() - 31 * 86_400_000)), false, 'expired');
    // A new password ends the sessions signed in with the old one.
    await host.setAdminPassword('another long password');
    assert.equal(host.admin.check(cookie), false);
  });

  it('refuses a second appliance on the same data directory, and takes over a stale lock', async () => {
    const { host, data } = await started();
    const lock = path.join(data, 'appliance.lock');
    assert.equal(fs.readFileSync(lock, 'utf8').trim(), String(process.pid));
    await assert.rejects(ApplianceHost.open({ dataDir: data }), /another appliance \(process \d+\) is already running/);
    await host.stop();
    assert.equal(fs.existsSync(lock), false, 'released at stop');
    // A lock left by a process that is gone (a pid above the kernel's pid_max).
    fs.writeFileSync(lock, '2147483646\n');
    const again = await ApplianceHost.open({ dataDir: data });
    hosts.push(again);
    assert.equal(fs.readFileSync(lock, 'utf8').trim(), String(process.pid));
  });
});

describe('settings errors', () => {
  it('puts a port conflict on the setting that was changed (PORT = SSLPORT marks PORT)', async () => {
    const { host } = await started();
    const status = await host.getStatus();
    const sslPort = status.listeners.find((l) => l.kind === 'imaps')!.port;
    const imapPort = status.listeners.find((l) => l.kind === 'imap')!.port;
    // Both written in the file so that the conflict is between two fixed values.
    const fixed = await host.applySettings({ PORT: String(imapPort), SSLPORT: String(sslPort) });
    assert.equal(fixed.applied, true, JSON.stringify(fixed.errors));
    const r = await host.validateSettings({ PORT: String(sslPort) });
    assert.equal(r.ok, false);
    assert.deepEqual(r.errors.map((e) => e.setting), ['PORT']);
    assert.match(r.errors[0]!.message, new RegExp(`port ${sslPort} is also given for SSLPORT`));
    const other = await host.validateSettings({ SSLPORT: String(imapPort) });
    assert.deepEqual(other.errors.map((e) => e.setting), ['SSLPORT']);
  });
});
