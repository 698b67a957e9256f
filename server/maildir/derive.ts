// What is computed from one message file: its sizes and date, header data, MIME structure,
// and the cache records made of them. The same code runs in the server thread and in the
// parse workers (parsepool.ts), so that both give the same bytes.

import { fstatSync, readSync } from 'node:fs';
import type { BodyPart, Envelope, HeaderMeta, MessageMeta } from '../mime/types.js';
import { crlfSize } from './filenames.js';
import { readFully } from './fsutil.js';
import type { StoredInfo } from './infocache.js';
import { encodeHeaderRecord, encodeStructure } from './records.js';

/** First read for header data; most headers are shorter. */
const HEADER_READ = 8 * 1024;
/** Files larger than this are counted in chunks when only their size is needed. */
export const WHOLE_READ_MAX = 4 * 1024 * 1024;
export const COUNT_CHUNK = 1024 * 1024;

export interface Parsers {
  parseMessage: (raw: Buffer) => MessageMeta;
  /** The structure alone (cheaper than parseMessage when the header data is known already). */
  parseStructure?: (raw: Buffer) => { size: number; body: BodyPart };
  /** Header data from the first bytes of a file (null: read more). Without it, header data
   * comes from parseMessage on the whole file. */
  parseHeader?: (raw: Buffer, complete: boolean) => HeaderMeta | null;
  /** The ENVELOPE as wire bytes for a client without UTF8=ACCEPT. */
  renderEnvelope: (envelope: Envelope) => Buffer;
}

/** Pieces of a message a read has to provide. */
export interface Needs {
  info: boolean;
  envelope: boolean;
  header: boolean;
  structure: boolean;
  raw: boolean;
}

export interface DeriveJob {
  needs: Needs;
  /** RFC822.SIZE from the file name (",W="), when it has one. */
  sizeFromName: number | undefined;
  /** The file's size from its name (",S="), when it has one: a whole message is then read
   * without asking the file system for its size first (the read checks the name). */
  fileSizeFromName?: number;
  /** Whether the message has a UID (records are made only then). */
  numbered: boolean;
  /** Which records the caches hold already. */
  hasHeader: boolean;
  hasEnvelope: boolean;
  hasStructure: boolean;
  /** Where a message asked for whole (`raw`) is read into; default a buffer of its own. */
  rawInto?: (size: number) => Buffer;
}

export interface Derived {
  stored?: StoredInfo;
  raw?: Buffer;
  header?: HeaderMeta;
  body?: BodyPart;
  /** Records to keep (only for numbered messages). */
  envelopeRecord?: Buffer;
  headerRecord?: Buffer;
  structureRecord?: Buffer;
}

/** Computes what a job asks for from an open message file; keeps a scratch buffer between calls. */
export class Deriver {
  private scratch: Buffer | undefined;

  constructor(private readonly parsers: Parsers) {}

  derive(fd: number, job: DeriveJob): Derived {
    const { needs, sizeFromName } = job;
    const { parseHeader, parseStructure } = this.parsers;
    const wantsHeader = needs.envelope || needs.header;
    const whole = needs.raw || needs.structure || (wantsHeader && !parseHeader);
    // A message asked for whole with its size in the name needs no fstat (one system call of
    // the three or four per message of a FETCH of bodies).
    const named = needs.raw && !needs.info ? job.fileSizeFromName : undefined;
    let raw = named === undefined ? undefined : readNamed(fd, named, job.rawInto);
    let stat = needs.info || (whole && !raw) ? fstatSync(fd) : undefined;
    if (!raw && (whole || (needs.info && sizeFromName === undefined && stat!.size <= WHOLE_READ_MAX))) {
      // A message that is only parsed or counted is read into a buffer kept for that: reading
      // a mailbox would otherwise leave its whole size behind as garbage.
      raw = needs.raw ? readWhole(fd, stat!.size, job.rawInto) : this.readScratch(fd, stat!.size);
    }

    let header: HeaderMeta | undefined;
    let body: BodyPart | undefined;
    let parsedSize: number | undefined;
    // The whole file is in memory for RFC822.SIZE anyway: the structure costs little more than
    // the size count it replaces, and a later BODYSTRUCTURE or BODY[n] then reads no file.
    const structureToo = raw !== undefined && wantsHeader && parseStructure !== undefined && job.numbered && !job.hasStructure;
    if (needs.structure && parseStructure && !wantsHeader && job.hasHeader && job.hasEnvelope) {
      ({ size: parsedSize, body } = parseStructure(raw!)); // the header data is cached already
    } else if (needs.structure || structureToo || (wantsHeader && !parseHeader)) {
      const meta = this.parsers.parseMessage(raw!);
      body = meta.body;
      header = meta;
      parsedSize = meta.size;
    } else if (wantsHeader) {
      if (!raw) {
        // The header alone, from the first bytes of the file; the whole file if it is longer.
        const prefix = this.scratchOf(HEADER_READ).subarray(0, HEADER_READ);
        const got = readFully(fd, prefix, 0);
        header = parseHeader!(prefix.subarray(0, got), got < prefix.length) ?? undefined;
        if (!header) {
          stat ??= fstatSync(fd);
          raw = this.readScratch(fd, stat.size);
        }
      }
      header ??= parseHeader!(raw!, true) ?? undefined;
    }

    const out: Derived = { header, body };
    if (needs.info) {
      const size = sizeFromName ?? parsedSize ?? (raw ? crlfSize(raw) : this.countCrlfSize(fd));
      out.stored = { size, internalDate: Math.floor(stat!.mtimeMs), fileSize: stat!.size };
    }
    if (needs.raw) out.raw = raw;
    if (!job.numbered) return out; // not a numbered message: nothing to record
    if (body && (needs.structure || !job.hasStructure)) out.structureRecord = encodeStructure(body);
    if (header) {
      // Parsed anyway: keep both header records, whichever was asked for.
      if (needs.envelope || !job.hasEnvelope) out.envelopeRecord = this.parsers.renderEnvelope(header.envelope);
      if (needs.header || !job.hasHeader) out.headerRecord = encodeHeader(header);
    }
    return out;
  }

  /** A buffer of at least `size` bytes for reading messages that are not handed out. */
  private scratchOf(size: number): Buffer {
    if (!this.scratch || this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, HEADER_READ, (this.scratch?.length ?? 0) * 2));
    return this.scratch;
  }

  /** The whole file in the scratch buffer (valid until the next read), or in its own buffer when it is large. */
  private readScratch(fd: number, size: number): Buffer {
    if (size > WHOLE_READ_MAX) return readWhole(fd, size);
    const buffer = this.scratchOf(size);
    return buffer.subarray(0, readFully(fd, buffer.subarray(0, size), 0));
  }

  /** RFC822.SIZE of a large file, read in chunks. */
  private countCrlfSize(fd: number): number {
    const chunk = this.scratchOf(COUNT_CHUNK).subarray(0, COUNT_CHUNK);
    let size = 0;
    let position = 0;
    let previous = -1;
    for (;;) {
      const got = readSync(fd, chunk, 0, chunk.length, position);
      if (got === 0) break;
      position += got;
      size += got;
      let index = chunk.indexOf(10);
      while (index >= 0 && index < got) {
        const before = index === 0 ? previous : chunk[index - 1];
        if (before !== 13) size += 1;
        index = chunk.indexOf(10, index + 1);
      }
      previous = chunk[got - 1];
    }
    return size;
  }
}

/**
 * The whole file when it has the size its name gives, else undefined (the caller asks fstat).
 * One read of one byte more than that: a regular file's read comes back short only at its
 * end, so exactly `size` bytes is the whole file, and a byte more or less is a name that is
 * wrong (a file rewritten by some program, or a name made up by hand).
 */
function readNamed(fd: number, size: number, into?: (size: number) => Buffer): Buffer | undefined {
  if (size >= WHOLE_READ_MAX) return undefined; // one read of a large file could come back short
  const buffer = into ? into(size + 1) : Buffer.allocUnsafe(size + 1);
  const got = readSync(fd, buffer, 0, size + 1, 0);
  return got === size ? buffer.subarray(0, size) : undefined;
}

/** The whole file (its size as fstat saw it; it does not change in a Maildir). */
function readWhole(fd: number, size: number, into?: (size: number) => Buffer): Buffer {
  const buffer = into ? into(size) : Buffer.allocUnsafe(size);
  const got = readFully(fd, buffer, 0);
  return got === size ? buffer : buffer.subarray(0, got);
}

// Header records: "<n1> <n2> <n3> <n4> <n5>\n" (UTF-8 lengths), then the five decoded fields
// one after the other (subject, from, to, cc, bcc), then the rest in binary (records.ts). A
// SEARCH FROM over 100,000 messages decodes one short string per message and nothing else.

export function encodeHeader(header: HeaderMeta): Buffer {
  const { subject, from, to, cc, bcc } = header.decoded;
  return encodeHeaderRecord([subject, from, to, cc, bcc], header);
}
