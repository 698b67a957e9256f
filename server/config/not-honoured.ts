// The Courier settings this server reads past, with the reason: the loader warns about them
// (load.ts) and the README's settings table lists them (settings-markdown.ts).

/**
 * Courier settings that this server reads past: why, and (for feature switches) which
 * values are harmless. A set value outside `harmless` is reported as 'unsupported',
 * anything else as 'ignored'.
 */
export interface NotHonoured {
  reason: string;
  harmless?: readonly string[];
  /** The Courier file that documents it: every one is a row of the README's settings table (issue 12). */
  file: 'imapd' | 'imapd-ssl';
  /** The row's status: 'not built' (deliberately, with the reason), else 'ignored' or what `status` says. */
  notBuilt?: true;
  status?: string;
}

export const COURIER_SETTINGS_NOT_HONOURED: ReadonlyMap<string, NotHonoured> = new Map<string, NotHonoured>([
  ['AUTHSERVICE143', { reason: 'accounts come from the built-in account store', file: 'imapd' }],
  ['AUTHSERVICE993', { reason: 'accounts come from the built-in account store', file: 'imapd' }],
  ['TCPDOPTS', { reason: 'options of couriertcpd, Courier\'s process supervisor, which this single-process server replaces (it makes no DNS or ident lookups; MAXDAEMONS, MAXPERIP and IMAPACCESSFILE are honoured)', file: 'imapd', notBuilt: true }],
  ['LOGGEROPTS', { reason: 'options of courierlogger, Courier\'s log supervisor: log lines go to standard error, for the service manager (systemd, launchd) to keep', file: 'imapd', notBuilt: true }],
  ['SSLLOGGEROPTS', { reason: 'as LOGGEROPTS, for the implicit-TLS service', file: 'imapd-ssl', notBuilt: true }],
  ['SMAP_CAPABILITY', { reason: 'SMAP, Courier\'s experimental protocol beside IMAP, is used by no mainstream mail program, so it is not built', harmless: [''], file: 'imapd', notBuilt: true }],
  ['IMAP_CAPABILITY_ORIG', { reason: 'reference copy for Courier\'s webadmin', file: 'imapd' }],
  ['IMAP_CAPABILITY_TLS_ORIG', { reason: 'reference copy for Courier\'s webadmin', file: 'imapd' }],
  ['IMAP_ULIMITD', { reason: 'a memory limit set by Courier\'s start script (ulimit -v); one process serves every connection here, so set a limit for it in the service manager (systemd MemoryMax=)', file: 'imapd', notBuilt: true }],
  ['IMAP_SHAREDINDEXFILE', { reason: 'imapd-server and the appliance make the index of shared accounts (#shared.OWNER.FOLDER) from the account store (imapd-accounts shared-index writes one for Courier); the stdio imapd reads this file, groups included, as Courier does', file: 'imapd', status: 'stdio imapd only' }],
  ['COURIERTLS', { reason: 'TLS is built in', file: 'imapd-ssl' }],
  ['TLS_PRIORITY', { reason: 'GnuTLS priority strings are not understood; use TLS_PROTOCOL and TLS_CIPHER_LIST', harmless: [''], file: 'imapd-ssl' }],
  ['TLS_MIN_DH_BITS', { reason: 'key exchange uses elliptic curves; no DH parameters are used', file: 'imapd-ssl' }],
  ['TLS_DHPARAMS', { reason: 'key exchange uses elliptic curves; no DH parameters are used', file: 'imapd-ssl' }],
  ['TLS_TIMEOUT', { reason: 'not implemented in Courier either', file: 'imapd-ssl' }],
  ['TLS_CACHEFILE', { reason: 'TLS sessions are resumed from memory', file: 'imapd-ssl' }],
  ['TLS_CACHESIZE', { reason: 'TLS sessions are resumed from memory', file: 'imapd-ssl' }],
]);
