// The account store interface, and what every implementation shares: the account types, the
// rules for usernames and addresses, and the errors.
//
// Three implementations (chosen by the ACCOUNTS setting, open-store.ts):
// - SQLite (account-store.ts, the default): one file, accounts.sqlite, in the data directory;
// - PostgreSQL (postgres-store.ts): the same tables, migrations, hashing and login cache, for
//   several servers sharing one store;
// - LDAP (ldap-store.ts), read-only: Courier's authldaprc attributes of an existing directory.
// SQLite and PostgreSQL share all their logic (sql-store.ts) and differ only in the driver.
//
// Every method may be asynchronous (a network store answers later), so callers always await.
//
// Usernames are case-insensitive: "Alice" and "alice" are the same account (people and
// mail clients are careless about case in login names, and email addresses are treated
// this way in practice). The name is kept as first written for display; lookups go
// through a key, the NFC-normalised lower-case form, which is UNIQUE in the table.
// Names are 1-255 characters without control characters or surrounding spaces.

import { createHash } from 'node:crypto';
import type { ChangeBus } from '../maildir/index.js';
import type { LoginCache } from './login-cache.js';

/** Where account homes go by default: <dataDir>/mail/<name>. */
export const HOMES_DIR = 'mail';
export const MAX_USERNAME_LENGTH = 255;
export const MAX_ADDRESS_LENGTH = 254;

export type AccountErrorCode =
  | 'invalid-username'
  | 'invalid-password'
  | 'invalid-address'
  | 'invalid-value'
  | 'exists'
  | 'not-found'
  | 'newer-schema'
  | 'read-only'
  | 'unavailable';

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
  /**
   * Which list of Courier's sharable Maildirs ("shared.NAME.FOLDER") the account sees, as an
   * authlib-style account option (sharable-access.ts): null none (the default), "" the list
   * file IMAPD_MAILDIRSHARED itself, "GROUP" that file's name with GROUP appended (as Courier
   * appends the "sharedgroup" option to IMAP_SHAREDINDEXFILE).
   */
  sharable: string | null;
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

export type AccountEvent = { type: 'added' | 'removed' | 'updated' | 'login' | 'usage' | 'addresses'; username: string };

/** How a delivery address found its account. */
export interface RecipientMatch {
  account: Account;
  /** 'address': an address of the account; 'username': the username itself; 'local-part': the part before "@" (and "+detail"). */
  via: 'address' | 'username' | 'local-part';
}

/** Which implementation a store is. */
export type AccountStoreKind = 'sqlite' | 'postgres' | 'ldap';

/** Everything the server, delivery, the appliance and the imapd-accounts command ask of the account store. */
export interface AccountStore {
  readonly kind: AccountStoreKind;
  /** False for a store the administrator manages elsewhere (LDAP): add, remove and changes throw AccountError 'read-only'. */
  readonly writable: boolean;
  /** Where it is, for messages (a file, or a URL without its password). */
  readonly location: string;
  /** The data directory, under which new accounts' homes go by default. */
  readonly dataDir: string;
  /**
   * How servers sharing this store tell each other of folder changes (PostgreSQL's
   * LISTEN/NOTIFY); absent for a store of one machine (SQLite) or with no channel (LDAP).
   */
  readonly changeBus?: ChangeBus;
  close(): Promise<void>;
  /** Be told about changes made through this object (for the GUI, and to keep usage figures fresh). Returns an unsubscribe. */
  onChange(listener: (event: AccountEvent) => void): () => void;
  add(input: NewAccount): Promise<Account>;
  get(username: string): Promise<Account | null>;
  list(): Promise<Account[]>;
  setPassword(username: string, password: string): Promise<void>;
  /** Remove the account from the store. Its mail stays on disk. */
  remove(username: string): Promise<void>;
  /** Give an account another mail address; refused when any account has it (as address or username). Returns it as stored. */
  addAddress(username: string, address: string): Promise<string>;
  removeAddress(username: string, address: string): Promise<void>;
  /** An account's addresses (not counting its username). */
  addresses(username: string): Promise<string[]>;
  /**
   * The account mail for `address` goes to: one of its addresses, else the username itself,
   * both also without a "+detail" after the local part; else the local part as a username
   * (what a mail transfer agent on this machine sends for a local user: alice@host).
   */
  findRecipient(address: string): Promise<RecipientMatch | null>;
  enable(username: string): Promise<void>;
  disable(username: string): Promise<void>;
  setQuota(username: string, quota: { bytes?: number | null; messages?: number | null }): Promise<void>;
  setMaildir(username: string, maildir: string | null): Promise<void>;
  /** Where the account's mail lives when not here (IMAP_PROXY); null: here. */
  setMailhost(username: string, mailhost: string | null): Promise<void>;
  /** Which sharable Maildirs' list the account sees (Account.sharable; sharableProblem checks it); null: none. */
  setSharable(username: string, sharable: string | null): Promise<void>;
  /**
   * Check credentials. Unknown users cost the same time as known ones; a successful check
   * of a hash made with older parameters re-hashes the password (where the store is writable).
   */
  check(username: string, password: string, cache?: LoginCache): Promise<CheckResult>;
  recordLogin(username: string, remoteAddress: string, at?: number): Promise<void>;
  /** Remember the latest quota use (bytes and messages) of an account. */
  recordUsage(username: string, usage: { bytes: number; messages: number }, at?: number): Promise<void>;
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

/** Longest sharable list group (Account.sharable). */
export const MAX_SHARABLE_GROUP_LENGTH = 64;

/**
 * Why a value cannot be an account's sharable option, or null: "" or a group of letters,
 * digits, ".", "_" and "-" (appended to a file name, so never a "/" nor a name of its own).
 */
export function sharableProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'the sharable list must be a string';
  if (value === '') return null;
  if (value.length > MAX_SHARABLE_GROUP_LENGTH) return `the sharable list group is longer than ${MAX_SHARABLE_GROUP_LENGTH} characters`;
  if (!/^[A-Za-z0-9._-]+$/.test(value)) return 'the sharable list group may hold only letters, digits, ".", "_" and "-"';
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

/**
 * The addresses a delivery address is looked up as, in order: itself, then without its
 * "+detail"; and the bare local part (without "+detail") to try as a username last, or null.
 * Null altogether for input no account can match.
 */
export function recipientCandidates(address: string): { exact: string[]; localPart: string | null } | null {
  if (typeof address !== 'string' || address.length === 0 || Buffer.byteLength(address) > MAX_ADDRESS_LENGTH * 2) return null;
  const at = address.lastIndexOf('@');
  const local = at < 0 ? address : address.slice(0, at);
  const domain = at < 0 ? '' : address.slice(at);
  const plus = local.indexOf('+');
  const exact = [address];
  if (plus > 0) exact.push(local.slice(0, plus) + domain);
  return { exact, localPart: at < 0 ? null : plus > 0 ? local.slice(0, plus) : local };
}

export function notFound(username: string): AccountError {
  return new AccountError('not-found', `no account ${JSON.stringify(username)}`);
}
