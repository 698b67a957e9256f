// What a folder knows about the contents of its messages, and how it learns it.
//
// Four caches per folder, each filled only when something asks for it:
//   imapd-ts.sizes       RFC822.SIZE, INTERNALDATE and file size (infocache.ts)
//   imapd-ts.envelopes   the ENVELOPE as sent to clients without UTF8=ACCEPT
//   imapd-ts.headers     header data: decoded fields for SEARCH, SORT and THREAD, the envelope
//   imapd-ts.structure   the MIME structure (BODYSTRUCTURE, BODY[section], SEARCH BODY/TEXT)
// (the last three are record logs, see recordlog.ts).
//
// What the caches lack is computed from the message file, which is read once per message
// and only as far as needed: the header alone (the first few KB) for ENVELOPE and header
// data, the whole file for RFC822.SIZE (its bare LFs are counted) and the structure.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { DataRequest, MessageData } from '../backend/mailstore.js';
import type { Address, BodyPart, Envelope, HeaderMeta, MessageMeta } from '../mime/types.js';
import { crlfSize, crlfSizeFromName } from './filenames.js';
import { Budget, errorCode } from './fsutil.js';
import { InfoCache, type StoredInfo } from './infocache.js';
import { MemoryRecords, RecordLog, type RecordKey, type RecordStore } from './recordlog.js';

export const ENVELOPE_CACHE_FILE = 'imapd-ts.envelopes';
export const HEADER_CACHE_FILE = 'imapd-ts.headers';
export const STRUCTURE_CACHE_FILE = 'imapd-ts.structure';
/** The JSON-lines cache of earlier versions: removed when found. */
export const OLD_META_CACHE_FILE = 'imapd-ts.meta';

/** First read for header data; most headers are shorter. */
const HEADER_READ = 8 * 1024;
/** Files larger than this are counted in chunks when only their size is needed. */
export const WHOLE_READ_MAX = 4 * 1024 * 1024;
export const COUNT_CHUNK = 1024 * 1024;

export interface MessageCacheOptions {
  parseMessage: (raw: Buffer) => MessageMeta;
  /** The structure alone (cheaper than parseMessage when the header data is known already). */
  parseStructure?: (raw: Buffer) => { size: number; body: BodyPart };
  /** Header data from the first bytes of a file (null: read more). Without it, header data
   * comes from parseMessage on the whole file. */
  parseHeader?: (raw: Buffer, complete: boolean) => HeaderMeta | null;
  /** The ENVELOPE as wire bytes for a client without UTF8=ACCEPT. */
  renderEnvelope: (envelope: Envelope) => Buffer;
  /** Names what computes the records (parser and renderer); without it nothing is written to disk. */
  version?: string;
  /** Records kept per cache when they cannot be kept on disk. */
  memoryEntries: number;
}

/** A message as the cache needs it; its `stored` is filled in when learnt. */
export interface CachedMessage {
  uid: number;
  base: string;
  /** Current name in cur/. */
  fileName: string;
  stored?: StoredInfo;
}

export interface CacheResult {
  /** null where the file was not found. */
  data: (MessageData | null)[];
  /** Indexes of the messages whose file was not found (renamed or removed by someone else). */
  missing: number[];
}

/** Pieces of a message a read has to provide. */
interface Needs {
  info: boolean;
  envelope: boolean;
  header: boolean;
  structure: boolean;
  raw: boolean;
}

export class MessageCache {
  readonly info: InfoCache;
  private readonly envelopes: RecordStore;
  private readonly headers: RecordStore;
  private readonly structures: RecordStore;
  private scratch: Buffer | undefined;
  private checked = 0;

  constructor(
    private readonly dir: string,
    private readonly options: MessageCacheOptions,
  ) {
    this.info = new InfoCache(dir);
    const log = (file: string, kind: string): RecordStore =>
      options.version === undefined
        ? new MemoryRecords(options.memoryEntries)
        : new RecordLog(path.join(dir, file), path.join(dir, 'tmp'), kind, options.version);
    this.envelopes = log(ENVELOPE_CACHE_FILE, 'envelopes');
    this.headers = log(HEADER_CACHE_FILE, 'headers-2'); // -2: the envelope as arrays
    this.structures = log(STRUCTURE_CACHE_FILE, 'structure');
  }

  /** What `request` asks for, for each message. Synchronous reads, in slices (see recordlog.ts). */
  async get(messages: readonly CachedMessage[], request: DataRequest): Promise<CacheResult> {
    this.checkFiles();
    const keys: RecordKey[] = messages.map((m) => ({ uid: m.uid, base: m.base }));
    const envelopes = request.envelope ? this.envelopes.read(keys) : undefined;
    const headers = request.header ? this.headers.read(keys) : undefined;
    const structures = request.structure ? this.structures.read(keys) : undefined;
    const data = new Array<MessageData | null>(messages.length);
    const missing: number[] = [];
    const budget = new Budget();
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      const item: MessageData = {};
      if (request.info) {
        message.stored ??= this.info.get(message.base);
        if (message.stored) {
          item.size = message.stored.size;
          item.internalDate = message.stored.internalDate;
        }
      }
      if (envelopes?.[i]) item.envelope = envelopes[i];
      if (headers?.[i]) item.header = new StoredHeader(headers[i]!);
      if (structures?.[i]) item.structure = decodeStructure(structures[i]!);
      const needs: Needs = {
        info: request.info === true && message.stored === undefined,
        envelope: request.envelope === true && item.envelope === undefined,
        header: request.header === true && item.header === undefined,
        structure: request.structure === true && item.structure === undefined,
        raw: request.raw === true,
      };
      if (needs.info || needs.envelope || needs.header || needs.structure || needs.raw) {
        if (budget.due()) await budget.pause();
        if (!this.readMessage(message, needs, item)) {
          data[i] = null;
          missing.push(i);
          continue;
        }
      }
      data[i] = item;
    }
    this.flush();
    return { data, missing };
  }

  /** RFC822.SIZE and INTERNALDATE of a file that is not (yet) a numbered message (STATUS counts new/). */
  measure(base: string, file: string): StoredInfo | null {
    const known = this.info.get(base);
    if (known) return known;
    const item: MessageData = {};
    const message: CachedMessage = { uid: 0, base, fileName: '' };
    if (!this.readFile(file, message, { info: true, envelope: false, header: false, structure: false, raw: false }, item)) return null;
    return message.stored ?? null;
  }

  /** Writes what was learnt (records are appended; sizes by save()). */
  flush(): void {
    this.envelopes.flush();
    this.headers.flush();
    this.structures.flush();
  }

  /** Writes the caches; with `live` (after messages went) the records of the others are dropped first. */
  async save(live?: { uids: ReadonlyMap<number, string>; bases: ReadonlySet<string> }): Promise<void> {
    for (const store of [this.envelopes, this.headers, this.structures]) {
      if (live) store.prune(live.uids);
      else store.flush();
    }
    await this.info.save(live?.bases);
  }

  close(): void {
    for (const store of [this.envelopes, this.headers, this.structures]) store.close();
  }

  /** Another process rewrote a cache file: read the new one (looked at once a second at most;
   * until then the old file, still open, serves as well). */
  private checkFiles(): void {
    const now = Date.now();
    if (now - this.checked < 1000) return;
    this.checked = now;
    for (const store of [this.envelopes, this.headers, this.structures]) if (!store.isCurrent()) store.close();
  }

  /** Reads what `needs` asks for from the message's file into `item`; false when there is no such file. */
  private readMessage(message: CachedMessage, needs: Needs, item: MessageData): boolean {
    return this.readFile(path.join(this.dir, 'cur', message.fileName), message, needs, item);
  }

  private readFile(file: string, message: CachedMessage, needs: Needs, item: MessageData): boolean {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw error;
    }
    try {
      this.derive(fd, message, needs, item);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  private derive(fd: number, message: CachedMessage, needs: Needs, item: MessageData): void {
    const { uid, base } = message;
    const parseHeader = this.options.parseHeader;
    const sizeFromName = crlfSizeFromName(base);
    const wantsHeader = needs.envelope || needs.header;
    const whole = needs.raw || needs.structure || (wantsHeader && !parseHeader);
    let stat = needs.info || whole ? fstatSync(fd) : undefined;
    let raw: Buffer | undefined;
    if (whole || (needs.info && sizeFromName === undefined && stat!.size <= WHOLE_READ_MAX)) {
      // A message that is only parsed or counted is read into a buffer kept for that: reading
      // a mailbox would otherwise leave its whole size behind as garbage.
      raw = needs.raw ? readWhole(fd, stat!.size) : this.readScratch(fd, stat!.size);
    }

    let header: HeaderMeta | undefined;
    let body: BodyPart | undefined;
    const parseStructure = this.options.parseStructure;
    if (needs.structure && parseStructure && !wantsHeader && this.headers.has(uid) && this.envelopes.has(uid)) {
      body = parseStructure(raw!).body; // the header data is cached already
    } else if (needs.structure || (wantsHeader && !parseHeader)) {
      const meta = this.options.parseMessage(raw!);
      body = meta.body;
      header = meta;
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

    if (needs.info) {
      const size = sizeFromName ?? (raw ? crlfSize(raw) : this.countCrlfSize(fd));
      message.stored = { size, internalDate: Math.floor(stat!.mtimeMs), fileSize: stat!.size };
      this.info.remember(base, message.stored);
      item.size = size;
      item.internalDate = message.stored.internalDate;
    }
    if (needs.raw) item.raw = raw;
    if (uid === 0) return; // not a numbered message: nothing to record
    if (body && needs.structure) {
      item.structure = body;
      this.structures.add(uid, base, Buffer.from(JSON.stringify(body), 'utf8'));
    }
    if (header) {
      // Parsed anyway: keep both header records, whichever was asked for.
      if (needs.header) item.header = header;
      if (needs.envelope || !this.envelopes.has(uid)) {
        const wire = this.options.renderEnvelope(header.envelope);
        if (needs.envelope) item.envelope = wire;
        this.envelopes.add(uid, base, wire);
      }
      if (needs.header || !this.headers.has(uid)) this.headers.add(uid, base, encodeHeader(header));
    }
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

/** Reads from `position` until `buffer` is full or the file ends; the number of bytes read. */
function readFully(fd: number, buffer: Buffer, position: number): number {
  let got = 0;
  while (got < buffer.length) {
    const n = readSync(fd, buffer, got, buffer.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** The whole file (its size as fstat saw it; it does not change in a Maildir). */
function readWhole(fd: number, size: number): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  const got = readFully(fd, buffer, 0);
  return got === size ? buffer : buffer.subarray(0, got);
}

function decodeStructure(payload: Buffer): BodyPart | undefined {
  try {
    return JSON.parse(payload.toString('utf8')) as BodyPart;
  } catch {
    return undefined;
  }
}

// Header records: "<n1> <n2> <n3> <n4> <n5>\n" (UTF-8 lengths), then the five decoded fields
// one after the other (subject, from, to, cc, bcc), then the rest as JSON. A SEARCH FROM over
// 100,000 messages decodes one short string per message and never parses the JSON.

function encodeHeader(header: HeaderMeta): Buffer {
  const { subject, from, to, cc, bcc } = header.decoded;
  const rest = JSON.stringify([envelopeArray(header.envelope), header.references, header.sentDate]);
  const lengths = `${Buffer.byteLength(subject)} ${Buffer.byteLength(from)} ${Buffer.byteLength(to)} ${Buffer.byteLength(cc)} ${Buffer.byteLength(bcc)}`;
  return Buffer.from(`${lengths}\n${subject}${from}${to}${cc}${bcc}${rest}`, 'utf8');
}

type AddressArray = [string | null, string | null, string | null, string | null][] | null;
type EnvelopeArray = [string | null, string | null, AddressArray, AddressArray, AddressArray, AddressArray, AddressArray, AddressArray, string | null, string | null];

/** The envelope as nested arrays: a third smaller in JSON than the object, and quicker to write. */
function envelopeArray(e: Envelope): EnvelopeArray {
  const list = (l: Address[] | null): AddressArray => (l === null ? null : l.map((a) => [a.name, a.adl, a.mailbox, a.host]));
  return [e.date, e.subject, list(e.from), list(e.sender), list(e.replyTo), list(e.to), list(e.cc), list(e.bcc), e.inReplyTo, e.messageId];
}

function envelopeOf(a: EnvelopeArray): Envelope {
  const list = (l: AddressArray): Address[] | null => (l === null ? null : l.map(([name, adl, mailbox, host]) => ({ name, adl, mailbox, host })));
  return {
    date: a[0], subject: a[1], from: list(a[2]), sender: list(a[3]), replyTo: list(a[4]),
    to: list(a[5]), cc: list(a[6]), bcc: list(a[7]), inReplyTo: a[8], messageId: a[9],
  };
}

interface HeaderRest {
  e: Envelope;
  r: string[];
  s: number | null;
}

/** Where the fields of a header record are: [start of subject, start of from, ..., end of bcc]; null when damaged. */
function fieldOffsets(payload: Buffer): number[] | null {
  const offsets = [0];
  let value = 0;
  let digits = 0;
  let pos = 0;
  for (; pos < payload.length && pos < 64; pos++) {
    const c = payload[pos];
    if (c >= 48 && c <= 57) {
      value = value * 10 + c - 48;
      digits++;
    } else if ((c === 32 || c === 10) && digits > 0) {
      offsets.push(offsets[offsets.length - 1] + value);
      value = 0;
      digits = 0;
      if (c === 10) break;
    } else {
      return null;
    }
  }
  if (offsets.length !== 6 || pos >= payload.length) return null;
  const start = pos + 1;
  for (let i = 0; i < offsets.length; i++) offsets[i] += start;
  return offsets[5] <= payload.length ? offsets : null;
}

const NO_OFFSETS = [0, 0, 0, 0, 0, 0];
const EMPTY = Buffer.alloc(0);

/** HeaderMeta over a header record, decoding each part when it is first used. */
class StoredHeader implements HeaderMeta {
  private fields: StoredDecoded | undefined;
  private rest: HeaderRest | undefined;
  private offsets: number[] | undefined;

  constructor(private readonly payload: Buffer) {}

  private where(): number[] {
    this.offsets ??= fieldOffsets(this.payload) ?? NO_OFFSETS;
    return this.offsets;
  }

  get decoded(): HeaderMeta['decoded'] {
    if (!this.fields) {
      const offsets = this.where();
      this.fields = new StoredDecoded(offsets === NO_OFFSETS ? EMPTY : this.payload, offsets);
    }
    return this.fields;
  }

  get envelope(): Envelope {
    return this.parsed().e;
  }

  get references(): string[] {
    return this.parsed().r;
  }

  get sentDate(): number | null {
    return this.parsed().s;
  }

  private parsed(): HeaderRest {
    if (!this.rest) {
      try {
        const offsets = this.where();
        if (offsets === NO_OFFSETS) throw new Error('damaged header record');
        const [envelope, references, sentDate] = JSON.parse(this.payload.toString('utf8', offsets[5])) as [EnvelopeArray, string[], number | null];
        this.rest = { e: envelopeOf(envelope), r: references, s: sentDate };
      } catch {
        this.rest = {
          e: { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null },
          r: [],
          s: null,
        };
      }
    }
    return this.rest;
  }
}

/** The decoded fields of a header record, each decoded when it is first used. */
class StoredDecoded {
  private readonly cache: (string | undefined)[] = [];

  constructor(
    private readonly payload: Buffer,
    private readonly offsets: number[],
  ) {}

  private field(i: number): string {
    return (this.cache[i] ??= this.payload.toString('utf8', this.offsets[i], this.offsets[i + 1]));
  }

  get subject(): string {
    return this.field(0);
  }

  get from(): string {
    return this.field(1);
  }

  get to(): string {
    return this.field(2);
  }

  get cc(): string {
    return this.field(3);
  }

  get bcc(): string {
    return this.field(4);
  }
}
