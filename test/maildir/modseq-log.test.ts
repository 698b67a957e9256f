// imapd-ts.modseq read back: files of the existing format (as any earlier version wrote them),
// dense and sparse UIDs (the table keeping them: uid-table.ts), damaged lines, and what a
// rewrite makes of it, against a plain model of the format (the last record of a UID wins).

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { flagsHash, MODSEQ_FILE, ModseqLog } from '../../server/maildir/modseq.js';
import { UidTable } from '../../server/maildir/uid-table.js';
import { seededRandom } from '../helpers/seeded.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'modseq-log-'));
  mkdirSync(path.join(dir, 'tmp'));
  file = path.join(dir, MODSEQ_FILE);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const hex = (hash: number): string => hash.toString(16).padStart(8, '0');

const random = seededRandom;

test('a file of the existing format is read as written: last record wins, expunges, head', () => {
  const seen = new Set(['\\Seen']);
  writeFileSync(
    file,
    [
      'imapd-ts-modseq 1 777 1700000000 1700000009',
      `1 1700000001 ${hex(flagsHash(seen))}`,
      '2 1700000002 0000abcd',
      '3 1700000003 DEADBEEF', // upper case is hex too
      '2 1700000004 -',
      '4 1700000005 00000001',
      '4 1700000006 00000002',
      'garbage line',
      '5 x 00000001',
      '6 1700000020', // no third field: skipped
      '7 1700000007 zz', // no hash: skipped, its modseq still counts as given out
      '',
    ].join('\n'),
  );
  const log = new ModseqLog(dir);
  log.catchUp();
  assert.equal(log.uidValidity, 777);
  assert.equal(log.floor, 1700000000);
  assert.equal(log.highest, 1700000009);
  assert.deepEqual(log.record(1), { modseq: 1700000001, hash: flagsHash(seen) });
  assert.equal(log.record(2), undefined);
  assert.deepEqual(log.record(3), { modseq: 1700000003, hash: 0xdeadbeef });
  assert.deepEqual(log.record(4), { modseq: 1700000006, hash: 2 });
  assert.equal(log.record(5), undefined);
  assert.equal(log.record(6), undefined);
  assert.equal(log.record(7), undefined);
  assert.equal(log.recorded(1, seen), 1700000001);
  assert.equal(log.recorded(1, new Set()), undefined);
  assert.deepEqual(log.expungedSince(1700000003, () => true), [2]);
  assert.deepEqual(log.expungedSince(1700000004, () => true), []);

  // A record appended by another process, and half a line being written: only whole lines.
  appendFileSync(file, `9 1700000030 ${hex(flagsHash(seen))}\n10 1700000031 00`);
  log.catchUp();
  assert.equal(log.highest, 1700000030);
  assert.deepEqual(log.record(9), { modseq: 1700000030, hash: flagsHash(seen) });
  assert.equal(log.record(10), undefined);
  appendFileSync(file, '000001\n');
  log.catchUp();
  assert.deepEqual(log.record(10), { modseq: 1700000031, hash: 1 });
});

test('a file of another version or none of ours is made anew by the first stamp', async () => {
  writeFileSync(file, 'imapd-ts-modseq 2 777 1 5\n1 3 00000001\n');
  const log = new ModseqLog(dir);
  log.catchUp();
  assert.equal(log.uidValidity, -1);
  const modseqs = await log.stamp(777, [{ uid: 1, flags: new Set() }], [], true);
  assert.equal(modseqs.length, 1);
  assert.ok(modseqs[0] > 3, 'modseqs keep rising above the records read');
  assert.match(readFileSync(file, 'latin1'), /^imapd-ts-modseq 1 777 /);
});

test('random files with dense and far-apart UIDs read back as the model says, and survive a rewrite', async () => {
  for (const seed of [1, 2, 3, 4]) {
    const next = random(seed);
    const model = new Map<number, { modseq: number; hash: number }>();
    const gone = new Map<number, number>();
    const lines = ['imapd-ts-modseq 1 42 100 100'];
    let modseq = 100;
    // Dense UIDs from 1, and (seeds 3, 4) some far above what a dense table would hold.
    const pick = (): number => (seed > 2 && next() < 0.1 ? 10_000_000 + Math.floor(next() * 1_000_000) : 1 + Math.floor(next() * 3000));
    for (let i = 0; i < 5000; i++) {
      const uid = pick();
      modseq += 1;
      if (next() < 0.15) {
        lines.push(`${uid} ${modseq} -`);
        model.delete(uid);
        gone.set(uid, modseq);
      } else {
        const hash = Math.floor(next() * 2 ** 32);
        lines.push(`${uid} ${modseq} ${hex(hash)}`);
        model.set(uid, { modseq, hash });
        gone.delete(uid);
      }
    }
    writeFileSync(file, lines.join('\n') + '\n');
    const log = new ModseqLog(dir);
    log.catchUp();
    assert.equal(log.highest, modseq);
    for (let uid = 0; uid <= 3001; uid++) assert.deepEqual(log.record(uid), model.get(uid), `seed ${seed} uid ${uid}`);
    for (const [uid, record] of model) assert.deepEqual(log.record(uid), record, `seed ${seed} uid ${uid}`);
    assert.deepEqual(log.expungedSince(100, () => true), [...gone.keys()].sort((a, b) => a - b));

    // A stamp of everything as it is (complete) that changes one message: the rewrite keeps the rest, in UID order.
    const uids = [...model.keys()].sort((a, b) => a - b);
    const first = uids[0];
    const flags = new Set(['\\Flagged']);
    const messages = uids.map((uid) => ({ uid, flags: uid === first ? flags : new Set<string>() }));
    // Only the hash is compared: messages whose record has another hash get the next modseq.
    const stamped = await log.stamp(42, messages, [], false);
    for (let i = 0; i < uids.length; i++) {
      const record = model.get(uids[i])!;
      const expected = uids[i] !== first && record.hash === flagsHash(new Set()) ? record.modseq : modseq + 1;
      assert.equal(stamped[i], expected);
    }
    const again = new ModseqLog(dir);
    again.catchUp();
    for (const uid of uids) assert.deepEqual(again.record(uid), log.record(uid));
  }
});

test('UidTable: dense and sparse UIDs, growth taking in the sparse ones, deletes, order', () => {
  const table = new UidTable();
  table.set(5_000_000, 7, 8); // far above what a dense table may hold: the Map
  table.set(150_000, 5, 6); // the Map too, until the dense part grows past it
  table.set(3, 1, 2);
  assert.equal(table.size, 3);
  assert.equal(table.first(5_000_000), 7);
  assert.equal(table.second(5_000_000), 8);
  for (let uid = 4; uid < 200_000; uid++) if (uid !== 150_000) table.set(uid, uid, uid + 1);
  assert.equal(table.size, 200_000 - 3 + 1);
  assert.equal(table.first(150_000), 5, 'taken into the dense part as it grew');
  assert.equal(table.second(150_000), 6);
  table.set(150_000, 9, 10);
  assert.equal(table.size, 200_000 - 3 + 1, 'replaced, not added');
  assert.equal(table.first(150_000), 9);
  assert.equal(table.first(5_000_000), 7, 'kept when the dense part grew');
  assert.equal(table.has(2), false);
  assert.equal(table.first(2), 0);
  assert.equal(table.has(123_456_789), false);
  assert.equal(table.delete(3), true);
  assert.equal(table.delete(3), false);
  assert.equal(table.delete(5_000_000), true);
  assert.equal(table.has(5_000_000), false);
  assert.equal(table.delete(5_000_000), false);
  const uids = table.uids();
  assert.equal(uids.length, table.size);
  assert.equal(uids[0], 4);
  assert.equal(uids[uids.length - 1], 199_999);
  assert.ok(uids.every((uid, i) => i === 0 || uids[i - 1] < uid));
  assert.throws(() => table.set(1, 0, 0), RangeError);
  table.clear();
  assert.equal(table.size, 0);
  assert.equal(table.has(4), false);
});
