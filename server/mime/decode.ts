// Decoding helpers: RFC 2047 encoded-words, Content-Transfer-Encoding, charsets. None of them
// throws: bad input gives U+FFFD replacement characters or the input as it is.

import iconv from 'iconv-lite';
import libmime from 'libmime';
import { decode as libmimeCharsetDecode } from 'libmime/lib/charset.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** 8-bit bytes (as a latin1 byte string) to text: UTF-8, with U+FFFD for invalid sequences. */
function bytesToText(s: string): string {
  if (!/[\x80-\xff]/.test(s)) return s;
  return utf8.decode(Buffer.from(s, 'latin1'));
}

/**
 * Decodes a header value given as a byte string (latin1): unfolds it, reads raw 8-bit bytes as
 * UTF-8 (RFC 6532), then decodes RFC 2047 encoded-words in any charset libmime knows
 * (iconv-lite plus ISO-2022-JP).
 */
export function decodeHeaderValue(raw: string): string {
  let s = raw.indexOf('\n') >= 0 || raw.indexOf('\r') >= 0 ? raw.replace(/\r?\n(?=[ \t])|[\r\n]/g, '') : raw;
  s = bytesToText(s).trim();
  if (s.indexOf('=?') < 0) return s;
  try {
    return libmime.decodeWords(s);
  } catch {
    return s;
  }
}

/** Quoted-printable (RFC 2045 6.7) to bytes; malformed escapes are kept as they are. The
 * text between escapes is copied in one go (most of a quoted-printable body is plain). */
export function decodeQuotedPrintable(src: Buffer): Buffer {
  const n = src.length;
  let eq = src.indexOf(61 /* = */);
  if (eq < 0) return src;
  const out = Buffer.allocUnsafe(n);
  let o = 0;
  let from = 0;
  while (eq >= 0) {
    o += src.copy(out, o, from, eq);
    const i = eq;
    // soft line break: "=" + optional whitespace + (CR)LF
    let j = i + 1;
    while (j < n && (src[j] === 32 || src[j] === 9)) j++;
    if (j < n && src[j] === 13 && src[j + 1] === 10) {
      from = j + 2;
    } else if (j < n && src[j] === 10) {
      from = j + 1;
    } else if (j >= n) {
      return out.subarray(0, o); // "=" and whitespace at the end: dropped
    } else {
      const h = hexVal(src[i + 1]);
      const l = hexVal(src[i + 2]);
      if (h >= 0 && l >= 0) {
        out[o++] = (h << 4) | l;
        from = i + 3;
      } else {
        out[o++] = 61;
        from = i + 1;
      }
    }
    eq = from < n ? src.indexOf(61, from) : -1;
  }
  o += src.copy(out, o, from, n);
  return out.subarray(0, o);
}

function hexVal(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Undoes the Content-Transfer-Encoding; unknown encodings are returned as they are. */
export function decodeTransfer(body: Buffer, encoding: string): Buffer {
  switch (encoding.toLowerCase()) {
    case 'base64':
      // Node's decoder skips whitespace and stops at garbage rather than throwing.
      return Buffer.from(body.toString('latin1'), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return body;
  }
}

/** Bytes in `charset` to a JS string; unknown charsets are read as UTF-8. */
export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const cs = (charset ?? 'us-ascii').trim().toLowerCase();
  if (cs === '' || cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii' || cs === 'ascii') return utf8.decode(bytes);
  try {
    if (iconv.encodingExists(cs)) return iconv.decode(bytes, cs);
    return libmimeCharsetDecode(bytes, cs); // ISO-2022-JP and the aliases libmime knows
  } catch {
    return utf8.decode(bytes);
  }
}
