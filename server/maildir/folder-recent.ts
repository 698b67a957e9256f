// \Recent as the sessions of this process learn it: which session new messages are recent
// for, and what SELECT takes that nobody has been told of (see recent.ts for the mark on disk).

import type { MessageState } from '../backend/mailstore.js';
import type { Entry, FolderContext } from './folder-entry.js';
import { claimRecent, recentMark } from './recent.js';
import type { FolderTracker, TrackedSession } from './tracker.js';

/** What these need of a folder (FolderCore). */
export interface RecentFolder {
  readonly dir: string;
  readonly name: string;
  readonly context: FolderContext;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly gone: boolean;
  readonly sortedUids: readonly number[];
  readonly entries: ReadonlyMap<number, Entry>;
  readonly tracker: FolderTracker;
  /** The messages in ascending UIDs (FolderCore.snapshot().messages). */
  messageStates(): readonly MessageState[];
}

/** Tells the sessions of new messages (ascending UIDs); those nobody was told of yet are recent for one of them. */
export async function announceAdded(folder: RecentFolder, added: readonly Entry[], claimant: TrackedSession | undefined): Promise<void> {
  const sessions = folder.tracker.list();
  const taker = folder.tracker.taker(claimant);
  // Without the mark (it cannot be taken), the added messages are recent, and only they:
  // the messages sessions know already were told of before.
  const before = await recentBefore(folder, added[added.length - 1].uid, taker, added[0].uid - 1);
  // Two runs, each in ascending UIDs: those some session was told of already, then the recent ones.
  let split = added.findIndex((entry) => entry.uid > before);
  if (split < 0) split = added.length;
  const seen = added.slice(0, split).map((entry) => entry.info);
  const fresh = added.slice(split).map((entry) => entry.info);
  // Messages known before these that nobody had been told of as recent (a STATUS numbered
  // them, say): taken too, so they are recent for the taker, which knows them already.
  const known: MessageState[] = [];
  const uids = folder.sortedUids;
  let from = uids.length;
  while (from > 0 && uids[from - 1] > before) from--;
  for (let i = from; i < uids.length && uids[i] < added[0].uid; i++) known.push(folder.entries.get(uids[i])!.info);
  folder.tracker.added(sessions, known, seen, fresh, taker);
}

/**
 * The \Recent mark before `taker` (if any) takes the messages up to `upTo`: UIDs above it
 * are recent. When it cannot be taken (the lock is held too long, the file is unusable), the
 * messages above `inDoubt` count as recent without it (RFC 3501 2.3.2: when in doubt, a
 * message is recent).
 */
async function recentBefore(folder: RecentFolder, upTo: number, taker: TrackedSession | undefined, inDoubt: number): Promise<number> {
  try {
    if (!taker) return recentMark(folder.dir, folder.uidValidity);
    return await claimRecent(folder.dir, folder.uidValidity, upTo, folder.context.useLocks);
  } catch (error) {
    folder.context.logger?.log('warn', 'cannot update the recent mark', { folder: folder.name, error: String(error) });
    return inDoubt;
  }
}

/**
 * SELECT and EXAMINE: the messages of the folder that no session has been told of yet are
 * recent for this handle (taken by it unless it is read-only), delivered to it again as
 * "added" with recent set. Reads the messages only when there are such (call inside the folder's queue).
 */
export async function tellRecent(folder: RecentFolder, handle: TrackedSession): Promise<void> {
  if (folder.gone || !folder.tracker.has(handle) || !handle.hasListeners()) return;
  const top = folder.uidNext - 1; // every UID the folder has given is below uidNext
  if (top < 1 || recentMark(folder.dir, folder.uidValidity) >= top) return;
  const before = await recentBefore(folder, top, handle.readOnly ? undefined : handle, 0);
  // The messages above the mark: a slice of the list from the first of them (found by halving).
  const list = folder.messageStates();
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].uid <= before) lo = mid + 1;
    else hi = mid;
  }
  if (lo < list.length) handle.deliverAdded(list.slice(lo), true);
}

/** How many messages no session has been told of yet (STATUS RECENT, with what is still in new/). */
export function untoldCount(folder: RecentFolder): number {
  const before = recentMark(folder.dir, folder.uidValidity);
  let count = 0;
  for (let i = folder.sortedUids.length - 1; i >= 0 && folder.sortedUids[i] > before; i--) count++;
  return count;
}
