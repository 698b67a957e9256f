// Case folding for SEARCH substring matches and the collation used by SORT and THREAD.

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * Folds a string for case-insensitive substring search: RFC 5051 i;unicode-casemap, which
 * I18NLEVEL=1 (RFC 5255 section 4.3) asks of SEARCH. Case is mapped per character (lower case
 * where RFC 5051 says title case: the two meet for every character except final sigma, which
 * toLowerCase writes ς or σ by position in the word and which is mapped to σ here, so that
 * "ΟΔΟΣ" finds "οδοσ"), then NFKD, so that composed and decomposed forms (é, e + U+0301) and
 * compatibility forms (the ligature ﬁ, full-width letters) meet, and "cafe" is found in "café"
 * as in Dovecot. Like a simple title-case mapping, toLowerCase never expands ß to "ss" (neither
 * Courier nor Dovecot matches "STRASSE" against "straße").
 */
export function foldForSearch(text: string): string {
  if (ASCII_ONLY.test(text)) return text.toLowerCase();
  return text.toLowerCase().normalize('NFKD').replace(/ς/g, 'σ');
}

/**
 * Sort key under RFC 5051 i;unicode-casemap, which RFC 5256 requires (I18NLEVEL=1):
 * title case (upper case is the same for all but a handful of digraphs) and then
 * NFKD. Compare keys with compareCodePoints.
 */
export function collationKey(text: string): string {
  if (ASCII_ONLY.test(text)) return text.toUpperCase();
  return text.toUpperCase().normalize('NFKD');
}

/** Orders strings by Unicode code point (= UTF-8 octet order), not UTF-16 code unit. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort above U+E000..U+FFFF in code point order.
    if (x >= 0xd800) x = x <= 0xdfff ? x + 0x2000 : x - 0x800;
    if (y >= 0xd800) y = y <= 0xdfff ? y + 0x2000 : y - 0x800;
    return x - y;
  }
  return a.length - b.length;
}

const SURROGATE = /[\ud800-\udfff]/;

function compareUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** compareCodePoints, or the faster native comparison when no key has an astral character
 * (then UTF-16 order is code point order). */
export function comparatorFor(keys: readonly string[]): (a: string, b: string) => number {
  return keys.some((key) => SURROGATE.test(key)) ? compareCodePoints : compareUnits;
}
