// What one openFolder() call returns: it implements the Folder interface, keeps the
// session's listeners and the \Recent messages it claimed, and is released on its own.
// The folder's state and its changes come from the shared core (folder-core.ts).

import {
  type CopyResult,
  type DataRequest,
  type FlagOperation,
  type Folder,
  type FolderChange,
  type FolderListener,
  type FolderSnapshot,
  MailStoreError,
  type MessageData,
  type MessageState,
  type TextCandidates,
} from '../backend/mailstore.js';
import type { MessageMeta } from '../mime/types.js';
import { copyTo } from './folder-copy.js';
import type { FolderCore } from './folder-core.js';
import { expunge, messageData, messageMeta, readMessage, storeFlags } from './folder-ops.js';
import type { TrackedSession } from './tracker.js';

export class FolderHandle implements Folder, TrackedSession {
  private listeners: FolderListener[] = [];
  private readonly recent = new Set<number>();
  private released = false;
  /** Had its first refresh, which tells it of the messages nobody had been told of (see FolderCore.tellRecent). */
  private told = false;

  constructor(
    private readonly core: FolderCore,
    private readonly onRelease: (handle: FolderHandle) => void = () => undefined,
    /** EXAMINE: takes no \Recent, sees it on what nobody has taken. */
    readonly readOnly = false,
  ) {
    core.attach(this);
  }

  /** Whether new messages may be recent for this handle alone. */
  takesRecent(): boolean {
    return !this.readOnly && this.listeners.length > 0 && !this.released;
  }

  get name(): string {
    return this.core.name;
  }

  /** The folder's state, plus (an addition to FolderSnapshot) the UIDs that are \Recent for this handle. */
  snapshot(): FolderSnapshot & { recent: readonly number[] } {
    // Not spread: `messages` may be a getter that reads the folder's listing.
    return Object.assign(this.core.snapshot(), { recent: [...this.recent].sort((a, b) => a - b) });
  }

  async refresh(): Promise<void> {
    await this.core.refresh(this.usable());
    // The first refresh (SELECT's, after subscribing): what nobody has been told of is recent here.
    if (!this.told) {
      this.told = true;
      await this.core.tellRecent(this);
      // The full-text index catches up in the background (a folder opened from its listing had no scan to ask for it).
      this.core.textIndexDue();
    }
  }

  subscribe(listener: FolderListener): () => void {
    this.usable();
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  async storeFlags(
    uids: readonly number[],
    operation: FlagOperation,
    flags: readonly string[],
    options?: { unchangedSince?: number },
  ): Promise<{ gone: number[]; modified: number[] }> {
    return storeFlags(this.usable().core, uids, operation, flags, options);
  }

  expungedSince(modseq: number, within: (uid: number) => boolean): number[] | null {
    // What this process has applied (not what others recorded since: the view still has those).
    return this.usable().core.modseqs.expungedSince(modseq, within);
  }

  async expunge(uids: readonly number[], onRemoved?: (file: string) => void): Promise<number[]> {
    return expunge(this.usable().core, uids, onRemoved);
  }

  async copyTo(uids: readonly number[], destination: string): Promise<CopyResult> {
    return copyTo(this.usable().core, uids, destination, false);
  }

  async moveTo(uids: readonly number[], destination: string): Promise<CopyResult> {
    return copyTo(this.usable().core, uids, destination, true);
  }

  async readMessage(uid: number): Promise<Buffer> {
    return readMessage(this.usable().core, uid);
  }

  async messageMeta(uid: number): Promise<MessageMeta> {
    return messageMeta(this.usable().core, uid);
  }

  async textCandidates(folded: string): Promise<TextCandidates | null> {
    const core = this.usable().core;
    const fts = core.context.fts;
    if (!fts) return null;
    core.textIndexDue(); // whatever it has not read yet is scanned this time, and indexed for the next
    return fts.candidates(core.dir, core.uidValidity, folded);
  }

  async messageData(uids: readonly number[], request: DataRequest): Promise<(MessageData | null)[]> {
    return messageData(this.usable().core, uids, request);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.listeners = [];
    this.core.detach(this);
    this.onRelease(this);
  }

  /** Whether changes reach this folder through file-system events (false: by polling). */
  get watching(): boolean {
    return this.core.watching;
  }

  hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  deliver(change: FolderChange): void {
    if (change.kind === 'expunged') for (const uid of change.uids) this.recent.delete(uid);
    this.call(this.listeners, change);
  }

  deliverAdded(messages: readonly MessageState[], recent: boolean): void {
    if (recent) for (const message of messages) this.recent.add(message.uid);
    // Exactly one subscriber sees a message as recent: this handle's first listener.
    const [first, ...others] = this.listeners;
    if (first) this.call([first], { kind: 'added', messages, recent });
    if (others.length) this.call(others, { kind: 'added', messages, recent: false });
  }

  private call(listeners: readonly FolderListener[], change: FolderChange): void {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        this.core.context.logger?.log('error', 'folder listener failed', { folder: this.core.name, error: String(error) });
      }
    }
  }

  private usable(): this {
    if (this.released) throw new MailStoreError('Folder was closed', 'CLIENTBUG');
    if (this.core.gone) throw new MailStoreError('Folder was deleted or renamed', 'NONEXISTENT');
    return this;
  }
}
