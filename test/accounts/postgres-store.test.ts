// The PostgreSQL account store against a real PostgreSQL (Debian's package, a private instance
// on a free port): the same behaviour as SQLite's, the same migrations, the login cache across
// two store objects (as two servers have), and `imapd-accounts migrate --to` copying a SQLite
// store without losing anything, twice.
import { verifiedAccount } from '../../server/accounts/index.js';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/root.js';
import pg from 'pg';
import {
  AccountAuthenticator,
  AccountError,
  POSTGRES_SCHEMA_VERSION,
  PostgresAccountStore,
  SCHEMA_VERSION,
  SqliteAccountStore,
  openAccountStore,
  testAccountStore,
} from '../../server/accounts/index.js';
import { scryptRunCount } from '../../server/accounts/password.js';
import { postgresSkip, startPostgres, type PostgresPeer } from '../helpers/account-peers.js';

const repo = ROOT;
let peer: PostgresPeer;
let root: string;

function isAccountError(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof AccountError, String(err));
    assert.equal(err.code, code);
    return true;
  };
}

function accountsCli(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [join(repo, 'dist/server/bin/imapd-accounts.js'), ...args], { cwd: repo });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('PostgreSQL account store', { skip: postgresSkip }, () => {
  before(async () => {
    peer = await startPostgres();
    root = await fs.mkdtemp(join(tmpdir(), 'imapd-pgstore-'));
  });
  after(async () => {
    await peer?.stop();
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  test('a new database gets the same schema version as SQLite; opening again (twice at once) changes nothing', async () => {
    const url = await peer.database();
    assert.equal(POSTGRES_SCHEMA_VERSION, SCHEMA_VERSION);
    const [a, b] = await Promise.all([PostgresAccountStore.open(url, root), PostgresAccountStore.open(url, root)]);
    try {
      assert.equal(await a.schemaVersion(), SCHEMA_VERSION);
      assert.equal(await b.schemaVersion(), SCHEMA_VERSION);
      assert.deepEqual(await a.list(), []);
      assert.equal(a.kind, 'postgres');
      assert.doesNotMatch(a.location, /secret/, 'the password is not shown');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    // A schema newer than this program is left alone.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('UPDATE imapd_schema SET version = 99');
    await client.end();
    await assert.rejects(PostgresAccountStore.open(url, root), isAccountError('newer-schema'));
  });

  test('add, verify, password, disable, enable, quota, login and usage, remove: as with SQLite', async () => {
    const store = await openAccountStore(await peer.database(), root);
    try {
      const alice = await store.add({ username: 'Alice', password: 'correct horse', quotaBytes: 1_000_000, quotaMessages: 100 });
      assert.equal(alice.home, join(root, 'mail', 'alice'));
      assert.equal(typeof alice.createdAt, 'number', 'BIGINT columns come back as numbers');
      assert.equal((await verifiedAccount(store, 'ALICE', 'correct horse'))?.id, alice.id);
      assert.equal(await verifiedAccount(store, 'alice', 'Correct horse'), null);
      await assert.rejects(store.add({ username: 'aLiCe', password: 'x' }), isAccountError('exists'));
      await store.setPassword('alice', 'battery staple');
      assert.equal(await verifiedAccount(store, 'alice', 'correct horse'), null);
      assert.ok(await verifiedAccount(store, 'alice', 'battery staple'));
      await store.disable('Alice');
      assert.equal((await store.check('alice', 'battery staple')).result, 'disabled');
      await store.enable('alice');
      await store.setQuota('alice', { bytes: 5_000_000 });
      await store.recordLogin('alice', '192.0.2.7', 1234);
      await store.recordLogin('alice', '192.0.2.9', 1000); // an older login whose write came late: not recorded over the newer
      await store.recordUsage('alice', { bytes: 5000, messages: 3 }, 5678);
      const seen = (await store.get('alice'))!;
      assert.deepEqual([seen.quotaBytes, seen.quotaMessages, seen.lastLoginAt, seen.lastLoginAddress], [5_000_000, 100, 1234, '192.0.2.7']);
      assert.deepEqual(seen.usage, { bytes: 5000, messages: 3, updatedAt: 5678 });
      const injection = "x'); DROP TABLE accounts; --";
      await store.add({ username: injection, password: 'pw2' });
      assert.ok(await verifiedAccount(store, injection, 'pw2'));
      assert.equal(await verifiedAccount(store, "alice' OR '1'='1", 'battery staple'), null);
      await store.remove('ALICE');
      assert.equal(await store.get('alice'), null);
      await assert.rejects(store.remove('alice'), isAccountError('not-found'));
      assert.deepEqual((await store.list()).map((a) => a.username), [injection]);
    } finally {
      await store.close();
    }
  });

  test('addresses and delivery lookup', async () => {
    const store = await openAccountStore(await peer.database(), root);
    try {
      await store.add({ username: 'alice', password: 'pw' });
      await store.add({ username: 'bob@example.org', password: 'pw' });
      assert.equal(await store.addAddress('alice', 'Alice.Smith@Example.org'), 'Alice.Smith@Example.org');
      await assert.rejects(store.addAddress('bob@example.org', 'alice.smith@example.ORG'), isAccountError('exists'));
      await assert.rejects(store.addAddress('alice', 'BOB@example.org'), isAccountError('exists'));
      const found = async (address: string) => {
        const m = await store.findRecipient(address);
        return m ? `${m.account.username} ${m.via}` : null;
      };
      assert.equal(await found('alice.smith+news@EXAMPLE.org'), 'alice address');
      assert.equal(await found('bob+x@example.org'), 'bob@example.org username');
      assert.equal(await found('alice@mx.home'), 'alice local-part');
      assert.equal(await found('carol@example.org'), null);
      assert.deepEqual(await store.addresses('alice'), ['Alice.Smith@Example.org']);
      await store.remove('alice');
      assert.equal(await found('alice.smith@example.org'), null, 'the addresses go with their account');
    } finally {
      await store.close();
    }
  });

  test('two servers on one database: the login cache sees a change made through the other', async () => {
    const url = await peer.database();
    const [one, two] = [await PostgresAccountStore.open(url, root), await PostgresAccountStore.open(url, root)];
    try {
      await one.add({ username: 'phone', password: 'first-password', maildir: join(root, 'phone', 'Maildir') });
      const auth = new AccountAuthenticator({
        accounts: one, logger: { log: () => undefined }, maildirPath: 'Maildir', useLocks: false, keywords: true,
        watch: false, pollIntervalMs: 60_000, trashFolder: 'Trash', failureDelayMs: 5,
      });
      assert.equal((await auth.login('phone', 'first-password', '192.0.2.1'))?.user, 'phone');
      const runs = scryptRunCount();
      const again = await auth.login('phone', 'first-password', '192.0.2.1');
      assert.equal(again?.user, 'phone');
      assert.equal(scryptRunCount(), runs, 'the second login is answered from the cache');
      await again?.store.close();
      await two.setPassword('phone', 'second-password');
      assert.equal(await auth.login('phone', 'first-password', '192.0.2.2'), null, 'the old password no longer logs in');
      const renewed = await auth.login('phone', 'second-password', '192.0.2.3');
      assert.equal(renewed?.user, 'phone');
      await renewed?.store.close();
      // The last login is written after the login is answered (the session does not wait for it).
      let seen: string | null | undefined;
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
        seen = (await two.get('phone'))?.lastLoginAddress;
        if (seen === '192.0.2.3') break;
      }
      assert.equal(seen, '192.0.2.3', 'recorded where both see it');
      await auth.idle();
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('imapd-accounts migrate --to copies every account, address, quota and usage; again changes nothing', async () => {
    const data = await fs.mkdtemp(join(root, 'migrate-'));
    const sqlite = SqliteAccountStore.open(data);
    const names = Array.from({ length: 25 }, (_, i) => `user${i}`);
    for (const name of names) await sqlite.add({ username: name, password: `pw-${name}`, quotaBytes: name === 'user3' ? 1000 : null });
    await sqlite.add({ username: 'Ünïcode Name', password: 'pw-u', maildir: '/srv/mail/u/Maildir', enabled: false });
    await sqlite.addAddress('user1', 'one@example.org');
    await sqlite.addAddress('user1', 'uno@example.org');
    await sqlite.recordUsage('user2', { bytes: 42, messages: 2 }, 99);
    await sqlite.recordLogin('user4', '198.51.100.4', 77);
    const before = await sqlite.dump();
    await sqlite.close();

    const url = await peer.database();
    const first = await accountsCli(['--data', data, 'migrate', '--to', url]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /copied 26 account\(s\) .* 26 added, 0 updated, 0 already there; 2 address\(es\) added/);
    assert.doesNotMatch(first.stdout, /secret/, 'the password of the URL is not printed');
    const second = await accountsCli(['--data', data, 'migrate', '--to', url]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /0 added, 0 updated, 26 already there; 0 address\(es\) added/);

    const target = await PostgresAccountStore.open(url, data);
    try {
      const after = await target.dump();
      assert.deepEqual(after, before, 'every column of every account and address, as in SQLite');
      assert.ok(await verifiedAccount(target, 'user7', 'pw-user7'), 'the password hashes work there');
      assert.equal((await target.findRecipient('uno@example.org'))?.account.username, 'user1');
      assert.equal((await target.get('ünïcode name'))?.enabled, false);
    } finally {
      await target.close();
    }
    // The CLI then works on the PostgreSQL store with --accounts.
    const listed = await accountsCli(['--data', data, '--accounts', url, 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal((JSON.parse(listed.stdout) as unknown[]).length, 26);
  });

  test('"test connection": a count when it answers, the reason when not', async () => {
    const url = await peer.database();
    const ok = await testAccountStore(url, root);
    assert.equal(ok.ok, true, ok.message);
    assert.equal(ok.accounts, 0);
    assert.match(ok.message, /^Connected to postgres:\/\/imapd:\*\*\*@127\.0\.0\.1:\d+\/t\d+_\d+: 0 accounts\.$/);
    const wrong = await testAccountStore(url.replace(':secret@', ':wrong@'), root);
    assert.equal(wrong.ok, false);
    assert.match(wrong.message, /password authentication failed/);
    assert.doesNotMatch(wrong.message, /wrong/);
    const bad = await testAccountStore('mysql://x', root);
    assert.equal(bad.ok, false);
    assert.match(bad.message, /^ACCOUNTS: expected sqlite/);
  });
});

