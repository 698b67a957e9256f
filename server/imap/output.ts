// Output of a large command (FETCH of whole messages or of a whole folder): bytes are copied
// into blocks of a fixed size and each full block is handed to the transport at once. One
// copy per byte, no Buffer.concat of many small pieces, a few large writes instead of many
// small ones, and blocks are used again once the transport has written them where it allows
// that (a fresh 256 KB buffer costs page faults each time).
//
// Back-pressure: the command awaits room() between messages. It returns at once while fewer
// than MAX_QUEUED writes wait in the transport, so the next data are made while the socket
// sends the last ones (waiting for 'drain', an empty queue, would leave the pipe idle each
// time); otherwise it waits until half of them are written. A client that does not read
// therefore holds up the command after about 1 MB, whatever the size of the answer.
//
// A block handed to the transport goes into the kernel only as far as the socket (or pipe)
// has room; the rest waits for the event loop to see the socket writable. A command that
// makes responses without ever giving the loop a turn (files read synchronously, promises
// already resolved) leaves the client idle meanwhile: room() therefore also gives one turn
// of the loop after each block handed over while writes are pending.

import type { BlockSource } from '../backend/mailstore.js';

/** Bytes per block: large enough for few system calls, small enough to be cheap to keep. */
export const BLOCK_SIZE = 256 * 1024;
/** Writes (blocks or large buffers) allowed to wait in the transport before room() waits. */
export const MAX_QUEUED = 4;
/** Free blocks kept for reuse. */
const MAX_FREE = MAX_QUEUED + 1;

/** Writes data to the transport; `done` is called once it has been handed to the system (or dropped). */
export type WriteFn = (data: Buffer, done: () => void) => void;

export class BlockWriter {
  /** The block being filled; null until something comes. */
  private block: Buffer | null = null;
  private used = 0;
  private readonly free: Buffer[] = [];
  /** Writes handed to the transport and not yet done. */
  private queued = 0;
  private waiter: (() => void) | null = null;
  /** A block went to the transport since the last turn of the event loop given by room(). */
  private handed = false;

  /** close() was called: blocks whose write is done go back to the source. */
  private closed = false;

  /**
   * With `reuse`, a block is filled again once its write is done (see
   * Transport.reusesWrittenBuffers); only then are blocks taken from `source` (of `size`
   * bytes), and given back by close().
   */
  constructor(
    private readonly write: WriteFn,
    private readonly size = BLOCK_SIZE,
    private readonly reuse = false,
    private readonly source: BlockSource | null = null,
  ) {}

  /** Writes waiting in the transport. */
  get pending(): number {
    return this.queued;
  }

  /** Whether blocks may come from the source (directRoom() may give one of them). */
  get direct(): boolean {
    return this.reuse && this.source !== null;
  }

  /** Bytes waiting in the current block. */
  get buffered(): number {
    return this.used;
  }

  /** ASCII text (literal headers, response text without 8-bit characters). */
  ascii(text: string): void {
    if (text.length > this.size >> 2) {
      this.stable(Buffer.from(text, 'latin1'));
      return;
    }
    const block = this.current(text.length);
    this.used += block.write(text, this.used, 'latin1');
  }

  /** Copies the bytes (they may be a view that is reused after the call). */
  bytes(data: Uint8Array): void {
    let at = 0;
    while (at < data.length) {
      const block = this.current(1);
      const n = Math.min(data.length - at, block.length - this.used);
      block.set(at === 0 && n === data.length ? data : data.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
    }
  }

  /** Bytes that stay unchanged until written: large ones go out as they are, without a copy. */
  stable(data: Buffer): void {
    if (data.length < this.size >> 2) {
      this.bytes(data);
      return;
    }
    this.send();
    this.queued++;
    this.handed = true;
    this.write(data, () => this.written(null));
  }

  /** Hands what is buffered to the transport. */
  flush(): void {
    this.send();
  }

  /** Null when the transport can take more now, else a promise of when it can (see the top of
   * this file): callers await only then, not once per message. */
  room(): Promise<void> | null {
    if (this.queued >= MAX_QUEUED) return new Promise((resolve) => (this.waiter = resolve));
    if (!this.handed || this.queued === 0) return null;
    this.handed = false;
    return new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * The current block with room for n more bytes from `buffered` (null when n > size), for a
   * caller that writes into it directly and then says where its bytes end with commit().
   */
  directRoom(n: number): Buffer | null {
    return n > this.size ? null : this.current(n);
  }

  /** The bytes of the current block end at `used` (after directRoom()). */
  commit(used: number): void {
    this.used = used;
  }

  /** The command is done: the source's blocks go back to it (those still being written once they are). */
  close(): void {
    this.send();
    this.closed = true;
    if (this.block) this.source?.give(this.block); // empty (send() keeps an empty block)
    this.block = null;
    if (this.source) for (const block of this.free) this.source.give(block);
    this.free.length = 0;
  }

  /** The current block, with room for n more bytes (n <= size). */
  private current(n: number): Buffer {
    if (this.block && this.used + n > this.block.length) this.send();
    this.block ??= this.free.pop() ?? (this.reuse ? this.source?.take() : null) ?? Buffer.allocUnsafeSlow(this.size);
    return this.block;
  }

  private send(): void {
    const block = this.block;
    if (!block || this.used === 0) return;
    this.block = null;
    const used = this.used;
    this.used = 0;
    this.queued++;
    this.handed = true;
    this.write(block.subarray(0, used), () => this.written(block));
  }

  private written(block: Buffer | null): void {
    this.queued--;
    if (block && this.reuse) {
      if (!this.closed && this.free.length < MAX_FREE) this.free.push(block);
      else this.source?.give(block);
    }
    if (this.waiter && this.queued <= MAX_QUEUED >> 1) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter();
    }
  }
}
