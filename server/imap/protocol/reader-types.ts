// The command reader's contract (reader.ts): what it hands its owner (a complete command, a
// framing error, a literal to accept or refuse, where a literal's data may go) and what it
// is given; re-exported by reader.ts.

/** One complete command: its text split at literals, and the literal data. */
export interface CommandInput {
  /**
   * The command text without the final CRLF, split where literals sit:
   * lines[0] {lit 0} lines[1] {lit 1} ... lines[n]. Every element except the last ends with
   * the literal announcement ("{5}", "{5+}", "~{5}"). lines.length === literals.length + 1.
   */
  lines: Buffer[];
  literals: Buffer[];
  /** streamed[i] is true when literal i went to a LiteralSink (literals[i] is then empty). */
  streamed?: boolean[];
}

export type ReaderErrorCode = 'line-too-long' | 'literal-too-big';

export interface ReaderError {
  code: ReaderErrorCode;
  /** Text suitable for the response ("Command line too long", ...). */
  message: string;
  /** Tag read from the start of the command line, or null when there was none. */
  tag: string | null;
  /** Upper-cased command name from the start of the line ("UID FETCH"), or null. */
  name: string | null;
  /** True when the error concerns a raw line (readRawLine()). */
  raw: boolean;
  /** For literal-too-big: the announced size (may be huge). */
  literalSize?: number;
  /** For literal-too-big: whether the literal was non-synchronizing (its data was swallowed). */
  nonSync?: boolean;
}

export interface LiteralRequest {
  tag: string | null;
  name: string | null;
  /** Announced size in octets (within the limits). */
  size: number;
  /** 0 for the first literal of the command, 1 for the second... */
  index: number;
  /** Announced as literal8 (~{n}, RFC 3516). */
  binary: boolean;
}

/** Where a literal's data goes instead of memory (an APPEND written straight to a file). */
export interface LiteralSink {
  /** The next piece, in order; the reader waits for a returned promise before the next. */
  write(chunk: Buffer): void | Promise<void>;
}

/** What is being received: a line part or a literal, since when (Date.now()), and the literal's size. */
export interface ReaderProgress {
  kind: 'line' | 'literal';
  since: number;
  size: number;
}

export interface CommandReaderOptions {
  /** Longest command text (all line parts of one command, literals excluded) in octets. */
  maxLineLength: number;
  /** Largest single literal in octets. */
  maxLiteralSize: number;
  /** Largest whole command (text plus all literals). Default maxLineLength + maxLiteralSize. */
  maxCommandSize?: number;
  /** Unprocessed input above which push() returns false. Default 64 KiB. */
  highWaterMark?: number;
  onCommand(input: CommandInput): void;
  onError(error: ReaderError): void;
  /**
   * Called for every acceptable synchronizing literal; see the example above. `lines` is the
   * command text so far (the last part announces this literal). A LiteralSink accepts it and
   * takes its data.
   */
  onLiteral(request: LiteralRequest, lines: readonly Buffer[]): boolean | LiteralSink | Promise<boolean | LiteralSink>;
  /**
   * Called for every acceptable non-synchronizing literal (default: kept in memory). false:
   * the owner has answered, the data and the rest of the command are swallowed.
   */
  onNonSyncLiteral?(request: LiteralRequest, lines: readonly Buffer[]): boolean | LiteralSink | Promise<boolean | LiteralSink>;
  onRawLine?(line: Buffer): void;
  /** push() returned false earlier and the buffer has drained: feed more. */
  onDrain?(): void;
}

/**
 * The capability words the reader implements: non-synchronizing literals {n+} of any size
 * (RFC 7888 LITERAL+), or of at most 4096 octets (LITERAL-, enforced by the session, which
 * knows what is announced; capabilities.ts never announces both).
 */
export const READER_CAPABILITIES: readonly string[] = ['LITERAL+', 'LITERAL-'];
