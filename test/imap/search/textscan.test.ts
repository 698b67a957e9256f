// SEARCH BODY / TEXT decided on the bytes (textscan.ts) must give exactly the answer of decoding
// and folding everything: the reference here is written out independently, from the MIME
// layer's decoders, and compared on hand-picked awkward messages and on many generated ones
// (quoted-printable soft breaks inside words, base64, latin-1, UTF-8, accents that absorb a
// letter, characters that fold to ASCII, encoded words, lone CRs).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import iconv from 'iconv-lite';

import { parseMessage } from '../../../server/mime/parse.js';
import { decodeHeaderValue, searchableText } from '../../../server/mime/text.js';
import { fieldValue, scanHeader } from '../../../server/mime/header.js';
import type { BodyPart } from '../../../server/mime/types.js';
import { foldForSearch } from '../../../server/imap/search/fold.js';
import { TextNeedle } from '../../../server/imap/search/text-needle.js';
import { bodyContains, headerContains, textLayout } from '../../../server/imap/search/textscan.js';
import { search, type SearchMessage } from '../../../server/imap/search/evaluate.js';
import { corpus } from '../../mime/corpus.js';

/** RFC 3501 BODY as the evaluator means it: the decoded text parts, folded. */
function referenceBody(raw: Buffer, needle: string): boolean {
  return foldForSearch(searchableText(raw, parseMessage(raw).body)).includes(foldForSearch(needle));
}

/** The header half of TEXT: every header of every part as "name: decoded value" lines, folded. */
function referenceHeader(raw: Buffer, needle: string): boolean {
  const lines: string[] = [];
  const walk = (part: BodyPart): void => {
    for (const field of scanHeader(raw, part.headerStart, part.bodyStart).fields) lines.push(`${field.name}: ${decodeHeaderValue(fieldValue(raw, field))}`);
    if (part.message) walk(part.message.body);
    for (const child of part.parts ?? []) walk(child);
  };
  walk(parseMessage(raw).body);
  return foldForSearch(lines.join('\n')).includes(foldForSearch(needle));
}

function agree(raw: Buffer, value: string, label: string): void {
  const body = textLayout(parseMessage(raw).body);
  const needle = new TextNeedle(foldForSearch(value));
  assert.equal(bodyContains(raw, body, needle), referenceBody(raw, value), `BODY ${JSON.stringify(value)} in ${label}:\n${raw.toString('latin1').slice(0, 2000)}`);
  assert.equal(headerContains(raw, body, needle), referenceHeader(raw, value), `TEXT header ${JSON.stringify(value)} in ${label}:\n${raw.toString('latin1').slice(0, 2000)}`);
}

const NEEDLES = [
  'zorbulate', 'ZorBulate', 'fine', 'fi', 'k', 'i', 'a', 's', 'ss', 'late', 'zor bu', 'ab:c', '1/2', '.', 'subject', 'from',
  'x', 'é', 'café', 'σ', 'ΟΔΟΣ', 'ü', 'straße', 'zorbulate\u0301', '\t', 'a\nb', '',
];

/** A text/plain message with this body, charset and transfer encoding (the body is encoded here). */
function message(body: string, charset: string, cte: string, options: { subject?: string; crlf?: boolean; qpBreaks?: number[] } = {}): Buffer {
  const eol = options.crlf ? '\r\n' : '\n';
  const bytes = charset === 'utf-8' || charset === 'us-ascii' ? Buffer.from(body, 'utf8') : iconv.encode(body, charset);
  let encoded: string;
  if (cte === 'base64') encoded = bytes.toString('base64').replace(/.{1,76}/g, (line) => line + eol);
  else if (cte === 'quoted-printable') encoded = quotedPrintable(bytes, options.qpBreaks ?? [], eol);
  else encoded = bytes.toString('latin1');
  const header = `Subject: ${options.subject ?? 'test'}${eol}Content-Type: text/plain; charset=${charset}${eol}Content-Transfer-Encoding: ${cte}${eol}${eol}`;
  return Buffer.from(header + encoded + eol, 'latin1');
}

/** Quoted-printable with soft line breaks after the given byte counts, some printable bytes escaped too. */
function quotedPrintable(bytes: Buffer, breaks: number[], eol: string): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    if (breaks.includes(i)) out += (i % 2 ? '= ' : '=') + eol;
    const b = bytes[i];
    if (b === 10) out += eol;
    else if (b === 13) continue;
    else if (b === 61 || b >= 127 || (b < 32 && b !== 9) || i % 7 === 3) out += `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

describe('TEXT and BODY on the bytes agree with decoding everything', () => {
  test('awkward bodies', () => {
    const cases: [string, Buffer][] = [
      ['ligature', message('the ﬁne print', 'utf-8', '8bit')],
      ['full-width', message('ＺＯＲＢＵＬＡＴＥ wide', 'utf-8', '8bit')],
      ['mixed full-width', message('zorＢＵＬate', 'utf-8', 'quoted-printable')],
      ['Kelvin sign', message('a Kelvin sign: \u212a', 'utf-8', '8bit')],
      ['dotted I', message('İstanbul and I\u0307', 'utf-8', '8bit')],
      ['accent absorbs the last letter', message('zorbulate\u0301 with an accent after', 'utf-8', '8bit')],
      ['accent then the word again', message('zorbulate\u0301 and zorbulate', 'utf-8', '8bit')],
      ['decomposed', message('cafe\u0301 and cafe', 'utf-8', '8bit')],
      ['sigma', message('ΟΔΟΣ οδος', 'utf-8', 'base64')],
      ['QP escapes', message('zorbulate', 'us-ascii', 'quoted-printable')],
      ['QP soft break inside the word', message('zorbulate', 'us-ascii', 'quoted-printable', { qpBreaks: [4] })],
      ['QP soft break with CRLF', message('a zorbulate b', 'utf-8', 'quoted-printable', { qpBreaks: [3, 6], crlf: true })],
      ['QP soft break before an accent', message('zorbulateé', 'utf-8', 'quoted-printable', { qpBreaks: [9] })],
      ['base64', message('base64 zorbulate', 'us-ascii', 'base64')],
      ['base64 latin-1', message('Schöne Grüße, zorbulate', 'iso-8859-1', 'base64')],
      ['latin-1 8bit', message('Schöne Grüße aus Köln, café, ª and º', 'iso-8859-1', '8bit')],
      ['latin-1 ordinal letters', message('zorbul\u00aate', 'iso-8859-1', '8bit')],
      ['latin-1 nbsp', message('zor\u00a0bu', 'iso-8859-1', 'quoted-printable')],
      ['windows-1252', message('“zorbulate” – ﬁ', 'windows-1252', '8bit')],
      ['koi8-r', message('Привет zorbulate', 'koi8-r', '8bit')],
      ['utf-16', message('zorbulate', 'utf-16', 'base64')],
      ['shift_jis', message('日本語 zorbulate ｚｏｒ', 'shift_jis', '8bit')],
      ['8-bit in us-ascii', message('Grüße zorbulate', 'us-ascii', '8bit')],
      ['invalid UTF-8', Buffer.concat([message('', 'utf-8', '8bit'), Buffer.from([0xe0, 0x81, 0xa1, 0x7a, 0x6f, 0xc2, 0xaa, 0xff, 0x66, 0x69, 0xed, 0xa0, 0x80, 0x0a])])],
      ['math letters', message('𝐳𝐨𝐫𝐛𝐮𝐥𝐚𝐭𝐞 and 𝔷', 'utf-8', 'quoted-printable')],
      ['squared units and roman numerals', message('㍱ ㎫ Ⅻ ½ ² …', 'utf-8', '8bit')],
      ['header encoded word', message('x', 'utf-8', '8bit', { subject: '=?utf-8?B?em9yYnVsYXRl?=' })],
      ['header lone CR', message('x', 'utf-8', '8bit', { subject: 'zorbu\rlate' })],
      ['header 8-bit', Buffer.from(`Subject: ${Buffer.from('Grüße ＦＩＮＥ').toString('latin1')}\n\nbody\n`, 'latin1')],
      ['header 8-bit name', Buffer.from('X-\xe9t\xe9: zorbulate\n\nbody\n', 'latin1')],
      ['header folded', Buffer.from('Subject: zor\r\n bu late\r\n\tzorbulate\r\n\r\nbody\r\n', 'latin1')],
      ['header without colon', Buffer.from('Subject: a\nzorbulate line\n\nbody\n', 'latin1')],
      ['no text part', Buffer.from('Content-Type: application/octet-stream\n\nzorbulate\n', 'latin1')],
    ];
    for (const [label, raw] of cases) for (const needle of NEEDLES) agree(raw, needle, label);
  });

  test('the MIME corpus: multiparts, attached messages, binary parts', () => {
    for (const { name, raw } of corpus()) for (const needle of NEEDLES) agree(raw, needle, name);
  });

  test('generated messages', () => {
    // Seeded, so that a failure can be repeated.
    let seed = 12345;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pieces = [
      'zorbulate', 'ZORBULATE', 'ZorBuLate', 'zorbu', 'late', 'fine', 'fi', ' ', ' ', 'k', 'K', 'i', 'I', 'a', 'ss', 'x', '\n', '.',
      ':', '=', 'é', 'e\u0301', '\u0301', '\u0307', 'ﬁ', 'ﬂ', 'ＺＯＲ', 'ｂｕｌａｔｅ', '\u212a', 'İ', 'ı', 'ª', 'º', '\u00a0', 'ſ',
      '漢字', '😀', '𝐳𝐨𝐫', 'ΟΔΟΣ', 'ς', 'ß', '½', '²', '…', '\ufeff', 'Ǆ', 'ǉ', 'ʳ', 'ˡ', '㍱', '\u212b', 'µ', 'café', 'straße',
    ];
    const latin1Pieces = pieces.filter((p) => [...p].every((c) => c.charCodeAt(0) < 256));
    const charsets: [string, string[]][] = [
      ['utf-8', ['8bit', 'quoted-printable', 'base64']],
      ['us-ascii', ['8bit', 'quoted-printable']],
      ['iso-8859-1', ['8bit', 'quoted-printable', 'base64']],
      ['windows-1252', ['8bit']],
    ];
    for (let round = 0; round < 400; round++) {
      const [charset, ctes] = charsets[random(charsets.length)];
      const cte = ctes[random(ctes.length)];
      const from = charset === 'iso-8859-1' || charset === 'windows-1252' ? latin1Pieces : pieces;
      let body = '';
      for (let i = random(12) + 1; i > 0; i--) body += from[random(from.length)];
      const breaks = Array.from({ length: random(4) }, () => random(body.length + 4));
      const subject = random(3) === 0 ? `=?utf-8?B?${Buffer.from(pieces[random(pieces.length)]).toString('base64')}?=` : from[random(from.length)].replace(/\n/g, ' ');
      const raw = message(body, charset, cte, { qpBreaks: breaks, crlf: random(2) === 0, subject: Buffer.from(subject, 'utf8').toString('latin1') });
      for (const needle of NEEDLES) agree(raw, needle, `round ${round}`);
    }
  });
});

test('SEARCH answers the same with rawBatch as with raw', async () => {
  const raws = corpus().map((e) => e.raw);
  const metas = raws.map((raw) => parseMessage(raw));
  const messages: SearchMessage[] = raws.map((raw, i) => ({ seq: i + 1, uid: i + 1, info: { uid: i + 1, flags: new Set(), size: raw.length, internalDate: 0, modseq: 1 }, recent: false }));
  for (const needle of ['zorbulate', 'text', 'caf', 'inner', 'x', 'é', '']) {
    for (const op of ['text', 'body'] as const) {
      const one = await search(messages, { op, value: needle }, { meta: async (uid) => metas[uid - 1], raw: async (uid) => raws[uid - 1] });
      let batches = 0;
      const batched = await search(messages, { op, value: needle }, {
        meta: async (uid) => metas[uid - 1],
        rawBatch: async (uids) => {
          batches++;
          return uids.map((uid) => ({ raw: raws[uid - 1], body: metas[uid - 1].body }));
        },
      });
      assert.deepEqual(batched, one, `${op} ${needle}`);
      assert.equal(batches, Math.ceil(messages.length / 64));
    }
  }
});
