// The folder cores of this process, one per folder directory: every store and session
// that opens a folder shares its core (and so its state, watcher and sessions).

import { FolderCore } from './folder-core.js';
import type { FolderContext } from './folder-entry.js';

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
    core = new FolderCore(dir, name, context, unregister);
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

/** Called by a core that is forgotten or gone: a later open makes a new one. */
function unregister(core: FolderCore): void {
  if (cores.get(core.dir) === core) cores.delete(core.dir);
}
