import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseSortCriteria, sortMessages, type SortMessage } from '../../../server/imap/search/sort.js';
import { address, fakeMeta, info, type FakeMessage } from './helpers.js';

const DAY = 86400000;
const BASE = Date.UTC(2024, 0, 1);

function msg(seq: number, fields: FakeMessage & { size?: number; arrival?: number } = {}): SortMessage {
  return {
    seq,
    uid: seq * 10,
    info: info(seq * 10, [], fields.size ?? 100, BASE + (fields.arrival ?? seq) * DAY),
    meta: fakeMeta(fields),
  };
}

const seqs = (messages: SortMessage[]): number[] => messages.map((m) => m.seq);
const sortBy = (messages: SortMessage[], ...words: string[]): number[] => seqs(sortMessages(messages, parseSortCriteria(words)!));

test('parseSortCriteria', () => {
  assert.deepEqual(parseSortCriteria(['reverse', 'Date', 'SUBJECT']), [
    { key: 'DATE', reverse: true },
    { key: 'SUBJECT', reverse: false },
  ]);
  assert.equal(parseSortCriteria([]), null);
  assert.equal(parseSortCriteria(['REVERSE']), null);
  assert.equal(parseSortCriteria(['REVERSE', 'REVERSE', 'DATE']), null);
  assert.equal(parseSortCriteria(['BOGUS']), null);
  assert.equal(parseSortCriteria(['DISPLAYFROM'], false), null);
  assert.deepEqual(parseSortCriteria(['DISPLAYFROM']), [{ key: 'DISPLAYFROM', reverse: false }]);
});

test('ARRIVAL, SIZE, DATE with REVERSE; ties keep sequence order', () => {
  const messages = [
    msg(1, { arrival: 3, size: 300, sentDate: BASE + 2 * DAY }),
    msg(2, { arrival: 1, size: 100, sentDate: BASE + 9 * DAY }),
    msg(3, { arrival: 2, size: 300, sentDate: null }), // no Date: INTERNALDATE (day 2) is used
    msg(4, { arrival: 1, size: 200, sentDate: BASE + 1 * DAY }),
  ];
  assert.deepEqual(sortBy(messages, 'ARRIVAL'), [2, 4, 3, 1]);
  assert.deepEqual(sortBy(messages, 'REVERSE', 'ARRIVAL'), [1, 3, 2, 4]); // ties stay in seq order
  assert.deepEqual(sortBy(messages, 'SIZE'), [2, 4, 1, 3]);
  assert.deepEqual(sortBy(messages, 'REVERSE', 'SIZE', 'ARRIVAL'), [3, 1, 4, 2]);
  assert.deepEqual(sortBy(messages, 'DATE'), [4, 1, 3, 2]);
  assert.deepEqual(sortBy(messages, 'REVERSE', 'DATE'), [2, 1, 3, 4]); // 1 and 3 are equal: seq order
});

test('SUBJECT sorts by base subject under i;unicode-casemap', () => {
  const messages = [
    msg(1, { subject: 'Re: beta' }),
    msg(2, { subject: 'alpha' }),
    msg(3, { subject: '[list] Fwd: Alpha' }),
    msg(4, { subject: '_under' }), // "_" (0x5F) sorts after letters once they are upper-cased
    msg(5, { subject: '' }),
    msg(6, { subject: 'Äpfel' }),
    msg(7, { subject: 'Zebra' }),
  ];
  // NFKD puts "Äpfel" as "A" + U+0308 + "PFEL": after "ALPHA", before "BETA"
  assert.deepEqual(sortBy(messages, 'SUBJECT'), [5, 2, 3, 6, 1, 7, 4]);
  assert.deepEqual(sortBy(messages, 'SUBJECT', 'REVERSE', 'ARRIVAL'), [5, 3, 2, 6, 1, 7, 4]);
});

test('FROM / TO / CC sort by the mailbox of the first address', () => {
  const messages = [
    msg(1, { from: [address('zed', 'a.example', 'Aaron')], to: [address('b')], cc: null }),
    msg(2, { from: [address('Bob', 'z.example', 'Zoe')], to: [address('a'), address('z')], cc: [address('m')] }),
    msg(3, { from: null, to: [{ name: null, adl: null, mailbox: 'group', host: null }, address('c'), { name: null, adl: null, mailbox: null, host: null }] }),
    msg(4, { from: [address('alice')], to: null, cc: [address('a')] }),
  ];
  assert.deepEqual(sortBy(messages, 'FROM'), [3, 4, 2, 1]); // "", alice, bob, zed
  assert.deepEqual(sortBy(messages, 'TO'), [4, 2, 1, 3]); // "", a, b, group (the group name counts)
  assert.deepEqual(sortBy(messages, 'CC'), [1, 3, 4, 2]);
  assert.deepEqual(sortBy(messages, 'REVERSE', 'FROM'), [1, 2, 4, 3]);
});

test('DISPLAYFROM / DISPLAYTO use the decoded display name, else the address (RFC 5957)', () => {
  const messages = [
    msg(1, { from: [address('zed', 'example.org', '=?ISO-8859-1?Q?=C4rger?=')] }), // "Ärger"
    msg(2, { from: [address('bob', 'example.org', 'Carl')] }),
    msg(3, { from: [address('adam', 'example.org')] }), // no name: "adam@example.org"
    msg(4, { from: [address('x', 'example.org', '  ')] }), // blank name: the address
    msg(5, { to: [address('x', 'example.org', 'Bea')] }),
  ];
  assert.deepEqual(sortBy(messages, 'DISPLAYFROM'), [5, 3, 1, 2, 4]); // "", adam@, Ärger, Carl, x@
  assert.deepEqual(sortBy(messages, 'DISPLAYTO'), [1, 2, 3, 4, 5]);
});
