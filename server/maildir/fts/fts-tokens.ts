// What the full-text index's writer stores for a message (fts-db.ts): the distinct trigrams of
// its text (server/mime/index-text.ts), one per line, for FTS5's ascii tokenizer, which makes
// each line one token.
//
// Why not the text itself under FTS5's trigram tokenizer (version 2): with detail=none the
// index keeps only which trigrams each message has, yet the tokenizer handed FTS5 every
// trigram of the text, some 7,200 for a message of the bench corpus of which some 2,300 are
// distinct; each costs a hash lookup in FTS5's pending terms. Handing it the distinct ones
// alone halves the inserts' CPU (some 1.0 ms a message instead of 2.0 at 10,000 bench messages;
// finding them costs 0.15 ms, the words 0.07), and the file is smaller.
//
// The set of trigrams without a control character is the same as the trigram tokenizer's, so
// the index answers every query exactly as before: a query (fts-db.ts trigramQuery) never has a
// control character, and so never asks for the trigrams left out here (those with a line end
// or another control character, which are also the separators of the ascii tokenizer). The
// ascii tokenizer folds ASCII letters to lower case, in documents and queries alike: that can
// only add candidates, which SEARCH confirms against the message.

/** Open addressing: the trigrams seen, as their first code point (+1, 0 for empty) and the
 * other two packed (21 bits each: exact in a double). */
let firsts = new Int32Array(1 << 14);
let rests = new Float64Array(1 << 14);
/** The output, as UTF-16 code units: one string made at the end, not one per trigram. */
let output = new Uint16Array(1 << 16);

/** The distinct trigrams (by code point, as the trigram tokenizer and trigramQuery count) of
 * `text` without a control character, one per line. */
export function distinctTrigrams(text: string): string {
  const units = text.length;
  if (units < 3) return '';
  const size = 1 << Math.max(14, Math.ceil(Math.log2(units * 2)));
  if (firsts.length !== size) {
    firsts = new Int32Array(size);
    rests = new Float64Array(size);
  } else {
    firsts.fill(0);
  }
  // At most 7 code units a trigram with its line end.
  if (output.length < units * 7) output = new Uint16Array(units * 7);
  const out = output;
  let length = 0;
  const mask = size - 1;
  let c0 = -1;
  let c1 = -1;
  for (let i = 0; i < units; ) {
    let c2 = text.charCodeAt(i++);
    if (c2 >= 0xd800 && c2 <= 0xdbff && i < units) {
      const low = text.charCodeAt(i);
      if (low >= 0xdc00 && low <= 0xdfff) {
        c2 = 0x10000 + ((c2 - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (c0 >= 0 && !control(c0) && !control(c1) && !control(c2)) {
      const rest = c1 * 2097152 + c2;
      let h = (Math.imul(c0, 0x9e3779b1) ^ Math.imul(c1, 0x85ebca77) ^ Math.imul(c2, 0xc2b2ae3d)) >>> 0;
      for (;;) {
        h &= mask;
        const first = firsts[h];
        if (first === c0 + 1 && rests[h] === rest) break;
        if (first === 0) {
          firsts[h] = c0 + 1;
          rests[h] = rest;
          if (length > 0) out[length++] = 10;
          length = put(out, length, c0);
          length = put(out, length, c1);
          length = put(out, length, c2);
          break;
        }
        h++;
      }
    }
    c0 = c1;
    c1 = c2;
  }
  return fromUnits(out, length);
}

/** The string of out[0, length), lone surrogates kept (a TextDecoder would replace them). */
function fromUnits(out: Uint16Array, length: number): string {
  let text = '';
  for (let at = 0; at < length; at += 8192) text += String.fromCharCode.apply(null, out.subarray(at, Math.min(length, at + 8192)) as unknown as number[]);
  return text;
}

/** Writes a code point (or a lone surrogate, as it was) as UTF-16. */
function put(out: Uint16Array, at: number, c: number): number {
  if (c < 0x10000) {
    out[at] = c;
    return at + 1;
  }
  out[at] = 0xd800 + ((c - 0x10000) >> 10);
  out[at + 1] = 0xdc00 + ((c - 0x10000) & 0x3ff);
  return at + 2;
}

function control(c: number): boolean {
  return c < 0x20 || c === 0x7f;
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
