// COMPRESS=DEFLATE (RFC 4978) on the network server (plain, STARTTLS, implicit TLS) and on the
// stdio imapd: responses before and after, literals cut across deflate blocks, a large APPEND
// right after COMPRESS, IDLE pushes, the limits and deadlines applied to the inflated input (a
// decompression bomb), imapflow (which compresses by itself when offered), and Dovecot's
// imap_zlib answering the same commands.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { SqliteAccountStore } from '../../../server/accounts/index.js';
import type { ImapServer } from '../../../server/net/index.js';
import { CompressingClient, deflateStreams } from '../../helpers/deflate-client.js';
import { ImapTestClient, spawnDovecot, spawnImapd, type SpawnedImapd } from '../../helpers/imap-client.js';
import { messagesInUidOrder, removeTree, simpleMessage, standardMaildir, tempDir } from '../../helpers/maildir.js';
import { startNetworkServer } from '../../helpers/network-server.js';
import { dovecotSkip } from '../../helpers/peers.js';
import { makeWorkDir } from '../search/peer-harness.js';

let dir: string;
let maildir: string;
let accounts: SqliteAccountStore;
let server: ImapServer;
let port: number;
let sslPort: number;
const LITERAL_DEADLINE_MS = 1500;

before(async () => {
  dir = tempDir('compress');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  maildir = standardMaildir(path.join(dir, 'alice'), 4);
  accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'secret', maildir });
  ({ server, port, sslPort } = await startNetworkServer({
    dataDir: data,
    accounts,
    failureDelayMs: 100,
    timeouts: { unauthenticated: 60_000, authenticated: 60_000, literal: LITERAL_DEADLINE_MS },
  }));
});

after(async () => {
  await server.stop();
  accounts.close();
  removeTree(dir);
});

async function loggedIn(secure = false, startTls = false): Promise<CompressingClient> {
  const c = await CompressingClient.connect(secure ? sslPort : port, secure);
  if (startTls) await c.startTls();
  const login = await c.client.command('LOGIN alice secret');
  assert.match(login.tagged, /^OK/);
  return c;
}

async function ok(client: ImapTestClient, command: string): Promise<string[]> {
  const reply = await client.command(command);
  assert.match(reply.tagged, /^OK/, `${command}: ${reply.tagged}`);
  return reply.lines;
}

describe('COMPRESS=DEFLATE on the network server', () => {
  it('is offered once logged in, and compresses both directions after the tagged OK', async () => {
    const c = await CompressingClient.connect(port);
    assert.doesNotMatch((await c.client.command('CAPABILITY')).lines[0], /COMPRESS/);
    assert.match((await c.client.command('COMPRESS DEFLATE')).tagged, /^BAD/, 'not before login');
    assert.match((await c.client.command('LOGIN alice secret')).tagged, /^OK/);
    assert.match((await c.client.command('CAPABILITY')).lines[0], / COMPRESS=DEFLATE( |$)/);
    assert.match((await c.client.command('COMPRESS LZ4')).tagged, /^NO /);
    assert.match((await c.client.command('COMPRESS')).tagged, /^BAD/);
    const { tagged, streams } = await c.compress();
    assert.equal(tagged, 'OK Begin compression.');
    assert.ok(streams);
    const select = await ok(c.client, 'SELECT INBOX');
    assert.ok(select.includes('* 4 EXISTS'), select.join('\n'));
    const fetched = await ok(c.client, 'FETCH 1:4 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.equal(fetched.length, 4);
    const again = await c.client.command('COMPRESS DEFLATE');
    assert.equal(again.tagged, 'NO [COMPRESSIONACTIVE] COMPRESSION=DEFLATE already enabled.');
    // LOGOUT's BYE and OK are the last compressed bytes: sent before the connection closes.
    const logout = await c.client.command('LOGOUT');
    assert.match(logout.lines[0], /^\* BYE/);
    assert.match(logout.tagged, /^OK/);
    c.close();
  });

  it('works after STARTTLS and on the TLS port', async () => {
    for (const [secure, startTls] of [[false, true], [true, false]] as const) {
      const c = await loggedIn(secure, startTls);
      assert.equal((await c.compress()).tagged, 'OK Begin compression.');
      const lines = await ok(c.client, 'STATUS INBOX (MESSAGES)');
      assert.match(lines[0], /MESSAGES 4/);
      await ok(c.client, 'LOGOUT');
      c.close();
    }
  });

  it('reads literals cut across deflate blocks and TCP pieces', async () => {
    const c = await loggedIn();
    await c.compress({ chop: 7 });
    const message = simpleMessage('Split across blocks', 'A body sent in pieces.\r\n'.repeat(40));
    // Each send() is one sync-flushed deflate block: the command line, the literal and its end
    // arrive in blocks that end in the middle of each.
    const tag = c.client.nextTag();
    c.client.send(`${tag} APPEND INBOX (\\Seen) {${message.length}}`);
    c.client.send('\r\n');
    const cont = await c.client.readResponseLine();
    assert.match(cont.toString(), /^\+/);
    for (const [from, to] of [[0, 13], [13, 14], [14, 500], [500, message.length]]) c.client.send(message.subarray(from, to));
    c.client.send('\r');
    c.client.send('\n');
    assert.match((await c.client.readUntilTagged(tag)).tagged, /^OK \[APPENDUID/);
    // A non-synchronizing literal cut the same way.
    const tag2 = c.client.nextTag();
    c.client.send(`${tag2} APPEND INBOX {${message.length}+}\r\n${message.subarray(0, 100).toString('latin1')}`);
    c.client.send(Buffer.concat([message.subarray(100), Buffer.from('\r\n')]));
    assert.match((await c.client.readUntilTagged(tag2)).tagged, /^OK \[APPENDUID/);
    const files = messagesInUidOrder(maildir);
    assert.deepEqual(files.slice(-2), [message, message]);
    await ok(c.client, 'LOGOUT');
    c.close();
  });

  it('takes a large APPEND sent right after COMPRESS', async () => {
    const c = await loggedIn();
    await c.compress();
    // 3 MiB, half of it incompressible: streamed to the store (over STREAM_THRESHOLD).
    const noise = Buffer.from(Array.from({ length: 1536 * 1024 }, (_, i) => 33 + ((i * 7919 + (i >> 5) * 104729) % 90)));
    const text = Buffer.from('Line of plain text, compressible.\r\n'.repeat(44_000));
    const message = Buffer.concat([simpleMessage('Large after COMPRESS', ''), noise, Buffer.from('\r\n'), text]);
    const reply = await c.client.append('INBOX', message);
    assert.match(reply.tagged, /^OK \[APPENDUID/);
    const stored = messagesInUidOrder(maildir).at(-1)!;
    assert.equal(stored.length, message.length);
    assert.ok(stored.equals(message));
    await ok(c.client, 'LOGOUT');
    c.close();
  });

  it('pushes IDLE updates at once under compression', async () => {
    const a = await loggedIn();
    await a.compress();
    const selected = await ok(a.client, 'SELECT INBOX');
    const exists = Number(/\* (\d+) EXISTS/.exec(selected.join('\n'))![1]);
    const tag = a.client.nextTag();
    a.client.send(`${tag} IDLE\r\n`);
    assert.match((await a.client.readResponseLine()).toString(), /^\+ /);
    const b = await loggedIn();
    assert.match((await b.client.append('INBOX', simpleMessage('While idling'))).tagged, /^OK/);
    const started = Date.now();
    const pushed = (await a.client.readResponseLine(3000)).toString();
    assert.equal(pushed, `* ${exists + 1} EXISTS`);
    assert.ok(Date.now() - started < 2000);
    a.client.send('DONE\r\n');
    const done = await a.client.readUntilTagged(tag);
    assert.match(done.tagged, /^OK/);
    for (const c of [a, b]) {
      await ok(c.client, 'LOGOUT');
      c.close();
    }
  });

  it('applies the line limit to the inflated data: a decompression bomb is skipped, not buffered', async () => {
    const c = await loggedIn();
    const { streams } = await c.compress();
    // 64 MiB of "A" in one command line: each MiB deflates to about 1 KiB.
    const mib = Buffer.alloc(1024 * 1024, 'A');
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - base)), 5);
    c.client.send('b1 NOOP ');
    for (let i = 0; i < 64; i++) c.client.send(mib);
    c.client.send('\r\nb2 NOOP\r\n');
    // The line is refused; on a loaded machine its deadline (1.5 s here) may pass first.
    const first = (await c.client.readResponseLine(30_000)).toString();
    if (first !== '* BYE Command line too slow.') {
      assert.match(first, /^b1 BAD .*too long/i);
      assert.match((await c.client.readUntilTagged('b2', 30_000)).tagged, /^OK/);
      await ok(c.client, 'LOGOUT');
    }
    clearInterval(sampler);
    assert.ok(streams!.sent() < 512 * 1024, `${streams!.sent()} compressed octets`);
    assert.ok(peak < 32 * 1024 * 1024, `peak ${Math.round(peak / 1048576)} MiB of buffers while inflating`);
    c.close();
  });

  it('applies the command-line deadline to the inflated data', async () => {
    const c = await loggedIn();
    await c.compress();
    c.client.send('t NOOP'); // no line end: compressed and flushed, then nothing
    const started = Date.now();
    const bye = (await c.client.readResponseLine(LITERAL_DEADLINE_MS + 5000)).toString();
    assert.equal(bye, '* BYE Command line too slow.');
    assert.ok(Date.now() - started >= LITERAL_DEADLINE_MS - 100);
    c.close();
  });
});

describe('COMPRESS=DEFLATE with imapflow', () => {
  it('imapflow compresses by itself, fetches, and gets IDLE pushes', async () => {
    const flow = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: true, auth: { user: 'alice', pass: 'secret' }, tls: { rejectUnauthorized: false }, logger: false });
    await flow.connect();
    assert.ok((flow as unknown as { _deflate?: unknown })._deflate, 'imapflow switched to COMPRESS');
    const lock = await flow.getMailboxLock('INBOX');
    try {
      const subjects: string[] = [];
      for await (const m of flow.fetch('1:*', { envelope: true, source: true })) subjects.push(m.envelope?.subject ?? '');
      assert.ok(subjects.length >= 4);
      const count = subjects.length;
      const pushed = new Promise<number>((resolve) => flow.on('exists', (data: { count: number }) => resolve(data.count)));
      const idling = flow.idle();
      const other = await loggedIn();
      await other.client.append('INBOX', simpleMessage('For imapflow'));
      assert.equal(await pushed, count + 1);
      other.close();
      await flow.noop();
      await idling;
    } finally {
      lock.release();
    }
    await flow.logout();
  });
});

describe('COMPRESS=DEFLATE on the stdio imapd, and against Dovecot', () => {
  let work: Awaited<ReturnType<typeof makeWorkDir>>;
  before(async () => {
    work = await makeWorkDir();
  });
  after(async () => {
    await work.remove();
  });

  /** The same script on a server started on stdio: COMPRESS, then commands compressed. */
  async function script(server: SpawnedImapd): Promise<string[]> {
    const c = server.client;
    await c.greeting;
    const out: string[] = [];
    out.push((await c.command('COMPRESS FOO')).tagged.split(' ')[0]);
    const reply = await c.command('COMPRESS DEFLATE');
    out.push(reply.tagged.split(' ')[0]);
    server.child.stdout.removeAllListeners('data');
    const streams = deflateStreams(server.child.stdout, server.child.stdin);
    const z = new ImapTestClient(streams.input, streams.output, false);
    const again = await z.command('COMPRESS DEFLATE');
    out.push(again.tagged.replace(/ \(.*secs\)\.?$/, '').replace(/\.$/, ''));
    const select = await z.command('SELECT INBOX');
    out.push(select.tagged.split(' ')[0], select.lines.find((l) => / EXISTS$/.test(l)) ?? '');
    const fetched = await z.command('FETCH 1:* (BODY.PEEK[])');
    out.push(...fetched.lines);
    const logout = await z.command('LOGOUT');
    out.push(logout.lines[0].split(' ').slice(0, 2).join(' '), logout.tagged.split(' ')[0]);
    return out;
  }

  it('the stdio imapd compresses, and says goodbye compressed before it exits', async () => {
    const md = standardMaildir(path.join(work.dir, 'stdio'), 3);
    const ours = spawnImapd(md);
    const out = await script(ours);
    assert.deepEqual(out.slice(0, 3), ['NO', 'OK', 'NO [COMPRESSIONACTIVE] COMPRESSION=DEFLATE already enabled']);
    assert.deepEqual(out.slice(-2), ['* BYE', 'OK']);
    assert.equal(await ours.exited, 0);
  });

  it('answers as Dovecot with imap_zlib does', { skip: dovecotSkip }, async () => {
    const base = standardMaildir(path.join(work.dir, 'base'), 3);
    const copies = ['ours', 'dovecot'].map((name) => {
      const to = path.join(work.dir, name);
      fs.cpSync(base, to, { recursive: true });
      fs.chmodSync(to, 0o777);
      return to;
    });
    const ours = spawnImapd(copies[0]);
    const dovecot = spawnDovecot(copies[1], { DOVECOT_IMAP_PLUGINS: 'zlib imap_zlib', DOVECOT_BENCH_STATE: path.join(work.dir, 'state') });
    assert.match(await dovecot.client.greeting, /COMPRESS=DEFLATE/);
    assert.match(await ours.client.greeting, /COMPRESS=DEFLATE/);
    const [mine, theirs] = await Promise.all([script(ours), script(dovecot)]);
    assert.deepEqual(mine, theirs);
    await Promise.all([ours.exited, dovecot.exited]);
  });
});
