// One mail source at work: fetch, then wait (IDLE on an IMAP provider, the schedule for POP3),
// again and again; after a failure, wait longer each time (30 s doubling to 30 min by default,
// as a provider that refuses logins may lock an account that keeps trying) and say why in
// plain words. fetchNow() cuts any wait short.

import type { Account } from '../accounts/index.js';
import type { Logger } from '../log/logger.js';
import { ImapFetcher } from './imap-fetch.js';
import type { Landing } from './landing.js';
import { pop3Run } from './pop3-fetch.js';
import type { FetchProgress, MailSource, MailSourceStatus } from './types.js';

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** Counts and progress during a run reach the GUI at most this often (a first run lands hundreds a second). */
const PROGRESS_EVERY_MS = 250;

export const DEFAULT_BACKOFF: Backoff = { baseMs: 30_000, maxMs: 30 * 60_000 };

export function backoffDelay(failures: number, b: Backoff): number {
  return Math.min(b.maxMs, b.baseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
}

/** An error of the network, TLS or the provider, in words for the GUI. */
export function plainError(err: unknown, source: Pick<MailSource, 'host' | 'port'>): string {
  const e = err as { code?: string; authenticationFailed?: boolean; responseText?: string; message?: string };
  const where = `${source.host}:${source.port}`;
  if (e.authenticationFailed) return `The provider refused the user name or password${e.responseText ? ` (${e.responseText})` : ''}.`;
  switch (e.code) {
    case 'ECONNREFUSED': return `Nothing answers at ${where}: check the server name and port.`;
    case 'ENOTFOUND': case 'EAI_AGAIN': return `The server name ${source.host} is not known (no address found).`;
    case 'ETIMEDOUT': case 'ETIMEOUT': return `${where} did not answer in time.`;
    case 'ECONNRESET': return `${where} closed the connection.`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT': case 'SELF_SIGNED_CERT_IN_CHAIN': case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE': case 'CERT_HAS_EXPIRED': case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `The certificate of ${where} is not trusted (${e.code}); if this provider is known to use such a certificate, allow it in the source's settings.`;
  }
  const message = e.message ?? String(err);
  return message.charAt(0).toUpperCase() + message.slice(1) + (/[.!?]$/.test(message) ? '' : '.');
}

export interface RunnerContext {
  landing: (account: Account) => Landing;
  account: (name: string) => Promise<Account | null>;
  password: (id: number) => string;
  backoff: Backoff;
  logger: Logger;
  changed: (id: number) => void;
}

export class SourceRunner {
  readonly status: MailSourceStatus;
  private stopped = false;
  private wake: () => void = () => undefined;
  private wakeup: Promise<void> = Promise.resolve();
  private waiters: (() => void)[] = [];
  private fetcher: ImapFetcher | null = null;
  private loop: Promise<void> | null = null;
  private lastEmit = 0;
  private emitTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly source: MailSource,
    private readonly ctx: RunnerContext,
  ) {
    this.status = { ...source.status };
    this.arm();
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Fetch now (cuts a wait or a backoff short); resolves when that fetch has ended. */
  fetchNow(): Promise<void> {
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.start();
    this.wake();
    return done;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    const fetcher = this.fetcher;
    this.fetcher = null;
    await fetcher?.close();
    await this.loop;
    for (const w of this.waiters.splice(0)) w();
  }

  private arm(): void {
    this.wakeup = new Promise<void>((resolve) => (this.wake = resolve));
  }

  private set(patch: Partial<MailSourceStatus>): void {
    Object.assign(this.status, patch);
    if (this.emitTimer) clearTimeout(this.emitTimer);
    this.emitTimer = null;
    this.lastEmit = Date.now();
    this.ctx.changed(this.source.id);
  }

  /** Like set(), for counts and progress: told at once, or within PROGRESS_EVERY_MS. */
  private touch(patch: Partial<MailSourceStatus>): void {
    Object.assign(this.status, patch);
    if (this.emitTimer) return;
    const wait = this.lastEmit + PROGRESS_EVERY_MS - Date.now();
    if (wait <= 0) {
      this.lastEmit = Date.now();
      this.ctx.changed(this.source.id);
      return;
    }
    this.emitTimer = setTimeout(() => {
      this.emitTimer = null;
      this.lastEmit = Date.now();
      this.ctx.changed(this.source.id);
    }, wait);
    this.emitTimer.unref();
  }

  private async run(): Promise<void> {
    const { source, ctx } = this;
    while (!this.stopped) {
      let waitMs = source.pollSeconds * 1000;
      // Who asked for a fetch before this one began is answered when it ends; later askers, by the next.
      const serving = this.waiters.splice(0);
      const at = Date.now();
      this.set({ state: 'fetching', lastFetchAt: at, nextAttemptAt: null });
      let landing: Account | null = null;
      try {
        landing = await ctx.account(source.account);
        if (!landing) throw new Error(`the account ${source.account} does not exist or is disabled`);
        const l = ctx.landing(landing);
        l.store.recordAttempt(source.id, at);
        const counted = () => this.touch({ fetchedTotal: this.status.fetchedTotal + 1 });
        const progress = (p: FetchProgress) => this.touch({ progress: p });
        if (source.kind === 'imap') {
          if (!this.fetcher) {
            const fetcher = new ImapFetcher(source, ctx.password(source.id), l, counted, progress);
            this.fetcher = fetcher;
            await fetcher.connect();
          }
          await this.fetcher.run();
        } else {
          await pop3Run(source, ctx.password(source.id), l, counted, undefined, progress);
        }
        l.store.recordSuccess(source.id, Date.now());
        this.set({ state: source.kind === 'imap' ? 'idle' : 'waiting', lastSuccessAt: Date.now(), lastError: null, lastErrorAt: null, failures: 0, nextAttemptAt: Date.now() + waitMs, progress: null });
      } catch (err) {
        const fetcher = this.fetcher;
        this.fetcher = null;
        fetcher?.client.close();
        if (this.stopped) {
          for (const w of serving) w();
          break;
        }
        const message = plainError(err, source);
        const failures = landing ? ctx.landing(landing).store.recordFailure(source.id, message, Date.now()) : this.status.failures + 1;
        waitMs = backoffDelay(failures, ctx.backoff);
        ctx.logger.log('warn', 'mail source failed', { user: source.account, source: `${source.username}@${source.host}`, error: message, retryMs: waitMs });
        this.set({ state: 'error', lastError: message, lastErrorAt: Date.now(), failures, nextAttemptAt: Date.now() + waitMs, progress: null });
      }
      for (const w of serving) w();
      if (this.stopped) break;
      const wakeup = this.wakeup;
      if (this.fetcher && this.status.state === 'idle') {
        try {
          await this.fetcher.waitForNews(waitMs, wakeup);
        } catch {
          const fetcher = this.fetcher;
          this.fetcher = null;
          fetcher?.client.close();
        }
      } else {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          void wakeup.then(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      this.arm();
    }
    this.set({ state: 'disabled', nextAttemptAt: null, progress: null });
  }
}
