import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommands } from '../../server/imap/protocol/split-commands.js';
import { parseCommand } from '../../server/imap/protocol/parser.js';
import {
  continuation,
  Encoder,
  fetchResponse,
  serialize,
  serializeValues,
  tagged,
  untagged,
  untaggedStatus,
  type WriteOptions,
} from '../../server/wire/writer.js';
import type { ImapValue, Token } from '../../server/imap/protocol/types.js';

const text = (v: ImapValue, options?: WriteOptions): string => serialize(v, options).toString('latin1');

test('NIL, numbers, atoms, lists', () => {
  assert.equal(text(null), 'NIL');
  assert.equal(text(0), '0');
  assert.equal(text(4294967295), '4294967295');
  assert.equal(text({ atom: '\\Seen' }), '\\Seen');
  assert.equal(text({ atom: 'BODY[HEADER.FIELDS (FROM)]<0>' }), 'BODY[HEADER.FIELDS (FROM)]<0>');
  assert.equal(text([]), '()');
  assert.equal(text([{ atom: 'UID' }, 5, [null, [1, 'x']]]), '(UID 5 (NIL (1 "x")))');
  assert.throws(() => serialize(-1), RangeError);
  assert.throws(() => serialize({ atom: 'a\r\n* BYE' }), RangeError);
  assert.throws(() => serialize(1.5), RangeError);
});

test('strings are quoted, never atoms; specials escaped', () => {
  assert.equal(text('INBOX'), '"INBOX"');
  assert.equal(text(''), '""');
  assert.equal(text('NIL'), '"NIL"');
  assert.equal(text('a "b" \\c'), '"a \\"b\\" \\\\c"');
  assert.equal(text('tab\there'), '"tab\there"');
  assert.equal(text(Buffer.from('bytes "q"')), '"bytes \\"q\\""');
});

test('CR, LF, NUL, 8-bit and long strings become literals', () => {
  assert.equal(text('a\r\nb'), '{4}\r\na\r\nb');
  assert.equal(text('a\nb'), '{3}\r\na\nb');
  assert.equal(text('a\x00b'), '{3}\r\na\x00b');
  assert.equal(serialize('Café').toString('utf8'), '{5}\r\nCafé');
  const long = 'x'.repeat(1000);
  assert.equal(text(long), `{1000}\r\n${long}`);
  assert.equal(text('y'.repeat(999)), `"${'y'.repeat(999)}"`);
  assert.equal(text(Buffer.from([0x61, 0xff])), '{2}\r\na\xff');
  assert.equal(text({ literal: Buffer.from('short') }), '{5}\r\nshort');
  assert.equal(text({ literal: Buffer.alloc(0) }), '{0}\r\n');
});

test('UTF8=ACCEPT mode quotes valid UTF-8, still literal for CR/LF and invalid bytes', () => {
  const utf8 = { utf8: true };
  assert.equal(serialize('Café "x"', utf8).toString('utf8'), '"Café \\"x\\""');
  assert.equal(serialize('日本語', utf8).toString('utf8'), '"日本語"');
  assert.equal(serialize(Buffer.from('Grüße', 'utf8'), utf8).toString('utf8'), '"Grüße"');
  assert.equal(text(Buffer.from([0x61, 0xff]), utf8), '{2}\r\na\xff', 'invalid UTF-8 bytes');
  assert.equal(serialize('a\r\né', utf8).toString('utf8'), '{5}\r\na\r\né');
  assert.equal(serialize('\ud800x', utf8).toString('utf8').startsWith('{'), true, 'lone surrogate');
  const wide = 'é'.repeat(600); // 1200 octets
  assert.equal(serialize(wide, utf8).toString('utf8'), `{1200}\r\n${wide}`);
});

test('response lines', () => {
  assert.equal(untagged([5, { atom: 'EXISTS' }]).toString(), '* 5 EXISTS\r\n');
  assert.equal(untagged([{ atom: 'LIST' }, [{ atom: '\\HasNoChildren' }], '.', 'INBOX.Sent']).toString(), '* LIST (\\HasNoChildren) "." "INBOX.Sent"\r\n');
  assert.equal(untaggedStatus('OK', 'Ok', 'UIDVALIDITY 3').toString(), '* OK [UIDVALIDITY 3] Ok\r\n');
  assert.equal(
    untaggedStatus('OK', 'Limited', [{ atom: 'PERMANENTFLAGS' }, [{ atom: '\\Seen' }, { atom: '\\*' }]]).toString(),
    '* OK [PERMANENTFLAGS (\\Seen \\*)] Limited\r\n',
  );
  assert.equal(tagged('a1', 'OK', 'FETCH completed.').toString(), 'a1 OK FETCH completed.\r\n');
  assert.equal(tagged('a2', 'NO', 'bad\r\nthing', 'TRYCREATE').toString(), 'a2 NO [TRYCREATE] bad thing\r\n', 'text cannot break the line');
  assert.equal(continuation().toString(), '+ Ready for literal data\r\n');
  assert.equal(continuation('idling').toString(), '+ idling\r\n');
  assert.equal(
    fetchResponse(3, [['UID', 7], ['FLAGS', [{ atom: '\\Seen' }]], ['BODY[]', { literal: Buffer.from('hi') }]]).toString(),
    '* 3 FETCH (UID 7 FLAGS (\\Seen) BODY[] {2}\r\nhi)\r\n',
  );
  assert.equal(serializeValues([1, 'a', null]).toString(), '1 "a" NIL');
});

test('binary literal data is kept byte for byte among text', () => {
  const body = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0d, 0x0a]);
  const out = new Encoder().raw('* 1 FETCH (').value([{ atom: 'BODY[]' }, { literal: body }, 'é']).raw(')\r\n').finish();
  assert.deepEqual(out, Buffer.concat([Buffer.from('* 1 FETCH ((BODY[] {7}\r\n'), body, Buffer.from(' {2}\r\n'), Buffer.from('é'), Buffer.from('))\r\n')]));
});

/** Parse what the writer wrote: "a X <serialized>" through the reader and parser. */
function readBack(values: ImapValue[], options?: WriteOptions): Token[] {
  const wire = Buffer.concat([Buffer.from('a X '), serializeValues(values, options), Buffer.from('\r\n')]);
  const cmds = splitCommands(wire);
  assert.equal(cmds.length, 1);
  return parseCommand(cmds[0]).args;
}

test('round trip: what the writer writes, the parser reads back', () => {
  let seed = 99;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const samples: string[] = ['', 'NIL', 'a b', '"', '\\', '\\"', '{5}', '{5}\r\n', '(', ')', '*', '%', ']', 'line\r\nbreak', '\r', '\n', 'Grüße', '日本', 'x'.repeat(5000)];
  for (let i = 0; i < 500; i++) {
    let s = '';
    const len = rand(30);
    for (let k = 0; k < len; k++) s += String.fromCharCode(rand(5) === 0 ? rand(0x3000) : rand(128));
    samples.push(s.replace(/[\ud800-\udfff]/g, 'x'));
  }
  for (const options of [{}, { utf8: true }]) {
    const tokens = readBack(samples, options);
    assert.equal(tokens.length, samples.length);
    tokens.forEach((t, i) => {
      assert.equal(t.type, 'string', JSON.stringify(samples[i]));
      if (t.type === 'string') assert.equal(t.value.toString('utf8'), samples[i]);
    });
  }
  // raw bytes, including invalid UTF-8, survive as well
  const bytes: Buffer[] = [];
  for (let i = 0; i < 200; i++) {
    const b = Buffer.alloc(rand(20));
    for (let k = 0; k < b.length; k++) b[k] = rand(256);
    bytes.push(b);
  }
  for (const options of [{}, { utf8: true }]) {
    const tokens = readBack(bytes, options);
    tokens.forEach((t, i) => assert.ok(t.type === 'string' && t.value.equals(bytes[i])));
  }
  // nested lists with NIL and numbers
  const nested: ImapValue[] = [['a', null, [1, ['b\r\n']], []], 42];
  const back = readBack(nested);
  assert.equal(back[0].type, 'list');
  assert.deepEqual(back[1], { type: 'atom', value: '42' });
  if (back[0].type === 'list') {
    assert.deepEqual(back[0].items[1], { type: 'nil' });
    assert.deepEqual(back[0].items[3], { type: 'list', items: [] });
  }
});

test('fast enough for a FETCH of 100,000 envelopes', () => {
  const addr = (name: string, user: string): ImapValue[] => [[name, null, user, 'example.org']];
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < 100_000; i++) {
    const envelope: ImapValue = [
      'Mon, 7 Feb 1994 21:52:25 -0800 (PST)',
      `Re: Weekly report number ${i} "draft"`,
      addr('Terry Gray', 'gray'),
      addr('Terry Gray', 'gray'),
      addr('Terry Gray', 'gray'),
      addr('IMAP list', 'imap'),
      null,
      null,
      null,
      `<B27397-${i}@cac.washington.edu>`,
    ];
    bytes += fetchResponse(i + 1, [['UID', i + 1], ['FLAGS', [{ atom: '\\Seen' }]], ['ENVELOPE', envelope]]).length;
  }
  const ms = performance.now() - t0;
  console.log(`# writer: 100,000 FETCH ENVELOPE responses, ${(bytes / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms`);
});
