// APPEND (RFC 3501 6.3.11) with APPENDUID (RFC 4315). The message arrives as a literal;
// the store writes it through tmp/ and a rename, so a failure leaves nothing behind.
import { AUTHENTICATED, no, ok, type CommandSpec } from './types.js';
import { parseFlags, SyntaxError } from './args.js';
import { parseDateTime } from '../protocol/parser.js';

export const append: CommandSpec = {
  names: ['APPEND'],
  states: AUTHENTICATED,
  async handler({ session, args }) {
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
    args.end();
    if (token.value.length === 0) return no('An empty message cannot be appended');
    if (!session.settings.keywords && flags.some((f) => !f.startsWith('\\'))) flags = flags.filter((f) => f.startsWith('\\'));
    const result = await session.store.append(name, token.value, { flags, internalDate });
    // Our own append shows up in our selected view through the folder's change queue (the
    // store tells every open folder at once); other changes wait for NOOP, IDLE or the watcher.
    return ok('APPEND completed', `APPENDUID ${result.uidValidity} ${result.uid}`);
  },
};
