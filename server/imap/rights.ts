// The one place commands ask whether the logged-in owner may do something to a folder
// (RFC 4314 section 4), by the folder's ACL as Courier stores it (backend/acl.ts).
// Courier's wording for a refusal: `NO Access denied for CMD on FOLDER (ACL "x" required)`.

import { ALL_RIGHTS, ownerRights, rightsForSelect, userRights } from '../backend/acl.js';
import { no, type CommandResult, type SessionContext } from './commands/types.js';

/**
 * The logged-in user's rights on a folder (store name), in stored letters; every right where
 * the store keeps no ACLs. On another account's folder (a shared folder) the user is not its
 * owner: only what the ACL grants "anyone" or the user by name.
 */
export async function myRights(session: SessionContext, storeName: string): Promise<string> {
  const store = session.store;
  if (!store.readAcl) return ALL_RIGHTS;
  const entries = await store.readAcl(storeName);
  const user = session.user ?? '';
  return (store.folderOwner?.(storeName) ?? null) === null ? ownerRights(entries, user) : userRights(entries, user);
}

/** Null when every right in `needed` is held, else the NO to answer. */
export async function requireRights(
  session: SessionContext, storeName: string, needed: string, command: string,
): Promise<CommandResult | null> {
  const held = await myRights(session, storeName);
  const missing = [...needed].filter((c) => !held.includes(c));
  if (missing.length === 0) return null;
  return no(`Access denied for ${command} on ${session.wireName(storeName)} (ACL "${missing.join('')}" required)`, 'NOPERM');
}

/** The rights STORE needs for these flags (RFC 4314 4): \Seen "s", \Deleted "t", any other "w". */
export function rightsForFlags(flags: readonly string[]): string {
  let needed = '';
  for (const f of flags) {
    const lower = f.toLowerCase();
    const right = lower === '\\seen' ? 's' : lower === '\\deleted' ? 't' : 'w';
    if (!needed.includes(right)) needed += right;
  }
  return needed;
}

/** `[MYRIGHTS "..."]` as Courier sends it after SELECT and EXAMINE. */
export async function myRightsCode(session: SessionContext, storeName: string): Promise<string> {
  return `MYRIGHTS "${rightsForSelect(await myRights(session, storeName))}"`;
}

/** The names (wire form) LIST may show: a folder without "l" is not listed (RFC 4314 4). */
export async function lookupAllowed(session: SessionContext, wires: readonly string[]): Promise<string[]> {
  if (!session.store.readAcl) return [...wires];
  const out: string[] = [];
  for (const wire of wires) if ((await myRights(session, session.storeName(wire))).includes('l')) out.push(wire);
  return out;
}

/** Whether rights `held` let a user set `flag` (RFC 4314 4): \Seen "s", \Deleted "t", any other "w". */
function maySet(flag: string, held: string): boolean {
  return held.includes(rightsForFlags([flag]));
}

/**
 * The flags of an APPEND that this user may set on the folder: RFC 4314 section 4 has the
 * server ignore the others rather than refuse the message (Courier stores none of them then).
 */
export async function permittedFlags(session: SessionContext, storeName: string, flags: readonly string[]): Promise<string[]> {
  if (flags.length === 0) return [];
  const held = await myRights(session, storeName);
  return flags.filter((f) => maySet(f, held));
}

/**
 * After COPY or MOVE into a folder where the user may not set some of the copied messages'
 * flags: those flags are taken off the copies again (RFC 4314 section 4, as Courier, whose
 * copies into a folder without "s", "t" and "w" carry no flags).
 */
export async function stripForbiddenFlags(
  session: SessionContext, storeName: string, copies: readonly number[], sourceFlags: Iterable<string>,
): Promise<void> {
  if (copies.length === 0) return;
  const held = await myRights(session, storeName);
  const forbidden = [...new Set(sourceFlags)].filter((f) => f !== '\\Recent' && !maySet(f, held));
  if (forbidden.length === 0) return;
  const folder = await session.store.openFolder(storeName);
  try {
    await folder.refresh();
    await folder.storeFlags(copies, 'remove', forbidden);
  } finally {
    folder.release();
  }
}
