#!/usr/bin/env node
// imapd-import: import an mbox file into a folder of an account, with progress (counts and
// time left) on standard error. Resumable: run it again after a stop and it goes on where it
// was, never storing a message twice (see server/delivery/import.ts).
//
// Exit codes: 0 done; 1 failed (the message says why); 2 usage or configuration.

import { parseArgs } from 'node:util';
import path from 'node:path';
import { AccountAuthenticator, openAccountStore } from '../accounts/index.js';
import { ConfigError, loadSettings, settingsFromDocuments } from '../config/index.js';
import { ImportError, importMbox, type ImportProgress } from '../delivery/import.js';

const USAGE = `Usage: imapd-import --data DIR [--config DIR] --user USER --mbox FILE [--folder NAME] [--format mboxrd|mboxo]

  --user USER      the account (username or one of its addresses)
  --mbox FILE      the mbox file to import
  --folder NAME    target folder below INBOX, e.g. Archive or Lists.node (default: INBOX itself);
                   created when missing
  --format F       mboxrd (default: ">From " lines lose one ">") or mboxo (only ">From ")
  --quiet          no progress lines
`;

class UsageError extends Error {}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

function describe(p: ImportProgress): string {
  const pct = p.bytesTotal ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
  return `${pct}%: ${p.imported} imported, ${p.skipped} already there${p.remainingMs !== null ? `, about ${seconds(p.remainingMs)} left` : ''}`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      config: { type: 'string' },
      user: { type: 'string' },
      mbox: { type: 'string' },
      folder: { type: 'string' },
      format: { type: 'string' },
      limit: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError('unexpected arguments');
  if (!values.user || !values.mbox) throw new UsageError('--user and --mbox are required');
  if (values.format !== undefined && values.format !== 'mboxrd' && values.format !== 'mboxo') throw new UsageError('--format is mboxrd or mboxo');
  const loaded = values.config ? await loadSettings({ configDir: path.resolve(values.config) }) : settingsFromDocuments({ imapd: null, 'imapd-ssl': null }, process.cwd());
  const settings = loaded.settings;
  const dataDir = values.data ? path.resolve(values.data) : settings.dataDir;
  if (!dataDir) throw new UsageError('no data directory: give --data DIR or set IMAPD_DATADIR');
  const folder = values.folder ? `INBOX.${values.folder.replace(/^INBOX\./i, '')}` : 'INBOX';

  const accounts = await openAccountStore(settings.accounts, dataDir);
  const opener = new AccountAuthenticator({
    accounts,
    logger: { log: (level, message) => void (level === 'error' && process.stderr.write(`imapd-import: ${message}\n`)) },
    maildirPath: settings.maildirPath,
    mkhomedirSkel: settings.mkhomedirSkel,
    useLocks: settings.useLocks,
    keywords: settings.keywords !== 0,
    watch: false,
    pollIntervalMs: settings.idleTimeout * 1000,
    trashFolder: settings.trashFolder,
  });
  try {
    const match = await accounts.findRecipient(values.user);
    if (!match) throw new ImportError(`no account ${JSON.stringify(values.user)}`);
    const store = await opener.openMailbox(match.account);
    try {
      const result = await importMbox({
        dataDir,
        store,
        account: match.account.username,
        file: path.resolve(values.mbox),
        folder,
        format: (values.format as 'mboxrd' | 'mboxo' | undefined) ?? 'mboxrd',
        ...(values.limit !== undefined ? { limit: Number(values.limit) } : {}),
        onProgress: values.quiet ? undefined : (p) => process.stderr.write(`imapd-import: ${describe(p)}\n`),
      });
      process.stdout.write(`${folder} of ${match.account.username}: ${result.imported} imported, ${result.skipped} already there, in ${seconds(result.elapsedMs)}\n`);
    } finally {
      await store.close();
    }
  } finally {
    await opener.idle();
    await accounts.close();
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`imapd-import: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`imapd-import: ${err instanceof ConfigError ? 'configuration error: ' : ''}${(err as Error).message}\n`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  }
}
