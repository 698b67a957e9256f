// THREAD and UID THREAD (RFC 5256 section 4): ORDEREDSUBJECT, REFERENCES, and REFS (as Dovecot).
import { SELECTED, bad, no, ok, type CommandSpec } from './types.js';
import { parseSearchKeys } from '../protocol/parser.js';
import { threadMessages, formatThreads } from '../search/thread.js';
import { searchForOrdering } from './search.js';
import { DISABLED_BY_ADMINISTRATOR } from './sort.js';

export const thread: CommandSpec = {
  names: ['THREAD', 'UID THREAD'],
  states: SELECTED,
  sequenceNumbers: 'non-uid',
  capabilities: [
    { word: 'THREAD=ORDEREDSUBJECT' },
    { word: 'THREAD=REFERENCES' },
    { word: 'THREAD=REFS' },
  ],
  async handler(ctx) {
    const { session, args } = ctx;
    if (session.settings.disableThreadSort) return no(DISABLED_BY_ADMINISTRATOR);
    const algorithm = args.atom('threading algorithm').toUpperCase();
    // REFS only while CAPABILITY announces it (IMAP_CAPABILITY may leave it out).
    if ((algorithm !== 'ORDEREDSUBJECT' && algorithm !== 'REFERENCES' && algorithm !== 'REFS') || (algorithm === 'REFS' && !session.offers('THREAD=REFS'))) {
      return bad(`Unknown threading algorithm ${algorithm.slice(0, 40)}`);
    }
    const charset = args.astring('charset');
    const key = parseSearchKeys(args.rest(), charset);
    const items = await searchForOrdering(ctx, key);
    const threads = threadMessages(algorithm, items, ctx.uid ? 'uid' : 'seq');
    session.write(Buffer.from(`* THREAD ${formatThreads(threads)}`.trimEnd() + '\r\n'));
    return ok('THREAD completed');
  },
};
