// The mailbox backend interface: everything the IMAP protocol layer may ask of storage.
// The Maildir engine (server/maildir/) implements it; the protocol layer (server/imap/)
// knows nothing else about files.
//
// Folder names here are the store's canonical names in UTF-8 with "." as hierarchy
// separator, exactly as Courier writes them in courierimapsubscribed: "INBOX",
// "INBOX.Sent", "INBOX.Lists.node". Namespace prefixes and modified UTF-7 are the
// protocol layer's business.
//
// Flags are strings: the system flags with their backslash ("\\Seen", "\\Answered",
// "\\Flagged", "\\Deleted", "\\Draft") and keywords as given ("$Label1", "Foo").
// \Recent is not a stored flag: it is reported per subscriber in FolderChange.

import type { AclEntry } from './acl.js';
import type { BodyPart, HeaderMeta, MessageMeta } from '../mime/types.js';

export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] as const;
export type SystemFlag = (typeof SYSTEM_FLAGS)[number];

/** A mailbox operation refused for a reason the client should see (NO response). */
export class MailStoreError extends Error {
  constructor(
    message: string,
    /** RFC 5530 response code, e.g. 'NONEXISTENT', 'ALREADYEXISTS', 'OVERQUOTA', 'CANNOT'. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'MailStoreError';
  }
}

/** A message as a snapshot knows it: what the directory listing and the UID database tell. */
export interface MessageState {
  readonly uid: number;
  /** System flags and keywords. Treated as immutable (and shared between messages): a change produces a new set. */
  readonly flags: ReadonlySet<string>;
  /** Mod-sequence of its last change (RFC 7162): its arrival or its last flag change. */
  readonly modseq: number;
}

/** A message with the figures that may need its file (see Folder.messageData). */
export interface MessageInfo extends MessageState {
  /** RFC822.SIZE (CRLF octets). */
  readonly size: number;
  /** INTERNALDATE, ms since epoch. */
  readonly internalDate: number;
}

/** What a command needs of some messages beyond their flags; each part is read from the
 * folder's caches, and only what they do not have from the message files. */
export interface DataRequest {
  /** RFC822.SIZE and INTERNALDATE. */
  info?: boolean;
  /** ENVELOPE as sent to clients that have not enabled UTF8=ACCEPT (wire bytes). */
  envelope?: boolean;
  /** Header data (envelope, decoded fields, references, sent date). */
  header?: boolean;
  /** MIME structure (BODYSTRUCTURE, BODY[section]). */
  structure?: boolean;
  /** The stored message itself (line ends as stored). */
  raw?: boolean;
  /** Where the stored messages (`raw`) may be placed; see RawArena. */
  arena?: RawArena;
}

/** A message larger than this gets a buffer of its own, not a place in the arena. */
const ARENA_ONE_MAX = 256 * 1024;
const ARENA_BLOCK = 1024 * 1024;

/**
 * Memory a command lends for the stored messages it asks for (DataRequest.arena): a request
 * may place them in it, so that they are valid only until the same arena's next request. A
 * FETCH of 1,000 bodies or a SEARCH TEXT of 100,000 messages then fills one buffer again and
 * again instead of leaving a buffer per message to the collector (and to the heap's
 * fragments: RSS). Only for callers that are done with a batch's messages before asking for
 * the next, and keep no part of them.
 */
export class RawArena {
  private block: Buffer | undefined;
  private used = 0;

  /** A new request: what the last one placed is given up. */
  reset(): void {
    this.used = 0;
  }

  /** Room for one message of `size` bytes. */
  take(size: number): Buffer {
    if (size > ARENA_ONE_MAX) return Buffer.allocUnsafe(size);
    if (!this.block || this.used + size > this.block.length) {
      // Full: a new block (the old one stays with the messages placed in it while they are used).
      this.block = Buffer.allocUnsafeSlow(ARENA_BLOCK);
      this.used = 0;
    }
    const room = this.block.subarray(this.used, this.used + size);
    this.used += (size + 7) & ~7;
    return room;
  }
}

/** The parts of a DataRequest, for one message. */
export interface MessageData {
  size?: number;
  internalDate?: number;
  envelope?: Buffer;
  header?: HeaderMeta;
  structure?: BodyPart;
  raw?: Buffer;
}

export interface FolderSnapshot {
  readonly uidValidity: number;
  readonly uidNext: number;
  /** HIGHESTMODSEQ (RFC 7162): the highest modseq of the changes in this state. */
  readonly highestModseq: number;
  /** Sorted by ascending UID. */
  readonly messages: readonly MessageState[];
  /**
   * Set when the store can answer SELECT without reading every message (a folder opened from
   * a saved listing): then `messages` is read on first use, and `summary.messages()` gives the
   * messages as they were when this snapshot was taken, whatever changed since.
   */
  readonly summary?: FolderSummary;
}

export interface FolderSummary {
  readonly count: number;
  /** Sequence number of the first message without \Seen; 0 when there is none. */
  readonly firstUnseen: number;
  /** Keywords that messages have. */
  readonly keywords: readonly string[];
  messages(): readonly MessageState[];
}

export type FolderChange =
  /** New messages, ascending UIDs. `recent` is true for exactly one read-write subscriber per
   * message in any process (the first told of it), and for read-only ones while nobody has taken it;
   * an "added" of messages the subscriber knows already only tells that they are recent for it. */
  | { kind: 'added'; messages: readonly MessageState[]; recent: boolean }
  | { kind: 'expunged'; uids: readonly number[] }
  | { kind: 'flags'; uid: number; flags: ReadonlySet<string>; modseq: number }
  /** The folder itself was deleted or renamed away, or UIDVALIDITY changed. */
  | { kind: 'gone' };

export type FolderListener = (change: FolderChange) => void;

export interface FolderEntry {
  name: string;
  /** false for a name that only exists as a parent of other folders (\Noselect). */
  selectable: boolean;
  /** RFC 6154 attribute for this folder, e.g. '\\Sent', or undefined. */
  specialUse?: string;
}

export interface FolderStatus {
  messages: number;
  recent: number;
  unseen: number;
  uidNext: number;
  uidValidity: number;
  /** Sum of RFC822.SIZE (RFC 8438 STATUS=SIZE); 0 when it was not asked for. */
  size: number;
  /** HIGHESTMODSEQ (RFC 7162). */
  highestModseq: number;
}

export type FlagOperation = 'add' | 'remove' | 'replace';

export interface AppendOptions {
  flags?: readonly string[];
  /** INTERNALDATE for the new message, ms since epoch; default now. */
  internalDate?: number;
}

/**
 * A message being received piece by piece (a large APPEND): the store writes it where its
 * delivery needs it, so that nothing of it is held in memory. Exactly one of commit() and
 * abort() ends it; after abort() (or a failed commit) nothing of the message remains.
 */
export interface AppendSink {
  /** The next piece, in order; wait for a returned promise before giving the next. Errors are kept for commit(). */
  write(chunk: Buffer): void | Promise<void>;
  /** Every octet given: deliver the message. */
  commit(): Promise<{ uidValidity: number; uid: number }>;
  /** Drop what was written (the client went away). */
  abort(): Promise<void>;
}

export interface CopyResult {
  uidValidity: number;
  /** [source UID, destination UID] in source UID order. */
  mapping: [number, number][];
}

export interface Quota {
  /** Limits, undefined when not limited. */
  storageLimit?: number;
  messageLimit?: number;
  storageUsed: number;
  messagesUsed: number;
}

/** One open folder, shared by every session of this process that selected it. */
export interface Folder {
  readonly name: string;
  /** Current state as this process knows it. */
  snapshot(): FolderSnapshot;
  /** Look at the disk now and deliver what changed to the listeners (also claims new/). The
   * first call (SELECT's, after subscribing) also delivers the messages that are \Recent for it. */
  refresh(): Promise<void>;
  /** Receive changes made by anyone (this process or others). Returns an unsubscribe. */
  subscribe(listener: FolderListener): () => void;
  /**
   * Changes the flags of the given messages. `gone`: the UIDs among them that no longer
   * exist (expunged here, or removed by another process). With `unchangedSince` (RFC 7162
   * UNCHANGEDSINCE), messages whose modseq is above it are left alone, tested and changed as
   * one step: `modified` names them.
   */
  storeFlags(
    uids: readonly number[],
    op: FlagOperation,
    flags: readonly string[],
    options?: { unchangedSince?: number },
  ): Promise<{ gone: number[]; modified: number[] }>;
  /**
   * UIDs expunged after `modseq` (ascending) that `within` accepts, for VANISHED (EARLIER);
   * null when the folder no longer remembers expunges that far back.
   */
  expungedSince(modseq: number, within: (uid: number) => boolean): number[] | null;
  /** Removes the given messages; returns the UIDs really removed. `onRemoved` hears each
   * removed file, as a path from the Maildir root ("./cur/..."; IMAP_LOG_DELETIONS). */
  expunge(uids: readonly number[], onRemoved?: (file: string) => void): Promise<number[]>;
  copyTo(uids: readonly number[], destination: string): Promise<CopyResult>;
  /** Copy then expunge, as one operation where the storage allows it. */
  moveTo(uids: readonly number[], destination: string): Promise<CopyResult>;
  /** The raw stored message (line ends as stored). */
  readMessage(uid: number): Promise<Buffer>;
  /**
   * What `request` asks for, for each of `uids` (in that order); null for a message that is
   * no longer there. Cached parts cost no file access; the rest is read once per message.
   */
  messageData(uids: readonly number[], request: DataRequest): Promise<(MessageData | null)[]>;
  /** Everything parsed (size, header data, structure), cached so that repeated calls do not re-read the file. */
  messageMeta(uid: number): Promise<MessageMeta>;
  /** Drop this reference; the last one stops watching the folder. */
  release(): void;
}

/** One account's mailboxes. */
export interface MailStore {
  readonly hierarchySeparator: string;
  listFolders(): Promise<FolderEntry[]>;
  /** Whether a folder has unseen or undelivered mail (LIST's \Marked); false for one that does not exist. */
  hasNewMail?(name: string): Promise<boolean>;
  /** `specialUse`: an RFC 6154 attribute for the new folder (CREATE-SPECIAL-USE); NO [USEATTR] when the store cannot keep it. */
  createFolder(name: string, options?: { specialUse?: string }): Promise<void>;
  deleteFolder(name: string): Promise<void>;
  renameFolder(from: string, to: string): Promise<void>;
  listSubscriptions(): Promise<string[]>;
  subscribe(name: string): Promise<void>;
  unsubscribe(name: string): Promise<void>;
  /** `size` (which may need to read message files) is counted unless `items.size` is false. */
  folderStatus(name: string, items?: { size?: boolean }): Promise<FolderStatus>;
  /** Read-only (EXAMINE): the folder's messages never lose \Recent through it (RFC 3501 6.3.2). */
  openFolder(name: string, options?: { readOnly?: boolean }): Promise<Folder>;
  append(name: string, message: Buffer, options?: AppendOptions): Promise<{ uidValidity: number; uid: number }>;
  /**
   * Start an APPEND of a message of `size` octets that will arrive in pieces. Refuses at once
   * what append() would refuse before writing (no such folder, over quota).
   */
  beginAppend(name: string, size: number, options?: AppendOptions): Promise<AppendSink>;
  quota(): Promise<Quota | null>;
  /** A folder's access control list (./acl.ts), inherited from its parents when it has none of its own. */
  readAcl?(name: string): Promise<AclEntry[]>;
  /** Stores a folder's list (checked by the caller with unsafeAcl), where the next readAcl finds it. */
  writeAcl?(name: string, entries: readonly AclEntry[]): Promise<void>;
  close(): Promise<void>;
}
