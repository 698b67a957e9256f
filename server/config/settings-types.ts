// The typed settings (ImapdSettings), the shape of one row of the settings table
// (settings.ts), and what listeners derive from the typed settings (sessions: session.ts).

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** A listening port, optionally tied to one address (Courier's "ip.port" form). */
export interface PortSpec {
  /** undefined: the listener's default address (ADDRESS / SSLADDRESS); null: all addresses. */
  address?: string | null;
  port: number;
}

export interface Endpoint {
  /** null: all addresses. */
  address: string | null;
  port: number;
}

export interface ImapdSettings {
  address: string | null;
  ports: PortSpec[];
  sslAddress: string | null;
  sslPorts: PortSpec[];
  maxDaemons: number;
  maxPerIp: number;
  /** IMAP_CAPABILITY words (before TLS); server-added words are computed in server/imap/capabilities.ts. */
  capability: string[];
  /** IMAP_CAPABILITY_TLS words (used once TLS is active). */
  capabilityTls: string[];
  /** IMAP_IDLE_TIMEOUT seconds: polling period in IDLE when change notification is unavailable. */
  idleTimeout: number;
  /** IMAP_ENHANCEDIDLE: realtime IDLE; the continuation says "+ entering ENHANCED idle mode". */
  enhancedIdle: boolean;
  useLocks: boolean;
  /** IMAP_FTS_INDEX: a full-text index per folder for SEARCH BODY / TEXT. */
  ftsIndex: boolean;
  keywords: 0 | 1 | 2;
  /** IMAP_DISABLETHREADSORT: refuse THREAD and SORT (still announced, as Courier). */
  disableThreadSort: boolean;
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
  emptyTrash: { folder: string; days: number }[];
  plainStart: boolean;
  sslStart: boolean;
  startTls: boolean;
  /** IMAP_TLS_REQUIRED: no LOGIN/AUTHENTICATE before STARTTLS (LOGINDISABLED). */
  tlsRequired: boolean;
  tlsCertFile: string | null;
  tlsPrivateKeyFile: string | null;
  tlsMinVersion: TlsVersion;
  startTlsMinVersion: TlsVersion;
  tlsCipherList: string | null;
  /** TLS_VERIFYPEER: ask for a client certificate (PEER: verify one if presented; REQUIREPEER: refuse clients without one). */
  tlsVerifyPeer: 'NONE' | 'PEER' | 'REQUIREPEER';
  /** TLS_TRUSTCERTS: the certificate authorities client certificates are verified against (a PEM file or a directory of them). */
  tlsTrustCerts: string | null;
  /** TLS_EXTERNAL: the subject field of a verified client certificate that names the account (AUTHENTICATE EXTERNAL). */
  tlsExternal: string | null;
  maildirPath: string;
  mkhomedirSkel: string | null;
  /** Personal namespace prefix: "INBOX." (Courier) or "" (IMAP_NAMESPACE_PREFIX setting). */
  namespacePrefix: '' | 'INBOX.';
  dataDir: string | null;
  /** Longest command line accepted (octets) before answering BAD. */
  maxLineLength: number;
  /** Largest literal accepted (octets) before answering BAD / NO [TOOBIG]. */
  maxLiteralSize: number;
  /** Seconds a verified password is let in again without hashing; 0 turns the cache off. */
  loginCacheTtl: number;
  /** LMTP delivery (server/delivery): null port and socket leave it off. */
  lmtpAddress: string | null;
  lmtpPort: number | null;
  lmtpSocket: string | null;
  lmtpMaxMessageSize: number;
  /** Largest message fetched from a mail source (server/fetch); a bigger one stops its source with an error. */
  fetchMaxMessageSize: number;
  /** A full mailbox is a temporary failure (452, EX_TEMPFAIL) rather than a bounce (552). */
  quotaFullTempfail: boolean;
  // Access, authentication and operations (issue 12, items 4 and 5).
  /** IMAPACCESSFILE: couriertcpd's access file in its text form (a file or a directory of them). */
  accessFile: string | null;
  /** DEFDOMAIN: appended to a login name without "@" (as written, e.g. "@example.com"). */
  defaultDomain: string | null;
  /** IMAP_LOG_DELETIONS: one log line per expunged message, as Courier writes it. */
  logDeletions: boolean;
  pidFile: string | null;
  sslPidFile: string | null;
  /** IMAP_UMASK as a number; null leaves the process's umask. */
  umask: number | null;
  mailboxSanityCheck: boolean;
  // Sending through a folder, and the per-account protocol log (issue 12, items 5 and 6).
  /** OUTBOX: the Maildir folder (".Outbox") whose new messages are also sent; null: none. */
  outbox: string | null;
  sendmail: string;
  /** HEADERFROM: the header naming the sender on the sent copy; null: none. */
  headerFrom: string | null;
  outboxMultipleSend: boolean;
  /** IMAPDEBUGFILE: a file name in the Maildir (or an absolute path) that, when it exists, receives the protocol. */
  debugFile: string | null;
  /** ACCOUNTS: where the accounts are: "sqlite" (accounts.sqlite in the data directory), a postgres:// or an ldap:// URL (server/accounts/open-store.ts). */
  accounts: string;
  /** IMAP_FILE_WATCH: watch Maildirs with inotify (false on NFS: polling and the change bus instead). */
  fileWatch: boolean;
  // Proxy mode (issue 12, item 7).
  /** IMAP_PROXY: logins of accounts whose mailhost is another server are relayed there. */
  imapProxy: boolean;
  /** PROXY_HOSTNAME: this server's name as mailhosts write it (besides the machine's host name). */
  proxyHostname: string | null;
  /** IMAP_PROXY_FOREIGN: CAPABILITY is sent to the other server after the login, its answer passed on. */
  imapProxyForeign: boolean;
  /**
   * IMAPD_MAILDIRSHARED for imapd-server and the appliance: the list of Courier's sharable
   * Maildirs (its $sysconfdir/maildirshared), an account's "sharable" option appended to the name.
   */
  maildirShared: string;
}

/** How the GUI should present a setting. */
export type SettingKind =
  | 'address' | 'ports' | 'integer' | 'boolean' | 'yesno' | 'choice' | 'words'
  | 'text' | 'relative-path' | 'file' | 'directory' | 'tls-protocol' | 'cipher-list' | 'folder-days';

export interface ParseContext {
  /** Relative file names in settings are taken relative to the configuration directory. */
  configDir: string;
  /** Report a value that was accepted but changed or partly ignored. */
  warn(message: string, kind?: 'adjusted' | 'unsupported'): void;
}

export interface SettingSpec<K extends keyof ImapdSettings> {
  name: string;
  file: 'imapd' | 'imapd-ssl';
  field: K;
  kind: SettingKind;
  /** As written in the file; "" means unset. */
  default: string;
  /** One sentence for the GUI and the README. */
  meaning: string;
  choices?: readonly string[];
  /** A setting of this server, not of Courier. */
  ours?: boolean;
  /** In the environment (stdio imapd), an empty value is a value (HEADERFROM=: no header), not unset. */
  emptyIsValue?: boolean;
  /** Throws SettingValueError for an invalid value. */
  parse(value: string, ctx: ParseContext): ImapdSettings[K];
}

export type AnySettingSpec = { [K in keyof ImapdSettings]: SettingSpec<K> }[keyof ImapdSettings];

/** An invalid value; the loader adds file, line and setting and throws a ConfigError. */
export class SettingValueError extends Error {}

/** Default session deadlines (ms): 60 s to log in, 60 s per command line (and per literal, plus its size at 64 KiB/s), 30 min idle once logged in. */
export const DEFAULT_SESSION_TIMEOUTS = { unauthenticated: 60_000, authenticated: 30 * 60_000, literal: 60_000 } as const;

/** The addresses and ports to listen on, with each port's address filled in. */
export function resolveEndpoints(ports: readonly PortSpec[], defaultAddress: string | null): Endpoint[] {
  return ports.map((p) => ({ address: p.address === undefined ? defaultAddress : p.address, port: p.port }));
}
