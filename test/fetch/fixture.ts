// The local side of the fetch tests: an account store with alice, the mailbox opener, the
// key-file secret box, and FetchServices made and closed on one data directory (a "restart"
// is closing one and making another).

import fs from 'node:fs';
import path from 'node:path';
import { AccountAuthenticator, SqliteAccountStore } from '../../server/accounts/index.js';
import type { FetchFaults } from '../../server/fetch/landing.js';
import { KeyFileSecretBox } from '../../server/fetch/secrets.js';
import { FetchService } from '../../server/fetch/service.js';
import type { SourceSettings } from '../../server/fetch/types.js';
import { messagesInUidOrder } from '../helpers/maildir.js';

export interface Local {
  data: string;
  accounts: SqliteAccountStore;
  service(options?: { faults?: FetchFaults; backoff?: { baseMs: number; maxMs: number }; stallMs?: number; maxMessageSize?: () => number }): Promise<FetchService>;
  /** alice's messages in a folder ('' INBOX, '.Lists'), in UID order. */
  folder(name?: string): Buffer[];
  close(): Promise<void>;
}

export async function localSide(dir: string): Promise<Local> {
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { recursive: true });
  const accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'alice-password' });
  const authenticator = new AccountAuthenticator({
    accounts, logger: { log: () => undefined }, maildirPath: 'Maildir', useLocks: true, keywords: true,
    watch: false, pollIntervalMs: 60_000, trashFolder: 'Trash', failureDelayMs: 10,
  });
  const open: FetchService[] = [];
  return {
    data,
    accounts,
    async service(options = {}) {
      const service = new FetchService({
        dataDir: data, accounts, opener: () => authenticator, logger: { log: () => undefined },
        secrets: await KeyFileSecretBox.open(data),
        backoff: options.backoff ?? { baseMs: 60_000, maxMs: 600_000 },
        ...(options.faults ? { faults: options.faults } : {}),
        ...(options.stallMs !== undefined ? { stallMs: options.stallMs } : {}),
        ...(options.maxMessageSize ? { maxMessageSize: options.maxMessageSize } : {}),
      });
      open.push(service);
      return service;
    },
    folder(name = '') {
      return messagesInUidOrder(path.join(data, 'mail', 'alice', 'Maildir', name));
    },
    async close() {
      for (const s of open) await s.close().catch(() => undefined);
      await authenticator.idle();
      accounts.close();
    },
  };
}

export function imapSettings(port: number, patch: Partial<SourceSettings> = {}): SourceSettings {
  return {
    kind: 'imap', host: '127.0.0.1', port, tls: 'none', username: 'alice',
    folders: [{ remote: 'INBOX', local: 'INBOX' }], leaveOnServerDays: null, pollSeconds: 600,
    enabled: true, allowInvalidCertificate: false, ...patch,
  };
}

/** Messages at the provider (new/ and cur/ of a Maildir folder). */
export function providerCount(maildir: string, folder = ''): number {
  return ['new', 'cur'].reduce((n, sub) => n + fs.readdirSync(path.join(maildir, folder, sub)).length, 0);
}
