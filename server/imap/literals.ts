// How much literal data the sessions of this process may hold in memory together. An APPEND
// literal above STREAM_THRESHOLD is not held (it goes to the store as it arrives, see
// commands/append.ts); every other literal is kept until its command has run, and a literal
// that would take the total over the budget is refused ("try again later") instead.

/** APPEND literals larger than this are streamed to the store. */
export const STREAM_THRESHOLD = 256 * 1024;
/** Largest non-synchronizing literal accepted without LITERAL+ (RFC 7888 section 5, LITERAL-). */
export const NON_SYNC_MINUS_LIMIT = 4096;
/** What all sessions together may hold of literals in memory. */
export const LITERAL_MEMORY_BUDGET = 32 * 1024 * 1024;

export class LiteralMemory {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Take `size` octets of the budget; false when they are not there. */
  reserve(size: number): boolean {
    if (this.used + size > this.limit) return false;
    this.used += size;
    return true;
  }

  release(size: number): void {
    this.used = Math.max(0, this.used - size);
  }

  get inUse(): number {
    return this.used;
  }
}

/** The budget shared by every session of this process. */
export const literalMemory = new LiteralMemory(LITERAL_MEMORY_BUDGET);
