// The ledger of imports (<data>/imports.sqlite): one row per message imported, by source (what
// it came from and where it went, as a JSON array: the kind, the source's path or server and
// folder, the account, the target folder) and item (the message's key in its source: its
// number in an mbox file, its unique name in a Maildir, its UID under the folder's UIDVALIDITY
// at an IMAP server), with the SHA-256 of its bytes.
//
// Before messages are appended their rows say "pending" with the target folder's UIDNEXT;
// after, "done" with their UIDs. A run after a stop skips what is done; pending messages (the
// stop came between the append and the ledger) are looked for among the folder's messages from
// that UIDNEXT on, by their bytes, so that they are neither lost nor stored twice. The same
// order and the same recovery as the mail sources' ledger (server/fetch/source-store.ts).

import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { MailStoreError, type MailStore } from '../backend/mailstore.js';

export const IMPORTS_FILE = 'imports.sqlite';

export interface LedgerRow {
  hash: string;
  state: 'pending' | 'done';
  uidNext: number;
  uid: number | null;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export class ImportLedger {
  private readonly db: Database.Database;
  private readonly rowStmt;
  private readonly pendingStmt;
  private readonly doneStmt;

  constructor(dataDir: string) {
    this.db = new Database(path.join(dataDir, IMPORTS_FILE));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS import_items (
      source TEXT NOT NULL,
      item TEXT NOT NULL,
      hash TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
      uid_next INTEGER NOT NULL,
      uid INTEGER,
      PRIMARY KEY (source, item)
    ) STRICT`);
    // The first mbox import's table (numbers only): its rows move over once.
    const old = this.db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'imported'").get();
    if (old && old.n > 0) {
      this.db.transaction(() => {
        this.db.exec(`INSERT OR IGNORE INTO import_items (source, item, hash, state, uid_next, uid)
          SELECT source, CAST(number AS TEXT), hash, state, uid_next, uid FROM imported; DROP TABLE imported`);
      })();
    }
    this.rowStmt = this.db.prepare<[string, string], { hash: string; state: 'pending' | 'done'; uid_next: number; uid: number | null }>(
      'SELECT hash, state, uid_next, uid FROM import_items WHERE source = ? AND item = ?',
    );
    this.pendingStmt = this.db.prepare<[string, string, string, number]>(`INSERT OR REPLACE INTO import_items (source, item, hash, state, uid_next) VALUES (?, ?, ?, 'pending', ?)`);
    this.doneStmt = this.db.prepare<[number | null, string, string]>(`UPDATE import_items SET state = 'done', uid = ? WHERE source = ? AND item = ?`);
  }

  close(): void {
    this.db.close();
  }

  row(source: string, item: string): LedgerRow | null {
    const r = this.rowStmt.get(source, item);
    return r ? { hash: r.hash, state: r.state, uidNext: r.uid_next, uid: r.uid } : null;
  }

  /** Every item of a source with its state (a source of thousands is read at once, not row by row). */
  rows(source: string): Map<string, LedgerRow> {
    const rows = this.db.prepare<[string], { item: string; hash: string; state: 'pending' | 'done'; uid_next: number; uid: number | null }>(
      'SELECT item, hash, state, uid_next, uid FROM import_items WHERE source = ?',
    ).all(source);
    return new Map(rows.map((r) => [r.item, { hash: r.hash, state: r.state, uidNext: r.uid_next, uid: r.uid }]));
  }

  /** The highest numeric item done of a source (an IMAP folder's highest UID imported), or 0. */
  highestDone(source: string): number {
    return this.db.prepare<[string], { m: number | null }>("SELECT MAX(CAST(item AS INTEGER)) AS m FROM import_items WHERE source = ? AND state = 'done'").get(source)?.m ?? 0;
  }

  /**
   * The hashes of the messages done under other sources that begin like `prefix` (a JSON array
   * without its last element and closing bracket): an IMAP folder imported before under another
   * UIDVALIDITY, whose messages come again under new UIDs.
   */
  doneHashesOfOthers(prefix: string, except: string): Set<string> {
    const rows = this.db.prepare<[string, string, string], { hash: string }>("SELECT hash FROM import_items WHERE substr(source, 1, length(?)) = ? AND source <> ? AND state = 'done'").all(prefix, prefix, except);
    return new Set(rows.map((r) => r.hash));
  }

  pending(source: string, items: readonly { item: string; hash: string }[], uidNext: number): void {
    this.db.transaction(() => {
      for (const i of items) this.pendingStmt.run(source, i.item, i.hash, uidNext);
    })();
  }

  /** A message found imported already (under another key): done, without a UID of its own. */
  known(source: string, item: string, hash: string): void {
    this.db.prepare<[string, string, string]>(`INSERT OR REPLACE INTO import_items (source, item, hash, state, uid_next) VALUES (?, ?, ?, 'done', 0)`).run(source, item, hash);
  }

  done(source: string, items: readonly { item: string; uid: number | null }[]): void {
    this.db.transaction(() => {
      for (const i of items) this.doneStmt.run(i.uid, source, i.item);
    })();
  }
}

/** Where an import of `source` into `folder` stands: its ledger rows, and the items to import again (pending ones not found settled). */
export async function resumeSource(ledger: ImportLedger, store: MailStore, folder: string, source: string): Promise<{ known: Map<string, LedgerRow>; again: Set<string> }> {
  const known = ledger.rows(source);
  const again = await settlePending(ledger, store, folder, source, new Map([...known].filter(([, r]) => r.state === 'pending')));
  return { known, again };
}

/**
 * Settles pending rows of a target folder: each one whose bytes are in the folder from its
 * UIDNEXT on is recorded done (and left out of the returned set); the others are to be
 * imported again. The folder's messages from the lowest UIDNEXT on are read once.
 */
export async function settlePending(
  ledger: ImportLedger,
  store: MailStore,
  folder: string,
  source: string,
  pending: ReadonlyMap<string, LedgerRow>,
): Promise<Set<string>> {
  const again = new Set(pending.keys());
  if (pending.size === 0) return again;
  let handle;
  try {
    handle = await store.openFolder(folder, { readOnly: true });
  } catch (err) {
    if (err instanceof MailStoreError && err.code === 'NONEXISTENT') return again;
    throw err;
  }
  try {
    await handle.refresh();
    const from = Math.min(...[...pending.values()].map((r) => r.uidNext));
    const byHash = new Map<string, number[]>();
    for (const m of handle.snapshot().messages) {
      if (m.uid < from) continue;
      const hash = sha256(await handle.readMessage(m.uid));
      byHash.set(hash, [...(byHash.get(hash) ?? []), m.uid]);
    }
    const found: { item: string; uid: number }[] = [];
    for (const [item, row] of pending) {
      const uids = byHash.get(row.hash);
      const index = uids?.findIndex((u) => u >= row.uidNext) ?? -1;
      if (index < 0) continue;
      // Each stored message answers for one pending row (two equal messages were two appends).
      found.push({ item, uid: uids!.splice(index, 1)[0]! });
      again.delete(item);
    }
    ledger.done(source, found);
    return again;
  } finally {
    handle.release();
  }
}
