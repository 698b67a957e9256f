#!/usr/bin/env node
// imapd-accounts: manage the accounts of the IMAP server (the SQLite store in the data
// directory). Passwords are read without echo from a terminal, or from standard input
// when it is not a terminal (or with --password-stdin), never from the command line,
// where other users could see them in the process list.

import { parseArgs } from 'node:util';
import { StringDecoder } from 'node:string_decoder';
import { join, resolve } from 'node:path';
import { AccountError, AccountStore, type Account } from '../accounts/account-store.js';
import { courierSharedIndexText } from '../accounts/shared-index.js';

const USAGE = `Usage: imapd-accounts --data DIR COMMAND [USER] [options]

Commands:
  add USER        create an account (asks for the password)
  passwd USER     change an account's password
  remove USER     delete an account (its mail stays on disk)
  disable USER    refuse logins for an account
  enable USER     allow logins again
  list            show all accounts
  shared-index    print Courier's shared index (IMAP_SHAREDINDEXFILE) of the enabled accounts,
                  for a Courier server that takes the Maildirs over with their shared folders
  mailhost USER [HOST]          show, or set, the server the account's mail lives on (IMAP_PROXY=1
                                proxies its logins there): host[:port] or imaps://host[:port], several
                                separated by commas; "-" clears it (the mail is on this server)
  address add USER ADDRESS      give an account a mail address for delivery (LMTP, imapd-deliver)
  address remove USER ADDRESS   take it away again
  address list USER             show an account's addresses

Options:
  --data DIR              data directory holding accounts.sqlite (required)
  --maildir PATH          (add) the account's Maildir; default <home>/Maildir
  --quota BYTES           (add) storage quota, e.g. 500000000 or 500M; default none
  --quota-messages N      (add) message-count quota; default none
  --disabled              (add) create the account disabled
  --password-stdin        read the password from standard input (one line)
  --json                  (list) print JSON
  -h, --help              this text
`;

class UsageError extends Error {}
/** A failure that is not a usage mistake; exit code 1 unless said otherwise. */
class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

function parseQuota(text: string | undefined, what: string): number | null {
  if (text === undefined || text === 'none') return null;
  const m = /^(\d+)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${what}: expected a number of bytes such as 500000000 or 500M, got ${JSON.stringify(text)}`);
  const factor = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  const value = Number(m[1]) * factor;
  if (!Number.isSafeInteger(value)) throw new UsageError(`${what}: ${text} is too large`);
  return value;
}

/** Read all of standard input; the password is its first line without the line end. */
async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new CliError('standard input is too long for a password');
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (/[\r\n]/.test(text)) throw new CliError('the password on standard input must be a single line');
  return text;
}

/** Ask on the terminal with echo off (raw mode), handling backspace, Ctrl-C and Ctrl-D. */
function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // Echo goes off before the prompt appears, so that nothing typed after it is shown.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  return new Promise((resolvePassword, reject) => {
    const decoder = new StringDecoder('utf8');
    let value = '';
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolvePassword(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of decoder.write(chunk)) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\x03') return finish(new CliError('cancelled', 130));
        if (ch === '\x04' && value === '') return finish(new CliError('cancelled', 130));
        if (ch === '\x7f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.resume();
    stdin.on('data', onData);
  });
}

async function readNewPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) return passwordFromStdin();
  const first = await askHidden('New password: ');
  const second = await askHidden('Retype new password: ');
  if (first !== second) throw new CliError('the passwords do not match');
  return first;
}

function formatSize(bytes: number | null): string {
  if (bytes === null) return '-';
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  return `${value}${units[unit]}`;
}

function printTable(accounts: Account[]): void {
  const rows = [['USER', 'ENABLED', 'QUOTA', 'MESSAGES', 'LAST LOGIN', 'MAILDIR']];
  for (const a of accounts) {
    rows.push([
      a.username,
      a.enabled ? 'yes' : 'no',
      formatSize(a.quotaBytes),
      a.quotaMessages === null ? '-' : String(a.quotaMessages),
      a.lastLoginAt === null ? 'never' : `${new Date(a.lastLoginAt).toISOString().slice(0, 19).replace('T', ' ')} ${a.lastLoginAddress ?? ''}`.trim(),
      a.maildir ?? `${a.home}/(MAILDIRPATH)`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ') + '\n');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      maildir: { type: 'string' },
      quota: { type: 'string' },
      'quota-messages': { type: 'string' },
      disabled: { type: 'boolean' },
      'password-stdin': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [command, user, ...extra] = positionals;
  if (!command) throw new UsageError('no command given');
  if (!values.data) throw new UsageError('--data DIR is required');
  if (command === 'address') return addressCommand(resolve(values.data), positionals.slice(1));
  if (command === 'mailhost') return mailhostCommand(resolve(values.data), positionals.slice(1));
  const needsUser = ['add', 'passwd', 'remove', 'disable', 'enable'];
  const noUser = ['list', 'shared-index'];
  if (!needsUser.includes(command) && !noUser.includes(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  if (needsUser.includes(command) && user === undefined) throw new UsageError(`${command} needs a user name`);
  if (extra.length || (noUser.includes(command) && user !== undefined)) throw new UsageError('too many arguments');
  if (command !== 'add' && (values.maildir || values.quota || values['quota-messages'] || values.disabled)) {
    throw new UsageError('--maildir, --quota, --quota-messages and --disabled go with add');
  }

  const store = AccountStore.open(resolve(values.data));
  try {
    switch (command) {
      case 'add': {
        const quotaBytes = parseQuota(values.quota, '--quota');
        const quotaMessages = values['quota-messages'] === undefined ? null : parseQuota(values['quota-messages'], '--quota-messages');
        if (store.get(user!)) throw new AccountError('exists', `account ${JSON.stringify(user)} already exists`);
        const password = await readNewPassword(Boolean(values['password-stdin']));
        const account = await store.add({
          username: user!,
          password,
          maildir: values.maildir ? resolve(values.maildir) : null,
          quotaBytes,
          quotaMessages,
          enabled: !values.disabled,
        });
        process.stdout.write(`added ${account.username}: ${account.maildir ? `Maildir ${account.maildir}` : `home ${account.home}`}${account.enabled ? '' : ' (disabled)'}\n`);
        break;
      }
      case 'passwd': {
        if (!store.get(user!)) throw new AccountError('not-found', `no account ${JSON.stringify(user)}`);
        await store.setPassword(user!, await readNewPassword(Boolean(values['password-stdin'])));
        process.stdout.write(`password changed for ${store.get(user!)!.username}\n`);
        break;
      }
      case 'remove':
        store.remove(user!);
        process.stdout.write(`removed ${user} (mail left on disk)\n`);
        break;
      case 'disable':
        store.disable(user!);
        process.stdout.write(`disabled ${user}\n`);
        break;
      case 'enable':
        store.enable(user!);
        process.stdout.write(`enabled ${user}\n`);
        break;
      case 'list':
        if (values.json) process.stdout.write(JSON.stringify(store.list(), null, 2) + '\n');
        else printTable(store.list());
        break;
      case 'shared-index':
        // MAILDIRPATH's default: the server's settings are not read here.
        process.stdout.write(courierSharedIndexText(store.list(), (a) => a.maildir ?? join(a.home, 'Maildir')));
        break;
    }
  } finally {
    store.close();
  }
  return 0;
}

/** imapd-accounts mailhost USER [HOST|-] */
function mailhostCommand(dataDir: string, args: string[]): number {
  const [user, host, ...extra] = args;
  if (user === undefined) throw new UsageError('mailhost needs a user name');
  if (extra.length) throw new UsageError('too many arguments');
  const store = AccountStore.open(dataDir);
  try {
    const account = store.get(user);
    if (!account) throw new AccountError('not-found', `no account ${JSON.stringify(user)}`);
    if (host === undefined) {
      process.stdout.write(`${account.mailhost ?? '-'}\n`);
      return 0;
    }
    store.setMailhost(user, host === '-' ? null : host);
    const now = store.get(user)!;
    process.stdout.write(now.mailhost ? `${now.username}: mail on ${now.mailhost}\n` : `${now.username}: mail on this server\n`);
  } finally {
    store.close();
  }
  return 0;
}

/** imapd-accounts address add|remove|list USER [ADDRESS] */
function addressCommand(dataDir: string, args: string[]): number {
  const [action, user, address, ...extra] = args;
  if (action !== 'add' && action !== 'remove' && action !== 'list') throw new UsageError('address needs add, remove or list');
  if (user === undefined) throw new UsageError(`address ${action} needs a user name`);
  if (action !== 'list' && address === undefined) throw new UsageError(`address ${action} needs an address`);
  if (extra.length || (action === 'list' && address !== undefined)) throw new UsageError('too many arguments');
  const store = AccountStore.open(dataDir);
  try {
    if (action === 'add') process.stdout.write(`${store.addAddress(user, address!)} now delivers to ${store.get(user)!.username}\n`);
    else if (action === 'remove') {
      store.removeAddress(user, address!);
      process.stdout.write(`removed ${address} from ${store.get(user)!.username}\n`);
    } else for (const a of store.addresses(user)) process.stdout.write(a + '\n');
  } finally {
    store.close();
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`imapd-accounts: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (err instanceof AccountError || err instanceof CliError) {
    process.stderr.write(`imapd-accounts: ${err.message}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  } else {
    process.stderr.write(`imapd-accounts: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
