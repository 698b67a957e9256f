import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInternalDate, parseDateTime, parseSearchDate, dateOnlyToUtc, ProtocolError } from '../../../server/imap/protocol/parser.js';

test('parseSearchDate', () => {
  assert.deepEqual(parseSearchDate('1-Feb-1994'), { y: 1994, m: 2, d: 1 });
  assert.deepEqual(parseSearchDate('01-feb-1994'), { y: 1994, m: 2, d: 1 });
  assert.deepEqual(parseSearchDate('31-DEC-2030'), { y: 2030, m: 12, d: 31 });
  assert.deepEqual(parseSearchDate('29-Feb-2000'), { y: 2000, m: 2, d: 29 });
  assert.equal(dateOnlyToUtc(parseSearchDate('2-Jan-1970')), 86_400_000);
  for (const bad of ['', '1-Feb-94', '1 Feb 1994', '0-Feb-1994', '30-Feb-2000', '29-Feb-1900', '32-Jan-2000', '1-Fbr-1994', '1-Feb-1994 ', '001-Feb-1994']) {
    assert.throws(() => parseSearchDate(bad), ProtocolError, bad);
  }
});

test('parseDateTime (APPEND date-time)', () => {
  assert.equal(parseDateTime('17-Jul-1996 02:44:25 -0700'), Date.UTC(1996, 6, 17, 9, 44, 25));
  assert.equal(parseDateTime(' 7-Jul-1996 02:44:25 +0000'), Date.UTC(1996, 6, 7, 2, 44, 25), 'leading space for one-digit days');
  assert.equal(parseDateTime('07-Jul-1996 02:44:25 +0530'), Date.UTC(1996, 6, 6, 21, 14, 25));
  assert.equal(parseDateTime('7-jul-1996 23:59:59 -1200'), Date.UTC(1996, 6, 8, 11, 59, 59), 'lenient: one digit without space');
  assert.equal(parseDateTime('31-Dec-1998 23:59:60 +0000'), Date.UTC(1998, 11, 31, 23, 59, 59), 'leap second');
  for (const bad of [
    '',
    '17-Jul-1996 02:44:25',
    '17-Jul-1996 2:44:25 -0700',
    '17-Jul-1996 24:00:00 -0700',
    '17-Jul-1996 02:60:00 -0700',
    '17-Jul-1996 02:44:25 -07:00',
    '17-Jul-1996 02:44:25 -0760',
    '17-Jul-1996  02:44:25 -0700',
    '31-Jun-1996 02:44:25 -0700',
    '17-Jul-96 02:44:25 -0700',
    '  7-Jul-1996 02:44:25 -0700',
    '17-Jul-1996 02:44:25 PDT',
  ]) {
    assert.throws(() => parseDateTime(bad), ProtocolError, bad);
  }
});

test('formatInternalDate', () => {
  const t = Date.UTC(1996, 6, 17, 9, 44, 25);
  assert.equal(formatInternalDate(t, -420), '17-Jul-1996 02:44:25 -0700');
  assert.equal(formatInternalDate(t, 0), '17-Jul-1996 09:44:25 +0000');
  assert.equal(formatInternalDate(t, 330), '17-Jul-1996 15:14:25 +0530');
  assert.equal(formatInternalDate(Date.UTC(2023, 10, 5, 10, 0, 0, 999), 0), '05-Nov-2023 10:00:00 +0000', 'two-digit day as Courier, ms dropped');
  assert.equal(formatInternalDate(Date.UTC(2024, 0, 1, 0, 30), -60), '31-Dec-2023 23:30:00 -0100');
  // Without an offset: the server's local zone, and the text parses back to the same time.
  const now = Math.floor(Date.now() / 1000) * 1000;
  assert.equal(parseDateTime(formatInternalDate(now)), now);
  assert.equal(parseDateTime(formatInternalDate(t, -420)), t);
});
