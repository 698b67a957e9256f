// Delivery of staged messages (APPEND, MULTIAPPEND, REPLACE): files already written and
// synced in INBOX's tmp/ are renamed into the folder's cur/ and numbered in one step, under
// the folder's locks, so that a group of messages lands whole or not at all (RFC 3502).

import { closeSync, fstatSync, fsync, openSync, renameSync, rmSync, write, writeSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AppendOptions } from '../backend/mailstore.js';
import { MailStoreError } from '../backend/mailstore.js';
import type { StagedMessage } from './appendsink.js';
import { crlfSize, formatFileName, lettersFor, newBaseName } from './filenames.js';
import { type FolderContext, splitFlags } from './folder-entry.js';
import { arrivedLocked } from './folder-own.js';
import { folderCore } from './folder-registry.js';
import { deliveryError, ensureFolderTmp } from './folderdir.js';
import { errorCode } from './fsutil.js';
import { writeKeywordUpdate } from './keywords.js';
import { folderMutex, withCourierLock } from './lock.js';
import { assignUids } from './scan.js';

const fsyncAsync = promisify(fsync);
const writeAsync = promisify(write);
/** Messages up to this size are written with one synchronous call (page cache), larger ones through the pool. */
const SYNC_WRITE_LIMIT = 1 << 20;

/** Writes and syncs a whole message into `stagingDir` under the name `base` it will keep. */
export async function stageBuffer(stagingDir: string, message: Buffer): Promise<{ file: StagedMessage; base: string }> {
  const size = crlfSize(message);
  const base = newBaseName(message.length, size);
  const staged = path.join(stagingDir, base);
  // Open, write, stat and close are quick calls (the page cache); only the fsync waits for
  // the disk, in the thread pool. Through the pool each would cost a hand-over.
  const fd = openSync(staged, 'wx', 0o600);
  let mtimeMs: number;
  try {
    if (message.length <= SYNC_WRITE_LIMIT) {
      for (let done = 0; done < message.length; ) done += writeSync(fd, message, done, message.length - done);
    } else {
      for (let done = 0; done < message.length; ) done += (await writeAsync(fd, message, done, message.length - done)).bytesWritten;
    }
    await fsyncAsync(fd);
    mtimeMs = fstatSync(fd).mtimeMs;
  } catch (error) {
    closeSync(fd);
    await fs.rm(staged, { force: true });
    if (errorCode(error) === 'ENOSPC' || errorCode(error) === 'EDQUOT') {
      throw new MailStoreError('Not enough disk space to store the message', 'LIMIT');
    }
    throw error;
  }
  closeSync(fd);
  return { file: { path: staged, fileSize: message.length, crlfSize: size, mtimeMs }, base };
}

export interface StagedDelivery {
  file: StagedMessage;
  /** The base name it gets in cur/ (the sizes are in it). */
  base: string;
  options: AppendOptions;
}

/**
 * Deliver synced files from tmp/ into `dir`'s cur/ and give them consecutive UIDs, in order:
 * all or none. Every file is gone from tmp/ afterwards, whatever happened.
 */
export async function deliverStaged(
  context: FolderContext,
  root: string,
  canonical: string,
  dir: string,
  items: readonly StagedDelivery[],
): Promise<{ uidValidity: number; uids: number[] }> {
  // The folder's state is kept (pinned) across APPENDs: no re-reading of the UID database.
  const core = folderCore(dir, canonical, context);
  core.pin();
  const placed: string[] = []; // paths in cur/, until the UIDs are assigned
  let numbered = false;
  try {
    ensureFolderTmp(dir); // its lock lives there
    const prepared: { item: StagedDelivery; keywords: string[]; fileName: string; internalDate: number }[] = [];
    for (const item of items) {
      const { system, keywords } = splitFlags(item.options.flags ?? [], context.keywords);
      let mtimeMs = item.file.mtimeMs;
      if (item.options.internalDate !== undefined) {
        const time = new Date(item.options.internalDate);
        await fs.utimes(item.file.path, time, time);
        mtimeMs = (await fs.stat(item.file.path)).mtimeMs;
      }
      prepared.push({ item, keywords, fileName: formatFileName(item.base, lettersFor(system)), internalDate: Math.floor(mtimeMs) });
    }
    core.noteLocalChange();
    // The sessions learn of the messages in the same turn of the queue: APPENDs of several
    // sessions reach them in the order of their UIDs, with no scan.
    const assigned = await folderMutex.run(dir, async () => {
      const clean = core.ownChangeBegins();
      // Keywords first: a reader that sees a message also sees its keywords.
      const withKeywords = prepared.filter((p) => p.keywords.length);
      if (withKeywords.length) {
        core.watch.expectOwnKeywords(withKeywords.map((p) => p.item.base));
        for (const p of withKeywords) await writeKeywordUpdate(dir, p.item.base, p.keywords);
      }
      const assigned = await withCourierLock(dir, context.useLocks, async () => {
        core.expectOwn(prepared.map((p) => p.fileName));
        // Quick, and inside the lock; a failure takes back the ones already moved.
        for (const p of prepared) {
          const target = path.join(dir, 'cur', p.fileName);
          renameSync(p.item.file.path, target);
          placed.push(target);
        }
        const wanted = prepared.some((p) => p.item.options.uid !== undefined) ? prepared.map((p) => p.item.options.uid) : undefined;
        const result = await assignUids(dir, prepared.map((p) => p.item.base), core.scanMemory, root, wanted);
        numbered = true;
        return result;
      });
      const arrivals = prepared.map((p, i) => ({
        uid: assigned.uids[i],
        base: p.item.base,
        fileName: p.fileName,
        keywords: p.keywords,
        stored: { size: p.item.file.crlfSize, internalDate: p.internalDate, fileSize: p.item.file.fileSize },
      }));
      await arrivedLocked(core, assigned.uidValidity, arrivals, clean);
      return assigned;
    });
    const bytes = items.reduce((sum, i) => sum + i.file.fileSize, 0);
    await context.quota.add(dir, bytes, items.length);
    return assigned;
  } catch (error) {
    if (!numbered) for (const file of placed) rmSync(file, { force: true });
    throw deliveryError(dir, error);
  } finally {
    core.unpin();
    for (const item of items) await fs.rm(item.file.path, { force: true });
  }
}
