// APPEND (RFC 3501 6.3.11) with APPENDUID (RFC 4315), MULTIAPPEND (RFC 3502: several messages
// in one command, all stored or none), CATENATE (RFC 4469, the message built from parts, see
// catenate.ts) and APPENDLIMIT (RFC 7889: announced from IMAP_MAXMSGSIZE; a literal over it is
// refused with [TOOBIG] from its announced size, by the command reader, before it is sent).
// A large literal is not held in memory: the session writes it to the store's scratch space as
// it arrives (stageLiteral in session.ts, checked first by checkAppendLiteral below), and the
// command takes it with stagedLiteral(). appendMany() then delivers every message in one step;
// on any failure the session drops every staged literal at the end of the command.
import { MailStoreError, type AppendItem } from '../../backend/mailstore.js';
import { NUL_IN_LITERAL } from '../literals.js';
import { permittedFlags, requireRights } from '../rights.js';
import { compactSet } from '../resolve-set.js';
import { AUTHENTICATED, bad, no, ok, type CapabilityWord, type CommandResult, type CommandSpec, type SessionContext } from './types.js';
import { Args, parseFlags, SyntaxError } from './args.js';
import { BadUrl, catenate, type CatenatePart } from './catenate.js';
import { parseCommand, parseDateTime } from '../protocol/parser.js';
import type { Token } from '../protocol/types.js';
import { outboxAppendOptions } from '../outbox.js';

/** The commands whose large literals are messages (or CATENATE parts) written to scratch space. */
export const APPEND_FAMILY: ReadonlySet<string> = new Set(['APPEND', 'REPLACE', 'UID REPLACE']);

/** One message of an APPEND: its options and its data, a literal or CATENATE parts. */
export interface AppendMessage {
  flags: string[];
  internalDate: number | undefined;
  data: { kind: 'literal'; token: Extract<Token, { type: 'string' }> } | { kind: 'catenate'; parts: CatenatePart[] };
}

function catenateParts(items: Token[]): CatenatePart[] {
  if (items.length === 0) throw new SyntaxError('CATENATE needs at least one part');
  const parts: CatenatePart[] = [];
  for (let i = 0; i < items.length; i += 2) {
    const kind = items[i];
    const value = items[i + 1];
    const word = kind.type === 'atom' ? kind.value.toUpperCase() : '';
    if (word === 'TEXT' && value?.type === 'string' && value.literal) parts.push({ kind: 'text', token: value });
    else if (word === 'URL' && (value?.type === 'string' || value?.type === 'atom')) {
      parts.push({ kind: 'url', url: value.type === 'atom' ? value.value : value.value.toString('utf8') });
    } else throw new SyntaxError('A CATENATE part is TEXT literal or URL url');
  }
  return parts;
}

/** One append-message (RFC 3502): [flag-list] [date-time] (literal / CATENATE (parts)). */
export function appendMessage(session: SessionContext, args: Args): AppendMessage {
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
  if (!session.settings.keywords && flags.some((f) => !f.startsWith('\\'))) flags = flags.filter((f) => f.startsWith('\\'));
  if (token.type === 'string' && token.literal) return { flags, internalDate, data: { kind: 'literal', token } };
  if (token.type === 'atom' && token.value.toUpperCase() === 'CATENATE' && session.offers('CATENATE')) {
    return { flags, internalDate, data: { kind: 'catenate', parts: catenateParts(args.list('CATENATE parts')) } };
  }
  throw new SyntaxError('APPEND expects the message as a literal');
}

/**
 * Before a large literal of an APPEND or REPLACE is accepted: refuses what the command would
 * refuse (no such folder, no right to insert, over quota) while the client can still be
 * spared sending it. Only when the command so far names its folder in its first line.
 */
export async function checkAppendLiteral(session: SessionContext, command: string, lines: readonly Buffer[], size: number): Promise<void> {
  // The first line, with an empty literal standing in for the one it announces (closed by ")"
  // when it is a CATENATE part); when that literal is the folder name itself, nothing is checked.
  let args: Token[] | null = null;
  for (const tail of ['', ')']) {
    try {
      args = parseCommand({ lines: [lines[0], Buffer.from(tail)], literals: [Buffer.alloc(0)], streamed: [true] }).args;
      break;
    } catch {
      // try the next closing
    }
  }
  if (args === null) return;
  const mailbox = command === 'APPEND' ? args[0] : args[1];
  if (!mailbox || (mailbox.type === 'string' && mailbox.streamed !== undefined)) return;
  const name = session.storeName(new Args([mailbox]).astring('mailbox name'));
  const denied = await requireRights(session, name, 'i', 'APPEND');
  if (denied) throw new MailStoreError(denied.text, denied.code);
  await session.store.checkAppend(name, size);
}

/** The message as the store takes it: its literal (in memory or staged), or its parts put together. */
async function appendItem(session: SessionContext, name: string, message: AppendMessage): Promise<AppendItem> {
  // RFC 4314 4: flags the user may not set are left off, the message is stored.
  const options = { flags: await permittedFlags(session, name, message.flags), internalDate: message.internalDate, ...outboxAppendOptions(session, name) };
  const { data } = message;
  if (data.kind === 'catenate') {
    const staged = await catenate(session, data.parts, session.settings.maxLiteralSize);
    if (staged.size === 0) {
      await staged.discard();
      throw new MailStoreError('An empty message cannot be appended');
    }
    return { message: staged, options };
  }
  if (data.token.streamed !== undefined) {
    const staged = await session.stagedLiteral(data.token.streamed);
    if (!staged) throw new Error('streamed literal missing');
    return { message: staged, options };
  }
  if (data.token.value.length === 0) throw new MailStoreError('An empty message cannot be appended');
  // NUL only in literal8 (~{n}, RFC 3516 4.4); a streamed literal is checked as it arrives (literals.ts).
  if (!data.token.binary && data.token.value.includes(0)) throw new MailStoreError(NUL_IN_LITERAL);
  return { message: data.token.value, options };
}

/**
 * Stores the messages in `name` (store form) as one operation: the APPENDUID code, or the NO
 * to answer ([BADURL url] for a CATENATE URL that cannot be used).
 */
export async function appendMessages(session: SessionContext, name: string, messages: readonly AppendMessage[], command: string): Promise<CommandResult> {
  const denied = await requireRights(session, name, 'i', command);
  if (denied) return denied;
  const items: AppendItem[] = [];
  try {
    for (const message of messages) items.push(await appendItem(session, name, message));
    const { uidValidity, uids } = await session.store.appendMany(name, items);
    return ok(`${command} completed`, `APPENDUID ${uidValidity} ${compactSet(uids)}`);
  } catch (error) {
    // The session drops the staged literals it holds; a message put together by CATENATE is
    // this command's own, and would stay in tmp/ for good (found by the fuzzer).
    for (const item of items) if (!Buffer.isBuffer(item.message)) await item.message.discard();
    if (error instanceof BadUrl) return no(`Bad URL: ${error.message}`, `BADURL ${error.url}`);
    throw error;
  }
}

const WORDS: CapabilityWord[] = [
  { word: 'MULTIAPPEND' },
  { word: 'CATENATE' },
  // CATENATE's URLs may end with ;PARTIAL= (RFC 5550 section 5 asks for URL-PARTIAL with it).
  { word: 'URL-PARTIAL' },
  { word: 'APPENDLIMIT', value: (settings) => String(settings.maxLiteralSize) },
];

export const append: CommandSpec = {
  names: ['APPEND'],
  states: AUTHENTICATED,
  capabilities: WORDS,
  async handler({ session, args }) {
    const name = session.storeName(args.astring('mailbox name'));
    const messages = [appendMessage(session, args)];
    while (args.remaining > 0) messages.push(appendMessage(session, args));
    if (messages.length > 1 && !session.offers('MULTIAPPEND')) return bad('One message per APPEND (MULTIAPPEND is off)');
    // Our own append shows up in our selected view through the folder's change queue (the
    // store tells every open folder at once); other changes wait for NOOP, IDLE or the watcher.
    return appendMessages(session, name, messages, 'APPEND');
  },
};
