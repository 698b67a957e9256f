// Fetching from an IMAP provider with imapflow: each mapped folder in turn, messages above the
// highest UID fetched under the folder's UIDVALIDITY, in UID order: their sizes first (one
// UID FETCH of RFC822.SIZE), then small ones in batches (one UID FETCH BODY.PEEK[] of a UID set,
// delivered together by landMany, the next batch asked for while one is written) and big ones
// streamed alone (land, through the spool); then the messages due to leave the provider are
// removed (UID EXPUNGE with UIDPLUS, as imapflow's messageDelete does). Between runs the
// connection stays in the first mapped folder, where imapflow IDLEs when the provider offers
// IDLE (and sends NOOPs when it does not), so a new message there is fetched within a second or two.

import { ImapFlow, type MailboxObject } from 'imapflow';
import { FetchError, land, landMany, settlePending, type Landing } from './landing.js';
import type { RemoteKey } from './source-store.js';
import type { FetchProgress, MailSource } from './types.js';
import { DEFAULT_STALL_MS, Watchdog } from './watchdog.js';

const DAY_MS = 86_400_000;

export function imapClient(source: Pick<MailSource, 'host' | 'port' | 'tls' | 'username' | 'allowInvalidCertificate'>, password: string, stallMs = DEFAULT_STALL_MS): ImapFlow {
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
    // Connecting, TLS and the greeting: a provider that accepts and then says nothing is given up.
    connectionTimeout: Math.min(90_000, stallMs),
    greetingTimeout: Math.min(16_000, stallMs),
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

/** Messages up to this size (RFC822.SIZE) are fetched many at a time and delivered together; larger ones are streamed alone. */
export const BATCH_MESSAGE_LIMIT = 1 << 20;
/** A batch: at most this many messages, and stopped once it holds this many octets. */
const BATCH_COUNT = 250;
const BATCH_OCTETS = 8 << 20;

/**
 * A big message is asked for in pieces of this size (UID FETCH n BODY.PEEK[]<offset.length>),
 * the next once the last is written: imapflow's download() holds one piece at a time and reads
 * nothing ahead (a 30 MB message: 3-4 MB more held, heap and Buffers after a collection, as
 * POP3's 1-2 MB; RSS grows by 15-45 MB whichever comes first, Buffers dropped and not yet
 * collected, as much for 90 MB). Its default of 64 KiB cost a round trip a piece: 480 for
 * 30 MB, 24 s of waiting on a provider 50 ms away; 31 now.
 */
export const DOWNLOAD_CHUNK = 1 << 20;

interface Listed {
  uid: number;
  size: number;
}

/** The work of a run in order: batches of small messages, and big messages alone (stream). */
export function plan(todo: readonly Listed[]): { uids: number[]; stream: boolean }[] {
  const steps: { uids: number[]; stream: boolean }[] = [];
  let batch: number[] = [];
  let octets = 0;
  const flush = () => {
    if (batch.length) steps.push({ uids: batch, stream: false });
    batch = [];
    octets = 0;
  };
  for (const m of todo) {
    if (m.size > BATCH_MESSAGE_LIMIT) {
      flush();
      steps.push({ uids: [m.uid], stream: true });
      continue;
    }
    batch.push(m.uid);
    octets += m.size;
    if (batch.length >= BATCH_COUNT || octets >= BATCH_OCTETS) flush();
  }
  flush();
  return steps;
}

export class ImapFetcher {
  readonly client: ImapFlow;
  private watch: Watchdog | null = null;

  constructor(
    private readonly source: MailSource,
    password: string,
    private readonly landing: Landing,
    private readonly onFetched: () => void,
    private readonly onProgress?: (progress: FetchProgress) => void,
  ) {
    this.client = imapClient(source, password, landing.stallMs);
    this.client.on('error', () => undefined);
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  /** Fetch every mapped folder once. Returns the messages delivered. */
  async run(): Promise<number> {
    let fetched = 0;
    const watch = new Watchdog(this.landing.stallMs ?? DEFAULT_STALL_MS, () => this.client.close());
    this.watch = watch;
    try {
      for (const mapping of this.source.folders) {
        const lock = await this.client.getMailboxLock(mapping.remote);
        try {
          fetched += await this.folder(mapping.remote, mapping.local, this.client.mailbox as MailboxObject);
        } finally {
          lock.release();
        }
      }
    } catch (err) {
      if (watch.fired) throw watch.error(`${this.source.host}:${this.source.port}`);
      throw err;
    } finally {
      watch.stop();
      this.watch = null;
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
      const todo = await this.news(remote, validity, last);
      let done = 0;
      const progress = () => this.onProgress?.({ folder: remote, done, total: todo.length });
      progress();
      const steps = plan(todo);
      // The next batch is asked for while this one is written: the provider and the disk work at once.
      let next: Promise<Map<number, Buffer>> | null = null;
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i]!;
        if (step.stream) {
          const key: RemoteKey = { folder: remote, validity, uid: step.uids[0]!, uidl: '' };
          if (await land(this.landing, key, local, (write) => this.download(remote, key.uid, write), renumbered)) {
            fetched++;
            this.onFetched();
          }
        } else {
          const bodies = await (next ?? this.batch(step.uids));
          next = null;
          const following = steps[i + 1];
          if (following && !following.stream) {
            next = this.batch(following.uids);
            next.catch(() => undefined); // awaited (and so rethrown) at its turn
          }
          // A message expunged at the provider meanwhile is not in the answer: nothing to fetch.
          const items = step.uids.filter((uid) => bodies.has(uid)).map((uid) => ({ key: { folder: remote, validity, uid, uidl: '' }, message: bodies.get(uid)! }));
          const n = await landMany(this.landing, items, local, renumbered);
          fetched += n;
          for (let k = 0; k < n; k++) this.onFetched();
        }
        done += step.uids.length;
        progress();
      }
      await next?.catch(() => undefined);
    }
    await this.removeDue(remote, validity);
    return fetched;
  }

  /**
   * The messages above `last` with their sizes (UID FETCH last+1:* (UID RFC822.SIZE): a short
   * line each), less those the ledger has done; pending ones are settled first.
   */
  private async news(remote: string, validity: string, last: number): Promise<Listed[]> {
    const found: Listed[] = [];
    for await (const m of this.client.fetch(`${last + 1}:*`, { uid: true, size: true }, { uid: true })) {
      if (m.uid > last) found.push({ uid: m.uid, size: m.size ?? 0 });
      if (found.length % 1000 === 0) this.watch?.progress();
    }
    found.sort((a, b) => a.uid - b.uid);
    const ledger = this.landing.store.entriesFrom(this.source.id, remote, validity, last + 1);
    const todo: Listed[] = [];
    for (const f of found) {
      const entry = ledger.get(f.uid);
      if (entry?.state === 'done') continue;
      if (entry?.state === 'pending' && (await settlePending(this.landing, { folder: remote, validity, uid: f.uid, uidl: '' }, entry))) continue;
      todo.push(f);
    }
    return todo;
  }

  /** Small messages, whole: one UID FETCH (BODY.PEEK[]) for the set. */
  private async batch(uids: readonly number[]): Promise<Map<number, Buffer>> {
    const bodies = new Map<number, Buffer>();
    const asked = new Set(uids);
    for await (const m of this.client.fetch(uidSet(uids), { uid: true, source: true }, { uid: true })) {
      if (m.source && asked.has(m.uid)) bodies.set(m.uid, m.source);
      this.watch?.progress();
    }
    return bodies;
  }

  /** A big message, streamed to the spool in pieces (partial FETCHes of DOWNLOAD_CHUNK, one at a time). */
  private async download(remote: string, uid: number, write: (piece: Buffer) => Promise<void>): Promise<void> {
    const download = await this.client.download(String(uid), undefined, { uid: true, chunkSize: DOWNLOAD_CHUNK });
    if (!download.content) throw new FetchError(`message UID ${uid} of ${remote} disappeared while it was fetched`);
    for await (const piece of download.content) {
      this.watch?.octets((piece as Buffer).length);
      await write(piece as Buffer);
    }
    this.watch?.progress();
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
