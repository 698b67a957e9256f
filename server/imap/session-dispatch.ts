// Parsing a command read and running it: the command table lookup, the state check, the handler with
// stall and trace accounting, and errors turned into the tagged answer they deserve. The
// session answers and reports other sessions' changes around it (session.ts).

import { MailStoreError } from '../backend/mailstore.js';
import { SyntaxError, Args } from './commands/args.js';
import { COMMANDS } from './commands/index.js';
import type { CommandContext, CommandResult, SessionContext, SessionState } from './commands/types.js';
import type { Logger, SessionOptions } from './contracts.js';
import { MailboxNameError } from './names.js';
import { ProtocolError } from './protocol/errors.js';
import { parseCommand } from './protocol/parser.js';
import type { CommandInput } from './protocol/reader.js';
import type { ParsedCommand } from './protocol/types.js';
import { tagged } from '../wire/writer.js';
import { SequenceError } from './resolve-set.js';
import { traceStart } from './trace.js';

/** What a command's run needs of its session. */
export interface DispatchHost {
  readonly context: SessionContext;
  state(): SessionState;
  /** The command now running (null once it is over): IDLE's reports go by it. */
  running(name: string | null): void;
  readonly stalls: SessionOptions['stalls'];
  errorResult(err: unknown, command: string): CommandResult;
}

export type CommandOutcome =
  /** Unknown, or not valid in this state: answered with nothing else. */
  | { ran: false; result: CommandResult }
  /** `expunges`: EXPUNGE may follow the answer as far as the command is concerned (RFC 3501 7.4.1). */
  | { ran: true; result: CommandResult; expunges: boolean };

/** The command read, parsed; or the answer to a command that does not parse. */
export function parseOrAnswer(input: CommandInput): ParsedCommand | Buffer {
  try {
    return parseCommand(input);
  } catch (err) {
    if (err instanceof ProtocolError) return tagged(err.tag ?? '*', err.status, err.message, err.code || undefined);
    throw err;
  }
}

export async function runCommand(host: DispatchHost, command: ParsedCommand): Promise<CommandOutcome> {
  const spec = COMMANDS.get(command.name);
  const tag = command.tag;
  if (!spec) return { ran: false, result: { status: 'BAD', text: `Unknown command ${command.name.slice(0, 40)}` } };
  const state = host.state();
  if (!spec.states.includes(state)) return { ran: false, result: { status: 'BAD', text: `${command.name} is not valid in the ${state} state` } };
  const ctx: CommandContext = {
    session: host.context,
    command,
    args: new Args(command.args),
    tag,
    uid: command.name.startsWith('UID '),
  };
  host.running(command.name);
  const traced = traceStart();
  // IDLE and AUTHENTICATE mostly wait for the client: they would be named in every stall.
  const waits = command.name === 'IDLE' || command.name === 'AUTHENTICATE';
  const ended = waits ? undefined : host.stalls?.begin(command.name);
  let result: CommandResult;
  try {
    result = await spec.handler(ctx);
  } catch (err) {
    result = host.errorResult(err, command.name);
  } finally {
    host.running(null);
    ended?.();
  }
  traced?.(command.name);
  // No EXPUNGE after an answer that names messages by sequence number (RFC 3501 7.4.1).
  const seqs = spec.sequenceNumbers ?? 'never';
  return { ran: true, result, expunges: seqs === 'never' || (seqs === 'non-uid' && ctx.uid) };
}

/** A command's failure as its tagged answer; what is not the client's doing is logged. */
export function errorResult(err: unknown, command: string, logger: Logger, user: string | null): CommandResult {
  if (err instanceof SyntaxError || err instanceof SequenceError) return { status: 'BAD', text: err.message };
  if (err instanceof ProtocolError) return { status: err.status, code: err.code, text: err.message };
  if (err instanceof MailboxNameError) return { status: 'NO', code: 'CANNOT', text: err.message };
  if (err instanceof MailStoreError) return { status: 'NO', code: err.code, text: err.message };
  logger.log('error', `${command} failed`, { user: user ?? undefined, error: err instanceof Error ? err.stack ?? err.message : String(err) });
  return { status: 'NO', code: 'SERVERBUG', text: 'Internal error, see the server log' };
}
