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

import type { MessageMeta } from '../mime/types.js';

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

export interface MessageInfo {
  readonly uid: number;
  /** System flags and keywords. Treated as immutable: a change produces a new set. */
  readonly flags: ReadonlySet<string>;
  /** RFC822.SIZE (CRLF octets). */
  readonly size: number;
  /** INTERNALDATE, ms since epoch. */
  readonly internalDate: number;
}

export interface FolderSnapshot {
  readonly uidValidity: number;
  readonly uidNext: number;
  /** Sorted by ascending UID. */
  readonly messages: readonly MessageInfo[];
}

export type FolderChange =
  /** New messages, ascending UIDs. `recent` is true for exactly one subscriber per message
   * (the session that claimed it from new/), false for all others. */
  | { kind: 'added'; messages: readonly MessageInfo[]; recent: boolean }
  | { kind: 'expunged'; uids: readonly number[] }
  | { kind: 'flags'; uid: number; flags: ReadonlySet<string> }
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
  /** Sum of RFC822.SIZE (RFC 8438 STATUS=SIZE). */
  size: number;
}

export type FlagOperation = 'add' | 'remove' | 'replace';

export interface AppendOptions {
  flags?: readonly string[];
  /** INTERNALDATE for the new message, ms since epoch; default now. */
  internalDate?: number;
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
  /** Look at the disk now and deliver what changed to the listeners (also claims new/). */
  refresh(): Promise<void>;
  /** Receive changes made by anyone (this process or others). Returns an unsubscribe. */
  subscribe(listener: FolderListener): () => void;
  storeFlags(uids: readonly number[], op: FlagOperation, flags: readonly string[]): Promise<void>;
  /** Removes the given messages; returns the UIDs really removed. */
  expunge(uids: readonly number[]): Promise<number[]>;
  copyTo(uids: readonly number[], destination: string): Promise<CopyResult>;
  /** Copy then expunge, as one operation where the storage allows it. */
  moveTo(uids: readonly number[], destination: string): Promise<CopyResult>;
  /** The raw stored message (line ends as stored). */
  readMessage(uid: number): Promise<Buffer>;
  /** Parsed structure, cached so that repeated calls do not re-read the file. */
  messageMeta(uid: number): Promise<MessageMeta>;
  /** Drop this reference; the last one stops watching the folder. */
  release(): void;
}

/** One account's mailboxes. */
export interface MailStore {
  readonly hierarchySeparator: string;
  listFolders(): Promise<FolderEntry[]>;
  createFolder(name: string): Promise<void>;
  deleteFolder(name: string): Promise<void>;
  renameFolder(from: string, to: string): Promise<void>;
  listSubscriptions(): Promise<string[]>;
  subscribe(name: string): Promise<void>;
  unsubscribe(name: string): Promise<void>;
  folderStatus(name: string): Promise<FolderStatus>;
  openFolder(name: string): Promise<Folder>;
  append(name: string, message: Buffer, options?: AppendOptions): Promise<{ uidValidity: number; uid: number }>;
  quota(): Promise<Quota | null>;
  close(): Promise<void>;
}
