// BODY[section] contents (RFC 3501 section 6.4.5), always in CRLF form.
//
// Part numbering: parts of a multipart are numbered from 1; a message that is not multipart has
// one part, number 1, which is its body; for a message/rfc822 part N, N.HEADER, N.TEXT and
// N.HEADER.FIELDS refer to the encapsulated message, and N.1 to its body's part 1 (its body
// when that is not multipart). N.MIME is the part's own MIME header. As in Dovecot, any
// non-multipart part N has a part N.1 which is itself (RFC 3501 leaves this open).
// message/global is opaque here, as in RFC 3501's grammar and Dovecot 2.3 (IMAP4rev1).
//
// The HEADER sections include the blank line that ends the header "except in the case of a
// message which has no body and no blank line" (RFC 3501 6.4.5).
// NUL cannot be sent in a literal (RFC 3501 section 9, CHAR8), so NUL bytes become 0x80, as
// Dovecot does; the length does not change.
//
// null means "no such section". Dovecot 2.3 and Courier 5.0 both answer that with an empty
// string (BODY[9] {0}), and so should the caller.

import { scanHeader } from './header.js';
import type { BodyPart, MessageMeta } from './types.js';

export interface SectionRequest {
  part: number[];
  kind: '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  fields?: string[];
}

const LF = 10;
const CR = 13;
const CRLF = Buffer.from('\r\n', 'latin1');

/** Bytes [a, b) with every bare LF turned into CRLF (zero-copy when there is none). */
export function toCrlf(raw: Buffer, a: number, b: number): Buffer {
  const slice = raw.subarray(a, b);
  if (slice.indexOf(LF) < 0) return slice;
  // A LF at the start whose CR lies just before the range is not bare.
  const lead = a > 0 && raw[a - 1] === CR && slice[0] === LF ? 1 : 0;
  const rest = lead ? slice.subarray(1) : slice;
  let text: string;
  if (rest.indexOf(CR) < 0) {
    // LF line ends only (how Maildir files are usually stored): every LF is bare. V8's
    // string replace runs natively, several times faster than copying line by line.
    text = rest.toString('latin1').replaceAll('\n', '\r\n');
  } else {
    if (!hasBareLf(rest)) return slice;
    text = rest.toString('latin1').replace(/\r?\n/g, '\r\n');
  }
  if (lead) text = `\n${text}`;
  return Buffer.from(text, 'latin1');
}

function hasBareLf(bytes: Buffer): boolean {
  let pos = bytes.indexOf(LF);
  while (pos >= 0) {
    if (pos === 0 || bytes[pos - 1] !== CR) return true;
    pos = bytes.indexOf(LF, pos + 1);
  }
  return false;
}

function isMessage(p: BodyPart): boolean {
  return p.type === 'message' && p.subtype === 'rfc822' && p.message !== undefined;
}

/** Finds the part a section path names (relative to the message whose body is `body`);
 * null when it does not exist. */
export function findPart(body: BodyPart, path: number[]): BodyPart | null {
  let node: BodyPart | null = body;
  for (let i = 0; i < path.length && node !== null; i++) {
    const k = path[i];
    const more = i < path.length - 1;
    if (node.type === 'multipart') node = node.parts?.[k - 1] ?? null;
    else if (k !== 1 || (more && !isMessage(node))) node = null;
    if (node !== null && more && isMessage(node)) node = node.message!.body;
  }
  return node;
}

/** NUL bytes -> 0x80 (copying only when there is one). */
function noNul(b: Buffer): Buffer {
  let pos = b.indexOf(0);
  if (pos < 0) return b;
  const out = Buffer.from(b);
  while (pos >= 0) {
    out[pos] = 0x80;
    pos = out.indexOf(0, pos + 1);
  }
  return out;
}

/** The header fields of [start, end) whose names are (or, with `not`, are not) in `names`, in
 * message order, then the blank line. */
function headerFields(raw: Buffer, start: number, end: number, names: string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const { fields, blankLine } = scanHeader(raw, start, end);
  const chunks: Buffer[] = [];
  for (const f of fields) {
    if (wanted.has(f.name) === not) continue;
    let chunk = toCrlf(raw, f.start, f.end);
    if (chunk.length === 0 || chunk[chunk.length - 1] !== LF) chunk = Buffer.concat([chunk, CRLF]);
    chunks.push(chunk);
  }
  if (blankLine) chunks.push(CRLF);
  return Buffer.concat(chunks);
}

/** The header of a message: [headerStart, bodyStart). */
function headerRange(p: BodyPart): [number, number] {
  return [p.headerStart, p.bodyStart];
}

export function sectionBytes(raw: Buffer, meta: MessageMeta, section: SectionRequest): Buffer | null {
  return sectionOf(raw, meta.body, section);
}

/** Whether a section needs the message's structure (a part number); the top-level ones need
 * only the end of the header, which is found in the raw message. */
export function sectionNeedsStructure(section: SectionRequest): boolean {
  return section.part.length > 0;
}

/** sectionBytes with the structure given, or (for the top-level sections) left out. */
export function sectionOf(raw: Buffer, body: BodyPart | undefined, section: SectionRequest): Buffer | null {
  if (!body && sectionNeedsStructure(section)) throw new Error('sectionOf: this section needs the message structure');
  const bytes = sectionRaw(raw, body, section);
  return bytes === null ? null : noNul(bytes);
}

function sectionRaw(raw: Buffer, body: BodyPart | undefined, section: SectionRequest): Buffer | null {
  const { part, kind } = section;
  if (part.length === 0) {
    if (kind === '') return toCrlf(raw, 0, raw.length);
    const headerEnd = body ? body.bodyStart : scanHeader(raw, 0, raw.length).bodyStart;
    switch (kind) {
      case 'HEADER':
        return toCrlf(raw, 0, headerEnd);
      case 'TEXT':
        return toCrlf(raw, headerEnd, raw.length);
      case 'HEADER.FIELDS':
      case 'HEADER.FIELDS.NOT':
        return headerFields(raw, 0, headerEnd, section.fields ?? [], kind === 'HEADER.FIELDS.NOT');
      default:
        return null; // MIME needs a part number (RFC 3501 grammar)
    }
  }
  const node = findPart(body!, part);
  if (node === null) return null;
  switch (kind) {
    case '':
      return toCrlf(raw, node.bodyStart, node.bodyEnd);
    case 'MIME':
      return toCrlf(raw, node.headerStart, node.bodyStart);
    default: {
      if (!isMessage(node)) return null;
      const inner = node.message!.body;
      if (kind === 'HEADER') return toCrlf(raw, ...headerRange(inner));
      if (kind === 'TEXT') return toCrlf(raw, inner.bodyStart, inner.bodyEnd);
      return headerFields(raw, inner.headerStart, inner.bodyStart, section.fields ?? [], kind === 'HEADER.FIELDS.NOT');
    }
  }
}
