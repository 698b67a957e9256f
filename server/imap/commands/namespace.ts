// NAMESPACE (RFC 2342): one personal namespace, Courier's "INBOX." by default.
import { AUTHENTICATED, ok, type CommandSpec } from './types.js';

export const namespace: CommandSpec = {
  names: ['NAMESPACE'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'NAMESPACE' }],
  async handler({ session, args }) {
    args.end();
    session.untagged([{ atom: 'NAMESPACE' }, [[session.settings.namespacePrefix, '.']], null, null]);
    return ok('NAMESPACE completed');
  },
};
