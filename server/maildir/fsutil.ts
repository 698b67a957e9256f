// Small file-system helpers shared by the Maildir modules.

import { closeSync, fstatSync, openSync, promises as fs, readdirSync, readSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

let tmpCounter = 0;

/** This host in scratch names: on shared storage, only this host can tell whether its pids live. */
const HOST_TAG = `H${hostname().replace(/[^A-Za-z0-9-]/g, '_')}`;

/** A name for a scratch file that no other process will pick (pid + counter + random + host). */
export function scratchName(purpose: string): string {
  tmpCounter += 1;
  return `${Math.floor(Date.now() / 1000)}.${purpose}.P${process.pid}Q${tmpCounter}R${randomBytes(4).toString('hex')}.${HOST_TAG}`;
}

// Names without a host are of earlier versions, which ran on this host as far as we can know.
const SCRATCH = /^\d+\.[a-z]+\.P(\d+)Q\d+R[0-9a-f]+(?:\.(H[\w-]+))?$/;

/**
 * Whether a name in tmp/ is a scratch file of ours (scratchName) whose process is gone, so
 * that nobody will rename or remove it: kill -9 during a write leaves one behind. A process
 * of that number that is alive (this one, or another that took the number) keeps its files;
 * so does another host's (Maildirs on NFS), left to the 36-hour rule.
 */
export function isDeadScratch(name: string): boolean {
  const m = SCRATCH.exec(name);
  if (!m || (m[2] !== undefined && m[2] !== HOST_TAG)) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return errorCode(error) === 'ESRCH'; // EPERM: alive, someone else's
  }
}

/**
 * Write a whole file through a scratch file in `tmpDir` and a rename (readers never see half
 * a file). Returns the written file's stat, taken before the rename (which keeps it).
 */
export async function writeFileAtomic(target: string, data: string | Buffer, tmpDir: string): Promise<Stats> {
  const scratch = path.join(tmpDir, scratchName('imapdts'));
  try {
    const handle = await fs.open(scratch, 'w');
    let stat: Stats;
    try {
      await handle.writeFile(data);
      stat = await handle.stat();
    } finally {
      await handle.close();
    }
    await fs.rename(scratch, target);
    return stat;
  } catch (error) {
    await fs.rm(scratch, { force: true });
    throw error;
  }
}

/**
 * writeFileAtomic, synchronously: for a file of a few bytes written often (the \Recent mark,
 * at every delivery a session is told of), where the thread pool's five hand-overs cost more
 * than the work.
 */
export function writeFileAtomicSync(target: string, data: string, tmpDir: string): Stats {
  const scratch = path.join(tmpDir, scratchName('imapdts'));
  try {
    const fd = openSync(scratch, 'w');
    let stat: Stats;
    try {
      const bytes = Buffer.from(data, 'utf8');
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      stat = fstatSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(scratch, target);
    return stat;
  } catch (error) {
    rmSync(scratch, { force: true });
    throw error;
  }
}

/** File names in a directory, without dot files; [] when the directory is missing. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).filter((name) => !name.startsWith('.'));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
}

/** listDir, synchronously. */
export function listDirSync(dir: string): string[] {
  try {
    const names = readdirSync(dir);
    // A copy only when there is something to leave out (100,000 names in a big folder).
    for (const name of names) if (name.charCodeAt(0) === 46) return names.filter((n) => n.charCodeAt(0) !== 46);
    return names;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** Runs `task` over `items` with at most `limit` running at once; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Directory exists (following symlinks). */
export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return false;
    throw error;
  }
}

/**
 * Lets a loop of synchronous file work give the event loop a turn now and then, so that
 * other sessions of the process are not held up for long (see recordlog.ts for why the
 * work is synchronous).
 */
export class Budget {
  private sliceStart = performance.now();

  constructor(private readonly sliceMs = 10) {}

  /** The current slice is used up: pause() before going on. */
  due(): boolean {
    return performance.now() - this.sliceStart >= this.sliceMs;
  }

  /** A turn of the event loop for the others; a new slice starts. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
  }
}

/** Reads from `position` until `buffer` is full or the file ends; the number of bytes read. */
export function readFully(fd: number, buffer: Buffer, position: number): number {
  let got = 0;
  while (got < buffer.length) {
    const n = readSync(fd, buffer, got, buffer.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
