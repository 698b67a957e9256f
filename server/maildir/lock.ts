// Locking around folder updates.
//
// Within this process, every folder directory has one queue (KeyedMutex): scans,
// flag changes, expunges and deliveries to a folder run one after the other.
//
// Between processes we take Courier's own lock (IMAP_USELOCKS=1), so that Courier's
// imapd, maildrop and this server can share a Maildir: tmp/courier.lock, created by
// writing "<pid>:<hostname>" to a scratch file in tmp/ and link()ing it to that name, taken
// when the scratch file then has two links (NFS-safe: no O_EXCL, no flock, no inotify). A lock
// left by a dead process on this host, or older than 120 s on the file server's clock, is
// broken; a holder rewrites its lock every 30 s, so that a long hold never looks that old.

import { promises as fs, closeSync, existsSync, linkSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { MailStoreError } from '../backend/mailstore.js';
import { errorCode, scratchName } from './fsutil.js';

export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` after every task queued earlier for the same key has finished. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Runs `task` holding several keys, taken in a fixed order so that two callers cannot deadlock. */
  async runAll<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)].sort();
    const step = (i: number): Promise<T> => (i === unique.length ? task() : this.run(unique[i], () => step(i + 1)));
    return step(0);
  }
}

/** One queue per folder directory for the whole process (several stores may share a Maildir). */
export const folderMutex = new KeyedMutex();

export const COURIER_LOCK = 'courier.lock';

/**
 * The calls that decide who holds a lock, and its times, as one object so that tests can make
 * link() answer as NFS sometimes does (an error for a link that was made) and shorten the times.
 */
export const lockFs = {
  link: linkSync as (existing: string, newPath: string) => void,
  stat: statSync as (file: string) => Stats,
  /** A lock whose mtime is this much older than the file server's clock is broken. */
  staleAfterMs: 120_000,
  /** How often a holder touches its lock, so that a long hold is not taken for a stale one. */
  refreshMs: 30_000,
};

/** No hold lasts this long (a move of thousands of messages takes seconds): the lock was forgotten. */
const MAX_HOLD_MS = 10 * 60_000;

export interface DotLockOptions {
  /** Give up after this long (default 30 s) with a NO [INUSE]. */
  timeoutMs?: number;
}

/** Takes tmp/courier.lock of a folder; resolves with the function that releases it. */
export async function acquireCourierLock(folderDir: string, options: DotLockOptions = {}): Promise<() => Promise<void>> {
  return acquireDotLock(path.join(folderDir, 'tmp'), COURIER_LOCK, options);
}

/** Takes the dot-lock `name` in `tmpDir` (the way Courier takes courier.lock); resolves with its release. */
export async function acquireDotLock(tmpDir: string, name: string, options: DotLockOptions = {}): Promise<() => Promise<void>> {
  const lockPath = path.join(tmpDir, name);
  const id = lockId();
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let wait = 5;
  for (;;) {
    const attempt = attemptDotLock(tmpDir, lockPath, id);
    if (typeof attempt === 'function') return attempt;
    const broken = await breakStaleLock(tmpDir, lockPath, id, attempt.fileNowMs);
    if (Date.now() > deadline) throw new MailStoreError('The folder is locked by another process, try again later', 'INUSE');
    if (broken) continue;
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 200);
  }
}

/**
 * One attempt at tmp/courier.lock of a folder, without waiting: its release, or null when
 * the lock is there (whoever holds it: a lock left by a dead process is only broken by
 * acquireCourierLock, which callers fall back to after a while).
 */
export function tryCourierLock(folderDir: string): (() => Promise<void>) | null {
  const tmpDir = path.join(folderDir, 'tmp');
  const lockPath = path.join(tmpDir, COURIER_LOCK);
  // A stat first: while another process holds the lock, no scratch file is written for nothing.
  if (existsSync(lockPath)) return null;
  const attempt = attemptDotLock(tmpDir, lockPath, lockId());
  return typeof attempt === 'function' ? attempt : null;
}

function lockId(): string {
  return `${process.pid}:${hostname()}`;
}

/**
 * Links a scratch file to the lock's name: the release when that made the lock ours, else the
 * time on the file server's clock (the scratch file's mtime), to judge the lock's age by.
 */
function attemptDotLock(tmpDir: string, lockPath: string, id: string): (() => Promise<void>) | { fileNowMs: number } {
  // Synchronous: a handful of quick metadata calls, which through the thread pool cost
  // more in hand-overs than in work (this runs for every APPEND).
  const scratch = path.join(tmpDir, scratchName('courierlock'));
  writeFileSync(scratch, id);
  let linkError: unknown;
  let stat: Stats;
  try {
    try {
      lockFs.link(scratch, lockPath);
    } catch (error) {
      linkError = error;
    }
    // Over NFS, link() may fail although it linked (a lost reply, the retried request then
    // finding the name taken): two links on the scratch file mean the lock is ours anyway.
    stat = lockFs.stat(scratch);
  } finally {
    rmSync(scratch, { force: true });
  }
  const linked = linkError === undefined || stat.nlink === 2;
  if (!linked && errorCode(linkError) !== 'EEXIST') throw linkError;
  if (!linked) return { fileNowMs: stat.mtimeMs };
  held += 1;
  let released = false;
  // A long hold (a large move into cur/ on a slow disk) must not look stale to other hosts;
  // one past MAX_HOLD_MS is a lock this process forgot to release, left to go stale.
  const takenAt = Date.now();
  const refresh = setInterval(() => {
    if (Date.now() - takenAt > MAX_HOLD_MS) clearInterval(refresh);
    else touchIfOurs(lockPath, id);
  }, lockFs.refreshMs);
  refresh.unref?.();
  return async () => {
    if (released) return;
    released = true;
    clearInterval(refresh);
    // Only remove the lock if it is still ours (it may have been broken as stale).
    try {
      if (readFileSync(lockPath, 'utf8') === id) unlinkSync(lockPath);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    } finally {
      held -= 1;
      if (held === 0) for (const wake of idleWaiters.splice(0)) wake();
    }
  };
}

/**
 * Rewrites the lock's content in place when it is still ours, so that its mtime moves on the
 * file server's clock (utimes would set this host's time, which may differ).
 */
function touchIfOurs(lockPath: string, id: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(lockPath, 'r+');
    const bytes = Buffer.from(id);
    const content = Buffer.alloc(bytes.length + 1);
    if (readSync(fd, content, 0, content.length, 0) === bytes.length && content.subarray(0, bytes.length).equals(bytes)) writeSync(fd, bytes, 0, bytes.length, 0);
  } catch {
    // gone or unreadable: nothing of ours to keep fresh
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Dot-locks this process holds now, and who waits for there to be none. */
let held = 0;
const idleWaiters: (() => void)[] = [];

/**
 * Resolves once this process holds no dot-lock (or after `timeoutMs`). A process that exits
 * must wait for it: a look prompted by the watcher may be moving a delivery into cur/ under
 * courier.lock when the session ends, and the lock would stay behind (found by the fuzzer).
 */
export function dotLocksReleased(timeoutMs: number): Promise<void> {
  if (held === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref?.();
    idleWaiters.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Removes the lock if its owner is gone (a dead process of this host), or its mtime is older
 * than lockFs.staleAfterMs on the file server's clock (`fileNowMs`); true when the caller
 * should try again at once.
 */
async function breakStaleLock(tmpDir: string, lockPath: string, myId: string, fileNowMs: number): Promise<boolean> {
  let content: string;
  let judged: Stats;
  try {
    const handle = await fs.open(lockPath, 'r');
    try {
      judged = await handle.stat();
      content = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true; // released meanwhile
    throw error;
  }
  const [pidText, host] = splitOnce(content, ':');
  const myHost = splitOnce(myId, ':')[1];
  const pid = Number(pidText);
  // Our own pid can only be a leftover of an earlier process: in this one, the folder
  // queue guarantees we never wait for ourselves.
  const ownerGone = host === myHost && Number.isSafeInteger(pid) && pid > 0 && (pid === process.pid || !processExists(pid));
  if (!ownerGone && fileNowMs - judged.mtimeMs < lockFs.staleAfterMs) return false;
  // Two waiters may judge the same lock stale: the second must not remove the lock the first
  // took since. So move it aside, and put it back if it is not the one judged.
  const aside = path.join(tmpDir, scratchName('courierlockstale'));
  try {
    renameSync(lockPath, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true;
    throw error;
  }
  try {
    const moved = lockFs.stat(aside);
    const same = moved.ino === judged.ino && moved.mtimeMs === judged.mtimeMs && readFileSync(aside, 'utf8') === content;
    if (!same) lockFs.link(aside, lockPath);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  } finally {
    rmSync(aside, { force: true });
  }
  return true;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

function splitOnce(text: string, separator: string): [string, string] {
  const index = text.indexOf(separator);
  return index < 0 ? [text, ''] : [text.slice(0, index), text.slice(index + 1)];
}

/**
 * Runs `task` holding the dot-lock `name` in `tmpDir`, after this process's other holders of
 * it (the queue first: a second taker in this process would break the lock as its own leftover).
 */
export async function withDotLock<T>(tmpDir: string, name: string, task: () => Promise<T>): Promise<T> {
  return folderMutex.run(path.join(tmpDir, name), async () => {
    const release = await acquireDotLock(tmpDir, name);
    try {
      return await task();
    } finally {
      await release();
    }
  });
}

/** Runs `task` holding tmp/courier.lock of a folder when `enabled` (IMAP_USELOCKS). */
export async function withCourierLock<T>(folderDir: string, enabled: boolean, task: () => Promise<T>): Promise<T> {
  if (!enabled) return task();
  const release = await acquireCourierLock(folderDir);
  try {
    return await task();
  } finally {
    await release();
  }
}
