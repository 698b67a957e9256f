// Several processes on one Maildir: the Courier dot-lock keeps UIDs unique, every
// message is claimed once, and changes made by one process reach the others.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, test } from 'node:test';
import type { MailStore } from '../../server/backend/mailstore.js';
import { sibling } from '../helpers/root.js';
import { deliver, message, recorder, store, tempMaildir, type TempMaildir, until, select } from './helpers.js';

const run = promisify(execFile);
const child = sibling(import.meta.url, './child');

let md: TempMaildir;
let mail: MailStore;

beforeEach(async () => {
  md = tempMaildir(['Shared']);
  mail = await store(md.root);
});

afterEach(async () => {
  await mail.close();
  md.cleanup();
});

async function inChild(command: object): Promise<{ uids?: number[] }> {
  const { stdout } = await run(process.execPath, [...child.nodeArgs, child.file, md.root, JSON.stringify(command)], { timeout: 30_000 });
  return JSON.parse(stdout) as { uids?: number[] };
}

function uiddbLines(dir: string): string[] {
  return readFileSync(path.join(dir, 'courierimapuiddb'), 'utf8').trim().split('\n');
}

test('APPENDs from two processes at once: every message gets its own UID, none is lost', async () => {
  const count = 25;
  const [childA, childB, mine] = await Promise.all([
    inChild({ op: 'append', folder: 'INBOX.Shared', count }),
    inChild({ op: 'append', folder: 'INBOX.Shared', count }),
    (async () => {
      const uids: number[] = [];
      for (let i = 0; i < count; i++) uids.push((await mail.append('INBOX.Shared', message(`parent ${i}`))).uid);
      return uids;
    })(),
  ]);
  const all = [...childA.uids!, ...childB.uids!, ...mine];
  assert.equal(new Set(all).size, 3 * count, 'no UID given twice');
  const dir = path.join(md.root, '.Shared');
  assert.equal(readdirSync(path.join(dir, 'cur')).length, 3 * count);
  const lines = uiddbLines(dir);
  assert.equal(lines.length, 3 * count + 1);
  assert.match(lines[0], new RegExp(`^1 \\d+ ${3 * count + 1}$`));
  assert.equal(existsSync(path.join(dir, 'tmp', 'courier.lock')), false, 'lock released');
});

test('two processes claiming new/ at once: each message is claimed (and recent) exactly once', async () => {
  for (let i = 0; i < 40; i++) deliver(md.root, '', message(`m${i}`));
  const folder = await mail.openFolder('INBOX'); // no refresh yet: the race is below
  const mine: number[] = [];
  folder.subscribe((change) => {
    if (change.kind === 'added' && change.recent) mine.push(...change.messages.map((m) => m.uid));
  });
  const [theirs] = await Promise.all([inChild({ op: 'claim', folder: 'INBOX' }), folder.refresh()]);
  await folder.refresh();
  const uids = folder.snapshot().messages.map((m) => m.uid);
  assert.deepEqual(uids, Array.from({ length: 40 }, (_, i) => i + 1));
  const claimed = [...mine, ...theirs.uids!].sort((a, b) => a - b);
  // Each claimed once; messages the child claimed reach us as non-recent.
  assert.deepEqual(claimed, uids);
  assert.equal(readdirSync(path.join(md.root, 'new')).length, 0);
  folder.release();
});

test("another process's STORE and EXPUNGE reach our open folder through the watcher", async () => {
  for (let i = 0; i < 3; i++) deliver(md.root, '', message(`m${i}`), { dir: 'cur' });
  const folder = await select(mail, 'INBOX');
  const r = recorder();
  folder.subscribe(r.listener);
  await inChild({ op: 'store', folder: 'INBOX', uids: [2], flags: ['\\Deleted', 'Junk'] });
  // The other process renames the file and writes the keyword file one after the other: a
  // look in between may report the first step alone. What counts is that the last report
  // has both, and that no other message is reported.
  const flagChanges = () => r.plain().filter((c) => (c as { kind: string }).kind === 'flags') as { uid: number; flags: string[] }[];
  await until(() => flagChanges().some((c) => c.flags.length === 2), 3000, 'the flags change');
  assert.deepEqual(flagChanges().at(-1), { kind: 'flags', uid: 2, flags: ['Junk', '\\Deleted'] });
  assert.deepEqual([...new Set(flagChanges().map((c) => c.uid))], [2]);
  const expunged = await inChild({ op: 'expunge', folder: 'INBOX', uids: [2] });
  assert.deepEqual(expunged.uids, [2]);
  await until(() => r.changes.some((c) => c.kind === 'expunged'), 3000, 'the expunge');
  assert.deepEqual(folder.snapshot().messages.map((m) => m.uid), [1, 3]);
  folder.release();
});

test('a lock left by a dead process is broken at once; a live one is waited for', async () => {
  const dir = path.join(md.root, '.Shared');
  const lockFile = path.join(dir, 'tmp', 'courier.lock');
  // A pid that cannot be running: the largest pid_t.
  writeFileSync(lockFile, `2147483646:${hostname()}`);
  const started = Date.now();
  await mail.append('INBOX.Shared', message('after a crash'));
  assert.ok(Date.now() - started < 1000);

  // A live holder: a child process that exits after 300 ms.
  const holder = spawn('sleep', ['0.3']);
  writeFileSync(lockFile, `${holder.pid}:${hostname()}`);
  const waitStart = Date.now();
  const exited = new Promise((resolve) => holder.on('exit', resolve));
  await mail.append('INBOX.Shared', message('after the holder'));
  await exited;
  assert.ok(Date.now() - waitStart >= 250, 'waited for the holder to go away');
  assert.equal(uiddbLines(dir).length, 3);
});
