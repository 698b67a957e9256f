// Mail delivery as the servers run it (imapd-server, the appliance): the LMTP listeners made
// from the settings, started, stopped, and restarted when one of their settings changes, and
// the Deliverer behind them.

import path from 'node:path';
import type { AccountStore } from '../accounts/index.js';
import type { ImapdSettings } from '../config/index.js';
import type { Logger } from '../log/logger.js';
import { Deliverer, type MailboxOpener } from './deliverer.js';
import { LmtpServer, type LmtpEndpoint } from './lmtp.js';

/** Settings whose change restarts the LMTP listeners. */
export const LMTP_FIELDS: ReadonlySet<keyof ImapdSettings> = new Set([
  'lmtpAddress', 'lmtpPort', 'lmtpSocket', 'lmtpMaxMessageSize', 'quotaFullTempfail',
] as const);

/** Where messages over 1 MiB wait while being delivered. */
export const SPOOL_DIR = 'spool';

export function lmtpEnabled(s: ImapdSettings): boolean {
  return s.lmtpPort !== null || s.lmtpSocket !== null;
}

export interface DeliveryServiceOptions {
  accounts: AccountStore;
  logger: Logger;
  /** The current opener of Maildirs (the authenticator, which may be replaced when settings change). */
  opener: () => MailboxOpener;
  dataDir: string;
  stopGraceMs?: number;
}

export class DeliveryService {
  private server: LmtpServer | null = null;
  private deliverer: Deliverer | null = null;
  /** Start, stop and restart one after another. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: DeliveryServiceOptions) {}

  endpoints(): LmtpEndpoint[] {
    return this.server?.endpoints() ?? [];
  }

  /** Start the LMTP listeners the settings ask for (none when LMTP_PORT and LMTP_SOCKET are empty). Throws when one cannot listen. */
  start(s: ImapdSettings): Promise<LmtpEndpoint[]> {
    return this.serialized(() => this.startNow(s));
  }

  stop(): Promise<void> {
    return this.serialized(() => this.stopNow());
  }

  /** New settings: restart the listeners when an LMTP setting changed. Errors are logged. */
  configure(before: ImapdSettings, after: ImapdSettings): Promise<void> {
    const changed = [...LMTP_FIELDS].some((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
    if (!changed) return Promise.resolve();
    return this.serialized(async () => {
      await this.stopNow();
      await this.startNow(after);
    }).catch((err: unknown) => {
      this.options.logger.log('error', 'LMTP cannot start', { error: (err as Error).message });
    });
  }

  private async startNow(s: ImapdSettings): Promise<LmtpEndpoint[]> {
    if (this.server || !lmtpEnabled(s)) return this.endpoints();
    const deliverer = new Deliverer({
      accounts: this.options.accounts,
      opener: this.options.opener,
      logger: this.options.logger,
      quotaFullTempfail: s.quotaFullTempfail,
    });
    const server = new LmtpServer({
      deliverer,
      logger: this.options.logger,
      tcp: s.lmtpPort === null ? null : { address: s.lmtpAddress, port: s.lmtpPort },
      socket: s.lmtpSocket,
      maxMessageSize: s.lmtpMaxMessageSize,
      spoolDir: path.join(this.options.dataDir, SPOOL_DIR),
      ...(this.options.stopGraceMs !== undefined ? { stopGraceMs: this.options.stopGraceMs } : {}),
    });
    try {
      await server.start();
    } catch (err) {
      await deliverer.close();
      throw err;
    }
    this.server = server;
    this.deliverer = deliverer;
    return server.endpoints();
  }

  private async stopNow(): Promise<void> {
    const server = this.server;
    const deliverer = this.deliverer;
    this.server = null;
    this.deliverer = null;
    await server?.stop();
    await deliverer?.close();
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
