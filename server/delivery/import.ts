// Importing an mbox file into a folder of an account, resumable and never duplicating.
//
// Every message's import is recorded in a ledger (<data>/imports.sqlite): by source (the
// file's real path, account, folder) and message number, with the SHA-256 of the message.
// Before a message is appended its row says "pending" with the folder's UIDNEXT; after, "done"
// with its UID. A run after a stop skips what is done; a pending message (the stop came between
// the append and the ledger) is looked for among the folder's messages from that UIDNEXT on,
// so that it is neither lost nor stored twice. A source file whose messages changed under a
// number already imported is refused rather than half-merged.

import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MailStoreError, type MailStore } from '../backend/mailstore.js';
import { fromLineDate, mboxFlags, readMbox, type MboxFormat } from './mbox.js';

export const IMPORTS_FILE = 'imports.sqlite';

export interface ImportProgress {
  imported: number;
  skipped: number;
  /** Octets of the source read so far, and its size. */
  bytesDone: number;
  bytesTotal: number;
  elapsedMs: number;
  /** Estimated from the bytes still to read; null at the start. */
  remainingMs: number | null;
}

export interface MboxImportOptions {
  dataDir: string;
  store: MailStore;
  account: string;
  file: string;
  /** Canonical folder name ("INBOX", "INBOX.Archive"); created when missing. */
  folder: string;
  format?: MboxFormat;
  onProgress?: (p: ImportProgress) => void;
  /** Stop after this many new messages (tests of resuming). */
  limit?: number;
}

export class ImportError extends Error {}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function openLedger(dataDir: string): Database.Database {
  const db = new Database(path.join(dataDir, IMPORTS_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS imported (
    source TEXT NOT NULL,
    number INTEGER NOT NULL,
    hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    uid_next INTEGER NOT NULL,
    uid INTEGER,
    PRIMARY KEY (source, number)
  ) STRICT`);
  return db;
}

export async function importMbox(options: MboxImportOptions): Promise<ImportProgress> {
  const real = await fs.realpath(options.file);
  const total = (await fs.stat(real)).size;
  const source = JSON.stringify(['mbox', real, options.account.toLowerCase(), options.folder]);
  const store = options.store;
  try {
    await store.createFolder(options.folder);
  } catch (err) {
    if (!(err instanceof MailStoreError && err.code === 'ALREADYEXISTS')) throw err;
  }
  const db = openLedger(options.dataDir);
  const row = db.prepare<[string, number], { hash: string; state: string; uid_next: number; uid: number | null }>('SELECT hash, state, uid_next, uid FROM imported WHERE source = ? AND number = ?');
  const pending = db.prepare<[string, number, string, number]>(`INSERT OR REPLACE INTO imported (source, number, hash, state, uid_next) VALUES (?, ?, ?, 'pending', ?)`);
  const done = db.prepare<[number, string, number]>(`UPDATE imported SET state = 'done', uid = ? WHERE source = ? AND number = ?`);
  const started = Date.now();
  const progress: ImportProgress = { imported: 0, skipped: 0, bytesDone: 0, bytesTotal: total, elapsedMs: 0, remainingMs: null };
  let lastReport = 0;
  const report = (force = false) => {
    progress.elapsedMs = Date.now() - started;
    progress.remainingMs = progress.bytesDone > 0 ? Math.round((progress.elapsedMs * (total - progress.bytesDone)) / progress.bytesDone) : null;
    if (force || progress.elapsedMs - lastReport >= 500) {
      lastReport = progress.elapsedMs;
      options.onProgress?.({ ...progress });
    }
  };
  try {
    for await (const message of readMbox(real, options.format ?? 'mboxrd')) {
      progress.bytesDone = message.end;
      const hash = sha256(message.raw);
      const known = row.get(source, message.index);
      if (known && known.hash !== hash) {
        throw new ImportError(`message ${message.index + 1} of ${real} is not the one imported before: the file changed; import it into another folder or start over`);
      }
      if (known?.state === 'done' || (known?.state === 'pending' && (await findStored(store, options.folder, known.uid_next, hash, (uid) => done.run(uid, source, message.index))))) {
        progress.skipped++;
        report();
        continue;
      }
      if (options.limit !== undefined && progress.imported >= options.limit) break;
      const status = await store.folderStatus(options.folder, { size: false });
      pending.run(source, message.index, hash, status.uidNext);
      const internalDate = fromLineDate(message.fromLine);
      const placed = await store.append(options.folder, message.raw, { flags: mboxFlags(message.raw), ...(internalDate !== undefined ? { internalDate } : {}) });
      done.run(placed.uid, source, message.index);
      progress.imported++;
      report();
    }
  } finally {
    db.close();
  }
  report(true);
  return progress;
}

/** A pending message: is it in the folder already (UID from `uidNext` on, same bytes)? Records it when so. */
async function findStored(store: MailStore, folder: string, uidNext: number, hash: string, record: (uid: number) => void): Promise<boolean> {
  const handle = await store.openFolder(folder, { readOnly: true });
  try {
    await handle.refresh();
    for (const m of handle.snapshot().messages) {
      if (m.uid < uidNext) continue;
      if (sha256(await handle.readMessage(m.uid)) === hash) {
        record(m.uid);
        return true;
      }
    }
    return false;
  } finally {
    handle.release();
  }
}
