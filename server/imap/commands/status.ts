// STATUS (RFC 3501 6.3.10), with SIZE (RFC 8438, STATUS=SIZE).
import { AUTHENTICATED, ok, type CommandSpec } from './types.js';
import { statusItems, statusResponse } from './status-items.js';

export const status: CommandSpec = {
  names: ['STATUS'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'STATUS=SIZE' }],
  async handler({ session, args }) {
    const wire = args.astring('mailbox name');
    const requested = statusItems(args.list('status item list'));
    args.end();
    session.untagged(await statusResponse(session, session.storeName(wire), requested));
    return ok('STATUS completed');
  },
};
