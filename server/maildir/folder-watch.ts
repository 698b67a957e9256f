// Watching a folder directory for changes made by other processes: inotify watches on
// new/, cur/, the folder directory and courierimapkeywords/ (polling when they cannot be
// set up), debounced, and quiet while this process itself is changing the folder.
//
// An event is foreign (the state in memory may differ from the disk) unless this process
// caused it (expectOwn, its own UID database writes) or, once judged, the state already
// explains it (follow.ts: every process is woken by each delivery and its claim, and has
// usually followed the claimer by the time the claim's own events are read). Events wait in
// `pending` until the folder judges them; while any wait, the state is not called current.

import { existsSync, type FSWatcher, readdirSync, watch } from 'node:fs';
import path from 'node:path';
import type { FolderContext } from './folder-entry.js';
import type { PendingEvent } from './follow.js';
import { KEYWORD_DIR } from './keywords.js';
import type { ScanMemory } from './scan.js';
import { sameStamp, statUidDbSync, UIDDB_FILE } from './uiddb.js';

const WATCH_DEBOUNCE_MS = 5;
const BURST_PAUSE_MS = 30;
const BURST_MAX_DELAY_MS = 500;
/** How long an event for a name this process changed in cur/ is expected. */
export const OWN_EVENT_MS = 5000;

/** What the watcher needs of the folder it watches (FolderCore). */
export interface WatchedFolder {
  readonly dir: string;
  readonly name: string;
  readonly context: FolderContext;
  readonly scanMemory: ScanMemory;
  readonly gone: boolean;
  /** Some session has the folder open. */
  inUse(): boolean;
  /** Judges the pending events (takeEvents) and looks at the folder unless they are all explained. */
  followEvents(): Promise<void>;
}

/** Beyond this many events waiting, one look (a null name) stands for all of them. */
const MAX_PENDING = 1000;

export class FolderWatch {
  private watchers: FSWatcher[] = [];
  private watchStart: NodeJS.Immediate | undefined;
  private keywordWatcher: FSWatcher | undefined;
  /** This process is making courierimapkeywords/ (see ownKeywordDir). */
  private makingKeywordDir = false;
  private pollTimer: NodeJS.Timeout | undefined;
  /** The change bus's subscription for this folder (other servers' changes), while watched. */
  private busSubscription: (() => void) | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private lastLocalChange = 0;
  /**
   * Names in cur/ (and "k/<base>" in courierimapkeywords/) this process changes itself: how
   * many events each is expected to cause, until when. An event consumes one, so that a later
   * change of the same name by another process is seen.
   */
  private readonly ownNames = new Map<string, { count: number; until: number }>();
  /**
   * An event this process did not cause came since the last scan began (or the watches are
   * new): the messages in memory may differ from the disk (see FolderCore.isCurrent).
   */
  private foreign = true;
  /** Events not yet judged (see followEvents): they may be foreign. */
  private pending: PendingEvent[] = [];

  constructor(private readonly folder: WatchedFolder) {}

  private get dir(): string {
    return this.folder.dir;
  }

  private get context(): FolderContext {
    return this.folder.context;
  }

  /**
   * Every change of the folder since the last scan began was this process's own, as far as
   * the watches tell (polling tells nothing: false).
   */
  quiet(): boolean {
    return !this.foreign && this.pending.length === 0 && this.watchers.length > 0;
  }

  /**
   * No foreign event since the last scan began, events still to judge aside: the disk as it
   * is now may be recorded as the state's (FolderCore.markCurrent); it is trusted only once
   * they are judged explained (quiet()).
   */
  unspoiled(): boolean {
    return !this.foreign && this.watchers.length > 0;
  }

  /** The events waiting to be judged, left waiting. */
  peekEvents(): readonly PendingEvent[] {
    return this.pending;
  }

  /** The events waiting to be judged, taken (call in the folder's queue, then judge them at once). */
  takeEvents(): PendingEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  /** A look is wanted whatever the state explains (a look given up for another process's lock: follow.ts). */
  lookAgain(): void {
    this.note({ where: 'folder', file: null });
  }

  private note(event: PendingEvent): void {
    if (this.pending.length < MAX_PENDING) this.pending.push(event);
    else this.pending[0] = { where: event.where, file: null }; // too many to look into one by one
    this.scheduleSync();
  }

  /** A scan begins: it sees what changed before; what changes from now on is foreign again. */
  scanStarts(): void {
    this.foreign = false;
  }

  /** Another process changed the folder (a file was not where this process left it). */
  noteForeign(): void {
    this.foreign = true;
  }

  /** Something of ours changed the folder: its watcher events can wait for the burst to end. */
  noteLocalChange(): void {
    this.lastLocalChange = Date.now();
  }

  /**
   * Watches are set up just after the open, so that its answer goes out first (three
   * inotify watches cost a few milliseconds); one look right after they are in place
   * catches anything that changed in between.
   */
  watchSoon(): void {
    if (this.watchers.length) {
      // Set up before the open's look (watchNow): events that came meanwhile are looked into now.
      if (this.pending.length) this.scheduleSync();
      return;
    }
    if (this.watchStart || this.pollTimer) return;
    this.watchStart = setImmediate(() => {
      this.watchStart = undefined;
      if (!this.folder.inUse() || this.folder.gone) return;
      this.startWatching();
      this.listenToOtherServers();
      this.lookAgain();
    });
  }

  /**
   * Watches set up at once, before the first look of an open (FolderCore.watchEarly): that look
   * then sees every change made before them and the watches every change after, so that no
   * second look (watchSoon's) is needed.
   */
  watchNow(): void {
    if (this.watchers.length || this.pollTimer || !this.context.watch) return;
    if (this.watchStart) clearImmediate(this.watchStart);
    this.watchStart = undefined;
    this.startWatching();
  }

  /** After a scan: courierimapkeywords/ may have appeared since the watches were set up. */
  watchNewKeywordDir(): void {
    if (!this.context.keywords || this.keywordWatcher || !this.watchers.length) return;
    this.watchKeywords();
    // What was written into it between the look's read and this watch raised no event: one more look.
    if (this.keywordWatcher) this.lookAgain();
  }

  private startWatching(): void {
    if (!this.context.watch) {
      this.startPolling();
      return;
    }
    try {
      // `n/NAME`: a name this process takes from new/ itself (folder-reopen.ts).
      this.watchers.push(this.watchDir(path.join(this.dir, 'new'), 'new', (file) => file === null || !this.ownChange(`n/${file}`)));
      this.watchers.push(this.watchDir(path.join(this.dir, 'cur'), 'cur', (file) => file === null || !this.ownChange(file)));
      this.foreign = true; // what changed before the watches were in place: the next look scans
      this.watchers.push(
        this.watchDir(
          this.dir,
          'folder',
          (file) => file === null || (file === UIDDB_FILE && !this.ownUidDb()) || (file === KEYWORD_DIR && !this.ownKeywordDir()) || file === 'cur' || file === 'new',
        ),
      );
      if (this.context.keywords) this.watchKeywords();
    } catch (error) {
      // inotify limits (ENOSPC, EMFILE): do not stay silent, and fall back to polling.
      this.context.logger?.log('warn', 'cannot watch folder, polling instead', { folder: this.folder.name, error: String(error) });
      this.stopWatching();
      this.startPolling();
    }
  }

  private watchDir(dir: string, where: PendingEvent['where'], relevant: (file: string | null) => boolean = () => true): FSWatcher {
    const watcher = watch(dir, { persistent: false }, (_event, file) => {
      const name = file === null ? null : String(file);
      if (relevant(name)) this.note({ where, file: name });
    });
    watcher.on('error', () => {
      this.foreign = true;
      this.note({ where, file: null });
    });
    return watcher;
  }

  /**
   * This process is about to rename, link or remove these names in cur/ (APPEND, STORE,
   * EXPUNGE, COPY; `n/NAME` in new/, `k/NAME` in courierimapkeywords/): their events need no look at the folder (which costs a listing of the
   * whole directory) since the folder state already knows them.
   */
  expectOwn(names: readonly string[]): void {
    const until = Date.now() + OWN_EVENT_MS;
    for (const name of names) {
      const known = this.ownNames.get(name);
      this.ownNames.set(name, { count: (known?.count ?? 0) + 1, until });
    }
    if (this.ownNames.size > 10_000) this.dropOldOwn();
  }

  /** This process is about to write the keyword update file of these messages (see expectOwn). */
  expectOwnKeywords(bases: readonly string[]): void {
    // The first keyword of a folder makes courierimapkeywords/: see ownKeywordDir.
    if (bases.length && this.watchers.length && !this.keywordWatcher && !existsSync(path.join(this.dir, KEYWORD_DIR))) this.makingKeywordDir = true;
    this.expectOwn(bases.map((base) => `k/${base}`));
  }

  /**
   * The event of courierimapkeywords/ appearing, when this process was about to make it: it is
   * watched from now on, and needs no look at the folder (a listing of all of cur/: seconds for
   * 100,000 messages) unless it already holds an update file this process did not write.
   */
  private ownKeywordDir(): boolean {
    if (!this.makingKeywordDir || this.keywordWatcher) return false;
    this.makingKeywordDir = false;
    this.watchKeywords();
    if (!this.keywordWatcher) return false;
    let names: string[];
    try {
      names = readdirSync(path.join(this.dir, KEYWORD_DIR));
    } catch {
      return false;
    }
    if (!names.every((name) => this.ownNames.has(`k/${name}`))) return false;
    // Written before the watch was set: their events will not come (JavaScript ran nothing in between).
    for (const name of names) this.ownChange(`k/${name}`);
    return true;
  }

  private ownChange(name: string): boolean {
    const own = this.ownNames.get(name);
    if (own === undefined) return false;
    if (own.until < Date.now()) {
      this.dropOldOwn();
      return false;
    }
    if (--own.count === 0) this.ownNames.delete(name);
    return true;
  }

  private dropOldOwn(): void {
    const now = Date.now();
    for (const [name, own] of this.ownNames) if (own.until < now) this.ownNames.delete(name);
  }

  /** The UID database is as this process last wrote or read it (its event is our own write). */
  ownUidDb(): boolean {
    if (this.folder.scanMemory.writing) return true;
    try {
      return sameStamp(this.folder.scanMemory.stamp, statUidDbSync(this.dir));
    } catch {
      return false;
    }
  }

  private watchKeywords(): void {
    // Checked first: a failed watch throws, and this is tried after every look until the folder has keywords.
    if (!existsSync(path.join(this.dir, KEYWORD_DIR))) return;
    try {
      this.keywordWatcher = this.watchDir(path.join(this.dir, KEYWORD_DIR), 'keywords', (file) => file === null || !this.ownChange(`k/${file}`));
    } catch {
      // Not there yet: the watcher of the folder directory sees it appear.
    }
  }

  /**
   * Another server changed the folder (change-bus.ts): look, as for a watcher event that the
   * state cannot explain. Alongside the watches or the polling, never instead: the watches do
   * not see other hosts, and the bus may be down.
   */
  private listenToOtherServers(): void {
    const bus = this.context.changeBus;
    if (!bus || this.busSubscription) return;
    this.busSubscription = bus.subscribe(this.dir, () => {
      this.foreign = true;
      this.lookAgain();
    });
  }

  private startPolling(): void {
    this.pollTimer = setInterval(() => this.lookAgain(), this.context.pollIntervalMs);
    this.pollTimer.unref();
  }

  stopWatching(): void {
    if (this.watchStart) clearImmediate(this.watchStart);
    this.watchStart = undefined;
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    this.keywordWatcher?.close();
    this.keywordWatcher = undefined;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.busSubscription?.();
    this.busSubscription = undefined;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.pending = [];
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
    if (this.syncTimer || this.folder.gone || !this.folder.inUse()) return;
    const firstEvent = Date.now();
    const fire = (): void => {
      const now = Date.now();
      if (now - this.lastLocalChange < BURST_PAUSE_MS && now - firstEvent < BURST_MAX_DELAY_MS) {
        this.syncTimer = setTimeout(fire, BURST_PAUSE_MS);
        return;
      }
      this.syncTimer = undefined;
      this.folder.followEvents().catch((error: unknown) => this.context.logger?.log('error', 'folder refresh failed', { folder: this.folder.name, error: String(error) }));
    };
    this.syncTimer = setTimeout(fire, WATCH_DEBOUNCE_MS);
  }
}
