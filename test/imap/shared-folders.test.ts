// Courier's virtual shared folders: two accounts on one network server, alice shares a folder
// with bob through its ACL, and bob opens it as "#shared.alice.Projects" with the rights the
// ACL gives him and no more; changes reach the other account's IDLE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { startNetworkServer } from '../helpers/network-server.js';
import { networkSession, type CheckedSession } from '../helpers/checked-client.js';
import { deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';

interface Two {
  alice: CheckedSession;
  bob: CheckedSession;
  aliceDir: string;
  bobDir: string;
  port: number;
  close(): Promise<void>;
}

async function twoAccounts(prefix: string, options: { sharedFolders?: boolean } = {}): Promise<Two> {
  const dir = tempDir(prefix);
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const accounts = SqliteAccountStore.open(data);
  const aliceDir = emptyMaildir(path.join(dir, 'alice'));
  const bobDir = emptyMaildir(path.join(dir, 'bob'));
  await accounts.add({ username: 'alice', password: 'secret', maildir: aliceDir });
  await accounts.add({ username: 'bob', password: 'secret', maildir: bobDir });
  const { server, port } = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 100, sharedFolders: options.sharedFolders ?? true });
  const alice = await networkSession('alice', port, 'alice', 'secret');
  const bob = await networkSession('bob', port, 'bob', 'secret');
  return {
    alice, bob, aliceDir, bobDir, port,
    async close() {
      await alice.close();
      await bob.close();
      await server.stop();
      accounts.close();
      removeTree(dir);
    },
  };
}

async function ok(session: CheckedSession, command: string): Promise<string[]> {
  const reply = await session.command(command);
  assert.match(reply.tagged, /^OK/, `${session.name}: ${command}: ${reply.tagged}`);
  return reply.lines;
}

test('NAMESPACE announces "#shared." as Courier does ("shared." only to accounts given sharable Maildirs); without shared folders neither', async () => {
  const t = await twoAccounts('shared-ns');
  try {
    // test/imap/sharable-server.test.ts: with a sharable list, ("shared." ".") follows.
    assert.deepEqual(await ok(t.bob, 'NAMESPACE'), ['* NAMESPACE (("INBOX." ".")) NIL (("#shared." "."))']);
  } finally {
    await t.close();
  }
  const off = await twoAccounts('shared-ns-off', { sharedFolders: false });
  try {
    assert.deepEqual(await ok(off.bob, 'NAMESPACE'), ['* NAMESPACE (("INBOX." ".")) NIL NIL']);
  } finally {
    await off.close();
  }
});

test('a folder alice shares is listed for bob under #shared, with only what the ACL lets him look up', async () => {
  const t = await twoAccounts('shared-list');
  try {
    await ok(t.alice, 'CREATE INBOX.Projects');
    await ok(t.alice, 'CREATE INBOX.Private');
    // Nothing shared yet: nothing to see, not even alice's name.
    assert.deepEqual(await ok(t.bob, 'LIST "" "#shared.*"'), []);
    await ok(t.alice, 'SETACL INBOX.Projects bob lr');
    assert.deepEqual(await ok(t.bob, 'LIST "" "#shared.*"'), [
      '* LIST (\\Noselect \\HasChildren) "." "#shared.alice"',
      '* LIST (\\HasNoChildren) "." "#shared.alice.Projects"',
    ]);
    assert.deepEqual(await ok(t.bob, 'LIST "#shared." "%"'), ['* LIST (\\Noselect \\HasChildren) "." "#shared.alice"']);
    // As in Courier, LIST of the personal namespace does not wander into other accounts.
    assert.ok((await ok(t.bob, 'LIST "" "*"')).every((l) => !l.includes('#shared')));
    // alice does not see herself under #shared.
    assert.deepEqual(await ok(t.alice, 'LIST "" "#shared.*"'), []);
    // Sharing INBOX makes #shared.alice a folder, and shares what takes INBOX's ACL (Private has none of its own).
    await ok(t.alice, 'SETACL INBOX bob lr');
    assert.deepEqual(await ok(t.bob, 'LIST "" "#shared.*"'), [
      '* LIST (\\HasChildren) "." "#shared.alice"',
      '* LIST (\\HasNoChildren) "." "#shared.alice.Private"',
      '* LIST (\\HasNoChildren) "." "#shared.alice.Projects"',
    ]);
  } finally {
    await t.close();
  }
});

test('bob works in alice\'s folder with the rights her ACL gives him and no more', async () => {
  const t = await twoAccounts('shared-rights');
  try {
    await ok(t.alice, 'CREATE INBOX.Projects');
    deliver(t.aliceDir, simpleMessage('plan'), '.Projects');
    // Not shared: bob can neither open nor see it.
    assert.match((await t.bob.command('SELECT #shared.alice.Projects')).tagged, /^NO .*ACL "r" required/);
    assert.match((await t.bob.command('SELECT #shared.alice.Private')).tagged, /^NO/);

    await ok(t.alice, 'SETACL INBOX.Projects bob lr');
    const examine = await t.bob.command('SELECT #shared.alice.Projects');
    // Without any right to change something the folder opens read-only, as in Courier.
    assert.match(examine.tagged, /^OK \[READ-ONLY\]/);
    assert.ok(examine.lines.includes('* 1 EXISTS'));
    assert.ok(examine.lines.includes('* OK [MYRIGHTS "lr"] ACL'));
    // Reading does not mark \Seen without "s".
    await ok(t.bob, 'FETCH 1 BODY[]');
    assert.doesNotMatch((await ok(t.bob, 'FETCH 1 FLAGS'))[0], /\\Seen/);

    await ok(t.alice, 'SETACL INBOX.Projects bob lrs');
    const select = await t.bob.command('SELECT #shared.alice.Projects');
    assert.match(select.tagged, /^OK \[READ-WRITE\]/);
    assert.deepEqual(await ok(t.bob, 'MYRIGHTS #shared.alice.Projects'), ['* MYRIGHTS "#shared.alice.Projects" "lrs"']);
    await ok(t.bob, 'FETCH 1 BODY[]');
    assert.match((await ok(t.bob, 'FETCH 1 FLAGS'))[0], /\\Seen/);
    // Flags he may not change stay as they are; the STORE answers OK with them, as Courier's
    // (test/imap/acl-rights.test.ts compares the two).
    assert.doesNotMatch((await ok(t.bob, 'STORE 1 +FLAGS (\\Flagged)'))[0], /\\Flagged/);
    assert.doesNotMatch((await ok(t.bob, 'STORE 1 +FLAGS (\\Deleted)'))[0], /\\Deleted/);
    // RFC 4314 section 4: the flags he may change are changed, the others left alone, no NO.
    assert.match((await ok(t.bob, 'STORE 1 -FLAGS (\\Seen \\Flagged)'))[0], /^\* 1 FETCH \(FLAGS \(\\Recent\)\)/);
    assert.match((await t.bob.command('EXPUNGE')).tagged, /^NO .*ACL "e" required/);
    assert.match((await t.bob.command('APPEND #shared.alice.Projects {5+}\r\nhello')).tagged, /^NO .*ACL "i" required/);
    assert.match((await t.bob.command('GETACL #shared.alice.Projects')).tagged, /^NO .*ACL "a" required/);
    // A copy lands in bob's own INBOX, never in alice's.
    const copy = await t.bob.command('COPY 1 INBOX');
    assert.match(copy.tagged, /^OK \[COPYUID \d+ 1 1\]/);
    assert.equal(fs.readdirSync(path.join(t.bobDir, 'cur')).length, 1);
    assert.equal(fs.readdirSync(path.join(t.aliceDir, 'cur')).length + fs.readdirSync(path.join(t.aliceDir, 'new')).length, 0);
    assert.match(fs.readFileSync(path.join(t.bobDir, 'cur', fs.readdirSync(path.join(t.bobDir, 'cur'))[0]), 'utf8'), /Subject: plan/);

    // More rights: bob may write flags, add, delete and expunge.
    await ok(t.alice, 'SETACL INBOX.Projects bob lrswitedi');
    await ok(t.bob, 'STORE 1 +FLAGS (\\Flagged \\Deleted)');
    await ok(t.bob, 'APPEND #shared.alice.Projects {5+}\r\nhello');
    await ok(t.bob, 'EXPUNGE');
    const left = fs.readdirSync(path.join(t.aliceDir, '.Projects', 'cur'));
    assert.equal(left.length, 1);
    assert.equal(fs.readFileSync(path.join(t.aliceDir, '.Projects', 'cur', left[0]), 'utf8'), 'hello');
    // And copy into alice's folder from his own INBOX: it lands in alice's Maildir.
    await ok(t.bob, 'SELECT INBOX');
    assert.match((await t.bob.command('COPY 1 #shared.alice.Projects')).tagged, /^OK \[COPYUID/);
    assert.equal(fs.readdirSync(path.join(t.aliceDir, '.Projects', 'cur')).length, 2);
    assert.equal(fs.readdirSync(path.join(t.bobDir, 'cur')).length, 1);
    // alice sees what bob did.
    const status = await ok(t.alice, 'STATUS INBOX.Projects (MESSAGES)');
    assert.deepEqual(status, ['* STATUS "INBOX.Projects" (MESSAGES 2)']);
  } finally {
    await t.close();
  }
});

test('names that would leave the owner\'s Maildir are refused', async () => {
  const t = await twoAccounts('shared-escape');
  try {
    await ok(t.alice, 'SETACL INBOX anyone lr');
    // bob's own folder through a symlink in alice's Maildir: not a folder, whatever its ACL.
    fs.mkdirSync(path.join(t.bobDir, '.Secret', 'cur'), { recursive: true });
    fs.mkdirSync(path.join(t.bobDir, '.Secret', 'new'));
    fs.mkdirSync(path.join(t.bobDir, '.Secret', 'tmp'));
    fs.symlinkSync(path.join(t.bobDir, '.Secret'), path.join(t.aliceDir, '.Link'));
    for (const name of ['#shared.alice.Link', '#shared.alice..', '#shared.alice./..', '#shared.alice/../bob', '#shared.nobody', '#shared', '#shared.bob']) {
      const reply = await t.bob.command(`SELECT "${name}"`);
      assert.match(reply.tagged, /^NO/, `${name}: ${reply.tagged}`);
    }
    assert.ok((await ok(t.bob, 'LIST "" "#shared.*"')).every((l) => !l.includes('Link')));
  } finally {
    await t.close();
  }
});

test('changes in a shared folder reach the other account\'s IDLE both ways', async () => {
  const t = await twoAccounts('shared-idle');
  try {
    await ok(t.alice, 'CREATE INBOX.Projects');
    await ok(t.alice, 'SETACL INBOX.Projects bob lrswi');
    await ok(t.alice, 'SELECT INBOX.Projects');
    await ok(t.bob, 'SELECT #shared.alice.Projects');
    const [aliceIdle] = await Promise.all([
      // DONE once it comes (a loaded machine may take its time), at the latest after 15 s.
      t.alice.idle(15_000, (lines) => lines.includes('* 1 EXISTS')),
      (async () => {
        await new Promise((r) => setTimeout(r, 150));
        await ok(t.bob, 'APPEND #shared.alice.Projects {5+}\r\nhello');
      })(),
    ]);
    assert.ok(aliceIdle.lines.includes('* 1 EXISTS'), aliceIdle.lines.join('\n'));
    const [bobIdle] = await Promise.all([
      t.bob.idle(15_000, (lines) => lines.some((l) => /^\* 1 FETCH \(FLAGS \(.*\\Flagged/.test(l))),
      (async () => {
        await new Promise((r) => setTimeout(r, 150));
        await ok(t.alice, 'STORE 1 +FLAGS (\\Flagged)');
      })(),
    ]);
    assert.ok(bobIdle.lines.some((l) => /^\* 1 FETCH \(FLAGS \(.*\\Flagged/.test(l)), bobIdle.lines.join('\n'));
  } finally {
    await t.close();
  }
});

test('with shared folders on, MAILBOXID (OBJECTID) is still told for the own folders, and for a shared one as its owner has it', async () => {
  const t = await twoAccounts('shared-mailboxid');
  try {
    const own = (await ok(t.alice, 'STATUS INBOX (MAILBOXID)')).join(' ');
    assert.match(own, /MAILBOXID \(\S+\)/, own);
    await ok(t.alice, 'CREATE INBOX.Projects');
    await ok(t.alice, 'SETACL INBOX.Projects bob lr');
    const owners = /MAILBOXID \((\S+)\)/.exec((await ok(t.alice, 'STATUS INBOX.Projects (MAILBOXID)')).join(' '))?.[1];
    const seen = /MAILBOXID \((\S+)\)/.exec((await ok(t.bob, 'STATUS #shared.alice.Projects (MAILBOXID)')).join(' '))?.[1];
    assert.ok(owners, 'alice sees an id');
    assert.equal(seen, owners, 'bob sees the same folder with the same id');
  } finally {
    await t.close();
  }
});
