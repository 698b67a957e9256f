// Mail sources when things go wrong, against a real Dovecot provider (and a TCP proxy in front
// of it for the faults it will not make itself): a 30 MB message over IMAP and over POP3,
// streamed (what the process holds grows by far less than the message) and byte for byte;
// cut halfway through a batch of small messages and halfway through a big one, after which
// nothing is duplicated or lost, nothing is left in tmp/ or the spool, and the next run goes
// on; a provider that trickles, given up at the deadline while another source goes on; a
// server that answers garbage; Fetch now on a disabled source; FETCH_MAXMSGSIZE.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import Database from 'better-sqlite3';
import { ImapFlow } from 'imapflow';
import type { FetchService } from '../../server/fetch/service.js';
import { removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';
import { pop3Skip, startProvider, type Provider } from '../helpers/provider.js';
import { startProxy, type Proxy } from '../helpers/tcp-proxy.js';
import { imapSettings, localSide, type Local } from './fixture.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A message of about `octets` written to the provider's new/ in pieces (never whole in this process); its SHA-256. */
function bigAtProvider(provider: Provider, octets: number, name: string, folder = ''): string {
  const dir = path.join(provider.maildir, folder);
  const tmp = path.join(dir, 'tmp', name);
  const fd = fs.openSync(tmp, 'w');
  const hash = createHash('sha256');
  const put = (text: string) => {
    const b = Buffer.from(text);
    hash.update(b);
    fs.writeSync(fd, b);
  };
  put(`From: big@example.org\r\nTo: alice@example.com\r\nSubject: ${name}\r\nMessage-ID: <${name}@example.org>\r\n\r\n`);
  let size = 0;
  for (let i = 0; size < octets; i++) {
    const lines: string[] = [];
    for (let j = 0; j < 800; j++) lines.push(`${j % 9 === 0 ? '.' : ''}${name} line ${i}.${j} ${'z'.repeat(60 + (j % 11))}\r\n`);
    const text = lines.join('');
    put(text);
    size += text.length;
  }
  fs.closeSync(fd);
  const owner = fs.statSync(dir);
  fs.chownSync(tmp, owner.uid, owner.gid);
  fs.renameSync(tmp, path.join(dir, 'new', `${Math.floor(Date.now() / 1000)}.${name}.bench,S=${fs.statSync(tmp).size}`));
  return hash.digest('hex');
}

/** Have Dovecot give UIDs to what is in the folder now (it numbers new/ in the order it lists it, not by name). */
async function numbered(provider: Provider, folder: string): Promise<void> {
  const c = new ImapFlow({ host: '127.0.0.1', port: provider.imapPort, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false });
  await c.connect();
  await c.status(folder, { messages: true });
  await c.logout();
}

// Garbage collections on demand (node --expose-gc, set at run time) for heldGrowth().
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

/**
 * Peak growth, while `work` runs, of what this process holds: the V8 heap and Buffers after a
 * full garbage collection, every 100 ms; and of its RSS, every 5 ms, for the record only. RSS
 * tells little here: the first big message a process receives, whichever the protocol, grows it
 * by 25-45 MB of Buffers read and dropped that V8 collects only when they reach its external
 * memory limit (measured: POP3 first grew it by 34 MB, IMAP after it by 13 MB; the other order
 * 44 and 1 MB; a 90 MB message by no more than a 30 MB one). What is held shows a read-ahead.
 */
async function heldGrowth<T>(work: () => Promise<T>): Promise<{ result: T; held: number; rss: number }> {
  const held = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  collect();
  collect();
  const base = held();
  const rssBase = process.memoryUsage.rss();
  let peak = base;
  let rssPeak = rssBase;
  const heldTimer = setInterval(() => {
    // Twice: V8 frees dropped Buffers' memory on a thread of its own after a collection, and
    // the next collection waits for that to finish.
    collect();
    collect();
    peak = Math.max(peak, held());
  }, 250);
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 5);
  try {
    const result = await work();
    return { result, held: peak - base, rss: rssPeak - rssBase };
  } finally {
    clearInterval(heldTimer);
    clearInterval(rssTimer);
  }
}

/**
 * A source's ledger rows in the provider's order (IMAP UID; POP3 rows by local UID): none is
 * left pending, and the local UIDs rise with the provider's order (delivered in that order).
 */
function ledgerInOrder(local: Local, sourceId: number): { state: string; hash: string; localUid: number | null }[] {
  const db = new Database(path.join(local.data, 'fetch.sqlite'), { readonly: true });
  try {
    return db.prepare<[number], { state: string; hash: string; localUid: number | null }>(
      'SELECT state, hash, local_uid AS localUid FROM fetched WHERE source_id = ? ORDER BY uid, local_uid',
    ).all(sourceId);
  } finally {
    db.close();
  }
}

function assertLedger(local: Local, sourceId: number, stored: readonly Buffer[]): void {
  const rows = ledgerInOrder(local, sourceId);
  assert.deepEqual(rows.filter((r) => r.state !== 'done'), [], 'nothing left pending');
  assert.deepEqual(rows.map((r) => r.hash), stored.map(sha), 'the ledger holds what is stored, in the provider\'s order');
  const uids = rows.map((r) => r.localUid!);
  assert.deepEqual(uids, [...uids].sort((a, b) => a - b), 'local UIDs follow the provider\'s order');
}

function leftovers(local: Local): string[] {
  const maildir = path.join(local.data, 'mail', 'alice', 'Maildir');
  const spool = path.join(local.data, 'spool');
  return [
    ...(fs.existsSync(maildir) ? fs.readdirSync(path.join(maildir, 'tmp')).map((f) => `tmp/${f}`) : []),
    ...(fs.existsSync(spool) ? fs.readdirSync(spool).map((f) => `spool/${f}`) : []),
  ];
}

describe('mail sources when things go wrong (Dovecot provider)', { skip: pop3Skip }, () => {
  let dir: string;
  let provider: Provider;
  let local: Local;
  let proxy: Proxy;
  let service: FetchService;

  before(async () => {
    dir = tempDir('fetch-robust');
    provider = await startProvider(dir, { pop3: true });
    local = await localSide(dir);
    proxy = await startProxy(provider.imapPort);
  });
  after(async () => {
    await proxy?.close();
    await local?.close();
    provider?.stop();
    removeTree(dir);
  });

  it('a 30 MB message over IMAP and over POP3: streamed (the process holds far less than 30 MB more), in pieces of 1 MiB over IMAP, byte for byte', async () => {
    // A first run of each kind with a small message, so that the figure is not the code loaded and compiled on first use.
    provider.deliver(simpleMessage('warm-up'));
    await numbered(provider, 'INBOX');
    service = await local.service();
    // IMAP through the proxy (which passes the provider's octets on as fast as they are read, no faster), to count its commands.
    const imap = service.add('alice', imapSettings(proxy.port, { folders: [{ remote: 'INBOX', local: 'INBOX.Big' }] }), 'secret');
    const pop3 = service.add('alice', imapSettings(provider.pop3Port!, { kind: 'pop3', folders: [{ remote: 'INBOX', local: 'INBOX.BigPop' }] }), 'secret');
    assert.equal((await service.fetchNow(imap.id))!.status.lastError, null);
    assert.equal((await service.fetchNow(pop3.id))!.status.lastError, null);
    const hash = bigAtProvider(provider, 30 << 20, 'thirty');
    await numbered(provider, 'INBOX');
    const partials = /UID FETCH \d+ .*BODY\.PEEK\[\]<\d+\.1048576>/;
    const before = proxy.commands(partials);
    const viaImap = await heldGrowth(() => service.fetchNow(imap.id));
    assert.equal(viaImap.result!.status.lastError, null);
    const [, got] = local.folder('.Big');
    assert.equal(sha(got!), hash, 'IMAP: byte for byte');
    const pieces = proxy.commands(partials) - before;
    const viaPop3 = await heldGrowth(() => service.fetchNow(pop3.id));
    assert.equal(viaPop3.result!.status.lastError, null);
    const [, popped] = local.folder('.BigPop');
    assert.equal(sha(popped!), hash, 'POP3: byte for byte');
    const mb = (n: number) => (n / 1048576).toFixed(1);
    console.log(`30 MB message: held ${mb(viaImap.held)} MB more over IMAP (RSS ${mb(viaImap.rss)}), ${mb(viaPop3.held)} MB over POP3 (RSS ${mb(viaPop3.rss)})`);
    assert.ok(viaImap.held < 8 << 20, `IMAP: held ${viaImap.held} octets more`);
    assert.ok(viaPop3.held < 8 << 20, `POP3: held ${viaPop3.held} octets more`);
    assert.ok(pieces >= 30 && pieces <= 32, `IMAP: ${pieces} partial FETCHes of 1 MiB for a message of ${got!.length} octets`);
    assert.deepEqual(leftovers(local), []);
    await service.remove(imap.id);
    await service.remove(pop3.id);
    await service.close();
  });

  it('a connection cut halfway through a batch and halfway through a message: nothing lost or doubled, tmp/ clean, the next run goes on', async () => {
    const sent: Buffer[] = [];
    let smallOctets = 0;
    for (let i = 0; i < 300; i++) {
      const m = fs.readFileSync(provider.deliver(simpleMessage(`small ${i}`, `${'body '.repeat(300)}\r\n`), '.Cut'));
      sent.push(m);
      smallOctets += m.length;
    }
    await numbered(provider, 'INBOX.Cut');
    const bigHash = bigAtProvider(provider, 5 << 20, 'five', '.Cut');
    await numbered(provider, 'INBOX.Cut');
    for (let i = 0; i < 20; i++) sent.push(fs.readFileSync(provider.deliver(simpleMessage(`after ${i}`), '.Cut')));
    service = await local.service();
    const s = service.add('alice', imapSettings(proxy.port, { folders: [{ remote: 'INBOX.Cut', local: 'INBOX.Cut' }] }), 'secret');
    // 1: cut inside the first batch (250 small messages, ~1.5 KB each).
    proxy.cutAfter(200_000);
    const r1 = (await service.fetchNow(s.id))!;
    assert.equal(proxy.cuts, 1);
    assert.match(r1.status.lastError ?? '', /closed|connection/i);
    assert.deepEqual(leftovers(local), []);
    assert.equal(local.folder('.Cut').length, 0, 'a batch is delivered whole or not at all');
    // 2: cut halfway through the 5 MB message (after both batches of small ones).
    proxy.cutAfter(Math.round(smallOctets * 1.2) + (5 << 19));
    const r2 = (await service.fetchNow(s.id))!;
    assert.equal(proxy.cuts, 2);
    assert.match(r2.status.lastError ?? '', /closed|connection/i);
    assert.deepEqual(leftovers(local), [], 'the half-received message is not left in tmp/ or the spool');
    assert.deepEqual(local.folder('.Cut'), sent.slice(0, 300));
    // 3: the next run fetches the rest, once.
    proxy.cutAfter(null);
    const r3 = (await service.fetchNow(s.id))!;
    assert.equal(r3.status.lastError, null);
    const got = local.folder('.Cut');
    assert.equal(got.length, 321);
    assert.deepEqual(got.slice(0, 300), sent.slice(0, 300));
    assert.equal(sha(got[300]!), bigHash);
    assert.deepEqual(got.slice(301), sent.slice(300));
    assert.equal(r3.status.fetchedTotal, 321);
    assertLedger(local, s.id, got);
    assert.deepEqual(leftovers(local), []);
    // POP3, cut halfway through the big message, then resumed.
    const popProxy = await startProxy(provider.pop3Port!);
    try {
      // POP3 sees only the INBOX: the same messages are put there, after what is there already
      // (the 30 MB message of the first test, when it ran).
      const inbox = ['new', 'cur'].flatMap((sub) => fs.readdirSync(path.join(provider.maildir, sub)).map((f) => path.join(provider.maildir, sub, f)));
      const already = inbox.length;
      const alreadyOctets = inbox.reduce((n, f) => n + fs.statSync(f).size, 0);
      for (const m of sent.slice(0, 300)) provider.deliver(m);
      await numbered(provider, 'INBOX');
      // Another 5 MB message (its own Subject, Message-ID and lines): its own hash.
      const againHash = bigAtProvider(provider, 5 << 20, 'five-again');
      await numbered(provider, 'INBOX');
      for (const m of sent.slice(300)) provider.deliver(m);
      const p = service.add('alice', imapSettings(popProxy.port, { kind: 'pop3', folders: [{ remote: 'INBOX', local: 'INBOX.PopCut' }] }), 'secret');
      // Cut halfway through the 5 MB message (RETR answers add a line each and dot-stuffing 0.2 %).
      popProxy.cutAfter(Math.round((alreadyOctets + smallOctets) * 1.03) + (5 << 19));
      const p1 = (await service.fetchNow(p.id))!;
      assert.equal(popProxy.cuts, 1);
      assert.match(p1.status.lastError ?? '', /closed|connection/i);
      assert.deepEqual(leftovers(local), []);
      assert.equal(local.folder('.PopCut').length, already + 300);
      assert.deepEqual(local.folder('.PopCut').slice(already), sent.slice(0, 300));
      const p2 = (await service.fetchNow(p.id))!;
      assert.equal(p2.status.lastError, null);
      const popped = local.folder('.PopCut');
      assert.equal(popped.length, already + 321);
      assert.deepEqual(popped.slice(already, already + 300), sent.slice(0, 300));
      assert.equal(sha(popped[already + 300]!), againHash);
      assert.deepEqual(popped.slice(already + 301), sent.slice(300));
      assert.equal(p2.status.fetchedTotal, already + 321);
      assertLedger(local, p.id, popped);
      assert.deepEqual(leftovers(local), []);
      await service.remove(p.id);
    } finally {
      await popProxy.close();
    }
    await service.remove(s.id);
    await service.close();
  });

  it('a provider that trickles is given up at the deadline with a plain error, while another source goes on', async () => {
    service = await local.service({ stallMs: 4000 });
    const slow = service.add('alice', imapSettings(proxy.port, { folders: [{ remote: 'INBOX.Cut', local: 'INBOX.Slow' }] }), 'secret');
    const fast = service.add('alice', imapSettings(provider.imapPort, { folders: [{ remote: 'INBOX.Cut', local: 'INBOX.Fast' }] }), 'secret');
    proxy.throttle(300); // 3 KB/s: the login goes through, a batch of small messages does not in 1.5 s
    const t0 = Date.now();
    const slowRun = service.fetchNow(slow.id);
    const fastDone = (await service.fetchNow(fast.id))!;
    const fastMs = Date.now() - t0;
    assert.equal(fastDone.status.lastError, null);
    assert.equal(local.folder('.Fast').length, 321);
    const slowDone = (await slowRun)!;
    const slowMs = Date.now() - t0;
    proxy.throttle(null);
    assert.match(slowDone.status.lastError ?? '', /sent too little for 4 seconds/);
    assert.equal(slowDone.status.failures, 1);
    assert.ok(slowMs < 30_000, `given up after ${slowMs} ms`);
    assert.ok(fastMs < slowMs, 'the other source did not wait for the slow one');
    assert.deepEqual(leftovers(local), []);
    await service.remove(slow.id);
    await service.remove(fast.id);
    await service.close();
  });

  it('a server that answers garbage: a plain error, soon, over IMAP and POP3', async () => {
    const garbage = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write('HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<html>\x00\xff\xfe garbage\r\n');
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const port = (garbage.address() as net.AddressInfo).port;
    try {
      service = await local.service({ stallMs: 3000 });
      for (const kind of ['imap', 'pop3'] as const) {
        const s = service.add('alice', imapSettings(port, { kind }), 'secret');
        const t0 = Date.now();
        const r = (await service.fetchNow(s.id))!;
        assert.equal(r.status.failures, 1);
        assert.match(r.status.lastError ?? '', kind === 'pop3' ? /not POP3/ : /greeting/i, r.status.lastError ?? '');
        assert.ok(Date.now() - t0 < 20_000);
        await service.remove(s.id);
      }
      await service.close();
    } finally {
      await new Promise<void>((resolve) => garbage.close(() => resolve()));
    }
  });

  it('Fetch now on a disabled source fetches once and leaves it off', async () => {
    service = await local.service();
    service.start();
    const s = service.add('alice', imapSettings(provider.imapPort, { enabled: false, folders: [{ remote: 'INBOX.Cut', local: 'INBOX.Off' }] }), 'secret');
    assert.equal(service.get(s.id)!.status.state, 'disabled');
    const r = (await service.fetchNow(s.id))!;
    assert.equal(r.status.lastError, null);
    assert.equal(r.status.state, 'disabled');
    assert.equal(r.status.fetchedTotal, 321);
    assert.equal(local.folder('.Off').length, 321);
    // No IDLE kept open for it: new mail at the provider stays there.
    provider.deliver(simpleMessage('while off'), '.Cut');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(local.folder('.Off').length, 321);
    assert.equal(service.get(s.id)!.status.state, 'disabled');
    await service.remove(s.id);
    await service.close();
  });

  it('FETCH_MAXMSGSIZE: a message over the limit stays at the provider with a plain error, fetched once the limit is raised', async () => {
    let limit = 1 << 20;
    service = await local.service({ maxMessageSize: () => limit });
    const s = service.add('alice', imapSettings(provider.imapPort, { folders: [{ remote: 'INBOX.Cut', local: 'INBOX.Limit' }] }), 'secret');
    const r = (await service.fetchNow(s.id))!;
    assert.match(r.status.lastError ?? '', /over the limit of 1048576 octets for fetched mail \(FETCH_MAXMSGSIZE\)/);
    assert.equal(local.folder('.Limit').length, 300, 'those before the big one are fetched');
    assert.deepEqual(leftovers(local), []);
    limit = 64 << 20;
    const r2 = (await service.fetchNow(s.id))!;
    assert.equal(r2.status.lastError, null);
    assert.equal(local.folder('.Limit').length, 322);
    await service.remove(s.id);
    await service.close();
  });
});

