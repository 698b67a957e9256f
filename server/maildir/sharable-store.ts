// The "shared." namespace of Courier's sharable Maildirs (see sharable.ts for what is on disk
// and why its symlinks are safe to follow): SharableMailStore puts it in front of an
// account's own store, as SharedMailStore (backend/shared.ts) puts "#shared." in front.
//
// "shared.NAME.FOLDER" is listed for every folder of every sharable Maildir (Courier's
// mailbox_scan lists them with the account's folders; LSUB lists the subscribed ones). Opening
// one (SELECT, EXAMINE, STATUS) subscribes first, as Courier's decode_valid_mailbox does, syncs
// the private folder's links (also at every NOOP and CHECK, where Courier's imapscan syncs) and
// opens the private folder as a Maildir of its own, whose message links only may be followed,
// to the real folder only. Flags are this user's (the link names). It is read-only unless this
// process may write the real folder's cur/ (Courier's shared_isrw); then EXPUNGE removes the
// real message, and APPEND and COPY into it write into the real folder, never the private one.

import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import { type AclEntry } from '../backend/acl.js';
import { ForwardingFolder, ForwardingMailStore } from '../backend/forwarding.js';
import {
  MailStoreError,
  type AppendItem,
  type AppendOptions,
  type AppendSink,
  type CopyResult,
  type Folder,
  type FolderEntry,
  type FolderListener,
  type FolderStatus,
  type MailStore,
} from '../backend/mailstore.js';
import { copyAcross } from '../backend/shared.js';
import { isSharableName, SHARABLE_ROOT } from '../backend/sharable-names.js';
import type { MessageLinks } from './folder-entry.js';
import {
  checkedRealFolder,
  linkedMessageTarget,
  listShared,
  listSharable,
  privateDir,
  readSharableList,
  realFolderOf,
  removeRealMessage,
  sharableWritable,
  subscribeSharable,
  syncSharable,
  unsubscribeSharable,
  withoutFenced,
  type SharableMaildir,
} from './sharable.js';

const PREFIX = `${SHARABLE_ROOT}.`;
const NONEXISTENT = 'Mailbox does not exist, or must be subscribed to.';
const READ_ONLY = 'This shared folder is read-only';
/** How long the events of one change to a real folder are gathered before the links are synced. */
const SYNC_GATHER_MS = 30;

export interface SharableOptions {
  /** The account's Maildir (where shared-maildirs and shared-folders/ are). */
  root: string;
  /** The system-wide list (Courier's $sysconfdir/maildirshared); null for none. */
  systemFile: string | null;
  /** Opens a Maildir: a private folder (with its message links) or a sharable Maildir itself (without). */
  open(root: string, messageLinks?: MessageLinks): Promise<MailStore>;
  /** Read the Maildir's own shared-maildirs too, as Courier does (default true; imapd-server: false). */
  ownList?: boolean;
  /**
   * Never change the sharable Maildirs, whatever this process may write: no EXPUNGE, APPEND,
   * COPY or MOVE into or out of them; flags stay this user's (imapd-server, where all accounts
   * are one uid and file permissions cannot tell them apart).
   */
  readOnly?: boolean;
  /** Real paths no listed Maildir may be, lie in or hold (the accounts' Maildirs). */
  fenced?: readonly string[];
  /** NAMESPACE as Courier's imapd: "#shared." too, whatever is configured (the stdio imapd). */
  courierNamespace?: boolean;
}

interface Opened {
  real: string;
  store: Promise<MailStore>;
}

/** Names in "shared." are the sharable Maildirs'; everything else is the account's own store's (ForwardingMailStore). */
export class SharableMailStore extends ForwardingMailStore {
  private readonly opened = new Map<string, Opened>();

  constructor(
    own: MailStore,
    private readonly options: SharableOptions,
  ) {
    super(own);
  }

  override get sharedFolders(): boolean {
    // Courier's imapd announces both shared namespaces whether or not anything is shared.
    return (this.options.courierNamespace ?? false) || this.own.sharedFolders === true;
  }
  /** NAMESPACE announces "shared.". */
  override get sharableMaildirs(): boolean {
    return true;
  }

  private list(): SharableMaildir[] {
    const list = readSharableList(this.options.ownList === false ? null : this.options.root, this.options.systemFile);
    return this.options.fenced ? withoutFenced(list, this.options.fenced) : list;
  }

  /** Whether a real folder may be changed through this store (Courier's shared_isrw, unless read-only for all). */
  private writable(real: string): boolean {
    return !this.options.readOnly && sharableWritable(real);
  }

  override folderOwner(name: string): string | null {
    // Nobody's: the rights are those Courier gives "anyone" (readAcl).
    if (isSharableName(name)) return '';
    return this.own.folderOwner?.(name) ?? null;
  }

  override async listFolders(options: { shared?: boolean } = {}): Promise<FolderEntry[]> {
    // Other accounts' folders ("#shared.") only where the store below offers them.
    if (options.shared) return this.own.sharedFolders ? this.own.listFolders(options) : [];
    const out = await this.own.listFolders(options);
    for (const name of listSharable(this.list())) out.push({ name: PREFIX + name, selectable: true });
    return out;
  }

  override async listSubscriptions(): Promise<string[]> {
    const own = await this.own.listSubscriptions();
    return [...own, ...listShared(this.options.root).map((n) => PREFIX + n)];
  }

  override async subscribe(name: string): Promise<void> {
    if (!isSharableName(name)) return this.own.subscribe(name);
    if (!subscribeSharable(this.options.root, this.list(), sharedPart(name))) throw new MailStoreError('Cannot subscribe to this folder.', 'NONEXISTENT');
  }

  override async unsubscribe(name: string): Promise<void> {
    if (!isSharableName(name)) return this.own.unsubscribe(name);
    await this.forget(name);
    unsubscribeSharable(this.options.root, sharedPart(name));
  }

  override async hasNewMail(name: string): Promise<boolean> {
    if (isSharableName(name)) return false;
    return (await this.own.hasNewMail?.(name)) ?? false;
  }

  override async readOnlyFolder(name: string): Promise<boolean> {
    if (!isSharableName(name)) return (await this.own.readOnlyFolder?.(name)) ?? false;
    // The folder the list names (a first SELECT subscribes only after this is asked).
    const real = realFolderOf(this.list(), sharedPart(name));
    // Read-only for all: the session stays read-write for this user's own flags (its rights say what else).
    if (this.options.readOnly) return real === null;
    return real === null || !sharableWritable(real);
  }

  override createFolder(name: string, options?: { specialUse?: string }): Promise<void> {
    if (isSharableName(name)) return Promise.reject(new MailStoreError('Folders cannot be created in the shared namespace', 'CANNOT'));
    return this.own.createFolder(name, options);
  }

  /** As Courier: DELETE of a sharable folder unsubscribes from it, nothing more. */
  override async deleteFolder(name: string): Promise<void> {
    if (!isSharableName(name)) return this.own.deleteFolder(name);
    return this.unsubscribe(name);
  }

  override renameFolder(from: string, to: string): Promise<void> {
    if (isSharableName(from) || isSharableName(to)) return Promise.reject(new MailStoreError('Shared folders cannot be renamed', 'CANNOT'));
    return this.own.renameFolder(from, to);
  }

  override async mailboxId(name: string): Promise<string | null> {
    if (isSharableName(name)) return null;
    return (await this.own.mailboxId?.(name)) ?? null;
  }

  override async folderStatus(name: string, items?: { size?: boolean }): Promise<FolderStatus> {
    if (!isSharableName(name)) return this.own.folderStatus(name, items);
    const { store } = await this.privateFolder(name);
    return (await store).folderStatus('INBOX', items);
  }

  override async openFolder(name: string, options?: { readOnly?: boolean }): Promise<Folder> {
    if (!isSharableName(name)) return new SharableAwareFolder(await this.own.openFolder(name, options), this, null);
    const opened = await this.privateFolder(name);
    const writable = this.writable(opened.real);
    // Flags are the private folder's: read-only for all still lets this user keep them.
    const readOnly = (options?.readOnly ?? false) || (!writable && !this.options.readOnly);
    const inner = await (await opened.store).openFolder('INBOX', { readOnly });
    return new SharableAwareFolder(inner, this, { name, real: opened.real, writable, sync: () => this.sync(name) });
  }

  // APPEND into a sharable folder writes into the real folder (Courier appends to ".../shared").
  override async append(name: string, message: Buffer, options?: AppendOptions): Promise<{ uidValidity: number; uid: number }> {
    if (!isSharableName(name)) return this.own.append(name, message, options);
    const t = await this.realTarget(name);
    return t.store.append(t.inner, message, options);
  }

  override async beginAppend(name: string, size: number, options?: AppendOptions): Promise<AppendSink> {
    if (!isSharableName(name)) return this.own.beginAppend(name, size, options);
    const t = await this.realTarget(name);
    return t.store.beginAppend(t.inner, size, options);
  }

  override async checkAppend(name: string, size: number): Promise<void> {
    if (!isSharableName(name)) return this.own.checkAppend(name, size);
    const t = await this.realTarget(name);
    return t.store.checkAppend(t.inner, size);
  }

  override async appendMany(name: string, items: readonly AppendItem[]): Promise<{ uidValidity: number; uids: number[] }> {
    if (!isSharableName(name)) return this.own.appendMany(name, items);
    const t = await this.realTarget(name);
    return t.store.appendMany(t.inner, items);
  }

  /** A private folder's UIDs are this user's view of the real folder's: never another server's. */
  override async adoptUidValidity(name: string, uidValidity: number, uidNext: number): Promise<boolean> {
    if (isSharableName(name)) return false;
    return (await this.own.adoptUidValidity?.(name, uidValidity, uidNext)) ?? false;
  }

  /**
   * Courier's acl_read_folder for the legacy namespace: "shared" and "shared.NAME" may be
   * looked at; a folder may be read by anyone, and changed when its new/ is writable.
   */
  override async readAcl(name: string): Promise<AclEntry[]> {
    if (!isSharableName(name)) return this.own.readAcl ? this.own.readAcl(name) : [];
    const real = name.split('.').length > 2 ? realFolderOf(this.list(), sharedPart(name)) : null;
    if (real === null) return [{ identifier: 'anyone', rights: 'l' }];
    return [{ identifier: 'anyone', rights: this.writable(real) ? 'lrswixte' : 'lrsw' }];
  }

  override async writeAcl(name: string, entries: readonly AclEntry[]): Promise<void> {
    if (isSharableName(name) || !this.own.writeAcl) throw new MailStoreError('Cannot modify ACLs on this mailbox.', 'CANNOT');
    return this.own.writeAcl(name, entries);
  }

  override async close(): Promise<void> {
    const stores = [...this.opened.values()].map((o) => o.store);
    this.opened.clear();
    for (const store of stores) await (await store.catch(() => null))?.close();
    await this.own.close();
  }

  /** The store and name where a COPY or APPEND into `name` writes. */
  async target(name: string): Promise<{ store: MailStore; inner: string } | null> {
    return isSharableName(name) ? this.realTarget(name) : null;
  }

  /** Syncs a subscribed folder's links with its real folder (Courier's shared_sync). */
  sync(name: string): void {
    const real = checkedRealFolder(this.options.root, this.list(), sharedPart(name));
    const dir = privateDir(this.options.root, sharedPart(name));
    if (real !== null && dir !== null) syncSharable(dir, real);
  }

  /** The private folder of a sharable name, subscribed to if it was not, synced, opened. */
  private async privateFolder(name: string): Promise<Opened> {
    const shared = sharedPart(name);
    const list = this.list();
    const dir = privateDir(this.options.root, shared);
    if (dir === null) throw new MailStoreError(NONEXISTENT, 'NONEXISTENT');
    let real = checkedRealFolder(this.options.root, list, shared);
    if (real === null) {
      // Never over something already there that failed the check: it is not ours to replace.
      if (!subscribeSharable(this.options.root, list, shared)) throw new MailStoreError(NONEXISTENT, 'NONEXISTENT');
      real = checkedRealFolder(this.options.root, list, shared);
      if (real === null) throw new MailStoreError(NONEXISTENT, 'NONEXISTENT');
    }
    syncSharable(dir, real);
    let opened = this.opened.get(shared);
    if (opened && opened.real !== real) {
      await this.forget(name);
      opened = undefined;
    }
    if (!opened) {
      const checkedReal = real;
      opened = { real, store: this.options.open(dir, (file) => linkedMessageTarget(checkedReal, file)) };
      this.opened.set(shared, opened);
    }
    await opened.store;
    return opened;
  }

  private async forget(name: string): Promise<void> {
    const shared = sharedPart(name);
    const opened = this.opened.get(shared);
    this.opened.delete(shared);
    await (await opened?.store.catch(() => null))?.close();
  }

  /** The sharable Maildir itself, opened as a Maildir (no links followed), and the folder's name there. */
  private async realTarget(name: string): Promise<{ store: MailStore; inner: string }> {
    const shared = sharedPart(name);
    const real = realFolderOf(this.list(), shared);
    if (real === null) throw new MailStoreError(NONEXISTENT, 'TRYCREATE');
    if (!this.writable(real)) throw new MailStoreError(READ_ONLY, 'NOPERM');
    const key = `real:${path.dirname(real)}`;
    let opened = this.opened.get(key);
    if (!opened) {
      opened = { real, store: this.options.open(path.dirname(real)) };
      this.opened.set(key, opened);
    }
    return { store: await opened.store, inner: `INBOX.${path.basename(real).slice(1)}` };
  }
}

/** "NAME.FOLDER" of "shared.NAME.FOLDER". */
function sharedPart(name: string): string {
  return name.slice(PREFIX.length);
}

interface SharableView {
  name: string;
  real: string;
  /** Whether its real messages may be removed (EXPUNGE, MOVE out). */
  writable: boolean;
  sync(): void;
}

/**
 * A folder opened through SharableMailStore: COPY and MOVE into a sharable folder go to its
 * real folder, and out of one they copy the messages' contents (never the links); a sharable
 * folder syncs at each refresh, and its EXPUNGE removes the real messages.
 */
class SharableAwareFolder extends ForwardingFolder {
  /** Watchers of the real folder's new/ and cur/ while someone listens (IDLE in real time). */
  private watchers: FSWatcher[] = [];
  private listeners = 0;
  private pending: NodeJS.Timeout | undefined;

  constructor(
    inner: Folder,
    private readonly stores: SharableMailStore,
    private readonly sharable: SharableView | null,
  ) {
    super(inner);
  }

  override get name(): string {
    return this.sharable?.name ?? this.inner.name;
  }
  override async refresh(): Promise<void> {
    this.sharable?.sync();
    return this.inner.refresh();
  }
  override subscribe(listener: FolderListener): () => void {
    const off = this.inner.subscribe(listener);
    if (this.sharable && this.listeners++ === 0) this.watchReal(this.sharable.real);
    let done = false;
    return () => {
      off();
      if (done || !this.sharable) return;
      done = true;
      if (--this.listeners === 0) this.unwatch();
    };
  }

  /**
   * A delivery into the real folder touches nothing of the private one, whose own watcher
   * therefore sees nothing: the real new/ and cur/ are watched too, and a change there syncs
   * the links and looks again (briefly gathered, as a delivery is several events).
   */
  private watchReal(real: string): void {
    const changed = (): void => {
      if (this.pending) return;
      this.pending = setTimeout(() => {
        this.pending = undefined;
        this.refresh().catch(() => undefined);
      }, SYNC_GATHER_MS);
      this.pending.unref();
    };
    for (const sub of ['new', 'cur']) {
      try {
        const watcher = watch(path.join(real, sub), { persistent: false }, changed);
        watcher.on('error', () => watcher.close());
        this.watchers.push(watcher);
      } catch {
        /* no watching possible (inotify limits): NOOP and IDLE's timer still sync */
      }
    }
  }

  private unwatch(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
  }

  override expunge(uids: readonly number[], onRemoved?: (file: string) => void): Promise<number[]> {
    const sharable = this.sharable;
    if (!sharable) return this.inner.expunge(uids, onRemoved);
    // Refused here too, whatever the rights said: the link would come back at the next sync anyway.
    if (!sharable.writable) return Promise.reject(new MailStoreError(READ_ONLY, 'NOPERM'));
    return this.inner.expunge(uids, (file) => {
      removeRealMessage(sharable.real, path.basename(file));
      onRemoved?.(file);
    });
  }
  override release(): void {
    this.unwatch();
    this.inner.release();
  }

  override async copyTo(uids: readonly number[], destination: string): Promise<CopyResult> {
    const target = await this.stores.target(destination);
    if (target) return copyAcross(this.inner, uids, target.store, target.inner);
    if (this.sharable) return copyAcross(this.inner, uids, this.stores, destination);
    return this.inner.copyTo(uids, destination);
  }

  override async moveTo(uids: readonly number[], destination: string): Promise<CopyResult> {
    if (!this.sharable && !isSharableName(destination)) return this.inner.moveTo(uids, destination);
    if (this.sharable && !this.sharable.writable) throw new MailStoreError(READ_ONLY, 'NOPERM');
    const result = await this.copyTo(uids, destination);
    await this.expunge(result.mapping.map(([uid]) => uid));
    return result;
  }
}
