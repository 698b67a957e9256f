// IMAPACCESSFILE: couriertcpd's access file applied by imapd-server's listener before the
// greeting. A denied address gets no greeting at all: the connection is closed, as
// couriertcpd does without -denymsg (checked against Courier's couriertcpd below when it is installed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
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

/** Everything the server sends before it closes (or 3 s pass), connecting from `from`. */
function firstWords(port: number, from = '127.0.0.1'): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
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

const COURIERTCPD = '/usr/sbin/couriertcpd';
const MAKEDAT = '/usr/bin/makedat';
const IMAPLOGIN = '/usr/lib/courier/courier/imaplogin';
const courierTcpdSkip = [COURIERTCPD, MAKEDAT, IMAPLOGIN, '/usr/bin/imapd'].find((f) => !existsSync(f));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** Courier's own chain as its start script runs it: the text compiled by makedat -cidr
 * (as makeimapaccess does) and couriertcpd -access=FILE.dat in front of imaplogin and imapd. */
async function courierWithAccess(text: string, name: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const dir = join(data, `courier-${name}`);
  await fs.mkdir(join(dir, 'Maildir', 'cur'), { recursive: true });
  await fs.mkdir(join(dir, 'Maildir', 'new'));
  await fs.mkdir(join(dir, 'Maildir', 'tmp'));
  await fs.writeFile(join(dir, 'access'), text);
  const made = spawnSync(MAKEDAT, [`-src=${join(dir, 'access')}`, `-file=${join(dir, 'access.dat')}`, `-tmp=${join(dir, 'access.tmp')}`, '-cidr']);
  assert.equal(made.status, 0, made.stderr.toString());
  const port = await freePort();
  const child = spawn(COURIERTCPD, [
    `-pid=${join(dir, 'pid')}`, `-stderr=${join(dir, 'log')}`, '-address=127.0.0.1', '-nodnslookup', '-noidentlookup',
    `-access=${join(dir, 'access.dat')}`, String(port), IMAPLOGIN, '/usr/bin/imapd', join(dir, 'Maildir'),
  ], { stdio: 'ignore' });
  // couriertcpd puts itself in the background: its own pid is the one in the pid file.
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    stop: async () => {
      const pid = Number(await fs.readFile(join(dir, 'pid'), 'utf8'));
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`couriertcpd ${pid} did not stop`);
    },
  };
}

/** Access files and the client addresses to try with each: loopback's 127.0.0.2 is a second client. */
const CASES: [string, string[]][] = [
  ['127.0.0\tdeny\n', ['127.0.0.1', '127.0.0.2']],
  ['127.0.0\tdeny\n127.0.0.1\tallow\n', ['127.0.0.1', '127.0.0.2']],
  ['*\tdeny\n127.0.0.2\tallow\n', ['127.0.0.1', '127.0.0.2']],
  ['127\tdeny\n127.0\tallow\n', ['127.0.0.1']],
  ['10\tdeny\n', ['127.0.0.1']],
  ['127.0.0.1\tallow,RELAYCLIENT=1\n*\tdeny\n', ['127.0.0.1', '127.0.0.2']],
];

test('every access file lets in and shuts out the same clients as Courier\'s couriertcpd', { skip: courierTcpdSkip ? `${courierTcpdSkip} is not installed (npm run peers)` : false, timeout: 120_000 }, async () => {
  for (const [i, [text, clients]] of CASES.entries()) {
    const ours = await serverWithAccess(text, `diff-${i}`);
    const courier = await courierWithAccess(text, String(i));
    try {
      for (const from of clients) {
        const [a, b] = await Promise.all([firstWords(ours.port, from), firstWords(courier.port, from)]);
        const greeted = (w: { text: string }) => /^\* OK /.test(w.text);
        assert.equal(greeted(a), greeted(b), `${JSON.stringify(text)} from ${from}: ours ${JSON.stringify(a.text)}, Courier ${JSON.stringify(b.text)}`);
        if (!greeted(b)) assert.deepEqual(a, { text: '', closed: true }, 'closed without a word, as couriertcpd');
      }
    } finally {
      await courier.stop();
    }
  }
});
