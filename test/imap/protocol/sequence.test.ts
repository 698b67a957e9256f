import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatSequenceSet,
  isSequenceSet,
  parseSequenceSet,
  resolveSequenceSet,
  resolveUidSet,
  sequenceSetMax,
  ProtocolError,
} from '../../../server/imap/protocol/parser.js';

test('parseSequenceSet keeps ranges as written, "*" as Infinity', () => {
  assert.deepEqual(parseSequenceSet('1'), [{ from: 1, to: 1 }]);
  assert.deepEqual(parseSequenceSet('1:*'), [{ from: 1, to: Infinity }]);
  assert.deepEqual(parseSequenceSet('*:3'), [{ from: Infinity, to: 3 }]);
  assert.deepEqual(parseSequenceSet('5:2'), [{ from: 5, to: 2 }]);
  assert.deepEqual(parseSequenceSet('*'), [{ from: Infinity, to: Infinity }]);
  assert.deepEqual(parseSequenceSet('1,3:5,*'), [{ from: 1, to: 1 }, { from: 3, to: 5 }, { from: Infinity, to: Infinity }]);
  assert.deepEqual(parseSequenceSet('4294967295'), [{ from: 4294967295, to: 4294967295 }]);
});

test('invalid sequence sets are refused', () => {
  for (const bad of ['', '0', '0:5', '5:0', '01', '1:02', ',1', '1,', '1,,2', '1::2', '1:2:3', 'a', '1a', ' 1', '1 ', '-1', '1.5', '**', '*:', ':*', '$', '4294967296', '99999999999', '1:4294967296']) {
    assert.throws(() => parseSequenceSet(bad), ProtocolError, JSON.stringify(bad));
  }
  assert.throws(() => parseSequenceSet('0'), /0 is not a valid message number/);
  // isSequenceSet checks the syntax only (used to tell a set from a SEARCH key)
  assert.deepEqual(['1:*', '*:3', '2,4', 'ALL', '0', '1,', '$'].map(isSequenceSet), [true, true, true, false, false, false, false]);
  assert.throws(() => parseSequenceSet(''), /Missing sequence set/);
});

test('resolveSequenceSet: "*" is the last message, ranges are normalised and clipped', () => {
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('1:*'), 5).toArray(), [1, 2, 3, 4, 5]);
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('*:3'), 5).toArray(), [3, 4, 5]);
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('5:2'), 9).toArray(), [2, 3, 4, 5]);
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('1,*'), 7).toArray(), [1, 7]);
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('1,*'), 1).toArray(), [1], 'FETCH 1,* UID on one message');
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('3,1,2:3,2'), 5).toArray(), [1, 2, 3], 'sorted and unique');
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('4:10,20'), 6).toArray(), [4, 5, 6], 'clipped');
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('*:20'), 6).toArray(), [6], '*:20 is 6:20');
  assert.equal(resolveSequenceSet(parseSequenceSet('*'), 0).isEmpty, true, '"*" matches nothing in an empty mailbox');
  assert.equal(resolveSequenceSet(parseSequenceSet('1:*'), 0).size, 0);
  assert.equal(sequenceSetMax(parseSequenceSet('3,7:5')), 7);
  assert.equal(sequenceSetMax(parseSequenceSet('3,*')), Infinity);
});

test('huge ranges are not materialised', () => {
  const set = resolveSequenceSet(parseSequenceSet('1:4294967295'), 100_000);
  assert.equal(set.size, 100_000);
  assert.deepEqual(set.ranges, [[1, 100_000]]);
  const uids = resolveUidSet(parseSequenceSet('1:4294967295,7'), 4294967295);
  assert.equal(uids.size, 4294967295);
  assert.equal(uids.has(4294967295), true);
  assert.equal(uids.has(0), false);
  assert.equal(uids.ranges.length, 1);
  // One range, never expanded: filtering costs the size of the list, not of the range.
  const existing = [3, 9, 4000000000];
  assert.deepEqual(uids.filterSorted(existing), existing);
});

test('resolveUidSet: "*" is the largest UID, so 559:* includes the last message', () => {
  const uids = [10, 20, 500];
  const set = resolveUidSet(parseSequenceSet('559:*'), 500);
  assert.deepEqual(set.filterSorted(uids), [500]);
  assert.deepEqual(resolveUidSet(parseSequenceSet('*'), 500).filterSorted(uids), [500]);
  assert.deepEqual(resolveUidSet(parseSequenceSet('15:25,1:10'), 500).filterSorted(uids), [10, 20]);
  assert.deepEqual(resolveUidSet(parseSequenceSet('600:700'), 500).filterSorted(uids), []);
  assert.equal(resolveUidSet(parseSequenceSet('1:*'), 0).isEmpty, true, 'empty mailbox: nothing');
});

test('ResolvedSet membership, iteration, min/max', () => {
  const set = resolveSequenceSet(parseSequenceSet('2,4:6,9,10'), 20);
  assert.deepEqual(set.ranges, [[2, 2], [4, 6], [9, 10]]);
  assert.deepEqual([...set], [2, 4, 5, 6, 9, 10]);
  assert.deepEqual([1, 2, 3, 4, 6, 7, 9, 10, 11].map((n) => set.has(n)), [false, true, false, true, true, false, true, true, false]);
  assert.equal(set.min, 2);
  assert.equal(set.max, 10);
  assert.equal(set.size, 6);
});

test('formatSequenceSet joins ascending runs and keeps the given order', () => {
  assert.equal(formatSequenceSet([1, 2, 3, 5, 7, 8]), '1:3,5,7:8');
  assert.equal(formatSequenceSet([9, 3, 4]), '9,3:4');
  assert.equal(formatSequenceSet([4]), '4');
  assert.equal(formatSequenceSet([]), '');
  const round = parseSequenceSet(formatSequenceSet([1, 2, 3, 10, 11]));
  assert.deepEqual(resolveSequenceSet(round, 20).toArray(), [1, 2, 3, 10, 11]);
});
