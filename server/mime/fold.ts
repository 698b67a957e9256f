// Case folding for SEARCH's case-insensitive substring matches, below the IMAP layer so that the
// Maildir engine's full-text index (server/maildir/fts/) folds the text exactly as SEARCH does.

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * Folds a string for case-insensitive substring search: RFC 5051 i;unicode-casemap, which
 * I18NLEVEL=1 (RFC 5255 section 4.3) asks of SEARCH. Case is mapped per character (lower case
 * where RFC 5051 says title case: the two meet for every character except final sigma, which
 * toLowerCase writes ς or σ by position in the word and which is mapped to σ here, so that
 * "ΟΔΟΣ" finds "οδοσ"), then NFKD, so that composed and decomposed forms (é, e + U+0301) and
 * compatibility forms (the ligature ﬁ, full-width letters) meet, and "cafe" is found in "café"
 * as in Dovecot. Like a simple title-case mapping, toLowerCase never expands ß to "ss" (neither
 * Courier nor Dovecot matches "STRASSE" against "straße"). The full-text index folds with this
 * function too: a change here needs a new index version (maildir/fts/fts-db.ts).
 */
export function foldForSearch(text: string): string {
  if (ASCII_ONLY.test(text)) return text.toLowerCase();
  // Escaped: one character beyond ASCII would make V8 hold imapd's whole bundled source two bytes per character.
  return text.toLowerCase().normalize('NFKD').replace(/\u03c2/g, '\u03c3');
}
