// MIME structure parser for ENVELOPE, BODYSTRUCTURE and BODY[section].
//
// Why our own parser rather than mailparser / postal-mime: IMAP needs the exact raw byte offsets
// of every part's header and body, octet and line counts as if every line ended in CRLF, and
// the raw (undecoded) header bytes for ENVELOPE. Those libraries decode content and throw all
// of that away. This one only scans: it works on the Buffer with indexOf, decodes nothing but
// the few header fields it needs, and never throws.
//
// Boundary rules follow RFC 2046 section 5.1.1 and Dovecot: a delimiter is a line starting with
// "--" + boundary (the rest of the line is not checked, per the RFC's note to implementors);
// the boundaries of all enclosing multiparts are live at once, the longest match wins and,
// among equals, the innermost; an outer boundary ends every inner part that is still open.
// The CRLF before a delimiter belongs to the delimiter, not to the part.

import { parseAddressList } from './address.js';
import { parseDate } from './date.js';
import { fieldValue, firstField, scanHeader, type HeaderField } from './header.js';
import { parseContentType, parseDisposition, parseLanguage } from './params.js';
import { decodeHeaderValue } from './decode.js';
import type { Address, BodyPart, ContentDisposition, Envelope, HeaderMeta, MessageMeta } from './types.js';

const LF = 10;
const CR = 13;
const DASH = 45;
const NL_DASH_DASH = Buffer.from('\n--', 'latin1');

/** Same limits as Dovecot's message parser (max_nested_mime_parts, max_total_mime_parts):
 * beyond them, multiparts and messages are kept as opaque leaves. */
const MAX_DEPTH = 100;
const MAX_PARTS = 10000;

/**
 * Line and octet counts (every bare LF counted as CRLF) of the parts' bodies. The parts are
 * collected while parsing and counted afterwards in one pass over the LFs of the message,
 * which allocates nothing per line.
 */
class Counter {
  private readonly parts: BodyPart[] = [];

  add(part: BodyPart): void {
    this.parts.push(part);
  }

  /** Fills in size and lines of every part; returns the octets of the whole message with CRLF. */
  finish(raw: Buffer): number {
    const parts = this.parts;
    // Every body boundary, in order, with the LFs (all and bare) before it.
    const marks = new Float64Array(parts.length * 2 + 1);
    for (let i = 0; i < parts.length; i++) {
      marks[2 * i] = parts[i].bodyStart;
      marks[2 * i + 1] = parts[i].bodyEnd;
    }
    marks[parts.length * 2] = raw.length;
    marks.sort();
    const lfBefore = new Float64Array(marks.length);
    const bareBefore = new Float64Array(marks.length);
    const noCr = raw.indexOf(CR) < 0;
    let lfs = 0;
    let bare = 0;
    let pos = raw.indexOf(LF);
    for (let m = 0; m < marks.length; m++) {
      const mark = marks[m];
      while (pos >= 0 && pos < mark) {
        lfs++;
        if (noCr || pos === 0 || raw[pos - 1] !== CR) bare++;
        pos = raw.indexOf(LF, pos + 1);
      }
      lfBefore[m] = lfs;
      bareBefore[m] = bare;
    }
    const at = (offset: number): number => {
      let lo = 0;
      let hi = marks.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (marks[mid] < offset) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    for (const part of parts) {
      if (part.bodyEnd <= part.bodyStart) {
        part.size = 0;
        part.lines = 0;
        continue;
      }
      const a = at(part.bodyStart);
      const b = at(part.bodyEnd);
      part.lines = lfBefore[b] - lfBefore[a];
      part.size = part.bodyEnd - part.bodyStart + bareBefore[b] - bareBefore[a];
    }
    return raw.length + bareBefore[marks.length - 1];
  }
}

/** A delimiter line found in the body. */
interface Delimiter {
  /** Index of the matched boundary in the live stack (0 = outermost). */
  level: number;
  close: boolean;
  lineStart: number;
  /** Offset after the line's LF (or the end of the buffer). */
  lineEnd: number;
}

interface Ctx {
  raw: Buffer;
  counter: Counter;
  /** Boundaries of the enclosing multiparts, outermost first. */
  stack: Buffer[];
  parts: number;
}

function matchDelimiter(ctx: Ctx, lineStart: number): Delimiter | null {
  const { raw, stack } = ctx;
  if (raw[lineStart] !== DASH || raw[lineStart + 1] !== DASH) return null;
  const from = lineStart + 2;
  let best = -1;
  let bestLen = -1;
  for (let level = stack.length - 1; level >= 0; level--) {
    const b = stack[level];
    if (b.length > bestLen && from + b.length <= raw.length && raw.compare(b, 0, b.length, from, from + b.length) === 0) {
      best = level;
      bestLen = b.length;
    }
  }
  if (best < 0) return null;
  const after = from + bestLen;
  const close = raw[after] === DASH && raw[after + 1] === DASH;
  const lf = raw.indexOf(LF, after);
  return { level: best, close, lineStart, lineEnd: lf < 0 ? raw.length : lf + 1 };
}

/** The next delimiter line of any live boundary at or after the line that starts at `pos`. */
function nextDelimiter(ctx: Ctx, pos: number): Delimiter | null {
  if (ctx.stack.length === 0) return null;
  const { raw } = ctx;
  let lineStart = pos;
  while (lineStart < raw.length) {
    if (raw[lineStart] === DASH) {
      const d = matchDelimiter(ctx, lineStart);
      if (d !== null) return d;
    }
    const i = raw.indexOf(NL_DASH_DASH, lineStart);
    if (i < 0) return null;
    lineStart = i + 1;
  }
  return null;
}

/** Where the content before a delimiter ends: before the CRLF (or LF) that precedes it. */
function endBefore(raw: Buffer, d: Delimiter, floor: number): number {
  let end = d.lineStart;
  if (end > floor && raw[end - 1] === LF) {
    end--;
    if (end > floor && raw[end - 1] === CR) end--;
  }
  return Math.max(end, floor);
}

export function emptyEnvelope(): Envelope {
  return {
    date: null, subject: null, from: null, sender: null, replyTo: null,
    to: null, cc: null, bcc: null, inReplyTo: null, messageId: null,
  };
}

function addressField(raw: Buffer, fields: HeaderField[], name: string): Address[] | null {
  const f = firstField(fields, name);
  if (f === undefined) return null;
  const list = parseAddressList(fieldValue(raw, f));
  return list.length > 0 ? list : null;
}

/** Recipient fields may repeat (RFC 5322 section 4.5.3, obsolete syntax): every address of
 * every field of that name, as Courier sends them; a second To: line must not be lost. */
function recipientField(raw: Buffer, fields: HeaderField[], name: string): Address[] | null {
  const list: Address[] = [];
  for (const f of fields) if (f.name === name) list.push(...parseAddressList(fieldValue(raw, f)));
  return list.length > 0 ? list : null;
}

function stringField(raw: Buffer, fields: HeaderField[], name: string): string | null {
  const f = firstField(fields, name);
  return f === undefined ? null : fieldValue(raw, f);
}

/** ENVELOPE per RFC 3501 section 7.4.2; the first field of each name wins, as in Dovecot,
 * except for the recipient fields (recipientField). */
function parseEnvelope(raw: Buffer, fields: HeaderField[]): Envelope {
  const from = addressField(raw, fields, 'from');
  return {
    date: stringField(raw, fields, 'date'),
    subject: stringField(raw, fields, 'subject'),
    from,
    // "If the Sender or Reply-To lines are absent in the [RFC-2822] header, or are present but
    // empty, the server sets the corresponding member of the envelope to be the same value as
    // the from member" (RFC 3501 7.4.2).
    sender: addressField(raw, fields, 'sender') ?? from,
    replyTo: addressField(raw, fields, 'reply-to') ?? from,
    to: recipientField(raw, fields, 'to'),
    cc: recipientField(raw, fields, 'cc'),
    bcc: recipientField(raw, fields, 'bcc'),
    inReplyTo: stringField(raw, fields, 'in-reply-to'),
    messageId: stringField(raw, fields, 'message-id'),
  };
}

interface Parsed {
  part: BodyPart;
  fields: HeaderField[];
  /** The delimiter line that ended this entity (not consumed), null at the end of the data. */
  stop: Delimiter | null;
}

/**
 * Parses the entity (MIME header + body) that starts at `start`. Without a Content-Type it is
 * message/rfc822 when `digestChild` (a part of multipart/digest, RFC 2046 5.1.5), else
 * text/plain (RFC 2045 5.2).
 */
function parseEntity(ctx: Ctx, start: number, digestChild: boolean, depth: number): Parsed {
  const { raw } = ctx;
  ctx.parts++;
  const stopAt = ctx.stack.length > 0 ? (pos: number) => matchDelimiter(ctx, pos) !== null : undefined;
  const header = scanHeader(raw, start, raw.length, stopAt);
  const fields = header.fields;

  let type = digestChild ? 'message' : 'text';
  let subtype = digestChild ? 'rfc822' : 'plain';
  let params: [string, string][] = [];
  const ctField = firstField(fields, 'content-type');
  if (ctField !== undefined) {
    // RFC 2045 5.2: a syntactically invalid Content-Type means text/plain; charset=us-ascii.
    const ct = parseContentType(fieldValue(raw, ctField));
    if (ct === null) {
      type = 'text';
      subtype = 'plain';
    } else {
      type = ct.type;
      subtype = ct.subtype;
      params = ct.params;
    }
  }
  if (header.blankLine && ctx.stack.length > 0 && raw[header.bodyStart] === DASH) {
    // "Content-Type: x CRLF CRLF --outer": the second CRLF belongs to the delimiter (RFC 2046
    // 5.1.1), so this part has a header without the blank line and no body. The part's own
    // boundary is live for this test, so its own first delimiter is not mistaken for an outer
    // one that it starts with.
    const own = type === 'multipart' ? params.find(([k]) => k === 'boundary')?.[1] ?? '' : '';
    const level = ctx.stack.length;
    if (own !== '') ctx.stack.push(Buffer.from(own, 'latin1'));
    const d = matchDelimiter(ctx, header.bodyStart);
    ctx.stack.length = level;
    if (d !== null && d.level < level) {
      header.blankLine = false;
      header.stoppedAt = header.bodyStart;
    }
  }
  const cte = stringField(raw, fields, 'content-transfer-encoding');
  const encoding = cte === null || cte === '' ? '7bit' : cte.toLowerCase();
  const dispValue = stringField(raw, fields, 'content-disposition');
  const disp: ContentDisposition | null = dispValue === null ? null : parseDisposition(dispValue);
  const langValue = stringField(raw, fields, 'content-language');

  const part: BodyPart = {
    type,
    subtype,
    params,
    id: stringField(raw, fields, 'content-id'),
    description: stringField(raw, fields, 'content-description'),
    encoding,
    size: 0,
    lines: 0,
    md5: stringField(raw, fields, 'content-md5'),
    disposition: disp,
    language: langValue === null ? null : parseLanguage(langValue),
    location: stringField(raw, fields, 'content-location'),
    headerStart: start,
    bodyStart: header.bodyStart,
    bodyEnd: header.bodyStart,
  };

  let stop: Delimiter | null;
  if (header.stoppedAt >= 0) {
    // A boundary cut the header short: no body.
    stop = matchDelimiter(ctx, header.stoppedAt);
    part.bodyStart = part.bodyEnd = stop === null ? header.stoppedAt : endBefore(raw, stop, start);
  } else if (type === 'multipart') {
    part.parts = [];
    const boundary = params.find(([k]) => k === 'boundary')?.[1] ?? '';
    if (boundary === '' || depth >= MAX_DEPTH) {
      stop = nextDelimiter(ctx, part.bodyStart);
      part.bodyEnd = stop === null ? raw.length : endBefore(raw, stop, part.bodyStart);
    } else {
      stop = parseMultipartBody(ctx, part, Buffer.from(boundary, 'latin1'), subtype === 'digest', depth);
    }
  } else if (type === 'message' && (subtype === 'rfc822' || subtype === 'global') && depth < MAX_DEPTH) {
    // Parsed whatever its Content-Transfer-Encoding (RFC 2046 5.2.1 allows only 7bit, 8bit and
    // binary): like Dovecot, an encoded one becomes a message whose header is the encoded text.
    const inner = parseEntity(ctx, part.bodyStart, false, depth + 1);
    part.message = { envelope: parseEnvelope(raw, inner.fields), body: inner.part };
    part.bodyEnd = inner.part.bodyEnd;
    stop = inner.stop;
  } else {
    stop = nextDelimiter(ctx, part.bodyStart);
    part.bodyEnd = stop === null ? raw.length : endBefore(raw, stop, part.bodyStart);
  }
  ctx.counter.add(part); // size and lines: counted at the end
  return { part, fields, stop };
}

function emptyTextPart(at: number): BodyPart {
  return {
    type: 'text', subtype: 'plain', params: [], id: null, description: null, encoding: '7bit',
    size: 0, lines: 0, md5: null, disposition: null, language: null, location: null,
    headerStart: at, bodyStart: at, bodyEnd: at,
  };
}

/** Fills part.parts and part.bodyEnd; returns the delimiter of an outer boundary that ended
 * the multipart, or null at the end of the data. */
function parseMultipartBody(ctx: Ctx, part: BodyPart, boundary: Buffer, digest: boolean, depth: number): Delimiter | null {
  const { raw } = ctx;
  const level = ctx.stack.length;
  ctx.stack.push(boundary);
  const children = part.parts!;
  // Content consumed so far: an enclosing delimiter's CRLF cannot reach back before it (with
  // "--inner CRLF --outer" the CRLF is the inner delimiter line's).
  let floor = part.bodyStart;
  try {
    let d = nextDelimiter(ctx, part.bodyStart); // skips the preamble
    for (;;) {
      if (d === null) {
        part.bodyEnd = raw.length; // unterminated: runs to the end
        return null;
      }
      if (d.level < level) {
        part.bodyEnd = endBefore(raw, d, floor); // an outer boundary ends us
        return d;
      }
      if (d.close || ctx.parts >= MAX_PARTS) {
        ctx.stack.pop();
        // The epilogue runs to the next outer delimiter.
        const stop = nextDelimiter(ctx, d.lineEnd);
        part.bodyEnd = stop === null ? raw.length : endBefore(raw, stop, d.lineStart);
        return stop;
      }
      const child = parseEntity(ctx, d.lineEnd, digest, depth + 1);
      children.push(child.part);
      floor = Math.max(d.lineEnd, child.part.bodyEnd);
      d = child.stop;
    }
  } finally {
    if (ctx.stack.length > level) ctx.stack.length = level;
  }
}

/** Parses a stored message. Never throws: anything unparseable becomes text/plain. */
export function parseMessage(raw: Buffer): MessageMeta {
  const { size, body, fields } = structure(raw);
  return { size, body, ...(fields ? headerMetaOf(raw, fields) : emptyHeaderMeta()) };
}

/** The MIME structure and RFC822.SIZE alone, without the top-level header data (which is
 * most of the work for a simple message). Never throws. */
export function parseStructure(raw: Buffer): { size: number; body: BodyPart } {
  const { size, body } = structure(raw);
  return { size, body };
}

function structure(raw: Buffer): { size: number; body: BodyPart; fields: HeaderField[] | null } {
  const counter = new Counter();
  const ctx: Ctx = { raw, counter, stack: [], parts: 0 };
  let parsed: Parsed;
  try {
    parsed = parseEntity(ctx, 0, false, 0);
  } catch {
    // Defensive only: the scanner has no known failure mode. Describe the data as one text part.
    const part = emptyTextPart(0);
    part.bodyEnd = raw.length;
    const whole = new Counter();
    whole.add(part);
    return { size: whole.finish(raw), body: part, fields: null };
  }
  return { size: counter.finish(raw), body: parsed.part, fields: parsed.fields };
}

function emptyHeaderMeta(): HeaderMeta {
  return { envelope: emptyEnvelope(), references: [], decoded: { subject: '', from: '', to: '', cc: '', bcc: '' }, sentDate: null };
}

/**
 * The header data of a message (ENVELOPE, decoded fields, references, sent date) from the
 * first bytes of its file. `complete` tells that `raw` is the whole message; when it is not
 * and the header does not end within it, the answer is null: read more.
 */
export function parseHeaderMeta(raw: Buffer, complete: boolean): HeaderMeta | null {
  try {
    const header = scanHeader(raw, 0, raw.length);
    if (!header.blankLine && !complete) return null;
    return headerMetaOf(raw, header.fields);
  } catch {
    return emptyHeaderMeta(); // defensive only, as in parseMessage
  }
}

function headerMetaOf(raw: Buffer, fields: HeaderField[]): HeaderMeta {
  const envelope = parseEnvelope(raw, fields);
  const decodedField = (name: string): string => {
    const f = firstField(fields, name);
    return f === undefined ? '' : decodeHeaderValue(fieldValue(raw, f));
  };
  const date = envelope.date === null ? null : parseDate(envelope.date);
  return {
    envelope,
    references: parseReferences(stringField(raw, fields, 'references'), envelope.inReplyTo),
    decoded: {
      subject: decodedField('subject'),
      from: searchableAddresses(raw, fields, 'from', envelope.from),
      to: searchableAddresses(raw, fields, 'to', envelope.to),
      cc: searchableAddresses(raw, fields, 'cc', envelope.cc),
      bcc: searchableAddresses(raw, fields, 'bcc', envelope.bcc),
    },
    sentDate: date === null ? null : date.time,
  };
}

/**
 * The text SEARCH FROM / TO / CC / BCC look in: the decoded field (every field of the name,
 * one per line), and each envelope address as mailbox@host where the header does not
 * spell it so (comments inside the address, "<user (c)@ (c) example.org>"). RFC 3501
 * section 6.4.4 matches "the envelope structure's FROM field", not the header's spelling.
 */
function searchableAddresses(raw: Buffer, fields: HeaderField[], name: string, addresses: Address[] | null): string {
  const lines: string[] = [];
  for (const f of fields) if (f.name === name) lines.push(decodeHeaderValue(fieldValue(raw, f)));
  const text = lines.join('\n');
  for (const a of addresses ?? []) {
    if (a.mailbox === null || a.host === null) continue;
    // Byte strings (latin1) to text, as the decoded lines are (ASCII, nearly all, is both).
    const bytes = `${a.mailbox}@${a.host}`;
    const spec = EIGHT_BIT.test(bytes) ? Buffer.from(bytes, 'latin1').toString('utf8') : bytes;
    if (!text.includes(spec)) lines.push(spec);
  }
  return lines.join('\n');
}

const EIGHT_BIT = /[\x80-\xff]/;

const MSG_ID = /<[^<>\s]*>/g;

/** References for THREAD=REFERENCES (RFC 5256 section 2.2): the msg-ids of References, or
 * else the first msg-id of In-Reply-To. Each id is returned as "<...>". */
export function parseReferences(references: string | null, inReplyTo: string | null): string[] {
  const refs = references === null ? [] : (references.replace(/\([^()]*\)/g, ' ').match(MSG_ID) ?? []);
  if (refs.length > 0) return refs.filter((r) => r.length > 2);
  if (inReplyTo !== null) {
    const first = inReplyTo.replace(/\([^()]*\)/g, ' ').match(MSG_ID)?.find((r) => r.length > 2);
    if (first !== undefined) return [first];
  }
  return [];
}
