// Parsed message structure (MessageMeta) per message base: in memory (LRU), and, when
// the parser names its version, also on disk in "imapd-ts.meta" (JSON lines, appended),
// so that SEARCH and SORT after a restart do not parse every message again. A file
// written by another parser version is ignored and replaced.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { MessageMeta } from '../mime/types.js';
import { errorCode, writeFileAtomic } from './fsutil.js';

export const META_CACHE_FILE = 'imapd-ts.meta';
const HEADER_PREFIX = 'imapd-ts meta 1 ';

export interface MetaCacheOptions {
  maxEntries: number;
  /** Version of the parser; without one nothing is written to disk. */
  parserVersion?: string;
}

export class MetaCache {
  private readonly memory = new Map<string, MessageMeta>();
  private loading: Promise<void> | undefined;
  private linesOnDisk = 0;
  private headerWritten = false;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly folderDir: string,
    private readonly options: MetaCacheOptions,
  ) {}

  private get file(): string {
    return path.join(this.folderDir, META_CACHE_FILE);
  }

  private get header(): string {
    return `${HEADER_PREFIX}${this.options.parserVersion}`;
  }

  async get(base: string): Promise<MessageMeta | undefined> {
    await this.load();
    const meta = this.memory.get(base);
    if (meta) {
      // Refresh its place in the LRU order.
      this.memory.delete(base);
      this.memory.set(base, meta);
    }
    return meta;
  }

  async set(base: string, meta: MessageMeta): Promise<void> {
    await this.load();
    this.put(base, meta);
    if (this.options.parserVersion === undefined) return;
    const line = `${JSON.stringify([base, meta])}\n`;
    this.writes = this.writes.then(async () => {
      if (!this.headerWritten) {
        await writeFileAtomic(this.file, `${this.header}\n`, path.join(this.folderDir, 'tmp'));
        this.headerWritten = true;
        this.linesOnDisk = 0;
      }
      await fs.appendFile(this.file, line);
      this.linesOnDisk += 1;
    }).catch(() => undefined); // a cache that cannot be written is only slower
    await this.writes;
  }

  /** Forgets messages that are gone; rewrites the file when it is mostly garbage. */
  async prune(liveBases: ReadonlySet<string>): Promise<void> {
    for (const base of this.memory.keys()) if (!liveBases.has(base)) this.memory.delete(base);
    if (this.options.parserVersion === undefined || this.linesOnDisk <= 2 * this.memory.size + 1000) return;
    let text = `${this.header}\n`;
    for (const entry of this.memory) text += `${JSON.stringify(entry)}\n`;
    this.writes = this.writes.then(async () => {
      await writeFileAtomic(this.file, text, path.join(this.folderDir, 'tmp'));
      this.headerWritten = true;
      this.linesOnDisk = this.memory.size;
    }).catch(() => undefined);
    await this.writes;
  }

  private put(base: string, meta: MessageMeta): void {
    this.memory.delete(base);
    this.memory.set(base, meta);
    while (this.memory.size > this.options.maxEntries) {
      const oldest = this.memory.keys().next().value as string;
      this.memory.delete(oldest);
    }
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      if (this.options.parserVersion === undefined) return;
      let text: string;
      try {
        text = await fs.readFile(this.file, 'utf8');
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return;
        throw error;
      }
      const lines = text.split('\n');
      if (lines[0] !== this.header) return; // another parser version: start afresh
      this.headerWritten = true;
      for (let i = 1; i < lines.length; i++) {
        if (!lines[i]) continue;
        this.linesOnDisk += 1;
        try {
          const [base, meta] = JSON.parse(lines[i]) as [string, MessageMeta];
          if (typeof base === 'string' && meta) this.put(base, meta);
        } catch {
          // A line cut short by a crash or a concurrent writer: skip it.
        }
      }
    })();
    return this.loading;
  }
}
