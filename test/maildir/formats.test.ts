// On-disk formats: file names and flag letters, courierimapuiddb, Dovecot's uidlist,
// courierimapkeywords/:list, folder names.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compareMaildirNames,
  sortMaildirNames,
  crlfSize,
  lettersFor,
  newBaseName,
  parseFileName,
  systemFlagsFromLetters,
} from '../../server/maildir/filenames.js';
import { COUNT_CHUNK, MessageCache, WHOLE_READ_MAX } from '../../server/maildir/messagecache.js';
import { parseMessage } from '../../server/mime/parse.js';
import { formatKeywordList, parseKeywordList } from '../../server/maildir/keywords.js';
import { canonicalFolderName, folderNameOfEntry, parentNames, specialUseOf, DEFAULT_SPECIAL_USE } from '../../server/maildir/names.js';
import { parseQuotaDefinition } from '../../server/maildir/quota.js';
import { extendUidDb, formatUidDb, parseDovecotUidList, parseUidDb, readUidDb, writeUidDb } from '../../server/maildir/uiddb.js';

test('file names: base and flag letters', () => {
  assert.deepEqual(parseFileName('1700.M1P2.host,S=684:2,FS'), { base: '1700.M1P2.host,S=684', letters: 'FS' });
  assert.deepEqual(parseFileName('1700.M1P2.host'), { base: '1700.M1P2.host', letters: '' });
  assert.deepEqual(parseFileName('1700.M1P2.host:1,experimental'), { base: '1700.M1P2.host', letters: '' });
  assert.deepEqual(systemFlagsFromLetters('DFPRST'), ['\\Draft', '\\Flagged', '\\Answered', '\\Seen', '\\Deleted']);
});

test('flag letters come out in ASCII order and keep letters IMAP does not know (P, a)', () => {
  assert.equal(lettersFor(['\\Seen', '\\Answered', '\\Draft']), 'DRS');
  assert.equal(lettersFor(['\\Deleted'], 'PSa'), 'PTa');
  assert.equal(lettersFor([], 'FS'), '');
});

test('RFC822.SIZE counts every bare LF as CRLF', () => {
  assert.equal(crlfSize(Buffer.from('a\nb\r\nc\n')), 9);
  assert.equal(crlfSize(Buffer.from('\n')), 2);
  assert.equal(crlfSize(Buffer.from('no newline')), 10);
});

test('RFC822.SIZE of a large file is counted in chunks, also when CR and LF fall into different chunks', async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'crlf-'));
  try {
    mkdirSync(path.join(dir, 'tmp'));
    // Larger than what is read whole, with a CR at the end of the first chunk and its LF in the second.
    const content = Buffer.concat([Buffer.alloc(COUNT_CHUNK - 1, 65), Buffer.from('\r\n\nx\n'), Buffer.alloc(WHOLE_READ_MAX, 10)]);
    writeFileSync(path.join(dir, 'message'), content);
    const cache = new MessageCache(dir, { parseMessage, renderEnvelope: () => Buffer.alloc(0), memoryEntries: 10 });
    const info = cache.measure('message', path.join(dir, 'message'));
    assert.equal(info?.size, crlfSize(content));
    assert.equal(info?.fileSize, content.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('new names are unique and carry S= and W=', () => {
  const names = new Set(Array.from({ length: 1000 }, () => newBaseName(10, 12)));
  assert.equal(names.size, 1000);
  const name = [...names][0];
  assert.match(name, /^\d+\.M\d+P\d+Q\d+R[0-9a-f]{8}\.[^/:]+,S=10,W=12$/);
});

test('new messages are numbered in delivery order (leading number first)', () => {
  const names = ['1700000010.Mx.host', '999.Mz.host', '1700000002.Mb.host:2,S', '1700000002.Ma.host'];
  const expected = ['999.Mz.host', '1700000002.Ma.host', '1700000002.Mb.host:2,S', '1700000010.Mx.host'];
  assert.deepEqual(sortMaildirNames(names), expected, 'keys worked out once per name: the same order');
  assert.deepEqual(names.sort(compareMaildirNames), expected);
});

test('names already in order (as readdir gives them) stay so; others are sorted the same way', () => {
  const sorted = ['1700000002.Ma.host', '1700000002.Ma.host2:2,S', '1700000003.Mb.host:2,', '12345678901234567.Mc.host'];
  assert.deepEqual(sortMaildirNames(sorted), sorted);
  // Byte order is not ours for numbers of other lengths, or a base that is a prefix of another.
  const byBytes = ['1700000002.Ma.host:2,S', '1700000002.Ma:2,', '999.Mz.host'];
  assert.deepEqual(sortMaildirNames(byBytes), ['999.Mz.host', '1700000002.Ma:2,', '1700000002.Ma.host:2,S']);
  assert.deepEqual([...byBytes].sort(compareMaildirNames), sortMaildirNames(byBytes));
  // A leading number longer than the quick path reads is still compared as a number.
  assert.deepEqual(sortMaildirNames(['1234567890123457.a', '1234567890123456.b']), ['1234567890123456.b', '1234567890123457.a']);
});

test('courierimapuiddb round trip, as Courier writes it', () => {
  const text = '1 795699941 7\n1 1700003600.M1.testhost,S=684\n3 1700010800.M3.testhost,S=1599\n';
  const db = parseUidDb(text);
  assert.ok(db);
  assert.equal(db.uidValidity, 795699941);
  assert.equal(db.uidNext, 7);
  assert.equal(db.uids.get('1700010800.M3.testhost,S=1599'), 3);
  assert.equal(formatUidDb(db), text);
  // Lines in ascending UIDs however the map was filled.
  const shuffled = { ...db!, uids: new Map([...db!.uids].reverse()) };
  assert.equal(formatUidDb(shuffled), text);
});

test('new UIDs are appended to courierimapuiddb in place, or the file is rewritten when that is not safe', async () => {
  const { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'uiddb-'));
  const file = path.join(dir, 'courierimapuiddb');
  try {
    mkdirSync(path.join(dir, 'tmp'));
    const db = parseUidDb('1 795699941 7\n1 a\n3 b\n')!;
    let stamp = await writeUidDb(dir, db);
    const ino = statSync(file).ino;
    // 7 -> 9: same header length, appended in place (same inode), same text as a rewrite.
    db.uids.set('c', 7).set('d', 8);
    db.uidNext = 9;
    stamp = await extendUidDb(dir, db, [['c', 7], ['d', 8]], stamp, 7);
    assert.equal(statSync(file).ino, ino);
    assert.equal(readFileSync(file, 'utf8'), formatUidDb(db));
    assert.deepEqual((await readUidDb(dir)).stamp, stamp);
    // 9 -> 10: the header grows, the file is rewritten.
    db.uids.set('e', 9);
    db.uidNext = 10;
    stamp = await extendUidDb(dir, db, [['e', 9]], stamp, 9);
    assert.notEqual(statSync(file).ino, ino);
    assert.equal(readFileSync(file, 'utf8'), formatUidDb(db));
    // Changed by someone else since we read it: rewritten, not appended to.
    writeFileSync(file, '1 795699941 11\n1 a\n10 x\n');
    db.uids.set('f', 10);
    db.uidNext = 11;
    await extendUidDb(dir, db, [['f', 10]], stamp, 10);
    assert.equal(readFileSync(file, 'utf8'), formatUidDb(db));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged uiddb never makes a UID be given twice', () => {
  const db = parseUidDb('1 5 2\n1 a\n9 b\n9 c\nx d\n4 a\n');
  assert.ok(db);
  assert.equal(db.uidNext, 10, 'next UID above the highest one in the file');
  assert.deepEqual([...db.uids], [['a', 1], ['b', 9]], 'duplicate UIDs and names dropped');
  assert.equal(parseUidDb('2 5 2\n'), null, 'unknown version');
  assert.equal(parseUidDb(''), null);
});

test("Dovecot's uidlist (v3 and v1) gives UIDs and UIDVALIDITY", () => {
  const v3 = parseDovecotUidList('3 V1275660208 N25 G3085f01b7f11094c501100008c4a11c1\n1 :1700.M1.host,S=10\n24 W1234 :1700.M2.host,S=20:2,S\n');
  assert.ok(v3);
  assert.equal(v3.uidValidity, 1275660208);
  assert.equal(v3.uidNext, 25);
  assert.deepEqual([...v3.uids], [['1700.M1.host,S=10', 1], ['1700.M2.host,S=20', 24]]);
  const v1 = parseDovecotUidList('1 1275660208 5\n3 1700.M1.host\n');
  assert.deepEqual(v1 && [...v1.uids], [['1700.M1.host', 3]]);
  assert.equal(parseDovecotUidList('garbage'), null);
});

test('courierimapkeywords/:list round trip', () => {
  const text = 'Foo\n$Label1\n\n1700.M1.host,S=684:0 1\n1700.M2.host:1\n';
  const map = parseKeywordList(text);
  assert.deepEqual([...map], [['1700.M1.host,S=684', ['Foo', '$Label1']], ['1700.M2.host', ['$Label1']]]);
  assert.equal(formatKeywordList(map), text);
  assert.equal(formatKeywordList(new Map([['x', []]])), null, 'no keywords at all: no :list');
});

test('folder names: INBOX prefix, no empty levels, no slash', () => {
  assert.equal(canonicalFolderName('inbox'), 'INBOX');
  assert.equal(canonicalFolderName('Inbox.Sent'), 'INBOX.Sent');
  assert.equal(canonicalFolderName('INBOX.Ünïcödé.x'), 'INBOX.Ünïcödé.x');
  for (const bad of ['Projects', 'INBOXX', 'INBOX.', 'INBOX..a', 'INBOX.a.', 'INBOX.a/b', 'INBOX.a\nb', '']) {
    assert.equal(canonicalFolderName(bad), null, bad);
  }
  assert.equal(folderNameOfEntry('.Archive.2025'), 'INBOX.Archive.2025');
  assert.equal(folderNameOfEntry('..'), null);
  assert.equal(folderNameOfEntry('cur'), null);
  assert.deepEqual(parentNames('INBOX.a.b'), ['INBOX', 'INBOX.a']);
});

test('special-use attributes for the usual names directly under INBOX', () => {
  assert.equal(specialUseOf('INBOX.Sent', DEFAULT_SPECIAL_USE), '\\Sent');
  assert.equal(specialUseOf('INBOX.deleted items', DEFAULT_SPECIAL_USE), '\\Trash');
  assert.equal(specialUseOf('INBOX.Archive.Sent', DEFAULT_SPECIAL_USE), undefined);
  assert.equal(specialUseOf('INBOX', DEFAULT_SPECIAL_USE), undefined);
});

test('maildirsize quota definitions', () => {
  assert.deepEqual(parseQuotaDefinition('1000000S,100C'), { storageLimit: 1000000, messageLimit: 100 });
  assert.deepEqual(parseQuotaDefinition('5000S'), { storageLimit: 5000 });
  assert.deepEqual(parseQuotaDefinition(''), {});
});

test('imapd-ts.sizes: learnt sizes are appended, a later line wins, and messages that went are dropped by a rewrite', async () => {
  const { mkdtempSync, mkdirSync, readFileSync, rmSync, appendFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { InfoCache, INFO_CACHE_FILE } = await import('../../server/maildir/infocache.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'sizes-'));
  const file = path.join(dir, INFO_CACHE_FILE);
  try {
    mkdirSync(path.join(dir, 'tmp'));
    const first = new InfoCache(dir);
    first.remember('a', { size: 10, internalDate: 1000, fileSize: 9 });
    await first.save(undefined);
    first.remember('b', { size: 20, internalDate: 2000, fileSize: 19 });
    first.remember('a', { size: 11, internalDate: 1001, fileSize: 10 });
    await first.save(undefined);
    assert.equal(readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 4, 'header and three appended lines');
    const second = new InfoCache(dir);
    assert.deepEqual(second.get('a'), { size: 11, internalDate: 1001, fileSize: 10 });
    assert.deepEqual(second.get('b'), { size: 20, internalDate: 2000, fileSize: 19 });
    await second.save(new Set(['b']));
    assert.equal(readFileSync(file, 'utf8'), 'imapd-ts sizes 1\n20 2000 19 b\n', 'rewritten with the live messages only');
    // A line cut short by a crash is ignored, and the next save rewrites the file.
    appendFileSync(file, '30 3000');
    const third = new InfoCache(dir);
    assert.equal(third.get('c'), undefined);
    third.remember('c', { size: 30, internalDate: 3000, fileSize: 29 });
    await third.save(undefined);
    assert.equal(readFileSync(file, 'utf8'), 'imapd-ts sizes 1\n20 2000 19 b\n30 3000 29 c\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
