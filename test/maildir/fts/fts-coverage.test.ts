// What a folder's full-text index covers (the UIDs it has read) is read cheaply: stdio imapd runs
// one process per session, and each one's first SEARCH used to read the coverage row by row
// (100,000 rows at 100,000 messages, about 2 s on a loaded machine).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openMaildirStore, type MaildirStore } from '../../../server/maildir/index.js';
import { addToRuns, decodeRuns, encodeRuns, notIn, possibleAmong, removeFromRuns, runsCount, runsHave, runsOf, runsUids, type UidRuns } from '../../../server/maildir/fts/fts-coverage.js';
import { FTS_FILE, ftsPath, openForWriting, writeTexts } from '../../../server/maildir/fts/fts-db.js';
import { FullTextIndex, sharedFullTextIndex } from '../../../server/maildir/fts/fts-index.js';
import { distinctTrigrams } from '../../../server/maildir/fts/fts-tokens.js';
import { deliver, tempMaildir, type TempMaildir } from '../helpers.js';
import { randomSource } from './helpers.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempFolder(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fts-coverage-'));
  dirs.push(dir);
  return dir;
}

/** Bytes this process has read from files so far (Linux); undefined where /proc does not tell. */
function bytesRead(): number | undefined {
  try {
    const m = /^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

test('a new process answers its first search from a large index reading little of the file', () => {
  const dir = tempFolder();
  const COUNT = 100_000;
  const db = openForWriting(ftsPath(dir), 7);
  try {
    for (let first = 1; first <= COUNT; first += 10_000) {
      const uids = Array.from({ length: 10_000 }, (_, i) => first + i);
      writeTexts(db, uids, uids.map((uid) => ({ trigrams: distinctTrigrams(uid % 1000 === 0 ? `zorbulate ${uid}` : `n${uid}`), words: '' })), []);
    }
    // A few taken out (expunged): holes in the coverage.
    writeTexts(db, [], [], [5, 50_000, 77_777]);
  } finally {
    db.close();
  }
  const before = bytesRead();
  const answer = new FullTextIndex().candidates(dir, 7, 'zorbulate');
  const read = bytesRead();
  assert.ok(answer);
  for (const uid of [1, 4, 6, 49_999, 50_001, COUNT]) assert.equal(answer.covers(uid), true, `covers ${uid}`);
  for (const uid of [5, 50_000, 77_777, COUNT + 1]) assert.equal(answer.covers(uid), false, `covers ${uid}`);
  assert.equal(answer.mayContain(1000), true);
  assert.equal(answer.mayContain(1001), false);
  if (before !== undefined && read !== undefined) {
    // The docs rows alone of 100,000 messages are about a megabyte.
    assert.ok(read - before < 128 * 1024, `read ${read - before} bytes of the index file`);
  }
});

test('runs of UIDs hold what was added and not what was taken out', () => {
  const random = randomSource(31);
  const model = new Set<number>();
  let runs: UidRuns = runsOf([]);
  for (let round = 0; round < 300; round++) {
    const uids = Array.from({ length: random(40) }, () => 1 + random(500));
    if (random(3) === 0) {
      runs = removeFromRuns(runs, uids);
      for (const uid of uids) model.delete(uid);
    } else {
      runs = addToRuns(runs, uids);
      for (const uid of uids) model.add(uid);
    }
    const sorted = [...model].sort((a, b) => a - b);
    assert.deepEqual([...runsUids(runs)], sorted);
    assert.deepEqual(runs, runsOf(sorted));
    assert.deepEqual(decodeRuns(encodeRuns(runs)), runs);
    assert.equal(runsCount(runs), model.size);
    const all = Array.from({ length: 510 }, (_, i) => i);
    assert.deepEqual(notIn(runs, all), all.filter((uid) => !model.has(uid)));
    for (const uid of all) assert.equal(runsHave(runs, uid), model.has(uid));
  }
});

test('the places of the messages an index leaves possible are those a test of each finds', () => {
  const random = randomSource(97);
  for (let round = 0; round < 300; round++) {
    const limit = 1 + random(400);
    const covered = new Set<number>();
    for (let i = random(limit); i > 0; i--) covered.add(1 + random(limit));
    const runs = runsOf([...covered].sort((a, b) => a - b));
    // The index names covered UIDs (some expunged since, some twice), never others.
    const matches = [...covered].filter(() => random(4) === 0);
    if (matches.length > 0 && random(3) === 0) matches.push(matches[0]);
    matches.sort((a, b) => a - b);
    const uids = Array.from({ length: limit + 5 }, (_, i) => i + 1).filter(() => random(3) !== 0);
    const named = new Set(matches);
    const expected = uids.flatMap((uid, i) => (!runsHave(runs, uid) || named.has(uid) ? [i] : []));
    assert.deepEqual(possibleAmong(runs, matches, uids.length, (i) => uids[i]), expected, `round ${round}`);
  }
});

/** An index file as version 1 made it (docs rows, no coverage). */
function versionOneIndex(file: string, uidValidity: number, texts: Map<number, string>): void {
  const db = new Database(file);
  try {
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE docs (seq INTEGER PRIMARY KEY AUTOINCREMENT, uid INTEGER NOT NULL UNIQUE);
      CREATE VIRTUAL TABLE text USING fts5(body, tokenize = 'trigram case_sensitive 1', detail = none, content = '', contentless_delete = 1);
    `);
    const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    meta.run('version', '1');
    meta.run('uidvalidity', String(uidValidity));
    meta.run('generation', '12345');
    for (const [uid, text] of texts) {
      db.prepare('INSERT INTO text (rowid, body) VALUES (?, ?)').run(uid, text);
      db.prepare('INSERT INTO docs (uid) VALUES (?)').run(uid);
    }
  } finally {
    db.close();
  }
}

describe('an index file of an older version', () => {
  let maildir: TempMaildir;
  let store: MaildirStore;
  after(async () => {
    await store?.close();
    await sharedFullTextIndex().close();
    maildir?.cleanup();
  });

  test('is made again (its texts were tokenized otherwise); until then SEARCH scans', async () => {
    maildir = tempMaildir();
    for (let i = 1; i <= 6; i++) deliver(maildir.root, '', Buffer.from(`Subject: m${i}\n\nbody ${i} zorbulate\n`), { dir: 'cur' });
    store = await openMaildirStore({ root: maildir.root, fullTextIndex: true, watch: false });
    const folder = await store.openFolder('INBOX');
    try {
      await folder.refresh();
      const uids = folder.snapshot().messages.map((m) => m.uid);
      // The old file has read the first four messages; its text for the first has a word the
      // message lacks, so that an answer from the old file would differ.
      const texts = new Map(uids.slice(0, 4).map((uid, i) => [uid, `body ${i + 1} zorbulate${i === 0 ? ' plumbago' : ''}`]));
      versionOneIndex(path.join(maildir.root, FTS_FILE), folder.snapshot().uidValidity, texts);
      assert.equal(await folder.textCandidates!('zorbulate'), null, 'not read before it is made again');
      const progress = await store.indexFolderText('INBOX');
      assert.deepEqual(progress, { done: 6, total: 6 });
      const answer = await folder.textCandidates!('plumbago');
      assert.ok(answer);
      for (const uid of uids) assert.equal(answer.covers(uid), true);
      for (const uid of uids) assert.equal(answer.mayContain(uid), false, 'the old text is gone');
      const found = await folder.textCandidates!('zorbulate');
      for (const uid of uids) assert.equal(found!.mayContain(uid), true);
      const db = new Database(path.join(maildir.root, FTS_FILE), { readonly: true });
      try {
        assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'version'").pluck().get(), '3');
        assert.deepEqual(db.prepare('SELECT uid FROM docs ORDER BY uid').pluck().all(), uids);
      } finally {
        db.close();
      }
    } finally {
      folder.release();
    }
  });

  test('a coverage that is not well formed counts as corrupt: the file is made again', async () => {
    const file = path.join(maildir.root, FTS_FILE);
    const db = new Database(file);
    try {
      db.prepare('UPDATE coverage SET runs = ? WHERE id = 1').run(Buffer.from([1, 2, 3]));
    } finally {
      db.close();
    }
    const folder = await store.openFolder('INBOX');
    try {
      await folder.refresh();
      assert.equal(await folder.textCandidates!('zorbulate'), null);
      const uids = folder.snapshot().messages.map((m) => m.uid);
      const until = Date.now() + 20_000;
      for (;;) {
        await store.indexFolderText('INBOX');
        const answer = await folder.textCandidates!('plumbago');
        if (answer && answer.covers(uids[0])) {
          assert.equal(answer.mayContain(uids[0]), false, 'made again from the messages');
          break;
        }
        assert.ok(Date.now() < until, 'the index made again');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      folder.release();
    }
  });
});
