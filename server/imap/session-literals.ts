// The literals of the command being received: an APPEND's large one is written to the store's
// scratch space as it arrives, others are held in memory within the process's budget
// (literals.ts); at the command's end the memory is given back and unused scratch files dropped.

import type { MessageStager, StagedMessage } from '../backend/mailstore.js';
import { APPEND_FAMILY, checkAppendLiteral } from './commands/append.js';
import type { CommandResult, SessionContext } from './commands/types.js';
import { literalMemory, NON_SYNC_MINUS_LIMIT, refusingNul, STREAM_THRESHOLD } from './literals.js';
import type { LiteralRequest, LiteralSink } from './protocol/reader.js';

/** What the literals need of their session. */
export interface LiteralHost {
  /** The session, for the APPEND family's checks and its store. */
  readonly context: SessionContext;
  /** Logged in: there is a store to stage in. */
  hasStore(): boolean;
  ended(): boolean;
  /** Refuses a literal announced by a command (tagged, or "* BAD" without a tag). */
  refuse(tag: string | null, result: CommandResult): void;
  /** "+ Ready for literal data": the client waits for it before a synchronizing literal. */
  ready(): void;
  /** A failed check as the command would answer it. */
  errorResult(err: unknown, command: string): CommandResult;
}

export class LiteralIntake {
  /** The large APPEND literals of the command being received, written to the store's scratch space, by literal index. */
  private stagers = new Map<number, MessageStager>();
  /** Those the command has taken (finished): dropped at its end unless delivered. */
  private staged: StagedMessage[] = [];
  /** Octets of literalMemory this session holds for the command being received. */
  private heldLiteral = 0;

  constructor(private readonly host: LiteralHost) {}

  /**
   * A literal is announced: an APPEND's large one goes straight to the store; others are held
   * in memory within the process's budget. For a synchronizing literal the client waits for "+".
   */
  accept(request: LiteralRequest, lines: readonly Buffer[], nonSync: boolean): boolean | LiteralSink | Promise<boolean | LiteralSink> {
    // RFC 7888 section 5: without LITERAL+ (LITERAL- or neither announced) a non-synchronizing
    // literal over 4096 octets is refused with BAD [TOOBIG]; the reader swallows its data.
    if (nonSync && request.size > NON_SYNC_MINUS_LIMIT && !this.host.context.offers('LITERAL+')) {
      this.host.refuse(request.tag, { status: 'BAD', code: 'TOOBIG', text: `Non-synchronizing literals over ${NON_SYNC_MINUS_LIMIT} octets need a "+" first (LITERAL-)` });
      return false;
    }
    if (request.name !== null && APPEND_FAMILY.has(request.name) && request.size > STREAM_THRESHOLD && this.host.hasStore()) {
      return this.stage(request, lines, nonSync);
    }
    if (!literalMemory.reserve(request.size)) {
      this.host.refuse(request.tag, { status: 'NO', code: 'LIMIT', text: 'Server busy: too much literal data in memory. Try again later.' });
      return false;
    }
    this.heldLiteral += request.size;
    if (!nonSync) this.host.ready();
    return true;
  }

  /**
   * A large literal of an APPEND, REPLACE or MULTIAPPEND goes to the store's scratch space as it
   * arrives (a message or a CATENATE part: the command decides when it runs). What the command
   * would refuse is refused before the client sends the data, where it can be told already.
   */
  private async stage(request: LiteralRequest, lines: readonly Buffer[], nonSync: boolean): Promise<boolean | LiteralSink> {
    let stager: MessageStager;
    try {
      await checkAppendLiteral(this.host.context, request.name ?? 'APPEND', lines, request.size);
      stager = await this.host.context.store.stageMessage(request.size);
    } catch (err) {
      this.host.refuse(request.tag, this.host.errorResult(err, request.name ?? 'APPEND'));
      return false;
    }
    if (this.host.ended()) {
      await stager.abort();
      return false;
    }
    // A literal (not literal8) may not hold NUL (RFC 3501 9 CHAR8, RFC 3516 4.2).
    if (!request.binary) stager = refusingNul(stager);
    this.stagers.set(request.index, stager);
    if (!nonSync) this.host.ready();
    return stager;
  }

  /** The staged literal `index` of the current command, finished, or null if it was held in memory. */
  async take(index: number): Promise<StagedMessage | null> {
    const stager = this.stagers.get(index);
    if (!stager) return null;
    this.stagers.delete(index);
    const staged = await stager.finish();
    this.staged.push(staged);
    return staged;
  }

  /** A command is over: give back its literal memory, drop a streamed literal it did not use. */
  async endCommand(): Promise<void> {
    literalMemory.release(this.heldLiteral);
    this.heldLiteral = 0;
    const stagers = [...this.stagers.values()];
    const staged = this.staged;
    this.stagers.clear();
    this.staged = [];
    for (const stager of stagers) await stager.abort();
    // Delivered ones are gone already (discard does nothing then).
    for (const message of staged) await message.discard();
  }
}
