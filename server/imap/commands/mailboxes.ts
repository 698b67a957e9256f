// CREATE (with CREATE-SPECIAL-USE, RFC 6154 section 3), DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 3501 6.3.3 - 6.3.7).
import { requireRights } from '../rights.js';
import { AUTHENTICATED, no, ok, type CommandSpec, type SessionContext } from './types.js';
import { isSharedName } from '../../backend/shared.js';
import { inPersonalNamespace, SEPARATOR } from '../names.js';
import { SyntaxError, type Args } from './args.js';
import { MailStoreError } from '../../backend/mailstore.js';
import { checkNewName } from '../rev2.js';

/**
 * CREATE's parameters (RFC 4466 create-param): only USE (RFC 6154 CREATE-SPECIAL-USE), with at
 * most one attribute, which a Maildir folder keeps (server/maildir/specialuse.ts).
 */
function createParameters(args: Args): { specialUse?: string } {
  if (args.remaining === 0) return {};
  const params = args.list('CREATE parameters');
  args.end();
  let specialUse: string | undefined;
  for (let i = 0; i < params.length; i++) {
    const param = params[i];
    if (param.type !== 'atom' || param.value.toUpperCase() !== 'USE') throw new SyntaxError('Unknown CREATE parameter');
    const uses = params[++i];
    if (uses?.type !== 'list') throw new SyntaxError('USE needs a list of attributes');
    for (const use of uses.items) {
      if (use.type !== 'atom' || !use.value.startsWith('\\')) throw new SyntaxError('USE takes \\ attributes');
      const word = use.value.toLowerCase();
      // Courier-style storage keeps one attribute per folder; a second cannot be honoured.
      if (specialUse !== undefined && specialUse.toLowerCase() !== word) throw new MailStoreError('A folder takes one special use here', 'USEATTR');
      specialUse = '\\' + word.charAt(1).toUpperCase() + word.slice(2);
    }
  }
  return specialUse === undefined ? {} : { specialUse };
}

/** Another account's folder (or a name for one), where the store offers them (backend/shared.ts). */
function inSharedNamespace(session: SessionContext, name: string): boolean {
  return session.store.sharedFolders === true && isSharedName(name) && name.split(SEPARATOR).length > 2;
}

function parentOf(name: string): string {
  return name.slice(0, name.lastIndexOf(SEPARATOR));
}

export const create: CommandSpec = {
  names: ['CREATE'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'CREATE-SPECIAL-USE' }],
  async handler({ session, args }) {
    let wire = args.astring('mailbox name');
    const options = createParameters(args);
    // A trailing separator only says that the client means to create children below it.
    if (wire.endsWith(SEPARATOR)) wire = wire.slice(0, -1);
    const name = session.storeName(wire);
    checkNewName(session.enabled, name);
    if (name === 'INBOX') return no('INBOX already exists', 'ALREADYEXISTS');
    const shared = inSharedNamespace(session, name);
    if (!inPersonalNamespace(name) && !shared) {
      return no(`Folder names must start with ${session.settings.namespacePrefix} (see NAMESPACE)`, 'CANNOT');
    }
    // A new name takes its parent's ACL (maildir/acl.ts): create right "c" (RFC 4314 "k") there;
    // in another account's folders Courier names the parent when it refuses.
    const denied = await requireRights(session, shared ? parentOf(name) : name, 'c', 'CREATE');
    if (denied) return denied;
    await session.store.createFolder(name, options);
    // RFC 8474 4.1: the new folder's MAILBOXID in the tagged OK.
    const mailboxId = session.offers('OBJECTID') ? await session.store.mailboxId?.(name) : null;
    return mailboxId ? ok('CREATE completed', `MAILBOXID (${mailboxId})`) : ok('CREATE completed');
  },
};

export const deleteMailbox: CommandSpec = {
  names: ['DELETE'],
  states: AUTHENTICATED,
  async handler({ session, args }) {
    const name = session.storeName(args.astring('mailbox name'));
    args.end();
    if (name === 'INBOX') return no('INBOX cannot be deleted', 'CANNOT');
    // Courier keeps the Trash folder (IMAP_TRASHFOLDERNAME): clients move deleted mail there.
    if (name === `INBOX.${session.settings.trashFolder}`) return no('Cannot delete this folder.', 'CANNOT');
    const denied = await requireRights(session, name, 'x', 'DELETE');
    if (denied) return denied;
    if (session.selected?.folder.name === name) session.unselect();
    await session.store.deleteFolder(name);
    return ok('DELETE completed');
  },
};

export const rename: CommandSpec = {
  names: ['RENAME'],
  states: AUTHENTICATED,
  async handler({ session, args }) {
    const from = session.storeName(args.astring('existing mailbox name'));
    const to = session.storeName(args.astring('new mailbox name'));
    args.end();
    checkNewName(session.enabled, to);
    const shared = inSharedNamespace(session, to);
    if (!inPersonalNamespace(to) && !shared) return no(`Folder names must start with ${session.settings.namespacePrefix}`, 'CANNOT');
    // Renaming INBOX moves its messages and leaves INBOX in place, empty (RFC 3501 6.3.5; the
    // store does it): a session that has INBOX selected keeps it. Within another account's
    // folders (Courier): "x" on the folder, "c" on the new name's parent; never across accounts.
    const denied = (await requireRights(session, from, 'x', 'RENAME')) ?? (await requireRights(session, shared ? parentOf(to) : to, 'c', 'RENAME'));
    if (denied) return denied;
    if (from !== 'INBOX' && session.selected?.folder.name === from) session.unselect();
    await session.store.renameFolder(from, to);
    return ok('RENAME completed');
  },
};

export const subscribe: CommandSpec = {
  names: ['SUBSCRIBE'],
  states: AUTHENTICATED,
  async handler({ session, args }) {
    const name = session.storeName(args.astring('mailbox name'));
    args.end();
    await session.store.subscribe(name);
    return ok('SUBSCRIBE completed');
  },
};

export const unsubscribe: CommandSpec = {
  names: ['UNSUBSCRIBE'],
  states: AUTHENTICATED,
  async handler({ session, args }) {
    const name = session.storeName(args.astring('mailbox name'));
    args.end();
    await session.store.unsubscribe(name);
    return ok('UNSUBSCRIBE completed');
  },
};
