// COMPRESS=DEFLATE (RFC 4978): a Transport over another one (a socket, TLS, stdio) that
// carries raw DEFLATE (RFC 1951, no zlib header) in both directions.
//
// Input: the inner input is piped into an inflater, and the session reads the inflated bytes
// as it read the socket's, with the same command reader, so the line, literal and memory limits
// and the deadlines apply to what the client meant, not to what it sent. The stream
// back-pressure holds memory bounded: when the reader has 64 KiB waiting it pauses the
// inflater, whose output buffer (16 KiB) then fills and stops it from inflating more, and the
// pipe stops reading the socket. A decompression bomb (DEFLATE inflates at most 1032:1) thus
// costs CPU at the speed the reader discards it, never a buffer of its inflated size.
//
// Output: the session writes into a deflater; what one burst of writes made (everything written
// before the event loop turns) is flushed with Z_SYNC_FLUSH, so that an untagged EXISTS in IDLE or
// a tagged reply reaches the client at once, and a large FETCH is flushed per 256 KiB block.

import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import type { Transport } from './contracts.js';

/**
 * The compression level of what we send. On our 2-core test machine zlib deflates 16 MB of the
 * bench corpus at about 17 MB/s at level 1 and 6 MB/s at level 6 (deflateRawSync), to 62 % and
 * 60 % of its size: the higher level costs almost three times the CPU for 2 % of the bytes.
 * (Dovecot's default is 6.) bench/run.ts measures FETCH of bodies after COMPRESS.
 */
export const DEFLATE_LEVEL = 1;
/** How long close() lets the last compressed bytes (BYE, LOGOUT's OK) go out before it closes anyway. */
const CLOSE_FLUSH_MS = 5_000;
/** Output buffer of the inflater: the most inflated data held before the reader takes it. */
const INFLATE_CHUNK = 16 * 1024;

/**
 * The session's output: each write goes to the deflater, whose callback (the data consumed)
 * is the write's callback, so back-pressure and the reuse of written buffers work as on a socket.
 */
class DeflatingOutput extends Writable {
  private dirty = false;
  private flushScheduled = false;

  constructor(private readonly deflate: zlib.DeflateRaw) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.deflate.write(chunk, (err) => {
      this.dirty = true;
      this.scheduleFlush();
      callback(err ?? null);
    });
  }

  /** Ends the deflate stream and finishes once its last bytes have gone to the inner output
   * (this stream destroys the deflater when it finishes). */
  override _final(callback: (error?: Error | null) => void): void {
    const done = () => {
      this.deflate.off('end', done);
      this.deflate.off('close', done);
      callback();
    };
    if (this.deflate.destroyed) return done();
    this.deflate.once('end', done);
    this.deflate.once('close', done);
    this.deflate.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.deflate.destroy();
    callback(error);
  }

  /** Once the burst is over (nothing more waiting in this stream), a sync flush makes it decodable. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      // More data still on its way: its write callback schedules the flush again.
      if (!this.dirty || this.writableLength > 0 || this.deflate.destroyed || this.deflate.writableEnded) return;
      this.dirty = false;
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    });
  }
}

/**
 * The compressed transport over `inner`, from the octet after the tagged OK of COMPRESS on.
 * `received` are octets the client sent after its COMPRESS line that were already read: the
 * start of the compressed stream.
 */
export function deflateTransport(inner: Transport, received: readonly Buffer[]): Transport {
  const inflate = zlib.createInflateRaw({ chunkSize: INFLATE_CHUNK });
  const deflate = zlib.createDeflateRaw({ level: DEFLATE_LEVEL });
  const output = new DeflatingOutput(deflate);
  // Errors end the session through its input ('error' or 'close'); these keep them from being unhandled.
  inflate.on('error', () => undefined);
  deflate.on('error', () => undefined);
  output.on('error', () => undefined);

  for (const chunk of received) inflate.write(chunk);
  inner.input.pipe(inflate);
  deflate.pipe(inner.output, { end: false });
  // The peer has gone (reset, or the socket closed): nothing more will be read or written.
  const gone = () => {
    inflate.destroy();
    output.destroy();
  };
  inner.input.once('close', gone);
  inner.output.once('close', gone);

  let closing: Promise<void> | null = null;
  return {
    input: inflate,
    output,
    remoteAddress: inner.remoteAddress,
    ...(inner.remotePort !== undefined ? { remotePort: inner.remotePort } : {}),
    secure: inner.secure,
    compressed: true,
    reusesWrittenBuffers: true,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          inner.input.unpipe(inflate);
          inflate.destroy();
          inner.close();
          void (inner.whenClosed?.() ?? Promise.resolve()).then(resolve, resolve);
        };
        // The output finishes once the deflater's last bytes are handed to the inner output.
        const timer = setTimeout(finish, CLOSE_FLUSH_MS);
        timer.unref?.();
        if (output.destroyed) return finish();
        output.once('finish', finish);
        output.once('close', finish);
        output.end();
      });
    },
    whenClosed: () => closing ?? Promise.resolve(),
  };
}
