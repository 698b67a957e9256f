import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import iconv from 'iconv-lite';
import { parseMessage } from '../../server/mime/parse.js';
import { decodeHeaderValue, findText, headerSearchValues, searchableText } from '../../server/mime/text.js';
import { decodeQuotedPrintable } from '../../server/mime/decode.js';
import { search } from '../../server/imap/search/evaluate.js';
import { foldForSearch } from '../../server/imap/search/fold.js';
import { bWord, corpus, crlf, ISO2022JP_HELLO, qWord } from './corpus.js';

const byName = new Map(corpus().map((e) => [e.name, e.raw]));
const bin = (s: string): Buffer => Buffer.from(s, 'latin1');
const text = (raw: Buffer): string => searchableText(raw, parseMessage(raw).body);

describe('searchableText', () => {
  test('quoted-printable UTF-8, 8-bit HTML and text inside an attached message; no binary parts', () => {
    const t = text(byName.get('nested-multipart')!);
    assert.ok(t.includes('Café au lait.'), t);
    assert.ok(t.includes('<p>Caf'), t); // HTML kept as it is
    assert.ok(t.includes('Inner text.'), t);
    assert.ok(!t.includes('iVBORw0KGgo'), t); // image/png is not text
    assert.ok(!t.includes('AAECAwQF'), t);
  });

  test('base64 and quoted-printable bodies in several charsets', () => {
    const raw = Buffer.concat([
      bin(crlf(`Subject: charsets
Content-Type: multipart/mixed; boundary=c

--c
Content-Type: text/plain; charset=koi8-r
Content-Transfer-Encoding: base64

${iconv.encode('Привет, мир', 'koi8-r').toString('base64')}
--c
Content-Type: text/plain; charset="ISO-8859-1"
Content-Transfer-Encoding: quoted-printable

Caf=E9 cr=E8me, soft=
 break
--c
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: 8bit

`)),
      iconv.encode('€uro “quotes”', 'windows-1252'),
      bin(crlf(`
--c
Content-Type: text/plain; charset=iso-2022-jp

`)),
      bin('\x1b$B$3$s$K$A$O\x1b(B'),
      bin(crlf(`
--c
Content-Type: text/plain; charset=x-unknown-charset

unknown charset \xc3\xa9 read as UTF-8
--c
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

!!!not base64 at all!!!
--c--
`)),
    ]);
    const t = text(raw);
    for (const want of ['Привет, мир', 'Café crème, soft break', '€uro “quotes”', 'こんにちは', 'unknown charset é read as UTF-8']) {
      assert.ok(t.includes(want), `${want} not in ${JSON.stringify(t)}`);
    }
  });

  test('never throws on broken parts', () => {
    for (const e of corpus()) assert.equal(typeof text(e.raw), 'string');
    assert.equal(text(bin('Content-Transfer-Encoding: quoted-printable\r\n\r\n=\r\n=4=ZZ=')), '=4=ZZ'); // a final lone = is a soft break
  });
});

describe('header values for SEARCH', () => {
  test('every field of that name, decoded, from the top-level header only', () => {
    const raw = byName.get('duplicate-headers')!;
    const body = parseMessage(raw).body;
    assert.deepEqual(headerSearchValues(raw, body, 'SUBJECT'), ['First subject', 'Second subject']);
    assert.deepEqual(headerSearchValues(raw, body, 'x-none'), []);
    const nested = byName.get('nested-multipart')!;
    assert.deepEqual(headerSearchValues(nested, parseMessage(nested).body, 'Subject'), ['Nested multiparts']);
    const enc = byName.get('encoded-words')!;
    assert.deepEqual(headerSearchValues(enc, parseMessage(enc).body, 'from'), ['José Núñez <jose@example.org>']);
  });

  test('decodeHeaderValue: RFC 2047 in several charsets, folding, raw UTF-8, garbage', () => {
    assert.equal(decodeHeaderValue(bWord('utf-8', 'Grüße')), 'Grüße');
    assert.equal(decodeHeaderValue(qWord('iso-8859-1', 'café crème')), 'café crème');
    assert.equal(decodeHeaderValue(qWord('windows-1252', '€')), '€');
    assert.equal(decodeHeaderValue(bWord('koi8-r', 'Иван')), 'Иван');
    assert.equal(decodeHeaderValue(ISO2022JP_HELLO), 'こんにちは');
    assert.equal(decodeHeaderValue(`${bWord('utf-8', 'a')}\r\n ${bWord('utf-8', 'b')}`), 'ab');
    assert.equal(decodeHeaderValue(Buffer.from('raw Grüße').toString('latin1')), 'raw Grüße');
    assert.equal(decodeHeaderValue('=?bogus-charset?Q?x?='), 'x');
    assert.equal(decodeHeaderValue('=?utf-8?B?////?='), '\ufffd\ufffd\ufffd');
    assert.equal(decodeHeaderValue('broken =?utf-8?B?'), 'broken =?utf-8?B?');
    assert.equal(decodeHeaderValue('=?utf-8?X?abc?='), '=?utf-8?X?abc?=');
  });
});

describe('findText: strings in a message decided on its bytes where possible', () => {
  // The evaluator's own answer is the reference: TEXT for headers and body, BODY for the body.
  const evaluated = async (raw: Buffer, needle: string, op: 'text' | 'body'): Promise<boolean> => {
    const meta = parseMessage(raw);
    const info = { uid: 1, flags: new Set<string>(), size: raw.length, internalDate: 0, modseq: 1 };
    const found = await search([{ seq: 1, uid: 1, info, recent: false }], { op, value: needle }, { meta: async () => meta, raw: async () => raw });
    return found.length === 1;
  };
  const check = async (raw: Buffer, value: string): Promise<{ header: string; body: string }> => {
    const needle = foldForSearch(value);
    const answer = findText(raw, parseMessage(raw).body, needle);
    const body = await evaluated(raw, value, 'body');
    const text = await evaluated(raw, value, 'text');
    if (answer.body !== 'maybe') assert.equal(answer.body === 'yes', body, `BODY ${value}: ${answer.body}`);
    if (answer.body === 'no' && answer.header !== 'maybe') assert.equal(answer.header === 'yes', text, `TEXT ${value}: ${answer.header}`);
    if (answer.header === 'yes' || answer.body === 'yes') assert.ok(text, `TEXT ${value}`);
    return answer;
  };

  const tricky = (body: string, charset = 'utf-8', cte = '8bit', subject = 'plain'): Buffer =>
    Buffer.from(`Subject: ${subject}\nContent-Type: text/plain; charset=${charset}\nContent-Transfer-Encoding: ${cte}\n\n${body}\n`, 'utf8');

  test('never contradicts the evaluator, on the test corpora and on awkward texts', async () => {
    const needles = ['zorbulate', 'cafe', 'hello', 'fi', 'k', 'subject', 'from', 'x', 'a', '1', 'ab', 'inner', 'text', 'html', 'Äpfel', 'hello world', 'a:b', ''];
    const raws = [
      ...corpus().map((e) => e.raw),
      tricky('the ﬁne print'), // ligature: folds to "fi"
      tricky('ＺＯＲＢＵＬＡＴＥ wide'), // full-width letters
      tricky('a Kelvin sign: K'),
      tricky('zorbulate\u0301 with an accent after'),
      tricky('zorbulate then é'),
      tricky('cafe\u0301 and cafe'),
      tricky('=7Aorbulate', 'us-ascii', 'quoted-printable'),
      tricky('zorbu=\nlate', 'us-ascii', 'quoted-printable'),
      tricky(Buffer.from('base64 zorbulate').toString('base64'), 'us-ascii', 'base64'),
      tricky('zorbulate', 'utf-16'),
      tricky('plain', 'utf-8', '8bit', '=?utf-8?B?em9yYnVsYXRl?='),
      tricky('plain', 'utf-8', '8bit', 'zorbu\rlate'),
      tricky('plain', 'utf-8', '8bit', 'ＦＩＮＥ subject'),
      Buffer.from('X-\xe9t\xe9: zorbulate\n\nbody\n', 'latin1'),
    ];
    const seen = new Set<string>();
    for (const raw of raws) {
      for (const value of needles) {
        const answer = await check(raw, value);
        seen.add(`${answer.header}/${answer.body}`);
      }
    }
    // The shortcut does decide (it is not 'maybe' all the time), both ways.
    for (const expected of ['no/no', 'yes/no', 'no/yes', 'yes/yes']) assert.ok(seen.has(expected), `${expected} in ${[...seen].join(' ')}`);
  });

  test('what the bytes cannot tell is decoded, and other charsets are left to the evaluator', () => {
    const find = (raw: Buffer, needle: string) => findText(raw, parseMessage(raw).body, needle);
    assert.equal(find(tricky('the ﬁne print'), 'fine').body, 'yes');
    assert.equal(find(tricky('ＺＯＲＢＵＬＡＴＥ'), 'zorbulate').body, 'yes');
    // i;unicode-casemap decomposes (NFKD): an accent after the last letter leaves the word found, as in Dovecot.
    assert.equal(find(tricky('zorbulate\u0301'), 'zorbulate').body, 'yes');
    assert.equal(find(tricky('zorbulate', 'utf-16'), 'zorbulate').body, 'maybe');
    assert.equal(find(tricky('x', 'utf-8', '8bit', '=?utf-8?B?em9yYnVsYXRl?='), 'zorbulate').header, 'yes');
    assert.equal(find(tricky('zorbulate café'), 'zorbulate').body, 'yes');
    assert.equal(find(tricky('nothing here, café'), 'zorbulate').body, 'no');
    assert.equal(find(tricky('zorbulate'), 'zorb ulate').body, 'maybe');
  });
});

describe('decodeQuotedPrintable', () => {
  const qp = (s: string, into?: Buffer): string => decodeQuotedPrintable(bin(s), into).toString('latin1');

  test('escapes, soft line breaks (LF, CRLF, trailing blanks), malformed escapes kept', () => {
    assert.equal(qp('Caf=C3=A9 =3D x'), 'Caf\xc3\xa9 = x');
    assert.equal(qp('zor=\nbul=\r\nate=  \nend'), 'zorbulateend');
    assert.equal(qp('a=ZZb=4'), 'a=ZZb=4');
    assert.equal(qp('ends with ='), 'ends with ');
    assert.equal(qp('ends with =  '), 'ends with ');
    assert.equal(qp('lower =c3=a9'), 'lower \xc3\xa9');
  });

  test('long plain runs between escapes, with and without a buffer to write into', () => {
    const plain = 'x'.repeat(300);
    const src = `${plain}=41${plain}=\n${plain}=4`;
    const expected = `${plain}A${plain}${plain}=4`;
    assert.equal(qp(src), expected);
    const into = Buffer.alloc(src.length);
    const out = decodeQuotedPrintable(bin(src), into);
    assert.equal(out.toString('latin1'), expected);
    assert.equal(out.buffer, into.buffer, 'written into the given buffer');
    assert.equal(qp(src, Buffer.alloc(4)), expected, 'a buffer too small is not used');
  });
});
