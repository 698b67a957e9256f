// Mod-sequences (RFC 7162 CONDSTORE/QRESYNC) of one folder, kept in a file of our own beside
// Courier's files, imapd-ts.modseq:
//
//   imapd-ts-modseq 1 <uidvalidity> <expunge floor> <highest modseq>
//   <uid> <modseq> <flags hash>      a message's state from that modseq on (hash: 8 hex digits)
//   <uid> <modseq> -                 the message was expunged at that modseq
//
// Records are appended under the folder's Courier lock (the last record of a UID wins); the
// file is rewritten whole through tmp/ and a rename when it has grown to several times what it
// describes. The hash of each message's flags is what lets any process (another imapd-ts, or
// this one after a restart) tell whether a message's flags changed since they were recorded,
// whoever changed them (Courier, a mail program renaming files in cur/): a difference gets a
// new modseq. One change (a STORE, a look at the folder) gives all its messages one modseq,
// as Dovecot gives one per transaction.
//
// Expunges are remembered with their modseq for VANISHED (EARLIER); a rewrite keeps the
// newest EXPUNGE_MEMORY of them and raises the floor to the newest one it forgot. Asked for
// expunges since a modseq below the floor, the answer is "unknown" and the caller falls back
// to reporting every UID the client named that is not in the folder (RFC 7162 3.2.5.1 allows
// UIDs expunged earlier in VANISHED (EARLIER)).

import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { errorCode, writeFileAtomic } from './fsutil.js';
import { UidTable } from './uid-table.js';

export const MODSEQ_FILE = 'imapd-ts.modseq';
const MAGIC = 'imapd-ts-modseq';
const VERSION = 1;
/** Expunges kept through a rewrite: a client away for that many expunges gets the fallback. */
export const EXPUNGE_MEMORY = 50_000;
/** Records beyond what the file describes before it is rewritten. */
const SLACK = 20_000;

/** A message as the log records it. */
export interface ModseqRecord {
  modseq: number;
  hash: number;
}

/** What stamp() needs of a message: its UID and flags. */
export interface FlaggedMessage {
  readonly uid: number;
  readonly flags: ReadonlySet<string>;
}

const hashes = new WeakMap<ReadonlySet<string>, number>();

/** FNV-1a of the sorted flags; cached per set (messages with the same flags share one). */
export function flagsHash(flags: ReadonlySet<string>): number {
  let hash = hashes.get(flags);
  if (hash !== undefined) return hash;
  const text = [...flags].sort().join(' ');
  hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  hashes.set(flags, hash);
  return hash;
}

export class ModseqLog {
  uidValidity = 0;
  /** Highest modseq given out; 0 until the file was read or made. */
  highest = 0;
  /** Expunges at or below this modseq are forgotten. */
  floor = 0;
  /**
   * The highest modseq of a state this process has applied (see stamp): what HIGHESTMODSEQ
   * reports. The file may hold higher ones already, of changes this process has not seen yet.
   */
  applied = 0;
  /** The last write failed (logged by the caller; modseqs go on in memory). */
  writeError: unknown;
  /** Live messages by UID: their modseq and flags hash (no object per message). */
  private readonly live = new UidTable();
  /** Expunged UIDs with the modseq of their expunge. */
  private readonly gone = new Map<number, number>();
  /** Expunges read from the file (recorded by other processes) that stamp() has not settled yet. */
  private readonly othersGone = new Set<number>();
  /** Lines in the file (for the rewrite). */
  private lines = 0;
  /** Identity of the file read and how far (see catchUp). */
  private ino = -1;
  private offset = 0;
  private readonly file: string;

  constructor(private readonly dir: string) {
    this.file = path.join(dir, MODSEQ_FILE);
  }

  get loaded(): boolean {
    return this.ino !== -1;
  }

  /** Whether the file exists (a folder opened from its listing needs it: see FolderCore.loadListing). */
  exists(): boolean {
    try {
      statSync(this.file);
      return true;
    } catch {
      return false;
    }
  }

  record(uid: number): ModseqRecord | undefined {
    return this.live.has(uid) ? { modseq: this.live.first(uid), hash: this.live.second(uid) } : undefined;
  }

  /**
   * Reads what other processes appended (or the whole file when it was replaced). Without the
   * lock this may stop before a record being written: only whole lines are taken.
   */
  catchUp(): void {
    let fd: number;
    try {
      fd = openSync(this.file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ELOOP') throw error;
      if (this.ino !== -1) this.reset();
      return;
    }
    try {
      const stat = fstatSync(fd);
      if (stat.ino !== this.ino || stat.size < this.offset) {
        this.reset();
        this.ino = stat.ino;
      }
      if (stat.size === this.offset) return;
      const buffer = Buffer.alloc(stat.size - this.offset);
      let read = 0;
      while (read < buffer.length) {
        const n = readSync(fd, buffer, read, buffer.length - read, this.offset + read);
        if (n === 0) break;
        read += n;
      }
      const end = buffer.lastIndexOf(10, read - 1);
      if (end < 0) return;
      this.parse(buffer.toString('latin1', 0, end));
      this.offset += end + 1;
    } finally {
      closeSync(fd);
    }
  }

  private reset(): void {
    this.live.clear();
    this.gone.clear();
    this.othersGone.clear();
    this.highest = 0;
    this.floor = 0;
    this.uidValidity = 0;
    this.lines = 0;
    this.ino = -1;
    this.offset = 0;
  }

  private parse(text: string): void {
    // Native string functions per line, not a loop over bytes: in a new process (every stdio
    // imapd) such loops run in the interpreter at first, and took twice as long.
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end);
      start = end + 1;
      this.lines += 1;
      if (this.offset === 0 && this.lines === 1) {
        const head = line.split(' ');
        if (head[0] !== MAGIC || Number(head[1]) !== VERSION) {
          this.uidValidity = -1; // not ours, or a later version: made anew
          continue;
        }
        this.uidValidity = Number(head[2]) || 0;
        this.floor = Number(head[3]) || 0;
        this.highest = Math.max(this.highest, Number(head[4]) || 0, this.floor);
        continue;
      }
      const first = line.indexOf(' ');
      const second = line.indexOf(' ', first + 1);
      if (first <= 0 || second <= 0) continue;
      const uid = Number(line.slice(0, first));
      const modseq = Number(line.slice(first + 1, second));
      const rest = line.slice(second + 1);
      if (!Number.isSafeInteger(uid) || uid <= 0 || !Number.isSafeInteger(modseq) || modseq <= 0) continue;
      if (modseq > this.highest) this.highest = modseq;
      if (rest === '-') {
        this.live.delete(uid);
        this.gone.set(uid, modseq);
        this.othersGone.add(uid);
      } else {
        const hash = parseInt(rest, 16);
        if (!Number.isFinite(hash)) continue;
        this.gone.delete(uid);
        this.othersGone.delete(uid);
        this.live.set(uid, modseq, hash);
      }
    }
  }

  /**
   * Records the state of `messages` and the expunge of `expunged` (call holding the folder's
   * Courier lock): a message whose flags differ from its last record, or that has none, gets
   * the next modseq; one recorded as it is keeps its modseq (another process recorded the same
   * change first). With `complete`, `messages` are all the folder has: a recorded UID that is
   * not among them was expunged. Returns each message's modseq, in the order given.
   */
  async stamp(uidValidity: number, messages: readonly FlaggedMessage[], expunged: readonly number[], complete: boolean, listed: (uid: number) => boolean = () => false): Promise<number[]> {
    this.catchUp();
    let fresh = !this.loaded;
    if (!fresh && this.uidValidity !== uidValidity) {
      // New UIDVALIDITY (or a damaged file): every message is new. Modseqs keep rising.
      const highest = this.highest;
      this.reset();
      this.highest = this.floor = highest;
      complete = true;
      fresh = true;
    } else if (fresh && this.highest === 0) {
      // No file: a client may still hold modseqs of one that was removed. Starting from the
      // clock (seconds) puts new modseqs above those, and the floor makes VANISHED fall back.
      this.highest = this.floor = Math.floor(Date.now() / 1000);
    }
    const next = this.highest + 1;
    const result = new Array<number>(messages.length);
    let out = '';
    let changed = false;
    let adopted = 0;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      const hash = flagsHash(message.flags);
      const knownModseq = this.live.first(message.uid);
      // Another process recorded this very state: its modseq, unless this process may have
      // reported a higher HIGHESTMODSEQ without it (then a new one, so no client misses it).
      if (knownModseq > this.applied && this.live.second(message.uid) === hash) {
        result[i] = knownModseq;
        if (knownModseq > adopted) adopted = knownModseq;
        continue;
      }
      this.live.set(message.uid, next, hash);
      this.gone.delete(message.uid);
      result[i] = next;
      // A fresh file is written whole by rewrite(): its lines are not made twice.
      if (!fresh) out += `${message.uid} ${next} ${hexHash(hash)}\n`;
      changed = true;
    }
    const leaving = new Set<number>();
    for (const uid of expunged) {
      const at = this.gone.get(uid);
      if (this.live.has(uid) || (at !== undefined && at <= this.applied)) leaving.add(uid);
      else if (at !== undefined && at > adopted) adopted = at;
    }
    if (complete && this.live.size > messages.length - leaving.size) {
      const present = new Set(messages.map((m) => m.uid));
      for (const uid of this.live.uids()) if (!present.has(uid)) leaving.add(uid);
    }
    for (const uid of leaving) {
      this.live.delete(uid);
      this.gone.set(uid, next);
      this.othersGone.delete(uid);
      out += `${uid} ${next} -\n`;
      changed = true;
    }
    if (changed) this.highest = next;
    const told = Math.max(adopted, changed ? next : 0);
    if (!complete && told > 0) {
      // Another process's expunge that this one has not seen on disk yet (its sessions still
      // show the message), recorded at or below the modseq about to be told: recorded again
      // above it, or a client resynchronizing from that modseq would never hear of it.
      for (const uid of this.othersGone) {
        if (expunged.includes(uid) || !listed(uid)) {
          this.othersGone.delete(uid);
          continue;
        }
        if (this.gone.get(uid)! > told) continue;
        const again = this.highest + 1;
        this.highest = again;
        this.gone.set(uid, again);
        out += `${uid} ${again} -\n`;
        changed = true;
      }
    }
    this.applied = Math.max(this.applied, told, complete ? this.highest : 0);
    this.writeError = undefined;
    try {
      if (fresh) {
        this.uidValidity = uidValidity;
        await this.rewrite();
      } else if (changed) {
        this.append(out);
        if (this.lines > 2 * (this.live.size + Math.min(this.gone.size, EXPUNGE_MEMORY)) + SLACK) await this.rewrite();
      }
    } catch (error) {
      // Modseqs go on in memory; the next process that reads the file records anew what differs.
      this.writeError = error;
    }
    return result;
  }

  /** A folder opened from its listing: the messages as recorded (undefined where the log does not match). */
  recorded(uid: number, flags: ReadonlySet<string>): number | undefined {
    const modseq = this.live.first(uid);
    return modseq > 0 && this.live.second(uid) === flagsHash(flags) ? modseq : undefined;
  }

  private append(text: string): void {
    const fd = openSync(this.file, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_NOFOLLOW);
    try {
      const data = Buffer.from(text, 'latin1');
      writeSync(fd, data);
      const stat = fstatSync(fd);
      // Under the lock nobody else appends: what is there now is what was read plus ours.
      if (stat.ino === this.ino && stat.size === this.offset + data.length) this.offset = stat.size;
      this.lines += countLines(text);
    } finally {
      closeSync(fd);
    }
  }

  /** Writes the file anew: live messages, then the newest expunges (older ones raise the floor). */
  private async rewrite(): Promise<void> {
    if (this.gone.size > EXPUNGE_MEMORY) {
      const byAge = [...this.gone].sort((a, b) => a[1] - b[1]);
      const drop = byAge.length - EXPUNGE_MEMORY;
      for (let i = 0; i < drop; i++) {
        this.floor = Math.max(this.floor, byAge[i][1]);
        this.gone.delete(byAge[i][0]);
      }
    }
    const parts = [`${MAGIC} ${VERSION} ${this.uidValidity} ${this.floor} ${this.highest}\n`];
    for (const uid of this.live.uids()) parts.push(`${uid} ${this.live.first(uid)} ${hexHash(this.live.second(uid))}\n`);
    for (const [uid, modseq] of this.gone) parts.push(`${uid} ${modseq} -\n`);
    const text = parts.join('');
    const stat = await writeFileAtomic(this.file, text, path.join(this.dir, 'tmp'));
    this.ino = stat.ino;
    this.offset = stat.size;
    this.lines = parts.length;
  }

  /**
   * UIDs expunged after `modseq`, ascending, among those `within` accepts; null when the log
   * does not reach back that far (expunges at or below the floor are forgotten).
   */
  expungedSince(modseq: number, within: (uid: number) => boolean): number[] | null {
    if (modseq < this.floor) return null;
    const uids: number[] = [];
    for (const [uid, at] of this.gone) if (at > modseq && within(uid)) uids.push(uid);
    return uids.sort((a, b) => a - b);
  }
}

const hexes = new Map<number, string>();

/** A flags hash as 8 hex digits; cached, as messages share a few flag sets. */
function hexHash(hash: number): string {
  let hex = hexes.get(hash);
  if (hex === undefined) {
    hex = hash.toString(16).padStart(8, '0');
    if (hexes.size < 4096) hexes.set(hash, hex);
  }
  return hex;
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
