// The change bus (server/maildir/change-bus.ts) over PostgreSQL's LISTEN/NOTIFY, when the
// account store is PostgreSQL: the servers that share the accounts share the Maildirs too, and
// the database they all reach carries "this folder changed" between them with no other
// component. A notification's payload is the sender's random id and the folder's directory, so
// the Maildirs must be mounted at the same path on every host (as Courier's shared index
// assumes too); NOTIFY takes at most 8000 bytes, far more than a path.
//
// Connections: publishing goes through the store's pool; listening takes one connection of its
// own, opened at the first subscription (the imapd-accounts command never opens it). When it is
// lost it is opened again (1 s, doubling to 30 s), and every folder open here looks again then,
// since what was said meanwhile went unheard; polling goes on beside it when the watcher is off.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ChangeBus } from '../maildir/index.js';

const CHANNEL = 'imapd_folder_changes';
/** NOTIFY's payload limit is 8000 bytes; a longer path is not announced (polling finds it). */
const MAX_PAYLOAD_BYTES = 7900;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

export class PostgresChangeBus implements ChangeBus {
  /** Who we are on the channel: our own notifications come back to us and are skipped. */
  private readonly origin = randomBytes(9).toString('base64url');
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly publishing = new Set<Promise<unknown>>();
  private listener: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  private closed = false;
  /** Notifications received from other servers (for tests and the log). */
  received = 0;

  constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
  ) {}

  publish(folderDir: string): void {
    if (this.closed) return;
    const payload = `${this.origin} ${folderDir}`;
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) return;
    const sent = this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]).catch(() => undefined);
    this.publishing.add(sent);
    void sent.then(() => this.publishing.delete(sent));
  }

  subscribe(folderDir: string, listener: () => void): () => void {
    let set = this.listeners.get(folderDir);
    if (!set) this.listeners.set(folderDir, (set = new Set()));
    set.add(listener);
    this.listen();
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(folderDir) === set) this.listeners.delete(folderDir);
    };
  }

  /** True while the LISTEN connection is up. */
  get listening(): boolean {
    return this.listener !== null;
  }

  /** Wait for the LISTEN connection (tests; subscribe() does not wait). */
  async ready(): Promise<void> {
    this.listen();
    await this.connecting;
  }

  async close(): Promise<void> {
    // An announcement queued behind the last change (change-bus.ts) goes out first: a one-shot
    // imapd-deliver closes right after its delivery.
    await new Promise((resolve) => setImmediate(resolve));
    this.closed = true;
    clearTimeout(this.retryTimer);
    await Promise.all([...this.publishing]);
    const client = this.listener;
    this.listener = null;
    await client?.end().catch(() => undefined);
  }

  private listen(): void {
    if (this.closed || this.listener || this.connecting || this.retryTimer) return;
    this.connecting = this.connect().finally(() => (this.connecting = null));
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (message) => this.heard(message.payload));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch {
      await client.end().catch(() => undefined);
      this.retryLater();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    const again = this.retryMs !== FIRST_RETRY_MS;
    this.listener = client;
    this.retryMs = FIRST_RETRY_MS;
    // What other servers said while nobody listened went unheard: every folder open here looks.
    if (again) for (const set of [...this.listeners.values()]) for (const listener of [...set]) listener();
  }

  private lost(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = null;
    void client.end().catch(() => undefined);
    this.retryLater();
  }

  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.listeners.size > 0) this.listen();
    }, wait);
    this.retryTimer.unref();
  }

  private heard(payload: string | undefined): void {
    if (!payload) return;
    const space = payload.indexOf(' ');
    if (space < 0 || payload.slice(0, space) === this.origin) return;
    const set = this.listeners.get(payload.slice(space + 1));
    if (!set) return;
    this.received++;
    for (const listener of [...set]) listener();
  }
}
