// Encoded-words and body charsets decoded as before the fast decoders: decodeWords() against
// libmime's decodeWords(), and decodeCharset() against iconv-lite (then libmime's charset
// module), over many charset names as mail spells them and byte strings both valid and not.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import iconv from 'iconv-lite';
import libmime from 'libmime';
import libmimeCharset from 'libmime/lib/charset.js';
import libmimeAliases from 'libmime/lib/charsets.js';
import { decodeWords } from '../../server/mime/encoded-words.js';
import { CHARSET_ALIASES } from '../../server/mime/charset-aliases.js';
import { decodeCharset, decodeHeaderValue } from '../../server/mime/decode.js';
import { decodeAsLibmime } from '../../server/mime/charset.js';
import { execFileSync } from 'node:child_process';
import { sibling } from '../helpers/root.js';
import { seededRandom } from '../helpers/seeded.js';

const CHARSETS = ['UTF-8', 'utf8', 'US-ASCII', 'ascii', 'ISO-8859-1', 'iso8859-1', 'latin1', 'l1', 'Windows-1252', 'cp1252', 'win-1252',
  'ISO-8859-2', 'iso-8859-5', 'ISO-8859-7', 'iso-8859-8-i', 'ISO-8859-9', 'iso-8859-15', 'iso-8859-16', 'KOI8-R', 'koi8-u',
  'windows-1250', 'windows-1251', 'Windows-1253', 'windows-1255', 'windows-1256', 'win-1257', 'cp1258', 'Shift_JIS', 'x-sjis',
  'cp932', 'EUC-JP', 'ISO-2022-JP', 'GB2312', 'gbk', 'GB18030', 'Big5', 'big5-hkscs', 'EUC-KR', 'ks_c_5601-1987', 'UTF-7',
  'utf-16', 'UTF-16LE', 'x-unknown', 'iso-8859-1*en', 'TIS-620', 'macintosh', 'ibm866', 'unknown-8bit', 'hex', 'base64',
  'jis', 'eucjp', 'utf7', 'unicode-1-1-utf-7', 'csISO2022JP', 'default', '7bit', 'ISO-8859-11', 'cp850', '__proto__'];
const PHRASES = ['Grüße aus München', 'Привет, мир', 'Καλημέρα', 'שלום', 'Zdeněk Dvořák', '€uro “quotes”', '山田 太郎',
  'こんにちは、世界', '王小明 你好', '中文測試', '안녕하세요', 'plain ascii'];

const rng = seededRandom;

/** Bytes for a word: a phrase in the charset (where iconv-lite can encode it), or random bytes. */
function bytesFor(charset: string, random: () => number): Buffer {
  const name = charset.replace(/\*.*/, '');
  if (random() < 0.5 && iconv.encodingExists(name)) {
    try {
      return iconv.encode(PHRASES[Math.floor(random() * PHRASES.length)]!, name);
    } catch { /* a decode-only codec */ }
  }
  return Buffer.from(Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * 256)));
}

function word(charset: string, bytes: Buffer, random: () => number): string {
  if (random() < 0.5) return `=?${charset}?${random() < 0.5 ? 'B' : 'b'}?${bytes.toString('base64')}?=`;
  let q = '';
  for (const b of bytes) q += b === 0x20 ? '_' : b > 0x20 && b < 0x7f && b !== 0x3d && b !== 0x3f && b !== 0x5f ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return `=?${charset}?Q?${q}?=`;
}

describe('decodeWords as libmime', () => {
  test('the charset aliases are libmime\'s', () => {
    assert.deepEqual(new Map([...CHARSET_ALIASES].sort()), new Map(Object.entries(libmimeAliases).sort()));
  });

  test('one word per charset, valid and random bytes', () => {
    const random = rng(7);
    for (const charset of CHARSETS) {
      for (let i = 0; i < 200; i++) {
        const s = word(charset, bytesFor(charset, random), random);
        assert.equal(decodeWords(s), libmime.decodeWords(s), `${charset}: ${s}`);
      }
    }
  });

  test('a single word with text around it, and libmime\'s join marker written in the text', () => {
    const random = rng(5);
    const around = ['', ' ', 'Re: ', ' <a@example.com>', '=?', '?=', '=?=?', '__\x00JOIN\x00__', '?=__\x00JOIN\x00__=?utf-8?Q?'];
    for (let i = 0; i < 2000; i++) {
      const charset = CHARSETS[Math.floor(random() * CHARSETS.length)]!;
      const s = around[Math.floor(random() * around.length)]! + word(charset, bytesFor(charset, random), random) + around[Math.floor(random() * around.length)]!;
      assert.equal(decodeWords(s), libmime.decodeWords(s), JSON.stringify(s));
    }
  });

  test('adjacent words (joined when of one charset and encoding, a character split between them), text around them, malformed words', () => {
    const random = rng(11);
    const pieces = ['', ' ', '  ', '\t', 'Re: ', ' and ', '=?', '?=', '=?utf-8?Q?', '=?bad', '=?UTF-8?X?abc?=', '=?utf-8?B?###?=', '=?utf-8?Q?=E2=8?=', '_', '__\x00JOIN\x00__'];
    for (let i = 0; i < 3000; i++) {
      const charset = CHARSETS[Math.floor(random() * CHARSETS.length)]!;
      const bytes = bytesFor(charset, random);
      const cut = Math.floor(random() * (bytes.length + 1));
      const parts: string[] = [];
      const n = 1 + Math.floor(random() * 3);
      for (let k = 0; k < n; k++) {
        parts.push(pieces[Math.floor(random() * pieces.length)]!);
        const other = random() < 0.3 ? CHARSETS[Math.floor(random() * CHARSETS.length)]! : charset;
        parts.push(word(charset, bytes.subarray(0, cut), random), random() < 0.7 ? ' ' : '', word(other, bytes.subarray(cut), random));
      }
      const s = parts.join('');
      assert.equal(decodeWords(s), libmime.decodeWords(s), s);
    }
  });
});

/** decodeCharset() before the fast decoders. */
function before(bytes: Buffer, charset: string): string {
  const cs = charset.trim().toLowerCase();
  const utf8 = new TextDecoder('utf-8');
  if (cs === '' || cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii' || cs === 'ascii') return utf8.decode(bytes);
  try {
    if (iconv.encodingExists(cs)) return iconv.decode(bytes, cs);
    return libmimeCharset.decode(bytes, cs);
  } catch {
    return utf8.decode(bytes);
  }
}

describe('decodeCharset as before', () => {
  test('every charset, phrases and random bytes', () => {
    const random = rng(13);
    for (const charset of CHARSETS) {
      for (let i = 0; i < 300; i++) {
        const bytes = Buffer.concat([bytesFor(charset, random), bytesFor(charset, random)]);
        assert.equal(decodeCharset(bytes, charset), before(bytes, charset), `${charset}: ${bytes.toString('hex')}`);
      }
    }
  });
});

describe('decodeAsLibmime as libmime\'s charset.decode', () => {
  test('every charset name, phrases and random bytes', () => {
    const random = rng(17);
    for (const charset of [...CHARSETS, '']) {
      for (let i = 0; i < 300; i++) {
        const bytes = Buffer.concat([bytesFor(charset, random), bytesFor(charset, random)]);
        assert.equal(decodeAsLibmime(bytes, charset), libmimeCharset.decode(bytes, charset), `${charset}: ${bytes.toString('hex')}`);
      }
    }
  });
});

describe('what is loaded', () => {
  test('decoding UTF-8, ISO-8859-1, windows-1252, KOI8-R, ISO-8859-2, Shift_JIS and GB2312 loads neither iconv-lite nor libmime', () => {
    const decode = sibling(import.meta.url, '../../server/mime/decode');
    const script = `
      const { decodeCharset, decodeHeaderValue } = await import(${JSON.stringify(decode.file)});
      const out = [
        decodeHeaderValue('=?ISO-8859-1?Q?Ren=E9?= <r@example.com>'),
        decodeHeaderValue('=?UTF-8?B?SsO8cmdlbg==?='),
        decodeHeaderValue('=?KOI8-R?B?7tXMxdfPyg==?='),
        decodeHeaderValue('=?ISO-8859-2?Q?Dvo=F8=E1k?='),
        decodeHeaderValue('=?Shift_JIS?B?jlKTYw==?='),
        decodeHeaderValue('=?GB2312?B?zfXQocP3?='),
        decodeHeaderValue('=?Windows-1252?Q?=93q=94?='),
        decodeCharset(Buffer.from('Gr\\xfc\\xdfe', 'latin1'), 'iso-8859-1'),
        decodeCharset(Buffer.from([0x8e, 0x52, 0x93, 0x63]), 'shift_jis'),
      ];
      const loaded = Object.keys((await import('node:module')).createRequire(import.meta.url).cache).filter((p) => /iconv-lite|libmime|encoding-japanese/.test(p));
      console.log(JSON.stringify({ out, loaded }));`;
    const { out, loaded } = JSON.parse(execFileSync(process.execPath, [...decode.nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8' })) as { out: string[]; loaded: string[] };
    assert.deepEqual(loaded, []);
    assert.deepEqual(out, ['René <r@example.com>', 'Jürgen', libmime.decodeWords('=?KOI8-R?B?7tXMxdfPyg==?='), 'Dvořák', '山田', '王小明', '“q”', 'Grüße', '山田']);
    // and the same strings as libmime gives
    assert.equal(out[4], libmime.decodeWords('=?Shift_JIS?B?jlKTYw==?='));
    assert.equal(decodeHeaderValue('=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?='), libmime.decodeWords('=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?='));
  });
});
