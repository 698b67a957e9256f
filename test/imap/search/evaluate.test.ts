import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { MessageMeta } from '../../../server/mime/types.js';
import { parseMessage } from '../../../server/mime/parse.js';
import type { SearchKey, SequenceSet } from '../../../server/imap/protocol/types.js';
import { search, searchKeyNeeds, type SearchAccessors, type SearchMessage } from '../../../server/imap/search/evaluate.js';
import { MAX_STRINGS, MAX_TEXT_STRINGS } from '../../../server/imap/search/compile.js';
import { ProtocolError } from '../../../server/imap/protocol/errors.js';
import { info } from './helpers.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

// Four messages covering plain 8bit UTF-8, ISO-8859-1 and UTF-8 encoded-words, quoted-printable,
// base64, a message without Date:, and an attached message/rfc822.
const RAW: Buffer[] = [
  crlf([
    'From: Alice Example <alice@example.org>',
    'To: Bob <bob@example.com>',
    'Subject: Quarterly report',
    'Date: Sun, 10 Mar 2024 23:30:00 -0500',
    'Message-ID: <m1@example.org>',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    Buffer.from('Hello Bob, caf\u00e9 on the stra\u00dfe.', 'utf8').toString('latin1'),
    '',
  ]),
  crlf([
    'From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>',
    'To: alice@example.org',
    'Cc: team@example.com',
    'Subject: =?UTF-8?B?w4RwZmVs?= und Birnen',
    'Date: Mon, 11 Mar 2024 02:00:00 +0900',
    'X-Custom: Foo',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Sch=F6ne Gr=FC=DFe aus K=F6ln',
    '--b',
    'Content-Type: text/html; charset=us-ascii',
    '',
    '<p>html only words</p>',
    '--b--',
    '',
  ]),
  crlf([
    'From: bob@example.com',
    'To: Alice <alice@example.org>',
    'Bcc: secret@example.net',
    'Subject: Re: Quarterly report',
    'In-Reply-To: <m1@example.org>',
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('Base64 hidden WORD here\r\n').toString('base64'),
    '',
  ]),
  crlf([
    'From: Carol <carol@example.net>',
    'To: bob@example.com',
    'Subject: =?utf-8?q?=CE=9F=CE=94=CE=9F=CE=A3?=',
    'Date: 12 Mar 24 10:00 GMT',
    'Content-Type: multipart/mixed; boundary="m"',
    '',
    '--m',
    'Content-Type: text/plain',
    '',
    'See attached.',
    '--m',
    'Content-Type: message/rfc822',
    '',
    'From: inner@example.net',
    'Subject: Inner subject',
    '',
    'inner body text',
    '--m--',
    '',
  ]),
];

const H = 3600000;
const INFOS = [
  info(10, ['\\Seen'], RAW[0].length, Date.UTC(2024, 2, 11, 4, 30)),
  info(20, ['\\Flagged', '$Label1'], RAW[1].length, Date.UTC(2024, 2, 11, 12)),
  info(25, ['\\Seen', '\\Answered'], RAW[2].length, Date.UTC(2024, 2, 11, 23, 59)),
  info(40, ['\\Deleted', '\\Draft'], RAW[3].length, Date.UTC(2024, 2, 12) + 2 * H),
];
const MESSAGES: SearchMessage[] = INFOS.map((inf, i) => ({ seq: i + 1, uid: inf.uid, info: inf, recent: i >= 2 }));

/** Accessors over the in-memory messages that count what they were asked for. */
function accessors(messages: SearchMessage[] = MESSAGES, raws: Buffer[] = RAW) {
  const byUid = new Map(messages.map((m, i) => [m.uid, raws[i % raws.length]]));
  const metas = new Map<number, MessageMeta>();
  const calls = { meta: 0, raw: 0 };
  const acc: SearchAccessors = {
    async meta(uid) {
      calls.meta++;
      let meta = metas.get(uid);
      if (!meta) {
        meta = parseMessage(byUid.get(uid)!);
        metas.set(uid, meta);
      }
      return meta;
    },
    async raw(uid) {
      calls.raw++;
      return byUid.get(uid)!;
    },
  };
  return { acc, calls };
}

async function run(key: SearchKey): Promise<number[]> {
  return search(MESSAGES, key, accessors().acc, { internalDateZone: 'utc' });
}

const set = (text: string): SequenceSet =>
  text.split(',').map((part) => {
    const [a, b = a] = part.split(':');
    const n = (s: string) => (s === '*' ? Infinity : Number(s));
    return { from: n(a), to: n(b) };
  });
const header = (field: string, value: string): SearchKey => ({ op: 'header', field, value });
const and = (...keys: SearchKey[]): SearchKey => ({ op: 'and', keys });
const or = (left: SearchKey, right: SearchKey): SearchKey => ({ op: 'or', left, right });
const not = (key: SearchKey): SearchKey => ({ op: 'not', key });
const date = (y: number, m: number, d: number) => ({ y, m, d });

test('ALL, sequence sets and UID sets with "*"', async () => {
  assert.deepEqual(await run({ op: 'all' }), [1, 2, 3, 4]);
  assert.deepEqual(await run({ op: 'seqset', set: set('2,4:*') }), [2, 4]);
  assert.deepEqual(await run({ op: 'seqset', set: set('*:3') }), [3, 4]);
  assert.deepEqual(await run({ op: 'seqset', set: set('3:1') }), [1, 2, 3]);
  assert.deepEqual(await run({ op: 'uid', set: set('20:30') }), [2, 3]);
  // RFC 3501 6.4.8: "*" is the largest UID, so 100:* contains it although 100 > 40
  assert.deepEqual(await run({ op: 'uid', set: set('100:*') }), [4]);
  assert.deepEqual(await run({ op: 'uid', set: set('*') }), [4]);
  // "*" comes from the context when the caller searches a subset of the mailbox
  const subset = MESSAGES.slice(0, 2);
  assert.deepEqual(await search(subset, { op: 'seqset', set: set('*') }, accessors().acc), [2]);
  assert.deepEqual(await search(subset, { op: 'seqset', set: set('*') }, accessors().acc, { maxSeq: 4 }), []);
  assert.deepEqual(await search(subset, { op: 'uid', set: set('21:*') }, accessors().acc, { maxUid: 40 }), []);
  assert.deepEqual(await search([], { op: 'uid', set: set('1:*') }, accessors().acc), []);
});

test('flags, keywords, RECENT, NEW, OLD', async () => {
  assert.deepEqual(await run({ op: 'flag', flag: '\\Seen' }), [1, 3]);
  assert.deepEqual(await run({ op: 'noflag', flag: '\\Seen' }), [2, 4]);
  assert.deepEqual(await run({ op: 'flag', flag: '\\SEEN' }), [1, 3]); // flags are case-insensitive
  assert.deepEqual(await run({ op: 'flag', flag: '\\Answered' }), [3]);
  assert.deepEqual(await run({ op: 'flag', flag: '\\Deleted' }), [4]);
  assert.deepEqual(await run({ op: 'flag', flag: '\\Draft' }), [4]);
  assert.deepEqual(await run({ op: 'flag', flag: '\\Flagged' }), [2]);
  assert.deepEqual(await run({ op: 'flag', flag: '$label1' }), [2]);
  assert.deepEqual(await run({ op: 'noflag', flag: '$Label1' }), [1, 3, 4]);
  assert.deepEqual(await run({ op: 'flag', flag: 'NoSuchKeyword' }), []);
  assert.deepEqual(await run({ op: 'recent' }), [3, 4]);
  assert.deepEqual(await run({ op: 'new' }), [4]);
  assert.deepEqual(await run({ op: 'old' }), [1, 2]);
});

test('BEFORE / ON / SINCE compare the day of INTERNALDATE only', async () => {
  assert.deepEqual(await run({ op: 'internaldate', cmp: 'on', date: date(2024, 3, 11) }), [1, 2, 3]);
  assert.deepEqual(await run({ op: 'internaldate', cmp: 'before', date: date(2024, 3, 12) }), [1, 2, 3]);
  assert.deepEqual(await run({ op: 'internaldate', cmp: 'since', date: date(2024, 3, 12) }), [4]);
  assert.deepEqual(await run({ op: 'internaldate', cmp: 'since', date: date(2024, 3, 11) }), [1, 2, 3, 4]);
  assert.deepEqual(await run({ op: 'internaldate', cmp: 'before', date: date(2024, 3, 11) }), []);
});

test('SENTBEFORE / SENTON / SENTSINCE use the date as written in Date:', async () => {
  // message 1: "10 Mar 2024 23:30 -0500" is 11 Mar in UTC but 10 Mar as written;
  // message 2: "11 Mar 2024 02:00 +0900" is 10 Mar in UTC but 11 Mar as written.
  assert.deepEqual(await run({ op: 'sentdate', cmp: 'on', date: date(2024, 3, 10) }), [1]);
  assert.deepEqual(await run({ op: 'sentdate', cmp: 'on', date: date(2024, 3, 11) }), [2]);
  assert.deepEqual(await run({ op: 'sentdate', cmp: 'on', date: date(2024, 3, 12) }), [4]); // two-digit year
  assert.deepEqual(await run({ op: 'sentdate', cmp: 'since', date: date(2024, 3, 11) }), [2, 4]);
  assert.deepEqual(await run({ op: 'sentdate', cmp: 'before', date: date(2024, 3, 11) }), [1]);
  // message 3 has no Date: it matches no SENT* key, and its negation
  assert.deepEqual(await run({ op: 'sentdate', cmp: 'before', date: date(2100, 1, 1) }), [1, 2, 4]);
  assert.deepEqual(await run(not({ op: 'sentdate', cmp: 'before', date: date(2100, 1, 1) })), [3]);
});

test('LARGER / SMALLER use RFC822.SIZE', async () => {
  const size2 = INFOS[1].size;
  assert.deepEqual(await run({ op: 'size', cmp: 'larger', n: size2 - 1 }), MESSAGES.filter((m) => m.info.size > size2 - 1).map((m) => m.seq));
  assert.deepEqual(await run({ op: 'size', cmp: 'larger', n: size2 }), MESSAGES.filter((m) => m.info.size > size2).map((m) => m.seq));
  assert.deepEqual(await run({ op: 'size', cmp: 'smaller', n: size2 }), MESSAGES.filter((m) => m.info.size < size2).map((m) => m.seq));
  assert.ok((await run({ op: 'size', cmp: 'smaller', n: size2 })).length > 0);
  assert.deepEqual(await run({ op: 'size', cmp: 'larger', n: 100000 }), []);
});

test('FROM / TO / CC / BCC / SUBJECT search decoded header values, case-insensitively', async () => {
  assert.deepEqual(await run(header('FROM', 'alice')), [1]);
  assert.deepEqual(await run(header('FROM', 'EXAMPLE.')), [1, 2, 3, 4]);
  assert.deepEqual(await run(header('FROM', 'jörg müller')), [2]); // ISO-8859-1 Q encoded-word
  assert.deepEqual(await run(header('FROM', 'JÖRG')), [2]);
  assert.deepEqual(await run(header('FROM', '=?ISO')), []); // the encoded form is not searched
  assert.deepEqual(await run(header('SUBJECT', 'äpfel')), [2]); // UTF-8 B encoded-word
  assert.deepEqual(await run(header('SUBJECT', 'ÄPFEL UND')), [2]);
  assert.deepEqual(await run(header('SUBJECT', 'οδοσ')), [4]); // final sigma folds to sigma
  assert.deepEqual(await run(header('SUBJECT', 'οδος')), [4]);
  assert.deepEqual(await run(header('SUBJECT', 'quarterly')), [1, 3]);
  assert.deepEqual(await run(header('SUBJECT', 're:')), [3]);
  assert.deepEqual(await run(header('TO', 'alice@')), [2, 3]);
  assert.deepEqual(await run(header('CC', 'team')), [2]);
  assert.deepEqual(await run(header('BCC', 'secret')), [3]);
  // an empty string matches every message that has the field
  assert.deepEqual(await run(header('CC', '')), [2]);
  assert.deepEqual(await run(header('BCC', '')), [3]);
  assert.deepEqual(await run(header('FROM', '')), [1, 2, 3, 4]);
});

test('HEADER searches any field; an empty string tests presence', async () => {
  assert.deepEqual(await run(header('X-CUSTOM', 'foo')), [2]);
  assert.deepEqual(await run(header('X-CUSTOM', '')), [2]);
  assert.deepEqual(await run(header('X-CUSTOM', 'bar')), []);
  assert.deepEqual(await run(header('MESSAGE-ID', 'm1@example')), [1]);
  assert.deepEqual(await run(header('MESSAGE-ID', '')), [1]);
  assert.deepEqual(await run(header('IN-REPLY-TO', '<M1@EXAMPLE.ORG>')), [3]);
  assert.deepEqual(await run(header('DATE', 'mar 2024')), [1, 2]);
  assert.deepEqual(await run(header('CONTENT-TRANSFER-ENCODING', 'base64')), [3]);
  // the attached message's header is not the message's header
  assert.deepEqual(await run(header('SUBJECT', 'inner')), []);
});

test('BODY searches the decoded text parts; TEXT adds the header', async () => {
  assert.deepEqual(await run({ op: 'body', value: 'CAFÉ' }), [1]);
  assert.deepEqual(await run({ op: 'body', value: 'café' }), [1]);
  assert.deepEqual(await run({ op: 'body', value: 'cafe\u0301' }), [1]); // decomposed form meets composed
  assert.deepEqual(await run({ op: 'body', value: 'STRAßE' }), [1]);
  assert.deepEqual(await run({ op: 'body', value: 'strasse' }), []); // ß is not expanded (as Courier and Dovecot)
  assert.deepEqual(await run({ op: 'body', value: 'grüße aus köln' }), [2]); // quoted-printable ISO-8859-1
  assert.deepEqual(await run({ op: 'body', value: 'html only' }), [2]);
  assert.deepEqual(await run({ op: 'body', value: 'hidden word' }), [3]); // base64
  assert.deepEqual(await run({ op: 'body', value: 'inner body' }), [4]); // attached message
  assert.deepEqual(await run({ op: 'body', value: 'alice' }), []); // header is not body
  assert.deepEqual(await run({ op: 'body', value: '' }), [1, 2, 3, 4]);
  assert.deepEqual(await run({ op: 'text', value: 'alice' }), [1, 2, 3]);
  assert.deepEqual(await run({ op: 'text', value: 'subject:' }), [1, 2, 3, 4]); // field names count
  assert.deepEqual(await run({ op: 'text', value: 'äpfel' }), [2]); // decoded header
  assert.deepEqual(await run({ op: 'text', value: 'hidden' }), [3]);
  assert.deepEqual(await run({ op: 'text', value: 'nowhere at all' }), []);
  // TEXT also sees the MIME headers of parts and the header of an attached message; BODY does not
  assert.deepEqual(await run({ op: 'text', value: 'inner subject' }), [4]);
  assert.deepEqual(await run({ op: 'body', value: 'inner subject' }), []);
  assert.deepEqual(await run({ op: 'text', value: 'content-type: message/rfc822' }), [4]);
  assert.deepEqual(await run({ op: 'text', value: 'quoted-printable' }), [2]);
});

test('AND, OR, NOT and nesting', async () => {
  assert.deepEqual(await run(and({ op: 'flag', flag: '\\Seen' }, header('SUBJECT', 'quarterly'))), [1, 3]);
  assert.deepEqual(await run(and({ op: 'flag', flag: '\\Seen' }, { op: 'body', value: 'hidden' })), [3]);
  assert.deepEqual(await run(or(header('FROM', 'alice'), header('FROM', 'carol'))), [1, 4]);
  assert.deepEqual(await run(not(header('FROM', 'alice'))), [2, 3, 4]);
  assert.deepEqual(await run(not(not({ op: 'recent' }))), [3, 4]);
  assert.deepEqual(
    await run(or(and({ op: 'recent' }, not({ op: 'body', value: 'hidden' })), and({ op: 'seqset', set: set('1') }, { op: 'text', value: 'bob' }))),
    [1, 4],
  );
  assert.deepEqual(await run(or(or({ op: 'uid', set: set('10') }, { op: 'uid', set: set('20') }), not({ op: 'all' }))), [1, 2]);
  assert.deepEqual(await run(and()), [1, 2, 3, 4]);
  assert.deepEqual(await run(and(header('TO', 'bob'), not(header('FROM', 'carol')), { op: 'body', value: 'hello' })), [1]);
});

test('cheap keys decide first: no meta or file is read when flags or UIDs settle it', async () => {
  {
    const { acc, calls } = accessors();
    assert.deepEqual(await search(MESSAGES, and({ op: 'flag', flag: '\\Answered' }, { op: 'body', value: 'hidden' }), acc), [3]);
    assert.deepEqual(calls, { meta: 1, raw: 1 }); // only message 3 is \Answered
  }
  {
    const { acc, calls } = accessors();
    assert.deepEqual(await search(MESSAGES, or({ op: 'all' }, { op: 'text', value: 'x' }), acc), [1, 2, 3, 4]);
    assert.deepEqual(calls, { meta: 0, raw: 0 });
  }
  {
    // header keys from MessageMeta never read the file
    const { acc, calls } = accessors();
    assert.deepEqual(await search(MESSAGES, and(header('FROM', 'alice'), not(header('SUBJECT', 'zzz'))), acc), [1]);
    assert.deepEqual(calls, { meta: 4, raw: 0 });
  }
  {
    // OR decided by a header key in MessageMeta does not read the body
    const { acc, calls } = accessors();
    assert.deepEqual(await search(MESSAGES, or(header('SUBJECT', 'quarterly'), { op: 'body', value: 'inner body' }), acc), [1, 3, 4]);
    assert.deepEqual(calls, { meta: 4, raw: 2 }); // messages 2 and 4 need their body
  }
  {
    // a key written after an expensive one is still tried first
    const { acc, calls } = accessors();
    assert.deepEqual(await search(MESSAGES, and({ op: 'text', value: 'e' }, { op: 'uid', set: set('40') }), acc), [4]);
    assert.deepEqual(calls, { meta: 1, raw: 1 });
  }
});

test('searchKeyNeeds', () => {
  assert.equal(searchKeyNeeds({ op: 'all' }), 'info');
  assert.equal(searchKeyNeeds(and({ op: 'recent' }, { op: 'size', cmp: 'larger', n: 3 }, not({ op: 'uid', set: set('1:*') }))), 'info');
  assert.equal(searchKeyNeeds(or({ op: 'recent' }, header('FROM', 'x'))), 'meta');
  assert.equal(searchKeyNeeds({ op: 'sentdate', cmp: 'on', date: date(2024, 1, 1) }), 'meta');
  assert.equal(searchKeyNeeds(header('FROM', '')), 'raw');
  assert.equal(searchKeyNeeds(header('X-Whatever', 'x')), 'raw');
  assert.equal(searchKeyNeeds(not({ op: 'body', value: 'x' })), 'raw');
});

test('a message whose file vanished is not a match; other read errors propagate', async () => {
  const { acc } = accessors();
  const vanishing: SearchAccessors = {
    meta: acc.meta,
    async raw(uid) {
      if (uid === 20) throw Object.assign(new Error('gone'), { code: 'ENOENT' });
      return acc.raw!(uid);
    },
  };
  assert.deepEqual(await search(MESSAGES, { op: 'body', value: 'e' }, vanishing), [1, 3, 4]);
  const failing: SearchAccessors = {
    meta: acc.meta,
    async raw() {
      throw Object.assign(new Error('disk on fire'), { code: 'EIO' });
    },
  };
  await assert.rejects(search(MESSAGES, { op: 'body', value: 'e' }, failing), /disk on fire/);
});

test('INTERNALDATE days follow the server time zone by default', async () => {
  // 23:30 UTC is the next day east of UTC and the same day west of it; compare with what
  // Date reports for this process's zone.
  const ms = Date.UTC(2024, 2, 10, 23, 30);
  const local = new Date(ms);
  const m: SearchMessage = { seq: 1, uid: 1, info: info(1, [], 10, ms), recent: false };
  const on = { op: 'internaldate', cmp: 'on', date: date(local.getFullYear(), local.getMonth() + 1, local.getDate()) } as const;
  assert.deepEqual(await search([m], on, accessors([m]).acc), [1]);
  assert.deepEqual(await search([m], { ...on, date: date(2024, 3, 10) }, accessors([m]).acc, { internalDateZone: 'utc' }), [1]);
});

test('identical keys are one key: 2,224 "TEXT x" ask the index and are tested once', async () => {
  // The fuzzer's "many literals" case: every key was a node of its own, tested for every
  // message in every round (2,224 x 3,000 messages on its network Maildir).
  const { acc } = accessors();
  let asked = 0;
  acc.textCandidates = () => {
    asked++;
    return undefined;
  };
  const keys: SearchKey[] = Array.from({ length: 2224 }, () => ({ op: 'text', value: 'x' }));
  const expected = await search(MESSAGES, { op: 'text', value: 'x' }, accessors().acc);
  assert.deepEqual(await search(MESSAGES, and(...keys, { op: 'all' }), acc), expected);
  assert.equal(asked, 1);
  asked = 0;
  const either = keys.slice(0, 64).reduce((tree: SearchKey, key) => or(key, tree));
  assert.deepEqual(await search(MESSAGES, either, acc), expected);
  assert.equal(asked, 1);
});

test('more distinct strings than a search may look for is NO [LIMIT], before any message is read', async () => {
  const { acc, calls } = accessors();
  const body = (n: number): SearchKey[] => Array.from({ length: n }, (_, i) => ({ op: 'body', value: `zq${i}` }));
  const tree = (keys: SearchKey[]): SearchKey => (keys.length === 1 ? keys[0] : or(tree(keys.slice(0, keys.length >> 1)), tree(keys.slice(keys.length >> 1))));
  assert.deepEqual(await search(MESSAGES, tree(body(MAX_TEXT_STRINGS)), acc), []);
  const refused = (err: unknown) => err instanceof ProtocolError && err.status === 'NO' && err.code === 'LIMIT';
  const read = calls.raw;
  await assert.rejects(search(MESSAGES, tree(body(MAX_TEXT_STRINGS + 1)), acc), refused);
  assert.equal(calls.raw, read);
  assert.throws(() => searchKeyNeeds(tree(body(MAX_TEXT_STRINGS + 1))), refused);
  // Header fields read from the file count as text; strings of the header data have a limit of their own.
  assert.throws(() => searchKeyNeeds(and(...Array.from({ length: MAX_TEXT_STRINGS + 1 }, (_, i) => header(`X-F${i}`, 'y')))), refused);
  const from = (n: number) => tree(Array.from({ length: n }, (_, i) => header('FROM', `zq${i}`)));
  assert.equal(searchKeyNeeds(from(MAX_STRINGS)), 'meta');
  assert.throws(() => searchKeyNeeds(from(MAX_STRINGS + 1)), refused);
});
