// Watching a whole account for other processes' changes, for NOTIFY (RFC 5465): the Maildir's
// directory (folders made, deleted, renamed: their ".Name" entries; courierimapsubscribed
// replaced), and, when some session wants message changes of folders it does not have open,
// new/ and cur/ of each folder. Nothing of a folder is read here: an event only says that the
// folder changed ('unknown'), and each session asks for its STATUS (the cheap status path)
// and compares. Folders that this process has open are left to their own watcher
// (folder-watch.ts), which tells the account's fan-out precisely through their tracker.
//
// Cost: two inotify watches per folder (at most MAX_WATCHED_FOLDERS of them) for the whole
// process, whatever the number of sessions; no watch at all when nobody asked.

import { type FSWatcher, statSync, watch } from 'node:fs';
import path from 'node:path';
import type { MailboxEvent } from '../backend/mailstore.js';
import type { Logger } from '../log/logger.js';
import { folderDirectory, folderNameOfEntry } from './names.js';
import { AccountTracker, type AccountWatcher } from './tracker.js';

/** Beyond this many folders, only names and subscriptions are watched (and a warning logged). */
export const MAX_WATCHED_FOLDERS = 1000;
const NAMES_DEBOUNCE_MS = 20;
const FOLDER_DEBOUNCE_MS = 30;

export interface AccountSource {
  readonly root: string;
  /** Whether file-system events can be had (else the account is polled). */
  readonly watch: boolean;
  readonly pollIntervalMs: number;
  readonly logger?: Logger;
  /** The account's folders now (canonical names, INBOX included), read synchronously. */
  folderNames(): string[];
  subscriptions(): Promise<string[]>;
  subscriptionFile: string;
  /** Whether this process has the folder in `dir` open (its own watcher follows it then). */
  folderOpen(dir: string): boolean;
}

const trackers = new Map<string, AccountTracker>();

/** Per account root: this process's changes under way, and a count bumped as each begins (kept: a few bytes per account). */
const ownWork = new Map<string, { busy: number; generation: number }>();

/**
 * Runs `work`, a change of this process to the account's folders or subscriptions (which tells
 * of itself with accountChange). Meanwhile the account's watch does not look: what it read
 * halfway would be taken for another process's change, told twice, or told back to front.
 */
export async function ownAccountWork<T>(root: string, work: () => Promise<T>): Promise<T> {
  let state = ownWork.get(root);
  if (!state) ownWork.set(root, (state = { busy: 0, generation: 0 }));
  state.busy += 1;
  state.generation += 1;
  try {
    return await work();
  } finally {
    state.busy -= 1;
  }
}

/** The generation of the account's own work, or null while some is under way. */
function quietGeneration(root: string): number | null {
  const state = ownWork.get(root);
  if (!state) return 0;
  return state.busy > 0 ? null : state.generation;
}

/** The fan-out of the account at `source.root`, made on first use; forgotten when its last listener goes. */
export function accountTracker(source: AccountSource): AccountTracker {
  let tracker = trackers.get(source.root);
  if (!tracker) {
    const made = new AccountTracker((t) => new AccountWatch(source, t, () => {
      if (trackers.get(source.root) === made) trackers.delete(source.root);
    }));
    tracker = made;
    trackers.set(source.root, tracker);
  }
  return tracker;
}

/** A change this process made in the account at `root`: told to its listeners, if any (`tell` false: only its watch learns it). */
export function accountChange(root: string, event: MailboxEvent, tell = true): void {
  trackers.get(root)?.ownChange(event, tell);
}

class AccountWatch implements AccountWatcher {
  private rootWatcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly folderWatchers = new Map<string, FSWatcher[]>();
  /** Folder names as last seen (own changes applied at once). */
  private names = new Set<string>();
  private subscribed: Set<string> | undefined;
  private messages = false;
  private namesTimer: NodeJS.Timeout | undefined;
  private subscriptionsTimer: NodeJS.Timeout | undefined;
  private folderTimer: NodeJS.Timeout | undefined;
  private readonly changedFolders = new Set<string>();
  /** Polling: the stamps of new/ and cur/ of each folder. */
  private readonly stamps = new Map<string, string>();
  private stopped = false;
  private warned = false;

  constructor(
    private readonly source: AccountSource,
    private readonly tracker: AccountTracker,
    private readonly onStop: () => void,
  ) {
    this.names = new Set(source.folderNames());
    this.loadSubscriptions();
    if (source.watch) {
      try {
        this.rootWatcher = watch(source.root, { persistent: false }, (_event, file) => this.rootEvent(file === null ? null : String(file)));
        this.rootWatcher.on('error', () => this.rootEvent(null));
        return;
      } catch (error) {
        source.logger?.log('warn', 'cannot watch the Maildir for NOTIFY, polling instead', { error: String(error) });
      }
    }
    this.pollTimer = setInterval(() => this.poll(), source.pollIntervalMs);
    this.pollTimer.unref();
  }

  setMessages(messages: boolean): void {
    if (messages === this.messages) return;
    this.messages = messages;
    if (!messages) {
      for (const name of [...this.folderWatchers.keys()]) this.unwatchFolder(name);
      this.stamps.clear();
    } else if (this.rootWatcher) {
      for (const name of this.names) this.watchFolder(name);
    }
  }

  own(event: MailboxEvent): void {
    switch (event.kind) {
      case 'created':
        this.names.add(event.name);
        if (this.messages && this.rootWatcher) this.watchFolder(event.name);
        break;
      case 'deleted':
        this.names.delete(event.name);
        this.unwatchFolder(event.name);
        break;
      case 'renamed':
        this.names.delete(event.from);
        this.unwatchFolder(event.from);
        this.names.add(event.name);
        if (this.messages && this.rootWatcher) this.watchFolder(event.name);
        break;
      case 'subscription':
        if (event.subscribed) this.subscribed?.add(event.name);
        else this.subscribed?.delete(event.name);
        break;
      default:
        break;
    }
  }

  stop(): void {
    this.stopped = true;
    this.rootWatcher?.close();
    this.rootWatcher = undefined;
    for (const name of [...this.folderWatchers.keys()]) this.unwatchFolder(name);
    for (const timer of [this.pollTimer, this.namesTimer, this.subscriptionsTimer, this.folderTimer]) if (timer) clearTimeout(timer);
    this.onStop();
  }

  private rootEvent(file: string | null): void {
    if (this.stopped) return;
    if (file === null || file === this.source.subscriptionFile) this.subscriptionsSoon();
    if (file === null || folderNameOfEntry(file) !== null) this.namesSoon();
  }

  private namesSoon(): void {
    this.namesTimer ??= setTimeout(() => {
      this.namesTimer = undefined;
      this.checkNames();
    }, NAMES_DEBOUNCE_MS);
  }

  private subscriptionsSoon(): void {
    this.subscriptionsTimer ??= setTimeout(() => {
      this.subscriptionsTimer = undefined;
      void this.checkSubscriptions();
    }, NAMES_DEBOUNCE_MS);
  }

  /** Folders made or deleted by another process (a rename shows as both). */
  private checkNames(): void {
    if (this.stopped) return;
    if (quietGeneration(this.source.root) === null) {
      this.namesSoon();
      return;
    }
    let now: Set<string>;
    try {
      now = new Set(this.source.folderNames());
    } catch {
      return;
    }
    const before = this.names;
    this.names = now;
    for (const name of before) {
      if (now.has(name)) continue;
      this.unwatchFolder(name);
      this.tracker.emit({ kind: 'deleted', name });
    }
    for (const name of now) {
      if (before.has(name)) continue;
      if (this.messages && this.rootWatcher) this.watchFolder(name);
      this.tracker.emit({ kind: 'created', name });
    }
  }

  /** The subscriptions, read while this process changed none of its own (else null: look again soon). */
  private async readSubscriptions(): Promise<Set<string> | null | undefined> {
    const generation = quietGeneration(this.source.root);
    if (generation === null) return null;
    let names: string[];
    try {
      names = await this.source.subscriptions();
    } catch {
      return undefined;
    }
    // A read begun before our own write may end after it: it would undo what own() applied.
    return quietGeneration(this.source.root) === generation ? new Set(names) : null;
  }

  /** The first look at the subscriptions, against which the watch's later looks are compared. */
  private loadSubscriptions(): void {
    void this.readSubscriptions().then((names) => {
      if (this.stopped || this.subscribed) return;
      if (names === null) setTimeout(() => this.loadSubscriptions(), NAMES_DEBOUNCE_MS).unref();
      else if (names) this.subscribed = names;
    });
  }

  private async checkSubscriptions(): Promise<void> {
    const now = await this.readSubscriptions();
    if (this.stopped || now === undefined) return;
    if (now === null) {
      this.subscriptionsSoon();
      return;
    }
    const before = this.subscribed;
    this.subscribed = now;
    if (!before) return;
    for (const name of before) if (!now.has(name)) this.tracker.emit({ kind: 'subscription', name, subscribed: false });
    for (const name of now) if (!before.has(name)) this.tracker.emit({ kind: 'subscription', name, subscribed: true });
  }

  private watchFolder(name: string): void {
    if (this.folderWatchers.has(name) || this.stopped) return;
    if (this.folderWatchers.size >= MAX_WATCHED_FOLDERS) {
      if (!this.warned) this.source.logger?.log('warn', `NOTIFY watches at most ${MAX_WATCHED_FOLDERS} folders of an account for other processes' changes`, { root: this.source.root });
      this.warned = true;
      return;
    }
    const dir = folderDirectory(this.source.root, name);
    const watchers: FSWatcher[] = [];
    try {
      for (const sub of ['new', 'cur']) {
        const watcher = watch(path.join(dir, sub), { persistent: false }, () => this.folderEvent(name, dir));
        watcher.on('error', () => this.unwatchFolder(name));
        watchers.push(watcher);
      }
    } catch {
      // Gone meanwhile, or inotify limits: the folder's changes are not pushed.
      for (const watcher of watchers) watcher.close();
      return;
    }
    this.folderWatchers.set(name, watchers);
  }

  private unwatchFolder(name: string): void {
    const watchers = this.folderWatchers.get(name);
    if (!watchers) return;
    this.folderWatchers.delete(name);
    for (const watcher of watchers) watcher.close();
  }

  private folderEvent(name: string, dir: string): void {
    // An open folder's own watcher follows it and tells the fan-out exactly what changed.
    if (this.source.folderOpen(dir)) return;
    this.changedFolders.add(name);
    this.folderTimer ??= setTimeout(() => {
      this.folderTimer = undefined;
      const names = [...this.changedFolders];
      this.changedFolders.clear();
      for (const changed of names) this.tracker.emit({ kind: 'messages', name: changed, what: 'unknown' });
    }, FOLDER_DEBOUNCE_MS);
  }

  /** Without file-system events: names, subscriptions and (when wanted) each folder's directory times. */
  private poll(): void {
    this.checkNames();
    void this.checkSubscriptions();
    if (!this.messages) return;
    let count = 0;
    for (const name of this.names) {
      if (++count > MAX_WATCHED_FOLDERS) break;
      const dir = folderDirectory(this.source.root, name);
      let stamp: string;
      try {
        stamp = ['new', 'cur'].map((sub) => statSync(path.join(dir, sub)).mtimeMs).join(':');
      } catch {
        continue;
      }
      const before = this.stamps.get(name);
      this.stamps.set(name, stamp);
      if (before !== undefined && before !== stamp) this.folderEvent(name, dir);
    }
  }
}
