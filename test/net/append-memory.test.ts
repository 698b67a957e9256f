// Large APPENDs are not held in memory (issue 9.4): five clients each upload 40 MB to
// `imapd-server` (a child process, so that its RSS is its own), paced, while the test reads
// the server's VmRSS from /proc; the messages arrive byte-exact; an upload cut off halfway
// leaves nothing in tmp/, cur/ or new/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { crlfSize } from '../../server/maildir/filenames.js';
import { ImapTestClient, ROOT } from '../helpers/imap-client.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';

const CLIENTS = 5;
const SIZE = 40 * 1024 * 1024;
const CHUNK = 1024 * 1024;

function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return kb ? Number(kb[1]) * 1024 : 0;
}

/** Piece `i` of client `n`'s message: a header first, then numbered lines (CRLF and bare LF both). */
function piece(n: number, i: number): Buffer {
  const out = Buffer.alloc(CHUNK, 0x2e);
  const head = i === 0 ? `From: client${n}@example.org\r\nSubject: big ${n}\r\n\r\n` : '';
  out.write(head, 'latin1');
  for (let at = head.length; at + 64 <= CHUNK; at += 64) {
    out.write(`client ${n} piece ${i} offset ${at}`.padEnd(62, '-') + (at % 128 === 0 ? '\r\n' : '.\n'), at, 'latin1');
  }
  return out;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('five 40 MB APPENDs keep the server small, arrive byte-exact, and a cut-off one leaves nothing', { timeout: 180_000, skip: process.platform !== 'linux' ? 'reads /proc' : false }, async () => {
  const base = tempDir('append-memory');
  const data = path.join(base, 'data');
  fs.mkdirSync(data);
  const maildir = emptyMaildir(path.join(base, 'Maildir'));
  const accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'carol', password: 'pw', maildir });
  accounts.close();
  const configDir = path.join(base, 'config');
  fs.mkdirSync(configDir);
  fs.writeFileSync(path.join(configDir, 'imapd'), 'MAXPERIP=10\n');
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/server/bin/imapd-server.js'), '--config', configDir, '--data', data, '--port', '0', '--sslport', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.resume();
  const sockets: net.Socket[] = [];
  try {
    const listening = /listening on \S+:(\d+) \(IMAP with STARTTLS\)/;
    for (let i = 0; i < 200 && !listening.test(out); i++) await wait(50);
    const port = Number(listening.exec(out)?.[1]);
    assert.ok(port > 0, out);

    const connect = async () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      sockets.push(socket);
      const client = new ImapTestClient(socket, socket);
      await client.greeting;
      assert.match((await client.command('LOGIN carol pw')).tagged, /^OK/);
      return { client, socket };
    };
    const clients = await Promise.all(Array.from({ length: CLIENTS + 1 }, connect));
    const before = rssOf(child.pid!);

    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling && child.exitCode === null) {
        peak = Math.max(peak, rssOf(child.pid!));
        await wait(100);
      }
    })();

    /** Send `pieces` of client n's message, paced; returns the hash of what was sent. */
    const upload = async (n: number, pieces: number, socket: net.Socket, nonSync: boolean, client: ImapTestClient) => {
      const tag = `up${n}`;
      client.send(`${tag} APPEND INBOX (\\Seen) {${SIZE}${nonSync ? '+' : ''}}\r\n`);
      if (!nonSync) assert.match((await client.readResponseLine()).toString(), /^\+/);
      const hash = createHash('sha256');
      let rfc822Size = 0; // no piece ends in CR: each counts alone
      for (let i = 0; i < pieces; i++) {
        const chunk = piece(n, i);
        hash.update(chunk);
        rfc822Size += crlfSize(chunk);
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
        await wait(40);
      }
      return { tag, sha: `${hash.digest('hex')} W=${rfc822Size}` };
    };

    // The sixth client goes away after a quarter of its message.
    const cut = clients[CLIENTS];
    await upload(CLIENTS, SIZE / CHUNK / 4, cut.socket, false, cut.client);
    cut.socket.destroy();

    const sent = await Promise.all(
      clients.slice(0, CLIENTS).map(async ({ client, socket }, n) => {
        const { tag, sha } = await upload(n, SIZE / CHUNK, socket, n % 2 === 1, client);
        socket.write('\r\n');
        const reply = await client.readUntilTagged(tag, 60_000);
        assert.match(reply.tagged, /^OK \[APPENDUID \d+ \d+\]/);
        return sha;
      }),
    );
    sampling = false;
    await sampler;

    const growth = peak - before;
    console.log(`server RSS ${Math.round(before / 1048576)} MiB before, peak ${Math.round(peak / 1048576)} MiB while ${CLIENTS} x ${SIZE / 1048576} MB were uploaded`);
    // Held in memory, the literals alone would be 200 MB.
    assert.ok(growth < 64 * 1024 * 1024, `server RSS grew by ${Math.round(growth / 1048576)} MiB`);

    const files = fs.readdirSync(path.join(maildir, 'cur'));
    assert.equal(files.length, CLIENTS, files.join('\n'));
    const stored = files.map((f) => {
      const name = new RegExp(`,S=${SIZE},W=(\\d+):2,S$`).exec(f);
      assert.ok(name, f);
      return `${createHash('sha256').update(fs.readFileSync(path.join(maildir, 'cur', f))).digest('hex')} W=${name[1]}`;
    });
    assert.deepEqual(stored.sort(), [...sent].sort());
    // The cut-off upload left nothing behind.
    for (let i = 0; i < 50 && fs.readdirSync(path.join(maildir, 'tmp')).some((f) => f.includes('append')); i++) await wait(100);
    assert.deepEqual(fs.readdirSync(path.join(maildir, 'tmp')).filter((f) => !f.startsWith('courier')), []);
    assert.deepEqual(fs.readdirSync(path.join(maildir, 'new')), []);
  } finally {
    for (const s of sockets) s.destroy();
    if (child.exitCode === null) child.kill('SIGKILL');
    removeTree(base);
  }
});
