// The session's command reader and its hold on the transport's input: the reader's commands
// and framing errors go to the input queue, its literals to the literal intake, and each chunk
// is counted and restarts the idle deadline. Also the answer to a framing error (a line too
// long, a literal over the limit), which ends that command before it is parsed.

import type { Readable } from 'node:stream';
import { CommandReader, type ReaderError } from './protocol/reader.js';
import type { InputQueue } from './session-input.js';
import type { LiteralIntake } from './session-literals.js';

/** Largest literal accepted before login (user names, passwords, SASL responses). */
export const UNAUTHENTICATED_LITERAL_MAX = 8 * 1024;

/** The largest literal the reader takes: small before login (unless the session starts logged in). */
export function literalLimit(maxLiteralSize: number, loggingIn: boolean): number {
  return loggingIn ? Math.min(maxLiteralSize, UNAUTHENTICATED_LITERAL_MAX) : maxLiteralSize;
}

export function newCommandReader(limits: { maxLineLength: number; maxLiteralSize: number }, input: InputQueue, literals: LiteralIntake): CommandReader {
  return new CommandReader({
    ...limits,
    onCommand: (command) => input.deliver({ kind: 'command', input: command }),
    onError: (error) => {
      if (error.raw && input.wantsRaw) {
        // An over-long raw line: treat it as garbage for IDLE / AUTHENTICATE.
        input.giveRaw(Buffer.from('*'));
        return;
      }
      input.deliver({ kind: 'error', error });
    },
    onLiteral: (request, lines) => literals.accept(request, lines, false),
    onNonSyncLiteral: (request, lines) => literals.accept(request, lines, true),
    onRawLine: (line) => input.giveRaw(line),
  });
}

/**
 * Feeds `stream` to the reader; `received` is told of each chunk after the reader has seen it
 * (listener order), `ended` of the end of the stream. Returns the detach.
 */
export function attachInput(stream: Readable, reader: CommandReader, hooks: { received(octets: number): void; ended(): void }): () => void {
  const onData = (chunk: Buffer) => hooks.received(chunk.length);
  const onEnd = () => hooks.ended();
  const detachReader = reader.attach(stream);
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onEnd);
  stream.on('close', onEnd);
  return () => {
    detachReader();
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('error', onEnd);
    stream.off('close', onEnd);
  };
}

/**
 * The answer to a framing error, and whether to hang up: a non-synchronizing literal over the
 * limit is on its way and is skipped when at most twice the limit, else not worth waiting for.
 */
export function framingErrorAnswer(error: ReaderError, limit: number): { line: Buffer; hangUp: boolean } {
  const tooBig = error.code === 'literal-too-big';
  const code = tooBig ? '[TOOBIG] ' : '';
  // RFC 7888: a non-synchronizing literal over the limit is answered BAD, at once.
  const status = tooBig && error.tag && !error.nonSync ? 'NO' : 'BAD';
  return {
    line: Buffer.from(`${error.tag ?? '*'} ${status} ${code}${error.message}\r\n`),
    hangUp: Boolean(error.nonSync) && (error.literalSize ?? 0) > 2 * limit,
  };
}
