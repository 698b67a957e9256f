// The mail sources and what was fetched from them, in <data>/fetch.sqlite.
//
// The ledger has a row per message fetched: for IMAP the provider folder, its UIDVALIDITY and
// the UID; for POP3 the UIDL. A message goes "pending" (with the SHA-256 of its bytes and the
// local folder's UIDNEXT) before it is delivered and "done" (with its local UID) after, and
// only then may it be removed at the provider. A run after a crash between delivering and
// recording finds the pending row and looks for those bytes in the local folder from that
// UIDNEXT on: found, the row is completed; not found, the message is fetched again. So
// nothing is lost and nothing stored twice.

import Database from 'better-sqlite3';
import path from 'node:path';
import type { MailSource, MailSourceStatus, SourceSettings } from './types.js';

export const FETCH_FILE = 'fetch.sqlite';

interface SourceRow {
  id: number;
  account: string;
  settings: string;
  created_at: number;
  last_fetch_at: number | null;
  last_success_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
  fetched_total: number;
  failures: number;
}

export interface LedgerEntry {
  state: 'pending' | 'done';
  hash: string;
  localFolder: string;
  localUidNext: number;
  localUid: number | null;
  fetchedAt: number;
}

/** A message at the provider: IMAP folder + UIDVALIDITY + UID, or POP3 UIDL (folder '', validity '', uid 0). */
export interface RemoteKey {
  folder: string;
  validity: string;
  uid: number;
  uidl: string;
}

export class SourceStore {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    this.db = new Database(path.join(dataDir, FETCH_FILE));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS sources (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        settings TEXT NOT NULL,
        password_sealed TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_fetch_at INTEGER,
        last_success_at INTEGER,
        last_error TEXT,
        last_error_at INTEGER,
        fetched_total INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE TABLE IF NOT EXISTS folder_state (
        source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        folder TEXT NOT NULL,
        validity TEXT NOT NULL,
        PRIMARY KEY (source_id, folder)
      ) STRICT;
      CREATE TABLE IF NOT EXISTS fetched (
        source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        folder TEXT NOT NULL,
        validity TEXT NOT NULL,
        uid INTEGER NOT NULL,
        uidl TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
        hash TEXT NOT NULL,
        local_folder TEXT NOT NULL,
        local_uid_next INTEGER NOT NULL,
        local_uid INTEGER,
        fetched_at INTEGER NOT NULL,
        removed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (source_id, folder, validity, uid, uidl)
      ) STRICT;
      CREATE INDEX IF NOT EXISTS fetched_hash ON fetched (source_id, hash);
    `);
    this.db.pragma('foreign_keys = ON');
  }

  close(): void {
    this.db.close();
  }

  list(account?: string): MailSource[] {
    const rows = account === undefined
      ? this.db.prepare<[], SourceRow>('SELECT * FROM sources ORDER BY id').all()
      : this.db.prepare<[string], SourceRow>('SELECT * FROM sources WHERE account = ? COLLATE NOCASE ORDER BY id').all(account);
    return rows.map(toSource);
  }

  get(id: number): MailSource | null {
    const row = this.db.prepare<[number], SourceRow>('SELECT * FROM sources WHERE id = ?').get(id);
    return row ? toSource(row) : null;
  }

  secret(id: number): string | null {
    return this.db.prepare<[number], { secret: string }>('SELECT password_sealed AS secret FROM sources WHERE id = ?').get(id)?.secret ?? null;
  }

  add(account: string, settings: SourceSettings, secret: string, now = Date.now()): MailSource {
    const info = this.db.prepare('INSERT INTO sources (account, settings, password_sealed, created_at) VALUES (?, ?, ?, ?)').run(account, JSON.stringify(settings), secret, now);
    return this.get(Number(info.lastInsertRowid))!;
  }

  /** New settings; a null secret keeps the stored one. A changed host, user or kind forgets what was fetched. */
  update(id: number, settings: SourceSettings, secret: string | null): MailSource | null {
    const before = this.get(id);
    if (!before) return null;
    this.db.transaction(() => {
      this.db.prepare('UPDATE sources SET settings = ?, password_sealed = COALESCE(?, password_sealed), failures = 0, last_error = NULL WHERE id = ?').run(JSON.stringify(settings), secret, id);
      if (before.kind !== settings.kind || before.host.toLowerCase() !== settings.host.toLowerCase() || before.username !== settings.username) {
        this.db.prepare('DELETE FROM fetched WHERE source_id = ?').run(id);
        this.db.prepare('DELETE FROM folder_state WHERE source_id = ?').run(id);
      }
    })();
    return this.get(id);
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM sources WHERE id = ?').run(id).changes > 0;
  }

  removeAccount(account: string): void {
    this.db.prepare('DELETE FROM sources WHERE account = ? COLLATE NOCASE').run(account);
  }

  recordAttempt(id: number, at: number): void {
    this.db.prepare('UPDATE sources SET last_fetch_at = ? WHERE id = ?').run(at, id);
  }

  recordSuccess(id: number, at: number): void {
    this.db.prepare('UPDATE sources SET last_success_at = ?, last_error = NULL, failures = 0 WHERE id = ?').run(at, id);
  }

  /** Returns the failures in a row, this one included. */
  recordFailure(id: number, message: string, at: number): number {
    this.db.prepare('UPDATE sources SET last_error = ?, last_error_at = ?, failures = failures + 1 WHERE id = ?').run(message.slice(0, 1000), at, id);
    return this.db.prepare<[number], { failures: number }>('SELECT failures FROM sources WHERE id = ?').get(id)?.failures ?? 1;
  }

  /** The UIDVALIDITY last seen of a provider folder, or null. */
  validity(id: number, folder: string): string | null {
    return this.db.prepare<[number, string], { validity: string }>('SELECT validity FROM folder_state WHERE source_id = ? AND folder = ?').get(id, folder)?.validity ?? null;
  }

  setValidity(id: number, folder: string, validity: string): void {
    this.db.prepare('INSERT INTO folder_state (source_id, folder, validity) VALUES (?, ?, ?) ON CONFLICT (source_id, folder) DO UPDATE SET validity = excluded.validity').run(id, folder, validity);
  }

  /** The highest UID fetched (done or pending) of a folder under a UIDVALIDITY. */
  lastUid(id: number, folder: string, validity: string): number {
    return this.db.prepare<[number, string, string], { m: number | null }>("SELECT MAX(uid) AS m FROM fetched WHERE source_id = ? AND folder = ? AND validity = ? AND state = 'done'").get(id, folder, validity)?.m ?? 0;
  }

  entry(id: number, key: RemoteKey): LedgerEntry | null {
    const row = this.db.prepare<[number, string, string, number, string], { state: 'pending' | 'done'; hash: string; local_folder: string; local_uid_next: number; local_uid: number | null; fetched_at: number }>(
      'SELECT state, hash, local_folder, local_uid_next, local_uid, fetched_at FROM fetched WHERE source_id = ? AND folder = ? AND validity = ? AND uid = ? AND uidl = ?',
    ).get(id, key.folder, key.validity, key.uid, key.uidl);
    return row ? { state: row.state, hash: row.hash, localFolder: row.local_folder, localUidNext: row.local_uid_next, localUid: row.local_uid, fetchedAt: row.fetched_at } : null;
  }

  /** The ledger's entries of an IMAP folder under a UIDVALIDITY from UID `from` on, by UID. */
  entriesFrom(id: number, folder: string, validity: string, from: number): Map<number, LedgerEntry> {
    const rows = this.db.prepare<[number, string, string, number], { uid: number; state: 'pending' | 'done'; hash: string; local_folder: string; local_uid_next: number; local_uid: number | null; fetched_at: number }>(
      "SELECT uid, state, hash, local_folder, local_uid_next, local_uid, fetched_at FROM fetched WHERE source_id = ? AND folder = ? AND validity = ? AND uid >= ? AND uidl = ''",
    ).all(id, folder, validity, from);
    return new Map(rows.map((r) => [r.uid, { state: r.state, hash: r.hash, localFolder: r.local_folder, localUidNext: r.local_uid_next, localUid: r.local_uid, fetchedAt: r.fetched_at }]));
  }

  /** The POP3 UIDLs of a source with their ledger state. */
  uidls(id: number): Map<string, LedgerEntry> {
    const rows = this.db.prepare<[number], { uidl: string; state: 'pending' | 'done'; hash: string; local_folder: string; local_uid_next: number; local_uid: number | null; fetched_at: number }>(
      "SELECT uidl, state, hash, local_folder, local_uid_next, local_uid, fetched_at FROM fetched WHERE source_id = ? AND folder = ''",
    ).all(id);
    return new Map(rows.map((r) => [r.uidl, { state: r.state, hash: r.hash, localFolder: r.local_folder, localUidNext: r.local_uid_next, localUid: r.local_uid, fetchedAt: r.fetched_at }]));
  }

  /** Was a message with these bytes fetched from this source before (a provider that renumbered its UIDs)? */
  knownHash(id: number, hash: string): boolean {
    return this.db.prepare<[number, string], { n: number }>("SELECT 1 AS n FROM fetched WHERE source_id = ? AND hash = ? AND state = 'done' LIMIT 1").get(id, hash) !== undefined;
  }

  pending(id: number, key: RemoteKey, hash: string, localFolder: string, localUidNext: number, at: number): void {
    this.db.prepare(`INSERT OR REPLACE INTO fetched (source_id, folder, validity, uid, uidl, state, hash, local_folder, local_uid_next, fetched_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`)
      .run(id, key.folder, key.validity, key.uid, key.uidl, hash, localFolder, localUidNext, at);
  }

  /** The message is in the account: done, and counted when it was newly delivered. */
  done(id: number, key: RemoteKey, localUid: number | null, hash: string, localFolder: string, at: number, counted: boolean): void {
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO fetched (source_id, folder, validity, uid, uidl, state, hash, local_folder, local_uid_next, local_uid, fetched_at) VALUES (?, ?, ?, ?, ?, 'done', ?, ?, 0, ?, ?)
        ON CONFLICT DO UPDATE SET state = 'done', local_uid = excluded.local_uid`).run(id, key.folder, key.validity, key.uid, key.uidl, hash, localFolder, localUid, at);
      if (counted) this.db.prepare('UPDATE sources SET fetched_total = fetched_total + 1 WHERE id = ?').run(id);
    })();
  }

  /** pending() for several messages as one transaction (one sync of the database for a batch). */
  pendingMany(id: number, items: readonly { key: RemoteKey; hash: string }[], localFolder: string, localUidNext: number, at: number): void {
    this.db.transaction(() => {
      for (const { key, hash } of items) this.pending(id, key, hash, localFolder, localUidNext, at);
    })();
  }

  /** done() for several messages delivered together, as one transaction. */
  doneMany(id: number, items: readonly { key: RemoteKey; hash: string; localUid: number | null; counted: boolean }[], localFolder: string, at: number): void {
    this.db.transaction(() => {
      for (const i of items) this.done(id, i.key, i.localUid, i.hash, localFolder, at, i.counted);
    })();
  }

  /** IMAP UIDs of a folder fetched at or before `before` (to be removed at the provider). */
  doneUids(id: number, folder: string, validity: string, before: number): number[] {
    return this.db.prepare<[number, string, string, number], { uid: number }>("SELECT uid FROM fetched WHERE source_id = ? AND folder = ? AND validity = ? AND state = 'done' AND removed = 0 AND fetched_at <= ? ORDER BY uid")
      .all(id, folder, validity, before).map((r) => r.uid);
  }

  markRemoved(id: number, folder: string, validity: string, uids: readonly number[]): void {
    const mark = this.db.prepare('UPDATE fetched SET removed = 1 WHERE source_id = ? AND folder = ? AND validity = ? AND uid = ?');
    this.db.transaction(() => {
      for (const uid of uids) mark.run(id, folder, validity, uid);
    })();
  }

  /** Forget POP3 UIDLs no longer at the provider (the ledger keeps only what is there). */
  forgetUidls(id: number, keep: ReadonlySet<string>): void {
    const del = this.db.prepare("DELETE FROM fetched WHERE source_id = ? AND folder = '' AND uidl = ? AND state = 'done'");
    this.db.transaction(() => {
      for (const uidl of this.uidls(id).keys()) if (!keep.has(uidl)) del.run(id, uidl);
    })();
  }
}

function toSource(row: SourceRow): MailSource {
  const settings = JSON.parse(row.settings) as SourceSettings;
  const status: MailSourceStatus = {
    state: settings.enabled ? 'waiting' : 'disabled',
    lastFetchAt: row.last_fetch_at,
    lastSuccessAt: row.last_success_at,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at,
    fetchedTotal: row.fetched_total,
    failures: row.failures,
    nextAttemptAt: null,
    progress: null,
  };
  return { ...settings, id: row.id, account: row.account, createdAt: row.created_at, status };
}
