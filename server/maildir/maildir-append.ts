// APPEND into a Maildir: each message written and synced in INBOX's tmp/, then renamed into its
// folder's cur/ and numbered there (append-many.ts), so that nobody ever sees half a message.

import { createReadStream } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type AppendItem, type AppendOptions, type AppendSink, MailStoreError } from '../backend/mailstore.js';
import { deliverStaged, stageBuffer, type StagedDelivery } from './append-many.js';
import { openStagedMessage, StagedFile } from './appendsink.js';
import { newBaseName } from './filenames.js';
import { type FolderContext, splitFlags } from './folder-entry.js';
import { ensureFolderTmp, resolveFolderDir } from './folderdir.js';

/** Messages of one appendMany() written and synced at once: 8 kept the 4 threads of libuv's pool (where fsync waits) busy best (a first fetch of 2,000 messages: 118/s one at a time, ~240/s 4 at once, ~290/s 8, no better with 16). */
const STAGE_PARALLEL = 8;

/** APPEND of a message streamed in (APPEND with a literal): staged, then delivered when complete. */
export async function beginAppend(context: FolderContext, name: string, size: number, options: AppendOptions): Promise<AppendSink> {
  const { canonical, dir } = appendTarget(context.root, name);
  splitFlags(options.flags ?? [], context.keywords); // refused before anything is written
  await context.quota.check(dir, size, 1);
  // The name tells the sizes, known only at the end: the file is renamed into cur/ with it.
  return openStagedMessage(stagingDir(context.root), size, async (staged) => {
    if (options.beforeDeliver) await options.beforeDeliver(() => createReadStream(staged.path));
    const { uidValidity, uids } = await deliverStaged(context, context.root, canonical, dir, [
      { file: staged, base: newBaseName(staged.fileSize, staged.crlfSize), options },
    ]);
    return { uidValidity, uid: uids[0] };
  });
}

/** APPEND of whole messages, or of messages staged before (MULTIAPPEND, imports); `usable` refuses when the store was closed. */
export async function appendMany(context: FolderContext, name: string, items: readonly AppendItem[], usable: () => void): Promise<{ uidValidity: number; uids: number[] }> {
  const staged = items.map((i) => i.message).filter((m): m is StagedFile => m instanceof StagedFile);
  const written: StagedDelivery[] = [];
  let handedOver = false;
  try {
    usable();
    if (items.some((i) => !Buffer.isBuffer(i.message) && !(i.message instanceof StagedFile))) throw new Error('not a message staged by this store');
    const { canonical, dir } = appendTarget(context.root, name);
    for (const item of items) splitFlags(item.options?.flags ?? [], context.keywords); // refused before anything is written
    const bytes = items.reduce((sum, i) => sum + (Buffer.isBuffer(i.message) ? i.message.length : i.message.size), 0);
    await context.quota.check(dir, bytes, items.length);
    // Written and synced in tmp/, then renamed into cur/: the Maildir way to never show half a
    // message. Several at once: their fsyncs wait in the thread pool together, where the file
    // system's journal commits them together (a mail source's batch of 250 small messages
    // under load: 2.5 ms each one after another).
    const slots: (StagedDelivery | undefined)[] = new Array(items.length);
    let next = 0;
    let failure: { error: unknown } | null = null;
    const stager = async (): Promise<void> => {
      while (failure === null && next < items.length) {
        const at = next++;
        const item = items[at]!;
        const options = item.options ?? {};
        try {
          if (Buffer.isBuffer(item.message)) {
            slots[at] = { ...(await stageBuffer(stagingDir(context.root), item.message)), options };
          } else {
            const { file } = item.message as StagedFile;
            (item.message as StagedFile).taken = true;
            slots[at] = { file, base: newBaseName(file.fileSize, file.crlfSize), options };
          }
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(STAGE_PARALLEL, items.length) }, stager));
    for (const slot of slots) if (slot) written.push(slot);
    if (failure !== null) throw (failure as { error: unknown }).error;
    // The Outbox sends each message before it is stored (as Courier); a refusal stores none.
    for (const w of written) if (w.options.beforeDeliver) await w.options.beforeDeliver(() => createReadStream(w.file.path));
    handedOver = true;
    return await deliverStaged(context, context.root, canonical, dir, written);
  } finally {
    // deliverStaged removes what it was given; what it was not given goes here.
    if (!handedOver) for (const w of written) await fs.rm(w.file.path, { force: true });
    for (const s of staged) await s.discard();
  }
}

/**
 * Where a message is written before it is renamed into its folder's cur/: INBOX's tmp/, not
 * the folder's. A folder deleted or renamed by another session meanwhile then takes no file
 * along (the rename into cur/ fails, and the file is removed where it is), and its directory
 * is never made again to hold one. Same file system (folders are real directories in the
 * Maildir), so the rename stays atomic. INBOX's tmp/ is made again if some tool removed it.
 */
export function stagingDir(root: string): string {
  ensureFolderTmp(root);
  return path.join(root, 'tmp');
}

/** The folder a message may be delivered to: a real folder inside the Maildir (folderdir.ts), else TRYCREATE. */
export function appendTarget(root: string, name: string): { canonical: string; dir: string } {
  const resolved = resolveFolderDir(root, name);
  if (resolved?.state !== 'folder') throw new MailStoreError('Folder does not exist', 'TRYCREATE');
  return { canonical: resolved.canonical, dir: resolved.dir };
}
