// IMAP_PROXY side by side with Courier's (issue 12, item 7): Courier's imaplogin with
// IMAP_PROXY=1 and a userdb account whose option mailhost names our backend
// (test/peers/courier-proxy.sh), and our front with the same account's mailhost set, both
// logging in on the same backend (ours, listening on 127.0.0.2:143 because Courier always
// proxies to port 143, and on a loopback port for our front, which needs its STARTTLS).
// Where the two differ, the test says how and why.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { ImapProxy } from '../../server/net/proxy.js';
import { ImapTestClient, PEERS } from '../helpers/imap-client.js';
import { courierSkip, emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { startNetworkServer, type TestNetworkServer } from '../helpers/network-server.js';

const skip = courierSkip || (process.getuid?.() !== 0 ? 'courier-proxy.sh needs root (it edits /etc/courier/userdb)' : false);
const USER = 'imapdts-proxied';
const DOWN = 'imapdts-proxied-down';
const PASSWORD = 'pw-proxied-1';

let dir: string;
let state: string;
let courierPort: number;
const stores: SqliteAccountStore[] = [];
const servers: TestNetworkServer[] = [];
let backend: TestNetworkServer;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function courier(user: string, mailhost: string, env: Record<string, string> = {}): void {
  execFileSync(path.join(PEERS, 'courier-proxy.sh'), [String(courierPort), user, PASSWORD, mailhost], {
    env: { ...process.env, PEERS_STATE: state, ...env },
    stdio: 'pipe',
  });
}

async function ourFront(name: string, foreign: boolean): Promise<number> {
  const data = path.join(dir, name);
  fs.mkdirSync(data);
  const accounts = SqliteAccountStore.open(data);
  stores.push(accounts);
  for (const [user, host] of [[USER, `localhost:${backend.port}`], [DOWN, `localhost:${await freePort()}`]]) {
    await accounts.add({ username: user!, password: PASSWORD });
    await accounts.setMailhost(user!, host!);
  }
  const proxy = new ImapProxy({ foreign, proxyHostname: null, trustCerts: backend.tls.certFile, logger: { log: () => undefined } });
  const server = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 100, proxy });
  servers.push(server);
  return server.port;
}

async function session(port: number): Promise<{ client: ImapTestClient; close: () => void }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const client = new ImapTestClient(socket, socket);
  await client.greeting;
  return { client, close: () => socket.destroy() };
}

/** What a client sees of a login and a short session, with the tag and the answer texts that name the server. */
async function transcript(port: number, password = PASSWORD, user = USER): Promise<{ login: string[]; rest: string[] }> {
  const { client, close } = await session(port);
  try {
    const login = await client.command(`LOGIN ${user} ${password}`, 20_000);
    if (!/^OK/.test(login.tagged)) return { login: [...login.lines, login.tagged], rest: [] };
    const rest: string[] = [];
    for (const command of ['SELECT INBOX', 'FETCH 1:* (FLAGS RFC822.SIZE)', 'LOGOUT']) {
      const r = await client.command(command);
      rest.push(...r.lines, r.tagged);
    }
    return { login: [...login.lines, login.tagged], rest };
  } finally {
    close();
  }
}

/** \Recent belongs to the first session that sees a message: the second of two runs has none. */
function withoutRecent(lines: string[]): string[] {
  return lines.filter((l) => !/^\* \d+ RECENT$/.test(l)).map((l) => l.replace(' \\Recent', ''));
}

describe('Courier\'s proxy and ours on the same backend', { skip }, () => {
  before(async () => {
    dir = tempDir('proxy-courier');
    state = path.join(dir, 'peers');
    const data = path.join(dir, 'backend');
    fs.mkdirSync(data);
    const accounts = SqliteAccountStore.open(data);
    stores.push(accounts);
    const maildir = emptyMaildir(path.join(dir, 'backend-mail'));
    fs.writeFileSync(path.join(maildir, 'cur', '1700000000.1.host:2,S'), 'Subject: one\r\n\r\nHello.\r\n');
    await accounts.add({ username: USER, password: PASSWORD, maildir });
    backend = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 100, overrides: { PORT: '127.0.0.2.143,0' } });
    servers.push(backend);
    courierPort = await freePort();
    // A second account whose mailhost does not answer (nothing listens on 127.0.0.3:143).
    courier(DOWN, '127.0.0.3');
  });

  after(async () => {
    try {
      execFileSync(path.join(PEERS, 'courier-stop.sh'), { env: { ...process.env, PEERS_STATE: state }, stdio: 'pipe' });
      for (const user of [USER, DOWN]) execFileSync('/usr/sbin/userdb', [user, 'del'], { stdio: 'pipe' });
      execFileSync('/usr/sbin/makeuserdb', { stdio: 'pipe' });
    } finally {
      for (const s of servers) await s.server.stop();
      for (const a of stores) a.close();
      removeTree(dir);
    }
  });

  it('IMAP_PROXY_FOREIGN=0: the same session on the backend; Courier answers the LOGIN with its own OK, we with the backend\'s', { timeout: 60_000 }, async () => {
    courier(USER, '127.0.0.2');
    const theirs = await transcript(courierPort);
    const ours = await transcript(await ourFront('front', false));
    assert.deepEqual(theirs.login, ['OK connected to proxy server.']);
    // The backend's OK carries its capabilities after login (RFC 3501 7.1's CAPABILITY code),
    // which the client needs: they are the backend's, not the front's it saw before login.
    assert.match(ours.login.join('\n'), /^OK \[CAPABILITY IMAP4rev1 [^\]]*\] LOGIN Ok\.$/);
    assert.deepEqual(withoutRecent(ours.rest), withoutRecent(theirs.rest));
    assert.ok(theirs.rest.includes('* 1 EXISTS'), theirs.rest.join('\n'));
  });

  it('IMAP_PROXY_FOREIGN=1: the LOGIN is answered by the backend\'s CAPABILITY, by both', { timeout: 60_000 }, async () => {
    courier(USER, '127.0.0.2', { IMAP_PROXY_FOREIGN: '1' });
    const theirs = await transcript(courierPort);
    const ours = await transcript(await ourFront('front-foreign', true));
    assert.equal(theirs.login.length, 2, theirs.login.join('\n'));
    assert.equal(ours.login.length, 2, ours.login.join('\n'));
    assert.equal(ours.login[1], theirs.login[1]);
    // Courier talks to the backend in the clear, we over TLS: the backend offers AUTH=PLAIN
    // only over TLS (IMAP_CAPABILITY_TLS), so that word may differ; nothing else does.
    const words = (line: string) => line.split(' ').filter((w) => w !== 'AUTH=PLAIN');
    assert.deepEqual(words(ours.login[0]!), words(theirs.login[0]!));
    assert.deepEqual(withoutRecent(ours.rest), withoutRecent(theirs.rest));
  });

  it('refuses a wrong password before reaching the backend, as Courier does', { timeout: 60_000 }, async () => {
    courier(USER, '127.0.0.2');
    const theirs = await transcript(courierPort, 'wrong-password');
    const ours = await transcript(servers.at(-1)!.port, 'wrong-password');
    assert.deepEqual(theirs.login, ['NO Login failed.']);
    assert.deepEqual(ours.login, ['NO [AUTHENTICATIONFAILED] Login failed.']);
  });

  it('an unreachable mailhost: Courier says "Login failed.", we say NO [UNAVAILABLE] (the password was right)', { timeout: 60_000 }, async () => {
    const theirs = await transcript(courierPort, PASSWORD, DOWN);
    const ours = await transcript(servers.at(-1)!.port, PASSWORD, DOWN);
    assert.deepEqual(theirs.login, ['NO Login failed.']);
    assert.match(ours.login.join('\n'), /^NO \[UNAVAILABLE\] Your mail server cannot be reached now/);
  });
});
