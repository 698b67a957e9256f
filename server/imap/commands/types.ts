// The contract between the session and the command modules (one module per command,
// as Dovecot's src/imap/cmd-*.c).

import type { Session } from '../session.js';
import type { ParsedCommand } from '../protocol/types.js';
import type { Args } from './args.js';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

export interface CommandResult {
  status: 'OK' | 'NO' | 'BAD';
  /** Response code without brackets, e.g. "READ-WRITE", "APPENDUID 1 2". */
  code?: string;
  text: string;
  /** Runs after the tagged response has been written (STARTTLS switches the transport here). */
  after?: () => Promise<void>;
}

export interface CommandContext {
  session: Session;
  command: ParsedCommand;
  args: Args;
  tag: string;
  /** True for the UID forms (UID FETCH, ...). */
  uid: boolean;
}

export interface CommandSpec {
  /** Upper-case name(s) this module answers to, e.g. ['FETCH', 'UID FETCH']. */
  names: string[];
  states: SessionState[];
  /**
   * Whether untagged EXPUNGE may be sent at the end of this command. RFC 3501 7.4.1
   * forbids it during FETCH, STORE and SEARCH, which use sequence numbers; the UID
   * forms may (RFC 3501 section 6.4.8 still keeps them safe by UID).
   */
  allowExpunge?: (ctx: CommandContext) => boolean;
  handler(ctx: CommandContext): Promise<CommandResult>;
}

export const ok = (text = 'Completed', code?: string): CommandResult => ({ status: 'OK', text, code });
export const no = (text: string, code?: string): CommandResult => ({ status: 'NO', text, code });
export const bad = (text: string, code?: string): CommandResult => ({ status: 'BAD', text, code });

export const AUTHENTICATED: SessionState[] = ['authenticated', 'selected'];
export const SELECTED: SessionState[] = ['selected'];
export const ANY: SessionState[] = ['not-authenticated', 'authenticated', 'selected'];
