// A new process after deliveries: the folder opens from the listing an earlier process left
// (listing.ts) although new/ changed since, and its first claim moves new/ into cur/ and
// appends the new UIDs to courierimapuiddb without listing cur/ or reading the database.
//
// That is exact only while everything else is as the listing describes it: cur/ and
// courierimapkeywords/ keep the stamps the listing was made with (it is written only of stamps
// that any later change would alter: listing.ts), courierimapuiddb is the very file it was
// made with, and so the listing's messages are cur/'s, with the UIDs the database gives them.
// This is checked again under the folder's lock before anything is moved; anything else
// (a flag renamed in cur/ by another program, a message gone, another process's claim, a
// database rewritten) and the folder is scanned as before.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { baseOf, sortMaildirNames } from './filenames.js';
import { type Entry, type FolderContext, NO_KEYWORDS } from './folder-entry.js';
import { diskKey, folderStamps } from './folder-stamps.js';
import { lockedUnlessBusy } from './follow.js';
import { errorCode, listDirSync, mapLimit } from './fsutil.js';
import { type KeywordMemory, readKeywords, sameKeywords } from './keywords.js';
import type { ListingHead } from './listing.js';
import { withCourierLock } from './lock.js';
import type { ScannedMessage } from './scan.js';
import { appendToUidDb, type FileStamp, sameStamp, statUidDbSync } from './uiddb.js';

/** Beyond the granularity of file times on Linux file systems (a jiffy, 1-10 ms). */
export const CLOCK_TICK_MS = 50;

/** Resolves after a poll phase of the event loop (two check phases: see FolderCore.confirmedCurrent). */
export function nextLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** What a state opened from a listing was read from; good for one claim while the state is unchanged. */
export interface ListedDisk {
  /** The listing's folder stamps (cur/, new/, courierimapkeywords/: folderStamps). */
  stamps: string;
  db: FileStamp;
  /** FolderCore.generation of the state the listing gave. */
  generation: number;
}

/** Per folder state: the listing it was opened from, good for one claim, and the bases that claim numbered. */
export class ListedOpen {
  disk: ListedDisk | undefined;
  /** base -> UID: the database was not read, and the claim's watcher events are judged by these (follow.ts). */
  private readonly claims = new Map<string, number>();

  uidOf(base: string): number | undefined {
    return this.claims.get(base);
  }

  numbered(messages: readonly ScannedMessage[]): void {
    for (const { base, uid } of messages) this.claims.set(base, uid);
  }

  /** After a scan: the state is no longer the listing's, and the database was read. */
  forget(): void {
    this.disk = undefined;
    this.claims.clear();
  }
}

/** The folder as claimIntoListed needs it (a FolderCore whose messages are the listing's). */
export interface ListedFolder {
  readonly dir: string;
  readonly context: FolderContext;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly entries: Map<number, Entry>;
  readonly generation: number;
  readonly keywordMemory: KeywordMemory;
  unclaimed: string[];
  expectOwn(names: readonly string[]): void;
}

/**
 * A look at a folder whose state is still the listing's (FolderCore.syncLocked): one that takes
 * nothing refreshes the names in new/ ('looked'); a claim takes them (see claimIntoListed). Null:
 * the folder must be scanned.
 */
export async function lookFromListing(folder: ListedFolder, opened: ListedOpen, options: { claimNew: boolean; follow?: boolean }): Promise<ListedClaim | 'looked' | null> {
  const listed = opened.disk;
  opened.disk = undefined;
  if (!listed || listed.generation !== folder.generation) return null;
  if (!options.claimNew) {
    // Another session's open, a STATUS: new/ is all that may have changed.
    if (!listedUnchanged(folder.dir, listed)) return null;
    folder.unclaimed = listDirSync(path.join(folder.dir, 'new'));
    opened.disk = listed;
    return 'looked';
  }
  const claim = (): Promise<ListedClaim | null> => claimIntoListed(folder, listed, folder.keywordMemory);
  // A look prompted by a watcher event gives way to a lock holder (follow.ts): the scan then follows it.
  const claimed = options.follow ? await lockedUnlessBusy(folder.dir, folder.context.useLocks, claim) : await withCourierLock(folder.dir, folder.context.useLocks, claim);
  if (claimed) opened.numbered(claimed.messages);
  return claimed;
}

/** What listCurrent needs of a FolderCore. */
export interface CurrentFolder {
  readonly dir: string;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly unclaimed: readonly string[];
  /** The disk key and newest mtime the state is known current at (FolderCore.markCurrent). */
  currentRecord(): { key: string; mtime: number } | undefined;
  isCurrent(): boolean;
  /** See FolderCore.judgeExplainedEvents. */
  judgeExplainedEvents(): boolean;
  exclusive<T>(task: () => Promise<T>): Promise<T>;
}

/**
 * The head of a listing of the state in memory, when it is known to be the disk's: after
 * changes of our own (APPEND, STORE, EXPUNGE) no settled scan made one. Known when the
 * watches saw no other change (isCurrent) and the newest directory mtime is older than a
 * clock tick, so that any later change alters the stamps the listing is checked against.
 * Undefined when it is not known.
 */
export async function currentListingHead(folder: CurrentFolder): Promise<ListingHead | undefined> {
  const before = folder.currentRecord();
  if (!before || !(await pastClockTick(before.mtime))) return undefined;
  return folder.exclusive(async () => {
    const record = folder.currentRecord();
    if (!record || folder.unclaimed.length) return undefined;
    // A timer may fire up to a millisecond early by Date.now() (libuv keeps its own clock), and
    // mtimes have fractions: that declined the listing now and then. In the queue, the rest is
    // waited for (a few ms at most; a later change of ours would have a newer record).
    if (!(await pastClockTick(record.mtime))) return undefined;
    await nextLoopTurn(); // the events of every change made before now are read
    // Those of our own changes may still wait to be judged (on a busy machine): judged now.
    if (!folder.judgeExplainedEvents()) return undefined;
    const stamps = folderStamps(folder.dir);
    const db = statUidDbSync(folder.dir);
    if (!stamps || !db || !folder.isCurrent() || folder.currentRecord()?.key !== record.key) return undefined;
    if (diskKey(stamps, db) !== record.key) return undefined;
    if (listDirSync(path.join(folder.dir, 'new')).length) return undefined;
    return { stamps, db, uidValidity: folder.uidValidity, uidNext: folder.uidNext };
  });
}

/**
 * Waits until the clock is more than a clock tick past `mtime` (a file's mtime, in ms). False,
 * at once, for an mtime ahead of the clock (a file server's clock): not worth waiting for.
 */
async function pastClockTick(mtime: number): Promise<boolean> {
  for (let wait = CLOCK_TICK_MS - (Date.now() - mtime); wait >= 0; wait = CLOCK_TICK_MS - (Date.now() - mtime)) {
    if (wait > CLOCK_TICK_MS + 5) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.floor(wait) + 1));
  }
  return true;
}

export interface ListedClaim {
  /** The messages moved from new/, ascending UIDs. */
  messages: ScannedMessage[];
  keywords: Map<string, string[]>;
  uidNext: number;
  /** courierimapuiddb after the claim. */
  db: FileStamp;
}

/** Folder stamps (folderStamps) that differ from `listed` in new/ alone, if at all. */
export function sameButNew(now: string, listed: string): boolean {
  const a = now.split(' ');
  const b = listed.split(' ');
  return a.length === 3 && b.length === 3 && a[0] === b[0] && a[2] === b[2];
}

/** Whether the disk is still the listing's but for new/: then the state opened from it is exact. */
export function listedUnchanged(dir: string, listed: ListedDisk): boolean {
  const stamps = folderStamps(dir);
  return stamps !== null && sameButNew(stamps, listed.stamps) && sameStamp(statUidDbSync(dir), listed.db);
}

/**
 * Under the folder's lock: moves new/ into cur/ and appends their UIDs to the database, when
 * the disk apart from new/ is still the listing's. Null when it is not (nothing was changed),
 * or when the database could not be extended in place after the files were moved (they are
 * in cur/ without a UID: the scan that follows numbers them, in the same order).
 */
export async function claimIntoListed(folder: ListedFolder, listed: ListedDisk, keywordMemory: KeywordMemory): Promise<ListedClaim | null> {
  const { dir } = folder;
  if (!listedUnchanged(dir, listed)) return null;
  const names = listDirSync(path.join(dir, 'new'));
  const oldNext = folder.uidNext;
  // A header that would grow by a digit cannot be rewritten in place: the scan writes it whole.
  if (String(oldNext + names.length).length !== String(oldNext).length) return null;
  const entries = folder.entries; // the listing's messages, read now
  // Already in cur/ (a delivery left half-done): left where it is, as the scan does. The few
  // new bases looked up by the listing's, not a set of all of them made (100,000 in a big folder).
  const newBases = new Set<string>();
  for (const name of names) newBases.add(baseOf(name.includes(':') ? name : `${name}:2,`));
  const inCur = new Set<string>();
  for (const entry of entries.values()) if (newBases.has(entry.base)) inCur.add(entry.base);
  const targets = new Map<string, string>();
  for (const name of names) {
    const target = name.includes(':') ? name : `${name}:2,`;
    if (!inCur.has(baseOf(target))) targets.set(name, target);
  }
  let keywords = new Map<string, string[]>();
  if (folder.context.keywords && listed.stamps.split(' ')[2] !== '-') {
    // Read for every message (readKeywords forgets records of bases it is not given), and the
    // listing's must agree: they do unless the directory changed within its clock tick.
    const all = new Set<string>();
    for (const entry of entries.values()) all.add(entry.base);
    for (const target of targets.values()) all.add(baseOf(target));
    keywords = await readKeywords(dir, () => all, keywordMemory);
    for (const entry of entries.values()) if (!sameKeywords(entry.keywords, keywords.get(entry.base) ?? NO_KEYWORDS)) return null;
  }

  // Their events in new/ and cur/ are our own: no look at the folder for them.
  folder.expectOwn([...targets.values(), ...[...targets.keys()].map((name) => `n/${name}`)]);
  const moved = await mapLimit([...targets], 16, async ([name, target]) => {
    try {
      await fs.rename(path.join(dir, 'new', name), path.join(dir, 'cur', target));
      return target;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null; // taken by a program that does not lock
      throw error;
    }
  });
  // Taken meanwhile by another program: its events may have been taken for ours. The scan that
  // follows sees where it went, and numbers what was moved here too.
  if (moved.includes(null)) return null;
  const ordered = sortMaildirNames(moved as string[]);
  let uidNext = oldNext;
  const messages = ordered.map((fileName): ScannedMessage => ({ uid: uidNext++, base: baseOf(fileName), fileName, fresh: true, claimed: true }));
  const db = messages.length
    ? appendToUidDb(dir, folder.uidValidity, messages.map((m) => [m.base, m.uid]), listed.db, oldNext, uidNext)
    : listed.db;
  if (!db) return null;
  return { messages, keywords, uidNext, db };
}
