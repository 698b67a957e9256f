// The record logs behind the message caches (imapd-ts.envelopes, .headers, .structure):
// records survive a restart, are checked against the message they belong to, and a
// damaged, outdated or mostly dead file is rewritten.

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { RecordLog } from '../../server/maildir/recordlog.js';

let dir: string;
let file: string;
const open = (version = 'v1'): RecordLog => new RecordLog(file, path.join(dir, 'tmp'), 'test', version);
const text = (payloads: (Buffer | undefined)[]): (string | undefined)[] => payloads.map((p) => p?.toString());

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'recordlog-'));
  mkdirSync(path.join(dir, 'tmp'));
  file = path.join(dir, 'imapd-ts.test');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('records are read back by UID, checked against the base, in any order, after a restart', () => {
  const log = open();
  log.add(1, 'one', Buffer.from('first'));
  log.add(2, 'two', Buffer.from('second'));
  assert.deepEqual(text(log.read([{ uid: 2, base: 'two' }])), ['second'], 'pending records are readable');
  log.flush();
  log.add(3, 'three', Buffer.from('third'));
  log.flush();
  log.close();

  const again = open();
  assert.deepEqual(
    text(again.read([{ uid: 3, base: 'three' }, { uid: 1, base: 'one' }, { uid: 2, base: 'other' }, { uid: 9, base: 'nine' }])),
    ['third', 'first', undefined, undefined],
  );
  assert.equal(again.has(1), true);
  assert.equal(again.has(9), false);
  // A later record for the same UID wins.
  again.add(1, 'one', Buffer.from('first, again'));
  again.flush();
  again.close();
  assert.deepEqual(text(open().read([{ uid: 1, base: 'one' }])), ['first, again']);
});

test('a file of another version is ignored and replaced; a cut-off record ends the file and it is rewritten', () => {
  const log = open('v1');
  log.add(1, 'one', Buffer.from('first'));
  log.add(2, 'two', Buffer.from('second'));
  log.flush();
  log.close();

  const other = open('v2');
  assert.deepEqual(text(other.read([{ uid: 1, base: 'one' }])), [undefined]);
  other.add(5, 'five', Buffer.from('fifth'));
  other.flush(new Map([[5, 'five']]));
  other.close();
  assert.match(readFileSync(file, 'latin1'), /^imapd-ts test 1 v2\n/);
  assert.deepEqual(text(open('v2').read([{ uid: 5, base: 'five' }])), ['fifth']);

  // A crash in the middle of an append leaves part of a record at the end.
  appendFileSync(file, Buffer.from([0xa5, 200, 0, 0, 0, 6, 0]));
  const damaged = open('v2');
  assert.deepEqual(text(damaged.read([{ uid: 5, base: 'five' }])), ['fifth'], 'what comes before is kept');
  damaged.add(6, 'six', Buffer.from('sixth'));
  const inode = statSync(file).ino;
  damaged.flush(new Map([[5, 'five'], [6, 'six']]));
  damaged.close();
  assert.notEqual(statSync(file).ino, inode, 'rewritten, not appended after the garbage');
  assert.deepEqual(text(open('v2').read([{ uid: 5, base: 'five' }, { uid: 6, base: 'six' }])), ['fifth', 'sixth']);
});

test('records of messages that are gone are dropped, and a mostly dead file is compacted', () => {
  const log = open();
  const big = Buffer.alloc(4096, 120);
  for (let uid = 1; uid <= 600; uid++) log.add(uid, `base${uid}`, big);
  log.flush();
  const before = statSync(file).size;
  const live = new Map([[7, 'base7'], [600, 'base600']]);
  log.prune(live);
  assert.ok(statSync(file).size < before / 100, 'compacted');
  assert.deepEqual(text(log.read([{ uid: 7, base: 'base7' }, { uid: 8, base: 'base8' }])).map((t) => t?.length), [4096, undefined]);
  log.close();
  assert.deepEqual(text(open().read([{ uid: 600, base: 'base600' }])).map((t) => t?.length), [4096]);
});

test('large records and two writers on the same file', () => {
  const a = open();
  const b = open();
  const large = Buffer.alloc(3 * 1024 * 1024, 65); // beyond what the packed index holds
  a.add(1, 'one', large);
  a.flush();
  b.add(2, 'two', Buffer.from('from b'));
  b.flush();
  a.add(3, 'three', Buffer.from('from a'));
  a.flush();
  // Each writer reads its own records and, after a fresh load, everybody's.
  assert.equal(a.read([{ uid: 1, base: 'one' }])[0]?.length, large.length);
  assert.deepEqual(text(b.read([{ uid: 2, base: 'two' }])), ['from b']);
  a.close();
  b.close();
  const c = open();
  const [one, two, three] = c.read([{ uid: 1, base: 'one' }, { uid: 2, base: 'two' }, { uid: 3, base: 'three' }]);
  assert.ok(one?.equals(large));
  assert.deepEqual([two?.toString(), three?.toString()], ['from b', 'from a']);
});

test('garbage instead of a cache file is replaced', () => {
  writeFileSync(file, 'not a cache\n');
  const log = open();
  assert.deepEqual(text(log.read([{ uid: 1, base: 'one' }])), [undefined]);
  log.add(1, 'one', Buffer.from('first'));
  log.flush(new Map([[1, 'one']]));
  log.close();
  assert.deepEqual(text(open().read([{ uid: 1, base: 'one' }])), ['first']);
});
