// NAMESPACE (RFC 2342): one personal namespace, Courier's "INBOX." by default; in the third
// slot, word for word as Courier's imapd, "#shared." where other accounts' folders are
// reachable (the virtual shared folders) and "shared." where Courier's sharable Maildirs are.
// The stdio imapd announces both, as Courier does whether or not any exist; imapd-server
// announces "shared." only to an account given a sharable list (accounts/sharable-access.ts).
import { AUTHENTICATED, ok, type CommandSpec } from './types.js';

export const namespace: CommandSpec = {
  names: ['NAMESPACE'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'NAMESPACE' }],
  async handler({ session, args }) {
    args.end();
    // Written out: RFC 2342's grammar has no space between the descriptions of one slot.
    const slots = [session.store.sharedFolders ? '("#shared." ".")' : '', session.store.sharableMaildirs ? '("shared." ".")' : ''].join('');
    const shared = slots === '' ? 'NIL' : `(${slots})`;
    session.write(Buffer.from(`* NAMESPACE (("${session.settings.namespacePrefix}" ".")) NIL ${shared}\r\n`));
    return ok('NAMESPACE completed');
  },
};
