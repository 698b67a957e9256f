// \Recent across processes (one imapd per connection behind couriertcpd): the highest UID of a
// folder that some session has already been told of, kept beside Courier's files in
// imapd-ts.recent as "<uidvalidity> <uid>". A session told of messages above it takes them
// (advances it under the folder's lock), so that exactly one session, in any process, gets a
// message as \Recent: the first to be notified of it (RFC 3501 2.3.2), whether it came through
// new/, straight into cur/, or by APPEND or COPY. Dovecot keeps the same ("first recent UID")
// in its index. A mark of another UIDVALIDITY counts as none: the database was made anew and
// every message is new to every session, as Courier also treats it.

import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { errorCode, writeFileAtomicSync } from './fsutil.js';
import { tryCourierLock, withCourierLock } from './lock.js';

export const RECENT_FILE = 'imapd-ts.recent';

/** The mark as on disk; null when there is no (readable) file. */
function readMark(folderDir: string): { uidValidity: number; uid: number } | null {
  let text: string;
  try {
    text = readFileSync(path.join(folderDir, RECENT_FILE), 'latin1');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  const fields = /^(\d{1,10}) (\d{1,10})\n?$/.exec(text);
  return fields ? { uidValidity: Number(fields[1]), uid: Number(fields[2]) } : null;
}

/** The highest UID some session has been told of as recent (0: none yet). */
export function recentMark(folderDir: string, uidValidity: number): number {
  const mark = readMark(folderDir);
  return mark && mark.uidValidity === uidValidity ? mark.uid : 0;
}

export function hasRecentMark(folderDir: string): boolean {
  try {
    statSync(path.join(folderDir, RECENT_FILE));
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Writes the mark (call under the folder's lock). */
export async function writeRecentMark(folderDir: string, uidValidity: number, uid: number): Promise<void> {
  writeFileAtomicSync(path.join(folderDir, RECENT_FILE), `${uidValidity} ${uid}\n`, path.join(folderDir, 'tmp'));
}

/**
 * Takes the messages up to `upTo` for the calling session: returns the mark as it was, so
 * that the UIDs above it (and up to `upTo`) are recent for the caller and for nobody else.
 * Without the lock first: usually another session has them already, and then nothing is written.
 */
export async function claimRecent(folderDir: string, uidValidity: number, upTo: number, useLocks: boolean): Promise<number> {
  const seen = recentMark(folderDir, uidValidity);
  if (seen >= upTo) return seen;
  const take = async (): Promise<number> => {
    const before = recentMark(folderDir, uidValidity);
    if (before < upTo) await writeRecentMark(folderDir, uidValidity, upTo);
    return before;
  };
  // Every process on the folder gets here for the same new messages: while another holds the
  // lock (usually taking them), look at the mark again instead of queueing behind it.
  for (let tries = 0; useLocks && tries < CLAIM_TRIES; tries++) {
    const release = tryCourierLock(folderDir);
    if (release) {
      try {
        return await take();
      } finally {
        await release();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10 * (tries + 1)));
    const now = recentMark(folderDir, uidValidity);
    if (now >= upTo) return now;
  }
  return withCourierLock(folderDir, useLocks, take);
}

/** Attempts at the lock before claimRecent waits for it as anyone else. */
const CLAIM_TRIES = 20;
