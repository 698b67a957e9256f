// The account store: one SQLite file, accounts.sqlite, in the data directory.
//
// Usernames are case-insensitive: "Alice" and "alice" are the same account (people and
// mail clients are careless about case in login names, and email addresses are treated
// this way in practice). The name is kept as first written for display; lookups go
// through a key, the NFC-normalised lower-case form, which is UNIQUE in the table.
// Names are 1-255 characters without control characters or surrounding spaces.
//
// All SQL goes through prepared statements with bound parameters: a username such as
// "'; DROP TABLE accounts; --" is just a string. Password hashes never leave this module.
//
// An account may have mail addresses besides its username (table addresses), by which mail
// delivery (LMTP, imapd-deliver) finds it; an address belongs to at most one account.

import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { LoginCache } from './login-cache.js';
import { normalizeMailhost, parseMailhost } from './mailhost.js';
import { hashPassword, needsRehash, passwordProblem, verifyAgainstDummy, verifyPassword } from './password.js';

export const ACCOUNTS_FILE = 'accounts.sqlite';
/** Where account homes go by default: <dataDir>/mail/<name>. */
export const HOMES_DIR = 'mail';
export const MAX_USERNAME_LENGTH = 255;

export const MAX_ADDRESS_LENGTH = 254;

export type AccountErrorCode = 'invalid-username' | 'invalid-password' | 'invalid-address' | 'invalid-value' | 'exists' | 'not-found' | 'newer-schema';

export class AccountError extends Error {
  constructor(
    readonly code: AccountErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

export interface Account {
  id: number;
  /** As first written (display form). */
  username: string;
  home: string;
  /** Explicit Maildir, or null for <home>/<MAILDIRPATH>. */
  maildir: string | null;
  quotaBytes: number | null;
  quotaMessages: number | null;
  enabled: boolean;
  /** Create the Maildir (from AUTH_MKHOMEDIR_SKEL if set) when it is missing at login. */
  createMaildir: boolean;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
  lastLoginAddress: string | null;
  /** Last known use of the quota, recorded by recordUsage(). */
  usage: { bytes: number; messages: number; updatedAt: number } | null;
  /** The server(s) the account's mail lives on, when not this one (mailhost.ts); with IMAP_PROXY=1 its logins are proxied there. */
  mailhost: string | null;
}

export interface NewAccount {
  username: string;
  password: string;
  /** Absolute path of an existing or future Maildir; default <home>/<MAILDIRPATH>. */
  maildir?: string | null;
  /** Absolute path; default <dataDir>/mail/<name>. */
  home?: string;
  quotaBytes?: number | null;
  quotaMessages?: number | null;
  enabled?: boolean;
  createMaildir?: boolean;
}

export type CheckResult =
  | { result: 'ok'; account: Account }
  | { result: 'bad-password' | 'disabled'; account: Account }
  | { result: 'no-such-user' | 'invalid' };

export type AccountEvent =
  | { type: 'added' | 'removed' | 'updated' | 'login' | 'usage' | 'addresses'; username: string };

/** How a delivery address found its account. */
export interface RecipientMatch {
  account: Account;
  /** 'address': an address of the account; 'username': the username itself; 'local-part': the part before "@" (and "+detail"). */
  via: 'address' | 'username' | 'local-part';
}

/** Ordered migrations; the database's user_version is the number applied. Never edit one that shipped. */
const MIGRATIONS: readonly string[] = [
  // 1: accounts
  `CREATE TABLE accounts (
     id INTEGER PRIMARY KEY,
     username TEXT NOT NULL,
     username_key TEXT NOT NULL UNIQUE,
     password_hash TEXT NOT NULL,
     home TEXT NOT NULL,
     maildir TEXT,
     quota_bytes INTEGER CHECK (quota_bytes IS NULL OR quota_bytes >= 0),
     quota_messages INTEGER CHECK (quota_messages IS NULL OR quota_messages >= 0),
     enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
     create_maildir INTEGER NOT NULL DEFAULT 1 CHECK (create_maildir IN (0, 1)),
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     last_login_at INTEGER,
     last_login_address TEXT
   ) STRICT`,
  // 2: last known quota use, for the GUI
  `ALTER TABLE accounts ADD COLUMN usage_bytes INTEGER;
   ALTER TABLE accounts ADD COLUMN usage_messages INTEGER;
   ALTER TABLE accounts ADD COLUMN usage_updated_at INTEGER`,
  // 3: delivery addresses (removed with their account by remove())
  `CREATE TABLE addresses (
     address_key TEXT PRIMARY KEY,
     address TEXT NOT NULL,
     account_id INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX addresses_account ON addresses (account_id)`,
  // 4: the host the account's mail lives on, when not this one (IMAP_PROXY; Courier's "mailhost" option)
  `ALTER TABLE accounts ADD COLUMN mailhost TEXT`,
];
export const SCHEMA_VERSION = MIGRATIONS.length;

interface AccountRow {
  id: number;
  username: string;
  password_hash: string;
  home: string;
  maildir: string | null;
  quota_bytes: number | null;
  quota_messages: number | null;
  enabled: number;
  create_maildir: number;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  last_login_address: string | null;
  usage_bytes: number | null;
  usage_messages: number | null;
  usage_updated_at: number | null;
  mailhost: string | null;
}

/** Why a username cannot be used, or null. Cheap for huge inputs: length is checked first. */
export function usernameProblem(username: unknown): string | null {
  if (typeof username !== 'string') return 'the username must be a string';
  if (username.length === 0) return 'the username must not be empty';
  if (username.length > MAX_USERNAME_LENGTH * 2 || [...username].length > MAX_USERNAME_LENGTH) {
    return `the username is longer than ${MAX_USERNAME_LENGTH} characters`;
  }
  if (/[\0-\x1f\x7f-\x9f]/.test(username)) return 'the username must not contain control characters';
  if (username.trim() !== username) return 'the username must not start or end with a space';
  return null;
}

/** The lookup key of a (valid) username. */
export function usernameKey(username: string): string {
  return username.normalize('NFC').toLowerCase();
}

/** Why a mail address cannot be given to an account, or null: local@domain, printable, no spaces or brackets. */
export function addressProblem(address: unknown): string | null {
  if (typeof address !== 'string') return 'the address must be a string';
  if (address.length === 0) return 'the address must not be empty';
  if (Buffer.byteLength(address) > MAX_ADDRESS_LENGTH) return `the address is longer than ${MAX_ADDRESS_LENGTH} bytes`;
  if (/[\0-\x20\x7f-\x9f<>()[\],;:\\"]/.test(address)) return 'the address must not contain spaces, control characters or any of <>()[],;:\\"';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return 'the address must have the form local-part@domain';
  if (address.indexOf('@') !== at) return 'the address must contain one "@"';
  return null;
}

/** The lookup key of a (valid) address: case does not matter, as with usernames. */
export function addressKey(address: string): string {
  return address.normalize('NFC').toLowerCase();
}

/** A directory name for a username key: readable for plain names, safe and distinct for any name. */
export function homeDirectoryName(key: string): string {
  let name = '';
  for (const ch of key) {
    // A leading dot would hide the directory (and "." or ".." would escape it).
    if (/[a-z0-9_@+-]/.test(ch) || (ch === '.' && name !== '')) name += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) name += '=' + byte.toString(16).padStart(2, '0');
  }
  if (name.length > 100) name = name.slice(0, 80) + '~' + createHash('sha256').update(key).digest('hex').slice(0, 16);
  return name;
}

function checkQuota(value: number | null | undefined, what: string): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || value < 0) throw new AccountError('invalid-value', `${what} must be a whole number of at least 0`);
  return value;
}

function checkPath(value: string, what: string): string {
  if (typeof value !== 'string' || value === '' || value.includes('\0')) throw new AccountError('invalid-value', `${what} must be a path`);
  if (!isAbsolute(value)) throw new AccountError('invalid-value', `${what} must be an absolute path, got ${JSON.stringify(value)}`);
  return resolve(value);
}

export class AccountStore {
  private readonly events = new EventEmitter();
  private readonly stmt;

  private constructor(
    private readonly db: Database.Database,
    readonly dataDir: string,
    readonly path: string,
  ) {
    this.stmt = {
      byKey: db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE username_key = ?'),
      all: db.prepare<[], AccountRow>('SELECT * FROM accounts ORDER BY username_key'),
      insert: db.prepare(
        `INSERT INTO accounts (username, username_key, password_hash, home, maildir, quota_bytes, quota_messages,
           enabled, create_maildir, created_at, updated_at)
         VALUES (@username, @key, @hash, @home, @maildir, @quotaBytes, @quotaMessages, @enabled, @createMaildir, @now, @now)`,
      ),
      remove: db.prepare<[string]>('DELETE FROM accounts WHERE username_key = ?'),
      setHash: db.prepare<[string, number, string]>('UPDATE accounts SET password_hash = ?, updated_at = ? WHERE username_key = ?'),
      setEnabled: db.prepare<[number, number, string]>('UPDATE accounts SET enabled = ?, updated_at = ? WHERE username_key = ?'),
      setQuota: db.prepare<[number | null, number | null, number, string]>('UPDATE accounts SET quota_bytes = ?, quota_messages = ?, updated_at = ? WHERE username_key = ?'),
      setMaildir: db.prepare<[string | null, number, string]>('UPDATE accounts SET maildir = ?, updated_at = ? WHERE username_key = ?'),
      setMailhost: db.prepare<[string | null, number, string]>('UPDATE accounts SET mailhost = ?, updated_at = ? WHERE username_key = ?'),
      login: db.prepare<[number, string, string]>('UPDATE accounts SET last_login_at = ?, last_login_address = ? WHERE username_key = ?'),
      usage: db.prepare<[number, number, number, string]>('UPDATE accounts SET usage_bytes = ?, usage_messages = ?, usage_updated_at = ? WHERE username_key = ?'),
      byId: db.prepare<[number], AccountRow>('SELECT * FROM accounts WHERE id = ?'),
      address: db.prepare<[string], { address: string; account_id: number }>('SELECT address, account_id FROM addresses WHERE address_key = ?'),
      addressesOf: db.prepare<[number], { address: string }>('SELECT address FROM addresses WHERE account_id = ? ORDER BY address_key'),
      addAddress: db.prepare<[string, string, number, number]>('INSERT INTO addresses (address_key, address, account_id, created_at) VALUES (?, ?, ?, ?)'),
      removeAddress: db.prepare<[string, number]>('DELETE FROM addresses WHERE address_key = ? AND account_id = ?'),
      removeAddressesOf: db.prepare<[number]>('DELETE FROM addresses WHERE account_id = ?'),
    };
  }

  /** Open (creating if needed) <dataDir>/accounts.sqlite and bring its schema up to date. */
  static open(dataDir: string): AccountStore {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, ACCOUNTS_FILE);
    // Create the file ourselves so that it is 0600 from the start; SQLite gives its
    // journal and WAL files the database file's permissions.
    closeSync(openSync(path, 'a', 0o600));
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new AccountStore(db, dir, path);
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Be told about changes (for the GUI, and to keep usage figures fresh). Returns an unsubscribe. */
  onChange(listener: (event: AccountEvent) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  async add(input: NewAccount): Promise<Account> {
    const problem = usernameProblem(input.username);
    if (problem) throw new AccountError('invalid-username', problem);
    const passwordIssue = passwordProblem(input.password);
    if (passwordIssue) throw new AccountError('invalid-password', passwordIssue);
    const username = input.username.normalize('NFC');
    const key = usernameKey(username);
    const home = input.home !== undefined ? checkPath(input.home, 'home') : join(this.dataDir, HOMES_DIR, homeDirectoryName(key));
    const maildir = input.maildir === undefined || input.maildir === null ? null : checkPath(input.maildir, 'maildir');
    const quotaBytes = checkQuota(input.quotaBytes, 'the storage quota');
    const quotaMessages = checkQuota(input.quotaMessages, 'the message quota');
    if (this.stmt.byKey.get(key)) throw new AccountError('exists', `account ${JSON.stringify(username)} already exists`);
    const hash = await hashPassword(input.password);
    try {
      this.stmt.insert.run({
        username, key, hash, home, maildir, quotaBytes, quotaMessages,
        enabled: input.enabled === false ? 0 : 1,
        createMaildir: input.createMaildir === false ? 0 : 1,
        now: Date.now(),
      });
    } catch (err) {
      // Added by someone else while we were hashing.
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new AccountError('exists', `account ${JSON.stringify(username)} already exists`);
      throw err;
    }
    this.emit('added', username);
    return this.get(username)!;
  }

  get(username: string): Account | null {
    if (usernameProblem(username)) return null;
    const row = this.stmt.byKey.get(usernameKey(username));
    return row ? toAccount(row) : null;
  }

  list(): Account[] {
    return this.stmt.all.all().map(toAccount);
  }

  async setPassword(username: string, password: string): Promise<void> {
    const key = this.existingKey(username);
    const problem = passwordProblem(password);
    if (problem) throw new AccountError('invalid-password', problem);
    const hash = await hashPassword(password);
    if (this.stmt.setHash.run(hash, Date.now(), key).changes === 0) throw notFound(username);
    this.emit('updated', username);
  }

  /** Remove the account from the store. Its mail stays on disk. */
  remove(username: string): void {
    const key = this.existingKey(username);
    const row = this.stmt.byKey.get(key)!;
    this.db.transaction(() => {
      this.stmt.removeAddressesOf.run(row.id);
      this.stmt.remove.run(key);
    })();
    this.emit('removed', username);
  }

  /** Give an account another mail address; refused when any account has it (as address or username). */
  addAddress(username: string, address: string): string {
    const key = this.existingKey(username);
    const problem = addressProblem(address);
    if (problem) throw new AccountError('invalid-address', problem);
    const normalized = address.normalize('NFC');
    const row = this.stmt.byKey.get(key)!;
    const owner = this.stmt.address.get(addressKey(normalized));
    if (owner) {
      const who = this.stmt.byId.get(owner.account_id);
      throw new AccountError('exists', `the address ${owner.address} already belongs to ${who ? JSON.stringify(who.username) : 'another account'}`);
    }
    const named = this.stmt.byKey.get(usernameKey(normalized));
    if (named && named.id !== row.id) throw new AccountError('exists', `${JSON.stringify(normalized)} is the username of another account`);
    try {
      this.stmt.addAddress.run(addressKey(normalized), normalized, row.id, Date.now());
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AccountError('exists', `the address ${normalized} already belongs to an account`);
      throw err;
    }
    this.emit('addresses', row.username);
    return normalized;
  }

  removeAddress(username: string, address: string): void {
    const key = this.existingKey(username);
    const row = this.stmt.byKey.get(key)!;
    if (typeof address !== 'string' || this.stmt.removeAddress.run(addressKey(address), row.id).changes === 0) {
      throw new AccountError('not-found', `${row.username} has no address ${JSON.stringify(address)}`);
    }
    this.emit('addresses', row.username);
  }

  /** An account's addresses (not counting its username). */
  addresses(username: string): string[] {
    const row = this.stmt.byKey.get(this.existingKey(username))!;
    return this.stmt.addressesOf.all(row.id).map((r) => r.address);
  }

  /**
   * The account mail for `address` goes to: one of its addresses, else the username itself,
   * both also without a "+detail" after the local part; else the local part as a username
   * (what a mail transfer agent on this machine sends for a local user: alice@host).
   */
  findRecipient(address: string): RecipientMatch | null {
    if (typeof address !== 'string' || address.length === 0 || Buffer.byteLength(address) > MAX_ADDRESS_LENGTH * 2) return null;
    const at = address.lastIndexOf('@');
    const local = at < 0 ? address : address.slice(0, at);
    const domain = at < 0 ? '' : address.slice(at);
    const plus = local.indexOf('+');
    const candidates = [address];
    if (plus > 0) candidates.push(local.slice(0, plus) + domain);
    for (const candidate of candidates) {
      const owner = this.stmt.address.get(addressKey(candidate));
      const byAddress = owner ? this.stmt.byId.get(owner.account_id) : undefined;
      if (byAddress) return { account: toAccount(byAddress), via: 'address' };
      const byName = usernameProblem(candidate) ? undefined : this.stmt.byKey.get(usernameKey(candidate));
      if (byName) return { account: toAccount(byName), via: 'username' };
    }
    if (at < 0) return null;
    const bare = plus > 0 ? local.slice(0, plus) : local;
    const byLocal = usernameProblem(bare) ? undefined : this.stmt.byKey.get(usernameKey(bare));
    return byLocal ? { account: toAccount(byLocal), via: 'local-part' } : null;
  }

  enable(username: string): void {
    this.stmt.setEnabled.run(1, Date.now(), this.existingKey(username));
    this.emit('updated', username);
  }

  disable(username: string): void {
    this.stmt.setEnabled.run(0, Date.now(), this.existingKey(username));
    this.emit('updated', username);
  }

  setQuota(username: string, quota: { bytes?: number | null; messages?: number | null }): void {
    const key = this.existingKey(username);
    const current = this.stmt.byKey.get(key)!;
    const bytes = quota.bytes === undefined ? current.quota_bytes : checkQuota(quota.bytes, 'the storage quota');
    const messages = quota.messages === undefined ? current.quota_messages : checkQuota(quota.messages, 'the message quota');
    this.stmt.setQuota.run(bytes, messages, Date.now(), key);
    this.emit('updated', username);
  }

  setMaildir(username: string, maildir: string | null): void {
    const key = this.existingKey(username);
    this.stmt.setMaildir.run(maildir === null ? null : checkPath(maildir, 'maildir'), Date.now(), key);
    this.emit('updated', username);
  }

  /** Where the account's mail lives when not here (IMAP_PROXY); null: here. */
  setMailhost(username: string, mailhost: string | null): void {
    const key = this.existingKey(username);
    let value: string | null = null;
    if (mailhost !== null && mailhost.trim() !== '') {
      try {
        parseMailhost(mailhost);
      } catch (err) {
        throw new AccountError('invalid-value', (err as Error).message);
      }
      value = normalizeMailhost(mailhost);
    }
    this.stmt.setMailhost.run(value, Date.now(), key);
    this.emit('updated', username);
  }

  /**
   * Check credentials. Unknown users cost the same time as known ones; a successful check
   * of a hash made with older parameters re-hashes the password.
   */
  async check(username: string, password: string, cache?: LoginCache): Promise<CheckResult> {
    if (usernameProblem(username) || passwordProblem(password)) {
      await verifyAgainstDummy('x');
      return { result: 'invalid' };
    }
    const key = usernameKey(username);
    let row = this.stmt.byKey.get(key);
    if (!row) {
      cache?.forget(key);
      await verifyAgainstDummy(password);
      return { result: 'no-such-user' };
    }
    // The row is read on every attempt, so a change by another process (new hash, disabled,
    // removed and re-added) is seen here even when the cache still has the user.
    if (row.enabled && cache?.has(key, password, rowStamp(row))) return { result: 'ok', account: toAccount(row) };
    const hash = row.password_hash;
    const good = cache ? await cache.verifyOnce(key, password, rowStamp(row), () => verifyPassword(password, hash)) : await verifyPassword(password, hash);
    if (!good) return { result: 'bad-password', account: toAccount(row) };
    if (!row.enabled) return { result: 'disabled', account: toAccount(row) };
    // Attempts that shared one verification must not each re-hash: look at the row as it is now.
    if (needsRehash(row.password_hash) && needsRehash((row = this.stmt.byKey.get(key) ?? row).password_hash)) {
      const hash = await hashPassword(password);
      this.stmt.setHash.run(hash, Date.now(), key);
      row = this.stmt.byKey.get(key) ?? row;
    }
    cache?.remember(key, password, rowStamp(row));
    return { result: 'ok', account: toAccount(row) };
  }

  /** The account for a correct username and password of an enabled account, else null. */
  async verify(username: string, password: string): Promise<Account | null> {
    const r = await this.check(username, password);
    return r.result === 'ok' ? r.account : null;
  }

  recordLogin(username: string, remoteAddress: string, at = Date.now()): void {
    if (usernameProblem(username)) return;
    this.stmt.login.run(at, remoteAddress, usernameKey(username));
    this.emit('login', username);
  }

  /** Remember the latest quota use (bytes and messages) of an account. */
  recordUsage(username: string, usage: { bytes: number; messages: number }, at = Date.now()): void {
    if (usernameProblem(username)) return;
    this.stmt.usage.run(Math.max(0, Math.floor(usage.bytes)), Math.max(0, Math.floor(usage.messages)), at, usernameKey(username));
    this.emit('usage', username);
  }

  private existingKey(username: string): string {
    const problem = usernameProblem(username);
    if (problem) throw new AccountError('invalid-username', problem);
    const key = usernameKey(username);
    if (!this.stmt.byKey.get(key)) throw notFound(username);
    return key;
  }

  private emit(type: AccountEvent['type'], username: string): void {
    this.events.emit('change', { type, username } satisfies AccountEvent);
  }
}

/** What a cached login was verified against: any change of hash, state or settings of the row changes it. */
function rowStamp(row: AccountRow): string {
  return createHash('sha256').update(`${row.id}\0${row.password_hash}\0${row.enabled}\0${row.updated_at}`).digest('base64url');
}

function notFound(username: string): AccountError {
  return new AccountError('not-found', `no account ${JSON.stringify(username)}`);
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    username: row.username,
    home: row.home,
    maildir: row.maildir,
    quotaBytes: row.quota_bytes,
    quotaMessages: row.quota_messages,
    enabled: row.enabled === 1,
    createMaildir: row.create_maildir === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
    lastLoginAddress: row.last_login_address,
    usage: row.usage_updated_at === null ? null : { bytes: row.usage_bytes ?? 0, messages: row.usage_messages ?? 0, updatedAt: row.usage_updated_at },
    mailhost: row.mailhost ?? null,
  };
}

/** Apply the migrations the file has not seen yet, each in its own transaction. */
export function migrate(db: Database.Database, upTo = MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new AccountError('newer-schema', `the account database has schema version ${current}, newer than this program knows (${MIGRATIONS.length}); refusing to touch it`);
  }
  for (let version = current; version < upTo; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
