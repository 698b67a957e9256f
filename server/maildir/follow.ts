// Many processes on one folder (one imapd per connection, as under couriertcpd): a delivery
// into new/ wakes every process's watcher at once. One of them has to claim it (take
// tmp/courier.lock, move new/ to cur/, extend courierimapuiddb); the others only need to read
// the result. A look prompted by a watcher event therefore does not queue on the lock: when
// another process holds it (most likely claiming this very delivery), the look is given up and
// made again a little later, without the lock if nothing is left to write (scan.ts reads just
// the lines added to the database). Queueing instead made 100 processes take the lock one
// after the other, each rescanning the folder under it: seconds for the last one.
//
// The delays are jittered so that the followers do not all look at the same moment, and grow;
// after MAX_FOLLOW_MS of giving way a look waits for the lock as any other (a holder that never
// finishes, or keeps taking it, cannot keep a folder's changes from being seen).

import { statSync } from 'node:fs';
import path from 'node:path';
import { baseOf } from './filenames.js';
import { tryCourierLock, withCourierLock } from './lock.js';
import { UIDDB_FILE } from './uiddb.js';

const FIRST_DELAY_MS = 15;
const MAX_DELAY_MS = 250;
const MAX_FOLLOW_MS = 2000;
/** Giving way again after this long without is a new episode. */
const EPISODE_GAP_MS = 1000;

interface Episode {
  since: number;
  last: number;
  tries: number;
}

const episodes = new Map<string, Episode>();

/**
 * For a look prompted by a watcher event: `task` under the folder's Courier lock, or null when
 * another process holds it; the caller then looks again after followDelay().
 */
export async function lockedUnlessBusy<T>(folderDir: string, useLocks: boolean, task: () => Promise<T>): Promise<T | null> {
  if (!useLocks) return task();
  const now = Date.now();
  let episode = episodes.get(folderDir);
  if (episode && now - episode.last > EPISODE_GAP_MS) episode = undefined;
  if (episode && now - episode.since > MAX_FOLLOW_MS) {
    episodes.delete(folderDir);
    return withCourierLock(folderDir, true, task);
  }
  const release = tryCourierLock(folderDir);
  if (!release) {
    if (!episode) episodes.set(folderDir, (episode = { since: now, last: now, tries: 0 }));
    episode.last = now;
    return null;
  }
  episodes.delete(folderDir);
  try {
    return await task();
  } finally {
    await release();
  }
}

/** How long to wait before looking again at a folder whose lock was busy: grows, with jitter. */
export function followDelay(folderDir: string): number {
  const episode = episodes.get(folderDir);
  const tries = episode ? episode.tries++ : 0;
  const base = Math.min(FIRST_DELAY_MS * 2 ** tries, MAX_DELAY_MS);
  return Math.round(base / 2 + Math.random() * base);
}

/** A watcher event not yet looked into: the directory it came from and the name it gave. */
export interface PendingEvent {
  where: 'new' | 'cur' | 'folder' | 'keywords';
  file: string | null;
}

/** What a folder's state knows, for explainedEvents. */
export interface KnownState {
  /** The name in cur/ of the message with this base, as the last look saw it. */
  nameOf(base: string): string | undefined;
  /** courierimapuiddb is the file this process last read or wrote. */
  uidDbKnown(): boolean;
}

/**
 * Whether every event is explained by what the state already knows, so that no look is
 * needed. Each delivery sends every process events for new/ (the delivery and its claim), cur/
 * (the claim) and courierimapuiddb (the new UID); by the time a process handles them it has
 * often looked already (it claimed, or followed the claimer). An event is explained when:
 * - new/NAME: NAME is gone from new/ and its message has a UID in the state (it was claimed);
 * - cur/NAME: NAME is in cur/ and is the state's name of its message (its arrival, seen);
 * - courierimapuiddb: the file is the one last read or written.
 * Anything else (another name, a name gone from cur/, a directory, no name) needs a look. A
 * stat per event: far less than listing cur/.
 */
export function explainedEvents(folderDir: string, events: readonly PendingEvent[], known: KnownState): boolean {
  for (const { where, file } of events) {
    if (file === null || file.charCodeAt(0) === 46) {
      if (file === null) return false;
      continue; // dot files in cur/ or new/ are not messages
    }
    if (where === 'folder') {
      if (file === UIDDB_FILE && known.uidDbKnown()) continue;
      return false;
    }
    if (where === 'keywords') return false;
    const exists = present(path.join(folderDir, where, file));
    if (where === 'new') {
      if (exists || known.nameOf(baseOf(file)) === undefined) return false;
    } else if (!exists || known.nameOf(baseOf(file)) !== file) {
      return false;
    }
  }
  return true;
}

function present(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}
