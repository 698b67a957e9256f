// A look at the disk (FolderCore.syncLocked): the folder scanned, or claimed into a state
// opened from its listing (folder-reopen.ts), and what changed applied to the state in memory,
// recorded (modseqs, caches, listing) and told to the sessions.

import { parseFileName } from './filenames.js';
import { type Entry, flagSet, newEntry, NO_KEYWORDS, sameSystemFlags } from './folder-entry.js';
import { stampEntries } from './folder-modseq.js';
import { type ListedFolder, lookFromListing } from './folder-reopen.js';
import { diskKey, folderStamps, purgeTmp, settled } from './folder-stamps.js';
import { type ListingFolder, loadListing, noteListing } from './folder-listing.js';
import type { FolderWatch } from './folder-watch.js';
import { followDelay, lockedUnlessBusy } from './follow.js';
import { keywordsIfUnchanged, readKeywords, sameKeywords } from './keywords.js';
import { withCourierLock } from './lock.js';
import { type ScannedMessage, type ScanResult, scanFolder } from './scan.js';
import type { FolderTracker, TrackedSession } from './tracker.js';
import { sameStamp, statUidDbSync } from './uiddb.js';

export interface SyncOptions {
  claimNew: boolean;
  /** Number cur/ files without a UID (default true; see ScanOptions). */
  numberCur?: boolean;
  /** Handle whose refresh() this is: it gets \Recent for what is claimed. */
  claimant?: TrackedSession;
  expectedGone?: ReadonlySet<string>;
  /** Prompted by a watcher event: give way to another process holding the lock (follow.ts). */
  follow?: boolean;
}

/** What a look needs of a FolderCore (an interface, so that folder-core.ts may import this module). */
export interface LookingFolder extends ListingFolder, ListedFolder {
  uidValidity: number;
  uidNext: number;
  unclaimed: string[];
  generation: number;
  current: string | undefined;
  looks: number;
  sortedUids: number[];
  readonly relocated: Set<Entry>;
  readonly watch: FolderWatch;
  readonly tracker: FolderTracker;
  pruneNeeded: boolean;
  leftOver(options: SyncOptions): boolean;
  confirmedCurrent(): Promise<boolean>;
  markCurrent(): void;
  textIndexDue(): void;
  emitAdded(added: readonly Entry[], claimant: TrackedSession | undefined): Promise<void>;
}

/** Brings the state up to date with the disk and tells the sessions (call inside exclusive()). */
export async function lookLocked(folder: LookingFolder, options: SyncOptions): Promise<void> {
  if (folder.gone) return;
  const started = Date.now();
  const stamps = folderStamps(folder.dir);
  if (stamps === null) {
    folder.markGone();
    return;
  }
  // Nothing changed since a scan that saw settled directories, or since the state was last
  // known current, and the last scan left nothing this one would take on: nothing to do.
  const leftOver = folder.leftOver(options);
  const db = statUidDbSync(folder.dir);
  if (!leftOver && folder.stamps === stamps && sameStamp(folder.dbStamp, db)) {
    // As good as a scan that found nothing: what changes from now on is for the watches to tell,
    // and our own changes keep the state current (else the first NOOP after a STORE in a folder
    // opened from its listing read all of cur/: test/maildir/listing.test.ts).
    folder.watch.scanStarts();
    folder.markCurrent();
    return;
  }
  if (!leftOver && folder.current === diskKey(stamps, db) && folder.watch.quiet() && (await folder.confirmedCurrent())) return;
  folder.current = undefined;
  folder.watch.scanStarts();
  if (!folder.initialized) {
    await purgeTmp(folder.dir);
    if (!leftOver && loadListing(folder, stamps)) return;
  } else if (await lookListed(folder, options)) {
    return;
  }
  // Most looks change nothing on disk: those need no lock (the UID database is replaced
  // whole or extended at its end, so it is always readable). Anything to write: the scan is
  // done again under the lock.
  const listed: { names?: string[] } = {};
  const underLock = async (): Promise<{ scan: ScanResult; keywords: Map<string, string[]> }> => {
    const scan = await scanFolder(folder.dir, { ...options, curNames: listed.names, root: folder.context.root }, folder.scanMemory);
    const bases = (): Set<string> => new Set(scan.messages.map((m) => m.base));
    const keywords = folder.context.keywords ? await readKeywords(folder.dir, bases, folder.keywordMemory) : new Map<string, string[]>();
    return { scan, keywords };
  };
  // A look prompted by a watcher event gives way to another process holding the lock (most
  // likely claiming the same delivery) and is made again soon, to follow it (follow.ts).
  const looked = (await scanUnchanged(folder, options, listed)) ??
    (options.follow && folder.initialized
      ? await lockedUnlessBusy(folder.dir, folder.context.useLocks, underLock)
      : await withCourierLock(folder.dir, folder.context.useLocks, underLock));
  if (!looked) {
    folder.watch.noteForeign(); // not looked: what changed is still to be seen
    const looks = folder.looks;
    setTimeout(() => {
      if (folder.looks === looks) folder.watch.lookAgain(); // else a look came since and saw the claim
    }, followDelay(folder.dir)).unref();
    return;
  }
  const { scan, keywords } = looked;
  folder.looks += 1;
  folder.reopen.forget();
  folder.unclaimed = scan.unclaimed;
  folder.unnumbered = scan.unnumbered;
  folder.stamps = settled(stamps, started) ? stamps : undefined;
  folder.dbStamp = folder.scanMemory.stamp;
  folder.generation += 1;

  if (folder.initialized && scan.uidValidity !== folder.uidValidity) {
    folder.markGone();
    return;
  }
  if (!folder.initialized) {
    // The first look: every message is new, in ascending UIDs, and nobody is told.
    const uids = new Array<number>(scan.messages.length);
    const entries = new Array<Entry>(scan.messages.length);
    for (let i = 0; i < scan.messages.length; i++) {
      const { uid, base, fileName } = scan.messages[i];
      const entry = newEntry({ uid, base, fileName, keywords: keywords.get(base) ?? NO_KEYWORDS });
      folder.table.set(uid, entry);
      uids[i] = uid;
      entries[i] = entry;
    }
    folder.uidList = uids;
    folder.uidValidity = scan.uidValidity;
    folder.uidNext = scan.uidNext;
    (await stampEntries(folder, entries, [], true))(); // nobody to tell yet
    // The snapshot's list from the entries in order, not by a lookup in the table per UID
    // (in a new process that loop runs interpreted: tens of ms for 10,000 messages).
    folder.messageList = entries.map((entry) => entry.info);
    folder.initialized = true;
    folder.watch.watchNewKeywordDir();
    noteListing(folder);
    folder.markCurrent();
    return;
  }

  let found = 0;
  const changedFlags: Entry[] = [];
  const newcomers: ScannedMessage[] = [];
  for (const message of scan.messages) {
    const entry = folder.entries.get(message.uid);
    if (!entry) {
      newcomers.push(message);
      continue;
    }
    found += 1;
    const messageKeywords = keywords.get(message.base) ?? NO_KEYWORDS;
    if (entry.fileName === message.fileName && entry.keywords === messageKeywords) continue; // the usual case
    if (entry.base !== message.base) {
      // The same UID now names another file: the database was replaced behind our back.
      folder.markGone();
      return;
    }
    const letters = parseFileName(message.fileName).letters;
    const flagsChanged = !sameSystemFlags(entry.letters, letters) || !sameKeywords(entry.keywords, messageKeywords);
    entry.fileName = message.fileName;
    entry.letters = letters;
    entry.keywords = messageKeywords;
    if (flagsChanged) {
      entry.info = { uid: entry.uid, flags: flagSet(letters, messageKeywords), modseq: entry.info.modseq };
      changedFlags.push(entry);
    }
  }
  for (const entry of folder.relocated) {
    if (folder.entries.get(entry.uid) !== entry || changedFlags.includes(entry)) continue;
    entry.info = { uid: entry.uid, flags: flagSet(entry.letters, entry.keywords), modseq: entry.info.modseq };
    changedFlags.push(entry);
  }
  folder.relocated.clear();
  let expunged: number[] = [];
  if (found !== folder.entries.size) {
    const present = new Set(scan.messages.map((m) => m.uid));
    expunged = folder.sortedUids.filter((uid) => !present.has(uid));
  }

  // Apply, then tell. Sizes and dates are left for when they are asked for.
  for (const uid of expunged) folder.entries.delete(uid);
  const added: Entry[] = [];
  for (const message of newcomers) {
    const base = message.base;
    const entry = newEntry({ uid: message.uid, base, fileName: message.fileName, keywords: keywords.get(base) ?? NO_KEYWORDS });
    folder.entries.set(message.uid, entry);
    added.push(entry);
  }
  added.sort((a, b) => a.uid - b.uid);
  if (expunged.length || added.length) folder.sortedUids = [...folder.entries.keys()].sort((a, b) => a - b);
  folder.uidValidity = scan.uidValidity;
  folder.uidNext = scan.uidNext;
  const told = await stampEntries(folder, [...changedFlags, ...added], expunged);
  try {
    await applyLook(folder, changedFlags, added, expunged, options.claimant);
  } finally {
    told();
  }
}

/** The end of a look that changed the state: the caches, the watches, then the sessions told. */
async function applyLook(folder: LookingFolder, changedFlags: Entry[], added: Entry[], expunged: number[], claimant: TrackedSession | undefined, listKept = false): Promise<void> {
  // listKept: the caller put the added messages into the snapshot's list itself.
  if ((expunged.length || added.length) && !listKept) folder.messageList = undefined;
  else if (changedFlags.length) folder.infoChanged(changedFlags);
  const wasInitialized = folder.initialized;
  folder.initialized = true;
  if (expunged.length) {
    folder.pruneNeeded = true; // the caches forget what is gone
    folder.scheduleInfoSave();
  }
  folder.watch.watchNewKeywordDir();
  noteListing(folder);
  folder.markCurrent();
  // The full-text index follows: at the first look, and after mail came or went (here or by others).
  if (!wasInitialized || added.length || expunged.length) folder.textIndexDue();
  if (!wasInitialized) return;

  if (expunged.length) folder.tracker.emit({ kind: 'expunged', uids: expunged });
  for (const entry of changedFlags.sort((a, b) => a.uid - b.uid)) folder.tracker.emit({ kind: 'flags', uid: entry.uid, flags: entry.info.flags, modseq: entry.info.modseq });
  if (added.length) await folder.emitAdded(added, claimant);
}

/** A look at a state opened from its listing, without a scan (folder-reopen.ts); false: scan. */
async function lookListed(folder: LookingFolder, options: SyncOptions): Promise<boolean> {
  const claimed = await lookFromListing(folder, folder.reopen, options);
  if (claimed === null || claimed === 'looked') return claimed === 'looked';
  folder.looks += 1;
  folder.unclaimed = [];
  folder.stamps = undefined; // just changed: the next look compares with the database and `current`
  folder.dbStamp = folder.scanMemory.stamp = claimed.db; // the database's events are our own
  folder.scanMemory.db = undefined; // not read: the next look that needs it reads it whole
  folder.generation += 1;
  folder.uidNext = claimed.uidNext;
  const list = folder.messageList;
  const last = folder.uidList.length ? folder.uidList[folder.uidList.length - 1] : 0;
  const added = claimed.messages.map(({ uid, base, fileName }) => {
    const entry = newEntry({ uid, base, fileName, keywords: claimed.keywords.get(base) ?? NO_KEYWORDS });
    folder.table.set(uid, entry);
    folder.uidList.push(uid);
    return entry;
  });
  // The snapshot's list extended (a new array: the listing's is what views opened from it
  // read), not made anew from the table; stampEntries mends the new messages' modseqs in it.
  const extended = list !== undefined && list.length + added.length === folder.uidList.length && (!added.length || added[0].uid > last);
  if (extended) folder.messageList = list.concat(added.map((entry) => entry.info));
  const told = await stampEntries(folder, added, []);
  try {
    await applyLook(folder, [], added, [], options.claimant, extended);
  } finally {
    told();
  }
  return true;
}

/** A scan that needs to change nothing on disk, without the lock; null when something must be written. */
async function scanUnchanged(folder: LookingFolder, options: SyncOptions, listed: { names?: string[] }): Promise<{ scan: ScanResult; keywords: Map<string, string[]> } | null> {
  const scan = await scanFolder(folder.dir, { ...options, readOnly: true, listed }, folder.scanMemory);
  if (!scan) return null;
  if (!folder.context.keywords) return { scan, keywords: new Map() };
  const keywords = keywordsIfUnchanged(folder.dir, () => new Set(scan.messages.map((m) => m.base)), folder.keywordMemory);
  return keywords ? { scan, keywords } : null;
}
