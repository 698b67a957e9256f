// Slow clients are dropped by deadlines, not by inactivity timers (issue 9.2), and an
// oversize LITERAL+ is refused at once (issue 9.7). Real sockets against the network
// server, with the limits shortened through its `timeouts` option: 3 s to log in, 2 s for
// a command line or a literal's base time.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import type { ImapServer } from '../../server/net/index.js';
import { ImapTestClient } from '../helpers/imap-client.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { startNetworkServer } from '../helpers/network-server.js';

const LOGIN_LIMIT = 3000;
const PART_LIMIT = 2000;

let dir: string;
let accounts: SqliteAccountStore;
let server: ImapServer;
let port: number;
let maildir: string;

before(async () => {
  dir = tempDir('deadlines');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  accounts = SqliteAccountStore.open(data);
  maildir = emptyMaildir(path.join(dir, 'alice'));
  await accounts.add({ username: 'alice', password: 'secret', maildir });
  ({ server, port } = await startNetworkServer({
    dataDir: data,
    accounts,
    failureDelayMs: 50, // short: a failing client must fit several LOGINs (each with scrypt) in the login limit, even on a loaded machine
    timeouts: { unauthenticated: LOGIN_LIMIT, authenticated: 30 * 60_000, literal: PART_LIMIT },
  }));
});

after(async () => {
  await server.stop();
  accounts.close();
  removeTree(dir);
});

async function connect(): Promise<{ client: ImapTestClient; socket: net.Socket; closed: Promise<number> }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const start = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - start)));
  const client = new ImapTestClient(socket, socket);
  await client.greeting;
  return { client, socket, closed };
}

/** Send `text` one byte every `everyMs` until the socket closes (or the text runs out); returns the bytes sent. */
async function trickle(socket: net.Socket, text: string, everyMs: number): Promise<number> {
  let sent = 0;
  for (const ch of text) {
    if (socket.destroyed || socket.readyState !== 'open') break;
    socket.write(ch);
    sent++;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return sent;
}

/** Whether the server closes the connection within `ms` (with the time it took). The timer is unref()ed: one left pending would hold the file's process open. */
function closedWithin(closed: Promise<number>, ms: number): Promise<number | null> {
  return Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), ms).unref())]);
}

describe('deadlines for slow clients', () => {
  it('drops a client trickling bytes before login, by a deadline (the line deadline comes first here)', { timeout: 20_000 }, async () => {
    const { socket, closed } = await connect();
    // Each byte well within any inactivity limit; the command never ends.
    void trickle(socket, `a LOGIN alice ${'x'.repeat(100)}`, 700);
    const took = await closedWithin(closed, LOGIN_LIMIT + 4000);
    assert.ok(took !== null, 'still connected long after the login deadline');
    assert.ok(took >= PART_LIMIT - 200, `dropped after ${took} ms`);
    socket.destroy();
  });

  it('drops a client that only fails to log in, at the login deadline', { timeout: 20_000 }, async () => {
    const { client, socket, closed } = await connect();
    let failures = 0;
    const loop = (async () => {
      for (;;) {
        const r = await client.command('LOGIN alice wrong');
        if (!/^NO/.test(r.tagged)) return;
        failures++;
      }
    })().catch(() => undefined);
    const took = await closedWithin(closed, LOGIN_LIMIT + 4000);
    await loop;
    assert.ok(took !== null, `still connected after ${failures} failed logins`);
    assert.ok(failures >= 2, `only ${failures} failed logins`);
    assert.ok(took >= LOGIN_LIMIT - 200, `dropped after ${took} ms`);
    socket.destroy();
  });

  it('lets a client that logs in stay past the login deadline', { timeout: 20_000 }, async () => {
    const { client, socket, closed } = await connect();
    assert.match((await client.command('LOGIN alice secret')).tagged, /^OK/);
    assert.equal(await closedWithin(closed, LOGIN_LIMIT + 500), null);
    assert.match((await client.command('NOOP')).tagged, /^OK/);
    socket.destroy();
  });

  it('drops a logged-in client trickling a literal, at the literal deadline', { timeout: 20_000 }, async () => {
    const { client, socket, closed } = await connect();
    assert.match((await client.command('LOGIN alice secret')).tagged, /^OK/);
    client.send('a APPEND INBOX {1000}\r\n');
    assert.match((await client.readResponseLine()).toString(), /^\+/);
    const started = Date.now();
    void trickle(socket, 'x'.repeat(1000), 500);
    const took = await closedWithin(closed, PART_LIMIT + 4000);
    assert.ok(took !== null, 'still connected long after the literal deadline');
    const inLiteral = Date.now() - started;
    assert.ok(inLiteral >= PART_LIMIT - 200, `dropped after ${inLiteral} ms in the literal`);
    // Nothing was delivered, and the half message left nothing in tmp/.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(fs.readdirSync(path.join(maildir, 'new')), []);
    assert.deepEqual(fs.readdirSync(path.join(maildir, 'cur')), []);
    socket.destroy();
  });

  it('drops a logged-in client trickling a command line, at the line deadline', { timeout: 20_000 }, async () => {
    const { client, socket, closed } = await connect();
    assert.match((await client.command('LOGIN alice secret')).tagged, /^OK/);
    void trickle(socket, `a SELECT ${'y'.repeat(100)}`, 500);
    const took = await closedWithin(closed, PART_LIMIT + 4000);
    assert.ok(took !== null, 'still connected long after the line deadline');
    socket.destroy();
  });
});

describe('an oversize LITERAL+', () => {
  it('is refused at once with BAD [TOOBIG], and the connection closed', { timeout: 20_000 }, async () => {
    const { client, socket, closed } = await connect();
    assert.match((await client.command('LOGIN alice secret')).tagged, /^OK/);
    const started = Date.now();
    client.send(`big APPEND INBOX {${10 ** 12}+}\r\nsome data`);
    const answer = (await client.readResponseLine(1500)).toString();
    assert.match(answer, /^big BAD \[TOOBIG\] /);
    assert.ok(Date.now() - started < 1500, `answered after ${Date.now() - started} ms`);
    assert.notEqual(await closedWithin(closed, 1500), null);
    socket.destroy();
  });

  it('one a little over the limit is refused at once and its data skipped; the session goes on', { timeout: 20_000 }, async () => {
    const { client, socket } = await connect();
    // Before login the literal limit is 8 KiB.
    const size = 10_000;
    client.send(`big LOGIN alice {${size}+}\r\n`);
    const answer = (await client.readResponseLine(1500)).toString();
    assert.match(answer, /^big BAD \[TOOBIG\] /);
    client.send(`${'z'.repeat(size)}\r\n`);
    assert.match((await client.command('LOGIN alice secret')).tagged, /^OK/);
    socket.destroy();
  });
});
