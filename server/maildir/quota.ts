// Maildir++ quota: the file maildirsize in the Maildir root, present only when a quota
// is set. Line 1 is the limit ("1000000S,100C": bytes and/or messages); every other
// line is a change "<bytes> <count>", appended by whoever delivers or removes mail.
// When the file grows past 5120 bytes (or says we are over quota and is more than 15
// minutes old) it is rebuilt from the sizes of all messages. Trash does not count.

import { closeSync, constants as fsConstants, fstatSync, openSync, promises as fs, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { MailStoreError, type Quota } from '../backend/mailstore.js';
import { fileSizeFromName } from './filenames.js';
import { folderDirState } from './folderdir.js';
import { errorCode, listDir, writeFileAtomic } from './fsutil.js';

export const QUOTA_FILE = 'maildirsize';
const MAX_FILE_SIZE = 5120;
const STALE_OVER_QUOTA_MS = 15 * 60_000;

export interface QuotaLimits {
  storageLimit?: number;
  messageLimit?: number;
}

export function parseQuotaDefinition(line: string): QuotaLimits {
  const limits: QuotaLimits = {};
  for (const part of line.split(',')) {
    const match = /^(\d+)([SC])$/.exec(part.trim());
    if (!match) continue;
    if (match[2] === 'S') limits.storageLimit = Number(match[1]);
    else limits.messageLimit = Number(match[1]);
  }
  return limits;
}

export class MaildirQuota {
  /**
   * @param root the Maildir root (where maildirsize is)
   * @param trashDir directory name of the trash folder (".Trash"), not counted
   */
  constructor(
    private readonly root: string,
    private readonly trashDir: string,
  ) {}

  /** The folder directory counts against the quota (everything but Trash). */
  counts(folderDir: string): boolean {
    return path.basename(folderDir) !== this.trashDir || path.dirname(folderDir) !== this.root;
  }

  /** Current limits and usage, or null when no quota is set. */
  async read(): Promise<Quota | null> {
    const file = path.join(this.root, QUOTA_FILE);
    let text: string;
    let mtimeMs: number;
    // Synchronous, as add() below: a small file in the page cache, read at every APPEND;
    // through the thread pool its four calls cost more in hand-overs than in work.
    try {
      const fd = openSync(file, 'r');
      try {
        mtimeMs = fstatSync(fd).mtimeMs;
        text = readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    }
    const lines = text.split('\n');
    const limits = parseQuotaDefinition(lines[0] ?? '');
    let storageUsed = 0;
    let messagesUsed = 0;
    for (const line of lines.slice(1)) {
      const match = /^\s*(-?\d+)\s+(-?\d+)\s*$/.exec(line);
      if (!match) continue;
      storageUsed += Number(match[1]);
      messagesUsed += Number(match[2]);
    }
    const quota: Quota = { ...limits, storageUsed, messagesUsed };
    const stale = Date.now() - mtimeMs > STALE_OVER_QUOTA_MS && isOver(quota, 0, 0);
    if (text.length > MAX_FILE_SIZE || stale || storageUsed < 0 || messagesUsed < 0) return this.rebuild(lines[0] ?? '');
    return quota;
  }

  /** Throws NO [OVERQUOTA] when adding this much would pass a limit. */
  async check(folderDir: string, bytes: number, count: number): Promise<void> {
    if (!this.counts(folderDir)) return;
    const quota = await this.read();
    if (quota && isOver(quota, bytes, count)) throw new MailStoreError('Mailbox is over quota', 'OVERQUOTA');
  }

  /** Records a change of usage (no-op without a quota). */
  async add(folderDir: string, bytes: number, count: number): Promise<void> {
    if (!this.counts(folderDir) || (bytes === 0 && count === 0)) return;
    // Appending must not create the file: no maildirsize means no quota.
    let fd: number;
    try {
      fd = openSync(path.join(this.root, QUOTA_FILE), fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_NOFOLLOW);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw error;
    }
    try {
      // One write of one line with O_APPEND: lines of concurrent writers do not interleave.
      writeSync(fd, `${String(bytes).padStart(12)} ${String(count).padStart(12)}\n`);
    } finally {
      closeSync(fd);
    }
  }

  /** No quota any more: Maildir++ has none without maildirsize. */
  async remove(): Promise<void> {
    await fs.rm(path.join(this.root, QUOTA_FILE), { force: true });
  }

  /** Recounts every folder but Trash and rewrites maildirsize with one total line. */
  async rebuild(definition: string): Promise<Quota> {
    const folderDirs = [this.root];
    for (const name of await fs.readdir(this.root)) {
      if (name.startsWith('.') && name !== '.' && name !== '..' && name !== this.trashDir) {
        const dir = path.join(this.root, name);
        if (folderDirState(dir) === 'folder') folderDirs.push(dir); // not a symlinked one (folderdir.ts)
      }
    }
    let storageUsed = 0;
    let messagesUsed = 0;
    for (const dir of folderDirs) {
      const usage = await folderUsage(dir);
      storageUsed += usage.bytes;
      messagesUsed += usage.count;
    }
    const text = `${definition}\n${String(storageUsed).padStart(12)} ${String(messagesUsed).padStart(12)}\n`;
    await writeFileAtomic(path.join(this.root, QUOTA_FILE), text, path.join(this.root, 'tmp'));
    return { ...parseQuotaDefinition(definition), storageUsed, messagesUsed };
  }
}

/** Octets and messages in one folder (cur/ and new/), from ",S=" in the names or the files. */
export async function folderUsage(dir: string): Promise<{ bytes: number; count: number }> {
  let bytes = 0;
  let count = 0;
  for (const sub of ['cur', 'new']) {
    for (const name of await listDir(path.join(dir, sub))) {
      let size = fileSizeFromName(name);
      if (size === undefined) {
        try {
          size = (await fs.lstat(path.join(dir, sub, name))).size; // a symlink's target is not ours to count
        } catch {
          continue; // removed meanwhile
        }
      }
      bytes += size;
      count += 1;
    }
  }
  return { bytes, count };
}

function isOver(quota: Quota, bytes: number, count: number): boolean {
  return (
    (quota.storageLimit !== undefined && quota.storageUsed + bytes > quota.storageLimit) ||
    (quota.messageLimit !== undefined && quota.messagesUsed + count > quota.messageLimit)
  );
}
