// The \Recent mark on disk (imapd-ts.recent): made with a new UID database, started at the last
// UID of a database Courier made, advanced only by read-write sessions.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { FolderChange, MailStore } from '../../server/backend/mailstore.js';
import { deliver, message, recorder, store, tempMaildir, type TempMaildir } from './helpers.js';

let md: TempMaildir;
let mail: MailStore;

beforeEach(async () => {
  md = tempMaildir();
  mail = await store(md.root);
});

afterEach(async () => {
  await mail.close();
  md.cleanup();
});

const markFile = (): string => path.join(md.root, 'imapd-ts.recent');

function recentUids(changes: readonly FolderChange[]): number[] {
  return changes.flatMap((c) => (c.kind === 'added' && c.recent ? c.messages.map((m) => m.uid) : []));
}

/** Opens a folder as a session does: subscribe, then the first refresh. */
async function session(readOnly = false): Promise<{ recent: () => number[]; release: () => void }> {
  const folder = await mail.openFolder('INBOX', { readOnly });
  const r = recorder();
  folder.subscribe(r.listener);
  await folder.refresh();
  return { recent: () => recentUids(r.changes), release: () => folder.release() };
}

test('a folder whose UID database Courier made: what it numbered is not recent, what comes after is', async () => {
  const a = deliver(md.root, '', message('a'), { dir: 'cur', flags: 'S' });
  const b = deliver(md.root, '', message('b'), { dir: 'cur' });
  const base = (name: string): string => name.replace(/:2,.*$/, '');
  writeFileSync(path.join(md.root, 'courierimapuiddb'), `1 796590000 3\n1 ${base(a)}\n2 ${base(b)}\n`);
  deliver(md.root, '', message('c'));
  const s = await session();
  assert.deepEqual(s.recent(), [3]);
  assert.equal(readFileSync(markFile(), 'utf8'), '796590000 3\n');
  s.release();
});

test('a new database starts the mark at 0: every message is recent for the first session, then for none', async () => {
  deliver(md.root, '', message('a'), { dir: 'cur' });
  deliver(md.root, '', message('b'));
  const status = await mail.folderStatus('INBOX');
  assert.equal(status.recent, 2);
  assert.ok(existsSync(markFile()));
  const first = await session();
  assert.deepEqual(first.recent(), [1, 2]);
  const second = await session();
  assert.deepEqual(second.recent(), []);
  assert.equal((await mail.folderStatus('INBOX')).recent, 0);
  first.release();
  second.release();
});

test('read-only sessions see \\Recent without taking it; a mark of another UIDVALIDITY counts as none', async () => {
  deliver(md.root, '', message('a'), { dir: 'cur' });
  const examine = await session(true);
  assert.deepEqual(examine.recent(), [1]);
  examine.release();
  const uidValidity = (await mail.folderStatus('INBOX')).uidValidity;
  assert.equal(readFileSync(markFile(), 'utf8'), `${uidValidity} 0\n`, 'EXAMINE wrote nothing');
  writeFileSync(markFile(), `${uidValidity - 1} 5\n`);
  const select = await session();
  assert.deepEqual(select.recent(), [1]);
  select.release();
});
