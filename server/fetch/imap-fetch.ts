// Fetching from an IMAP provider with imapflow: each mapped folder in turn, messages above the
// highest UID fetched under the folder's UIDVALIDITY, in UID order, landed (landing.ts) in
// batches (big ones one by one); then the messages due to leave the provider are removed (UID EXPUNGE with
// UIDPLUS, as imapflow's messageDelete does). Between runs the connection stays in the first
// mapped folder, where imapflow IDLEs when the provider offers IDLE (and sends NOOPs when it
// does not), so a new message there is fetched within a second or two.

import { ImapFlow, type MailboxObject } from 'imapflow';
import { MEMORY_LIMIT } from '../delivery/spool.js';
import { FetchError, land, landMany, settlePending, type Landing } from './landing.js';
import type { RemoteKey } from './source-store.js';
import type { MailSource } from './types.js';

const DAY_MS = 86_400_000;
/** Small messages fetched with one UID FETCH, and delivered with one appendMany. */
const GROUP_MESSAGES = 200;
const GROUP_BYTES = 16 << 20;
const BATCH_MESSAGES = 64;
const BATCH_BYTES = 8 << 20;

/** A client for a provider (a mail source, or the server of an import). */
export function imapClient(source: Pick<MailSource, 'host' | 'port' | 'tls' | 'username' | 'allowInvalidCertificate'>, password: string): ImapFlow {
  return new ImapFlow({
    host: source.host,
    port: source.port,
    secure: source.tls === 'implicit',
    doSTARTTLS: source.tls === 'starttls' ? true : source.tls === 'none' ? false : undefined,
    auth: { user: source.username, pass: password },
    tls: { rejectUnauthorized: !source.allowInvalidCertificate },
    logger: false,
    autoIdleDelay: 1000,
    disableCompression: true,
  });
}

/** An IMAP UID set for many UIDs ("1:40,42,50:51"): a run of 10,000 fits in a short line. */
export function uidSet(uids: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < uids.length; ) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j]! + 1) j++;
    parts.push(j > i ? `${uids[i]}:${uids[j]}` : String(uids[i]));
    i = j + 1;
  }
  return parts.join(',');
}

export class ImapFetcher {
  readonly client: ImapFlow;

  constructor(
    private readonly source: MailSource,
    password: string,
    private readonly landing: Landing,
    private readonly onFetched: () => void,
  ) {
    this.client = imapClient(source, password);
    this.client.on('error', () => undefined);
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  /** Fetch every mapped folder once. Returns the messages delivered. */
  async run(): Promise<number> {
    let fetched = 0;
    for (const mapping of this.source.folders) {
      const lock = await this.client.getMailboxLock(mapping.remote);
      try {
        fetched += await this.folder(mapping.remote, mapping.local, this.client.mailbox as MailboxObject);
      } finally {
        lock.release();
      }
    }
    return fetched;
  }

  /** Stay in the first folder (IDLE) until it has new mail, `ms` pass, the connection ends, or `stop` is called. */
  async waitForNews(ms: number, stopped: Promise<void>): Promise<void> {
    const first = this.source.folders[0];
    if (!first) return;
    await this.client.mailboxOpen(first.remote);
    await new Promise<void>((resolve) => {
      const client = this.client;
      const onExists = (e: { count: number; prevCount: number }) => {
        if (e.count > e.prevCount) done();
      };
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        client.off('exists', onExists);
        client.off('close', done);
        resolve();
      }
      client.on('exists', onExists);
      client.on('close', done);
      void stopped.then(done);
    });
    if (!this.client.usable) throw new FetchError('the provider closed the connection');
  }

  async close(): Promise<void> {
    try {
      await this.client.logout();
    } catch {
      this.client.close();
    }
  }

  private async folder(remote: string, local: string, mailbox: MailboxObject): Promise<number> {
    const store = this.landing.store;
    const id = this.source.id;
    const validity = mailbox.uidValidity.toString();
    const known = store.validity(id, remote);
    // A new UIDVALIDITY (RFC 3501 2.3.1.1): the provider renumbered the folder, so every
    // message is a candidate again; bytes fetched before are recorded, not delivered twice.
    const renumbered = known !== null && known !== validity;
    if (known !== validity) store.setValidity(id, remote, validity);
    const last = store.lastUid(id, remote, validity);
    let fetched = 0;
    if (mailbox.exists > 0) {
      const found = await this.client.search({ uid: `${last + 1}:*` }, { uid: true });
      const uids = (found || []).filter((u) => u > last).sort((a, b) => a - b);
      const todo: number[] = [];
      for (const uid of uids) {
        const key: RemoteKey = { folder: remote, validity, uid, uidl: '' };
        const entry = store.entry(id, key);
        if (entry?.state === 'done') continue;
        if (entry?.state === 'pending' && (await settlePending(this.landing, key, entry))) continue;
        todo.push(uid);
      }
      fetched += await this.fetchAll(remote, local, validity, todo, renumbered);
    }
    await this.removeDue(remote, validity);
    return fetched;
  }

  /**
   * Fetch and land the messages `uids` of the selected folder, in UID order: the small ones in
   * groups (one UID FETCH for up to GROUP_MESSAGES, delivered in batches of up to BATCH_MESSAGES
   * with one appendMany: landMany), each big one alone and streamed through the spool (land),
   * so that memory holds at most a group of small messages. One at a time, every message waited
   * for its own round trip, two ledger commits and an fsync: 30 a second here, against 338 for
   * the same 10,000 in groups (bench/results/2026-12-07-import.md).
   */
  private async fetchAll(remote: string, local: string, validity: string, uids: readonly number[], renumbered: boolean): Promise<number> {
    if (uids.length === 0) return 0;
    const sizes = new Map<number, number>();
    for (const m of await this.client.fetchAll(uidSet(uids), { uid: true, size: true }, { uid: true })) sizes.set(m.uid, m.size ?? 0);
    let fetched = 0;
    const key = (uid: number): RemoteKey => ({ folder: remote, validity, uid, uidl: '' });
    let batch: { key: RemoteKey; raw: Buffer }[] = [];
    let batchBytes = 0;
    const flush = async () => {
      const items = batch;
      batch = [];
      batchBytes = 0;
      const n = await landMany(this.landing, items, local, renumbered);
      fetched += n;
      for (let i = 0; i < n; i++) this.onFetched();
    };
    for (let i = 0; i < uids.length; ) {
      const uid = uids[i]!;
      if (!sizes.has(uid)) { i++; continue; } // expunged at the provider meanwhile
      if (sizes.get(uid)! > MEMORY_LIMIT) {
        i++;
        const delivered = await land(this.landing, key(uid), local, async (write) => {
          const download = await this.client.download(String(uid), undefined, { uid: true });
          if (!download.content) throw new FetchError(`message UID ${uid} of ${remote} disappeared while it was fetched`);
          for await (const piece of download.content) await write(piece as Buffer);
        }, renumbered);
        if (delivered) {
          fetched++;
          this.onFetched();
        }
        continue;
      }
      const group: number[] = [];
      let groupBytes = 0;
      while (i < uids.length && group.length < GROUP_MESSAGES && groupBytes < GROUP_BYTES) {
        const size = sizes.get(uids[i]!);
        if (size === undefined) { i++; continue; }
        if (size > MEMORY_LIMIT) break;
        group.push(uids[i++]!);
        groupBytes += size;
      }
      for await (const m of this.client.fetch(uidSet(group), { uid: true, source: true }, { uid: true })) {
        if (!m.source) continue;
        batch.push({ key: key(m.uid), raw: m.source });
        batchBytes += m.source.length;
        if (batch.length >= BATCH_MESSAGES || batchBytes >= BATCH_BYTES) await flush();
      }
      await flush();
    }
    return fetched;
  }

  /** Remove at the provider what was fetched and has stayed there long enough. */
  private async removeDue(remote: string, validity: string): Promise<void> {
    const days = this.source.leaveOnServerDays;
    if (days === null) return;
    const uids = this.landing.store.doneUids(this.source.id, remote, validity, this.landing.now() - days * DAY_MS);
    if (uids.length === 0) return;
    await this.client.messageDelete(uidSet(uids), { uid: true });
    this.landing.store.markRemoved(this.source.id, remote, validity, uids);
  }
}
