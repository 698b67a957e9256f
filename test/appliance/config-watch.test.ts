// Edits of the configuration files made outside the appliance (by hand, or by a tool that
// replaces the file by rename): a valid one is applied live, as a change from the GUI
// would be; an invalid one is shown in the status and the running settings stay.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ApplianceHost, type ApplianceStatus } from '../../server/appliance/index.js';
import { tempDir, writeConfig } from '../helpers/appliance.js';

const hosts: ApplianceHost[] = [];
const dirs: string[] = [];
after(async () => {
  for (const h of hosts) await h.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Replace a file the way editors and configuration tools do: write a copy, rename it over. */
function replaceByRename(file: string, text: string): void {
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function setting(host: ApplianceHost, name: string): Promise<string> {
  return (await host.getSettings()).settings.find((s) => s.name === name)!.value;
}

function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.once('data', (chunk) => {
      resolve(chunk.toString('latin1'));
      socket.destroy();
    });
  });
}

describe('configuration files edited outside the appliance', () => {
  it('applies a valid edit live, reports an invalid one and keeps the running settings', async () => {
    const data = tempDir('config-watch');
    dirs.push(data);
    writeConfig(data, '# kept\nPORT=0\nMAXPERIP=4\n', 'SSLPORT=0\n');
    const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20, stopGraceMs: 2000 });
    hosts.push(host);
    const statuses: ApplianceStatus[] = [];
    host.subscribe((e) => e.type === 'status' && statuses.push(e.status));
    const started = await host.start();
    const port = started.listeners.find((l) => l.kind === 'imap')!.port;
    const file = path.join(data, 'config', 'imapd');

    // A valid edit: MAXPERIP 1 is in force for the next connection, without a restart.
    replaceByRename(file, '# kept\nPORT=0\nMAXPERIP=1\n');
    await until('MAXPERIP=1 applied', async () => ((await setting(host, 'MAXPERIP')) === '1' ? true : undefined));
    const first = net.connect({ host: '127.0.0.1', port });
    await new Promise((r) => first.once('data', r));
    assert.match(await greeting(port), /^\* BYE Too many connections from your address/);
    first.destroy();
    assert.ok((await host.getLog()).some((l) => /settings changed: the imapd file, edited outside the appliance/.test(l.message)));

    // An invalid edit: reported in the status, the running settings stay.
    replaceByRename(file, '# kept\nPORT=0\nMAXPERIP=lots\n');
    const refused = await until('the problem in the status', async () => (await host.getStatus()).configProblem ?? undefined);
    assert.match(refused, /MAXPERIP/);
    assert.match(refused, /keeps its running settings/);
    assert.ok(statuses.some((s) => s.configProblem !== null), 'the GUI was told');
    assert.equal(await setting(host, 'MAXPERIP'), '1');
    assert.equal((await host.getStatus()).state, 'running');
    // The file is the user's: not rewritten.
    assert.equal(fs.readFileSync(file, 'utf8'), '# kept\nPORT=0\nMAXPERIP=lots\n');

    // Fixed by hand: applied, and the problem is gone.
    fs.writeFileSync(file, '# kept\nPORT=0\nMAXPERIP=3\n');
    await until('MAXPERIP=3 applied', async () => ((await setting(host, 'MAXPERIP')) === '3' ? true : undefined));
    assert.equal((await host.getStatus()).configProblem, null);
  });

  it('does not take its own writes for edits', async () => {
    const data = tempDir('config-watch-own');
    dirs.push(data);
    writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
    const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20, stopGraceMs: 2000 });
    hosts.push(host);
    await host.start();
    const result = await host.applySettings({ IMAP_IDLE_TIMEOUT: '45' });
    assert.equal(result.applied, true);
    await new Promise((r) => setTimeout(r, 600));
    const changes = (await host.getLog()).filter((l) => /settings changed/.test(l.message));
    assert.deepEqual(changes.map((l) => l.message), ['settings changed: IMAP_IDLE_TIMEOUT "60" -> "45"']);
  });
});
