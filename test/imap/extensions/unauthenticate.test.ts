// UNAUTHENTICATE (RFC 8437) on the network server: back to the not-authenticated state on the
// same connection, the selected folder closed without expunge, ENABLE undone, and a login as
// another account then sees that account's mail.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SqliteAccountStore } from '../../../server/accounts/index.js';
import { ImapTestClient } from '../../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, tempDir } from '../../helpers/maildir.js';
import { startNetworkServer, type TestNetworkServer } from '../../helpers/network-server.js';

let dir: string;
let accounts: SqliteAccountStore;
let server: TestNetworkServer;
let socket: net.Socket;

before(async () => {
  dir = tempDir('unauthenticate');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const dana = emptyMaildir(path.join(dir, 'dana'));
  const eli = emptyMaildir(path.join(dir, 'eli'));
  deliver(dana, 'Subject: one\r\n\r\nx\r\n');
  for (const subject of ['a', 'b']) deliver(eli, `Subject: ${subject}\r\n\r\nx\r\n`);
  accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'dana', password: 'pw', maildir: dana });
  await accounts.add({ username: 'eli', password: 'pw2', maildir: eli });
  server = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 0 });
});

after(async () => {
  socket?.destroy();
  await server.server.stop();
  accounts.close();
  removeTree(dir);
});

test('UNAUTHENTICATE ends the login and keeps the connection', async () => {
  socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  const c = new ImapTestClient(socket, socket);
  await c.greeting;
  // Only after login (RFC 8437 section 3: valid in the authenticated and selected states).
  assert.match((await c.command('UNAUTHENTICATE')).tagged, /^BAD /);
  assert.match((await c.command('LOGIN dana pw')).tagged, /^OK .*UNAUTHENTICATE/);
  assert.match((await c.command('ENABLE UTF8=ACCEPT')).tagged, /^OK/);
  assert.match((await c.command('SELECT INBOX')).tagged, /^OK/);
  assert.match((await c.command('STORE 1 +FLAGS (\\Deleted)')).tagged, /^OK/);
  assert.match((await c.command('UNAUTHENTICATE extra')).tagged, /^BAD /);
  const reply = await c.command('UNAUTHENTICATE');
  assert.match(reply.tagged, /^OK/);
  assert.deepEqual(reply.lines, []); // no EXPUNGE: the folder is closed without one
  // Not authenticated any more: folder commands are refused, the pre-login words are back.
  assert.match((await c.command('SELECT INBOX')).tagged, /^BAD /);
  assert.ok((await c.command('CAPABILITY')).lines[0].includes('SASL-IR'));
  assert.match((await c.command('LOGIN eli pw2')).tagged, /^OK/);
  assert.ok((await c.command('SELECT INBOX')).lines.includes('* 2 EXISTS'));
  // UTF8=ACCEPT was reset: ENABLE answers it again.
  assert.deepEqual((await c.command('ENABLE UTF8=ACCEPT')).lines, ['* ENABLED UTF8=ACCEPT']);
  assert.match((await c.command('UNAUTHENTICATE')).tagged, /^OK/);
  assert.match((await c.command('LOGIN dana pw')).tagged, /^OK/);
  // Dana's message was marked \Deleted, not expunged.
  const select = await c.command('SELECT INBOX');
  assert.ok(select.lines.includes('* 1 EXISTS'), select.lines.join('\n'));
  assert.match((await c.command('FETCH 1 FLAGS')).lines[0], /\\Deleted/);
});
