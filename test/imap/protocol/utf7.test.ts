import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMailboxName, encodeMailboxName } from '../../../server/imap/protocol/utf7.js';
import { ProtocolError } from '../../../server/imap/protocol/errors.js';

const vectors: Array<[string, string]> = [
  // RFC 3501 section 5.1.3
  ['~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
  ['INBOX', 'INBOX'],
  ['&', '&-'],
  ['A&B', 'A&-B'],
  ['&&', '&-&-'],
  ['Caf\u00e9', 'Caf&AOk-'],
  ['\u00e9t\u00e9', '&AOk-t&AOk-'],
  ['Entw\u00fcrfe', 'Entw&APw-rfe'],
  ['\u0416\u0443\u0440\u043d\u0430\u043b', '&BBYEQwRABD0EMAQ7-'],
  ['\ud83d\ude00', '&2D3eAA-'], // emoji: a surrogate pair
  ['a\tb', 'a&AAk-b'], // control characters are encoded
  ['', ''],
  ['~!"#$%\'()*+,-./:;<=>?@[\\]^_`{|}', '~!"#$%\'()*+,-./:;<=>?@[\\]^_`{|}'],
];

test('RFC 3501 vectors and others encode and decode', () => {
  for (const [unicode, mutf7] of vectors) {
    assert.equal(encodeMailboxName(unicode), mutf7, `encode ${JSON.stringify(unicode)}`);
    assert.equal(decodeMailboxName(mutf7), unicode, `decode ${mutf7}`);
  }
});

test('invalid and non-canonical encodings are refused', () => {
  const invalid = [
    '&', // not closed
    'abc&AOk', // not closed
    '&U,BTFw-&ZeVnLIqe-', // RFC 3501: two adjacent runs are not allowed
    '&AGE-', // "a" encoded
    '&ACY-', // "&" encoded instead of "&-"
    '&AOl-', // padding bits not zero
    '&AOkA-', // leftover bits (6)
    '&A-', // too short
    '&AO!k-', // bad base64 character
    '&AO/k-', // "/" is not modified base64 (it is ",")
    '&AO=k-',
    '&2D0-', // lone high surrogate
    '&3gA-', // lone low surrogate
    '&2D3YPQ-', // high surrogate followed by high surrogate
    'Caf\u00e9', // raw 8-bit is not modified UTF-7
    'a\tb', // raw control character
  ];
  for (const text of invalid) {
    assert.throws(() => decodeMailboxName(text), ProtocolError, JSON.stringify(text));
  }
  assert.throws(() => decodeMailboxName('&AGE-'), /not canonical/);
  assert.throws(() => decodeMailboxName('x&AOk'), /not closed/);
});

test('random Unicode names round-trip', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pools = [
    [0x20, 0x7e],
    [0xa0, 0x17f],
    [0x4e00, 0x9fff],
    [0x1f600, 0x1f64f],
  ];
  for (let i = 0; i < 2000; i++) {
    let name = '';
    const len = rand(12);
    for (let k = 0; k < len; k++) {
      const [lo, hi] = pools[rand(pools.length)];
      name += String.fromCodePoint(lo + rand(hi - lo + 1));
    }
    const encoded = encodeMailboxName(name);
    assert.match(encoded, /^[\x20-\x7e]*$/);
    assert.equal(decodeMailboxName(encoded), name);
    assert.equal(encodeMailboxName(decodeMailboxName(encoded)), encoded, 'canonical');
  }
});
