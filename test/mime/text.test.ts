import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import iconv from 'iconv-lite';
import { parseMessage } from '../../server/mime/parse.js';
import { decodeHeaderValue, headerSearchValues, searchableText } from '../../server/mime/text.js';
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
