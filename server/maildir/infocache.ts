// RFC822.SIZE and INTERNALDATE of a folder's messages, kept in a small file of ours
// ("imapd-ts.sizes" beside courierimapuiddb) so that a restart does not have to read
// every message again. Courier ignores the file.
//
// The size with CRLF line ends needs the whole file unless the name carries ",W=";
// INTERNALDATE is the file's mtime, as in Courier. Message files never change
// content, so an entry stays valid for as long as the base exists.

import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { crlfSizeFromName } from './filenames.js';
import { errorCode, writeFileAtomic } from './fsutil.js';

export const INFO_CACHE_FILE = 'imapd-ts.sizes';
const HEADER = 'imapd-ts sizes 1';

export interface StoredInfo {
  /** RFC822.SIZE. */
  size: number;
  /** INTERNALDATE, ms since epoch. */
  internalDate: number;
  /** Octets on disk (Maildir++ quota). */
  fileSize: number;
}

export class InfoCache {
  private readonly entries = new Map<string, StoredInfo>();
  private loaded = false;
  private dirty = false;

  constructor(private readonly folderDir: string) {}

  async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    let text: string;
    try {
      text = await fs.readFile(path.join(this.folderDir, INFO_CACHE_FILE), 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw error;
    }
    const lines = text.split('\n');
    if (lines[0] !== HEADER) return;
    for (let i = 1; i < lines.length; i++) {
      const match = /^(\d+) (\d+) (\d+) (.+)$/.exec(lines[i]);
      if (match) this.entries.set(match[4], { size: Number(match[1]), internalDate: Number(match[2]), fileSize: Number(match[3]) });
    }
  }

  get(base: string): StoredInfo | undefined {
    return this.entries.get(base);
  }

  /** The info of a file in the folder, measured (and remembered) when not known yet. */
  async measure(base: string, filePath: string): Promise<StoredInfo> {
    const known = this.entries.get(base);
    if (known) return known;
    const stat = await fs.stat(filePath);
    const size = crlfSizeFromName(base) ?? (await crlfSizeOfFile(filePath));
    const info: StoredInfo = { size, internalDate: Math.floor(stat.mtimeMs), fileSize: stat.size };
    this.remember(base, info);
    return info;
  }

  remember(base: string, info: StoredInfo): void {
    this.entries.set(base, info);
    this.dirty = true;
  }

  /** Writes the cache when it gained entries, keeping only the messages still there. */
  async save(liveBases: ReadonlySet<string>): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    let text = `${HEADER}\n`;
    for (const [base, info] of this.entries) {
      if (!liveBases.has(base)) {
        this.entries.delete(base);
        continue;
      }
      text += `${info.size} ${info.internalDate} ${info.fileSize} ${base}\n`;
    }
    await writeFileAtomic(path.join(this.folderDir, INFO_CACHE_FILE), text, path.join(this.folderDir, 'tmp'));
  }
}

/** RFC822.SIZE of a file, read in chunks (a message may be large): bare LFs count as CRLF. */
async function crlfSizeOfFile(filePath: string): Promise<number> {
  let size = 0;
  let previous = -1;
  for await (const chunk of createReadStream(filePath, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    let index = chunk.indexOf(10);
    while (index >= 0) {
      const before = index === 0 ? previous : chunk[index - 1];
      if (before !== 13) size += 1;
      index = chunk.indexOf(10, index + 1);
    }
    previous = chunk[chunk.length - 1];
  }
  return size;
}
