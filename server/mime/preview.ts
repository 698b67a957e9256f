// PREVIEW (RFC 8970): at most 256 characters of a message's first text part, decoded, with
// HTML reduced to its text, whitespace runs made one space. Bounded work: only the first
// SOURCE_LIMIT octets of the part are decoded, and HTML is read by a small state machine
// (no regular expression runs over message content).

import { decodeCharset, decodeTransfer } from './decode.js';
import type { BodyPart } from './types.js';

/** RFC 8970 3.1: the preview is no longer than 256 characters. */
export const PREVIEW_LENGTH = 256;
/** Octets of the stored part looked at: enough for 256 characters after an HTML head of styles. */
const SOURCE_LIMIT = 32 * 1024;

/** The part a preview is made of: the first text/plain or text/html that is not an attachment,
 * text/plain preferred in a multipart/alternative; attached messages are not entered. */
export function previewPart(body: BodyPart): BodyPart | null {
  if (body.parts) {
    const candidates = body.parts.map(previewPart).filter((p): p is BodyPart => p !== null);
    if (body.subtype === 'alternative') return candidates.find((p) => p.subtype === 'plain') ?? candidates[0] ?? null;
    return candidates[0] ?? null;
  }
  if (body.type !== 'text' || (body.subtype !== 'plain' && body.subtype !== 'html')) return null;
  if (body.disposition?.type.toLowerCase() === 'attachment') return null;
  return body;
}

/** The preview text of a message ("" when it has no text part). */
export function previewText(raw: Buffer, body: BodyPart): string {
  const part = previewPart(body);
  if (!part) return '';
  const end = Math.min(part.bodyEnd, part.bodyStart + SOURCE_LIMIT);
  const bytes = decodeTransfer(raw.subarray(part.bodyStart, end), part.encoding);
  let text = decodeCharset(bytes, part.params.find(([k]) => k === 'charset')?.[1]);
  if (part.subtype === 'html') text = htmlText(text);
  return normalise(text);
}

/** Whitespace and control characters as one space, trimmed, cut at PREVIEW_LENGTH code points. */
function normalise(text: string): string {
  let out = '';
  let count = 0;
  let space = false;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c <= 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f) || c === 0xa0 || c === 0xfeff || (c >= 0x2000 && c <= 0x200b) || c === 0x2028 || c === 0x2029 || c === 0x3000) {
      space = out !== '';
      continue;
    }
    if (space) {
      if (count + 1 >= PREVIEW_LENGTH) break;
      out += ' ';
      count++;
      space = false;
    }
    out += ch;
    if (++count >= PREVIEW_LENGTH) break;
  }
  return out;
}

const SKIPPED_ELEMENTS = new Set(['script', 'style', 'head', 'title', 'template']);
/** Elements that end a line of text. */
const BLOCK_ELEMENTS = new Set(['br', 'p', 'div', 'li', 'tr', 'td', 'th', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'table', 'hr']);
const HEX_DIGITS = /^[0-9A-Fa-f]{1,6}$/;
const DECIMAL_DIGITS = /^[0-9]{1,7}$/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The text of an HTML document: tags, comments and the content of script, style and head left out. */
export function htmlText(html: string): string {
  let out = '';
  let i = 0;
  const n = html.length;
  let skipUntil: string | null = null; // inside <script> etc.: the closing tag looked for
  while (i < n) {
    const lt = html.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (skipUntil === null && textEnd > i) out += entities(html.slice(i, textEnd));
    if (lt < 0) break;
    if (html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      i = close < 0 ? n : close + 3;
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt < 0) break;
    // The tag's name: letters and digits after "<" or "</".
    let j = lt + 1;
    const closing = html[j] === '/';
    if (closing) j++;
    let name = '';
    while (j < gt && /[A-Za-z0-9]/.test(html[j])) name += html[j++];
    name = name.toLowerCase();
    i = gt + 1;
    if (skipUntil !== null) {
      if (closing && name === skipUntil) skipUntil = null;
      continue;
    }
    if (!closing && SKIPPED_ELEMENTS.has(name) && html[gt - 1] !== '/') skipUntil = name;
    else if (BLOCK_ELEMENTS.has(name)) out += ' ';
  }
  return out;
}

/** Character references: the named ones above and numeric ones; others stay as written. */
function entities(text: string): string {
  if (text.indexOf('&') < 0) return text;
  let out = '';
  let i = 0;
  for (;;) {
    const amp = text.indexOf('&', i);
    if (amp < 0) return out + text.slice(i);
    out += text.slice(i, amp);
    // Looked for in the next few characters only: a text of "&" without ";" stays linear.
    const semi = text.slice(amp + 1, amp + 11).indexOf(';') + amp + 1;
    const ref = semi > amp ? text.slice(amp + 1, semi) : '';
    let value: string | undefined;
    if (ref.startsWith('#')) {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      const digits = ref.slice(hex ? 2 : 1);
      const code = (hex ? HEX_DIGITS : DECIMAL_DIGITS).test(digits) ? parseInt(digits, hex ? 16 : 10) : NaN;
      if (code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)) value = String.fromCodePoint(code);
    } else if (ref !== '') {
      value = ENTITIES[ref.toLowerCase()];
    }
    if (value === undefined) {
      out += '&';
      i = amp + 1;
    } else {
      out += value;
      i = semi + 1;
    }
  }
}
