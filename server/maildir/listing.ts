// imapd-ts.listing: what the last full look at a folder found (UIDs, names in cur/, keywords),
// so that a new process can open an unchanged folder without listing cur/ and reading
// courierimapuiddb. Ours alone (Courier ignores it), and safe to delete.
//
// It is trusted only while nothing it was made from can have changed:
// - cur/, new/ and courierimapkeywords/ have the stamps (inode, mtime, size) they had when
//   the look began, and those mtimes were already older than the settling time then, so
//   that any later change in those directories (a rename, link or unlink) gives them a
//   new mtime even with coarse clock ticks (the rule of Dovecot's maildir "dirty" window);
// - courierimapuiddb is the very file the look used (inode, size, mtime: it is replaced by
//   a rename or extended in place, never rewritten in place to the same size);
// - new/ was empty and every file in cur/ had its UID.
//
//   imapd-ts listing 1
//   <folder stamps>
//   <uiddb inode> <uiddb size> <uiddb mtimeMs> <uidvalidity> <uidnext> <messages> <keywords>
//   <keyword>                    (one line each)
//   <uid> <name in cur/>[/<keyword number> ...]   (one line per message, ascending UIDs)
//   end

import { isAscii } from 'node:buffer';
import { closeSync, fstatSync, openSync } from 'node:fs';
import path from 'node:path';
import { errorCode, readFully, writeFileAtomic } from './fsutil.js';
import type { FileStamp } from './uiddb.js';

export const LISTING_FILE = 'imapd-ts.listing';
const HEADER = 'imapd-ts listing 1';
const END = 'end';

export interface ListingHead {
  /** Directory stamps of the folder (see folderStamps in folder-stamps.ts). */
  stamps: string;
  db: FileStamp;
  uidValidity: number;
  uidNext: number;
}

export interface ListedMessage {
  uid: number;
  fileName: string;
  /** Flag letters of the name (for the first unseen message). */
  letters: string;
  keywords: readonly string[];
}

/** What SELECT answers, known from the head of a listing alone. */
export interface ListingSummary {
  uidValidity: number;
  uidNext: number;
  count: number;
  /** Sequence number of the first message without \Seen; 0 when there is none. */
  firstUnseen: number;
  /** Keywords that messages have. */
  keywords: readonly string[];
}

/**
 * A listing that matches the folder, its messages not read yet: the file stays open (it is
 * only ever replaced by a rename, so this is the file that was checked) until
 * readListedMessages or closeListing.
 */
export interface OpenedListing extends ListingSummary {
  /** The folder stamps the listing was made with (see openListing's `alike`). */
  stamps: string;
  fd: number;
  size: number;
  /** Byte offset of the first message line. */
  start: number;
}

/** The listing as text; null when it cannot be written faithfully (a name or keyword that does not fit on a line). */
export function formatListing(head: ListingHead, count: number, messages: Iterable<ListedMessage>): string | null {
  const numbers = new Map<string, number>();
  const lines: string[] = [];
  let firstUnseen = 0;
  for (const message of messages) {
    if (message.fileName.includes('\n') || message.fileName.includes('/')) return null;
    let line = `${message.uid} ${message.fileName}`;
    if (message.keywords.length) {
      const indexes: number[] = [];
      for (const keyword of message.keywords) {
        if (keyword === '' || /[\n\r]/.test(keyword)) return null;
        let n = numbers.get(keyword);
        if (n === undefined) numbers.set(keyword, (n = numbers.size));
        indexes.push(n);
      }
      line += `/${indexes.join(' ')}`;
    }
    lines.push(line);
    if (firstUnseen === 0 && !message.letters.includes('S')) firstUnseen = lines.length;
  }
  if (lines.length !== count) return null;
  const keywords = numbers.size ? [...numbers.keys()].join('\n') + '\n' : '';
  const body = `${keywords}${lines.join('\n')}${lines.length ? '\n' : ''}${END}\n`;
  const { stamps, db } = head;
  const fields = [db.ino, db.size, db.mtimeMs, head.uidValidity, head.uidNext, count, numbers.size, firstUnseen, Buffer.byteLength(body)];
  return `${HEADER}\n${stamps}\n${fields.join(' ')}\n${body}`;
}

export async function writeListing(folderDir: string, text: string): Promise<void> {
  await writeFileAtomic(path.join(folderDir, LISTING_FILE), text, path.join(folderDir, 'tmp'));
}

/**
 * The listing, when its head matches `stamps` and `db` (the folder now) and it is whole (its
 * length and last line are as written). Only the head is read. Null when there is none, or
 * it does not match. `alike`: other folder stamps that are accepted too (new/ alone changed:
 * folder-reopen.ts).
 */
export function openListing(folderDir: string, stamps: string, db: FileStamp | undefined, alike?: (listed: string) => boolean): OpenedListing | null {
  if (!db) return null;
  let fd: number;
  try {
    fd = openSync(path.join(folderDir, LISTING_FILE), 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  let keep = false;
  try {
    const head = readHead(fd, (listed) => listed === stamps || alike?.(listed) === true, db);
    keep = head !== null;
    return head;
  } finally {
    if (!keep) closeSync(fd);
  }
}

function readHead(fd: number, matches: (stamps: string) => boolean, db: FileStamp): OpenedListing | null {
  const size = fstatSync(fd).size;
  const tail = Buffer.alloc(END.length + 2);
  if (size < tail.length || readFully(fd, tail, size - tail.length) !== tail.length || tail.toString('latin1') !== `\n${END}\n`) return null;
  // The head (and the keyword names after it), read in growing pieces until it is all there.
  for (let length = Math.min(size, 16384); ; length = Math.min(size, length * 4)) {
    const bytes = Buffer.allocUnsafe(length);
    if (readFully(fd, bytes, 0) !== length) return null;
    let pos = 0;
    const next = (): string | null => {
      const end = bytes.indexOf(10, pos);
      if (end < 0) return null;
      const line = bytes.toString('utf8', pos, end);
      pos = end + 1;
      return line;
    };
    const partial = (): boolean => length < size; // a line cut off by the piece: read more
    const first = next();
    const second = next();
    const third = next();
    if (third === null) {
      if (partial()) continue;
      return null;
    }
    if (first !== HEADER || second === null || !matches(second)) return null;
    const fields = third.split(' ').map(Number);
    // mtimes have fractions; the rest are whole numbers
    if (fields.length !== 9 || !fields.every((n, i) => (i === 2 ? Number.isFinite(n) : Number.isSafeInteger(n)))) return null;
    const [ino, dbSize, mtimeMs, uidValidity, uidNext, count, keywordCount, firstUnseen, bodyBytes] = fields;
    if (ino !== db.ino || dbSize !== db.size || mtimeMs !== db.mtimeMs || !(uidValidity > 0) || !(uidNext > 0)) return null;
    if (size - pos !== bodyBytes || firstUnseen < 0 || firstUnseen > count || keywordCount < 0) return null;
    const keywords: string[] = [];
    for (let i = 0; i < keywordCount; i++) {
      const keyword = next();
      if (keyword === null) break;
      keywords.push(keyword);
    }
    if (keywords.length < keywordCount) {
      if (partial()) continue;
      return null;
    }
    return { uidValidity, uidNext, count, firstUnseen, keywords, stamps: second, fd, size, start: pos };
  }
}

/** Lets go of a listing whose messages will not be read. */
export function closeListing(listing: OpenedListing): void {
  if (listing.fd < 0) return;
  closeSync(listing.fd);
  listing.fd = -1;
}

/**
 * Hands each message of an opened listing to `add`, in order, and closes it. False when a
 * line is damaged (then nothing handed out may be used).
 */
export function readListedMessages(listing: OpenedListing, add: (uid: number, fileName: string, keywords: readonly string[]) => void): boolean {
  if (listing.fd < 0) return false;
  const bytes = Buffer.allocUnsafe(listing.size - listing.start);
  let got: number;
  try {
    got = readFully(listing.fd, bytes, listing.start);
  } finally {
    closeListing(listing);
  }
  if (got !== bytes.length) return false;
  // Names are nearly always ASCII: latin1 makes the same string without decoding UTF-8.
  const text = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const { count, uidNext, keywords: keywordNames } = listing;
  const lineEnd = (from: number): number => {
    const at = text.indexOf('\n', from);
    return at < 0 ? text.length : at;
  };
  let pos = 0;
  // Messages with the same keywords share one array.
  const keywordSets = new Map<string, readonly string[]>();
  const none: readonly string[] = [];
  let previousUid = 0;
  for (let i = 0; i < count; i++) {
    const end = lineEnd(pos);
    const space = text.indexOf(' ', pos);
    if (space < 0 || space >= end) return false;
    let uid = 0;
    for (let c = pos; c < space; c++) {
      const digit = text.charCodeAt(c) - 48;
      if (digit < 0 || digit > 9) return false;
      uid = uid * 10 + digit;
    }
    if (uid <= previousUid || uid >= uidNext) return false;
    previousUid = uid;
    // Names hold no '/': one before the trailing keyword numbers starts them.
    let slash = end - 1;
    for (let code = text.charCodeAt(slash); slash > space && (code === 32 || (code >= 48 && code <= 57)); code = text.charCodeAt(--slash));
    let keywords = none;
    let fileName: string;
    if (slash > space && text.charCodeAt(slash) === 47) {
      fileName = text.slice(space + 1, slash);
      const key = text.slice(slash + 1, end);
      let set = keywordSets.get(key);
      if (!set) {
        const names = key.split(' ').map((n) => keywordNames[Number(n)]);
        if (names.some((name) => name === undefined)) return false;
        keywordSets.set(key, (set = names));
      }
      keywords = set;
    } else {
      fileName = text.slice(space + 1, end);
    }
    if (!fileName) return false;
    add(uid, fileName, keywords);
    pos = end + 1;
  }
  return text.slice(pos) === `${END}\n`;
}
