// Settings the login path reads take effect at the next login, without a restart: the
// appliance rebuilds its authenticator when any option authenticatorSettings() derives changes.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { after, it } from 'node:test';
import { ApplianceHost } from '../../server/appliance/index.js';
import { ImapTestClient } from '../helpers/imap-client.js';
import { tempDir, writeConfig } from '../helpers/appliance.js';

const dirs: string[] = [];
const hosts: ApplianceHost[] = [];
const sockets: net.Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  for (const h of hosts) await h.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function login(port: number, user: string, password: string): Promise<{ client: ImapTestClient; tagged: string }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const client = new ImapTestClient(socket, socket);
  await client.greeting;
  return { client, tagged: (await client.command(`LOGIN ${user} ${password}`)).tagged };
}

it('DEFDOMAIN and IMAP_ACL changed in the settings apply to the next login', async () => {
  const data = tempDir('settings-live');
  dirs.push(data);
  writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
  const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20, stopGraceMs: 2000 });
  hosts.push(host);
  const status = await host.start();
  assert.equal(status.state, 'running', status.problem ?? '');
  const port = status.listeners.find((l) => l.kind === 'imap')!.port;
  await host.addAccount({ username: 'bob@example.com', password: 'pw-bob' });

  assert.match((await login(port, 'bob', 'pw-bob')).tagged, /^NO/);
  assert.equal((await host.applySettings({ DEFDOMAIN: '@example.com' })).applied, true);
  assert.match((await login(port, 'bob', 'pw-bob')).tagged, /^OK/);

  const withAcl = (await login(port, 'bob', 'pw-bob')).client;
  assert.match((await withAcl.command('NAMESPACE')).lines.join('\n'), /"#shared\."/);
  assert.equal((await host.applySettings({ IMAP_ACL: '0' })).applied, true);
  const withoutAcl = (await login(port, 'bob', 'pw-bob')).client;
  assert.doesNotMatch((await withoutAcl.command('NAMESPACE')).lines.join('\n'), /"#shared\."/);
});
