// A small POP3 client (RFC 1939, CAPA and UIDL from RFC 2449, STLS from RFC 2595) for mail
// sources at providers that offer only POP3. Our own rather than a package: the POP3 clients
// on npm (node-pop3, poplib, yapople) gather a whole RETR into one string before handing it
// over, and poplib and yapople have not been released in years; a 30 MB message must go to
// the spool in pieces, with dot-unstuffing done on the way, which is a hundred lines here.
//
// Replies are read with a bounded line (RFC 2449 allows 512 octets; we take 8 KiB), and the
// socket is paused while the sink of a RETR is busy, so a fast provider never fills memory.

import net from 'node:net';
import tls from 'node:tls';

const MAX_REPLY_LINE = 8192;
const HIGH_WATER = 1 << 20;

export class Pop3Error extends Error {
  constructor(
    message: string,
    /** The provider's answer was -ERR (the connection is still usable), not a broken connection. */
    readonly refused = false,
  ) {
    super(message);
  }
}

export interface Pop3Options {
  host: string;
  port: number;
  tls: 'implicit' | 'starttls' | 'none';
  rejectUnauthorized: boolean;
  /** No reply for this long: the connection is given up. Default 60 s. */
  timeoutMs?: number;
}

export class Pop3Client {
  private socket!: net.Socket;
  private chunks: Buffer[] = [];
  private queued = 0;
  private ended: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.queued > HIGH_WATER) this.socket.pause();
    this.notify();
  };

  private constructor(private readonly options: Pop3Options) {}

  static async connect(options: Pop3Options): Promise<Pop3Client> {
    const client = new Pop3Client(options);
    const tlsOptions = { servername: net.isIP(options.host) ? undefined : options.host, rejectUnauthorized: options.rejectUnauthorized };
    const socket = options.tls === 'implicit'
      ? tls.connect({ host: options.host, port: options.port, ...tlsOptions })
      : net.connect({ host: options.host, port: options.port });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls === 'implicit' ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    client.attach(socket);
    try {
      await client.reply();
      if (options.tls === 'starttls') {
        const capa = await client.capa();
        if (capa && !capa.includes('STLS')) throw new Pop3Error('the provider does not offer STARTTLS (STLS) on this port');
        await client.command('STLS');
        socket.off('data', client.onData);
        const secure = tls.connect({ socket, ...tlsOptions });
        await new Promise<void>((resolve, reject) => {
          secure.once('secureConnect', () => resolve());
          secure.once('error', reject);
        });
        client.attach(secure);
      }
    } catch (err) {
      client.destroy();
      throw err;
    }
    return client;
  }

  /** CAPA's words (first word of each line), or null when the provider has no CAPA. */
  async capa(): Promise<string[] | null> {
    try {
      await this.command('CAPA');
    } catch (err) {
      if (err instanceof Pop3Error && err.refused) return null;
      throw err;
    }
    const lines = (await this.multiline()).toString('latin1').split(/\r?\n/).filter(Boolean);
    return lines.map((l) => l.split(' ')[0]!.toUpperCase());
  }

  async login(user: string, pass: string): Promise<void> {
    if (/[\r\n]/.test(user) || /[\r\n]/.test(pass)) throw new Pop3Error('the user name or password contains a line break');
    try {
      await this.command(`USER ${user}`);
      await this.command(`PASS ${pass}`);
    } catch (err) {
      if (err instanceof Pop3Error && err.refused) throw new Pop3Error(`the provider refused the user name or password (${err.message})`, true);
      throw err;
    }
  }

  async stat(): Promise<{ count: number; size: number }> {
    const [count, size] = (await this.command('STAT')).split(' ').map(Number);
    return { count: count ?? 0, size: size ?? 0 };
  }

  /** Message number to unique id. */
  async uidl(): Promise<Map<number, string>> {
    try {
      await this.command('UIDL');
    } catch (err) {
      if (err instanceof Pop3Error && err.refused) throw new Pop3Error('the provider does not support UIDL, so fetched messages cannot be told apart; leaving mail on the server is not possible', true);
      throw err;
    }
    const map = new Map<number, string>();
    for (const line of (await this.multiline()).toString('latin1').split(/\r?\n/)) {
      const m = /^(\d+) ([\x21-\x7e]{1,70})$/.exec(line);
      if (m) map.set(Number(m[1]), m[2]!);
    }
    return map;
  }

  /** RETR: the message, dot-unstuffed, to `sink` in pieces. */
  async retr(n: number, sink: (piece: Buffer) => Promise<void>): Promise<void> {
    await this.command(`RETR ${n}`);
    await this.body(sink);
  }

  /** A multi-line answer's body after its +OK line, dot-unstuffed, up to the line ".". */
  private async body(sink: (piece: Buffer) => Promise<void>): Promise<void> {
    let atLineStart = true;
    let buf: Buffer = Buffer.alloc(0);
    for (;;) {
      const chunk = await this.read();
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let out: Buffer[] = [];
      let start = 0;
      for (;;) {
        const lf = buf.indexOf(10, start);
        if (lf < 0) break;
        let line = buf.subarray(start, lf + 1);
        start = lf + 1;
        if (atLineStart && line[0] === 0x2e) {
          if (line.length === 2 || (line.length === 3 && line[1] === 13)) {
            if (out.length) await sink(Buffer.concat(out));
            this.unread(buf.subarray(start));
            return;
          }
          line = line.subarray(1);
        }
        out.push(line);
        atLineStart = true;
      }
      let rest = buf.subarray(start);
      // The rest of a line: passed on unless it might still be the end ".\r\n".
      if (rest.length && !(atLineStart && rest[0] === 0x2e && rest.length < 3)) {
        if (atLineStart && rest[0] === 0x2e) rest = rest.subarray(1);
        out.push(rest);
        rest = Buffer.alloc(0);
        atLineStart = false;
      }
      buf = Buffer.from(rest);
      if (out.length) await sink(Buffer.concat(out));
      out = [];
    }
  }

  async dele(n: number): Promise<void> {
    await this.command(`DELE ${n}`);
  }

  /** QUIT: the provider removes what was marked DELE only now (RFC 1939 6). */
  async quit(): Promise<void> {
    try {
      await this.command('QUIT');
    } finally {
      this.destroy();
    }
  }

  destroy(): void {
    this.socket?.destroy();
  }

  /** One command; the text after +OK. */
  async command(line: string): Promise<string> {
    this.socket.write(line + '\r\n');
    return this.reply();
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    socket.setTimeout(this.options.timeoutMs ?? 60_000, () => socket.destroy(new Pop3Error('the provider did not answer in time')));
    socket.on('data', this.onData);
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Pop3Error('the provider closed the connection')));
  }

  private fail(err: Error): void {
    this.ended ??= err;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private unread(rest: Buffer): void {
    if (rest.length) {
      this.chunks.unshift(Buffer.from(rest));
      this.queued += rest.length;
    }
  }

  private async read(): Promise<Buffer> {
    while (this.chunks.length === 0) {
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const chunk = this.chunks.shift()!;
    this.queued -= chunk.length;
    if (this.queued <= HIGH_WATER && this.socket.isPaused()) this.socket.resume();
    return chunk;
  }

  private async line(): Promise<string> {
    let buf: Buffer = Buffer.alloc(0);
    for (;;) {
      const chunk = await this.read();
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const lf = buf.indexOf(10);
      if (lf >= 0) {
        this.unread(buf.subarray(lf + 1));
        return buf.subarray(0, lf).toString('utf8').replace(/\r$/, '');
      }
      if (buf.length > MAX_REPLY_LINE) throw new Pop3Error('the provider sent a reply line that is too long');
    }
  }

  private async reply(): Promise<string> {
    const line = await this.line();
    if (line.startsWith('+OK')) return line.slice(4);
    if (line.startsWith('-ERR')) throw new Pop3Error(line.slice(5).trim() || 'refused', true);
    throw new Pop3Error(`the provider answered something that is not POP3: ${JSON.stringify(line.slice(0, 80))}`);
  }

  /** A multi-line answer's body, dot-unstuffed (CAPA, UIDL: small). */
  private async multiline(): Promise<Buffer> {
    const pieces: Buffer[] = [];
    let total = 0;
    await this.body((p) => {
      total += p.length;
      if (total > 16 << 20) throw new Pop3Error('the provider sent a listing that is too long');
      pieces.push(p);
      return Promise.resolve();
    });
    return Buffer.concat(pieces);
  }
}
