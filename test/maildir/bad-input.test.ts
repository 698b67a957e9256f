// Bad input on disk and in names (issue 2): damaged UID databases, unparseable file names,
// a folder without tmp/, symlinks that point outside the Maildir, hostile folder names, and
// a full disk during delivery. Each gets a clear error or a safe recovery; no message is
// lost or left half-written, and nothing outside the Maildir is touched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openMaildirStore } from '../../server/maildir/index.js';
import { MailStoreError } from '../../server/backend/mailstore.js';
import { emptyMaildir, removeTree, simpleMessage, standardMaildir, tempDir } from '../helpers/maildir.js';

async function uidsOf(root: string): Promise<{ uidValidity: number; uids: number[]; count: number }> {
  const store = await openMaildirStore({ root, watch: false });
  try {
    const folder = await store.openFolder('INBOX');
    await folder.refresh();
    const snap = folder.snapshot();
    folder.release();
    return { uidValidity: snap.uidValidity, uids: snap.messages.map((m) => m.uid), count: snap.messages.length };
  } finally {
    await store.close();
  }
}

test('a truncated courierimapuiddb keeps every UID it still has and the same UIDVALIDITY', async () => {
  const dir = tempDir('bad');
  const md = standardMaildir(path.join(dir, 'Maildir'), 6);
  try {
    const before = await uidsOf(md);
    const db = path.join(md, 'courierimapuiddb');
    const text = fs.readFileSync(db, 'utf8');
    // Cut the file in the middle of the fourth message line.
    const lines = text.split('\n');
    fs.writeFileSync(db, lines.slice(0, 4).join('\n') + '\n' + lines[4].slice(0, 10));
    const after = await uidsOf(md);
    assert.equal(after.uidValidity, before.uidValidity);
    assert.equal(after.count, 6, 'no message lost');
    assert.deepEqual(after.uids.slice(0, 3), before.uids.slice(0, 3), 'UIDs that could be read are kept');
    assert.ok(after.uids.slice(3).every((u) => u > Math.max(...before.uids)), 'the others get new, never reused UIDs');
  } finally {
    removeTree(dir);
  }
});

test('a garbled header is a lost database: new UIDVALIDITY, every message still there', async () => {
  const dir = tempDir('bad');
  const md = standardMaildir(path.join(dir, 'Maildir'), 4);
  try {
    const before = await uidsOf(md);
    fs.writeFileSync(path.join(md, 'courierimapuiddb'), '\x00\x01garbage that is no header\n1 whatever\n');
    const after = await uidsOf(md);
    assert.notEqual(after.uidValidity, before.uidValidity);
    assert.equal(after.count, 4);
  } finally {
    removeTree(dir);
  }
});

test('a file in cur/ with a name that cannot be parsed is served, not deleted', async () => {
  const dir = tempDir('bad');
  const md = emptyMaildir(path.join(dir, 'Maildir'));
  try {
    fs.writeFileSync(path.join(md, 'cur', 'no colon or flags at all'), simpleMessage('odd name'));
    fs.writeFileSync(path.join(md, 'cur', 'odd:2,'), simpleMessage('empty flags'));
    fs.writeFileSync(path.join(md, 'cur', 'weird:1,xyz'), simpleMessage('old info version'));
    const r = await uidsOf(md);
    assert.equal(r.count, 3);
    assert.equal(fs.readdirSync(path.join(md, 'cur')).length, 3);
  } finally {
    removeTree(dir);
  }
});

test('a folder without tmp/ still takes deliveries (tmp/ is made again)', async () => {
  const dir = tempDir('bad');
  const md = standardMaildir(path.join(dir, 'Maildir'), 2);
  try {
    fs.rmSync(path.join(md, '.Sent', 'tmp'), { recursive: true });
    const store = await openMaildirStore({ root: md, watch: false });
    const r = await store.append('INBOX.Sent', simpleMessage('into a folder without tmp'));
    assert.ok(r.uid > 0);
    assert.ok(fs.existsSync(path.join(md, '.Sent', 'tmp')));
    await store.close();
  } finally {
    removeTree(dir);
  }
});

test('a folder that is a symlink to somewhere outside the Maildir is neither listed nor touched', async () => {
  const dir = tempDir('bad');
  const md = standardMaildir(path.join(dir, 'Maildir'), 2);
  const outside = standardMaildir(path.join(dir, 'outside'), 2);
  try {
    fs.symlinkSync(outside, path.join(md, '.Evil'));
    const listing = fs.readdirSync(path.join(outside, 'cur')).sort();
    const store = await openMaildirStore({ root: md, watch: false });
    const names = (await store.listFolders()).map((f) => f.name);
    assert.ok(!names.includes('INBOX.Evil'), names.join(' '));
    await assert.rejects(store.openFolder('INBOX.Evil'), MailStoreError);
    await assert.rejects(store.append('INBOX.Evil', simpleMessage('x')), MailStoreError);
    await assert.rejects(store.deleteFolder('INBOX.Evil'), MailStoreError);
    await store.close();
    assert.deepEqual(fs.readdirSync(path.join(outside, 'cur')).sort(), listing);
    assert.ok(!fs.existsSync(path.join(outside, 'courierimapuiddb')));
  } finally {
    removeTree(dir);
  }
});

test('folder names with "/", "..", control characters or empty levels are refused clearly', async () => {
  const dir = tempDir('bad');
  const md = emptyMaildir(path.join(dir, 'Maildir'));
  try {
    const store = await openMaildirStore({ root: md, watch: false });
    for (const name of ['INBOX.a/b', 'INBOX.../etc', 'INBOX..x', 'INBOX.tab\there', 'INBOX.nl\nname', '../x', '/etc']) {
      await assert.rejects(store.createFolder(name), (err: unknown) => err instanceof MailStoreError && err.message.length > 0, name);
    }
    await store.close();
    assert.deepEqual(fs.readdirSync(md).sort(), ['cur', 'new', 'tmp']);
    assert.ok(!fs.existsSync(path.join(dir, 'x')) && !fs.existsSync(path.join(dir, 'etc')));
  } finally {
    removeTree(dir);
  }
});

const canMount = process.getuid?.() === 0;

test('a full disk during delivery: a clear error, and nothing half-written in cur/ or new/', { skip: canMount ? false : 'mounting a small tmpfs needs root' }, async () => {
  const dir = tempDir('bad');
  const mount = path.join(dir, 'small');
  fs.mkdirSync(mount);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount]);
  } catch {
    removeTree(dir);
    return; // a container without the right to mount: nothing to check here
  }
  try {
    const md = emptyMaildir(path.join(mount, 'Maildir'));
    const store = await openMaildirStore({ root: md, watch: false });
    await store.append('INBOX', simpleMessage('fits'));
    const big = Buffer.alloc(400 * 1024, 0x61);
    await assert.rejects(store.append('INBOX', Buffer.concat([simpleMessage('too big'), big])), (err: unknown) => err instanceof MailStoreError || (err as NodeJS.ErrnoException).code === 'ENOSPC');
    await store.close();
    const cur = fs.readdirSync(path.join(md, 'cur'));
    assert.equal(cur.length, 1, 'only the message that fitted');
    assert.deepEqual(fs.readdirSync(path.join(md, 'new')), []);
    assert.deepEqual(fs.readdirSync(path.join(md, 'tmp')).filter((f) => !f.startsWith('.')), [], 'the partial file is removed from tmp/');
    assert.match(fs.readFileSync(path.join(md, 'cur', cur[0]), 'latin1'), /Subject: fits/);
  } finally {
    execFileSync('umount', ['-l', mount]);
    removeTree(dir);
  }
});
