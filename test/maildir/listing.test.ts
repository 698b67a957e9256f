// imapd-ts.listing: a new process opens an unchanged folder from what the last look found,
// and never when something may have changed since (it would hide mail from the client).

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { FolderHandle } from '../../server/maildir/index.js';
import { existingCore } from '../../server/maildir/folder-registry.js';
import { LISTING_FILE } from '../../server/maildir/listing.js';
import { assignUids } from '../../server/maildir/scan.js';
import { readUidDb, writeUidDb } from '../../server/maildir/uiddb.js';
import { age, deliver, drop, flagsOf, listedMaildir, message, select, store, storeFixture, tempMaildir, until } from './helpers.js';

const fx = storeFixture();

const listed = () => listedMaildir(fx);

/** A listing edited by a test, with its head's body length made right again. */
function withBodyLength(text: string): string {
  const lines = text.split('\n');
  const fields = lines[2].split(' ');
  fields[8] = String(Buffer.byteLength(lines.slice(3).join('\n')));
  lines[2] = fields.join(' ');
  return lines.join('\n');
}

async function reopen(root: string): Promise<{ uids: number[]; flags: string[][] }> {
  fx.mail = await store(root, { watch: false });
  const folder = await select(fx.mail, 'INBOX');
  const messages = folder.snapshot().messages;
  folder.release();
  return { uids: messages.map((m) => m.uid), flags: messages.map((m) => flagsOf(m.flags)) };
}

test('an unchanged settled folder is opened from the listing', async () => {
  const { root } = await listed();
  // Proof that it is read: a flag only the listing has shows up.
  const file = path.join(root, LISTING_FILE);
  const text = readFileSync(file, 'utf8');
  const stat = statSync(file);
  writeFileSync(file, withBodyLength(text.replace(/^(1 [^\n]*:2,)$/m, '$1F')));
  utimesSync(file, stat.atime, stat.mtime);
  const seen = await reopen(root);
  assert.deepEqual(seen.uids, [1, 2, 3]);
  assert.deepEqual(seen.flags[0], ['\\Flagged']);
});

test('a message whose flags the modseq file does not know (read from the listing) gets a modseq above the others, in the list too', async () => {
  const { root } = await listed();
  const file = path.join(root, LISTING_FILE);
  const stat = statSync(file);
  writeFileSync(file, withBodyLength(readFileSync(file, 'utf8').replace(/^(1 [^\n]*:2,)$/m, '$1F')));
  utimesSync(file, stat.atime, stat.mtime);
  fx.mail = await store(root, { watch: false });
  const folder = await select(fx.mail, 'INBOX');
  const list = folder.snapshot().messages;
  assert.deepEqual(list.map((m) => m.uid), [1, 2, 3]);
  assert.ok(list.every((m) => m.modseq > 0), 'no message without a modseq');
  assert.ok(list[0].modseq >= Math.max(list[1].modseq, list[2].modseq), 'at once: the modseq applied');
  await until(() => folder.snapshot().messages[0].modseq > Math.max(list[1].modseq, list[2].modseq), 3000, 'a modseq of its own');
  folder.release();
});

test('keywords in a listing are left out when keywords are off (IMAP_KEYWORDS=0)', async () => {
  fx.md = tempMaildir();
  deliver(fx.md.root, '', message('a'), { dir: 'cur' });
  fx.mail = await store(fx.md.root, { watch: false });
  const folder = await select(fx.mail, 'INBOX');
  await folder.storeFlags([1], 'add', ['Label']);
  folder.release();
  await fx.mail.close();
  await drop();
  for (let i = 0; i < 3 && !existsSync(path.join(fx.md.root, LISTING_FILE)); i++) {
    age(fx.md.root);
    utimesSync(path.join(fx.md.root, 'courierimapkeywords'), Date.now() / 1000 - 10, Date.now() / 1000 - 10);
    assert.deepEqual((await reopen(fx.md.root)).flags, [['Label']]);
    await fx.mail.close();
    await drop();
  }
  assert.ok(existsSync(path.join(fx.md.root, LISTING_FILE)));
  fx.mail = await store(fx.md.root, { watch: false, keywords: false });
  const plain = await select(fx.mail, 'INBOX');
  assert.deepEqual(plain.snapshot().summary?.keywords, []);
  assert.deepEqual(plain.snapshot().messages.map((m) => flagsOf(m.flags)), [[]]);
  plain.release();
});

test('a damaged listing is not used', async () => {
  const { root } = await listed();
  const file = path.join(root, LISTING_FILE);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/\nend\n$/, '\n'));
  assert.deepEqual((await reopen(root)).uids, [1, 2, 3]);
  writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, 4).join('\n'));
  assert.deepEqual((await reopen(root)).uids, [1, 2, 3]);
});

test('a listing damaged after its head is found when read: the sessions are sent away, the next open scans', async () => {
  const { root } = await listed();
  const file = path.join(root, LISTING_FILE);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^2 /m, 'x ')); // same length, same head
  fx.mail = await store(root, { watch: false });
  const folder = await select(fx.mail, 'INBOX');
  assert.equal(folder.snapshot().summary?.count, 3, 'opened from the head');
  assert.deepEqual(folder.snapshot().messages, []);
  assert.throws(() => folder.subscribe(() => undefined), /deleted or renamed/);
  folder.release();
  assert.equal(existsSync(file), false, 'the damaged listing is removed');
  await fx.mail.close();
  await drop();
  assert.deepEqual((await reopen(root)).uids, [1, 2, 3]);
});

test('a save that overlaps one under way ends after it (the process may exit then)', async () => {
  fx.md = tempMaildir();
  deliver(fx.md.root, '', message('a'), { dir: 'cur' });
  age(fx.md.root);
  fx.mail = await store(fx.md.root, { watch: false });
  const folder = await select(fx.mail, 'INBOX');
  const core = existingCore(realpathSync(fx.md.root))!;
  void core.saveInfo(); // as the timer does
  await core.saveInfo(); // as store.close() does
  assert.ok(existsSync(path.join(fx.md.root, LISTING_FILE)));
  folder.release();
});

const changes: [string, (root: string, names: string[]) => Promise<void> | void, (seen: { uids: number[]; flags: string[][] }) => void][] = [
  ['a message put into cur/ and numbered by another program', async (root) => {
    const name = deliver(root, '', message('d'), { dir: 'cur' });
    await assignUids(root, [name.replace(/:2,$/, '')], {});
  }, (seen) => assert.deepEqual(seen.uids, [1, 2, 3, 4])],
  ['a message put into cur/ without a UID', (root) => {
    deliver(root, '', message('d'), { dir: 'cur' });
  }, (seen) => assert.deepEqual(seen.uids, [1, 2, 3, 4])],
  ['a delivery to new/', (root) => {
    deliver(root, '', message('d'));
  }, (seen) => assert.deepEqual(seen.uids, [1, 2, 3, 4])],
  ['a flag change (rename)', (root, names) => {
    renameSync(path.join(root, 'cur', names[1]), path.join(root, 'cur', `${names[1]}S`));
  }, (seen) => assert.deepEqual(seen.flags[1], ['\\Seen'])],
  ['a removal', (root, names) => {
    unlinkSync(path.join(root, 'cur', names[2]));
  }, (seen) => assert.deepEqual(seen.uids, [1, 2])],
  ['a keyword update in Courier\'s format', (root, names) => {
    writeFileSync(path.join(root, 'tmp', 'kw'), 'Label\n');
    const dir = path.join(root, 'courierimapkeywords');
    if (!existsSync(dir)) mkdirSync(dir);
    renameSync(path.join(root, 'tmp', 'kw'), path.join(dir, names[0].replace(/:2,$/, '')));
  }, (seen) => assert.deepEqual(seen.flags[0], ['Label'])],
  ['a UID database replaced (same files, new UIDs)', async (root) => {
    const { db } = await readUidDb(root);
    const uids = new Map([...db!.uids].map(([base, uid]) => [base, uid + 10]));
    await writeUidDb(root, { uidValidity: db!.uidValidity, uidNext: 14, uids });
  }, (seen) => assert.deepEqual(seen.uids, [11, 12, 13])],
  ['a removal whose directory mtime was put back (same tick, or a tool restoring times)', (root, names) => {
    const cur = path.join(root, 'cur');
    const before = statSync(cur);
    unlinkSync(path.join(cur, names[0]));
    utimesSync(cur, before.atime, before.mtime);
    assert.equal(statSync(cur).mtimeMs, before.mtimeMs);
  }, (seen) => assert.deepEqual(seen.uids, [2, 3])],
];

for (const [what, change, check] of changes) {
  test(`the listing is not trusted after ${what}`, async () => {
    const { root, names } = await listed();
    await change(root, names);
    check(await reopen(root));
  });
}

test('no listing is made from a look at directories changed within the settling time', async () => {
  fx.md = tempMaildir();
  deliver(fx.md.root, '', message('a'), { dir: 'cur' }); // cur/ changed just now
  fx.mail = await store(fx.md.root, { watch: false });
  (await select(fx.mail, 'INBOX')).release();
  await fx.mail.close();
  await drop();
  assert.equal(existsSync(path.join(fx.md.root, LISTING_FILE)), false);
  // Within the same clock tick another file may have come without changing the mtime: a new
  // process must list cur/ again.
  const name = deliver(fx.md.root, '', message('b'), { dir: 'cur' });
  assert.deepEqual((await reopen(fx.md.root)).uids, [1, 2]);
  assert.ok(readdirSync(path.join(fx.md.root, 'cur')).includes(name));
});

test('a listing is not written for a state that changed after the look (our own STORE)', async () => {
  fx.md = tempMaildir();
  deliver(fx.md.root, '', message('a'), { dir: 'cur' });
  age(fx.md.root);
  fx.mail = await store(fx.md.root, { watch: false });
  const folder = await select(fx.mail, 'INBOX');
  await folder.storeFlags([1], 'add', ['\\Seen']);
  folder.release();
  await fx.mail.close();
  await drop();
  assert.equal(existsSync(path.join(fx.md.root, LISTING_FILE)), false);
  assert.deepEqual((await reopen(fx.md.root)).flags, [['\\Seen']]);
});

test('a folder opened from the listing, once watched, takes its own STOREs without looking at the whole folder again', async () => {
  const { root } = await listed();
  // As above: a flag only the listing has shows whether the folder was scanned since.
  const file = path.join(root, LISTING_FILE);
  const stat = statSync(file);
  writeFileSync(file, withBodyLength(readFileSync(file, 'utf8').replace(/^(1 [^\n]*:2,)$/m, '$1F')));
  utimesSync(file, stat.atime, stat.mtime);
  fx.mail = await store(root);
  const folder = (await select(fx.mail, 'INBOX')) as FolderHandle;
  folder.subscribe(() => undefined);
  await until(() => folder.watching, 2000, 'the watches');
  await new Promise((resolve) => setTimeout(resolve, 100)); // the look that new watches take
  await folder.storeFlags([2], 'add', ['\\Seen']);
  await folder.refresh();
  const flags = folder.snapshot().messages.map((m) => flagsOf(m.flags));
  assert.deepEqual(flags.slice(0, 2), [['\\Flagged'], ['\\Seen']], 'no scan: the listing-only flag stays');
  folder.release();
});

test("the first keyword of a folder makes courierimapkeywords/ without a look at the whole folder; another writer's keyword is still seen", async () => {
  const { root, names } = await listed();
  const file = path.join(root, LISTING_FILE);
  const stat = statSync(file);
  writeFileSync(file, withBodyLength(readFileSync(file, 'utf8').replace(/^(1 [^\n]*:2,)$/m, '$1F')));
  utimesSync(file, stat.atime, stat.mtime);
  assert.equal(existsSync(path.join(root, 'courierimapkeywords')), false);
  fx.mail = await store(root);
  const folder = (await select(fx.mail, 'INBOX')) as FolderHandle;
  const changes: string[] = [];
  folder.subscribe((change) => changes.push(change.kind === 'flags' ? `${change.uid} ${flagsOf(change.flags).join(' ')}` : change.kind));
  await until(() => folder.watching, 2000, 'the watches');
  await new Promise((resolve) => setTimeout(resolve, 100)); // the look that new watches take
  await folder.storeFlags([2], 'add', ['First']);
  assert.ok(existsSync(path.join(root, 'courierimapkeywords')));
  await new Promise((resolve) => setTimeout(resolve, 200)); // its event, judged
  await folder.refresh();
  assert.deepEqual(flagsOf(folder.snapshot().messages[0].flags), ['\\Flagged'], 'no scan: the listing-only flag stays');
  // Courier sets a keyword on message 3: an update file named after its base.
  const base3 = path.basename(names[2]).split(':')[0];
  writeFileSync(path.join(root, 'tmp', 'kw'), 'Other\n');
  renameSync(path.join(root, 'tmp', 'kw'), path.join(root, 'courierimapkeywords', base3));
  await until(() => changes.includes('3 Other'), 3000, "the other writer's keyword");
  folder.release();
});

test("a STORE mends the folder's message list in place, never the listing's list a view opened from it reads", async () => {
  const { root } = await listed();
  fx.mail = await store(root);
  const folder = await select(fx.mail, 'INBOX');
  const atSelect = folder.snapshot().summary!.messages();
  await folder.storeFlags([1], 'add', ['\\Seen']);
  assert.deepEqual(flagsOf(atSelect[0].flags), [], 'the messages as they were at SELECT');
  const list = folder.snapshot().messages;
  assert.deepEqual(flagsOf(list[0].flags), ['\\Seen']);
  const modseq = list[1].modseq;
  await folder.storeFlags([2], 'add', ['\\Flagged']);
  // Not made anew for a change of flags (100,000 lookups in a large folder).
  assert.equal(folder.snapshot().messages, list);
  assert.deepEqual(flagsOf(list[1].flags), ['\\Flagged']);
  assert.ok(list[1].modseq > modseq);
  folder.release();
});
