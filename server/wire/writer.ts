// Response writer: ImapValue -> wire bytes (RFC 3501 section 4 data formats).
//
// Strings are never written as atoms (only { atom } is verbatim): a string goes out
// quoted when it is short and holds only 7-bit characters other than NUL, CR and LF
// (with UTF8=ACCEPT enabled, valid UTF-8 may be quoted too), otherwise as a literal.
//
// Speed: text is collected in one JS string (V8 ropes make appending cheap) and turned
// into bytes once; binary literals are kept as separate chunks and joined with a single
// Buffer.concat, so a FETCH of 100,000 envelopes does no per-character work.

import { isUtf8 } from 'node:buffer';
import type { ImapValue } from './value.js';

export interface WriteOptions {
  /** UTF8=ACCEPT is enabled: quoted strings may carry UTF-8 (RFC 6855). */
  utf8?: boolean;
}

/** Longest string (in octets) sent as a quoted string; longer ones become literals. */
export const MAX_QUOTED = 1000;

/** Characters that force a literal in 7-bit mode: NUL, CR, LF, 8-bit. */
const NEEDS_LITERAL_7BIT = /[\x00\r\n\x80-\uffff]/;
/** In UTF8=ACCEPT mode: NUL, CR, LF, and lone surrogates (not valid UTF-8). */
const NEEDS_LITERAL_UTF8 = /[\x00\r\n]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const QUOTED_SPECIALS = /[\\"]/;
const LINE_BREAK = /[\r\n]/;
/** Anything but plain printable-ish 7-bit: the common case is tested with this one regex. */
const NOT_PLAIN = /[^\x01-\x09\x0b\x0c\x0e-\x21\x23-\x5b\x5d-\x7f]/;
const QUOTED_SPECIALS_ALL = /[\\"]/g;
const NOT_ASCII = /[^\x00-\x7f]/;

/** Accumulates one response: text in a string, binary literal data in chunks. */
export class Encoder {
  private text = '';
  private readonly chunks: Buffer[] = [];
  private readonly utf8: boolean;

  constructor(options: WriteOptions = {}) {
    this.utf8 = options.utf8 === true;
  }

  /** Verbatim text (must not contain CR/LF unless it is a complete line end the caller wants). */
  raw(text: string): this {
    this.text += text;
    return this;
  }

  /** Raw bytes (e.g. message data already framed by the caller). */
  bytes(data: Buffer): this {
    this.flush();
    this.chunks.push(data);
    return this;
  }

  value(v: ImapValue): this {
    if (typeof v === 'string') this.string(v);
    else if (v === null) this.text += 'NIL';
    else if (typeof v === 'number') this.number(v);
    else if (Buffer.isBuffer(v)) this.buffer(v);
    else if (Array.isArray(v)) this.list(v);
    else if ('atom' in v) this.atom(v.atom);
    else if ('adjacent' in v) for (const item of v.adjacent) this.value(item);
    else this.literal(v.literal);
    return this;
  }

  /** Values separated by spaces (a response line's items). */
  values(vs: readonly ImapValue[]): this {
    for (let i = 0; i < vs.length; i++) {
      if (i > 0) this.text += ' ';
      this.value(vs[i]);
    }
    return this;
  }

  list(vs: readonly ImapValue[]): this {
    this.text += '(';
    this.values(vs);
    this.text += ')';
    return this;
  }

  /** Verbatim; a CR or LF would let data (a keyword read from disk...) end the line. */
  atom(a: string): this {
    if (LINE_BREAK.test(a)) throw new RangeError(`An atom cannot contain CR or LF: ${JSON.stringify(a.slice(0, 40))}`);
    this.text += a;
    return this;
  }

  number(n: number): this {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`IMAP numbers are non-negative integers, got ${n}`);
    this.text += n;
    return this;
  }

  string(s: string): this {
    if (s.length < MAX_QUOTED && !NOT_PLAIN.test(s)) {
      this.text += '"' + s + '"';
      return this;
    }
    const tooLong = s.length >= MAX_QUOTED || (s.length * 3 >= MAX_QUOTED && Buffer.byteLength(s) >= MAX_QUOTED);
    if (tooLong || (this.utf8 ? NEEDS_LITERAL_UTF8 : NEEDS_LITERAL_7BIT).test(s)) {
      this.text += `{${Buffer.byteLength(s)}}\r\n`;
      this.text += s;
      return this;
    }
    this.text += QUOTED_SPECIALS.test(s) ? `"${s.replace(QUOTED_SPECIALS_ALL, '\\$&')}"` : `"${s}"`;
    return this;
  }

  buffer(b: Buffer): this {
    if (b.length >= MAX_QUOTED) return this.literal(b);
    let eightBit = false;
    for (let i = 0; i < b.length; i++) {
      const c = b[i];
      if (c === 0 || c === 0x0d || c === 0x0a) return this.literal(b);
      if (c >= 0x80) eightBit = true;
    }
    if (eightBit && !(this.utf8 && isUtf8(b))) return this.literal(b);
    const s = eightBit ? b.toString('utf8') : b.toString('latin1');
    this.text += QUOTED_SPECIALS.test(s) ? `"${s.replace(QUOTED_SPECIALS_ALL, '\\$&')}"` : `"${s}"`;
    return this;
  }

  literal(data: Buffer): this {
    this.text += `{${data.length}}\r\n`;
    this.flush();
    this.chunks.push(data);
    return this;
  }

  private flush(): void {
    if (this.text.length > 0) {
      this.chunks.push(Buffer.from(this.text, 'utf8'));
      this.text = '';
    }
  }

  /**
   * The text written so far, taken, when that is all there is and it is ASCII (a caller
   * copies it into its own buffer without a Buffer of its own); else null and nothing taken.
   */
  takeAscii(): string | null {
    if (this.chunks.length > 0 || NOT_ASCII.test(this.text)) return null;
    const text = this.text;
    this.text = '';
    return text;
  }

  /** The bytes written so far (the encoder can be reused afterwards). */
  finish(): Buffer {
    if (this.chunks.length === 0) {
      const out = Buffer.from(this.text, 'utf8');
      this.text = '';
      return out;
    }
    this.flush();
    const out = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks.length = 0;
    return out;
  }
}

/** One value as wire bytes (a list gets its parentheses; no line end). */
export function serialize(value: ImapValue, options?: WriteOptions): Buffer {
  return new Encoder(options).value(value).finish();
}

/** Values separated by spaces, no line end. */
export function serializeValues(values: readonly ImapValue[], options?: WriteOptions): Buffer {
  return new Encoder(options).values(values).finish();
}

/** Response text: CR, LF and NUL would end or corrupt the line. */
function cleanText(text: string): string {
  return /[\r\n\x00]/.test(text) ? text.replace(/[\r\n\x00]+/g, ' ') : text;
}

export type StatusWord = 'OK' | 'NO' | 'BAD' | 'BYE' | 'PREAUTH';

/** A response code: verbatim text ("UIDVALIDITY 3") or values ([{atom:'PERMANENTFLAGS'}, [...]]). */
export type ResponseCode = string | readonly ImapValue[];

function statusLine(prefix: string, status: StatusWord, text: string, code: ResponseCode | undefined, options?: WriteOptions): Buffer {
  const enc = new Encoder(options).raw(`${prefix} ${status} `);
  if (code !== undefined) {
    enc.raw('[');
    if (typeof code === 'string') enc.raw(cleanText(code));
    else enc.values(code);
    enc.raw('] ');
  }
  return enc.raw(`${cleanText(text)}\r\n`).finish();
}

/** "* 5 FETCH (...)\r\n" from [5, {atom:'FETCH'}, [...]]: values joined by spaces. */
export function untagged(values: readonly ImapValue[], options?: WriteOptions): Buffer {
  return new Encoder(options).raw('* ').values(values).raw('\r\n').finish();
}

/** "* OK [code] text\r\n" */
export function untaggedStatus(status: StatusWord, text: string, code?: ResponseCode, options?: WriteOptions): Buffer {
  return statusLine('*', status, text, code, options);
}

/** "<tag> OK [code] text\r\n" */
export function tagged(tag: string, status: 'OK' | 'NO' | 'BAD', text: string, code?: ResponseCode, options?: WriteOptions): Buffer {
  return statusLine(tag, status, text, code, options);
}

/** "+ text\r\n" (continuation request). */
export function continuation(text = 'Ready for literal data'): Buffer {
  return Buffer.from(`+ ${cleanText(text)}\r\n`, 'utf8');
}

/** "* <seq> FETCH (NAME value NAME value)\r\n" from [name, value] pairs. */
export function fetchResponse(seq: number, items: ReadonlyArray<readonly [string, ImapValue]>, options?: WriteOptions): Buffer {
  const enc = new Encoder(options).raw(`* ${seq} FETCH (`);
  for (let i = 0; i < items.length; i++) {
    if (i > 0) enc.raw(' ');
    enc.raw(items[i][0]).raw(' ').value(items[i][1]);
  }
  return enc.raw(')\r\n').finish();
}
