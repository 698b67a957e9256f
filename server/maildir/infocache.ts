// RFC822.SIZE and INTERNALDATE of a folder's messages, kept in a small file of ours
// ("imapd-ts.sizes" beside courierimapuiddb) so that a restart does not have to read
// every message again. Courier ignores the file.
//
// The size with CRLF line ends needs the whole file unless the name carries ",W=";
// INTERNALDATE is the file's mtime, as in Courier. Message files never change
// content, so an entry stays valid for as long as the base exists.

import { readFileSync } from 'node:fs';
import path from 'node:path';
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
  /** Learnt entries not written yet. */
  dirty = false;

  constructor(private readonly folderDir: string) {}

  /** Reads the file, once (only when a size or date is first asked for: SELECT does not need it). */
  load(): void {
    if (this.loaded) return;
    this.loaded = true;
    let text: string;
    try {
      text = readFileSync(path.join(this.folderDir, INFO_CACHE_FILE), 'latin1');
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'EACCES') return;
      throw error;
    }
    if (!text.startsWith(`${HEADER}\n`)) return;
    // "<size> <internal date> <file size> <base>" per line; names are UTF-8 on disk.
    const bytesAreAscii = !/[\x80-\xff]/.test(text);
    if (!bytesAreAscii) text = Buffer.from(text, 'latin1').toString('utf8');
    let pos = HEADER.length + 1;
    while (pos < text.length) {
      let end = text.indexOf('\n', pos);
      if (end < 0) end = text.length;
      const a = text.indexOf(' ', pos);
      const b = a < 0 ? -1 : text.indexOf(' ', a + 1);
      const c = b < 0 ? -1 : text.indexOf(' ', b + 1);
      if (c > 0 && c < end - 1) {
        const size = Number(text.slice(pos, a));
        const internalDate = Number(text.slice(a + 1, b));
        const fileSize = Number(text.slice(b + 1, c));
        if (Number.isSafeInteger(size) && Number.isSafeInteger(internalDate) && Number.isSafeInteger(fileSize) && size >= 0 && fileSize >= 0) {
          this.entries.set(text.slice(c + 1, end), { size, internalDate, fileSize });
        }
      }
      pos = end + 1;
    }
  }

  get(base: string): StoredInfo | undefined {
    this.load();
    return this.entries.get(base);
  }

  remember(base: string, info: StoredInfo): void {
    this.load();
    this.entries.set(base, info);
    this.dirty = true;
  }

  /** Writes the cache when it gained entries, keeping only the messages still there. */
  async save(liveBases: ReadonlySet<string>): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const lines: string[] = [HEADER];
    for (const [base, info] of this.entries) {
      if (!liveBases.has(base)) {
        this.entries.delete(base);
        continue;
      }
      lines.push(`${info.size} ${info.internalDate} ${info.fileSize} ${base}`);
    }
    await writeFileAtomic(path.join(this.folderDir, INFO_CACHE_FILE), `${lines.join('\n')}\n`, path.join(this.folderDir, 'tmp'));
  }
}
