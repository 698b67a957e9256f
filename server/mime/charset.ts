// Charset decoding without loading iconv-lite for the charsets Node decodes itself. A cold
// imapd used to spend about 100 ms of its first listing loading libmime, iconv-lite and
// encoding-japanese and building a GBK encode table it never used (we only decode). Here the
// common charsets go through Node's TextDecoder (ICU) or a small table, and iconv-lite (or
// libmime's charset module, for what only libmime handled) is loaded on first need.
//
// Every fast decoder must give exactly what iconv-lite gives (test/mime/charset.test.ts checks
// every byte and byte pair against it). ICU differs from iconv-lite in places (undefined bytes,
// private-use and vendor mappings, C0 swaps in Shift_JIS; and Node 20.20's TextDecoder reads
// windows-1252 as ISO-8859-1), so a fast decoder may answer "not sure" (undefined): the input
// then goes to iconv-lite as before.

import { createRequire } from 'node:module';
import { TextDecoder } from 'node:util';
import type iconvModule from 'iconv-lite';
import type * as libmimeCharsetModule from 'libmime/lib/charset.js';
import { CHARSET_ALIASES } from './charset-aliases.js';

const require = createRequire(import.meta.url);
let iconvLoaded: typeof iconvModule | undefined;
/** iconv-lite, loaded on first need (CommonJS, synchronous). */
export const iconv = (): typeof iconvModule => (iconvLoaded ??= require('iconv-lite') as typeof iconvModule);

/** iconv-lite's own canonical form of a charset name (its `_canonicalizeEncoding`). */
export function iconvKey(charset: string): string {
  return charset.toLowerCase().replace(/:\d{4}$|[^0-9a-z]/g, '');
}

type Fast = (bytes: Uint8Array) => string | undefined;

const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** ISO-8859-1: every byte is the code point of the same value. */
const latin1: Fast = (bytes) => toBuffer(bytes).toString('latin1');

/** windows-1252 0x80-0x9f as iconv-lite has them (U+FFFD for the five undefined bytes). */
const CP1252_HIGH =
  '\u20ac\ufffd\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\ufffd\u017d\ufffd' +
  '\ufffd\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\ufffd\u017e\u0178';
const cp1252: Fast = (bytes) => {
  const s = toBuffer(bytes).toString('latin1');
  return /[\x80-\x9f]/.test(s) ? s.replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!) : s;
};

const decoders = new Map<string, TextDecoder | null>();
/** A TextDecoder, or null where this Node lacks the charset (a build without full ICU). */
function textDecoder(label: string, fatal: boolean): TextDecoder | null {
  const key = `${label}/${fatal ? 'f' : ''}`;
  let d = decoders.get(key);
  if (d === undefined) {
    try {
      d = new TextDecoder(label, { fatal });
    } catch {
      d = null;
    }
    decoders.set(key, d);
  }
  return d;
}

/**
 * A single-byte charset ICU decodes as iconv-lite does. One character per byte, always: a
 * length that differs means a broken decoder (as Node 20.20's windows-1252), not a result.
 * Characters matching `untrusted` are where ICU and iconv-lite differ: the windows-125x bytes
 * one of them leaves undefined (ICU gives U+0080-U+009F or, for windows-1253's 0xAA, U+00AA;
 * iconv-lite has U+05BA for windows-1255's 0xCA, ICU U+FFFD).
 */
const singleByte = (label: string, untrusted?: RegExp): Fast => (bytes) => {
  const s = textDecoder(label, false)?.decode(bytes);
  if (s === undefined || s.length !== bytes.length || untrusted?.test(s)) return undefined;
  return s;
};
const WINDOWS_UNDEFINED = /[\x80-\x9f\ufffd]/;

/**
 * Characters ICU's multi-byte decoders give as iconv-lite does (checked for every byte pair by
 * the test): ASCII without C0 controls but tab and line ends (Shift_JIS swaps 0x1a, 0x1c and
 * 0x7f in ICU), Latin-1, Greek and Cyrillic, punctuation and symbols, CJK punctuation, kana,
 * the unified ideographs of Unicode 4.1 (ICU has newer ones at GB18030's and Big5's vendor
 * codes), Hangul and full-width forms. Anything else (private use, U+FFFD, vertical forms) goes
 * to iconv-lite.
 */
const CJK_SAFE = /^[\t\n\r\x20-\x7e\u00a1-\u00ff\u0391-\u03c9\u0401-\u0451\u2010-\u2312\u2460-\u2592\u2594-\u266f\u3000-\u30ff\u3131-\u318e\u3200-\u33ff\u4e00-\u9fa5\uac00-\ud7a3\uff01-\uff9f\uffe0-\uffe5]*$/;

/** A GB18030 four-byte sequence may start here (a lead byte followed by a digit): iconv-lite's
 * GBK has none, and its GB18030 ranges were not compared. */
const GB_FOUR = /[\x81-\xfe][\x30-\x39]/;
/** EUC-JP's JIS X 0212 (0x8F) and the half-width codes ICU extends (0x8E 0xE0-0xFE). */
const EUCJP_EXTRA = /\x8f|\x8e[\xe0-\xff]/;

/** A multi-byte charset: fatal ICU decoding whose output is all in CJK_SAFE; byte strings
 * matching `decline` (as latin1) go to iconv-lite. */
const multiByte = (label: string, decline?: RegExp): Fast => (bytes) => {
  if (decline?.test(toBuffer(bytes).toString('latin1'))) return undefined;
  const decoder = textDecoder(label, true);
  if (!decoder) return undefined;
  let s: string;
  try {
    s = decoder.decode(bytes);
  } catch {
    return undefined; // invalid bytes: iconv-lite's replacement characters are kept
  }
  return CJK_SAFE.test(s) ? s : undefined;
};

const FAST_GROUPS: [Fast, string[]][] = [
  [latin1, ['28591', 'latin1', 'csisolatin1', 'l1', 'isoir100', 'cp819', 'ibm819', 'iso88591', 'cp28591']],
  [cp1252, ['1252', 'msansi', 'windows1252', 'win1252', 'cp1252']],
  [singleByte('iso-8859-2'), ['28592', 'latin2', 'csisolatin2', 'l2', 'isoir101', 'iso88592', 'cp28592']],
  [singleByte('iso-8859-3'), ['28593', 'latin3', 'csisolatin3', 'l3', 'isoir109', 'iso88593', 'cp28593']],
  [singleByte('iso-8859-4'), ['28594', 'latin4', 'csisolatin4', 'l4', 'isoir110', 'iso88594', 'cp28594']],
  [singleByte('iso-8859-5'), ['28595', 'csisolatincyrillic', 'isoir144', 'cyrillic', 'iso88595', 'cp28595']],
  [singleByte('iso-8859-6'), ['28596', 'csisolatinarabic', 'isoir127', 'arabic', 'arabic8', 'ecma114', 'asmo708', 'iso88596', 'cp28596']],
  [singleByte('iso-8859-7'), ['28597', 'csisolatingreek', 'isoir126', 'greek', 'greek8', 'ecma118', 'elot928', 'iso88597', 'cp28597']],
  [singleByte('iso-8859-8'), ['28598', 'csisolatinhebrew', 'isoir138', 'hebrew', 'hebrew8', 'iso88598i', 'iso88598e', 'iso88598', 'cp28598']],
  [singleByte('iso-8859-10'), ['28600', 'latin6', 'csisolatin6', 'l6', 'isoir157', 'iso885910', 'cp28600']],
  [singleByte('iso-8859-13'), ['28603', 'latin7', 'l7', 'isoir179', 'iso885913', 'cp28603']],
  [singleByte('iso-8859-14'), ['28604', 'latin8', 'l8', 'isoir199', 'celtic', 'celtic8', 'isoceltic', 'iso885914', 'cp28604']],
  [singleByte('iso-8859-15'), ['28605', 'latin9', 'l9', 'isoir203', 'iso885915', 'cp28605']],
  [singleByte('koi8-r'), ['20866', 'cp20866', 'ibm878', 'cskoi8r', 'koi8r']],
  [singleByte('koi8-u'), ['21866', 'cp21866', 'ibm1168', 'koi8u']],
  [singleByte('windows-1250', WINDOWS_UNDEFINED), ['1250', 'msee', 'windows1250', 'win1250', 'cp1250']],
  [singleByte('windows-1251', WINDOWS_UNDEFINED), ['1251', 'mscyrl', 'windows1251', 'win1251', 'cp1251']],
  [singleByte('windows-1253', /[\x80-\x9f\ufffd\u00aa]/), ['1253', 'msgreek', 'windows1253', 'win1253', 'cp1253']],
  [singleByte('windows-1254', WINDOWS_UNDEFINED), ['1254', 'msturk', 'windows1254', 'win1254', 'cp1254']],
  [singleByte('windows-1255', WINDOWS_UNDEFINED), ['1255', 'mshebr', 'windows1255', 'win1255', 'cp1255']],
  [singleByte('windows-1256'), ['1256', 'msarab', 'windows1256', 'win1256', 'cp1256']],
  [singleByte('windows-1257', WINDOWS_UNDEFINED), ['1257', 'winbaltrim', 'windows1257', 'win1257', 'cp1257']],
  [singleByte('windows-1258', WINDOWS_UNDEFINED), ['1258', 'windows1258', 'win1258', 'cp1258']],
  [multiByte('shift_jis'), ['932', 'shiftjis', 'csshiftjis', 'mskanji', 'sjis', 'windows31j', 'ms31j', 'xsjis', 'windows932', 'ms932', 'cp932']],
  [multiByte('gbk', GB_FOUR), ['936', 'gb2312', 'gb231280', 'gb23121980', 'csgb2312', 'csiso58gb231280', 'euccn', 'windows936', 'ms936', 'cp936']],
  [multiByte('gbk', GB_FOUR), ['gbk', 'xgbk', 'isoir58']],
  [multiByte('gb18030', GB_FOUR), ['gb18030', 'chinese']],
  [multiByte('big5'), ['big5', 'big5hkscs', 'cnbig5', 'csbig5', 'xxbig5']],
  [multiByte('big5'), ['950', 'windows950', 'ms950', 'cp950']],
  [multiByte('euc-kr'), ['949', 'windows949', 'ms949', 'cp949', 'cseuckr', 'csksc56011987', 'euckr', 'isoir149', 'korean', 'ksc56011987', 'ksc56011989', 'ksc5601']],
  [multiByte('euc-jp', EUCJP_EXTRA), ['eucjp']],
];

/** Fast decoders by iconv-lite's canonical name; each decodes as iconv-lite's codec of that name. */
export const FAST_DECODERS: ReadonlyMap<string, Fast> = new Map(
  FAST_GROUPS.flatMap(([fast, keys]) => keys.map((k): [string, Fast] => [k, fast])),
);

/**
 * What `iconv.decode(bytes, charset)` gives, without loading iconv-lite where a fast decoder
 * is sure; undefined when iconv-lite does not know the charset.
 */
export function decodeAsIconv(bytes: Buffer, charset: string): string | undefined {
  const fast = FAST_DECODERS.get(iconvKey(charset));
  const s = fast?.(bytes);
  if (s !== undefined) return s;
  if (!fast && !iconv().encodingExists(charset)) return undefined;
  return iconv().decode(bytes, charset);
}

/** libmime's normalizeCharset(): well-known misspellings to the names it decodes by. */
export function normalizeCharset(charset: string): string {
  let name = (charset || 'UTF-8').toString().toLowerCase().trim();
  const canonical = CHARSET_ALIASES.get(name);
  if (canonical) return canonical;
  name = name
    .replace(/^utf[-_]?(\d+)/, 'utf-$1')
    .replace(/^(?:us[-_]?)ascii/, 'windows-1252')
    .replace(/^win(?:dows)?[-_]?(\d+)/, 'windows-$1')
    .replace(/^(?:latin|iso[-_]?8859)?[-_]?(\d+)/, 'iso-8859-$1')
    .replace(/^l[-_]?(\d+)/, 'iso-8859-$1');
  return CHARSET_ALIASES.get(name) || name.toUpperCase();
}

let charsetModule: typeof libmimeCharsetModule | undefined;
/** libmime's charset module: it loads iconv-lite and encoding-japanese and builds GBK tables. */
const libmimeCharset = (): typeof libmimeCharsetModule =>
  (charsetModule ??= require('libmime/lib/charset.js') as typeof libmimeCharsetModule);
let refused: Set<unknown> | undefined;

// As libmime's charset.decode(): names read as UTF-8 directly, and the Japanese ones it hands
// to encoding-japanese rather than iconv-lite.
const UTF8_COMPATIBLE = /^(?:(?:us-)?ascii|utf-8|7bit)$/i;
const JAPANESE_CHARSET = /^jis|^iso-?2022-?jp|^EUCJP/i;

/**
 * What libmime's charset.decode(bytes, charset) gives (a port of it): UTF-8 for its UTF-8 names,
 * for what iconv-lite does not know and for the codecs it refuses (UTF-7, base64, hex);
 * encoding-japanese for ISO-2022-JP and its kin (libmime's module is loaded for those only);
 * else iconv-lite, or a fast decoder where it is sure.
 */
export function decodeAsLibmime(bytes: Buffer, charset: string): string {
  const name = normalizeCharset(charset || 'UTF-8');
  if (UTF8_COMPATIBLE.test(name)) return bytes.toString('utf-8');
  if (JAPANESE_CHARSET.test(name)) return libmimeCharset().decode(bytes, name);
  const fast = FAST_DECODERS.get(iconvKey(name))?.(bytes); // none of them is a refused codec
  if (fast !== undefined) return fast;
  try {
    const codec = iconv().getCodec(name); // throws for a name iconv-lite does not know
    refused ??= new Set(['utf7', 'utf7imap', 'base64', 'hex'].map((n) => iconv().getCodec(n)));
    if (refused.has(codec)) return bytes.toString();
    return iconv().decode(bytes, name);
  } catch {
    return bytes.toString();
  }
}
