// The headless appliance command (npm run serve, and npm start without Electron): a first
// start with nothing configured, a start whose IMAP port is taken (the GUI still comes up
// to fix it), and its usage errors.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { APPLIANCE, ROOT, startAppliance, tempDir, writeConfig } from '../helpers/appliance.js';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1' }, () => s.close(() => resolve(true)));
  });
}

async function api(url: string, method: string, args: unknown[]): Promise<{ ok: boolean; result?: any; error?: { message: string } }> {
  // any: the tests look into results of several shapes
  const u = new URL(url);
  const res = await fetch(`${u.origin}/api/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Appliance-Token': u.searchParams.get('token')! },
    body: JSON.stringify(args),
  });
  return (await res.json()) as { ok: boolean; result?: any; error?: { message: string } };
}

describe('appliance command', () => {
  it('comes up on a fresh machine with working defaults', async (t) => {
    if (!(await portFree(1143)) || !(await portFree(1993))) {
      t.skip('ports 1143 or 1993 are in use on this machine');
      return;
    }
    const data = path.join(tempDir('cli'), 'never-made');
    const app = await startAppliance(data);
    try {
      const out = app.out.lines.join('\n');
      assert.match(out, /^IMAP with STARTTLS: 127\.0\.0\.1 port 1143$/m);
      assert.match(out, /^IMAP over TLS \(SSL\/TLS\): 127\.0\.0\.1 port 1993$/m);
      assert.match(out, /^certificate SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
      assert.match(out, /^next: Add an account/m);
      assert.match(app.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
      for (const f of ['config/imapd', 'config/imapd-ssl', 'accounts.sqlite', 'tls/cert.pem', 'tls/key.pem']) assert.ok(fs.existsSync(path.join(data, f)), f);
      assert.equal(fs.statSync(path.join(data, 'tls/key.pem')).mode & 0o077, 0, 'the key is private');
      const page = await fetch(app.url, { redirect: 'manual' });
      assert.equal(page.status, 303);
    } finally {
      assert.equal(await app.stop(), 0);
      fs.rmSync(path.dirname(data), { recursive: true, force: true });
    }
    assert.ok(app.out.lines.includes('stopped'));
  });

  it('starts the GUI even when the IMAP port is taken, so that it can be fixed there', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen({ port: 0, host: '127.0.0.1' }, () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    const data = tempDir('cli-taken');
    writeConfig(data, `PORT=${taken}\n`, 'SSLPORT=0\n');
    const app = await startAppliance(data);
    try {
      assert.match(app.out.lines.join('\n'), new RegExp(`IMAP server not running: cannot listen on 127\\.0\\.0\\.1 port ${taken} \\(imap\\): the port is in use`));
      const status = await api(app.url, 'getStatus', []);
      assert.equal(status.result.state, 'error');
      assert.match(status.result.firstSteps[0], /Fix the problem in Settings/);
      const fixed = await api(app.url, 'applySettings', [{ PORT: '0' }]);
      assert.equal(fixed.result.applied, true, JSON.stringify(fixed));
      assert.equal((await api(app.url, 'getStatus', [])).result.state, 'running');
    } finally {
      blocker.close();
      assert.equal(await app.stop(), 0);
      fs.rmSync(data, { recursive: true, force: true });
    }
  });

  it('says so and exits when another appliance runs on the same data directory; prints the ssh -L way in', async () => {
    const data = tempDir('cli-twice');
    writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
    const app = await startAppliance(data);
    try {
      assert.match(app.out.lines.join('\n'), new RegExp(`from another computer: ssh -L ${app.guiPort}:127\\.0\\.0\\.1:${app.guiPort} \\S+@\\S+, then open http://localhost:${app.guiPort}/`));
      assert.match(app.out.lines.join('\n'), /GUI password: none yet/);
      const second = spawnSync(process.execPath, [APPLIANCE, '--data', data, '--gui-port', '0', '--setup-port', '0', '--no-announce'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(second.status, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`another appliance \\(process ${app.proc.pid}\\) is already running on the data directory`));
      assert.equal((await api(app.url, 'getStatus', [])).result.state, 'running', 'the first one is untouched');
    } finally {
      assert.equal(await app.stop(), 0);
      fs.rmSync(data, { recursive: true, force: true });
    }
  });

  it('rejects bad usage with exit code 2', () => {
    const r = spawnSync(process.execPath, [APPLIANCE, '--gui-port', 'abc'], { encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--gui-port: expected a port number/);
    const u = spawnSync(process.execPath, [APPLIANCE, '--bogus'], { encoding: 'utf8' });
    assert.equal(u.status, 2);
    assert.match(u.stderr, /Usage: appliance/);
  });

  it('npm start says in one line that Electron is missing and runs the appliance instead', { skip: hasElectronBinary() ? 'Electron is installed here: npm start opens the desktop app' : false }, async () => {
    const data = tempDir('launch');
    writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
    const proc = spawn(process.execPath, [path.join(ROOT, 'electron/launch.mjs'), `--data=${data}`, '--gui-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c) => (out += c));
    const deadline = Date.now() + 20_000;
    while (!/GUI: http/.test(out)) {
      assert.ok(Date.now() < deadline, out);
      await new Promise((r) => setTimeout(r, 50));
    }
    const lines = out.split('\n');
    assert.match(lines[0]!, /^Desktop app not started \(the Electron desktop binary is not installed; .+\); starting the headless appliance with the GUI in your browser instead\.$/);
    // Electron's own advice (delete node_modules and reinstall) does not help without internet.
    assert.doesNotMatch(out, /delete|node_modules\/electron and/i);
    assert.doesNotMatch(lines.slice(1).join('\n'), /Electron/);
    assert.match(out, new RegExp(`data directory: ${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    proc.kill('SIGTERM');
    const code = await new Promise((r) => proc.once('exit', r));
    assert.equal(code, 0);
    fs.rmSync(data, { recursive: true, force: true });
  });
});

function hasElectronBinary(): boolean {
  try {
    return typeof createRequire(import.meta.url)('electron') === 'string';
  } catch {
    return false;
  }
}
