import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommands } from '../../../server/imap/protocol/split-commands.js';
import { parseCommand, parseFetchItems, ProtocolError } from '../../../server/imap/protocol/parser.js';
import type { FetchItem } from '../../../server/imap/protocol/types.js';

/** FETCH items of "a FETCH 1 <items>" (UID FETCH the same way). */
function items(text: string): FetchItem[] {
  const cmd = parseCommand(splitCommands(Buffer.from(`a FETCH 1 ${text}\r\n`, 'latin1'))[0]);
  return parseFetchItems(cmd.args.slice(1));
}

function kinds(text: string): string[] {
  return items(text).map((i) => (i.kind === 'BODY[]' ? i.label : i.kind));
}

function badItems(text: string, pattern: RegExp): void {
  assert.throws(() => items(text), (e: unknown) => e instanceof ProtocolError && pattern.test(e.message), text);
}

test('macros ALL, FAST, FULL (any case)', () => {
  assert.deepEqual(kinds('ALL'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
  assert.deepEqual(kinds('fast'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  assert.deepEqual(kinds('Full'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
  badItems('(ALL)', /inside a list/);
  badItems('(FLAGS FAST)', /inside a list/);
});

test('every simple attribute, alone and in a list', () => {
  const all = ['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT'];
  for (const a of all) assert.deepEqual(kinds(a.toLowerCase()), [a]);
  assert.deepEqual(kinds(`(${all.join(' ')})`), all);
});

test('duplicates are dropped, order kept', () => {
  assert.deepEqual(kinds('(UID FLAGS uid BODY[] BODY[] BODY.PEEK[])'), ['UID', 'FLAGS', 'BODY[]', 'BODY[]']);
  const two = items('(BODY.PEEK[] BODY[])');
  assert.deepEqual(two.map((i) => i.kind === 'BODY[]' && i.peek), [true, false]);
});

test('FETCH 1,* UID form (single attribute without parentheses)', () => {
  const cmd = parseCommand(splitCommands(Buffer.from('a FETCH 1,* UID\r\n'))[0]);
  assert.equal(cmd.args[0].type === 'atom' && cmd.args[0].value, '1,*');
  assert.deepEqual(parseFetchItems(cmd.args.slice(1)), [{ kind: 'UID' }]);
});

test('BODY[] forms with sections, peek and labels', () => {
  const cases: Array<[string, Partial<Extract<FetchItem, { kind: 'BODY[]' }>>]> = [
    ['BODY[]', { section: { part: [], kind: '' }, peek: false, label: 'BODY[]' }],
    ['BODY.PEEK[]', { section: { part: [], kind: '' }, peek: true, label: 'BODY[]' }],
    ['body.peek[header]', { section: { part: [], kind: 'HEADER' }, peek: true, label: 'BODY[HEADER]' }],
    ['BODY[TEXT]', { section: { part: [], kind: 'TEXT' }, label: 'BODY[TEXT]' }],
    ['BODY[1]', { section: { part: [1], kind: '' }, label: 'BODY[1]' }],
    ['BODY[1.2.3]', { section: { part: [1, 2, 3], kind: '' }, label: 'BODY[1.2.3]' }],
    ['BODY[1.2.HEADER]', { section: { part: [1, 2], kind: 'HEADER' }, label: 'BODY[1.2.HEADER]' }],
    ['BODY[2.TEXT]', { section: { part: [2], kind: 'TEXT' }, label: 'BODY[2.TEXT]' }],
    ['BODY[1.MIME]', { section: { part: [1], kind: 'MIME' }, label: 'BODY[1.MIME]' }],
    [
      'BODY[HEADER.FIELDS (FROM TO)]',
      { section: { part: [], kind: 'HEADER.FIELDS', fields: ['FROM', 'TO'] }, label: 'BODY[HEADER.FIELDS (FROM TO)]' },
    ],
    [
      'BODY.PEEK[header.fields.not (Received "X(Odd)" {4}\r\nDate)]',
      {
        section: { part: [], kind: 'HEADER.FIELDS.NOT', fields: ['RECEIVED', 'X(ODD)', 'DATE'] },
        peek: true,
        label: 'BODY[HEADER.FIELDS.NOT (Received "X(Odd)" Date)]',
      },
    ],
    [
      'BODY[1.2.HEADER.FIELDS (Subject)]',
      { section: { part: [1, 2], kind: 'HEADER.FIELDS', fields: ['SUBJECT'] }, label: 'BODY[1.2.HEADER.FIELDS (Subject)]' },
    ],
  ];
  for (const [text, expected] of cases) {
    const [item] = items(text);
    assert.equal(item.kind, 'BODY[]', text);
    if (item.kind !== 'BODY[]') continue;
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(item[k as keyof typeof item], v, `${text}: ${k}`);
    if (expected.peek === undefined) assert.equal(item.peek, false);
    assert.equal(item.partial, undefined);
  }
});

test('partial fetch <origin.count>: the label carries <origin> only', () => {
  const [item] = items('BODY.PEEK[HEADER.FIELDS (From To)]<0.100>');
  assert.deepEqual(item, {
    kind: 'BODY[]',
    section: { part: [], kind: 'HEADER.FIELDS', fields: ['FROM', 'TO'] },
    peek: true,
    partial: { origin: 0, count: 100 },
    label: 'BODY[HEADER.FIELDS (From To)]<0>',
  });
  const [second] = items('(FLAGS BODY[1.TEXT]<4294967295.1>)').slice(1);
  assert.ok(second.kind === 'BODY[]');
  assert.deepEqual(second.partial, { origin: 4294967295, count: 1 });
  assert.equal(second.label, 'BODY[1.TEXT]<4294967295>');
});

test('invalid sections', () => {
  badItems('BODY[MIME]', /MIME needs a part/);
  badItems('BODY[0]', /part number 0/);
  badItems('BODY[1.0]', /part number 0/);
  badItems('BODY[01]', /part number 01/);
  badItems('BODY[1..2]', /Invalid section/);
  badItems('BODY[1.]', /Invalid section/);
  badItems('BODY[.1]', /Invalid section/);
  badItems('BODY[FOO]', /Invalid section/);
  badItems('BODY[1.HEADERS]', /Invalid section/);
  badItems('BODY[HEADER.FIELDS]', /needs a list/);
  badItems('BODY[HEADER.FIELDS ()]', /needs a list/);
  badItems('BODY[HEADER.FIELDS FROM]', /needs a list/);
  badItems('BODY[HEADER.FIELDS (FROM) (TO)]', /needs a list/);
  badItems('BODY[TEXT (FROM)]', /Invalid section/);
  badItems('BODY[HEADER.FIELDS ("Bad:Name")]', /header field name/);
  badItems('BODY[HEADER.FIELDS ((FROM))]', /header field name/);
  badItems('BODY[("x")]', /Invalid section/);
});

test('invalid partial ranges', () => {
  badItems('BODY[]<5.0>', /count must not be 0/);
  badItems('BODY[]<a.b>', /partial range/);
  badItems('BODY[]<5>', /partial range/);
  badItems('BODY[]<-1.5>', /partial range/);
  badItems('BODY[]<99999999999.5>', /partial range/);
});

test('other invalid attribute lists', () => {
  badItems('', /Missing fetch attributes/);
  badItems('()', /Empty fetch attribute list/);
  badItems('FLAGS UID', /in parentheses/);
  badItems('(FLAGS) UID', /after the fetch attribute list/);
  badItems('(FLAGS "UID")', /Invalid fetch attribute/);
  badItems('(FLAGS (UID))', /Invalid fetch attribute/);
  badItems('BODY.PEEK', /needs a \[section\]/);
  badItems('BINARY', /needs a \[section\]/);
  badItems('X-GM-MSGID', /Unknown fetch attribute/);
  badItems('BODY<0.10>', /Unknown fetch attribute/);
  badItems('MODSEQ.PRIV', /Unknown fetch attribute/); // MODSEQ itself is CONDSTORE's (test/imap/condstore.test.ts)
});

test('BINARY, BINARY.PEEK and BINARY.SIZE take a part number (RFC 3516 9)', () => {
  assert.deepEqual(items('BINARY[]'), [{ kind: 'BINARY[]', part: [], peek: false, label: 'BINARY[]' }]);
  assert.deepEqual(items('binary.peek[1.2]<10.20>'), [{ kind: 'BINARY[]', part: [1, 2], peek: true, label: 'BINARY[1.2]<10>', partial: { origin: 10, count: 20 } }]);
  assert.deepEqual(items('BINARY.SIZE[3]'), [{ kind: 'BINARY.SIZE', part: [3], label: 'BINARY.SIZE[3]' }]);
  assert.deepEqual(kinds('(BINARY[1] BINARY.PEEK[1] BINARY[1] BINARY.SIZE[1] binary.size[1] BINARY[1]<0.5>)'), ['BINARY[]', 'BINARY[]', 'BINARY.SIZE', 'BINARY[]']);
  badItems('BINARY[HEADER]', /takes a part number/);
  badItems('BINARY.PEEK[1.TEXT]', /takes a part number/);
  badItems('BINARY[1.MIME]', /takes a part number/);
  badItems('BINARY.SIZE[1]<0.5>', /no partial/);
  badItems('BINARY[0]', /Invalid part number/);
  badItems('BINARY[1]<1.0>', /count must not be 0/);
  badItems('BINARY.SIZE', /needs a \[section\]/);
});

test('EMAILID, THREADID, SAVEDATE and PREVIEW [(LAZY)]', () => {
  assert.deepEqual(kinds('(EMAILID threadid SaveDate UID)'), ['EMAILID', 'THREADID', 'SAVEDATE', 'UID']);
  assert.deepEqual(items('PREVIEW'), [{ kind: 'PREVIEW', lazy: false }]);
  assert.deepEqual(items('(UID PREVIEW (lazy) FLAGS)'), [{ kind: 'UID' }, { kind: 'PREVIEW', lazy: true }, { kind: 'FLAGS' }]);
  assert.deepEqual(items('(PREVIEW (LAZY LAZY))'), [{ kind: 'PREVIEW', lazy: true }]);
  badItems('(PREVIEW ())', /Empty PREVIEW modifier/);
  badItems('(PREVIEW (FUZZY))', /only LAZY/);
  badItems('(PREVIEW ("LAZY"))', /only LAZY/);
  badItems('SNIPPET', /Unknown fetch attribute/);
});
