// Decoding helpers: RFC 2047 encoded-words, Content-Transfer-Encoding, charsets. None of them
// throws: bad input gives U+FFFD replacement characters or the input as it is.

// iconv-lite, libmime's charset module and encoding-japanese are loaded only for the charsets
// the fast decoders of charset.ts decline (about 60 ms and 10 MB that an imapd process meeting
// only common charsets would pay for nothing: one process per connection under Courier).
import { decodeAsIconv, decodeAsLibmime } from './charset.js';
import { decodeWords } from './encoded-words.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** 8-bit bytes (as a latin1 byte string) to text: UTF-8, with U+FFFD for invalid sequences. */
function bytesToText(s: string): string {
  if (!/[\x80-\xff]/.test(s)) return s;
  return utf8.decode(Buffer.from(s, 'latin1'));
}

/**
 * Decodes a header value given as a byte string (latin1): unfolds it, reads raw 8-bit bytes as
 * UTF-8 (RFC 6532), then decodes RFC 2047 encoded-words as libmime does, in any charset it
 * knows (iconv-lite's plus ISO-2022-JP).
 */
export function decodeHeaderValue(raw: string): string {
  let s = raw.indexOf('\n') >= 0 || raw.indexOf('\r') >= 0 ? raw.replace(/\r?\n(?=[ \t])|[\r\n]/g, '') : raw;
  s = bytesToText(s).trim();
  if (s.indexOf('=?') < 0) return s;
  try {
    return decodeWords(s);
  } catch {
    return s;
  }
}

/** Hex digit values by byte, -1 for the rest. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[65 + i] = HEX[97 + i] = 10 + i;
/** Runs of plain bytes shorter than this are copied in a loop (Buffer.copy costs more to call). */
const SHORT_RUN = 64;

/**
 * Quoted-printable (RFC 2045 6.7) to bytes; malformed escapes are kept as they are. Long runs
 * between escapes are copied in one go, short ones in a loop (text with many escapes decodes
 * three times quicker than with Buffer.copy alone). `into`, when given and at least as long as
 * `src`, receives the bytes (SEARCH reuses one buffer); the result is then a view of it.
 */
export function decodeQuotedPrintable(src: Buffer, into?: Buffer): Buffer {
  const n = src.length;
  let eq = src.indexOf(61 /* = */);
  if (eq < 0) return src;
  const out = into && into.length >= n ? into : Buffer.allocUnsafe(n);
  let o = 0;
  let from = 0;
  while (eq >= 0) {
    if (eq - from > SHORT_RUN) o += src.copy(out, o, from, eq);
    else for (let k = from; k < eq; k++) out[o++] = src[k]!;
    const i = eq;
    // soft line break: "=" + optional whitespace + (CR)LF
    let j = i + 1;
    while (j < n && (src[j] === 32 || src[j] === 9)) j++;
    if (j < n && src[j] === 13 && j + 1 < n && src[j + 1] === 10) {
      from = j + 2;
    } else if (j < n && src[j] === 10) {
      from = j + 1;
    } else if (j >= n) {
      return out.subarray(0, o); // "=" and whitespace at the end: dropped
    } else {
      const h = i + 1 < n ? HEX[src[i + 1]!]! : -1;
      const l = i + 2 < n ? HEX[src[i + 2]!]! : -1;
      if (h >= 0 && l >= 0) {
        out[o++] = (h << 4) | l;
        from = i + 3;
      } else {
        out[o++] = 61;
        from = i + 1;
      }
    }
    // The next "=" is usually near: looked for in a loop first.
    eq = -1;
    const stop = Math.min(n, from + SHORT_RUN);
    for (let k = from; k < stop; k++) {
      if (src[k] === 61) {
        eq = k;
        break;
      }
    }
    if (eq < 0 && stop < n) eq = src.indexOf(61, stop);
  }
  if (n - from > SHORT_RUN) o += src.copy(out, o, from, n);
  else for (let k = from; k < n; k++) out[o++] = src[k]!;
  return out.subarray(0, o);
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
    return decodeAsIconv(bytes, cs) ?? decodeAsLibmime(bytes, cs); // ISO-2022-JP and the aliases libmime knows
  } catch {
    return utf8.decode(bytes);
  }
}
