// Folder management of a Maildir++ (CREATE, DELETE, RENAME): folders are ".Name" directories
// of INBOX, made and moved whole by renames, never in or through a symlink (folderdir.ts).

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type MailStore, MailStoreError } from '../backend/mailstore.js';
import { accountChange, ownAccountWork } from './account-watch.js';
import type { FolderContext } from './folder-entry.js';
import { foldersRemoved } from './folder-registry.js';
import { folderDirState } from './folderdir.js';
import { errorCode, scratchName } from './fsutil.js';
import { folderMutex } from './lock.js';
import { editSubscriptions } from './maildir-subscriptions.js';
import { canonicalFolderName, folderDirectory, folderNameOfEntry, INBOX, isSameOrBelow, SEPARATOR } from './names.js';
import { folderUsage } from './quota.js';
import { CREATABLE_SPECIAL_USE, SPECIAL_USE_FILE, specialUseFileText } from './specialuse.js';

/** What renaming INBOX needs of the store (its own CREATE and SELECT). */
export type FolderStore = Pick<MailStore, 'createFolder' | 'openFolder'>;

/** CREATE: a folder built in tmp/ and renamed into place (a "." directory of INBOX, Maildir++). */
export async function createFolder(root: string, name: string, options: { specialUse?: string }): Promise<void> {
  const use = options.specialUse;
  if (use !== undefined && !CREATABLE_SPECIAL_USE.includes(use)) throw new MailStoreError(`${use} cannot be given to a folder here`, 'USEATTR');
  // "INBOX.A." announces a hierarchy (RFC 3501 6.3.3); in Maildir++ that is a folder.
  const canonical = canonicalFolderName(name.endsWith(SEPARATOR) ? name.slice(0, -1) : name);
  if (canonical === null) throw new MailStoreError('Invalid mailbox name', 'CANNOT');
  if (canonical === INBOX) throw new MailStoreError('INBOX already exists', 'ALREADYEXISTS');
  const dir = folderDirectory(root, canonical);
  const state = folderDirState(dir);
  if (state === 'folder') throw new MailStoreError('Folder already exists', 'ALREADYEXISTS');
  // Never made in or through a symlink (folderdir.ts), nor removed: it is not ours.
  if (state === 'refused') throw new MailStoreError('Something that is not a folder has that name', 'CANNOT');
  // Build it in tmp/ and rename it into place: nobody sees a half-made folder.
  await ownAccountWork(root, async () => {
    const staging = path.join(root, 'tmp', scratchName('newfolder'));
    try {
      for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(staging, sub), { recursive: true, mode: 0o700 });
      await fs.writeFile(path.join(staging, 'maildirfolder'), '');
      if (use !== undefined) await fs.writeFile(path.join(staging, SPECIAL_USE_FILE), specialUseFileText(use));
      await fs.rename(staging, dir);
      accountChange(root, { kind: 'created', name: canonical });
    } catch (error) {
      await fs.rm(staging, { recursive: true, force: true });
      if (errorCode(error) === 'EEXIST' || errorCode(error) === 'ENOTEMPTY' || errorCode(error) === 'ENOTDIR') {
        const now = folderDirState(dir);
        if (now === 'folder') throw new MailStoreError('Folder already exists', 'ALREADYEXISTS');
        if (now !== 'partial') throw new MailStoreError('Something that is not a folder has that name', 'CANNOT');
        // A directory without cur/ (left by some tool): complete it in place.
        for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, sub), { recursive: true, mode: 0o700 });
        await fs.writeFile(path.join(dir, 'maildirfolder'), '');
        if (use !== undefined) await fs.writeFile(path.join(dir, SPECIAL_USE_FILE), specialUseFileText(use));
        accountChange(root, { kind: 'created', name: canonical });
        return;
      }
      throw error;
    }
  });
}

/** DELETE of a folder that exists (not INBOX): out of sight at once, removed after. */
export async function deleteFolder(context: FolderContext, canonical: string, dir: string): Promise<void> {
  const root = context.root;
  await folderMutex.run(dir, async () => {
    const usage = await usageOf(context, dir);
    // Out of sight first (one rename), then removed at leisure.
    const doomed = path.join(root, 'tmp', scratchName('deleted'));
    await ownAccountWork(root, async () => {
      try {
        await fs.rename(dir, doomed);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') throw new MailStoreError('Folder does not exist', 'NONEXISTENT');
        throw error;
      }
      foldersRemoved([dir]);
      accountChange(root, { kind: 'deleted', name: canonical });
    });
    if (usage) await context.quota.add(dir, -usage.bytes, -usage.count);
    await fs.rm(doomed, { recursive: true, force: true });
  });
}

/** RENAME: a folder and the folders below it, and the subscriptions with them. */
export async function renameFolder(store: FolderStore, root: string, from: string, to: string): Promise<void> {
  const source = canonicalFolderName(from);
  const target = canonicalFolderName(to);
  if (source === null) throw new MailStoreError('Folder does not exist', 'NONEXISTENT');
  if (target === null) throw new MailStoreError('Invalid mailbox name', 'CANNOT');
  if (target === INBOX) throw new MailStoreError('INBOX already exists', 'ALREADYEXISTS');
  if (source === INBOX) {
    await renameInbox(store, target);
    return;
  }
  if (isSameOrBelow(target, source)) throw new MailStoreError('A folder cannot be moved into itself', 'CANNOT');
  const all = (await fs.readdir(root)).map(folderNameOfEntry).filter((name): name is string => name !== null);
  // What is a symlink, or has one in it, does not exist and stays where it is.
  const moving = all.filter((name) => isSameOrBelow(name, source) && folderDirState(folderDirectory(root, name)) !== 'refused');
  if (!moving.length) throw new MailStoreError('Folder does not exist', 'NONEXISTENT');
  const pairs = moving.map((name) => [name, target + name.slice(source.length)] as const);
  for (const [, newName] of pairs) {
    if (canonicalFolderName(newName) === null) throw new MailStoreError('Invalid mailbox name', 'CANNOT');
    if (all.includes(newName)) throw new MailStoreError(`Folder ${newName} already exists`, 'ALREADYEXISTS');
  }
  const dirs = pairs.flatMap(([oldName, newName]) => [folderDirectory(root, oldName), folderDirectory(root, newName)]);
  await folderMutex.runAll(dirs, () => ownAccountWork(root, async () => {
    let moved = 0;
    for (const [oldName, newName] of pairs) {
      try {
        await fs.rename(folderDirectory(root, oldName), folderDirectory(root, newName));
        accountChange(root, { kind: 'renamed', name: newName, from: oldName });
        moved += 1;
      } catch (error) {
        // Another session deleted or renamed it since the listing above (the fuzzer found
        // this race): a folder that is gone is not moved; none moved at all is NONEXISTENT.
        if (errorCode(error) !== 'ENOENT') throw error;
      }
    }
    foldersRemoved(pairs.map(([oldName]) => folderDirectory(root, oldName)));
    if (moved === 0) throw new MailStoreError('Folder does not exist', 'NONEXISTENT');
  }));
  // Subscriptions follow the folders, as in Dovecot: clients otherwise lose them.
  // The rename's own LIST (with OLDNAME) tells of it: no subscription events (NOTIFY).
  await editSubscriptions(root, (names) =>
    names.map((name) => (isSameOrBelow(name, source) ? target + name.slice(source.length) : name)), false);
}

/** RFC 3501 6.3.5: renaming INBOX moves its messages into a new folder; INBOX stays, empty. */
async function renameInbox(store: FolderStore, target: string): Promise<void> {
  await store.createFolder(target);
  const inbox = await store.openFolder(INBOX);
  try {
    await inbox.refresh();
    const uids = inbox.snapshot().messages.map((m) => m.uid);
    if (uids.length) await inbox.moveTo(uids, target);
  } finally {
    inbox.release();
  }
}

/** Octets and messages in a folder, when a quota is kept (for DELETE). */
async function usageOf(context: FolderContext, dir: string): Promise<{ bytes: number; count: number } | null> {
  if (!context.quota.counts(dir) || !(await context.quota.read())) return null;
  return folderUsage(dir);
}
