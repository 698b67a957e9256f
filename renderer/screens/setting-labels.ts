// Plain words for each setting: a label people read first (the Courier name comes second),
// whether it is one of the few most people touch (Basic), and how to show its value.

export interface SettingLabel {
  label: string;
  basic?: boolean;
  /** Shown in words next to the number: bytes as "64 MB", seconds as "5 min". */
  unit?: 'bytes' | 'seconds';
}

export const SETTING_LABELS: Record<string, SettingLabel> = {
  ADDRESS: { label: 'Listen on address', basic: true },
  PORT: { label: 'Port with STARTTLS', basic: true },
  SSLPORT: { label: 'Port with SSL/TLS', basic: true },
  MAXDAEMONS: { label: 'Connections at most', basic: true },
  MAXPERIP: { label: 'Connections from one address', basic: true },
  IMAP_TLS_REQUIRED: { label: 'Require encryption before login', basic: true },
  IMAP_TRASHFOLDERNAME: { label: 'Trash folder name', basic: true },
  IMAP_MOVE_EXPUNGE_TO_TRASH: { label: 'Move deleted messages to the Trash', basic: true },
  IMAP_EMPTYTRASH: { label: 'Delete old messages from folders (folder:days)', basic: true },
  IMAP_MAXMSGSIZE: { label: 'Largest message', basic: true, unit: 'bytes' },
  TLS_CERTFILE: { label: 'Certificate file', basic: true },
  IMAPDSTART: { label: 'Start the STARTTLS port' },
  IMAPDSSLSTART: { label: 'Start the SSL/TLS port' },
  SSLADDRESS: { label: 'Listen on address (SSL/TLS port)' },
  IMAPDSTARTTLS: { label: 'Offer STARTTLS' },
  IMAP_CAPABILITY: { label: 'Capabilities announced before TLS' },
  IMAP_CAPABILITY_TLS: { label: 'Capabilities announced with TLS' },
  IMAP_IDLE_TIMEOUT: { label: 'Check for new mail every', unit: 'seconds' },
  IMAP_ENHANCEDIDLE: { label: 'Report new mail at once (IDLE)' },
  IMAP_USELOCKS: { label: 'Lock a folder while its index is updated' },
  IMAP_FTS_INDEX: { label: 'Full-text index for searches in message text' },
  IMAP_KEYWORDS: { label: 'Custom keywords (labels such as Junk)' },
  IMAP_DISABLETHREADSORT: { label: 'Turn off server-side THREAD and SORT' },
  IMAP_ID_FIELDS: { label: 'What the ID command reveals' },
  MAILDIRPATH: { label: 'Maildir inside the home directory' },
  AUTH_MKHOMEDIR_SKEL: { label: 'Template for new home directories' },
  IMAP_NAMESPACE_PREFIX: { label: 'Folders shown under INBOX.' },
  IMAP_MAXLINE: { label: 'Longest command line', unit: 'bytes' },
  LOGIN_CACHE_TTL: { label: 'Remember a checked password for', unit: 'seconds' },
  IMAP_FILE_WATCH: { label: 'Watch the Maildirs for changes (off on NFS)' },
  ACCOUNTS: { label: 'Where the accounts are (SQLite, PostgreSQL or LDAP)' },
  TLS_PRIVATE_KEYFILE: { label: 'Private key file' },
  TLS_PROTOCOL: { label: 'Oldest TLS version accepted' },
  TLS_STARTTLS_PROTOCOL: { label: 'Oldest TLS version with STARTTLS' },
  TLS_CIPHER_LIST: { label: 'Cipher list' },
  OUTBOX: { label: 'Folder that sends mail (Outbox)' },
  SENDMAIL: { label: 'Program that sends the Outbox\'s mail' },
  HEADERFROM: { label: 'Header naming the sender on sent mail' },
  OUTBOX_MULTIPLE_SEND: { label: 'Send several messages in one copy to the Outbox' },
  IMAPDEBUGFILE: { label: 'Protocol log file in a Maildir' },
  TLS_VERIFYPEER: { label: 'Ask mail programs for a client certificate' },
  TLS_TRUSTCERTS: { label: 'Authorities that client certificates come from' },
  TLS_EXTERNAL: { label: 'Log in with a client certificate (its field with the user name)' },
  IMAP_ACL: { label: 'Share folders between accounts (ACL)' },
  IMAPD_MAILDIRSHARED: { label: 'List of sharable Maildirs (read-only shared folders)' },
  IMAP_CHECK_ALL_FOLDERS: { label: 'Mark every folder with new mail in the folder list, not only INBOX' },
  IMAP_OBSOLETE_CLIENT: { label: 'Folder list for very old mail programs (no CHILDREN)' },
  LMTP_ADDRESS: { label: 'Mail delivery (LMTP): listen on address' },
  LMTP_PORT: { label: 'Mail delivery (LMTP): port' },
  LMTP_SOCKET: { label: 'Mail delivery (LMTP): Unix socket' },
  LMTP_MAXMSGSIZE: { label: 'Mail delivery (LMTP): largest message', unit: 'bytes' },
  FETCH_MAXMSGSIZE: { label: 'Mail sources: largest message fetched', unit: 'bytes' },
  QUOTA_FULL_TEMPFAIL: { label: 'A full mailbox asks the sender to try again later' },
  IMAPACCESSFILE: { label: 'Addresses allowed or refused (access file)' },
  DEFDOMAIN: { label: 'Domain added to login names without @' },
  IMAP_LOG_DELETIONS: { label: 'Log every deleted message' },
  PIDFILE: { label: 'Process ID file' },
  SSLPIDFILE: { label: 'Process ID file (second copy, for imapd-ssl)' },
  IMAP_UMASK: { label: 'Permissions mask for new files (umask)' },
  IMAP_MAILBOX_SANITY_CHECK: { label: 'Refuse a Maildir owned by another user' },
  IMAP_PROXY: { label: 'Relay accounts whose mail is on another server' },
  PROXY_HOSTNAME: { label: 'This server\'s name in accounts\' mail servers' },
  IMAP_PROXY_FOREIGN: { label: 'Ask the other server for its capabilities after login' },
};

export function labelOf(name: string): SettingLabel {
  return SETTING_LABELS[name] ?? { label: name };
}
