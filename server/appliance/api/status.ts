// The appliance's state as the Overview shows it: the server's status and listeners, the
// long jobs (indexing, the full-text index, imports), and the figures that take a moment to count.
// Part of the appliance's API (../api.ts, which re-exports it): imports nothing outside api/.

export type ServerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'error';

export interface ListenerView {
  kind: 'imap' | 'imaps';
  /** The address bound: "127.0.0.1", "::" for all addresses. */
  address: string;
  port: number;
  startTls: boolean;
}

export interface TlsView {
  fingerprint256: string;
  subject: string;
  validFrom: number;
  validTo: number;
  /** configured (TLS_CERTFILE), or the self-signed one made in the data directory. */
  source: 'configured' | 'generated' | 'reused';
  certFile: string;
  warnings: string[];
}

export interface ApplianceStatus {
  state: ServerState;
  /** Why the server is not running (state error), or null. */
  problem: string | null;
  /** Why an edit of the configuration files made outside the appliance was not applied (the running settings stay), or null. */
  configProblem: string | null;
  version: string;
  dataDir: string;
  configDir: string;
  startedAt: number | null;
  listeners: ListenerView[];
  /** Where LMTP delivery listens (LMTP_ADDRESS / LMTP_PORT, LMTP_SOCKET); empty when it is off. */
  lmtp: { address: string; port: number | null; socket: string | null }[];
  sessions: number;
  accounts: number;
  tls: TlsView | null;
  /** What the administrator should do next, in plain words (empty when all is set up). */
  firstSteps: string[];
  /** Long work in progress or just finished. */
  jobs: JobView[];
  /** Times a command blocked the server's event loop over 100 ms since the appliance started
   * (every session waited meanwhile; each is also a warning in the log), and the last one. */
  stalls: { count: number; last: StallView | null };
  /** True once a GUI password is set (the GUI can then be reached with it, not only the token). */
  adminPassword: boolean;
}

export interface StallView {
  at: number;
  ms: number;
  /** The commands running then ("LIST"), without arguments. */
  commands: string[];
}

export interface JobView {
  id: number;
  /** 'index': UIDs and parsed structures of a Maildir moved in; 'fts': the full-text index for SEARCH;
   * 'import': an import (startImport). */
  kind: 'index' | 'fts' | 'import';
  account: string;
  state: 'running' | 'done' | 'failed';
  /** Messages indexed so far and in all. */
  done: number;
  total: number;
  folder: string | null;
  foldersDone: number;
  foldersTotal: number;
  startedAt: number;
  finishedAt: number | null;
  /** Estimated seconds left, or null before there is enough to go by. */
  secondsLeft: number | null;
  message: string | null;
  /** Imports: what is imported, in plain words ("the mbox file /home/a/old.mbox"). */
  source?: string;
  /** Imports: messages stored now, and those found already there (imported before). */
  imported?: number;
  skipped?: number;
  /** Imports: done and total count octets of an mbox file, messages otherwise. */
  unit?: 'messages' | 'octets';
  /** Imports: true once the job was stopped with cancelJob. */
  cancelled?: boolean;
}

/** An import into an account (imapd-import does the same from the command line). */
export interface ImportInput {
  account: string;
  kind: 'mbox' | 'maildir' | 'imap';
  /** mbox: the file; maildir: the Maildir directory; absolute paths on the appliance's computer. */
  path?: string;
  /** mbox: how ">From " lines are quoted (default mboxrd). */
  format?: 'mboxrd' | 'mboxo';
  /** imap: the server and the login (the password is not stored: it is used for this import only). */
  host?: string;
  port?: number;
  tls?: 'implicit' | 'starttls' | 'none';
  username?: string;
  password?: string;
  allowInvalidCertificate?: boolean;
  /** The folder below INBOX to import into ("Archive", "Old.2019"); "" for INBOX itself. A Maildir's or
   * server's other folders go below it. */
  folder: string;
}

export interface DiskView {
  /** The directory measured: where new accounts' Maildirs are made. */
  path: string;
  totalBytes: number;
  freeBytes: number;
}

export interface FailedLoginsView {
  /** Failed logins in the last 24 hours. */
  count: number;
  /** Per remote address, most failures first. */
  addresses: { address: string; count: number; lastAt: number; usernames: string[] }[];
}

export interface OverviewWarning {
  kind: 'setting' | 'polling' | 'stall' | 'certificate' | 'config' | 'disk' | 'server';
  message: string;
}

/** The first screen: the status, plus what takes a moment to count. */
export interface OverviewView {
  status: ApplianceStatus;
  /** True when the listeners take connections from other computers too. */
  network: boolean;
  /** All accounts' messages and octets (counted at most every few seconds). */
  messages: number;
  mailBytes: number;
  disk: DiskView | null;
  failedLogins: FailedLoginsView;
  warnings: OverviewWarning[];
  /** The HTTP port where mail programs fetch their settings (autoconfig), or null when off. */
  setupPort: number | null;
  /** DNS-SD announcement on the local network. */
  announced: boolean;
  /** The service instance name announced ("imapd-ts on homebox"), or null when not announced. */
  announcedAs: string | null;
}
