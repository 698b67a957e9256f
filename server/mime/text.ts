// Text for SEARCH: decoded bodies of the text parts and decoded header values.

import { decodeCharset, decodeHeaderValue, decodeTransfer } from './decode.js';
import { fieldValue, scanHeader } from './header.js';
import type { BodyPart } from './types.js';
import { asciiFinder, type AsciiFinder } from './ascii-finder.js';
import { foldForSearch } from './fold.js';

export { decodeHeaderValue };

function collectText(raw: Buffer, part: BodyPart, out: string[]): void {
  if (part.parts !== undefined) {
    for (const child of part.parts) collectText(raw, child, out);
    return;
  }
  if (part.message !== undefined) {
    collectText(raw, part.message.body, out);
    return;
  }
  if (part.type !== 'text') return;
  const bytes = decodeTransfer(raw.subarray(part.bodyStart, part.bodyEnd), part.encoding);
  const charset = part.params.find(([k]) => k === 'charset')?.[1];
  out.push(decodeCharset(bytes, charset));
}

/** The decoded text (UTF-16 JS string) of every text/* part, including those inside attached
 * messages; HTML is kept as it is. Parts are separated by a newline. */
export function searchableText(raw: Buffer, body: BodyPart): string {
  const out: string[] = [];
  try {
    collectText(raw, body, out);
  } catch {
    // decoding never throws by design; a bug here must not break SEARCH
  }
  return out.join('\n');
}

/** Decoded (RFC 2047) values of every field named `field` in the top-level header of the
 * message whose body is `body`, in message order. */
export function headerSearchValues(raw: Buffer, body: BodyPart, field: string): string[] {
  const name = field.toLowerCase();
  const { fields } = scanHeader(raw, body.headerStart, body.bodyStart);
  const out: string[] = [];
  for (const f of fields) if (f.name === name) out.push(decodeHeaderValue(fieldValue(raw, f)));
  return out;
}

/** Charsets that decode ASCII bytes to the same characters, and other bytes to other characters. */
const ASCII_COMPATIBLE = /^(?:us-ascii|ascii|utf-?8|iso[-_]?8859[-_]\d{1,2}|latin-?[1-9]|windows-125\d|cp125\d|koi8-[ru])$/;
// eslint-disable-next-line no-control-regex
const EIGHT_BIT = /[\x80-\xff]/;
/** A CR that is not part of a line end: header decoding removes it, joining what is around it. */
const LONE_CR = /\r(?!\n)/;
/** Needles this shortcut handles: printable ASCII without space (header unfolding and the
 * "name: value" form of header lines could create or split those) and without a colon. */
const PLAIN_NEEDLE = /^[\x21-\x39\x3b-\x7e]+$/;
// eslint-disable-next-line no-control-regex
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;
// eslint-disable-next-line no-control-regex
const ASCII_RUNS = /[\x00-\x7f]+/g;


/** What is known of a string in a message without decoding it: certainly there, certainly not, or only decoding can tell. */
export type Presence = 'yes' | 'no' | 'maybe';

/**
 * Whether the text SEARCH looks at, decoded and folded (foldForSearch: lower case, NFKD), contains
 * `needle` (folded already): in the headers (all of them, as SEARCH TEXT sees them) and in
 * the text parts (SEARCH BODY), decided on the bytes where that gives the same answer as
 * decoding, 'maybe' otherwise.
 *
 * Why the bytes suffice: for a needle of printable ASCII without space or colon (which header
 * unfolding and the "name: value" form of header lines could create or split), the ASCII
 * characters of the folded text are those of the decoded text lower-cased, which are its ASCII
 * bytes in an ASCII-compatible charset; unless a non-ASCII character folds to ASCII (the
 * ligature "fi", full-width letters, the Kelvin sign...), which is checked by folding the
 * non-ASCII characters alone; and an ASCII letter followed by a combining accent is absorbed
 * by it, so a match followed by a non-ASCII character is only a 'maybe'.
 */
export function findText(raw: Buffer, body: BodyPart, needle: string): { header: Presence; body: Presence } {
  if (!PLAIN_NEEDLE.test(needle)) return { header: 'maybe', body: 'maybe' };
  let header: Presence = 'no';
  let text: Presence = 'no';
  try {
    const stack: BodyPart[] = [body];
    while (stack.length > 0) {
      const part = stack.pop()!;
      if (header !== 'yes') header = either(header, headerPresence(raw, part.headerStart, part.bodyStart, needle));
      if (part.message) stack.push(part.message.body);
      if (part.parts) for (let i = part.parts.length - 1; i >= 0; i--) stack.push(part.parts[i]);
      if (text === 'yes' || part.type !== 'text' || part.parts || part.message) continue;
      text = either(text, partPresence(raw, part, needle));
    }
  } catch {
    return { header: 'maybe', body: 'maybe' };
  }
  return { header, body: text };
}

function either(a: Presence, b: Presence): Presence {
  return a === 'yes' || b === 'yes' ? 'yes' : a === 'maybe' || b === 'maybe' ? 'maybe' : 'no';
}

/** The needle in a text part's bytes (as latin1, transfer encoding undone). */
function partPresence(raw: Buffer, part: BodyPart, needle: string): Presence {
  const charset = (part.params.find(([k]) => k === 'charset')?.[1] ?? 'us-ascii').trim().toLowerCase();
  if (charset !== '' && !ASCII_COMPATIBLE.test(charset)) return 'maybe';
  const bytes = decodeTransfer(raw.subarray(part.bodyStart, part.bodyEnd), part.encoding).toString('latin1');
  return presenceIn(bytes, needle, charset);
}

/**
 * The needle in text whose ASCII characters are its own: bytes as latin1 in an
 * ASCII-compatible `charset`, or decoded text (charset null). Pure ASCII text is answered on
 * the spot. Otherwise the non-ASCII characters can matter: an ASCII letter followed by a
 * combining accent is absorbed by it, and some characters fold to ASCII. Their runs are first
 * folded all at once, on their own (decomposition does not depend on the neighbours): if no
 * character of the needle comes out and no occurrence is followed by a non-ASCII character,
 * the ASCII characters decide. Else the text is decoded and folded as SEARCH does it (the
 * evaluator joins the parts and header lines with newlines, which folding never crosses).
 */
function presenceIn(text: string, needle: string, charset: string | null): Presence {
  // Case-insensitive without lower-casing a copy: for an ASCII needle the regular expression
  // matches exactly the ASCII letters toLowerCase would (it never folds a non-ASCII character
  // to ASCII; those that lower-case to ASCII are caught by the folding check below).
  const finder = needleFinder(needle);
  let match = finder.find(text);
  if (!NON_ASCII.test(text)) return match >= 0 ? 'yes' : 'no';
  const exactly = (): Presence => {
    const decoded = charset === null ? text : decodeCharset(Buffer.from(text, 'latin1'), charset);
    return foldForSearch(decoded).includes(needle) ? 'yes' : 'no';
  };
  if (match >= 0) {
    while (match >= 0) {
      if (!(text.charCodeAt(match + needle.length) >= 0x80)) return 'yes';
      match = finder.find(text, match + 1);
    }
    return exactly();
  }
  const others = text.replace(ASCII_RUNS, ' ');
  // Mostly non-ASCII (another script, binary data): folding the runs costs as much as the whole.
  if (others.length > text.length / 4) return exactly();
  const decoded = charset === null ? others : decodeCharset(Buffer.from(others, 'latin1'), charset);
  return needleCharacters(needle).test(foldForSearch(decoded)) ? exactly() : 'no';
}

const finders = new Map<string, AsciiFinder>();

/** A case-insensitive search for the needle (printable ASCII). */
function needleFinder(needle: string): AsciiFinder {
  let finder = finders.get(needle);
  if (!finder) {
    finder = asciiFinder(needle);
    if (finders.size >= 100) finders.clear();
    finders.set(needle, finder);
  }
  return finder;
}

const needleRegExps = new Map<string, RegExp>();

/** Matches any character of the needle. */
function needleCharacters(needle: string): RegExp {
  let characters = needleRegExps.get(needle);
  if (!characters) {
    characters = new RegExp(`[${[...new Set(needle)].map((c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')}]`);
    if (needleRegExps.size >= 100) needleRegExps.clear();
    needleRegExps.set(needle, characters);
  }
  return characters;
}

/** The needle in one header block, as SEARCH sees it: "name: decoded value" lines. */
function headerPresence(raw: Buffer, start: number, end: number, needle: string): Presence {
  const header = raw.toString('latin1', start, end);
  if (!EIGHT_BIT.test(header) && !header.includes('=?') && !LONE_CR.test(header)) {
    return needleFinder(needle).in(header) ? 'yes' : 'no';
  }
  // Field by field: names as they are, values RFC 2047-decoded with 8-bit bytes read as UTF-8.
  let found: Presence = 'no';
  for (const field of scanHeader(raw, start, end).fields) {
    if (EIGHT_BIT.test(field.name)) return 'maybe';
    if (field.name.includes(needle)) return 'yes';
    const value = fieldValue(raw, field);
    const plain = !EIGHT_BIT.test(value) && !value.includes('=?') && !value.includes('\r');
    const decoded = plain ? value : decodeHeaderValue(value);
    found = either(found, presenceIn(decoded, needle, null));
    if (found === 'yes') return 'yes';
  }
  return found;
}
