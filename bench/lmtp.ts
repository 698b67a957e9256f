// LMTP delivery benchmark (issue 16): deliveries per second of 20 KB messages into one account
// over LMTP, each written through the Maildir engine (tmp/, fsync, rename, UID), on one and on
// several connections at once, and how long an IDLE client of that account waits to be told.
//
//   npm run bench:lmtp -- [--messages 1000] [--size 20480] [--connections 1,4] [--idle-rounds 50]
//
// The server is the real imapd-server (LMTP_PORT=0, plain IMAP on any free port) in a process
// of its own; this process is the LMTP client and the IDLE client. IDLE delay = from writing the
// end of DATA (".") to the "* n EXISTS" at the client; the deliveries of that part are spaced
// 50 ms apart so that each is measured alone.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { SqliteAccountStore } from '../server/accounts/index.js';
import { BENCH_ROOT } from './corpus.js';
import { connectTcp, stopProcess } from './imap-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVER = path.join(ROOT, 'dist/server/bin/imapd-server.js');
const TIMEOUT_MS = 30_000;

/** A minimal LMTP client: replies are read whole (multi-line ones too), commands may be pipelined. */
class LmtpClient {
  private buffer = '';
  private lines: string[] = [];
  private waiting: (() => void) | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl;
      while ((nl = this.buffer.indexOf('\r\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 2);
      }
      const w = this.waiting;
      this.waiting = null;
      w?.();
    });
  }

  static async connect(port: number): Promise<LmtpClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new LmtpClient(socket);
    await client.reply();
    client.write('LHLO bench.local\r\n');
    await client.reply();
    return client;
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** The next whole reply; its last line. */
  async reply(): Promise<string> {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const end = this.lines.findIndex((l) => /^\d{3}( |$)/.test(l));
      if (end >= 0) return this.lines.splice(0, end + 1).at(-1)!;
      if (Date.now() > deadline) throw new Error('LMTP reply timeout');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 1000).unref();
      });
    }
  }

  /** One transaction, MAIL / RCPT / DATA pipelined; returns when the message is saved. */
  async deliver(recipient: string, message: Buffer, onEnd?: () => void): Promise<void> {
    this.write(`MAIL FROM:<bench@example.org> SIZE=${message.length}\r\nRCPT TO:<${recipient}>\r\nDATA\r\n`);
    for (const expect of ['250', '250', '354']) {
      const r = await this.reply();
      if (!r.startsWith(expect)) throw new Error(`expected ${expect}, got ${r}`);
    }
    this.write(message);
    onEnd?.();
    this.write('.\r\n');
    const r = await this.reply();
    if (!r.startsWith('250')) throw new Error(`delivery refused: ${r}`);
  }

  close(): void {
    this.socket.end('QUIT\r\n');
  }
}

function message(n: number, size: number): Buffer {
  const head = `From: Bench <bench@example.org>\r\nTo: user@example.org\r\nSubject: bench message ${n}\r\nMessage-ID: <bench-${n}-${Date.now()}@example.org>\r\n\r\n`;
  const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n';
  return Buffer.from(head + line.repeat(Math.max(1, Math.round((size - head.length) / line.length))));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function startServer(dir: string): Promise<{ child: ChildProcess; imapPort: number; lmtpPort: number }> {
  const config = path.join(dir, 'config');
  fs.mkdirSync(config, { recursive: true });
  fs.writeFileSync(path.join(config, 'imapd'), 'PORT=0\nLMTP_PORT=0\nMAXPERIP=50\n');
  fs.writeFileSync(path.join(config, 'imapd-ssl'), 'IMAPDSSLSTART=NO\nIMAPDSTARTTLS=NO\n');
  const child = spawn(process.execPath, [SERVER, '--config', config, '--data', path.join(dir, 'data')], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  const ports = await new Promise<{ imapPort: number; lmtpPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`imapd-server did not start: ${out}`)), TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const imap = /127\.0\.0\.1:(\d+) \(IMAP without TLS\)/.exec(out);
      const lmtp = /127\.0\.0\.1:(\d+) \(LMTP delivery\)/.exec(out);
      if (imap && lmtp) {
        clearTimeout(timer);
        resolve({ imapPort: Number(imap[1]), lmtpPort: Number(lmtp[1]) });
      }
    });
    child.once('exit', (code) => reject(new Error(`imapd-server exited with ${code}: ${out}`)));
  });
  return { child, ...ports };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '1000' },
      size: { type: 'string', default: '20480' },
      connections: { type: 'string', default: '1,4' },
      'idle-rounds': { type: 'string', default: '50' },
    },
  });
  const count = Number(values.messages);
  const size = Number(values.size);
  const connectionCounts = values.connections!.split(',').map(Number);
  const idleRounds = Number(values['idle-rounds']);

  const dir = path.join(BENCH_ROOT, `lmtp-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const accounts = SqliteAccountStore.open(path.join(dir, 'data'));
  await accounts.add({ username: 'user', password: 'bench-password' });
  accounts.close();
  const { child, imapPort, lmtpPort } = await startServer(dir);
  const rows: string[] = [];
  try {
    // An IDLE client of the account all along, as a mail client would be.
    const { socket, client: imap } = await connectTcp(imapPort, 'idle', TIMEOUT_MS);
    await imap.greeting(TIMEOUT_MS);
    await imap.command('LOGIN user bench-password', { timeoutMs: TIMEOUT_MS });
    await imap.command('SELECT INBOX', { timeoutMs: TIMEOUT_MS });
    const existsAt: number[] = [];
    imap.onUnsolicited = (r) => {
      if (/^\* \d+ EXISTS/m.test(r.text)) existsAt.push(r.at);
    };
    imap.write('i1 IDLE\r\n');
    await imap.waitFor((r) => r.text.startsWith('+'), TIMEOUT_MS, 'IDLE continuation');

    let sent = 0;
    for (const connections of connectionCounts) {
      const clients = await Promise.all(Array.from({ length: connections }, () => LmtpClient.connect(lmtpPort)));
      const started = performance.now();
      let next = 0;
      await Promise.all(clients.map(async (c) => {
        while (next < count) {
          const n = next++;
          await c.deliver('user@example.org', message(sent + n, size));
        }
      }));
      const seconds = (performance.now() - started) / 1000;
      sent += count;
      for (const c of clients) c.close();
      rows.push(`| ${count} messages of ${(size / 1024).toFixed(0)} KB, ${connections} connection${connections === 1 ? '' : 's'} | ${(count / seconds).toFixed(0)} deliveries/s | ${seconds.toFixed(2)} s |`);
    }

    // IDLE delay, one delivery at a time.
    const lmtp = await LmtpClient.connect(lmtpPort);
    const delays: number[] = [];
    for (let i = 0; i < idleRounds; i++) {
      const before = existsAt.length;
      let endAt = 0;
      await lmtp.deliver('user@example.org', message(sent + i, size), () => (endAt = performance.now()));
      const deadline = Date.now() + TIMEOUT_MS;
      while (existsAt.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      if (existsAt.length === before) throw new Error('the IDLE client was not told');
      delays.push(existsAt[existsAt.length - 1]! - endAt);
      await new Promise((r) => setTimeout(r, 50));
    }
    lmtp.close();
    delays.sort((a, b) => a - b);
    rows.push(`| IDLE delay (end of DATA to EXISTS), ${idleRounds} deliveries | median ${percentile(delays, 50).toFixed(1)} ms, p95 ${percentile(delays, 95).toFixed(1)} ms | max ${delays.at(-1)!.toFixed(1)} ms |`);
    socket.destroy();
  } finally {
    await stopProcess(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const cpus = os.cpus();
  process.stdout.write(`\nLMTP delivery into one account (imapd-server, Maildir with fsync), ${cpus.length} x ${cpus[0]?.model ?? 'CPU'}, Node ${process.version}\n\n`);
  process.stdout.write('| what | result | time |\n|---|---|---|\n' + rows.join('\n') + '\n');
}

await main();
