// A session's input queue, between the command reader and the command loop: commands and
// framing errors wait here until the loop takes them, and a raw line (IDLE's DONE, an
// AUTHENTICATE response) goes to whoever asked for it. Once the client has gone, waiters get null.

import type { CommandInput, ReaderError } from './protocol/reader.js';

export type ReaderEvent = { kind: 'command'; input: CommandInput } | { kind: 'error'; error: ReaderError };

export class InputQueue {
  private events: (ReaderEvent | null)[] = [];
  private eventWaiter: ((event: ReaderEvent | null) => void) | null = null;
  private rawWaiter: ((line: Buffer | null) => void) | null = null;
  private inputEnded = false;

  /** Whether the client has gone. */
  get ended(): boolean {
    return this.inputEnded;
  }

  /** Whether someone waits for a raw line. */
  get wantsRaw(): boolean {
    return this.rawWaiter !== null;
  }

  deliver(event: ReaderEvent | null): void {
    const waiter = this.eventWaiter;
    if (waiter) {
      this.eventWaiter = null;
      waiter(event);
    } else {
      this.events.push(event);
    }
  }

  /** The next command or framing error; null once the client has gone. */
  next(): Promise<ReaderEvent | null> {
    if (this.events.length) return Promise.resolve(this.events.shift()!);
    if (this.inputEnded) return Promise.resolve(null);
    return new Promise((resolve) => (this.eventWaiter = resolve));
  }

  /**
   * The next raw line, or null on disconnect: `ask` has the reader look for one, `seen` is
   * told of the line before the caller is.
   */
  rawLine(ask: () => void, seen: (line: Buffer) => void): Promise<Buffer | null> {
    if (this.inputEnded) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.rawWaiter = (line) => {
        if (line) seen(line);
        resolve(line);
      };
      ask();
    });
  }

  /** A raw line from the reader, to the one waiting for it (if any). */
  giveRaw(line: Buffer): void {
    const raw = this.rawWaiter;
    this.rawWaiter = null;
    raw?.(line);
  }

  /** The client has gone: commands it sent before are still run, then the loop ends. */
  end(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    const waiter = this.eventWaiter;
    this.eventWaiter = null;
    waiter?.(null);
    const raw = this.rawWaiter;
    this.rawWaiter = null;
    raw?.(null);
  }
}
