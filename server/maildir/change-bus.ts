// Telling other servers that a folder changed (several imapd-server processes, on one host or
// several, serving the same Maildirs). The file watcher tells a process of changes made by other
// processes on the same host; on NFS it sees nothing another host does, and with it off
// (IMAP_ENHANCEDIDLE=0) only polling every IMAP_IDLE_TIMEOUT seconds would. A change bus carries
// "this folder changed" between servers at once: after each change of ours is on disk, its
// folder directory is published; a folder open here that another server names is looked at
// again, through the same follow as a watcher event (follow.ts: under the Courier lock unless
// another process holds it), and its sessions learn what changed through the one fan-out
// (tracker.ts). The bus carries no content: a lost message costs only the time until the next
// look (polling goes on beside it when the watcher is off).
//
// The implementation lives with the account store it rides on (PostgreSQL's LISTEN/NOTIFY:
// server/accounts/postgres-bus.ts); the engine knows only this interface.

import { folderMutex } from './lock.js';

export interface ChangeBus {
  /** Tell the other servers that the folder in this directory changed (its change is on disk). */
  publish(folderDir: string): void;
  /** Call `listener` when another server says the folder in this directory changed; returns the unsubscribe. */
  subscribe(folderDir: string, listener: () => void): () => void;
}

/** Folders whose announcement is queued (one per folder at a time, however many changes). */
const queued = new Set<string>();

/**
 * Publish the folder's change once the change in progress is done: queued behind it on the
 * folder's queue (folderMutex), so that the other servers look after the files are in place.
 */
export function announceChange(bus: ChangeBus | undefined, folderDir: string): void {
  if (!bus || queued.has(folderDir)) return;
  queued.add(folderDir);
  void folderMutex
    .run(folderDir, async () => {
      queued.delete(folderDir);
      bus.publish(folderDir);
    })
    .catch(() => queued.delete(folderDir));
}
