// A session's first look at a folder reads what it must once: cur/ is listed once when a
// session opens a folder that has new mail (the open's look, the claim that follows it and
// the watches set up meanwhile share it), and a listing kept between looks is never used once
// cur/ has changed.

import assert from 'node:assert/strict';
import fs, { renameSync, utimesSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import type { MailStore } from '../../server/backend/mailstore.js';
import { scanFolder, type ScanMemory } from '../../server/maildir/scan.js';
import { deliver, message, select, store, tempMaildir, type TempMaildir } from './helpers.js';

let md: TempMaildir | undefined;
let mail: MailStore | undefined;
const realReaddirSync = fs.readdirSync;

afterEach(async () => {
  fs.readdirSync = realReaddirSync;
  syncBuiltinESMExports();
  await mail?.close();
  md?.cleanup();
  mail = undefined;
  md = undefined;
});

/** Counts the listings of `dir` made through readdirSync from now on (the engine lists synchronously). */
function countListings(dir: string): { count: number } {
  const seen = { count: 0 };
  const patched = ((target: fs.PathLike, ...rest: unknown[]) => {
    if (path.resolve(String(target)) === dir) seen.count += 1;
    return (realReaddirSync as (...args: unknown[]) => unknown)(target, ...rest);
  }) as typeof fs.readdirSync;
  fs.readdirSync = patched;
  syncBuiltinESMExports();
  return seen;
}

/** Directory mtimes put 10 s back: a folder untouched for a while. */
function age(root: string): void {
  const past = Date.now() / 1000 - 10;
  for (const sub of ['cur', 'new']) utimesSync(path.join(root, sub), past, past);
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

test('opening a folder with new mail lists cur/ once (open, claim and watches together)', async () => {
  md = tempMaildir();
  for (let i = 0; i < 20; i++) deliver(md.root, '', message(`old ${i}`), { dir: 'cur', flags: 'S' });
  for (let i = 0; i < 3; i++) deliver(md.root, '', message(`new ${i}`));
  age(md.root);
  const listings = countListings(path.join(md.root, 'cur'));
  mail = await store(md.root, { watch: true });
  const folder = await select(mail, 'INBOX');
  await settle(); // a look after the watches were set up would come now
  assert.equal(folder.snapshot().messages.length, 23);
  assert.equal(fs.readdirSync(path.join(md.root, 'new')).length, 0, 'new/ claimed');
  assert.equal(listings.count, 1, 'cur/ listed once');

  // A delivery while the folder is open is still seen (the watches were there all along).
  deliver(md.root, '', message('later'));
  await settle();
  await folder.refresh();
  assert.equal(folder.snapshot().messages.length, 24);
  folder.release();
});

test('a listing of cur/ kept between looks is not used once cur/ changed', async () => {
  md = tempMaildir();
  const names = ['a', 'b', 'c'].map((s) => deliver(md!.root, '', message(s), { dir: 'cur' }));
  deliver(md.root, '', message('d'));
  age(md.root);
  const memory: ScanMemory = {};
  const first = await scanFolder(md.root, { claimNew: false }, memory);
  assert.deepEqual(first.messages.map((m) => m.fileName).sort(), [...names].sort());
  assert.ok(memory.cur, 'an old cur/ is remembered');
  // Another process flags b (a rename in cur/) and claims nothing.
  const flagged = `${names[1]}S`;
  renameSync(path.join(md.root, 'cur', names[1]), path.join(md.root, 'cur', flagged));
  const second = await scanFolder(md.root, { claimNew: true }, memory);
  assert.deepEqual(second.messages.map((m) => m.fileName).slice(0, 3).sort(), [names[0], flagged, names[2]].sort());
  assert.equal(second.messages.length, 4, 'new/ claimed');
});

test('a listing of cur/ made while cur/ was changing is not kept', async () => {
  md = tempMaildir();
  deliver(md.root, '', message('a'), { dir: 'cur' }); // cur/ changed just now ...
  // ... and still "just now" when the scan looks, however long a loaded machine stalls this
  // process in between (50 ms did, with four test files at a time): its mtime a little ahead.
  const ahead = (Date.now() + 5_000) / 1000;
  utimesSync(path.join(md.root, 'cur'), ahead, ahead);
  const memory: ScanMemory = {};
  await scanFolder(md.root, { claimNew: false }, memory);
  assert.equal(memory.cur, undefined);
});

test("the first look's message list has each message's modseq, and \\Recent goes to the first session, as a new process reading the files sees them", async () => {
  md = tempMaildir();
  for (const s of ['a', 'b', 'c']) deliver(md.root, '', message(s), { dir: 'cur', flags: s === 'b' ? 'S' : '' });
  mail = await store(md.root, { watch: false });
  const folder = await mail.openFolder('INBOX');
  folder.subscribe(() => undefined);
  await folder.refresh();
  const snapshot = folder.snapshot() as ReturnType<typeof folder.snapshot> & { recent: readonly number[] };
  const first = snapshot.messages.map((m) => [m.uid, m.modseq, [...m.flags]]);
  assert.deepEqual(snapshot.recent, [1, 2, 3]);
  assert.ok(snapshot.messages.every((m) => m.modseq > 0), 'no message without its modseq');
  folder.release();
  await mail.close();
  // Another store (no listing: a scan) reads the same modseqs from the file.
  fs.rmSync(path.join(md.root, 'imapd-ts.listing'), { force: true });
  mail = await store(md.root, { watch: false });
  const again = await select(mail, 'INBOX');
  assert.deepEqual(again.snapshot().messages.map((m) => [m.uid, m.modseq, [...m.flags]]), first);
  again.release();
});
