// Changes this process makes itself (STORE, EXPUNGE, APPEND, COPY) update the folder's state
// in memory without a rescan; a change by another process must still be seen by the very next
// refresh(), even one made in the same clock tick as ours (file times are coarse).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { MailStore } from '../../server/backend/mailstore.js';
import type { FolderHandle } from '../../server/maildir/index.js';
import { deliver, flagsOf, message, store, tempMaildir, type TempMaildir, until, select } from './helpers.js';

let md: TempMaildir;
let mail: MailStore;

beforeEach(() => {
  md = tempMaildir([]);
});

afterEach(async () => {
  await mail.close();
  md.cleanup();
});

function curName(uidBase: string): string {
  return readdirSync(path.join(md.root, 'cur')).find((name) => name.startsWith(uidBase))!;
}

test('after changes of its own, a refresh sees what another process did right after', async () => {
  const rounds = 15;
  const names: string[] = [];
  for (let i = 0; i < rounds * 3; i++) names.push(deliver(md.root, '', message(`m${i}`), { dir: 'cur' }));
  mail = await store(md.root);
  const folder = (await select(mail, 'INBOX')) as FolderHandle;
  folder.subscribe(() => undefined);
  await until(() => folder.watching, 2000, 'the watches');
  await new Promise((resolve) => setTimeout(resolve, 50));
  await folder.refresh();
  const uidOf = new Map(folder.snapshot().messages.map((m, i) => [names[i].split(':')[0], m.uid]));

  for (let round = 0; round < rounds; round++) {
    const [own, flagged, removed] = names.slice(round * 3, round * 3 + 3).map((name) => name.split(':')[0]);
    // Our own change, then at once (same millisecond, most likely the same clock tick) another
    // process's: a flag set by rename, a message removed, a delivery to new/.
    await folder.storeFlags([uidOf.get(own)!], 'add', ['\\Answered']);
    const cur = path.join(md.root, 'cur');
    renameSync(path.join(cur, curName(flagged)), path.join(cur, `${flagged}:2,S`));
    unlinkSync(path.join(cur, curName(removed)));
    deliver(md.root, '', message(`new${round}`));
    await folder.refresh();
    const state = new Map(folder.snapshot().messages.map((m) => [m.uid, flagsOf(m.flags)]));
    assert.deepEqual(state.get(uidOf.get(own)!), ['\\Answered'], `round ${round}: our own flag`);
    assert.deepEqual(state.get(uidOf.get(flagged)!), ['\\Seen'], `round ${round}: the other process's flag`);
    assert.equal(state.has(uidOf.get(removed)!), false, `round ${round}: the message the other process removed`);
    assert.equal(state.size, rounds * 3 - (round + 1) + (round + 1), `round ${round}: the delivery`);
  }
  folder.release();
});

test('an EXPUNGE writes the UID database once and tells the sessions without a rescan; another process sees it', async () => {
  for (let i = 0; i < 6; i++) deliver(md.root, '', message(`m${i}`), { dir: 'cur' });
  mail = await store(md.root);
  const folder = (await select(mail, 'INBOX')) as FolderHandle;
  const other = (await select(mail, 'INBOX')) as FolderHandle;
  const seen: number[][] = [];
  other.subscribe((change) => {
    if (change.kind === 'expunged') seen.push([...change.uids]);
  });
  folder.subscribe(() => undefined);
  await until(() => folder.watching, 2000, 'the watches');
  await new Promise((resolve) => setTimeout(resolve, 50));
  await folder.refresh();
  const dbBefore = statSync(path.join(md.root, 'courierimapuiddb')).ino;
  assert.deepEqual(await folder.expunge([2, 4, 5]), [2, 4, 5]);
  assert.deepEqual(seen, [[2, 4, 5]]);
  assert.notEqual(statSync(path.join(md.root, 'courierimapuiddb')).ino, dbBefore, 'the database was written');
  assert.deepEqual(other.snapshot().messages.map((m) => m.uid), [1, 3, 6]);

  // On disk for other processes: the database lists what is left.
  const db = readFileSync(path.join(md.root, 'courierimapuiddb'), 'utf8').trim().split('\n').slice(1);
  assert.deepEqual(db.map((line) => Number(line.split(' ')[0])), [1, 3, 6]);
  folder.release();
  other.release();
});
