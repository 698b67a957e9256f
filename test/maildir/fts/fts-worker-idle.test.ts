// The full-text index's writer (a process of its own) is stopped once it has had nothing to do
// for a while (a session left in IDLE keeps no idle writer's memory), and the next catch-up
// starts another.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { FullTextIndex, type FtsTarget } from '../../../server/maildir/fts/fts-index.js';
import { FTS_FILE } from '../../../server/maildir/fts/fts-db.js';
import { deliver, tempMaildir } from '../helpers.js';

/** This process's children running the writer (fts-worker), from /proc. */
function writers(): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      // The parent pid is the 2nd field after the command in parentheses (which may hold spaces).
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('fts-worker')) count++;
    } catch {
      // gone meanwhile
    }
  }
  return count;
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

test('the writer stops when idle and starts again for the next catch-up', { skip: process.platform !== 'linux' && 'counts processes in /proc' }, async () => {
  const maildir = tempMaildir();
  const index = new FullTextIndex(undefined, 300);
  try {
    for (let n = 1; n <= 3; n++) deliver(maildir.root, '', message(n), { dir: 'cur' });
    assert.equal(writers(), 0);
    assert.deepEqual(await index.catchUp(target(maildir.root)), { done: 3, total: 3 });
    assert.equal(writers(), 1, 'the writer runs in a process of its own');
    const until = Date.now() + 10_000;
    while (writers() > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(writers(), 0, 'the idle writer has ended');
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
