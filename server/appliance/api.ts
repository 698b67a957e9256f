// The appliance's one API: what the GUI may ask of the appliance host, and the events it
// is sent. The host (host.ts) implements it; it reaches the GUI two ways, over Electron
// IPC (electron/main.ts and electron/preload.ts) and over HTTP for a browser (http.ts),
// and the renderer talks to nothing else (renderer/ sees it as window.api).
//
// This file is shared by Node (host, HTTP server, Electron main), the Electron preload and
// the browser bundle, so it imports nothing: plain types, the method list, the channel
// names, and the argument checks (validate.ts) that every transport and the host apply.

export type ConfigFileName = 'imapd' | 'imapd-ssl';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

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

export type SettingGroup = 'network' | 'capabilities' | 'idle' | 'tls' | 'folders' | 'operations';

export const SETTING_GROUPS: readonly { id: SettingGroup; title: string }[] = [
  { id: 'network', title: 'Network and limits' },
  { id: 'capabilities', title: 'Capabilities' },
  { id: 'idle', title: 'IDLE and locking' },
  { id: 'tls', title: 'TLS' },
  { id: 'folders', title: 'Trash and folders' },
  { id: 'operations', title: 'Access, logs and processes' },
];

export interface SettingView {
  name: string;
  file: ConfigFileName;
  group: SettingGroup;
  /** How to present it: 'integer', 'yesno', 'boolean', 'choice', 'ports', 'file', ... */
  kind: string;
  /** As it would be written in the file ("" means unset). */
  default: string;
  meaning: string;
  choices?: readonly string[];
  /** The value in force, as text (references such as $ADDRESS expanded). */
  value: string;
  /** Where the value comes from: the file (with its line) or the default. */
  source: { file: string; line: number } | 'default';
  /** The value as written in the file when it refers to other settings ("$IMAP_CAPABILITY AUTH=PLAIN"), else null. */
  reference: string | null;
  /** What a change takes: 'live' (at once, sessions kept), 'new-sessions', or 'listeners' (the listeners restart). */
  /** 'start': read when the appliance starts (ACCOUNTS). */
  applies: 'live' | 'new-sessions' | 'listeners' | 'start';
  /** A setting of this server, not of Courier. */
  ours: boolean;
}

export interface SettingsView {
  configDir: string;
  files: Record<ConfigFileName, string>;
  settings: SettingView[];
  /** Warnings about the files as they are (ignored Courier settings, adjusted values). */
  warnings: string[];
}

/** Setting name to its new value as it would be written in the file; null returns it to its default. */
export type SettingChanges = Record<string, string | null>;

export interface SettingProblem {
  /** The setting concerned, or null for a problem of the whole configuration. */
  setting: string | null;
  message: string;
}

export interface ValidationResult {
  ok: boolean;
  errors: SettingProblem[];
  warnings: SettingProblem[];
  /** What applying would do: which listeners restart, what applies to new sessions only. */
  effects: string[];
}

export interface ApplyResult extends ValidationResult {
  applied: boolean;
  /** Listeners restarted (their sessions were told BYE and reconnect), or false. */
  restartedListeners: boolean;
  sessionsEnded: number;
}

export interface AccountView {
  username: string;
  enabled: boolean;
  maildir: string;
  maildirExists: boolean;
  home: string;
  createdAt: number;
  lastLoginAt: number | null;
  lastLoginAddress: string | null;
  /** Messages and octets in all folders (null until counted). */
  usage: { messages: number; bytes: number; countedAt: number } | null;
  quotaBytes: number | null;
  quotaMessages: number | null;
  sessions: number;
  /** The server the account's mail lives on when not this one (IMAP_PROXY relays its logins there); null: here. */
  mailhost: string | null;
  /**
   * Which list of sharable Maildirs ("shared.NAME.FOLDER", read-only) the account sees: null
   * none, "" the IMAPD_MAILDIRSHARED file, "GROUP" that file's name with GROUP appended.
   */
  sharable: string | null;
}

export interface NewAccountInput {
  username: string;
  password: string;
  /** Absolute path of the Maildir, created when missing; null or absent: <data>/mail/<name>/Maildir. */
  maildir?: string | null;
  /** Courier's maildirsize quota; null or absent: none. */
  quota?: QuotaInput | null;
}

/** A quota in octets and in messages; null for no limit of that kind. */
export interface QuotaInput {
  bytes: number | null;
  messages: number | null;
}

/**
 * How much another account may do in a shared folder, in plain words; each is a set of
 * Courier's ACL letters (server/backend/acl.ts), written to the folder's courierimapacl
 * exactly as SETACL would write them.
 */
export type ShareAccess = 'read' | 'read-mark' | 'read-write' | 'full';

export const SHARE_ACCESS: readonly { id: ShareAccess; label: string; rights: string; meaning: string }[] = [
  { id: 'read', label: 'Read', rights: 'lr', meaning: 'see the folder and read its messages; nothing is marked as read for the owner' },
  { id: 'read-mark', label: 'Read and mark', rights: 'lrsw', meaning: 'also mark messages read, unread, flagged or with keywords' },
  { id: 'read-write', label: 'Read and write', rights: 'eilrstw', meaning: 'also add messages, and delete them' },
  { id: 'full', label: 'Full', rights: 'ceilrstwx', meaning: 'also make, rename and delete subfolders and the folder itself; only sharing it further stays with the owner' },
];

/** One entry of a folder's ACL that lets someone other than its owner in. */
export interface ShareView {
  /** The account whose folder it is. */
  owner: string;
  /** The folder in the owner's Maildir: "INBOX", "INBOX.Projects". */
  folder: string;
  /** As stored in courierimapacl: "user=bob", "anyone", "-user=bob" (rights taken away). */
  identifier: string;
  /** The account it names, or null for everyone ("anyone", "anonymous") and negative entries. */
  account: string | null;
  /** The plain-words access these rights are, or 'custom' (set over IMAP with other letters). */
  access: ShareAccess | 'custom';
  /** Courier's letters, as stored. */
  rights: string;
  /** What the other account calls the folder: "#shared.alice.Projects". */
  sharedName: string;
  /** The owner's subfolders without a list of their own, which take this one (and so are shared too). */
  inheritedBy: string[];
}

export interface SharesView {
  /** Every account whose Maildir exists, with its folders (to choose from). */
  accounts: { username: string; folders: string[] }[];
  shares: ShareView[];
}

export interface ShareInput {
  owner: string;
  folder: string;
  /** The account it is shared with. */
  account: string;
  access: ShareAccess;
}

/** Account passwords: at least this many characters (checked by the server, shown by the form). */
export const MIN_ACCOUNT_PASSWORD = 8;

export interface SessionView {
  id: number;
  account: string | null;
  remoteAddress: string;
  remotePort: number;
  listener: 'imap' | 'imaps';
  tls: boolean;
  tlsProtocol: string | null;
  /** not-authenticated, authenticated, selected, logout; or handshake while TLS is set up. */
  state: string;
  folder: string | null;
  idle: boolean;
  connectedAt: number;
  bytesIn: number;
  bytesOut: number;
}

export interface LogLine {
  seq: number;
  time: number;
  level: LogLevel;
  account: string | null;
  message: string;
}

export interface LogFilter {
  /** Lowest level shown (debug < info < warn < error). */
  level?: LogLevel;
  /** Only lines of this account (case-insensitive). */
  account?: string;
  /** Only lines after this sequence number. */
  after?: number;
  /** At most this many lines, the newest. Default 500. */
  limit?: number;
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

export interface ClientEndpoint {
  port: number;
  /** "STARTTLS" on the IMAP port, "SSL/TLS" on the implicit-TLS port, "none" without TLS. */
  security: 'STARTTLS' | 'SSL/TLS' | 'none';
  /** One sentence for the user. */
  description: string;
}

export interface ConnectionInfoView {
  /** Names and addresses a mail program can use to reach this machine, best first. */
  hosts: { value: string; kind: 'name' | 'ipv4' | 'ipv6'; note: string }[];
  /** True when the server listens on the loopback address only (this computer). */
  localOnly: boolean;
  endpoints: ClientEndpoint[];
  fingerprint256: string | null;
  /** What to check when the mail program warns about the certificate, in plain words. */
  certificateAdvice: string;
  usernameAdvice: string;
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

/** What a Maildir location holds, said before an account is made on it. */
export interface MaildirInspection {
  path: string;
  /** 'missing': nothing there (it would be created); 'maildir': a Maildir; 'empty': an empty directory; 'other': not usable. */
  kind: 'missing' | 'maildir' | 'empty' | 'other';
  messages: number;
  folders: number;
  bytes: number;
  /** One sentence for the user. */
  summary: string;
}

/** How a mail program on a phone or laptop sets itself up for one account. */
export interface ClientSetupView {
  username: string;
  /** The host name or address put into the files. */
  host: string;
  /** Each way, with its link and the link as a QR code (an SVG data: URL). */
  methods: { id: 'autoconfig' | 'mobileconfig' | 'autodiscover'; title: string; url: string; qr: string; note: string }[];
  /** Why there are no links (setup server off, listening on this computer only), or null. */
  problem: string | null;
}

/** A mail source: an account's mailbox at a provider, fetched into the account. */
export interface MailSourceInput {
  kind: 'imap' | 'pop3';
  host: string;
  port: number;
  /** implicit: TLS from the start (993, 995); starttls: upgraded before login; none: no encryption. */
  tls: 'implicit' | 'starttls' | 'none';
  username: string;
  /** Required when adding; empty or absent when editing keeps the stored one. */
  password?: string;
  /** Provider folder to local folder ("INBOX" to "INBOX"); POP3 has only the provider's INBOX. */
  folders: { remote: string; local: string }[];
  /** Days fetched mail stays at the provider; 0: removed once fetched; null: kept. */
  leaveOnServerDays: number | null;
  pollSeconds: number;
  enabled: boolean;
  allowInvalidCertificate: boolean;
}

export interface MailSourceView extends Omit<MailSourceInput, 'password'> {
  id: number;
  account: string;
  createdAt: number;
  status: {
    /** waiting (for the schedule), fetching, idle (IDLE at the provider), error (waiting to retry), disabled. */
    state: 'waiting' | 'fetching' | 'idle' | 'error' | 'disabled';
    lastFetchAt: number | null;
    lastSuccessAt: number | null;
    /** The last failure in plain words, or null. */
    lastError: string | null;
    lastErrorAt: number | null;
    fetchedTotal: number;
    failures: number;
    nextAttemptAt: number | null;
    /** While fetching: the provider folder at work, messages landed of those found new there. */
    progress: { folder: string; done: number; total: number } | null;
  };
}

export interface MailSourceTest {
  ok: boolean;
  message: string;
}

/** What "Test connection" found at an ACCOUNTS value (Settings). */
export interface AccountStoreTest {
  ok: boolean;
  /** One sentence: what was reached and how many accounts it has, or what went wrong (passwords never shown). */
  message: string;
  accounts: number | null;
}

export type ApplianceEvent =
  | { type: 'status'; status: ApplianceStatus }
  | { type: 'sessions'; sessions: SessionView[] }
  | { type: 'log'; line: LogLine }
  | { type: 'accounts' }
  | { type: 'settings' }
  | { type: 'progress'; job: JobView }
  | { type: 'mail-source'; source: MailSourceView | { id: number; removed: true } };

export type ApplianceListener = (event: ApplianceEvent) => void;

export interface ApplianceApi {
  getStatus(): Promise<ApplianceStatus>;
  getSettings(): Promise<SettingsView>;
  validateSettings(changes: SettingChanges): Promise<ValidationResult>;
  applySettings(changes: SettingChanges): Promise<ApplyResult>;
  /** Replace one configuration file by a Courier file's text (validated first, then applied). */
  importCourierConfig(text: string, which: ConfigFileName): Promise<ApplyResult>;
  /** The configuration file's text as it is on disk. */
  exportCourierConfig(which: ConfigFileName): Promise<string>;
  listAccounts(): Promise<AccountView[]>;
  addAccount(input: NewAccountInput): Promise<AccountView>;
  setPassword(username: string, password: string): Promise<void>;
  /** Set or remove an account's quota (null removes both limits). */
  setQuota(username: string, quota: QuotaInput | null): Promise<AccountView>;
  /** Set where the account's mail lives ("mail2.example.com", "host:143", "imaps://host:993", several separated by commas), or null for this server. */
  setMailhost(username: string, mailhost: string | null): Promise<AccountView>;
  /** Set which sharable Maildirs' list the account sees (AccountView.sharable); null: none. */
  setSharable(username: string, sharable: string | null): Promise<AccountView>;
  disableAccount(username: string): Promise<void>;
  enableAccount(username: string): Promise<void>;
  /** Remove an account; its mail stays on disk unless keepMail is false. */
  removeAccount(username: string, keepMail: boolean): Promise<void>;
  /** Every account's folders, and who else may use which (their ACLs' entries for other accounts). */
  listShares(): Promise<SharesView>;
  /** Share an account's folder with another account, or change the access it has (the folder's ACL). */
  shareFolder(input: ShareInput): Promise<SharesView>;
  /** Remove one entry (by its stored identifier, as listed) from a folder's ACL. */
  unshareFolder(owner: string, folder: string, identifier: string): Promise<SharesView>;
  /** Build the index of an account's Maildir now (done by itself for a new account with mail). */
  indexAccount(username: string): Promise<JobView>;
  listSessions(): Promise<SessionView[]>;
  disconnectSession(id: number): Promise<boolean>;
  getLog(filter?: LogFilter): Promise<LogLine[]>;
  connectionInfo(): Promise<ConnectionInfoView>;
  /** The first screen's figures. */
  getOverview(): Promise<OverviewView>;
  /** Start the IMAP listeners (after stopServer, or after a failure was fixed). */
  startServer(): Promise<ApplianceStatus>;
  /** Stop the IMAP listeners (sessions told BYE); the GUI stays. Settings applied meanwhile do not start them. */
  stopServer(): Promise<ApplianceStatus>;
  /** Let other devices connect (ADDRESS and SSLADDRESS 0), or this computer only (127.0.0.1). */
  setNetworkAccess(on: boolean): Promise<ApplyResult>;
  /** Links and QR codes for a mail program to set itself up for this account. */
  clientSetup(username: string): Promise<ClientSetupView>;
  /** What is at a Maildir location, before an account is added on it. */
  inspectMaildir(path: string): Promise<MaildirInspection>;
  /** Set the password of the GUI (for a browser on another computer, or a bookmark that lasts). */
  setAdminPassword(password: string): Promise<void>;
  /** Mail sources of one account, or of all. */
  listMailSources(account?: string): Promise<MailSourceView[]>;
  addMailSource(account: string, input: MailSourceInput): Promise<MailSourceView>;
  updateMailSource(id: number, input: MailSourceInput): Promise<MailSourceView>;
  removeMailSource(id: number): Promise<void>;
  /** Log in with these settings (the stored password of source `id` when none is given) and say what is there. */
  testMailSource(input: MailSourceInput, id?: number): Promise<MailSourceTest>;
  /** Connect to the account store an ACCOUNTS value names (sqlite, postgres://..., ldap://...), count its accounts, disconnect. */
  testAccountStore(value: string): Promise<AccountStoreTest>;
  /** Fetch now (a disabled source too, once); resolves when that fetch has ended. */
  fetchMailSource(id: number): Promise<MailSourceView>;
  /** Why no mail source can work (the key file sealing their passwords cannot be used), or null. */
  mailSourcesProblem(): Promise<string | null>;
  /** Start an import as a job (its progress comes as 'progress' events and in the status's jobs). */
  startImport(input: ImportInput): Promise<JobView>;
  /** Stop a running import after the messages being written (what was written stays; running it again goes on). */
  cancelJob(id: number): Promise<JobView>;
  /** Live updates; returns the unsubscribe. */
  subscribe(listener: ApplianceListener): () => void;
}

/** The methods that are called remotely (everything but subscribe). */
export type ApiMethod = Exclude<keyof ApplianceApi, 'subscribe'>;

export const API_METHODS = [
  'getStatus',
  'getSettings',
  'validateSettings',
  'applySettings',
  'importCourierConfig',
  'exportCourierConfig',
  'listAccounts',
  'addAccount',
  'setPassword',
  'setQuota',
  'setMailhost',
  'setSharable',
  'disableAccount',
  'enableAccount',
  'removeAccount',
  'indexAccount',
  'listSessions',
  'disconnectSession',
  'getLog',
  'connectionInfo',
  'getOverview',
  'startServer',
  'stopServer',
  'setNetworkAccess',
  'clientSetup',
  'inspectMaildir',
  'setAdminPassword',
  'listMailSources',
  'addMailSource',
  'updateMailSource',
  'removeMailSource',
  'testMailSource',
  'testAccountStore',
  'fetchMailSource',
  'startImport',
  'cancelJob',
  'mailSourcesProblem',
  'listShares',
  'shareFolder',
  'unshareFolder',
] as const satisfies readonly ApiMethod[];

// Every method is in the list (a compile error here names the one missing).
type MissingMethods = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
const allListed: [MissingMethods] extends [never] ? true : MissingMethods = true;
void allListed;

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && (API_METHODS as readonly string[]).includes(name);
}

/** Electron IPC channel names: one per method, and one for events. */
export const IPC = {
  methodPrefix: 'appliance:call:',
  event: 'appliance:event',
} as const;

export function ipcChannel(method: ApiMethod): string {
  return IPC.methodPrefix + method;
}

export type ApiErrorCode = 'invalid-argument' | 'not-found' | 'exists' | 'conflict' | 'unavailable' | 'internal';

/** A refused call. `field` names the argument or setting at fault, for the GUI to point at. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What travels over IPC and HTTP: a result, or an error with its code. */
export type Envelope<T = unknown> =
  | { ok: true; result: T }
  | { ok: false; error: { code: ApiErrorCode; message: string; field?: string } };

export function errorEnvelope(err: unknown): Envelope<never> {
  if (err instanceof ApiError) {
    return { ok: false, error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
  }
  return { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } };
}

/**
 * An error as an ApiError again, whatever carried it: Electron's contextBridge copies only
 * the message of an Error, so the preload rejects with a plain object of its fields.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (typeof err === 'object' && err !== null) {
    const { code, message, field } = err as { code?: unknown; message?: unknown; field?: unknown };
    const codes: readonly string[] = ['invalid-argument', 'not-found', 'exists', 'conflict', 'unavailable', 'internal'];
    return new ApiError(
      typeof code === 'string' && codes.includes(code) ? (code as ApiErrorCode) : 'internal',
      typeof message === 'string' ? message : String(err),
      typeof field === 'string' ? field : undefined,
    );
  }
  return new ApiError('internal', String(err));
}

export function unwrapEnvelope<T>(envelope: Envelope<T>): T {
  if (envelope.ok) return envelope.result;
  throw new ApiError(envelope.error.code, envelope.error.message, envelope.error.field);
}
