// IMAPACCESSFILE: couriertcpd's access file applied by imapd-server's listener before the
// greeting. A denied address gets no greeting at all: the connection is closed, as
// couriertcpd does without -denymsg (checked against Courier below when it is installed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountAuthenticator, SqliteAccountStore } from '../../server/accounts/index.js';
import { loadSettings } from '../../server/config/index.js';
import { AccessList, ImapServer, type RejectedConnection } from '../../server/net/index.js';

let data: string;
let accounts: SqliteAccountStore;
let authenticator: AccountAuthenticator;
const servers: ImapServer[] = [];

before(async () => {
  data = await fs.mkdtemp(join(tmpdir(), 'imapd-access-'));
  accounts = SqliteAccountStore.open(data);
  authenticator = new AccountAuthenticator({
    accounts, logger: { log: () => undefined }, maildirPath: 'Maildir', useLocks: true, keywords: true,
    watch: false, pollIntervalMs: 60_000, trashFolder: 'Trash',
  });
});
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  accounts.close();
  await fs.rm(data, { recursive: true, force: true });
});

async function serverWithAccess(text: string, name: string): Promise<{ server: ImapServer; port: number }> {
  const file = join(data, name);
  await fs.writeFile(file, text);
  const { settings } = await loadSettings({
    configDir: join(data, 'no-config'),
    overrides: { ADDRESS: '127.0.0.1', PORT: '0', IMAPDSSLSTART: 'NO', IMAPDSTARTTLS: 'NO', IMAPACCESSFILE: file },
  });
  const server = ImapServer.fromSettings(settings, { authenticator });
  servers.push(server);
  const [endpoint] = await server.start();
  return { server, port: endpoint.port };
}

/** Everything the server sends before it closes (or 3 s pass). */
function firstWords(port: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, 3000);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (text.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ text, closed: false });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

test('the most specific line wins; unlisted addresses are allowed', () => {
  const list = AccessList.parse('# comment\n\n192.168.0\tdeny\n192.168.0.10\tallow\n:2002:c0a8\tdeny\n', 'test');
  assert.equal(list.decide('192.168.0.9'), 'deny');
  assert.equal(list.decide('::ffff:192.168.0.9'), 'deny');
  assert.equal(list.decide('192.168.0.10'), 'allow');
  assert.equal(list.decide('10.0.0.1'), 'allow');
  assert.equal(list.decide('2002:c0a8::1'), 'deny');
  assert.equal(list.decide('2002:c0a9::1'), 'allow');
  assert.equal(AccessList.parse('*\tdeny\n127.0.0.1\tallow\n', 't').decide('127.0.0.2'), 'deny');
  assert.throws(() => AccessList.parse('192.168.0.1\tmaybe\n', 't'), /allow or deny/);
  assert.throws(() => AccessList.parse('300.1\tdeny\n', 't'), /not an address/);
});

test('a denied address is closed before the greeting; an allowed one is greeted', async () => {
  const denied = await serverWithAccess('127.0.0\tdeny\n', 'deny-all');
  const rejected: RejectedConnection[] = [];
  denied.server.on('rejected', (r) => rejected.push(r));
  const refused = await firstWords(denied.port);
  assert.deepEqual(refused, { text: '', closed: true });
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0].remoteAddress, '127.0.0.1');

  const allowed = await serverWithAccess('127\tdeny\n127.0.0.1\tallow\n', 'allow-one');
  const greeted = await firstWords(allowed.port);
  assert.match(greeted.text, /^\* OK /);
});

test('a directory is read as its files together, backups with ~ skipped', async () => {
  const dir = join(data, 'imapaccess');
  await fs.mkdir(dir);
  await fs.writeFile(join(dir, 'a'), '10\tdeny\n');
  await fs.writeFile(join(dir, 'b'), '10.1\tallow\n');
  await fs.writeFile(join(dir, 'b~'), '10.1\tdeny\n');
  const list = await AccessList.load(dir);
  assert.equal(list.decide('10.2.3.4'), 'deny');
  assert.equal(list.decide('10.1.3.4'), 'allow');
});

test('a missing access file stops the server from starting, rather than letting everyone in', async () => {
  const { settings } = await loadSettings({
    configDir: join(data, 'no-config'),
    overrides: { ADDRESS: '127.0.0.1', PORT: '0', IMAPDSSLSTART: 'NO', IMAPDSTARTTLS: 'NO', IMAPACCESSFILE: join(data, 'nowhere') },
  });
  const server = ImapServer.fromSettings(settings, { authenticator });
  servers.push(server);
  await assert.rejects(server.start(), /access file .* not found/);
});
