// STATUS (RFC 3501 6.3.10), with SIZE (RFC 8438, STATUS=SIZE) and HIGHESTMODSEQ (RFC 7162
// 3.1.9, a CONDSTORE-enabling item): the items in status-items.ts.
import { requireRights } from '../rights.js';
import { AUTHENTICATED, ok, type CommandSpec } from './types.js';
import { statusItems, statusResponse } from './status-items.js';

export const status: CommandSpec = {
  names: ['STATUS'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'STATUS=SIZE' }],
  async handler({ session, args }) {
    const wire = args.astring('mailbox name');
    const requested = statusItems(args.list('status item list'), session);
    args.end();
    const name = session.storeName(wire);
    const denied = await requireRights(session, name, 'r', 'STATUS');
    if (denied) return denied;
    session.untagged(await statusResponse(session, name, requested));
    return ok('STATUS completed');
  },
};
