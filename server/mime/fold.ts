// Case folding for SEARCH's case-insensitive substring matches, below the IMAP layer so that the
// Maildir engine's full-text index (server/maildir/fts/) folds the text exactly as SEARCH does.

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * Folds a string for case-insensitive substring search.
 * NFKC first, so that composed and decomposed forms (é vs e + U+0301) and compatibility
 * forms (the ligature ﬁ, full-width letters) meet; then lower case. Final sigma is
 * mapped to sigma because toLowerCase picks ς or σ by position in the word, which
 * would make "ΟΔΟΣ" miss "οδοσ". Unlike toUpperCase, toLowerCase never expands ß to
 * "ss", which keeps us in line with both Courier and Dovecot (neither matches
 * "STRASSE" against "straße").
 */
export function foldForSearch(text: string): string {
  if (ASCII_ONLY.test(text)) return text.toLowerCase();
  return text.normalize('NFKC').toLowerCase().replace(/ς/g, 'σ');
}
