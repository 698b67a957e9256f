// The full-text index (server/maildir/fts/) against the scan: SEARCH BODY / TEXT gives the same
// UIDs with the index's answers as without, on the SEARCH test corpus, the MIME corpus and
// random messages; an index that is behind, lost or corrupt changes no answer; deliveries,
// expunges and changes by other programs reach the index.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Folder } from '../../../server/backend/mailstore.js';
import { foldForSearch } from '../../../server/imap/search/fold.js';
import { openMaildirStore, type MaildirStore } from '../../../server/maildir/index.js';
import { FTS_FILE } from '../../../server/maildir/fts/fts-db.js';
import { sharedFullTextIndex } from '../../../server/maildir/fts/fts-index.js';
import { SharableMailStore } from '../../../server/maildir/sharable-store.js';
import { SharedMailStore } from '../../../server/backend/shared.js';
import { corpusRaw, CORPUS } from '../../imap/search/corpus.js';
import { corpus } from '../../mime/corpus.js';
import { deliver, tempMaildir, type TempMaildir } from '../helpers.js';
import { randomMessage, randomNeedles, randomSource, searchFolder } from './helpers.js';
import { indexPieces } from '../../../server/mime/index-text.js';
import { parseStructure } from '../../../server/mime/parse.js';

const NEEDLES = [
  'catalog', 'atalog', 'abc', 'bc zorbu', 'zorbu',
  'zorbulate', 'ZorBulate', 'fine', 'fi', 'k', 'ss', 'late', 'zor bu', 'ab:c', '1/2', '.', 'subject', 'from', 'x', 'é', 'café',
  'σ', 'ΟΔΟΣ', 'ü', 'straße', 'zorbulate\u0301', '\t', 'a\nb', '', 'project plan', 'message', 'example.org', 'Wilhelmina',
  'report', 'quux', '.pdf', 'attachment', '漢字', 'Привет', 'grüße', '"', 'ﬁne', 'ＺＯＲ',
];

async function agree(folder: Folder, needles: readonly string[], label: string): Promise<number> {
  let indexed = 0;
  for (const value of needles) {
    for (const op of ['text', 'body'] as const) {
      const scan = await searchFolder(folder, { op, value }, false);
      const fromIndex = await searchFolder(folder, { op, value }, true);
      assert.deepEqual(fromIndex.uids, scan.uids, `${label}: ${op.toUpperCase()} ${JSON.stringify(value)}`);
      if (fromIndex.indexed) indexed++;
    }
  }
  return indexed;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function indexedUids(root: string): number[] {
  const db = new Database(path.join(root, FTS_FILE), { readonly: true });
  try {
    return db.prepare('SELECT uid FROM docs ORDER BY uid').pluck().all() as number[];
  } finally {
    db.close();
  }
}

describe('full-text index', () => {
  let maildir: TempMaildir;
  let store: MaildirStore;
  let folder: Folder;

  before(async () => {
    maildir = tempMaildir();
    for (let n = 1; n <= CORPUS.length; n++) deliver(maildir.root, '', corpusRaw(n), { dir: 'cur' });
    for (const { raw } of corpus()) deliver(maildir.root, '', raw, { dir: 'cur' });
    const random = randomSource(4242);
    for (let i = 0; i < 150; i++) deliver(maildir.root, '', randomMessage(random), { dir: 'cur' });
    // Characters whose folding leaves ASCII capitals (NFKD of "ℂ" is "C", of "𝐀" "A"): a word of
    // the index must not prove "catalog" or "abc" here, which SEARCH does not find.
    deliver(maildir.root, '', Buffer.from('Subject: capitals\nContent-Type: text/plain; charset=utf-8\n\n\u2102atalog \u{1d400}BC zorbu\u2102ate\n', 'utf8'), { dir: 'cur' });
    store = await openMaildirStore({ root: maildir.root, fullTextIndex: true, watch: false });
    const progress = await store.indexFolderText('INBOX');
    assert.ok(progress && progress.done === progress.total && progress.total > 150, `indexed: ${JSON.stringify(progress)}`);
    folder = await store.openFolder('INBOX');
    await folder.refresh();
  });

  after(async () => {
    folder.release();
    await store.close();
    // The writer may still be catching up (a catch-up a test asked for): it stops first.
    await sharedFullTextIndex().close();
    maildir.cleanup();
  });

  test('the file lies beside Courier\'s and is no folder', async () => {
    assert.ok(existsSync(path.join(maildir.root, FTS_FILE)));
    assert.deepEqual((await store.listFolders()).map((f) => f.name), ['INBOX']);
  });

  test('index and scan agree on the SEARCH corpus, the MIME corpus and awkward strings', async () => {
    const indexed = await agree(folder, NEEDLES, 'fixed strings');
    assert.ok(indexed >= 40, `the index answered ${indexed} searches`);
  });

  test('index and scan agree on random strings of random messages', async () => {
    const random = randomSource(777);
    const texts = NEEDLES.join(' ') + ' Wilhelmina zorbulate Grüße ΟΔΟΣ =?utf-8?B?em9y?= report.pdf';
    await agree(folder, randomNeedles(random, texts, 60), 'random strings');
  });

  test('index and scan agree on the words of the messages; those a text part has are not read', async () => {
    // Words prove a match (fts-tokens.ts distinctWords): every word of the messages' header lines
    // and text parts, their starts and their ends, in any case, give the scan's answer, for BODY
    // and TEXT.
    const random = randomSource(99);
    const words = new Set<string>();
    for (const { uid } of folder.snapshot().messages) {
      const raw = await folder.readMessage(uid);
      const { lines, texts } = indexPieces(raw, parseStructure(raw).body);
      for (const text of [...lines, ...texts]) for (const [word] of text.matchAll(/[\p{L}\p{N}]{3,}/gu)) words.add(word);
    }
    const all = [...words];
    const picked = Array.from({ length: 80 }, () => all[random(all.length)]);
    const parts = picked.slice(0, 30).map((w, i) => (i % 2 === 0 ? w.slice(0, 3 + random(w.length)) : w.slice(1)));
    await agree(folder, [...picked, ...parts, ...picked.slice(0, 20).map((w) => w.toUpperCase()), 'zorbulate', 'zorbu', 'quux', 'attachment', 'wilhelmina', 'pdf'], 'words');
    const answer = await folder.textCandidates!('zorbulate');
    assert.ok(answer?.contains);
    const uids = folder.snapshot().messages.map((m) => m.uid);
    const proven = uids.filter((uid) => answer.contains!(uid));
    const candidates = uids.filter((uid) => !answer.covers(uid) || answer.mayContain(uid));
    assert.ok(proven.length > 20, `${proven.length} proven`);
    for (const op of ['text', 'body'] as const) {
      const fromIndex = await searchFolder(folder, { op, value: 'ZorBulate' }, true);
      assert.equal(fromIndex.read, candidates.length - proven.length, `${op}: only candidates without proof are read`);
      for (const uid of proven) assert.ok(fromIndex.uids.includes(uid));
    }
  });

  test('the index reads only candidates; strings under three characters are scanned', async () => {
    const total = folder.snapshot().messages.length;
    const scan = await searchFolder(folder, { op: 'text', value: 'Project plan' }, false);
    const fromIndex = await searchFolder(folder, { op: 'text', value: 'Project plan' }, true);
    assert.equal(scan.read, total);
    assert.ok(fromIndex.indexed && fromIndex.read < total / 10, `read ${fromIndex.read} of ${total}`);
    assert.deepEqual(fromIndex.uids, scan.uids);
    assert.equal(await folder.textCandidates!(foldForSearch('fi')), null);
    assert.equal(await folder.textCandidates!('a\nb\nc'), null);
  });

  test('the folders the servers hand to sessions (through the sharable and shared stores) ask the index', async () => {
    // imapd wraps the account's store in both, imapd-server in the shared one: a folder that
    // left textCandidates out made every SEARCH a scan.
    const sharable = new SharableMailStore(store, { root: maildir.root, systemFile: null, open: () => Promise.reject(new Error('no sharable Maildirs here')) });
    const shared = new SharedMailStore(sharable, 'alice', { accounts: async () => [] });
    for (const [label, wrapper] of [['sharable', sharable], ['shared', shared]] as const) {
      const wrapped = await wrapper.openFolder('INBOX');
      try {
        const answer = await wrapped.textCandidates?.(foldForSearch('Project plan'));
        assert.ok(answer, `${label}: the index answered`);
        const first = wrapped.snapshot().messages[0].uid;
        assert.equal(answer.covers(first), true, label);
        const fromIndex = await searchFolder(wrapped, { op: 'text', value: 'Project plan' }, true);
        assert.deepEqual(fromIndex.uids, (await searchFolder(folder, { op: 'text', value: 'Project plan' }, false)).uids, label);
        assert.ok(fromIndex.read < wrapped.snapshot().messages.length / 10, `${label}: read ${fromIndex.read}`);
      } finally {
        wrapped.release();
      }
    }
  });

  test('mail the index has not read yet is scanned, then indexed', async () => {
    const before = folder.snapshot().messages.length;
    for (let i = 0; i < 3; i++) deliver(maildir.root, '', Buffer.from(`Subject: late ${i}\n\nquindlefax ${i}\n`));
    await folder.refresh();
    const uids = folder.snapshot().messages.slice(before).map((m) => m.uid);
    assert.equal(uids.length, 3);
    const answer = await folder.textCandidates!('quindlefax');
    assert.ok(answer && !answer.covers(uids[0]), 'the new mail is not covered yet');
    const found = await searchFolder(folder, { op: 'body', value: 'QUINDLEFAX' }, true);
    assert.deepEqual(found.uids, uids);
    // The refresh asked for a catch-up: it comes in the background.
    await waitFor('the new mail in the index', async () => (await folder.textCandidates!('quindlefax'))?.covers(uids[2]) === true);
    const later = await searchFolder(folder, { op: 'body', value: 'QUINDLEFAX' }, true);
    assert.deepEqual(later.uids, uids);
    assert.equal(later.read, 0, 'each has the word in its text: a match without being read');
    const start = await searchFolder(folder, { op: 'body', value: 'QUINDLEFA' }, true);
    assert.deepEqual(start.uids, uids);
    assert.equal(start.read, 0, 'the start of a word: a match without being read');
    const inside = await searchFolder(folder, { op: 'body', value: 'UINDLEFA' }, true);
    assert.deepEqual(inside.uids, uids);
    assert.equal(inside.read, 3, 'inside a word: the candidates are read');
  });

  test('APPEND and EXPUNGE reach the index', async () => {
    const { uid } = await store.append('INBOX', Buffer.from('Subject: appended\n\nflibbertigibbet\n'));
    await folder.refresh();
    await waitFor('the appended message in the index', async () => (await folder.textCandidates!('flibbertigibbet'))?.mayContain(uid) === true);
    await folder.storeFlags([uid], 'add', ['\\Deleted']);
    await folder.expunge([uid]);
    await waitFor('the expunged message out of the index', () => !indexedUids(maildir.root).includes(uid));
    assert.deepEqual((await searchFolder(folder, { op: 'text', value: 'flibbertigibbet' }, true)).uids, []);
  });

  test('a message removed by another program leaves the index', async () => {
    const victim = folder.snapshot().messages[0].uid;
    const file = readdirSync(path.join(maildir.root, 'cur')).find((name) => name.startsWith('17'))!;
    assert.ok(file);
    rmSync(path.join(maildir.root, 'cur', file));
    await folder.refresh();
    await waitFor('the removed message out of the index', () => !indexedUids(maildir.root).includes(victim));
    await agree(folder, ['project plan', 'zorbulate'], 'after an outside removal');
  });

  test('a lost index changes no answer and is made again', async () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(maildir.root, FTS_FILE + suffix), { force: true });
    assert.equal(await folder.textCandidates!('zorbulate'), null);
    await agree(folder, ['zorbulate', 'Wilhelmina'], 'without an index');
    await store.indexFolderText('INBOX');
    const answer = await folder.textCandidates!('zorbulate');
    assert.ok(answer && answer.covers(folder.snapshot().messages[0].uid));
    await agree(folder, ['zorbulate', 'Wilhelmina', 'café'], 'made again');
  });

  test('a corrupt index changes no answer, and is removed and made again', async () => {
    const file = path.join(maildir.root, FTS_FILE);
    for (const suffix of ['-wal', '-shm']) rmSync(file + suffix, { force: true });
    writeFileSync(file, Buffer.alloc(8192, 'not a database '));
    assert.equal(await folder.textCandidates!('zorbulate'), null);
    await agree(folder, ['zorbulate', 'café'], 'with a corrupt index');
    await store.indexFolderText('INBOX');
    await waitFor('the index made again', async () => (await folder.textCandidates!('zorbulate')) !== null);
    await agree(folder, ['zorbulate', 'Wilhelmina', 'straße'], 'made again after corruption');
  });

  test('an index of another UIDVALIDITY is not trusted', async () => {
    // The folder's UID database replaced (as Courier does when it starts over): new UIDVALIDITY, new UIDs.
    await store.indexFolderText('INBOX');
    folder.release();
    await store.close();
    renameSync(path.join(maildir.root, 'courierimapuiddb'), path.join(maildir.root, 'courierimapuiddb.old'));
    store = await openMaildirStore({ root: maildir.root, fullTextIndex: false, watch: false });
    folder = await store.openFolder('INBOX');
    await folder.refresh();
    await store.close();
    store = await openMaildirStore({ root: maildir.root, fullTextIndex: true, watch: false });
    folder = await store.openFolder('INBOX');
    await folder.refresh();
    await agree(folder, ['zorbulate', 'Wilhelmina'], 'after a new UIDVALIDITY');
  });
});
