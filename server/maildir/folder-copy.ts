// COPY and MOVE: messages into another folder (or the same one), keywords first, new UIDs
// taken under the target's lock, and the target's sessions told.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type CopyResult, MailStoreError } from '../backend/mailstore.js';
import { formatFileName, newBaseName } from './filenames.js';
import type { FolderCore } from './folder-core.js';
import { type Arrival, type Entry, IO_PARALLEL, messageFileOf, NO_KEYWORDS } from './folder-entry.js';
import { expunge, messageData, onFile } from './folder-ops.js';
import { arrivedLocked, removedOwn } from './folder-own.js';
import { existingCore } from './folder-registry.js';
import { deliveryError, ensureFolderTmp, MESSAGE_READ_FLAGS, resolveFolderDir } from './folderdir.js';
import { errorCode, mapLimit } from './fsutil.js';
import { writeKeywordUpdate } from './keywords.js';
import { folderMutex, withCourierLock } from './lock.js';
import { emailIds, recordEmailIds } from './objectid.js';
import { assignUids } from './scan.js';
import { announceChange } from './change-bus.js';

export async function copyTo(core: FolderCore, uids: readonly number[], destination: string, move: boolean): Promise<CopyResult> {
  const target = await destinationOf(core, destination);
  if (target.dir === core.dir && move) {
    // MOVE into the same folder: new UIDs, as a copy and an expunge.
    const result = await copyTo(core, uids, destination, false);
    await expunge(core, result.mapping.map(([source]) => source));
    return result;
  }
  const wanted = [...new Set(uids)].sort((a, b) => a - b);
  await messageData(core, wanted, { info: true }); // sizes and dates go along (names, quota)
  const selected = wanted
    .map((uid) => core.entries.get(uid))
    .filter((entry): entry is Entry => entry !== undefined && entry.stored !== undefined);
  const movesQuota = move && core.context.quota.counts(core.dir) !== core.context.quota.counts(target.dir);
  if (!move || movesQuota) {
    await core.context.quota.check(target.dir, selected.reduce((sum, e) => sum + e.stored!.fileSize, 0), selected.length);
  }

  // Copies are staged in INBOX's tmp/, as APPEND's (maildir-store.ts stagingDir): a destination
  // deleted or renamed meanwhile takes no file along and answers TRYCREATE.
  const stagingDir = path.join(core.context.root, 'tmp');
  const linked: string[] = [];
  // Keywords go first: a reader that sees the message also sees its keywords. Run in the
  // target's queue; its sessions learn of the messages in the same turn (arrivedLocked).
  const transfer = async (): Promise<{ result: CopyResult; moved: Entry[] }> => {
    ensureFolderTmp(target.dir); // its lock lives there
    const targetCore = existingCore(target.dir);
    const clean = targetCore?.ownChangeBegins() ?? false;
    // Not open here: the other servers are still told (ownChangeBegins tells them otherwise).
    if (!targetCore) announceChange(core.context.changeBus, target.dir);
    const staged = await mapLimit(selected, IO_PARALLEL, async (entry) => {
      const stored = entry.stored!;
      const base = newBaseName(stored.fileSize, stored.size);
      if (entry.keywords.length && core.context.keywords) {
        targetCore?.watch.expectOwnKeywords([base]);
        await writeKeywordUpdate(target.dir, base, entry.keywords);
      }
      const targetName = formatFileName(base, entry.letters);
      const ok = move
        ? await onFile(core, entry, (file) => {
            core.expectOwn([path.basename(file)]);
            targetCore?.expectOwn([targetName]);
            return moveFile(file, path.join(target.dir, 'cur', targetName), stored.internalDate);
          })
        : await onFile(core, entry, async (file) => {
            const copied = await linkOrCopy(messageFileOf(core.context.messageLinks, file), path.join(stagingDir, base), stored.internalDate);
            linked.push(base);
            return copied;
          });
      return ok ? { entry, base, targetName } : null;
    });
    const done = staged.filter((s): s is NonNullable<typeof s> => s !== null);
    // The copies keep the originals' EMAILID (objectid.ts), known before they get their UIDs.
    const ids = emailIds(core.dir, done.map((s) => s.entry.base));
    await recordEmailIds(target.dir, done.map((s, i) => [s.base, ids[i]] as const));
    const assigned = await withCourierLock(target.dir, core.context.useLocks, async () => {
      if (!move) {
        targetCore?.expectOwn(done.map((s) => s.targetName));
        for (const s of done) await fs.rename(path.join(stagingDir, s.base), path.join(target.dir, 'cur', s.targetName));
      }
      return assignUids(target.dir, done.map((s) => s.base), targetCore?.scanMemory ?? {}, core.context.root);
    });
    const mapping = done.map((s, i): [number, number] => [s.entry.uid, assigned.uids[i]]);
    const arrivals = done.map((s, i): Arrival => ({
      uid: assigned.uids[i],
      base: s.base,
      fileName: s.targetName,
      keywords: core.context.keywords ? s.entry.keywords : NO_KEYWORDS,
      stored: s.entry.stored,
    }));
    if (targetCore) await arrivedLocked(targetCore, assigned.uidValidity, arrivals, clean);
    return { result: { uidValidity: assigned.uidValidity, mapping }, moved: done.map((s) => s.entry) };
  };

  let outcome: Awaited<ReturnType<typeof transfer>>;
  try {
    if (move) {
      // Both queues, taken in a fixed order: two MOVEs in opposite directions cannot deadlock.
      outcome = await folderMutex.runAll([core.dir, target.dir], async () => {
        const clean = core.ownChangeBegins();
        const outcome = await transfer();
        if (movesQuota) {
          const bytes = outcome.moved.reduce((sum, e) => sum + e.stored!.fileSize, 0);
          await core.context.quota.add(core.dir, -bytes, -outcome.moved.length);
          await core.context.quota.add(target.dir, bytes, outcome.moved.length);
        }
        // As EXPUNGE: only our own renames since the state was current, no scan.
        if (clean && core.watch.quiet() && (await removedOwn(core, outcome.moved))) core.ownChangeDone(true);
        else await core.syncLocked({ claimNew: false, expectedGone: new Set(outcome.moved.map((e) => e.base)) });
        return outcome;
      });
    } else {
      outcome = await folderMutex.run(target.dir, transfer);
      await core.context.quota.add(target.dir, outcome.moved.reduce((sum, e) => sum + e.stored!.fileSize, 0), outcome.moved.length);
    }
  } catch (error) {
    await Promise.all(linked.map((base) => fs.rm(path.join(stagingDir, base), { force: true })));
    throw deliveryError(target.dir, error);
  }
  return outcome.result;
}

async function destinationOf(core: FolderCore, name: string): Promise<{ dir: string; name: string }> {
  // Symlinked folders do not exist (folderdir.ts): COPY and MOVE never write through one.
  const resolved = resolveFolderDir(core.context.root, name);
  if (resolved?.state !== 'folder') throw new MailStoreError('Destination folder does not exist', 'TRYCREATE');
  return { dir: resolved.dir, name: resolved.canonical };
}

/** Hard link (cheap, same file system) or copy, keeping the file time (INTERNALDATE). */
async function linkOrCopy(source: string, target: string, internalDate: number): Promise<boolean> {
  try {
    await fs.link(source, target);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw error;
  }
  // Copied by hand: copyFile would follow a symlink in cur/ and copy whatever it points at.
  const from = await fs.open(source, MESSAGE_READ_FLAGS);
  try {
    const to = await fs.open(target, 'wx', 0o600);
    try {
      await pipeline(from.createReadStream({ autoClose: false }), to.createWriteStream({ autoClose: false }));
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
  const time = new Date(internalDate);
  await fs.utimes(target, time, time);
  return true;
}

/** Rename across folders; across file systems, copy then remove. */
async function moveFile(source: string, target: string, internalDate: number): Promise<boolean> {
  try {
    await fs.rename(source, target);
    return true;
  } catch (error) {
    if (errorCode(error) !== 'EXDEV') throw error;
  }
  await linkOrCopy(source, target, internalDate);
  await fs.unlink(source);
  return true;
}
