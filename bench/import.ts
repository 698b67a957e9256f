// Import benchmark (issue 16): the first run of N messages (default 10,000 of 20 KB) from a
// local provider, a real Dovecot on loopback (test/helpers/provider.ts), imported over IMAP
// with imapflow into an account's Maildir (each message written to tmp/, fsynced, renamed,
// numbered); then the provider's Maildir itself imported with --maildir, and the same messages
// as an mbox file. The target: at least 300 messages a second for the first run.
//
//   npm run bench:import -- [--messages 10000] [--size 20480] [--skip-imap] [--fetch]
//
// --fetch also runs a mail source's first fetch (server/fetch/: the same groups and batches,
// through the Deliverer) on the same provider. Prints messages per second,
// this process's CPU time, and the machine's load average before and after each part.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AccountAuthenticator, SqliteAccountStore } from '../server/accounts/index.js';
import { importMbox, type ImportProgress } from '../server/delivery/import.js';
import { importMaildir } from '../server/delivery/maildir-import.js';
import { importImap } from '../server/fetch/imap-import.js';
import { KeyFileSecretBox } from '../server/fetch/secrets.js';
import { FetchService } from '../server/fetch/service.js';
import { startProvider } from '../test/helpers/provider.js';
import { tempDir } from '../test/helpers/maildir.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    size: { type: 'string', default: '20480' },
    'skip-imap': { type: 'boolean' },
    fetch: { type: 'boolean' },
  },
});
const COUNT = Number(values.messages);
const SIZE = Number(values.size);

function message(i: number): Buffer {
  const head = `From: "Sender ${i % 97}" <s${i % 97}@example.org>\r\nTo: alice@example.com\r\nSubject: bench message ${i}\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <bench${i}@example.org>\r\n\r\n`;
  const line = `line of message ${i} ${'x'.repeat(60)}\r\n`;
  return Buffer.from(head + line.repeat(Math.max(1, Math.ceil((SIZE - head.length) / line.length))));
}

const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' / ');

async function measure(what: string, run: () => Promise<ImportProgress | number>): Promise<void> {
  const loadBefore = load();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await run();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const n = typeof result === 'number' ? result : result.imported;
  console.log(`${what}: ${n} messages in ${seconds.toFixed(1)} s = ${(n / seconds).toFixed(0)} messages/s; ` +
    `CPU of this process ${((used.user + used.system) / 1e6).toFixed(1)} s (${((100 * (used.user + used.system)) / 1e6 / seconds).toFixed(0)}% of one core); ` +
    `load average (1/5/15 min) before ${loadBefore}, after ${load()}`);
}

const dir = tempDir('bench-import');
console.log(`${COUNT} messages of ${SIZE} octets; ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`);
const provider = await startProvider(dir);
const accounts = [] as SqliteAccountStore[];
try {
  // The provider's Maildir, written directly (delivery to it is not what is measured).
  const cur = path.join(provider.maildir, 'cur');
  const owner = fs.statSync(provider.maildir);
  for (let i = 0; i < COUNT; i++) {
    const file = path.join(cur, `1765000000.M${String(i).padStart(6, '0')}P1.bench:2,${i % 3 === 0 ? 'S' : ''}`);
    fs.writeFileSync(file, message(i));
    fs.chownSync(file, owner.uid, owner.gid);
  }
  const mbox = path.join(dir, 'bench.mbox');
  const out = fs.openSync(mbox, 'w');
  for (let i = 0; i < COUNT; i++) fs.writeSync(out, `From a@example.org Sun Dec  6 10:00:00 2026\n${message(i).toString('latin1').replace(/\r\n/g, '\n')}\n`, null, 'latin1');
  fs.closeSync(out);

  const fresh = async (name: string) => {
    const data = path.join(dir, name);
    const store = SqliteAccountStore.open(data);
    accounts.push(store);
    await store.add({ username: 'alice', password: 'alice-password' });
    const opener = new AccountAuthenticator({
      accounts: store, logger: { log: () => undefined }, maildirPath: 'Maildir', useLocks: true, keywords: true,
      watch: false, pollIntervalMs: 60_000, trashFolder: 'Trash',
    });
    return { data, store, opener, mailbox: await opener.openMailbox((await store.get('alice'))!) };
  };

  if (!values['skip-imap']) {
    const t = await fresh('imap');
    await measure('IMAP import from Dovecot (first run)', () => importImap({
      dataDir: t.data, store: t.mailbox, account: 'alice', folder: 'INBOX', password: 'secret',
      server: { host: '127.0.0.1', port: provider.imapPort, tls: 'none', username: 'alice', allowInvalidCertificate: false },
    }));
    await measure('IMAP import again (nothing new)', async () => {
      const p = await importImap({
        dataDir: t.data, store: t.mailbox, account: 'alice', folder: 'INBOX', password: 'secret',
        server: { host: '127.0.0.1', port: provider.imapPort, tls: 'none', username: 'alice', allowInvalidCertificate: false },
      });
      return p.skipped;
    });
    await t.mailbox.close();
  }
  {
    const t = await fresh('maildir');
    await measure('Maildir import (the provider\'s Maildir)', () => importMaildir({ dataDir: t.data, store: t.mailbox, account: 'alice', maildir: provider.maildir, folder: 'INBOX' }));
    await t.mailbox.close();
  }
  {
    const t = await fresh('mbox');
    await measure('mbox import', () => importMbox({ dataDir: t.data, store: t.mailbox, account: 'alice', file: mbox, folder: 'INBOX' }));
    await t.mailbox.close();
  }
  if (values.fetch) {
    const t = await fresh('fetch');
    const service = new FetchService({
      dataDir: t.data, accounts: t.store, opener: () => t.opener, logger: { log: () => undefined },
      secrets: await KeyFileSecretBox.open(t.data), backoff: { baseMs: 60_000, maxMs: 600_000 },
    });
    const source = service.add('alice', {
      kind: 'imap', host: '127.0.0.1', port: provider.imapPort, tls: 'none', username: 'alice', folders: [{ remote: 'INBOX', local: 'INBOX' }],
      leaveOnServerDays: null, pollSeconds: 3600, enabled: true, allowInvalidCertificate: false,
    }, 'secret');
    await measure('mail source, first fetch', async () => (await service.fetchNow(source.id))!.status.fetchedTotal);
    await service.close();
    await t.mailbox.close();
  }
} finally {
  for (const a of accounts) a.close();
  provider.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
