// First indexing of an account's Maildir, and the cheap count of its use.
//
// An account that comes with a large existing Maildir (moved from another server) has
// neither UIDs for its messages nor parsed structures yet; the first client to open each
// folder would wait for all of that. The appliance does it ahead, in the background,
// through the same Maildir engine the sessions use (so locks and shared folder state are
// respected and the server keeps serving), and reports how far it has come.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { openMaildirStore, type MaildirStore, type MaildirStoreOptions } from '../maildir/index.js';
import { fileSizeFromName } from '../maildir/filenames.js';
import { folderDirectory, folderNameOfEntry } from '../maildir/names.js';
import { indexedMessages } from '../maildir/fts/fts-db.js';
import type { Logger } from '../log/logger.js';

export interface IndexProgress {
  done: number;
  total: number;
  folder: string | null;
  foldersDone: number;
  foldersTotal: number;
}

export interface IndexOptions {
  root: string;
  useLocks: boolean;
  keywords: boolean;
  trashFolder: string;
  logger?: Logger;
  onProgress(progress: IndexProgress): void;
  /** Checked between messages: true stops the work (what was done stays done). */
  cancelled(): boolean;
}

export interface Usage {
  messages: number;
  bytes: number;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}

/** Files in a folder's cur/ and new/: its messages, as far as a listing can tell. */
async function messageFiles(dir: string): Promise<number> {
  return (await entries(join(dir, 'cur'))).length + (await entries(join(dir, 'new'))).length;
}

/** The folder directories of a Maildir (INBOX first) with their canonical names. */
export async function folderDirs(root: string): Promise<{ name: string; dir: string }[]> {
  const folders = [{ name: 'INBOX', dir: root }];
  for (const entry of (await entries(root)).sort()) {
    const name = folderNameOfEntry(entry);
    if (name === null) continue;
    const dir = folderDirectory(root, name);
    if (await fs.stat(join(dir, 'cur')).then((s) => s.isDirectory(), () => false)) folders.push({ name, dir });
  }
  return folders;
}

/**
 * Messages and octets in every folder of a Maildir, from directory listings (sizes from
 * the ",S=" of Maildir++ names, else from stat). Null when there is no Maildir.
 */
export async function countMaildir(root: string): Promise<Usage | null> {
  if (!(await fs.stat(join(root, 'cur')).then((s) => s.isDirectory(), () => false))) return null;
  let messages = 0;
  let bytes = 0;
  for (const { dir } of await folderDirs(root)) {
    for (const sub of ['cur', 'new']) {
      for (const name of await entries(join(dir, sub))) {
        if (name.startsWith('.')) continue;
        messages += 1;
        bytes += fileSizeFromName(name) ?? (await fs.stat(join(dir, sub, name)).then((s) => s.size, () => 0));
      }
    }
  }
  return { messages, bytes };
}

/** One folder's turn in eachFolder. */
interface FolderPass {
  store: MaildirStore;
  name: string;
  /** Its messages as its listing counted them. */
  count: number;
  /** Messages of the folders before it. */
  doneBefore: number;
  progress: IndexProgress;
}

/**
 * Both indexings' walk: every folder counted first, then each in turn through one store (of
 * `storeOptions`), with progress at each folder; `work` returns how many messages the folder
 * turned out to hold.
 */
async function eachFolder(options: IndexOptions, storeOptions: Partial<MaildirStoreOptions>, work: (pass: FolderPass) => Promise<number>): Promise<void> {
  const folders = await folderDirs(options.root);
  const counts: number[] = [];
  for (const { dir } of folders) counts.push(await messageFiles(dir));
  const total = counts.reduce((a, b) => a + b, 0);
  const progress: IndexProgress = { done: 0, total, folder: null, foldersDone: 0, foldersTotal: folders.length };
  options.onProgress({ ...progress });
  const store = await openMaildirStore({
    root: options.root,
    useLocks: options.useLocks,
    keywords: options.keywords,
    watch: false,
    trashFolder: options.trashFolder,
    ...storeOptions,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  let doneBefore = 0;
  try {
    for (const [i, { name }] of folders.entries()) {
      if (options.cancelled()) break;
      progress.folder = name;
      options.onProgress({ ...progress });
      doneBefore += await work({ store, name, count: counts[i]!, doneBefore, progress });
      progress.total = Math.max(progress.total, doneBefore);
      progress.done = Math.max(progress.done, doneBefore);
      progress.foldersDone = i + 1;
      options.onProgress({ ...progress });
    }
  } finally {
    await store.close();
  }
  progress.folder = null;
  options.onProgress({ ...progress });
}

/**
 * Give every message of every folder its UID and parse its structure into the engine's
 * caches. New mail in new/ is counted but left for the first session to claim (that is
 * where \Recent comes from). Returns the use found.
 */
export async function indexMaildir(options: IndexOptions): Promise<Usage> {
  const usage: Usage = { messages: 0, bytes: 0 };
  await eachFolder(options, {}, async ({ store, name, count, doneBefore, progress }) => {
    // STATUS numbers the files in cur/ (the UID database) without claiming new/.
    const status = await store.folderStatus(name);
    usage.messages += status.messages;
    usage.bytes += status.size;
    const folder = await store.openFolder(name);
    try {
      for (const message of folder.snapshot().messages) {
        if (options.cancelled()) break;
        try {
          await folder.messageMeta(message.uid);
        } catch {
          /* expunged meanwhile */
        }
        progress.done = Math.min(doneBefore + count, progress.done + 1);
        options.onProgress({ ...progress });
      }
    } finally {
      folder.release();
    }
    return count;
  });
  return usage;
}

/** Whether a Maildir has messages that were never given UIDs (a folder without courierimapuiddb). */
export async function needsIndexing(root: string): Promise<boolean> {
  for (const { dir } of await folderDirs(root)) {
    const files = await messageFiles(dir);
    if (files > 0 && !(await fs.stat(join(dir, 'courierimapuiddb')).then(() => true, () => false))) return true;
  }
  return false;
}

/**
 * Bring the full-text index of every folder up to date (SEARCH BODY / TEXT, IMAP_FTS_INDEX):
 * the messages it has not read are read by the index's writer process, so the server keeps
 * serving meanwhile. `done` counts messages the index has (read before or now).
 */
export async function indexMaildirText(options: IndexOptions): Promise<null> {
  await eachFolder(options, { fullTextIndex: true }, async ({ store, name, count, doneBefore, progress }) => {
    const result = await store.indexFolderText(name, {
      cancelled: options.cancelled,
      onProgress: (p) => {
        // The folder's count (cur/ and new/ when listed) and the index's (cur/) differ a little.
        progress.done = doneBefore + Math.min(p.done, count);
        options.onProgress({ ...progress });
      },
    });
    return Math.max(count, result?.total ?? 0);
  });
  return null;
}

/** Whether some folder with mail has no full-text index, or one that has read fewer messages than cur/ holds. */
export async function needsTextIndexing(root: string): Promise<boolean> {
  for (const { dir } of await folderDirs(root)) {
    const files = (await entries(join(dir, 'cur'))).length;
    if (files === 0) continue;
    if ((await indexedMessages(dir)) < files) return true;
  }
  return false;
}
