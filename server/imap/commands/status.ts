// STATUS (RFC 3501 6.3.10), with SIZE (RFC 8438) although not advertised yet, and
// HIGHESTMODSEQ (RFC 7162 3.1.9), a CONDSTORE-enabling item.
import { AUTHENTICATED, ok, type CommandSpec } from './types.js';
import { SyntaxError } from './args.js';
import type { FolderStatus } from '../../backend/mailstore.js';
import type { ImapValue } from '../protocol/types.js';

const ITEMS: Record<string, keyof FolderStatus> = {
  MESSAGES: 'messages',
  RECENT: 'recent',
  UIDNEXT: 'uidNext',
  UIDVALIDITY: 'uidValidity',
  UNSEEN: 'unseen',
  SIZE: 'size',
  HIGHESTMODSEQ: 'highestModseq',
};

export const status: CommandSpec = {
  names: ['STATUS'],
  states: AUTHENTICATED,
  async handler({ session, args }) {
    const wire = args.astring('mailbox name');
    const requested = args.list('status item list').map((t) => {
      const word = t.type === 'atom' ? t.value.toUpperCase() : '';
      if (!(word in ITEMS) || (word === 'HIGHESTMODSEQ' && !session.offers('CONDSTORE'))) throw new SyntaxError(`Unknown STATUS item ${t.type === 'atom' ? t.value : ''}`);
      return word;
    });
    args.end();
    if (requested.length === 0) throw new SyntaxError('STATUS needs at least one item');
    const name = session.storeName(wire);
    const view = session.selected;
    if (requested.includes('HIGHESTMODSEQ')) session.enableCondstore(); // RFC 7162 3.1
    let result: FolderStatus;
    // SIZE may need to read message files: only when asked for.
    const withSize = requested.includes('SIZE');
    if (view && view.folder.name === name) {
      // The selected mailbox: answer from what this session has been told.
      const all = view.all();
      let size = 0;
      if (withSize) for (const data of await view.folder.messageData(all.map((m) => m.uid), { info: true })) size += data?.size ?? 0;
      result = {
        messages: all.length,
        recent: view.recentCount,
        unseen: all.filter((m) => !m.flags.has('\\Seen')).length,
        uidNext: view.uidNext,
        uidValidity: view.uidValidity,
        size,
        highestModseq: view.folder.snapshot().highestModseq,
      };
    } else {
      result = await session.store.folderStatus(name, { size: withSize });
    }
    const items: ImapValue[] = [];
    for (const word of requested) items.push({ atom: word }, result[ITEMS[word]]);
    session.untagged([{ atom: 'STATUS' }, session.wireName(name), items]);
    return ok('STATUS completed');
  },
};
