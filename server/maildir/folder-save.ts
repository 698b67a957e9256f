// Writing a folder's caches (messagecache.ts) and its due listing (folder-listing.ts): soon
// after a change, or at once (store.close), one save at a time.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { baseOf } from './filenames.js';
import { type ListingFolder, saveListing } from './folder-listing.js';
import { type MessageCache, OLD_META_CACHE_FILE } from './messagecache.js';

const INFO_SAVE_DELAY_MS = 1000;

/** What a save needs of a FolderCore (an interface, so that folder-core.ts may import this module). */
export interface SavedFolder extends ListingFolder {
  readonly cache: MessageCache;
  /** Messages went since the caches were last saved: the next save drops their records. */
  pruneNeeded: boolean;
  /** Whether a listing of the state is due is being decided (listCurrent): a save waits for it. */
  readonly listingDecided: Promise<void> | undefined;
}

export class FolderSaver {
  private infoSaveTimer: NodeJS.Timeout | undefined;
  /** The save under way (see save). */
  private saving: Promise<void> | undefined;

  constructor(private readonly folder: SavedFolder) {}

  /** A save soon, unless one is due already. */
  schedule(): void {
    if (this.infoSaveTimer) return;
    this.infoSaveTimer = setTimeout(() => void this.save(), INFO_SAVE_DELAY_MS);
    this.infoSaveTimer.unref();
  }

  /**
   * Writes the caches and a due listing. One save at a time: a save asked for while one
   * (from the timer) is under way ends after it, so that a process that awaits it before
   * exiting (store.close) never cuts a write short.
   */
  save(): Promise<void> {
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
    const folder = this.folder;
    if (this.infoSaveTimer) clearTimeout(this.infoSaveTimer);
    this.infoSaveTimer = undefined;
    if (folder.gone) return;
    await folder.listingDecided;
    // The lists of live messages (100,000 entries each) only when messages went.
    let live: { uids: Map<number, string>; bases: Set<string> } | undefined;
    // Not while the messages are still in an unread listing: nothing went since it was made.
    if (folder.pruneNeeded && !folder.listed) {
      folder.pruneNeeded = false;
      live = { uids: new Map(), bases: new Set() };
      for (const entry of folder.entries.values()) {
        live.uids.set(entry.uid, entry.base);
        live.bases.add(entry.base);
      }
      for (const name of folder.unclaimed) live.bases.add(baseOf(name));
    }
    try {
      await folder.cache.save(live);
      await fs.rm(path.join(folder.dir, OLD_META_CACHE_FILE), { force: true });
    } catch (error) {
      folder.context.logger?.log('warn', 'cannot save folder cache', { folder: folder.name, error: String(error) });
    }
    try {
      await saveListing(folder);
    } catch (error) {
      folder.context.logger?.log('warn', 'cannot save folder listing', { folder: folder.name, error: String(error) });
    }
  }
}
