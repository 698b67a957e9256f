// The appliance's one API: what the GUI may ask of the appliance host, and the events it
// is sent. The host (host.ts) implements it; it reaches the GUI two ways, over Electron
// IPC (electron/main.ts and electron/preload.ts) and over HTTP for a browser (http.ts),
// and the renderer talks to nothing else (renderer/ sees it as window.api).
//
// This file is shared by Node (host, HTTP server, Electron main), the Electron preload and
// the browser bundle, so it imports nothing but its own parts in api/ (which import nothing
// else): plain types, the method list and the channel names here; the data of each screen
// and the errors in api/, re-exported from here. The argument checks every transport and
// the host apply are in validate.ts.

export * from './api/accounts.js';
export * from './api/errors.js';
export * from './api/log.js';
export * from './api/mail-sources.js';
export * from './api/sessions.js';
export * from './api/settings.js';
export * from './api/status.js';

import type { AccountView, ClientSetupView, MaildirInspection, NewAccountInput, QuotaInput, ShareInput, SharesView } from './api/accounts.js';
import type { LogFilter, LogLine } from './api/log.js';
import type { MailSourceInput, MailSourceTest, MailSourceView } from './api/mail-sources.js';
import type { ConnectionInfoView, SessionView } from './api/sessions.js';
import type { AccountStoreTest, ApplyResult, ConfigFileName, SettingChanges, SettingsView, ValidationResult } from './api/settings.js';
import type { ApplianceStatus, ImportInput, JobView, OverviewView } from './api/status.js';

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
