// The verified-login cache (issue 11): a repeated good login costs no scrypt run, a wrong
// password always costs one (and the failure delay), and a change to the account made by
// another process (the imapd-accounts command, or a second store on the same file) ends the
// cached login at once. Scrypt runs are counted, not timed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { LoginResult } from '../../server/imap/contracts.js';
import { AccountAuthenticator, SqliteAccountStore } from '../../server/accounts/index.js';
import { hashPassword, scryptPeakConcurrency, scryptRunCount } from '../../server/accounts/password.js';
import { ROOT } from '../helpers/imap-client.js';
import { tempDir } from '../helpers/maildir.js';

const ACCOUNTS_CLI = join(ROOT, 'dist/server/bin/imapd-accounts.js');
const PASSWORD = 'phone-password-5e1a';
const WRONG = 'not-the-password-77';
let data: string;
let accounts: SqliteAccountStore;

function authenticator(loginCacheTtlMs?: number) {
  return new AccountAuthenticator({
    accounts,
    logger: { log: () => undefined },
    maildirPath: 'Maildir',
    useLocks: true,
    keywords: true,
    watch: false,
    pollIntervalMs: 60_000,
    trashFolder: 'Trash',
    failureDelayMs: 30,
    ...(loginCacheTtlMs !== undefined ? { loginCacheTtlMs } : {}),
  });
}

/** Run imapd-accounts (from source, as cli.test.ts does) with a password on stdin. */
function accountsCommand(args: string[], stdin: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ACCOUNTS_CLI, ...args], { cwd: ROOT, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`imapd-accounts exited ${code}: ${stderr}`))));
    child.stdin.end(stdin);
  });
}

/** The login's result and how many scrypt runs it started. */
async function counted(p: () => Promise<LoginResult | null>): Promise<[LoginResult | null, number]> {
  const before = scryptRunCount();
  const result = await p();
  const runs = scryptRunCount() - before;
  await result?.store.close();
  return [result, runs];
}

before(async () => {
  data = tempDir('login-cache');
  accounts = SqliteAccountStore.open(data);
  for (const username of ['phone', 'other', 'gone', 'ttl', 'burst']) await accounts.add({ username, password: PASSWORD });
});
after(async () => {
  accounts.close();
  await fs.rm(data, { recursive: true, force: true });
});

test('a repeated good login is let in without scrypt; the name is compared without case', async () => {
  const auth = authenticator();
  const [first, firstRuns] = await counted(() => auth.login('phone', PASSWORD, '192.0.2.10'));
  assert.equal(first?.user, 'phone');
  assert.equal(firstRuns, 1);
  for (const name of ['phone', 'PHONE']) {
    const [again, runs] = await counted(() => auth.login(name, PASSWORD, '192.0.2.11'));
    assert.equal(again?.user, 'phone');
    assert.equal(runs, 0, `cached login as ${name} ran scrypt`);
  }
  await auth.idle();
});

test('a wrong password is never answered from the cache and never cached', async () => {
  const auth = authenticator();
  assert.ok((await counted(() => auth.login('other', PASSWORD, '192.0.2.20')))[0]);
  for (let i = 0; i < 2; i++) {
    const [result, runs] = await counted(() => auth.login('other', WRONG, '192.0.2.20'));
    assert.equal(result, null);
    assert.equal(runs, 1, 'a wrong password must cost the full hash every time');
  }
  // The failures were counted and delayed as without a cache.
  assert.equal(auth.failuresOf('192.0.2.20', 'other'), 2);
  // The good password still works, from the cache.
  const [ok, runs] = await counted(() => auth.login('other', PASSWORD, '192.0.2.21'));
  assert.ok(ok);
  assert.equal(runs, 0);
  await auth.idle();
});

test('a password changed by another process ends the cached login', async () => {
  const auth = authenticator();
  assert.ok((await counted(() => auth.login('phone', PASSWORD, '192.0.2.30')))[0]);
  assert.equal((await counted(() => auth.login('phone', PASSWORD, '192.0.2.30')))[1], 0);
  // imapd-accounts is a process of its own with its own connection to the SQLite file.
  await accountsCommand(['--data', data, 'passwd', 'phone', '--password-stdin'], 'a-new-password\n');
  const [old, oldRuns] = await counted(() => auth.login('phone', PASSWORD, '192.0.2.30'));
  assert.equal(old, null, 'the old password must no longer log in');
  assert.equal(oldRuns, 1);
  const [renewed, renewedRuns] = await counted(() => auth.login('phone', 'a-new-password', '192.0.2.31'));
  assert.equal(renewed?.user, 'phone');
  assert.equal(renewedRuns, 1);
  await auth.idle();
});

test('disable, enable, removal and re-adding by another store each need the full check again', async () => {
  const auth = authenticator();
  const elsewhere = SqliteAccountStore.open(data); // a second connection, as another process has
  try {
    assert.ok((await counted(() => auth.login('gone', PASSWORD, '192.0.2.40')))[0]);
    await elsewhere.disable('gone');
    assert.deepEqual(await counted(() => auth.login('gone', PASSWORD, '192.0.2.40')), [null, 1]);
    await elsewhere.enable('gone');
    const [enabled, enabledRuns] = await counted(() => auth.login('gone', PASSWORD, '192.0.2.41'));
    assert.ok(enabled);
    assert.equal(enabledRuns, 1);
    await elsewhere.remove('gone');
    assert.deepEqual(await counted(() => auth.login('gone', PASSWORD, '192.0.2.42')), [null, 1]);
    await elsewhere.add({ username: 'gone', password: PASSWORD });
    const [readded, readdedRuns] = await counted(() => auth.login('gone', PASSWORD, '192.0.2.43'));
    assert.ok(readded);
    assert.equal(readdedRuns, 1);
  } finally {
    elsewhere.close();
  }
  await auth.idle();
});

test('entries expire after the TTL; a TTL of 0 turns the cache off', async () => {
  // 500 ms: the second login must come within the TTL even when a loaded machine stalls the process.
  const short = authenticator(500);
  assert.equal((await counted(() => short.login('ttl', PASSWORD, '192.0.2.50')))[1], 1);
  assert.equal((await counted(() => short.login('ttl', PASSWORD, '192.0.2.50')))[1], 0);
  await new Promise((resolve) => setTimeout(resolve, 550));
  assert.equal((await counted(() => short.login('ttl', PASSWORD, '192.0.2.50')))[1], 1);
  const off = authenticator(0);
  for (let i = 0; i < 2; i++) assert.equal((await counted(() => off.login('ttl', PASSWORD, '192.0.2.51')))[1], 1);
  await short.idle();
  await off.idle();
});

test('logins of one user arriving together share one scrypt run; another password runs its own', async () => {
  // bench:stress with 50 clients: 50 LOGINs at once ran 50 hashes (32 MiB each), the last
  // answered after 25 s. The ones with the same password wait for the first one's answer.
  const auth = authenticator();
  const before = scryptRunCount();
  const attempts = Array.from({ length: 8 }, (_, i) => auth.login('burst', PASSWORD, `192.0.2.6${i}`));
  attempts.push(auth.login('burst', WRONG, '192.0.2.70'));
  const results = await Promise.all(attempts);
  assert.equal(scryptRunCount() - before, 2, 'one run for the good password, one for the wrong one');
  assert.deepEqual(results.map((r) => r?.user ?? null), [...Array(8).fill('burst'), null]);
  await Promise.all(results.map((r) => r?.store.close()));
  assert.equal(auth.failuresOf('192.0.2.70', 'burst'), 1);
  await auth.idle();
});

test('at most two scrypt runs at a time (32 MiB each; the thread pool stays free for file work)', async () => {
  await Promise.all(Array.from({ length: 6 }, (_, i) => hashPassword(`password-${i}`)));
  assert.ok(scryptPeakConcurrency() <= 2, `peak ${scryptPeakConcurrency()}`);
  assert.ok(scryptPeakConcurrency() >= 1);
});
