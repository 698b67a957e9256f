// Our full-text index file as the benchmarks look at it from outside the server.

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** The index's file in a folder (README: imapd-ts.fts). */
export const FTS_FILE = 'imapd-ts.fts';

/** Messages our full-text index has read (0 while it has no file). */
export function indexedCount(maildir: string): number {
  try {
    const db = new Database(path.join(maildir, FTS_FILE), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) FROM docs').pluck().get() as number) ?? 0;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/** The index's size on disk, with its write-ahead log. */
export function indexBytes(maildir: string): number {
  let bytes = 0;
  for (const suffix of ['', '-wal']) bytes += fs.statSync(path.join(maildir, FTS_FILE + suffix), { throwIfNoEntry: false })?.size ?? 0;
  return bytes;
}
