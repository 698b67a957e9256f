// What the IMAP session takes from the configuration: the protocol settings and the
// capability words the server implements. Declared here, below both the settings schema
// (settings.ts) and the IMAP layer (server/imap), so that the configuration never imports
// the protocol code it configures; server/imap/capabilities.ts computes the list sent.

import type { ImapdSettings } from './settings-types.js';

/** Our default for IMAP_CAPABILITY: Courier's words plus the extensions clients use today. */
export const DEFAULT_CAPABILITY = [
  // IMAP4rev2 (RFC 9051) beside IMAP4rev1: a client switches it on with ENABLE IMAP4rev2.
  'IMAP4rev1', 'IMAP4rev2', 'UIDPLUS', 'CHILDREN', 'NAMESPACE', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES',
  'THREAD=REFS', 'SORT', 'SORT=DISPLAY', 'I18NLEVEL=1', 'QUOTA', 'IDLE', 'MOVE', 'UNSELECT', 'LITERAL+', 'SPECIAL-USE', 'SASL-IR',
  'LIST-EXTENDED', 'LIST-STATUS', 'STATUS=SIZE', 'CREATE-SPECIAL-USE',
  'UNAUTHENTICATE', 'CONDSTORE', 'QRESYNC', 'COMPRESS=DEFLATE', 'ESEARCH', 'ESORT', 'SEARCHRES', 'WITHIN', 'CONTEXT=SEARCH', 'CONTEXT=SORT',
  'BINARY', 'OBJECTID', 'SAVEDATE', 'PREVIEW',
  'MULTIAPPEND', 'CATENATE', 'URL-PARTIAL', 'REPLACE',
  // Announced as APPENDLIMIT=<IMAP_MAXMSGSIZE> (RFC 7889).
  'APPENDLIMIT',
  'NOTIFY',
  // Announced only where LITERAL+ is not (RFC 7888 section 5): taking LITERAL+ off this list
  // leaves LITERAL- (non-synchronizing literals up to 4096 octets); taking both off, neither.
  'LITERAL-',
];

/** Words we implement, for the warning about configured words outside it (advertising ACL or
 * XMAGICTRASH without implementing them would break clients). What is announced is computed
 * from the command table's declarations (server/imap/capabilities.ts), which config/ may not
 * import; test/imap/capabilities.test.ts holds this list equal to them. */
export const SUPPORTED_WORDS = new Set(
  [...DEFAULT_CAPABILITY, 'ID', 'ACL', 'ACL2=UNION', 'AUTH=PLAIN', 'AUTH=EXTERNAL', 'ENABLE', 'UTF8=ACCEPT', 'STARTTLS', 'LOGINDISABLED'].map((w) => w.toUpperCase()),
);

/** Words announced with a value the server computes (APPENDLIMIT=n); test/imap/capabilities.test.ts holds this to the declarations. */
export const VALUED_WORDS: ReadonlySet<string> = new Set(['APPENDLIMIT']);

/** The typed settings' fields that a session takes as they are (their meanings: settings-types.ts). */
const SESSION_FIELDS = [
  'capability', 'capabilityTls', 'namespacePrefix', 'enhancedIdle', 'idleTimeout', 'tlsRequired', 'disableThreadSort',
  'idFields', 'acl', 'checkAllFolders', 'obsoleteClient', 'trashFolder', 'moveExpungeToTrash', 'maxLineLength', 'maxLiteralSize',
] as const satisfies readonly (keyof ImapdSettings)[];

/** Protocol settings that change how the session behaves (from the imapd config file). */
export type SessionSettings = Pick<ImapdSettings, (typeof SESSION_FIELDS)[number]> & {
  /** IMAP_KEYWORDS: 0 disables keywords. */
  keywords: boolean;
  /** IMAP_LOG_DELETIONS (absent: off). */
  logDeletions?: boolean;
  /** OUTBOX: the folder that sends what is put into it (server/imap/outbox.ts); absent or null: none. */
  outbox?: OutboxSettings | null;
};

/** The protocol settings the IMAP session needs, from the typed settings. */
export function sessionSettingsFrom(s: ImapdSettings): SessionSettings {
  const taken = Object.fromEntries(SESSION_FIELDS.map((field) => [field, s[field]])) as Pick<ImapdSettings, (typeof SESSION_FIELDS)[number]>;
  return {
    ...taken,
    // Copies: a session's list does not change with the settings object it came from.
    capability: [...s.capability],
    capabilityTls: [...s.capabilityTls],
    keywords: s.keywords !== 0,
    logDeletions: s.logDeletions,
    outbox: s.outbox === null ? null : { folder: s.outbox, sendmail: s.sendmail, headerFrom: s.headerFrom, multipleSend: s.outboxMultipleSend },
  };
}

/** OUTBOX, SENDMAIL, HEADERFROM and OUTBOX_MULTIPLE_SEND, as Courier's imapd applies them. */
export interface OutboxSettings {
  /** The folder's Maildir directory name, as OUTBOX is written (".Outbox": INBOX.Outbox). */
  folder: string;
  /** Run as `sendmail -oi -t [-f sender]` with the message on standard input. */
  sendmail: string;
  /** Header naming the sender, added to the sent copy only; null: none. */
  headerFrom: string | null;
  /** More than one message in one COPY or MOVE. */
  multipleSend: boolean;
}
