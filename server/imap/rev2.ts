// IMAP4rev2 (RFC 9051) for a session that sent ENABLE IMAP4rev2. The server announces
// IMAP4rev1 and IMAP4rev2 side by side, so a client that wants rev2 enables it (Appendix A);
// until then the session is IMAP4rev1 as before. The rules live here, read by the session,
// the selected view and the commands, so that each of them asks one question:
// - the extensions folded into IMAP4rev2 (Appendix E item 2, 3) are there for a rev2 session
//   even where IMAP_CAPABILITY takes them off (`folded`);
// - mailbox names are UTF-8 (5.1), and quoted strings may carry UTF-8 (Appendix A: only
//   after ENABLE IMAP4rev2) (`utf8Strings`); a name that is not Net-Unicode (NFC) is not
//   created (5.1, 6.3.4: reject or convert; we reject) (`checkNewName`);
// - no \Recent: no RECENT response, no \Recent in FLAGS, the RECENT, NEW and OLD search keys
//   and the RECENT status item are not part of the grammar (Appendix E item 12) (`recentShown`,
//   `refusedSearchKey`, `refusedStatusItem`);
// - SEARCH answers ESEARCH (item 4; commands/esearch.ts), unsolicited FETCH carries UID (item
//   21; selected.ts), SELECT says [CLOSED] (item 9; session.ts) and answers LIST without
//   UNSEEN (items 10, 11; commands/select.ts), STATUS has DELETED (item 3; status-items.ts).
// CHECK, removed from the grammar (item 17: "Clients should use NOOP instead"), is still
// answered as NOOP: a server announcing IMAP4rev1 implements it, the RFC asks nothing else of
// the server, and Cyrus (the rev2 server we could read) answers it too.

import { MailboxNameError } from './names.js';

/** The ENABLE word (upper case, as session.enabled holds words) and as announced. */
export const IMAP4REV2 = 'IMAP4REV2';
export const IMAP4REV2_WORD = 'IMAP4rev2';

export function isRev2(enabled: ReadonlySet<string>): boolean {
  return enabled.has(IMAP4REV2);
}

/** Capability words whose function IMAP4rev2 includes (Appendix E items 2 and 3). */
const FOLDED = new Set([
  'NAMESPACE', 'UNSELECT', 'UIDPLUS', 'ESEARCH', 'SEARCHRES', 'ENABLE', 'IDLE', 'SASL-IR',
  'LIST-EXTENDED', 'LIST-STATUS', 'MOVE', 'LITERAL-', 'SPECIAL-USE', 'STATUS=SIZE', 'CHILDREN',
]);

/** Whether `word` (upper case) is part of IMAP4rev2 for a session that enabled it. */
export function folded(enabled: ReadonlySet<string>, word: string): boolean {
  return isRev2(enabled) && FOLDED.has(word);
}

/** UTF-8 mailbox names and UTF-8 in quoted strings: UTF8=ACCEPT (RFC 6855) or IMAP4rev2. */
export function utf8Strings(enabled: ReadonlySet<string>): boolean {
  return enabled.has('UTF8=ACCEPT') || isRev2(enabled);
}

/** \Recent and RECENT: IMAP4rev1 only. */
export function recentShown(enabled: ReadonlySet<string>): boolean {
  return !isRev2(enabled);
}

/** The search keys IMAP4rev2's grammar left out (RFC 9051 section 9, search-key). */
export const REMOVED_SEARCH_KEYS: ReadonlySet<string> = new Set(['recent', 'new', 'old']);

/** A STATUS item IMAP4rev2 left out (status-att): RECENT. */
export function refusedStatusItem(enabled: ReadonlySet<string>, word: string): boolean {
  return isRev2(enabled) && word === 'RECENT';
}

/**
 * A name CREATE or RENAME would make, as the client wrote it (already in store form): in a rev2
 * session one that is not in Unicode Normalization Form C is refused (RFC 9051 5.1: "MUST
 * prohibit the creation of 8-bit mailbox names that do not comply with Net-Unicode").
 */
export function checkNewName(enabled: ReadonlySet<string>, name: string): void {
  if (isRev2(enabled) && name !== name.normalize('NFC')) {
    throw new MailboxNameError('Mailbox names must be in Unicode Normalization Form C (RFC 9051 section 5.1)');
  }
}
