// A private Postfix instance for tests: its own config_directory, queue_directory and
// data_directory under a temporary directory, started with `postfix -c DIR start`, fed with
// `sendmail` (MAIL_CONFIG=DIR) and stopped with `postfix -c DIR stop`. The system's
// /etc/postfix is never read for settings nor written. Only the services local delivery to
// LMTP needs are in master.cf (no smtpd: nothing listens), and mail for other domains fails
// at once (error transport) instead of trying the network.
//
// Postfix must be started by root (it drops to mail_owner itself); sendmail's postdrop is
// set-group-id, and as root it accepts a MAIL_CONFIG that the default main.cf does not list.

import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const POSTFIX = '/usr/sbin/postfix';
const SENDMAIL = '/usr/sbin/sendmail';

/** Why a private Postfix cannot run here, or false. */
export const postfixSkip: string | false = (() => {
  if (!fs.existsSync(POSTFIX)) return 'Postfix is not installed (test/peers/install.sh installs it)';
  if (process.getuid?.() !== 0) return 'a private Postfix instance must be started by root (postfix start is reserved for the super-user)';
  try {
    if (!execFileSync('readlink', ['-f', SENDMAIL], { encoding: 'utf8' }).includes('sendmail')) return 'sendmail is not Postfix\'s';
    execFileSync('id', ['postfix'], { stdio: 'ignore' });
  } catch {
    return 'the postfix user or Postfix\'s sendmail is missing';
  }
  return false;
})();

const MASTER_CF = `# service type private unpriv chroot wakeup maxproc command
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

export interface PrivatePostfix {
  configDir: string;
  hostname: string;
  /** sendmail -f sender recipients < message; resolves with its exit code. */
  sendmail(sender: string, recipients: string[], message: Buffer): Promise<number | null>;
  /** The instance's log so far. */
  log(): string;
  /** Resolves with the log once it has a line matching `pattern`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Start Postfix in `dir` (made readable by the postfix user), with local mail handed over
 * by local(8) to `mailboxTransport` (e.g. "lmtp:inet:127.0.0.1:2424").
 */
export async function startPostfix(dir: string, mailboxTransport: string, hostname = 'mx.lmtp-test'): Promise<PrivatePostfix> {
  const configDir = path.join(dir, 'etc');
  const queueDir = path.join(dir, 'spool');
  const dataDir = path.join(dir, 'lib');
  const logFile = path.join(dir, 'maillog');
  for (const d of [configDir, queueDir, dataDir]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  execFileSync('chown', ['postfix', dataDir]);
  fs.writeFileSync(path.join(configDir, 'main.cf'), [
    'compatibility_level = 3.6',
    `queue_directory = ${queueDir}`,
    `data_directory = ${dataDir}`,
    // postfix-files (the list of files `postfix check` looks at) comes with the package.
    'meta_directory = /etc/postfix',
    'mail_owner = postfix',
    'setgid_group = postdrop',
    `myhostname = ${hostname}`,
    'mydomain = lmtp-test',
    'myorigin = $myhostname',
    'mydestination = $myhostname, localhost',
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    // No /etc/aliases, and every name is a local recipient: our LMTP decides who exists.
    'alias_maps =',
    'alias_database =',
    'local_recipient_maps =',
    `mailbox_transport = ${mailboxTransport}`,
    'default_transport = error:no mail leaves this test instance',
    'relay_transport = error:no mail leaves this test instance',
    `maillog_file = ${logFile}`,
    `maillog_file_prefixes = ${dir}`,
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(configDir, 'master.cf'), MASTER_CF);
  await run(POSTFIX, ['-c', configDir, 'start']);
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  return {
    configDir,
    hostname,
    sendmail(sender, recipients, message) {
      return new Promise((resolve, reject) => {
        const child = spawn(SENDMAIL, ['-f', sender, '--', ...recipients], { env: { ...process.env, MAIL_CONFIG: configDir }, stdio: ['pipe', 'ignore', 'inherit'] });
        child.on('error', reject);
        child.on('close', resolve);
        child.stdin.end(message);
      });
    },
    log,
    async waitForLog(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = log();
        if (pattern.test(text)) return text;
        if (Date.now() > deadline) throw new Error(`no ${pattern} in the Postfix log:\n${text}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await run(POSTFIX, ['-c', configDir, 'stop']).catch(() => undefined);
    },
  };
}
