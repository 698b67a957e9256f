// NAMESPACE (RFC 2342): one personal namespace, Courier's "INBOX." by default; where other
// accounts' folders are reachable, Courier's two shared namespaces in the third slot, word for
// word as Courier's imapd announces them ("#shared." holds the virtual shared folders;
// "shared.", Courier's sharable Maildirs, is announced by Courier whether or not any exist).
import { AUTHENTICATED, ok, type CommandSpec } from './types.js';

export const namespace: CommandSpec = {
  names: ['NAMESPACE'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'NAMESPACE' }],
  async handler({ session, args }) {
    args.end();
    // Written out: RFC 2342's grammar has no space between the descriptions of one slot.
    const shared = session.store.sharedFolders ? '(("#shared." ".")("shared." "."))' : 'NIL';
    session.write(Buffer.from(`* NAMESPACE (("${session.settings.namespacePrefix}" ".")) NIL ${shared}\r\n`));
    return ok('NAMESPACE completed');
  },
};
