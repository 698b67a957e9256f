// An open Maildir folder.
//
// FolderCore holds what this process knows of one folder directory, shared by every
// session (and every MaildirStore) that opened it; it watches the directory while
// anyone has it open and fans changes out to the sessions. FolderHandle is what one
// openFolder() call returns: it implements the Folder interface, keeps the session's
// listeners and the \Recent messages it claimed, and is released on its own.
//
// \Recent: a message is recent for exactly one session, in any process: the first to be told
// of it (see recent.ts for the mark on disk that decides). SELECT takes what nobody has been
// told of yet; messages that come later go to the handle whose refresh() found them, or else
// to the first read-write handle with a listener. Read-only handles (EXAMINE) take nothing and
// see as recent what nobody has taken (RFC 3501 6.3.2).

import { existsSync, type FSWatcher, promises as fs, renameSync, statSync, unlinkSync, watch } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  type CopyResult,
  type FlagOperation,
  type Folder,
  type FolderChange,
  type FolderListener,
  type FolderSnapshot,
  type FolderSummary,
  type DataRequest,
  MailStoreError,
  type MessageData,
  type MessageState,
  type SystemFlag,
} from '../backend/mailstore.js';
import type { Logger } from '../imap/host.js';
import type { BodyPart, Envelope, HeaderMeta, MessageMeta } from '../mime/types.js';
import { baseOf, fileSizeFromName, formatFileName, lettersFor, newBaseName, parseFileName, systemFlag, systemFlagsFromLetters } from './filenames.js';
import { MESSAGE_READ_FLAGS, resolveFolderDir } from './folderdir.js';
import { Budget, errorCode, isDeadScratch, listDir, listDirSync, mapLimit } from './fsutil.js';
import type { StoredInfo } from './infocache.js';
import { closeListing, formatListing, LISTING_FILE, type ListingHead, type OpenedListing, openListing, readListedMessages, writeListing } from './listing.js';
import { KEYWORD_DIR, keywordMemory, keywordsIfUnchanged, readKeywords, sameKeywords, writeKeywordUpdate } from './keywords.js';
import { explainedEvents, followDelay, type KnownState, lockedUnlessBusy, type PendingEvent } from './follow.js';
import { folderMutex, withCourierLock } from './lock.js';
import { MessageCache, OLD_META_CACHE_FILE } from './messagecache.js';
import type { ParsePool } from './parsepool.js';
import type { MaildirQuota } from './quota.js';
import { claimRecent, hasRecentMark, recentMark } from './recent.js';
import { assignUids, type ScanMemory, type ScannedMessage, type ScanResult, scanFolder } from './scan.js';
import { type FileStamp, sameStamp, statUidDbSync, UIDDB_FILE } from './uiddb.js';

/** Settings shared by the folders of one store (see MaildirStoreOptions for their meaning). */
export interface FolderContext {
  root: string;
  useLocks: boolean;
  keywords: boolean;
  watch: boolean;
  pollIntervalMs: number;
  idleRetentionMs: number;
  parseMessage: (raw: Buffer) => MessageMeta;
  /** The structure alone, and header data from the first bytes of a file (see MessageCacheOptions). */
  parseStructure?: (raw: Buffer) => { size: number; body: BodyPart };
  parseHeader?: (raw: Buffer, complete: boolean) => HeaderMeta | null;
  renderEnvelope: (envelope: Envelope) => Buffer;
  /** Workers running the built-in parsers (given only when the parsers above are those). */
  parsePool?: ParsePool;
  /** Version of parser and renderer; the caches are written to disk only when it is known. */
  cacheVersion?: string;
  /** Records per cache kept in memory when they cannot be written to disk. */
  metaCacheEntries: number;
  quota: MaildirQuota;
  logger?: Logger;
}

interface Entry {
  uid: number;
  base: string;
  /** Current name in cur/. */
  fileName: string;
  /** Flag letters of that name (including ones IMAP does not know, kept on rename). */
  letters: string;
  keywords: readonly string[];
  /** Sizes and INTERNALDATE, once something asked for them (see MessageCache). */
  stored?: StoredInfo;
  info: MessageState;
}

/** A message with its UID, name and sizes: one just put into the folder by this process, or one just scanned. */
export interface Arrival {
  uid: number;
  base: string;
  /** Name in cur/. */
  fileName: string;
  keywords: readonly string[];
  /** Known when the message was put in by this process; learnt when asked for otherwise. */
  stored?: StoredInfo;
}

/** Shared by messages without keywords (compared by reference in the usual case). */
const NO_KEYWORDS: readonly string[] = [];

/** Parallel file operations per call: enough to hide latency, few enough for small machines. */
const IO_PARALLEL = 16;
const WATCH_DEBOUNCE_MS = 5;
const BURST_PAUSE_MS = 30;
const BURST_MAX_DELAY_MS = 500;
const INFO_SAVE_DELAY_MS = 1000;
/** How long an event for a name this process changed in cur/ is expected. */
const OWN_EVENT_MS = 5000;

const cores = new Map<string, FolderCore>();

/** The shared state of a folder directory, created on first use. */
export function folderCore(dir: string, name: string, context: FolderContext): FolderCore {
  let core = cores.get(dir);
  // An idle core made by another store is replaced, so that this store's settings apply.
  if (core && core.context !== context && core.idle) {
    core.forget();
    core = undefined;
  }
  if (!core) {
    core = new FolderCore(dir, name, context);
    cores.set(dir, core);
  }
  return core;
}

/** The core of a directory if this process has one (open, or recently used). */
export function existingCore(dir: string): FolderCore | undefined {
  return cores.get(dir);
}

/** Writes the caches of every folder of a Maildir (before the process ends). */
export async function saveCaches(root: string): Promise<void> {
  await Promise.all([...cores.values()].filter((core) => core.context.root === root).map((core) => core.saveInfo()));
}

/** Tells every session that has one of these folder directories open that it is gone. */
export function foldersRemoved(dirs: readonly string[]): void {
  for (const dir of dirs) cores.get(dir)?.markGone();
}

interface SyncOptions {
  claimNew: boolean;
  /** Number cur/ files without a UID (default true; see ScanOptions). */
  numberCur?: boolean;
  /** Handle whose refresh() this is: it gets \Recent for what is claimed. */
  claimant?: FolderHandle;
  expectedGone?: ReadonlySet<string>;
  /** Prompted by a watcher event: give way to another process holding the lock (follow.ts). */
  follow?: boolean;
}

export class FolderCore {
  uidValidity = 0;
  uidNext = 1;
  gone = false;
  /** Files left in new/ by the last scan that did not claim (for STATUS). */
  unclaimed: string[] = [];
  /** Files in cur/ left without a UID by the last scan (see SyncOptions.numberCur). */
  private unnumbered = 0;

  /** The messages by UID, and their UIDs in order (see `entries` and `sortedUids`). */
  private readonly table = new Map<number, Entry>();
  private uidList: number[] = [];
  /** A listing whose messages are not read yet: SELECT answers from its head (see listing.ts). */
  private listed: OpenedListing | undefined;
  /** The messages as the listing had them: what sessions that answered SELECT from its head saw. */
  private listedState: readonly MessageState[] | undefined;
  private messageList: MessageState[] | undefined;
  private initialized = false;
  private pins = 0;
  private readonly handles = new Set<FolderHandle>();
  /** What the last scan read; writers of this folder (APPEND, COPY) keep it current. */
  readonly scanMemory: ScanMemory = {};
  private readonly keywordMemory = keywordMemory();
  /** Directory stamps seen by the last scan, when they can be trusted to change with the next change. */
  private stamps: string | undefined;
  /**
   * The UID database the last scan used (read or wrote). A file, not a directory: it is
   * replaced by a rename (new inode) or extended in place (new size), so its identity
   * tells whether it changed, however recent its mtime.
   */
  private dbStamp: FileStamp | undefined;
  /** Counts changes to the entries: a listing is written only of the state a settled scan made. */
  private generation = 0;
  /** A listing to write (see listing.ts): the state of `generation`, seen with these stamps. */
  private listingDue: { generation: number; head: ListingHead } | undefined;
  /** Stamps of the listing on disk, as far as this process knows (read or written by it). */
  private listingStamps: string | undefined;
  readonly cache: MessageCache;
  private readonly metaInFlight = new Map<number, Promise<MessageMeta>>();
  private watchers: FSWatcher[] = [];
  private watchStart: NodeJS.Immediate | undefined;
  private keywordWatcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  /** [follow.ts] watcher events since the last look was scheduled: explained ones need no look. */
  private pendingEvents: PendingEvent[] = [];
  private lastLocalChange = 0;
  private infoSaveTimer: NodeJS.Timeout | undefined;
  /** The save under way (see saveInfo). */
  private saving: Promise<void> | undefined;
  /** Names in cur/ this process changes itself, with the time until which their events are expected. */
  private readonly ownNames = new Map<string, number>();
  /** Messages went since the caches were last saved: the next save drops their records. */
  private pruneNeeded = true;
  private disposeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    readonly name: string,
    readonly context: FolderContext,
  ) {
    this.cache = new MessageCache(dir, {
      parseMessage: context.parseMessage,
      parseStructure: context.parseStructure,
      parseHeader: context.parseHeader,
      renderEnvelope: context.renderEnvelope,
      pool: context.parsePool,
      version: context.cacheVersion,
      memoryEntries: context.metaCacheEntries,
    });
  }

  /** The messages by UID; read from the listing on first use. */
  private get entries(): Map<number, Entry> {
    if (this.listed) this.readListed();
    return this.table;
  }

  private get sortedUids(): number[] {
    if (this.listed) this.readListed();
    return this.uidList;
  }

  private set sortedUids(uids: number[]) {
    this.uidList = uids;
  }

  // ---------------------------------------------------------------------------
  // Locking and scanning

  /** Runs `task` alone among this process's operations on the folder. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return folderMutex.run(this.dir, task);
  }

  /** Brings the state up to date with the disk and tells the sessions (call inside exclusive()). */
  async syncLocked(options: SyncOptions): Promise<void> {
    if (this.gone) return;
    const started = Date.now();
    const stamps = folderStamps(this.dir);
    if (stamps === null) {
      this.markGone();
      return;
    }
    // Nothing changed since a scan that saw settled directories, and that scan left
    // nothing this one would take on (new/ to claim, cur/ files to number): nothing to do.
    const leftOver = (options.claimNew && this.unclaimed.length > 0) || (options.numberCur !== false && this.unnumbered > 0);
    if (this.stamps === stamps && !leftOver && sameStamp(this.dbStamp, statUidDbSync(this.dir))) return;
    if (!this.initialized) {
      await purgeTmp(this.dir);
      if (!leftOver && this.loadListing(stamps)) return;
    }
    // Most looks change nothing on disk: those need no lock (the UID database is replaced
    // whole or extended at its end, so it is always readable). Anything to write: the scan is
    // done again under the lock.
    const listed: { names?: string[] } = {};
    const underLock = async () => {
      const scan = await scanFolder(this.dir, { ...options, curNames: listed.names, root: this.context.root }, this.scanMemory);
      const bases = (): Set<string> => new Set(scan.messages.map((m) => m.base));
      const keywords = this.context.keywords ? await readKeywords(this.dir, bases, this.keywordMemory) : new Map<string, string[]>();
      return { scan, keywords };
    };
    // [follow.ts] a watcher's look gives way to another process holding the lock, and looks again soon
    const looked = (await this.scanUnchanged(options, listed)) ??
      (options.follow && this.initialized ? await lockedUnlessBusy(this.dir, this.context.useLocks, underLock) : await withCourierLock(this.dir, this.context.useLocks, underLock));
    if (!looked) {
      const generation = this.generation;
      setTimeout(() => {
        if (this.generation !== generation) return; // looked since: the claim was seen
        this.pendingEvents.push({ where: 'folder', file: null }); // a look, whatever else is explained
        this.scheduleSync();
      }, followDelay(this.dir)).unref();
      return;
    }
    const { scan, keywords } = looked;
    this.unclaimed = scan.unclaimed;
    this.unnumbered = scan.unnumbered;
    this.stamps = settled(stamps, started) ? stamps : undefined;
    this.dbStamp = this.scanMemory.stamp;
    this.generation += 1;

    if (this.initialized && scan.uidValidity !== this.uidValidity) {
      this.markGone();
      return;
    }
    if (!this.initialized) {
      // The first look: every message is new, in ascending UIDs, and nobody is told.
      const uids = new Array<number>(scan.messages.length);
      for (let i = 0; i < scan.messages.length; i++) {
        const { uid, base, fileName } = scan.messages[i];
        this.table.set(uid, newEntry({ uid, base, fileName, keywords: keywords.get(base) ?? NO_KEYWORDS }));
        uids[i] = uid;
      }
      this.uidList = uids;
      this.uidValidity = scan.uidValidity;
      this.uidNext = scan.uidNext;
      this.messageList = undefined;
      this.initialized = true;
      if (this.context.keywords && !this.keywordWatcher && this.watchers.length) this.watchKeywords();
      this.noteListing();
      return;
    }

    let found = 0;
    const changedFlags: Entry[] = [];
    const newcomers: ScannedMessage[] = [];
    for (const message of scan.messages) {
      const entry = this.entries.get(message.uid);
      if (!entry) {
        newcomers.push(message);
        continue;
      }
      found += 1;
      const messageKeywords = keywords.get(message.base) ?? NO_KEYWORDS;
      if (entry.fileName === message.fileName && entry.keywords === messageKeywords) continue; // the usual case
      if (entry.base !== message.base) {
        // The same UID now names another file: the database was replaced behind our back.
        this.markGone();
        return;
      }
      const letters = parseFileName(message.fileName).letters;
      const flagsChanged = !sameSystemFlags(entry.letters, letters) || !sameKeywords(entry.keywords, messageKeywords);
      entry.fileName = message.fileName;
      entry.letters = letters;
      entry.keywords = messageKeywords;
      if (flagsChanged) {
        entry.info = { uid: entry.uid, flags: flagSet(letters, messageKeywords) };
        changedFlags.push(entry);
      }
    }
    let expunged: number[] = [];
    if (found !== this.entries.size) {
      const present = new Set(scan.messages.map((m) => m.uid));
      expunged = this.sortedUids.filter((uid) => !present.has(uid));
    }

    // Apply, then tell. Sizes and dates are left for when they are asked for.
    for (const uid of expunged) this.entries.delete(uid);
    const added: Entry[] = [];
    for (const message of newcomers) {
      const base = message.base;
      const entry = newEntry({ uid: message.uid, base, fileName: message.fileName, keywords: keywords.get(base) ?? NO_KEYWORDS });
      this.entries.set(message.uid, entry);
      added.push(entry);
    }
    added.sort((a, b) => a.uid - b.uid);
    if (expunged.length || added.length) this.sortedUids = [...this.entries.keys()].sort((a, b) => a - b);
    this.uidValidity = scan.uidValidity;
    this.uidNext = scan.uidNext;
    if (expunged.length || added.length || changedFlags.length) this.messageList = undefined;
    const wasInitialized = this.initialized;
    this.initialized = true;
    if (expunged.length) {
      this.pruneNeeded = true; // the caches forget what is gone
      this.scheduleInfoSave();
    }
    if (this.context.keywords && !this.keywordWatcher && this.watchers.length) this.watchKeywords();
    this.noteListing();
    if (!wasInitialized) return;

    if (expunged.length) this.emit({ kind: 'expunged', uids: expunged });
    for (const entry of changedFlags.sort((a, b) => a.uid - b.uid)) this.emit({ kind: 'flags', uid: entry.uid, flags: entry.info.flags });
    if (added.length) await this.emitAdded(added, options.claimant);
  }

  /**
   * A new process's first look: the state from the listing a look of an earlier process left,
   * when nothing can have changed since (see listing.ts). False: scan.
   */
  private loadListing(stamps: string): boolean {
    // A folder without its \Recent mark (left by an older version) is scanned: the scan makes it.
    if (!this.scanMemory.recentMarked && !hasRecentMark(this.dir)) return false;
    this.scanMemory.recentMarked = true;
    const db = statUidDbSync(this.dir);
    let listing: OpenedListing | null = null;
    try {
      listing = openListing(this.dir, stamps, db);
    } catch (error) {
      this.context.logger?.log('warn', 'cannot read folder listing', { folder: this.name, error: String(error) });
    }
    if (!listing) return false;
    this.listed = listing;
    this.uidValidity = listing.uidValidity;
    this.uidNext = listing.uidNext;
    this.unclaimed = [];
    this.unnumbered = 0;
    this.stamps = stamps;
    this.dbStamp = db;
    this.listingStamps = listingKey(stamps, db!);
    this.generation += 1;
    this.initialized = true;
    return true;
  }

  /** Reads the messages of the listing the folder was opened from. */
  private readListed(): void {
    const listing = this.listed!;
    this.listed = undefined;
    this.messageList = undefined;
    const uids: number[] = [];
    const ok = readListedMessages(listing, (uid, fileName, keywords) => {
      this.table.set(uid, newEntry({ uid, base: baseOf(fileName), fileName, keywords: this.context.keywords ? keywords : NO_KEYWORDS }));
      uids.push(uid);
    });
    this.uidList = uids;
    this.listedState = this.messageList = uids.map((uid) => this.table.get(uid)!.info);
    if (ok && uids.length === listing.count) return;
    // Damaged after its head and length were checked (a disk error): what SELECT told
    // the sessions cannot be trusted. They are sent away; the next open scans.
    this.context.logger?.log('warn', 'folder listing damaged', { folder: this.name });
    this.table.clear();
    this.uidList = [];
    this.listedState = this.messageList = [];
    try {
      unlinkSync(path.join(this.dir, LISTING_FILE));
    } catch {
      // gone already
    }
    this.markGone();
  }

  /** After a scan: a listing is due when the scan saw a settled folder that the listing on disk does not describe. */
  private noteListing(): void {
    this.listingDue = undefined;
    if (!this.stamps || !this.dbStamp || this.unclaimed.length || this.unnumbered) return;
    if (this.listingStamps === listingKey(this.stamps, this.dbStamp)) return;
    this.listingDue = {
      generation: this.generation,
      head: { stamps: this.stamps, db: this.dbStamp, uidValidity: this.uidValidity, uidNext: this.uidNext },
    };
    this.scheduleInfoSave();
  }

  /** Writes the due listing, if the state is still the one the scan made. */
  private async saveListing(): Promise<void> {
    const due = this.listingDue;
    this.listingDue = undefined;
    if (!due || due.generation !== this.generation || this.gone) return;
    const entries = this.entries;
    const text = formatListing(due.head, this.sortedUids.length, (function* (uids: readonly number[]) {
      for (const uid of uids) yield entries.get(uid)!;
    })(this.sortedUids));
    if (text === null) return;
    await writeListing(this.dir, text);
    this.listingStamps = listingKey(due.head.stamps, due.head.db);
  }

  /** A scan that needs to change nothing on disk, without the lock; null when something must be written. */
  private async scanUnchanged(options: SyncOptions, listed: { names?: string[] }): Promise<{ scan: ScanResult; keywords: Map<string, string[]> } | null> {
    const scan = await scanFolder(this.dir, { ...options, readOnly: true, listed }, this.scanMemory);
    if (!scan) return null;
    if (!this.context.keywords) return { scan, keywords: new Map() };
    const keywords = keywordsIfUnchanged(this.dir, () => new Set(scan.messages.map((m) => m.base)), this.keywordMemory);
    return keywords ? { scan, keywords } : null;
  }

  /** refresh() of a handle, or a change seen by the watcher (no claimant). */
  refresh(claimant?: FolderHandle): Promise<void> {
    return this.exclusive(() => this.syncLocked({ claimNew: true, claimant }));
  }

  /**
   * This process put messages into the folder (APPEND, COPY, MOVE): make them known,
   * recent for the first session. When their UIDs follow ours directly they are added
   * as they are; otherwise (another process numbered messages meanwhile) by a scan,
   * so that sessions always learn of UIDs in ascending order.
   */
  async arrived(uidValidity: number, arrivals: readonly Arrival[]): Promise<void> {
    this.lastLocalChange = Date.now();
    await this.exclusive(async () => {
      if (!this.initialized || this.gone) return; // the first scan will find them
      const sorted = [...arrivals].sort((a, b) => a.uid - b.uid);
      const contiguous = uidValidity === this.uidValidity && sorted.every((a, i) => a.uid === this.uidNext + i);
      if (!contiguous) {
        await this.syncLocked({ claimNew: false });
        return;
      }
      const added: Entry[] = [];
      for (const arrival of sorted) {
        if (arrival.stored) this.cache.info.remember(arrival.base, arrival.stored);
        const entry = newEntry(arrival);
        this.entries.set(entry.uid, entry);
        this.sortedUids.push(entry.uid);
        added.push(entry);
      }
      if (!added.length) return;
      this.generation += 1;
      this.uidNext = sorted[sorted.length - 1].uid + 1;
      this.messageList = undefined;
      this.scheduleInfoSave();
      await this.emitAdded(added, undefined);
    });
  }

  /** Something of ours changed the folder: its watcher events can wait for the burst to end. */
  noteLocalChange(): void {
    this.lastLocalChange = Date.now();
  }

  // ---------------------------------------------------------------------------
  // Sessions

  /** Keeps the core from being forgotten while an open or a STATUS is under way. */
  pin(): void {
    this.pins += 1;
    if (this.disposeTimer) clearTimeout(this.disposeTimer);
    this.disposeTimer = undefined;
  }

  unpin(): void {
    this.pins -= 1;
    this.scheduleDispose();
  }

  attach(handle: FolderHandle): void {
    if (this.disposeTimer) clearTimeout(this.disposeTimer);
    this.disposeTimer = undefined;
    this.handles.add(handle);
    if (this.handles.size === 1) this.watchSoon();
  }

  /**
   * Watches are set up just after the open, so that its answer goes out first (three
   * inotify watches cost a few milliseconds); one look right after they are in place
   * catches anything that changed in between.
   */
  private watchSoon(): void {
    if (this.watchStart || this.watchers.length || this.pollTimer) return;
    this.watchStart = setImmediate(() => {
      this.watchStart = undefined;
      if (!this.handles.size || this.gone) return;
      this.startWatching();
      this.scheduleSync();
    });
  }

  detach(handle: FolderHandle): void {
    if (!this.handles.delete(handle) || this.handles.size) return;
    this.stopWatching();
    this.scheduleDispose();
  }

  /** Forget this core after a while without sessions (it keeps caches for a quick re-SELECT). */
  scheduleDispose(): void {
    if (this.handles.size || this.pins || this.disposeTimer || this.gone) return;
    this.disposeTimer = setTimeout(() => this.dispose(), this.context.idleRetentionMs);
    this.disposeTimer.unref();
  }

  private dispose(): void {
    this.disposeTimer = undefined;
    if (this.idle) this.forget();
  }

  /** Nobody has the folder open and no operation is under way. */
  get idle(): boolean {
    return this.handles.size === 0 && this.pins === 0;
  }

  /** Drops the core from the registry (its caches are written first). */
  forget(): void {
    if (this.disposeTimer) clearTimeout(this.disposeTimer);
    this.disposeTimer = undefined;
    if (cores.get(this.dir) === this) cores.delete(this.dir);
    void this.saveInfo().finally(() => {
      this.cache.close();
      this.dropListed();
    });
  }

  /** Lets go of a listing whose messages were never needed. */
  private dropListed(): void {
    if (!this.listed) return;
    closeListing(this.listed);
    this.listed = undefined;
  }

  markGone(): void {
    if (this.gone) return;
    this.gone = true;
    if (cores.get(this.dir) === this) cores.delete(this.dir);
    this.dropListed();
    this.stopWatching();
    this.cache.close();
    this.emit({ kind: 'gone' });
  }

  snapshot(): FolderSnapshot {
    const listing = this.listed;
    if (listing) {
      // Opened from a listing: the messages are read when first asked for.
      const current = (): readonly MessageState[] => {
        if (this.listed) this.readListed();
        return this.snapshot().messages;
      };
      const summary: FolderSummary = {
        count: listing.count,
        firstUnseen: listing.firstUnseen,
        keywords: this.context.keywords ? listing.keywords : [],
        messages: () => {
          if (this.listed) this.readListed();
          return this.listedState ?? []; // none: the folder went before it was read
        },
      };
      return {
        uidValidity: this.uidValidity,
        uidNext: this.uidNext,
        summary,
        get messages() {
          return current();
        },
      };
    }
    this.messageList ??= this.sortedUids.map((uid) => this.entries.get(uid)!.info);
    return { uidValidity: this.uidValidity, uidNext: this.uidNext, messages: this.messageList };
  }

  private emit(change: FolderChange): void {
    for (const handle of [...this.handles]) handle.deliver(change);
  }

  /** Tells the handles of new messages (ascending UIDs); those nobody was told of yet are recent for one of them. */
  private async emitAdded(added: readonly Entry[], claimant: FolderHandle | undefined): Promise<void> {
    const handles = [...this.handles];
    const taker = claimant && this.handles.has(claimant) && claimant.takesRecent() ? claimant : handles.find((h) => h.takesRecent());
    const before = await this.recentBefore(added[added.length - 1].uid, taker);
    // Two runs, each in ascending UIDs: those some session was told of already, then the recent ones.
    let split = added.findIndex((entry) => entry.uid > before);
    if (split < 0) split = added.length;
    const seen = added.slice(0, split).map((entry) => entry.info);
    const fresh = added.slice(split).map((entry) => entry.info);
    // Messages known before these that nobody had been told of as recent (a STATUS numbered
    // them, say): taken too, so they are recent for the taker, which knows them already.
    const known: MessageState[] = [];
    const uids = this.sortedUids;
    let from = uids.length;
    while (from > 0 && uids[from - 1] > before) from--;
    for (let i = from; i < uids.length && uids[i] < added[0].uid; i++) known.push(this.entries.get(uids[i])!.info);
    for (const handle of handles) {
      const recent = handle === taker || handle.readOnly;
      if (known.length && recent) handle.deliverAdded(known, true);
      if (seen.length) handle.deliverAdded(seen, false);
      if (fresh.length) handle.deliverAdded(fresh, recent);
    }
  }

  /**
   * The \Recent mark before `taker` (if any) takes the messages up to `upTo`: UIDs above it
   * are recent. When it cannot be taken (the lock is held too long), the messages count as
   * recent without it (RFC 3501 2.3.2: when in doubt, a message is recent).
   */
  private async recentBefore(upTo: number, taker: FolderHandle | undefined): Promise<number> {
    try {
      if (!taker) return recentMark(this.dir, this.uidValidity);
      return await claimRecent(this.dir, this.uidValidity, upTo, this.context.useLocks);
    } catch (error) {
      this.context.logger?.log('warn', 'cannot update the recent mark', { folder: this.name, error: String(error) });
      return 0;
    }
  }

  /**
   * SELECT and EXAMINE: the messages of the folder that no session has been told of yet are
   * recent for this handle (taken by it unless it is read-only), delivered to it again as
   * "added" with recent set. Reads the messages only when there are such.
   */
  tellRecent(handle: FolderHandle): Promise<void> {
    return this.exclusive(async () => {
      if (this.gone || !this.handles.has(handle) || !handle.hasListeners()) return;
      const top = this.uidNext - 1; // every UID the folder has given is below uidNext
      if (top < 1 || recentMark(this.dir, this.uidValidity) >= top) return;
      const before = await this.recentBefore(top, handle.readOnly ? undefined : handle);
      const messages: MessageState[] = [];
      for (const uid of this.sortedUids) if (uid > before) messages.push(this.entries.get(uid)!.info);
      if (messages.length) handle.deliverAdded(messages, true);
    });
  }

  /** How many messages no session has been told of yet (STATUS RECENT, with what is still in new/). */
  untoldCount(): number {
    const before = recentMark(this.dir, this.uidValidity);
    let count = 0;
    for (let i = this.sortedUids.length - 1; i >= 0 && this.sortedUids[i] > before; i--) count++;
    return count;
  }

  // ---------------------------------------------------------------------------
  // Watching

  private startWatching(): void {
    if (!this.context.watch) {
      this.startPolling();
      return;
    }
    try {
      this.watchers.push(this.watchDir(path.join(this.dir, 'new'), () => true, 'new'));
      this.watchers.push(this.watchDir(path.join(this.dir, 'cur'), (file) => file === null || !this.ownChange(file), 'cur'));
      this.watchers.push(
        this.watchDir(this.dir, (file) => file === null || (file === UIDDB_FILE && !this.ownUidDb()) || file === KEYWORD_DIR || file === 'cur' || file === 'new', 'folder'),
      );
      if (this.context.keywords) this.watchKeywords();
    } catch (error) {
      // inotify limits (ENOSPC, EMFILE): do not stay silent, and fall back to polling.
      this.context.logger?.log('warn', 'cannot watch folder, polling instead', { folder: this.name, error: String(error) });
      this.stopWatching();
      this.startPolling();
    }
  }

  private watchDir(dir: string, relevant: (file: string | null) => boolean = () => true, where: PendingEvent['where'] = 'keywords'): FSWatcher {
    const watcher = watch(dir, { persistent: false }, (_event, file) => {
      const name = file === null ? null : String(file);
      if (!relevant(name)) return;
      if (this.pendingEvents.length < 1000) this.pendingEvents.push({ where, file: name }); // [follow.ts]
      else this.pendingEvents[0] = { where, file: null }; // too many to look into one by one
      this.scheduleSync();
    });
    watcher.on('error', () => {
      this.pendingEvents.push({ where, file: null });
      this.scheduleSync();
    });
    return watcher;
  }

  /**
   * This process is about to rename, link or remove these names in cur/ (APPEND, STORE,
   * EXPUNGE, COPY): their events need no look at the folder (which costs a listing of the
   * whole directory) since the folder state already knows them.
   */
  expectOwn(names: readonly string[]): void {
    const until = Date.now() + OWN_EVENT_MS;
    for (const name of names) this.ownNames.set(name, until);
    if (this.ownNames.size > 10_000) this.dropOldOwn();
  }

  private ownChange(name: string): boolean {
    const until = this.ownNames.get(name);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.dropOldOwn();
      return false;
    }
    return true;
  }

  private dropOldOwn(): void {
    const now = Date.now();
    for (const [name, until] of this.ownNames) if (until < now) this.ownNames.delete(name);
  }

  /** The UID database is as this process last wrote or read it (its event is our own write). */
  private ownUidDb(): boolean {
    if (this.scanMemory.writing) return true;
    try {
      return sameStamp(this.scanMemory.stamp, statUidDbSync(this.dir));
    } catch {
      return false;
    }
  }

  private watchKeywords(): void {
    // Checked first: a failed watch throws, and this is tried on every look until the folder has keywords.
    if (!existsSync(path.join(this.dir, KEYWORD_DIR))) return;
    try {
      this.keywordWatcher = this.watchDir(path.join(this.dir, KEYWORD_DIR));
    } catch {
      // Not there yet: the watcher of the folder directory sees it appear.
    }
  }

  private startPolling(): void {
    this.pollTimer = setInterval(() => this.scheduleSync(), this.context.pollIntervalMs);
    this.pollTimer.unref();
  }

  private stopWatching(): void {
    if (this.watchStart) clearImmediate(this.watchStart);
    this.watchStart = undefined;
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    this.keywordWatcher?.close();
    this.keywordWatcher = undefined;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
  }

  /** Whether changes are noticed through file-system events (false: polling). */
  get watching(): boolean {
    // About to watch counts (see watchSoon): only a failure to set watches up means polling.
    return this.watchers.length > 0 || (this.watchStart !== undefined && this.context.watch);
  }

  /**
   * A watcher event: look at the folder soon. While this process itself keeps changing
   * the folder (a burst of APPENDs or STOREs), the look waits for a pause, at most
   * BURST_MAX_DELAY_MS, instead of rescanning after every write of ours.
   */
  private scheduleSync(): void {
    if (this.syncTimer || this.gone || !this.handles.size) return;
    const firstEvent = Date.now();
    const fire = (): void => {
      const now = Date.now();
      if (now - this.lastLocalChange < BURST_PAUSE_MS && now - firstEvent < BURST_MAX_DELAY_MS) {
        this.syncTimer = setTimeout(fire, BURST_PAUSE_MS);
        return;
      }
      this.syncTimer = undefined;
      // [follow.ts] events already explained by the state (this process claimed, or followed the claimer) need no look
      const events = this.pendingEvents;
      this.pendingEvents = [];
      const known: KnownState = {
        nameOf: (base) => {
          const uid = this.scanMemory.db?.uids.get(base);
          return uid === undefined ? undefined : this.entries.get(uid)?.fileName;
        },
        uidDbKnown: () => this.ownUidDb(),
      };
      const look = async (): Promise<void> => {
        if (events.length && !this.gone && this.initialized && explainedEvents(this.dir, events, known)) return;
        await this.syncLocked({ claimNew: true, follow: true });
      };
      this.exclusive(look).catch((error: unknown) => this.context.logger?.log('error', 'folder refresh failed', { folder: this.name, error: String(error) }));
    };
    this.syncTimer = setTimeout(fire, WATCH_DEBOUNCE_MS);
  }

  private scheduleInfoSave(): void {
    if (this.infoSaveTimer) return;
    this.infoSaveTimer = setTimeout(() => void this.saveInfo(), INFO_SAVE_DELAY_MS);
    this.infoSaveTimer.unref();
  }

  /**
   * Writes the caches and a due listing. One save at a time: a save asked for while one
   * (from the timer) is under way ends after it, so that a process that awaits it before
   * exiting (store.close) never cuts a write short.
   */
  saveInfo(): Promise<void> {
    const previous = this.saving;
    const run = (async () => {
      await previous?.catch(() => undefined); // its failure was its caller's to see
      await this.saveNow();
    })();
    this.saving = run;
    void run.finally(() => {
      if (this.saving === run) this.saving = undefined;
    }).catch(() => undefined);
    return run;
  }

  private async saveNow(): Promise<void> {
    if (this.infoSaveTimer) clearTimeout(this.infoSaveTimer);
    this.infoSaveTimer = undefined;
    if (this.gone) return;
    // The lists of live messages (100,000 entries each) only when messages went.
    let live: { uids: Map<number, string>; bases: Set<string> } | undefined;
    // Not while the messages are still in an unread listing: nothing went since it was made.
    if (this.pruneNeeded && !this.listed) {
      this.pruneNeeded = false;
      live = { uids: new Map(), bases: new Set() };
      for (const entry of this.entries.values()) {
        live.uids.set(entry.uid, entry.base);
        live.bases.add(entry.base);
      }
      for (const name of this.unclaimed) live.bases.add(baseOf(name));
    }
    try {
      await this.cache.save(live);
      await fs.rm(path.join(this.dir, OLD_META_CACHE_FILE), { force: true });
    } catch (error) {
      this.context.logger?.log('warn', 'cannot save folder cache', { folder: this.name, error: String(error) });
    }
    try {
      await this.saveListing();
    } catch (error) {
      this.context.logger?.log('warn', 'cannot save folder listing', { folder: this.name, error: String(error) });
    }
  }

  // ---------------------------------------------------------------------------
  // Message operations

  private entry(uid: number): Entry {
    const entry = this.entries.get(uid);
    if (!entry) throw new MailStoreError('Message has been expunged', 'EXPUNGEISSUED');
    return entry;
  }

  /** Finds the current file of a message whose name changed under us; null when it is gone. */
  private async relocate(entry: Entry): Promise<string | null> {
    for (const name of await listDir(path.join(this.dir, 'cur'))) {
      if (baseOf(name) === entry.base) {
        this.generation += 1;
        entry.fileName = name;
        entry.letters = parseFileName(name).letters;
        return name;
      }
    }
    return null;
  }

  /** Finds the current names of messages whose files were renamed under us; returns those still there. */
  private async relocateAll(entries: readonly Entry[]): Promise<Entry[]> {
    const wanted = new Map(entries.map((entry) => [entry.base, entry]));
    const found: Entry[] = [];
    for (const name of await listDir(path.join(this.dir, 'cur'))) {
      const entry = wanted.get(baseOf(name));
      if (!entry || entry.fileName === name) continue;
      this.generation += 1;
      entry.fileName = name;
      entry.letters = parseFileName(name).letters;
      found.push(entry);
    }
    return found;
  }

  /** Runs a file operation on a message's file, following it once if another process renamed it. */
  private async onFile<T>(entry: Entry, operation: (file: string) => Promise<T>): Promise<T | null> {
    try {
      return await operation(path.join(this.dir, 'cur', entry.fileName));
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    const name = await this.relocate(entry);
    if (name === null) return null;
    try {
      return await operation(path.join(this.dir, 'cur', name));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    }
  }

  async readMessage(uid: number): Promise<Buffer> {
    const content = await this.onFile(this.entry(uid), async (file) => {
      try {
        return await fs.readFile(file, { flag: MESSAGE_READ_FLAGS });
      } catch (error) {
        if (errorCode(error) === 'ELOOP') return null; // a symlink is no message (ENOENT: onFile looks for the renamed file)
        throw error;
      }
    });
    if (content === null) throw new MailStoreError('Message has been expunged', 'EXPUNGEISSUED');
    return content;
  }

  async messageMeta(uid: number): Promise<MessageMeta> {
    this.entry(uid);
    let pending = this.metaInFlight.get(uid);
    if (!pending) {
      pending = (async () => {
        const [data] = await this.messageData([uid], { info: true, header: true, structure: true });
        if (!data) throw new MailStoreError('Message has been expunged', 'EXPUNGEISSUED');
        const header = data.header!;
        return {
          size: data.size!,
          envelope: header.envelope,
          body: data.structure!,
          references: header.references,
          decoded: header.decoded,
          sentDate: header.sentDate,
        };
      })().finally(() => this.metaInFlight.delete(uid));
      this.metaInFlight.set(uid, pending);
    }
    return pending;
  }

  /** See Folder.messageData. */
  async messageData(uids: readonly number[], request: DataRequest): Promise<(MessageData | null)[]> {
    const entries = uids.map((uid) => this.entries.get(uid));
    let present = entries as Entry[];
    if (entries.includes(undefined)) present = entries.filter((entry): entry is Entry => entry !== undefined);
    const result = await this.cache.get(present, request);
    if (this.cache.info.dirty) this.scheduleInfoSave();
    if (result.missing.length) {
      // Renamed by another process (its flags changed), or removed: look once, then retry.
      const moved = await this.relocateAll(result.missing.map((i) => present[i]));
      if (moved.length) {
        const retry = await this.cache.get(moved, request);
        const byEntry = new Map(moved.map((entry, i) => [entry, retry.data[i]]));
        for (const i of result.missing) result.data[i] = byEntry.get(present[i]) ?? null;
      }
    }
    if (present.length === entries.length) return result.data;
    const byEntry = new Map<Entry, MessageData | null>();
    present.forEach((entry, i) => byEntry.set(entry, result.data[i]));
    return entries.map((entry) => (entry ? byEntry.get(entry) ?? null : null));
  }

  async storeFlags(uids: readonly number[], operation: FlagOperation, flags: readonly string[]): Promise<void> {
    this.noteLocalChange();
    const wanted = splitFlags(flags, this.context.keywords);
    const changed = await this.exclusive(async () => {
      this.generation += 1; // entries change below, even when a later step fails
      // The spellings in use (a look at every message) only when keywords are given.
      const spelling = wanted.keywords.length ? this.keywordSpellings() : undefined;
      const keywords = wanted.keywords.map((k) => spelling?.get(k.toLowerCase()) ?? k);
      const changed = new Set<Entry>();
      const keywordWrites: { entry: Entry; keywords: string[] }[] = [];
      // Renames one after the other, synchronously: a rename is a quick call, and through
      // the thread pool the hand-overs cost more than the renames (1,000 in a STORE 1:1000).
      // The budget gives other sessions a turn every few milliseconds.
      const budget = new Budget();
      const until = Date.now() + OWN_EVENT_MS;
      for (const uid of uids) {
        if (budget.due()) await budget.pause();
        const entry = this.entries.get(uid);
        if (!entry) continue;
        // Two tries: a rename can fail because another process changed the flags first.
        for (let attempt = 0; attempt < 2; attempt++) {
          const oldSystem = systemFlagsFromLetters(entry.letters);
          const newSystem = applyOperation(operation, oldSystem, wanted.system);
          const newKeywords = applyOperation(operation, entry.keywords, keywords);
          const systemChanged = !sameKeywords(oldSystem, newSystem);
          const keywordsChanged = !sameKeywords(entry.keywords, newKeywords);
          if (!systemChanged && !keywordsChanged) break;
          if (systemChanged) {
            const letters = lettersFor(newSystem, entry.letters);
            const newName = formatFileName(entry.base, letters);
            try {
              this.ownNames.set(entry.fileName, until);
              this.ownNames.set(newName, until);
              renameSync(path.join(this.dir, 'cur', entry.fileName), path.join(this.dir, 'cur', newName));
            } catch (error) {
              if (errorCode(error) !== 'ENOENT') throw error;
              if ((await this.relocate(entry)) === null) break; // expunged by someone else
              continue;
            }
            entry.fileName = newName;
            entry.letters = letters;
            changed.add(entry);
          }
          if (keywordsChanged) keywordWrites.push({ entry, keywords: newKeywords });
          break;
        }
      }
      if (this.ownNames.size > 10_000) this.dropOldOwn();
      await mapLimit(keywordWrites, IO_PARALLEL, async ({ entry, keywords }) => {
        await writeKeywordUpdate(this.dir, entry.base, keywords);
        entry.keywords = keywords;
        changed.add(entry);
      });
      for (const entry of changed) entry.info = { uid: entry.uid, flags: flagSet(entry.letters, entry.keywords) };
      if (changed.size) this.messageList = undefined;
      return [...changed];
    });
    for (const entry of changed.sort((a, b) => a.uid - b.uid)) this.emit({ kind: 'flags', uid: entry.uid, flags: entry.info.flags });
  }

  async expunge(uids: readonly number[]): Promise<number[]> {
    this.noteLocalChange();
    return this.exclusive(async () => {
      const removed: number[] = [];
      const gone = new Set<string>();
      let bytes = 0;
      await mapLimit(uids, IO_PARALLEL, async (uid) => {
        const entry = this.entries.get(uid);
        if (!entry) return;
        let fileSize = this.knownFileSize(entry);
        const done = await this.onFile(entry, async (file) => {
          fileSize ??= (await fs.stat(file)).size;
          this.expectOwn([path.basename(file)]);
          await fs.unlink(file);
          return true;
        });
        if (!done) return;
        removed.push(uid);
        gone.add(entry.base);
        bytes += fileSize ?? 0;
      });
      await this.context.quota.add(this.dir, -bytes, -removed.length);
      await this.syncLocked({ claimNew: false, expectedGone: gone });
      return removed.sort((a, b) => a - b);
    });
  }

  /**
   * IMAP_EMPTYTRASH: removes messages that came into the folder more than `ageMs` ago
   * (by the file's ctime, which a rename into the folder sets, as Courier does).
   * Sessions that have the folder open see the removals as expunges. Returns how many.
   */
  async purgeOlderThan(ageMs: number): Promise<number> {
    this.noteLocalChange();
    return this.exclusive(async () => {
      await this.syncLocked({ claimNew: false });
      const limit = Date.now() - ageMs;
      const gone = new Set<string>();
      let bytes = 0;
      for (const sub of ['cur', 'new']) {
        await mapLimit(await listDir(path.join(this.dir, sub)), IO_PARALLEL, async (name) => {
          const file = path.join(this.dir, sub, name);
          try {
            const stat = await fs.stat(file);
            if (stat.ctimeMs >= limit) return;
            await fs.unlink(file);
            gone.add(baseOf(name));
            bytes += stat.size;
          } catch (error) {
            if (errorCode(error) !== 'ENOENT') throw error;
          }
        });
      }
      await this.context.quota.add(this.dir, -bytes, -gone.size);
      await this.syncLocked({ claimNew: false, expectedGone: gone });
      return gone.size;
    });
  }

  async copyTo(uids: readonly number[], destination: string, move: boolean): Promise<CopyResult> {
    const target = await this.destination(destination);
    if (target.dir === this.dir && move) {
      // MOVE into the same folder: new UIDs, as a copy and an expunge.
      const result = await this.copyTo(uids, destination, false);
      await this.expunge(result.mapping.map(([source]) => source));
      return result;
    }
    const wanted = [...new Set(uids)].sort((a, b) => a - b);
    await this.messageData(wanted, { info: true }); // sizes and dates go along (names, quota)
    const selected = wanted
      .map((uid) => this.entries.get(uid))
      .filter((entry): entry is Entry => entry !== undefined && entry.stored !== undefined);
    const movesQuota = move && this.context.quota.counts(this.dir) !== this.context.quota.counts(target.dir);
    if (!move || movesQuota) {
      await this.context.quota.check(target.dir, selected.reduce((sum, e) => sum + e.stored!.fileSize, 0), selected.length);
    }

    // Keywords go first: a reader that sees the message also sees its keywords.
    const transfer = async (): Promise<{ result: CopyResult; moved: Entry[]; arrivals: Arrival[] }> => {
      const staged = await mapLimit(selected, IO_PARALLEL, async (entry) => {
        const stored = entry.stored!;
        const base = newBaseName(stored.fileSize, stored.size);
        if (entry.keywords.length && this.context.keywords) await writeKeywordUpdate(target.dir, base, entry.keywords);
        const targetName = formatFileName(base, entry.letters);
        const ok = move
          ? await this.onFile(entry, (file) => {
              this.expectOwn([path.basename(file)]);
              existingCore(target.dir)?.expectOwn([targetName]);
              return moveFile(file, path.join(target.dir, 'cur', targetName), stored.internalDate);
            })
          : await this.onFile(entry, (file) => linkOrCopy(file, path.join(target.dir, 'tmp', base), stored.internalDate));
        return ok ? { entry, base, targetName } : null;
      });
      const done = staged.filter((s): s is NonNullable<typeof s> => s !== null);
      const targetCore = existingCore(target.dir);
      const assigned = await withCourierLock(target.dir, this.context.useLocks, async () => {
        if (!move) {
          existingCore(target.dir)?.expectOwn(done.map((s) => s.targetName));
          for (const s of done) await fs.rename(path.join(target.dir, 'tmp', s.base), path.join(target.dir, 'cur', s.targetName));
        }
        return assignUids(target.dir, done.map((s) => s.base), targetCore?.scanMemory ?? {}, this.context.root);
      });
      const mapping = done.map((s, i): [number, number] => [s.entry.uid, assigned.uids[i]]);
      const arrivals = done.map((s, i): Arrival => ({
        uid: assigned.uids[i],
        base: s.base,
        fileName: s.targetName,
        keywords: this.context.keywords ? s.entry.keywords : NO_KEYWORDS,
        stored: s.entry.stored,
      }));
      return { result: { uidValidity: assigned.uidValidity, mapping }, moved: done.map((s) => s.entry), arrivals };
    };

    let outcome: Awaited<ReturnType<typeof transfer>>;
    if (move) {
      // Both queues, taken in a fixed order: two MOVEs in opposite directions cannot deadlock.
      outcome = await folderMutex.runAll([this.dir, target.dir], async () => {
        const outcome = await transfer();
        if (movesQuota) {
          const bytes = outcome.moved.reduce((sum, e) => sum + e.stored!.fileSize, 0);
          await this.context.quota.add(this.dir, -bytes, -outcome.moved.length);
          await this.context.quota.add(target.dir, bytes, outcome.moved.length);
        }
        await this.syncLocked({ claimNew: false, expectedGone: new Set(outcome.moved.map((e) => e.base)) });
        return outcome;
      });
    } else {
      outcome = await folderMutex.run(target.dir, transfer);
      await this.context.quota.add(target.dir, outcome.moved.reduce((sum, e) => sum + e.stored!.fileSize, 0), outcome.moved.length);
    }
    await existingCore(target.dir)?.arrived(outcome.result.uidValidity, outcome.arrivals);
    return outcome.result;
  }

  private async destination(name: string): Promise<{ dir: string; name: string }> {
    // Symlinked folders do not exist (folderdir.ts): COPY and MOVE never write through one.
    const resolved = resolveFolderDir(this.context.root, name);
    if (resolved?.state !== 'folder') throw new MailStoreError('Destination folder does not exist', 'TRYCREATE');
    return { dir: resolved.dir, name: resolved.canonical };
  }

  /** File size of a message for the quota, when known without a stat(). */
  private knownFileSize(entry: Entry): number | undefined {
    return entry.stored?.fileSize ?? fileSizeFromName(entry.base) ?? this.cache.info.get(entry.base)?.fileSize;
  }

  /** Keywords are matched without regard to case; the first spelling in the folder wins. */
  private keywordSpellings(): Map<string, string> {
    const spellings = new Map<string, string>();
    for (const entry of this.entries.values()) {
      for (const keyword of entry.keywords) if (!spellings.has(keyword.toLowerCase())) spellings.set(keyword.toLowerCase(), keyword);
    }
    return spellings;
  }

}

export class FolderHandle implements Folder {
  private listeners: FolderListener[] = [];
  private readonly recent = new Set<number>();
  private released = false;
  /** Had its first refresh, which tells it of the messages nobody had been told of (see FolderCore.tellRecent). */
  private told = false;

  constructor(
    private readonly core: FolderCore,
    private readonly onRelease: (handle: FolderHandle) => void = () => undefined,
    /** EXAMINE: takes no \Recent, sees it on what nobody has taken. */
    readonly readOnly = false,
  ) {
    core.attach(this);
  }

  /** Whether new messages may be recent for this handle alone. */
  takesRecent(): boolean {
    return !this.readOnly && this.listeners.length > 0 && !this.released;
  }

  get name(): string {
    return this.core.name;
  }

  /** The folder's state, plus (an addition to FolderSnapshot) the UIDs that are \Recent for this handle. */
  snapshot(): FolderSnapshot & { recent: readonly number[] } {
    // Not spread: `messages` may be a getter that reads the folder's listing.
    return Object.assign(this.core.snapshot(), { recent: [...this.recent].sort((a, b) => a - b) });
  }

  async refresh(): Promise<void> {
    await this.core.refresh(this.usable());
    // The first refresh (SELECT's, after subscribing): what nobody has been told of is recent here.
    if (!this.told) {
      this.told = true;
      await this.core.tellRecent(this);
    }
  }

  subscribe(listener: FolderListener): () => void {
    this.usable();
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  async storeFlags(uids: readonly number[], operation: FlagOperation, flags: readonly string[]): Promise<void> {
    return this.usable().core.storeFlags(uids, operation, flags);
  }

  async expunge(uids: readonly number[]): Promise<number[]> {
    return this.usable().core.expunge(uids);
  }

  async copyTo(uids: readonly number[], destination: string): Promise<CopyResult> {
    return this.usable().core.copyTo(uids, destination, false);
  }

  async moveTo(uids: readonly number[], destination: string): Promise<CopyResult> {
    return this.usable().core.copyTo(uids, destination, true);
  }

  async readMessage(uid: number): Promise<Buffer> {
    return this.usable().core.readMessage(uid);
  }

  async messageMeta(uid: number): Promise<MessageMeta> {
    return this.usable().core.messageMeta(uid);
  }

  async messageData(uids: readonly number[], request: DataRequest): Promise<(MessageData | null)[]> {
    return this.usable().core.messageData(uids, request);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.listeners = [];
    this.core.detach(this);
    this.onRelease(this);
  }

  /** Whether changes reach this folder through file-system events (false: by polling). */
  get watching(): boolean {
    return this.core.watching;
  }

  hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  deliver(change: FolderChange): void {
    if (change.kind === 'expunged') for (const uid of change.uids) this.recent.delete(uid);
    this.call(this.listeners, change);
  }

  deliverAdded(messages: readonly MessageState[], recent: boolean): void {
    if (recent) for (const message of messages) this.recent.add(message.uid);
    // Exactly one subscriber sees a message as recent: this handle's first listener.
    const [first, ...others] = this.listeners;
    if (first) this.call([first], { kind: 'added', messages, recent });
    if (others.length) this.call(others, { kind: 'added', messages, recent: false });
  }

  private call(listeners: readonly FolderListener[], change: FolderChange): void {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        this.core.context.logger?.log('error', 'folder listener failed', { folder: this.core.name, error: String(error) });
      }
    }
  }

  private usable(): this {
    if (this.released) throw new MailStoreError('Folder was closed', 'CLIENTBUG');
    if (this.core.gone) throw new MailStoreError('Folder was deleted or renamed', 'NONEXISTENT');
    return this;
  }
}

/** Splits flags into system flags and keywords (dropped when keywords are off); refuses flags that cannot be stored. */
export function splitFlags(flags: readonly string[], keywordsEnabled: boolean): { system: SystemFlag[]; keywords: string[] } {
  const system: SystemFlag[] = [];
  const keywords: string[] = [];
  for (const flag of flags) {
    if (flag.startsWith('\\')) {
      if (flag.toLowerCase() === '\\recent') continue; // not storable, ignored (RFC 3501 6.4.6)
      const canonical = systemFlag(flag);
      if (!canonical) throw new MailStoreError(`Invalid system flag ${flag}`, 'CANNOT');
      if (!system.includes(canonical)) system.push(canonical);
    } else if (keywordsEnabled) {
      // One line per keyword on disk: no white space or controls, never empty.
      if (!flag || /[\s\u0000-\u001f\u007f]/.test(flag)) throw new MailStoreError(`Invalid keyword ${JSON.stringify(flag)}`, 'CANNOT');
      if (!keywords.some((k) => k.toLowerCase() === flag.toLowerCase())) keywords.push(flag);
    }
  }
  return { system, keywords };
}

function newEntry(message: Arrival): Entry {
  const { uid, base, fileName, keywords, stored } = message;
  const letters = lettersOf(fileName, base);
  return { uid, base, fileName, letters, keywords, stored, info: { uid, flags: flagSet(letters, keywords) } };
}

/** Flag letters of a name whose base is known (as parseFileName, without the object). */
function lettersOf(fileName: string, base: string): string {
  const at = base.length;
  if (fileName.length === at) return '';
  if (fileName.charCodeAt(at + 1) !== 50 || fileName.charCodeAt(at + 2) !== 44) return ''; // not ":2,"
  return fileName.length === at + 3 ? '' : fileName.slice(at + 3);
}

/** Flag sets in use, shared by the messages that have the same flags (most messages of a folder share a few). */
const flagSets = new Map<string, ReadonlySet<string>>();

function flagSet(letters: string, keywords: readonly string[]): ReadonlySet<string> {
  const key = keywords.length ? `${letters}\0${keywords.join('\0')}` : letters;
  let flags = flagSets.get(key);
  if (!flags) {
    flags = new Set<string>([...systemFlagsFromLetters(letters), ...keywords]);
    // Bounded: keywords are free-form, so the number of combinations is not.
    if (flagSets.size >= 10_000) flagSets.clear();
    flagSets.set(key, flags);
  }
  return flags;
}

function sameSystemFlags(a: string, b: string): boolean {
  return sameKeywords(systemFlagsFromLetters(a), systemFlagsFromLetters(b));
}

function applyOperation<T>(operation: FlagOperation, current: readonly T[], given: readonly T[]): T[] {
  switch (operation) {
    case 'replace':
      return [...given];
    case 'add':
      return [...current, ...given.filter((flag) => !current.includes(flag))];
    case 'remove':
      return current.filter((flag) => !given.includes(flag));
  }
}

/** Hard link (cheap, same file system) or copy, keeping the file time (INTERNALDATE). */
async function linkOrCopy(source: string, target: string, internalDate: number): Promise<boolean> {
  try {
    await fs.link(source, target);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw error;
  }
  // Copied by hand: copyFile would follow a symlink in cur/ and copy whatever it points at.
  const from = await fs.open(source, MESSAGE_READ_FLAGS);
  try {
    const to = await fs.open(target, 'wx', 0o600);
    try {
      await pipeline(from.createReadStream({ autoClose: false }), to.createWriteStream({ autoClose: false }));
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
  const time = new Date(internalDate);
  await fs.utimes(target, time, time);
  return true;
}

/** Rename across folders; across file systems, copy then remove. */
async function moveFile(source: string, target: string, internalDate: number): Promise<boolean> {
  try {
    await fs.rename(source, target);
    return true;
  } catch (error) {
    if (errorCode(error) !== 'EXDEV') throw error;
  }
  await linkOrCopy(source, target, internalDate);
  await fs.unlink(source);
  return true;
}

const TMP_MAX_AGE_MS = 36 * 3600_000;

/**
 * Removes what crashed deliveries left in tmp/ (older than 36 hours, as Courier does).
 * By ctime, as Courier: a file being delivered may already carry an old mtime (INTERNALDATE).
 * Our own scratch files (listing, caches, keywords) go at once when their process is dead.
 */
async function purgeTmp(folderDir: string): Promise<void> {
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
function folderStamps(dir: string): string | null {
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

function listingKey(stamps: string, db: FileStamp): string {
  return `${stamps} ${db.ino}/${db.size}/${db.mtimeMs}`;
}

/** All the mtimes in the stamps are older than SETTLED_MS before `time`. */
function settled(stamps: string, time: number): boolean {
  for (const part of stamps.split(' ')) {
    if (part === '-') continue;
    const mtimeMs = Number(part.split('/')[1]);
    if (!(time - mtimeMs > SETTLED_MS)) return false;
  }
  return true;
}
