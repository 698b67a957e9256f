// Changes made by other processes reach open folders without refresh(): through
// inotify (fs.watch), or by polling when watching is off.

import assert from 'node:assert/strict';
import { readdirSync, renameSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { MailStore } from '../../server/backend/mailstore.js';
import type { FolderHandle } from '../../server/maildir/index.js';
import { deliver, message, recorder, store, tempMaildir, type TempMaildir, until, select } from './helpers.js';

let md: TempMaildir;
let mail: MailStore;

beforeEach(() => {
  md = tempMaildir(['Lists']);
});

afterEach(async () => {
  await mail.close();
  md.cleanup();
});

test('a delivery to new/ is pushed to the open folder within milliseconds, recent for the first session', async () => {
  mail = await store(md.root);
  const first = (await select(mail, 'INBOX')) as FolderHandle;
  const second = await select(mail, 'INBOX');
  assert.equal(first.watching, true);
  const r1 = recorder();
  const r2 = recorder();
  first.subscribe(r1.listener);
  second.subscribe(r2.listener);

  const started = Date.now();
  deliver(md.root, '', message('pushed'));
  await until(() => r1.changes.length > 0 && r2.changes.length > 0, 2000, 'the added event');
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 500, `took ${elapsed} ms`);
  assert.deepEqual(r1.changes.map((c) => c.kind === 'added' && [c.recent, c.messages.map((m) => m.uid)]), [[true, [1]]]);
  assert.deepEqual(r2.changes.map((c) => c.kind === 'added' && [c.recent, c.messages.map((m) => m.uid)]), [[false, [1]]]);
  assert.deepEqual(readdirSync(path.join(md.root, 'new')), [], 'claimed from new/');
  first.release();
  second.release();
});

test('flag changes and deletions by another program are pushed too', async () => {
  mail = await store(md.root);
  const name = deliver(md.root, 'Lists', message('a'), { dir: 'cur' });
  const other = deliver(md.root, 'Lists', message('b'), { dir: 'cur' });
  const folder = await select(mail, 'INBOX.Lists');
  const r = recorder();
  folder.subscribe(r.listener);

  const dir = path.join(md.root, '.Lists', 'cur');
  renameSync(path.join(dir, name), path.join(dir, name.replace(/:2,$/, ':2,FS')));
  await until(() => r.changes.length >= 1, 2000, 'the flags event');
  assert.deepEqual(r.plain(), [{ kind: 'flags', uid: 1, flags: ['\\Flagged', '\\Seen'] }]);

  unlinkSync(path.join(dir, other));
  await until(() => r.changes.length >= 2, 2000, 'the expunged event');
  assert.deepEqual(r.plain()[1], { kind: 'expunged', uids: [2] });
  folder.release();
});

test('a second login (another store on the same Maildir) hears of our STORE at once', async () => {
  mail = await store(md.root);
  deliver(md.root, '', message('a'), { dir: 'cur' });
  const mine = await select(mail, 'INBOX');
  // A second store with its own settings object behaves like a second login.
  const otherStore = await store(md.root, { idleRetentionMs: 10 });
  const theirs = await select(otherStore, 'INBOX');
  const r = recorder();
  theirs.subscribe(r.listener);
  await mine.storeFlags([1], 'add', ['\\Seen', 'Work']);
  assert.deepEqual(r.plain(), [{ kind: 'flags', uid: 1, flags: ['Work', '\\Seen'] }]);
  mine.release();
  theirs.release();
  await otherStore.close();
});

test('without watching, polling still notices new mail', async () => {
  mail = await store(md.root, { watch: false, pollIntervalMs: 20 });
  const folder = (await select(mail, 'INBOX')) as FolderHandle;
  assert.equal(folder.watching, false);
  const r = recorder();
  folder.subscribe(r.listener);
  deliver(md.root, '', message('polled'));
  await until(() => r.changes.length > 0, 2000, 'the polled change');
  assert.equal(r.changes[0].kind, 'added');
  folder.release();
});

test('nobody is notified after release, and the watcher stops with the last session', async () => {
  mail = await store(md.root);
  const folder = await select(mail, 'INBOX');
  const r = recorder();
  folder.subscribe(r.listener);
  folder.release();
  deliver(md.root, '', message('late'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(r.changes, []);
  assert.equal(readdirSync(path.join(md.root, 'new')).length, 1, 'no session: new/ is left alone');
});

test('unsubscribe stops one listener only', async () => {
  mail = await store(md.root);
  const folder = await select(mail, 'INBOX');
  const a = recorder();
  const b = recorder();
  const stopA = folder.subscribe(a.listener);
  folder.subscribe(b.listener);
  stopA();
  deliver(md.root, '', message('x'));
  await until(() => b.changes.length > 0, 2000, 'the event for b');
  assert.deepEqual(a.changes, []);
  const change = b.changes[0];
  assert.ok(change.kind === 'added' && change.recent, 'the remaining first listener gets \\Recent');
  folder.release();
});

test('the same Maildir reached through a symlink shares one folder state (and one lock queue)', async () => {
  const { symlinkSync } = await import('node:fs');
  const link = `${md.root}-link`;
  symlinkSync(md.root, link);
  mail = await store(md.root, { watch: false });
  const viaLink = await store(link, { watch: false });
  const folder = await select(mail, 'INBOX');
  const r = recorder();
  folder.subscribe(r.listener);
  await viaLink.append('INBOX', message('through the link'));
  assert.deepEqual(r.changes.map((c) => c.kind), ['added'], 'heard at once, without a scan or a watcher');
  folder.release();
  await viaLink.close();
});
