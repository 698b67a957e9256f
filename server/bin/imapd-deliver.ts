#!/usr/bin/env node
// imapd-deliver: deliver one message from standard input to an account's INBOX, for mail
// transfer agents and scripts that pipe (Postfix's mailbox_command, procmail, fetchmail's
// --mda), as Dovecot's dovecot-lda and Courier's maildrop are used. The message goes through
// the same Maildir engine as everything else (tmp/, fsync, rename, UID, quota), so connected
// IMAP clients see it at once.
//
// Exit codes are sysexits.h, which MTAs understand: 0 delivered; 64 usage; 65 empty or too
// large message; 67 no such user; 73 the Maildir cannot be created or opened; 75 try again
// later (mailbox full with QUOTA_FULL_TEMPFAIL=1, disk full, local error); 77 refused for
// good (message larger than the quota, mailbox full with QUOTA_FULL_TEMPFAIL=0); 78 bad
// configuration.

import { parseArgs } from 'node:util';
import path from 'node:path';
import { AccountAuthenticator, openAccountStore, openerSettings, type AccountStore } from '../accounts/index.js';
import { ConfigError, loadSettings, settingsFromDocuments } from '../config/index.js';
import type { Logger } from '../log/logger.js';
import { Deliverer, EX, type Envelope } from '../delivery/deliverer.js';
import { SPOOL_DIR } from '../delivery/service.js';
import { MessageSpool } from '../delivery/spool.js';
import { ExitError } from './cli.js';

const USAGE = `Usage: imapd-deliver [--config DIR] [--data DIR] --user USER [-f SENDER] [-a ADDRESS] < message

  -d, --user USER      the account: its username or one of its addresses
  -f, --from SENDER    envelope sender, written as Return-Path (default: from a leading
                       "From " line, else none)
  -a, --address ADDR   the recipient address, written as Delivered-To (default: none)
  --config DIR         directory with the imapd file (MAILDIRPATH, LMTP_MAXMSGSIZE, ...)
  --data DIR           data directory with accounts.sqlite (default: IMAPD_DATADIR)
  --verbose            log the delivery on standard error
`;

/** An mbox "From " line is at most this long; longer first lines are message text. */
const MAX_FROM_LINE = 4096;


function stderrLogger(verbose: boolean): Logger {
  return {
    log(level, message, fields) {
      if (!verbose && level !== 'error') return;
      const extra = fields ? Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}=${String(v)}`).join('') : '';
      process.stderr.write(`imapd-deliver: ${level} ${message}${extra}\n`);
    },
  };
}

/**
 * Read standard input into the spool. A leading mbox "From sender date" line (what
 * procmail and some MTAs pass on) is not part of the message: it is dropped, and its
 * sender is returned.
 */
async function readMessage(spool: MessageSpool): Promise<{ fromLine: string | null }> {
  let head: Buffer | null = Buffer.alloc(0);
  let fromLine: string | null = null;
  for await (const piece of process.stdin) {
    let chunk = piece as Buffer;
    if (head !== null) {
      head = Buffer.concat([head, chunk]);
      const lf = head.indexOf(10);
      if (lf < 0 && head.length < MAX_FROM_LINE && head.subarray(0, 5).toString('latin1') === 'From '.slice(0, Math.min(5, head.length))) continue;
      if (head.subarray(0, 5).toString('latin1') === 'From ' && lf >= 0 && lf < MAX_FROM_LINE) {
        fromLine = head.subarray(5, lf).toString('utf8').replace(/\r$/, '');
        chunk = head.subarray(lf + 1);
      } else {
        chunk = head;
      }
      head = null;
    }
    await spool.write(chunk);
  }
  if (head !== null && head.length) await spool.write(head);
  await spool.end();
  return { fromLine };
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        user: { type: 'string', short: 'd' },
        from: { type: 'string', short: 'f' },
        address: { type: 'string', short: 'a' },
        config: { type: 'string' },
        data: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ExitError(`${(err as Error).message}\n\n${USAGE}`, EX.USAGE);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return EX.OK;
  }
  if (!values.user) throw new ExitError(`--user USER is required\n\n${USAGE}`, EX.USAGE);

  let loaded;
  try {
    loaded = values.config
      ? await loadSettings({ configDir: path.resolve(values.config) })
      : settingsFromDocuments({ imapd: null, 'imapd-ssl': null }, process.cwd());
  } catch (err) {
    if (err instanceof ConfigError) throw new ExitError(`configuration error: ${err.message}`, EX.CONFIG);
    throw err;
  }
  const settings = loaded.settings;
  const dataDir = values.data ? path.resolve(values.data) : settings.dataDir;
  if (!dataDir) throw new ExitError('no data directory: give --data DIR or set IMAPD_DATADIR', EX.CONFIG);

  const logger = stderrLogger(Boolean(values.verbose));
  let accounts: AccountStore;
  try {
    accounts = await openAccountStore(settings.accounts, dataDir);
  } catch (err) {
    throw new ExitError(`cannot open the account store in ${dataDir}: ${(err as Error).message}`, EX.TEMPFAIL);
  }
  const spool = new MessageSpool(path.join(dataDir, SPOOL_DIR), settings.lmtpMaxMessageSize);
  const opener = new AccountAuthenticator({
    accounts,
    logger,
    // One message and gone: nothing to watch.
    ...openerSettings(settings),
  });
  const deliverer = new Deliverer({ accounts, opener: () => opener, logger, quotaFullTempfail: settings.quotaFullTempfail });
  try {
    const found = await deliverer.resolve(values.user);
    if ('outcome' in found) throw new ExitError(found.outcome.message, found.outcome.exit);
    const { fromLine } = await readMessage(spool);
    if (spool.tooBig) throw new ExitError(`message too large: more than LMTP_MAXMSGSIZE (${settings.lmtpMaxMessageSize} bytes)`, EX.DATAERR);
    if (spool.size === 0) throw new ExitError('empty message on standard input', EX.DATAERR);
    const sender = values.from ?? (fromLine !== null ? (fromLine.split(/\s+/)[0] ?? '').replace(/^<(.*)>$/, '$1') : null);
    const envelope: Envelope = { sender: sender === 'MAILER-DAEMON' ? '' : sender };
    const outcome = await deliverer.deliver(spool, envelope, { ...found.recipient, address: values.address ?? null });
    if (outcome.code !== 250) throw new ExitError(outcome.message, outcome.exit);
    logger.log('info', outcome.message);
    return EX.OK;
  } finally {
    await spool.discard();
    await deliverer.close();
    await opener.idle();
    await accounts.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const code = err instanceof ExitError ? err.code : EX.TEMPFAIL;
  process.stderr.write(`imapd-deliver: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = code;
}
