// APPEND (RFC 3501 6.3.11) with APPENDUID (RFC 4315). The message arrives as a literal;
// the store writes it through tmp/ and a rename, so a failure leaves nothing behind. A large
// message is not held in memory: the session streams its literal into the store's
// AppendSink as it arrives (beginAppendLiteral), and the command then only delivers it.
import { MailStoreError, type AppendSink } from '../../backend/mailstore.js';
import { requireRights } from '../rights.js';
import { AUTHENTICATED, no, ok, type CommandSpec, type SessionContext } from './types.js';
import { Args, parseFlags, SyntaxError } from './args.js';
import { parseCommand, parseDateTime } from '../protocol/parser.js';
import type { Token } from '../protocol/types.js';
import { NUL_IN_LITERAL } from '../literals.js';
import { outboxAppendOptions } from '../outbox.js';

interface AppendArgs {
  name: string;
  flags: string[];
  internalDate: number | undefined;
  message: Extract<Token, { type: 'string' }>;
}

function appendArgs(session: SessionContext, args: Args): AppendArgs {
  const name = session.storeName(args.astring('mailbox name'));
  let flags: string[] = [];
  let internalDate: number | undefined;
  let token = args.next('message literal');
  if (token.type === 'list') {
    flags = parseFlags(token.items);
    token = args.next('message literal');
  }
  if (token.type === 'string' && !token.literal) {
    internalDate = parseDateTime(token.value.toString('latin1'));
    token = args.next('message literal');
  }
  if (token.type !== 'string' || !token.literal) throw new SyntaxError('APPEND expects the message as a literal');
  if (!session.settings.keywords && flags.some((f) => !f.startsWith('\\'))) flags = flags.filter((f) => f.startsWith('\\'));
  return { name, flags, internalDate, message: token };
}

/**
 * Start storing the message of an APPEND whose literal of `size` octets is announced at the
 * end of `lines` (the command so far). Throws what the command would answer (no such
 * folder, over quota, bad arguments) before the client sends the data.
 */
export async function beginAppendLiteral(session: SessionContext, lines: readonly Buffer[], size: number): Promise<AppendSink> {
  // The command so far, with an empty literal standing in for the message (the first literal
  // of the command, so `lines` holds only the line that announces it).
  const command = parseCommand({ lines: [lines[0], Buffer.alloc(0)], literals: [Buffer.alloc(0)], streamed: [true] });
  const { name, flags, internalDate } = appendArgs(session, new Args(command.args));
  const denied = await requireRights(session, name, 'i', 'APPEND');
  if (denied) throw new MailStoreError(denied.text, denied.code);
  return session.store.beginAppend(name, size, { flags, internalDate, ...outboxAppendOptions(session, name) });
}

export const append: CommandSpec = {
  names: ['APPEND'],
  states: AUTHENTICATED,
  async handler({ session, args }) {
    const { name, flags, internalDate, message } = appendArgs(session, args);
    args.end();
    const streamed = session.takeAppendSink();
    const denied = await requireRights(session, name, 'i', 'APPEND');
    if (denied) return (await streamed?.abort(), denied);
    if (!streamed && message.value.length === 0) return no('An empty message cannot be appended');
    if (!streamed && !message.binary && message.value.includes(0)) return no(NUL_IN_LITERAL);
    const result = streamed ? await streamed.commit() : await session.store.append(name, message.value, { flags, internalDate, ...outboxAppendOptions(session, name) });
    // Our own append shows up in our selected view through the folder's change queue (the
    // store tells every open folder at once); other changes wait for NOOP, IDLE or the watcher.
    return ok('APPEND completed', `APPENDUID ${result.uidValidity} ${result.uid}`);
  },
};
