// One look at a folder on disk, as Courier's imapscan does it (run under the folder lock):
// read courierimapuiddb, list cur/, drop the UIDs of files that are gone, give UIDs to
// files without one (sorted by name), optionally move new/ to cur/ ("claim"), and
// write the database back when anything changed.

import { promises as fs, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { baseOf, sortMaildirNames } from './filenames.js';
import { errorCode, listDirSync, mapLimit } from './fsutil.js';
import { hasRecentMark, writeRecentMark } from './recent.js';
import { extendUidDb, type FileStamp, newUidValidity, readDovecotUidList, readUidDbSync, readUidDbTailSync, sameStamp, statUidDbSync, type UidDb, writeUidDb } from './uiddb.js';

export interface ScannedMessage {
  uid: number;
  /** The unique part of the name (what courierimapuiddb stores). */
  base: string;
  /** File name in cur/. */
  fileName: string;
  /** Got its UID in this scan (claimed from new/, or found in cur/ without one). */
  fresh: boolean;
  /** Moved from new/ to cur/ by this scan. */
  claimed: boolean;
}

export interface ScanResult {
  uidValidity: number;
  uidNext: number;
  /** Ascending UIDs. */
  messages: ScannedMessage[];
  /** Files left in new/ (only when not claiming). */
  unclaimed: string[];
  /** Files in cur/ left without a UID (numberCur false). */
  unnumbered: number;
}

export interface ScanOptions {
  /** The Maildir the folder belongs to (its UIDVALIDITY counter); default the folder itself (INBOX). */
  root?: string;
  /** Move new/ to cur/ and give those messages UIDs. */
  claimNew: boolean;
  /** Bases known to have been removed by the caller (no second look needed). */
  expectedGone?: ReadonlySet<string>;
  /** Bases in cur/ to leave without a UID (the caller numbers them itself). */
  ignore?: ReadonlySet<string>;
  /**
   * Number files in cur/ that have no UID yet (default true). SELECT leaves them to the
   * claiming scan that follows, so that, as in Courier, they are numbered together with
   * new/, in the order of their names. With new/ empty that order is the same now as then:
   * they are numbered at once (one look instead of two for a folder never opened before).
   */
  numberCur?: boolean;
  /**
   * Change nothing on disk: the scan gives up (returns null) when the database would have to
   * be written or new/ claimed. A scan that finds nothing to change needs no lock (see
   * FolderCore.syncLocked); the database is only ever replaced whole or extended at its end.
   */
  readOnly?: boolean;
  /**
   * The listing of cur/ to use instead of reading it: what a read-only scan that gave up
   * just read (it leaves it in `listed`). A listing is as good as one read under the lock:
   * names that went missing are looked for once more anyway.
   */
  curNames?: string[];
  /** Filled by a read-only scan with the listing of cur/ it read (dot files included). */
  listed?: { names?: string[] };
}

/** What a scanner remembers between scans, to skip re-reading an unchanged database. */
export interface ScanMemory {
  db?: UidDb;
  stamp?: FileStamp;
  /** Writes of the database under way (their file events are this process's own). */
  writing?: number;
  /** The folder has its \Recent mark (see recent.ts). */
  recentMarked?: boolean;
  /** The last listing of cur/ and the directory's stamp before it was read (see listCur). */
  cur?: { stamp: string; names: string[]; byBase?: Map<string, string> };
}

/**
 * A directory's mtime must be older than this when it is listed for the listing to be reused
 * while the mtime stays the same: a change in the same tick of the file-system clock (a few
 * ms) would leave it as it was (the margin of FolderCore's CLOCK_TICK_MS).
 */
const CUR_TRUST_MS = 50;

export async function scanFolder(folderDir: string, options: ScanOptions & { readOnly: true }, memory?: ScanMemory): Promise<ScanResult | null>;
export async function scanFolder(folderDir: string, options: ScanOptions, memory?: ScanMemory): Promise<ScanResult>;
export async function scanFolder(folderDir: string, options: ScanOptions, memory: ScanMemory = {}): Promise<ScanResult | null> {
  const curDir = path.join(folderDir, 'cur');
  const newDir = path.join(folderDir, 'new');

  // Read-only here: a changed database is written as a new object below.
  let db = loadDbSync(folderDir, memory);
  let dirty = false;
  if (!db) {
    if (options.readOnly) return null;
    db = (await readDovecotUidList(folderDir)) ?? { uidValidity: await newUidValidity(options.root ?? folderDir), uidNext: 1, uids: new Map() };
    // No session has been told of anything in a new database: all of it is \Recent. The mark
    // goes first, so that whoever reads the database finds the mark that goes with it.
    await writeRecentMark(folderDir, db.uidValidity, 0);
    memory.recentMarked = true;
    dirty = true;
  } else if (!(await ensureRecentMark(folderDir, db, memory, options.readOnly === true))) {
    return null;
  }

  // New mail to claim: a look that may not write gives up before listing cur/ (every process
  // on the folder is woken by each delivery; one claims it, the others look again after).
  if (options.readOnly && options.claimNew && !options.curNames && listDirSync(newDir).length > 0) return null;

  let curByBase = new Map<string, string>();
  const indexCur = (names: string[]): void => {
    for (const name of names) {
      if (name.charCodeAt(0) === 46) continue; // dot files are not messages
      const base = baseOf(name);
      if (!curByBase.has(base)) curByBase.set(base, name);
    }
  };
  // Synchronous: readdir through the thread pool costs twice as long for 100,000 names.
  const curNames = options.curNames ?? listCur(curDir, memory);
  if (options.listed) options.listed.names = curNames;
  // The index of a listing used again is kept with it (10,000 names take as long to index as to read).
  const known = memory.cur?.names === curNames ? memory.cur : undefined;
  if (known?.byBase) curByBase = known.byBase;
  else {
    indexCur(curNames);
    if (known) known.byBase = curByBase;
  }

  // One pass over the database (100,000 lookups in a big folder, each a cache miss or two).
  // readdir is not atomic against renames: a file whose flags changed meanwhile can be
  // missed. Before calling a message gone, look once more (and go over it again).
  let kept: ScannedMessage[] = [];
  let missing = false;
  const keep = (): void => {
    kept = [];
    missing = false;
    let previous = 0;
    let ordered = true;
    for (const [base, uid] of db!.uids) {
      const fileName = curByBase.get(base);
      if (fileName === undefined) {
        missing = true;
        continue;
      }
      if (uid < previous) ordered = false;
      previous = uid;
      kept.push({ uid, base, fileName, fresh: false, claimed: false });
    }
    if (!ordered) kept.sort((a, b) => a.uid - b.uid);
  };
  keep();
  if (missing && [...db.uids.keys()].some((base) => !curByBase.has(base) && !options.expectedGone?.has(base))) {
    memory.cur = undefined;
    curByBase = new Map(curByBase); // the index may be the remembered one's
    indexCur(listNamesSync(curDir));
    keep();
  }
  if (missing) dirty = true;

  const newNames = listDirSync(newDir);
  const fresh: string[] = [];
  let unnumbered = 0;
  const leaveCur = options.numberCur === false && newNames.length > 0;
  // Every file in cur/ has its UID when as many were kept as there are: no second pass.
  if (kept.length !== curByBase.size) {
    for (const [base, fileName] of curByBase) {
      if (db.uids.has(base) || options.ignore?.has(base)) continue;
      if (leaveCur) unnumbered += 1;
      else fresh.push(fileName);
    }
  }
  const claimed = new Set<string>();

  let unclaimed: string[] = [];
  if (options.readOnly && (dirty || fresh.length || (options.claimNew && newNames.length))) return null;
  if (options.claimNew) {
    const moved = await mapLimit(newNames, 16, async (name) => {
      const target = name.includes(':') ? name : `${name}:2,`;
      if (curByBase.has(baseOf(target))) return null; // already in cur/ (half-done delivery); leave it
      try {
        await fs.rename(path.join(newDir, name), path.join(curDir, target));
        return target;
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return null; // claimed by someone else
        throw error;
      }
    });
    for (const name of moved) {
      if (name === null) continue;
      fresh.push(name);
      claimed.add(name);
    }
  } else {
    unclaimed = newNames;
  }

  let uidNext = db.uidNext;
  const ordered = sortMaildirNames(fresh);
  const added = new Array<ScannedMessage>(ordered.length);
  const anyClaimed = claimed.size > 0;
  for (let i = 0; i < ordered.length; i++) {
    const fileName = ordered[i];
    added[i] = { uid: uidNext++, base: baseOf(fileName), fileName, fresh: true, claimed: anyClaimed && claimed.has(fileName) };
  }

  if (dirty || added.length) {
    const uids = new Map<string, number>();
    for (const message of kept) uids.set(message.base, message.uid);
    for (const message of added) uids.set(message.base, message.uid);
    const oldNext = db.uidNext;
    db = { uidValidity: db.uidValidity, uidNext, uids };
    memory.db = undefined; // in case the write fails half-way
    memory.writing = (memory.writing ?? 0) + 1;
    try {
      // Only additions (a claim of new/): appended to the file, so that the other processes on
      // the folder read just those lines (see readUidDbTailSync).
      memory.stamp = !dirty && memory.stamp
        ? await extendUidDb(folderDir, db, added.map((m) => [m.base, m.uid]), memory.stamp, oldNext)
        : await writeUidDb(folderDir, db);
    } finally {
      memory.writing -= 1;
    }
    memory.db = db;
  }
  return { uidValidity: db.uidValidity, uidNext: db.uidNext, messages: [...kept, ...added], unclaimed, unnumbered };
}

/**
 * The names in cur/: the last listing again when the directory has not changed since it was
 * read (same inode, mtime and ctime, and the mtime was older than CUR_TRUST_MS then), as when a
 * session opens a folder and then claims new/ (only new/ changed in between).
 */
function listCur(curDir: string, memory: ScanMemory): string[] {
  let stamp: string | undefined;
  let trusted = false;
  try {
    const s = statSync(curDir);
    stamp = `${s.ino}/${s.mtimeMs}/${s.ctimeMs}`;
    // Any change after the read then gives a new mtime (the ctime in the stamp catches an mtime put back).
    trusted = Date.now() - s.mtimeMs > CUR_TRUST_MS;
  } catch {
    // missing: listNamesSync says so
  }
  const known = memory.cur;
  if (known && known.stamp === stamp) return known.names;
  const names = listNamesSync(curDir);
  memory.cur = stamp !== undefined && trusted ? { stamp, names } : undefined;
  return names;
}

/** Names in a directory, dot files included (indexCur leaves them out: one loop fewer). */
function listNamesSync(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
}

/**
 * A database without a \Recent mark was made by Courier or by an older version of ours: the
 * messages it numbered have been seen by a session, so the mark starts at its last UID (what
 * is numbered from now on is recent). False when a read-only scan would have to write it.
 */
async function ensureRecentMark(folderDir: string, db: UidDb, memory: ScanMemory, readOnly: boolean): Promise<boolean> {
  if (memory.recentMarked) return true;
  if (!hasRecentMark(folderDir)) {
    if (readOnly) return false;
    await writeRecentMark(folderDir, db.uidValidity, db.uidNext - 1);
  }
  memory.recentMarked = true;
  return true;
}

/**
 * Reads the database, or reuses the remembered copy when the file has not changed (same
 * inode, size and mtime: it is replaced by a rename, or extended by us under the lock).
 */
function loadDbSync(folderDir: string, memory: ScanMemory): UidDb | null {
  if (memory.db && memory.stamp) {
    const now = statUidDbSync(folderDir);
    if (sameStamp(memory.stamp, now)) return memory.db;
    // Extended by another process's claim or APPEND: only the lines it added are read.
    if (now && now.ino === memory.stamp.ino && now.size >= memory.stamp.size) {
      const db = memory.db;
      memory.db = undefined; // changed in place below: forgotten unless that works out
      const stamp = readUidDbTailSync(folderDir, db, memory.stamp);
      if (stamp) {
        memory.db = db;
        memory.stamp = stamp;
        return db;
      }
    }
  }
  const { db, stamp } = readUidDbSync(folderDir);
  memory.db = db ?? undefined;
  memory.stamp = stamp;
  return db;
}

/**
 * Gives UIDs to files the caller has just put into cur/ (APPEND, COPY, MOVE), in the
 * given order; the rest of the database is kept as it is (no directory scan). `wanted`: the
 * UID each should get if it can (an import keeping its source's UIDs): when it is at least
 * the UIDNEXT at its turn, so that UIDs still only ever ascend.
 */
export async function assignUids(
  folderDir: string,
  bases: readonly string[],
  memory: ScanMemory = {},
  root = folderDir,
  wanted?: readonly (number | undefined)[],
): Promise<{ uidValidity: number; uids: number[] }> {
  let db = loadDbSync(folderDir, memory);
  if (!db) {
    // No database yet: a full scan creates it, numbering the other files first; ours
    // are left to be numbered below, in the caller's order.
    await scanFolder(folderDir, { claimNew: false, ignore: new Set(bases), root }, memory);
    db = loadDbSync(folderDir, memory)!;
  } else {
    await ensureRecentMark(folderDir, db, memory, false);
  }
  // Changed in place (it is the remembered copy): forget it until the write succeeded.
  memory.db = undefined;
  const oldNext = db.uidNext;
  const uids: number[] = [];
  const added: [string, number][] = [];
  for (let i = 0; i < bases.length; i++) {
    const base = bases[i]!;
    let uid = db.uids.get(base);
    if (uid === undefined) {
      const want = wanted?.[i];
      if (want !== undefined && Number.isSafeInteger(want) && want >= db.uidNext) db.uidNext = want;
      uid = db.uidNext++;
      db.uids.set(base, uid);
      added.push([base, uid]);
    }
    uids.push(uid);
  }
  memory.writing = (memory.writing ?? 0) + 1;
  try {
    memory.stamp = await extendUidDb(folderDir, db, added, memory.stamp, oldNext);
  } finally {
    memory.writing -= 1;
  }
  memory.db = db;
  return { uidValidity: db.uidValidity, uids };
}
