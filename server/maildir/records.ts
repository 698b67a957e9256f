// The payloads of the structure and header cache records (recordlog.ts keeps them), in a
// compact binary form: the MIME structure and the envelope field by field, without JSON.
// Writing them is a third of the cost of JSON.stringify over nested arrays, nothing is
// allocated but the record itself, and a record is about a quarter smaller.
//
//   uint    variable length, 7 bits a byte, low bits first (sizes, offsets, counts: safe integers >= 0)
//   string  uint 0 for null, else 1 + 2 * length + wide, then the characters: one byte each
//           (latin1) or, when one of them is above U+00FF (wide), UTF-16LE; every JS string
//           comes back exactly as it went in (byte strings, decoded text, lone surrogates)
//   list    uint 0 for null (or absent), else 1 + count, then the items
//
// A record that ends early or has bytes left over is damaged: reading it gives undefined.

import type { Address, BodyPart, Envelope } from '../mime/types.js';

class Writer {
  buf = Buffer.allocUnsafe(4096);
  pos = 0;

  /** Room for `n` more bytes. */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  uint(n: number): void {
    this.room(8);
    const buf = this.buf;
    // Not a count (a parser given to the store may leave a number out): 0, as JSON's null was.
    if (!(n > 0)) n = 0;
    while (n >= 0x80) {
      buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.pos++] = n;
  }

  str(s: string | null): void {
    // Null, or left out by a parser given to the store (JSON made null of it too).
    if (s == null) {
      this.uint(0);
      return;
    }
    const n = s.length;
    this.room(10 + 2 * n);
    const head = this.pos;
    // Most strings are short ASCII: written in this loop, no call into native code.
    const at = head + (n < 63 ? 1 : n < 8191 ? 2 : 3);
    const buf = this.buf;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) break;
      buf[at + i] = c;
    }
    const wide = i < n ? 1 : 0;
    this.uint(1 + 2 * n + wide);
    if (this.pos !== at) {
      // The length took more bytes than guessed (never for latin1: the guess is exact).
      if (!wide) buf.copyWithin(this.pos, at, at + n);
    }
    if (wide) this.pos += this.buf.write(s, this.pos, 'utf16le');
    else this.pos += n;
  }

  params(list: [string, string][] | null): void {
    if (list == null) {
      this.uint(0);
      return;
    }
    this.uint(list.length);
    for (const [name, value] of list) {
      this.str(name);
      this.str(value);
    }
  }

  /** The bytes written from `start` on, in a buffer of their own; the writer starts over. */
  take(start = 0): Buffer {
    const out = Buffer.allocUnsafe(this.pos - start);
    this.buf.copy(out, 0, start, this.pos);
    this.pos = 0;
    return out;
  }
}

class Damaged extends Error {}

class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start: number,
  ) {
    this.pos = start;
  }

  uint(): number {
    const buf = this.buf;
    let n = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= buf.length || scale > 2 ** 49) throw new Damaged();
      const b = buf[this.pos++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
  }

  str(): string | null {
    const head = this.uint();
    if (head === 0) return null;
    const n = Math.floor((head - 1) / 2);
    const wide = (head - 1) % 2 === 1;
    const end = this.pos + (wide ? 2 * n : n);
    if (end > this.buf.length) throw new Damaged();
    const s = this.buf.toString(wide ? 'utf16le' : 'latin1', this.pos, end);
    this.pos = end;
    return s;
  }

  text(): string {
    const s = this.str();
    if (s === null) throw new Damaged();
    return s;
  }

  params(): [string, string][] {
    const n = this.uint();
    const out: [string, string][] = [];
    for (let i = 0; i < n; i++) out.push([this.text(), this.text()]);
    return out;
  }
}

const writer = new Writer();

function writeAddresses(w: Writer, list: Address[] | null): void {
  if (list == null) {
    w.uint(0);
    return;
  }
  w.uint(list.length + 1);
  for (const a of list) {
    w.str(a.name);
    w.str(a.adl);
    w.str(a.mailbox);
    w.str(a.host);
  }
}

function readAddresses(r: Reader): Address[] | null {
  const n = r.uint();
  if (n === 0) return null;
  const out: Address[] = [];
  for (let i = 1; i < n; i++) out.push({ name: r.str(), adl: r.str(), mailbox: r.str(), host: r.str() });
  return out;
}

function writeEnvelope(w: Writer, e: Envelope): void {
  w.str(e.date);
  w.str(e.subject);
  writeAddresses(w, e.from);
  writeAddresses(w, e.sender);
  writeAddresses(w, e.replyTo);
  writeAddresses(w, e.to);
  writeAddresses(w, e.cc);
  writeAddresses(w, e.bcc);
  w.str(e.inReplyTo);
  w.str(e.messageId);
}

function readEnvelope(r: Reader): Envelope {
  return {
    date: r.str(), subject: r.str(), from: readAddresses(r), sender: readAddresses(r), replyTo: readAddresses(r),
    to: readAddresses(r), cc: readAddresses(r), bcc: readAddresses(r), inReplyTo: r.str(), messageId: r.str(),
  };
}

function writePart(w: Writer, p: BodyPart): void {
  w.str(p.type);
  w.str(p.subtype);
  w.params(p.params);
  w.str(p.id);
  w.str(p.description);
  w.str(p.encoding);
  w.uint(p.size);
  w.uint(p.lines);
  w.str(p.md5);
  const d = p.disposition;
  if (d == null) w.uint(0);
  else {
    w.uint(1);
    w.str(d.type);
    w.params(d.params);
  }
  if (p.language == null) w.uint(0);
  else {
    w.uint(p.language.length + 1);
    for (const l of p.language) w.str(l);
  }
  w.str(p.location);
  w.uint(p.headerStart);
  w.uint(p.bodyStart);
  w.uint(p.bodyEnd);
  if (p.parts == null) w.uint(0);
  else {
    w.uint(p.parts.length + 1);
    for (const child of p.parts) writePart(w, child);
  }
  if (p.message == null) w.uint(0);
  else {
    w.uint(1);
    writeEnvelope(w, p.message.envelope);
    writePart(w, p.message.body);
  }
}

function readPart(r: Reader): BodyPart {
  // As the parser gave them: null only where a parser given to the store left a field out.
  const type = r.str() as string;
  const subtype = r.str() as string;
  const params = r.params();
  const id = r.str();
  const description = r.str();
  const encoding = r.str() as string;
  const size = r.uint();
  const lines = r.uint();
  const md5 = r.str();
  const disposition = r.uint() === 0 ? null : { type: r.text(), params: r.params() };
  const languages = r.uint();
  let language: string[] | null = null;
  if (languages > 0) {
    language = [];
    for (let i = 1; i < languages; i++) language.push(r.text());
  }
  const part: BodyPart = {
    type, subtype, params, id, description, encoding, size, lines, md5, disposition, language,
    location: r.str(), headerStart: r.uint(), bodyStart: r.uint(), bodyEnd: r.uint(),
  };
  const children = r.uint();
  if (children > 0) {
    part.parts = [];
    for (let i = 1; i < children; i++) part.parts.push(readPart(r));
  }
  if (r.uint() !== 0) part.message = { envelope: readEnvelope(r), body: readPart(r) };
  return part;
}

export function encodeStructure(body: BodyPart): Buffer {
  writer.pos = 0; // from the start, even after an encoding that threw
  writePart(writer, body);
  return writer.take();
}

/** The structure of a record; undefined when the record is damaged. */
export function decodeStructure(payload: Buffer): BodyPart | undefined {
  try {
    const r = new Reader(payload, 0);
    const part = readPart(r);
    return r.pos === payload.length ? part : undefined;
  } catch (error) {
    if (error instanceof Damaged) return undefined;
    throw error;
  }
}

/** What a header record holds besides the decoded fields. */
export interface HeaderRest {
  envelope: Envelope;
  references: string[];
  sentDate: number | null;
}

/** Room kept before the decoded fields for their lengths line (five numbers of at most 10 digits). */
const LENGTHS_ROOM = 64;

/**
 * A header record: the lengths line "<n1> <n2> <n3> <n4> <n5>\n" and the decoded fields
 * one after the other (UTF-8), then the envelope, references and sent date.
 */
export function encodeHeaderRecord(decoded: readonly string[], rest: HeaderRest): Buffer {
  const w = writer;
  // The fields are written first, after room for the line that gives their lengths.
  w.pos = LENGTHS_ROOM;
  let lengths = '';
  for (const field of decoded) {
    w.room(3 * field.length);
    const n = w.buf.write(field, w.pos, 'utf8');
    w.pos += n;
    lengths += lengths === '' ? `${n}` : ` ${n}`;
  }
  lengths += '\n';
  const start = LENGTHS_ROOM - lengths.length;
  w.buf.write(lengths, start, 'latin1');
  writeEnvelope(w, rest.envelope);
  w.uint(rest.references.length);
  for (const ref of rest.references) w.str(ref);
  if (rest.sentDate === null) w.uint(0);
  else {
    w.uint(1);
    w.room(8);
    w.pos = w.buf.writeDoubleLE(rest.sentDate, w.pos);
  }
  return w.take(start);
}

/** The envelope, references and sent date of a header record from `start`; undefined when damaged. */
export function decodeHeaderRest(payload: Buffer, start: number): HeaderRest | undefined {
  try {
    const r = new Reader(payload, start);
    const envelope = readEnvelope(r);
    const references: string[] = [];
    for (let n = r.uint(); n > 0; n--) references.push(r.text());
    let sentDate: number | null = null;
    if (r.uint() !== 0) {
      if (r.pos + 8 > payload.length) return undefined;
      sentDate = payload.readDoubleLE(r.pos);
      r.pos += 8;
    }
    return r.pos === payload.length ? { envelope, references, sentDate } : undefined;
  } catch (error) {
    if (error instanceof Damaged) return undefined;
    throw error;
  }
}
