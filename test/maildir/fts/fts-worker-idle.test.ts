// The full-text index's writer thread is stopped once it has had nothing to do for a while (a
// session left in IDLE keeps no thread's heap), and the next catch-up starts another.

import assert from 'node:assert/strict';
import { promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { FullTextIndex, type FtsTarget } from '../../../server/maildir/fts/fts-index.js';
import { FTS_FILE } from '../../../server/maildir/fts/fts-db.js';
import { deliver, tempMaildir } from '../helpers.js';

function threads(): number {
  return readdirSync('/proc/self/task').length;
}

/** The folder's messages in cur/, UIDs 1.. in file order. */
function target(root: string): FtsTarget {
  const names = readdirSync(path.join(root, 'cur')).sort();
  return { dir: root, uidValidity: 7, uids: () => names.map((_, i) => i + 1), fileName: (uid) => names[uid - 1] };
}

function indexedUids(root: string): number[] {
  const db = new Database(path.join(root, FTS_FILE), { readonly: true });
  try {
    return db.prepare('SELECT uid FROM docs ORDER BY uid').pluck().all() as number[];
  } finally {
    db.close();
  }
}

const message = (n: number): Buffer => Buffer.from(`From: a@example.org\nSubject: note ${n}\n\nzorbulate number ${n}\n`);

test('the writer thread stops when idle and starts again for the next catch-up', { skip: process.platform !== 'linux' && 'counts threads in /proc' }, async () => {
  const maildir = tempMaildir();
  const index = new FullTextIndex(undefined, 300);
  try {
    for (let n = 1; n <= 3; n++) deliver(maildir.root, '', message(n), { dir: 'cur' });
    await fsp.stat(maildir.root); // libuv's thread pool started before the count
    const before = threads();
    assert.deepEqual(await index.catchUp(target(maildir.root)), { done: 3, total: 3 });
    assert.ok(threads() > before, 'the writer runs in a thread of its own');
    const until = Date.now() + 10_000;
    while (threads() > before && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(threads(), before, 'the idle writer thread has ended');
    assert.deepEqual(indexedUids(maildir.root), [1, 2, 3]);

    for (let n = 4; n <= 5; n++) deliver(maildir.root, '', message(n), { dir: 'cur' });
    assert.deepEqual(await index.catchUp(target(maildir.root)), { done: 5, total: 5 });
    assert.deepEqual(indexedUids(maildir.root), [1, 2, 3, 4, 5]);
    const candidates = index.candidates(maildir.root, 7, 'zorbulate');
    assert.ok(candidates && [1, 2, 3, 4, 5].every((uid) => candidates.covers(uid) && candidates.mayContain(uid)));
  } finally {
    await index.close();
    maildir.cleanup();
  }
});
