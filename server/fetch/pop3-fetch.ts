// Fetching from a POP3 provider: one session per run (POP3 has no IDLE; the schedule polls).
// UIDL names each message; those not in the ledger are retrieved in order and landed, then
// DELE marks the ones due to leave (fetched, and kept long enough), and QUIT has the provider
// remove them (RFC 1939 6: nothing is removed when the session ends otherwise). UIDLs the
// provider no longer lists are forgotten, so the ledger stays the size of the mailbox.

import { land, settlePending, type Landing } from './landing.js';
import { Pop3Client } from './pop3-client.js';
import type { RemoteKey } from './source-store.js';
import type { FetchProgress, MailSource } from './types.js';
import { DEFAULT_STALL_MS, Watchdog } from './watchdog.js';

const DAY_MS = 86_400_000;

export function pop3Connect(source: MailSource, stallMs = DEFAULT_STALL_MS): Promise<Pop3Client> {
  return Pop3Client.connect({ host: source.host, port: source.port, tls: source.tls, rejectUnauthorized: !source.allowInvalidCertificate, timeoutMs: Math.min(60_000, stallMs) });
}

/** One POP3 session: fetch what is new, remove what is due. Returns the messages delivered. */
export async function pop3Run(
  source: MailSource, password: string, landing: Landing, onFetched: () => void, session?: (c: Pop3Client) => void,
  onProgress?: (progress: FetchProgress) => void,
): Promise<number> {
  const stallMs = landing.stallMs ?? DEFAULT_STALL_MS;
  const client = await pop3Connect(source, stallMs);
  session?.(client);
  let fetched = 0;
  const watch = new Watchdog(stallMs, () => client.destroy());
  try {
    await client.login(source.username, password);
    const listing = await client.uidl();
    const local = source.folders[0]?.local ?? 'INBOX';
    const ledger = landing.store.uidls(source.id);
    const todo: [number, string][] = [];
    for (const [n, uidl] of listing) {
      const entry = ledger.get(uidl);
      if (entry?.state === 'done') continue;
      if (entry?.state === 'pending' && (await settlePending(landing, { folder: '', validity: '', uid: 0, uidl }, entry))) continue;
      todo.push([n, uidl]);
    }
    let done = 0;
    const progress = () => onProgress?.({ folder: 'INBOX', done, total: todo.length });
    progress();
    for (const [n, uidl] of todo) {
      const key: RemoteKey = { folder: '', validity: '', uid: 0, uidl };
      const retr = (write: (piece: Buffer) => Promise<void>) => client.retr(n, (piece) => {
        watch.octets(piece.length);
        return write(piece);
      });
      if (await land(landing, key, local, retr)) {
        fetched++;
        onFetched();
      }
      done++;
      watch.progress();
      progress();
    }
    const days = source.leaveOnServerDays;
    if (days !== null) {
      const cutoff = landing.now() - days * DAY_MS;
      const after = landing.store.uidls(source.id);
      for (const [n, uidl] of listing) {
        const entry = after.get(uidl);
        if (entry?.state === 'done' && entry.fetchedAt <= cutoff) await client.dele(n);
      }
    }
    await client.quit();
    landing.store.forgetUidls(source.id, new Set(listing.values()));
    return fetched;
  } catch (err) {
    if (watch.fired) throw watch.error(`${source.host}:${source.port}`);
    throw err;
  } finally {
    watch.stop();
    client.destroy();
  }
}
