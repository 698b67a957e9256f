import { verifiedAccount } from '../../server/accounts/index.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  ACCOUNTS_FILE,
  AccountError,
  SqliteAccountStore,
  SCHEMA_VERSION,
  hashPassword,
  homeDirectoryName,
  migrate,
  verifyPassword,
  type AccountEvent,
} from '../../server/accounts/index.js';

let root: string;
let n = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'imapd-accounts-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});
const freshDir = () => join(root, `d${++n}`);

function isAccountError(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof AccountError, String(err));
    assert.equal(err.code, code);
    return true;
  };
}

test('a new store: file created private, schema migrated from nothing', async () => {
  const dir = freshDir();
  const store = SqliteAccountStore.open(dir);
  try {
    assert.equal(await store.schemaVersion(), SCHEMA_VERSION);
    assert.equal((await fs.stat(join(dir, ACCOUNTS_FILE))).mode & 0o777, 0o600);
    assert.equal((await fs.stat(dir)).mode & 0o777, 0o700);
    assert.deepEqual(await store.list(), []);
  } finally {
    store.close();
  }
  // Opening again changes nothing.
  const again = SqliteAccountStore.open(dir);
  assert.equal(await again.schemaVersion(), SCHEMA_VERSION);
  again.close();
});

test('add, verify, change password, disable, enable, remove', async () => {
  const dir = freshDir();
  const store = SqliteAccountStore.open(dir);
  const events: AccountEvent[] = [];
  store.onChange((e) => events.push(e));
  try {
    const alice = await store.add({ username: 'Alice', password: 'correct horse', quotaBytes: 1_000_000, quotaMessages: 100 });
    assert.equal(alice.username, 'Alice');
    assert.equal(alice.home, join(dir, 'mail', 'alice'));
    assert.equal(alice.maildir, null);
    assert.equal(alice.quotaBytes, 1_000_000);
    assert.equal(alice.enabled, true);
    assert.equal(alice.lastLoginAt, null);

    // Case-insensitive names, the display form kept.
    assert.equal((await verifiedAccount(store, 'alice', 'correct horse'))?.username, 'Alice');
    assert.equal((await verifiedAccount(store, 'ALICE', 'correct horse'))?.id, alice.id);
    assert.equal(await verifiedAccount(store, 'alice', 'Correct horse'), null);
    assert.equal(await verifiedAccount(store, 'bob', 'correct horse'), null);
    await assert.rejects(store.add({ username: 'aLiCe', password: 'x' }), isAccountError('exists'));

    await store.setPassword('alice', 'battery staple');
    assert.equal(await verifiedAccount(store, 'alice', 'correct horse'), null);
    assert.ok(await verifiedAccount(store, 'alice', 'battery staple'));

    await store.disable('Alice');
    assert.equal((await store.get('alice'))?.enabled, false);
    assert.equal(await verifiedAccount(store, 'alice', 'battery staple'), null);
    assert.equal((await store.check('alice', 'battery staple')).result, 'disabled');
    await store.enable('alice');
    assert.ok(await verifiedAccount(store, 'alice', 'battery staple'));

    await store.recordLogin('alice', '192.0.2.7', 1234);
    await store.recordLogin('alice', '192.0.2.9', 1000); // an older login whose write came late: not recorded over the newer
    await store.recordUsage('alice', { bytes: 5000, messages: 3 }, 5678);
    const seen = (await store.get('alice'))!;
    assert.equal(seen.lastLoginAt, 1234);
    assert.equal(seen.lastLoginAddress, '192.0.2.7');
    assert.deepEqual(seen.usage, { bytes: 5000, messages: 3, updatedAt: 5678 });

    await store.add({ username: 'bob', password: 'pw', maildir: '/srv/mail/bob/Maildir', enabled: false });
    assert.deepEqual((await store.list()).map((a) => [a.username, a.enabled, a.maildir]), [
      ['Alice', true, null],
      ['bob', false, '/srv/mail/bob/Maildir'],
    ]);

    await store.remove('ALICE');
    assert.equal(await store.get('alice'), null);
    await assert.rejects(store.remove('alice'), isAccountError('not-found'));
    await assert.rejects(store.setPassword('nobody', 'x'), isAccountError('not-found'));
    assert.deepEqual((await store.list()).map((a) => a.username), ['bob']);

    assert.deepEqual(events.map((e) => `${e.type}:${e.username}`), [
      'added:Alice', 'updated:alice', 'updated:Alice', 'updated:alice', 'login:alice', 'usage:alice', 'added:bob', 'removed:ALICE',
    ]);
  } finally {
    store.close();
  }
});

test('hashes are scrypt with parameters, salted, and no plain password reaches the file', async () => {
  const dir = freshDir();
  const store = SqliteAccountStore.open(dir);
  const password = 'unique-plaintext-7f3a9c';
  await store.add({ username: 'u1', password });
  await store.add({ username: 'u2', password });
  store.close();
  const db = new Database(join(dir, ACCOUNTS_FILE), { readonly: true });
  const hashes = db.prepare('SELECT password_hash FROM accounts ORDER BY id').pluck().all() as string[];
  db.close();
  for (const h of hashes) assert.match(h, /^\$scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.notEqual(hashes[0], hashes[1]); // different salts
  for (const name of await fs.readdir(dir)) {
    const content = await fs.readFile(join(dir, name)).catch(() => Buffer.alloc(0));
    assert.equal(content.includes(password), false, name);
  }
  assert.equal(await verifyPassword(password, hashes[0]!), true);
  assert.equal(await verifyPassword(password, '$scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), false);
});

test('weaker old hashes are upgraded at the next successful check', async () => {
  const dir = freshDir();
  const store = SqliteAccountStore.open(dir);
  await store.add({ username: 'old', password: 'x' });
  store.close();
  const weak = await hashPassword('secret', { N: 2 ** 10, r: 8, p: 1 });
  const db = new Database(join(dir, ACCOUNTS_FILE));
  db.prepare('UPDATE accounts SET password_hash = ?').run(weak);
  db.close();
  const reopened = SqliteAccountStore.open(dir);
  assert.ok(await verifiedAccount(reopened, 'old', 'secret'));
  reopened.close();
  const check = new Database(join(dir, ACCOUNTS_FILE), { readonly: true });
  const hash = check.prepare('SELECT password_hash FROM accounts').pluck().get() as string;
  check.close();
  assert.match(hash, /^\$scrypt\$32768\$/);
});

test('hostile usernames are plain strings or rejected cleanly', async () => {
  const dir = freshDir();
  const store = SqliteAccountStore.open(dir);
  try {
    const injection = "'; DROP TABLE accounts; --";
    await store.add({ username: 'first', password: 'pw1' });
    const acc = await store.add({ username: injection, password: 'pw2' });
    assert.equal(acc.username, injection);
    assert.ok(await verifiedAccount(store, injection, 'pw2'));
    assert.equal(await verifiedAccount(store, "first' OR '1'='1", 'pw1'), null);
    assert.deepEqual((await store.list()).map((a) => a.username).sort(), [injection, 'first'].sort());
    // Its home directory stays inside the data directory.
    assert.ok(acc.home.startsWith(join(dir, 'mail') + '/'));
    assert.equal(acc.home.split('/').includes('..'), false);

    const huge = 'a'.repeat(10 * 1024 * 1024);
    const started = Date.now();
    await assert.rejects(store.add({ username: huge, password: 'pw' }), isAccountError('invalid-username'));
    assert.equal(await store.get(huge), null);
    assert.equal(await verifiedAccount(store, huge, 'pw'), null);
    await assert.rejects(store.disable(huge), isAccountError('invalid-username'));
    assert.ok(Date.now() - started < 2000);

    await assert.rejects(store.add({ username: 'a'.repeat(256), password: 'pw' }), isAccountError('invalid-username'));
    await store.add({ username: 'b'.repeat(255), password: 'pw' });
    await assert.rejects(store.add({ username: '', password: 'pw' }), isAccountError('invalid-username'));
    await assert.rejects(store.add({ username: 'tab\there', password: 'pw' }), isAccountError('invalid-username'));
    await assert.rejects(store.add({ username: 'line\nbreak', password: 'pw' }), isAccountError('invalid-username'));
    await assert.rejects(store.add({ username: ' padded', password: 'pw' }), isAccountError('invalid-username'));

    await assert.rejects(store.add({ username: 'p', password: 'x'.repeat(1025) }), isAccountError('invalid-password'));
    await assert.rejects(store.add({ username: 'p', password: '' }), isAccountError('invalid-password'));
    await store.add({ username: 'p', password: 'é'.repeat(512) }); // 1024 bytes
    assert.equal(await verifiedAccount(store, 'p', 'é'.repeat(512) + 'x'), null);
    assert.equal(await verifiedAccount(store, 'p', 'x'.repeat(5 * 1024 * 1024)), null);

    await assert.rejects(store.add({ username: 'q', password: 'pw', maildir: 'relative/Maildir' }), isAccountError('invalid-value'));
    await assert.rejects(store.add({ username: 'q', password: 'pw', quotaBytes: -1 }), isAccountError('invalid-value'));
  } finally {
    store.close();
  }
});

test('unicode names compare without case and normalisation differences', async () => {
  const store = SqliteAccountStore.open(freshDir());
  try {
    await store.add({ username: 'J\u00fcrgen', password: 'pw' });
    assert.ok(await verifiedAccount(store, 'J\u00dcRGEN', 'pw'));
    assert.ok(await verifiedAccount(store, 'ju\u0308rgen', 'pw')); // decomposed u + diaeresis
    assert.equal(homeDirectoryName('j\u00fcrgen'), 'j=c3=bcrgen');
    assert.equal(homeDirectoryName('..'), '=2e.');
    assert.equal(homeDirectoryName('a/b'), 'a=2fb');
    assert.ok(homeDirectoryName('\u00e9'.repeat(255)).length <= 100);
  } finally {
    store.close();
  }
});

test('a version-1 file is migrated with its data; a newer file is refused', async () => {
  const dir = freshDir();
  await fs.mkdir(dir);
  const path = join(dir, ACCOUNTS_FILE);
  const db = new Database(path);
  migrate(db, 1);
  db.prepare(
    `INSERT INTO accounts (username, username_key, password_hash, home, created_at, updated_at)
     VALUES ('carol', 'carol', ?, '/home/carol', 1, 1)`,
  ).run(await hashPassword('pw'));
  assert.equal(db.pragma('user_version', { simple: true }), 1);
  db.close();

  const store = SqliteAccountStore.open(dir);
  assert.equal(await store.schemaVersion(), SCHEMA_VERSION);
  const carol = (await store.get('carol'))!;
  assert.equal(carol.home, '/home/carol');
  assert.equal(carol.usage, null);
  assert.ok(await verifiedAccount(store, 'carol', 'pw'));
  store.close();

  const future = new Database(path);
  future.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  future.close();
  assert.throws(() => SqliteAccountStore.open(dir), isAccountError('newer-schema'));
  assert.ok(existsSync(path));
});

test('addresses: one owner each, found by address, username, +detail and local part, removed with the account', async () => {
  const store = SqliteAccountStore.open(freshDir());
  try {
    await store.add({ username: 'alice', password: 'pw-alice' });
    await store.add({ username: 'bob@example.org', password: 'pw-bob' });
    assert.equal(await store.addAddress('alice', 'Alice.Smith@Example.org'), 'Alice.Smith@Example.org');
    await store.addAddress('ALICE', 'postmaster@example.org');
    assert.deepEqual(await store.addresses('alice'), ['Alice.Smith@Example.org', 'postmaster@example.org']);
    // One owner per address, and no address that is another account's username.
    await assert.rejects(store.addAddress('bob@example.org', 'alice.smith@example.ORG'), isAccountError('exists'));
    await assert.rejects(store.addAddress('alice', 'BOB@example.org'), isAccountError('exists'));
    for (const bad of ['no-at-sign', '@example.org', 'a@', 'a b@example.org', 'a@b@c', '<a@b>', 'a\r\n@b', 'x'.repeat(250) + '@ex.org']) {
      await assert.rejects(store.addAddress('alice', bad), isAccountError('invalid-address'), bad);
    }
    await assert.rejects(store.addAddress('nobody', 'n@example.org'), isAccountError('not-found'));

    const found = async (address: string) => {
      const m = await store.findRecipient(address);
      return m ? `${m.account.username} ${m.via}` : null;
    };
    assert.equal(await found('alice.smith@EXAMPLE.org'), 'alice address');
    assert.equal(await found('alice.smith+news@example.org'), 'alice address');
    assert.equal(await found('Bob@Example.org'), 'bob@example.org username');
    assert.equal(await found('bob+x@example.org'), 'bob@example.org username');
    assert.equal(await found('alice@mx.home'), 'alice local-part');
    assert.equal(await found('alice+list@mx.home'), 'alice local-part');
    assert.equal(await found('alice'), 'alice username');
    assert.equal(await found('carol@example.org'), null);
    assert.equal(await found(''), null);
    assert.equal(await found('x'.repeat(100_000)), null);

    await assert.rejects(store.removeAddress('bob@example.org', 'postmaster@example.org'), isAccountError('not-found'));
    await store.removeAddress('alice', 'POSTMASTER@example.org');
    assert.equal(await found('postmaster@example.org'), null);
    await store.remove('alice');
    assert.equal(await found('alice.smith@example.org'), null);
    // The address is free again.
    await store.add({ username: 'alice', password: 'pw-alice' });
    assert.deepEqual(await store.addresses('alice'), []);
    await store.addAddress('bob@example.org', 'alice.smith@example.org');
  } finally {
    store.close();
  }
});

test('a version-2 file gains the addresses table with its accounts kept', async () => {
  const dir = freshDir();
  await fs.mkdir(dir);
  const db = new Database(join(dir, ACCOUNTS_FILE));
  migrate(db, 2);
  db.prepare(
    `INSERT INTO accounts (username, username_key, password_hash, home, created_at, updated_at, usage_bytes, usage_messages, usage_updated_at)
     VALUES ('dora', 'dora', ?, '/home/dora', 1, 1, 10, 1, 5)`,
  ).run(await hashPassword('pw'));
  db.close();
  const store = SqliteAccountStore.open(dir);
  try {
    assert.equal(await store.schemaVersion(), SCHEMA_VERSION);
    assert.deepEqual((await store.get('dora'))!.usage, { bytes: 10, messages: 1, updatedAt: 5 });
    await store.addAddress('dora', 'dora@example.org');
    assert.equal((await store.findRecipient('dora@example.org'))!.account.username, 'dora');
  } finally {
    store.close();
  }
});

test('a version-3 file gains the mailhost column (IMAP_PROXY); mailhosts are checked and cleared', async () => {
  const dir = freshDir();
  await fs.mkdir(dir);
  const db = new Database(join(dir, ACCOUNTS_FILE));
  migrate(db, 3);
  db.prepare(
    `INSERT INTO accounts (username, username_key, password_hash, home, created_at, updated_at)
     VALUES ('erin', 'erin', ?, '/home/erin', 1, 1)`,
  ).run(await hashPassword('pw'));
  db.close();
  const store = SqliteAccountStore.open(dir);
  try {
    assert.equal(await store.schemaVersion(), SCHEMA_VERSION);
    assert.equal((await store.get('erin'))!.mailhost, null);
    await store.setMailhost('erin', ' mail2.example.com , imaps://[2001:db8::1]:9993 ');
    assert.equal((await store.get('erin'))!.mailhost, 'mail2.example.com,imaps://[2001:db8::1]:9993');
    for (const bad of ['two words', 'host:0', 'host:99999', '2001:db8::1', '[zz]', 'a/b', 'x'.repeat(2000)]) {
      await assert.rejects(store.setMailhost('erin', bad), (err: Error) => err instanceof AccountError && err.code === 'invalid-value', bad);
    }
    await store.setMailhost('erin', '');
    assert.equal((await store.get('erin'))!.mailhost, null);
    await store.setMailhost('erin', 'mail3');
    await store.setMailhost('erin', null);
    assert.equal((await store.get('erin'))!.mailhost, null);
    await assert.rejects(store.setMailhost('nobody', 'mail3'), (err: Error) => err instanceof AccountError && err.code === 'not-found');
  } finally {
    store.close();
  }
});

test('a version-4 file gains the sharable column ("shared." lists): none by default, "" or a group, checked', async () => {
  const dir = freshDir();
  await fs.mkdir(dir);
  const db = new Database(join(dir, ACCOUNTS_FILE));
  migrate(db, 4);
  db.prepare(
    `INSERT INTO accounts (username, username_key, password_hash, home, created_at, updated_at)
     VALUES ('fay', 'fay', ?, '/home/fay', 1, 1)`,
  ).run(await hashPassword('pw'));
  db.close();
  const store = SqliteAccountStore.open(dir);
  try {
    assert.equal(await store.schemaVersion(), SCHEMA_VERSION);
    assert.equal((await store.get('fay'))!.sharable, null);
    await store.setSharable('fay', '');
    assert.equal((await store.get('fay'))!.sharable, '');
    await store.setSharable('fay', '.family');
    assert.equal((await store.get('fay'))!.sharable, '.family');
    for (const bad of ['a/b', '../x', 'two words', 'x'.repeat(65), 'é']) {
      await assert.rejects(store.setSharable('fay', bad), (err: Error) => err instanceof AccountError && err.code === 'invalid-value', bad);
    }
    await store.setSharable('fay', null);
    assert.equal((await store.get('fay'))!.sharable, null);
    await assert.rejects(store.setSharable('nobody', ''), (err: Error) => err instanceof AccountError && err.code === 'not-found');
  } finally {
    store.close();
  }
});
