// Issue 9 item 5: a successful login must not reset the failure delay of guesses at another
// account. An attacker who owns "mallory" logs in as mallory between guesses at "victim"; the
// wait for the guesses must keep growing. A success forgives only that user's failures from
// that address. Real sockets against the network server.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import type { LogLevel } from '../../server/imap/contracts.js';
import { ImapTestClient } from '../helpers/imap-client.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { startNetworkServer, type TestNetworkServer } from '../helpers/network-server.js';

const DELAY = 400;
let dir: string;
let accounts: SqliteAccountStore;
let net_: TestNetworkServer;
const failed: { user: unknown; delayMs: unknown }[] = [];

before(async () => {
  dir = tempDir('login-delay');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'mallory', password: 'mallory-pw', maildir: emptyMaildir(path.join(dir, 'mallory')) });
  await accounts.add({ username: 'victim', password: 'victim-pw', maildir: emptyMaildir(path.join(dir, 'victim')) });
  net_ = await startNetworkServer({
    dataDir: data,
    accounts,
    failureDelayMs: DELAY,
    logger: {
      log(_level: LogLevel, message, fields = {}) {
        if (message === 'LOGIN FAILED') failed.push({ user: fields.user, delayMs: fields.delayMs });
      },
    },
  });
});

after(async () => {
  await net_.server.stop();
  accounts.close();
  removeTree(dir);
});

/** One connection, one LOGIN; the tagged answer and how long it took. */
async function login(user: string, password: string): Promise<{ answer: string; ms: number }> {
  const socket = net.connect(net_.port, '127.0.0.1');
  try {
    const client = new ImapTestClient(socket, socket);
    await client.greeting;
    const start = Date.now();
    const reply = await client.command(`LOGIN ${user} ${password}`, 30_000);
    return { answer: reply.tagged, ms: Date.now() - start };
  } finally {
    socket.destroy();
  }
}

test('logging in to one account between guesses at another does not shorten the wait', async () => {
  const waits: number[] = [];
  for (let round = 0; round < 3; round++) {
    const guess = await login('victim', `guess-${round}`);
    assert.match(guess.answer, /^NO/);
    waits.push(guess.ms);
    assert.match((await login('mallory', 'mallory-pw')).answer, /^OK/);
  }
  // The waits double: 400, 800, 1600 ms (a reset would keep every one at 400 ms).
  assert.deepEqual(failed.map((f) => f.delayMs), [DELAY, 2 * DELAY, 4 * DELAY]);
  assert.ok(waits[2]! >= 4 * DELAY, `third guess answered after ${waits[2]} ms`);
  assert.equal(net_.authenticator.failuresOf('127.0.0.1', 'victim'), 3);
  assert.equal(net_.authenticator.failuresOf('127.0.0.1', 'mallory'), 0);
  assert.equal(net_.authenticator.failuresOf('127.0.0.1'), 3);

  // The victim's own good login forgives the victim's failures, and with them the address's.
  assert.match((await login('victim', 'victim-pw')).answer, /^OK/);
  assert.equal(net_.authenticator.failuresOf('127.0.0.1'), 0);
  failed.length = 0;
  const fresh = await login('victim', 'typo');
  assert.match(fresh.answer, /^NO/);
  assert.deepEqual(failed.map((f) => f.delayMs), [DELAY]);
});

test('a failure for a name no account has counts for the address, and no success clears it', async () => {
  assert.match((await login('victim', 'victim-pw')).answer, /^OK/); // forgives the first test's typo
  failed.length = 0;
  assert.match((await login('nobody-here', 'x')).answer, /^NO/);
  assert.match((await login('mallory', 'mallory-pw')).answer, /^OK/);
  assert.match((await login('nobody-else', 'x')).answer, /^NO/);
  assert.deepEqual(failed.map((f) => f.delayMs), [DELAY, 2 * DELAY]);
  assert.equal(net_.authenticator.failuresOf('127.0.0.1'), 2);
});
