// UNAUTHENTICATE (RFC 8437): the client ends its login without closing the connection (to log
// in as someone else, as a pooling proxy does). The selected folder is closed without expunge.
import { AUTHENTICATED, ok, type CommandSpec } from './types.js';

export const unauthenticate: CommandSpec = {
  names: ['UNAUTHENTICATE'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'UNAUTHENTICATE' }],
  async handler({ session, args }) {
    args.end();
    session.unauthenticate();
    return ok('UNAUTHENTICATE completed');
  },
};
