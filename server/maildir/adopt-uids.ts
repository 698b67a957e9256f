// An import keeping another server's UIDs (Courier's courierimapuiddb, Dovecot's
// dovecot-uidlist): the empty target folder takes that server's UIDVALIDITY and UIDNEXT, so
// that the imported messages can get their old UIDs (appendMany's `uid` option) and a client
// that synced against the other server keeps its cache. Only an empty folder: a folder's
// messages keep the UIDs its clients know, and UIDs only ever ascend.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorCode } from './fsutil.js';
import { folderMutex, withCourierLock } from './lock.js';
import { writeRecentMark } from './recent.js';
import { readUidDb, writeUidDb } from './uiddb.js';

async function hasMessages(dir: string): Promise<boolean> {
  for (const sub of ['cur', 'new']) {
    let names: string[];
    try {
      names = await fs.readdir(path.join(dir, sub));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') continue;
      throw error;
    }
    if (names.some((n) => !n.startsWith('.'))) return true;
  }
  return false;
}

/**
 * The folder at `dir` takes `uidValidity` with a UIDNEXT of at least `uidNext` when it has no
 * message, or has that UIDVALIDITY already (then its UIDNEXT is raised to `uidNext`); true when
 * it has that UIDVALIDITY now, false when it holds messages under another. Under the folder's locks, as every change of its UID database.
 * Sessions that have the folder open see its UIDVALIDITY change as a folder made anew.
 */
export async function adoptUidValidity(dir: string, useLocks: boolean, uidValidity: number, uidNext: number): Promise<boolean> {
  if (!Number.isSafeInteger(uidValidity) || uidValidity < 1 || uidValidity > 0xffffffff) throw new RangeError(`bad UIDVALIDITY ${uidValidity}`);
  return folderMutex.run(dir, () =>
    withCourierLock(dir, useLocks, async () => {
      const { db } = await readUidDb(dir);
      if (db?.uidValidity === uidValidity) {
        if (db.uidNext < uidNext) await writeUidDb(dir, { ...db, uidNext });
        return true;
      }
      if (await hasMessages(dir)) return false;
      // The mark first, as for any new database: whoever reads the database finds its mark.
      await writeRecentMark(dir, uidValidity, 0);
      await writeUidDb(dir, { uidValidity, uidNext: Math.max(1, uidNext), uids: new Map() });
      return true;
    }),
  );
}
