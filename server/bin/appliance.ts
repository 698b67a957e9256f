#!/usr/bin/env node
// appliance: the home mail-server appliance without Electron. Starts the IMAP listeners
// and the GUI over HTTP on 127.0.0.1, prints where to open the GUI (with its token), the
// IMAP ports and the certificate fingerprint, and stops cleanly on SIGTERM or SIGINT.
//
// On a fresh machine it needs nothing: the data directory, the configuration files with
// their defaults, the account store and a self-signed certificate are made on first start.
//
// Exit codes: 0 stopped on a signal; 1 could not start; 2 bad usage.

import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ApplianceHost, ApplianceHttpServer, defaultDataDir } from '../appliance/index.js';
import { runCommand, stderrLogger, stopOnSignals } from './cli.js';

const USAGE = `Usage: appliance [--data DIR] [--gui-port N] [--setup-port N] [--no-announce] [--verbose]

  --data DIR     data directory: configuration, accounts, certificate, new accounts' mail
                 (default ${defaultDataDir()}; or IMAPD_TS_DATA)
  --gui-port N   port of the GUI on 127.0.0.1 (default 8143, or any free port if that is taken;
                 0: any free port)
  --setup-port N port of the HTTP server with the mail programs' setup files (Thunderbird
                 autoconfig, Apple profile, Outlook autodiscover) (default 8144, or any free
                 port if that is taken; 0: any free port)
  --no-announce  do not announce the server on the local network (DNS-SD)
  --verbose      also log debug lines
  -h, --help     this text
`;

const DEFAULT_GUI_PORT = 8143;
const DEFAULT_SETUP_PORT = 8144;

function portArg(name: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    process.stderr.write(`appliance: --${name}: expected a port number, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return port;
}

function userAtHost(): string {
  let user = 'you';
  try {
    user = userInfo().username;
  } catch {
    /* no user name: keep the placeholder */
  }
  return `${user}@${hostname()}`;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        data: { type: 'string' },
        'gui-port': { type: 'string' },
        'setup-port': { type: 'string' },
        'no-announce': { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`appliance: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const guiPort = portArg('gui-port', values['gui-port']);
  const setupPort = portArg('setup-port', values['setup-port']) ?? DEFAULT_SETUP_PORT;

  const host = await ApplianceHost.open({
    dataDir: values.data ?? process.env.IMAPD_TS_DATA ?? defaultDataDir(),
    logger: stderrLogger(Boolean(values.verbose)),
    verbose: Boolean(values.verbose),
    setupPort,
    announce: !values['no-announce'],
  });
  const status = await host.start();
  let gui = new ApplianceHttpServer({ api: host, port: guiPort ?? DEFAULT_GUI_PORT, admin: host.admin });
  let address;
  try {
    address = await gui.start();
  } catch (err) {
    if (guiPort !== null || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
      await host.stop();
      throw new Error(`cannot start the GUI on 127.0.0.1 port ${guiPort ?? DEFAULT_GUI_PORT}: ${(err as Error).message}`);
    }
    gui = new ApplianceHttpServer({ api: host, port: 0, admin: host.admin });
    address = await gui.start();
  }

  // Before the lines below: a program that reads "GUI: " and at once sends SIGTERM must find the
  // handler in place (it did not always: the process then died of the signal, exit code null).
  stopOnSignals('appliance', async () => {
    await gui.stop();
    await host.stop();
  });

  const out = (line: string) => process.stdout.write(line + '\n');
  out(`imapd-ts appliance ${status.version}`);
  out(`data directory: ${status.dataDir}`);
  if (status.state === 'running') {
    for (const l of status.listeners) {
      const where = l.address === '::' || l.address === '0.0.0.0' ? 'all addresses' : l.address;
      out(`IMAP ${l.kind === 'imaps' ? 'over TLS (SSL/TLS)' : l.startTls ? 'with STARTTLS' : 'without TLS'}: ${where} port ${l.port}`);
    }
  } else {
    out(`IMAP server not running: ${status.problem ?? status.state} (fix it in the GUI's Settings)`);
  }
  if (status.tls) out(`certificate SHA-256 fingerprint: ${status.tls.fingerprint256}`);
  for (const step of status.firstSteps) out(`next: ${step}`);
  out(
    status.adminPassword
      ? `GUI with your GUI password: http://127.0.0.1:${address.port}/signin`
      : 'GUI password: none yet; set one in the Overview to sign in without the token (which changes at every start)',
  );
  out(`from another computer: ssh -L ${address.port}:127.0.0.1:${address.port} ${userAtHost()}, then open http://localhost:${address.port}/ there`);
  // Last: programs that start the appliance wait for this line.
  out(`GUI: ${address.url}`);
}

await runCommand('appliance', main);
