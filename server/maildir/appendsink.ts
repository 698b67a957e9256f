// A message received piece by piece (a large APPEND), written straight to the folder's tmp/
// as it arrives: delivery then renames that file into cur/, so the message is never held in
// memory and never copied twice. Pieces are gathered into blocks of BLOCK octets and written
// through the thread pool; at most one block is in memory per message.

import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { AppendOptions, AppendSink } from '../backend/mailstore.js';
import { MailStoreError } from '../backend/mailstore.js';
import { errorCode, scratchName } from './fsutil.js';

const BLOCK = 256 * 1024;

/** The written file, as delivery needs to know it. */
export interface StagedMessage {
  path: string;
  /** Octets in the file. */
  fileSize: number;
  /** RFC822.SIZE: every bare LF counted as CRLF. */
  crlfSize: number;
  mtimeMs: number;
}

/**
 * Open a scratch file in `tmpDir` for a message of `size` octets. `deliver` moves the
 * synced file into place (it must rename or remove it); on abort or failure the file is removed.
 */
export async function openStagedMessage(
  tmpDir: string,
  size: number,
  deliver: (staged: StagedMessage) => Promise<{ uidValidity: number; uid: number }>,
  beforeDeliver?: AppendOptions['beforeDeliver'],
): Promise<AppendSink> {
  const file = path.join(tmpDir, scratchName('append'));
  const handle = await fs.open(file, 'wx', 0o600);
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let written = 0;
  let received = 0;
  let crlfSize = 0;
  let lastByte = -1;
  let failure: unknown = null;
  let ended = false;
  let writing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    const block = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingLength);
    pending = [];
    pendingLength = 0;
    writing = (async () => {
      try {
        for (let done = 0; done < block.length; ) done += (await handle.write(block, done, block.length - done)).bytesWritten;
        written += block.length;
      } catch (error) {
        failure ??= error;
      }
    })();
    return writing;
  };

  const cleanUp = async (): Promise<void> => {
    await writing;
    await handle.close().catch(() => undefined);
    await fs.rm(file, { force: true });
  };

  return {
    write(chunk: Buffer): void | Promise<void> {
      if (ended || failure !== null || chunk.length === 0) return;
      received += chunk.length;
      crlfSize += chunk.length;
      // Bare LFs count twice in RFC822.SIZE, also when the CR ended the previous piece.
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) {
        if ((i === 0 ? lastByte : chunk[i - 1]) !== 13) crlfSize += 1;
      }
      lastByte = chunk[chunk.length - 1];
      // The reader's pieces are views of socket buffers that it does not reuse: kept as they are.
      pending.push(chunk);
      pendingLength += chunk.length;
      if (pendingLength >= BLOCK) return flush();
    },
    async commit() {
      if (ended) throw new Error('append already ended');
      ended = true;
      try {
        if (pendingLength > 0) await flush();
        await writing;
        if (failure === null && (received !== size || written !== size)) failure = new Error(`message has ${received} octets, ${size} announced`);
        if (failure === null) await handle.sync();
        if (failure !== null) throw failure;
        const { mtimeMs } = await handle.stat();
        await handle.close();
        if (beforeDeliver) await beforeDeliver(() => createReadStream(file));
        return await deliver({ path: file, fileSize: written, crlfSize, mtimeMs });
      } catch (error) {
        await cleanUp();
        if (errorCode(error) === 'ENOSPC' || errorCode(error) === 'EDQUOT') {
          throw new MailStoreError('Not enough disk space to store the message', 'LIMIT');
        }
        throw error;
      }
    },
    async abort() {
      if (ended) return;
      ended = true;
      pending = [];
      pendingLength = 0;
      await cleanUp();
    },
  };
}
