// The shared state of one folder directory in this process.
//
// FolderCore holds what this process knows of one folder directory, shared by every
// session (and every MaildirStore) that opened it: the messages by UID, brought up to date
// with the disk by syncLocked(), and their listing and caches on disk. Its watcher
// (folder-watch.ts) looks at the folder when another process changes it; its tracker
// (tracker.ts) tells the sessions what changed. The look at the disk is in folder-look.ts,
// the folder's listing in folder-listing.ts, the saving of caches and listing in
// folder-save.ts; the message operations are in folder-ops.ts and folder-copy.ts, the
// registry of cores in folder-registry.ts.
//
// \Recent: a message is recent for exactly one session, in any process: the first to be told
// of it (see recent.ts for the mark on disk that decides). SELECT takes what nobody has been
// told of yet; messages that come later go to the handle whose refresh() found them, or else
// to the first read-write handle with a listener. Read-only handles (EXAMINE) take nothing and
// see as recent what nobody has taken (RFC 3501 6.3.2).

import type { FolderSnapshot, FolderSummary, MessageState } from '../backend/mailstore.js';
import type { MessageMeta } from '../mime/types.js';
import type { Entry, FolderContext } from './folder-entry.js';
import { announceAdded, tellRecent, untoldCount } from './folder-recent.js';
import { diskKey, folderStamps, newestMtime } from './folder-stamps.js';
import { CLOCK_TICK_MS, ListedOpen, nextLoopTurn } from './folder-reopen.js';
import { lookLocked, type SyncOptions } from './folder-look.js';
import { listCurrent, readListed } from './folder-listing.js';
import { FolderSaver } from './folder-save.js';
import { FolderWatch } from './folder-watch.js';
import { announceChange } from './change-bus.js';
import type { FtsTarget } from './fts/fts-index.js';
import { explainedEvents, type KnownState } from './follow.js';
import { closeListing, type ListingHead, type OpenedListing } from './listing.js';
import { keywordMemory } from './keywords.js';
import { folderMutex } from './lock.js';
import { MessageCache } from './messagecache.js';
import { mendList, reportedModseq } from './folder-modseq.js';
import { ModseqLog } from './modseq.js';
import { recentMark } from './recent.js';
import type { ScanMemory } from './scan.js';
import { FolderTracker, type TrackedSession } from './tracker.js';
import { accountChange } from './account-watch.js';
import { type FileStamp, statUidDbSync } from './uiddb.js';

export class FolderCore {
  uidValidity = 0;
  uidNext = 1;
  gone = false;
  /** Files left in new/ by the last scan that did not claim (for STATUS). */
  unclaimed: string[] = [];
  /** Files in cur/ left without a UID by the last scan (see SyncOptions.numberCur). */
  unnumbered = 0;

  /** The messages by UID, and their UIDs in order (see `entries` and `sortedUids`). */
  readonly table = new Map<number, Entry>();
  uidList: number[] = [];
  /** A listing whose messages are not read yet: SELECT answers from its head (see listing.ts). */
  listed: OpenedListing | undefined;
  /** The listing the state was opened from, for a first claim without a scan (folder-reopen.ts). */
  readonly reopen = new ListedOpen();
  /** The messages as the listing had them: what sessions that answered SELECT from its head saw. */
  listedState: readonly MessageState[] | undefined;
  /** The snapshot's list of messages, made when asked for (undefined: changed since). */
  messageList: MessageState[] | undefined;
  initialized = false;
  private pins = 0;
  /** The sessions that have the folder open in this process. */
  readonly tracker = new FolderTracker((what) => accountChange(this.context.root, { kind: 'messages', name: this.name, what }));
  readonly watch: FolderWatch = new FolderWatch(this);
  /** What the last scan read; writers of this folder (APPEND, COPY) keep it current. */
  readonly scanMemory: ScanMemory = {};
  readonly keywordMemory = keywordMemory();
  /** Directory stamps seen by the last scan, when they can be trusted to change with the next change. */
  stamps: string | undefined;
  /**
   * The UID database the last scan used (read or wrote). A file, not a directory: it is
   * replaced by a rename (new inode) or extended in place (new size), so its identity
   * tells whether it changed, however recent its mtime.
   */
  dbStamp: FileStamp | undefined;
  /**
   * The disk (folder stamps and UID database, see diskKey) as it was when the messages in
   * memory were last known to be all of it: after a scan, or after a change of this process's
   * own that began from such a state. Trusted only while the watches saw no other change.
   */
  current: string | undefined;
  /** The newest directory mtime in `current`. */
  private currentMtime = 0;
  /** Counts changes to the entries: a listing is written only of the state a settled scan made. */
  generation = 0;
  /**
   * Messages whose file a read or a STORE found renamed by another process, with other flags
   * (folder-ops.ts relocate): the scan that follows sees no change of name, so it takes their
   * flags from here, with a new modseq, and tells the sessions.
   */
  readonly relocated = new Set<Entry>();
  /** See folder-modseq.ts stampEntries. */
  untold = 0;
  toldModseq = 0;
  /** Counts the looks at the disk (scans): a look given up for another's lock is made again unless one came since. */
  looks = 0;
  /** What the state knows, for judging watcher events (follow.ts). */
  private readonly known: KnownState = {
    nameOf: (base) => {
      const uid = this.scanMemory.db?.uids.get(base) ?? this.reopen.uidOf(base);
      return uid === undefined ? undefined : this.entries.get(uid)?.fileName;
    },
    uidDbKnown: () => this.watch.ownUidDb(),
  };
  /** A listing to write (see listing.ts): the state of `generation`, seen with these stamps. */
  listingDue: { generation: number; head: ListingHead } | undefined;
  /** Stamps of the listing on disk, as far as this process knows (read or written by it). */
  listingStamps: string | undefined;
  readonly cache: MessageCache;
  /** Mod-sequences (folder-modseq.ts). */
  readonly modseqs: ModseqLog;
  readonly metaInFlight = new Map<number, Promise<MessageMeta>>();
  /** Writes the caches and the listing (folder-save.ts). */
  private readonly saver = new FolderSaver(this);
  /** The last session went: whether a listing of the state is due is being decided (listCurrent). */
  listingDecided: Promise<void> | undefined;
  /** Messages went since the caches were last saved: the next save drops their records. */
  pruneNeeded = true;
  private disposeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    readonly name: string,
    readonly context: FolderContext,
    /** Takes the core out of the registry (folder-registry.ts). */
    private readonly unregister: (core: FolderCore) => void = () => undefined,
  ) {
    this.modseqs = new ModseqLog(dir);
    this.cache = new MessageCache(dir, {
      parseMessage: context.parseMessage,
      parseStructure: context.parseStructure,
      parseHeader: context.parseHeader,
      renderEnvelope: context.renderEnvelope,
      pool: context.parsePool,
      version: context.cacheVersion,
      memoryEntries: context.metaCacheEntries,
      messageLinks: context.messageLinks,
    });
  }

  /** The messages by UID; read from the listing on first use. */
  get entries(): Map<number, Entry> {
    if (this.listed) readListed(this);
    return this.table;
  }

  /** The UIDs in ascending order. */
  get sortedUids(): number[] {
    if (this.listed) readListed(this);
    return this.uidList;
  }

  set sortedUids(uids: number[]) {
    this.uidList = uids;
  }

  // ---------------------------------------------------------------------------
  // Locking and scanning

  /** Runs `task` alone among this process's operations on the folder. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return folderMutex.run(this.dir, task);
  }

  /**
   * Brings the state up to date with the disk and tells the sessions, through the queue;
   * without it when the state is known current (see isCurrent), so that the SELECTs and
   * NOOPs of many sessions cost a few stat() calls each, not a turn behind every write.
   */
  async sync(options: SyncOptions): Promise<void> {
    if (this.initialized && !this.gone && !this.leftOver(options) && (await this.confirmedCurrent())) return;
    return this.exclusive(() => this.syncLocked(options));
  }

  /** The last scan left something this one would take on (new/ to claim, cur/ files to number). */
  leftOver(options: SyncOptions): boolean {
    return (options.claimNew && this.unclaimed.length > 0) || (options.numberCur !== false && this.unnumbered > 0);
  }

  /** Brings the state up to date with the disk and tells the sessions (call inside exclusive(); folder-look.ts). */
  syncLocked(options: SyncOptions): Promise<void> {
    return lookLocked(this, options);
  }

  /** See folder-reopen.ts CurrentFolder. */
  currentRecord(): { key: string; mtime: number } | undefined {
    return this.current === undefined ? undefined : { key: this.current, mtime: this.currentMtime };
  }

  /** refresh() of a handle (NOOP, IDLE, ...). */
  refresh(claimant?: TrackedSession): Promise<void> {
    return this.sync({ claimNew: true, claimant });
  }

  /**
   * Watcher events (FolderWatch): judged in the queue, after what came before them. Those the
   * state already explains (this process claimed, or followed the claimer: follow.ts) need no
   * look; any other makes the state foreign and is looked at, giving way to a claimer.
   */
  followEvents(): Promise<void> {
    return this.exclusive(async () => {
      const events = this.watch.takeEvents();
      if (!events.length || this.gone) return;
      if (this.initialized && explainedEvents(this.dir, events, this.known)) return;
      this.watch.noteForeign();
      await this.syncLocked({ claimNew: true, follow: true });
    });
  }

  /**
   * In the folder's queue: watcher events still waiting to be judged (followEvents runs after a
   * pause in a burst of our own changes) that the state explains are judged now. False when one
   * is not explained: it stays, for the look it calls for.
   */
  judgeExplainedEvents(): boolean {
    const events = this.watch.peekEvents();
    if (!events.length) return true;
    if (!this.initialized || this.gone || !explainedEvents(this.dir, events, this.known)) return false;
    this.watch.takeEvents();
    return true;
  }

  // ---------------------------------------------------------------------------
  // Changes of this process's own: the state follows them without a scan

  /** The messages in memory are all that is on disk: nothing changed since, but by this process. */
  isCurrent(): boolean {
    if (this.current === undefined || !this.watch.quiet()) return false;
    const stamps = folderStamps(this.dir);
    return stamps !== null && this.current === diskKey(stamps, statUidDbSync(this.dir));
  }

  /**
   * isCurrent(), for an answer that must include every change made before it was asked (a
   * NOOP after a delivery): another process's change in the same clock tick as our last one
   * leaves the stamps as they were (file times come from a coarse clock, a few ms), and only
   * its inotify event tells. That event is queued by the time the change returned: one full
   * turn of the event loop reads it. Needed only while the stamps are that young.
   */
  async confirmedCurrent(): Promise<boolean> {
    if (!this.isCurrent()) return false;
    if (Date.now() - this.currentMtime > CLOCK_TICK_MS) return true;
    await nextLoopTurn();
    return this.isCurrent();
  }

  /** Records the disk as the one the state in memory describes (after a scan or a change of ours). */
  markCurrent(): void {
    // Events still to judge do not spoil the record: isCurrent trusts it only once they are judged explained.
    const stamps = this.watch.unspoiled() ? folderStamps(this.dir) : null;
    this.current = stamps === null ? undefined : diskKey(stamps, statUidDbSync(this.dir));
    this.currentMtime = stamps === null ? 0 : newestMtime(stamps);
  }

  /**
   * Before a change of this process's own (in the queue): whether the state is current, so
   * that ownChangeDone() can call it current again after. Until then it is not.
   */
  ownChangeBegins(): boolean {
    const clean = this.initialized && !this.gone && this.isCurrent();
    this.current = undefined;
    // Other servers look once this change is done (it holds the folder's queue now).
    announceChange(this.context.changeBus, this.dir);
    return clean;
  }

  /** A change of ours is done and the state in memory follows it (false from ownChangeBegins: a scan will tell). */
  ownChangeDone(clean: boolean): void {
    if (clean && !this.gone) this.markCurrent();
  }

  /** Something of ours changed the folder: its watcher events can wait for the burst to end. */
  noteLocalChange(): void {
    this.watch.noteLocalChange();
  }

  /** See FolderWatch.expectOwn. */
  expectOwn(names: readonly string[]): void {
    this.watch.expectOwn(names);
  }

  /** Whether changes are noticed through file-system events (false: polling). */
  get watching(): boolean {
    return this.watch.watching;
  }

  /** Some session has the folder open (see WatchedFolder). */
  inUse(): boolean {
    return this.tracker.size > 0;
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

  /**
   * Before an open's first look at a folder no session has open: the watches first (see
   * FolderWatch.watchNow). unwatchUnused() after the open, whatever its outcome.
   */
  watchEarly(): void {
    if (!this.inUse() && !this.gone) this.watch.watchNow();
  }

  /** After an open: watches that no session came to use are stopped. */
  unwatchUnused(): void {
    if (!this.inUse()) this.watch.stopWatching();
  }

  attach(handle: TrackedSession): void {
    if (this.disposeTimer) clearTimeout(this.disposeTimer);
    this.disposeTimer = undefined;
    this.tracker.add(handle);
    if (this.tracker.size === 1) this.watch.watchSoon();
  }

  detach(handle: TrackedSession): void {
    if (!this.tracker.delete(handle) || this.tracker.size) return;
    if (!this.watching || this.current === undefined) {
      this.watch.stopWatching();
      this.scheduleDispose();
      return;
    }
    // The watches vouch for the state until a listing of it is decided on (listCurrent).
    this.pin();
    const decided = (this.listingDecided = listCurrent(this)
      .catch(() => undefined)
      .finally(() => {
        if (this.listingDecided === decided) this.listingDecided = undefined;
        if (!this.tracker.size) this.watch.stopWatching();
        this.unpin();
      }));
  }

  /** Forget this core after a while without sessions (it keeps caches for a quick re-SELECT). */
  scheduleDispose(): void {
    if (this.tracker.size || this.pins || this.disposeTimer || this.gone) return;
    this.disposeTimer = setTimeout(() => this.dispose(), this.context.idleRetentionMs);
    this.disposeTimer.unref();
  }

  private dispose(): void {
    this.disposeTimer = undefined;
    if (this.idle) this.forget();
  }

  /** Nobody has the folder open and no operation is under way. */
  get idle(): boolean {
    return this.tracker.size === 0 && this.pins === 0;
  }

  /** Drops the core from the registry (its caches are written first). */
  forget(): void {
    if (this.disposeTimer) clearTimeout(this.disposeTimer);
    this.disposeTimer = undefined;
    this.unregister(this);
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
    this.unregister(this);
    this.dropListed();
    this.watch.stopWatching();
    this.cache.close();
    this.tracker.emit({ kind: 'gone' });
  }

  snapshot(): FolderSnapshot {
    const listing = this.listed;
    if (listing) {
      // Opened from a listing: the messages are read when first asked for.
      const current = (): readonly MessageState[] => {
        if (this.listed) readListed(this);
        return this.snapshot().messages;
      };
      const summary: FolderSummary = {
        count: listing.count,
        firstUnseen: listing.firstUnseen,
        keywords: this.context.keywords ? listing.keywords : [],
        messages: () => {
          if (this.listed) readListed(this);
          return this.listedState ?? []; // none: the folder went before it was read
        },
      };
      return {
        uidValidity: this.uidValidity,
        uidNext: this.uidNext,
        highestModseq: this.modseqs.applied,
        toldModseq: reportedModseq(this),
        summary,
        get messages() {
          return current();
        },
      };
    }
    this.messageList ??= this.sortedUids.map((uid) => this.entries.get(uid)!.info);
    return { uidValidity: this.uidValidity, uidNext: this.uidNext, highestModseq: this.modseqs.applied, toldModseq: reportedModseq(this), messages: this.messageList };
  }

  /**
   * Entries whose info (flags, modseq) was replaced, none added or gone: the list snapshot()
   * gives is mended in place, not made anew (100,000 lookups for a STORE of one message). Not
   * the listing's list, which views opened from the listing read as it was at their SELECT.
   */
  infoChanged(entries: Iterable<Entry>): void {
    const list = this.messageList;
    if (list && list !== this.listedState && !this.listed && mendList(list, this.uidList, entries)) return;
    this.messageList = undefined;
  }

  /** Tells the sessions of new messages (ascending UIDs); see folder-recent.ts. */
  emitAdded(added: readonly Entry[], claimant: TrackedSession | undefined): Promise<void> {
    this.textIndexDue();
    return announceAdded(this, added, claimant);
  }

  /** Asks the full-text index (when there is one) to catch up with this folder soon. */
  textIndexDue(): void {
    if (this.context.fts && !this.gone) this.context.fts.schedule(this.textTarget());
  }

  /** The folder as the full-text index sees it. */
  textTarget(): FtsTarget {
    return {
      dir: this.dir,
      uidValidity: this.uidValidity,
      uids: () => this.sortedUids,
      fileName: (uid) => this.entries.get(uid)?.fileName,
    };
  }

  /** SELECT and EXAMINE: what no session has been told of yet is recent for this handle (see folder-recent.ts). */
  tellRecent(handle: TrackedSession): Promise<void> {
    // Nothing untold (the usual case): no turn in the queue.
    const top = this.uidNext - 1;
    if (top < 1 || recentMark(this.dir, this.uidValidity) >= top) return Promise.resolve();
    return this.exclusive(() => tellRecent(this, handle));
  }

  /** The messages in ascending UIDs, as the snapshot has them (folder-recent.ts). */
  messageStates(): readonly MessageState[] {
    return this.snapshot().messages;
  }

  /** How many messages no session has been told of yet (STATUS RECENT, with what is still in new/). */
  untoldCount(): number {
    return untoldCount(this);
  }

  /** Writes the caches and a due listing soon (folder-save.ts). */
  scheduleInfoSave(): void {
    this.saver.schedule();
  }

  /** Writes the caches and a due listing now, after a save under way (folder-save.ts). */
  saveInfo(): Promise<void> {
    return this.saver.save();
  }
}
