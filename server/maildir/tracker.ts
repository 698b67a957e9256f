// The fan-out of a folder's changes to the sessions that have it open in this process
// (as go-imap's tracker): the engine feeds it what changed, in the order the sessions must
// learn it; each session subscribes through its Folder (FolderHandle).

import type { FolderChange, MessageState } from '../backend/mailstore.js';

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

  /** Tells every session of an expunge, a flag change or the folder's end. */
  emit(change: FolderChange): void {
    for (const session of [...this.sessions]) session.deliver(change);
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
  }
}
