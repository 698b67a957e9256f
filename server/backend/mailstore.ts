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

import type { Readable } from 'node:stream';
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
  /** RFC 8514 SAVEDATE, ms since epoch, when it was asked for. */
  readonly saveDate?: number;
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
  /** RFC 8514 SAVEDATE (with INTERNALDATE, its fallback). */
  saveDate?: boolean;
  /** RFC 8474 EMAILID. */
  emailId?: boolean;
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
/** Blocks of one size lent by some pool: take() gives one or null, give() returns one. */
export interface BlockSource {
  take(): Buffer | null;
  give(block: Buffer): void;
}

export class RawArena {
  /** The blocks filled so far; the next request fills them again from the first. */
  private readonly blocks: Buffer[] = [];
  private current = 0;
  private used = 0;

  /** With a `source` of ARENA_BLOCK-sized blocks, blocks come from it first (given back by release()). */
  constructor(private readonly source?: BlockSource | null) {}

  /** A new request: what the last one placed is given up. */
  reset(): void {
    this.current = 0;
    this.used = 0;
  }

  /** Room for one message of `size` bytes. */
  take(size: number): Buffer {
    if (size > ARENA_ONE_MAX) return Buffer.allocUnsafe(size);
    if (this.blocks.length === 0) this.blocks.push(this.newBlock());
    if (this.used + size > ARENA_BLOCK) {
      // Full: the next block (kept for the next request: a fresh one costs page faults, and
      // the collector sees its size again each time).
      this.current++;
      this.used = 0;
      if (this.current === this.blocks.length) this.blocks.push(this.newBlock());
    }
    const block = this.blocks[this.current];
    const room = block.subarray(this.used, this.used + size);
    this.used += (size + 7) & ~7;
    return room;
  }

  /** The command is done with the arena: blocks lent by the source go back to it. */
  release(): void {
    if (this.source) for (const block of this.blocks) this.source.give(block);
    this.blocks.length = 0;
    this.reset();
  }

  private newBlock(): Buffer {
    const lent = this.source?.take();
    return lent && lent.length === ARENA_BLOCK ? lent : Buffer.allocUnsafeSlow(ARENA_BLOCK);
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
  /** When the message was saved in this folder (APPEND, COPY, MOVE, delivery), ms since epoch. */
  saveDate?: number;
  /** RFC 8474 EMAILID: the same for copies of one message, never for another message. */
  emailId?: string;
}

export interface FolderSnapshot {
  readonly uidValidity: number;
  readonly uidNext: number;
  /** HIGHESTMODSEQ (RFC 7162): the highest modseq of the changes in this state. */
  readonly highestModseq: number;
  /**
   * HIGHESTMODSEQ for a session's view (SELECT, EXPUNGE's code): without the modseqs of
   * changes the folder's sessions have not been told yet (they come to the view after the
   * SELECT, and a client resynchronizing from the number would miss them). STATUS reports
   * `highestModseq`, which goes with `uidNext` and the message count. Unset: the same.
   */
  readonly toldModseq?: number;
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

/**
 * A change somewhere in an account, for NOTIFY (RFC 5465): which folder, and what kind of
 * change, not the change itself (a session asks folderStatus for the figures). `unknown`: the
 * folder changed on disk and nobody here looked at it yet (another process, seen by a watch).
 */
export type MailboxEvent =
  | { kind: 'messages'; name: string; what: 'new' | 'expunge' | 'flags' | 'unknown' }
  | { kind: 'created' | 'deleted'; name: string }
  | { kind: 'renamed'; name: string; from: string }
  | { kind: 'subscription'; name: string; subscribed: boolean };

export type MailboxEventListener = (event: MailboxEvent) => void;

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
  /** Messages with \Deleted (RFC 9051 STATUS DELETED). */
  deleted: number;
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
  /**
   * The UID it should get (an import keeping the UIDs of the server it comes from): given when
   * it is at least the folder's UIDNEXT, else the message gets the next UID as usual, so that
   * UIDs still only ever ascend. The UIDs appendMany() returns say which it got.
   */
  uid?: number;
  /**
   * Runs once the whole message is written where the store keeps it, before it is delivered
   * into the folder (after the quota check): `read` gives its octets as stored. A throw
   * delivers nothing, and append() or commit() rethrows it (the Outbox sends here, as Courier).
   */
  beforeDeliver?: (read: () => Readable) => Promise<void>;
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

/**
 * A message written to the store's scratch space and not yet in any folder (a large APPEND
 * literal, a CATENATE result): appendMany() delivers it, discard() drops it.
 */
export interface StagedMessage {
  /** Octets. */
  readonly size: number;
  /** Its content again, in pieces of bounded size (CATENATE copies a staged TEXT part). */
  chunks(): AsyncIterable<Buffer>;
  discard(): Promise<void>;
}

/** A message being written to scratch space piece by piece. Exactly one of finish() and abort() ends it. */
export interface MessageStager {
  /** Octets given so far. */
  readonly received: number;
  /** The next piece, in order; wait for a returned promise before giving the next. Errors are kept for finish(). */
  write(chunk: Buffer): void | Promise<void>;
  /** Every octet given: the staged message (NO [TOOBIG] past the stager's limit). */
  finish(): Promise<StagedMessage>;
  abort(): Promise<void>;
}

/** One message of an appendMany(): given whole or staged. */
export interface AppendItem {
  message: Buffer | StagedMessage;
  options?: AppendOptions;
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

/**
 * What a full-text index says about a string, for SEARCH BODY / TEXT: messages it covers that
 * are not candidates do not contain the string; candidates and messages it does not cover
 * (new mail it has not read yet) are decided by reading them, as without an index.
 */
export interface TextCandidates {
  /** Whether the index has read this message. */
  covers(uid: number): boolean;
  /** For a covered message: whether it may contain the string. */
  mayContain(uid: number): boolean;
  /** Optional: whether the index knows the message (covered) contains the string in a text part,
   * so that BODY and TEXT match without reading it; false says nothing. */
  contains?(uid: number): boolean;
  /**
   * Optional: of `count` messages with ascending UIDs (`uidAt(i)`), the places (ascending) of
   * those not covered or that may contain the string, found without asking about each one: a
   * rare word in 100,000 messages is a thousand binary searches, not 100,000 tests.
   */
  possibleAmong?(count: number, uidAt: (index: number) => number): number[];
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
  /**
   * The full-text index's answer for a string as SEARCH folds it (lower case, NFKD: mime/fold.ts), or null
   * when there is none (no index, the string is shorter than three characters). Optional: a
   * store without an index scans.
   */
  textCandidates?(folded: string): Promise<TextCandidates | null>;
  /** Drop this reference; the last one stops watching the folder. */
  release(): void;
}

/** One account's mailboxes. */
export interface MailStore {
  readonly hierarchySeparator: string;
  /**
   * The account's own folders; with `shared`, instead the other accounts' folders it may
   * look up (Courier's virtual shared folders, "#shared.OWNER.FOLDER", ./shared.ts).
   */
  listFolders(options?: { shared?: boolean }): Promise<FolderEntry[]>;
  /** Set where other accounts' folders are reachable (./shared.ts): NAMESPACE announces them. */
  readonly sharedFolders?: boolean;
  /** Set where Courier's sharable Maildirs are ("shared.", maildir/sharable-store.ts): NAMESPACE announces them. */
  readonly sharableMaildirs?: boolean;
  /**
   * Whose folder a name is, for its rights: null for the account's own, the owning account's
   * name for a shared folder, "" for a level of the shared hierarchy that belongs to nobody.
   */
  folderOwner?(name: string): string | null;
  /**
   * Whether the folder can only be opened read-only whatever the rights say: a sharable
   * Maildir's folder whose real cur/ this process may not write (Courier's shared_isrw).
   */
  readOnlyFolder?(name: string): Promise<boolean>;
  /** Whether a folder has unseen or undelivered mail (LIST's \Marked); false for one that does not exist. */
  hasNewMail?(name: string): Promise<boolean>;
  /** `specialUse`: an RFC 6154 attribute for the new folder (CREATE-SPECIAL-USE); NO [USEATTR] when the store cannot keep it. */
  createFolder(name: string, options?: { specialUse?: string }): Promise<void>;
  deleteFolder(name: string): Promise<void>;
  renameFolder(from: string, to: string): Promise<void>;
  listSubscriptions(): Promise<string[]>;
  subscribe(name: string): Promise<void>;
  unsubscribe(name: string): Promise<void>;
  /** RFC 8474 MAILBOXID of an existing folder: kept across RENAME and restarts, never given to another folder;
   * null when the store cannot keep one for it (a read-only Maildir). */
  mailboxId?(name: string): Promise<string | null>;
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
  /**
   * Scratch space for a message that arrives in pieces before its folder is known to take it:
   * `size` octets, or (undefined) as many as are written, at most `limit`.
   */
  stageMessage(size: number | undefined, limit?: number): Promise<MessageStager>;
  /** Refuses at once what appendMany() of `size` more octets to `name` would refuse (no such folder, over quota). */
  checkAppend(name: string, size: number): Promise<void>;
  /**
   * Appends the messages to `name` as one operation (MULTIAPPEND, RFC 3502): all of them, with
   * consecutive UIDs in order, or none. The staged ones are consumed either way.
   */
  appendMany(name: string, items: readonly AppendItem[]): Promise<{ uidValidity: number; uids: number[] }>;
  /**
   * An import keeping another server's UIDs: an empty folder takes that server's UIDVALIDITY
   * with a UIDNEXT of `uidNext`, so that a client that synced there keeps its cache (a folder
   * with that UIDVALIDITY already has its UIDNEXT raised to `uidNext`: the import gives the
   * UIDs below it, ascending, then raises it to the other server's). True when the folder has
   * that UIDVALIDITY now; false when it holds messages under another (then UIDs cannot be kept:
   * they name other messages to its clients).
   */
  adoptUidValidity?(name: string, uidValidity: number, uidNext: number): Promise<boolean>;
  quota(): Promise<Quota | null>;
  /** A folder's access control list (./acl.ts), inherited from its parents when it has none of its own. */
  readAcl?(name: string): Promise<AclEntry[]>;
  /** Stores a folder's list (checked by the caller with unsafeAcl), where the next readAcl finds it. */
  writeAcl?(name: string, entries: readonly AclEntry[]): Promise<void>;
  /**
   * Receive the account's MailboxEvents, made by anyone (this process or others). With
   * `messages` false, only folder names and subscriptions are watched (no watch on each
   * folder). Returns an unsubscribe.
   */
  watchMailboxes?(listener: MailboxEventListener, options: { messages: boolean }): () => void;
  close(): Promise<void>;
}
