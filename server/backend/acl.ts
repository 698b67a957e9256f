// Access control lists (RFC 4314) as Courier keeps them (maildir/maildiracl): a list of
// identifier and rights, with Courier's ACL2=UNION: my rights are the union of the rights of
// every identifier that names me, minus the union of those taken away by "-identifier"
// entries; the owner always keeps "a". Rights are stored in Courier's letters: RFC 4314's,
// except that creating folders is "c" (RFC 4314's "k", which we take as "c" on input).

/** One entry: `owner`, `anyone`, `administrators`, `user=NAME`, or one of those after "-". */
export interface AclEntry {
  identifier: string;
  rights: string;
}

/** Courier's ACL_ALL: what the owner of a new Maildir and "administrators" hold. */
export const ALL_RIGHTS = 'aceilrstwx';

/** Letters that may be stored: Courier's ACL_ALL plus post ("p"). */
const STORABLE = new Set([...ALL_RIGHTS, 'p']);

/** Sorted, without duplicates or control characters, as Courier's aclt::fixup keeps them. */
export function normalizeRights(rights: string): string {
  return [...new Set([...rights].filter((c) => c >= ' '))].sort().join('');
}

/**
 * Rights as a client writes them, in stored letters: "d" (RFC 2086 and 4314's obsolete
 * "delete") is "x", "t" and "e", as Courier expands it; "k" (RFC 4314 create) is "c".
 * Null when a letter is not a right (RFC 4314 3.1: the server answers BAD).
 */
export function rightsFromClient(rights: string): string | null {
  let out = '';
  for (const c of rights) {
    if (c === 'd') out += 'xte';
    else if (c === 'k') out += 'c';
    else if (STORABLE.has(c)) out += c;
    else return null;
  }
  return normalizeRights(out);
}

/** Rights as Courier shows them (writeacl1): "x", "t" and "e" are "d" when all three are held, else not shown. */
export function rightsForClient(rights: string): string {
  const all = ['x', 't', 'e'].every((c) => rights.includes(c));
  const shown = [...rights].filter((c) => c !== 'x' && c !== 't' && c !== 'e');
  if (all) shown.push('d');
  return shown.sort().join('');
}

/** Rights as Courier's SELECT and EXAMINE show them in [MYRIGHTS]: "x", "t" and "e" are "d"
 * when all three are held, else each is shown as it is (unlike the MYRIGHTS command). */
export function rightsForSelect(rights: string): string {
  const all = ['x', 't', 'e'].every((c) => rights.includes(c));
  if (!all) return normalizeRights(rights);
  return normalizeRights([...rights].filter((c) => c !== 'x' && c !== 't' && c !== 'e').join('') + 'd');
}

/** The identifier as stored: a user name gets Courier's "user=" prefix; null for a name Courier refuses. */
export function storedIdentifier(identifier: string): string | null {
  const negative = identifier.startsWith('-');
  const name = negative ? identifier.slice(1) : identifier;
  if (name === '') return null;
  if (['anyone', 'anonymous', 'authuser', 'owner', 'administrators'].includes(name)) return identifier;
  if (name.includes('=') || /[\x00-\x20\x7f]/.test(name)) return null;
  return `${negative ? '-' : ''}user=${name}`;
}

/** The identifier as GETACL shows it ("user=" removed); null for one Courier does not show (group=...). */
export function shownIdentifier(stored: string): string | null {
  const negative = stored.startsWith('-');
  const name = negative ? stored.slice(1) : stored;
  if (!name.includes('=')) return stored;
  if (!name.startsWith('user=')) return null;
  return `${negative ? '-' : ''}${name.slice(5)}`;
}

/** Whether a stored identifier (without "-") names `user`, the owner of the Maildir. */
function namesOwner(identifier: string, user: string): boolean {
  return identifier === 'owner' || identifier === 'anyone' || identifier === 'authuser' || identifier === `user=${user}`;
}

/** Rights from the entries whose identifier passes `isMe`, by ACL2=UNION. */
function unionRights(entries: readonly AclEntry[], isMe: (identifier: string) => boolean): string {
  const granted = new Set<string>();
  for (const e of entries) if (!e.identifier.startsWith('-') && isMe(e.identifier)) for (const c of e.rights) granted.add(c);
  for (const e of entries) if (e.identifier.startsWith('-') && isMe(e.identifier.slice(1))) for (const c of e.rights) granted.delete(c);
  return normalizeRights([...granted].join(''));
}

/** The rights of the Maildir's owner (`user`, logged in) on a folder with these entries. */
export function ownerRights(entries: readonly AclEntry[], user: string): string {
  return normalizeRights(unionRights(entries, (id) => namesOwner(id, user)) + 'a');
}

/**
 * The rights of `user`, another account, on a folder of someone else's Maildir (a shared
 * folder) as Courier's computerights gives them: "anyone", "anonymous" and "user=NAME" name
 * them, "owner" does not, and nobody but the owner gets "a" for free.
 */
export function userRights(entries: readonly AclEntry[], user: string): string {
  return unionRights(entries, (id) => id === 'anyone' || id === 'anonymous' || id === `user=${user}`);
}

/**
 * Why Courier would refuse to store these entries (maildir_acl_write), or null: "owner" must
 * keep lookup and administer, and "administrators" every right, so that no change locks the
 * owner or the administrators out.
 */
export function unsafeAcl(entries: readonly AclEntry[]): string | null {
  const owner = unionRights(entries, (id) => id === 'owner' || id === 'anyone');
  if (!owner.includes('l') || !owner.includes('a')) return 'owner';
  const admins = unionRights(entries, (id) => id === 'administrators' || id === 'group=administrators' || id === 'anyone');
  if (![...ALL_RIGHTS].every((c) => admins.includes(c))) return 'administrators';
  return null;
}

/** Sets (or with empty rights removes) one identifier's entry, keeping the order of the others. */
export function withEntry(entries: readonly AclEntry[], identifier: string, rights: string): AclEntry[] {
  const out = entries.filter((e) => e.identifier !== identifier);
  if (rights === '') return out;
  const at = entries.findIndex((e) => e.identifier === identifier);
  const entry = { identifier, rights: normalizeRights(rights) };
  if (at < 0) out.push(entry);
  else out.splice(at, 0, entry);
  return out;
}
