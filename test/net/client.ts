// A small line-oriented IMAP client for the network tests: real sockets, real TLS.
import net from 'node:net';
import tls from 'node:tls';

export class LineClient {
  private buffer = '';
  private lines: string[] = [];
  private waiters: (() => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      let i: number;
      while ((i = this.buffer.indexOf('\r\n')) !== -1) {
        this.lines.push(this.buffer.slice(0, i));
        this.buffer = this.buffer.slice(i + 2);
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      });
    });
  }

  static plain(port: number, host = '127.0.0.1'): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  static secure(port: number, options: tls.ConnectionOptions = {}): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options }, () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The next line; rejects on timeout or when the connection closes first. */
  async line(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.ended) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a line');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.lines.shift()!;
  }

  send(line: string): void {
    this.socket.write(line + '\r\n');
  }

  /** Send a tagged command and collect lines up to its tagged reply. */
  async command(tag: string, text: string): Promise<string[]> {
    this.send(`${tag} ${text}`);
    const got: string[] = [];
    for (;;) {
      const l = await this.line();
      got.push(l);
      if (l.startsWith(tag + ' ')) return got;
    }
  }

  /** STARTTLS and the handshake on this connection; returns a client on the TLS socket. */
  async startTls(options: tls.ConnectionOptions = {}): Promise<LineClient> {
    const reply = await this.command('st', 'STARTTLS');
    if (!reply.at(-1)!.startsWith('st OK')) throw new Error(`STARTTLS refused: ${reply.join(' | ')}`);
    this.socket.removeAllListeners('data');
    return new Promise((resolve, reject) => {
      const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false, ...options }, () => resolve(new LineClient(secure)));
      secure.once('error', reject);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Resolves when `check` is true, polling; rejects after the timeout. */
export async function eventually(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
