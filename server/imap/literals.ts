// How much literal data the sessions of this process may hold in memory together. An APPEND
// literal above STREAM_THRESHOLD is not held (it goes to the store as it arrives, see
// commands/append.ts); every other literal is kept until its command has run, and a literal
// that would take the total over the budget is refused ("try again later") instead.
// An APPEND's message in a literal, not a literal8 (~{n}, RFC 3516), may not hold NUL.

import { MailStoreError, type MessageStager } from '../backend/mailstore.js';

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

export const NUL_IN_LITERAL = 'The message holds NUL octets: send it as literal8 (~{n}, BINARY)';

/** A streamed APPEND sink that fails its commit when a piece held NUL. */
export function refusingNul(stager: MessageStager): MessageStager {
  let nul = false;
  return {
    get received() {
      return stager.received;
    },
    write(chunk) {
      if (!nul && chunk.indexOf(0) >= 0) nul = true;
      return nul ? undefined : stager.write(chunk);
    },
    async finish() {
      if (!nul) return stager.finish();
      await stager.abort();
      throw new MailStoreError(NUL_IN_LITERAL);
    },
    abort: () => stager.abort(),
  };
}
