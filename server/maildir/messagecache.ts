// What a folder knows about the contents of its messages, and how it learns it.
//
// Four caches per folder, each filled only when something asks for it:
//   imapd-ts.sizes       RFC822.SIZE, INTERNALDATE and file size (infocache.ts)
//   imapd-ts.envelopes   the ENVELOPE as sent to clients without UTF8=ACCEPT
//   imapd-ts.headers     header data: decoded fields for SEARCH, SORT and THREAD, the envelope
//   imapd-ts.structure   the MIME structure (BODYSTRUCTURE, BODY[section], SEARCH BODY/TEXT)
// (the last three are record logs, see recordlog.ts).
//
// What the caches lack is computed from the message file (derive.ts), which is read once per
// message and only as far as needed: the header alone (the first few KB) for ENVELOPE and
// header data, the whole file for RFC822.SIZE (its bare LFs are counted) and the structure.
// A file read whole for header data gives its structure too, so that the first FETCH of a
// folder leaves nothing for a later BODYSTRUCTURE to read. With parse workers (parsepool.ts),
// most of a batch's unknown files are read by them.

import { closeSync, openSync } from 'node:fs';
import { MESSAGE_READ_FLAGS, noMessageFile } from './folderdir.js';
import path from 'node:path';
import type { DataRequest, MessageData } from '../backend/mailstore.js';
import type { Envelope, HeaderMeta } from '../mime/types.js';
import { Deriver, type Needs, type Parsers } from './derive.js';
import { decodeHeaderRest, decodeStructure, type HeaderRest } from './records.js';
import { crlfSizeFromName, fileSizeFromName } from './filenames.js';
import { Budget, errorCode } from './fsutil.js';
import { InfoCache, type StoredInfo } from './infocache.js';
import {
  JOB_ENVELOPE, JOB_HAS_ENVELOPE, JOB_HAS_HEADER, JOB_HAS_STRUCTURE, JOB_HEADER, JOB_INFO, JOB_STRUCTURE, POOL_MIN_JOBS, RESULT_FIELDS,
  STATUS_MISSING, STATUS_OK, type ParsePool, type PoolResponse,
} from './parsepool.js';
import { MemoryRecords, type RecordKey, type RecordStore } from './record-store.js';
import { RecordLog } from './recordlog.js';
import { messageFileOf, type MessageLinks } from './folder-entry.js';

export { COUNT_CHUNK, WHOLE_READ_MAX } from './derive.js';

export const ENVELOPE_CACHE_FILE = 'imapd-ts.envelopes';
export const HEADER_CACHE_FILE = 'imapd-ts.headers';
export const STRUCTURE_CACHE_FILE = 'imapd-ts.structure';
/** The JSON-lines cache of earlier versions: removed when found. */
export const OLD_META_CACHE_FILE = 'imapd-ts.meta';

export interface MessageCacheOptions extends Parsers {
  /** Workers that run the built-in parsers (parseworker.ts): only when the parsers above are those. */
  pool?: ParsePool;
  /** Names what computes the records (parser and renderer); without it nothing is written to disk. */
  version?: string;
  /** Records kept per cache when they cannot be kept on disk. */
  memoryEntries: number;
  /** A sharable Maildir's private folder: where its message links may be read (FolderContext.messageLinks). */
  messageLinks?: MessageLinks;
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

/** This thread's part of the files read in one get() when workers help, relative to a worker's. */
const MAIN_SHARE = 0.7;

export class MessageCache {
  readonly info: InfoCache;
  private readonly envelopes: RecordStore;
  private readonly headers: RecordStore;
  private readonly structures: RecordStore;
  private readonly deriver: Deriver;
  private checked = 0;
  /** cur/ and a separator: message paths are made by concatenation (path.join shows in profiles). */
  private readonly curPrefix: string;

  constructor(
    private readonly dir: string,
    private readonly options: MessageCacheOptions,
  ) {
    this.info = new InfoCache(dir);
    this.deriver = new Deriver(options);
    this.curPrefix = path.join(dir, 'cur') + path.sep;
    const log = (file: string, kind: string): RecordStore =>
      options.version === undefined
        ? new MemoryRecords(options.memoryEntries)
        : new RecordLog(path.join(dir, file), path.join(dir, 'tmp'), kind, options.version);
    this.envelopes = log(ENVELOPE_CACHE_FILE, 'envelopes');
    // -3: binary records (records.ts); files of the earlier JSON forms are replaced as they are met.
    this.headers = log(HEADER_CACHE_FILE, 'headers-3');
    this.structures = log(STRUCTURE_CACHE_FILE, 'structure-3');
  }

  /** What `request` asks for, for each message. Synchronous reads, in slices (see recordlog.ts);
   * many unknown messages go to the parse workers. */
  async get(messages: readonly CachedMessage[], request: DataRequest): Promise<CacheResult> {
    this.checkFiles();
    const keys: RecordKey[] = messages.map((m) => ({ uid: m.uid, base: m.base }));
    const envelopes = request.envelope ? this.envelopes.read(keys) : undefined;
    const headers = request.header ? this.headers.read(keys) : undefined;
    const structures = request.structure ? this.structures.read(keys) : undefined;
    const items = new Array<MessageData>(messages.length);
    const needs = new Array<Needs>(messages.length);
    const todo: number[] = [];
    let pooled = 0;
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
      items[i] = item;
      const need: Needs = {
        info: request.info === true && message.stored === undefined,
        envelope: request.envelope === true && item.envelope === undefined,
        header: request.header === true && item.header === undefined,
        structure: request.structure === true && item.structure === undefined,
        raw: request.raw === true,
      };
      if (need.info || need.envelope || need.header || need.structure || need.raw) {
        needs[i] = need;
        todo.push(i);
        if (!need.raw && message.uid !== 0) pooled++;
      }
    }
    const missing: number[] = [];
    let inThread = todo;
    let pooledWork: Promise<number[]> | undefined;
    const pool = this.options.pool;
    if (pooled >= POOL_MIN_JOBS && pool?.usable) {
      // The workers take most of the files; this thread reads the rest meanwhile (it has the
      // responses to write afterwards).
      const forPool = todo.filter((i) => !needs[i].raw && messages[i].uid !== 0);
      const share = Math.floor((forPool.length * MAIN_SHARE) / (pool.workers + 1));
      inThread = [...todo.filter((i) => needs[i].raw || messages[i].uid === 0), ...forPool.slice(forPool.length - share)];
      pooledWork = this.viaPool(pool, messages, forPool.slice(0, forPool.length - share), needs, items, missing);
    }
    const arena = request.arena;
    const rawInto = arena ? (size: number) => arena.take(size) : undefined;
    const budget = new Budget();
    const read = async (indexes: number[]): Promise<void> => {
      for (const i of indexes) {
        if (budget.due()) await budget.pause();
        if (!this.readMessage(messages[i], needs[i], items[i], rawInto)) missing.push(i);
      }
    };
    await read(inThread);
    if (pooledWork) await read(await pooledWork); // what a worker could not do
    const data: (MessageData | null)[] = items;
    for (const i of missing) data[i] = null;
    missing.sort((a, b) => a - b);
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
  private readMessage(message: CachedMessage, needs: Needs, item: MessageData, rawInto?: (size: number) => Buffer): boolean {
    return this.readFile(messageFileOf(this.options.messageLinks, this.curPrefix + message.fileName), message, needs, item, rawInto);
  }

  private readFile(file: string, message: CachedMessage, needs: Needs, item: MessageData, rawInto?: (size: number) => Buffer): boolean {
    let fd: number;
    try {
      fd = openSync(file, MESSAGE_READ_FLAGS);
    } catch (error) {
      if (noMessageFile(error)) return false; // gone, or a symlink (which is no message)
      throw error;
    }
    try {
      this.derive(fd, message, needs, item, rawInto);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  /** Reads and parses in this thread, then keeps what was learnt. */
  private derive(fd: number, message: CachedMessage, needs: Needs, item: MessageData, rawInto?: (size: number) => Buffer): void {
    const { uid, base } = message;
    const numbered = uid !== 0;
    // Only a parse looks at what is cached: a FETCH of bodies alone loads no cache's index.
    const parses = numbered && (needs.envelope || needs.header || needs.structure);
    const derived = this.deriver.derive(fd, {
      needs,
      sizeFromName: needs.info ? crlfSizeFromName(base) : undefined, // used only for RFC822.SIZE
      fileSizeFromName: needs.raw ? fileSizeFromName(base) : undefined,
      numbered,
      hasHeader: parses && this.headers.has(uid),
      hasEnvelope: parses && this.envelopes.has(uid),
      hasStructure: parses && this.structures.has(uid),
      rawInto,
    });
    if (derived.stored) this.learnInfo(message, derived.stored, item);
    if (needs.raw) item.raw = derived.raw;
    if (!numbered) return;
    if (derived.body && needs.structure) item.structure = derived.body;
    if (derived.header && needs.header) item.header = derived.header;
    this.keep(message, needs, item, derived.envelopeRecord, derived.headerRecord, derived.structureRecord, false);
  }

  private learnInfo(message: CachedMessage, stored: StoredInfo, item: MessageData): void {
    message.stored = stored;
    this.info.remember(message.base, stored);
    item.size = stored.size;
    item.internalDate = stored.internalDate;
  }

  /** Adds the records made for a message; with `fill`, also what was asked for is taken from them. */
  private keep(message: CachedMessage, needs: Needs, item: MessageData, envelope: Buffer | undefined, header: Buffer | undefined, structure: Buffer | undefined, fill: boolean): void {
    const { uid, base } = message;
    if (envelope) {
      if (needs.envelope) item.envelope = envelope;
      this.envelopes.add(uid, base, envelope);
    }
    if (header) {
      if (fill && needs.header) item.header = new StoredHeader(header);
      this.headers.add(uid, base, header);
    }
    if (structure) {
      if (fill && needs.structure) item.structure = decodeStructure(structure);
      this.structures.add(uid, base, structure);
    }
  }

  /**
   * Messages the caches do not know enough about, read and parsed by the worker pool: `todo`
   * indexes of `messages`. Returns the indexes left to this thread (jobs a worker could not do).
   */
  private async viaPool(pool: ParsePool, messages: readonly CachedMessage[], todo: number[], needs: Needs[], data: MessageData[], missing: number[]): Promise<number[]> {
    const files: string[] = [];
    const flags: number[] = [];
    const sizes: number[] = [];
    for (const i of todo) {
      const message = messages[i];
      const n = needs[i];
      files.push(messageFileOf(this.options.messageLinks, this.curPrefix + message.fileName));
      flags.push(
        (n.info ? JOB_INFO : 0) | (n.envelope ? JOB_ENVELOPE : 0) | (n.header ? JOB_HEADER : 0) | (n.structure ? JOB_STRUCTURE : 0) |
          (this.headers.has(message.uid) ? JOB_HAS_HEADER : 0) | (this.envelopes.has(message.uid) ? JOB_HAS_ENVELOPE : 0) |
          (this.structures.has(message.uid) ? JOB_HAS_STRUCTURE : 0),
      );
      sizes.push(crlfSizeFromName(message.base) ?? -1);
    }
    let responses: PoolResponse[];
    try {
      responses = await pool.run(files, flags, sizes);
    } catch {
      return todo; // the pool broke: this thread does it all
    }
    const left: number[] = [];
    let k = 0;
    for (const response of responses) {
      const { meta } = response;
      const bytes = Buffer.from(response.data);
      let offset = 0;
      const take = (length: number): Buffer | undefined => {
        if (length < 0) return undefined;
        offset += length;
        return bytes.subarray(offset - length, offset);
      };
      for (let j = 0; j * RESULT_FIELDS < meta.length; j++, k++) {
        const at = j * RESULT_FIELDS;
        const i = todo[k];
        const status = meta[at];
        const envelope = take(meta[at + 4]);
        const header = take(meta[at + 5]);
        const structure = take(meta[at + 6]);
        if (status === STATUS_MISSING) {
          missing.push(i);
          continue;
        }
        if (status !== STATUS_OK) {
          left.push(i);
          continue;
        }
        const message = messages[i];
        const item = data[i];
        if (meta[at + 1] >= 0) this.learnInfo(message, { size: meta[at + 1], internalDate: meta[at + 2], fileSize: meta[at + 3] }, item);
        this.keep(message, needs[i], item, envelope, header, structure, true);
      }
    }
    return left;
  }
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
    return this.parsed().envelope;
  }

  get references(): string[] {
    return this.parsed().references;
  }

  get sentDate(): number | null {
    return this.parsed().sentDate;
  }

  private parsed(): HeaderRest {
    if (!this.rest) {
      const offsets = this.where();
      this.rest = (offsets === NO_OFFSETS ? undefined : decodeHeaderRest(this.payload, offsets[5])) ?? {
        envelope: { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null },
        references: [],
        sentDate: null,
      };
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
