// A small IMAP client for tests: sends a command, collects the responses up to its
// tagged reply, and understands literals in responses. It talks to anything with a
// readable and a writable side: a child process's stdio or a socket.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './root.js';
import type { Readable, Writable } from 'node:stream';

export { ROOT };
export const IMAPD = path.join(ROOT, 'dist/server/bin/imapd.js');
import { PEERS } from './peers.js';
export { PEERS };

export interface Reply {
  /** Untagged and continuation lines, literals inlined as their text (latin1). */
  lines: string[];
  /** The tagged line, without the tag. */
  tagged: string;
  /** Everything received for this command, exactly. */
  raw: Buffer;
  /** The command's tag (where the reply was read by it). */
  tag?: string;
}

/** How long a test waits for a response line unless told otherwise. */
export const RESPONSE_TIMEOUT_MS = 30_000;

export class ImapTestClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private counter = 0;
  closed = false;
  greeting: Promise<string>;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    /** false: the connection is already past its greeting (a client taken over after COMPRESS). */
    expectGreeting = true,
  ) {
    input.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    input.on('end', () => {
      this.closed = true;
      this.wake();
    });
    input.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.greeting = expectGreeting ? this.readResponseLine().then((b) => b.toString('latin1')) : Promise.resolve('');
    // A server that exits at once (a test of its error path) must not cause an unhandled rejection.
    this.greeting.catch(() => undefined);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async waitForData(): Promise<void> {
    if (this.closed) throw new Error('connection closed');
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /**
   * One response line with its literals inlined (CRLF removed at the end). The default wait is
   * long: on a shared, loaded 2-core machine an imapd process took over 10 s to greet.
   */
  async readResponseLine(timeoutMs = RESPONSE_TIMEOUT_MS): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    const parts: Buffer[] = [];
    for (;;) {
      const eol = this.buffer.indexOf('\r\n');
      if (eol >= 0) {
        const line = this.buffer.subarray(0, eol);
        const m = /\{(\d+)\}$/.exec(line.toString('latin1'));
        if (m) {
          const n = Number(m[1]);
          if (this.buffer.length >= eol + 2 + n) {
            parts.push(line, Buffer.from('\r\n'), this.buffer.subarray(eol + 2, eol + 2 + n));
            this.buffer = this.buffer.subarray(eol + 2 + n);
            continue;
          }
        } else {
          parts.push(line);
          this.buffer = this.buffer.subarray(eol + 2);
          return Buffer.concat(parts);
        }
      }
      if (Date.now() > deadline) throw new Error(`timeout waiting for a response; have: ${this.buffer.toString('latin1').slice(0, 200)}`);
      if (this.closed) {
        if (parts.length || this.buffer.length) return Buffer.concat([...parts, this.buffer]);
        throw new Error('connection closed');
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.waitForData(),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        }),
      ]).finally(() => clearTimeout(timer));
    }
  }

  send(text: string | Buffer): void {
    this.output.write(text);
  }

  /** Send "<tag> <command>\r\n" and read until the tagged reply. */
  async command(command: string, timeoutMs = RESPONSE_TIMEOUT_MS): Promise<Reply> {
    const tag = `t${++this.counter}`;
    this.send(`${tag} ${command}\r\n`);
    return this.readUntilTagged(tag, timeoutMs);
  }

  async readUntilTagged(tag: string, timeoutMs = RESPONSE_TIMEOUT_MS): Promise<Reply> {
    const lines: string[] = [];
    const raw: Buffer[] = [];
    for (;;) {
      const line = await this.readResponseLine(timeoutMs);
      raw.push(line, Buffer.from('\r\n'));
      const text = line.toString('latin1');
      if (text.startsWith(tag + ' ')) return { lines, tagged: text.slice(tag.length + 1), raw: Buffer.concat(raw), tag };
      lines.push(text);
    }
  }

  /** Send an APPEND with a synchronizing literal, waiting for the continuation. */
  async append(mailbox: string, message: Buffer, extra = ''): Promise<Reply> {
    const tag = `t${++this.counter}`;
    this.send(`${tag} APPEND ${mailbox}${extra ? ' ' + extra : ''} {${message.length}}\r\n`);
    const cont = (await this.readResponseLine()).toString('latin1');
    if (!cont.startsWith('+')) return { lines: [], tagged: cont.replace(/^\S+ /, ''), raw: Buffer.from(cont) };
    this.send(Buffer.concat([message, Buffer.from('\r\n')]));
    return this.readUntilTagged(tag);
  }

  nextTag(): string {
    return `t${++this.counter}`;
  }
}

export interface SpawnedImapd {
  client: ImapTestClient;
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  exited: Promise<number | null>;
  close(): Promise<void>;
}

/** A PREAUTH server on stdin/stdout, wrapped in a test client. */
function spawnPreauth(file: string, args: string[], env: Record<string, string>): SpawnedImapd {
  const child = spawn(file, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const client = new ImapTestClient(child.stdout, child.stdin);
  return {
    client,
    child,
    stderr: () => stderr,
    exited,
    async close() {
      if (child.exitCode === null) {
        try {
          await client.command('LOGOUT', 3000);
        } catch {
          /* already gone */
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Start our imapd in PREAUTH mode on a Maildir. */
export function spawnImapd(maildir: string, env: Record<string, string> = {}, command = IMAPD): SpawnedImapd {
  return spawnPreauth(process.execPath, [command, maildir], env);
}

/** Start Dovecot's imap in PREAUTH mode on a Maildir (index files go into it; see test/peers/dovecot-preauth.sh). */
export function spawnDovecot(maildir: string, env: Record<string, string> = {}): SpawnedImapd {
  return spawnPreauth(path.join(PEERS, 'dovecot-preauth.sh'), [maildir], env);
}

/** Start Courier's imapd in PREAUTH mode (Debian's courier-imap) on a Maildir. */
export function spawnCourier(maildir: string, env: Record<string, string> = {}): SpawnedImapd {
  return spawnPreauth(path.join(PEERS, 'courier-preauth.sh'), [maildir], env);
}
