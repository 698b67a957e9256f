// The client's side of the wire: responses split the way the server frames them (lines
// with literals), the channels (a child's stdio, a socket, a socket upgraded by STARTTLS).

import net from 'node:net';
import tls from 'node:tls';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';

export type ResponseKind = 'tagged' | 'continuation' | 'bye' | 'bad' | 'untagged';

export interface Response {
  kind: ResponseKind;
  /** The first line of the response (latin1, cut at 300 characters). */
  text: string;
}

/** FUZZ_TRACE=1 prints what is sent and received (for --replay). */
export const TRACE = process.env.FUZZ_TRACE === '1';
const SERVER_LITERAL = /\{(\d+)\}\r?$/;

/** Splits the server's output into responses; a consumer takes them in order. */
export class ServerOutput {
  private buffer: Buffer = Buffer.alloc(0);
  private scan = 0; // where the current response's next line starts
  private literalLeft = 0;
  private firstLine: string | null = null;
  private queue: Response[] = [];
  private waiter: (() => void) | null = null;
  closed = false;
  byeSeen = false;
  /** The first BYE's text ("* BYE Logging out"). */
  byeText = '';
  serverBug: string | null = null;

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    this.parse();
    this.wake();
  }

  /** Drop what was received but not yet parsed (after STARTTLS, as the server does). */
  reset(): void {
    this.buffer = Buffer.alloc(0);
    this.scan = 0;
    this.literalLeft = 0;
    this.firstLine = null;
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private parse(): void {
    for (;;) {
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, this.buffer.length - this.scan);
        this.scan += n;
        this.literalLeft -= n;
        if (this.literalLeft > 0) return;
      }
      const lf = this.buffer.indexOf(0x0a, this.scan);
      if (lf === -1) return;
      const line = this.buffer.toString('latin1', this.scan, Math.min(lf, this.scan + 400));
      if (this.firstLine === null) this.firstLine = line.replace(/\r$/, '');
      const tailStart = Math.max(this.scan, lf - 30);
      const m = SERVER_LITERAL.exec(this.buffer.toString('latin1', tailStart, lf));
      this.scan = lf + 1;
      if (m) {
        this.literalLeft = Number(m[1]);
        continue;
      }
      this.finish(this.firstLine);
      this.buffer = this.buffer.subarray(this.scan);
      this.scan = 0;
      this.firstLine = null;
    }
  }

  private finish(first: string): void {
    const text = first.slice(0, 300);
    const upper = text.toUpperCase();
    let kind: ResponseKind;
    if (text.startsWith('+')) kind = 'continuation';
    else if (upper.startsWith('* BYE')) kind = 'bye';
    else if (upper.startsWith('* BAD')) kind = 'bad';
    else if (text.startsWith('* ')) kind = 'untagged';
    else kind = 'tagged';
    if (kind === 'bye' && !this.byeSeen) {
      this.byeSeen = true;
      this.byeText = text;
    }
    if (TRACE) process.stderr.write(`S: ${JSON.stringify(text)}\n`);
    if (/\[SERVERBUG\]/i.test(text) && this.serverBug === null) this.serverBug = text;
    this.queue.push({ kind, text });
  }

  /** The next response of any kind (the greeting); null when closed, 'timeout' at the deadline. */
  async next(deadline: number): Promise<Response | null | 'timeout'> {
    for (;;) {
      const r = this.queue.shift();
      if (r) return r;
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await this.wait(left);
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * The next response that ends a client line: a tagged reply, a continuation request,
   * an untagged BAD or BYE. Null when the connection closed first; 'timeout' at the deadline.
   */
  async nextTerminating(deadline: number): Promise<Response | null | 'timeout'> {
    for (;;) {
      while (this.queue.length) {
        const r = this.queue.shift()!;
        if (r.kind !== 'untagged') return r;
      }
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await this.wait(left);
    }
  }
}

/** A literal announced at the end of a client line, as the server's reader finds it. */
export function announcement(line: Buffer): { size: number; nonSync: boolean } | null {
  let end = line.length;
  if (end > 0 && line[end - 1] === 0x0a) end--;
  if (end > 0 && line[end - 1] === 0x0d) end--;
  const tail = line.toString('latin1', Math.max(0, end - 40), end);
  const m = /(~?)\{(\d+)(\+?)\}$/.exec(tail);
  if (!m) return null;
  return { size: m[2].length > 15 ? Number.MAX_SAFE_INTEGER : Number(m[2]), nonSync: m[3] === '+' };
}

export interface Channel {
  readonly output: ServerOutput;
  write(data: Buffer): void;
  /** The client stops sending (end of input); the server should then close. */
  end(): void;
  destroy(): void;
  /** Begin TLS after "OK" to STARTTLS (network channels only). */
  startTls?(deadline: number): Promise<boolean>;
}

export function childChannel(child: ChildProcessWithoutNullStreams): Channel {
  const output = new ServerOutput();
  child.stdout.on('data', (d: Buffer) => output.push(d));
  child.stdout.on('close', () => output.close());
  child.stdin.on('error', () => undefined);
  return {
    output,
    write: (data) => {
      if (!child.stdin.destroyed) child.stdin.write(data);
    },
    end: () => child.stdin.end(),
    destroy: () => child.stdin.destroy(),
  };
}

export function socketChannel(socket: net.Socket): Channel {
  const output = new ServerOutput();
  let current: net.Socket = socket;
  const attach = (s: net.Socket) => {
    s.on('data', (d: Buffer) => {
      if (s === current) output.push(d);
    });
    s.on('close', () => {
      if (s === current) output.close();
    });
    s.on('error', () => undefined);
  };
  attach(socket);
  return {
    output,
    write: (data) => {
      if (!current.destroyed) current.write(data);
    },
    end: () => current.end(),
    destroy: () => current.destroy(),
    startTls: (deadline) =>
      new Promise<boolean>((resolve) => {
        output.reset();
        const plain = current;
        const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
        current = secure;
        attach(secure);
        const timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
        secure.once('secureConnect', () => {
          clearTimeout(timer);
          resolve(true);
        });
        secure.once('error', () => {
          clearTimeout(timer);
          resolve(false);
        });
      }),
  };
}

/** Connect to host:port, optionally with TLS from the start; null if refused or too slow. */
export function connectSocket(port: number, secure: boolean, deadline: number): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = secure
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, Math.max(0, deadline - Date.now()));
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}
