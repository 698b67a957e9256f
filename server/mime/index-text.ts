// The text a full-text index holds for a message: what SEARCH TEXT looks at, decoded and folded
// as the evaluator folds it (server/imap/search/evaluate.ts, textscan.ts), so that every string
// SEARCH finds in a message is a substring of this text.
//
// The evaluator folds each header line ("name: decoded value") and each decoded text part on its
// own; the same pieces folded the same way are put here one per line. A string that SEARCH finds
// within one line or one part is therefore found here too. Strings with a line end (which the
// evaluator can match across pieces) are never asked of an index.
// The other way round holds too, as the pieces are those the evaluator folds: a substring of a
// folded text part (a word the index keeps, maildir/fts/fts-tokens.ts) is found by BODY.
// Attachments' names are in the MIME headers of their parts, which are among the header lines.

import { decodeCharset, decodeHeaderValue, decodeTransfer } from './decode.js';
import { foldForSearch } from './fold.js';
import { fieldValue, scanHeader } from './header.js';
import type { BodyPart } from './types.js';

export function indexText(raw: Buffer, body: BodyPart): string {
  const { lines, texts } = indexPieces(raw, body);
  return [...lines, ...texts].join('\n');
}

/** The pieces of indexText: the folded header lines, and the folded text parts (what BODY looks at). */
export function indexPieces(raw: Buffer, body: BodyPart): { lines: string[]; texts: string[] } {
  const lines: string[] = [];
  const texts: string[] = [];
  const stack: BodyPart[] = [body];
  while (stack.length > 0) {
    const part = stack.pop()!;
    for (const field of scanHeader(raw, part.headerStart, part.bodyStart).fields) {
      lines.push(foldForSearch(`${field.name}: ${decodeHeaderValue(fieldValue(raw, field))}`));
    }
    if (part.parts) {
      for (let i = part.parts.length - 1; i >= 0; i--) stack.push(part.parts[i]);
    } else if (part.message) {
      stack.push(part.message.body);
    } else if (part.type === 'text') {
      const bytes = decodeTransfer(raw.subarray(part.bodyStart, part.bodyEnd), part.encoding);
      texts.push(foldForSearch(decodeCharset(bytes, charsetOf(part))));
    }
  }
  return { lines, texts };
}

function charsetOf(part: BodyPart): string {
  for (const [name, value] of part.params) if (name === 'charset') return value.trim().toLowerCase();
  return 'us-ascii';
}
