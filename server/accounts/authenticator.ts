// The Authenticator the IMAP session calls for LOGIN and AUTHENTICATE: checks the
// password against the account store, slows down failures, and opens the account's
// Maildir.
//
// Failures: every failed attempt waits before it is answered (Courier waits 5 s). The
// wait grows with each further failure from the same remote address (doubling, up to a
// cap), and while an address has recent failures its attempts are handled one after
// another, so that opening many connections in parallel does not multiply the guessing
// rate. Failures are counted per address and per target user: a success forgets only that
// user's failures from that address (else an attacker with any account could log in
// between guesses at another and keep the wait at its first step); 15 quiet minutes
// forget them all (login-failures.ts).
//
// Successes: a verified password is remembered for a short while (LoginCache), so that a
// client reconnecting often does not pay for scrypt each time.
// Every success and failure is logged with user and remote address; passwords never are.

import { promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MailStoreError, type MailStore } from '../backend/mailstore.js';
import { DEBUG_FILE_MAX_BYTES, type ImapdSettings } from '../config/index.js';
import { openDebugFile } from '../log/debug-file.js';
import type { Authenticator, Logger, LoginResult, ProxiedLogin } from '../imap/contracts.js';
import { openMaildirStore, type MaildirStore } from '../maildir/index.js';
import { MaildirQuota } from '../maildir/quota.js';
import { DEFAULT_LOGIN_CACHE_TTL_MS, LoginCache } from './login-cache.js';
import { SharedMailStore } from '../backend/shared.js';
import { accountSharedIndex } from './shared-index.js';
import { withSharableMaildirs } from './sharable-access.js';
import { usernameKey, type Account, type AccountStore } from './account-store.js';
import { LoginFailures, MAX_TRACKED_ADDRESSES } from './login-failures.js';
import type { ProxyConnector } from './mailhost.js';

export interface AccountAuthenticatorOptions {
  accounts: AccountStore;
  logger: Logger;
  /** MAILDIRPATH: the Maildir below an account's home when the account names none. */
  maildirPath: string;
  /** AUTH_MKHOMEDIR_SKEL: copied to a missing home directory before the Maildir is looked for. */
  mkhomedirSkel?: string | null;
  useLocks: boolean;
  /** IMAP_FTS_INDEX: keep a full-text index of each folder. */
  fullTextIndex?: boolean;
  keywords: boolean;
  /** IMAP_ENHANCEDIDLE: watch the Maildir for changes. */
  watch: boolean;
  /** IMAP_IDLE_TIMEOUT in ms: polling period without watching. */
  pollIntervalMs: number;
  /** Wait after the first failure (Courier: 5 s). */
  failureDelayMs?: number;
  /** Longest wait after repeated failures from one address (default 6 x failureDelayMs). */
  maxFailureDelayMs?: number;
  /** Failures older than this are forgotten (default 15 min). */
  failureMemoryMs?: number;
  /** How long a verified password is let in again without scrypt (default 5 min; 0: never). */
  loginCacheTtlMs?: number;
  /** IMAP_TRASHFOLDERNAME: not counted against the quota. */
  trashFolder: string;
  /** IMAP_EMPTYTRASH: at login (at most every 10 minutes per account), messages older than `days` are purged from these folders (names below INBOX.). */
  emptyTrash?: readonly { folder: string; days: number }[];
  /** DEFDOMAIN ("@example.com"): appended to a login name without "@", as Courier's authlib does. */
  defaultDomain?: string | null;
  /** IMAP_MAILBOX_SANITY_CHECK: refuse a Maildir not owned by the uid the server runs as. */
  mailboxSanityCheck?: boolean;
  /**
   * Virtual shared folders ("#shared.OWNER.FOLDER", server/backend/shared.ts): the other
   * accounts' folders their owners share through ACLs. On with IMAP_ACL, which decides who may.
   */
  sharedFolders?: boolean;
  /** IMAPD_MAILDIRSHARED: Courier's sharable Maildirs ("shared."), for accounts whose "sharable" option names a list (sharable-access.ts). */
  maildirShared?: string | null;
  /** IMAPDEBUGFILE: a file name looked for in the Maildir at each login (or an absolute path); when it exists, the session's protocol is appended to it. */
  debugFile?: string | null;
  /** IMAP_PROXY: logins of accounts with a mailhost go there (server/net/proxy.ts); absent: every account is served here. */
  proxy?: ProxyConnector | null;
}

/** The options the configuration decides (the same for imapd-server and the appliance). */
export function authenticatorSettings(s: ImapdSettings): Omit<AccountAuthenticatorOptions, 'accounts' | 'logger'> {
  return {
    maildirPath: s.maildirPath,
    mkhomedirSkel: s.mkhomedirSkel,
    useLocks: s.useLocks,
    fullTextIndex: s.ftsIndex,
    keywords: s.keywords !== 0,
    watch: s.enhancedIdle && s.fileWatch,
    pollIntervalMs: s.idleTimeout * 1000,
    trashFolder: s.trashFolder,
    emptyTrash: s.emptyTrash,
    loginCacheTtlMs: s.loginCacheTtl * 1000,
    defaultDomain: s.defaultDomain,
    mailboxSanityCheck: s.mailboxSanityCheck,
    sharedFolders: s.acl,
    maildirShared: s.maildirShared,
    debugFile: s.debugFile,
  };
}

/**
 * For the commands that open one account's Maildir and are gone (imapd-deliver, imapd-import):
 * the Maildir as the server opens it, without watching it and without a login's extras.
 */
export function openerSettings(s: ImapdSettings): Omit<AccountAuthenticatorOptions, 'accounts' | 'logger'> {
  return {
    maildirPath: s.maildirPath,
    mkhomedirSkel: s.mkhomedirSkel,
    useLocks: s.useLocks,
    keywords: s.keywords !== 0,
    watch: false,
    pollIntervalMs: s.idleTimeout * 1000,
    trashFolder: s.trashFolder,
  };
}

/**
 * IMAP_EMPTYTRASH runs at most this often per account: the rule counts in days, and a client
 * that reconnects every minute (or 10 clients of one account) would otherwise rescan and stat
 * every message of the Trash at each login (measured: 150 purges in a 20 s stress run).
 */
const EMPTY_TRASH_INTERVAL_MS = 10 * 60_000;

export class AccountAuthenticator implements Authenticator {
  private readonly failures: LoginFailures;
  private readonly loginCache: LoginCache;
  /** When IMAP_EMPTYTRASH last ran per account key (oldest first). */
  private readonly lastPurge = new Map<string, number>();
  /** Work started after a login (quota figures, IMAP_EMPTYTRASH), not awaited by the login. */
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly options: AccountAuthenticatorOptions) {
    const delayMs = options.failureDelayMs ?? 5000;
    this.failures = new LoginFailures(delayMs, options.maxFailureDelayMs ?? 6 * delayMs, options.failureMemoryMs ?? 15 * 60_000);
    this.loginCache = new LoginCache(options.loginCacheTtlMs ?? DEFAULT_LOGIN_CACHE_TTL_MS);
  }

  /** Check the password and open the account's Maildir here (whatever its mailhost says). */
  async login(loginName: string, password: string, remoteAddress: string): Promise<LoginResult | null> {
    return (await this.attempt(loginName, password, remoteAddress, false)) as LoginResult | null;
  }

  /** As login; with IMAP_PROXY, an account whose mailhost is another server is logged in there. */
  loginOrProxy(loginName: string, password: string, remoteAddress: string): Promise<LoginResult | ProxiedLogin | null> {
    return this.attempt(loginName, password, remoteAddress, true);
  }

  private async attempt(loginName: string, password: string, remoteAddress: string, mayProxy: boolean): Promise<LoginResult | ProxiedLogin | null> {
    const user = withDefaultDomain(loginName, this.options.defaultDomain ?? null);
    const address = normalizeAddress(remoteAddress);
    const release = await this.failures.enter(address);
    try {
      const check = await this.options.accounts.check(user, password, this.loginCache);
      if (check.result !== 'ok') {
        const shownUser = 'account' in check ? check.account.username : printable(user);
        const delay = this.failures.record(address, user);
        this.options.logger.log('warn', 'LOGIN FAILED', { user: shownUser, ip: address, reason: check.result, delayMs: delay });
        await sleep(delay);
        return null;
      }
      this.failures.forget(address, user);
      if (mayProxy && this.options.proxy && check.account.mailhost) {
        const proxied = await this.proxyLogin(check.account, password, address);
        if (proxied) return proxied;
      }
      const store = await this.openMailbox(check.account);
      this.recordLoginLater(check.account.username, address);
      this.options.logger.log('info', 'LOGIN', { user: check.account.username, ip: address });
      this.recordUsageLater(check.account.username, store);
      this.emptyTrashLater(check.account.username, store);
      const session = await this.sessionOf(check.account, address);
      return { user: check.account.username, store: await this.sessionStore(check.account, store), ...session };
    } finally {
      release();
    }
  }

  /**
   * IMAP_PROXY: the account's mail is on its mailhost; log in there with the same
   * credentials (as Courier's imaplogin). Null: the mailhost names this server. A refusal
   * there is a failed login here (counted, delayed); no server reachable is a NO [UNAVAILABLE].
   */
  private async proxyLogin(account: Account, password: string, address: string): Promise<ProxiedLogin | null> {
    const outcome = await this.options.proxy!.open(account.mailhost!, account.username, password);
    switch (outcome.kind) {
      case 'local':
        return null;
      case 'proxied':
        this.recordLoginLater(account.username, address);
        this.options.logger.log('info', 'LOGIN', { user: account.username, ip: address, proxy: outcome.connection.host });
        return { user: account.username, proxy: outcome.connection };
      case 'refused': {
        const delay = this.failures.record(address, account.username);
        this.options.logger.log('warn', 'LOGIN FAILED', { user: account.username, ip: address, reason: 'refused-by-mailhost', delayMs: delay });
        await sleep(delay);
        throw new MailStoreError('Login failed: your mail server refused the password.', 'AUTHENTICATIONFAILED');
      }
      case 'unavailable':
        throw new MailStoreError('Your mail server cannot be reached now; try again later. The administrator has been told.', 'UNAVAILABLE');
    }
  }

  /**
   * AUTHENTICATE EXTERNAL: TLS verified a client certificate whose TLS_EXTERNAL field is
   * `user`; it must name an enabled account exactly (no DEFDOMAIN added), as with Courier.
   */
  async loginExternal(user: string, remoteAddress: string): Promise<LoginResult | null> {
    const address = normalizeAddress(remoteAddress);
    const account = await this.options.accounts.get(user);
    if (!account || !account.enabled) {
      this.options.logger.log('warn', 'LOGIN FAILED', { user: printable(user), ip: address, reason: account ? 'disabled' : 'no-such-user', method: 'EXTERNAL' });
      return null;
    }
    if (this.options.proxy && account.mailhost) {
      // Courier: "proxy enabled, but no password": the other server needs one to log in.
      this.options.logger.log('warn', 'LOGIN FAILED', { user: account.username, ip: address, reason: 'proxied-account-needs-password', method: 'EXTERNAL' });
      throw new MailStoreError('This account lives on another server: log in with its password.', 'CANNOT');
    }
    const store = await this.openMailbox(account);
    this.recordLoginLater(account.username, address);
    this.options.logger.log('info', 'LOGIN', { user: account.username, ip: address, method: 'EXTERNAL' });
    this.recordUsageLater(account.username, store);
    this.emptyTrashLater(account.username, store);
    return { user: account.username, store: await this.sessionStore(account, store), ...(await this.sessionOf(account, address)) };
  }

  /**
   * The account's last login (shown on the Accounts screen) is bookkeeping: the session does
   * not wait for it (a round trip to PostgreSQL), and a failed write is logged, not a failed login.
   */
  private recordLoginLater(username: string, address: string): void {
    this.options.accounts.recordLogin(username, address).catch((err: unknown) => {
      this.options.logger.log('warn', 'last login not recorded', { user: username, error: err instanceof Error ? err.message : String(err) });
    });
  }

  /** What a session works on: the account's Maildir, with "shared." (its sharable list) and "#shared." (IMAP_ACL) in front. */
  private async sessionStore(account: Account, own: MaildirStore): Promise<MailStore> {
    const listFile = this.options.maildirShared;
    const store = listFile
      ? await withSharableMaildirs(own, account, {
          listFile,
          accounts: this.options.accounts,
          maildirOf: (a) => this.maildirOf(a),
          open: (root, messageLinks) =>
            openMaildirStore({ root, useLocks: this.options.useLocks, keywords: this.options.keywords, watch: this.options.watch, pollIntervalMs: this.options.pollIntervalMs, logger: this.options.logger, messageLinks }),
        })
      : own;
    if (!this.options.sharedFolders) return store;
    const index = accountSharedIndex(this.options.accounts, account.username, (shared) => this.openShared(shared));
    return new SharedMailStore(store, account.username, index);
  }

  /**
   * The Outbox's sender: the username when it is a mail address, else the account's first
   * address, else the username with DEFDOMAIN (Courier's AUTHADDR); and the IMAPDEBUGFILE
   * record when that file is in the Maildir.
   */
  private async sessionOf(account: Account, address: string): Promise<Pick<LoginResult, 'sender' | 'protocolLog'>> {
    const sender = account.username.includes('@')
      ? account.username
      : async () => (await this.options.accounts.addresses(account.username))[0] ?? withDefaultDomain(account.username, this.options.defaultDomain ?? null);
    const debugFile = this.options.debugFile;
    if (!debugFile) return { sender };
    const protocolLog = openDebugFile(resolve(this.maildirOf(account), debugFile), {
      maxBytes: DEBUG_FILE_MAX_BYTES,
      intro: `${new Date().toISOString()} LOGIN, user=${account.username}, ip=[${address}]`,
    });
    return { sender, protocolLog };
  }

  /** The Maildir root of an account. */
  maildirOf(account: Account): string {
    return account.maildir ?? join(account.home, this.options.maildirPath);
  }

  /** Current failure count of an address, or of one target user from it (for tests and the GUI). */
  failuresOf(remoteAddress: string, user?: string): number {
    return this.failures.count(normalizeAddress(remoteAddress), user);
  }

  /** Open (creating it where the account says so) the account's Maildir, with its quota written to maildirsize; also used by mail delivery. */
  async openMailbox(account: Account): Promise<MaildirStore> {
    const log = this.options.logger;
    const root = this.maildirOf(account);
    const existed = await exists(root);
    if (!existed) {
      if (!account.createMaildir) {
        log.log('error', 'Maildir missing', { user: account.username, maildir: root });
        throw new MailStoreError('Your mailbox is not available; the administrator has been told', 'UNAVAILABLE');
      }
      const skel = this.options.mkhomedirSkel;
      if (skel && !(await exists(account.home))) {
        try {
          await fs.mkdir(dirname(account.home), { recursive: true, mode: 0o700 });
          await fs.cp(skel, account.home, { recursive: true, errorOnExist: false, force: false });
          log.log('info', 'home directory created from skeleton', { user: account.username, home: account.home, skel });
        } catch (err) {
          log.log('error', 'cannot copy the skeleton home directory', { user: account.username, home: account.home, skel, error: (err as Error).message });
          throw new MailStoreError('Your mailbox could not be created; the administrator has been told', 'UNAVAILABLE');
        }
      }
    }
    // A Maildir we are about to create is ours; one that exists must be owned by our uid.
    if (existed && this.options.mailboxSanityCheck && process.geteuid && (await fs.stat(root)).uid !== process.geteuid()) {
      log.log('error', 'IMAP_MAILBOX_SANITY_CHECK: Maildir not owned by the server\'s uid', { user: account.username, maildir: root });
      throw new MailStoreError("Fatal error: Account's mailbox directory is not owned by the correct uid or gid", 'ALERT');
    }
    let store: MaildirStore;
    try {
      store = await openMaildirStore({
        root,
        create: account.createMaildir,
        useLocks: this.options.useLocks,
        fullTextIndex: this.options.fullTextIndex ?? false,
        keywords: this.options.keywords,
        watch: this.options.watch,
        pollIntervalMs: this.options.pollIntervalMs,
        ...(this.options.accounts.changeBus ? { changeBus: this.options.accounts.changeBus } : {}),
        trashFolder: this.options.trashFolder,
        logger: log,
      });
    } catch (err) {
      log.log('error', 'cannot open Maildir', { user: account.username, maildir: root, error: (err as Error).message });
      throw new MailStoreError('Your mailbox is not available; the administrator has been told', 'UNAVAILABLE');
    }
    if (!existed) log.log('info', 'Maildir created', { user: account.username, maildir: root });
    await this.applyQuota(account, root).catch((err: unknown) => {
      log.log('error', 'cannot write the quota file', { user: account.username, maildir: root, error: (err as Error).message });
    });
    return store;
  }

  /**
   * Another account's Maildir, opened for a shared folder: as it is, nothing created and no
   * quota written; null when it is not there (Courier leaves inaccessible accounts out).
   */
  private async openShared(account: Account): Promise<MailStore | null> {
    const root = this.maildirOf(account);
    if (!(await exists(root))) return null;
    return openMaildirStore({
      root,
      useLocks: this.options.useLocks,
      keywords: this.options.keywords,
      watch: this.options.watch,
      pollIntervalMs: this.options.pollIntervalMs,
      ...(this.options.accounts.changeBus ? { changeBus: this.options.accounts.changeBus } : {}),
      trashFolder: this.options.trashFolder,
      logger: this.options.logger,
    });
  }

  /**
   * Make maildirsize carry the account's quota (Maildir++: its first line is the limit).
   * An account without a quota leaves the file alone at login: a quota set with maildirmake -q
   * stays; `clearWhenUnset` (the quota was just removed in the GUI) removes the file.
   */
  async applyQuota(account: Account, root = this.maildirOf(account), clearWhenUnset = false): Promise<void> {
    const quota = new MaildirQuota(root, `.${this.options.trashFolder}`);
    if (account.quotaBytes === null && account.quotaMessages === null) {
      if (clearWhenUnset) await quota.remove();
      return;
    }
    const current = await quota.read();
    if (current && current.storageLimit === (account.quotaBytes ?? undefined) && current.messageLimit === (account.quotaMessages ?? undefined)) return;
    const definition = [account.quotaBytes !== null ? `${account.quotaBytes}S` : '', account.quotaMessages !== null ? `${account.quotaMessages}C` : '']
      .filter(Boolean)
      .join(',');
    await quota.rebuild(definition);
  }

  /** Resolves when the work started after logins has finished (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  private later(job: () => Promise<void>): void {
    const p = job().catch(() => undefined);
    this.background.add(p);
    void p.then(() => this.background.delete(p));
  }

  /** Courier purges IMAP_EMPTYTRASH folders at login; done after answering, so that login stays quick, and at most every 10 minutes per account. */
  private emptyTrashLater(username: string, store: MaildirStore): void {
    const rules = this.options.emptyTrash ?? [];
    if (rules.length === 0) return;
    const key = usernameKey(username);
    const now = Date.now();
    if (now - (this.lastPurge.get(key) ?? -Infinity) < EMPTY_TRASH_INTERVAL_MS) return;
    this.lastPurge.delete(key);
    this.lastPurge.set(key, now);
    if (this.lastPurge.size > MAX_TRACKED_ADDRESSES) {
      const oldest = this.lastPurge.keys().next().value;
      if (oldest !== undefined) this.lastPurge.delete(oldest);
    }
    this.later(async () => {
      for (const { folder, days } of rules) {
        try {
          const purged = await store.purgeOldMessages(`INBOX.${folder}`, days);
          if (purged > 0) this.options.logger.log('info', 'purged old messages', { user: username, folder, days, count: purged });
        } catch (err) {
          // A folder that does not exist has nothing to purge; a store closed meanwhile neither.
          if (!(err instanceof MailStoreError)) {
            this.options.logger.log('warn', 'cannot purge old messages', { user: username, folder, error: (err as Error).message });
          }
        }
      }
    });
  }

  private recordUsageLater(username: string, store: MailStore): void {
    this.later(async () => {
      const q = await store.quota();
      if (q) await this.options.accounts.recordUsage(username, { bytes: q.storageUsed, messages: q.messagesUsed });
    });
  }

  /** Wait for our turn when the address has recent failures; returns the release. */
}

/** "::ffff:192.0.2.1" and "192.0.2.1" are the same client. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** A username as it may appear in a log line: no control characters, bounded length. */
function printable(user: string): string {
  const cleaned = user.slice(0, 256).replace(/[\0-\x1f\x7f-\x9f]/g, '?');
  return user.length > 256 ? cleaned + '...' : cleaned;
}

/** Courier's authlib: DEFDOMAIN is appended when the name lacks its first character (the separator). */
export function withDefaultDomain(user: string, defaultDomain: string | null): string {
  if (!defaultDomain || user.includes(defaultDomain[0])) return user;
  return user + defaultDomain;
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
