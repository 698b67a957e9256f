#!/usr/bin/env -S node --max-semi-space-size=4
// imapd [maildir]: IMAP on standard input and output, as Courier's imapd. Started from
// a shell (no AUTH* variables) it greets with PREAUTH; started by Courier's imaplogin
// (IMAPLOGINTAG set) it answers the client's LOGIN with "<tag> OK LOGIN Ok.". The
// MAILDIR environment variable wins over the argument.
//
// One process per connection: its young generation is kept at 4 MB semi-spaces instead of
// V8's 16. Measured with bench/memsteps.ts (run.ts's sessions) on a loaded 2-core machine:
// 18-29 MB less peak RSS at 10,000 messages (11 MB in session 2), 16 MB (55 in session 2) at
// 100,000, with no CPU difference beyond the noise. 2 MB semi-spaces cost 18-50 % more CPU
// in SEARCH TEXT at 100,000 (commit 80192d5); --optimize-for-size took 50-110 MB off but
// doubled the CPU of the first listing and of BODYSTRUCTURE at 100,000.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeSharedFullTextIndex, dotLocksReleased, openMaildirStore } from '../maildir/index.js';
import { startSession } from '../imap/session.js';
import { StallMonitor } from '../imap/stall.js';
import { ConfigError, DEBUG_FILE_MAX_BYTES, formatWarning, notHonoured, sessionSettingsFrom, settingsFromEnvironment } from '../config/index.js';
import { openDebugFile } from '../log/debug-file.js';
import type { Logger } from '../log/logger.js';
import type { MaildirStore } from '../maildir/index.js';
import { MailStoreError, type MailStore } from '../backend/mailstore.js';
import { SharedMailStore } from '../backend/shared.js';
import { SharableMailStore } from '../maildir/sharable-store.js';
import { DEFAULT_SYSTEM_FILE } from '../maildir/sharable.js';
import { courierFileIndex, sharedGroupOption } from '../accounts/courier-shared-index.js';

function fail(message: string): never {
  process.stderr.write(`imapd: ${message}\n`);
  process.exit(1);
}

const env = process.env;
const maildir = env.MAILDIR || process.argv[2] || './Maildir';
const root = path.resolve(maildir);
for (const sub of ['cur', 'new', 'tmp']) {
  if (!fs.existsSync(path.join(root, sub))) {
    fail(fs.existsSync(root) ? `${root} is not a Maildir (no ${sub}/ folder)` : `${root}: no such Maildir`);
  }
}

/** The longest imapd waits at exit for its own dot-locks to be let go (a look moving a large delivery). */
const EXIT_LOCK_WAIT_MS = 10_000;
const SANITY_ALERT = "Account's mailbox directory is not owned by the correct uid or gid";
const user = env.AUTHENTICATED || env.AUTHADDR || env.USER || os.userInfo().username;
const logger: Logger = {
  log(level, message, fields) {
    if (level === 'debug') return;
    const extra = fields ? ' ' + Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(' ') : '';
    process.stderr.write(`${level.toUpperCase()}: ${message}${extra}\n`);
  },
};

// The same schema as imapd-server's files: a value it refuses stops the start, naming the variable.
let loaded;
try {
  loaded = settingsFromEnvironment(env);
} catch (err) {
  if (err instanceof ConfigError) fail(`bad setting: ${err.message}`);
  throw err;
}
for (const warning of loaded.warnings) logger.log('warn', formatWarning(warning));

// Courier settings in the environment that this mode does not apply, reported as
// imapd-server reports them in its files (Courier's start scripts export all of them).
const ignored: string[] = [];
for (const [name, value] of Object.entries(env)) {
  // Read here (withSharedFolders below), unlike in imapd-server.
  if (name === 'IMAP_SHAREDINDEXFILE') continue;
  const found = value === undefined ? undefined : notHonoured(name, value);
  if (found?.kind === 'unsupported') process.stderr.write(`imapd: warning: environment: ${name}: ${found.message}\n`);
  else if (found) ignored.push(name);
}
if (ignored.length) process.stderr.write(`imapd: note: Courier settings with no effect here: ${ignored.sort().join(', ')}\n`);

/** IMAP_EMPTYTRASH as Courier's imapd reads it: unset, nothing is purged. */
const emptyTrash = env.IMAP_EMPTYTRASH === undefined ? [] : loaded.settings.emptyTrash;

// IMAP_MAILBOX_SANITY_CHECK: Courier refuses a mailbox not owned by the uid it runs as.
if (loaded.settings.mailboxSanityCheck && process.geteuid && fs.statSync(root).uid !== process.geteuid()) {
  process.stderr.write(`ERR: ${user}: ${SANITY_ALERT}\n`);
  process.stdout.write(`* BYE [ALERT] Fatal error: ${SANITY_ALERT}: \r\n`, () => process.exit(1));
  await new Promise(() => undefined);
}
// IMAP_UMASK applies to the whole process, as Courier's start script sets it for imapd.
if (loaded.settings.umask !== null) process.umask(loaded.settings.umask);
const imapdSettings = loaded.settings;
const settings = sessionSettingsFrom(loaded.settings);
const store = await openMaildirStore({
  root,
  useLocks: loaded.settings.useLocks,
  fullTextIndex: loaded.settings.ftsIndex,
  // Without IMAP_ENHANCEDIDLE changes are looked for every IMAP_IDLE_TIMEOUT seconds only.
  watch: settings.enhancedIdle,
  pollIntervalMs: settings.idleTimeout * 1000,
  keywords: settings.keywords,
  logger,
}).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));

/**
 * Courier's virtual shared folders ("#shared.OWNER.FOLDER"): with IMAP_SHAREDINDEXFILE (and
 * IMAP_ACL, which decides who may), other accounts' folders found through Courier's index
 * file, whose name gets the account's "sharedgroup" option appended as in Courier.
 */
async function withSharedFolders(own: MailStore): Promise<MailStore> {
  const file = env.IMAP_SHAREDINDEXFILE;
  const { useLocks, acl } = imapdSettings;
  if (!file || !acl) return own;
  const index = courierFileIndex({
    file: file + sharedGroupOption(env.OPTIONS),
    self: root,
    warn: (message) => process.stderr.write(`${message}\n`),
    open: async (maildir) => {
      if (!fs.existsSync(path.join(maildir, 'cur'))) return null;
      return openMaildirStore({ root: maildir, useLocks, watch: settings.enhancedIdle, pollIntervalMs: settings.idleTimeout * 1000, keywords: settings.keywords, logger });
    },
  });
  return new SharedMailStore(own, user, index);
}

/**
 * Courier's sharable Maildirs ("shared.NAME.FOLDER", maildir/sharable.ts): listed in the
 * Maildir's shared-maildirs and in the system file, Courier's /etc/courier/maildirshared
 * (compiled into Courier; IMAPD_MAILDIRSHARED names another, empty for none).
 */
function withSharableMaildirs(own: MaildirStore): MailStore {
  const systemFile = env.IMAPD_MAILDIRSHARED ?? DEFAULT_SYSTEM_FILE;
  const { useLocks } = imapdSettings;
  return new SharableMailStore(own, {
    root,
    systemFile: systemFile === '' ? null : systemFile,
    courierNamespace: true,
    open: (maildir, messageLinks) =>
      openMaildirStore({ root: maildir, useLocks, watch: settings.enhancedIdle, pollIntervalMs: settings.idleTimeout * 1000, keywords: settings.keywords, logger, messageLinks }),
  });
}

/** Courier purges the IMAP_EMPTYTRASH folders at login and at logout. */
async function purgeTrash(maildir: MaildirStore): Promise<void> {
  for (const { folder, days } of emptyTrash) {
    try {
      const purged = await maildir.purgeOldMessages(`INBOX.${folder}`, days);
      if (purged > 0) logger.log('info', 'purged old messages', { user, folder, days, count: purged });
    } catch (err) {
      // A folder that does not exist has nothing to purge.
      if (!(err instanceof MailStoreError)) logger.log('warn', 'cannot purge old messages', { user, folder, error: (err as Error).message });
    }
  }
}

process.chdir(root);
const loginTag = env.IMAPLOGINTAG;
logger.log('info', 'LOGIN', { user, ip: env.TCPREMOTEIP ?? 'stdin' });
// A client that closes its end early (EPIPE) just ends the session.
process.stdout.on('error', () => handle.disconnect(null));
// One client per process here, but a stall still shows in syslog (stderr under Courier).
const stalls = new StallMonitor({ logger });
stalls.start();
const sessionStore = await withSharedFolders(withSharableMaildirs(store));
const handle = startSession({
  transport: {
    input: process.stdin,
    output: process.stdout,
    remoteAddress: env.TCPREMOTEIP ?? 'stdin',
    remotePort: env.TCPREMOTEPORT,
    secure: true,
    close: () => {
      process.stdout.end();
    },
    reusesWrittenBuffers: true,
  },
  settings,
  logger,
  preauth: {
    user,
    store: sessionStore,
    loginTag,
    // The Outbox's sender, as Courier takes it (outbox.C defaultSendFrom); Courier's PREAUTH
    // imapd sets AUTHENTICATED to the name of the uid it runs as when it is unset.
    sender: env.AUTHADDR || env.AUTHENTICATED || (loginTag === undefined ? os.userInfo().username : null),
    // IMAPDEBUGFILE, relative to the Maildir as Courier's imapd (which runs in it) opens it.
    protocolLog: loaded.settings.debugFile
      ? openDebugFile(path.resolve(root, loaded.settings.debugFile), { maxBytes: DEBUG_FILE_MAX_BYTES, intro: `${new Date().toISOString()} LOGIN, user=${user}, ip=[${env.TCPREMOTEIP ?? 'stdin'}]` })
      : null,
  },
  stalls,
});
// After the greeting, so that a large Trash does not hold up the client.
const loginPurge = purgeTrash(store);
await loginPurge;
await handle.closed;
await purgeTrash(store);
stalls.stop();
await sessionStore.close(); // the sharable folders' stores too (saving their caches)
await store.close();
await closeSharedFullTextIndex();
logger.log('info', 'LOGOUT', { user });
// Let stdout drain and a look still under way (a watcher's, taking in a delivery) let go of
// courier.lock, then leave even if a watcher still holds the event loop.
process.stdout.write('', () => void dotLocksReleased(EXIT_LOCK_WAIT_MS).then(() => process.exit(0)));
