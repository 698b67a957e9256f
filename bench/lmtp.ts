// LMTP delivery benchmark (issue 16): deliveries per second of 20 KB messages into one account
// over LMTP, each written through the Maildir engine (tmp/, fsync, rename, UID), on one and on
// several connections at once, and how long an IDLE client of that account waits to be told.
//
//   npm run bench:lmtp -- [--messages 1000] [--size 20480] [--connections 1,4] [--idle-rounds 50]
//                         [--servers before=/path/to/old/dist,after=dist] [--rounds 3] [--cpu-prof DIR]
//
// --servers compares builds (each a dist/ folder of this repository, e.g. one built from an
// older commit and copied inside the checkout so that it finds node_modules): every round runs
// each of them in turn, on a fresh account, so that they share the machine's load; the table
// gives each one's median over the rounds. --cpu-prof writes the server's CPU profile to DIR.
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
const SERVER_BIN = 'server/bin/imapd-server.js';
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

async function startServer(dir: string, dist: string, cpuProf: string | undefined): Promise<{ child: ChildProcess; imapPort: number; lmtpPort: number }> {
  const config = path.join(dir, 'config');
  fs.mkdirSync(config, { recursive: true });
  fs.writeFileSync(path.join(config, 'imapd'), 'PORT=0\nLMTP_PORT=0\nMAXPERIP=50\n');
  fs.writeFileSync(path.join(config, 'imapd-ssl'), 'IMAPDSSLSTART=NO\nIMAPDSTARTTLS=NO\n');
  const node = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : [];
  const child = spawn(process.execPath, [...node, path.join(dist, SERVER_BIN), '--config', config, '--data', path.join(dir, 'data')], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
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

interface RunResult {
  /** Deliveries per second, per connection count. */
  rates: number[];
  /** The server's main thread's CPU time per delivery (ms), per connection count: what a loaded machine's noise does not change much. */
  cpu: number[];
  delays: number[];
}

/** CPU time (ms) a thread of a process has used: utime + stime of /proc/PID/task/TID/stat (Linux; 0 elsewhere). */
function threadCpuMs(pid: number, tid = pid): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

async function runOnce(dist: string, options: { count: number; size: number; connectionCounts: number[]; idleRounds: number; cpuProf?: string }): Promise<RunResult> {
  const { count, size, connectionCounts, idleRounds } = options;
  const dir = path.join(BENCH_ROOT, `lmtp-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const accounts = SqliteAccountStore.open(path.join(dir, 'data'));
  await accounts.add({ username: 'user', password: 'bench-password' });
  accounts.close();
  const { child, imapPort, lmtpPort } = await startServer(dir, dist, options.cpuProf);
  const rates: number[] = [];
  const cpu: number[] = [];
  const delays: number[] = [];
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
      const cpuBefore = threadCpuMs(child.pid!);
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
      rates.push(count / seconds);
      cpu.push((threadCpuMs(child.pid!) - cpuBefore) / count);
    }

    // IDLE delay, one delivery at a time.
    const lmtp = await LmtpClient.connect(lmtpPort);
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
    socket.destroy();
  } finally {
    await stopProcess(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { rates, cpu, delays };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '1000' },
      size: { type: 'string', default: '20480' },
      connections: { type: 'string', default: '1,4' },
      'idle-rounds': { type: 'string', default: '50' },
      servers: { type: 'string' },
      rounds: { type: 'string', default: '1' },
      'cpu-prof': { type: 'string' },
    },
  });
  const options = {
    count: Number(values.messages),
    size: Number(values.size),
    connectionCounts: values.connections!.split(',').map(Number),
    idleRounds: Number(values['idle-rounds']),
    ...(values['cpu-prof'] ? { cpuProf: path.resolve(values['cpu-prof']) } : {}),
  };
  const servers = (values.servers ?? 'this=dist').split(',').map((s) => {
    const [name, dist] = s.includes('=') ? s.split('=') as [string, string] : [s, s];
    return { name, dist: path.resolve(ROOT, dist) };
  });
  const rounds = Number(values.rounds);
  const results = new Map(servers.map((s) => [s.name, [] as RunResult[]]));
  const loads: string[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const server of servers) {
      loads.push(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!);
      results.get(server.name)!.push(await runOnce(server.dist, options));
      const last = results.get(server.name)!.at(-1)!;
      process.stderr.write(`round ${round + 1} ${server.name}: ${last.rates.map((r) => r.toFixed(0)).join(', ')} deliveries/s, ${last.cpu.map((c) => c.toFixed(2)).join(', ')} ms CPU each\n`);
    }
  }
  const cpus = os.cpus();
  process.stdout.write(`\nLMTP delivery into one account (imapd-server, Maildir with fsync), ${cpus.length} x ${cpus[0]?.model ?? 'CPU'}, Node ${process.version}\n`);
  process.stdout.write(`${rounds} round(s); load average (1 min) at the start of each run: ${loads.join(', ')}\n\n`);
  const names = servers.map((s) => s.name);
  const rows: string[] = [];
  options.connectionCounts.forEach((connections, i) => {
    const cells = names.map((n) => {
      const rates = results.get(n)!.map((r) => r.rates[i]!);
      return `${median(rates).toFixed(0)}/s (${rates.map((r) => r.toFixed(0)).join(', ')})`;
    });
    rows.push(`| ${options.count} messages of ${(options.size / 1024).toFixed(0)} KB, ${connections} connection${connections === 1 ? '' : 's'} | ${cells.join(' | ')} |`);
    const cpuCells = names.map((n) => {
      const each = results.get(n)!.map((r) => r.cpu[i]!);
      return `${median(each).toFixed(2)} ms (${each.map((c) => c.toFixed(2)).join(', ')})`;
    });
    rows.push(`| server main thread CPU per delivery, ${connections} connection${connections === 1 ? '' : 's'} | ${cpuCells.join(' | ')} |`);
  });
  if (options.idleRounds > 0) {
    const cells = names.map((n) => {
      const delays = results.get(n)!.flatMap((r) => r.delays).sort((a, b) => a - b);
      return `median ${percentile(delays, 50).toFixed(1)} ms, p95 ${percentile(delays, 95).toFixed(1)} ms, max ${delays.at(-1)!.toFixed(1)} ms`;
    });
    rows.push(`| IDLE delay (end of DATA to EXISTS), ${options.idleRounds} deliveries per round | ${cells.join(' | ')} |`);
  }
  process.stdout.write(`| what | ${names.join(' | ')} |\n|---|${names.map(() => '---|').join('')}\n${rows.join('\n')}\n`);
}

await main();
