// A client side of COMPRESS=DEFLATE (RFC 4978) for tests, written with node:zlib: Python's
// imaplib cannot compress. Given the raw streams of a connection (a socket, a child's stdio),
// it gives streams that inflate what the server sends and deflate what the test writes, each
// write sync-flushed (one deflate block or more per write, so a test decides where blocks end).

import net from 'node:net';
import tls from 'node:tls';
import { Readable, Writable } from 'node:stream';
import zlib from 'node:zlib';
import { ImapTestClient } from './imap-client.js';

export interface DeflateOptions {
  /** Hand the compressed bytes to the connection in pieces of this size, a turn of the event loop apart. */
  chop?: number;
}

export interface DeflatedStreams {
  input: Readable;
  output: Writable;
  /** Compressed octets sent so far. */
  sent(): number;
}

export function deflateStreams(rawInput: Readable, rawOutput: Writable, options: DeflateOptions = {}): DeflatedStreams {
  const inflate = zlib.createInflateRaw();
  inflate.on('error', () => undefined);
  rawInput.pipe(inflate);
  const deflate = zlib.createDeflateRaw();
  let sent = 0;
  let chain = Promise.resolve();
  deflate.on('data', (data: Buffer) => {
    sent += data.length;
    if (!options.chop) {
      rawOutput.write(data);
      return;
    }
    for (let at = 0; at < data.length; at += options.chop) {
      const piece = data.subarray(at, at + options.chop);
      chain = chain.then(() => new Promise<void>((resolve) => setImmediate(() => rawOutput.write(piece, () => resolve()))));
    }
  });
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      deflate.write(chunk);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => callback());
    },
  });
  return { input: inflate, output, sent: () => sent };
}

/** A client over a socket (plain, or TLS when `secure`) that can switch to COMPRESS. */
export class CompressingClient {
  client: ImapTestClient;
  private constructor(readonly socket: net.Socket) {
    this.client = new ImapTestClient(socket, socket);
  }

  static async connect(port: number, secure = false): Promise<CompressingClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = secure
        ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s))
        : net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => undefined);
    const c = new CompressingClient(socket);
    await c.client.greeting;
    return c;
  }

  /** STARTTLS, then a new client over the TLS socket. */
  async startTls(): Promise<void> {
    const reply = await this.client.command('STARTTLS');
    if (!reply.tagged.startsWith('OK')) throw new Error(`STARTTLS: ${reply.tagged}`);
    this.socket.removeAllListeners('data');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: this.socket, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.client = new ImapTestClient(secure, secure, false);
    (this as { socket: net.Socket }).socket = secure;
  }

  /** COMPRESS DEFLATE; on OK the client talks compressed from then on. Returns the tagged line. */
  async compress(options: DeflateOptions = {}): Promise<{ tagged: string; streams: DeflatedStreams | null }> {
    const reply = await this.client.command('COMPRESS DEFLATE');
    if (!reply.tagged.startsWith('OK')) return { tagged: reply.tagged, streams: null };
    this.socket.removeAllListeners('data');
    const streams = deflateStreams(this.socket, this.socket, options);
    this.client = new ImapTestClient(streams.input, streams.output, false);
    return { tagged: reply.tagged, streams };
  }

  close(): void {
    this.socket.destroy();
  }
}
