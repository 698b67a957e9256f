// The LDAP account store (ACCOUNTS=ldap://...), read-only: the accounts of an existing
// directory, read with the attributes of Courier's authldaprc defaults, so that a directory
// set up for Courier's authldap works as it is:
//   mail           the login name (LDAP_MAIL); further values are the account's delivery addresses
//   uid            also accepted as the login name, and for the local part of a delivery address
//   homeDirectory  the home (LDAP_HOMEDIR); entries without one are not accounts
//   mailbox        the Maildir (LDAP_MAILDIR), absolute or relative to the home
//   quota          Courier's quota ("1000000S,1000C", LDAP_MAILDIRQUOTA)
//   userPassword   the password (LDAP_CRYPTPW), {CRYPT}, {SSHA}, {ARGON2}, ... (ldap-password.ts)
//   disableimap    "1": the account may not use IMAP (LDAP_DISABLEIMAP)
// The URL: ldap[s]://[BIND_DN:BIND_PASSWORD@]HOST[:PORT]/BASE_DN, the bind DN and password
// percent-encoded (Courier's LDAP_BINDDN, LDAP_BINDPW, LDAP_BASEDN). Without them, an anonymous
// bind, which a directory rarely lets read userPassword.
//
// The administrator manages accounts in the directory: adding, removing and changing them here
// throws AccountError 'read-only'. Last login and quota use are kept in ldap-state.sqlite in the
// data directory (ldap-state.ts), for the GUI.
// Each operation opens its own connection (bind, search, unbind): a login costs one LDAP
// round trip more than with a kept connection, and a directory restart needs nothing of us.

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isAbsolute, join, resolve } from 'node:path';
import { AndFilter, Client, EqualityFilter, PresenceFilter, type Entry, type Filter } from 'ldapts';
import type { LoginCache } from './login-cache.js';
import { checkLogin } from './login-check.js';
import { verifyAgainstDummy } from './password.js';
import { verifyLdapPassword } from './ldap-password.js';
import { LdapLocalState } from './ldap-state.js';
import {
  AccountError,
  addressKey,
  notFound,
  recipientCandidates,
  usernameKey,
  usernameProblem,
  type Account,
  type AccountEvent,
  type AccountStore,
  type CheckResult,
  type NewAccount,
  type RecipientMatch,
} from './store.js';

const ATTRIBUTES = ['mail', 'uid', 'homeDirectory', 'mailbox', 'quota', 'userPassword', 'disableimap'];
const TIMEOUT_MS = 10_000;
/** The most entries list() reads (a home server's directory has far fewer). */
const LIST_LIMIT = 10_000;

interface LdapEntry {
  dn: string;
  mail: string[];
  uid: string | null;
  home: string;
  mailbox: string | null;
  quota: string | null;
  userPassword: string | null;
  disableImap: boolean;
}

interface LdapTarget {
  url: string;
  bindDn: string | null;
  bindPassword: string;
  baseDn: string;
}

/** The parts of an ACCOUNTS=ldap://... URL; throws an Error saying what is wrong. */
export function parseLdapUrl(raw: string): LdapTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`not a URL: ${JSON.stringify(raw)}`);
  }
  if (u.protocol !== 'ldap:' && u.protocol !== 'ldaps:') throw new Error('an LDAP URL starts with ldap:// or ldaps://');
  if (!u.hostname) throw new Error('the LDAP URL names no host');
  const baseDn = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!baseDn) throw new Error('the LDAP URL names no base DN (ldap://host/ou=people,dc=example,dc=com)');
  const bindDn = u.username ? decodeURIComponent(u.username) : null;
  return { url: `${u.protocol}//${u.host}`, bindDn, bindPassword: decodeURIComponent(u.password), baseDn };
}

/** Courier's quota string: "<bytes>S,<messages>C" (either part may be missing). */
export function parseCourierQuota(quota: string | null): { bytes: number | null; messages: number | null } {
  const result = { bytes: null as number | null, messages: null as number | null };
  for (const part of (quota ?? '').split(',')) {
    const m = /^\s*(\d{1,15})([SC])\s*$/.exec(part);
    if (m) result[m[2] === 'S' ? 'bytes' : 'messages'] = Number(m[1]);
  }
  return result;
}

function values(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  if (!key) return [];
  const v = entry[key]!;
  return (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
}

function toEntry(e: Entry): LdapEntry | null {
  const home = values(e, 'homeDirectory')[0];
  const mail = values(e, 'mail');
  const uid = values(e, 'uid')[0] ?? null;
  if (!home || !isAbsolute(home) || (mail.length === 0 && uid === null)) return null;
  const disable = values(e, 'disableimap')[0];
  return {
    dn: e.dn,
    mail,
    uid,
    home: resolve(home),
    mailbox: values(e, 'mailbox')[0] ?? null,
    quota: values(e, 'quota')[0] ?? null,
    userPassword: values(e, 'userPassword')[0] ?? null,
    disableImap: disable === '1',
  };
}

/** An ldapts error in words: its class names the LDAP result ("InvalidCredentialsError": invalid credentials, code 49). */
function ldapReason(err: unknown): string {
  const e = err as Error & { code?: unknown };
  if (typeof e.code !== 'number' || !/Error$/.test(e.name) || e.name === 'Error') return e.message;
  const words = e.name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return `${words} (LDAP result ${e.code})`;
}

const eq = (attribute: string, value: string) => new EqualityFilter({ attribute, value });

export class LdapAccountStore implements AccountStore {
  readonly kind = 'ldap' as const;
  readonly writable = false;
  readonly location: string;
  private readonly target: LdapTarget;
  private readonly events = new EventEmitter();
  private readonly state: LdapLocalState;

  private constructor(
    url: string,
    readonly dataDir: string,
  ) {
    this.target = parseLdapUrl(url);
    this.location = `${this.target.url}/${this.target.baseDn}`;
    this.state = new LdapLocalState(dataDir);
  }

  /** A store for the directory the URL names; `probe` (the default) checks now that it answers. */
  static async open(url: string, dataDir: string, probe = true): Promise<LdapAccountStore> {
    const store = new LdapAccountStore(url, dataDir);
    if (probe) {
      try {
        await store.search(new PresenceFilter({ attribute: 'homeDirectory' }), 1);
      } catch (err) {
        throw new AccountError('unavailable', `cannot use the LDAP account store ${store.location}: ${ldapReason(err)}`);
      }
    }
    return store;
  }

  async close(): Promise<void> {
    this.state.close();
  }

  onChange(listener: (event: AccountEvent) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  async get(username: string): Promise<Account | null> {
    const entry = await this.find(username);
    return entry ? this.toAccount(entry) : null;
  }

  async list(): Promise<Account[]> {
    const entries = await this.search(new PresenceFilter({ attribute: 'homeDirectory' }), LIST_LIMIT);
    return entries.map((e) => this.toAccount(e)).sort((a, b) => usernameKey(a.username).localeCompare(usernameKey(b.username)));
  }

  async addresses(username: string): Promise<string[]> {
    const entry = await this.find(username);
    if (!entry) throw notFound(username);
    return entry.mail.slice(1);
  }

  async findRecipient(address: string): Promise<RecipientMatch | null> {
    const candidates = recipientCandidates(address);
    if (!candidates) return null;
    for (const candidate of candidates.exact) {
      if (usernameProblem(candidate)) continue;
      const [byMail] = await this.search(eq('mail', candidate), 2);
      if (byMail) {
        const isName = addressKey(byMail.mail[0] ?? '') === addressKey(candidate);
        return { account: this.toAccount(byMail), via: isName ? 'username' : 'address' };
      }
      const [byUid] = await this.search(eq('uid', candidate), 2);
      if (byUid) return { account: this.toAccount(byUid), via: 'username' };
    }
    const bare = candidates.localPart;
    if (bare === null || usernameProblem(bare)) return null;
    const [byLocal] = await this.search(eq('uid', bare), 2);
    return byLocal ? { account: this.toAccount(byLocal), via: 'local-part' } : null;
  }

  check(username: string, password: string, cache?: LoginCache): Promise<CheckResult> {
    return checkLogin<LdapEntry>(
      {
        find: (_key, name) => this.find(name),
        account: (entry) => this.toAccount(entry),
        // As with the SQL stores, the entry is read at every attempt: a changed password or
        // disableimap in the directory takes effect at once, cached or not.
        stamp: (entry) => createHash('sha256').update(`${entry.dn}\0${entry.userPassword ?? ''}\0${entry.disableImap}`).digest('base64url'),
        enabled: (entry) => !entry.disableImap,
        verify: (entry, pw) => (entry.userPassword === null ? verifyAgainstDummy(pw).then(() => false) : verifyLdapPassword(pw, entry.userPassword)),
      },
      username,
      password,
      cache,
    );
  }

  async recordLogin(username: string, remoteAddress: string, at = Date.now()): Promise<void> {
    if (usernameProblem(username)) return;
    this.state.setLogin(usernameKey(username), { at, address: remoteAddress });
    this.emit('login', username);
  }

  async recordUsage(username: string, usage: { bytes: number; messages: number }, at = Date.now()): Promise<void> {
    if (usernameProblem(username)) return;
    this.state.setUsage(usernameKey(username), { bytes: Math.max(0, Math.floor(usage.bytes)), messages: Math.max(0, Math.floor(usage.messages)), updatedAt: at });
    this.emit('usage', username);
  }

  add(_input: NewAccount): Promise<Account> {
    return this.readOnly();
  }
  setPassword(_username: string, _password: string): Promise<void> {
    return this.readOnly();
  }
  remove(_username: string): Promise<void> {
    return this.readOnly();
  }
  addAddress(_username: string, _address: string): Promise<string> {
    return this.readOnly();
  }
  removeAddress(_username: string, _address: string): Promise<void> {
    return this.readOnly();
  }
  enable(_username: string): Promise<void> {
    return this.readOnly();
  }
  disable(_username: string): Promise<void> {
    return this.readOnly();
  }
  setQuota(_username: string, _quota: { bytes?: number | null; messages?: number | null }): Promise<void> {
    return this.readOnly();
  }
  setMaildir(_username: string, _maildir: string | null): Promise<void> {
    return this.readOnly();
  }
  setMailhost(_username: string, _mailhost: string | null): Promise<void> {
    return this.readOnly();
  }
  setSharable(_username: string, _sharable: string | null): Promise<void> {
    return this.readOnly();
  }

  private async readOnly(): Promise<never> {
    throw new AccountError('read-only', `the accounts are in the LDAP directory ${this.location}: change them there`);
  }

  /** The entry a login name names: by mail first, else by uid; null when none or several. */
  private async find(username: string): Promise<LdapEntry | null> {
    if (usernameProblem(username)) return null;
    for (const attribute of ['mail', 'uid']) {
      const found = await this.search(eq(attribute, username), 2);
      if (found.length === 1) return found[0]!;
      if (found.length > 1) return null;
    }
    return null;
  }

  private async search(filter: Filter, limit: number): Promise<LdapEntry[]> {
    const client = new Client({ url: this.target.url, timeout: TIMEOUT_MS, connectTimeout: TIMEOUT_MS });
    try {
      if (this.target.bindDn !== null) await client.bind(this.target.bindDn, this.target.bindPassword);
      const { searchEntries } = await client.search(this.target.baseDn, {
        scope: 'sub',
        filter: new AndFilter({ filters: [new PresenceFilter({ attribute: 'homeDirectory' }), filter] }),
        attributes: ATTRIBUTES,
        sizeLimit: limit,
        paged: limit > 500 ? { pageSize: 500 } : false,
      });
      return searchEntries.map(toEntry).filter((e): e is LdapEntry => e !== null);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private toAccount(entry: LdapEntry): Account {
    const username = entry.mail[0] ?? entry.uid!;
    const key = usernameKey(username);
    const quota = parseCourierQuota(entry.quota);
    const login = this.state.login(key);
    return {
      // A stable number for the entry (its DN), below 2^48.
      id: parseInt(createHash('sha256').update(entry.dn.toLowerCase()).digest('hex').slice(0, 12), 16),
      username,
      home: entry.home,
      maildir: entry.mailbox === null ? null : isAbsolute(entry.mailbox) ? resolve(entry.mailbox) : join(entry.home, entry.mailbox),
      quotaBytes: quota.bytes,
      quotaMessages: quota.messages,
      enabled: !entry.disableImap,
      createMaildir: true,
      createdAt: 0,
      updatedAt: 0,
      lastLoginAt: login?.at ?? null,
      lastLoginAddress: login?.address ?? null,
      usage: this.state.usage(key),
      // Courier's authldap can name a mailhost (LDAP_MAILHOST); not read here: proxying is for accounts of our own stores.
      mailhost: null,
      // No sharable Maildirs for directory accounts: the option is kept in our own stores only.
      sharable: null,
    };
  }

  private emit(type: AccountEvent['type'], username: string): void {
    this.events.emit('change', { type, username } satisfies AccountEvent);
  }
}

