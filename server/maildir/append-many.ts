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
import type { FolderCore } from './folder-core.js';
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

/** One caller's messages, ready to be renamed into cur/. */
interface Prepared {
  item: StagedDelivery;
  keywords: string[];
  fileName: string;
  internalDate: number;
}

/**
 * Deliveries into one folder waiting for its queue: whoever comes while a delivery holds the
 * queue joins the next group, and the group goes in with one pass under the folder's locks (one
 * dot-lock, one UID-database write, one \Recent claim, one announcement to the sessions)
 * instead of one pass each. Each message was synced in tmp/ by its own caller before (their
 * fsyncs overlap in the thread pool), so nothing is less durable: this is the group commit of
 * the steps after the sync. LMTP deliveries on several connections: one pass per group.
 */
interface Group {
  members: { prepared: Prepared[]; placed: string[]; settle: (result: Outcome) => void }[];
}

/** UIDs given, or the failure (`numbered`: after the UIDs were given, so the messages stay). */
type Outcome = { uidValidity: number; uids: number[] } | { error: unknown; numbered: boolean };

const waiting = new Map<FolderCore, Group>();

/**
 * Deliver synced files from tmp/ into `dir`'s cur/ and give them consecutive UIDs, in order:
 * all or none. Every file is gone from tmp/ afterwards, whatever happened. Deliveries into
 * the same folder that wait for its queue at the same time go in together (Group above): each
 * caller's messages stay together and in order, and get their own UIDs.
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
    const prepared: Prepared[] = [];
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
    const outcome = await new Promise<Outcome>((settle) => {
      let group = waiting.get(core);
      if (!group) {
        const fresh: Group = { members: [] };
        group = fresh;
        waiting.set(core, fresh);
        // The sessions learn of the messages in the same turn of the queue: APPENDs of several
        // sessions reach them in the order of their UIDs, with no scan.
        void folderMutex.run(dir, async () => {
          if (waiting.get(core) === fresh) waiting.delete(core); // later comers form the next group
          await deliverGroup(core, root, dir, fresh);
        });
      }
      group.members.push({ prepared, placed, settle });
    });
    if ('error' in outcome) {
      numbered = outcome.numbered;
      throw outcome.error;
    }
    numbered = true;
    const bytes = items.reduce((sum, i) => sum + i.file.fileSize, 0);
    await context.quota.add(dir, bytes, items.length);
    return outcome;
  } catch (error) {
    if (!numbered) for (const file of placed) rmSync(file, { force: true });
    throw deliveryError(dir, error);
  } finally {
    core.unpin();
    // Numbered: every file was renamed into cur/, none is left in tmp/ to remove.
    if (!numbered) for (const item of items) await fs.rm(item.file.path, { force: true });
  }
}

/** One pass under the folder's locks for a group (inside the folder's queue); settles every member. */
async function deliverGroup(core: FolderCore, root: string, dir: string, group: Group): Promise<void> {
  let members = group.members;
  let all = members.flatMap((m) => m.prepared);
  let assigned: { uidValidity: number; uids: number[] };
  let clean = false;
  try {
    clean = core.ownChangeBegins();
    // Keywords first: a reader that sees a message also sees its keywords.
    const withKeywords = all.filter((p) => p.keywords.length);
    if (withKeywords.length) {
      core.watch.expectOwnKeywords(withKeywords.map((p) => p.item.base));
      for (const p of withKeywords) await writeKeywordUpdate(dir, p.item.base, p.keywords);
    }
    assigned = await withCourierLock(dir, core.context.useLocks, async () => {
      core.expectOwn(all.map((p) => p.fileName));
      // Quick, and inside the lock. A member whose file cannot be moved fails alone: its files
      // already moved leave cur/ at once (before anyone could number them), the others go on.
      const failed = new Set<Group['members'][number]>();
      for (const member of members) {
        try {
          for (const p of member.prepared) {
            const target = path.join(dir, 'cur', p.fileName);
            renameSync(p.item.file.path, target);
            member.placed.push(target);
          }
        } catch (error) {
          for (const file of member.placed.splice(0)) rmSync(file, { force: true });
          member.settle({ error, numbered: false });
          failed.add(member);
        }
      }
      if (failed.size) {
        members = members.filter((m) => !failed.has(m));
        all = members.flatMap((m) => m.prepared);
      }
      const wanted = all.some((p) => p.item.options.uid !== undefined) ? all.map((p) => p.item.options.uid) : undefined;
      return assignUids(dir, all.map((p) => p.item.base), core.scanMemory, root, wanted);
    });
  } catch (error) {
    for (const member of members) member.settle({ error, numbered: false });
    return;
  }
  const arrivals = all.map((p, i) => ({
    uid: assigned.uids[i]!,
    base: p.item.base,
    fileName: p.fileName,
    keywords: p.keywords,
    stored: { size: p.item.file.crlfSize, internalDate: p.internalDate, fileSize: p.item.file.fileSize },
  }));
  try {
    // Before the callers hear back, as one at a time: an APPEND's own session is told first.
    await arrivedLocked(core, assigned.uidValidity, arrivals, clean);
  } catch (error) {
    for (const member of members) member.settle({ error, numbered: true });
    return;
  }
  let at = 0;
  for (const member of members) {
    member.settle({ uidValidity: assigned.uidValidity, uids: assigned.uids.slice(at, at + member.prepared.length) });
    at += member.prepared.length;
  }
}
