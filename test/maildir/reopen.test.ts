// A new process after deliveries (issue 14): the folder opens from its listing although new/
// changed, and the first claim appends the new UIDs without a look at cur/ (folder-reopen.ts);
// anything else changed meanwhile, by another process or program, and the folder is scanned.
// And a session's own changes leave a listing at the end, while its watches vouch for it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import type { Folder } from '../../server/backend/mailstore.js';
import { LISTING_FILE } from '../../server/maildir/listing.js';
import { readUidDbSync, UIDDB_FILE } from '../../server/maildir/uiddb.js';
import { sibling } from '../helpers/root.js';
import { age, deliver, drop, flagsOf, listedMaildir, message, store, storeFixture, tempMaildir } from './helpers.js';

const run = promisify(execFile);
const child = sibling(import.meta.url, './child');

const fx = storeFixture();

const listed = () => listedMaildir(fx, { takeRecent: true });

/** Gives message 1 \Flagged in the listing alone: seen only by a process that opens from it. */
function markListing(root: string): void {
  const file = path.join(root, LISTING_FILE);
  const lines = readFileSync(file, 'utf8').split('\n');
  const at = lines.findIndex((line) => line.startsWith('1 '));
  lines[at] += 'F';
  const fields = lines[2].split(' ');
  fields[8] = String(Buffer.byteLength(lines.slice(3).join('\n')));
  lines[2] = fields.join(' ');
  writeFileSync(file, lines.join('\n'));
}

interface Seen {
  uids: number[];
  flags: string[][];
  recent: number[];
}

/** SELECT in a new store: the UIDs, flags and the UIDs recent for this session. */
async function selectNew(root: string, between?: (folder: Folder) => void | Promise<void>): Promise<Seen> {
  fx.mail = await store(root, { watch: false });
  const folder = await fx.mail.openFolder('INBOX');
  const recent: number[] = [];
  folder.subscribe((change) => {
    if (change.kind === 'added' && change.recent) recent.push(...change.messages.map((m) => m.uid));
  });
  await between?.(folder);
  await folder.refresh();
  const snapshot = folder.snapshot() as ReturnType<Folder['snapshot']> & { recent: readonly number[] };
  const messages = snapshot.messages;
  recent.push(...snapshot.recent);
  folder.release();
  return { uids: messages.map((m) => m.uid), flags: messages.map((m) => flagsOf(m.flags)), recent: [...new Set(recent)].sort((a, b) => a - b) };
}

function uidDbLines(root: string): string[] {
  return readFileSync(path.join(root, UIDDB_FILE), 'utf8').trim().split('\n');
}

test('after deliveries a new process opens from the listing and appends the new UIDs in place', async () => {
  const { root } = await listed();
  markListing(root);
  const inode = statSync(path.join(root, UIDDB_FILE)).ino;
  const fresh = [deliver(root, '', message('d')), deliver(root, '', message('e'))];
  const seen = await selectNew(root);
  assert.deepEqual(seen.uids, [1, 2, 3, 4, 5]);
  assert.deepEqual(seen.flags[0], ['\\Flagged'], 'opened from the listing, not scanned');
  assert.deepEqual(seen.recent, [4, 5]);
  assert.deepEqual(readdirSync(path.join(root, 'new')), []);
  assert.equal(statSync(path.join(root, UIDDB_FILE)).ino, inode, 'extended in place');
  const lines = uidDbLines(root);
  assert.match(lines[0], / 6$/);
  assert.deepEqual(lines.slice(-2), [`4 ${fresh[0]}`, `5 ${fresh[1]}`]);
  assert.deepEqual(readUidDbSync(root).db!.uidNext, 6);
  // A full look agrees (the listing removed).
  await fx.mail!.close();
  fx.mail = undefined;
  await drop();
  unlinkSync(path.join(root, LISTING_FILE));
  const again = await selectNew(root);
  assert.deepEqual(again.uids, [1, 2, 3, 4, 5]);
  assert.deepEqual(again.recent, [], 'each message recent once');
  assert.ok(readdirSync(path.join(root, 'cur')).some((name) => name === `${fresh[0]}:2,`));
});

test("after deliveries the folder's message list is extended by the claim, with the new modseqs; the list SELECT saw stays as it was", async () => {
  const { root } = await listed();
  deliver(root, '', message('d'));
  deliver(root, '', message('e'));
  fx.mail = await store(root, { watch: false });
  const folder = await fx.mail.openFolder('INBOX');
  folder.subscribe(() => undefined);
  const atOpen = folder.snapshot().summary!;
  await folder.refresh();
  const list = folder.snapshot().messages;
  assert.deepEqual(list.map((m) => m.uid), [1, 2, 3, 4, 5]);
  assert.deepEqual(atOpen.messages().map((m) => m.uid), [1, 2, 3], 'what views opened from the listing read');
  const old = Math.max(...list.slice(0, 3).map((m) => m.modseq));
  assert.ok(list.slice(3).every((m) => m.modseq > old), 'the new messages have their own modseq');
  const before = list[4].modseq;
  await folder.storeFlags([5], 'add', ['\\Flagged']);
  const after = folder.snapshot().messages;
  assert.deepEqual(flagsOf(after[4].flags), ['\\Flagged']);
  assert.ok(after[4].modseq > before);
  folder.release();
  // A full look in a new process agrees, modseqs included.
  await fx.mail.close();
  fx.mail = undefined;
  await drop();
  unlinkSync(path.join(root, LISTING_FILE));
  fx.mail = await store(root, { watch: false });
  const again = await fx.mail.openFolder('INBOX');
  await again.refresh();
  assert.deepEqual(again.snapshot().messages.map((m) => [m.uid, m.modseq, flagsOf(m.flags)]), after.map((m) => [m.uid, m.modseq, flagsOf(m.flags)]));
  again.release();
});

test('after deliveries, a name in new/ whose message is in cur/ already (a delivery left half-done) stays in new/, as a scan leaves it', async () => {
  const { root, names } = await listed();
  const base = names[1].replace(/:2,.*$/, '');
  writeFileSync(path.join(root, 'tmp', 'dup'), message('b'));
  renameSync(path.join(root, 'tmp', 'dup'), path.join(root, 'new', base));
  const fresh = deliver(root, '', message('d'));
  const seen = await selectNew(root);
  assert.deepEqual(seen.uids, [1, 2, 3, 4]);
  assert.deepEqual(readdirSync(path.join(root, 'new')), [base]);
  assert.deepEqual(uidDbLines(root).slice(-1), [`4 ${fresh}`]);
});

const outside: [string, (root: string, names: string[]) => void, (seen: Seen) => void][] = [
  ['a flag renamed in cur/ by another program', (root, names) => {
    renameSync(path.join(root, 'cur', names[1]), path.join(root, 'cur', `${names[1]}S`));
  }, (seen) => assert.deepEqual(seen.flags[1], ['\\Seen'])],
  ['a flag renamed in cur/ with the directory mtime put back (same clock tick)', (root, names) => {
    const cur = path.join(root, 'cur');
    const before = statSync(cur);
    renameSync(path.join(cur, names[1]), path.join(cur, `${names[1]}S`));
    utimesSync(cur, before.atime, before.mtime);
  }, (seen) => assert.deepEqual(seen.flags[1], ['\\Seen'])],
  ['a message removed from cur/', (root, names) => {
    unlinkSync(path.join(root, 'cur', names[0]));
  }, (seen) => assert.deepEqual(seen.uids, [2, 3, 4])],
  ['a message claimed by another program (Courier) with its UID', (root) => {
    const name = deliver(root, '', message('x'), { dir: 'cur' });
    const file = path.join(root, UIDDB_FILE);
    const text = readFileSync(file, 'utf8').replace(/^1 (\d+) 4\n/, '1 $1 5\n');
    writeFileSync(path.join(root, 'tmp', 'db'), `${text}4 ${name.replace(/:2,$/, '')}\n`);
    renameSync(path.join(root, 'tmp', 'db'), file);
  }, (seen) => assert.deepEqual(seen.uids, [1, 2, 3, 4, 5])],
];

for (const [what, change, check] of outside) {
  test(`after deliveries and ${what}, the folder is scanned`, async () => {
    const { root, names } = await listed();
    markListing(root);
    deliver(root, '', message('d'));
    change(root, names);
    const seen = await selectNew(root);
    check(seen);
    assert.deepEqual(seen.flags[0], [], 'not the listing');
    assert.deepEqual(readdirSync(path.join(root, 'new')), []);
  });
}

test('a flag renamed in cur/ between the open from the listing and its claim is seen', async () => {
  const { root, names } = await listed();
  deliver(root, '', message('d'));
  const seen = await selectNew(root, (folder) => {
    assert.equal(folder.snapshot().summary?.count, 3, 'opened from the listing');
    renameSync(path.join(root, 'cur', names[2]), path.join(root, 'cur', `${names[2]}S`));
  });
  assert.deepEqual(seen.uids, [1, 2, 3, 4]);
  assert.deepEqual(seen.flags[2], ['\\Seen']);
  assert.deepEqual(seen.recent, [4]);
});

test('two processes opening from the listing after deliveries: the same UIDs, each message recent in one of them', async () => {
  const { root } = await listed();
  for (let round = 0; round < 3; round++) {
    const before = readUidDbSync(root).db!.uidNext;
    for (let i = 0; i < 10; i++) deliver(root, '', message(`r${round}.${i}`));
    const [a, b] = await Promise.all([0, 1].map(async () => {
      const { stdout } = await run(process.execPath, [...child.nodeArgs, child.file, root, JSON.stringify({ op: 'claim', folder: 'INBOX' })], { timeout: 30_000 });
      return (JSON.parse(stdout) as { uids: number[] }).uids;
    }));
    const all = [...a, ...b].sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 10 }, (_, i) => before + i), `round ${round}: ${JSON.stringify({ a, b })}`);
    const db = readUidDbSync(root).db!;
    assert.equal(db.uids.size, 3 + 10 * (round + 1));
    assert.equal(new Set(db.uids.values()).size, db.uids.size, 'no UID given twice');
    assert.deepEqual(readdirSync(path.join(root, 'new')), []);
    assert.equal(readdirSync(path.join(root, 'cur')).length, db.uids.size);
  }
});

test("a session's own APPENDs leave a listing (its watches vouch for it) that the next process opens from", async () => {
  fx.md = tempMaildir();
  for (const s of ['a', 'b']) deliver(fx.md.root, '', message(s), { dir: 'cur' });
  // The listing is decided once, as the last session goes, and only when the watches have
  // vouched for every change by then; a decision made before a watch event came in declines
  // (the next process then looks at everything, as before). One try in three must write it.
  const appended: number[] = [];
  for (let attempt = 0; attempt < 3 && !existsSync(path.join(fx.md.root, LISTING_FILE)); attempt++) {
    fx.mail = await store(fx.md.root, { watch: true });
    const folder = await fx.mail.openFolder('INBOX');
    folder.subscribe(() => undefined);
    await folder.refresh();
    appended.push((await fx.mail.append('INBOX', message(`c${attempt}`), { flags: ['\\Seen'] })).uid);
    await fx.mail.close();
    fx.mail = undefined;
    await drop();
  }
  assert.ok(existsSync(path.join(fx.md.root, LISTING_FILE)), 'listing written at close');
  markListing(fx.md.root);
  deliver(fx.md.root, '', message('d'));
  const seen = await selectNew(fx.md.root);
  const delivered = appended.at(-1)! + 1;
  assert.deepEqual(seen.uids, [1, 2, ...appended, delivered]);
  assert.deepEqual(seen.flags[0], ['\\Flagged'], 'opened from the listing');
  assert.deepEqual(seen.flags[2], ['\\Seen']);
  assert.deepEqual(seen.recent, [delivered]);
});

test('a change by another program just after our own, in the same clock tick, keeps the listing from being written', async () => {
  fx.md = tempMaildir();
  const names = ['a', 'b'].map((s) => deliver(fx.md!.root, '', message(s), { dir: 'cur' }));
  fx.mail = await store(fx.md.root, { watch: true });
  const folder = await fx.mail.openFolder('INBOX');
  await folder.refresh();
  await fx.mail.append('INBOX', message('c'));
  const cur = path.join(fx.md.root, 'cur');
  const before = statSync(cur);
  renameSync(path.join(cur, names[0]), path.join(cur, `${names[0]}S`));
  utimesSync(cur, before.atime, before.mtime);
  await fx.mail.close();
  fx.mail = undefined;
  await drop();
  const seen = await selectNew(fx.md.root);
  assert.deepEqual(seen.uids, [1, 2, 3]);
  assert.deepEqual(seen.flags[0], ['\\Seen']);
});

test('without watches no listing is made of our own changes', async () => {
  fx.md = tempMaildir();
  deliver(fx.md.root, '', message('a'), { dir: 'cur' });
  age(fx.md.root);
  fx.mail = await store(fx.md.root, { watch: false });
  const folder = await fx.mail.openFolder('INBOX');
  await folder.refresh();
  await fx.mail.append('INBOX', message('b'));
  await fx.mail.close();
  fx.mail = undefined;
  await drop();
  assert.equal(existsSync(path.join(fx.md.root, LISTING_FILE)), false);
});
