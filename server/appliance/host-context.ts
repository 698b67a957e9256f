// What the parts of the appliance host (configuration, IMAP runner, accounts, index jobs)
// share: the data directory, the account store, the log and the event stream. The host
// (host.ts) provides it; the parts never hold the host itself.

import { promises as fs } from 'node:fs';
import type { AccountStore } from '../accounts/index.js';
import type { Logger } from '../imap/contracts.js';
import type { ApplianceEvent, LogLevel } from './api.js';
import type { LogFields } from './log.js';

export interface HostContext {
  readonly dataDir: string;
  readonly configDir: string;
  readonly accounts: AccountStore;
  /** A line of the appliance's own, for the log view (and the logger given to the host). */
  record(level: LogLevel, account: string | null, message: string, fields?: LogFields): void;
  /** The logger handed to the IMAP server, the authenticator and the Maildir engine. */
  serverLogger(): Logger;
  emit(event: ApplianceEvent): void;
  /** Send the status again (something it shows has changed). */
  emitStatus(): void;
  /** True once stop() has begun. */
  closed(): boolean;
}

/** Values compared the way settings are: by their JSON form (arrays of ports, objects). */
export function settingsEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A directory that can be seen (any error, such as no permission, counts as no). */
export async function isDirectory(path: string): Promise<boolean> {
  return fs.stat(path).then((s) => s.isDirectory(), () => false);
}
