// Argument checks for every API method, applied once per call by invokeApi, which both
// transports (the HTTP server and the Electron main process) use. Arguments come from a
// renderer or a browser and are
// not trusted: types, sizes and shapes are checked here; meaning (does the account
// exist, is the port free) is the host's business.
//
// No imports beyond api.ts: this file is bundled into the Electron preload too.

import {
  ApiError, errorEnvelope, MIN_ACCOUNT_PASSWORD, SHARE_ACCESS,
  type ApiMethod, type ApplianceApi, type ConfigFileName, type Envelope, type ImportInput, type LogFilter, type LogLevel, type MailSourceInput,
  type NewAccountInput, type QuotaInput, type SettingChanges, type ShareAccess, type ShareInput,
} from './api.js';

const MAX_NAME = 255;
/** Passwords: the account store's own limit is in bytes; this only stops absurd inputs early. */
const MAX_PASSWORD_CHARS = 4096;
const MAX_PATH = 4096;
/** Maildir++ folder names: Courier's limit is a path component (255 octets) plus "INBOX". */
const MAX_FOLDER_NAME = 1024;
const MAX_SETTING_VALUE = 8192;
const MAX_SETTINGS_PER_CALL = 100;
/** A Courier configuration file is a few kilobytes; Debian's commented ones about 20. */
export const MAX_CONFIG_TEXT = 1024 * 1024;
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function bad(field: string, message: string): never {
  throw new ApiError('invalid-argument', message, field);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) bad(field, `unknown field ${JSON.stringify(key.slice(0, 40))}`);
}

export function checkUsername(value: unknown, field = 'username'): string {
  if (typeof value !== 'string') bad(field, 'the username must be text');
  if (value.length === 0) bad(field, 'enter a username');
  if (value.length > MAX_NAME * 2) bad(field, `the username is longer than ${MAX_NAME} characters`);
  return value;
}

export function checkPassword(value: unknown, field = 'password'): string {
  if (typeof value !== 'string') bad(field, 'the password must be text');
  if (value.length === 0) bad(field, 'enter a password');
  if (value.length > MAX_PASSWORD_CHARS) bad(field, 'the password is too long');
  return value;
}

/** An account's password: the GUI's form says the same, but a script calling the API must meet it too. */
export function checkAccountPassword(value: unknown, field = 'password'): string {
  const password = checkPassword(value, field);
  if ([...password].length < MIN_ACCOUNT_PASSWORD) bad(field, `use at least ${MIN_ACCOUNT_PASSWORD} characters`);
  return password;
}

/** Quotas up to a petabyte and a billion messages: enough, and exact as numbers. */
const MAX_QUOTA_BYTES = 2 ** 50;
const MAX_QUOTA_MESSAGES = 1_000_000_000;

export function checkQuota(value: unknown, field = 'quota'): QuotaInput | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) bad(field, 'the quota must be an object with bytes and messages');
  onlyKeys(value, ['bytes', 'messages'], field);
  const limit = (v: unknown, name: string, max: number): number | null => {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) bad(name, `the ${name === 'quotaBytes' ? 'storage' : 'message'} quota must be a whole number from 1 to ${max}, or none`);
    return v;
  };
  const bytes = limit(value.bytes, 'quotaBytes', MAX_QUOTA_BYTES);
  const messages = limit(value.messages, 'quotaMessages', MAX_QUOTA_MESSAGES);
  return bytes === null && messages === null ? null : { bytes, messages };
}

/** A mailhost as text (the account store checks its form), or null / "" for this server. */
export function checkMailhost(value: unknown, field = 'mailhost'): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') bad(field, 'the mail host must be text or null');
  if (value.length > 1024) bad(field, 'the mail host is at most 1024 characters');
  return value.trim() === '' ? null : value;
}

/** A sharable list: null (none), "" (the list file) or a group, as text (the account store checks its form). */
export function checkSharable(value: unknown, field = 'sharable'): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') bad(field, 'the sharable list must be text or null');
  if (value.length > 64) bad(field, 'the sharable list group is at most 64 characters');
  return value;
}

export function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') bad(field, `${field} must be true or false`);
  return value;
}

export function checkSessionId(value: unknown, field = 'id'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) bad(field, 'a session id is a whole number from 1');
  return value;
}

export function checkConfigFile(value: unknown, field = 'which'): ConfigFileName {
  if (value !== 'imapd' && value !== 'imapd-ssl') bad(field, 'the file must be "imapd" or "imapd-ssl"');
  return value;
}

export function checkConfigText(value: unknown, field = 'text'): string {
  if (typeof value !== 'string') bad(field, 'the file content must be text');
  if (value.length > MAX_CONFIG_TEXT) bad(field, 'the file is too large for a configuration file (over 1 MB)');
  if (value.includes('\0')) bad(field, 'the file contains NUL characters; is it a text file?');
  return value;
}

export function checkSettingChanges(value: unknown, field = 'changes'): SettingChanges {
  if (!isPlainObject(value)) bad(field, 'the changes must be an object of setting names and values');
  const entries = Object.entries(value);
  if (entries.length > MAX_SETTINGS_PER_CALL) bad(field, 'too many settings in one call');
  const out: SettingChanges = Object.create(null) as SettingChanges;
  for (const [name, v] of entries) {
    if (!/^[A-Z_][A-Z0-9_]{0,63}$/.test(name)) bad(field, `${JSON.stringify(name.slice(0, 64))} is not a setting name`);
    if (v === null) {
      out[name] = null;
      continue;
    }
    if (typeof v !== 'string') bad(name, `${name}: the value must be text`);
    if (v.length > MAX_SETTING_VALUE) bad(name, `${name}: the value is too long`);
    if (/[\0\r\n]/.test(v)) bad(name, `${name}: the value must be on one line`);
    out[name] = v;
  }
  return out;
}

/** An ACCOUNTS value to test: text of a sensible length (its form is checked by the test itself). */
export function checkAccountsValue(value: unknown, field = 'ACCOUNTS'): string {
  if (typeof value !== 'string') bad(field, 'the account store must be text: sqlite or a URL');
  if (value.length > 2048 || /[\0\r\n]/.test(value)) bad(field, 'the account store must be sqlite or one URL');
  return value;
}

export function checkPath(value: unknown, field: string): string {
  if (typeof value !== 'string') bad(field, 'the location must be text');
  if (value.length === 0) bad(field, 'enter a location');
  if (value.length > MAX_PATH || value.includes('\0')) bad(field, 'the location is not a usable path');
  return value;
}

export function checkNewAccount(value: unknown, field = 'input'): NewAccountInput {
  if (!isPlainObject(value)) bad(field, 'the new account must be an object with username and password');
  onlyKeys(value, ['username', 'password', 'maildir', 'quota'], field);
  const username = checkUsername(value.username);
  const password = checkAccountPassword(value.password);
  const quota = checkQuota(value.quota);
  const maildir = value.maildir;
  if (maildir === undefined || maildir === null || maildir === '') return { username, password, maildir: null, quota };
  if (typeof maildir !== 'string') bad('maildir', 'the Maildir location must be text');
  if (maildir.length > MAX_PATH || maildir.includes('\0')) bad('maildir', 'the Maildir location is not a usable path');
  return { username, password, maildir, quota };
}

/** A folder name as the store spells it ("INBOX.Projects"); whether it exists is the host's business. */
export function checkFolderName(value: unknown, field = 'folder'): string {
  if (typeof value !== 'string') bad(field, 'the folder must be text');
  if (value.length === 0) bad(field, 'choose a folder');
  if (value.length > MAX_FOLDER_NAME) bad(field, 'the folder name is too long');
  if (/[\0-\x1f\x7f]/.test(value)) bad(field, 'the folder name contains control characters');
  return value;
}

/** An identifier of a folder's ACL as stored ("user=bob", "anyone"). */
export function checkAclIdentifier(value: unknown, field = 'identifier'): string {
  if (typeof value !== 'string') bad(field, 'the identifier must be text');
  if (value.length === 0 || value.length > MAX_NAME * 2 + 8) bad(field, 'the identifier is empty or too long');
  if (/[\0-\x20\x7f]/.test(value)) bad(field, 'the identifier contains spaces or control characters');
  return value;
}

export function checkShareInput(value: unknown, field = 'input'): ShareInput {
  if (!isPlainObject(value)) bad(field, 'the share must be an object with owner, folder, account and access');
  onlyKeys(value, ['owner', 'folder', 'account', 'access'], field);
  const access = value.access;
  if (!SHARE_ACCESS.some((a) => a.id === access)) bad('access', `the access must be one of ${SHARE_ACCESS.map((a) => a.id).join(', ')}`);
  return {
    owner: checkUsername(value.owner, 'owner'),
    folder: checkFolderName(value.folder),
    account: checkUsername(value.account, 'account'),
    access: access as ShareAccess,
  };
}

export function checkLogFilter(value: unknown, field = 'filter'): LogFilter {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) bad(field, 'the filter must be an object');
  onlyKeys(value, ['level', 'account', 'after', 'limit'], field);
  const filter: LogFilter = {};
  if (value.level !== undefined && value.level !== '') {
    if (!LOG_LEVELS.includes(value.level as LogLevel)) bad('level', `the level must be one of ${LOG_LEVELS.join(', ')}`);
    filter.level = value.level as LogLevel;
  }
  if (value.account !== undefined && value.account !== '') filter.account = checkUsername(value.account, 'account');
  if (value.after !== undefined) {
    if (typeof value.after !== 'number' || !Number.isSafeInteger(value.after) || value.after < 0) bad('after', 'after must be a whole number');
    filter.after = value.after;
  }
  if (value.limit !== undefined) {
    if (typeof value.limit !== 'number' || !Number.isSafeInteger(value.limit) || value.limit < 1 || value.limit > 10_000) {
      bad('limit', 'limit must be a whole number from 1 to 10000');
    }
    filter.limit = value.limit;
  }
  return filter;
}

export function checkSourceId(value: unknown, field = 'id'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) bad(field, 'a mail source id is a whole number from 1');
  return value;
}

function checkWhole(value: unknown, field: string, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) bad(field, `${what} is a whole number from ${min} to ${max}`);
  return value;
}

function checkText(value: unknown, field: string, what: string, max = MAX_NAME): string {
  if (typeof value !== 'string' || value.trim() === '') bad(field, `enter ${what}`);
  if (value.length > max || /[\0-\x1f\x7f]/.test(value)) bad(field, `${what} is not usable (too long, or with control characters)`);
  return value.trim();
}

const MAX_MAPPINGS = 100;

export function checkMailSource(value: unknown, field = 'input'): MailSourceInput {
  if (!isPlainObject(value)) bad(field, 'the mail source must be an object');
  onlyKeys(value, ['kind', 'host', 'port', 'tls', 'username', 'password', 'folders', 'leaveOnServerDays', 'pollSeconds', 'enabled', 'allowInvalidCertificate'], field);
  if (value.kind !== 'imap' && value.kind !== 'pop3') bad('kind', 'the kind is "imap" or "pop3"');
  if (value.tls !== 'implicit' && value.tls !== 'starttls' && value.tls !== 'none') bad('tls', 'the security is "implicit", "starttls" or "none"');
  const host = checkText(value.host, 'host', 'the server name');
  if (!/^[A-Za-z0-9.:[\]_-]+$/.test(host)) bad('host', 'the server name may have letters, digits, dots, dashes and colons only');
  const port = checkWhole(value.port, 'port', 1, 65535, 'the port');
  const username = checkText(value.username, 'username', 'the user name', 1024);
  let password: string | undefined;
  if (value.password !== undefined && value.password !== null && value.password !== '') password = checkPassword(value.password);
  if (!Array.isArray(value.folders) || value.folders.length === 0) bad('folders', 'map at least one folder (INBOX to INBOX)');
  if (value.folders.length > MAX_MAPPINGS) bad('folders', `at most ${MAX_MAPPINGS} folders`);
  const folders = (value.folders as unknown[]).map((f) => {
    if (!isPlainObject(f)) bad('folders', 'each folder is an object with remote and local');
    onlyKeys(f, ['remote', 'local'], 'folders');
    const remote = checkText(f.remote, 'folders', 'the provider folder');
    const local = checkText(f.local, 'folders', 'the local folder');
    if (!/^inbox$/i.test(local) && !/^INBOX\../i.test(local)) bad('folders', 'a local folder is INBOX or below it ("INBOX.Provider")');
    return { remote, local: /^inbox$/i.test(local) ? 'INBOX' : local.replace(/^inbox\./i, 'INBOX.') };
  });
  if (value.kind === 'pop3' && (folders.length !== 1 || folders[0]!.remote.toUpperCase() !== 'INBOX')) bad('folders', 'POP3 has only the provider INBOX');
  const leaveOnServerDays = value.leaveOnServerDays === null ? null : checkWhole(value.leaveOnServerDays, 'leaveOnServerDays', 0, 36_500, 'the days');
  const pollSeconds = checkWhole(value.pollSeconds, 'pollSeconds', 30, 86_400, 'the fetch interval in seconds');
  const enabled = checkBoolean(value.enabled, 'enabled');
  const allowInvalidCertificate = checkBoolean(value.allowInvalidCertificate, 'allowInvalidCertificate');
  return { kind: value.kind, host, port, tls: value.tls, username, ...(password !== undefined ? { password } : {}), folders, leaveOnServerDays, pollSeconds, enabled, allowInvalidCertificate };
}

export function checkImport(value: unknown, field = 'input'): ImportInput {
  if (!isPlainObject(value)) bad(field, 'the import must be an object');
  onlyKeys(value, ['account', 'kind', 'path', 'format', 'host', 'port', 'tls', 'username', 'password', 'allowInvalidCertificate', 'folder'], field);
  const account = checkUsername(value.account, 'account');
  if (typeof value.folder !== 'string' || value.folder.length > MAX_FOLDER_NAME || /[\0-\x1f\x7f/]/.test(value.folder)) bad('folder', 'the folder is a name below INBOX, such as Archive or Old.2019');
  const folder = value.folder.trim().replace(/^inbox(\.|$)/i, '');
  if (folder.split('.').some((level) => level === '') && folder !== '') bad('folder', 'a folder name has no empty level (".." or a dot at an end)');
  if (value.kind === 'mbox' || value.kind === 'maildir') {
    const path = checkPath(value.path, 'path');
    let format: 'mboxrd' | 'mboxo' | undefined;
    if (value.kind === 'mbox' && value.format !== undefined) {
      if (value.format !== 'mboxrd' && value.format !== 'mboxo') bad('format', 'the format is "mboxrd" or "mboxo"');
      format = value.format;
    }
    return { account, kind: value.kind, path, ...(format ? { format } : {}), folder };
  }
  if (value.kind !== 'imap') bad('kind', 'the kind is "mbox", "maildir" or "imap"');
  if (value.tls !== 'implicit' && value.tls !== 'starttls' && value.tls !== 'none') bad('tls', 'the security is "implicit", "starttls" or "none"');
  const host = checkText(value.host, 'host', 'the server name');
  if (!/^[A-Za-z0-9.:[\]_-]+$/.test(host)) bad('host', 'the server name may have letters, digits, dots, dashes and colons only');
  return {
    account, kind: 'imap', host, port: checkWhole(value.port, 'port', 1, 65535, 'the port'), tls: value.tls,
    username: checkText(value.username, 'username', 'the user name', 1024), password: checkPassword(value.password),
    allowInvalidCertificate: value.allowInvalidCertificate === undefined ? false : checkBoolean(value.allowInvalidCertificate, 'allowInvalidCertificate'), folder,
  };
}

type Checker = (value: unknown) => unknown;
/** Per method: the checks of its positional arguments; `optional` counts trailing ones that may be left out. */
const SIGNATURES: Record<ApiMethod, { args: Checker[]; optional?: number }> = {
  getStatus: { args: [] },
  getSettings: { args: [] },
  validateSettings: { args: [(v) => checkSettingChanges(v)] },
  applySettings: { args: [(v) => checkSettingChanges(v)] },
  importCourierConfig: { args: [(v) => checkConfigText(v), (v) => checkConfigFile(v)] },
  exportCourierConfig: { args: [(v) => checkConfigFile(v)] },
  listAccounts: { args: [] },
  addAccount: { args: [(v) => checkNewAccount(v)] },
  setPassword: { args: [(v) => checkUsername(v), (v) => checkAccountPassword(v)] },
  setQuota: { args: [(v) => checkUsername(v), (v) => checkQuota(v)] },
  setMailhost: { args: [(v) => checkUsername(v), (v) => checkMailhost(v)] },
  setSharable: { args: [(v) => checkUsername(v), (v) => checkSharable(v)] },
  disableAccount: { args: [(v) => checkUsername(v)] },
  enableAccount: { args: [(v) => checkUsername(v)] },
  removeAccount: { args: [(v) => checkUsername(v), (v) => checkBoolean(v, 'keepMail')] },
  indexAccount: { args: [(v) => checkUsername(v)] },
  listSessions: { args: [] },
  disconnectSession: { args: [(v) => checkSessionId(v)] },
  getLog: { args: [(v) => checkLogFilter(v)], optional: 1 },
  connectionInfo: { args: [] },
  getOverview: { args: [] },
  startServer: { args: [] },
  stopServer: { args: [] },
  setNetworkAccess: { args: [(v) => checkBoolean(v, 'on')] },
  clientSetup: { args: [(v) => checkUsername(v)] },
  inspectMaildir: { args: [(v) => checkPath(v, 'maildir')] },
  setAdminPassword: { args: [(v) => checkPassword(v)] },
  listMailSources: { args: [(v) => (v === undefined || v === null ? undefined : checkUsername(v, 'account'))], optional: 1 },
  addMailSource: { args: [(v) => checkUsername(v, 'account'), (v) => checkMailSource(v)] },
  updateMailSource: { args: [(v) => checkSourceId(v), (v) => checkMailSource(v)] },
  removeMailSource: { args: [(v) => checkSourceId(v)] },
  testMailSource: { args: [(v) => checkMailSource(v), (v) => (v === undefined || v === null ? undefined : checkSourceId(v))], optional: 1 },
  fetchMailSource: { args: [(v) => checkSourceId(v)] },
  startImport: { args: [(v) => checkImport(v)] },
  cancelJob: { args: [(v) => checkWhole(v, 'id', 1, Number.MAX_SAFE_INTEGER, 'the job number')] },
  testAccountStore: { args: [(v) => checkAccountsValue(v)] },
  mailSourcesProblem: { args: [] },
  listShares: { args: [] },
  shareFolder: { args: [(v) => checkShareInput(v)] },
  unshareFolder: { args: [(v) => checkUsername(v, 'owner'), (v) => checkFolderName(v), (v) => checkAclIdentifier(v)] },
};

/** Check a remote call's arguments; returns them cleaned (throws ApiError 'invalid-argument'). */
export function checkArgs(method: ApiMethod, args: unknown): unknown[] {
  if (!Array.isArray(args)) bad('arguments', 'the arguments must be a list');
  const signature = SIGNATURES[method];
  const min = signature.args.length - (signature.optional ?? 0);
  if (args.length < min || args.length > signature.args.length) {
    bad('arguments', `${method} takes ${min === signature.args.length ? min : `${min} to ${signature.args.length}`} argument(s), got ${args.length}`);
  }
  return args.map((value, i) => signature.args[i]!(value));
}

/**
 * One call that came from outside (IPC from the renderer, HTTP from a browser): its arguments
 * checked here, once, then the method called; the outcome as an envelope for the wire.
 */
export async function invokeApi(api: ApplianceApi, method: ApiMethod, args: unknown): Promise<Envelope> {
  try {
    const checked = checkArgs(method, args);
    const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
    return { ok: true, result: await fn.apply(api, checked) };
  } catch (err) {
    return errorEnvelope(err);
  }
}
