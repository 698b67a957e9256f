// Cases: random bytes, mutated valid commands, and pathological sizes. A case is a list
// of byte chunks that the harness sends in order (see wire.ts for how they are framed).

import { astring, searchKey, validCommand, type CorpusOptions } from './corpus.js';
import { hostile } from './hostile.js';
import type { Rng } from './random.js';

export type CaseKind = 'valid' | 'mutated' | 'random' | 'pathological';

export interface FuzzCase {
  index: number;
  kind: CaseKind;
  /** What the case is, for reports (the generator's choice, not the bytes). */
  label: string;
  chunks: Buffer[];
}

/** Tokens that matter to an IMAP parser, spliced in by the mutator. */
const TOKENS = [
  '(', ')', '((', '))', '[', ']', '<', '>', '{', '}', '"', '\\', '*', '%', ' ', '  ', '\r\n', '\n', '\r',
  'NIL', '{0}\r\n', '{1}\r\n', '{5+}\r\n', '~{3}\r\n', '{4294967296}\r\n', '{99999999999999999999+}\r\n',
  '0', '-1', '4294967295', '4294967296', '18446744073709551616', '1:*', '*:*', '0:0', '\x00', '\x7f', '\xff', '\x80',
  '&', '&-', '&AOk', '&AOk-', '&&&&', '&Jjo-', '.', '..', '/', '../', 'INBOX', 'BODY[', 'BODY[]', '<0.10>', '<4294967295.4294967295>',
  'HEADER.FIELDS (', 'MIME', '1.2.3.4.5', 'UID', 'OR', 'NOT', 'CHARSET', 'UTF-8', 'DONE', 'LOGOUT',
  '$', 'RETURN (', 'RETURN (UPDATE)', 'SAVE', 'PARTIAL', '-1:-5', 'CATENATE (', 'URL "', 'TEXT ', '/;UID=', ';SECTION=', ';PARTIAL=',
  '~{', '~{5}\r\n', '~{3+}\r\n\x00\x00\x00', 'BINARY[', 'BINARY.SIZE[', '(CHANGEDSINCE ', 'UNCHANGEDSINCE', 'VANISHED', 'QRESYNC',
  'NOTIFY SET ', '(selected ', '(mailboxes ', 'MessageNew', 'IMAP4rev2', '#shared.', 'shared.pub.', 'fuzz2', 'EXTERNAL', 'COMPRESS DEFLATE\r\n',
];

function mutateOnce(rng: Rng, data: Buffer): Buffer {
  const pos = rng.int(data.length + 1);
  const r = rng.int(11);
  switch (r) {
    case 0: { // flip a byte
      if (data.length === 0) return data;
      const out = Buffer.from(data);
      out[rng.int(out.length)] ^= 1 << rng.int(8);
      return out;
    }
    case 1: { // replace a byte
      if (data.length === 0) return data;
      const out = Buffer.from(data);
      out[rng.int(out.length)] = rng.next() & 0xff;
      return out;
    }
    case 2: // insert random bytes
      return Buffer.concat([data.subarray(0, pos), rng.bytes(rng.range(1, 8)), data.subarray(pos)]);
    case 3: { // delete a range
      const len = rng.size(data.length - pos);
      return Buffer.concat([data.subarray(0, pos), data.subarray(pos + len)]);
    }
    case 4: { // duplicate a range
      const len = rng.size(Math.min(64, data.length - pos));
      const piece = data.subarray(pos, pos + len);
      return Buffer.concat([data.subarray(0, pos), piece, piece, data.subarray(pos)]);
    }
    case 5: case 6: case 7: // splice in a token
      return Buffer.concat([data.subarray(0, pos), Buffer.from(rng.pick(TOKENS), 'latin1'), data.subarray(pos)]);
    case 8: // truncate
      return data.subarray(0, pos);
    case 9: { // repeat a token many times
      const token = Buffer.from(rng.pick(['(', ')', 'NOT ', 'OR ', '%', '*', '1,', ' ', '&AOk-', '\\Seen ']), 'latin1');
      return Buffer.concat([data.subarray(0, pos), Buffer.alloc(token.length * rng.range(2, 300), token), data.subarray(pos)]);
    }
    default: { // change a number
      const text = data.toString('latin1');
      const digits = [...text.matchAll(/\d+/g)];
      if (digits.length === 0) return data;
      const m = rng.pick(digits);
      const value = rng.pick(['0', '1', '4294967295', '4294967296', '99999999999999999999', '-1', '65536', String(rng.next())]);
      return Buffer.from(text.slice(0, m.index) + value + text.slice(m.index! + m[0].length), 'latin1');
    }
  }
}

export function mutate(rng: Rng, data: Buffer): Buffer {
  let out = data;
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) out = mutateOnce(rng, out);
  return out;
}

function randomBytes(rng: Rng): Buffer {
  const n = rng.size(4096);
  const r = rng.int(3);
  if (r === 0) return rng.bytes(n);
  // Printable noise with line ends, closer to what a parser sees from a confused client.
  const alphabet = r === 1 ? ' ()[]{}<>"\\*%+.:,0123456789ABCDEFabcdef\r\n' : 'a1 NOOP\r\n';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return Buffer.from(s, 'latin1');
}

function repeat(s: string, n: number): string {
  return s.repeat(Math.max(0, n));
}

/** Commands whose size (line length, ranges, nesting, literal announcements) is extreme. */
function pathological(rng: Rng, tag: string): { label: string; text: string } {
  const big = rng.chance(0.5) ? 70_000 : rng.range(1000, 60_000);
  const items: [string, () => string][] = [
    ['long line', () => `${tag} NOOP ${repeat('x', big)}\r\n`],
    ['long tag', () => `${repeat('t', big)} NOOP\r\n`],
    ['long atom', () => `${tag} SELECT ${repeat('A', big)}\r\n`],
    ['long quoted', () => `${tag} LIST "" "${repeat('%', rng.range(10, 5000))}"\r\n`],
    ['many ranges', () => `${tag} FETCH ${Array.from({ length: rng.range(100, 8000) }, (_, i) => `${i * 3 + 1}:${i * 3 + 2}`).join(',')} FLAGS\r\n`],
    ['many numbers', () => `${tag} UID STORE ${Array.from({ length: rng.range(100, 10000) }, (_, i) => String(4294967295 - i)).join(',')} +FLAGS (\\Seen)\r\n`],
    ['huge ranges', () => `${tag} UID FETCH 1:4294967295,4294967295:1,${repeat('1:4294967295,', rng.range(10, 2000))}1 UID\r\n`],
    ['deep parens', () => `${tag} SEARCH ${repeat('(', rng.size(20000))}ALL${repeat(')', rng.size(20000))}\r\n`],
    ['deep NOT', () => `${tag} SEARCH ${repeat('NOT ', rng.size(15000))}ALL\r\n`],
    ['deep OR', () => `${tag} SEARCH ${repeat('OR ALL ', rng.size(8000))}ALL\r\n`],
    ['wide OR', () => { const n = rng.range(2, 600); return `${tag} SEARCH ${repeat('OR ', n)}${repeat('SUBJECT a ', n + 1)}\r\n`; }],
    ['deep fetch list', () => `${tag} FETCH 1 ${repeat('(', rng.size(10000))}FLAGS${repeat(')', rng.size(10000))}\r\n`],
    ['many sections', () => `${tag} FETCH 1:* (${repeat('BODY.PEEK[1.2.MIME]<0.10> ', rng.range(10, 2000))})\r\n`],
    ['many header fields', () => `${tag} FETCH 1 BODY.PEEK[HEADER.FIELDS (${repeat('X-A ', rng.range(10, 10000))})]\r\n`],
    ['deep section part', () => `${tag} FETCH 1 BODY[${Array.from({ length: rng.range(10, 3000) }, () => '1').join('.')}]\r\n`],
    ['huge partial', () => `${tag} FETCH 1:* BODY[]<4294967295.4294967295>\r\n`],
    ['huge literal', () => `${tag} APPEND INBOX {${rng.pick(['4294967296', '99999999999999999999', '67108865', '1000000000'])}}\r\n`],
    ['huge literal+', () => `${tag} APPEND INBOX {${rng.pick(['4294967296', '99999999999999999999', '67108865', '9007199254740993'])}+}\r\n`],
    ['huge login literal', () => `${tag} LOGIN {${rng.pick(['10000', '8193', '100000000'])}}\r\n`],
    ['many literals', () => `${tag} SEARCH ${repeat('TEXT {1+}\r\nx ', rng.range(10, 5000))}ALL\r\n`],
    ['many flags', () => `${tag} STORE 1:* +FLAGS (${Array.from({ length: rng.range(10, 3000) }, (_, i) => `kw${i}`).join(' ')})\r\n`],
    ['long folder then %', () => {
      const name = `INBOX.${repeat('a', rng.range(20, 45))}.x`;
      return `${tag}a CREATE ${name}\r\n${tag}b LIST "INBOX." ${repeat('%', rng.range(2, 7))}\r\n`;
    }],
    ['deep folder', () => `${tag} CREATE INBOX.${Array.from({ length: rng.range(10, 2000) }, () => 'd').join('.')}\r\n`],
    ['long utf-7', () => `${tag} CREATE INBOX.${repeat('&AOk-', rng.range(10, 5000))}\r\n`],
    ['bad utf-7', () => `${tag} SELECT INBOX.${repeat('&', rng.range(1, 5000))}${rng.pick(['', '-', 'AOk', '////'])}\r\n`],
    ['many sort keys', () => `${tag} SORT (${repeat('REVERSE SUBJECT ', rng.range(10, 3000))}) UTF-8 ALL\r\n`],
    ['long search string', () => `${tag} SEARCH BODY ${astring(rng, repeat('ab', rng.range(10, 30000)))}\r\n`],
    ['long id', () => `${tag} ID (${repeat('"k" "v" ', rng.range(10, 5000))})\r\n`],
    ['many commands', () => repeat(`${tag} NOOP\r\n`, rng.range(10, 400))],
    ['deep search nesting', () => `${tag} SEARCH ${searchKey(rng, 12)}\r\n`],
  ];
  const [label, make] = rng.pick(items);
  return { label, text: make() };
}

function makeTag(rng: Rng): string {
  return rng.chance(0.95) ? `f${rng.int(1000)}` : rng.pick(['*', '+', 'a(', '', 'a{1}', '\x01', '.']);
}

/** Case `index` of run `seed`: the same numbers always give the same bytes. */
export function makeCase(rng: Rng, index: number, opts: CorpusOptions): FuzzCase {
  const r = rng.int(100);
  const tag = makeTag(rng);
  if (r < 25) {
    const n = rng.range(1, 6);
    const chunks = Array.from({ length: n }, () => Buffer.from(validCommand(rng, makeTag(rng), opts), 'latin1'));
    return { index, kind: 'valid', label: 'valid commands', chunks };
  }
  if (r < 70) {
    const n = rng.range(1, 4);
    const chunks: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const cmd = Buffer.from(validCommand(rng, makeTag(rng), opts), 'latin1');
      chunks.push(i === n - 1 || rng.chance(0.5) ? mutate(rng, cmd) : cmd);
    }
    if (rng.chance(0.3)) {
      // Splice two commands together somewhere in the middle.
      const other = Buffer.from(validCommand(rng, makeTag(rng), opts), 'latin1');
      const a = chunks[chunks.length - 1];
      chunks[chunks.length - 1] = Buffer.concat([a.subarray(0, rng.int(a.length + 1)), other.subarray(rng.int(other.length + 1))]);
    }
    return { index, kind: 'mutated', label: 'mutated commands', chunks };
  }
  if (r < 85) {
    return { index, kind: 'random', label: 'random bytes', chunks: [randomBytes(rng)] };
  }
  const p = rng.chance(0.5) ? hostile(rng, tag || 'p') : pathological(rng, tag || 'p');
  let text: Buffer = Buffer.from(p.text, 'latin1');
  if (rng.chance(0.2)) text = mutate(rng, text);
  return { index, kind: 'pathological', label: p.label, chunks: [text] };
}
