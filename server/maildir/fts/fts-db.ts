// The full-text index file of one folder: SQLite with FTS5 tables of trigrams and words,
// beside Courier's files in the folder's directory (FTS_FILE). Shared by the server thread,
// which only reads it (fts-index.ts), and the worker that writes it (fts-worker.ts).
//
// What is in it, and why it is never trusted beyond what it says:
//   meta   version, the folder's UIDVALIDITY, and a generation (random, new whenever the
//          index is emptied), so that a reader notices a rebuild;
//   docs   one row per message indexed;
//   coverage  one row: the UIDs of docs as runs (fts-coverage.ts), written in the same
//          transaction as docs, so that a reader (a new imapd process at its first SEARCH)
//          reads what the index covers in one row, not 100,000; a message not covered is
//          scanned by SEARCH;
//   text   contentless FTS5 (content='': the text itself is not stored), detail=none (no
//          positions), one row per message holding the distinct trigrams of its text
//          (fts-tokens.ts): a query is the AND of the string's trigrams, which gives a
//          superset of the messages that contain it; every candidate is confirmed against the
//          message by the scan, except those the words prove;
//   words  the same for the distinct words of its text parts (fts-tokens.ts distinctWords): a
//          message whose words include a needle that is one word contains it, for BODY and
//          TEXT, and is a match without being read.
// The text is folded as SEARCH folds it (server/mime/index-text.ts); the ascii tokenizer adds
// only ASCII lower-casing, which can add candidates but never lose one.

import type BetterSqlite3 from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { addToRuns, decodeRuns, encodeRuns, NO_RUNS, removeFromRuns, runsCount, runsHave, type UidRuns } from './fts-coverage.js';
import { TOKENIZE } from './fts-tokens.js';

export const FTS_FILE = 'imapd-ts.fts';
/** 2: the coverage table; 3: distinct trigrams under the ascii tokenizer (fts-tokens.ts). A file
 * of an older version is made again by the writer (readers leave it alone meanwhile, SEARCH
 * scans); one of any other version counts as corrupt. */
const VERSION = '3';
const OLDER = new Set(['1', '2']);

export type FtsDb = BetterSqlite3.Database;

// better-sqlite3 is loaded when the first index is opened, not when imapd starts (0.6 MiB and
// its load time before the greeting, measured): it is CommonJS, so a synchronous require.
const require = createRequire(import.meta.url);
let sqlite: typeof BetterSqlite3 | undefined;
function openDatabase(path: string, options?: BetterSqlite3.Options): FtsDb {
  sqlite ??= require('better-sqlite3') as typeof BetterSqlite3;
  return new sqlite(path, options);
}

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

/** Opens an existing index for reading; null when there is none, or when it is of an older
 * version (the writer makes it again). Throws for a corrupt file. */
export function openForReading(path: string): FtsDb | null {
  let db: FtsDb;
  try {
    db = openDatabase(path, { fileMustExist: true });
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CANTOPEN') return null;
    throw error;
  }
  try {
    db.pragma('busy_timeout = 200');
    const version = metaValue(db, 'version');
    if (version !== undefined && OLDER.has(version)) {
      db.close();
      return null;
    }
    if (version !== VERSION) throw new Error('not an index');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opens the index for writing, making it (again) when it is missing, corrupt or of another
 * version (an older one too: its texts were tokenized otherwise), and empties it when the
 * folder's UIDVALIDITY changed. */
export function openForWriting(path: string, uidValidity: number): FtsDb {
  let db: FtsDb | undefined;
  try {
    db = openDatabase(path);
    prepare(db);
  } catch (error) {
    db?.close();
    if (!corruptIndex(error)) throw error;
    removeFtsFiles(path);
    db = openDatabase(path);
    prepare(db);
  }
  if (Number(metaValue(db, 'uidvalidity')) !== uidValidity) {
    db.transaction(() => {
      db.prepare("INSERT INTO text(text) VALUES ('delete-all')").run();
      db.prepare("INSERT INTO words(words) VALUES ('delete-all')").run();
      db.prepare('DELETE FROM docs').run();
      writeCoverage(db, NO_RUNS);
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
        CREATE VIRTUAL TABLE IF NOT EXISTS text USING fts5(body, tokenize = '${TOKENIZE.replace(/'/g, "''")}', detail = none, content = '', contentless_delete = 1);
        CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5(word, tokenize = '${TOKENIZE.replace(/'/g, "''")}', detail = none, content = '', contentless_delete = 1);
        CREATE TABLE IF NOT EXISTS coverage (id INTEGER PRIMARY KEY CHECK (id = 1), runs BLOB NOT NULL);
      `);
      writeCoverage(db, NO_RUNS);
      setMeta(db, 'version', VERSION);
      setMeta(db, 'uidvalidity', '0');
      setMeta(db, 'generation', String(newGeneration()));
    }).immediate();
  }
}

/** The UIDs the index covers, in the caller's transaction. */
export function readCoverage(db: FtsDb): UidRuns {
  const stored = db.prepare('SELECT runs FROM coverage WHERE id = 1').pluck().get() as Buffer | undefined;
  if (stored === undefined) throw new Error('not an index');
  return decodeRuns(stored);
}

function writeCoverage(db: FtsDb, runs: UidRuns): void {
  db.prepare('INSERT OR REPLACE INTO coverage (id, runs) VALUES (1, ?)').run(encodeRuns(runs));
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

/** What the index holds of a message (fts-tokens.ts): its distinct trigrams, and the distinct words of its text parts. */
export interface MessageTokens {
  trigrams: string;
  words: string;
}

/**
 * Adds the trigrams of messages (fts-tokens.ts; null: the file was gone) and takes out expunged UIDs, in one
 * transaction; a UID already there (another process's writer was quicker) is left as it is.
 */
export function writeTexts(db: FtsDb, uids: readonly number[], texts: readonly (MessageTokens | null)[], remove: readonly number[]): { indexed: number; missing: number[] } {
  const missing: number[] = [];
  let indexed = 0;
  const addDoc = db.prepare('INSERT INTO docs (uid) VALUES (?)');
  const addText = db.prepare('INSERT INTO text (rowid, body) VALUES (?, ?)');
  const addWords = db.prepare('INSERT INTO words (rowid, word) VALUES (?, ?)');
  const dropDoc = db.prepare('DELETE FROM docs WHERE uid = ?');
  const dropText = db.prepare('DELETE FROM text WHERE rowid = ?');
  const dropWords = db.prepare('DELETE FROM words WHERE rowid = ?');
  db.transaction(() => {
    let coverage = readCoverage(db);
    const removed: number[] = [];
    for (const uid of remove) {
      if (dropDoc.run(uid).changes > 0) {
        dropText.run(uid);
        dropWords.run(uid);
        removed.push(uid);
      }
    }
    coverage = removeFromRuns(coverage, removed);
    const added: number[] = [];
    const adding = new Set<number>();
    for (let i = 0; i < texts.length; i++) {
      const uid = uids[i];
      const text = texts[i];
      if (text === null) {
        missing.push(uid);
        continue;
      }
      if (runsHave(coverage, uid) || adding.has(uid)) continue; // another process's writer was quicker
      addText.run(uid, text.trigrams);
      addWords.run(uid, text.words);
      addDoc.run(uid);
      added.push(uid);
      adding.add(uid);
      indexed++;
    }
    if (removed.length > 0 || added.length > 0) writeCoverage(db, addToRuns(coverage, added));
  }).immediate();
  return { indexed, missing };
}

/** How many messages a folder's index has read (0 without a usable index). */
export async function indexedMessages(dir: string): Promise<number> {
  try {
    const db = openForReading(ftsPath(dir));
    if (!db) return 0;
    try {
      return runsCount(readCoverage(db));
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
