// What the folder modules share: a store's settings, a message's entry, flag helpers.

import type { FullTextIndex } from './fts/fts-index.js';
import { type FlagOperation, MailStoreError, type MessageState, type SystemFlag } from '../backend/mailstore.js';
import type { Logger } from '../log/logger.js';
import type { BodyPart, Envelope, HeaderMeta, MessageMeta } from '../mime/types.js';
import { systemFlag, systemFlagsFromLetters } from './filenames.js';
import type { StoredInfo } from './infocache.js';
import { sameKeywords } from './keywords.js';
import type { ParsePool } from './parsepool.js';
import type { MaildirQuota } from './quota.js';
import type { ChangeBus } from './change-bus.js';

/** Settings shared by the folders of one store (see MaildirStoreOptions for their meaning). */
export interface FolderContext {
  root: string;
  useLocks: boolean;
  keywords: boolean;
  watch: boolean;
  pollIntervalMs: number;
  idleRetentionMs: number;
  parseMessage: (raw: Buffer) => MessageMeta;
  /** The structure alone, and header data from the first bytes of a file (see MessageCacheOptions). */
  parseStructure?: (raw: Buffer) => { size: number; body: BodyPart };
  parseHeader?: (raw: Buffer, complete: boolean) => HeaderMeta | null;
  renderEnvelope: (envelope: Envelope) => Buffer;
  /** Workers running the built-in parsers (given only when the parsers above are those). */
  parsePool?: ParsePool;
  /** Version of parser and renderer; the caches are written to disk only when it is known. */
  cacheVersion?: string;
  /** Records per cache kept in memory when they cannot be written to disk. */
  metaCacheEntries: number;
  quota: MaildirQuota;
  logger?: Logger;
  /** The full-text index for SEARCH BODY / TEXT (IMAP_FTS_INDEX), when it is on. */
  fts?: FullTextIndex;
  /** Other servers on the same Maildirs: told of our changes, and tell us of theirs (change-bus.ts). */
  changeBus?: ChangeBus;
  /**
   * Only for the private folder of a sharable Maildir (sharable.ts), whose messages are
   * symlinks: the file a message name in cur/ may be read from (the checked target), or null
   * when it may not be followed. Every other folder has none: a symlink is no message there.
   */
  messageLinks?: MessageLinks;
}

/** See FolderContext.messageLinks. */
export type MessageLinks = (file: string) => string | null;

/** Where to read the message file `file` from: itself, or for a sharable folder's link its checked target. */
export function messageFileOf(links: MessageLinks | undefined, file: string): string {
  if (!links) return file;
  // A link that may not be followed is read as itself: the O_NOFOLLOW open refuses it (ELOOP).
  return links(file) ?? file;
}

export interface Entry {
  uid: number;
  base: string;
  /** Current name in cur/. */
  fileName: string;
  /** Flag letters of that name (including ones IMAP does not know, kept on rename). */
  letters: string;
  keywords: readonly string[];
  /** Sizes and INTERNALDATE, once something asked for them (see MessageCache). */
  stored?: StoredInfo;
  info: MessageState;
}

/** A message with its UID, name and sizes: one just put into the folder by this process, or one just scanned. */
export interface Arrival {
  uid: number;
  base: string;
  /** Name in cur/. */
  fileName: string;
  keywords: readonly string[];
  /** Known when the message was put in by this process; learnt when asked for otherwise. */
  stored?: StoredInfo;
}

/** Shared by messages without keywords (compared by reference in the usual case). */
export const NO_KEYWORDS: readonly string[] = [];

/** Parallel file operations per call: enough to hide latency, few enough for small machines. */
export const IO_PARALLEL = 16;

/** Splits flags into system flags and keywords (dropped when keywords are off); refuses flags that cannot be stored. */
export function splitFlags(flags: readonly string[], keywordsEnabled: boolean): { system: SystemFlag[]; keywords: string[] } {
  const system: SystemFlag[] = [];
  const keywords: string[] = [];
  for (const flag of flags) {
    if (flag.startsWith('\\')) {
      if (flag.toLowerCase() === '\\recent') continue; // not storable, ignored (RFC 3501 6.4.6)
      const canonical = systemFlag(flag);
      if (!canonical) throw new MailStoreError(`Invalid system flag ${flag}`, 'CANNOT');
      if (!system.includes(canonical)) system.push(canonical);
    } else if (keywordsEnabled) {
      // One line per keyword on disk: no white space or controls, never empty.
      if (!flag || /[\s\u0000-\u001f\u007f]/.test(flag)) throw new MailStoreError(`Invalid keyword ${JSON.stringify(flag)}`, 'CANNOT');
      if (!keywords.some((k) => k.toLowerCase() === flag.toLowerCase())) keywords.push(flag);
    }
  }
  return { system, keywords };
}

/**
 * `modseqOf`: the message's modseq when it is known already (a folder opened from its
 * listing: folder-modseq.ts recordedModseqs), so that its info is made once.
 */
export function newEntry(message: Arrival, modseqOf?: (uid: number, flags: ReadonlySet<string>) => number): Entry {
  const { uid, base, fileName, keywords, stored } = message;
  const letters = lettersOf(fileName, base);
  const flags = flagSet(letters, keywords);
  // modseq 0 until folder-modseq.ts gives it one, before any session sees the entry.
  return { uid, base, fileName, letters, keywords, stored, info: { uid, flags, modseq: modseqOf ? modseqOf(uid, flags) : 0 } };
}

/** Flag letters of a name whose base is known (as parseFileName, without the object). */
function lettersOf(fileName: string, base: string): string {
  const at = base.length;
  if (fileName.length === at) return '';
  if (fileName.charCodeAt(at + 1) !== 50 || fileName.charCodeAt(at + 2) !== 44) return ''; // not ":2,"
  return fileName.length === at + 3 ? '' : fileName.slice(at + 3);
}

/** Flag sets in use, shared by the messages that have the same flags (most messages of a folder share a few). */
const flagSets = new Map<string, ReadonlySet<string>>();

export function flagSet(letters: string, keywords: readonly string[]): ReadonlySet<string> {
  const key = keywords.length ? `${letters}\0${keywords.join('\0')}` : letters;
  let flags = flagSets.get(key);
  if (!flags) {
    flags = new Set<string>([...systemFlagsFromLetters(letters), ...keywords]);
    // Bounded: keywords are free-form, so the number of combinations is not.
    if (flagSets.size >= 10_000) flagSets.clear();
    flagSets.set(key, flags);
  }
  return flags;
}

export function sameSystemFlags(a: string, b: string): boolean {
  return sameKeywords(systemFlagsFromLetters(a), systemFlagsFromLetters(b));
}

export function applyOperation<T>(operation: FlagOperation, current: readonly T[], given: readonly T[]): T[] {
  switch (operation) {
    case 'replace':
      return [...given];
    case 'add':
      return [...current, ...given.filter((flag) => !current.includes(flag))];
    case 'remove':
      return current.filter((flag) => !given.includes(flag));
  }
}
