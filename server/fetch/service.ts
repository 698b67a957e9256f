// The mail sources of all accounts: kept in fetch.sqlite with their passwords sealed by a
// SecretBox, each enabled one run by a SourceRunner, delivered through a Deliverer of their
// own (the same Maildir engine and mailbox opener as LMTP, so IDLE sessions hear of new mail
// at once), with status for the GUI.

import path from 'node:path';
import type { Account, AccountStore } from '../accounts/index.js';
import { Deliverer, type MailboxOpener } from '../delivery/deliverer.js';
import { SPOOL_DIR } from '../delivery/service.js';
import type { Logger } from '../log/logger.js';
import { imapClient } from './imap-fetch.js';
import type { FetchFaults, Landing } from './landing.js';
import { pop3Connect } from './pop3-fetch.js';
import { DEFAULT_BACKOFF, SourceRunner, plainError, type Backoff } from './runner.js';
import type { SecretBox } from './secrets.js';
import { SourceStore } from './source-store.js';
import type { MailSource, SourceSettings } from './types.js';

/** Fetched messages over this size are refused (and the source reports it), where no limit is given (FETCH_MAXMSGSIZE in the appliance). */
export const MAX_FETCHED_MESSAGE = 256 << 20;

export interface FetchServiceOptions {
  dataDir: string;
  accounts: AccountStore;
  opener: () => MailboxOpener;
  logger: Logger;
  secrets: SecretBox;
  backoff?: Backoff;
  /** A number, or read at each run (a setting that may change). */
  maxMessageSize?: number | (() => number);
  faults?: FetchFaults;
  now?: () => number;
  /** A run must receive a MiB or a whole message in this time (watchdog.ts); default 2 minutes. */
  stallMs?: number;
}

export interface TestResult {
  ok: boolean;
  /** In plain words: what was found, or what went wrong. */
  message: string;
}

export class FetchService {
  readonly store: SourceStore;
  private readonly deliverer: Deliverer;
  private readonly runners = new Map<number, SourceRunner>();
  private readonly listeners = new Set<(id: number) => void>();
  private readonly unsubscribe: () => void;
  private started = false;

  constructor(private readonly options: FetchServiceOptions) {
    this.store = new SourceStore(options.dataDir);
    this.deliverer = new Deliverer({ accounts: options.accounts, opener: options.opener, logger: options.logger, quotaFullTempfail: true });
    this.unsubscribe = options.accounts.onChange((event) => {
      if (event.type !== 'removed') return;
      const name = event.username;
      for (const s of this.store.list(name)) void this.remove(s.id);
    });
  }

  /** Run every enabled source. */
  start(): void {
    this.started = true;
    for (const s of this.store.list()) if (s.enabled) this.runner(s).start();
  }

  async close(): Promise<void> {
    this.started = false;
    this.unsubscribe();
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    await this.deliverer.close();
    this.store.close();
  }

  onChange(listener: (id: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The sources (of one account), with their live status. */
  list(account?: string): MailSource[] {
    return this.store.list(account).map((s) => this.withStatus(s));
  }

  get(id: number): MailSource | null {
    const s = this.store.get(id);
    return s ? this.withStatus(s) : null;
  }

  add(account: string, settings: SourceSettings, password: string): MailSource {
    const s = this.store.add(account, settings, this.options.secrets.seal(password));
    if (this.started && s.enabled) this.runner(s).start();
    this.emit(s.id);
    return this.withStatus(s);
  }

  /** New settings (password null: keep it); the source restarts with them. */
  async update(id: number, settings: SourceSettings, password: string | null): Promise<MailSource | null> {
    await this.runners.get(id)?.stop();
    this.runners.delete(id);
    const s = this.store.update(id, settings, password === null ? null : this.options.secrets.seal(password));
    if (!s) return null;
    if (this.started && s.enabled) this.runner(s).start();
    this.emit(id);
    return this.withStatus(s);
  }

  async remove(id: number): Promise<boolean> {
    await this.runners.get(id)?.stop();
    this.runners.delete(id);
    const removed = this.store.remove(id);
    if (removed) this.emit(id);
    return removed;
  }

  /** Fetch a source now and wait for the outcome (also a disabled one, once). */
  async fetchNow(id: number): Promise<MailSource | null> {
    const s = this.store.get(id);
    if (!s) return null;
    const runner = this.runner(s);
    await runner.fetchNow();
    if (!s.enabled || !this.started) {
      await runner.stop();
      this.runners.delete(id);
    }
    return this.get(id);
  }

  /** Log in with these settings (and the stored password when `password` is null) and look at the folders. */
  async test(settings: SourceSettings, password: string | null, id?: number): Promise<TestResult> {
    const source: MailSource = { ...settings, id: id ?? 0, account: '', createdAt: 0, status: this.blankStatus() };
    let pass = password;
    try {
      if (pass === null) {
        if (id === undefined) return { ok: false, message: 'Enter the password.' };
        pass = this.password(id);
      }
      if (settings.kind === 'pop3') {
        const client = await pop3Connect(source);
        try {
          await client.login(settings.username, pass);
          const { count, size } = await client.stat();
          await client.uidl();
          await client.quit();
          return { ok: true, message: `Connected: ${count} message${count === 1 ? '' : 's'} (${size} octets) waiting.` };
        } finally {
          client.destroy();
        }
      }
      const client = imapClient(source, pass);
      client.on('error', () => undefined);
      try {
        await client.connect();
        const counts: string[] = [];
        for (const f of settings.folders) {
          const st = await client.status(f.remote, { messages: true });
          counts.push(`${f.remote}: ${st ? st.messages ?? 0 : '?'}`);
        }
        return { ok: true, message: `Connected: ${counts.join(', ')} message(s).` };
      } finally {
        await client.logout().catch(() => client.close());
      }
    } catch (err) {
      return { ok: false, message: plainError(err, source) };
    }
  }

  private password(id: number): string {
    const sealed = this.store.secret(id);
    if (sealed === null) throw new Error('the source is gone');
    return this.options.secrets.open(sealed);
  }

  private blankStatus(): MailSource['status'] {
    return { state: 'waiting', lastFetchAt: null, lastSuccessAt: null, lastError: null, lastErrorAt: null, fetchedTotal: 0, failures: 0, nextAttemptAt: null, progress: null };
  }

  private withStatus(s: MailSource): MailSource {
    const runner = this.runners.get(s.id);
    return runner ? { ...s, status: { ...runner.status } } : s;
  }

  private landing(account: Account, sourceId = 0): Landing {
    return {
      deliverer: this.deliverer,
      store: this.store,
      sourceId,
      account,
      spoolDir: path.join(this.options.dataDir, SPOOL_DIR),
      maxMessageSize: typeof this.options.maxMessageSize === 'function' ? this.options.maxMessageSize() : this.options.maxMessageSize ?? MAX_FETCHED_MESSAGE,
      now: this.options.now ?? Date.now,
      uidHints: new Map(),
      ...(this.options.stallMs !== undefined ? { stallMs: this.options.stallMs } : {}),
      ...(this.options.faults ? { faults: this.options.faults } : {}),
    };
  }

  private runner(s: MailSource): SourceRunner {
    let runner = this.runners.get(s.id);
    if (!runner) {
      runner = new SourceRunner(s, {
        landing: (account) => this.landing(account, s.id),
        account: async (name) => {
          const a = await this.options.accounts.get(name);
          return a && a.enabled ? a : null;
        },
        password: (id) => this.password(id),
        backoff: this.options.backoff ?? DEFAULT_BACKOFF,
        logger: this.options.logger,
        changed: (id) => this.emit(id),
      });
      this.runners.set(s.id, runner);
    }
    return runner;
  }

  private emit(id: number): void {
    for (const l of this.listeners) l(id);
  }
}
