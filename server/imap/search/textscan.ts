// SEARCH TEXT / BODY decided on a message's bytes, with the evaluator's exact answer.
//
// The evaluator's meaning (evaluate.ts): BODY matches when the folded (foldForSearch: lower
// case, NFKD) decoded text of the text/* parts contains the folded string; TEXT also when the
// folded "name: decoded value" lines of all headers do. Decoding and folding every part costs
// far more than the search itself, so for a string of printable ASCII the bytes are searched
// directly, and only what the bytes cannot decide is decoded, in small windows.
// The string, compiled once per search (its folding, shifts, anchor): text-needle.ts.
//
// Why that is exact, for a part in a charset whose ASCII bytes are ASCII characters (UTF-8 and
// the single-byte charsets of text-needle.ts) and an ASCII string. Cut the decoded text before every ASCII
// character: folding never joins across such a cut (NFKD decomposes each character by itself and
// reorders only combining marks, which an ASCII character never is; lower-casing is per character,
// bar the final sigma that foldForSearch undoes), so the folded text is the concatenation of the
// folded pieces. A piece is one ASCII character followed by non-ASCII ones (or, at the start,
// non-ASCII ones alone). Its folded form holds ASCII characters only from its first character
// and from "special" characters: non-ASCII ones whose own folding gives ASCII (the ligature
// "fi", full-width letters, the Kelvin sign, "ª", and every letter with an accent: "é" is "e"
// and a combining mark).
// So a match of the folded string either lies in pieces that are single ASCII characters - it
// is in the bytes, case aside, followed by an ASCII byte or the end - or it touches a piece with
// a special character, or it ends on the first character of a piece with non-ASCII ones (a
// match in the bytes followed by a non-ASCII byte). A match spans at most as many pieces as
// the string has characters (no piece folds to nothing), so the last two kinds are decided by
// decoding and folding a window of that many pieces on either side, which is cut where the
// whole text may be cut.

import { isAscii } from 'node:buffer';
import { decodeCharset, decodeHeaderValue, decodeQuotedPrintable, decodeTransfer } from '../../mime/decode.js';
import { fieldValue, scanHeader } from '../../mime/header.js';
import type { BodyPart } from '../../mime/types.js';
import { foldForSearch } from './fold.js';
import { codePointAt, SINGLE_BYTE, UTF8_CHARSETS, type TextNeedle } from './text-needle.js';

/**
 * Where a message's text is, as SEARCH sees it: the header blocks of all its parts (the message
 * header, MIME headers, headers of attached messages) and its text parts, each in the order the
 * evaluator puts them together. Plain data: it can be handed to a worker thread.
 */
export interface TextLayout {
  /** [headerStart, bodyStart] of each part, flattened. */
  headers: number[];
  texts: TextRange[];
}

export interface TextRange {
  start: number;
  end: number;
  /** Content-Transfer-Encoding as written. */
  encoding: string;
  /** The charset parameter, trimmed and lower-cased ('us-ascii' without one). */
  charset: string;
}

export function textLayout(body: BodyPart): TextLayout {
  const layout: TextLayout = { headers: [], texts: [] };
  const stack: BodyPart[] = [body];
  while (stack.length > 0) {
    const part = stack.pop()!;
    layout.headers.push(part.headerStart, part.bodyStart);
    if (part.parts) {
      for (let i = part.parts.length - 1; i >= 0; i--) stack.push(part.parts[i]);
    } else if (part.message) {
      stack.push(part.message.body);
    } else if (part.type === 'text') {
      layout.texts.push({ start: part.bodyStart, end: part.bodyEnd, encoding: part.encoding, charset: charsetOf(part) });
    }
  }
  return layout;
}

/** Whether the folded header lines of the message (all headers of all parts, as TEXT sees them) contain the needle. */
export function headerContains(raw: Buffer, layout: TextLayout, needle: TextNeedle): boolean {
  const { headers } = layout;
  if (needle.acrossLines) return foldForSearch(decodedHeaderBlock(raw, layout)).includes(needle.folded);
  for (let i = 0; i < headers.length; i += 2) if (blockContains(raw, headers[i], headers[i + 1], needle)) return true;
  return false;
}

/** Whether the folded decoded text of the message's text parts contains the needle. */
export function bodyContains(raw: Buffer, layout: TextLayout, needle: TextNeedle): boolean {
  if (needle.acrossLines) {
    // As searchableText() puts it together: the decoded parts, one after the other on lines of their own.
    const text = layout.texts.map((part) => decodeCharset(decodeTransfer(raw.subarray(part.start, part.end), part.encoding), part.charset)).join('\n');
    return foldForSearch(text).includes(needle.folded);
  }
  for (const part of layout.texts) if (partContains(raw, part, needle)) return true;
  return false;
}

/** One header block, as the evaluator's "name: decoded value" lines. */
function blockContains(raw: Buffer, start: number, end: number, needle: TextNeedle): boolean {
  const block = raw.subarray(start, end);
  const plain = isAscii(block) && block.indexOf(ENCODED_WORD) < 0;
  if (plain && needle.headerBytewise) {
    // Unfolding only removes line ends, and decoding changes nothing else here, but a CR that
    // is not part of a line end is removed too, joining what is around it.
    if (needle.someOccurrence(block, 0, block.length, FOUND)) return true;
    if (block.indexOf(13) < 0) return false;
    if (!LONE_CR.test(raw.toString('latin1', start, end))) return false;
  } else if (plain && needle.nonAscii) {
    return false; // an ASCII header folds to ASCII, which holds no string with other characters
  }
  const text = raw.toString('latin1', start, end);
  for (const field of scanHeader(raw, start, end).fields) {
    const line = text.slice(field.start - start, field.end - start);
    if (EIGHT_BIT.test(line) || LONE_CR.test(line) || line.indexOf('=?', field.valueStart - field.start) >= 0) {
      if (needle.inHeaderLine(field.name, fieldValue(raw, field))) return true;
    } else if (needle.bytewise) {
      // A plain field: decoding changes nothing, so the line is its name and unfolded value
      // (or, for a string without space or colon, as good: its bytes).
      if (needle.finder().in(needle.headerBytewise ? line : `${field.name}: ${fieldValue(raw, field)}`)) return true;
    } else if (!needle.nonAscii) {
      if (needle.inHeaderLine(field.name, fieldValue(raw, field))) return true;
    }
    // (A plain field folds to ASCII, which holds no string with other characters.)
  }
  return false;
}

const ENCODED_WORD = Buffer.from('=?', 'latin1');
const FOUND = (): boolean => true;

// eslint-disable-next-line no-control-regex
const EIGHT_BIT = /[\x80-\xff]/;
const LONE_CR = /\r(?!\n)/;

function charsetOf(part: BodyPart): string {
  for (const [name, value] of part.params) if (name === 'charset') return value.trim().toLowerCase();
  return 'us-ascii';
}

/** One text part. */
function partContains(raw: Buffer, part: TextRange, needle: TextNeedle): boolean {
  const { charset } = part;
  const body = raw.subarray(part.start, part.end);
  const encoding = part.encoding.toLowerCase();
  const bytes = encoding === 'quoted-printable' ? decodeQuotedPrintableReused(body) : encoding === 'base64' ? decodeBase64(body) : decodeTransfer(body, part.encoding);
  const utf8 = UTF8_CHARSETS.has(charset);
  const singles = utf8 || !needle.bytewise || !SINGLE_BYTE.test(charset) ? null : needle.specialBytes(charset);
  if (!needle.bytewise || (!utf8 && !singles)) {
    // (ASCII bytes in an ASCII-compatible charset fold to ASCII, which holds no string with other characters.)
    if (needle.nonAscii && (utf8 || SINGLE_BYTE.test(charset)) && isAscii(bytes)) return false;
    return foldForSearch(decodeCharset(bytes, charset)).includes(needle.folded);
  }
  const n = needle.length;
  const end = bytes.length;
  const windows = new Windows(bytes, charset, needle);
  // Matches in the bytes: followed by an ASCII byte they are matches; followed by another,
  // the window decides (an accent can absorb the last letter).
  const found = needle.someOccurrence(bytes, 0, end, (at) => at + n >= end || bytes[at + n] < 0x80 || windows.add(at + n - 1));
  if (found) return true;
  if (isAscii(bytes)) return false;
  // Special characters, found through their first byte (memchr, much quicker than a loop here).
  if (utf8) {
    for (const lead of needle.utf8Leads()) {
      for (let i = bytes.indexOf(lead); i >= 0; i = bytes.indexOf(lead, i + 1)) {
        // Bytes that are not a well-formed sequence decode to U+FFFD, which is not special.
        const cp = codePointAt(bytes, i, end);
        if (cp >= 0 && needle.special(cp) && windows.add(i)) return true;
      }
    }
  } else {
    for (const b of singles!) for (let i = bytes.indexOf(b); i >= 0; i = bytes.indexOf(b, i + 1)) if (windows.add(i)) return true;
  }
  return windows.flush();
}

/** Decoded text parts, one at a time. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** Base64 to bytes as decodeTransfer does it (Node's decoder, which skips whitespace and stops
 * at garbage), into the reused buffer: a search of 100,000 messages does not leave their
 * attachments-like text parts behind as garbage. */
function decodeBase64(src: Buffer): Buffer {
  const text = src.toString('latin1');
  const most = Math.ceil((text.length * 3) / 4) + 3;
  if (scratch.length < most) scratch = Buffer.allocUnsafe(most * 2);
  return scratch.subarray(0, scratch.write(text, 'base64'));
}

/** Quoted-printable to bytes as decodeTransfer does it, into the reused buffer (valid until the next call). */
function decodeQuotedPrintableReused(src: Buffer): Buffer {
  if (scratch.length < src.length) scratch = Buffer.allocUnsafe(src.length * 2);
  return decodeQuotedPrintable(src, scratch);
}

/**
 * Windows around positions the bytes cannot decide, merged where they overlap, each decoded and
 * folded: from the (n+1)-th ASCII byte before the position to the (n+1)-th ASCII byte after it
 * (exclusive), which are places where the folded text may be cut (see the top of the file).
 */
class Windows {
  private start = -1;
  private end = -1;

  constructor(
    private readonly bytes: Buffer,
    private readonly charset: string,
    private readonly needle: TextNeedle,
  ) {}

  /** Adds the window around `position`; true when a window already checked holds a match. */
  add(position: number): boolean {
    const { bytes, needle } = this;
    const count = needle.length + 1;
    let start = position;
    for (let seen = 0; start > 0; ) {
      start--;
      if (bytes[start] < 0x80 && ++seen === count) break;
    }
    let end = position + 1;
    for (let seen = 0; end < bytes.length; end++) if (bytes[end] < 0x80 && ++seen === count) break;
    if (this.start >= 0 && start <= this.end && end >= this.start) {
      // Overlapping windows are checked as one (positions do not come in order).
      this.start = Math.min(this.start, start);
      this.end = Math.max(this.end, end);
      return false;
    }
    const found = this.flush();
    this.start = start;
    this.end = end;
    return found;
  }

  /** Checks the pending window. */
  flush(): boolean {
    if (this.start < 0) return false;
    const text = decodeCharset(this.bytes.subarray(this.start, this.end), this.charset);
    this.start = -1;
    return foldForSearch(text).includes(this.needle.folded);
  }
}

/**
 * Every header of the message, unfolded and decoded (RFC 2047), one "name: value" per line:
 * the message header, the MIME headers of all parts and the headers of attached messages,
 * which are part of the message body as RFC 3501 TEXT sees it (Dovecot and Courier match them too).
 */
function decodedHeaderBlock(raw: Buffer, layout: TextLayout): string {
  const lines: string[] = [];
  for (let i = 0; i < layout.headers.length; i += 2) {
    for (const field of scanHeader(raw, layout.headers[i], layout.headers[i + 1]).fields) lines.push(`${field.name}: ${decodeHeaderValue(fieldValue(raw, field))}`);
  }
  return lines.join('\n');
}
