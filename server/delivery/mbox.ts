// Reading an mbox file message by message, streaming (a file of gigabytes is never held in
// memory; one message is). A message starts with a "From " line at the start of the file or
// after an empty line; the empty line before the next "From " belongs to the format, not to the
// message. Quoting: mboxrd (">From ", ">>From ", ... each lose one ">") or mboxo (only ">From "
// loses its ">"; mboxo's quoting cannot be undone exactly, this is what mail readers do).
// Line ends are kept as they are in the file.

import { createReadStream } from 'node:fs';

export type MboxFormat = 'mboxrd' | 'mboxo';

export interface MboxMessage {
  /** 0, 1, 2, ... in file order. */
  index: number;
  /** The "From " line without "From " and the line end: "sender date". */
  fromLine: string;
  /** Octet offset of the "From " line in the file. */
  offset: number;
  /** Octet offset just past the message (with its separator line). */
  end: number;
  raw: Buffer;
}

const FROM = Buffer.from('From ');
/** A "From " line longer than this is not a separator (it would be message text). */
const MAX_FROM_LINE = 4096;

function isQuotedFrom(line: Buffer, format: MboxFormat): boolean {
  let i = 0;
  while (i < line.length && line[i] === 0x3e) i++; // '>'
  if (i === 0 || (format === 'mboxo' && i !== 1)) return false;
  return line.subarray(i, i + 5).equals(FROM);
}

function isBlank(line: Buffer): boolean {
  return line.length === 0 || (line.length === 1 && line[0] === 10) || (line.length === 2 && line[0] === 13 && line[1] === 10);
}

/** The messages of an mbox file, in order. Text before the first "From " line is skipped. */
export async function* readMbox(file: string, format: MboxFormat = 'mboxrd'): AsyncGenerator<MboxMessage> {
  let current: { fromLine: string; offset: number; lines: Buffer[] } | null = null;
  let pendingBlank: Buffer | null = null;
  let previousBlank = true;
  let index = 0;
  let position = 0;
  let carry: Buffer = Buffer.alloc(0);

  const finish = (end: number): MboxMessage | null => {
    if (!current) return null;
    const message = { index: index++, fromLine: current.fromLine, offset: current.offset, end, raw: Buffer.concat(current.lines) };
    current = null;
    return message;
  };

  const onLine = (line: Buffer, lineStart: number): MboxMessage | null => {
    let done: MboxMessage | null = null;
    if (previousBlank && line.subarray(0, 5).equals(FROM) && line.length <= MAX_FROM_LINE) {
      done = finish(lineStart);
      pendingBlank = null;
      current = { fromLine: line.toString('utf8', 5).replace(/\r?\n$/, ''), offset: lineStart, lines: [] };
      previousBlank = false;
      return done;
    }
    if (current) {
      // A blank line is held back: it is the separator if a "From " line follows.
      if (pendingBlank) current.lines.push(pendingBlank);
      pendingBlank = null;
      if (isBlank(line)) pendingBlank = line;
      else current.lines.push(isQuotedFrom(line, format) ? line.subarray(1) : line);
    }
    previousBlank = isBlank(line);
    return done;
  };

  for await (const piece of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    const chunk: Buffer = carry.length ? Buffer.concat([carry, piece as Buffer]) : (piece as Buffer);
    let start = 0;
    for (let lf = chunk.indexOf(10); lf >= 0; lf = chunk.indexOf(10, start)) {
      // A copy: the chunk's memory is not kept alive by the message's lines.
      const message = onLine(Buffer.from(chunk.subarray(start, lf + 1)), position + start);
      if (message) yield message;
      start = lf + 1;
    }
    position += start;
    carry = Buffer.from(chunk.subarray(start));
  }
  if (carry.length) {
    const message = onLine(carry, position);
    if (message) yield message;
    position += carry.length;
  }
  // The file's last message: a final blank line is the format's, as before a "From " line.
  const last = finish(position);
  if (last) yield last;
}

/** System flags from the Status and X-Status headers that mail readers write into mbox files. */
export function mboxFlags(raw: Buffer): string[] {
  const headerEnd = raw.indexOf('\n\n') >= 0 ? raw.indexOf('\n\n') : raw.indexOf('\r\n\r\n');
  const head = raw.toString('latin1', 0, headerEnd >= 0 ? headerEnd : Math.min(raw.length, 64 * 1024));
  const status = /^Status:[ \t]*([A-Z]*)/im.exec(head)?.[1] ?? '';
  const xStatus = /^X-Status:[ \t]*([A-Z$]*)/im.exec(head)?.[1] ?? '';
  const flags: string[] = [];
  if (status.includes('R')) flags.push('\\Seen');
  if (xStatus.includes('A')) flags.push('\\Answered');
  if (xStatus.includes('F')) flags.push('\\Flagged');
  if (xStatus.includes('T')) flags.push('\\Draft');
  if (xStatus.includes('D')) flags.push('\\Deleted');
  return flags;
}

/** The date of a "From sender date" line (asctime form), or undefined. */
export function fromLineDate(fromLine: string): number | undefined {
  const m = /\s(\w{3}\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?\s+(?:[A-Z]{3,4}\s+)?\d{4})\s*$/.exec(fromLine);
  if (!m) return undefined;
  const t = Date.parse(m[1]!.replace(/\s+/g, ' ') + (/[A-Z]{3,4}\s+\d{4}$/.test(m[1]!) ? '' : ' UTC'));
  return Number.isFinite(t) ? t : undefined;
}
