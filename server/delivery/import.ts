// Imports into an account, resumable and never duplicating: an mbox file (here), a Maildir
// (maildir-import.ts), a whole IMAP account (imap-import.ts). Each message goes through the
// ledger (import-ledger.ts) and the folder writer (import-writer.ts). A source file whose
// messages changed under a number already imported is refused rather than half-merged.

import { promises as fs } from 'node:fs';
import type { MailStore } from '../backend/mailstore.js';
import { ImportLedger, resumeSource, sha256 } from './import-ledger.js';
import { ensureFolder, FolderWriter, type ImportFaults } from './import-writer.js';
import { fromLineDate, mboxFlags, readMbox, type MboxFormat } from './mbox.js';

export { IMPORTS_FILE } from './import-ledger.js';

export interface ImportProgress {
  imported: number;
  skipped: number;
  /** Messages in the source when known (Maildir, IMAP), else null (mbox: see the bytes). */
  messagesTotal: number | null;
  /** Octets of the source read so far, and its size (0 when not known). */
  bytesDone: number;
  bytesTotal: number;
  /** The source folder being read, when there are several. */
  folder: string | null;
  foldersDone: number;
  foldersTotal: number;
  elapsedMs: number;
  /** Estimated from what is still to read; null at the start. */
  remainingMs: number | null;
  /** Messages imported with the UID they had at their source (a Maildir with Courier's or Dovecot's UID file). */
  uidsKept: number;
  /** What the user should know of the result, in plain words (a folder whose UIDs could not be kept). */
  notes: string[];
}

/** What every import takes besides its source. */
export interface ImportCommon {
  dataDir: string;
  store: MailStore;
  account: string;
  onProgress?: (p: ImportProgress) => void;
  /** Stop after this many new messages (tests of resuming). */
  limit?: number;
  /** Asked between messages: true stops the import (what was written stays recorded). */
  cancelled?: () => boolean;
  faults?: ImportFaults;
}

export interface MboxImportOptions extends ImportCommon {
  file: string;
  /** Canonical folder name ("INBOX", "INBOX.Archive"); created when missing. */
  folder: string;
  format?: MboxFormat;
}

export class ImportError extends Error {}

/** The real path of a source, or an ImportError in plain words. */
export async function sourcePath(file: string, what: string): Promise<string> {
  try {
    return await fs.realpath(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ImportError(`there is no ${what} at ${file}`);
    if (code === 'EACCES') throw new ImportError(`the server may not read ${file} (permission denied)`);
    throw err;
  }
}

/** Counting and reporting, at most every 500 ms unless forced. */
export class ProgressMeter {
  readonly progress: ImportProgress = {
    imported: 0, skipped: 0, messagesTotal: null, bytesDone: 0, bytesTotal: 0, folder: null, foldersDone: 0, foldersTotal: 0, elapsedMs: 0, remainingMs: null,
    uidsKept: 0, notes: [],
  };
  private readonly started = Date.now();
  private lastReport = -Infinity;

  constructor(private readonly onProgress?: (p: ImportProgress) => void) {}

  report(force = false): void {
    const p = this.progress;
    p.elapsedMs = Date.now() - this.started;
    if (p.messagesTotal !== null) {
      const seen = p.imported + p.skipped;
      p.remainingMs = p.imported > 0 ? Math.max(0, Math.round((p.elapsedMs * (p.messagesTotal - seen)) / Math.max(1, p.imported))) : null;
    } else {
      p.remainingMs = p.bytesDone > 0 ? Math.round((p.elapsedMs * (p.bytesTotal - p.bytesDone)) / p.bytesDone) : null;
    }
    if (force || p.elapsedMs - this.lastReport >= 500) {
      this.lastReport = p.elapsedMs;
      this.onProgress?.({ ...p, notes: [...p.notes] });
    }
  }
}

/** One walk of importFolders: the ledger, and the count that `limit` and `cancelled` stop. */
export interface FolderWalk {
  readonly ledger: ImportLedger;
  /** Messages handed to the folder writers so far. */
  queued: number;
  /** Cancelled, or `limit` messages queued. */
  stopped(): boolean;
}

/**
 * The walk of the imports of several folders (a Maildir's, an IMAP account's): each folder,
 * made if missing, filled in turn until stopped, with the progress per folder and the ledger
 * closed whatever happens. `meter` has its message total already.
 */
export async function importFolders<F>(
  options: ImportCommon,
  meter: ProgressMeter,
  folders: readonly F[],
  place: (folder: F) => { label: string; target: string; specialUse?: string },
  fill: (folder: F, target: string, walk: FolderWalk) => Promise<void>,
): Promise<ImportProgress> {
  meter.progress.foldersTotal = folders.length;
  meter.report(true);
  const walk: FolderWalk = {
    ledger: new ImportLedger(options.dataDir),
    queued: 0,
    stopped: () => options.cancelled?.() === true || (options.limit !== undefined && walk.queued >= options.limit),
  };
  try {
    for (const folder of folders) {
      if (walk.stopped()) break;
      const { label, target, specialUse } = place(folder);
      meter.progress.folder = label;
      await ensureFolder(options.store, target, specialUse);
      await fill(folder, target, walk);
      meter.progress.foldersDone++;
      meter.report();
    }
  } finally {
    walk.ledger.close();
  }
  meter.progress.folder = null;
  meter.report(true);
  return meter.progress;
}

export async function importMbox(options: MboxImportOptions): Promise<ImportProgress> {
  const real = await sourcePath(options.file, 'mbox file');
  const meter = new ProgressMeter(options.onProgress);
  meter.progress.bytesTotal = (await fs.stat(real)).size;
  meter.progress.foldersTotal = 1;
  const source = JSON.stringify(['mbox', real, options.account.toLowerCase(), options.folder]);
  const store = options.store;
  await ensureFolder(store, options.folder);
  const ledger = new ImportLedger(options.dataDir);
  try {
    const { known, again } = await resumeSource(ledger, store, options.folder, source);
    const writer = new FolderWriter(store, ledger, source, options.folder, (n) => {
      meter.progress.imported += n;
      meter.report();
    }, options.faults);
    let queued = 0;
    for await (const message of readMbox(real, options.format ?? 'mboxrd')) {
      meter.progress.bytesDone = message.end;
      const item = String(message.index);
      const row = known.get(item);
      if (row && row.hash !== sha256(message.raw)) {
        throw new ImportError(`message ${message.index + 1} of ${real} is not the one imported before: the file changed; import it into another folder or start over`);
      }
      if (row && !again.has(item)) {
        meter.progress.skipped++;
        meter.report();
        continue;
      }
      if ((options.limit !== undefined && queued >= options.limit) || options.cancelled?.()) break;
      const internalDate = fromLineDate(message.fromLine);
      await writer.add({ item, raw: message.raw, flags: mboxFlags(message.raw), ...(internalDate !== undefined ? { internalDate } : {}) });
      queued++;
    }
    await writer.flush();
    meter.progress.foldersDone = 1;
  } finally {
    ledger.close();
  }
  meter.report(true);
  return meter.progress;
}
