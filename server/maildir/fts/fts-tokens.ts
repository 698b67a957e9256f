// What the full-text index's writer stores for a message (fts-db.ts): the distinct trigrams of
// its text (server/mime/index-text.ts), one per line, for FTS5's ascii tokenizer, which makes
// each line one token.
//
// Why not the text itself under FTS5's trigram tokenizer (version 2): with detail=none the
// index keeps only which trigrams each message has, yet the tokenizer handed FTS5 every
// trigram of the text, some 7,200 for a message of the bench corpus of which some 2,300 are
// distinct; each costs a hash lookup in FTS5's pending terms. Handing it the distinct ones
// alone takes about 40 % less CPU per message, and the file is smaller.
//
// The set of trigrams without a control character is the same as the trigram tokenizer's, so
// the index answers every query exactly as before: a query (fts-db.ts trigramQuery) never has a
// control character, and so never asks for the trigrams left out here (those with a line end
// or another control character, which are also the separators of the ascii tokenizer). The
// ascii tokenizer folds ASCII letters to lower case, in documents and queries alike: that can
// only add candidates, which SEARCH confirms against the message.

/** Open addressing: the keys of the trigrams seen (BMP code units, packed), 0 for empty. */
let table = new Float64Array(1 << 14);
/** The output, as UTF-16 code units: one string made at the end, not one per trigram. */
let output = new Uint16Array(1 << 16);
const UTF16 = new TextDecoder('utf-16le');

/** The distinct trigrams (by code point) of `text` without a control character, one per line. */
export function distinctTrigrams(text: string): string {
  const n = text.length - 2;
  if (n <= 0) return '';
  if (SURROGATE.test(text)) return distinctTrigramsSlow(text);
  const size = 1 << Math.max(14, Math.ceil(Math.log2(n * 2)));
  if (table.length !== size) table = new Float64Array(size);
  else table.fill(0);
  if (output.length < n * 4) output = new Uint16Array(n * 4);
  const out = output;
  let length = 0;
  const mask = size - 1;
  let c0 = text.charCodeAt(0);
  let c1 = text.charCodeAt(1);
  for (let i = 0; i < n; i++) {
    const c2 = text.charCodeAt(i + 2);
    if (!control(c0) && !control(c1) && !control(c2)) {
      const key = c0 * 4294967296 + c1 * 65536 + c2 + 1;
      let h = (Math.imul(c0, 0x9e3779b1) ^ Math.imul(c1, 0x85ebca77) ^ Math.imul(c2, 0xc2b2ae3d)) >>> 0;
      for (;;) {
        h &= mask;
        const k = table[h];
        if (k === key) break;
        if (k === 0) {
          table[h] = key;
          if (length > 0) out[length++] = 10;
          out[length++] = c0;
          out[length++] = c1;
          out[length++] = c2;
          break;
        }
        h++;
      }
    }
    c0 = c1;
    c1 = c2;
  }
  return UTF16.decode(out.subarray(0, length));
}

const SURROGATE = /[\ud800-\udfff]/;

function control(c: number): boolean {
  return c < 0x20 || c === 0x7f;
}

/** With characters beyond the BMP: trigrams of code points (as the trigram tokenizer and trigramQuery count). */
function distinctTrigramsSlow(text: string): string {
  const chars = [...text];
  const seen = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) {
    const gram = chars[i] + chars[i + 1] + chars[i + 2];
    // eslint-disable-next-line no-control-regex
    if (!/[\x00-\x1f\x7f]/.test(gram)) seen.add(gram);
  }
  return [...seen].join('\n');
}

/** Words the index keeps: lower-case ASCII letters and digits, as many as a needle may have. */
const WORD_MIN = 3;
const WORD_MAX = 64;
/** A needle the words can prove (a word as kept, whole). */
const WHOLE_WORD = /^[a-z0-9]{3,64}$/;

/**
 * The distinct words of a message's folded text parts (indexPieces' texts), one per line: runs
 * of lower-case ASCII letters and digits (3 to 64 of them; a longer run gives its first 64), each
 * a substring of a text part as BODY sees it. A message with a word that starts with a needle
 * contains it, for BODY and TEXT alike: the index then answers for it without reading the
 * message (fts-index.ts). Only lower case: the ascii tokenizer folds ASCII case, which would otherwise
 * prove "abc" from an "ABC" that folding left (NFKD of "ℂ" is "C").
 */
export function distinctWords(texts: readonly string[]): string {
  const seen = new Set<string>();
  for (const text of texts) {
    let start = -1;
    for (let i = 0; i <= text.length; i++) {
      const c = i < text.length ? text.charCodeAt(i) : 0;
      if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) {
        if (start < 0) start = i;
        continue;
      }
      if (start >= 0 && i - start >= WORD_MIN) seen.add(text.slice(start, Math.min(i, start + WORD_MAX)));
      start = -1;
    }
  }
  return [...seen].join('\n');
}

/** Whether a folded needle is a word the index may hold (then a match of it in the words is proof). */
export function wordNeedle(folded: string): boolean {
  return WHOLE_WORD.test(folded);
}

/** The printable ASCII characters that are not letters or digits: token characters too. */
const PUNCTUATION = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/** FTS5's tokenize option: the ascii tokenizer, whose only separators are then the control characters. */
export const TOKENIZE = `ascii tokenchars '${PUNCTUATION.replace(/'/g, "''")}'`;
