// IMAP_PROXY (issue 12, item 7): two of our servers on loopback, the front one proxying the
// accounts whose mailhost is the other (the backend) there. Real sockets, real TLS between
// the two (STARTTLS on the backend's plain port, or TLS from the start), real Maildirs.

import { after, before, describe, it } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { ImapProxy, type ImapProxyOptions } from '../../server/net/proxy.js';
import { ImapFraming, literalAtEnd, startRelay, type FramingPart } from '../../server/net/relay.js';
import { ImapTestClient, ROOT } from '../helpers/imap-client.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { startNetworkServer, type TestNetworkServer } from '../helpers/network-server.js';

const PART_LIMIT = 2000;
const quiet = { log: () => undefined };

let dir: string;
let backendAccounts: SqliteAccountStore;
let backend: TestNetworkServer;
let aliceMaildir: string;
let closedPort: number;
const fronts: { server: TestNetworkServer; accounts: SqliteAccountStore }[] = [];
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A front server whose accounts alice, bob, carol and dave live elsewhere (see before()). */
async function startFront(name: string, options: Partial<ImapProxyOptions> = {}): Promise<TestNetworkServer> {
  const data = path.join(dir, name);
  fs.mkdirSync(data);
  const accounts = SqliteAccountStore.open(data);
  const here = emptyMaildir(path.join(dir, `${name}-alice`));
  await accounts.add({ username: 'alice', password: 'secret', maildir: here });
  await accounts.setMailhost('alice', `localhost:${backend.port}`);
  // bob's password here is not the one the backend has.
  await accounts.add({ username: 'bob', password: 'front-password' });
  await accounts.setMailhost('bob', `localhost:${backend.port}`);
  await accounts.add({ username: 'carol', password: 'secret' });
  await accounts.setMailhost('carol', `localhost:${closedPort}`);
  await accounts.add({ username: 'dave', password: 'secret' });
  await accounts.setMailhost('dave', `imaps://localhost:${backend.sslPort}`);
  const proxy = new ImapProxy({ foreign: false, proxyHostname: null, trustCerts: backend.tls.certFile, logger: quiet, stepTimeoutMs: 5000, ...options });
  const server = await startNetworkServer({
    dataDir: data,
    accounts,
    failureDelayMs: 100,
    proxy,
    timeouts: { unauthenticated: 60_000, authenticated: 30 * 60_000, literal: PART_LIMIT },
  });
  fronts.push({ server, accounts });
  return server;
}

async function connect(port: number): Promise<{ client: ImapTestClient; socket: net.Socket; closed: Promise<number> }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const start = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - start)));
  const client = new ImapTestClient(socket, socket);
  await client.greeting;
  return { client, socket, closed };
}

function message(subject: string, body = 'Hello.\r\n'): Buffer {
  return Buffer.from(`From: a@example.com\r\nTo: alice@example.com\r\nSubject: ${subject}\r\n\r\n${body}`);
}

let front: TestNetworkServer;

before(async () => {
  dir = tempDir('proxy');
  const data = path.join(dir, 'backend');
  fs.mkdirSync(data);
  backendAccounts = SqliteAccountStore.open(data);
  aliceMaildir = emptyMaildir(path.join(dir, 'backend-alice'));
  await backendAccounts.add({ username: 'alice', password: 'secret', maildir: aliceMaildir });
  await backendAccounts.add({ username: 'bob', password: 'backend-password', maildir: emptyMaildir(path.join(dir, 'backend-bob')) });
  await backendAccounts.add({ username: 'dave', password: 'secret', maildir: emptyMaildir(path.join(dir, 'backend-dave')) });
  backend = await startNetworkServer({ dataDir: data, accounts: backendAccounts, failureDelayMs: 100 });
  closedPort = await freePort();
  front = await startFront('front');
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const f of fronts) {
    await f.server.server.stop();
    f.accounts.close();
  }
  await backend.server.stop();
  backendAccounts.close();
  removeTree(dir);
});

describe('a proxied account', () => {
  it('logs in on its mailhost, answered with the mailhost\'s OK, and SELECT, APPEND and FETCH go there', { timeout: 30_000 }, async () => {
    const { client, socket } = await connect(front.server.endpoints().find((e) => e.kind === 'imap')!.port);
    const login = await client.command('LOGIN alice secret');
    assert.match(login.tagged, /^OK \[CAPABILITY IMAP4rev1 .*\] LOGIN Ok\.$/);
    assert.match((await client.append('INBOX', message('through the proxy'))).tagged, /^OK \[APPENDUID \d+ 1\]/);
    const select = await client.command('SELECT INBOX');
    assert.match(select.tagged, /^OK \[READ-WRITE\]/);
    assert.ok(select.lines.includes('* 1 EXISTS'), select.lines.join('\n'));
    const fetch = await client.command('FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.match(fetch.lines.join('\n'), /Subject: through the proxy/);
    // The message is in the backend's Maildir, not in the front's.
    assert.equal(fs.readdirSync(path.join(aliceMaildir, 'cur')).length + fs.readdirSync(path.join(aliceMaildir, 'new')).length, 1);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'front-alice', 'new')), []);
    assert.match((await client.command('LOGOUT')).tagged, /^OK/);
    socket.destroy();
  });

  it('logs in with AUTHENTICATE PLAIN too, and pipelined commands after the login reach the mailhost', { timeout: 30_000 }, async () => {
    const { client, socket } = await connect(front.port);
    const plain = Buffer.from('\0alice\0secret').toString('base64');
    client.send(`a AUTHENTICATE PLAIN ${plain}\r\nb NOOP\r\nc STATUS INBOX (MESSAGES)\r\n`);
    assert.match((await client.readUntilTagged('a')).tagged, /^OK \[CAPABILITY /);
    assert.match((await client.readUntilTagged('b')).tagged, /^OK/);
    const status = await client.readUntilTagged('c');
    assert.match(status.lines.join('\n'), /\* STATUS "INBOX" \(MESSAGES \d+\)/);
    socket.destroy();
  });

  it('sees new mail in IDLE through the relay', { timeout: 30_000 }, async () => {
    const { client, socket } = await connect(front.port);
    assert.match((await client.command('LOGIN alice secret')).tagged, /^OK/);
    const select = await client.command('SELECT INBOX');
    const exists = Number(/\* (\d+) EXISTS/.exec(select.lines.join('\n'))![1]);
    client.send('i IDLE\r\n');
    assert.match((await client.readResponseLine()).toString(), /^\+ /);
    // Delivered directly on the backend.
    const direct = await connect(backend.port);
    assert.match((await direct.client.command('LOGIN alice secret')).tagged, /^OK/);
    assert.match((await direct.client.append('INBOX', message('while idling'))).tagged, /^OK/);
    direct.socket.destroy();
    assert.equal((await client.readResponseLine()).toString(), `* ${exists + 1} EXISTS`);
    client.send('DONE\r\n');
    assert.match((await client.readUntilTagged('i')).tagged, /^OK/);
    socket.destroy();
  });

  it('is refused when the mailhost refuses the password, and when the password is wrong here', { timeout: 30_000 }, async () => {
    const { client, socket } = await connect(front.port);
    const refused = await client.command('LOGIN bob front-password');
    assert.match(refused.tagged, /^NO \[AUTHENTICATIONFAILED\]/);
    const wrong = await client.command('LOGIN alice wrong');
    assert.match(wrong.tagged, /^NO \[AUTHENTICATIONFAILED\] Login failed\./);
    // The session is still usable.
    assert.match((await client.command('LOGIN alice secret')).tagged, /^OK/);
    socket.destroy();
  });

  it('gets a clear NO [UNAVAILABLE] when the mailhost is down', { timeout: 30_000 }, async () => {
    const { client, socket } = await connect(front.port);
    const r = await client.command('LOGIN carol secret');
    assert.match(r.tagged, /^NO \[UNAVAILABLE\] Your mail server cannot be reached now/);
    assert.match((await client.command('NOOP')).tagged, /^OK/);
    socket.destroy();
  });

  it('reaches a mailhost written imaps://host:port over TLS from the start', { timeout: 30_000 }, async () => {
    const { client, socket } = await connect(front.port);
    assert.match((await client.command('LOGIN dave secret')).tagged, /^OK \[CAPABILITY /);
    assert.match((await client.command('SELECT INBOX')).tagged, /^OK/);
    socket.destroy();
  });

  it('keeps the client\'s deadlines: a command line trickled through the relay ends the connection', { timeout: 30_000 }, async () => {
    const { client, socket, closed } = await connect(front.port);
    assert.match((await client.command('LOGIN alice secret')).tagged, /^OK/);
    const started = Date.now();
    let stop = false;
    void (async () => {
      for (const ch of `a SELECT ${'y'.repeat(100)}`) {
        if (stop || socket.destroyed) break;
        socket.write(ch);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const took = await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), PART_LIMIT + 4000).unref())]);
    stop = true;
    assert.ok(took !== null, 'still connected long after the line deadline');
    assert.ok(Date.now() - started >= PART_LIMIT - 200, `dropped after ${Date.now() - started} ms`);
    socket.destroy();
  });

  it('is told BYE between responses when the front server stops', { timeout: 30_000 }, async () => {
    const other = await startFront('front-stop');
    const { client, closed } = await connect(other.port);
    assert.match((await client.command('LOGIN alice secret')).tagged, /^OK/);
    const stopped = other.server.stop();
    assert.equal((await client.readResponseLine()).toString(), '* BYE Server shutting down.');
    await closed;
    await stopped;
  });
});

describe('proxy settings', () => {
  it('IMAP_PROXY_FOREIGN=1 sends CAPABILITY after the login and passes its answer on', { timeout: 30_000 }, async () => {
    const foreign = await startFront('front-foreign', { foreign: true });
    const { client, socket } = await connect(foreign.port);
    const login = await client.command('LOGIN alice secret');
    assert.match(login.lines.join('\n'), /^\* CAPABILITY IMAP4rev1 /m);
    assert.match(login.tagged, /^OK CAPABILITY completed/);
    assert.match((await client.command('SELECT INBOX')).tagged, /^OK/);
    socket.destroy();
  });

  it('PROXY_HOSTNAME naming the mailhost serves the account here', { timeout: 30_000 }, async () => {
    const local = await startFront('front-local', { proxyHostname: 'localhost' });
    const { client, socket } = await connect(local.port);
    assert.match((await client.command('LOGIN alice secret')).tagged, /^OK/);
    assert.match((await client.append('INBOX', message('kept here'))).tagged, /^OK/);
    assert.equal(fs.readdirSync(path.join(dir, 'front-local-alice', 'new')).length + fs.readdirSync(path.join(dir, 'front-local-alice', 'cur')).length, 1);
    socket.destroy();
  });

  it('logs in with LOGIN and synchronizing literals where the mailhost offers no AUTH=PLAIN', { timeout: 30_000 }, async () => {
    const password = 'pa ss"wörd';
    const data = path.join(dir, 'backend-noplain');
    fs.mkdirSync(data);
    // The same certificate as the first backend, which the fronts trust.
    fs.cpSync(path.join(dir, 'backend', 'tls'), path.join(data, 'tls'), { recursive: true });
    const accounts = SqliteAccountStore.open(data);
    await accounts.add({ username: 'gina', password, maildir: emptyMaildir(path.join(dir, 'backend-gina')) });
    const plainless = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 100, overrides: { IMAP_CAPABILITY_TLS: 'IMAP4rev1 UIDPLUS IDLE' } });
    fronts.push({ server: plainless, accounts });
    const frontAccounts = fronts[0]!.accounts;
    await frontAccounts.add({ username: 'gina', password });
    await frontAccounts.setMailhost('gina', `localhost:${plainless.port}`);
    const { client, socket } = await connect(front.port);
    const login = await client.command(`LOGIN gina "pa ss\\"w\u00f6rd"`);
    // (8-bit in a quoted string: our parser takes UTF-8 there, as Courier does.)
    assert.match(login.tagged, /^OK \[CAPABILITY IMAP4rev1 UIDPLUS IDLE/);
    assert.match((await client.command('SELECT INBOX')).tagged, /^OK/);
    socket.destroy();
  });

  it('without TLS_TRUSTCERTS a self-signed mailhost certificate is not trusted: no password is sent', { timeout: 30_000 }, async () => {
    const lines: string[] = [];
    const untrusting = await startFront('front-untrusting', { trustCerts: null, logger: { log: (_l, m, f) => lines.push(`${m} ${JSON.stringify(f)}`) } });
    const { client, socket } = await connect(untrusting.port);
    assert.match((await client.command('LOGIN alice secret')).tagged, /^NO \[UNAVAILABLE\]/);
    assert.match(lines.join('\n'), /proxy: cannot connect .*TLS: self[- ]signed certificate/);
    socket.destroy();
  });
});

/** The resident memory of a process (Linux /proc), in bytes. */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** imapd-server as users run it (npm test builds first), here as the front with IMAP_PROXY=1. */
async function startFrontProcess(name: string): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const data = path.join(dir, name);
  const config = path.join(dir, `${name}-config`);
  fs.mkdirSync(config, { recursive: true });
  fs.writeFileSync(path.join(config, 'imapd'), 'IMAP_PROXY=1\n');
  fs.writeFileSync(path.join(config, 'imapd-ssl'), `TLS_TRUSTCERTS=${backend.tls.certFile}\n`);
  const accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'secret' });
  await accounts.setMailhost('alice', `localhost:${backend.port}`);
  accounts.close();
  const bin = path.join(ROOT, 'dist/server/bin/imapd-server.js');
  const child = spawn(process.execPath, [// A small young generation, so that the garbage of 60 MiB of chunks read and written is
    // collected as it goes and RSS shows what is held (the relay holds at most 64 KiB per direction).
    '--max-semi-space-size=1', bin, '--config', config, '--data', data, '--address', '127.0.0.1', '--port', '0', '--sslport', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const deadline = Date.now() + 20_000;
  while (!/listening on 127\.0\.0\.1:(\d+) \(IMAP with STARTTLS\)/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`imapd-server did not start: ${out}${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port: Number(/listening on 127\.0\.0\.1:(\d+) \(IMAP with STARTTLS\)/.exec(out)![1]), stderr: () => err };
}

describe('a large APPEND and FETCH through the relay', { skip: !fs.existsSync('/proc/self/status') && 'needs /proc to read the front\'s memory' }, () => {
  it('stream: the proxying imapd-server grows by far less than the 60 MiB message', { timeout: 180_000 }, async () => {
    const front = await startFrontProcess('front-process');
    const size = 60 * 1024 * 1024;
    const socket = net.connect(front.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const client = new ImapTestClient(socket, socket);
    await client.greeting;
    assert.match((await client.command('LOGIN alice secret')).tagged, /^OK \[CAPABILITY /, front.stderr());
    assert.match((await client.command('CREATE INBOX.Big')).tagged, /^OK/);
    const pid = front.child.pid!;
    const base = rssOf(pid);
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
    try {
      client.send(`a APPEND INBOX.Big {${size}}\r\n`);
      assert.match((await client.readResponseLine()).toString(), /^\+/);
      const line = Buffer.alloc(1024, 'x');
      line.write('\r\n', 1022);
      const chunk = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'.padEnd(1022, ' ') + '\r\n'), ...Array.from({ length: 1023 }, () => line)]);
      for (let sent = 0; sent < size; sent += chunk.length) {
        if (!socket.write(chunk.subarray(0, Math.min(chunk.length, size - sent)))) await new Promise((r) => socket.once('drain', r));
      }
      socket.write('\r\n');
      assert.match((await client.readUntilTagged('a', 60_000)).tagged, /^OK/);
      const append = peak - base;
      // FETCH it back, counting the bytes as they come instead of keeping them.
      socket.removeAllListeners('data');
      let received = 0;
      const done = new Promise<void>((resolve) => {
        socket.on('data', (d: Buffer) => {
          received += d.length;
          if (d.subarray(-40).toString('latin1').includes('f OK')) resolve();
        });
      });
      socket.write('s SELECT INBOX.Big\r\nf FETCH 1 BODY.PEEK[]\r\n');
      await done;
      assert.ok(received > size, `received ${received}`);
      const mib = (n: number): string => (n / 1048576).toFixed(1);
      process.stderr.write(`proxying imapd-server RSS: ${mib(base)} MiB, grew by ${mib(append)} MiB in the APPEND, ${mib(peak - base)} MiB with the FETCH\n`);
      // Measured: 18 MiB and 22 MiB (TLS and allocator); the relay itself holds at most 64 KiB
      // per direction (see the backpressure test below). Holding the message would be 60 MiB or more.
      assert.ok(append < 30 * 1024 * 1024, `RSS grew by ${mib(append)} MiB in a 60 MiB APPEND`);
      assert.ok(peak - base < 30 * 1024 * 1024, `RSS grew by ${mib(peak - base)} MiB with a 60 MiB FETCH`);
    } finally {
      clearInterval(sampler);
      socket.destroy();
      front.child.kill('SIGTERM');
    }
  });
});

/** Two ends of a loopback TCP connection. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const a = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const b = await accepted;
  server.close();
  for (const s of [a, b]) s.on('error', () => undefined);
  return [a, b];
}

describe('the relay\'s backpressure', () => {
  for (const direction of ['client to server', 'server to client'] as const) {
    it(`takes from the ${direction.split(' ')[0]} only what the sockets hold while the other side does not read`, { timeout: 30_000 }, async () => {
      const [clientEnd, clientPeer] = await socketPair();
      const [serverEnd, serverPeer] = await socketPair();
      const relay = startRelay(
        { input: clientEnd, output: clientEnd, pending: Buffer.alloc(0), timeouts: { authenticated: 60_000, literal: 60_000 } },
        { input: serverEnd, output: serverEnd, pending: Buffer.alloc(0), destroy: () => serverEnd.destroy() },
      );
      const [writer, reader] = direction === 'client to server' ? [clientPeer, serverPeer] : [serverPeer, clientPeer];
      reader.pause();
      const size = 48 * 1024 * 1024;
      writer.write(`* 1 FETCH (BODY[] {${size}}\r\n`);
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      for (let i = 0; i < size / chunk.length; i++) writer.write(chunk);
      await new Promise((r) => setTimeout(r, 500));
      const taken = direction === 'client to server' ? relay.bytes.in : relay.bytes.out;
      assert.ok(taken < 24 * 1024 * 1024, `the relay took ${taken} octets of ${size} while nobody read them`);
      assert.ok(writer.writableLength > 0, 'the writer is held back');
      let received = 0;
      reader.on('data', (d: Buffer) => (received += d.length));
      reader.resume();
      const deadline = Date.now() + 20_000;
      while (received < size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(received > size, `received ${received}`);
      relay.stop(null);
      for (const s of [clientPeer, serverPeer]) s.destroy();
      await relay.done;
    });
  }
});

describe('the relay\'s framing tracker', () => {
  it('finds literal announcements at the end of a line', () => {
    assert.equal(literalAtEnd('a APPEND INBOX {12}\r'), 12);
    assert.equal(literalAtEnd('a APPEND INBOX {12+}'), 12);
    assert.equal(literalAtEnd('a APPEND INBOX ~{7}\r'), 7);
    assert.equal(literalAtEnd('a LOGIN {5-}\r'), 5);
    assert.equal(literalAtEnd('a NOOP\r'), null);
    assert.equal(literalAtEnd('a SEARCH {x}\r'), null);
    assert.equal(literalAtEnd('{}\r'), null);
  });

  it('follows lines and literals across chunks', () => {
    const f = new ImapFraming();
    const part = (): FramingPart | null => f.part;
    assert.equal(part(), null);
    f.observe(Buffer.from('a APPEND INBOX {1'), 1);
    assert.equal(part()?.kind, 'line');
    f.observe(Buffer.from('0}\r\n01234'), 2);
    assert.deepEqual(f.part, { kind: 'literal', since: 2, size: 10 });
    f.observe(Buffer.from('56789'), 3);
    assert.equal(part()?.kind, 'line'); // the command goes on after its literal
    f.observe(Buffer.from('\r\nb NOOP\r\n'), 4);
    assert.equal(part(), null);
    // A literal holding what looks like a line end and a literal announcement is data.
    f.observe(Buffer.from('c APPEND X {6}\r\n{9}\r\n\r\n'), 5);
    assert.equal(f.part, null);
  });
});
