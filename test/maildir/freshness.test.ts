// The shortcuts the engine takes must never hide a change: scans skipped for folders
// whose directories did not change, cached keyword reads, and messages of our own
// added without a scan.

import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { MailStore } from '../../server/backend/mailstore.js';
import { assignUids } from '../../server/maildir/scan.js';
import { readUidDb } from '../../server/maildir/uiddb.js';
import { deliver, flagsOf, message, recorder, store, tempMaildir, type TempMaildir, select } from './helpers.js';

let md: TempMaildir;
let mail: MailStore;

beforeEach(async () => {
  md = tempMaildir();
  mail = await store(md.root, { watch: false });
});

afterEach(async () => {
  await mail.close();
  md.cleanup();
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 1100));

test('a settled folder still shows changes made after the last look (flags, keywords, deliveries, removals)', async () => {
  const a = deliver(md.root, '', message('a'), { dir: 'cur' });
  const b = deliver(md.root, '', message('b'), { dir: 'cur' });
  const folder = await select(mail, 'INBOX');
  await folder.storeFlags([1], 'add', ['Kw']); // creates courierimapkeywords/
  await folder.refresh();
  await settle();
  await folder.refresh(); // remembers settled directory stamps
  await folder.refresh(); // and skips the scan
  const r = recorder();
  folder.subscribe(r.listener);

  // Another program: a flag change, a keyword update in Courier's format, a delivery, a removal.
  const cur = path.join(md.root, 'cur');
  renameSync(path.join(cur, a), path.join(cur, a.replace(/:2,$/, ':2,S')));
  writeFileSync(path.join(md.root, 'tmp', 'kw'), 'Other\n');
  renameSync(path.join(md.root, 'tmp', 'kw'), path.join(md.root, 'courierimapkeywords', b.replace(/:2,$/, '')));
  await folder.refresh();
  assert.deepEqual(r.plain(), [
    { kind: 'flags', uid: 1, flags: ['Kw', '\\Seen'] },
    { kind: 'flags', uid: 2, flags: ['Other'] },
  ]);

  await settle();
  await folder.refresh();
  deliver(md.root, '', message('c'));
  await folder.refresh();
  // The delivery, after the two messages nobody had been told of as recent (this handle had no listener at its SELECT).
  assert.deepEqual(r.changes.slice(2).map((c) => c.kind === 'added' && [c.recent, c.messages.map((m) => m.uid)]), [[true, [1, 2]], [true, [3]]]);
  await settle();
  await folder.refresh();
  const { unlinkSync, readdirSync } = await import('node:fs');
  unlinkSync(path.join(cur, readdirSync(cur).find((n) => n.startsWith(b.replace(/:2,$/, '')))!));
  await folder.refresh();
  assert.deepEqual(r.changes.slice(4), [{ kind: 'expunged', uids: [2] }]);
  folder.release();
});

test('when another process numbers a message between our APPENDs, sessions still learn UIDs in order', async () => {
  const folder = await select(mail, 'INBOX');
  const r = recorder();
  folder.subscribe(r.listener);
  await mail.append('INBOX', message('ours 1'));

  // Another process (its own memory of the database) delivers and numbers a message.
  const foreign = deliver(md.root, '', message('theirs'), { dir: 'cur' });
  const theirs = await assignUids(md.root, [foreign.replace(/:2,$/, '')], {});
  assert.deepEqual(theirs.uids, [2]);

  await mail.append('INBOX', message('ours 2'));
  const added = r.changes.flatMap((c) => (c.kind === 'added' ? c.messages.map((m) => m.uid) : []));
  assert.deepEqual(added, [1, 2, 3], 'ascending, none missing');
  assert.deepEqual(folder.snapshot().messages.map((m) => m.uid), [1, 2, 3]);
  assert.deepEqual(flagsOf(folder.snapshot().messages[1].flags), []);
  folder.release();
});

test('a folder opened after changes by a store that has since gone away is read afresh', async () => {
  deliver(md.root, '', message('a'), { dir: 'cur' });
  const first = await select(mail, 'INBOX');
  first.release();
  await mail.close();
  await new Promise((resolve) => setTimeout(resolve, 30)); // the idle state is dropped
  deliver(md.root, '', message('b'), { dir: 'cur' });
  mail = await store(md.root, { watch: false });
  const again = await select(mail, 'INBOX');
  assert.deepEqual(again.snapshot().messages.map((m) => m.uid), [1, 2]);
  again.release();
});

test('files left without a UID by the open are numbered by the next refresh, even in a settled folder', async () => {
  deliver(md.root, '', message('numbered'), { dir: 'cur' });
  (await select(mail, 'INBOX')).release(); // courierimapuiddb exists from here on
  await new Promise((resolve) => setTimeout(resolve, 30)); // the idle state is dropped
  const inCur = deliver(md.root, '', message('in cur, no UID'), { dir: 'cur', flags: 'S' });
  const inNew = deliver(md.root, '', message('in new'));
  await settle();
  const folder = await mail.openFolder('INBOX');
  assert.deepEqual(folder.snapshot().messages.map((m) => m.uid), [1], 'open leaves them to the claiming scan');
  await folder.refresh();
  assert.deepEqual(folder.snapshot().messages.map((m) => m.uid), [1, 2, 3]);
  // Numbered together, in the order of their names (as Courier does).
  const { db } = await readUidDb(md.root);
  assert.equal(db!.uids.get(inCur.replace(/:2,S$/, '')), 2);
  assert.equal(db!.uids.get(inNew), 3);
  folder.release();
});

test('with new/ empty, the open numbers files in cur/ without a UID itself (the same order)', async () => {
  deliver(md.root, '', message('numbered'), { dir: 'cur' });
  (await select(mail, 'INBOX')).release();
  await new Promise((resolve) => setTimeout(resolve, 30));
  deliver(md.root, '', message('in cur, no UID'), { dir: 'cur', flags: 'S' });
  const folder = await mail.openFolder('INBOX');
  assert.deepEqual(folder.snapshot().messages.map((m) => m.uid), [1, 2]);
  folder.release();
});

test('one message removed and another delivered between two looks: both are reported', async () => {
  const gone = deliver(md.root, '', message('to be removed'), { dir: 'cur' });
  const folder = await select(mail, 'INBOX');
  const r = recorder();
  folder.subscribe(r.listener);
  const { unlinkSync } = await import('node:fs');
  unlinkSync(path.join(md.root, 'cur', gone));
  deliver(md.root, '', message('replacement'));
  await folder.refresh();
  assert.deepEqual(r.changes.map((c) => c.kind), ['expunged', 'added']);
  assert.deepEqual(folder.snapshot().messages.map((m) => m.uid), [2]);
  folder.release();
});
