// The network server as the tests start it: an account store in a data directory, a
// self-signed certificate, loopback listeners on ports the kernel picks.

import fs from 'node:fs';
import path from 'node:path';
import { AccountAuthenticator, SqliteAccountStore, type ProxyConnector } from '../../server/accounts/index.js';
import { loadSettings } from '../../server/config/index.js';
import type { Logger } from '../../server/imap/contracts.js';
import { ImapServer, loadTlsMaterial, type TlsMaterial } from '../../server/net/index.js';
import { emptyMaildir, removeTree, tempDir } from './maildir.js';

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
  accounts: SqliteAccountStore;
  failureDelayMs: number;
  logger?: Logger;
  timeouts?: { unauthenticated: number; authenticated: number; literal: number };
  /** Other accounts' folders as "#shared.OWNER.FOLDER" (on with IMAP_ACL in imapd-server). */
  sharedFolders?: boolean;
  /** IMAP_PROXY: logins of accounts with a mailhost go there (server/net/proxy.ts). */
  proxy?: ProxyConnector | null;
  /** IMAPD_MAILDIRSHARED: the sharable Maildirs' list, for accounts with a "sharable" option (server/accounts/sharable-access.ts). */
  maildirShared?: string;
  /** DEFDOMAIN: appended to a login name without "@". */
  defaultDomain?: string | null;
  /** Settings on top of the loopback defaults (PORT: "127.0.0.2.143,0" adds a fixed address and port). */
  overrides?: Record<string, string>;
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
    sharedFolders: options.sharedFolders ?? false,
    proxy: options.proxy ?? null,
    maildirShared: options.maildirShared ?? null,
    defaultDomain: options.defaultDomain ?? null,
  });
  const { settings } = await loadSettings({
    configDir: path.join(options.dataDir, 'no-config'),
    overrides: { ADDRESS: '127.0.0.1', PORT: '0', SSLPORT: '0', MAXPERIP: '20', ...options.overrides },
  });
  const server = ImapServer.fromSettings(settings, { authenticator, tls, ...(options.timeouts ? { timeouts: options.timeouts } : {}) });
  const endpoints = await server.start();
  return {
    server,
    authenticator,
    tls,
    port: endpoints.find((e) => e.kind === 'imap' && e.address === '127.0.0.1')!.port,
    sslPort: endpoints.find((e) => e.kind === 'imaps')!.port,
  };
}

export interface OneAccountServer {
  /** alice's Maildir (password "secret"). */
  maildir: string;
  port: number;
  stop(): Promise<void>;
}

/** A temporary directory with an account store holding alice, her empty Maildir, and the server. */
export async function startOneAccountServer(prefix: string): Promise<OneAccountServer> {
  const dir = tempDir(prefix);
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const accounts = SqliteAccountStore.open(data);
  const maildir = emptyMaildir(path.join(dir, 'alice'));
  await accounts.add({ username: 'alice', password: 'secret', maildir });
  const { server, port } = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 100 });
  return {
    maildir,
    port,
    async stop() {
      await server.stop();
      accounts.close();
      removeTree(dir);
    },
  };
}
