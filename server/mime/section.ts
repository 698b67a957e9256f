// BODY[section] contents (RFC 3501 section 6.4.5), always in CRLF form.
//
// Part numbering: parts of a multipart are numbered from 1; a message that is not multipart has
// one part, number 1, which is its body; for a message/rfc822 part N, N.HEADER, N.TEXT and
// N.HEADER.FIELDS refer to the encapsulated message, and N.1 to its body's part 1 (its body
// when that is not multipart). N.MIME is the part's own MIME header. message/global is treated
// as message/rfc822 (RFC 9051 7.5.2 lists both).
//
// null means "no such section". Dovecot 2.3 answers that with an empty string (BODY[9] {0}),
// and so should the caller.

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
  let pos = slice.indexOf(LF);
  let bare = 0;
  while (pos >= 0) {
    if (pos === 0 ? a === 0 || raw[a - 1] !== CR : slice[pos - 1] !== CR) bare++;
    pos = slice.indexOf(LF, pos + 1);
  }
  if (bare === 0) return slice;
  const out = Buffer.allocUnsafe(slice.length + bare);
  let o = 0;
  let from = 0;
  pos = slice.indexOf(LF);
  while (pos >= 0) {
    const isBare = pos === 0 ? a === 0 || raw[a - 1] !== CR : slice[pos - 1] !== CR;
    if (isBare) {
      o += slice.copy(out, o, from, pos);
      out[o++] = CR;
      out[o++] = LF;
      from = pos + 1;
    }
    pos = slice.indexOf(LF, pos + 1);
  }
  o += slice.copy(out, o, from);
  return out.subarray(0, o);
}

function isMessage(p: BodyPart): boolean {
  return p.type === 'message' && (p.subtype === 'rfc822' || p.subtype === 'global') && p.message !== undefined;
}

/** Finds the part a section path names; null when it does not exist. */
export function findPart(body: BodyPart, path: number[]): BodyPart | null {
  let container = body; // the body of the message we are in, or a multipart we stepped into
  let isMessageBody = true;
  let node: BodyPart | null = null;
  for (let i = 0; i < path.length; i++) {
    const k = path[i];
    if (container.type === 'multipart') node = container.parts?.[k - 1] ?? null;
    else if (isMessageBody && k === 1) node = container;
    else return null;
    if (node === null) return null;
    if (i === path.length - 1) break;
    if (isMessage(node)) {
      container = node.message!.body;
      isMessageBody = true;
    } else if (node.type === 'multipart' && node !== container) {
      container = node;
      isMessageBody = false;
    } else {
      return null;
    }
  }
  return node;
}

/** The header fields of [start, end) whose names are (or, with `not`, are not) in `names`, in
 * message order, then the blank line. */
function headerFields(raw: Buffer, start: number, end: number, names: string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const { fields } = scanHeader(raw, start, end);
  const chunks: Buffer[] = [];
  for (const f of fields) {
    if (wanted.has(f.name) === not) continue;
    let chunk = toCrlf(raw, f.start, f.end);
    if (chunk.length === 0 || chunk[chunk.length - 1] !== LF) chunk = Buffer.concat([chunk, CRLF]);
    chunks.push(chunk);
  }
  chunks.push(CRLF);
  return Buffer.concat(chunks);
}

/** The header of a message: [headerStart, bodyStart). */
function headerRange(p: BodyPart): [number, number] {
  return [p.headerStart, p.bodyStart];
}

export function sectionBytes(raw: Buffer, meta: MessageMeta, section: SectionRequest): Buffer | null {
  const { part, kind } = section;
  if (part.length === 0) {
    const top = meta.body;
    switch (kind) {
      case '':
        return toCrlf(raw, 0, raw.length);
      case 'HEADER':
        return toCrlf(raw, ...headerRange(top));
      case 'TEXT':
        return toCrlf(raw, top.bodyStart, raw.length);
      case 'HEADER.FIELDS':
      case 'HEADER.FIELDS.NOT':
        return headerFields(raw, top.headerStart, top.bodyStart, section.fields ?? [], kind === 'HEADER.FIELDS.NOT');
      default:
        return null; // MIME needs a part number (RFC 3501 grammar)
    }
  }
  const node = findPart(meta.body, part);
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
