// The LMTP listener driven by Python's smtplib.LMTP over TCP and a Unix socket: what LHLO
// announces, delivery by username and by address with the message's bytes kept, one reply per
// recipient, 550 / 452 / 552 for unknown users, full mailboxes and the size limit, a message
// bigger than the memory limit, and an IDLE client told of the new message.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { AccountAuthenticator, SqliteAccountStore } from '../../server/accounts/index.js';
import { Deliverer } from '../../server/delivery/deliverer.js';
import { LmtpServer } from '../../server/delivery/lmtp.js';
import { MEMORY_LIMIT } from '../../server/delivery/spool.js';
import { ImapTestClient, ROOT } from '../helpers/imap-client.js';
import { hasPython, messagesInUidOrder, removeTree, tempDir } from '../helpers/maildir.js';
import { startNetworkServer, type TestNetworkServer } from '../helpers/network-server.js';

const run = promisify(execFile);
const MAX_SIZE = 300_000;

interface Reply { 0: number; 1: string }
interface LmtpResult {
  lhlo: Reply;
  features: Record<string, string>;
  transactions: { mail: Reply; rcpt: Reply[]; data: Reply[] }[];
}

interface Transaction { sender: string; recipients: string[]; message: Buffer; mailOptions?: string[] }

let dir: string;
let accounts: SqliteAccountStore;
let authenticator: AccountAuthenticator;
let deliverer: Deliverer;
let lmtp: LmtpServer;
let port: number;
let socketPath: string;
let jobs = 0;

/** Run one Python session with these transactions. */
async function python(transactions: Transaction[], where: { socket: string } | { port: number } = { port }): Promise<LmtpResult> {
  const jobDir = path.join(dir, `job${++jobs}`);
  fs.mkdirSync(jobDir);
  const job = {
    ...('socket' in where ? { socket: where.socket } : { host: '127.0.0.1', port: where.port }),
    transactions: transactions.map((t, i) => {
      const file = path.join(jobDir, `m${i}`);
      fs.writeFileSync(file, t.message);
      return { sender: t.sender, recipients: t.recipients, mail_options: t.mailOptions ?? [], message_file: file };
    }),
  };
  fs.writeFileSync(path.join(jobDir, 'job.json'), JSON.stringify(job));
  const { stdout } = await run('python3', [path.join(ROOT, 'test/delivery/lmtp_send.py'), path.join(jobDir, 'job.json')], { timeout: 60_000, maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as LmtpResult;
}

/** Each account's Maildir, known once the accounts are made (the store answers asynchronously). */
const inboxes = new Map<string, string>();
function inbox(user: string): string {
  return inboxes.get(user)!;
}

/** The files of an INBOX's cur/, in UID order. */
function messages(user: string): Buffer[] {
  return messagesInUidOrder(inbox(user));
}

/** Files left in the spool directory (made at the first message over the memory limit). */
function spoolFiles(): string[] {
  const spool = path.join(dir, 'data', 'spool');
  return fs.existsSync(spool) ? fs.readdirSync(spool) : [];
}

function message(subject: string, bodyBytes = 200): Buffer {
  const head = `From: Sender <sender@example.org>\r\nTo: alice@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog.\r\n';
  return Buffer.from(head + line.repeat(Math.max(1, Math.ceil(bodyBytes / line.length))));
}

describe('LMTP delivery', { skip: hasPython ? false : 'python3 missing' }, () => {
  before(async () => {
    dir = tempDir('lmtp');
    accounts = SqliteAccountStore.open(path.join(dir, 'data'));
    await accounts.add({ username: 'alice', password: 'alice-password' });
    await accounts.add({ username: 'carol', password: 'carol-password' });
    await accounts.add({ username: 'bob', password: 'bob-password', quotaBytes: 5000 });
    await accounts.add({ username: 'dave', password: 'dave-password', quotaBytes: 100_000, quotaMessages: 1 });
    await accounts.addAddress('alice', 'Alice.Smith@Example.org');
    authenticator = new AccountAuthenticator({
      accounts, logger: { log: () => undefined }, maildirPath: 'Maildir', useLocks: true, keywords: true,
      watch: true, pollIntervalMs: 60_000, trashFolder: 'Trash', failureDelayMs: 10,
    });
    for (const a of await accounts.list()) inboxes.set(a.username, authenticator.maildirOf(a));
    deliverer = new Deliverer({ accounts, opener: () => authenticator, logger: { log: () => undefined }, quotaFullTempfail: true });
    socketPath = path.join(dir, 'lmtp.sock');
    lmtp = new LmtpServer({
      deliverer, logger: { log: () => undefined }, tcp: { address: '127.0.0.1', port: 0 }, socket: socketPath,
      maxMessageSize: MAX_SIZE, spoolDir: path.join(dir, 'data', 'spool'), name: 'mx.test',
    });
    const endpoints = await lmtp.start();
    port = endpoints.find((e) => e.port !== null)!.port!;
  });

  after(async () => {
    await lmtp.stop();
    await deliverer.close();
    await authenticator.idle();
    accounts.close();
    removeTree(dir);
  });

  it('announces the LMTP extensions in LHLO, without STARTTLS, AUTH or DSN', async () => {
    const r = await python([]);
    assert.equal(r.lhlo[0], 250);
    for (const word of ['pipelining', '8bitmime', 'smtputf8', 'enhancedstatuscodes']) assert.ok(word in r.features, `${word} in ${JSON.stringify(r.features)}`);
    assert.equal(r.features.size, String(MAX_SIZE));
    for (const word of ['starttls', 'auth', 'dsn']) assert.ok(!(word in r.features), word);
  });

  it('delivers by username and by address: the bytes kept, Return-Path and Delivered-To in front', async () => {
    // 8-bit UTF-8 in header and body, as SMTPUTF8 and 8BITMIME allow.
    const original = Buffer.from('From: Jörg <jörg@example.org>\r\nSubject: Grüße\r\n\r\nÄpfel und Birnen\r\n.dot line\r\n', 'utf8');
    const r = await python([
      { sender: 'jörg@example.org', recipients: ['alice@mx.test'], message: original, mailOptions: ['SMTPUTF8', 'BODY=8BITMIME'] },
      { sender: '', recipients: ['alice.smith@example.ORG'], message: original },
    ]);
    assert.deepEqual(r.transactions.map((t) => t.mail[0]), [250, 250]);
    assert.match(r.transactions[0]!.data[0]![1], /^2\.\d\.\d Saved for alice \(UID 1\)$/);
    assert.match(r.transactions[1]!.data[0]![1], /^2\.\d\.\d Saved for alice \(UID 2\)$/);
    const [first, second] = messages('alice');
    assert.deepEqual(first, Buffer.concat([Buffer.from('Return-Path: <jörg@example.org>\r\nDelivered-To: alice@mx.test\r\n', 'utf8'), original]));
    assert.deepEqual(second, Buffer.concat([Buffer.from('Return-Path: <>\r\nDelivered-To: alice.smith@example.ORG\r\n'), original]));
    // The UIDs are in Courier's database.
    const uiddb = fs.readFileSync(path.join(inbox('alice'), 'courierimapuiddb'), 'utf8').split('\n');
    assert.match(uiddb[0]!, /^1 \d+ 3$/);
  });

  it('answers each recipient: 550 for unknown users at RCPT, one reply per accepted recipient after DATA', async () => {
    const before = { alice: messages('alice').length, carol: messages('carol').length };
    const r = await python([{ sender: 's@example.org', recipients: ['carol@mx.test', 'nobody@mx.test', 'alice+lists@mx.test'], message: message('several') }]);
    const t = r.transactions[0]!;
    assert.deepEqual(t.rcpt.map((x) => x[0]), [250, 550, 250]);
    assert.match(t.rcpt[1]![1], /^5\.1\.1 No such user here: nobody@mx\.test$/);
    assert.equal(t.data.length, 2);
    assert.match(t.data[0]![1], /Saved for carol/);
    assert.match(t.data[1]![1], /Saved for alice/);
    assert.equal(messages('carol').length, before.carol + 1);
    assert.equal(messages('alice').length, before.alice + 1);
    assert.match(messages('alice').at(-1)!.toString('latin1'), /^Return-Path: <s@example\.org>\r\nDelivered-To: alice\+lists@mx\.test\r\nFrom: /);
  });

  it('quota: 452 4.2.2 when the mailbox is full, 552 5.2.2 for a message larger than the quota, each recipient on its own', async () => {
    // bob may hold 5000 bytes: the first 3000-byte message fits, the second does not.
    const r = await python([
      { sender: 's@example.org', recipients: ['bob@mx.test'], message: message('fits', 3000) },
      { sender: 's@example.org', recipients: ['carol@mx.test', 'bob@mx.test'], message: message('full', 3000) },
      { sender: 's@example.org', recipients: ['bob@mx.test'], message: message('never fits', 6000), mailOptions: ['SIZE=6200'] },
    ]);
    const [fits, full, never] = r.transactions;
    assert.equal(fits!.data[0]![0], 250);
    assert.deepEqual(full!.rcpt.map((x) => x[0]), [250, 250]);
    assert.equal(full!.data[0]![0], 250);
    assert.equal(full!.data[1]![0], 452);
    assert.match(full!.data[1]![1], /^4\.2\.2 Mailbox is full/);
    // Announced with SIZE: refused at RCPT already, for good.
    assert.equal(never!.rcpt[0]![0], 552);
    assert.match(never!.rcpt[0]![1], /^5\.2\.2 Message is larger than the mailbox's whole quota/);
    assert.equal(messages('bob').length, 1);
    // dave may hold one message: the second is refused at RCPT, as the count is already full.
    const d = await python([
      { sender: 's@example.org', recipients: ['dave@mx.test'], message: message('one') },
      { sender: 's@example.org', recipients: ['dave@mx.test'], message: message('two') },
    ]);
    assert.equal(d.transactions[0]!.data[0]![0], 250);
    assert.equal(d.transactions[1]!.rcpt[0]![0], 452);
  });

  it('QUOTA_FULL_TEMPFAIL=0: a full mailbox bounces with 552 5.2.2', async () => {
    const bouncing = new Deliverer({ accounts, opener: () => authenticator, logger: { log: () => undefined }, quotaFullTempfail: false });
    const server = new LmtpServer({ deliverer: bouncing, logger: { log: () => undefined }, tcp: { address: '127.0.0.1', port: 0 }, socket: null, maxMessageSize: MAX_SIZE, spoolDir: path.join(dir, 'spool2') });
    const [endpoint] = await server.start();
    try {
      const r = await python([{ sender: 's@example.org', recipients: ['bob@mx.test'], message: message('still full', 3000) }], { port: endpoint!.port! });
      assert.equal(r.transactions[0]!.data[0]![0], 552);
      assert.match(r.transactions[0]!.data[0]![1], /^5\.2\.2 Mailbox is full/);
    } finally {
      await server.stop();
      await bouncing.close();
    }
  });

  it('refuses a message over LMTP_MAXMSGSIZE: at MAIL when announced, after DATA for each recipient otherwise', async () => {
    const before = messages('carol').length;
    const big = message('too big', MAX_SIZE + 1000);
    const r = await python([
      { sender: 's@example.org', recipients: ['carol@mx.test'], message: big, mailOptions: [`SIZE=${big.length}`] },
      { sender: 's@example.org', recipients: ['carol@mx.test', 'alice@mx.test'], message: big },
    ]);
    assert.equal(r.transactions[0]!.mail[0], 552);
    assert.deepEqual(r.transactions[1]!.data.map((x) => x[0]), [552, 552]);
    assert.match(r.transactions[1]!.data[0]![1], /^5\.3\.4 /);
    assert.equal(messages('carol').length, before);
    assert.deepEqual(spoolFiles(), []);
  });

  it('delivers over the Unix socket; a message over the memory limit goes through the spool file and keeps its bytes', async () => {
    const big = message('big one', MEMORY_LIMIT + 50_000);
    const server = new LmtpServer({
      deliverer, logger: { log: () => undefined }, tcp: null, socket: path.join(dir, 'big.sock'),
      maxMessageSize: 4 * MEMORY_LIMIT, spoolDir: path.join(dir, 'data', 'spool'),
    });
    await server.start();
    try {
      const r = await python([{ sender: 'big@example.org', recipients: ['carol@mx.test', 'alice@mx.test'], message: big }], { socket: path.join(dir, 'big.sock') });
      assert.deepEqual(r.transactions[0]!.data.map((x) => x[0]), [250, 250]);
      assert.deepEqual(messages('carol').at(-1), Buffer.concat([Buffer.from('Return-Path: <big@example.org>\r\nDelivered-To: carol@mx.test\r\n'), big]));
      assert.deepEqual(messages('alice').at(-1), Buffer.concat([Buffer.from('Return-Path: <big@example.org>\r\nDelivered-To: alice@mx.test\r\n'), big]));
      // It went through a spool file (the directory is made for the first one), now removed.
      assert.ok(fs.existsSync(path.join(dir, 'data', 'spool')));
      assert.deepEqual(spoolFiles(), []);
    } finally {
      await server.stop();
    }
    assert.equal(fs.existsSync(path.join(dir, 'big.sock')), false);
    // The first listener's socket works as well.
    const r = await python([{ sender: 's@example.org', recipients: ['carol@mx.test'], message: message('socket') }], { socket: socketPath });
    assert.equal(r.transactions[0]!.data[0]![0], 250);
  });

  it('an IDLE client of the account is told of the delivered message', async () => {
    let imap: TestNetworkServer | null = null;
    const socket = await (async () => {
      imap = await startNetworkServer({ dataDir: path.join(dir, 'data'), accounts, failureDelayMs: 10 });
      return net.connect({ host: '127.0.0.1', port: imap.port });
    })();
    const client = new ImapTestClient(socket, socket);
    try {
      await client.greeting;
      assert.match((await client.command('LOGIN carol carol-password')).tagged, /^OK/);
      const selected = await client.command('SELECT INBOX');
      const exists = Number(/^\* (\d+) EXISTS/m.exec(selected.lines.join('\n'))![1]);
      client.send('i1 IDLE\r\n');
      assert.match((await client.readResponseLine()).toString(), /^\+ /);
      const sent = Date.now();
      const r = await python([{ sender: 's@example.org', recipients: ['carol@mx.test'], message: message('idle') }]);
      assert.equal(r.transactions[0]!.data[0]![0], 250);
      const line = (await client.readResponseLine(5000)).toString();
      assert.equal(line, `* ${exists + 1} EXISTS`);
      assert.ok(Date.now() - sent < 5000);
      client.send('DONE\r\n');
      assert.match((await client.readUntilTagged('i1')).tagged, /^OK/);
    } finally {
      socket.destroy();
      await imap!.server.stop();
      await imap!.authenticator.idle();
    }
  });
});
