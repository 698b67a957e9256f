// Pass-through bases for the stores and folders that sit in front of another one
// (SharedMailStore for "#shared.", maildir/sharable-store.ts for "shared."): every member of
// MailStore and Folder goes to the one below unless a subclass overrides it, so a member added
// to the interface reaches the store below without being added to each wrapper by hand (each
// wrapper once missed one). Optional methods are there only where the one below has them:
// callers test for them (a store without adoptUidValidity cannot keep UIDs).

import type {
  AppendItem,
  AppendOptions,
  AppendSink,
  CopyResult,
  DataRequest,
  FlagOperation,
  Folder,
  FolderEntry,
  FolderListener,
  FolderSnapshot,
  FolderStatus,
  MailboxEventListener,
  MailStore,
  MessageData,
  MessageStager,
  Quota,
  TextCandidates,
} from './mailstore.js';
import type { AclEntry } from './acl.js';
import type { MessageMeta } from '../mime/types.js';

/** The keys of T's optional methods. */
type OptionalMethods<T> = {
  [K in keyof T]-?: object extends Pick<T, K> ? (NonNullable<T[K]> extends (...args: never[]) => unknown ? K : never) : never;
}[keyof T];

/** Every optional method of MailStore (tsc refuses this list when one is added to the interface and not here). */
const OPTIONAL_STORE_METHODS = {
  folderOwner: true,
  readOnlyFolder: true,
  hasNewMail: true,
  mailboxId: true,
  adoptUidValidity: true,
  readAcl: true,
  writeAcl: true,
  watchMailboxes: true,
} satisfies Record<OptionalMethods<MailStore>, true>;

const OPTIONAL_FOLDER_METHODS = { textCandidates: true } satisfies Record<OptionalMethods<Folder>, true>;

/**
 * Hides, on `self`, each optional method `below` lacks and no subclass overrides: the base's
 * own pass-through would otherwise claim a capability the store below does not have.
 */
function hideAbsent(self: object, base: object, below: object, keys: readonly string[]): void {
  for (const key of keys) {
    const inherited = (Object.getPrototypeOf(self) as Record<string, unknown>)[key];
    if ((below as Record<string, unknown>)[key] === undefined && inherited === (base as Record<string, unknown>)[key]) {
      Object.defineProperty(self, key, { value: undefined, enumerable: false, configurable: true, writable: true });
    }
  }
}

export class ForwardingMailStore implements MailStore {
  constructor(protected readonly own: MailStore) {
    hideAbsent(this, ForwardingMailStore.prototype, own, Object.keys(OPTIONAL_STORE_METHODS));
  }

  get hierarchySeparator(): string {
    return this.own.hierarchySeparator;
  }
  get sharedFolders(): boolean | undefined {
    return this.own.sharedFolders;
  }
  get sharableMaildirs(): boolean | undefined {
    return this.own.sharableMaildirs;
  }
  listFolders(options?: { shared?: boolean }): Promise<FolderEntry[]> {
    return this.own.listFolders(options);
  }
  folderOwner?(name: string): string | null {
    return this.own.folderOwner!(name);
  }
  readOnlyFolder?(name: string): Promise<boolean> {
    return this.own.readOnlyFolder!(name);
  }
  hasNewMail?(name: string): Promise<boolean> {
    return this.own.hasNewMail!(name);
  }
  createFolder(name: string, options?: { specialUse?: string }): Promise<void> {
    return this.own.createFolder(name, options);
  }
  deleteFolder(name: string): Promise<void> {
    return this.own.deleteFolder(name);
  }
  renameFolder(from: string, to: string): Promise<void> {
    return this.own.renameFolder(from, to);
  }
  listSubscriptions(): Promise<string[]> {
    return this.own.listSubscriptions();
  }
  subscribe(name: string): Promise<void> {
    return this.own.subscribe(name);
  }
  unsubscribe(name: string): Promise<void> {
    return this.own.unsubscribe(name);
  }
  mailboxId?(name: string): Promise<string | null> {
    return this.own.mailboxId!(name);
  }
  folderStatus(name: string, items?: { size?: boolean }): Promise<FolderStatus> {
    return this.own.folderStatus(name, items);
  }
  openFolder(name: string, options?: { readOnly?: boolean }): Promise<Folder> {
    return this.own.openFolder(name, options);
  }
  append(name: string, message: Buffer, options?: AppendOptions): Promise<{ uidValidity: number; uid: number }> {
    return this.own.append(name, message, options);
  }
  beginAppend(name: string, size: number, options?: AppendOptions): Promise<AppendSink> {
    return this.own.beginAppend(name, size, options);
  }
  stageMessage(size: number | undefined, limit?: number): Promise<MessageStager> {
    return this.own.stageMessage(size, limit);
  }
  checkAppend(name: string, size: number): Promise<void> {
    return this.own.checkAppend(name, size);
  }
  appendMany(name: string, items: readonly AppendItem[]): Promise<{ uidValidity: number; uids: number[] }> {
    return this.own.appendMany(name, items);
  }
  adoptUidValidity?(name: string, uidValidity: number, uidNext: number): Promise<boolean> {
    return this.own.adoptUidValidity!(name, uidValidity, uidNext);
  }
  quota(): Promise<Quota | null> {
    return this.own.quota();
  }
  readAcl?(name: string): Promise<AclEntry[]> {
    return this.own.readAcl!(name);
  }
  writeAcl?(name: string, entries: readonly AclEntry[]): Promise<void> {
    return this.own.writeAcl!(name, entries);
  }
  watchMailboxes?(listener: MailboxEventListener, options: { messages: boolean }): () => void {
    return this.own.watchMailboxes!(listener, options);
  }
  close(): Promise<void> {
    return this.own.close();
  }
}

export class ForwardingFolder implements Folder {
  constructor(protected readonly inner: Folder) {
    hideAbsent(this, ForwardingFolder.prototype, inner, Object.keys(OPTIONAL_FOLDER_METHODS));
  }

  get name(): string {
    return this.inner.name;
  }
  snapshot(): FolderSnapshot {
    return this.inner.snapshot();
  }
  refresh(): Promise<void> {
    return this.inner.refresh();
  }
  subscribe(listener: FolderListener): () => void {
    return this.inner.subscribe(listener);
  }
  storeFlags(uids: readonly number[], op: FlagOperation, flags: readonly string[], options?: { unchangedSince?: number }): Promise<{ gone: number[]; modified: number[] }> {
    return this.inner.storeFlags(uids, op, flags, options);
  }
  expungedSince(modseq: number, within: (uid: number) => boolean): number[] | null {
    return this.inner.expungedSince(modseq, within);
  }
  expunge(uids: readonly number[], onRemoved?: (file: string) => void): Promise<number[]> {
    return this.inner.expunge(uids, onRemoved);
  }
  copyTo(uids: readonly number[], destination: string): Promise<CopyResult> {
    return this.inner.copyTo(uids, destination);
  }
  moveTo(uids: readonly number[], destination: string): Promise<CopyResult> {
    return this.inner.moveTo(uids, destination);
  }
  readMessage(uid: number): Promise<Buffer> {
    return this.inner.readMessage(uid);
  }
  messageData(uids: readonly number[], request: DataRequest): Promise<(MessageData | null)[]> {
    return this.inner.messageData(uids, request);
  }
  messageMeta(uid: number): Promise<MessageMeta> {
    return this.inner.messageMeta(uid);
  }
  textCandidates?(folded: string): Promise<TextCandidates | null> {
    return this.inner.textCandidates!(folded);
  }
  release(): void {
    this.inner.release();
  }
}

// tsc refuses these when MailStore or Folder gains a member the bases do not pass through.
type Unforwarded<I, C> = Exclude<keyof I, keyof C>;
const everyStoreMemberForwarded: [Unforwarded<MailStore, ForwardingMailStore>] extends [never] ? true : never = true;
const everyFolderMemberForwarded: [Unforwarded<Folder, ForwardingFolder>] extends [never] ? true : never = true;
