// The accounts as the GUI sees them: listed with their Maildir's usage (counted at most
// every ten seconds), added on a new or an existing Maildir (an existing one is indexed in
// the background), and changed, disabled or removed (their sessions are ended).

import { promises as fs } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { AccountError, usernameKey, type Account } from '../accounts/index.js';
import { openMaildirStore } from '../maildir/index.js';
import { ApiError, type AccountView, type MaildirInspection, type NewAccountInput, type QuotaInput } from './api.js';
import { isDirectory, type HostContext } from './host-context.js';
import type { ImapRunner } from './imap-runner.js';
import type { IndexJobs } from './index-jobs.js';
import { countMaildir, folderDirs, needsIndexing, type Usage } from './indexer.js';

const USAGE_TTL_MS = 10_000;

export class AccountsService {
  private readonly usageCache = new Map<string, { usage: Usage | null; at: number }>();

  constructor(
    private readonly ctx: HostContext,
    private readonly runner: ImapRunner,
    private readonly jobs: IndexJobs,
  ) {}

  /** Usage counted again at the next look (the account store or a Maildir changed). */
  forgetUsage(key?: string): void {
    if (key === undefined) this.usageCache.clear();
    else this.usageCache.delete(key);
  }

  async listAccounts(): Promise<AccountView[]> {
    const accounts = await this.ctx.accounts.list();
    return Promise.all(accounts.map((a) => this.accountView(a)));
  }

  private async accountView(account: Account): Promise<AccountView> {
    const maildir = this.runner.maildirOf(account);
    const key = usernameKey(account.username);
    let cached = this.usageCache.get(key);
    if (!cached || Date.now() - cached.at > USAGE_TTL_MS) {
      cached = { usage: await countMaildir(maildir), at: Date.now() };
      this.usageCache.set(key, cached);
    }
    const sessions = this.runner.sessionsOf(key);
    return {
      username: account.username,
      enabled: account.enabled,
      maildir,
      maildirExists: cached.usage !== null,
      home: account.home,
      createdAt: account.createdAt,
      lastLoginAt: account.lastLoginAt,
      lastLoginAddress: account.lastLoginAddress,
      usage: cached.usage ? { ...cached.usage, countedAt: cached.at } : null,
      quotaBytes: account.quotaBytes,
      quotaMessages: account.quotaMessages,
      sessions,
      mailhost: account.mailhost,
      sharable: account.sharable,
    };
  }

  async addAccount(checked: NewAccountInput): Promise<AccountView> {
    // Mail programs and Courier's tools split on white space: a name with a space would log in nowhere.
    if (/\s/.test(checked.username)) throw new ApiError('invalid-argument', 'a username cannot contain spaces', 'username');
    const maildir = checked.maildir ?? null;
    if (maildir !== null) {
      if (!isAbsolute(maildir)) throw new ApiError('invalid-argument', `the Maildir location must be a full path (such as ${sep === '/' ? '/home/alice/Maildir' : 'C:\\Mail\\alice'})`, 'maildir');
      await this.checkMaildirLocation(resolve(maildir));
    }
    let account: Account;
    try {
      account = await this.ctx.accounts.add({
        username: checked.username,
        password: checked.password,
        maildir: maildir === null ? null : resolve(maildir),
        quotaBytes: checked.quota?.bytes ?? null,
        quotaMessages: checked.quota?.messages ?? null,
      });
    } catch (err) {
      mapAccountError(err);
    }
    const root = this.runner.maildirOf(account);
    const existed = await isDirectory(join(root, 'cur'));
    try {
      if (!existed) {
        const store = await openMaildirStore({ root, create: true, watch: false });
        await store.close();
      }
    } catch (err) {
      await this.ctx.accounts.remove(account.username);
      throw new ApiError('invalid-argument', `cannot create the Maildir ${root}: ${(err as Error).message}`, 'maildir');
    }
    this.ctx.record('info', account.username, existed ? `account added, with the existing Maildir ${root}` : `account added; Maildir created at ${root}`);
    if (checked.quota) await this.writeQuota(account);
    if (existed && (await needsIndexing(root))) this.jobs.startIndexJob(account);
    return this.accountView(account);
  }

  /** What is at a location, said in plain words before an account is made on it. */
  async inspectMaildir(raw: string): Promise<MaildirInspection> {
    if (!isAbsolute(raw)) throw new ApiError('invalid-argument', `the Maildir location must be a full path (such as ${sep === '/' ? '/home/alice/Maildir' : 'C:\\Mail\\alice'})`, 'maildir');
    const path = resolve(raw);
    const none = { path, messages: 0, folders: 0, bytes: 0 };
    try {
      await this.checkMaildirLocation(path);
    } catch (err) {
      return { ...none, kind: 'other', summary: (err as Error).message };
    }
    if (!(await fs.stat(path).then(() => true, () => false))) {
      return { ...none, kind: 'missing', summary: `${path} does not exist yet; it will be created as a new, empty Maildir.` };
    }
    const usage = await countMaildir(path);
    if (!usage) return { ...none, kind: 'empty', summary: `${path} is an empty directory; a new Maildir will be made in it.` };
    const folders = (await folderDirs(path)).length;
    const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;
    return {
      path,
      kind: 'maildir',
      messages: usage.messages,
      folders,
      bytes: usage.bytes,
      summary: `Found a Maildir with ${plural(usage.messages, 'message')} in ${plural(folders, 'folder')}; they stay as they are and are indexed in the background.`,
    };
  }

  /** A Maildir location must be a Maildir, or missing, or an empty directory: never some other directory. */
  private async checkMaildirLocation(path: string): Promise<void> {
    let st;
    try {
      st = await fs.stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new ApiError('invalid-argument', `cannot use ${path}: ${(err as Error).message}`, 'maildir');
    }
    if (!st.isDirectory()) throw new ApiError('invalid-argument', `${path} is a file, not a Maildir directory`, 'maildir');
    if (await isDirectory(join(path, 'cur'))) return;
    const content = await fs.readdir(path);
    if (content.length > 0) {
      throw new ApiError('invalid-argument', `${path} is a directory with other things in it, not a Maildir (no cur/, new/, tmp/); choose a new or empty directory`, 'maildir');
    }
  }

  async setPassword(user: string, pass: string): Promise<void> {
    try {
      await this.ctx.accounts.setPassword(user, pass);
    } catch (err) {
      mapAccountError(err);
    }
    this.ctx.record('info', (await this.ctx.accounts.get(user))?.username ?? user, 'password changed');
  }

  /**
   * A change to an existing account (not-found otherwise), whose invalid values are refused
   * as the argument `field`; the account before and after it.
   */
  private async changeAccount(user: string, field: string | null, change: () => Promise<void>): Promise<{ before: Account; account: Account }> {
    const before = await this.ctx.accounts.get(user);
    if (!before) throw new ApiError('not-found', `no account ${JSON.stringify(user)}`, 'username');
    try {
      await change();
    } catch (err) {
      if (field !== null && err instanceof AccountError && err.code === 'invalid-value') throw new ApiError('invalid-argument', err.message, field);
      mapAccountError(err);
    }
    return { before, account: (await this.ctx.accounts.get(user))! };
  }

  async setQuota(user: string, quota: QuotaInput | null): Promise<AccountView> {
    const { before, account } = await this.changeAccount(user, null, () =>
      this.ctx.accounts.setQuota(user, { bytes: quota?.bytes ?? null, messages: quota?.messages ?? null }),
    );
    await this.writeQuota(account);
    const shown = (a: Account) => describeQuota(a.quotaBytes, a.quotaMessages);
    this.ctx.record('info', account.username, `quota ${shown(before)} -> ${shown(account)}`);
    return this.accountView(account);
  }

  /** Where the account's mail lives (IMAP_PROXY); sessions already relayed stay where they are. */
  async setMailhost(user: string, mailhost: string | null): Promise<AccountView> {
    const { before, account } = await this.changeAccount(user, 'mailhost', () => this.ctx.accounts.setMailhost(user, mailhost));
    this.ctx.record('info', account.username, `mail host ${before.mailhost ?? '(this server)'} -> ${account.mailhost ?? '(this server)'}`);
    return this.accountView(account);
  }

  /** Which sharable Maildirs the account sees, from its next login (sessions keep what they have). */
  async setSharable(user: string, sharable: string | null): Promise<AccountView> {
    const { before, account } = await this.changeAccount(user, 'sharable', () => this.ctx.accounts.setSharable(user, sharable));
    const shown = (v: string | null) => (v === null ? '(none)' : v === '' ? '(the list)' : `group ${v}`);
    this.ctx.record('info', account.username, `sharable Maildirs ${shown(before.sharable)} -> ${shown(account.sharable)}`);
    return this.accountView(account);
  }

  /** The quota goes into the Maildir's maildirsize at once: deliveries and APPEND check it there. */
  private async writeQuota(account: Account): Promise<void> {
    try {
      await this.runner.applyQuota(account);
    } catch (err) {
      throw new ApiError('internal', `the quota is saved but maildirsize could not be written: ${(err as Error).message}`, 'quota');
    }
  }

  async disableAccount(user: string): Promise<void> {
    try {
      await this.ctx.accounts.disable(user);
    } catch (err) {
      mapAccountError(err);
    }
    const ended = this.runner.disconnectUser(user, 'Your account has been disabled.');
    this.ctx.record('info', (await this.ctx.accounts.get(user))?.username ?? user, `account disabled${ended ? `; ${ended} session(s) disconnected` : ''}`);
  }

  async enableAccount(user: string): Promise<void> {
    try {
      await this.ctx.accounts.enable(user);
    } catch (err) {
      mapAccountError(err);
    }
    this.ctx.record('info', (await this.ctx.accounts.get(user))?.username ?? user, 'account enabled');
  }

  async removeAccount(user: string, keep: boolean): Promise<void> {
    const account = await this.ctx.accounts.get(user);
    if (!account) throw new ApiError('not-found', `no account ${JSON.stringify(user)}`, 'username');
    // A read-only store (LDAP) refuses before anyone is disconnected.
    if (!this.ctx.accounts.writable) throw new ApiError('unavailable', `the accounts are in ${this.ctx.accounts.location}: remove ${account.username} there`);
    const key = usernameKey(account.username);
    await this.jobs.cancel(key);
    const root = this.runner.maildirOf(account);
    this.runner.disconnectUser(account.username, 'Your account has been removed.');
    try {
      await this.ctx.accounts.remove(account.username);
    } catch (err) {
      mapAccountError(err);
    }
    if (keep) {
      this.ctx.record('info', account.username, `account removed; its mail stays in ${root}`);
      return;
    }
    await this.removeMail(account, root);
  }

  private async removeMail(account: Account, root: string): Promise<void> {
    // Only a Maildir is deleted, and never the data directory or something above it.
    const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
    if (!(await isDirectory(join(root, 'cur'))) || inside(this.ctx.dataDir, root) || resolve(root) === resolve('/')) {
      this.ctx.record('warn', account.username, `account removed; ${root} was not deleted (it is not a Maildir, or holds the appliance's data)`);
      return;
    }
    await fs.rm(root, { recursive: true, force: true });
    // The default home under <data>/mail goes too when nothing else is left in it.
    const homes = join(this.ctx.dataDir, 'mail');
    if (inside(account.home, homes) && account.home !== homes) {
      await fs.rmdir(account.home).catch(() => undefined);
    }
    this.ctx.record('info', account.username, `account removed, and its mail deleted (${root})`);
  }
}

function mapAccountError(err: unknown): never {
  if (err instanceof AccountError) {
    switch (err.code) {
      case 'invalid-username': throw new ApiError('invalid-argument', err.message, 'username');
      case 'invalid-password': throw new ApiError('invalid-argument', err.message, 'password');
      case 'invalid-value': throw new ApiError('invalid-argument', err.message, /maildir/.test(err.message) ? 'maildir' : undefined);
      case 'exists': throw new ApiError('exists', err.message, 'username');
      case 'not-found': throw new ApiError('not-found', err.message, 'username');
      default: throw new ApiError('unavailable', err.message);
    }
  }
  throw err;
}

/** "100 MB and 5,000 messages", "none": for the log's old -> new. */
function describeQuota(bytes: number | null, messages: number | null): string {
  const parts = [bytes !== null ? `${(bytes / 1e6).toLocaleString('en', { maximumFractionDigits: 1 })} MB` : '', messages !== null ? `${messages.toLocaleString('en')} messages` : ''].filter(Boolean);
  return parts.length ? parts.join(' and ') : 'none';
}
