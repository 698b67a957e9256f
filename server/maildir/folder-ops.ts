// Operations on the messages of a folder: reading, flags, expunge (copy and move: folder-copy.ts).
// Each runs on the folder's core, in its queue when it changes something.

import { promises as fs, renameSync } from 'node:fs';
import path from 'node:path';
import { emailIds, saveDateOf } from './objectid.js';
import { type DataRequest, type FlagOperation, MailStoreError, type MessageData } from '../backend/mailstore.js';
import type { MessageMeta } from '../mime/types.js';
import { baseOf, fileSizeFromName, formatFileName, lettersFor, parseFileName, systemFlagsFromLetters } from './filenames.js';
import type { FolderCore } from './folder-core.js';
import { applyOperation, type Entry, flagSet, IO_PARALLEL, messageFileOf, sameSystemFlags, splitFlags } from './folder-entry.js';
import { stampEntries } from './folder-modseq.js';
import { removedOwn } from './folder-own.js';
import { MESSAGE_READ_FLAGS } from './folderdir.js';
import { Budget, errorCode, listDir, mapLimit } from './fsutil.js';
import { sameKeywords, writeKeywordUpdate } from './keywords.js';
import { announceChange } from './change-bus.js';

function entryOf(core: FolderCore, uid: number): Entry {
  const entry = core.entries.get(uid);
  if (!entry) throw new MailStoreError('Message has been expunged', 'EXPUNGEISSUED');
  return entry;
}

const STORE_ATTEMPTS = 8;

/** Finds the current file of a message whose name changed under us; null when it is gone. */
async function relocate(core: FolderCore, entry: Entry): Promise<string | null> {
  core.watch.noteForeign(); // another process renamed or removed it: the next look scans
  for (const name of await listDir(path.join(core.dir, 'cur'))) {
    if (baseOf(name) === entry.base) {
      moved(core, entry, name);
      return name;
    }
  }
  return null;
}

/** A message's file has this name now: its flags go to the sessions with the next scan (core.relocated). */
function moved(core: FolderCore, entry: Entry, name: string): void {
  if (entry.fileName === name) return;
  core.generation += 1;
  const letters = parseFileName(name).letters;
  if (!sameSystemFlags(entry.letters, letters)) core.relocated.add(entry);
  entry.fileName = name;
  entry.letters = letters;
}

/**
 * Finds the current names of messages whose files were renamed under us; returns those still
 * there (also those a scan meanwhile found under the new name: a read that failed before it
 * is tried again, not taken for an expunge).
 */
async function relocateAll(core: FolderCore, entries: readonly Entry[]): Promise<Entry[]> {
  core.watch.noteForeign();
  const wanted = new Map(entries.map((entry) => [entry.base, entry]));
  const found: Entry[] = [];
  for (const name of await listDir(path.join(core.dir, 'cur'))) {
    const entry = wanted.get(baseOf(name));
    if (!entry) continue;
    moved(core, entry, name);
    found.push(entry);
  }
  return found;
}

/** Runs a file operation on a message's file, following it once if another process renamed it. */
export async function onFile<T>(core: FolderCore, entry: Entry, operation: (file: string) => Promise<T>): Promise<T | null> {
  try {
    return await operation(path.join(core.dir, 'cur', entry.fileName));
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  const name = await relocate(core, entry);
  if (name === null) return null;
  try {
    return await operation(path.join(core.dir, 'cur', name));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

export async function readMessage(core: FolderCore, uid: number): Promise<Buffer> {
  const content = await onFile(core, entryOf(core, uid), async (file) => {
    try {
      return await fs.readFile(messageFileOf(core.context.messageLinks, file), { flag: MESSAGE_READ_FLAGS });
    } catch (error) {
      if (errorCode(error) === 'ELOOP') return null; // a symlink is no message (ENOENT: onFile looks for the renamed file)
      throw error;
    }
  });
  if (content === null) throw new MailStoreError('Message has been expunged', 'EXPUNGEISSUED');
  return content;
}

export async function messageMeta(core: FolderCore, uid: number): Promise<MessageMeta> {
  entryOf(core, uid);
  let pending = core.metaInFlight.get(uid);
  if (!pending) {
    pending = (async () => {
      const [data] = await messageData(core, [uid], { info: true, header: true, structure: true });
      if (!data) throw new MailStoreError('Message has been expunged', 'EXPUNGEISSUED');
      const header = data.header!;
      return {
        size: data.size!,
        envelope: header.envelope,
        body: data.structure!,
        references: header.references,
        decoded: header.decoded,
        sentDate: header.sentDate,
      };
    })().finally(() => core.metaInFlight.delete(uid));
    core.metaInFlight.set(uid, pending);
  }
  return pending;
}

/** See Folder.messageData. */
export async function messageData(core: FolderCore, uids: readonly number[], asked: DataRequest): Promise<(MessageData | null)[]> {
  asked.arena?.reset(); // once per call: the retry below adds to the same request's messages
  const entries = uids.map((uid) => core.entries.get(uid));
  let present = entries as Entry[];
  if (entries.includes(undefined)) present = entries.filter((entry): entry is Entry => entry !== undefined);
  const request = asked.saveDate && !asked.info ? { ...asked, info: true } : asked;
  const result = await core.cache.get(present, request);
  if (core.cache.info.dirty) core.scheduleInfoSave();
  if (result.missing.length) {
    // Renamed by another process (its flags changed), or removed: look once, then retry.
    const moved = await relocateAll(core, result.missing.map((i) => present[i]));
    if (moved.length) {
      const retry = await core.cache.get(moved, request);
      const byEntry = new Map(moved.map((entry, i) => [entry, retry.data[i]]));
      for (const i of result.missing) result.data[i] = byEntry.get(present[i]) ?? null;
    }
  }
  if (request.saveDate || request.emailId) addObjectData(core, present, result.data, request);
  if (present.length === entries.length) return result.data;
  const byEntry = new Map<Entry, MessageData | null>();
  present.forEach((entry, i) => byEntry.set(entry, result.data[i]));
  return entries.map((entry) => (entry ? byEntry.get(entry) ?? null : null));
}

/** SAVEDATE and EMAILID from the base names (objectid.ts): no file is read for them. */
function addObjectData(core: FolderCore, present: readonly Entry[], data: (MessageData | null)[], request: DataRequest): void {
  const ids = request.emailId ? emailIds(core.dir, present.map((e) => e.base)) : undefined;
  for (let i = 0; i < present.length; i++) {
    const item = data[i];
    if (!item) continue;
    if (request.saveDate) item.saveDate = saveDateOf(present[i].base) ?? item.internalDate;
    if (ids) item.emailId = ids[i];
  }
}

export async function storeFlags(
  core: FolderCore,
  uids: readonly number[],
  operation: FlagOperation,
  flags: readonly string[],
  options: { unchangedSince?: number } = {},
): Promise<{ gone: number[]; modified: number[] }> {
  core.noteLocalChange();
  const wanted = splitFlags(flags, core.context.keywords);
  const gone: number[] = [];
  const modified: number[] = [];
  const changed = await core.exclusive(async () => {
    const limit = options.unchangedSince;
    // UNCHANGEDSINCE is tested against every change, another process's too: look first.
    if (limit !== undefined && !core.isCurrent()) await core.syncLocked({ claimNew: false });
    const clean = core.ownChangeBegins();
    core.generation += 1; // entries change below, even when a later step fails
    // The spellings in use (a look at every message) only when keywords are given.
    const spelling = wanted.keywords.length ? keywordSpellings(core) : undefined;
    const keywords = wanted.keywords.map((k) => spelling?.get(k.toLowerCase()) ?? k);
    const changed = new Set<Entry>();
    const keywordWrites: { entry: Entry; keywords: string[] }[] = [];
    // Renames one after the other, synchronously: a rename is a quick call, and through
    // the thread pool the hand-overs cost more than the renames (1,000 in a STORE 1:1000).
    // The budget gives other sessions a turn every few milliseconds.
    const budget = new Budget();
    for (const uid of uids) {
      if (budget.due()) await budget.pause();
      const entry = core.entries.get(uid);
      if (!entry) {
        gone.push(uid);
        continue;
      }
      if (limit !== undefined && entry.info.modseq > limit) {
        modified.push(uid);
        continue;
      }
      // A rename fails when another process changed the flags first: follow the file to its
      // new name and apply the change to the flags it has now. Several tries, as processes
      // that change the same message at once can each move it more than once.
      for (let attempt = 0; attempt < STORE_ATTEMPTS; attempt++) {
        const oldSystem = systemFlagsFromLetters(entry.letters);
        const newSystem = applyOperation(operation, oldSystem, wanted.system);
        const newKeywords = applyOperation(operation, entry.keywords, keywords);
        const systemChanged = !sameKeywords(oldSystem, newSystem);
        const keywordsChanged = !sameKeywords(entry.keywords, newKeywords);
        if (!systemChanged && !keywordsChanged) break;
        if (systemChanged) {
          const letters = lettersFor(newSystem, entry.letters);
          const newName = formatFileName(entry.base, letters);
          try {
            core.expectOwn([entry.fileName, newName]);
            renameSync(path.join(core.dir, 'cur', entry.fileName), path.join(core.dir, 'cur', newName));
          } catch (error) {
            if (errorCode(error) !== 'ENOENT') throw error;
            if ((await relocate(core, entry)) === null) {
              gone.push(uid); // expunged by another process
              break;
            }
            // Its flags are now the other process's: shown and stamped here even when they
            // already hold this change (the next attempt then has nothing to rename).
            changed.add(entry);
            core.relocated.delete(entry);
            continue;
          }
          entry.fileName = newName;
          entry.letters = letters;
          changed.add(entry);
        }
        if (keywordsChanged) keywordWrites.push({ entry, keywords: newKeywords });
        break;
      }
    }
    core.watch.expectOwnKeywords(keywordWrites.map(({ entry }) => entry.base));
    await mapLimit(keywordWrites, IO_PARALLEL, async ({ entry, keywords }) => {
      await writeKeywordUpdate(core.dir, entry.base, keywords);
      entry.keywords = keywords;
      changed.add(entry);
    });
    for (const entry of changed) entry.info = { uid: entry.uid, flags: flagSet(entry.letters, entry.keywords), modseq: entry.info.modseq };
    if (changed.size) core.infoChanged(changed);
    const told = await stampEntries(core, [...changed], []);
    core.ownChangeDone(clean);
    return { entries: [...changed], told };
  });
  try {
    for (const entry of changed.entries.sort((a, b) => a.uid - b.uid)) core.tracker.emit({ kind: 'flags', uid: entry.uid, flags: entry.info.flags, modseq: entry.info.modseq });
  } finally {
    changed.told();
  }
  return { gone, modified };
}

export async function expunge(core: FolderCore, uids: readonly number[], onRemoved?: (file: string) => void): Promise<number[]> {
  core.noteLocalChange();
  return core.exclusive(async () => {
    const clean = core.ownChangeBegins();
    const removed: number[] = [];
    const removedEntries: Entry[] = [];
    const gone = new Set<string>();
    let bytes = 0;
    await mapLimit(uids, IO_PARALLEL, async (uid) => {
      const entry = core.entries.get(uid);
      if (!entry) return;
      let fileSize = knownFileSize(core, entry);
      const done = await onFile(core, entry, async (file) => {
        fileSize ??= (await fs.stat(file)).size;
        core.expectOwn([path.basename(file)]);
        await fs.unlink(file);
        // Courier's form: relative to the Maildir root, which is imapd's working directory.
        onRemoved?.(`./${path.relative(core.context.root, file)}`);
        return true;
      });
      if (!done) return;
      removed.push(uid);
      removedEntries.push(entry);
      gone.add(entry.base);
      bytes += fileSize ?? 0;
    });
    await core.context.quota.add(core.dir, -bytes, -removed.length);
    // Only our own unlinks since the state was current: the database is written once for the
    // batch and the sessions told, without a scan. Anything else (a file renamed or removed
    // by another process meanwhile): a scan.
    if (clean && core.watch.quiet() && (await removedOwn(core, removedEntries))) core.ownChangeDone(true);
    else await core.syncLocked({ claimNew: false, expectedGone: gone });
    return removed.sort((a, b) => a - b);
  });
}

/**
 * IMAP_EMPTYTRASH: removes messages that came into the folder more than `ageMs` ago
 * (by the file's ctime, which a rename into the folder sets, as Courier does).
 * Sessions that have the folder open see the removals as expunges. Returns how many.
 */
export async function purgeOlderThan(core: FolderCore, ageMs: number): Promise<number> {
  core.noteLocalChange();
  return core.exclusive(async () => {
    announceChange(core.context.changeBus, core.dir);
    await core.syncLocked({ claimNew: false });
    const limit = Date.now() - ageMs;
    const gone = new Set<string>();
    let bytes = 0;
    for (const sub of ['cur', 'new']) {
      await mapLimit(await listDir(path.join(core.dir, sub)), IO_PARALLEL, async (name) => {
        const file = path.join(core.dir, sub, name);
        try {
          const stat = await fs.stat(file);
          if (stat.ctimeMs >= limit) return;
          await fs.unlink(file);
          gone.add(baseOf(name));
          bytes += stat.size;
        } catch (error) {
          if (errorCode(error) !== 'ENOENT') throw error;
        }
      });
    }
    await core.context.quota.add(core.dir, -bytes, -gone.size);
    await core.syncLocked({ claimNew: false, expectedGone: gone });
    return gone.size;
  });
}

/** File size of a message for the quota, when known without a stat(). */
function knownFileSize(core: FolderCore, entry: Entry): number | undefined {
  return entry.stored?.fileSize ?? fileSizeFromName(entry.base) ?? core.cache.info.get(entry.base)?.fileSize;
}

/** Keywords are matched without regard to case; the first spelling in the folder wins. */
function keywordSpellings(core: FolderCore): Map<string, string> {
  const spellings = new Map<string, string>();
  for (const entry of core.entries.values()) {
    for (const keyword of entry.keywords) if (!spellings.has(keyword.toLowerCase())) spellings.set(keyword.toLowerCase(), keyword);
  }
  return spellings;
}

