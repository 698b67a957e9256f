// LOGIN against the account stores: SQLite (the data directory's file) and PostgreSQL (a
// private instance, test/peers/postgres-start.sh), through the authenticator the servers use,
// in process. Two figures per store: a login the login cache answers (the row is still read
// every time: what a phone reconnecting every minute costs) and a first login (scrypt).
//
//   npm run bench:accounts -- [--logins 500]
//
// Issue 17's target: LOGIN against PostgreSQL within 1.2x of SQLite's time.

import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AccountAuthenticator, PostgresAccountStore, SqliteAccountStore, type AccountStore } from '../server/accounts/index.js';
import { startPostgres } from '../test/helpers/account-peers.js';

const { values } = parseArgs({ options: { logins: { type: 'string', default: '500' } } });
const LOGINS = Number(values.logins);
const FIRST_LOGINS = 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measure(name: string, accounts: AccountStore, root: string): Promise<{ name: string; cached: number; first: number }> {
  for (let i = 0; i < FIRST_LOGINS; i++) await accounts.add({ username: `user${i}`, password: `password-${i}`, maildir: path.join(root, name, `user${i}`) });
  const auth = new AccountAuthenticator({
    accounts, logger: { log: () => undefined }, maildirPath: 'Maildir', useLocks: true, keywords: true,
    watch: false, pollIntervalMs: 60_000, trashFolder: 'Trash',
  });
  const first: number[] = [];
  for (let i = 0; i < FIRST_LOGINS; i++) {
    const t = performance.now();
    const r = await auth.login(`user${i}`, `password-${i}`, '127.0.0.1');
    first.push(performance.now() - t);
    await r?.store.close();
  }
  const cached: number[] = [];
  for (let i = 0; i < LOGINS; i++) {
    const t = performance.now();
    const r = await auth.login(`user${i % FIRST_LOGINS}`, `password-${i % FIRST_LOGINS}`, '127.0.0.1');
    cached.push(performance.now() - t);
    await r?.store.close();
  }
  await auth.idle();
  return { name, cached: median(cached), first: median(first) };
}

const root = await fs.mkdtemp(path.join(tmpdir(), 'imapd-bench-accounts-'));
const pg = await startPostgres();
try {
  const sqlite = SqliteAccountStore.open(path.join(root, 'data'));
  const postgres = await PostgresAccountStore.open(await pg.database(), path.join(root, 'data'));
  const rows = [await measure('sqlite', sqlite, root), await measure('postgres', postgres, root)];
  await Promise.all([sqlite.close(), postgres.close()]);
  const [s, p] = rows as [(typeof rows)[0], (typeof rows)[0]];
  process.stdout.write(`| store | LOGIN, cached (median of ${LOGINS}) | first LOGIN, scrypt (median of ${FIRST_LOGINS}) |\n|---|---|---|\n`);
  for (const r of rows) process.stdout.write(`| ${r.name} | ${r.cached.toFixed(2)} ms | ${r.first.toFixed(1)} ms |\n`);
  process.stdout.write(`\nPostgreSQL / SQLite: ${(p.cached / s.cached).toFixed(2)}x cached, ${(p.first / s.first).toFixed(2)}x first\n`);
} finally {
  await pg.stop();
  await fs.rm(root, { recursive: true, force: true });
}
