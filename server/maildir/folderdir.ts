// Where a folder lives on disk, and whether the engine may use it. Every operation that
// opens or creates a folder directory asks here first (SELECT, STATUS, APPEND, COPY, MOVE,
// CREATE, DELETE, RENAME, LIST, the quota's recount).
//
// A symlink in place of a folder, or of its cur/, new/, tmp/ or keyword directory, points
// outside the Maildir (or could be changed to, at any time): such a folder does not exist
// for us, and nothing is ever created in or through it. Courier follows such links; we do
// not, since a client could otherwise have messages and UID databases written anywhere the
// server's user can write. Checked with lstat, never following a link.

import { lstatSync, mkdirSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { MailStoreError } from '../backend/mailstore.js';
import { errorCode } from './fsutil.js';
import { canonicalFolderName, folderDirectory } from './names.js';

/**
 * - folder:  a real directory with a real cur/ (new/ and tmp/ may be missing; they are made again).
 * - partial: a real directory without cur/ (a parent of other folders, or left by some tool).
 * - missing: nothing of that name.
 * - refused: a symlink or something else that is not a real directory, or a directory whose
 *   cur/, new/, tmp/ or courierimapkeywords/ is one: outside the Maildir.
 */
export type FolderDirState = 'folder' | 'partial' | 'missing' | 'refused';

/** The subdirectories the engine reads and writes in a folder (courierimapkeywords: keywords.ts). */
const SUBDIRS = ['cur', 'new', 'tmp', 'courierimapkeywords'] as const;

/** What is at `dir` (see FolderDirState); synchronous: a few lstat calls, cheaper than the thread pool's hand-overs. */
export function folderDirState(dir: string): FolderDirState {
  const kind = entryKind(dir);
  if (kind !== 'dir') return kind === 'none' ? 'missing' : 'refused';
  let hasCur = false;
  for (const sub of SUBDIRS) {
    const subKind = entryKind(path.join(dir, sub));
    if (subKind === 'other') return 'refused';
    if (sub === 'cur') hasCur = subKind === 'dir';
  }
  return hasCur ? 'folder' : 'partial';
}

export interface ResolvedFolder {
  canonical: string;
  dir: string;
  state: FolderDirState;
}

/** A folder name's directory under `root` and its state; null when the name is invalid. */
export function resolveFolderDir(root: string, name: string): ResolvedFolder | null {
  const canonical = canonicalFolderName(name);
  if (canonical === null) return null;
  const dir = folderDirectory(root, canonical);
  return { canonical, dir, state: folderDirState(dir) };
}

/**
 * Flags that open a message file for reading without following a symlink (a link in cur/
 * could point at any file the server can read) and without blocking on a FIFO.
 */
export const MESSAGE_READ_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK;

/** Whether an error from opening with MESSAGE_READ_FLAGS means "no message file here" (gone, or a symlink). */
export function noMessageFile(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ELOOP';
}

/**
 * What to throw for `error`, met while delivering into the folder at `dir`: when the folder
 * was deleted or renamed meanwhile (by another session or process), TRYCREATE (RFC 3501
 * 6.3.11) rather than a server error; anything else as it is.
 */
export function deliveryError(dir: string, error: unknown): unknown {
  const code = errorCode(error);
  if ((code === 'ENOENT' || code === 'ENOTDIR') && folderDirState(dir) !== 'folder') {
    return new MailStoreError('Destination folder does not exist', 'TRYCREATE');
  }
  return error;
}

/**
 * Makes a folder's tmp/ (its lock and scratch files live there) again when some tool removed
 * it. Never the folder itself: one that was deleted meanwhile is not brought back (ENOENT).
 */
export function ensureFolderTmp(dir: string): void {
  try {
    mkdirSync(path.join(dir, 'tmp'), { mode: 0o700 });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  }
}

/** A directory that is not a symlink. */
export function isRealDirectory(p: string): boolean {
  return entryKind(p) === 'dir';
}

function entryKind(p: string): 'dir' | 'none' | 'other' {
  try {
    return lstatSync(p).isDirectory() ? 'dir' : 'other';
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'none';
    if (errorCode(error) === 'ENOTDIR') return 'other';
    throw error;
  }
}
