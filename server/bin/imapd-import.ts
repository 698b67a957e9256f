#!/usr/bin/env node
// imapd-import: import an mbox file, another Maildir or a whole IMAP account into an account,
// with progress (counts and time left) on standard error. Resumable: run it again after a stop
// and it goes on where it was, never storing a message twice (see server/delivery/import.ts).
// The IMAP server's password comes from an environment variable or is asked for on the
// terminal, never from the command line (other users see the process list).
//
// Exit codes: 0 done; 1 failed (the message says why); 2 usage or configuration.

import { parseArgs } from 'node:util';
import path from 'node:path';
import { AccountAuthenticator, openAccountStore, openerSettings } from '../accounts/index.js';
import { ConfigError, loadSettings, settingsFromDocuments } from '../config/index.js';
import { ImportError, importMbox, type ImportProgress } from '../delivery/import.js';
import { importMaildir } from '../delivery/maildir-import.js';
import { importImap, parseImapUrl } from '../fetch/imap-import.js';
import { askHidden, passwordFromStdin } from './password-input.js';

const USAGE = `Usage: imapd-import --data DIR [--config DIR] --user USER SOURCE [--folder NAME]

Sources (one of):
  --mbox FILE      an mbox file, into one folder
  --maildir PATH   another Maildir (Courier's or Dovecot's) with its subfolders, flags and keywords
  --imap URL       a whole IMAP account: imaps://user@host[:port]/ (TLS), imap://user@host/
                   (STARTTLS), imap://user@host/;tls=none (no encryption: a test server only);
                   ?insecure=1 accepts a certificate that does not verify

  --user USER      the account (username or one of its addresses)
  --folder NAME    target folder below INBOX, e.g. Archive or Lists.node (default: INBOX itself);
                   created when missing; a Maildir's or server's other folders go below it
  --format F       (mbox) mboxrd (default: ">From " lines lose one ">") or mboxo (only ">From ")
  --password-env V (imap) the environment variable holding the password (default
                   IMAPD_IMPORT_PASSWORD); without it the password is asked for on the terminal,
                   or read from standard input when that is not a terminal
  --quiet          no progress lines
`;

class UsageError extends Error {}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

function describe(p: ImportProgress): string {
  const pct = p.messagesTotal !== null
    ? (p.messagesTotal ? Math.floor((100 * (p.imported + p.skipped)) / p.messagesTotal) : 100)
    : p.bytesTotal ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
  const where = p.folder !== null && p.foldersTotal > 1 ? ` (folder ${p.foldersDone + 1} of ${p.foldersTotal}: ${p.folder})` : '';
  return `${Math.min(pct, 100)}%: ${p.imported} imported, ${p.skipped} already there${p.remainingMs !== null ? `, about ${seconds(p.remainingMs)} left` : ''}${where}`;
}

async function imapPassword(variable: string): Promise<string> {
  const fromEnv = process.env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const fail = (message: string) => new ImportError(message);
  if (process.stdin.isTTY) return askHidden('Password at the IMAP server: ', fail);
  return passwordFromStdin(fail);
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
      maildir: { type: 'string' },
      imap: { type: 'string' },
      'password-env': { type: 'string' },
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
  const sources = [values.mbox, values.maildir, values.imap].filter((v) => v !== undefined).length;
  if (!values.user || sources !== 1) throw new UsageError('--user and one of --mbox, --maildir and --imap are required');
  const server = values.imap !== undefined ? parseImapUrl(values.imap) : null;
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
    ...openerSettings(settings),
  });
  try {
    const match = await accounts.findRecipient(values.user);
    if (!match) throw new ImportError(`no account ${JSON.stringify(values.user)}`);
    const store = await opener.openMailbox(match.account);
    try {
      const common = {
        dataDir,
        store,
        account: match.account.username,
        folder,
        ...(values.limit !== undefined ? { limit: Number(values.limit) } : {}),
        onProgress: values.quiet ? undefined : (p: ImportProgress) => process.stderr.write(`imapd-import: ${describe(p)}\n`),
      };
      const result = values.mbox !== undefined
        ? await importMbox({ ...common, file: path.resolve(values.mbox), format: (values.format as 'mboxrd' | 'mboxo' | undefined) ?? 'mboxrd' })
        : values.maildir !== undefined
          ? await importMaildir({ ...common, maildir: path.resolve(values.maildir) })
          : await importImap({ ...common, server: server!, password: await imapPassword(values['password-env'] ?? 'IMAPD_IMPORT_PASSWORD') });
      const what = result.foldersTotal > 1 ? `${folder} and ${result.foldersTotal - 1} folder(s) below it` : folder;
      const kept = result.uidsKept ? `; ${result.uidsKept} kept their UIDs` : '';
      process.stdout.write(`${what} of ${match.account.username}: ${result.imported} imported, ${result.skipped} already there${kept}, in ${seconds(result.elapsedMs)}\n`);
      for (const note of result.notes) process.stdout.write(`${note}\n`);
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
