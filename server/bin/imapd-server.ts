#!/usr/bin/env node
// imapd-server: the IMAP server on the network. Reads Courier-style imapd / imapd-ssl
// files from --config, keeps accounts and the TLS certificate in --data, listens on PORT
// (STARTTLS) and SSLPORT (implicit TLS), delivers mail over LMTP when LMTP_PORT or
// LMTP_SOCKET is set, and stops cleanly on SIGTERM or SIGINT.
//
// Exit codes: 0 stopped on a signal; 1 could not start (port taken, ...); 2 bad
// configuration or usage (the message names file, line and setting).

import { parseArgs } from 'node:util';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { AccountAuthenticator, authenticatorSettings, openAccountStore, type AccountStore } from '../accounts/index.js';
import { ConfigError, formatWarning, loadSettings, sessionSettingsFrom, settingsFromDocuments, type ConfigWarning } from '../config/index.js';
import { ExitError, runCommand, stderrLogger, stopOnSignals } from './cli.js';
import { DeliveryService } from '../delivery/service.js';
import type { LmtpEndpoint } from '../delivery/lmtp.js';
import { closeSharedFullTextIndex } from '../maildir/index.js';
import { ImapServer, TlsError, proxyFromSettings, loadTlsMaterial, type ListenerInfo, type TlsMaterial } from '../net/index.js';

const USAGE = `Usage: imapd-server [--config DIR] --data DIR [--address A] [--port N] [--sslport N] [--verbose]

  --config DIR   directory with Courier-style imapd and imapd-ssl files (missing files: defaults)
  --data DIR     data directory: accounts.sqlite, tls/, and new accounts' mail
                 (default: IMAPD_DATADIR from the configuration)
  --address A    listen address for both ports, overriding ADDRESS and SSLADDRESS (0: all)
  --port N       IMAP port, overriding PORT
  --sslport N    IMAP-over-TLS port, overriding SSLPORT
  --lmtp-port N  LMTP delivery port on LMTP_ADDRESS, overriding LMTP_PORT
  --verbose      also log debug lines
`;

function printWarnings(warnings: ConfigWarning[]): void {
  const ignored = warnings.filter((w) => w.kind === 'ignored');
  for (const w of warnings.filter((x) => x.kind !== 'ignored')) process.stderr.write(`imapd-server: warning: ${formatWarning(w)}\n`);
  if (ignored.length) {
    process.stderr.write(`imapd-server: note: Courier settings with no effect here: ${ignored.map((w) => w.setting).join(', ')}\n`);
  }
}

function describe(l: ListenerInfo): string {
  const where = l.address === '::' || l.address === '0.0.0.0' ? `all addresses, port ${l.port}` : `${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`;
  return `listening on ${where} (${l.kind === 'imaps' ? 'IMAP over TLS' : l.startTls ? 'IMAP with STARTTLS' : 'IMAP without TLS'})`;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        config: { type: 'string' },
        data: { type: 'string' },
        address: { type: 'string' },
        port: { type: 'string' },
        sslport: { type: 'string' },
        'lmtp-port': { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ExitError(`${(err as Error).message}\n\n${USAGE}`, 2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }

  const overrides: Record<string, string> = {};
  if (values.address !== undefined) {
    overrides.ADDRESS = values.address;
    overrides.SSLADDRESS = values.address;
  }
  if (values.port !== undefined) overrides.PORT = values.port;
  if (values.sslport !== undefined) overrides.SSLPORT = values.sslport;
  if (values['lmtp-port'] !== undefined) overrides.LMTP_PORT = values['lmtp-port'];
  let loaded;
  try {
    loaded = values.config
      ? await loadSettings({ configDir: resolve(values.config), overrides })
      : settingsFromDocuments({ imapd: null, 'imapd-ssl': null }, process.cwd(), overrides);
  } catch (err) {
    if (err instanceof ConfigError) throw new ExitError(`configuration error: ${err.message}`, 2);
    throw err;
  }
  const { settings, warnings } = loaded;
  printWarnings(warnings);
  // IMAP_UMASK applies to the whole process (every file it creates), as Courier's start script does.
  if (settings.umask !== null) process.umask(settings.umask);
  const dataDir = values.data ? resolve(values.data) : settings.dataDir;
  if (!dataDir) throw new ExitError(`no data directory: give --data DIR or set IMAPD_DATADIR\n\n${USAGE}`, 2);

  const logger = stderrLogger(Boolean(values.verbose));
  let accounts: AccountStore;
  try {
    accounts = await openAccountStore(settings.accounts, dataDir);
  } catch (err) {
    throw new ExitError(`account store: ${(err as Error).message}`, 1);
  }
  if (accounts.writable && (await accounts.list()).length === 0) {
    process.stderr.write(`imapd-server: note: no accounts yet; add one with: imapd-accounts --data ${dataDir} add USER\n`);
  }

  let tls: TlsMaterial | null = null;
  if ((settings.sslStart && settings.sslPorts.length) || (settings.plainStart && settings.startTls)) {
    try {
      tls = await loadTlsMaterial({ certFile: settings.tlsCertFile, keyFile: settings.tlsPrivateKeyFile, dataDir });
    } catch (err) {
      await accounts.close();
      if (err instanceof TlsError) throw new ExitError(`TLS certificate: ${err.message}`, 2);
      throw err;
    }
    const kind = { configured: 'configured', generated: 'self-signed, made now', reused: 'self-signed' }[tls.source];
    process.stdout.write(`TLS certificate ${tls.certFile} (${kind}), valid until ${tls.validTo.toISOString().slice(0, 10)}\n`);
    process.stdout.write(`SHA-256 fingerprint: ${tls.fingerprint256}\n`);
    for (const w of tls.warnings) process.stderr.write(`imapd-server: note: TLS: ${w}\n`);
  }

  const proxy = proxyFromSettings(settings, logger);
  try {
    await proxy?.ready();
  } catch (err) {
    accounts.close();
    throw new ExitError(`IMAP_PROXY: ${(err as Error).message}`, 2);
  }
  const authenticator = new AccountAuthenticator({ accounts, logger, ...authenticatorSettings(settings), proxy });
  const server = ImapServer.fromSettings(settings, { authenticator, tls, logger, sessionSettings: sessionSettingsFrom(settings) });
  const delivery = new DeliveryService({ accounts, logger, opener: () => authenticator, dataDir });
  let endpoints: ListenerInfo[];
  let lmtpEndpoints: LmtpEndpoint[];
  try {
    endpoints = await server.start();
    lmtpEndpoints = await delivery.start(settings);
  } catch (err) {
    await server.stop();
    await accounts.close();
    throw new ExitError(`${(err as Error).message}`, 1);
  }
  if (endpoints.length === 0 && lmtpEndpoints.length === 0) {
    await accounts.close();
    throw new ExitError('nothing to listen on (IMAPDSTART and IMAPDSSLSTART are both NO)', 2);
  }
  for (const l of endpoints) process.stdout.write(describe(l) + '\n');
  // One process serves both ports: PIDFILE and SSLPIDFILE get the same pid.
  const pidFiles = [...new Set([settings.pidFile, settings.sslPidFile].filter((f): f is string => f !== null))];
  try {
    for (const file of pidFiles) {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, `${process.pid}\n`);
    }
  } catch (err) {
    await Promise.all([server.stop(), delivery.stop()]);
    await accounts.close();
    throw new ExitError(`cannot write the pid file: ${(err as Error).message}`, 1);
  }
  for (const l of lmtpEndpoints) process.stdout.write(`listening on ${l.path ?? (l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`)} (LMTP delivery)\n`);

  stopOnSignals('imapd-server', async () => {
    await Promise.all([server.stop(), delivery.stop()]);
    await authenticator.idle();
    await closeSharedFullTextIndex();
    await accounts.close();
    await Promise.all(pidFiles.map((f) => rm(f, { force: true })));
  });
}

await runCommand('imapd-server', main);
