// Mail-source benchmark (issue 16): the first run of a source at a provider holding 10,000
// messages, target 300 messages per second. The provider is Dovecot (test/helpers/provider.ts)
// on loopback; its INBOX is filled with generated messages of 1 to 40 KB (mean about 10 KB,
// seeded) and indexed by a first STATUS before anything is timed.
//
//   npm run bench:fetch -- [--messages 10000] [--tls] [--skip-baselines]
//
// Three figures on the same provider:
//   ceiling   imapflow alone, UID FETCH 1:* BODY.PEEK[] into nothing: what the provider and
//             the connection give at most;
//   doveadm   Dovecot's own fetch (`doveadm import` over imapc of the provider account
//             into a fresh Maildir), where doveadm's imapc works here;
//   ours      FetchService.fetchNow on a new source into a new account (ledger, spool, Maildir
//             engine with its fsyncs), with the progress the GUI shows sampled meanwhile.
// Machine load (load average before and after, CPUs) is printed with them.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ImapFlow } from 'imapflow';
import { AccountAuthenticator, SqliteAccountStore } from '../server/accounts/index.js';
import { KeyFileSecretBox } from '../server/fetch/secrets.js';
import { FetchService } from '../server/fetch/service.js';
import { emptyMaildir } from '../test/helpers/maildir.js';
import { startProvider, type Provider } from '../test/helpers/provider.js';
import { BENCH_ROOT, Rng } from './corpus.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    tls: { type: 'boolean', default: false },
    'skip-baselines': { type: 'boolean', default: false },
  },
});
const COUNT = Number(args.messages);

function message(rng: Rng, i: number): Buffer {
  const size = 1024 + Math.floor(-Math.log(1 - rng.next() * 0.98) * 9000) % 40_000;
  const head = `From: "Sender ${i % 97}" <s${i % 97}@example.org>\r\nTo: alice@example.com\r\n` +
    `Subject: bench message ${i}\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench.${i}@example.org>\r\n\r\n`;
  let body = '';
  while (head.length + body.length < size) body += `line ${body.length} of message ${i} ${'abcdefghij'.repeat(5)}\r\n`;
  return Buffer.from(head + body);
}

function fill(provider: Provider, dir: string): number {
  const rng = new Rng(16);
  let bytes = 0;
  // Written straight into new/ (as provider.deliver does, without a stat per file), then handed to Dovecot's user.
  const owner = fs.statSync(provider.maildir);
  const stamp = Math.floor(Date.now() / 1000);
  for (let i = 1; i <= COUNT; i++) {
    const m = message(rng, i);
    bytes += m.length;
    fs.writeFileSync(path.join(provider.maildir, 'new', `${stamp}.M${String(i).padStart(6, '0')}P1.bench,S=${m.length}`), m);
  }
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, provider.maildir]);
  void dir;
  return bytes;
}

function client(provider: Provider): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1', port: args.tls ? provider.imapsPort! : provider.imapPort, secure: args.tls,
    doSTARTTLS: args.tls ? undefined : false, tls: { rejectUnauthorized: false },
    auth: { user: 'alice', pass: 'secret' }, logger: false, disableCompression: true,
  });
}

async function ceiling(provider: Provider): Promise<{ seconds: number; count: number }> {
  const c = client(provider);
  await c.connect();
  const lock = await c.getMailboxLock('INBOX');
  const t0 = performance.now();
  let count = 0;
  try {
    for await (const m of c.fetch('1:*', { uid: true, source: true })) if (m.source) count++;
  } finally {
    lock.release();
    await c.logout();
  }
  return { seconds: (performance.now() - t0) / 1000, count };
}

/**
 * doveadm import from the provider over imapc into a fresh Maildir (the provider's own Dovecot
 * configuration, for its userdb, with the mail location and imapc settings given on the
 * command line), or why it could not run.
 */
function doveadm(provider: Provider, dir: string): { seconds: number; count: number } | string {
  const target = emptyMaildir(path.join(dir, 'doveadm', 'Maildir'));
  const owner = fs.statSync(provider.maildir);
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, path.join(dir, 'doveadm')]);
  const conf = path.join(dir, 'provider-state', 'dovecot', 'dovecot.conf');
  const set = (k: string, v: string) => ['-o', `${k}=${v}`];
  const t0 = performance.now();
  try {
    execFileSync('doveadm', [
      '-c', conf, ...set('mail_location', `maildir:${target}`), ...set('mail_fsync', 'always'),
      ...set('imapc_host', '127.0.0.1'), ...set('imapc_port', String(provider.imapPort)), ...set('imapc_user', 'alice'),
      ...set('imapc_password', 'secret'), ...set('imapc_features', 'rfc822.size fetch-headers'),
      'import', '-u', 'alice', 'imapc:', '', 'all',
    ], { stdio: 'pipe', timeout: 600_000 });
  } catch (err) {
    return `doveadm import from imapc failed: ${String((err as { stderr?: Buffer }).stderr ?? err).split('\n').filter((l) => /Error|Fatal/.test(l)).slice(0, 2).join(' / ')}`;
  }
  const seconds = (performance.now() - t0) / 1000;
  const count = ['new', 'cur'].reduce((n, sub) => n + fs.readdirSync(path.join(target, sub)).length, 0);
  return { seconds, count };
}

async function ours(provider: Provider, dir: string): Promise<{ seconds: number; count: number; samples: string[] }> {
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { recursive: true });
  const accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'alice-password' });
  const authenticator = new AccountAuthenticator({
    accounts, logger: { log: () => undefined }, maildirPath: 'Maildir', useLocks: true, keywords: true,
    watch: false, pollIntervalMs: 60_000, trashFolder: 'Trash', failureDelayMs: 10,
  });
  const service = new FetchService({ dataDir: data, accounts, opener: () => authenticator, logger: { log: () => undefined }, secrets: await KeyFileSecretBox.open(data) });
  const source = service.add('alice', {
    kind: 'imap', host: '127.0.0.1', port: args.tls ? provider.imapsPort! : provider.imapPort, tls: args.tls ? 'implicit' : 'none',
    username: 'alice', folders: [{ remote: 'INBOX', local: 'INBOX' }], leaveOnServerDays: null, pollSeconds: 600,
    enabled: true, allowInvalidCertificate: true,
  }, 'secret');
  const samples: string[] = [];
  const t0 = performance.now();
  let lastSample = 0;
  const off = service.onChange((id) => {
    const now = performance.now();
    if (now - lastSample < 5000) return;
    lastSample = now;
    const s = service.get(id)!.status;
    samples.push(`${((now - t0) / 1000).toFixed(1)} s: ${s.fetchedTotal} fetched${s.progress ? ` (progress ${s.progress.done}/${s.progress.total})` : ''}`);
  });
  const result = (await service.fetchNow(source.id))!;
  const seconds = (performance.now() - t0) / 1000;
  off();
  if (result.status.lastError) throw new Error(`the run failed: ${result.status.lastError}`);
  await service.close();
  await authenticator.idle();
  accounts.close();
  const cur = path.join(data, 'mail', 'alice', 'Maildir', 'cur');
  return { seconds, count: fs.readdirSync(cur).length, samples };
}

const rate = (r: { seconds: number; count: number }) => `${r.count} messages in ${r.seconds.toFixed(2)} s: ${Math.round(r.count / r.seconds)} messages/s`;

async function main(): Promise<void> {
  const dir = path.join(BENCH_ROOT, `fetch-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  const provider = await startProvider(dir, { tls: args.tls });
  try {
    const bytes = fill(provider, dir);
    console.log(`provider: Dovecot, ${COUNT} messages, ${(bytes / 1048576).toFixed(1)} MB (mean ${Math.round(bytes / COUNT)} octets)${args.tls ? ', TLS' : ''}`);
    const warm = client(provider);
    await warm.connect();
    await warm.status('INBOX', { messages: true });
    await warm.logout();
    const load0 = os.loadavg();
    if (!args['skip-baselines']) {
      console.log(`ceiling (imapflow, UID FETCH 1:* BODY.PEEK[], nothing stored): ${rate(await ceiling(provider))}`);
      const d = args.tls ? 'not with --tls' : doveadm(provider, dir);
      console.log(`doveadm import from imapc (mail_fsync=always): ${typeof d === 'string' ? d : rate(d)}`);
    }
    const r = await ours(provider, dir);
    for (const s of r.samples) console.log(`  ${s}`);
    console.log(`ours (FetchService first run, fsynced, ledger): ${rate(r)} (target 300 messages/s)`);
    const load1 = os.loadavg();
    console.log(`machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${load0.map((l) => l.toFixed(2)).join(' ')} before, ${load1.map((l) => l.toFixed(2)).join(' ')} after`);
  } finally {
    provider.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
