// One fetched message into the account, in the order that loses nothing and stores nothing
// twice (see source-store.ts): ledger "pending" with the local UIDNEXT and the hash, the
// delivery through the Deliverer (Maildir engine: tmp/, fsync, rename, UID, IDLE sessions
// told), ledger "done"; removing it at the provider is the caller's next step.

import { createHash } from 'node:crypto';
import type { Account } from '../accounts/index.js';
import type { Deliverer } from '../delivery/deliverer.js';
import { MessageSpool } from '../delivery/spool.js';
import type { LedgerEntry, RemoteKey, SourceStore } from './source-store.js';

export class FetchError extends Error {}

/** Test hooks: throw to stand for a crash at that point. */
export interface FetchFaults {
  afterDeliver?: (key: RemoteKey) => void;
}

export interface Landing {
  deliverer: Deliverer;
  store: SourceStore;
  sourceId: number;
  account: Account;
  spoolDir: string;
  maxMessageSize: number;
  faults?: FetchFaults;
  now: () => number;
  /**
   * Per local folder, a UID the next delivery gets at least (the last delivered UID + 1), so
   * that the ledger's localUidNext needs no look at the folder (a STATUS of a folder of
   * 10,000 messages lists its cur/) after the first delivery of a run.
   */
  uidHints?: Map<string, number>;
  /** The deadline for a MiB or a message of a run (watchdog.ts); default DEFAULT_STALL_MS. */
  stallMs?: number;
}

/** A UID the next message delivered to `folder` gets at least. */
async function uidNextOf(l: Landing, folder: string): Promise<number> {
  const hint = l.uidHints?.get(folder);
  return hint ?? l.deliverer.uidNext(l.account, folder);
}

function delivered(l: Landing, folder: string, uid: number | undefined): void {
  if (uid !== undefined) l.uidHints?.set(folder, uid + 1);
}

/**
 * A pending entry (a run stopped between delivering and recording): true when the message is
 * in the account after all (then recorded done), false when it must be fetched again.
 */
export async function settlePending(l: Landing, key: RemoteKey, entry: LedgerEntry): Promise<boolean> {
  const uid = await l.deliverer.findDelivered(l.account, entry.localFolder, entry.localUidNext, entry.hash);
  if (uid === null) return false;
  l.store.done(l.sourceId, key, uid, entry.hash, entry.localFolder, l.now(), true);
  return true;
}

/**
 * Receive a message through `fill` (which writes its pieces) and deliver it to `localFolder`.
 * With `skipKnown`, bytes already fetched from this source are recorded, not delivered again
 * (a provider folder whose UIDVALIDITY changed lists its old messages under new UIDs).
 * Returns whether a message was delivered.
 */
export async function land(
  l: Landing,
  key: RemoteKey,
  localFolder: string,
  fill: (write: (piece: Buffer) => Promise<void>) => Promise<void>,
  skipKnown = false,
): Promise<boolean> {
  const spool = new MessageSpool(l.spoolDir, l.maxMessageSize);
  const hasher = createHash('sha256');
  try {
    await fill(async (piece) => {
      hasher.update(piece);
      await spool.write(piece);
    });
    await spool.end();
    if (spool.tooBig) throw new FetchError(`a message of ${spool.size} octets is over the limit of ${l.maxMessageSize} octets for fetched mail (FETCH_MAXMSGSIZE); it stays at the provider`);
    const hash = hasher.digest('hex');
    if (skipKnown && l.store.knownHash(l.sourceId, hash)) {
      l.store.done(l.sourceId, key, null, hash, localFolder, l.now(), false);
      return false;
    }
    const uidNext = await uidNextOf(l, localFolder);
    l.store.pending(l.sourceId, key, hash, localFolder, uidNext, l.now());
    const outcome = await l.deliverer.deliver(spool, { sender: null }, { address: null, account: l.account }, localFolder);
    if (outcome.code !== 250) throw new FetchError(`the message could not be saved in ${l.account.username}'s mailbox: ${outcome.message}`);
    delivered(l, localFolder, outcome.uid);
    l.faults?.afterDeliver?.(key);
    l.store.done(l.sourceId, key, outcome.uid ?? null, hash, localFolder, l.now(), true);
    return true;
  } finally {
    await spool.discard();
  }
}

export interface Fetched {
  key: RemoteKey;
  message: Buffer;
}

/**
 * Deliver several fetched messages (small, whole in memory) to `localFolder` as one step: the
 * ledger "pending" for all in one transaction, one appendMany through the Deliverer, "done"
 * for all in one transaction. A crash in between leaves them pending, settled one by one by
 * the next run as land()'s are. Returns how many were delivered.
 */
export async function landMany(l: Landing, items: readonly Fetched[], localFolder: string, skipKnown = false): Promise<number> {
  const over = items.find((i) => i.message.length > l.maxMessageSize);
  if (over) throw new FetchError(`a message of ${over.message.length} octets is over the limit of ${l.maxMessageSize} octets for fetched mail (FETCH_MAXMSGSIZE); it stays at the provider`);
  const hashed = items.map((i) => ({ ...i, hash: createHash('sha256').update(i.message).digest('hex') }));
  const known = skipKnown ? hashed.filter((i) => l.store.knownHash(l.sourceId, i.hash)) : [];
  if (known.length) l.store.doneMany(l.sourceId, known.map((i) => ({ key: i.key, hash: i.hash, localUid: null, counted: false })), localFolder, l.now());
  const fresh = known.length ? hashed.filter((i) => !known.includes(i)) : hashed;
  if (fresh.length === 0) return 0;
  const uidNext = await uidNextOf(l, localFolder);
  l.store.pendingMany(l.sourceId, fresh, localFolder, uidNext, l.now());
  const outcome = await l.deliverer.deliverMany(fresh.map((i) => i.message), { sender: null }, { address: null, account: l.account }, localFolder);
  if (outcome.code !== 250 || !outcome.uids) throw new FetchError(`the messages could not be saved in ${l.account.username}'s mailbox: ${outcome.message}`);
  delivered(l, localFolder, outcome.uids[outcome.uids.length - 1]);
  for (const i of fresh) l.faults?.afterDeliver?.(i.key);
  l.store.doneMany(l.sourceId, fresh.map((i, n) => ({ key: i.key, hash: i.hash, localUid: outcome.uids![n] ?? null, counted: true })), localFolder, l.now());
  return fresh.length;
}
