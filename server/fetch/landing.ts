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
    if (spool.tooBig) throw new FetchError(`a message of ${spool.size} octets is over the limit of ${l.maxMessageSize} for fetched mail`);
    const hash = hasher.digest('hex');
    if (skipKnown && l.store.knownHash(l.sourceId, hash)) {
      l.store.done(l.sourceId, key, null, hash, localFolder, l.now(), false);
      return false;
    }
    const uidNext = await l.deliverer.uidNext(l.account, localFolder);
    l.store.pending(l.sourceId, key, hash, localFolder, uidNext, l.now());
    const outcome = await l.deliverer.deliver(spool, { sender: null }, { address: null, account: l.account }, localFolder);
    if (outcome.code !== 250) throw new FetchError(`the message could not be saved in ${l.account.username}'s mailbox: ${outcome.message}`);
    l.faults?.afterDeliver?.(key);
    l.store.done(l.sourceId, key, outcome.uid ?? null, hash, localFolder, l.now(), true);
    return true;
  } finally {
    await spool.discard();
  }
}

/**
 * Several whole messages (small ones: each under the spool's memory limit) into `localFolder`
 * at once: "pending" for all in one transaction, one appendMany (deliverMany), "done" for all
 * in one transaction. The same order as land(), so a crash anywhere loses and doubles nothing;
 * a batch of 64 costs about what one message costs alone (bench/results/2026-12-07-import.md).
 * Returns the messages delivered.
 */
export async function landMany(
  l: Landing,
  items: readonly { key: RemoteKey; raw: Buffer }[],
  localFolder: string,
  skipKnown = false,
): Promise<number> {
  const fresh: { key: RemoteKey; raw: Buffer; hash: string }[] = [];
  for (const item of items) {
    if (item.raw.length > l.maxMessageSize) throw new FetchError(`a message of ${item.raw.length} octets is over the limit of ${l.maxMessageSize} for fetched mail`);
    const hash = createHash('sha256').update(item.raw).digest('hex');
    if (skipKnown && l.store.knownHash(l.sourceId, hash)) {
      l.store.done(l.sourceId, item.key, null, hash, localFolder, l.now(), false);
      continue;
    }
    fresh.push({ ...item, hash });
  }
  if (fresh.length === 0) return 0;
  const uidNext = await l.deliverer.uidNext(l.account, localFolder);
  l.store.pendingMany(l.sourceId, fresh, localFolder, uidNext, l.now());
  const outcome = await l.deliverer.deliverMany(l.account, fresh.map((f) => f.raw), localFolder);
  if (outcome.code !== 250) throw new FetchError(`the messages could not be saved in ${l.account.username}'s mailbox: ${outcome.message}`);
  for (const f of fresh) l.faults?.afterDeliver?.(f.key);
  l.store.doneMany(l.sourceId, fresh.map((f, i) => ({ key: f.key, hash: f.hash, localUid: outcome.uids?.[i] ?? null })), localFolder, l.now());
  return fresh.length;
}
