// The string SEARCH TEXT / BODY looks for, compiled once per search (textscan.ts searches
// messages for it): folded as the evaluator folds, with what lets the bytes decide (Horspool
// shifts, the rarest character as an anchor, the special characters of single-byte charsets).

import { decodeCharset, decodeHeaderValue } from '../../mime/decode.js';
import { asciiFinder, type AsciiFinder } from '../../mime/ascii-finder.js';
import { foldForSearch } from './fold.js';

/** A search for an ASCII string in any case, matching no non-ASCII character to an ASCII one
 * (the Kelvin sign is not a k here), as bytes would not. */
export function caseInsensitive(text: string): AsciiFinder {
  return asciiFinder(text);
}

/** ASCII bytes lower-cased, other bytes as they are. */
const LOWER = new Uint8Array(256);
for (let i = 0; i < 256; i++) LOWER[i] = i >= 65 && i <= 90 ? i + 32 : i;

/** Strings searched on the bytes: printable ASCII (control characters could meet the newlines
 * the evaluator puts between parts and header lines). */
const BYTE_NEEDLE = /^[\x20-\x7e]+$/;
/** Strings searched on raw header bytes: also without space or colon, which unfolding and the
 * "name: value" form of header lines can create, move or remove. */
const HEADER_NEEDLE = /^[\x21-\x39\x3b-\x7e]+$/;
/** Charsets read as UTF-8 by decodeCharset. */
export const UTF8_CHARSETS = new Set(['', 'utf-8', 'utf8', 'us-ascii', 'ascii']);
/** Single-byte charsets whose bytes 0-127 are ASCII. */
export const SINGLE_BYTE = /^(?:iso[-_]?8859[-_]\d{1,2}|latin-?[1-9]|windows-125\d|cp125\d|koi8-[ru])$/;

/**
 * How often a character (either case) is found in mail text, per thousand bytes, roughly
 * (English letter frequencies; HTML punctuation). A string is looked for through its rarest
 * character, with the C library's memchr (Buffer.indexOf of a byte), when that one is rare enough
 * for the hits to cost less than a byte-by-byte search.
 */
function frequency(c: number): number {
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  const perMille = [100, 73, 66, 60, 56, 54, 50, 49, 48, 34, 32, 22, 22, 19, 19, 18, 16, 16, 15, 12, 8, 6, 1.2, 1.2, 0.8, 0.6];
  const letter = letters.indexOf(String.fromCharCode(c));
  if (letter >= 0) return perMille[letter];
  if (c === 32) return 150;
  if (c >= 48 && c <= 57) return 5;
  if ('<>/"=.,-'.includes(String.fromCharCode(c))) return 15;
  return 2;
}
/** Above this (per thousand), Horspool's search beats memchr and a check per hit. */
const ANCHOR_MAX = 15;

/** Code points of the BMP whose folding has ASCII characters, with those characters. */
let bmpSpecials: Map<number, string> | undefined;

/** The special characters of the BMP (see the top of the file). Found on first use by folding
 * the whole BMP (some 40 ms), so that strings can be prepared without folding. */
function bmpSpecialCharacters(): Map<number, string> {
  if (!bmpSpecials) {
    bmpSpecials = new Map();
    for (let cp = 0x80; cp < 0x10000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ascii = asciiIn(foldForSearch(String.fromCharCode(cp)));
      if (ascii !== '') bmpSpecials.set(cp, ascii);
    }
  }
  return bmpSpecials;
}

function asciiIn(text: string): string {
  let ascii = '';
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 128) ascii += text[i];
  return ascii;
}

/** The code point of a well-formed UTF-8 sequence at `i` (whose byte is a lead byte), or -1. */
export function codePointAt(bytes: Uint8Array, i: number, end: number): number {
  const c = bytes[i];
  const b1 = i + 1 < end ? bytes[i + 1] : 0;
  if (c < 0xe0) return c >= 0xc2 && (b1 & 0xc0) === 0x80 ? ((c & 0x1f) << 6) | (b1 & 0x3f) : -1;
  const b2 = i + 2 < end ? bytes[i + 2] : 0;
  if ((b2 & 0xc0) !== 0x80) return -1;
  if (c < 0xf0) {
    const low = c === 0xe0 ? 0xa0 : 0x80;
    const high = c === 0xed ? 0x9f : 0xbf;
    return b1 >= low && b1 <= high ? ((c & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f) : -1;
  }
  const b3 = i + 3 < end ? bytes[i + 3] : 0;
  if (c > 0xf4 || (b3 & 0xc0) !== 0x80) return -1;
  const low = c === 0xf0 ? 0x90 : 0x80;
  const high = c === 0xf4 ? 0x8f : 0xbf;
  return b1 >= low && b1 <= high ? ((c & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f) : -1;
}

/** A folded search string, prepared for searching bytes. */
export class TextNeedle {
  /** Searched on the bytes (else every part is decoded). */
  readonly bytewise: boolean;
  /** Searched on raw header bytes where a header has no 8-bit byte, encoded word or lone CR. */
  readonly headerBytewise: boolean;
  /** Has a character that is not ASCII: text that is all ASCII cannot hold it. */
  readonly nonAscii: boolean;
  /** Empty, or with a line end: could match across the newlines between parts and header lines,
   * so the text is put together as the evaluator does. */
  readonly acrossLines: boolean;
  private readonly lower: Uint8Array;
  /** Horspool shifts by byte. */
  private readonly shift = new Int32Array(256);
  /** The rarest character: its place in the string and its bytes (both cases); none when
   * every character is common. */
  private readonly anchorAt: number = -1;
  private readonly anchorBytes: number[] = [];
  /** The string's characters (ASCII), for telling whether a special character matters. */
  private readonly chars = new Uint8Array(128);
  /** Special characters (see the top of the file) that give one of the string's characters:
   * by code point in the BMP, and the UTF-8 lead bytes they (and the other planes) start with. */
  private specialBmp: Uint8Array | undefined;
  private specialLeads: number[] | undefined;
  private readonly specialAstral = new Map<number, boolean>();
  private readonly byteTables = new Map<string, number[] | null>();
  private readonly lines = new Map<string, boolean>();
  private expression: AsciiFinder | undefined;

  constructor(readonly folded: string) {
    this.acrossLines = folded === '' || /[\r\n]/.test(folded);
    this.bytewise = BYTE_NEEDLE.test(folded);
    this.headerBytewise = HEADER_NEEDLE.test(folded);
    this.nonAscii = /[^\x00-\x7f]/.test(folded);
    const n = this.bytewise ? folded.length : 0;
    this.lower = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      this.lower[i] = folded.charCodeAt(i);
      this.chars[folded.charCodeAt(i)] = 1;
    }
    this.shift.fill(Math.max(n, 1));
    let rarest = ANCHOR_MAX;
    for (let i = 0; i < n; i++) {
      const c = this.lower[i];
      if (i < n - 1) {
        this.shift[c] = n - 1 - i;
        if (c >= 97 && c <= 122) this.shift[c - 32] = n - 1 - i;
      }
      if (frequency(c) < rarest) {
        rarest = frequency(c);
        this.anchorAt = i;
        this.anchorBytes = c >= 97 && c <= 122 ? [c, c - 32] : [c];
      }
    }
  }

  get length(): number {
    return this.lower.length;
  }

  /** Calls `visit` with each case-insensitive (ASCII) occurrence in bytes[from, end), in no
   * particular order, until it returns true; whether it did (bytewise needles only). */
  someOccurrence(bytes: Buffer, from: number, end: number, visit: (at: number) => boolean): boolean {
    const n = this.lower.length;
    if (this.anchorAt >= 0) {
      const limit = end - n + this.anchorAt; // last place of the anchor
      for (const b of this.anchorBytes) {
        for (let i = bytes.indexOf(b, from + this.anchorAt); i >= 0 && i <= limit; i = bytes.indexOf(b, i + 1)) {
          if (this.matchesAt(bytes, i - this.anchorAt) && visit(i - this.anchorAt)) return true;
        }
      }
      return false;
    }
    for (let at = this.horspool(bytes, from, end); at >= 0; at = this.horspool(bytes, at + 1, end)) if (visit(at)) return true;
    return false;
  }

  private matchesAt(bytes: Uint8Array, at: number): boolean {
    const lower = this.lower;
    for (let j = 0; j < lower.length; j++) if (LOWER[bytes[at + j]] !== lower[j]) return false;
    return true;
  }

  /** First case-insensitive occurrence in bytes[from, end), or -1. */
  private horspool(bytes: Uint8Array, from: number, end: number): number {
    const lower = this.lower;
    const n = lower.length;
    const last = lower[n - 1];
    const shift = this.shift;
    let i = from + n - 1;
    while (i < end) {
      const c = bytes[i];
      if (LOWER[c] === last) {
        let j = n - 2;
        let k = i - 1;
        while (j >= 0 && LOWER[bytes[k]] === lower[j]) {
          j--;
          k--;
        }
        if (j < 0) return i - n + 1;
      }
      i += shift[c];
    }
    return -1;
  }

  /** The UTF-8 lead bytes of the special characters that matter for this string. */
  utf8Leads(): number[] {
    if (!this.specialLeads) {
      const bmp = new Uint8Array(0x10000);
      const leads = new Set<number>([0xf0, 0xf1, 0xf2, 0xf3, 0xf4]); // other planes: looked at one by one
      for (const [cp, ascii] of bmpSpecialCharacters()) {
        if (!this.gives(ascii)) continue;
        bmp[cp] = 1;
        leads.add(cp < 0x800 ? 0xc0 | (cp >> 6) : 0xe0 | (cp >> 12));
      }
      this.specialBmp = bmp;
      this.specialLeads = [...leads].sort((a, b) => a - b);
    }
    return this.specialLeads;
  }

  /** Whether the folding of this code point gives a character of the string (after utf8Leads()). */
  special(codePoint: number): boolean {
    if (codePoint < 0x10000) return this.specialBmp![codePoint] === 1;
    let known = this.specialAstral.get(codePoint);
    if (known === undefined) {
      known = this.gives(foldForSearch(String.fromCodePoint(codePoint)));
      this.specialAstral.set(codePoint, known);
    }
    return known;
  }

  /** For a single-byte charset: the bytes whose character is special; null when the charset
   * does not decode one byte to one character (it is not known as a single-byte one). */
  specialBytes(charset: string): number[] | null {
    let found = this.byteTables.get(charset);
    if (found === undefined) {
      const high = Buffer.alloc(128);
      for (let b = 128; b < 256; b++) high[b - 128] = b;
      const decoded = [...decodeCharset(high, charset)];
      const ascii = decodeCharset(Buffer.from('az09', 'latin1'), charset);
      if (decoded.length !== 128 || ascii !== 'az09') {
        found = null;
      } else {
        found = [];
        for (let b = 128; b < 256; b++) if (this.gives(foldForSearch(decoded[b - 128]))) found.push(b);
      }
      this.byteTables.set(charset, found);
    }
    return found;
  }

  /** A case-insensitive search for the string (ASCII: it matches no non-ASCII character, as
   * the bytes would not). */
  finder(): AsciiFinder {
    this.expression ??= caseInsensitive(this.folded);
    return this.expression;
  }

  /** Whether the folded "name: decoded value" line contains the string. The same values come
   * back often (senders' names, list subjects): the answers are kept for the search. */
  inHeaderLine(name: string, value: string): boolean {
    const key = `${name}:${value}`;
    let found = this.lines.get(key);
    if (found === undefined) {
      found = foldForSearch(`${name}: ${decodeHeaderValue(value)}`).includes(this.folded);
      if (this.lines.size >= 10_000) this.lines.clear();
      this.lines.set(key, found);
    }
    return found;
  }

  private gives(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 128 && this.chars[c] === 1) return true;
    }
    return false;
  }
}
