import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailStoreError } from '../../server/backend/mailstore.js';
import type { Logger, LogLevel } from '../../server/imap/contracts.js';
import { AccountAuthenticator, SqliteAccountStore } from '../../server/accounts/index.js';

type Line = { level: LogLevel; message: string; fields: Record<string, unknown> };
let data: string;
let accounts: SqliteAccountStore;
const lines: Line[] = [];
const logger: Logger = { log: (level, message, fields = {}) => lines.push({ level, message, fields }) };
const PASSWORD = 'right-password-81bd';
const WRONG = 'wrong-password-c02e';

function authenticator(overrides: Partial<ConstructorParameters<typeof AccountAuthenticator>[0]> = {}) {
  return new AccountAuthenticator({
    accounts,
    logger,
    maildirPath: 'Maildir',
    useLocks: true,
    keywords: true,
    watch: false,
    pollIntervalMs: 60_000,
    trashFolder: 'Trash',
    failureDelayMs: 100,
    maxFailureDelayMs: 800,
    ...overrides,
  });
}

async function timed<T>(p: Promise<T>): Promise<[T, number]> {
  const start = Date.now();
  const value = await p;
  return [value, Date.now() - start];
}

before(async () => {
  data = await fs.mkdtemp(join(tmpdir(), 'imapd-auth-'));
  accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: PASSWORD, quotaBytes: 1_000_000, quotaMessages: 100 });
  await accounts.add({ username: 'dora', password: PASSWORD, enabled: false });
  await accounts.add({ username: 'nomake', password: PASSWORD, createMaildir: false });
});
after(async () => {
  accounts.close();
  await fs.rm(data, { recursive: true, force: true });
});

test('a good login opens (and first creates) the Maildir, records and logs it', async () => {
  const auth = authenticator();
  const result = await auth.login('ALICE', PASSWORD, '::ffff:127.0.0.1');
  assert.ok(result);
  try {
    assert.equal(result.user, 'alice');
    const root = join(data, 'mail', 'alice', 'Maildir');
    for (const sub of ['cur', 'new', 'tmp']) assert.ok(existsSync(join(root, sub)), sub);
    assert.deepEqual((await result.store.listFolders()).map((f) => f.name), ['INBOX']);
    // The account's quota is written where the Maildir engine (and Courier) look for it.
    assert.equal(readFileSync(join(root, 'maildirsize'), 'utf8').split('\n')[0], '1000000S,100C');
    assert.deepEqual(await result.store.quota(), { storageLimit: 1_000_000, messageLimit: 100, storageUsed: 0, messagesUsed: 0 });
    const account = (await accounts.get('alice'))!;
    assert.equal(account.lastLoginAddress, '127.0.0.1');
    assert.ok(lines.some((l) => l.message === 'LOGIN' && l.fields.user === 'alice' && l.fields.ip === '127.0.0.1'));
    assert.ok(lines.some((l) => l.message === 'Maildir created'));
  } finally {
    await result.store.close();
  }
});

test('failures wait, the wait grows per address, and other addresses are not slowed', async () => {
  const auth = authenticator();
  const [r1, t1] = await timed(auth.login('alice', WRONG, '10.0.0.1'));
  assert.equal(r1, null);
  assert.ok(t1 >= 100, `first failure answered after ${t1} ms`);
  const [, t2] = await timed(auth.login('alice', WRONG, '10.0.0.1'));
  assert.ok(t2 >= 200, `second failure answered after ${t2} ms`);
  const [, t3] = await timed(auth.login('alice', WRONG, '10.0.0.1'));
  assert.ok(t3 >= 400, `third failure answered after ${t3} ms`);
  assert.equal(auth.failuresOf('10.0.0.1'), 3);

  // The fourth failure from 10.0.0.1 (800 ms) and a first one from 10.0.0.2 (100 ms) at once.
  const order: string[] = [];
  const slow = timed(auth.login('alice', WRONG, '10.0.0.1')).then((r) => (order.push('10.0.0.1'), r));
  const fast = timed(auth.login('nobody', WRONG, '10.0.0.2')).then((r) => (order.push('10.0.0.2'), r));
  const [[, t4]] = await Promise.all([slow, fast]);
  assert.ok(t4 >= 800, `fourth failure answered after ${t4} ms`);
  assert.deepEqual(order, ['10.0.0.2', '10.0.0.1']);

  // Failures and the reasons are logged with user and address; the password never is.
  const failed = lines.filter((l) => l.message === 'LOGIN FAILED');
  assert.ok(failed.some((l) => l.fields.user === 'alice' && l.fields.ip === '10.0.0.1' && l.fields.reason === 'bad-password'));
  assert.ok(failed.some((l) => l.fields.user === 'nobody' && l.fields.ip === '10.0.0.2' && l.fields.reason === 'no-such-user'));
  assert.equal(JSON.stringify(lines).includes(WRONG) || JSON.stringify(lines).includes(PASSWORD), false);

  // A success from the address forgets its failures.
  const ok = await auth.login('alice', PASSWORD, '10.0.0.1');
  assert.ok(ok);
  await ok.store.close();
  assert.equal(auth.failuresOf('10.0.0.1'), 0);
});

test('the wait stops growing at the cap (6 x the first wait by default)', async () => {
  const auth = new AccountAuthenticator({
    accounts, logger, maildirPath: 'Maildir', useLocks: true, keywords: true, watch: false, pollIntervalMs: 60_000, trashFolder: 'Trash',
    failureDelayMs: 40,
  });
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) waits.push((await timed(auth.login('alice', WRONG, '10.0.0.9')))[1]);
  const delays = lines.filter((l) => l.fields.ip === '10.0.0.9').map((l) => l.fields.delayMs);
  assert.deepEqual(delays, [40, 80, 160, 240, 240]);
  assert.ok(waits[4]! >= 240);
});

test('parallel attempts from an address with failures are taken one at a time', async () => {
  const auth = authenticator({ failureDelayMs: 100, maxFailureDelayMs: 10_000 });
  await auth.login('alice', WRONG, '10.0.0.3'); // 1 failure: 100 ms
  // In parallel these would take max(200, 400) ms; one after another 200 + 400.
  const [, elapsed] = await timed(Promise.all([auth.login('alice', WRONG, '10.0.0.3'), auth.login('alice', WRONG, '10.0.0.3')]));
  assert.ok(elapsed >= 600, `two queued failures took ${elapsed} ms`);
  assert.equal(auth.failuresOf('10.0.0.3'), 3);
});

test('disabled accounts and hostile input fail like a wrong password', async () => {
  const auth = authenticator({ failureDelayMs: 20 });
  assert.equal(await auth.login('dora', PASSWORD, '10.0.0.4'), null);
  assert.ok(lines.some((l) => l.message === 'LOGIN FAILED' && l.fields.user === 'dora' && l.fields.reason === 'disabled'));
  assert.equal(await auth.login('x'.repeat(10_000_000), PASSWORD, '10.0.0.5'), null);
  assert.equal(await auth.login('evil\r\nLOGIN alice', PASSWORD, '10.0.0.6'), null);
  const logged = lines.find((l) => l.fields.ip === '10.0.0.6')!;
  assert.equal(logged.fields.user, 'evil??LOGIN alice');
  assert.ok((lines.find((l) => l.fields.ip === '10.0.0.5')!.fields.user as string).length < 300);
});

test('a missing Maildir the account may not create is an error the client sees as NO', async () => {
  const auth = authenticator();
  await assert.rejects(auth.login('nomake', PASSWORD, '127.0.0.1'), (err: unknown) => {
    assert.ok(err instanceof MailStoreError);
    assert.equal(err.code, 'UNAVAILABLE');
    return true;
  });
  assert.ok(lines.some((l) => l.level === 'error' && l.message === 'Maildir missing' && l.fields.user === 'nomake'));
});

test('a missing home is made from AUTH_MKHOMEDIR_SKEL; an explicit Maildir is used as it is', async () => {
  const skel = join(data, 'skel');
  await fs.mkdir(join(skel, 'Maildir', '.Sent', 'cur'), { recursive: true });
  for (const dir of ['Maildir', 'Maildir/.Sent']) {
    for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(join(skel, dir, sub), { recursive: true });
  }
  await fs.writeFile(join(skel, 'Maildir', '.Sent', 'maildirfolder'), '');
  await fs.writeFile(join(skel, 'Maildir', 'new', '1.welcome.host'), 'Subject: Welcome\r\n\r\nHello\r\n');
  await fs.writeFile(join(skel, '.profile'), '# skeleton\n');
  await accounts.add({ username: 'erin', password: PASSWORD });
  const auth = authenticator({ mkhomedirSkel: skel });
  const result = await auth.login('erin', PASSWORD, '127.0.0.1');
  assert.ok(result);
  const home = (await accounts.get('erin'))!.home;
  assert.equal(readFileSync(join(home, '.profile'), 'utf8'), '# skeleton\n');
  assert.deepEqual((await result.store.listFolders()).map((f) => f.name).sort(), ['INBOX', 'INBOX.Sent']);
  assert.equal((await result.store.folderStatus('INBOX')).messages, 1);
  await result.store.close();

  const own = join(data, 'own', 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(join(own, sub), { recursive: true });
  await fs.writeFile(join(own, 'cur', '2.mine.host:2,S'), 'Subject: Mine\r\n\r\nx\r\n');
  await accounts.add({ username: 'frank', password: PASSWORD, maildir: own });
  const frank = await auth.login('frank', PASSWORD, '127.0.0.1');
  assert.ok(frank);
  assert.equal((await frank.store.folderStatus('INBOX')).messages, 1);
  await frank.store.close();
  assert.equal(existsSync((await accounts.get('frank'))!.home), false);
});

test('IMAP_EMPTYTRASH: old messages are purged from the listed folders at login', async () => {
  await accounts.add({ username: 'gina', password: PASSWORD });
  const root = join((await accounts.get('gina'))!.home, 'Maildir');
  for (const dir of ['', '.Trash', '.Sent']) {
    for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(join(root, dir, sub), { recursive: true });
    if (dir) await fs.writeFile(join(root, dir, 'maildirfolder'), '');
    await fs.writeFile(join(root, dir, 'cur', `1.old${dir}.host:2,S`), 'Subject: old\r\n\r\nx\r\n');
  }
  await new Promise((r) => setTimeout(r, 20));
  // Trash: 0 days, so everything already there is old enough; Sent: 7 days keeps it.
  const auth = authenticator({ emptyTrash: [{ folder: 'Trash', days: 0 }, { folder: 'Sent', days: 7 }, { folder: 'Missing', days: 0 }] });
  const result = await auth.login('gina', PASSWORD, '127.0.0.1');
  assert.ok(result);
  await auth.idle();
  // (The engine may rename files to add their size, so count rather than look up names.)
  const count = async (dir: string) => (await fs.readdir(join(root, dir, 'cur'))).length + (await fs.readdir(join(root, dir, 'new'))).length;
  assert.equal(await count('.Trash'), 0);
  assert.equal(await count('.Sent'), 1);
  assert.equal(await count(''), 1);
  assert.ok(lines.some((l) => l.message === 'purged old messages' && l.fields.user === 'gina' && l.fields.folder === 'Trash' && l.fields.count === 1));
  assert.ok(!lines.some((l) => l.message === 'cannot purge old messages'));
  await result.store.close();

  // A login soon after does not rescan the Trash: the rule counts in days.
  await fs.writeFile(join(root, '.Trash', 'cur', '2.old.host:2,S'), 'Subject: old\r\n\r\nx\r\n');
  await new Promise((r) => setTimeout(r, 20));
  const again = await auth.login('gina', PASSWORD, '127.0.0.1');
  assert.ok(again);
  await auth.idle();
  assert.equal(await count('.Trash'), 1);
  await again.store.close();
  // Another authenticator (a restart) purges at its first login.
  const restarted = authenticator({ emptyTrash: [{ folder: 'Trash', days: 0 }] });
  const third = await restarted.login('gina', PASSWORD, '127.0.0.1');
  assert.ok(third);
  await restarted.idle();
  assert.equal(await count('.Trash'), 0);
  await third.store.close();
});
