// The client's side of the wire: responses split the way the server frames them (lines
// with literals), the channels (a child's stdio, a socket, a socket upgraded by STARTTLS).

import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';

export type ResponseKind = 'tagged' | 'continuation' | 'bye' | 'bad' | 'untagged';

export interface Response {
  kind: ResponseKind;
  /** The first line of the response (latin1, cut at 300 characters). */
  text: string;
  /** The word after the tag (OK, NO, BAD...), however long the tag. */
  status: string;
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
  private firstStatus = '';
  /** The first word of the response's first line, however long (a tag). */
  private firstTag = '';
  private queue: Response[] = [];
  private waiter: (() => void) | null = null;
  closed = false;
  byeSeen = false;
  /** The first BYE's text ("* BYE Logging out"). */
  byeText = '';
  serverBug: string | null = null;
  /** COMPRESS=DEFLATE (RFC 4978): after the tagged OK of `compressTag`, input is inflated. */
  private compressTag: string | null = null;
  private inflate: zlib.InflateRaw | null = null;
  private closePending = false;

  /** The client sent "TAG COMPRESS DEFLATE": from that tag's OK on, the server deflates. */
  expectCompress(tag: string): void {
    this.compressTag = tag;
  }

  get compressed(): boolean {
    return this.inflate !== null;
  }

  push(chunk: Buffer): void {
    if (this.inflate) this.inflate.write(chunk);
    else this.pushPlain(chunk);
  }

  private startInflate(rest: Buffer): void {
    const inflate = zlib.createInflateRaw();
    this.inflate = inflate;
    inflate.on('data', (d: Buffer) => this.pushPlain(d));
    inflate.on('error', (err) => {
      this.serverBug ??= `invalid DEFLATE data from the server: ${err.message}`;
      this.closeNow();
    });
    if (rest.length) inflate.write(rest);
    if (this.closePending) inflate.flush(() => this.closeNow());
  }

  private pushPlain(chunk: Buffer): void {
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
    this.closePending = true;
    // The inflater may hold the last responses (BYE): it closes once they are out.
    // (A stream cut at a sync flush is complete data, not an error: flush, do not end.)
    if (this.inflate && !this.inflate.destroyed) this.inflate.flush(() => this.closeNow());
    else this.closeNow();
  }

  private closeNow(): void {
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
      if (this.firstLine === null) {
        this.firstLine = line.replace(/\r$/, '');
        const sp = this.buffer.indexOf(0x20, this.scan);
        this.firstStatus = sp >= 0 && sp < lf ? this.buffer.toString('latin1', sp + 1, Math.min(lf, sp + 8)).split(/[ \r]/)[0] : '';
        this.firstTag = sp >= 0 && sp < lf ? this.buffer.toString('latin1', this.scan, sp) : '';
      }
      const tailStart = Math.max(this.scan, lf - 30);
      const m = SERVER_LITERAL.exec(this.buffer.toString('latin1', tailStart, lf));
      this.scan = lf + 1;
      if (m) {
        this.literalLeft = Number(m[1]);
        continue;
      }
      const first = this.firstLine;
      this.finish(first, this.firstStatus);
      this.buffer = this.buffer.subarray(this.scan);
      this.scan = 0;
      this.firstLine = null;
      if (this.compressTag !== null && this.firstTag === this.compressTag) {
        const ok = this.firstStatus.toUpperCase() === 'OK';
        this.compressTag = null;
        if (ok) {
          const rest = this.buffer;
          this.buffer = Buffer.alloc(0);
          this.startInflate(rest);
          return;
        }
      }
    }
  }

  private finish(first: string, status: string): void {
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
    this.queue.push({ kind, text, status });
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
  /** Deflate what is written from now on (after "OK" to COMPRESS DEFLATE). */
  compress(): void;
  /** Bytes straight to the transport, past the deflater (hostile cases). */
  writeRaw(data: Buffer): void;
}

/** The writing half of a channel, with COMPRESS=DEFLATE switched on by compress(). */
function deflating(raw: (data: Buffer) => void): { write: (data: Buffer) => void; compress: () => void } {
  let deflate: zlib.DeflateRaw | null = null;
  return {
    write: (data) => {
      if (!deflate) return raw(data);
      deflate.write(data);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    },
    compress: () => {
      if (deflate) return;
      deflate = zlib.createDeflateRaw();
      deflate.on('data', (d: Buffer) => raw(d));
      deflate.on('error', () => undefined);
    },
  };
}

export function childChannel(child: ChildProcessWithoutNullStreams): Channel {
  const output = new ServerOutput();
  child.stdout.on('data', (d: Buffer) => output.push(d));
  child.stdout.on('close', () => output.close());
  child.stdin.on('error', () => undefined);
  const raw = (data: Buffer) => {
    if (!child.stdin.destroyed && !child.stdin.writableEnded) child.stdin.write(data);
  };
  const out = deflating(raw);
  return {
    output,
    write: out.write,
    compress: out.compress,
    writeRaw: raw,
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
  const raw = (data: Buffer) => {
    if (!current.destroyed && !current.writableEnded) current.write(data);
  };
  const out = deflating(raw);
  return {
    output,
    write: out.write,
    compress: out.compress,
    writeRaw: raw,
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
