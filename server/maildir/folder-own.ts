// Changes this process makes to a folder itself, followed in memory without a scan: the
// messages it removed (EXPUNGE, MOVE) and those it put in (APPEND, COPY, MOVE). Called in the
// folder's queue, between FolderCore.ownChangeBegins() and ownChangeDone().

import type { FolderCore } from './folder-core.js';
import { type Arrival, type Entry, newEntry } from './folder-entry.js';
import { stampEntries } from './folder-modseq.js';
import { withCourierLock } from './lock.js';
import { sameStamp, statUidDbSync, writeUidDb } from './uiddb.js';

/**
 * This process removed these messages' files (EXPUNGE, MOVE): they leave the UID database
 * (one write for the batch) and the state, and the sessions are told, without a scan. False
 * when the database is not the one this process last read or wrote (nothing is done then:
 * the caller scans).
 */
export async function removedOwn(core: FolderCore, entries: readonly Entry[]): Promise<boolean> {
  if (!entries.length) return true;
  const written = await withCourierLock(core.dir, core.context.useLocks, async () => {
    const memory = core.scanMemory;
    const db = memory.db;
    if (!db || !memory.stamp || !sameStamp(memory.stamp, statUidDbSync(core.dir)) || db.uidValidity !== core.uidValidity) return false;
    const gone = new Set(entries.map((entry) => entry.base));
    const uids = new Map<string, number>();
    for (const [base, uid] of db.uids) if (!gone.has(base)) uids.set(base, uid);
    const next = { uidValidity: db.uidValidity, uidNext: db.uidNext, uids };
    memory.db = undefined; // in case the write fails half-way
    memory.writing = (memory.writing ?? 0) + 1;
    try {
      memory.stamp = await writeUidDb(core.dir, next);
    } finally {
      memory.writing -= 1;
    }
    memory.db = next;
    return true;
  });
  if (!written) return false;
  const expunged = entries.map((entry) => entry.uid).sort((a, b) => a - b);
  for (const uid of expunged) core.entries.delete(uid);
  const told = await stampEntries(core, [], expunged);
  try {
    const removed = new Set(expunged);
    core.sortedUids = core.sortedUids.filter((uid) => !removed.has(uid));
    core.generation += 1;
    core.messageList = undefined;
    core.pruneNeeded = true; // the caches forget what is gone
    core.scheduleInfoSave();
    core.tracker.emit({ kind: 'expunged', uids: expunged });
  } finally {
    told();
  }
  core.textIndexDue();
  return true;
}

/**
 * This process put messages into the folder (APPEND, COPY, MOVE) and holds its queue:
 * make them known, recent for the first session. When their UIDs follow ours directly
 * they are added as they are; otherwise (another process numbered messages meanwhile)
 * by a scan, so that sessions always learn of UIDs in ascending order. `clean`: from
 * ownChangeBegins() before the messages went in.
 */
export async function arrivedLocked(core: FolderCore, uidValidity: number, arrivals: readonly Arrival[], clean: boolean): Promise<void> {
  core.watch.noteLocalChange();
  if (!core.initialized || core.gone) {
    // The first scan will find them; the account's fan-out hears of them now (NOTIFY).
    if (!core.gone && arrivals.length) core.tracker.changed('new');
    return;
  }
  const sorted = [...arrivals].sort((a, b) => a.uid - b.uid);
  const contiguous = uidValidity === core.uidValidity && sorted.every((a, i) => a.uid === core.uidNext + i);
  if (!contiguous) {
    await core.syncLocked({ claimNew: false });
    return;
  }
  const added: Entry[] = [];
  for (const arrival of sorted) {
    if (arrival.stored) core.cache.info.remember(arrival.base, arrival.stored);
    const entry = newEntry(arrival);
    core.entries.set(entry.uid, entry);
    core.sortedUids.push(entry.uid);
    added.push(entry);
  }
  const told = added.length ? await stampEntries(core, added, []) : () => undefined;
  try {
    core.ownChangeDone(clean);
    if (!added.length) return;
    core.generation += 1;
    core.uidNext = sorted[sorted.length - 1].uid + 1;
    core.messageList = undefined;
    core.scheduleInfoSave();
    await core.emitAdded(added, undefined);
  } finally {
    told();
  }
}
