// The grammar of SEARCH / SORT return options (RFC 4466 search-return-opts with the options of
// ESEARCH, SEARCHRES and CONTEXT=SEARCH), and the search keys of SEARCHRES ("$") and WITHIN.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommands } from '../../../server/imap/protocol/split-commands.js';
import { parseCommand, parseSearchKeys, ProtocolError } from '../../../server/imap/protocol/parser.js';
import { parseSearchReturn, type SearchReturn } from '../../../server/imap/protocol/search-return.js';

function args(text: string) {
  return parseCommand(splitCommands(Buffer.from(`a SEARCH ${text}\r\n`, 'latin1'))[0]).args;
}

const NONE: SearchReturn = { min: false, max: false, all: false, count: false, save: false, update: false };

function options(text: string): SearchReturn | null {
  return parseSearchReturn(args(text)).options;
}

function refused(text: string, pattern: RegExp): void {
  assert.throws(() => options(text), (err: unknown) => err instanceof ProtocolError && err.status === 'BAD' && pattern.test(err.message), text);
}

test('RETURN options: each one, in any case and order; an empty list or CONTEXT alone is ALL', () => {
  assert.deepEqual(options('RETURN () ALL'), { ...NONE, all: true });
  assert.deepEqual(options('RETURN (CONTEXT) ALL'), { ...NONE, all: true });
  assert.deepEqual(options('return (min Max) ALL'), { ...NONE, min: true, max: true });
  assert.deepEqual(options('RETURN (COUNT ALL) ALL'), { ...NONE, count: true, all: true });
  assert.deepEqual(options('RETURN (SAVE) ALL'), { ...NONE, save: true });
  assert.deepEqual(options('RETURN (UPDATE COUNT) ALL'), { ...NONE, update: true, count: true });
  assert.deepEqual(options('RETURN (PARTIAL 1:10) ALL'), { ...NONE, partial: { from: 1, to: 10 } });
  // Either order (RFC 5267 4.4 as Dovecot: 10:1 is 1:10).
  assert.deepEqual(options('RETURN (PARTIAL 10:1 COUNT) ALL'), { ...NONE, count: true, partial: { from: 1, to: 10 } });
  assert.deepEqual(options('RETURN (PARTIAL 4294967295:4294967295) ALL'), { ...NONE, partial: { from: 4294967295, to: 4294967295 } });
});

test('without RETURN the arguments are left as they are; after it, what follows the list', () => {
  assert.deepEqual(parseSearchReturn(args('CHARSET UTF-8 ALL')), { options: null, rest: args('CHARSET UTF-8 ALL') });
  assert.deepEqual(parseSearchReturn(args('RETURN (MIN) CHARSET UTF-8 SEEN')).rest, args('CHARSET UTF-8 SEEN'));
  // A key list in parentheses first is not RETURN.
  assert.equal(parseSearchReturn(args('(SEEN) RETURN')).options, null);
});

test('bad return options are BAD', () => {
  refused('RETURN ALL', /parenthesized list of return options/);
  refused('RETURN', /parenthesized list of return options/);
  refused('RETURN (FIRST) ALL', /Unknown return option FIRST/);
  refused('RETURN ("MIN") ALL', /must be atoms/);
  refused('RETURN ((MIN)) ALL', /must be atoms/);
  refused('RETURN (MIN MIN) ALL', /MIN given twice/);
  refused('RETURN (UPDATE UPDATE) ALL', /UPDATE given twice/);
  refused('RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL', /PARTIAL given twice/);
  refused('RETURN (PARTIAL) ALL', /range \(n:m\) after PARTIAL/);
  refused('RETURN (PARTIAL 0:5) ALL', /Invalid PARTIAL range "0:5"/);
  refused('RETURN (PARTIAL 5) ALL', /Invalid PARTIAL range "5"/);
  refused('RETURN (PARTIAL 1:*) ALL', /Invalid PARTIAL range/);
  refused('RETURN (PARTIAL -1:5) ALL', /Invalid PARTIAL range/);
  refused('RETURN (PARTIAL 1:4294967296) ALL', /Invalid PARTIAL range/);
  refused('RETURN (PARTIAL 1:99999999999) ALL', /Invalid PARTIAL range/);
  refused('RETURN (ALL PARTIAL 1:5) ALL', /PARTIAL and ALL cannot be used together/);
});

test('"$" is the saved result, as a sequence set and after UID; it does not combine with other numbers', () => {
  assert.deepEqual(parseSearchKeys(args('$')), { op: 'saved' });
  assert.deepEqual(parseSearchKeys(args('UID $')), { op: 'saved' });
  assert.deepEqual(parseSearchKeys(args('NOT $ SEEN')), { op: 'and', keys: [{ op: 'not', key: { op: 'saved' } }, { op: 'flag', flag: '\\Seen' }] });
  assert.throws(() => parseSearchKeys(args('$,1')), ProtocolError);
  assert.throws(() => parseSearchKeys(args('UID 1,$')), ProtocolError);
  assert.throws(() => parseSearchKeys(args('$$')), ProtocolError);
});

test('OLDER and YOUNGER take a number of seconds, not zero (RFC 5032 nz-number)', () => {
  assert.deepEqual(parseSearchKeys(args('OLDER 3600')), { op: 'within', cmp: 'older', seconds: 3600 });
  assert.deepEqual(parseSearchKeys(args('younger 1')), { op: 'within', cmp: 'younger', seconds: 1 });
  assert.deepEqual(parseSearchKeys(args('OR OLDER 10 YOUNGER 4294967295')), {
    op: 'or',
    left: { op: 'within', cmp: 'older', seconds: 10 },
    right: { op: 'within', cmp: 'younger', seconds: 4294967295 },
  });
  for (const bad of ['OLDER', 'OLDER 0', 'YOUNGER -5', 'YOUNGER 1h', 'OLDER 4294967296', 'YOUNGER "10"']) {
    assert.throws(() => parseSearchKeys(args(bad)), ProtocolError, bad);
  }
});
