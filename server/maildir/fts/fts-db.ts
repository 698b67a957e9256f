// The full-text index file of one folder: SQLite with an FTS5 table under the trigram
// tokenizer, beside Courier's files in the folder's directory (FTS_FILE). Shared by the
// server thread, which only reads it (fts-index.ts), and the worker that writes it
// (fts-worker.ts).
//
// What is in it, and why it is never trusted beyond what it says:
//   meta   version, the folder's UIDVALIDITY, and a generation (random, new whenever the
//          index is emptied), so that a reader notices a rebuild;
//   docs   one row per message indexed (seq counts up, so a reader only reads rows it has not
//          seen); a message not in docs is not covered, and SEARCH scans it;
//   text   contentless FTS5 (content='': the text itself is not stored, 23 % of the mail's
//          size at 10,000 bench messages), detail=none (no positions): a query is the AND of
//          the string's trigrams, which gives a superset of the messages that contain it; every
//          candidate is confirmed against the message by the scan.
// The text is folded as SEARCH folds it (server/mime/index-text.ts), and the tokenizer is
// case-sensitive so that it adds no folding of its own.

import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export const FTS_FILE = 'imapd-ts.fts';
const VERSION = '1';

export type FtsDb = Database.Database;

export function ftsPath(dir: string): string {
  return join(dir, FTS_FILE);
}

/** The index file and SQLite's companions (write-ahead log, shared memory). */
export function removeFtsFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true });
}

/** An error that says the file is not a usable index (then it is removed and made again). */
export function corruptIndex(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB' || (error as Error)?.message === 'not an index';
}

/** Opens an existing index for reading; null when there is none. Throws for a corrupt file. */
export function openForReading(path: string): FtsDb | null {
  let db: FtsDb;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CANTOPEN') return null;
    throw error;
  }
  try {
    db.pragma('busy_timeout = 200');
    if (metaValue(db, 'version') !== VERSION) throw new Error('not an index');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opens the index for writing, making it (again) when it is missing, corrupt or of another
 * version, and empties it when the folder's UIDVALIDITY changed. */
export function openForWriting(path: string, uidValidity: number): FtsDb {
  let db: FtsDb | undefined;
  try {
    db = new Database(path);
    prepare(db);
  } catch (error) {
    db?.close();
    if (!corruptIndex(error)) throw error;
    removeFtsFiles(path);
    db = new Database(path);
    prepare(db);
  }
  if (Number(metaValue(db, 'uidvalidity')) !== uidValidity) {
    db.transaction(() => {
      db.prepare("INSERT INTO text(text) VALUES ('delete-all')").run();
      db.prepare('DELETE FROM docs').run();
      setMeta(db, 'uidvalidity', String(uidValidity));
      setMeta(db, 'generation', String(newGeneration()));
    }).immediate();
  }
  return db;
}

function prepare(db: FtsDb): void {
  db.pragma('busy_timeout = 10000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const version = db.prepare("SELECT name FROM sqlite_master WHERE name = 'meta'").get() ? metaValue(db, 'version') : undefined;
  if (version !== undefined && version !== VERSION) throw new Error('not an index');
  if (version === undefined) {
    db.transaction(() => {
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS docs (seq INTEGER PRIMARY KEY AUTOINCREMENT, uid INTEGER NOT NULL UNIQUE);
        CREATE VIRTUAL TABLE IF NOT EXISTS text USING fts5(body, tokenize = 'trigram case_sensitive 1', detail = none, content = '', contentless_delete = 1);
      `);
      setMeta(db, 'version', VERSION);
      setMeta(db, 'uidvalidity', '0');
      setMeta(db, 'generation', String(newGeneration()));
    }).immediate();
  }
}

export function metaValue(db: FtsDb, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

function setMeta(db: FtsDb, key: string, value: string): void {
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
}

function newGeneration(): number {
  return Math.floor(Math.random() * 2 ** 48);
}

/** How many messages a folder's index has read (0 without a usable index). */
export async function indexedMessages(dir: string): Promise<number> {
  try {
    const db = openForReading(ftsPath(dir));
    if (!db) return 0;
    try {
      return db.prepare('SELECT count(*) FROM docs').pluck().get() as number;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/** Strings shorter than this (in characters) have no trigram: SEARCH scans for them. */
export const MIN_INDEXED_LENGTH = 3;
/** Trigrams asked at most: more narrow the candidates little and cost a doclist each. */
const MAX_TRIGRAMS = 24;

/**
 * The FTS5 query for a folded string: the AND of its distinct trigrams (each quoted), or null
 * when the index cannot answer for it (shorter than three characters, or with a control
 * character: a line end can match across the lines of the indexed text, see index-text.ts).
 */
export function trigramQuery(folded: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(folded)) return null;
  const chars = [...folded];
  if (chars.length < MIN_INDEXED_LENGTH) return null;
  const grams = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) grams.add(chars.slice(i, i + 3).join(''));
  let chosen = [...grams];
  if (chosen.length > MAX_TRIGRAMS) {
    // Spread over the string: any subset still gives a superset of the matches.
    const step = chosen.length / MAX_TRIGRAMS;
    chosen = Array.from({ length: MAX_TRIGRAMS }, (_, i) => chosen[Math.floor(i * step)]);
  }
  return chosen.map((g) => `"${g.replace(/"/g, '""')}"`).join(' AND ');
}
