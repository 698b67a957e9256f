// courierimapuiddb: the UID <-> file mapping of one folder, in Courier's format.
//
//   1 <uidvalidity> <nextuid>
//   <uid> <base>            (one per message, ascending UIDs)
//
// It is rewritten as a whole through a file in tmp/ and a rename, like Courier does.
// When it is missing but Dovecot's dovecot-uidlist is there, the UIDs are taken from
// it, so that a migration from Dovecot does not make every client download again.

import { closeSync, constants as fsConstants, fstatSync, openSync, promises as fs, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { errorCode, writeFileAtomic } from './fsutil.js';
import { withDotLock } from './lock.js';

export const UIDDB_FILE = 'courierimapuiddb';
const DOVECOT_UIDLIST = 'dovecot-uidlist';
const VERSION = 1;
/** Courier subtracts this from the clock ("Y2038 is on the horizon"). */
const IMAP_EPOCH = 1_000_000_000;

export interface UidDb {
  uidValidity: number;
  uidNext: number;
  /** base -> UID. */
  uids: Map<string, number>;
}

/** Identity of the file last read, to skip re-reading an unchanged database. */
export interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return !!a && !!b && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

export function parseUidDb(text: string): UidDb | null {
  const lines = text.split('\n');
  const header = /^(\d+) (\d+) (\d+)$/.exec(lines[0]?.trim() ?? '');
  if (!header || Number(header[1]) !== VERSION) return null;
  const uidValidity = Number(header[2]);
  let uidNext = Number(header[3]);
  const uids = new Map<string, number>();
  // UIDs ascend in a database that is whole: a UID above all before cannot be a repeat,
  // and the set of UIDs seen is only made for one that is not.
  let seenUids: Set<number> | undefined;
  let highest = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const uid = Number(line.slice(0, space));
    const base = line.slice(space + 1);
    if (!Number.isSafeInteger(uid) || uid <= 0 || !base || uids.has(base)) continue;
    if (uid <= highest) {
      seenUids ??= new Set(uids.values());
      if (seenUids.has(uid)) continue;
      seenUids.add(uid);
    } else {
      highest = uid;
      seenUids?.add(uid);
    }
    uids.set(base, uid);
    // A damaged header must never make us hand out a UID twice.
    if (uid >= uidNext) uidNext = uid + 1;
  }
  if (!(uidValidity > 0)) return null;
  return { uidValidity, uidNext: Math.max(uidNext, 1), uids };
}

export function formatUidDb(db: UidDb): string {
  let text = `${VERSION} ${db.uidValidity} ${db.uidNext}\n`;
  // Usually in ascending UIDs already (scans make it so): sorted only when not.
  let previous = 0;
  for (const [base, uid] of db.uids) {
    if (uid < previous) return formatSorted(db);
    previous = uid;
    text += `${uid} ${base}\n`;
  }
  return text;
}

function formatSorted(db: UidDb): string {
  const entries = [...db.uids].sort((a, b) => a[1] - b[1]);
  let text = `${VERSION} ${db.uidValidity} ${db.uidNext}\n`;
  for (const [base, uid] of entries) text += `${uid} ${base}\n`;
  return text;
}

/** Reads the database; null when it is missing or unreadable (a new one must be made). */
export async function readUidDb(folderDir: string): Promise<{ db: UidDb | null; stamp?: FileStamp }> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path.join(folderDir, UIDDB_FILE), 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { db: null };
    throw error;
  }
  try {
    const stat = await handle.stat();
    const text = await handle.readFile('utf8');
    return { db: parseUidDb(text), stamp: { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs } };
  } finally {
    await handle.close();
  }
}

/** readUidDb, synchronously (SELECT reads it on every open). */
export function readUidDbSync(folderDir: string): { db: UidDb | null; stamp?: FileStamp } {
  let fd: number;
  try {
    fd = openSync(path.join(folderDir, UIDDB_FILE), 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { db: null };
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    const text = readFileSync(fd, 'utf8');
    return { db: parseUidDb(text), stamp: { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs } };
  } finally {
    closeSync(fd);
  }
}

/**
 * Brings `db` (read from the file `previous` describes) up to date when the file was only
 * extended since (extendUidDb: same inode, lines added at the end, the header rewritten in
 * place): reads the header and the added lines alone, and adds them to `db` in place. The new
 * stamp, or null when the file changed otherwise (then it must be read whole; `db` is untouched).
 * Processes that share a folder read each other's claims this way, without a rescan.
 */
export function readUidDbTailSync(folderDir: string, db: UidDb, previous: FileStamp): FileStamp | null {
  let fd: number;
  try {
    fd = openSync(path.join(folderDir, UIDDB_FILE), 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (stat.ino !== previous.ino || stat.size < previous.size || previous.size < 1) return null;
    const head = Buffer.alloc(Math.min(64, stat.size));
    const headLength = readSync(fd, head, 0, head.length, 0);
    const newline = head.subarray(0, headLength).indexOf(10);
    const header = newline < 0 ? null : /^(\d+) (\d+) (\d+)$/.exec(head.toString('latin1', 0, newline));
    if (!header || Number(header[1]) !== VERSION || Number(header[2]) !== db.uidValidity) return null;
    // The byte before the old end too: the added part must start a line.
    const tail = Buffer.alloc(stat.size - previous.size + 1);
    if (readSync(fd, tail, 0, tail.length, previous.size - 1) !== tail.length || tail[0] !== 10) return null;
    if (tail.length > 1 && tail[tail.length - 1] !== 10) return null; // a line still being written
    const added: [string, number][] = [];
    let uidNext = Math.max(db.uidNext, Number(header[3]));
    const lines = tail.toString('utf8', 1).split('\n');
    for (const line of lines) {
      if (!line) continue;
      const space = line.indexOf(' ');
      const uid = Number(line.slice(0, space));
      const base = line.slice(space + 1);
      // Lines are only ever added above every UID given: anything else is a file changed otherwise.
      if (space <= 0 || !Number.isSafeInteger(uid) || uid < db.uidNext || !base || db.uids.has(base)) return null;
      if (added.length && uid <= added[added.length - 1]![1]) return null;
      added.push([base, uid]);
      if (uid >= uidNext) uidNext = uid + 1;
    }
    for (const [base, uid] of added) db.uids.set(base, uid);
    db.uidNext = uidNext;
    return { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/**
 * The database's stamp, through open() and fstat(), not stat(): on NFS, open() fetches the
 * attributes afresh (close-to-open consistency) where stat() may answer from the client's cache
 * for seconds, and under courier.lock another host's extension of the file must be seen before
 * a UID is given.
 */
export function statUidDbSync(folderDir: string): FileStamp | undefined {
  let fd: number;
  try {
    fd = openSync(path.join(folderDir, UIDDB_FILE), 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    return { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

export async function statUidDb(folderDir: string): Promise<FileStamp | undefined> {
  try {
    const stat = await fs.stat(path.join(folderDir, UIDDB_FILE));
    return { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writeUidDb(folderDir: string, db: UidDb): Promise<FileStamp> {
  // UTF-8 both ways, as readdir() decodes the names we compare with. The stamp is the one of
  // the file we wrote (a rename keeps inode, size and mtime), not of whatever is there after.
  const stat = await writeFileAtomic(path.join(folderDir, UIDDB_FILE), formatUidDb(db), path.join(folderDir, 'tmp'));
  return { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
}

/**
 * Records new UIDs (above all others) by appending their lines to the file and rewriting
 * the header in place, as long as the file is the one `previous` describes and the header
 * keeps its length; otherwise the whole file is rewritten. With 100,000 messages a rewrite
 * is 5 MB per APPEND. A crash in between leaves either a line without the new header, which
 * parseUidDb repairs (UIDs are taken above the highest line), or a header a little ahead
 * of the lines, which only skips a UID.
 */
export async function extendUidDb(folderDir: string, db: UidDb, added: readonly [string, number][], previous: FileStamp | undefined, oldNext: number): Promise<FileStamp> {
  if (previous && added.length) {
    const stamp = appendToUidDb(folderDir, db.uidValidity, added, previous, oldNext, db.uidNext);
    if (stamp) return stamp;
  }
  return writeUidDb(folderDir, db);
}

/**
 * extendUidDb's in-place part alone: appends the lines and rewrites the header from `oldNext` to
 * `newNext`, when the file is the one `previous` describes, its header is exactly the old one and
 * keeps its length. Null when it is not so (nothing written): the whole file must be written.
 */
export function appendToUidDb(folderDir: string, uidValidity: number, added: readonly [string, number][], previous: FileStamp, oldNext: number, newNext: number): FileStamp | null {
  const oldHeader = `${VERSION} ${uidValidity} ${oldNext}\n`;
  const newHeader = `${VERSION} ${uidValidity} ${newNext}\n`;
  if (oldHeader.length !== newHeader.length) return null;
  // Synchronous: a few small reads and writes under the lock, done for every APPEND; the
  // thread pool's hand-overs would cost more than the work.
  let fd: number | undefined;
  try {
    // Not through a symlink: then the whole file is written anew (a rename replaces the link).
    fd = openSync(path.join(folderDir, UIDDB_FILE), fsConstants.O_RDWR | fsConstants.O_NOFOLLOW);
    const stat = fstatSync(fd);
    const head = Buffer.alloc(oldHeader.length);
    const last = Buffer.alloc(1);
    const current = { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
    if (
      !sameStamp(current, previous) ||
      readSync(fd, head, 0, head.length, 0) !== head.length ||
      head.toString('latin1') !== oldHeader ||
      readSync(fd, last, 0, 1, stat.size - 1) !== 1 ||
      last[0] !== 10
    ) {
      return null;
    }
    const lines = Buffer.from(added.map(([base, uid]) => `${uid} ${base}\n`).join(''), 'utf8');
    writeFullySync(fd, lines, stat.size);
    writeFullySync(fd, Buffer.from(newHeader, 'latin1'), 0);
    const after = fstatSync(fd);
    return { ino: after.ino, size: after.size, mtimeMs: after.mtimeMs };
  } catch (error) {
    if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ELOOP') throw error;
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeFullySync(fd: number, data: Buffer, position: number): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done, position + done);
}

/** The Maildir's UIDVALIDITY counter (at its root): the last value given to any of its folders. */
export const UIDVALIDITY_FILE = 'imapd-ts.uidvalidity';
const UIDVALIDITY_LOCK = 'imapd-ts.uidvalidity.lock';

let lastUidValidity = 0;

/**
 * A UIDVALIDITY for a new database of a folder of the Maildir at `root`: the clock as Courier
 * computes it, but always above the last value given in this Maildir (the counter file, read
 * and advanced under its own dot-lock), so that a folder deleted and made again, by any
 * process and within the same second, never gets its old value back (RFC 3501 2.3.1.1).
 * The lock is taken by nothing else, so holding a folder's lock meanwhile cannot deadlock.
 */
export async function newUidValidity(root: string, now = Date.now()): Promise<number> {
  const file = path.join(root, UIDVALIDITY_FILE);
  const tmpDir = path.join(root, 'tmp');
  return withDotLock(tmpDir, UIDVALIDITY_LOCK, async () => {
    let last = 0;
    try {
      const text = readFileSync(file, 'utf8').trim();
      if (/^\d{1,10}$/.test(text)) last = Number(text);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    const value = Math.max(Math.floor(now / 1000) - IMAP_EPOCH, last + 1, lastUidValidity + 1);
    await writeFileAtomic(file, `${value}\n`, tmpDir);
    lastUidValidity = value;
    return value;
  });
}

/**
 * Dovecot's uidlist (versions 1 and 3): "3 V<uidvalidity> N<nextuid> ..." then
 * "<uid> [<ext> ...] :<base>" (v3) or "<uid> <base>" (v1).
 */
export function parseDovecotUidList(text: string): UidDb | null {
  const lines = text.split('\n');
  const header = lines[0]?.trim().split(' ') ?? [];
  let uidValidity = 0;
  let uidNext = 1;
  const version = header[0];
  if (version === '1' && header.length >= 3) {
    uidValidity = Number(header[1]);
    uidNext = Number(header[2]);
  } else if (version === '3') {
    for (const field of header.slice(1)) {
      if (field.startsWith('V')) uidValidity = Number(field.slice(1));
      else if (field.startsWith('N')) uidNext = Number(field.slice(1));
    }
  } else {
    return null;
  }
  if (!(uidValidity > 0) || !Number.isSafeInteger(uidNext)) return null;
  const uids = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const uid = Number(line.slice(0, space));
    let rest = line.slice(space + 1);
    if (version === '3') {
      const colon = rest.indexOf(':');
      if (colon < 0) continue;
      rest = rest.slice(colon + 1);
    }
    const base = rest.includes(':') ? rest.slice(0, rest.lastIndexOf(':')) : rest;
    if (!Number.isSafeInteger(uid) || uid <= 0 || !base) continue;
    uids.set(base, uid);
    if (uid >= uidNext) uidNext = uid + 1;
  }
  return { uidValidity, uidNext, uids };
}

export async function readDovecotUidList(folderDir: string): Promise<UidDb | null> {
  try {
    return parseDovecotUidList(await fs.readFile(path.join(folderDir, DOVECOT_UIDLIST), 'utf8'));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}
