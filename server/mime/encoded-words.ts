// RFC 2047 encoded-words, decoded exactly as libmime 5's decodeWords() did (a port of it: the
// same joining of adjacent words, Q and B decoding, charset names and fallbacks), without
// loading libmime: its charset module loads iconv-lite and encoding-japanese and builds the
// GBK tables at require time, about 60 ms of a cold process's first listing. Charsets are
// decoded by server/mime/charset.ts, which loads iconv-lite (or libmime's charset module, for
// ISO-2022-JP) only for what its fast decoders decline.

import { decodeAsLibmime, normalizeCharset } from './charset.js';

/** libbase64's decode(): several padded segments are decoded one by one. */
function decodeBase64(str: string): Buffer {
  if (/[^\u0000-\u00ff]/.test(str)) str = str.replace(/[^\u0000-\u00ff]+/g, '');
  const padPos = str.indexOf('=');
  if (padPos >= 0 && /[a-zA-Z0-9+/\-_]/.test(str.slice(padPos))) {
    const output = Buffer.alloc(Math.floor((str.length * 3) / 4));
    let length = 0;
    let start = 0;
    while (start <= str.length) {
      let end = str.indexOf('=', start);
      if (end < 0) end = str.length;
      if (end > start) length += output.write(str.substring(start, end), length, 'base64');
      start = end + 1;
    }
    return Buffer.from(output.subarray(0, length));
  }
  return Buffer.from(str, 'base64');
}

const isHex = (c: number | undefined): boolean =>
  c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46));

/** One encoded-word's charset (an RFC 2231 language tag ignored), encoding and text. */
function decodeWord(charset: string, encoding: string, str: string): string {
  const star = charset.indexOf('*');
  if (star >= 0) charset = charset.substring(0, star);
  const name = normalizeCharset(charset);
  let decoded: Buffer;
  if (encoding.toUpperCase() === 'Q') {
    const buf = Buffer.from(str.replace(/=\s+([0-9a-fA-F])/g, '=$1').replace(/[_\s]/g, ' '));
    const bytes: number[] = [];
    for (let i = 0, len = buf.length; i < len; i++) {
      const c = buf[i]!;
      if (i <= len - 2 && c === 0x3d && isHex(buf[i + 1]) && isHex(buf[i + 2])) {
        bytes.push(parseInt(String.fromCharCode(buf[i + 1]!, buf[i + 2]!), 16));
        i += 2;
        continue;
      }
      bytes.push(c);
    }
    decoded = Buffer.from(bytes);
  } else {
    decoded = decodeBase64(str);
  }
  return decodeAsLibmime(decoded, name);
}

/** Marks adjacent words of one encoding and charset to be joined into one before decoding. */
const joinSame = (match: string, left: string, chLeft: string, chRight: string): string =>
  normalizeCharset(chLeft || '') === normalizeCharset(chRight || '') ? left + '__\x00JOIN\x00__' : match;

const WORD = /=\?([\w_\-*]+)\?([QqBb])\?([^?]*)\?=/g;
const decodeMatch = (_m: string, charset: string, encoding: string, text: string): string => decodeWord(charset, encoding, text);

/** Decodes the encoded-words in a header value as libmime's decodeWords() does. */
export function decodeWords(str: string): string {
  // One encoded-word and no NUL (the join marker's): the joining steps cannot apply.
  const first = str.indexOf('=?');
  if (first >= 0 && str.indexOf('=?', first + 2) < 0 && str.indexOf('\x00') < 0) return str.replace(WORD, decodeMatch);
  return str
    .replace(/(=\?([^?]+)\?[Bb]\?[^?]*\?=)\s*(?==\?([^?]+)\?[Bb]\?[^?]*\?=)/g, joinSame)
    .replace(/(=\?([^?]+)\?[Qq]\?[^?]*\?=)\s*(?==\?([^?]+)\?[Qq]\?[^?]*\?=)/g, joinSame)
    .replace(/(\?=)?__\x00JOIN\x00__(=\?([^?]+)\?[QqBb]\?)?/g, '')
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?[^?]+\?[QqBb]\?[^?]*\?=)/g, '$1')
    .replace(WORD, decodeMatch);
}
