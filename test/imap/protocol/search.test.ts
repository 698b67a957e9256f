import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommands } from '../../../server/imap/protocol/split-commands.js';
import { parseCommand, parseSearchKeys, ProtocolError } from '../../../server/imap/protocol/parser.js';
import type { SearchKey } from '../../../server/imap/protocol/types.js';

function keys(text: string | Buffer, charset?: string): SearchKey {
  const data = typeof text === 'string' ? Buffer.from(`a SEARCH ${text}\r\n`, 'latin1') : Buffer.concat([Buffer.from('a SEARCH '), text, Buffer.from('\r\n')]);
  return parseSearchKeys(parseCommand(splitCommands(data)[0]).args, charset);
}

function badKeys(text: string, pattern: RegExp): ProtocolError {
  let caught: unknown;
  try {
    keys(text);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ProtocolError, `${text}: expected a ProtocolError, got ${String(caught)}`);
  assert.match(caught.message, pattern, text);
  return caught;
}

const day = (y: number, m: number, d: number) => ({ y, m, d });

test('every RFC 3501 search key', () => {
  const cases: Array<[string, SearchKey]> = [
    ['ALL', { op: 'all' }],
    ['ANSWERED', { op: 'flag', flag: '\\Answered' }],
    ['BCC bob', { op: 'header', field: 'BCC', value: 'bob' }],
    ['BEFORE 1-Feb-1994', { op: 'internaldate', cmp: 'before', date: day(1994, 2, 1) }],
    ['BODY "hello world"', { op: 'body', value: 'hello world' }],
    ['CC {3}\r\nann', { op: 'header', field: 'CC', value: 'ann' }],
    ['DELETED', { op: 'flag', flag: '\\Deleted' }],
    ['DRAFT', { op: 'flag', flag: '\\Draft' }],
    ['FLAGGED', { op: 'flag', flag: '\\Flagged' }],
    ['FROM "Smith, J"', { op: 'header', field: 'FROM', value: 'Smith, J' }],
    ['HEADER X-Mailer mutt', { op: 'header', field: 'X-MAILER', value: 'mutt' }],
    ['HEADER "Message-ID" ""', { op: 'header', field: 'MESSAGE-ID', value: '' }],
    ['KEYWORD $Forwarded', { op: 'flag', flag: '$Forwarded' }],
    ['LARGER 1024', { op: 'size', cmp: 'larger', n: 1024 }],
    ['NEW', { op: 'new' }],
    ['NOT SEEN', { op: 'not', key: { op: 'flag', flag: '\\Seen' } }],
    ['OLD', { op: 'old' }],
    ['ON 29-Feb-2024', { op: 'internaldate', cmp: 'on', date: day(2024, 2, 29) }],
    ['OR SEEN FLAGGED', { op: 'or', left: { op: 'flag', flag: '\\Seen' }, right: { op: 'flag', flag: '\\Flagged' } }],
    ['RECENT', { op: 'recent' }],
    ['SEEN', { op: 'flag', flag: '\\Seen' }],
    ['SENTBEFORE 1-jan-2000', { op: 'sentdate', cmp: 'before', date: day(2000, 1, 1) }],
    ['SENTON "12-DEC-1999"', { op: 'sentdate', cmp: 'on', date: day(1999, 12, 12) }],
    ['SENTSINCE 01-Mar-2001', { op: 'sentdate', cmp: 'since', date: day(2001, 3, 1) }],
    ['SINCE 9-Sep-2009', { op: 'internaldate', cmp: 'since', date: day(2009, 9, 9) }],
    ['SMALLER 0', { op: 'size', cmp: 'smaller', n: 0 }],
    ['SUBJECT meeting', { op: 'header', field: 'SUBJECT', value: 'meeting' }],
    ['TEXT "a \\"quote\\""', { op: 'text', value: 'a "quote"' }],
    ['TO alice@example.org', { op: 'header', field: 'TO', value: 'alice@example.org' }],
    ['UID 1:*', { op: 'uid', set: [{ from: 1, to: Infinity }] }],
    ['UNANSWERED', { op: 'noflag', flag: '\\Answered' }],
    ['UNDELETED', { op: 'noflag', flag: '\\Deleted' }],
    ['UNDRAFT', { op: 'noflag', flag: '\\Draft' }],
    ['UNFLAGGED', { op: 'noflag', flag: '\\Flagged' }],
    ['UNKEYWORD Junk', { op: 'noflag', flag: 'Junk' }],
    ['UNSEEN', { op: 'noflag', flag: '\\Seen' }],
    ['1,3:5,*', { op: 'seqset', set: [{ from: 1, to: 1 }, { from: 3, to: 5 }, { from: Infinity, to: Infinity }] }],
    ['*:3', { op: 'seqset', set: [{ from: Infinity, to: 3 }] }],
    ['(SEEN)', { op: 'flag', flag: '\\Seen' }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(keys(text), expected, text);
  // keys are case-insensitive
  assert.deepEqual(keys('unseen'), { op: 'noflag', flag: '\\Seen' });
  assert.deepEqual(keys('Or seen Not flagged'), keys('OR SEEN NOT FLAGGED'));
});

test('several keys are ANDed; parentheses group; nesting', () => {
  assert.deepEqual(keys('SEEN 1:10 LARGER 5'), {
    op: 'and',
    keys: [{ op: 'flag', flag: '\\Seen' }, { op: 'seqset', set: [{ from: 1, to: 10 }] }, { op: 'size', cmp: 'larger', n: 5 }],
  });
  assert.deepEqual(keys('OR (FROM a SUBJECT b) NOT (OR TO c (CC d))'), {
    op: 'or',
    left: { op: 'and', keys: [{ op: 'header', field: 'FROM', value: 'a' }, { op: 'header', field: 'SUBJECT', value: 'b' }] },
    right: {
      op: 'not',
      key: { op: 'or', left: { op: 'header', field: 'TO', value: 'c' }, right: { op: 'header', field: 'CC', value: 'd' } },
    },
  });
  assert.deepEqual(keys('NOT NOT NOT DELETED'), { op: 'not', key: { op: 'not', key: { op: 'not', key: { op: 'flag', flag: '\\Deleted' } } } });
  assert.deepEqual(keys('((((ALL))))'), { op: 'all' });
});

test('CHARSET prefix: UTF-8 and US-ASCII accepted, strings decoded as UTF-8', () => {
  const utf8 = Buffer.concat([Buffer.from('CHARSET utf-8 SUBJECT {6}\r\n'), Buffer.from('Caf\u00e9!', 'utf8')]);
  assert.deepEqual(keys(utf8), { op: 'header', field: 'SUBJECT', value: 'Café!' });
  assert.deepEqual(keys('CHARSET "US-ASCII" BODY x'), { op: 'body', value: 'x' });
  assert.deepEqual(keys(Buffer.from('BODY "\u00fcber"', 'utf8')), { op: 'body', value: 'über' });
});

test('unsupported charsets give NO [BADCHARSET (UTF-8 US-ASCII)]', () => {
  const err = badKeys('CHARSET KOI8-R SUBJECT x', /not supported/);
  assert.equal(err.status, 'NO');
  assert.equal(err.code, 'BADCHARSET (UTF-8 US-ASCII)');
  // SORT / THREAD pass the charset separately
  assert.deepEqual(keys('SEEN', 'UTF-8'), { op: 'flag', flag: '\\Seen' });
  assert.throws(() => keys('SEEN', 'ISO-8859-1'), (e: unknown) => e instanceof ProtocolError && e.code === 'BADCHARSET (UTF-8 US-ASCII)');
  badKeys('SEEN CHARSET UTF-8', /CHARSET must come first/);
  badKeys('CHARSET', /charset name/);
  badKeys('CHARSET UTF-8', /Missing search criteria/);
});

test('search syntax errors', () => {
  badKeys('', /Missing search criteria/);
  badKeys('FOO', /Unknown search key FOO/);
  badKeys('NOT', /Missing search key/);
  badKeys('OR SEEN', /Missing search key/);
  badKeys('()', /Empty parenthesized/);
  badKeys('(SEEN', /missing "\)"/);
  badKeys('SEEN)', /unexpected "\)"/);
  badKeys('FROM', /Missing string after FROM/);
  badKeys('FROM (a)', /Expected string after FROM, got a parenthesized list/);
  badKeys('HEADER Subject', /Missing string after HEADER field/);
  badKeys('HEADER "Bad:Name" x', /header field name/);
  badKeys('LARGER', /Missing number after LARGER/);
  badKeys('LARGER big', /size after LARGER/);
  badKeys('LARGER -1', /size after LARGER/);
  badKeys('SMALLER 4294967296', /size after SMALLER/);
  badKeys('KEYWORD', /Missing keyword/);
  badKeys('KEYWORD "x"', /Expected a keyword/);
  badKeys('KEYWORD \\Seen', /Invalid keyword/);
  badKeys('UID', /Missing UID set/);
  badKeys('UID abc', /Invalid sequence set/);
  badKeys('UID (1)', /Expected a UID set/);
  badKeys('0', /0 is not a valid message number/);
  badKeys('1:0', /0 is not a valid/);
  badKeys('1,,2', /Invalid sequence set/);
  badKeys('*:', /Invalid sequence set/);
  badKeys('5000000000', /too large/);
  badKeys(`${'NOT '.repeat(200)}ALL`, /nested too deeply/);
});

test('search dates are checked', () => {
  badKeys('BEFORE', /Missing date after BEFORE/);
  badKeys('BEFORE 31-Feb-2020', /no day 31/);
  badKeys('BEFORE 29-Feb-2023', /no day 29/);
  badKeys('ON 1-Foo-2020', /Invalid date/);
  badKeys('SINCE 2020-01-01', /Invalid date/);
  badKeys('SINCE 1-Jan-20', /Invalid date/);
  badKeys('SINCE 123-Jan-2020', /Invalid date/);
  badKeys('SENTON (1-Jan-2020)', /Expected a date/);
});

test('RFC 8514 SAVEDBEFORE, SAVEDON, SAVEDSINCE and SAVEDATESUPPORTED', () => {
  assert.deepEqual(keys('SAVEDBEFORE 1-Feb-2020'), { op: 'savedate', cmp: 'before', date: day(2020, 2, 1) });
  assert.deepEqual(keys('savedon "03-Mar-2021"'), { op: 'savedate', cmp: 'on', date: day(2021, 3, 3) });
  assert.deepEqual(keys('SAVEDSINCE 31-Dec-1999'), { op: 'savedate', cmp: 'since', date: day(1999, 12, 31) });
  // Every folder here has save dates: SAVEDATESUPPORTED matches every message.
  assert.deepEqual(keys('SAVEDATESUPPORTED'), { op: 'all' });
  badKeys('SAVEDBEFORE', /Missing date after SAVEDBEFORE/);
  badKeys('SAVEDON 32-Jan-2020', /date/i);
});
