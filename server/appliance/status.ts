// The appliance's status as the GUI shows it (ApplianceStatus of api.ts): the server's state,
// listeners, certificate, jobs, and the first steps a new user still has to take.

import type { Account } from '../accounts/index.js';
import { SERVER_VERSION } from '../imap/version.js';
import type { ApplianceStatus, JobView } from './api.js';
import type { ImapRunner } from './imap-runner.js';

export interface StatusSources {
  /** The accounts (none once the appliance has stopped). */
  accounts: readonly Account[];
  runner: ImapRunner;
  /** A configuration file that could not be read or applied (configuration.ts). */
  configProblem: string | null;
  dataDir: string;
  configDir: string;
  jobs: JobView[];
  adminPassword: boolean;
}

export function buildStatus(s: StatusSources): ApplianceStatus {
  const { accounts, runner } = s;
  const state = runner.state;
  const problem = runner.problem;
  const steps: string[] = [];
  if (state === 'error' && problem) steps.push(`Fix the problem in Settings: ${problem}`);
  if (accounts.length === 0) {
    steps.push('Add an account (Accounts screen): a username and a password for your mail program. Its Maildir is created for you.');
  } else if (!accounts.some((a) => a.lastLoginAt !== null)) {
    steps.push('Set up your mail program with the details on the "Connect a client" screen, and log in with the account\'s username and password.');
  }
  const tls = runner.tls;
  return {
    state,
    problem,
    configProblem: s.configProblem,
    version: SERVER_VERSION,
    dataDir: s.dataDir,
    configDir: s.configDir,
    startedAt: runner.startedAt,
    listeners: runner.endpoints().map((l) => ({ kind: l.kind, address: l.address, port: l.port, startTls: l.startTls })),
    lmtp: runner.lmtpEndpoints().map((l) => ({ address: l.address, port: l.port, socket: l.path })),
    sessions: runner.sessionCount(),
    accounts: accounts.length,
    tls: tls
      ? {
          fingerprint256: tls.fingerprint256,
          subject: tls.subject,
          validFrom: tls.validFrom.getTime(),
          validTo: tls.validTo.getTime(),
          source: tls.source,
          certFile: tls.certFile,
          warnings: [...tls.warnings],
        }
      : null,
    firstSteps: steps,
    jobs: s.jobs,
    stalls: runner.stalls,
    adminPassword: s.adminPassword,
  };
}
