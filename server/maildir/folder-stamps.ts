// What a folder's state is checked against on disk: the stamps of its directories, and
// the scratch that crashed deliveries leave in tmp/.

import { promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { IO_PARALLEL } from './folder-entry.js';
import { errorCode, isDeadScratch, listDirSync, mapLimit } from './fsutil.js';
import { KEYWORD_DIR } from './keywords.js';
import type { FileStamp } from './uiddb.js';

const TMP_MAX_AGE_MS = 36 * 3600_000;

/**
 * Removes what crashed deliveries left in tmp/ (older than 36 hours, as Courier does).
 * By ctime, as Courier: a file being delivered may already carry an old mtime (INTERNALDATE).
 * Our own scratch files (listing, caches, keywords) go at once when their process is dead.
 */
export async function purgeTmp(folderDir: string): Promise<void> {
  const tmpDir = path.join(folderDir, 'tmp');
  const limit = Date.now() - TMP_MAX_AGE_MS;
  await mapLimit(listDirSync(tmpDir), IO_PARALLEL, async (name) => {
    try {
      const stat = await fs.stat(path.join(tmpDir, name));
      if (stat.isFile() && (stat.ctimeMs < limit || isDeadScratch(name))) await fs.unlink(path.join(tmpDir, name));
    } catch {
      // gone already, or not ours to remove
    }
  });
}

/** Past this age (ms) a directory mtime can be trusted to change with the next change (clock ticks are coarse). */
const SETTLED_MS = 1000;

/**
 * What decides whether a folder's listing changed: cur/, new/ and courierimapkeywords/
 * (mtime of the directory: every change is a rename, a link or an unlink in it). The UID
 * database is looked at on its own (FolderCore.dbStamp). Null when the folder is gone.
 */
export function folderStamps(dir: string): string | null {
  const stamp = (file: string): string => {
    try {
      const s = statSync(file);
      // ctime too: it changes with any change, even one whose mtime was put back (cp -a, rsync -t).
      return `${s.ino}/${s.mtimeMs}/${s.ctimeMs}/${s.size}`;
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return '-';
      throw error;
    }
  };
  const [cur, fresh, keywords] = ['cur', 'new', KEYWORD_DIR].map((name) => stamp(path.join(dir, name)));
  if (cur === '-') return null;
  return [cur, fresh, keywords].join(' ');
}

export function listingKey(stamps: string, db: FileStamp): string {
  return `${stamps} ${db.ino}/${db.size}/${db.mtimeMs}`;
}

/** The newest mtime in the stamps. */
export function newestMtime(stamps: string): number {
  let newest = 0;
  for (const part of stamps.split(' ')) if (part !== '-') newest = Math.max(newest, Number(part.split('/')[1]));
  return newest;
}

/** All the mtimes in the stamps are older than SETTLED_MS before `time`. */
export function settled(stamps: string, time: number): boolean {
  for (const part of stamps.split(' ')) {
    if (part === '-') continue;
    const mtimeMs = Number(part.split('/')[1]);
    if (!(time - mtimeMs > SETTLED_MS)) return false;
  }
  return true;
}

/** The folder stamps with the UID database's: what FolderCore.isCurrent compares. */
export function diskKey(stamps: string, db: FileStamp | undefined): string {
  return db ? `${stamps} ${db.ino}/${db.size}/${db.mtimeMs}` : `${stamps} -`;
}
