// DEFDOMAIN: a login name without "@" gets the default domain before the account is looked
// up, as Courier's authlib does; a name with "@" is looked up as given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../server/imap/contracts.js';
import { AccountAuthenticator, SqliteAccountStore } from '../../server/accounts/index.js';
import { settingsFromDocuments } from '../../server/config/index.js';
import { ImapTestClient } from '../helpers/imap-client.js';
import { startNetworkServer } from '../helpers/network-server.js';
import { courierSkip, peerScript } from '../helpers/peers.js';

let data: string;
let accounts: SqliteAccountStore;
const logger: Logger = { log: () => {} };
const PASSWORD = 'defdomain-password-5e1a';

function authenticator(defaultDomain: string | null) {
  return new AccountAuthenticator({
    accounts, logger, maildirPath: 'Maildir', useLocks: true, keywords: true, watch: false,
    pollIntervalMs: 60_000, trashFolder: 'Trash', failureDelayMs: 10, defaultDomain,
  });
}

before(async () => {
  data = await fs.mkdtemp(join(tmpdir(), 'imapd-defdomain-'));
  accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'bob@example.com', password: PASSWORD });
  await accounts.add({ username: 'carol@other.org', password: PASSWORD });
});
after(async () => {
  accounts.close();
  await fs.rm(data, { recursive: true, force: true });
});

test('DEFDOMAIN is read with its separator, a bare domain gets one', () => {
  const read = (value: string) => settingsFromDocuments({ imapd: null, 'imapd-ssl': null }, data, { DEFDOMAIN: value }).settings.defaultDomain;
  assert.equal(read('@example.com'), '@example.com');
  assert.equal(read('example.com'), '@example.com');
  assert.equal(read(''), null);
});

test('a name without @ gets DEFDOMAIN; a name with @ is taken as given', async () => {
  const auth = authenticator('@example.com');
  const bob = await auth.login('bob', PASSWORD, '127.0.0.1');
  assert.equal(bob?.user, 'bob@example.com');
  await bob?.store.close();
  const carol = await auth.login('carol@other.org', PASSWORD, '127.0.0.1');
  assert.equal(carol?.user, 'carol@other.org');
  await carol?.store.close();
  assert.equal(await auth.login('carol', PASSWORD, '127.0.0.1'), null);
  await auth.idle();
});

test('without DEFDOMAIN the bare name is not found', async () => {
  const auth = authenticator(null);
  assert.equal(await auth.login('bob', PASSWORD, '127.0.0.2'), null);
  await auth.idle();
});

/** The tagged answer to LOGIN user password on a fresh connection. */
async function loginAnswer(port: number, user: string, password: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  const client = new ImapTestClient(socket, socket);
  try {
    await client.greeting;
    return (await client.command(`LOGIN ${user} ${password}`, 20_000)).tagged;
  } finally {
    socket.destroy();
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('DEFDOMAIN beside Courier (imaplogin, authuserdb): the same logins succeed and fail', {
  skip: courierSkip || (process.getuid?.() !== 0 ? 'courier-login.sh needs root (it edits /etc/courier/userdb)' : false),
  timeout: 120_000,
}, async () => {
  const USER = 'imapdts-def@example.com';
  const state = join(data, 'courier-state');
  const courierPort = await freePort();
  const oursData = join(data, 'ours');
  await fs.mkdir(oursData);
  const ourAccounts = SqliteAccountStore.open(oursData);
  await ourAccounts.add({ username: USER, password: PASSWORD, maildir: join(oursData, 'Maildir') });
  const ours = await startNetworkServer({ dataDir: oursData, accounts: ourAccounts, failureDelayMs: 10, defaultDomain: '@example.com' });
  const env = { ...process.env, PEERS_STATE: state, DEFDOMAIN: '@example.com' };
  execFileSync(peerScript('courier-login.sh'), [String(courierPort), USER, PASSWORD], { env, stdio: 'pipe' });
  try {
    for (const [login, expected] of [['imapdts-def', 'OK'], [USER, 'OK'], ['imapdts-def@other.org', 'NO'], ['IMAPDTS-DEF@example.org', 'NO']] as const) {
      const [a, b] = await Promise.all([loginAnswer(ours.port, login, PASSWORD), loginAnswer(courierPort, login, PASSWORD)]);
      assert.equal(b.split(' ')[0], expected, `Courier, ${login}: ${b}`);
      assert.equal(a.split(' ')[0], expected, `ours, ${login}: ${a}`);
    }
  } finally {
    execFileSync(peerScript('courier-stop.sh'), { env, stdio: 'pipe' });
    execFileSync('/usr/sbin/userdb', [USER, 'del'], { stdio: 'pipe' });
    execFileSync('/usr/sbin/makeuserdb', { stdio: 'pipe' });
    await ours.server.stop();
    ourAccounts.close();
  }
});
