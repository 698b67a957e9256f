// What the IMAP session takes from the configuration: the protocol settings and the
// capability words the server implements. Declared here, below both the settings schema
// (settings.ts) and the IMAP layer (server/imap), so that the configuration never imports
// the protocol code it configures; server/imap/capabilities.ts computes the list sent.

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

/** Protocol settings that change how the session behaves (from the imapd config file). */
export interface SessionSettings {
  /** IMAP_CAPABILITY words (before TLS); server-added words are computed in capabilities.ts. */
  capability: string[];
  /** IMAP_CAPABILITY_TLS words (used once TLS is active). */
  capabilityTls: string[];
  /** Personal namespace prefix: "INBOX." (Courier) or "" (IMAP_NAMESPACE_PREFIX setting). */
  namespacePrefix: '' | 'INBOX.';
  /** IMAP_ENHANCEDIDLE: realtime IDLE; the continuation says "+ entering ENHANCED idle mode". */
  enhancedIdle: boolean;
  /** IMAP_IDLE_TIMEOUT seconds: polling period in IDLE when change notification is unavailable. */
  idleTimeout: number;
  /** IMAP_TLS_REQUIRED: no LOGIN/AUTHENTICATE before STARTTLS (LOGINDISABLED). */
  tlsRequired: boolean;
  /** IMAP_DISABLETHREADSORT: refuse THREAD and SORT (still announced, as Courier). */
  disableThreadSort: boolean;
  /** IMAP_KEYWORDS: 0 disables keywords. */
  keywords: boolean;
  /** IMAP_ID_FIELDS bitmask of what ID reveals; null (unset): no ID command, as Courier. */
  idFields: number | null;
  /** IMAP_ACL: the ACL commands and ACL ACL2=UNION in CAPABILITY (rights are enforced either way). */
  acl: boolean;
  /** IMAP_CHECK_ALL_FOLDERS: LIST marks every folder \Marked or \Unmarked, not only INBOX. */
  checkAllFolders: boolean;
  /** IMAP_OBSOLETE_CLIENT: LIST says \Noinferiors instead of \HasChildren / \HasNoChildren. */
  obsoleteClient: boolean;
  /** IMAP_TRASHFOLDERNAME. */
  trashFolder: string;
  /** IMAP_MOVE_EXPUNGE_TO_TRASH. */
  moveExpungeToTrash: boolean;
  /** IMAP_LOG_DELETIONS: one log line per expunged message, as Courier writes it. */
  logDeletions?: boolean;
  /** OUTBOX: the folder that sends what is put into it (server/imap/outbox.ts); absent or null: none. */
  outbox?: OutboxSettings | null;
  /** Longest command line accepted (octets) before answering BAD. */
  maxLineLength: number;
  /** Largest literal accepted (octets) before answering BAD / NO [TOOBIG]. */
  maxLiteralSize: number;
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
