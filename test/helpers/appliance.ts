// Helpers for the appliance tests: a running headless appliance (the real command, in a
// child process), a Python imaplib client, and raw IMAP connections.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './root.js';

export { ROOT };
export const APPLIANCE = path.join(ROOT, 'dist/server/bin/appliance.js');
export const CHROMIUM = process.env.PLAYWRIGHT_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `imapd-ts-${prefix}-`));
}

/** Lines of a stream as they come, with a way to wait for one. */
export class LineWatcher {
  readonly lines: string[] = [];
  private waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  private buffer = '';
  ended = false;

  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).replace(/\r$/, '');
        this.buffer = this.buffer.slice(nl + 1);
        this.lines.push(line);
        for (const w of [...this.waiters]) {
          if (w.test(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    });
    stream.on('end', () => (this.ended = true));
  }

  /** The first line (already seen or to come) that matches. */
  wait(test: RegExp | ((line: string) => boolean), timeoutMs = 10_000): Promise<string> {
    const fn = typeof test === 'function' ? test : (l: string) => test.test(l);
    const seen = this.lines.find(fn);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${String(test)} within ${timeoutMs} ms; got:\n${this.lines.join('\n')}`)), timeoutMs);
      this.waiters.push({ test: fn, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }
}

export interface RunningAppliance {
  proc: ChildProcess;
  out: LineWatcher;
  err: LineWatcher;
  url: string;
  guiPort: number;
  token: string;
  fingerprint: string | null;
  imapPort: number | null;
  imapsPort: number | null;
  stop(): Promise<number | null>;
}

/** Start the headless appliance on a data directory; any free ports unless the config says otherwise. */
export async function startAppliance(dataDir: string, args: string[] = [], options: { announce?: boolean } = {}): Promise<RunningAppliance> {
  // Not announced with DNS-SD unless asked: tests should not advertise themselves on the network.
  const announce = options.announce ? [] : ['--no-announce'];
  const proc = spawn(process.execPath, [APPLIANCE, '--data', dataDir, '--gui-port', '0', '--setup-port', '0', ...announce, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new LineWatcher(proc.stdout!);
  const err = new LineWatcher(proc.stderr!);
  let guiLine: string;
  try {
    guiLine = await out.wait(/^GUI: /, 20_000);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\nstderr:\n${err.lines.join('\n')}`);
  }
  const url = guiLine.slice('GUI: '.length);
  const parsed = new URL(url);
  const portOf = (re: RegExp) => {
    const line = out.lines.find((l) => re.test(l));
    return line ? Number(/port (\d+)/.exec(line)![1]) : null;
  };
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    out,
    err,
    url,
    guiPort: Number(parsed.port),
    token: parsed.searchParams.get('token')!,
    fingerprint: out.lines.find((l) => l.startsWith('certificate SHA-256 fingerprint: '))?.split(': ')[1] ?? null,
    imapPort: portOf(/^IMAP with STARTTLS/),
    imapsPort: portOf(/^IMAP over TLS/),
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Write config files before the first start (the appliance fills in the rest with defaults). */
export function writeConfig(dataDir: string, imapd: string, imapdSsl: string): void {
  fs.mkdirSync(path.join(dataDir, 'config'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'config', 'imapd'), imapd);
  fs.writeFileSync(path.join(dataDir, 'config', 'imapd-ssl'), imapdSsl);
}

export interface PythonClient {
  proc: ChildProcess;
  out: LineWatcher;
  exited: Promise<number | null>;
}

export function pythonIdle(port: number, user: string, password: string, folder = 'INBOX'): PythonClient {
  const proc = spawn('python3', [path.join(ROOT, 'test/helpers/imap_idle.py'), '127.0.0.1', String(port), user, password, folder], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new LineWatcher(proc.stdout!);
  const errs = new LineWatcher(proc.stderr!);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  void errs;
  return { proc, out, exited };
}

/** Open a plain connection and read its first line (greeting or BYE). The socket is left open. */
export function rawConnect(port: number): Promise<{ socket: net.Socket; first: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const timer = setTimeout(() => reject(new Error(`no greeting on port ${port}`)), 10_000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const nl = data.indexOf('\r\n');
      if (nl >= 0) {
        clearTimeout(timer);
        socket.removeAllListeners('data');
        resolve({ socket, first: data.slice(0, nl) });
      }
    });
  });
}

/** A Maildir with `count` small messages in cur/ (as copied from another server: no UID database yet). */
export function bigMaildir(root: string, count: number, folders: string[] = []): void {
  for (const dir of [root, ...folders.map((f) => path.join(root, `.${f}`))]) {
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  const dirs = [root, ...folders.map((f) => path.join(root, `.${f}`))];
  for (let i = 0; i < count; i++) {
    const body =
      `From: Sender ${i} <s${i}@example.org>\r\nTo: you@example.com\r\nSubject: Message number ${i}\r\n` +
      `Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m${i}@example.org>\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: multipart/alternative; boundary="b${i}"\r\n\r\n--b${i}\r\nContent-Type: text/plain\r\n\r\nHello ${i}\r\n` +
      `--b${i}\r\nContent-Type: text/html\r\n\r\n<p>Hello ${i}</p>\r\n--b${i}--\r\n`;
    const name = `${1700000000 + i}.M${i}P1.oldserver,S=${Buffer.byteLength(body)}:2,${i % 3 === 0 ? 'S' : ''}`;
    fs.writeFileSync(path.join(dirs[i % dirs.length]!, 'cur', name), body);
  }
}
