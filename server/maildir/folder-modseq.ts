// Mod-sequences of a folder's messages (RFC 7162): given by the folder's ModseqLog
// (modseq.ts) whenever the state in memory changes, whoever changed the disk, and kept on the
// entries (Entry.info.modseq) so that CHANGEDSINCE and SEARCH MODSEQ read no file.

import type { FolderChange, MessageState } from '../backend/mailstore.js';
import type { Entry, FolderContext } from './folder-entry.js';
import { withCourierLock } from './lock.js';
import type { ModseqLog } from './modseq.js';

/** What this module needs of a FolderCore (an interface, so that folder-core.ts may import this module). */
export interface ModseqFolder {
  readonly dir: string;
  readonly name: string;
  readonly uidValidity: number;
  readonly context: FolderContext;
  readonly modseqs: ModseqLog;
  readonly entries: Map<number, Entry>;
  readonly tracker: { emit(change: FolderChange): void };
  /** These entries' info was replaced (FolderCore.infoChanged). */
  infoChanged(entries: Iterable<Entry>): void;
  /** Stamps whose changes the sessions have not been told yet; HIGHESTMODSEQ waits for them. */
  untold: number;
  /** The modseq applied before the first of those stamps: what HIGHESTMODSEQ reports meanwhile. */
  toldModseq: number;
  exclusive<T>(task: () => Promise<T>): Promise<T>;
}

/**
 * Records the new state of `entries` and the expunge of `expunged` (in the folder's queue,
 * before the sessions are told), and puts the modseqs on the entries. `complete`: the entries
 * are all the folder has (the first look), so recorded UIDs not among them were expunged.
 */
export async function stampEntries(core: ModseqFolder, entries: readonly Entry[], expunged: readonly number[], complete = false): Promise<Told> {
  if (!entries.length && !expunged.length && !complete) return () => undefined;
  const log = core.modseqs;
  // Until the caller has told the sessions (`told()`), HIGHESTMODSEQ stays below these modseqs:
  // a SELECT or STATUS meanwhile must not count a change its session will only hear of later.
  if (core.untold++ === 0) core.toldModseq = log.applied;
  let released = false;
  const told: Told = () => {
    if (!released) core.untold -= 1;
    released = true;
  };
  let modseqs: number[];
  try {
    modseqs = await withCourierLock(core.dir, core.context.useLocks, () =>
      log.stamp(core.uidValidity, entries.map((entry) => entry.info), expunged, complete, (uid) => core.entries.has(uid)),
    );
  } catch (error) {
    told();
    throw error;
  }
  if (log.writeError !== undefined) {
    core.context.logger?.log('warn', 'cannot write modseq file', { folder: core.name, error: String(log.writeError) });
  }
  const changed: Entry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (entry.info.modseq === modseqs[i]) continue;
    entry.info = { uid: entry.uid, flags: entry.info.flags, modseq: modseqs[i] };
    changed.push(entry);
  }
  if (changed.length) core.infoChanged(changed);
  return told;
}

/** Called once the sessions have been told of a stamp's changes (or when none are to be told). */
export type Told = () => void;

/** HIGHESTMODSEQ as the folder may report it: no modseq of a change not yet told. */
export function reportedModseq(core: Pick<ModseqFolder, 'untold' | 'toldModseq' | 'modseqs'>): number {
  return core.untold > 0 ? core.toldModseq : core.modseqs.applied;
}

/**
 * Puts the entries' new info into `list` (the messages in ascending UIDs, as `uids`) in place;
 * false when one is not where it should be (then the list is to be made anew).
 */
export function mendList(list: MessageState[], uids: readonly number[], entries: Iterable<Entry>): boolean {
  for (const entry of entries) {
    let lo = 0;
    let hi = uids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (uids[mid] < entry.uid) lo = mid + 1;
      else hi = mid;
    }
    if (list[lo]?.uid !== entry.uid) return false;
    list[lo] = entry.info;
  }
  return true;
}

/**
 * A folder opened from its listing (nothing changed since it was written): the modseq each
 * message was recorded with, for newEntry; 0 where the log does not know its flags (then
 * settleListed records it).
 */
export function recordedModseqs(core: ModseqFolder): (uid: number, flags: ReadonlySet<string>) => number {
  const log = core.modseqs;
  log.catchUp();
  return (uid, flags) => log.recorded(uid, flags) ?? 0;
}

/**
 * After the messages of a listing were read with recordedModseqs: those whose flags the log
 * does not know (`unknown`: the file was damaged or lost while the listing stayed) are
 * recorded anew in the queue, and the sessions told.
 */
export function settleListed(core: ModseqFolder, unknown: readonly Entry[]): void {
  const log = core.modseqs;
  log.applied = Math.max(log.applied, log.highest);
  if (!unknown.length) return;
  for (const entry of unknown) entry.info = { uid: entry.uid, flags: entry.info.flags, modseq: log.applied };
  void core
    .exclusive(async () => {
      const present = unknown.filter((entry) => core.entries.get(entry.uid) === entry);
      const told = await stampEntries(core, present, []);
      try {
        for (const entry of present) core.tracker.emit({ kind: 'flags', uid: entry.uid, flags: entry.info.flags, modseq: entry.info.modseq });
      } finally {
        told();
      }
    })
    .catch((error: unknown) => core.context.logger?.log('warn', 'cannot record modseqs', { folder: core.name, error: String(error) }));
}
