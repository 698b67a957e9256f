// Several servers, one store (issue 17): two imapd-server processes serve the same Maildir with
// the file watcher off (IMAP_FILE_WATCH=0, as on NFS, where inotify sees nothing another host
// does) and polling too slow to matter (IMAP_IDLE_TIMEOUT=600). With the accounts in PostgreSQL,
// a change made through one server reaches the IDLE clients of the other through LISTEN/NOTIFY:
// each once, fast, with UIDs that never collide while clients append through both at once.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/root.js';
import { postgresSkip, startPostgres, type PostgresPeer } from '../helpers/account-peers.js';
import { LineClient, eventually } from '../net/client.js';

const repo = ROOT;
const serverBin = join(repo, 'dist/server/bin/imapd-server.js');
const accountsBin = join(repo, 'dist/server/bin/imapd-accounts.js');
let peer: PostgresPeer;
let root: string;
const children: ChildProcess[] = [];

function startServer(config: string, data: string): Promise<{ port: number; child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [serverBin, '--config', config, '--data', data, '--address', '127.0.0.1', '--port', '0'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return eventually(() => /IMAP with STARTTLS/.test(out), 20_000, `listening line (${err})`).then(() => ({
    port: Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out)![1]),
    child,
    stderr: () => err,
  }));
}

function addAccount(url: string, data: string, maildir: string): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [accountsBin, '--data', data, '--accounts', url, 'add', 'alice', '--maildir', maildir, '--password-stdin'], { cwd: repo });
    child.on('close', done);
    child.stdin.end('secret\n');
  });
}

async function session(port: number): Promise<LineClient> {
  const c = await LineClient.plain(port);
  await c.line();
  assert.match((await c.command('a', 'LOGIN alice secret')).at(-1)!, /^a OK/);
  assert.match((await c.command('s', 'SELECT INBOX')).at(-1)!, /^s OK/);
  return c;
}

async function append(c: LineClient, n: number): Promise<number> {
  const body = `Subject: m${n}\r\n\r\nbody ${n}\r\n`;
  c.socket.write(`ap${n} APPEND INBOX {${body.length}+}\r\n${body}\r\n`);
  for (;;) {
    const line = await c.line(10_000);
    if (line.startsWith(`ap${n} `)) {
      assert.match(line, /OK \[APPENDUID \d+ (\d+)\]/);
      return Number(/APPENDUID \d+ (\d+)/.exec(line)![1]);
    }
  }
}

describe('two servers on one Maildir, the file watcher off', { skip: postgresSkip }, () => {
  let ports: number[] = [];
  before(async () => {
    peer = await startPostgres();
    root = await fs.mkdtemp(join(tmpdir(), 'imapd-cross-'));
    const url = await peer.database();
    const config = join(root, 'config');
    await fs.mkdir(config);
    await fs.writeFile(join(config, 'imapd'), `ACCOUNTS="${url}"\nIMAPDSSLSTART=NO\nIMAP_FILE_WATCH=0\nIMAP_IDLE_TIMEOUT=600\nMAXPERIP=100\n`);
    assert.equal(await addAccount(url, join(root, 'a'), join(root, 'Maildir')), 0);
    ports = (await Promise.all([startServer(config, join(root, 'a')), startServer(config, join(root, 'b'))])).map((s) => s.port);
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await peer?.stop();
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  test('an APPEND through one server reaches an IDLE client of the other at once (p99 printed), each message once', async () => {
    const idler = await session(ports[1]!);
    const writer = await session(ports[0]!);
    idler.socket.write('i IDLE\r\n');
    assert.match(await idler.line(), /^\+ /);
    const latencies: number[] = [];
    const heard: string[] = [];
    for (let n = 1; n <= 20; n++) {
      const started = performance.now();
      await append(writer, n);
      // From the APPEND's answer to the other server's EXISTS (RECENT lines come with it).
      for (;;) {
        const line = await idler.line(5_000);
        heard.push(line);
        if (/EXISTS/.test(line)) break;
      }
      latencies.push(performance.now() - started);
    }
    idler.socket.write('DONE\r\n');
    for (;;) {
      const line = await idler.line(5_000);
      if (line.startsWith('i ')) break;
      heard.push(line);
    }
    const exists = heard.filter((l) => /EXISTS/.test(l));
    assert.deepEqual(exists, Array.from({ length: 20 }, (_, i) => `* ${i + 1} EXISTS`), 'each message announced once, in order');
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1]!;
    process.stdout.write(`# cross-server IDLE: median ${latencies[10]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms\n`);
    // The target (p99 under 100 ms) is measured here and printed; the test holds the median to
    // a quarter of a second and every message to two, so that a busy machine does not fail it
    // (polling would take 600 s).
    assert.ok(latencies[10]! < 250, `median ${latencies[10]!.toFixed(1)} ms`);
    assert.ok(latencies.at(-1)! < 2000, `slowest ${latencies.at(-1)!.toFixed(1)} ms`);
    idler.socket.destroy();
    writer.socket.destroy();
  });

  test('flag changes and expunges through one server reach an IDLE client of the other', async () => {
    const idler = await session(ports[1]!);
    const writer = await session(ports[0]!);
    idler.socket.write('i IDLE\r\n');
    assert.match(await idler.line(), /^\+ /);
    const next = async (pattern: RegExp) => {
      for (;;) {
        const line = await idler.line(5_000);
        if (pattern.test(line)) return line;
      }
    };
    assert.match((await writer.command('f', 'STORE 1 +FLAGS (\\Flagged)')).at(-1)!, /^f OK/);
    assert.match(await next(/FETCH/), /^\* 1 FETCH \(FLAGS \(.*\\Flagged.*\)\)$/);
    assert.match((await writer.command('d', 'STORE 2 +FLAGS.SILENT (\\Deleted)')).at(-1)!, /^d OK/);
    await next(/^\* 2 FETCH/);
    assert.match((await writer.command('x', 'EXPUNGE')).at(-1)!, /^x OK/);
    assert.equal(await next(/EXPUNGE/), '* 2 EXPUNGE');
    idler.socket.write('DONE\r\n');
    await next(/^i OK/);
    idler.socket.destroy();
    writer.socket.destroy();
  });

  test('10 clients appending through both servers at once: no UID twice, every message seen by both', async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => session(ports[i % 2]!)));
    const uids = (await Promise.all(clients.map(async (c, i) => {
      const mine: number[] = [];
      for (let k = 0; k < 5; k++) mine.push(await append(c, 100 + i * 10 + k));
      return mine;
    }))).flat();
    assert.equal(new Set(uids).size, 50, `UIDs collided: ${uids.sort((a, b) => a - b).join(' ')}`);
    for (const port of ports) {
      const c = await session(port);
      const search = await c.command('u', 'UID SEARCH ALL');
      const seen = search.find((l) => l.startsWith('* SEARCH'))!.split(' ').slice(2).map(Number);
      for (const uid of uids) assert.ok(seen.includes(uid), `server ${port} lacks UID ${uid}`);
      c.socket.destroy();
    }
    for (const c of clients) c.socket.destroy();
  });
});
