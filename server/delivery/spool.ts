// A message being received for delivery (LMTP DATA, imapd-deliver's standard input), kept
// once whatever the number of recipients: in memory up to MEMORY_LIMIT octets, beyond that
// in a file of its own in the spool directory (0600, removed by discard()), so that a big
// message is never held in memory. Each recipient's copy is then written from here.

import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** Messages up to this size stay in memory (the Maildir engine writes up to 1 MiB at once). */
export const MEMORY_LIMIT = 1 << 20;
/** Pieces read back from the spool file. */
const READ_BLOCK = 256 * 1024;

export class MessageSpool {
  private chunks: Buffer[] = [];
  private length = 0;
  private file: { path: string; handle: fs.FileHandle | null } | null = null;
  private limitExceeded = false;
  /** The first line of the message ended in CRLF (decides the line end of added headers). */
  private crlf: boolean | null = null;
  private lastByte = -1;

  /**
   * @param spoolDir where a message over MEMORY_LIMIT goes (created if missing)
   * @param maxSize octets kept at most; more is counted and dropped (see `tooBig`)
   */
  constructor(
    private readonly spoolDir: string,
    private readonly maxSize: number,
  ) {}

  /** Octets received, also those dropped past maxSize. */
  get size(): number {
    return this.length;
  }

  get tooBig(): boolean {
    return this.limitExceeded;
  }

  /** The line end the message uses: that of its first line (CRLF when there is none). */
  get lineEnd(): '\r\n' | '\n' {
    return this.crlf === false ? '\n' : '\r\n';
  }

  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    if (this.crlf === null) {
      const lf = chunk.indexOf(10);
      if (lf >= 0) this.crlf = lf === 0 ? this.lastByte === 13 : chunk[lf - 1] === 13;
    }
    this.lastByte = chunk[chunk.length - 1]!;
    this.length += chunk.length;
    if (this.limitExceeded || this.length > this.maxSize) {
      this.limitExceeded = true;
      await this.drop();
      return;
    }
    if (this.file) {
      await writeAll(this.file.handle!, chunk);
      return;
    }
    this.chunks.push(chunk);
    if (this.length > MEMORY_LIMIT) await this.spill();
  }

  /** Everything received: the file (if any) is flushed and closed. */
  async end(): Promise<void> {
    if (this.file?.handle) {
      const handle = this.file.handle;
      this.file.handle = null;
      await handle.close();
    }
  }

  /** In memory: the whole message. Null when it is in a file (use pieces()). */
  buffer(): Buffer | null {
    if (this.file || this.limitExceeded) return null;
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** The message from the start, in pieces (memory or file). */
  async *pieces(): AsyncGenerator<Buffer> {
    if (!this.file) {
      yield* this.chunks;
      return;
    }
    const handle = await fs.open(this.file.path, 'r');
    try {
      const block = Buffer.allocUnsafe(READ_BLOCK);
      for (;;) {
        const { bytesRead } = await handle.read(block, 0, READ_BLOCK, null);
        if (bytesRead === 0) return;
        // A copy: the consumer may keep the piece (the append sink gathers pieces into blocks).
        yield Buffer.from(block.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
  }

  /** Remove what was kept. */
  async discard(): Promise<void> {
    await this.drop();
  }

  private async spill(): Promise<void> {
    await fs.mkdir(this.spoolDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.spoolDir, `${Date.now()}.${process.pid}.${randomBytes(6).toString('hex')}.msg`);
    const handle = await fs.open(file, 'wx', 0o600);
    this.file = { path: file, handle };
    for (const chunk of this.chunks) await writeAll(handle, chunk);
    this.chunks = [];
  }

  private async drop(): Promise<void> {
    this.chunks = [];
    const file = this.file;
    this.file = null;
    if (!file) return;
    await file.handle?.close().catch(() => undefined);
    await fs.rm(file.path, { force: true });
  }
}

async function writeAll(handle: fs.FileHandle, chunk: Buffer): Promise<void> {
  for (let done = 0; done < chunk.length; ) done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
}
