// The one error type of the protocol layer. The session turns it into a response:
// `<tag> BAD <message>` (or NO when status says so, with `[code]` when present), and
// `* BAD <message>` when the tag itself could not be read (tag === null).

export type ProtocolErrorStatus = 'BAD' | 'NO';

export interface ProtocolErrorOptions {
  /** BAD (syntax, the default) or NO (well-formed but refused, e.g. BADCHARSET). */
  status?: ProtocolErrorStatus;
  /** Response code without brackets, e.g. "BADCHARSET (UTF-8 US-ASCII)". */
  code?: string;
  /** The command's tag when known; null when the tag could not be parsed. */
  tag?: string | null;
  /** Upper-cased command name when known ("UID FETCH"). */
  command?: string;
}

export class ProtocolError extends Error {
  readonly status: ProtocolErrorStatus;
  readonly code: string | undefined;
  /** undefined: not set by whoever threw it (the typed helpers do not know the tag). */
  tag: string | null | undefined;
  command: string | undefined;

  constructor(message: string, options: ProtocolErrorOptions = {}) {
    super(message);
    this.name = 'ProtocolError';
    this.status = options.status ?? 'BAD';
    this.code = options.code;
    this.tag = options.tag;
    this.command = options.command;
  }
}
