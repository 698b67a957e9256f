#!/usr/bin/env node
// imapd-accounts: manage the accounts of the IMAP server (the SQLite store in the data
// directory, or the store --accounts names), and copy them to PostgreSQL (migrate --to). Passwords are read without echo from a terminal, or from standard input
// when it is not a terminal (or with --password-stdin), never from the command line,
// where other users could see them in the process list.

import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { AccountError, type Account, type AccountStore } from '../accounts/store.js';
import { describeAccountsSetting, openAccountStore } from '../accounts/open-store.js';
import { SqlAccountStore } from '../accounts/sql-store.js';
import { courierSharedIndexText } from '../accounts/shared-index.js';
import { askHidden, passwordFromStdin } from './password-input.js';

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
  sharable USER [on|off|group=G]  show, or set, which sharable Maildirs (shared.NAME.FOLDER, read-only)
                                the account sees: off (the default) none; on those of the list file
                                IMAPD_MAILDIRSHARED; group=G those of that file's name with G appended
  address add USER ADDRESS      give an account a mail address for delivery (LMTP, imapd-deliver)
  address remove USER ADDRESS   take it away again
  address list USER             show an account's addresses
  migrate --to URL  copy every account, with its password, addresses, quota and usage, to the
                  store URL names (postgres://user:password@host/database), creating its tables;
                  accounts already there take the source's values, so running it again is safe

Options:
  --data DIR              data directory holding accounts.sqlite (required)
  --accounts VALUE        the store to use, as the ACCOUNTS setting: sqlite (default) or a
                          postgres:// or ldap:// URL (LDAP is read-only)
  --to URL                (migrate) the store to copy to
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

const cliFail = (message: string, exitCode: number) => new CliError(message, exitCode);

async function readNewPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) return passwordFromStdin(cliFail);
  const first = await askHidden('New password: ', cliFail);
  const second = await askHidden('Retype new password: ', cliFail);
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
      accounts: { type: 'string' },
      to: { type: 'string' },
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
  const open = () => openAccountStore(values.accounts ?? 'sqlite', resolve(values.data!));
  if (command === 'address') return addressCommand(open, positionals.slice(1));
  if (command === 'mailhost') return mailhostCommand(open, positionals.slice(1));
  if (command === 'sharable') return sharableCommand(open, positionals.slice(1));
  if (command === 'migrate') {
    if (!values.to) throw new UsageError('migrate needs --to URL');
    if (positionals.length > 1) throw new UsageError('too many arguments');
    return migrateCommand(open, values.to, resolve(values.data));
  }
  if (values.to) throw new UsageError('--to goes with migrate');
  const needsUser = ['add', 'passwd', 'remove', 'disable', 'enable'];
  const noUser = ['list', 'shared-index'];
  if (!needsUser.includes(command) && !noUser.includes(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  if (needsUser.includes(command) && user === undefined) throw new UsageError(`${command} needs a user name`);
  if (extra.length || (noUser.includes(command) && user !== undefined)) throw new UsageError('too many arguments');
  if (command !== 'add' && (values.maildir || values.quota || values['quota-messages'] || values.disabled)) {
    throw new UsageError('--maildir, --quota, --quota-messages and --disabled go with add');
  }

  const store = await open();
  try {
    switch (command) {
      case 'add': {
        const quotaBytes = parseQuota(values.quota, '--quota');
        const quotaMessages = values['quota-messages'] === undefined ? null : parseQuota(values['quota-messages'], '--quota-messages');
        if (await store.get(user!)) throw new AccountError('exists', `account ${JSON.stringify(user)} already exists`);
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
        if (!(await store.get(user!))) throw new AccountError('not-found', `no account ${JSON.stringify(user)}`);
        await store.setPassword(user!, await readNewPassword(Boolean(values['password-stdin'])));
        process.stdout.write(`password changed for ${(await store.get(user!))!.username}\n`);
        break;
      }
      case 'remove':
        await store.remove(user!);
        process.stdout.write(`removed ${user} (mail left on disk)\n`);
        break;
      case 'disable':
        await store.disable(user!);
        process.stdout.write(`disabled ${user}\n`);
        break;
      case 'enable':
        await store.enable(user!);
        process.stdout.write(`enabled ${user}\n`);
        break;
      case 'list':
        if (values.json) process.stdout.write(JSON.stringify(await store.list(), null, 2) + '\n');
        else printTable(await store.list());
        break;
      case 'shared-index':
        // MAILDIRPATH's default: the server's settings are not read here.
        process.stdout.write(courierSharedIndexText(await store.list(), (a) => a.maildir ?? join(a.home, 'Maildir')));
        break;
    }
  } finally {
    await store.close();
  }
  return 0;
}

/**
 * imapd-accounts migrate --to URL: copy everything, then read the target back and check that
 * every account is there with the same password hash and every address with its account.
 */
async function migrateCommand(openSource: () => Promise<AccountStore>, to: string, dataDir: string): Promise<number> {
  const source = await openSource();
  try {
    if (!(source instanceof SqlAccountStore)) throw new CliError('migrate copies from SQLite or PostgreSQL (LDAP keeps no password hashes to copy)');
    const target = await openAccountStore(to, dataDir);
    try {
      if (!(target instanceof SqlAccountStore)) throw new CliError('migrate copies to PostgreSQL or SQLite (LDAP is read-only)');
      if (target.location === source.location) throw new CliError('the source and the target are the same store');
      const dump = await source.dump();
      const r = await target.load(dump);
      const after = await target.dump();
      const there = new Map(after.accounts.map((a) => [a.username_key, a]));
      const missing = dump.accounts.filter((a) => there.get(a.username_key)?.password_hash !== a.password_hash).map((a) => a.username);
      const addresses = new Map(after.addresses.map((a) => [a.address_key, a.username_key]));
      const lost = dump.addresses.filter((a) => addresses.get(a.address_key) !== a.username_key && !r.addressConflicts.includes(a.address));
      process.stdout.write(
        `copied ${dump.accounts.length} account(s) from ${source.location} to ${describeAccountsSetting(to)}: ` +
          `${r.added} added, ${r.updated} updated, ${r.unchanged} already there; ${r.addressesAdded} address(es) added\n`,
      );
      for (const a of r.addressConflicts) process.stderr.write(`imapd-accounts: ${a} belongs to another account in the target; left as it is\n`);
      if (missing.length > 0 || lost.length > 0) {
        throw new CliError(`the copy is incomplete: ${[...missing, ...lost.map((a) => a.address)].join(', ')}`);
      }
      return r.addressConflicts.length > 0 ? 1 : 0;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** imapd-accounts mailhost USER [HOST|-] */
async function mailhostCommand(open: () => Promise<AccountStore>, args: string[]): Promise<number> {
  const [user, host, ...extra] = args;
  if (user === undefined) throw new UsageError('mailhost needs a user name');
  if (extra.length) throw new UsageError('too many arguments');
  const store = await open();
  try {
    const account = await store.get(user);
    if (!account) throw new AccountError('not-found', `no account ${JSON.stringify(user)}`);
    if (host === undefined) {
      process.stdout.write(`${account.mailhost ?? '-'}\n`);
      return 0;
    }
    await store.setMailhost(user, host === '-' ? null : host);
    const now = (await store.get(user))!;
    process.stdout.write(now.mailhost ? `${now.username}: mail on ${now.mailhost}\n` : `${now.username}: mail on this server\n`);
  } finally {
    await store.close();
  }
  return 0;
}

/** An account's sharable option as the command writes it. */
function sharableWord(value: string | null): string {
  return value === null ? 'off' : value === '' ? 'on' : `group=${value}`;
}

/** imapd-accounts sharable USER [on|off|group=G] */
async function sharableCommand(open: () => Promise<AccountStore>, args: string[]): Promise<number> {
  const [user, word, ...extra] = args;
  if (user === undefined) throw new UsageError('sharable needs a user name');
  if (extra.length) throw new UsageError('too many arguments');
  let value: string | null | undefined;
  if (word === 'on') value = '';
  else if (word === 'off') value = null;
  else if (word?.startsWith('group=') && word.length > 'group='.length) value = word.slice('group='.length);
  else if (word !== undefined) throw new UsageError('sharable takes on, off or group=G');
  const store = await open();
  try {
    const account = await store.get(user);
    if (!account) throw new AccountError('not-found', `no account ${JSON.stringify(user)}`);
    if (value !== undefined) await store.setSharable(user, value);
    const now = (await store.get(user))!;
    process.stdout.write(value === undefined ? `${sharableWord(now.sharable)}\n` : `${now.username}: sharable Maildirs ${sharableWord(now.sharable)}\n`);
  } finally {
    await store.close();
  }
  return 0;
}

/** imapd-accounts address add|remove|list USER [ADDRESS] */
async function addressCommand(open: () => Promise<AccountStore>, args: string[]): Promise<number> {
  const [action, user, address, ...extra] = args;
  if (action !== 'add' && action !== 'remove' && action !== 'list') throw new UsageError('address needs add, remove or list');
  if (user === undefined) throw new UsageError(`address ${action} needs a user name`);
  if (action !== 'list' && address === undefined) throw new UsageError(`address ${action} needs an address`);
  if (extra.length || (action === 'list' && address !== undefined)) throw new UsageError('too many arguments');
  const store = await open();
  try {
    if (action === 'add') process.stdout.write(`${await store.addAddress(user, address!)} now delivers to ${(await store.get(user))!.username}\n`);
    else if (action === 'remove') {
      await store.removeAddress(user, address!);
      process.stdout.write(`removed ${address} from ${(await store.get(user))!.username}\n`);
    } else for (const a of await store.addresses(user)) process.stdout.write(a + '\n');
  } finally {
    await store.close();
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
