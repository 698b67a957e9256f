// The settings we honour: one table with each setting's type, default, meaning (one
// sentence, shown in the GUI and the README) and validation. Names and file placement
// follow Courier's imapd / imapd-ssl files, so that an existing Courier configuration
// keeps working; a few settings of our own are marked `ours`.
//
// Defaults are written as they would appear in the file. A default may refer to another
// setting ("$IMAP_CAPABILITY AUTH=PLAIN"); such defaults are expanded after the files
// have been read, so they follow what the files set.
//
// The row types and value parsers live beside this file (settings-types.ts, setting-parsers.ts);
// the Courier settings we read past in not-honoured.ts, the README's table in settings-markdown.ts.

import { resolve } from 'node:path';
import { DEFAULT_CAPABILITY } from './session.js';
import {
  parseInteger,
  parseBoolean,
  parseYesNo,
  parseAddress,
  parsePorts,
  parseWords,
  parseText,
  parseRelativePath,
  parseExistingPath,
  parseTlsProtocol,
  parseCipherList,
  parseLmtpAddress,
  parseOptionalPort,
  parseSocketPath,
  parseFolderDays,
  parseChoice,
  parseOptionalFile,
  parseUmask,
  parseDefaultDomain,
  parseOutbox,
  parseHeaderName,
  parseDebugFile,
  parseAccounts,
  parseHostName,
} from './setting-parsers.js';
import type { AnySettingSpec } from './settings-types.js';

export {
  DEFAULT_SESSION_TIMEOUTS,
  SettingValueError,
  resolveEndpoints,
} from './settings-types.js';
export { sessionSettingsFrom } from './session.js';
export type {
  AnySettingSpec,
  Endpoint,
  ImapdSettings,
  ParseContext,
  PortSpec,
  SettingKind,
  SettingSpec,
  TlsVersion,
} from './settings-types.js';

/** Access, authentication and operations (issue 12, items 4 and 5): kept together for merges. */
const ACCESS_AND_OPERATIONS: readonly AnySettingSpec[] = [
  {
    name: 'IMAPACCESSFILE', file: 'imapd', field: 'accessFile', kind: 'text', default: '',
    meaning: 'Text access file in couriertcpd\'s format (a file, or a directory whose files are read in order): lines "address<TAB>allow" or "address<TAB>deny", where the address is a full IP, a prefix such as 192.168.0, :hhhh groups for IPv6, or * for every address; the most specific line wins and a denied connection is closed without a greeting, as Courier does. Read at start; empty: every address is allowed.',
    parse: parseOptionalFile,
  },
  {
    name: 'DEFDOMAIN', file: 'imapd', field: 'defaultDomain', kind: 'text', default: '',
    meaning: 'Appended to a login name that has no @ before the account is looked up ("@example.com": logging in as bob means bob@example.com), as Courier\'s authlib does.',
    parse: parseDefaultDomain,
  },
  {
    name: 'IMAP_LOG_DELETIONS', file: 'imapd', field: 'logDeletions', kind: 'boolean', default: '0',
    meaning: '1 logs one line per expunged message ("INFO: EXPUNGED, user=..., ip=[...], port=[...], old_name=..."), as Courier does.',
    parse: parseBoolean,
  },
  {
    name: 'PIDFILE', file: 'imapd', field: 'pidFile', kind: 'text', default: '',
    meaning: 'File into which imapd-server writes its process ID at start, removed when it stops cleanly (one process serves both ports, so PIDFILE and SSLPIDFILE hold the same number).',
    parse: parseOptionalFile,
  },
  {
    name: 'IMAP_UMASK', file: 'imapd', field: 'umask', kind: 'text', default: '',
    meaning: 'Octal umask (such as 022 or 077) the server process applies to every file and directory it creates, as Courier applies it to imapd; empty keeps the umask it was started with.',
    parse: parseUmask,
  },
  {
    name: 'IMAP_MAILBOX_SANITY_CHECK', file: 'imapd', field: 'mailboxSanityCheck', kind: 'boolean', default: '1',
    meaning: '1 refuses a Maildir whose owner is not the user the server runs as ("* BYE [ALERT] Fatal error: Account\'s mailbox directory is not owned by the correct uid or gid"), as Courier does; 0 serves it anyway.',
    parse: parseBoolean,
  },
  {
    name: 'SSLPIDFILE', file: 'imapd-ssl', field: 'sslPidFile', kind: 'text', default: '',
    meaning: 'Second process-ID file, for Courier\'s imapd-ssl service; imapd-server writes the same process ID as into PIDFILE.',
    parse: parseOptionalFile,
  },
];

/** The largest an IMAPDEBUGFILE grows to (server/log/debug-file.ts). */
export const DEBUG_FILE_MAX_BYTES = 10 * 1024 * 1024;

/** Sending through a folder and the per-account protocol log (issue 12, items 5 and 6): kept together for merges. */
const OUTBOX_AND_DEBUG: readonly AnySettingSpec[] = [
  {
    name: 'OUTBOX', file: 'imapd', field: 'outbox', kind: 'text', default: '',
    meaning: 'Directory name of a folder (".Outbox": INBOX.Outbox) that sends mail: a message APPENDed, COPYed or MOVEd into it is also handed to SENDMAIL, which reads the recipients from its To, Cc and Bcc headers, as Courier does; a refused message is not stored and the command answers NO [ALERT] with the reason. CAPABILITY then says XCOURIEROUTBOX=INBOX.Outbox. Empty: no such folder.',
    parse: parseOutbox,
  },
  {
    name: 'SENDMAIL', file: 'imapd', field: 'sendmail', kind: 'text', default: '/usr/sbin/sendmail',
    meaning: 'Program that sends the messages put into OUTBOX, run as "$SENDMAIL -oi -t -f $SENDER" with the message on its standard input; $SENDER is the account\'s first mail address (its user name if that is an address, else with DEFDOMAIN added; the stdio imapd takes AUTHADDR or AUTHENTICATED, as Courier).',
    parse: parseText,
  },
  {
    name: 'HEADERFROM', file: 'imapd', field: 'headerFrom', kind: 'text', default: 'X-IMAP-Sender', emptyIsValue: true,
    meaning: 'Header added to the copy handed to SENDMAIL (not to the stored one) with the sender\'s address, for oversight; empty adds none.',
    parse: parseHeaderName,
  },
  {
    name: 'OUTBOX_MULTIPLE_SEND', file: 'imapd', field: 'outboxMultipleSend', kind: 'boolean', default: '0',
    meaning: '1 lets one COPY or MOVE send several messages into OUTBOX; 0 refuses more than one at a time ("NO [ALERT] Only one message may be sent at a time."), as Courier does.',
    parse: parseBoolean,
  },
  {
    name: 'IMAPDEBUGFILE', file: 'imapd', field: 'debugFile', kind: 'text', default: '',
    meaning: `File name (such as imaplog.dat) that, when it exists in an account's Maildir, receives a record of each new session of that account after login: every command line received ("READ:"; literal data is not written, so neither passwords nor messages are) and the start of every response ("WRITE:", up to 1 KiB each), as Courier's protocol log; the file is never created, followed through a symbolic link, or grown beyond ${DEBUG_FILE_MAX_BYTES / 1024 / 1024} MiB. An absolute path names one file for every account.`,
    parse: parseDebugFile,
  },
];

/** Where the accounts are, and several servers on one Maildir store (issue 17): kept apart for merges. */
const ACCOUNT_STORE: readonly AnySettingSpec[] = [
  {
    name: 'ACCOUNTS', file: 'imapd', field: 'accounts', kind: 'text', default: 'sqlite',
    meaning: 'Where the accounts are: sqlite keeps them in accounts.sqlite in the data directory; postgres://user:password@host:5432/database keeps them in PostgreSQL (the same tables, for several servers sharing one store; copy them there with imapd-accounts migrate --to URL); ldap://BIND_DN:PASSWORD@host/BASE_DN reads them, read-only, from an LDAP directory with Courier\'s authldap attributes (mail, uid, homeDirectory, mailbox, quota, userPassword as {CRYPT}, {SSHA} or {ARGON2}, disableimap), the bind DN and password percent-encoded. Read at start.',
    ours: true,
    parse: parseAccounts,
  },
  {
    name: 'IMAP_FILE_WATCH', file: 'imapd', field: 'fileWatch', kind: 'boolean', default: '1',
    meaning: '1 watches the Maildirs (inotify) so that changes made by other processes on this computer are seen at once; 0 does not, as on NFS, where the watcher sees nothing another host does: changes of other processes are then found every IMAP_IDLE_TIMEOUT seconds, and at once when ACCOUNTS is PostgreSQL (the servers sharing it tell each other through LISTEN/NOTIFY). Without IMAP_ENHANCEDIDLE nothing is watched either way.',
    ours: true,
    parse: parseBoolean,
  },
];

/** Proxy mode (issue 12, item 7): kept together for merges. */
const PROXY: readonly AnySettingSpec[] = [
  {
    name: 'IMAP_PROXY', file: 'imapd', field: 'imapProxy', kind: 'boolean', default: '0',
    meaning: '1: an account whose mailhost (set with "imapd-accounts mailhost USER HOST" or on the Accounts screen) names another server is logged in there with the same name and password after its password is checked here, and the connection is then relayed to that server until either side closes, as Courier\'s proxy does (README.proxy). Unlike Courier, the password never goes in the clear: port 143 needs STARTTLS, port 993 (or "imaps://host:port") is TLS from the start, and the server\'s certificate is verified against TLS_TRUSTCERTS when set, else the public certificate authorities. A mailhost that cannot be reached answers NO [UNAVAILABLE]; one that refuses the password, NO [AUTHENTICATIONFAILED].',
    parse: parseBoolean,
  },
  {
    name: 'PROXY_HOSTNAME', file: 'imapd', field: 'proxyHostname', kind: 'text', default: '',
    meaning: 'This server\'s name as accounts\' mailhosts write it: an account whose mailhost is this name (or the machine\'s host name) is served here, so that all servers may share one configuration, as in Courier. Empty: the machine\'s host name only.',
    parse: parseHostName,
  },
  {
    name: 'IMAP_PROXY_FOREIGN', file: 'imapd', field: 'imapProxyForeign', kind: 'boolean', default: '0',
    meaning: '1: after logging in to the mailhost, a CAPABILITY command is sent there and its answer (the untagged CAPABILITY and its OK) answers the client\'s login, for servers other than this one or Courier that do not send their capabilities with the login\'s OK, as Courier does.',
    parse: parseBoolean,
  },
];

// ---- the table ----

export const SETTINGS: readonly AnySettingSpec[] = [
  {
    name: 'ADDRESS', file: 'imapd', field: 'address', kind: 'address', default: '127.0.0.1',
    meaning: 'IP address to listen on; 0 listens on all addresses (needed for other devices on the network).',
    parse: parseAddress,
  },
  {
    name: 'PORT', file: 'imapd', field: 'ports', kind: 'ports', default: '1143',
    meaning: 'Port for IMAP with STARTTLS (143 is the standard port, see PORTS); a comma list and Courier\'s ip.port form are accepted.',
    parse: parsePorts,
  },
  {
    name: 'IMAPDSTART', file: 'imapd', field: 'plainStart', kind: 'yesno', default: 'YES',
    meaning: 'YES starts the listener on PORT; NO leaves only the implicit-TLS port.',
    parse: parseYesNo,
  },
  {
    name: 'MAXDAEMONS', file: 'imapd', field: 'maxDaemons', kind: 'integer', default: '40',
    meaning: 'Most connections served at once; a connection beyond it is answered with BYE and closed.',
    parse: (v) => parseInteger(v, 1, 100000),
  },
  {
    name: 'MAXPERIP', file: 'imapd', field: 'maxPerIp', kind: 'integer', default: '4',
    meaning: 'Most connections at once from one IP address (raise it for many devices behind one router; 0 means no limit).',
    parse: (v) => parseInteger(v, 0, 100000),
  },
  {
    name: 'IMAP_CAPABILITY', file: 'imapd', field: 'capability', kind: 'words', default: DEFAULT_CAPABILITY.join(' '),
    meaning: 'Capabilities announced before TLS is active; STARTTLS, LOGINDISABLED, ENABLE and UTF8=ACCEPT are added by the server. COMPRESS=DEFLATE is announced (and accepted) once logged in.',
    parse: (v, ctx) => parseWords(v, ctx, 'IMAP_CAPABILITY'),
  },
  {
    name: 'IMAP_CAPABILITY_TLS', file: 'imapd', field: 'capabilityTls', kind: 'words', default: '"$IMAP_CAPABILITY AUTH=PLAIN"',
    meaning: 'Capabilities announced once TLS is active (by default IMAP_CAPABILITY plus AUTH=PLAIN).',
    parse: (v, ctx) => parseWords(v, ctx, 'IMAP_CAPABILITY_TLS'),
  },
  {
    name: 'IMAP_IDLE_TIMEOUT', file: 'imapd', field: 'idleTimeout', kind: 'integer', default: '60',
    meaning: 'Seconds between checks for new mail during IDLE when changes are not reported by the file system.',
    parse: (v) => parseInteger(v, 1, 3600),
  },
  {
    name: 'IMAP_ENHANCEDIDLE', file: 'imapd', field: 'enhancedIdle', kind: 'boolean', default: '1',
    meaning: '1 reports new mail and flag changes during IDLE as they happen; 0 only checks every IMAP_IDLE_TIMEOUT seconds.',
    parse: parseBoolean,
  },
  {
    name: 'IMAP_USELOCKS', file: 'imapd', field: 'useLocks', kind: 'boolean', default: '1',
    meaning: '1 locks a folder while its index is updated, so that several sessions and mail programs never race.',
    parse: parseBoolean,
  },
  {
    name: 'IMAP_FTS_INDEX', file: 'imapd', field: 'ftsIndex', kind: 'boolean', default: '1',
    meaning: '1 keeps a full-text index of each folder (imapd-ts.fts, beside Courier\'s files), filled in the background, so that SEARCH TEXT and BODY of three characters or more read only the messages that may match; 0 scans every message, as Courier does.',
    ours: true,
    parse: parseBoolean,
  },
  {
    name: 'IMAP_KEYWORDS', file: 'imapd', field: 'keywords', kind: 'choice', default: '1', choices: ['0', '1', '2'],
    meaning: '1 allows custom keywords such as $Label1 or Junk; 0 turns them off (2, Courier\'s slower variant, acts as 1).',
    parse: (v) => Number(parseChoice(v, ['0', '1', '2'] as const)) as 0 | 1 | 2,
  },
  {
    name: 'IMAP_DISABLETHREADSORT', file: 'imapd', field: 'disableThreadSort', kind: 'boolean', default: '0',
    meaning: '1 refuses THREAD and SORT, to save CPU on a small machine (they stay announced, as Courier does).',
    parse: parseBoolean,
  },
  {
    name: 'IMAP_ID_FIELDS', file: 'imapd', field: 'idFields', kind: 'integer', default: '',
    meaning: 'Set (0 to 7), the ID command is offered and reveals besides the server name the sum of 1 (version), 2 (operating system) and 4 (its release); unset, there is no ID command, as in Courier.',
    parse: (v) => (v.trim() === '' ? null : parseInteger(v, 0, 7)),
  },
  {
    name: 'IMAP_ACL', file: 'imapd', field: 'acl', kind: 'boolean', default: '1',
    meaning: '1 offers the ACL commands (GETACL, SETACL, MYRIGHTS, ...) and announces ACL ACL2=UNION, as Debian\'s Courier, and Courier\'s virtual shared folders: a folder whose ACL gives another account rights is opened by it as #shared.OWNER.FOLDER (imapd-server and the appliance find the accounts in the account store, the stdio imapd in IMAP_SHAREDINDEXFILE); folder rights stored in the Maildir are enforced either way.',
    parse: parseBoolean,
  },
  {
    name: 'IMAPD_MAILDIRSHARED', file: 'imapd', field: 'maildirShared', kind: 'text', default: 'maildirshared',
    meaning: 'The list of Courier\'s sharable Maildirs (made with maildirmake -S; "NAME PATH" lines, as Courier\'s /etc/courier/maildirshared), relative to the configuration directory. imapd-server and the appliance show them, read-only with each account\'s own flags, as shared.NAME.FOLDER only to accounts given a list with "imapd-accounts sharable USER on" (this file) or "group=G" (this name with G appended, as Courier appends sharedgroup); an account has none by default, and a Maildir\'s own shared-maildirs file is not read. The stdio imapd reads the variable itself: unset, /etc/courier/maildirshared; empty, none.',
    ours: true,
    parse: (v, ctx) => resolve(ctx.configDir, v.trim() === '' ? 'maildirshared' : v.trim()),
  },
  {
    name: 'IMAP_CHECK_ALL_FOLDERS', file: 'imapd', field: 'checkAllFolders', kind: 'boolean', default: '0',
    meaning: '1 marks every folder in LIST as having new mail or not (\\Marked, \\Unmarked); 0 only INBOX, which costs less with many folders.',
    parse: parseBoolean,
  },
  {
    name: 'IMAP_OBSOLETE_CLIENT', file: 'imapd', field: 'obsoleteClient', kind: 'boolean', default: '0',
    meaning: '1 lists folders without children as \\Noinferiors instead of \\HasNoChildren, for old clients that do not know the CHILDREN extension.',
    parse: parseBoolean,
  },
  {
    name: 'IMAP_TRASHFOLDERNAME', file: 'imapd', field: 'trashFolder', kind: 'text', default: 'Trash',
    meaning: 'Name of the Trash folder.',
    parse: parseText,
  },
  {
    name: 'IMAP_MOVE_EXPUNGE_TO_TRASH', file: 'imapd', field: 'moveExpungeToTrash', kind: 'boolean', default: '0',
    meaning: '1 moves expunged messages to the Trash folder instead of deleting them.',
    parse: parseBoolean,
  },
  {
    name: 'IMAP_EMPTYTRASH', file: 'imapd', field: 'emptyTrash', kind: 'folder-days', default: 'Trash:7',
    meaning: 'folder:days list; at login (at most every 10 minutes per account; the stdio imapd at login and logout, as Courier), messages that have been in those folders longer than that many days are deleted.',
    parse: parseFolderDays,
  },
  {
    name: 'MAILDIRPATH', file: 'imapd', field: 'maildirPath', kind: 'relative-path', default: 'Maildir',
    meaning: 'Where an account\'s Maildir is, relative to its home directory, when the account does not name one.',
    parse: parseRelativePath,
  },
  {
    name: 'AUTH_MKHOMEDIR_SKEL', file: 'imapd', field: 'mkhomedirSkel', kind: 'directory', default: '',
    meaning: 'Directory copied to create a missing home directory at an account\'s first login (empty: an empty Maildir is created).',
    parse: (v, ctx) => parseExistingPath(v, ctx, 'directory'),
  },
  {
    name: 'IMAP_NAMESPACE_PREFIX', file: 'imapd', field: 'namespacePrefix', kind: 'choice', default: 'INBOX.', choices: ['INBOX.', ''],
    meaning: 'Personal namespace: INBOX. shows folders as INBOX.Sent as Courier does; empty shows them at the top level (easier for Outlook and Nextcloud Mail).',
    ours: true,
    parse: (v) => parseChoice(v, ['INBOX.', ''] as const),
  },
  {
    name: 'IMAPD_DATADIR', file: 'imapd', field: 'dataDir', kind: 'directory', default: '',
    meaning: 'Directory for the account database, the generated TLS certificate and new accounts\' mail (the --data option overrides it).',
    ours: true,
    parse: (v, ctx) => (v.trim() === '' ? null : resolve(ctx.configDir, v.trim())),
  },
  {
    name: 'IMAP_MAXLINE', file: 'imapd', field: 'maxLineLength', kind: 'integer', default: '65536',
    meaning: 'Longest command line accepted, in bytes; longer lines are refused.',
    ours: true,
    parse: (v) => parseInteger(v, 1024, 16 * 1024 * 1024),
  },
  {
    name: 'IMAP_MAXMSGSIZE', file: 'imapd', field: 'maxLiteralSize', kind: 'integer', default: String(64 * 1024 * 1024),
    meaning: 'Largest message or literal accepted, in bytes: announced as APPENDLIMIT (RFC 7889), and an APPEND of a bigger message (or MULTIAPPEND of bigger messages together) is refused with [TOOBIG] before it is sent.',
    ours: true,
    parse: (v) => parseInteger(v, 1024, 2 * 1024 * 1024 * 1024),
  },
  {
    name: 'LOGIN_CACHE_TTL', file: 'imapd', field: 'loginCacheTtl', kind: 'integer', default: '300',
    meaning: 'Seconds during which a user\'s last verified password logs in again without the slow password hash (0: always hash); a password change or disable ends it at once.',
    ours: true,
    parse: (v) => parseInteger(v, 0, 24 * 3600),
  },
  {
    name: 'LMTP_ADDRESS', file: 'imapd', field: 'lmtpAddress', kind: 'address', default: '127.0.0.1',
    meaning: 'IP address of the LMTP delivery port, for the mail transfer agent on this machine; 0 means all addresses (LMTP has no password).',
    ours: true,
    parse: parseLmtpAddress,
  },
  {
    name: 'LMTP_PORT', file: 'imapd', field: 'lmtpPort', kind: 'integer', default: '',
    meaning: 'TCP port on which mail is delivered to the accounts over LMTP (RFC 2033), e.g. 24; empty: no LMTP port.',
    ours: true,
    parse: parseOptionalPort,
  },
  {
    name: 'LMTP_SOCKET', file: 'imapd', field: 'lmtpSocket', kind: 'text', default: '',
    meaning: 'Unix socket on which mail is delivered over LMTP (relative paths from the configuration directory); empty: none.',
    ours: true,
    parse: parseSocketPath,
  },
  {
    name: 'LMTP_MAXMSGSIZE', file: 'imapd', field: 'lmtpMaxMessageSize', kind: 'integer', default: '$IMAP_MAXMSGSIZE',
    meaning: 'Largest message accepted over LMTP or by imapd-deliver, in bytes (announced as SIZE; default: IMAP_MAXMSGSIZE).',
    ours: true,
    parse: (v) => parseInteger(v, 1024, 2 * 1024 * 1024 * 1024),
  },
  {
    name: 'FETCH_MAXMSGSIZE', file: 'imapd', field: 'fetchMaxMessageSize', kind: 'integer', default: '$IMAP_MAXMSGSIZE',
    meaning: 'Largest message fetched from a mail source (a provider over IMAP or POP3), in bytes; a bigger one is left at the provider and its source reports it (default: IMAP_MAXMSGSIZE).',
    ours: true,
    parse: (v) => parseInteger(v, 1024, 2 * 1024 * 1024 * 1024),
  },
  {
    name: 'QUOTA_FULL_TEMPFAIL', file: 'imapd', field: 'quotaFullTempfail', kind: 'boolean', default: '1',
    meaning: '1 answers mail for a full mailbox with a temporary failure (452: the sender retries for days); 0 bounces it (552). A message larger than the whole quota always bounces.',
    ours: true,
    parse: parseBoolean,
  },
  {
    name: 'SSLPORT', file: 'imapd-ssl', field: 'sslPorts', kind: 'ports', default: '1993',
    meaning: 'Port for IMAP over implicit TLS (993 is the standard port, see PORTS).',
    parse: parsePorts,
  },
  {
    name: 'SSLADDRESS', file: 'imapd-ssl', field: 'sslAddress', kind: 'address', default: '$ADDRESS',
    meaning: 'IP address for the implicit-TLS port; 0 means all addresses (default: same as ADDRESS).',
    parse: parseAddress,
  },
  {
    name: 'IMAPDSSLSTART', file: 'imapd-ssl', field: 'sslStart', kind: 'yesno', default: 'YES',
    meaning: 'YES starts the implicit-TLS listener on SSLPORT.',
    parse: parseYesNo,
  },
  {
    name: 'IMAPDSTARTTLS', file: 'imapd-ssl', field: 'startTls', kind: 'yesno', default: 'YES',
    meaning: 'YES offers STARTTLS on PORT, so that clients can switch to encryption.',
    parse: parseYesNo,
  },
  {
    name: 'IMAP_TLS_REQUIRED', file: 'imapd-ssl', field: 'tlsRequired', kind: 'boolean', default: '0',
    meaning: '1 refuses login on PORT until STARTTLS (LOGINDISABLED), so that passwords never travel unencrypted.',
    parse: parseBoolean,
  },
  {
    name: 'TLS_CERTFILE', file: 'imapd-ssl', field: 'tlsCertFile', kind: 'file', default: '',
    meaning: 'PEM file with the server certificate (and its key unless TLS_PRIVATE_KEYFILE is set); empty: a self-signed certificate is made in the data directory.',
    parse: (v, ctx) => parseExistingPath(v, ctx, 'file'),
  },
  {
    name: 'TLS_PRIVATE_KEYFILE', file: 'imapd-ssl', field: 'tlsPrivateKeyFile', kind: 'file', default: '',
    meaning: 'PEM file with the private key, when it is not in TLS_CERTFILE (unencrypted, readable only by the server).',
    parse: (v, ctx) => parseExistingPath(v, ctx, 'file'),
  },
  {
    name: 'TLS_PROTOCOL', file: 'imapd-ssl', field: 'tlsMinVersion', kind: 'tls-protocol', default: 'TLSv1.2',
    meaning: 'Lowest TLS version accepted: TLSv1.2 or TLSv1.3 (older versions are always refused).',
    parse: (v, ctx) => parseTlsProtocol(v, ctx) ?? 'TLSv1.2',
  },
  {
    name: 'TLS_STARTTLS_PROTOCOL', file: 'imapd-ssl', field: 'startTlsMinVersion', kind: 'tls-protocol', default: '$TLS_PROTOCOL',
    meaning: 'Lowest TLS version for STARTTLS on PORT (default: same as TLS_PROTOCOL).',
    parse: (v, ctx) => parseTlsProtocol(v, ctx) ?? 'TLSv1.2',
  },
  {
    name: 'TLS_VERIFYPEER', file: 'imapd-ssl', field: 'tlsVerifyPeer', kind: 'choice', default: 'NONE', choices: ['NONE', 'PEER', 'REQUIREPEER'],
    meaning: 'Client certificates: NONE asks for none; PEER verifies one against TLS_TRUSTCERTS if the client presents it; REQUIREPEER refuses clients without a valid one.',
    parse: (v) => parseChoice(v.trim().toUpperCase(), ['NONE', 'PEER', 'REQUIREPEER'] as const),
  },
  {
    name: 'TLS_TRUSTCERTS', file: 'imapd-ssl', field: 'tlsTrustCerts', kind: 'text', default: '',
    meaning: 'PEM file, or directory of PEM files, with the certificate authorities that client certificates must come from (read when TLS_VERIFYPEER is PEER or REQUIREPEER), and that the mailhosts\' certificates must come from with IMAP_PROXY=1 (empty: the public certificate authorities).',
    parse: (v, ctx) => (v.trim() === '' ? null : resolve(ctx.configDir, v.trim())),
  },
  {
    name: 'TLS_EXTERNAL', file: 'imapd-ssl', field: 'tlsExternal', kind: 'text', default: '',
    meaning: 'Subject field of a verified client certificate that holds the login name (e.g. emailaddress or CN); set, it offers AUTHENTICATE EXTERNAL to clients with such a certificate.',
    parse: (v) => (v.trim() === '' ? null : v.trim()),
  },
  {
    name: 'TLS_CIPHER_LIST', file: 'imapd-ssl', field: 'tlsCipherList', kind: 'cipher-list', default: '',
    meaning: 'OpenSSL cipher list for TLS 1.2 and TLS 1.3 cipher suites (empty: for TLS 1.2 only ECDHE with AES-GCM or ChaCha20-Poly1305, Mozilla\'s "intermediate" list; TLS 1.3 suites as OpenSSL has them).',
    parse: (v) => parseCipherList(v),
  },
  ...ACCESS_AND_OPERATIONS,
  ...OUTBOX_AND_DEBUG,
  ...ACCOUNT_STORE,
  ...PROXY,
];

export const SETTINGS_BY_NAME: ReadonlyMap<string, AnySettingSpec> = new Map(SETTINGS.map((s) => [s.name, s]));
