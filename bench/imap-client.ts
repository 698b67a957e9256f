// A small IMAP client for benchmarks: it splits the server's output into responses (literals
// counted by byte, never by line), matches tagged replies to commands, and times each command
// from the moment it is written to the moment its tagged reply has been read. It keeps nothing
// it is not asked to keep, so a FETCH of 100,000 envelopes costs little memory on our side.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Writable, type Readable } from 'node:stream';
import zlib from 'node:zlib';

export interface ImapResponse {
  /** the response text: its lines joined by "\n"; literal contents are left out (their `{n}` stays) */
  text: string;
  /** bytes of literal data in this response */
  literalBytes: number;
  /** literal contents, only when the command asked for them */
  literals?: Buffer[];
  /** performance.now() when the response was complete */
  at: number;
}

export interface CommandResult {
  tag: string;
  status: 'OK' | 'NO' | 'BAD';
  text: string;
  /** milliseconds from writing the command to reading its tagged reply */
  ms: number;
  untagged: number;
  /** all bytes received (lines and literals) between sending and the tagged reply */
  bytesIn: number;
}

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`timeout after ${(ms / 1000).toFixed(0)} s: ${what}`);
  }
}

export class ClosedError extends Error {}

interface Pending {
  tag: string;
  started: number;
  untagged: number;
  bytesAtStart: number;
  keepLiterals: boolean;
  onUntagged?: (r: ImapResponse) => void;
  resolve: (r: CommandResult) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

const LITERAL_AT_END = /\{(\d+)\+?\}$/;

export class ImapClient {
  private tagCounter = 0;
  private pending: Pending | undefined;
  private partial: Buffer[] = [];
  private lines: string[] = [];
  private literalLeft = 0;
  private literalBytes = 0;
  private literals: Buffer[] | undefined;
  private bytesIn = 0;
  private closed = false;
  private closeError: Error | undefined;
  private waiters: { match: (r: ImapResponse) => boolean; resolve: (r: ImapResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  /** called for every untagged response that no running command claimed (IDLE notifications) */
  onUnsolicited: ((r: ImapResponse) => void) | undefined;

  constructor(private readonly input: Readable, private readonly output: Writable, private readonly label = 'server') {
    input.on('data', (chunk: Buffer) => this.onData(chunk));
    const end = (why: string) => () => this.fail(new ClosedError(`${this.label}: connection ${why}`));
    input.on('end', end('closed'));
    input.on('close', end('closed'));
    input.on('error', (e: Error) => this.fail(new ClosedError(`${this.label}: ${e.message}`)));
    output.on('error', (e: Error) => this.fail(new ClosedError(`${this.label}: ${e.message}`)));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = err;
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, chunk.length - pos);
        if (this.literals) this.literals.push(Buffer.from(chunk.subarray(pos, pos + take)));
        this.literalLeft -= take;
        this.literalBytes += take;
        pos += take;
        continue;
      }
      const lf = chunk.indexOf(10, pos);
      if (lf < 0) {
        this.partial.push(Buffer.from(chunk.subarray(pos)));
        break;
      }
      let line: string;
      if (this.partial.length) {
        this.partial.push(chunk.subarray(pos, lf));
        line = Buffer.concat(this.partial).toString('latin1');
        this.partial = [];
      } else line = chunk.toString('latin1', pos, lf);
      pos = lf + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.lines.push(line);
      const lit = LITERAL_AT_END.exec(line);
      if (lit) {
        this.literalLeft = Number(lit[1]);
        if (!this.literals && this.pending?.keepLiterals) this.literals = [];
        continue;
      }
      this.emit();
    }
  }

  private emit(): void {
    const text = this.lines.length === 1 ? this.lines[0]! : this.lines.join('\n');
    const r: ImapResponse = { text, literalBytes: this.literalBytes, at: performance.now() };
    if (this.literals) r.literals = this.literals;
    this.lines = [];
    this.literalBytes = 0;
    this.literals = undefined;

    const p = this.pending;
    if (p && text.startsWith(p.tag + ' ')) {
      this.pending = undefined;
      clearTimeout(p.timer);
      const rest = text.slice(p.tag.length + 1);
      const status = rest.slice(0, rest.indexOf(' ') < 0 ? undefined : rest.indexOf(' ')).toUpperCase();
      p.resolve({
        tag: p.tag,
        status: status === 'OK' || status === 'NO' ? status : 'BAD',
        text: rest,
        ms: r.at - p.started,
        untagged: p.untagged,
        bytesIn: this.bytesIn - p.bytesAtStart,
      });
      return;
    }
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      if (w.match(r)) {
        this.waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve(r);
        return;
      }
    }
    if (p && text.startsWith('* ')) {
      p.untagged++;
      p.onUntagged?.(r);
      return;
    }
    this.onUnsolicited?.(r);
  }

  /** Waits for a response the caller describes (the greeting, a "+" continuation, an IDLE push). */
  waitFor(match: (r: ImapResponse) => boolean, timeoutMs: number, what = 'response'): Promise<ImapResponse> {
    if (this.closed) return Promise.reject(this.closeError ?? new ClosedError(`${this.label}: closed`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new TimeoutError(`${this.label}: ${what}`, timeoutMs));
      }, timeoutMs);
      this.waiters.push({ match, resolve, reject, timer });
    });
  }

  greeting(timeoutMs: number): Promise<ImapResponse> {
    return this.waitFor((r) => r.text.startsWith('* '), timeoutMs, 'greeting');
  }

  nextTag(): string {
    return 'b' + (++this.tagCounter).toString().padStart(4, '0');
  }

  /**
   * Sends one command (without tag and CRLF) and resolves with its tagged reply. The untagged
   * responses it provokes go to `onUntagged`. The timer starts before the write.
   */
  command(
    command: string,
    opts: { timeoutMs: number; onUntagged?: (r: ImapResponse) => void; keepLiterals?: boolean; tag?: string },
  ): Promise<CommandResult> {
    const tag = opts.tag ?? this.nextTag();
    const p = this.begin(tag, opts);
    this.output.write(`${tag} ${command}\r\n`);
    return p;
  }

  private begin(tag: string, opts: { timeoutMs: number; onUntagged?: (r: ImapResponse) => void; keepLiterals?: boolean }): Promise<CommandResult> {
    if (this.closed) return Promise.reject(this.closeError ?? new ClosedError(`${this.label}: closed`));
    if (this.pending) return Promise.reject(new Error(`${this.label}: a command is already running (${this.pending.tag})`));
    return new Promise<CommandResult>((resolve, reject) => {
      const pending: Pending = {
        tag, started: performance.now(), untagged: 0, bytesAtStart: this.bytesIn,
        keepLiterals: !!opts.keepLiterals, resolve, reject,
      };
      if (opts.onUntagged) pending.onUntagged = opts.onUntagged;
      pending.timer = setTimeout(() => {
        if (this.pending === pending) this.pending = undefined;
        reject(new TimeoutError(`${this.label}: ${tag}`, opts.timeoutMs));
      }, opts.timeoutMs);
      this.pending = pending;
    });
  }

  /**
   * APPEND with a synchronizing literal: the command line, the server's "+", the data, the tagged
   * reply. Timed from the first write to the tagged reply. Same method for every server.
   */
  async append(mailbox: string, flags: string, data: Buffer, timeoutMs: number, onUntagged?: (r: ImapResponse) => void): Promise<CommandResult> {
    const tag = this.nextTag();
    const done = this.begin(tag, onUntagged ? { timeoutMs, onUntagged } : { timeoutMs });
    const go = this.waitFor((r) => r.text.startsWith('+'), timeoutMs, 'APPEND continuation');
    // if the server rejects the command outright, the tagged reply ends `done` and `go` must not linger
    done.catch(() => undefined);
    this.output.write(`${tag} APPEND ${mailbox} (${flags}) {${data.length}}\r\n`);
    const first = await Promise.race([go.then(() => 'go' as const), done.then(() => 'done' as const)]);
    if (first === 'done') return done;
    this.output.write(data);
    this.output.write('\r\n');
    return done;
  }

  /**
   * A command with synchronizing literals (MULTIAPPEND, REPLACE): `parts[i]` is written, then
   * `{data[i].length}`, then after the server's "+" the data; `end` closes the command. With
   * one part it is `append` in general form.
   */
  async literalCommand(parts: string[], data: Buffer[], end: string, timeoutMs: number, onUntagged?: (r: ImapResponse) => void): Promise<CommandResult> {
    const tag = this.nextTag();
    const done = this.begin(tag, onUntagged ? { timeoutMs, onUntagged } : { timeoutMs });
    done.catch(() => undefined);
    for (let i = 0; i < parts.length; i++) {
      const plus = (r: ImapResponse) => r.text.startsWith('+');
      const go = this.waitFor(plus, timeoutMs, 'literal continuation');
      go.catch(() => undefined);
      this.output.write(`${i === 0 ? `${tag} ` : ''}${parts[i]} {${data[i]!.length}}\r\n`);
      const first = await Promise.race([go.then(() => 'go' as const), done.then(() => 'done' as const)]);
      if (first === 'done') {
        // a "+" that never came must not be taken from a later command (IDLE)
        for (const w of this.waiters.filter((x) => x.match === plus)) clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x.match !== plus);
        return done;
      }
      this.output.write(data[i]!);
    }
    this.output.write(`${end}\r\n`);
    return done;
  }

  /** Writes raw text (DONE after IDLE). */
  write(text: string): void {
    if (!this.closed) this.output.write(text);
  }
}

// ---------- server processes over stdin/stdout ----------

export interface ServerProcess {
  child: ChildProcess;
  client: ImapClient;
  pid: number;
  stderrFile: string;
}

/**
 * Starts a PREAUTH server (`argv[0] argv[1..]`) in its own process group, with stderr appended to a
 * file, and returns a client on its stdin/stdout. The process keeps its pid through exec, so
 * /proc/<pid> is the server itself.
 */
export function spawnPreauth(argv: string[], label: string, stderrFile: string, env?: NodeJS.ProcessEnv): ServerProcess {
  const err = fs.openSync(stderrFile, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', err], detached: true, env: env ?? process.env });
  fs.closeSync(err);
  const client = new ImapClient(child.stdout!, child.stdin!, label);
  return { child, client, pid: child.pid!, stderrFile };
}

/**
 * Kills the process group we started (the server and anything it forked), waiting a bounded
 * time; a child that is not a group leader (not spawned detached) is signalled alone.
 */
export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const wait = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      child.kill(name); // no such group: the child alone (false when already gone)
    }
  };
  if (await wait(graceMs)) return;
  signal('SIGTERM');
  if (await wait(2000)) return;
  signal('SIGKILL');
  await wait(2000);
}

/** Peak and current resident memory of a process, in KiB, from /proc/<pid>/status. */
export function memoryOf(pid: number): { hwmKiB: number; rssKiB: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    if (!hwm || !rss) return undefined;
    return { hwmKiB: Number(hwm[1]), rssKiB: Number(rss[1]) };
  } catch {
    return undefined;
  }
}

/** A TCP client on 127.0.0.1. */
export function connectTcp(port: number, label: string, timeoutMs: number): Promise<{ socket: net.Socket; client: ImapClient }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError(`${label}: connect`, timeoutMs));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve({ socket, client: new ImapClient(socket, socket, label) });
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** IMAP quoted string. */
export function quote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/**
 * The client side of COMPRESS=DEFLATE (RFC 4978) over a connection's raw streams, after the
 * tagged OK: what the server sends is inflated, what we write is deflated and sync-flushed per
 * write (one command, or one literal). The caller stops reading `input` itself first.
 */
export function deflateStreams(input: Readable, output: Writable): { input: Readable; output: Writable } {
  const inflate = zlib.createInflateRaw();
  input.pipe(inflate);
  const deflate = zlib.createDeflateRaw();
  deflate.pipe(output);
  const writer = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      deflate.write(chunk);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => callback());
    },
  });
  return { input: inflate, output: writer };
}

/**
 * The node options of a command's "#!/usr/bin/env -S node OPTIONS" line: the command runs with
 * them when started as installed (npx imapd, couriertcpd ... imapd), so the benches pass them too.
 */
export function shebangOptions(file: string): string[] {
  const first = fs.readFileSync(file, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node\b(.*)$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

/** Resolves once something accepts connections on 127.0.0.1:`port`; throws after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs / 1000} s`);
}
