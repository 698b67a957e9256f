// A folder's listing (listing.ts) as its state uses it: a new process's first look opens the
// state from it, its messages are read when first needed, and a listing of the state is
// decided on and written when the state is known to be the disk's.

import { unlinkSync } from 'node:fs';
import path from 'node:path';
import type { MessageState } from '../backend/mailstore.js';
import { baseOf } from './filenames.js';
import { type Entry, newEntry, NO_KEYWORDS } from './folder-entry.js';
import { type ModseqFolder, recordedModseqs, settleListed } from './folder-modseq.js';
import { type CurrentFolder, currentListingHead, type ListedOpen, sameButNew } from './folder-reopen.js';
import { listingKey } from './folder-stamps.js';
import { formatListing, LISTING_FILE, type ListingHead, type OpenedListing, openListing, readListedMessages, writeListing } from './listing.js';
import { hasRecentMark } from './recent.js';
import type { ScanMemory } from './scan.js';
import { type FileStamp, statUidDbSync } from './uiddb.js';
import { listDirSync } from './fsutil.js';

/** What these need of a FolderCore (an interface, so that folder-core.ts may import this module). */
export interface ListingFolder extends ModseqFolder, CurrentFolder {
  readonly gone: boolean;
  initialized: boolean;
  uidValidity: number;
  uidNext: number;
  unclaimed: string[];
  unnumbered: number;
  stamps: string | undefined;
  dbStamp: FileStamp | undefined;
  generation: number;
  /** The messages by UID and their UIDs in order, as they are (`entries` and `sortedUids` read an unread listing first). */
  readonly table: Map<number, Entry>;
  uidList: number[];
  readonly sortedUids: number[];
  messageList: MessageState[] | undefined;
  /** A listing whose messages are not read yet (FolderCore.listed). */
  listed: OpenedListing | undefined;
  /** The messages as the listing had them (FolderCore.listedState). */
  listedState: readonly MessageState[] | undefined;
  /** A listing to write: the state of `generation`, seen with these stamps. */
  listingDue: { generation: number; head: ListingHead } | undefined;
  /** Stamps of the listing on disk, as far as this process knows. */
  listingStamps: string | undefined;
  readonly scanMemory: ScanMemory;
  readonly reopen: ListedOpen;
  readonly watching: boolean;
  markGone(): void;
  scheduleInfoSave(): void;
}

/**
 * A new process's first look: the state from the listing a look of an earlier process left,
 * when nothing can have changed since (see listing.ts). False: scan.
 */
export function loadListing(folder: ListingFolder, stamps: string): boolean {
  // A folder without its \Recent mark (left by an older version) is scanned: the scan makes it.
  if (!folder.scanMemory.recentMarked && !hasRecentMark(folder.dir)) return false;
  // Without its modseqs (left by an older version, or removed): a scan records them.
  if (!folder.modseqs.exists()) return false;
  folder.scanMemory.recentMarked = true;
  const db = statUidDbSync(folder.dir);
  let listing: OpenedListing | null = null;
  try {
    listing = openListing(folder.dir, stamps, db, (listed) => sameButNew(stamps, listed));
  } catch (error) {
    folder.context.logger?.log('warn', 'cannot read folder listing', { folder: folder.name, error: String(error) });
  }
  if (!listing) return false;
  folder.listed = listing;
  folder.uidValidity = listing.uidValidity;
  folder.uidNext = listing.uidNext;
  // new/ changed since the listing (deliveries): its files are for the first claim to take.
  const exact = listing.stamps === stamps;
  folder.unclaimed = exact ? [] : listDirSync(path.join(folder.dir, 'new'));
  folder.unnumbered = 0;
  folder.stamps = exact ? stamps : undefined;
  folder.dbStamp = db;
  folder.listingStamps = listingKey(listing.stamps, db!);
  folder.generation += 1;
  folder.reopen.disk = { stamps: listing.stamps, db: db!, generation: folder.generation };
  folder.initialized = true;
  folder.modseqs.catchUp();
  folder.modseqs.applied = Math.max(folder.modseqs.applied, folder.modseqs.highest);
  return true;
}

/** Reads the messages of the listing the folder was opened from. */
export function readListed(folder: ListingFolder): void {
  const listing = folder.listed!;
  folder.listed = undefined;
  folder.messageList = undefined;
  const uids: number[] = [];
  const list: MessageState[] = []; // in UID order: no lookups in the table to make the message list
  // Each message's info made once, with the modseq it was recorded with (one pass, one object).
  const modseqOf = recordedModseqs(folder);
  const unknown: Entry[] = [];
  const ok = readListedMessages(listing, (uid, fileName, keywords) => {
    const entry = newEntry({ uid, base: baseOf(fileName), fileName, keywords: folder.context.keywords ? keywords : NO_KEYWORDS }, modseqOf);
    if (entry.info.modseq === 0) unknown.push(entry);
    folder.table.set(uid, entry);
    list.push(entry.info);
    uids.push(uid);
  });
  folder.uidList = uids;
  settleListed(folder, unknown);
  // Rare (a modseq file damaged or lost): those infos were replaced.
  if (unknown.length) for (let i = 0; i < list.length; i++) if (list[i].modseq === 0) list[i] = folder.table.get(uids[i])!.info;
  folder.listedState = folder.messageList = list;
  if (ok && uids.length === listing.count) return;
  // Damaged after its head and length were checked (a disk error): what SELECT told
  // the sessions cannot be trusted. They are sent away; the next open scans.
  folder.context.logger?.log('warn', 'folder listing damaged', { folder: folder.name });
  folder.table.clear();
  folder.uidList = [];
  folder.listedState = folder.messageList = [];
  try {
    unlinkSync(path.join(folder.dir, LISTING_FILE));
  } catch {
    // gone already
  }
  folder.markGone();
}

/** After a scan: a listing is due when the scan saw a settled folder that the listing on disk does not describe. */
export function noteListing(folder: ListingFolder): void {
  folder.listingDue = undefined;
  if (!folder.stamps || !folder.dbStamp || folder.unclaimed.length || folder.unnumbered) return;
  if (folder.listingStamps === listingKey(folder.stamps, folder.dbStamp)) return;
  folder.listingDue = {
    generation: folder.generation,
    head: { stamps: folder.stamps, db: folder.dbStamp, uidValidity: folder.uidValidity, uidNext: folder.uidNext },
  };
  folder.scheduleInfoSave();
}

/** A listing of the state in memory when it is known to be the disk's (folder-reopen.ts currentListingHead). */
export async function listCurrent(folder: ListingFolder): Promise<void> {
  if (!folder.initialized || folder.gone || folder.listed || !folder.watching || folder.unnumbered) return;
  const head = await currentListingHead(folder);
  if (head && folder.listingStamps !== listingKey(head.stamps, head.db)) folder.listingDue = { generation: folder.generation, head };
}

/** Writes the due listing, if the state is still the one the scan made. */
export async function saveListing(folder: ListingFolder): Promise<void> {
  const due = folder.listingDue;
  folder.listingDue = undefined;
  if (!due || due.generation !== folder.generation || folder.gone) return;
  const entries = folder.entries;
  const text = formatListing(due.head, folder.sortedUids.length, (function* (uids: readonly number[]) {
    for (const uid of uids) yield entries.get(uid)!;
  })(folder.sortedUids));
  if (text === null) return;
  await writeListing(folder.dir, text);
  folder.listingStamps = listingKey(due.head.stamps, due.head.db);
}
