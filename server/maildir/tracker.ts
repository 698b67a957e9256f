// The fan-out of a folder's changes to the sessions that have it open in this process
// (as go-imap's tracker): the engine feeds it what changed, in the order the sessions must
// learn it; each session subscribes through its Folder (FolderHandle).
//
// One level up, an account's fan-out (AccountTracker) tells the sessions that asked for it
// (NOTIFY, RFC 5465) which folders changed: each FolderTracker reports the kind of every change
// it carries there, whether or not a session has the folder open, and the store reports folders
// made, deleted and renamed and subscription changes. Changes made by other processes reach it
// through the folders' watchers (open folders) and account-watch.ts (the others).

import type { FolderChange, MailboxEvent, MailboxEventListener, MessageState } from '../backend/mailstore.js';

/** One session's view of a folder, as the tracker sees it (FolderHandle). */
export interface TrackedSession {
  /** EXAMINE: takes no \Recent, sees it on what nobody has taken. */
  readonly readOnly: boolean;
  /** Whether new messages may be recent for this session alone. */
  takesRecent(): boolean;
  hasListeners(): boolean;
  deliver(change: FolderChange): void;
  deliverAdded(messages: readonly MessageState[], recent: boolean): void;
}

export class FolderTracker<S extends TrackedSession = TrackedSession> {
  private readonly sessions = new Set<S>();

  /** `onChange` hears the kind of every change told (the account's fan-out). */
  constructor(private readonly onChange: (what: 'new' | 'expunge' | 'flags') => void = () => undefined) {}

  get size(): number {
    return this.sessions.size;
  }

  has(session: S): boolean {
    return this.sessions.has(session);
  }

  add(session: S): void {
    this.sessions.add(session);
  }

  /** False when the session was not tracked. */
  delete(session: S): boolean {
    return this.sessions.delete(session);
  }

  /** The sessions now: those the next added() tells (one that comes later has the messages in its snapshot). */
  list(): S[] {
    return [...this.sessions];
  }

  /** A change nobody has the folder open to be told of (the account's fan-out only). */
  changed(what: 'new' | 'expunge' | 'flags'): void {
    this.onChange(what);
  }

  /** Tells every session of an expunge, a flag change or the folder's end. */
  emit(change: FolderChange): void {
    for (const session of [...this.sessions]) session.deliver(change);
    if (change.kind !== 'gone') this.onChange(change.kind === 'expunged' ? 'expunge' : change.kind === 'added' ? 'new' : 'flags');
  }

  /** Who new messages are recent for: the claimant when it may take them, else the first session that may. */
  taker(claimant: S | undefined): S | undefined {
    if (claimant && this.sessions.has(claimant) && claimant.takesRecent()) return claimant;
    for (const session of this.sessions) if (session.takesRecent()) return session;
    return undefined;
  }

  /**
   * Tells every session of new messages, in ascending UIDs: `known` (messages the sessions
   * know already that nobody was told of as recent), `seen` (some session was told of them
   * already), `fresh` (nobody was). `known` and `fresh` are recent for the taker and for
   * read-only sessions.
   */
  added(sessions: readonly S[], known: readonly MessageState[], seen: readonly MessageState[], fresh: readonly MessageState[], taker: S | undefined): void {
    for (const session of sessions) {
      const recent = session === taker || session.readOnly;
      if (known.length && recent) session.deliverAdded(known, true);
      if (seen.length) session.deliverAdded(seen, false);
      if (fresh.length) session.deliverAdded(fresh, recent);
    }
    if (seen.length || fresh.length) this.onChange('new');
  }
}

/** A listener of an account's fan-out, and whether it wants message changes (see account-watch.ts). */
interface AccountListener {
  listener: MailboxEventListener;
  messages: boolean;
}

/** What watches an account's directory for other processes' changes (account-watch.ts). */
export interface AccountWatcher {
  /** Whether the watch covers the folders' messages too, not only names and subscriptions. */
  setMessages(messages: boolean): void;
  /** The store made this change itself: its own watch events for it are no news. */
  own(event: MailboxEvent): void;
  stop(): void;
}

/** The sessions of this process that asked to hear of an account's changes (NOTIFY). */
export class AccountTracker {
  private readonly listeners = new Set<AccountListener>();
  private watcher: AccountWatcher | undefined;

  constructor(private readonly startWatcher: (tracker: AccountTracker) => AccountWatcher) {}

  get size(): number {
    return this.listeners.size;
  }

  subscribe(listener: MailboxEventListener, messages: boolean): () => void {
    const entry = { listener, messages };
    this.listeners.add(entry);
    this.watcher ??= this.startWatcher(this);
    this.watcher.setMessages(this.wantsMessages());
    return () => {
      if (!this.listeners.delete(entry)) return;
      if (!this.listeners.size) {
        this.watcher?.stop();
        this.watcher = undefined;
      } else {
        this.watcher?.setMessages(this.wantsMessages());
      }
    };
  }

  private wantsMessages(): boolean {
    for (const entry of this.listeners) if (entry.messages) return true;
    return false;
  }

  /** A change made by this process (the store, a folder's tracker); with `tell` false only the watch learns it. */
  ownChange(event: MailboxEvent, tell = true): void {
    this.watcher?.own(event);
    if (tell) this.emit(event);
  }

  /** Tells every listener (message changes only those that want them). */
  emit(event: MailboxEvent): void {
    for (const entry of [...this.listeners]) if (event.kind !== 'messages' || entry.messages) entry.listener(event);
  }
}
