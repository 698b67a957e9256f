// A per-folder file of records derived from messages (their ENVELOPE, header data, MIME
// structure), so that a new process does not read and parse every message again.
//
// Layout: one text line "imapd-ts <kind> 1 <version>\n", then binary records, appended:
//
//   u8 0xA5 | u32 record length | u32 UID | u16 base length | base (UTF-8) | payload
//
// (little-endian; the length covers the whole record). Records are keyed by UID and checked
// against the message's base on every read, so a record that does not belong to the
// message (another UIDVALIDITY, a file replaced behind our back) is never used. A later
// record for the same UID wins.
//
// Why not JSON lines or SQLite: loading 100,000 JSON records, or selecting 100,000 rows, takes
// longer than the whole FETCH may. Here only a small index (UID -> offset, length) is built
// when the file is first needed, and records are read in large sequential runs when asked for.
// Nothing else is kept in memory: records that were asked for belong to the caller.
//
// Several processes may append to the same file: each append is one write() on an O_APPEND
// descriptor. A record whose offset was guessed wrong (another process appended at the same
// moment) fails the check and is simply computed again. The file is rewritten (compacted)
// through tmp/ and a rename when most of it is dead; a process that still has the old file
// open keeps reading its own copy. A cut-off record at the end (a crash) ends the walk; the
// next write then rewrites the file.
//
// Reads and writes are synchronous on purpose: for the many small reads a FETCH makes, the
// thread-pool round trip of fs.promises costs several times the read itself. Callers keep
// each synchronous stretch short (see fsutil.ts, Budget).

import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { errorCode, scratchName } from './fsutil.js';
import type { RecordKey, RecordStore } from './record-store.js';

const MAGIC = 0xa5;
/** magic, length, UID, base length. */
const RECORD_HEAD = 1 + 4 + 4 + 2;
const FORMAT = 1;
/** Reads of neighbouring records are merged when the gap between them is at most this. */
const MERGE_GAP = 64 * 1024;
/** Largest single read. */
const RUN_MAX = 1024 * 1024;
/** Rewrite the file when dead records take more than this and more than the live ones. */
const COMPACT_MIN_DEAD = 1024 * 1024;
/** Pending records are appended once they reach this size. */
const FLUSH_BYTES = 128 * 1024;
/** "a+" (read, append, create), but never through a symlink. */
const APPEND_NOFOLLOW = fsConstants.O_RDWR | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW;

/**
 * Where the records are: offset and length packed into one number per UID (records of 2 MB
 * and more, rare, are kept apart), so that the index of 100,000 records is one Map of numbers.
 */
const PACK = 2 ** 21;

class LocationIndex {
  private readonly packed = new Map<number, number>();
  private readonly large = new Map<number, number>();

  get size(): number {
    return this.packed.size;
  }

  has(uid: number): boolean {
    return this.packed.has(uid);
  }

  /** Offset of the UID's record, or -1. */
  offset(uid: number): number {
    const value = this.packed.get(uid);
    if (value === undefined) return -1;
    return value < 0 ? -value - 1 : Math.floor(value / PACK);
  }

  /** Length of the UID's record (0 when there is none). */
  length(uid: number): number {
    const value = this.packed.get(uid);
    if (value === undefined) return 0;
    return value < 0 ? this.large.get(uid)! : value % PACK;
  }

  set(uid: number, offset: number, length: number): void {
    if (length < PACK) {
      this.packed.set(uid, offset * PACK + length);
      this.large.delete(uid);
    } else {
      this.packed.set(uid, -offset - 1);
      this.large.set(uid, length);
    }
  }

  delete(uid: number): void {
    this.packed.delete(uid);
    this.large.delete(uid);
  }

  clear(): void {
    this.packed.clear();
    this.large.clear();
  }

  uids(): IterableIterator<number> {
    return this.packed.keys();
  }
}

export class RecordLog implements RecordStore {
  private fd: number | undefined;
  private readonly index = new LocationIndex();
  /** Records made by this process and not written yet. */
  private readonly pending = new Map<number, { base: string; payload: Buffer }>();
  private pendingBytes = 0;
  private loaded = false;
  /** Bytes of records in the file (live or not) and of the live ones. */
  private fileBytes = 0;
  private liveBytes = 0;
  /** The file must be rewritten rather than appended to (other version, damaged tail). */
  private rewrite = false;
  private readonly header: Buffer;

  constructor(
    private readonly file: string,
    private readonly tmpDir: string,
    kind: string,
    /** Version of whatever computes the records; a file of another version is replaced. */
    version: string,
  ) {
    this.header = Buffer.from(`imapd-ts ${kind} ${FORMAT} ${version}\n`, 'latin1');
  }

  get name(): string {
    return this.file;
  }

  /** Number of records known (written or pending). */
  get size(): number {
    return this.index.size + this.pending.size;
  }

  /** Builds the index from the file, once. */
  load(): void {
    if (this.loaded) return;
    this.loaded = true;
    let fd: number;
    try {
      fd = openSync(this.file, APPEND_NOFOLLOW);
    } catch (error) {
      // A read-only folder: nothing is cached on disk.
      this.rewrite = true;
      // A symlink (ELOOP) is not written through: nothing cached on disk either.
      if (errorCode(error) === 'EACCES' || errorCode(error) === 'EROFS' || errorCode(error) === 'ENOENT' || errorCode(error) === 'ELOOP') return;
      throw error;
    }
    this.fd = fd;
    const total = fstatSync(fd).size;
    const head = Buffer.alloc(this.header.length);
    if (total < head.length || readSync(fd, head, 0, head.length, 0) !== head.length || !head.equals(this.header)) {
      this.rewrite = total > 0;
      this.fileBytes = total > 0 ? total : 0;
      return;
    }
    let chunk = Buffer.allocUnsafe(Math.min(RUN_MAX, Math.max(total - head.length, 0)));
    let chunkStart = head.length;
    let chunkEnd = head.length;
    let pos = head.length;
    const ensure = (from: number, length: number): boolean => {
      if (from >= chunkStart && from + length <= chunkEnd) return true;
      if (from + length > total) return false;
      if (length > chunk.length) chunk = Buffer.allocUnsafe(length);
      const want = Math.min(chunk.length, total - from);
      const got = readSync(fd, chunk, 0, want, from);
      chunkStart = from;
      chunkEnd = from + got;
      return got >= length;
    };
    while (pos < total) {
      if (!ensure(pos, RECORD_HEAD)) break;
      const at = pos - chunkStart;
      const length = u32(chunk, at + 1);
      const uid = u32(chunk, at + 5);
      const baseLength = chunk[at + 9] | (chunk[at + 10] << 8);
      if (chunk[at] !== MAGIC || length < RECORD_HEAD + baseLength || uid === 0 || pos + length > total) break;
      this.liveBytes += length - this.index.length(uid);
      this.index.set(uid, pos, length);
      pos += length;
    }
    this.fileBytes = total;
    if (pos < total) this.rewrite = true; // a record cut short: do not append after it
  }

  /** Whether a record for this UID may be there (written or pending). */
  has(uid: number): boolean {
    this.load();
    return this.index.has(uid) || this.pending.has(uid);
  }

  /** The payloads of these messages' records, undefined where there is none (or it does not match). */
  read(keys: readonly RecordKey[]): (Buffer | undefined)[] {
    this.load();
    const out = new Array<Buffer | undefined>(keys.length).fill(undefined);
    // Keys with a record in the file, and where it is, in file order (usually UID order already).
    const at: number[] = [];
    const offsets: number[] = [];
    let sorted = true;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const waiting = this.pending.get(key.uid);
      if (waiting) {
        out[i] = waiting.base === key.base ? waiting.payload : undefined;
        continue;
      }
      const offset = this.fd === undefined ? -1 : this.index.offset(key.uid);
      if (offset < 0) continue;
      if (offsets.length && offset < offsets[offsets.length - 1]) sorted = false;
      at.push(i);
      offsets.push(offset);
    }
    if (at.length === 0) return out;
    let order: number[] | undefined;
    if (!sorted) {
      order = at.map((_, k) => k);
      order.sort((a, b) => offsets[a] - offsets[b]);
    }
    let start = 0;
    while (start < at.length) {
      // One read for a run of records that lie close together in the file.
      const first = order ? order[start] : start;
      const runStart = offsets[first];
      let runEnd = runStart + this.index.length(keys[at[first]].uid);
      let end = start + 1;
      while (end < at.length) {
        const k = order ? order[end] : end;
        const offset = offsets[k];
        const length = this.index.length(keys[at[k]].uid);
        if (offset - runEnd > MERGE_GAP || offset + length - runStart > RUN_MAX) break;
        runEnd = Math.max(runEnd, offset + length);
        end++;
      }
      const run = Buffer.allocUnsafe(runEnd - runStart);
      const got = readSync(this.fd!, run, 0, run.length, runStart);
      for (let j = start; j < end; j++) {
        const k = order ? order[j] : j;
        const key = keys[at[k]];
        const from = offsets[k] - runStart;
        const length = this.index.length(key.uid);
        if (from + length > got) continue;
        const payload = checkRecord(run.subarray(from, from + length), key);
        if (payload) out[at[k]] = payload;
      }
      start = end;
    }
    return out;
  }

  /** Remembers a record; it is written by the next flush(). */
  add(uid: number, base: string, payload: Buffer): void {
    this.pending.set(uid, { base, payload });
    this.pendingBytes += payload.length;
    // Written as they come, in bunches: records held for a whole batch outlive the young
    // generation and fill the old one (100,000 records of a FETCH are 100 MB and more).
    if (this.pendingBytes >= FLUSH_BYTES && this.loaded && !this.rewrite && this.fd !== undefined) this.flush();
  }

  /** Appends the pending records to the file (or rewrites it when it cannot be appended to). */
  flush(live?: ReadonlyMap<number, string>): void {
    this.load();
    if (this.pending.size === 0) return;
    if (this.fd === undefined) {
      this.pending.clear(); // no file: nothing to keep the records in
      this.pendingBytes = 0;
      return;
    }
    if (this.rewrite) {
      this.compact(live);
      return;
    }
    const records: Buffer[] = [];
    const placed: [number, number, number][] = [];
    let offset = fstatSync(this.fd).size;
    if (offset === 0) {
      records.push(this.header);
      offset = this.header.length;
    }
    for (const [uid, { base, payload }] of this.pending) {
      const record = encodeRecord(uid, base, payload);
      records.push(record);
      placed.push([uid, offset, record.length]);
      offset += record.length;
    }
    const data = Buffer.concat(records);
    try {
      writeAll(this.fd, data);
    } catch {
      this.pending.clear(); // a full disk: the cache is only a cache
      this.pendingBytes = 0;
      return;
    }
    for (const [uid, offset, length] of placed) {
      this.liveBytes += length - this.index.length(uid);
      this.index.set(uid, offset, length);
    }
    this.fileBytes = offset;
    this.pending.clear();
    this.pendingBytes = 0;
  }

  /** Drops the records of messages that are gone; rewrites the file when it is mostly dead. */
  prune(live: ReadonlyMap<number, string>): void {
    if (!this.loaded) return;
    for (const uid of [...this.index.uids()]) {
      if (!live.has(uid)) {
        this.liveBytes -= this.index.length(uid);
        this.index.delete(uid);
      }
    }
    for (const uid of this.pending.keys()) if (!live.has(uid)) this.pending.delete(uid);
    const dead = this.fileBytes - this.header.length - this.liveBytes;
    if (this.rewrite || (dead > COMPACT_MIN_DEAD && dead > this.liveBytes)) this.compact(live);
    else this.flush(live);
  }

  /** Writes a new file with the live records only (read back from the old one) and the pending ones. */
  private compact(live?: ReadonlyMap<number, string>): void {
    const keys: RecordKey[] = [];
    for (const uid of this.index.uids()) {
      const base = live?.get(uid);
      if (base !== undefined && !this.pending.has(uid)) keys.push({ uid, base });
    }
    keys.sort((a, b) => a.uid - b.uid);
    const scratch = path.join(this.tmpDir, scratchName('imapdts'));
    let out: number;
    try {
      out = openSync(scratch, 'w', 0o600);
    } catch {
      this.pending.clear();
      this.pendingBytes = 0;
      return;
    }
    const placed: [number, number, number][] = [];
    let offset = 0;
    try {
      writeAll(out, this.header);
      offset = this.header.length;
      const append = (uid: number, base: string, payload: Buffer): void => {
        const record = encodeRecord(uid, base, payload);
        writeAll(out, record);
        placed.push([uid, offset, record.length]);
        offset += record.length;
      };
      for (let i = 0; i < keys.length; i += 1024) {
        const slice = keys.slice(i, i + 1024);
        const payloads = this.read(slice);
        slice.forEach((key, k) => {
          const payload = payloads[k];
          if (payload) append(key.uid, key.base, payload);
        });
      }
      for (const [uid, { base, payload }] of this.pending) append(uid, base, payload);
      closeSync(out);
      renameSync(scratch, this.file);
    } catch {
      try {
        closeSync(out);
      } catch {
        // closed already
      }
      try {
        unlinkSync(scratch);
      } catch {
        // never made
      }
      this.pending.clear();
      this.pendingBytes = 0;
      return;
    }
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(this.file, APPEND_NOFOLLOW);
    this.index.clear();
    this.liveBytes = 0;
    for (const [uid, offset, length] of placed) {
      this.index.set(uid, offset, length);
      this.liveBytes += length;
    }
    this.fileBytes = offset;
    this.rewrite = false;
    this.pending.clear();
    this.pendingBytes = 0;
  }

  /** Forgets everything and closes the file (the folder state is being dropped). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.index.clear();
    this.pending.clear();
    this.pendingBytes = 0;
    this.loaded = false;
    this.rewrite = false;
    this.fileBytes = 0;
    this.liveBytes = 0;
  }

  /** Whether the file on disk is still the one this log reads (another process may have compacted it). */
  isCurrent(): boolean {
    if (this.fd === undefined) return !this.loaded;
    try {
      return statSync(this.file).ino === fstatSync(this.fd).ino;
    } catch {
      return false;
    }
  }
}

/** A little-endian u32 (the index is built from every record's head: plain arithmetic is cheaper than readUInt32LE's checks). */
function u32(bytes: Buffer, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16)) + bytes[at + 3] * 0x1000000;
}

/** One record as the file holds it: magic, length, UID, base length, base, payload. */
export function encodeRecord(uid: number, base: string, payload: Buffer): Buffer {
  const baseLength = Buffer.byteLength(base);
  const record = Buffer.allocUnsafe(RECORD_HEAD + baseLength + payload.length);
  record[0] = MAGIC;
  record.writeUInt32LE(record.length, 1);
  record.writeUInt32LE(uid, 5);
  record.writeUInt16LE(baseLength, 9);
  record.write(base, RECORD_HEAD, baseLength, 'utf8');
  payload.copy(record, RECORD_HEAD + baseLength);
  return record;
}

/** The payload of a record read from the file, if it is the record of that message. */
function checkRecord(record: Buffer, key: RecordKey): Buffer | undefined {
  if (record.length < RECORD_HEAD || record[0] !== MAGIC || record.readUInt32LE(1) !== record.length) return undefined;
  if (record.readUInt32LE(5) !== key.uid) return undefined;
  const baseLength = record.readUInt16LE(9);
  if (RECORD_HEAD + baseLength > record.length) return undefined;
  if (!sameBase(record, RECORD_HEAD, baseLength, key.base)) return undefined;
  return record.subarray(RECORD_HEAD + baseLength);
}

/** Whether bytes [start, start + length) are the UTF-8 of `base` (compared in place for ASCII names). */
function sameBase(record: Buffer, start: number, length: number, base: string): boolean {
  if (base.length !== length) return record.toString('utf8', start, start + length) === base;
  for (let i = 0; i < length; i++) {
    const c = base.charCodeAt(i);
    if (c >= 0x80) return record.toString('utf8', start, start + length) === base;
    if (record[start + i] !== c) return false;
  }
  return true;
}

function writeAll(fd: number, data: Buffer): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}
