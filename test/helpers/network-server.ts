// The network server as the tests start it: an account store in a data directory, a
// self-signed certificate, loopback listeners on ports the kernel picks.

import path from 'node:path';
import { AccountAuthenticator, type AccountStore } from '../../server/accounts/index.js';
import { loadSettings } from '../../server/config/index.js';
import type { Logger } from '../../server/imap/contracts.js';
import { ImapServer, loadTlsMaterial, type TlsMaterial } from '../../server/net/index.js';

export interface TestNetworkServer {
  server: ImapServer;
  authenticator: AccountAuthenticator;
  tls: TlsMaterial;
  /** IMAP with STARTTLS. */
  port: number;
  /** IMAP over TLS. */
  sslPort: number;
}

export async function startNetworkServer(options: {
  dataDir: string;
  accounts: AccountStore;
  failureDelayMs: number;
  logger?: Logger;
  timeouts?: { unauthenticated: number; authenticated: number; literal: number };
}): Promise<TestNetworkServer> {
  const tls = await loadTlsMaterial({ dataDir: options.dataDir });
  const authenticator = new AccountAuthenticator({
    accounts: options.accounts,
    logger: options.logger ?? { log: () => undefined },
    maildirPath: 'Maildir',
    useLocks: true,
    keywords: true,
    watch: true,
    pollIntervalMs: 60_000,
    trashFolder: 'Trash',
    failureDelayMs: options.failureDelayMs,
  });
  const { settings } = await loadSettings({
    configDir: path.join(options.dataDir, 'no-config'),
    overrides: { ADDRESS: '127.0.0.1', PORT: '0', SSLPORT: '0', MAXPERIP: '20' },
  });
  const server = ImapServer.fromSettings(settings, { authenticator, tls, ...(options.timeouts ? { timeouts: options.timeouts } : {}) });
  const endpoints = await server.start();
  return {
    server,
    authenticator,
    tls,
    port: endpoints.find((e) => e.kind === 'imap')!.port,
    sslPort: endpoints.find((e) => e.kind === 'imaps')!.port,
  };
}
