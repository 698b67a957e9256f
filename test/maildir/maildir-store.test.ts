// The account level: folder list, CREATE, DELETE, RENAME, subscriptions, STATUS and
// Maildir++ quota, on real Maildirs in temp directories.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { MailStoreError, type MailStore } from '../../server/backend/mailstore.js';
import { openMaildirStore } from '../../server/maildir/index.js';
import { deliver, infoOf, message, recorder, store, tempMaildir, type TempMaildir, select } from './helpers.js';

let md: TempMaildir;
let mail: MailStore;

beforeEach(async () => {
  md = tempMaildir(['Sent', 'Archive.2025']);
  mail = await store(md.root, { watch: false });
});

afterEach(async () => {
  await mail.close();
  md.cleanup();
});

const code = (expected: string) => (error: unknown) => error instanceof MailStoreError && error.code === expected;

test('LIST: INBOX first, parents that exist only by their children are not selectable, special use', async () => {
  mkdirSync(path.join(md.root, '.NotAFolder')); // no cur/: ignored
  assert.deepEqual(await mail.listFolders(), [
    { name: 'INBOX', selectable: true },
    { name: 'INBOX.Archive', selectable: false },
    { name: 'INBOX.Archive.2025', selectable: true },
    { name: 'INBOX.Sent', selectable: true, specialUse: '\\Sent' },
  ]);
});

test('CREATE makes a Maildir++ folder; existing, INBOX and invalid names are refused', async () => {
  await mail.createFolder('INBOX.Projects.Ünïcödé');
  const dir = path.join(md.root, '.Projects.Ünïcödé');
  assert.deepEqual(readdirSync(dir).sort(), ['cur', 'maildirfolder', 'new', 'tmp']);
  await mail.createFolder('inbox.Drafts.'); // trailing separator: a folder that may hold others
  assert.ok(existsSync(path.join(md.root, '.Drafts', 'cur')));
  await assert.rejects(mail.createFolder('INBOX.Sent'), code('ALREADYEXISTS'));
  await assert.rejects(mail.createFolder('INBOX'), code('ALREADYEXISTS'));
  await assert.rejects(mail.createFolder('Projects'), code('CANNOT'));
  await assert.rejects(mail.createFolder('INBOX..x'), code('CANNOT'));
  await assert.rejects(mail.createFolder('INBOX.a/b'), code('CANNOT'));
  assert.deepEqual(readdirSync(path.join(md.root, 'tmp')), [], 'no staging left behind');
});

test('DELETE removes the folder (not its children) and tells sessions that had it open', async () => {
  await mail.createFolder('INBOX.Sent.Old');
  deliver(md.root, 'Sent', message('x'), { dir: 'cur' });
  const sent = await select(mail, 'INBOX.Sent');
  const r = recorder();
  sent.subscribe(r.listener);
  await mail.deleteFolder('INBOX.Sent');
  assert.equal(existsSync(path.join(md.root, '.Sent')), false);
  assert.ok(existsSync(path.join(md.root, '.Sent.Old', 'cur')));
  assert.deepEqual(r.plain(), [{ kind: 'gone' }]);
  await assert.rejects(sent.readMessage(1), code('NONEXISTENT'));
  sent.release();
  assert.deepEqual(
    (await mail.listFolders()).map((f) => [f.name, f.selectable]),
    [['INBOX', true], ['INBOX.Archive', false], ['INBOX.Archive.2025', true], ['INBOX.Sent', false], ['INBOX.Sent.Old', true]],
  );
  await assert.rejects(mail.deleteFolder('INBOX'), code('CANNOT'));
  await assert.rejects(mail.deleteFolder('INBOX.Sent'), code('NONEXISTENT'));
  await assert.rejects(mail.deleteFolder('INBOX.Archive'), code('NONEXISTENT'));
  assert.deepEqual(readdirSync(path.join(md.root, 'tmp')), []);

  // A folder made again under the same name gets another UIDVALIDITY.
  const before = (await mail.folderStatus('INBOX.Sent.Old')).uidValidity;
  await mail.deleteFolder('INBOX.Sent.Old');
  await mail.createFolder('INBOX.Sent.Old');
  assert.notEqual((await mail.folderStatus('INBOX.Sent.Old')).uidValidity, before);
});

test('RENAME moves the folder with its children, keeps UIDs, and moves subscriptions', async () => {
  deliver(md.root, 'Archive.2025', message('x'), { dir: 'cur' });
  const status = await mail.folderStatus('INBOX.Archive.2025');
  await mail.subscribe('INBOX.Archive.2025');
  await mail.subscribe('INBOX.Sent');
  const open = await select(mail, 'INBOX.Archive.2025');
  const r = recorder();
  open.subscribe(r.listener);

  await mail.renameFolder('INBOX.Archive', 'INBOX.Old'); // only exists through its child
  assert.deepEqual((await mail.listFolders()).map((f) => f.name), ['INBOX', 'INBOX.Old', 'INBOX.Old.2025', 'INBOX.Sent']);
  const moved = await mail.folderStatus('INBOX.Old.2025');
  assert.equal(moved.uidValidity, status.uidValidity);
  assert.equal(moved.messages, 1);
  assert.deepEqual(await mail.listSubscriptions(), ['INBOX.Old.2025', 'INBOX.Sent']);
  assert.deepEqual(r.plain(), [{ kind: 'gone' }]);
  open.release();

  await mail.createFolder('INBOX.Taken');
  await assert.rejects(mail.renameFolder('INBOX.Sent', 'INBOX.Taken'), code('ALREADYEXISTS'));
  await assert.rejects(mail.renameFolder('INBOX.Nope', 'INBOX.Other'), code('NONEXISTENT'));
  await assert.rejects(mail.renameFolder('INBOX.Old', 'INBOX.Old.Inner'), code('CANNOT'));
  await assert.rejects(mail.renameFolder('INBOX.Sent', 'INBOX'), code('ALREADYEXISTS'));
  await assert.rejects(mail.renameFolder('INBOX.Sent', 'Elsewhere'), code('CANNOT'));
});

test('RENAME INBOX moves its messages into the new folder and leaves INBOX empty', async () => {
  deliver(md.root, '', message('a'), { dir: 'cur', flags: 'S' });
  deliver(md.root, '', message('b'));
  await mail.renameFolder('INBOX', 'INBOX.Saved');
  assert.equal((await mail.folderStatus('INBOX')).messages, 0);
  const saved = await mail.folderStatus('INBOX.Saved');
  assert.equal(saved.messages, 2);
  assert.equal(saved.unseen, 1);
});

test('subscriptions live in courierimapsubscribed, one full name per line', async () => {
  assert.deepEqual(await mail.listSubscriptions(), []);
  await mail.subscribe('INBOX.Sent');
  await mail.subscribe('inbox.Archive.2025');
  await mail.subscribe('INBOX.Sent');
  await mail.subscribe('INBOX.DoesNotExist'); // allowed, as in RFC 3501
  assert.equal(readFileSync(path.join(md.root, 'courierimapsubscribed'), 'utf8'), 'INBOX.Sent\nINBOX.Archive.2025\nINBOX.DoesNotExist\n');
  await mail.unsubscribe('INBOX.Sent');
  await mail.unsubscribe('INBOX.NeverWas');
  assert.deepEqual(await mail.listSubscriptions(), ['INBOX.Archive.2025', 'INBOX.DoesNotExist']);
  await assert.rejects(mail.subscribe('Elsewhere'), code('CANNOT'));
});

test('STATUS counts what no session has been told of as recent, new/ without moving it, like Courier and Dovecot', async () => {
  deliver(md.root, '', message('seen'), { dir: 'cur', flags: 'S' });
  deliver(md.root, '', message('unseen'), { dir: 'cur' });
  deliver(md.root, '', message('new 1'));
  deliver(md.root, '', message('new 2'));
  const status = await mail.folderStatus('INBOX');
  const sizes = ['seen', 'unseen', 'new 1', 'new 2'].reduce((sum, s) => sum + message(s).length + 6, 0);
  assert.deepEqual({ ...status, uidValidity: 0, highestModseq: 0 }, { messages: 4, recent: 4, unseen: 3, deleted: 0, uidNext: 5, uidValidity: 0, size: sizes, highestModseq: 0 });
  assert.equal(readdirSync(path.join(md.root, 'new')).length, 2, 'new/ untouched');
  // The UIDVALIDITY given by STATUS is the one SELECT shows, and the predicted UIDs hold.
  const folder = await select(mail, 'INBOX');
  await folder.refresh();
  assert.equal(folder.snapshot().uidValidity, status.uidValidity);
  // So does its HIGHESTMODSEQ: the messages in new/ got one more when they were taken.
  assert.equal(folder.snapshot().highestModseq, status.highestModseq);
  assert.deepEqual(folder.snapshot().messages.map((m) => m.uid), [1, 2, 3, 4]);
  folder.release();
  await assert.rejects(mail.folderStatus('INBOX.Missing'), code('NONEXISTENT'));
  await assert.rejects(mail.folderStatus('Elsewhere'), code('NONEXISTENT'));
});

test('openFolder of a missing or invalid name fails with NONEXISTENT', async () => {
  await assert.rejects(mail.openFolder('INBOX.Missing'), code('NONEXISTENT'));
  await assert.rejects(mail.openFolder('Nothing'), code('NONEXISTENT'));
  await assert.rejects(mail.openFolder('INBOX.Archive'), code('NONEXISTENT'));
});

test('UIDs survive a migration from Dovecot (dovecot-uidlist)', async () => {
  const a = deliver(md.root, '', message('a'), { dir: 'cur', flags: 'S' });
  const b = deliver(md.root, '', message('b'), { dir: 'cur' });
  writeFileSync(path.join(md.root, 'dovecot-uidlist'), `3 V1234567 N50 Gabc\n17 :${a.replace(/:2,.*$/, '')}\n42 W10 :${b.replace(/:2,.*$/, '')}\n`);
  const folder = await select(mail, 'INBOX');
  const snapshot = folder.snapshot();
  assert.equal(snapshot.uidValidity, 1234567);
  assert.deepEqual(snapshot.messages.map((m) => m.uid), [17, 42]);
  assert.equal(snapshot.uidNext, 50);
  folder.release();
  assert.match(readFileSync(path.join(md.root, 'courierimapuiddb'), 'utf8'), /^1 1234567 50\n17 /);
});

test('quota: maildirsize limits APPEND and COPY, counts changes, and Trash does not count', async () => {
  await mail.createFolder('INBOX.Trash');
  const one = message('quota');
  writeFileSync(path.join(md.root, 'maildirsize'), `${one.length * 2 + 1}S,10C\n`);
  assert.deepEqual(await mail.quota(), { storageLimit: one.length * 2 + 1, messageLimit: 10, storageUsed: 0, messagesUsed: 0 });
  await mail.append('INBOX', one);
  await mail.append('INBOX.Sent', one);
  await assert.rejects(mail.append('INBOX', one), code('OVERQUOTA'));
  await mail.append('INBOX.Trash', one); // Trash is not counted
  assert.deepEqual(await mail.quota(), { storageLimit: one.length * 2 + 1, messageLimit: 10, storageUsed: one.length * 2, messagesUsed: 2 });
  assert.match(readFileSync(path.join(md.root, 'maildirsize'), 'utf8'), new RegExp(`\\n {${12 - String(one.length).length}}${one.length} {12}1\\n`));

  const inbox = await select(mail, 'INBOX');
  await assert.rejects(inbox.copyTo([1], 'INBOX.Sent'), code('OVERQUOTA'));
  await inbox.copyTo([1], 'INBOX.Trash');
  await inbox.moveTo([1], 'INBOX.Trash'); // leaves the quota
  assert.equal((await mail.quota())?.messagesUsed, 1);
  inbox.release();
  const sent = await select(mail, 'INBOX.Sent');
  await sent.expunge([1]);
  sent.release();
  assert.equal((await mail.quota())?.storageUsed, 0);
  await mail.deleteFolder('INBOX.Trash');
  assert.equal((await mail.quota())?.messagesUsed, 0);
});

test('quota: no maildirsize means no quota, and none is created', async () => {
  await mail.append('INBOX', message('x'));
  assert.equal(await mail.quota(), null);
  assert.equal(existsSync(path.join(md.root, 'maildirsize')), false);
});

test('quota: a long maildirsize is rebuilt from the messages on disk', async () => {
  deliver(md.root, '', message('a'), { dir: 'cur' });
  deliver(md.root, 'Sent', message('bb'), { dir: 'cur' });
  const lines = Array.from({ length: 300 }, () => '           1            1\n').join('');
  writeFileSync(path.join(md.root, 'maildirsize'), `100000S\n${lines}`);
  const quota = await mail.quota();
  assert.deepEqual(quota, { storageLimit: 100000, storageUsed: message('a').length + message('bb').length, messagesUsed: 2 });
  assert.equal(readFileSync(path.join(md.root, 'maildirsize'), 'utf8').split('\n').length, 3);
});

test('openMaildirStore refuses a directory that is no Maildir, and can create one', async () => {
  const missing = path.join(md.root, 'elsewhere');
  await assert.rejects(openMaildirStore({ root: missing }), /not a Maildir/);
  const created = await openMaildirStore({ root: missing, create: true });
  assert.deepEqual((await created.listFolders()).map((f) => f.name), ['INBOX']);
  await created.close();
});

test('IMAP_EMPTYTRASH: messages that came in before the limit go (by ctime, not INTERNALDATE)', async () => {
  await mail.createFolder('INBOX.Trash');
  deliver(md.root, 'Trash', message('old'), { dir: 'cur' });
  deliver(md.root, 'Trash', message('old, in new/'));
  const trash = await select(mail, 'INBOX.Trash');
  const r = recorder();
  trash.subscribe(r.listener);
  await new Promise((resolve) => setTimeout(resolve, 300));
  // Just arrived, but with an INTERNALDATE of 2020: stays.
  deliver(md.root, 'Trash', message('recent'), { dir: 'cur', mtime: Date.UTC(2020, 0, 1) });
  const purged = await (mail as import('../../server/maildir/index.js').MaildirStore).purgeOldMessages('INBOX.Trash', 200 / 86_400_000);
  assert.equal(purged, 2);
  assert.deepEqual((await infoOf(trash, trash.snapshot().messages.map((m) => m.uid))).map((m) => m.internalDate), [Date.UTC(2020, 0, 1)]);
  assert.deepEqual(r.changes.filter((c) => c.kind === 'expunged'), [{ kind: 'expunged', uids: [1, 2] }]);
  trash.release();
});

test('leftovers in tmp/ are removed after 36 hours by ctime: a delivery in progress with an old mtime stays', async () => {
  const staged = path.join(md.root, '.Sent', 'tmp', 'in-progress');
  writeFileSync(staged, 'x');
  const { utimesSync } = await import('node:fs');
  utimesSync(staged, new Date(Date.UTC(2019, 0, 1)), new Date(Date.UTC(2019, 0, 1)));
  (await select(mail, 'INBOX.Sent')).release();
  assert.ok(existsSync(staged));
});

test('APPEND of a message larger than the synchronous write limit: stored byte for byte, S= is its size', async () => {
  // 3 MB with bare LF line ends: goes through the asynchronous write path.
  const line = 'x'.repeat(99) + '\n';
  const big = Buffer.concat([message('big one'), Buffer.from(line.repeat(30_000))]);
  const { uid } = await mail.append('INBOX', big);
  const names = readdirSync(path.join(md.root, 'cur'));
  assert.equal(names.length, 1);
  assert.match(names[0]!, new RegExp(`,S=${big.length}[:,]`));
  assert.deepEqual(readFileSync(path.join(md.root, 'cur', names[0]!)), big);
  assert.deepEqual(readdirSync(path.join(md.root, 'tmp')), []);
  assert.ok(uid > 0);
});
