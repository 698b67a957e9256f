// RFC822.SIZE and INTERNALDATE of a folder's messages, kept in a small file of ours
// ("imapd-ts.sizes" beside courierimapuiddb) so that a restart does not have to read
// every message again. Courier ignores the file.
//
// The size with CRLF line ends needs the whole file unless the name carries ",W=";
// INTERNALDATE is the file's mtime, as in Courier. Message files never change
// content, so an entry stays valid for as long as the base exists.

import { promises as fs, readFileSync } from 'node:fs';
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
  /** Learnt since the file was last written (appended to it by the next save). */
  private unsaved: [string, StoredInfo][] = [];
  private loaded = false;
  /** Lines in the file for messages that are gone, or written twice. */
  private deadLines = 0;
  /** The file cannot be appended to (another format, a line cut short). */
  private rewriteNeeded = false;
  /** Learnt entries not written yet. */
  dirty = false;

  constructor(private readonly folderDir: string) {}

  private get file(): string {
    return path.join(this.folderDir, INFO_CACHE_FILE);
  }

  /** Reads the file, once (only when a size or date is first asked for: SELECT does not need it). */
  load(): void {
    if (this.loaded) return;
    this.loaded = true;
    let text: string;
    try {
      text = readFileSync(this.file, 'latin1');
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'EACCES') return;
      throw error;
    }
    if (!text.startsWith(`${HEADER}\n`)) {
      this.rewriteNeeded = true; // another format: rewritten by the next save
      return;
    }
    // "<size> <internal date> <file size> <base>" per line; names are UTF-8 on disk. Lines
    // are appended as messages are learnt: a later line for the same base wins.
    const bytesAreAscii = !/[\x80-\xff]/.test(text);
    if (!bytesAreAscii) text = Buffer.from(text, 'latin1').toString('utf8');
    let pos = HEADER.length + 1;
    let lines = 0;
    while (pos < text.length) {
      let end = text.indexOf('\n', pos);
      if (end < 0) break; // a line cut short by a crash
      const a = text.indexOf(' ', pos);
      const b = a < 0 ? -1 : text.indexOf(' ', a + 1);
      const c = b < 0 ? -1 : text.indexOf(' ', b + 1);
      if (c > 0 && c < end - 1) {
        const size = Number(text.slice(pos, a));
        const internalDate = Number(text.slice(a + 1, b));
        const fileSize = Number(text.slice(b + 1, c));
        if (Number.isSafeInteger(size) && Number.isSafeInteger(internalDate) && Number.isSafeInteger(fileSize) && size >= 0 && fileSize >= 0) {
          this.entries.set(text.slice(c + 1, end), { size, internalDate, fileSize });
          lines += 1;
        }
      }
      pos = end + 1;
    }
    if (pos < text.length) this.rewriteNeeded = true;
    this.deadLines += lines - this.entries.size;
  }

  get(base: string): StoredInfo | undefined {
    this.load();
    return this.entries.get(base);
  }

  remember(base: string, info: StoredInfo): void {
    this.load();
    if (this.entries.has(base)) this.deadLines += 1;
    this.entries.set(base, info);
    this.unsaved.push([base, info]);
    this.dirty = true;
  }

  /**
   * Writes what was learnt: appended to the file, or the whole file rewritten (keeping the
   * messages of `liveBases` only) when asked to or when it holds many dead lines.
   */
  async save(liveBases: ReadonlySet<string> | undefined): Promise<void> {
    if (liveBases) {
      for (const base of this.entries.keys()) {
        if (!liveBases.has(base)) {
          this.entries.delete(base);
          this.deadLines += 1;
        }
      }
    }
    if (!this.dirty && this.deadLines === 0 && !this.rewriteNeeded) return;
    const unsaved = this.unsaved;
    this.unsaved = [];
    this.dirty = false;
    if (!this.rewriteNeeded && (this.deadLines === 0 || (liveBases === undefined && this.deadLines < this.entries.size))) {
      if (unsaved.length === 0) return;
      const lines = unsaved.map(([base, info]) => `${info.size} ${info.internalDate} ${info.fileSize} ${base}\n`).join('');
      try {
        const exists = await fs.stat(this.file).then(() => true, () => false);
        await fs.appendFile(this.file, exists ? lines : `${HEADER}\n${lines}`);
        return;
      } catch {
        // fall through to a rewrite
      }
    }
    this.deadLines = 0;
    this.rewriteNeeded = false;
    const lines: string[] = [HEADER];
    for (const [base, info] of this.entries) lines.push(`${info.size} ${info.internalDate} ${info.fileSize} ${base}`);
    await writeFileAtomic(this.file, `${lines.join('\n')}\n`, path.join(this.folderDir, 'tmp'));
  }
}
