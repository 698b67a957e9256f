// The account store's logic over SQL, shared by SQLite (account-store.ts) and PostgreSQL
// (postgres-store.ts): the same tables and columns, the same statements, the same password
// hashing (password.ts) and login cache (login-cache.ts). A driver runs the statements;
// they are written with "?" placeholders, which the PostgreSQL driver numbers ($1, $2, ...).
//
// All SQL goes through bound parameters: a username such as "'; DROP TABLE accounts; --" is
// just a string. Password hashes never leave this module, except through dump() for
// `imapd-accounts migrate`, which copies them to another store.
//
// An account may have mail addresses besides its username (table addresses), by which mail
// delivery (LMTP, imapd-deliver) finds it; an address belongs to at most one account.

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isAbsolute, join, resolve } from 'node:path';
import type { LoginCache } from './login-cache.js';
import { normalizeMailhost, parseMailhost } from './mailhost.js';
import { checkLogin } from './login-check.js';
import { hashPassword, needsRehash, passwordProblem, verifyPassword } from './password.js';
import {
  AccountError,
  HOMES_DIR,
  addressKey,
  addressProblem,
  homeDirectoryName,
  notFound,
  recipientCandidates,
  sharableProblem,
  usernameKey,
  usernameProblem,
  type Account,
  type AccountEvent,
  type AccountStore,
  type AccountStoreKind,
  type CheckResult,
  type NewAccount,
  type RecipientMatch,
} from './store.js';

export type SqlValue = string | number | null;
export type SqlStatement = readonly [sql: string, params: readonly SqlValue[]];

/** What the SQL account store needs of a database. */
export interface SqlDriver {
  /** The first row, or undefined. */
  one<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** The statements in one transaction, in order; their numbers of rows changed. */
  batch(statements: readonly SqlStatement[]): Promise<number[]>;
  /** The error is a UNIQUE or PRIMARY KEY violation. */
  isUniqueViolation(err: unknown): boolean;
  close(): Promise<void>;
}

export interface AccountRow {
  id: number;
  username: string;
  username_key: string;
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
  sharable: string | null;
}

/** Everything a store holds, for copying it to another (imapd-accounts migrate). */
export interface AccountDump {
  accounts: Omit<AccountRow, 'id'>[];
  addresses: { address_key: string; address: string; username_key: string; created_at: number }[];
}

export interface LoadResult {
  /** Accounts the target did not have. */
  added: number;
  /** Accounts the target had with other values, now the source's. */
  updated: number;
  /** Accounts the target already had as in the source. */
  unchanged: number;
  /** Addresses newly given to their account. */
  addressesAdded: number;
  /** Addresses the target gives to another account than the source (left as they are). */
  addressConflicts: string[];
}

const ACCOUNT_COLUMNS = [
  'username', 'username_key', 'password_hash', 'home', 'maildir', 'quota_bytes', 'quota_messages', 'enabled', 'create_maildir',
  'created_at', 'updated_at', 'last_login_at', 'last_login_address', 'usage_bytes', 'usage_messages', 'usage_updated_at',
  'mailhost', 'sharable',
] as const;

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

const BY_KEY = 'SELECT * FROM accounts WHERE username_key = ?';
const BY_ID = 'SELECT * FROM accounts WHERE id = ?';
const ADDRESS = 'SELECT address, account_id FROM addresses WHERE address_key = ?';

export abstract class SqlAccountStore implements AccountStore {
  abstract readonly kind: AccountStoreKind;
  readonly writable = true;
  private readonly events = new EventEmitter();

  protected constructor(
    protected readonly db: SqlDriver,
    readonly dataDir: string,
    readonly location: string,
  ) {}

  abstract schemaVersion(): Promise<number>;

  async close(): Promise<void> {
    await this.db.close();
  }

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
    if (await this.row(key)) throw new AccountError('exists', `account ${JSON.stringify(username)} already exists`);
    const hash = await hashPassword(input.password);
    const now = Date.now();
    try {
      await this.db.run(
        `INSERT INTO accounts (username, username_key, password_hash, home, maildir, quota_bytes, quota_messages,
           enabled, create_maildir, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [username, key, hash, home, maildir, quotaBytes, quotaMessages, input.enabled === false ? 0 : 1, input.createMaildir === false ? 0 : 1, now, now],
      );
    } catch (err) {
      // Added by someone else while we were hashing.
      if (this.db.isUniqueViolation(err)) throw new AccountError('exists', `account ${JSON.stringify(username)} already exists`);
      throw err;
    }
    this.emit('added', username);
    return (await this.get(username))!;
  }

  async get(username: string): Promise<Account | null> {
    if (usernameProblem(username)) return null;
    const row = await this.row(usernameKey(username));
    return row ? toAccount(row) : null;
  }

  async list(): Promise<Account[]> {
    return (await this.db.all<AccountRow>('SELECT * FROM accounts ORDER BY username_key')).map(toAccount);
  }

  async setPassword(username: string, password: string): Promise<void> {
    const key = await this.existingKey(username);
    const problem = passwordProblem(password);
    if (problem) throw new AccountError('invalid-password', problem);
    const hash = await hashPassword(password);
    if ((await this.setHash(hash, key)) === 0) throw notFound(username);
    this.emit('updated', username);
  }

  async remove(username: string): Promise<void> {
    const key = await this.existingKey(username);
    const row = (await this.row(key))!;
    await this.db.batch([
      ['DELETE FROM addresses WHERE account_id = ?', [row.id]],
      ['DELETE FROM accounts WHERE username_key = ?', [key]],
    ]);
    this.emit('removed', username);
  }

  async addAddress(username: string, address: string): Promise<string> {
    const key = await this.existingKey(username);
    const problem = addressProblem(address);
    if (problem) throw new AccountError('invalid-address', problem);
    const normalized = address.normalize('NFC');
    const row = (await this.row(key))!;
    const owner = await this.db.one<{ address: string; account_id: number }>(ADDRESS, [addressKey(normalized)]);
    if (owner) {
      const who = await this.db.one<AccountRow>(BY_ID, [owner.account_id]);
      throw new AccountError('exists', `the address ${owner.address} already belongs to ${who ? JSON.stringify(who.username) : 'another account'}`);
    }
    const named = await this.row(usernameKey(normalized));
    if (named && named.id !== row.id) throw new AccountError('exists', `${JSON.stringify(normalized)} is the username of another account`);
    try {
      await this.db.run('INSERT INTO addresses (address_key, address, account_id, created_at) VALUES (?, ?, ?, ?)', [
        addressKey(normalized), normalized, row.id, Date.now(),
      ]);
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new AccountError('exists', `the address ${normalized} already belongs to an account`);
      throw err;
    }
    this.emit('addresses', row.username);
    return normalized;
  }

  async removeAddress(username: string, address: string): Promise<void> {
    const key = await this.existingKey(username);
    const row = (await this.row(key))!;
    const removed = typeof address === 'string' ? await this.db.run('DELETE FROM addresses WHERE address_key = ? AND account_id = ?', [addressKey(address), row.id]) : 0;
    if (removed === 0) throw new AccountError('not-found', `${row.username} has no address ${JSON.stringify(address)}`);
    this.emit('addresses', row.username);
  }

  async addresses(username: string): Promise<string[]> {
    const problem = usernameProblem(username);
    if (problem) throw new AccountError('invalid-username', problem);
    // One query (asked at every login for the Outbox's sender): a row per address, or one
    // with a null address for an account without any, none when there is no account.
    const rows = await this.db.all<{ address: string | null }>(
      'SELECT a.address FROM accounts b LEFT JOIN addresses a ON a.account_id = b.id WHERE b.username_key = ? ORDER BY a.address_key',
      [usernameKey(username)],
    );
    if (rows.length === 0) throw notFound(username);
    return rows.flatMap((r) => (r.address === null ? [] : [r.address]));
  }

  async findRecipient(address: string): Promise<RecipientMatch | null> {
    const candidates = recipientCandidates(address);
    if (!candidates) return null;
    for (const candidate of candidates.exact) {
      const owner = await this.db.one<{ account_id: number }>(ADDRESS, [addressKey(candidate)]);
      const byAddress = owner ? await this.db.one<AccountRow>(BY_ID, [owner.account_id]) : undefined;
      if (byAddress) return { account: toAccount(byAddress), via: 'address' };
      const byName = usernameProblem(candidate) ? undefined : await this.row(usernameKey(candidate));
      if (byName) return { account: toAccount(byName), via: 'username' };
    }
    const bare = candidates.localPart;
    const byLocal = bare === null || usernameProblem(bare) ? undefined : await this.row(usernameKey(bare));
    return byLocal ? { account: toAccount(byLocal), via: 'local-part' } : null;
  }

  async enable(username: string): Promise<void> {
    await this.db.run('UPDATE accounts SET enabled = ?, updated_at = ? WHERE username_key = ?', [1, Date.now(), await this.existingKey(username)]);
    this.emit('updated', username);
  }

  async disable(username: string): Promise<void> {
    await this.db.run('UPDATE accounts SET enabled = ?, updated_at = ? WHERE username_key = ?', [0, Date.now(), await this.existingKey(username)]);
    this.emit('updated', username);
  }

  async setQuota(username: string, quota: { bytes?: number | null; messages?: number | null }): Promise<void> {
    const key = await this.existingKey(username);
    const current = (await this.row(key))!;
    const bytes = quota.bytes === undefined ? current.quota_bytes : checkQuota(quota.bytes, 'the storage quota');
    const messages = quota.messages === undefined ? current.quota_messages : checkQuota(quota.messages, 'the message quota');
    await this.db.run('UPDATE accounts SET quota_bytes = ?, quota_messages = ?, updated_at = ? WHERE username_key = ?', [bytes, messages, Date.now(), key]);
    this.emit('updated', username);
  }

  async setMaildir(username: string, maildir: string | null): Promise<void> {
    const key = await this.existingKey(username);
    await this.db.run('UPDATE accounts SET maildir = ?, updated_at = ? WHERE username_key = ?', [maildir === null ? null : checkPath(maildir, 'maildir'), Date.now(), key]);
    this.emit('updated', username);
  }

  async setMailhost(username: string, mailhost: string | null): Promise<void> {
    const key = await this.existingKey(username);
    let value: string | null = null;
    if (mailhost !== null && mailhost.trim() !== '') {
      try {
        parseMailhost(mailhost);
      } catch (err) {
        throw new AccountError('invalid-value', (err as Error).message);
      }
      value = normalizeMailhost(mailhost);
    }
    await this.db.run('UPDATE accounts SET mailhost = ?, updated_at = ? WHERE username_key = ?', [value, Date.now(), key]);
    this.emit('updated', username);
  }

  async setSharable(username: string, sharable: string | null): Promise<void> {
    const problem = sharable === null ? null : sharableProblem(sharable);
    if (problem) throw new AccountError('invalid-value', problem);
    const key = await this.existingKey(username);
    await this.db.run('UPDATE accounts SET sharable = ?, updated_at = ? WHERE username_key = ?', [sharable, Date.now(), key]);
    this.emit('updated', username);
  }

  check(username: string, password: string, cache?: LoginCache): Promise<CheckResult> {
    // The row is read on every attempt, so a change by another process (new hash, disabled,
    // removed and re-added) is seen here even when the cache still has the user.
    return checkLogin<AccountRow>(
      {
        find: (key) => this.row(key),
        account: toAccount,
        stamp: rowStamp,
        enabled: (row) => Boolean(row.enabled),
        verify: (row, pw) => verifyPassword(pw, row.password_hash),
        accepted: async (row, key, pw) => {
          // Attempts that shared one verification must not each re-hash: look at the row as it is now.
          if (needsRehash(row.password_hash) && needsRehash((row = (await this.row(key)) ?? row).password_hash)) {
            await this.setHash(await hashPassword(pw), key);
            row = (await this.row(key)) ?? row;
          }
          return row;
        },
      },
      username,
      password,
      cache,
    );
  }

  async recordLogin(username: string, remoteAddress: string, at = Date.now()): Promise<void> {
    if (usernameProblem(username)) return;
    // Logins are recorded without being waited for (through a pool, on PostgreSQL): a write that
    // arrives late must not replace a newer login's.
    const changed = await this.db.run('UPDATE accounts SET last_login_at = ?, last_login_address = ? WHERE username_key = ? AND (last_login_at IS NULL OR last_login_at <= ?)', [at, remoteAddress, usernameKey(username), at]);
    if (changed > 0) this.emit('login', username);
  }

  async recordUsage(username: string, usage: { bytes: number; messages: number }, at = Date.now()): Promise<void> {
    if (usernameProblem(username)) return;
    await this.db.run('UPDATE accounts SET usage_bytes = ?, usage_messages = ?, usage_updated_at = ? WHERE username_key = ?', [
      Math.max(0, Math.floor(usage.bytes)), Math.max(0, Math.floor(usage.messages)), at, usernameKey(username),
    ]);
    this.emit('usage', username);
  }

  /** Every account (password hashes included) and address, for copying to another store. */
  async dump(): Promise<AccountDump> {
    const rows = await this.db.all<AccountRow>('SELECT * FROM accounts ORDER BY id');
    const addresses = await this.db.all<AccountDump['addresses'][number]>(
      `SELECT a.address_key, a.address, b.username_key, a.created_at FROM addresses a JOIN accounts b ON b.id = a.account_id ORDER BY a.address_key`,
    );
    return { accounts: rows.map(({ id: _id, ...rest }) => rest), addresses };
  }

  /**
   * Copy a dump in: accounts the store lacks are added, those it has (same username key) take
   * the dump's values; addresses are given to their account unless the store gives them to
   * another. Running it again changes nothing. Each account with its addresses is one transaction.
   */
  async load(dump: AccountDump): Promise<LoadResult> {
    const result: LoadResult = { added: 0, updated: 0, unchanged: 0, addressesAdded: 0, addressConflicts: [] };
    const byAccount = new Map<string, AccountDump['addresses']>();
    for (const a of dump.addresses) byAccount.set(a.username_key, [...(byAccount.get(a.username_key) ?? []), a]);
    const columns = ACCOUNT_COLUMNS.join(', ');
    const updates = ACCOUNT_COLUMNS.filter((c) => c !== 'username_key').map((c) => `${c} = excluded.${c}`).join(', ');
    for (const source of dump.accounts) {
      const before = await this.row(source.username_key);
      const same = before !== undefined && ACCOUNT_COLUMNS.every((c) => before[c] === source[c]);
      const statements: SqlStatement[] = [];
      if (!same) {
        statements.push([
          `INSERT INTO accounts (${columns}) VALUES (${ACCOUNT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (username_key) DO UPDATE SET ${updates}`,
          ACCOUNT_COLUMNS.map((c) => source[c]),
        ]);
      }
      const addresses = byAccount.get(source.username_key) ?? [];
      for (const a of addresses) {
        statements.push([
          'INSERT INTO addresses (address_key, address, account_id, created_at) SELECT ?, ?, id, ? FROM accounts WHERE username_key = ? ON CONFLICT (address_key) DO NOTHING',
          [a.address_key, a.address, a.created_at, a.username_key],
        ]);
      }
      const changes = statements.length > 0 ? await this.db.batch(statements) : [];
      if (!before) result.added++;
      else if (same) result.unchanged++;
      else result.updated++;
      const target = (await this.row(source.username_key))!;
      addresses.forEach((a, i) => {
        if ((changes[i + (same ? 0 : 1)] ?? 0) > 0) result.addressesAdded++;
      });
      for (const a of addresses) {
        const owner = await this.db.one<{ account_id: number }>(ADDRESS, [a.address_key]);
        if (owner && owner.account_id !== target.id) result.addressConflicts.push(a.address);
      }
    }
    if (dump.accounts.length > 0) this.emit('updated', dump.accounts[0]!.username);
    return result;
  }

  protected row(key: string): Promise<AccountRow | undefined> {
    return this.db.one<AccountRow>(BY_KEY, [key]);
  }

  private setHash(hash: string, key: string): Promise<number> {
    return this.db.run('UPDATE accounts SET password_hash = ?, updated_at = ? WHERE username_key = ?', [hash, Date.now(), key]);
  }

  private async existingKey(username: string): Promise<string> {
    const problem = usernameProblem(username);
    if (problem) throw new AccountError('invalid-username', problem);
    const key = usernameKey(username);
    if (!(await this.row(key))) throw notFound(username);
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
    sharable: row.sharable ?? null,
  };
}
