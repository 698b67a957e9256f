// Mailbox names: the mapping between what the client sees on the wire and the store's
// canonical names ("INBOX", "INBOX.Sent"). Two things happen here and nowhere else:
// the personal namespace prefix (Courier's "INBOX." or none, IMAP_NAMESPACE_PREFIX)
// and modified UTF-7 (RFC 3501 section 5.1.3), which is skipped once the client has
// enabled UTF8=ACCEPT (RFC 6855).

import { decodeMailboxName, encodeMailboxName } from './protocol/utf7.js';
import { isSharedName } from '../backend/shared.js';
import { isSharableName } from '../backend/sharable-names.js';

export const SEPARATOR = '.';

export class MailboxNameError extends Error {}

export interface NameOptions {
  prefix: '' | 'INBOX.';
  utf8: boolean;
}

/** A name that is not modified UTF-7 cannot exist, but the command naming it is valid
 * syntax: NO, not BAD (as Courier answers SELECT of such a name). */
function decodeName(wire: string): string {
  try {
    return decodeMailboxName(wire);
  } catch (err) {
    throw new MailboxNameError(err instanceof Error ? err.message : String(err));
  }
}

/** Wire name (as the client sent it, already unquoted) -> store name. */
export function toStoreName(wire: string, options: NameOptions): string {
  let name = options.utf8 ? wire : decodeName(wire);
  if (/^inbox$/i.test(name)) return 'INBOX';
  // Courier's shared hierarchy (backend/shared.ts) is outside the personal namespace, with or without its prefix.
  if (isSharedName(name)) return name;
  // So is the namespace of Courier's sharable Maildirs ("shared.", maildir/sharable.ts).
  if (isSharableName(name)) return name;
  // INBOX is case-insensitive, also as the first level of a hierarchical name.
  if (/^inbox\./i.test(name)) name = 'INBOX' + name.slice(5);
  if (options.prefix === '') {
    // Without a prefix every folder is a top-level name; Courier's on-disk names still
    // live under INBOX., so "Sent" is stored as "INBOX.Sent".
    if (name === 'INBOX') return name;
    return 'INBOX.' + name;
  }
  return name;
}

/** Store name -> wire name. */
export function toWireName(store: string, options: NameOptions): string {
  let name = store;
  if (options.prefix === '' && store.startsWith('INBOX.')) name = store.slice(6);
  // (A store name in "#shared." keeps its form: no prefix to remove.)
  return options.utf8 ? name : encodeMailboxName(name);
}

/** True when the name lies in the personal namespace (CREATE outside it is refused). */
export function inPersonalNamespace(store: string): boolean {
  return store === 'INBOX' || store.startsWith('INBOX.');
}
