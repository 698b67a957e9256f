// What the fuzzer talks to: `imapd` on stdio (one process per session, each on its own
// copy of the seed Maildir) and `imapd-server` (one process, an account, many sockets).

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASSWORD, USER } from './corpus.js';
import { OTHER_USER, SHARABLE_NAME } from './corpus-ext.js';
import { makeOtherMaildir, strayFiles } from './maildir.js';
import { childChannel, connectSocket, socketChannel, type Channel } from './wire.js';

/** The repository: the nearest directory above this file with package.json (the fuzz test runs it compiled, under dist/tests/). */
export const ROOT = (() => {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) || path.dirname(dir) === dir) return dir;
  }
})();
const IMAPD = path.join(ROOT, 'dist/server/bin/imapd.js');
const IMAPD_SERVER = path.join(ROOT, 'dist/server/bin/imapd-server.js');
const IMAPD_ACCOUNTS = path.join(ROOT, 'dist/server/bin/imapd-accounts.js');

export type TargetName = 'stdio' | 'net';

/** FUZZ_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR": Node options for the servers started (to profile a finding). */
const NODE_ARGS = (process.env.FUZZ_NODE_ARGS ?? '').split(' ').filter(Boolean);

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One client session on a target. */
export interface TargetSession {
  channel: Channel;
  /** The process serving it (for RSS). */
  pid: number;
  /** Commands to send first (the login on the network), part of the history. */
  preamble: Buffer[];
  /** stdio: the process's exit. */
  exit?: Promise<ExitInfo>;
  stderr(): string;
  /** stdio, after dispose(): files left in the session's tmp/ directories. */
  strays?: string[];
  /** End the session: close the input, wait a little, then kill. Returns the exit (stdio). */
  dispose(): Promise<ExitInfo | null>;
}

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MAILDIR;
  delete env.IMAPLOGINTAG;
  delete env.IMAPD_TRACE;
  delete env.AUTHENTICATED;
  delete env.AUTHADDR;
  delete env.IMAP_SHAREDINDEXFILE;
  delete env.IMAPD_MAILDIRSHARED;
  return env;
}

function tail(text: string, max = 4000): string {
  return text.length > max ? text.slice(-max) : text;
}

function exitOf(child: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

async function settle<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)))]);
  clearTimeout(timer);
  return r;
}

export class StdioTarget {
  private counter = 0;
  /** The other account's Maildir, one for all sessions: #shared.fuzz2.* and shared.pub.* (see corpus-ext.ts). */
  readonly otherMaildir: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly template: string,
    private readonly workDir: string,
  ) {
    this.otherMaildir = path.join(workDir, 'stdio-other', 'Maildir');
    if (!fs.existsSync(this.otherMaildir)) makeOtherMaildir(this.otherMaildir);
    const index = path.join(workDir, 'stdio-other', 'sharedindex');
    fs.writeFileSync(index, `${OTHER_USER}\t1000\t1000\t${path.dirname(this.otherMaildir)}\t${this.otherMaildir}\n`);
    const sharable = path.join(workDir, 'stdio-other', 'maildirshared');
    fs.writeFileSync(sharable, `${SHARABLE_NAME}\t${this.otherMaildir}\n`);
    this.env = { ...childEnv(), USER, IMAP_SHAREDINDEXFILE: index, IMAPD_MAILDIRSHARED: sharable };
  }

  /** Spawn imapd on a fresh copy of the seed Maildir; null if it did not greet in time. */
  async open(greetMs: number): Promise<TargetSession | { failed: string }> {
    const dir = path.join(this.workDir, `stdio-${process.pid}-${this.counter++}`);
    fs.cpSync(this.template, dir, { recursive: true });
    const child = spawn(process.execPath, [...NODE_ARGS, IMAPD, dir], { stdio: ['pipe', 'pipe', 'pipe'], env: this.env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = tail(stderr + d.toString('utf8'))));
    const exit = exitOf(child);
    const channel = childChannel(child);
    // (Retries: a full-text index writer may still be closing its files in the copy.)
    const cleanup = () => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
    const greeting = await channel.output.next(Date.now() + greetMs);
    if (greeting === null || greeting === 'timeout' || !greeting.text.startsWith('* PREAUTH')) {
      child.kill('SIGKILL');
      await exit;
      cleanup();
      return { failed: `imapd did not greet: ${greeting === null ? 'exited' : greeting === 'timeout' ? 'timeout' : greeting.text}; ${stderr}` };
    }
    const session: TargetSession = {
      channel,
      pid: child.pid!,
      preamble: [],
      exit,
      stderr: () => stderr,
      async dispose() {
        channel.end();
        let info = await settle(exit, 3000);
        if (info === null) {
          child.kill('SIGKILL');
          await exit;
          info = null;
        }
        session.strays = strayFiles(dir);
        cleanup();
        return info;
      },
    };
    return session;
  }
}

/** imapd-server with one account whose Maildir is a copy of the seed Maildir. */
export class NetServer {
  private child: ChildProcess | null = null;
  private stderrText = '';
  port = 0;
  sslPort = 0;
  exit: Promise<ExitInfo> | null = null;
  stopping = false;
  /** It exited without being stopped: its Maildir may hold what a crash leaves. */
  crashed = false;
  readonly maildir: string;
  /** The second account's (fuzz2's) Maildir, whose folders anyone may use (#shared.fuzz2.*). */
  readonly otherMaildir: string;

  constructor(
    private readonly template: string,
    private readonly dataDir: string,
  ) {
    this.maildir = path.join(dataDir, 'Maildir');
    this.otherMaildir = path.join(dataDir, 'Maildir2');
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  stderr(): string {
    return this.stderrText;
  }

  /** Make the data directory (account, fresh Maildir) and start the server. */
  async start(startMs = 30_000): Promise<void> {
    fs.rmSync(this.maildir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
    fs.mkdirSync(this.dataDir, { recursive: true });
    fs.rmSync(this.otherMaildir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
    fs.cpSync(this.template, this.maildir, { recursive: true });
    makeOtherMaildir(this.otherMaildir);
    if (!fs.existsSync(path.join(this.dataDir, 'accounts.sqlite'))) {
      for (const [user, maildir] of [[USER, this.maildir], [OTHER_USER, this.otherMaildir]]) {
        execFileSync(process.execPath, [IMAPD_ACCOUNTS, '--data', this.dataDir, 'add', user, '--maildir', maildir, '--password-stdin'], {
          input: `${PASSWORD}\n`,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      }
    }
    const config = path.join(this.dataDir, 'config');
    fs.mkdirSync(config, { recursive: true });
    // Many sessions from 127.0.0.1 at once; the default MAXPERIP of 4 would refuse them.
    fs.writeFileSync(path.join(config, 'imapd'), 'MAXDAEMONS=400\nMAXPERIP=0\nIMAPDSTART=YES\n');
    fs.writeFileSync(path.join(config, 'imapd-ssl'), 'IMAPDSSLSTART=YES\nIMAP_TLS_REQUIRED=0\n');
    this.stopping = false;
    const child = spawn(
      process.execPath,
      [...NODE_ARGS, IMAPD_SERVER, '--config', config, '--data', this.dataDir, '--address', '127.0.0.1', '--port', '0', '--sslport', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() },
    );
    this.child = child;
    this.exit = exitOf(child);
    this.crashed = false;
    void this.exit.then(() => {
      if (!this.stopping) this.crashed = true;
    });
    this.stderrText = '';
    child.stderr!.on('data', (d: Buffer) => (this.stderrText = tail(this.stderrText + d.toString('utf8'), 20_000)));
    let out = '';
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        const plain = /listening on 127\.0\.0\.1:(\d+) \(IMAP with STARTTLS\)/.exec(out);
        const secure = /listening on 127\.0\.0\.1:(\d+) \(IMAP over TLS\)/.exec(out);
        if (plain && secure) {
          this.port = Number(plain[1]);
          this.sslPort = Number(secure[1]);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`imapd-server exited with ${code} at start: ${this.stderrText}`)));
    });
    const started = await settle(ready.then(() => true), startMs);
    if (!started) throw new Error(`imapd-server did not start: ${out} ${this.stderrText}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.exit) return;
    this.stopping = true;
    child.kill('SIGTERM');
    if ((await settle(this.exit, 5000)) === null) {
      this.crashed = true; // killed: what it leaves is not a finding
      child.kill('SIGKILL');
      await this.exit;
    }
    this.child = null;
  }

  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A new client connection, greeted; `login` adds a LOGIN to the preamble. */
  async open(options: { secure: boolean; login: boolean; greetMs: number }): Promise<TargetSession | { failed: string }> {
    const deadline = Date.now() + options.greetMs;
    const socket = await connectSocket(options.secure ? this.sslPort : this.port, options.secure, deadline);
    if (!socket) return { failed: 'connection refused or not accepted in time' };
    const channel = socketChannel(socket);
    const greeting = await channel.output.next(deadline);
    if (greeting === null || greeting === 'timeout' || !greeting.text.startsWith('* OK')) {
      socket.destroy();
      return { failed: `no greeting: ${greeting === null ? 'closed' : greeting === 'timeout' ? 'timeout' : greeting.text}` };
    }
    return {
      channel,
      pid: this.pid,
      preamble: options.login ? [Buffer.from(`L1 LOGIN ${USER} ${PASSWORD}\r\n`)] : [],
      stderr: () => this.stderrText,
      async dispose() {
        channel.end();
        const closed = await settle(new Promise<void>((resolve) => (channel.output.closed ? resolve() : socket.once('close', () => resolve()))), 2000);
        if (closed === null) socket.destroy();
        return null;
      },
    };
  }
}

/** Resident memory of a process in MiB (0 when it is gone). */
export function rssMiB(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
