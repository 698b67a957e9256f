// ACL (RFC 4314): GETACL, SETACL, DELETEACL, LISTRIGHTS, MYRIGHTS, answered as Courier's imapd
// answers them with IMAP_ACL=1 (its RFC 2086 forms: "c" for create, "d" for the delete rights
// when all of "x", "t" and "e" are held). Entries for other accounts ("user=bob") give them
// rights on the folder as a shared folder ("#shared.OWNER.FOLDER", backend/shared.ts).
import {
  rightsForClient, rightsFromClient, shownIdentifier, storedIdentifier, unsafeAcl, withEntry, type AclEntry,
} from '../../backend/acl.js';
import { isSharedName } from '../../backend/shared.js';
import type { ImapValue } from '../protocol/types.js';
import { myRights, myRightsCode, requireRights } from '../rights.js';
import { AUTHENTICATED, bad, no, ok, type CommandContext, type CommandResult, type CommandSpec, type SessionContext } from './types.js';

/**
 * The store name of the existing folder (or intermediate level) an ACL command names, or the
 * answer to give instead: BAD while IMAP_ACL is off (the commands are unknown then, as in
 * Courier), NO [NONEXISTENT] for a folder that does not exist.
 */
async function aclFolder(session: SessionContext, wire: string): Promise<{ name: string } | CommandResult> {
  if (!session.settings.acl) return bad('Unknown command');
  const name = session.storeName(wire);
  const known = (await session.store.listFolders({ shared: isSharedName(name) })).some((f) => f.name === name);
  if (!known || !session.store.readAcl) return no('Mailbox does not exist', 'NONEXISTENT');
  return { name };
}

/** Courier: LISTRIGHTS and MYRIGHTS need any of these rights (they reveal that the folder exists). */
async function mayAskRights(session: SessionContext, name: string, command: string): Promise<CommandResult | null> {
  const held = await myRights(session, name);
  return [...'lriecxa'].some((c) => held.includes(c)) ? null : requireRights(session, name, 'a', command);
}

export const getacl: CommandSpec = {
  names: ['GETACL'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'ACL', added: 'acl' }, { word: 'ACL2=UNION', added: 'acl' }],
  async handler({ session, args }) {
    const wire = args.astring('mailbox name');
    args.end();
    const folder = await aclFolder(session, wire);
    if ('status' in folder) return folder;
    const denied = await requireRights(session, folder.name, 'a', 'GETACL');
    if (denied) return denied;
    const line: ImapValue[] = [{ atom: 'ACL' }, wire];
    for (const e of await session.store.readAcl!(folder.name)) {
      const shown = shownIdentifier(e.identifier);
      if (shown !== null) line.push(shown, rightsForClient(e.rights));
    }
    session.untagged(line);
    return ok('GETACL completed.');
  },
};

async function change(ctx: CommandContext, set: boolean): Promise<CommandResult> {
  const { session, args } = ctx;
  const command = set ? 'SETACL' : 'DELETEACL';
  const wire = args.astring('mailbox name');
  const identifier = args.astring('identifier');
  const rights = set ? args.astring('rights') : '';
  args.end();
  const folder = await aclFolder(session, wire);
  if ('status' in folder) return folder;
  const stored = storedIdentifier(identifier);
  if (stored === null) return no('Invalid ACL identifier.');
  const mode = rights.startsWith('+') ? '+' : rights.startsWith('-') ? '-' : '';
  const letters = rightsFromClient(mode ? rights.slice(1) : rights);
  // RFC 4314 3.1: an unknown right is a BAD command.
  if (letters === null) return bad('Invalid access rights');
  const denied = await requireRights(session, folder.name, 'a', command);
  if (denied) return denied;
  const entries: AclEntry[] = await session.store.readAcl!(folder.name);
  const old = entries.find((e) => e.identifier === stored)?.rights ?? '';
  const next = mode === '+' ? old + letters : mode === '-' ? [...old].filter((c) => !letters.includes(c)).join('') : letters;
  const updated = withEntry(entries, stored, next);
  // Courier refuses a list that takes lookup or administer from the owner, or a right from administrators.
  if (unsafeAcl(updated) !== null) return no('Cannot modify ACLs on this mailbox.', 'NOPERM');
  await session.store.writeAcl!(folder.name, updated);
  // The selected folder's rights may have changed under the session: told as on SELECT, as Courier does.
  if (session.selected?.folder.name === folder.name) {
    session.untagged([{ atom: 'OK' }, { atom: `[${await myRightsCode(session, folder.name)}]` }, { atom: 'ACL' }]);
  }
  return ok('ACLs updated.');
}

export const setacl: CommandSpec = {
  names: ['SETACL'],
  states: AUTHENTICATED,
  handler: (ctx) => change(ctx, true),
};

export const deleteacl: CommandSpec = {
  names: ['DELETEACL'],
  states: AUTHENTICATED,
  handler: (ctx) => change(ctx, false),
};

export const listrights: CommandSpec = {
  names: ['LISTRIGHTS'],
  states: AUTHENTICATED,
  async handler({ session, args }) {
    const wire = args.astring('mailbox name');
    const identifier = args.astring('identifier');
    args.end();
    const folder = await aclFolder(session, wire);
    if ('status' in folder) return folder;
    const denied = await mayAskRights(session, folder.name, 'LISTRIGHTS');
    if (denied) return denied;
    // As Courier: the owner (by login name; of a shared folder, its account) always has "a"
    // and "l"; anyone else may be given any right, and a negative identifier for anyone or
    // the owner can never take l or a.
    const owner = session.store.folderOwner?.(folder.name) ?? session.user ?? '';
    const negativeOfFixed = identifier.startsWith('-') && ['anyone', 'anonymous', owner].includes(identifier.slice(1));
    const line: ImapValue[] = [{ atom: 'LISTRIGHTS' }, wire, identifier];
    if (negativeOfFixed) line.push('', ...'cdiprsw'.split('').map((c) => ({ atom: c })));
    else if (identifier === owner) line.push('al', ...'cdiprsw'.split('').map((c) => ({ atom: c })));
    else line.push('', ...'acdilprsw'.split('').map((c) => ({ atom: c })));
    session.untagged(line);
    return ok('LISTRIGHTS completed.');
  },
};

export const myrights: CommandSpec = {
  names: ['MYRIGHTS'],
  states: AUTHENTICATED,
  async handler({ session, args }) {
    const wire = args.astring('mailbox name');
    args.end();
    const folder = await aclFolder(session, wire);
    if ('status' in folder) return folder;
    const denied = await mayAskRights(session, folder.name, 'MYRIGHTS');
    if (denied) return denied;
    session.untagged([{ atom: 'MYRIGHTS' }, wire, rightsForClient(await myRights(session, folder.name))]);
    return ok('MYRIGHTS completed.');
  },
};
