// THREAD and UID THREAD (RFC 5256 section 4): ORDEREDSUBJECT and REFERENCES.
import { SELECTED, bad, no, ok, type CommandSpec } from './types.js';
import { parseSearchKeys } from '../protocol/parser.js';
import { threadMessages, formatThreads } from '../search/thread.js';
import { loadMessages, runSearch } from './search.js';

export const thread: CommandSpec = {
  names: ['THREAD', 'UID THREAD'],
  states: SELECTED,
  allowExpunge: ({ uid }) => uid,
  async handler(ctx) {
    const { session, args } = ctx;
    if (session.settings.disableThreadSort) return no('THREAD is disabled on this server (IMAP_DISABLETHREADSORT)', 'CANNOT');
    const algorithm = args.atom('threading algorithm').toUpperCase();
    if (algorithm !== 'ORDEREDSUBJECT' && algorithm !== 'REFERENCES') return bad(`Unknown threading algorithm ${algorithm}`);
    const charset = args.astring('charset');
    const key = parseSearchKeys(args.rest(), charset);
    const view = session.selected!;
    const seqs = await runSearch(ctx, key);
    const messages = seqs.map((seq) => view.message(seq)!);
    // Sizes and dates too: the sent date falls back to INTERNALDATE (RFC 5256 2.2).
    const loaded = await loadMessages(view.folder, messages, { info: true, header: true });
    const items = [];
    for (let i = 0; i < seqs.length; i++) {
      const message = loaded[i];
      if (message) items.push({ seq: seqs[i], uid: message.uid, info: message.info, meta: message.meta! });
    }
    const threads = threadMessages(algorithm, items, ctx.uid ? 'uid' : 'seq');
    session.write(Buffer.from(`* THREAD ${formatThreads(threads)}`.trimEnd() + '\r\n'));
    return ok('THREAD completed');
  },
};
