// Found by the fuzz harness: a large APPEND (streamed to disk as it arrives) whose folder
// another session deletes or renames before the literal ends. Made reliable by sending the
// literal in two halves with the other session's command in between. The answer is
// NO [TRYCREATE] (RFC 3501 6.3.11), never [SERVERBUG]; the folder is not made again and no
// file is left behind; the server goes on serving both sessions.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { STREAM_THRESHOLD } from '../../server/imap/literals.js';
import { ImapTestClient } from '../helpers/imap-client.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { startNetworkServer, type TestNetworkServer } from '../helpers/network-server.js';

let dir: string;
let maildir: string;
let accounts: SqliteAccountStore;
let server: TestNetworkServer;
const sockets: net.Socket[] = [];

before(async () => {
  dir = tempDir('append-race');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  maildir = emptyMaildir(path.join(dir, 'Maildir'));
  accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'dana', password: 'pw', maildir });
  server = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 0 });
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await server.server.stop();
  accounts.close();
  removeTree(dir);
});

async function session(): Promise<ImapTestClient> {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  sockets.push(socket);
  const client = new ImapTestClient(socket, socket);
  await client.greeting;
  assert.match((await client.command('LOGIN dana pw')).tagged, /^OK/);
  return client;
}

/** A message over the streaming threshold, so that it is written to disk as it arrives. */
function bigMessage(): Buffer {
  const head = 'From: a@example.org\r\nSubject: big\r\n\r\n';
  const line = 'x'.repeat(76) + '\r\n';
  return Buffer.from(head + line.repeat(Math.ceil((STREAM_THRESHOLD * 2) / line.length)));
}

/** Every file under `dir` (relative), but lock files and our own folder files (imapd-ts.mailboxid); [] when it does not exist. */
function filesUnder(at: string): string[] {
  if (!fs.existsSync(at)) return [];
  return fs
    .readdirSync(at, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.lock') && !e.name.startsWith('imapd-ts.'))
    .map((e) => path.relative(at, path.join(e.parentPath, e.name)));
}

const cases = [
  { what: 'DELETE', command: 'DELETE INBOX.Race', extra: '(\\Seen) "01-Jan-2020 00:00:00 +0000"' },
  { what: 'DELETE', command: 'DELETE INBOX.Race', extra: '' },
  { what: 'RENAME', command: 'RENAME INBOX.Race INBOX.Elsewhere', extra: '(\\Seen $Label) "01-Jan-2020 00:00:00 +0000"' },
  { what: 'RENAME', command: 'RENAME INBOX.Race INBOX.Elsewhere', extra: '' },
];

for (const { what, command, extra } of cases) {
  test(`a streamed APPEND whose folder another session ${what}s halfway${extra ? ' (flags, INTERNALDATE)' : ''}: NO [TRYCREATE], nothing left`, async () => {
    const [a, b] = [await session(), await session()];
    assert.match((await b.command('CREATE INBOX.Race')).tagged, /^OK/);
    const content = bigMessage();
    const half = Math.floor(content.length / 2);
    const tag = a.nextTag();
    a.send(`${tag} APPEND INBOX.Race ${extra ? extra + ' ' : ''}{${content.length}}\r\n`);
    assert.match((await a.readResponseLine()).toString('latin1'), /^\+/);
    a.send(content.subarray(0, half));

    assert.match((await b.command(command)).tagged, /^OK/);

    a.send(Buffer.concat([content.subarray(half), Buffer.from('\r\n')]));
    const reply = await a.readUntilTagged(tag);
    assert.match(reply.tagged, /^NO \[TRYCREATE\]/);
    assert.equal(fs.existsSync(path.join(maildir, '.Race')), false, 'the folder is not made again');
    assert.deepEqual(filesUnder(path.join(maildir, 'tmp')), [], 'nothing left in tmp/');
    if (what === 'RENAME') {
      assert.deepEqual(filesUnder(path.join(maildir, '.Elsewhere')), ['maildirfolder'], 'nothing arrived in the renamed folder');
      assert.match((await b.command('DELETE INBOX.Elsewhere')).tagged, /^OK/);
    }
    // Both sessions go on; the folder made again takes the message.
    assert.match((await a.command('NOOP')).tagged, /^OK/);
    assert.match((await b.command('CREATE INBOX.Race')).tagged, /^OK/);
    assert.match((await a.append('INBOX.Race', content, extra)).tagged, /^OK/);
    assert.match((await b.command('DELETE INBOX.Race')).tagged, /^OK/);
  });
}
