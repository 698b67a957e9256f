// A message received piece by piece (a large APPEND literal, a CATENATE result), written
// straight to INBOX's tmp/ as it arrives: delivery then renames that file into cur/, so the
// message is never held in memory and never copied twice. Pieces are gathered into blocks of
// BLOCK octets and written through the thread pool; at most one block is in memory per message.

import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { AppendSink, MessageStager, StagedMessage as StagedHandle } from '../backend/mailstore.js';
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

/** A finished scratch file the store can deliver (MaildirStore.appendMany) or read back. */
export class StagedFile implements StagedHandle {
  /** Set once delivery took the file (renamed it away) or discard() removed it. */
  taken = false;
  constructor(readonly file: StagedMessage) {}

  get size(): number {
    return this.file.fileSize;
  }

  async *chunks(): AsyncIterable<Buffer> {
    for await (const chunk of createReadStream(this.file.path, { highWaterMark: BLOCK })) yield chunk as Buffer;
  }

  async discard(): Promise<void> {
    if (this.taken) return;
    this.taken = true;
    await fs.rm(this.file.path, { force: true });
  }
}

function diskError(error: unknown): unknown {
  if (errorCode(error) === 'ENOSPC' || errorCode(error) === 'EDQUOT') return new MailStoreError('Not enough disk space to store the message', 'LIMIT');
  return error;
}

/**
 * Open a scratch file in `tmpDir` for a message of `size` octets (undefined: not known in
 * advance, then at most `limit`). finish() syncs it; on abort or failure the file is removed.
 */
export async function openStager(tmpDir: string, size: number | undefined, limit = Infinity): Promise<MessageStager> {
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
    get received() {
      return received;
    },
    write(chunk: Buffer): void | Promise<void> {
      if (ended || failure !== null || chunk.length === 0) return;
      received += chunk.length;
      if (received > limit) {
        failure = new MailStoreError('Message too big', 'TOOBIG');
        return;
      }
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
    async finish() {
      if (ended) throw new Error('message already ended');
      ended = true;
      try {
        if (pendingLength > 0) await flush();
        await writing;
        const expected = size ?? received;
        if (failure === null && (received !== expected || written !== expected)) failure = new Error(`message has ${received} octets, ${expected} announced`);
        if (failure === null) await handle.sync();
        if (failure !== null) throw failure;
        const { mtimeMs } = await handle.stat();
        await handle.close();
        return new StagedFile({ path: file, fileSize: written, crlfSize, mtimeMs });
      } catch (error) {
        await cleanUp();
        throw diskError(error);
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

/**
 * A scratch file for a message of `size` octets that `deliver` moves into place (it must
 * rename or remove it) at commit(); on abort or failure the file is removed.
 */
export async function openStagedMessage(
  tmpDir: string,
  size: number,
  deliver: (staged: StagedMessage) => Promise<{ uidValidity: number; uid: number }>,
): Promise<AppendSink> {
  const stager = await openStager(tmpDir, size);
  let ended = false;
  return {
    write: (chunk) => stager.write(chunk),
    async commit() {
      if (ended) throw new Error('append already ended');
      ended = true;
      const staged = (await stager.finish()) as StagedFile;
      try {
        return await deliver(staged.file);
      } catch (error) {
        await fs.rm(staged.file.path, { force: true });
        throw diskError(error);
      }
    },
    async abort() {
      if (ended) return;
      ended = true;
      await stager.abort();
    },
  };
}
