// The Overview's figures: the status plus what takes a moment to gather (mail counted over
// all accounts, the disk holding the Maildirs, failed logins of the last day) and the
// warnings a person should see first, in plain words.

import { promises as fs } from 'node:fs';
import type { AccountView, ApplianceStatus, DiskView, FailedLoginsView, OverviewView, OverviewWarning } from './api.js';

/** Warn when the certificate ends within this many days, or the disk has less than this free. */
export const CERT_WARN_DAYS = 30;
export const DISK_WARN_FRACTION = 0.05;

export async function diskOf(path: string): Promise<DiskView | null> {
  try {
    const s = await fs.statfs(path);
    return { path, totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  } catch {
    return null;
  }
}

export interface OverviewInput {
  status: ApplianceStatus;
  accounts: AccountView[];
  disk: DiskView | null;
  failedLogins: FailedLoginsView;
  /** Settings in the files that are not used (unknown or unsupported), as sentences. */
  settingWarnings: string[];
  /** Folders where watching failed and the server polls instead. */
  pollingFolders: string[];
  setupPort: number | null;
  announced: boolean;
  /** The DNS-SD instance name while announced. */
  announcedAs?: string | null;
  now?: number;
}

export function isNetwork(status: ApplianceStatus): boolean {
  return status.listeners.some((l) => l.address !== '127.0.0.1' && l.address !== '::1' && !l.address.startsWith('127.'));
}

export function buildOverview(input: OverviewInput): OverviewView {
  const { status } = input;
  const now = input.now ?? Date.now();
  const warnings: OverviewWarning[] = [];
  if (status.state === 'error' && status.problem) warnings.push({ kind: 'server', message: `The server is not running: ${status.problem}` });
  if (status.configProblem) warnings.push({ kind: 'config', message: status.configProblem });
  for (const w of input.settingWarnings) warnings.push({ kind: 'setting', message: `A setting is not used: ${w}` });
  if (input.pollingFolders.length > 0) {
    const shown = input.pollingFolders.slice(0, 5).join(', ');
    warnings.push({
      kind: 'polling',
      message: `${input.pollingFolders.length} folder${input.pollingFolders.length === 1 ? '' : 's'} cannot be watched for changes, so new mail there shows up late (checked now and then instead): ${shown}${input.pollingFolders.length > 5 ? ', ...' : ''}`,
    });
  }
  if (status.stalls.count > 0 && status.stalls.last) {
    const last = status.stalls.last;
    warnings.push({
      kind: 'stall',
      message: `The server was busy and every mail program waited ${status.stalls.count} time${status.stalls.count === 1 ? '' : 's'}; the last for ${last.ms} ms${last.commands.length ? ` during ${last.commands.join(', ')}` : ''}.`,
    });
  }
  if (status.tls) {
    const days = Math.floor((status.tls.validTo - now) / 86_400_000);
    if (days < 0) warnings.push({ kind: 'certificate', message: 'The certificate has expired: mail programs refuse to connect over TLS. Renew it (or delete the self-signed one in the data directory and restart).' });
    else if (days <= CERT_WARN_DAYS) warnings.push({ kind: 'certificate', message: `The certificate expires in ${days} day${days === 1 ? '' : 's'}.` });
  }
  if (input.disk && input.disk.totalBytes > 0 && input.disk.freeBytes / input.disk.totalBytes < DISK_WARN_FRACTION) {
    warnings.push({ kind: 'disk', message: `The disk holding the mail is nearly full (${Math.round((input.disk.freeBytes / input.disk.totalBytes) * 100)}% free): new mail may be refused.` });
  }
  let messages = 0;
  let mailBytes = 0;
  for (const a of input.accounts) {
    messages += a.usage?.messages ?? 0;
    mailBytes += a.usage?.bytes ?? 0;
  }
  return {
    status,
    network: isNetwork(status),
    messages,
    mailBytes,
    disk: input.disk,
    failedLogins: input.failedLogins,
    warnings,
    setupPort: input.setupPort,
    announced: input.announced,
    announcedAs: input.announced ? input.announcedAs ?? null : null,
  };
}
