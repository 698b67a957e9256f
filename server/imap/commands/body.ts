// BODY[section]<origin.count>, RFC822, RFC822.HEADER and RFC822.TEXT data as literals, written
// straight into the FETCH output: the stored bytes of the section are converted (LF -> CRLF,
// NUL -> 0x80, see crlf.ts) into the output blocks, with no string and no buffer per message.
// Sections that are not one run of stored bytes (HEADER.FIELDS) come from the MIME module.

import { scanHeader } from '../../mime/header.js';
import { findPart, sectionOf } from '../../mime/section.js';
import type { BodyPart } from '../../mime/types.js';
import type { SectionSpec } from '../protocol/types.js';
import { CRLF_CHUNK, crlfConvert, crlfLength, crlfPieces } from '../crlf.js';
import { DIRECT_MAX, literalInto } from '../crlf-pool.js';
import type { BlockWriter } from '../output.js';

export interface PartialRange {
  origin: number;
  count: number;
}

function isMessage(p: BodyPart): boolean {
  return p.type === 'message' && p.subtype === 'rfc822' && p.message !== undefined;
}

/**
 * The stored bytes [start, end) a section is made of, null when there is no such section, or
 * undefined when the section is not one run of bytes (HEADER.FIELDS). The same cases, in
 * the same order, as sectionOf in mime/section.ts (a test compares the two).
 */
export function sectionRange(raw: Buffer, body: BodyPart | undefined, section: SectionSpec): [number, number] | null | undefined {
  const { part, kind } = section;
  if (kind === 'HEADER.FIELDS' || kind === 'HEADER.FIELDS.NOT') return undefined;
  if (part.length === 0) {
    if (kind === '') return [0, raw.length];
    const headerEnd = body ? body.bodyStart : scanHeader(raw, 0, raw.length).bodyStart;
    if (kind === 'HEADER') return [0, headerEnd];
    if (kind === 'TEXT') return [headerEnd, raw.length];
    return null; // MIME needs a part number
  }
  const node = findPart(body!, part);
  if (node === null) return null;
  if (kind === '') return [node.bodyStart, node.bodyEnd];
  if (kind === 'MIME') return [node.headerStart, node.bodyStart];
  if (!isMessage(node)) return null;
  const inner = node.message!.body;
  return kind === 'HEADER' ? [inner.headerStart, inner.bodyStart] : [inner.bodyStart, inner.bodyEnd];
}

/** The section as a literal ({n} CRLF bytes), or "" when it does not exist (as Courier and Dovecot). */
export function writeSection(out: BlockWriter, raw: Buffer, body: BodyPart | undefined, section: SectionSpec, partial?: PartialRange): void {
  const range = sectionRange(raw, body, section);
  if (range === undefined) {
    const bytes = sectionOf(raw, body, section);
    if (bytes === null) {
      out.ascii('""');
      return;
    }
    const part = partial ? cut(bytes.length, partial) : [0, bytes.length];
    out.ascii(`{${part[1] - part[0]}}\r\n`);
    out.stable(bytes.subarray(part[0], part[1]));
    return;
  }
  if (range === null) {
    out.ascii('""');
    return;
  }
  const [start, end] = range;
  if (!partial && out.direct && end - start <= DIRECT_MAX) {
    // Converted by the module straight into the output block (crlf-pool.ts), where it can.
    const block = out.directRoom(2 * (end - start) + 32);
    const used = block ? literalInto(raw, start, end, block, out.buffered) : -1;
    if (used >= 0) {
      out.commit(used);
      return;
    }
  }
  if (end - start <= CRLF_CHUNK) {
    // Converted first: its length is the literal's.
    const converted = crlfConvert(raw, start, end);
    const [from, to] = partial ? cut(converted.length, partial) : [0, converted.length];
    out.ascii(`{${to - from}}\r\n`);
    out.bytes(from === 0 && to === converted.length ? converted : converted.subarray(from, to));
    return;
  }
  // A large section: counted, then converted a piece at a time.
  const [from, to] = cut(crlfLength(raw, start, end), partial ?? { origin: 0, count: Infinity });
  out.ascii(`{${to - from}}\r\n`);
  crlfPieces(raw, start, end, from, to - from, (piece) => out.bytes(piece));
}

/** The [from, to) of a partial fetch on `length` bytes (RFC 3501 6.4.5: empty past the end). */
function cut(length: number, partial: PartialRange): [number, number] {
  const from = Math.min(partial.origin, length);
  return [from, Math.min(length, from + partial.count)];
}
