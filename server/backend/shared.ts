// Courier's virtual shared folders (README.sharedfolders, "Virtual shared folders"): one
// account opens another account's folder through that folder's ACL. Courier names them
// "#shared.OWNER.FOLDER" ("#shared.alice" is alice's INBOX, "#shared.alice.Projects" her
// INBOX.Projects; maildirinfocpp.C), finds OWNER's Maildir in the shared index
// (IMAP_SHAREDINDEXFILE, here also made from the account store), and gives the logged-in
// user the rights the owner's ACL grants "anyone" or "user=NAME" (maildiracltcpp.C).
//
// SharedMailStore puts that in front of the account's own store: names in "#shared." go to
// the owner's store (whose checks keep every path inside the owner's Maildir: a name is only
// ever "INBOX" plus levels there), all others to the account's own. Folders opened through
// it carry the name the client used, and a COPY or MOVE between two accounts' folders is an
// APPEND into the other store, never a copy inside the wrong Maildir. Rights are enforced by
// the commands (server/imap/rights.ts), which ask folderOwner() whose ACL applies.

import { userRights, type AclEntry } from './acl.js';
import { ForwardingFolder, ForwardingMailStore } from './forwarding.js';
import {
  MailStoreError,
  type AppendItem,
  type AppendOptions,
  type AppendSink,
  type CopyResult,
  type Folder,
  type FolderEntry,
  type FolderStatus,
  type MailStore,
} from './mailstore.js';

/** Courier's NEWSHARED without its separator. */
export const SHARED_ROOT = '#shared';
const PREFIX = `${SHARED_ROOT}.`;
const NOT_A_FOLDER = 'This is not a folder';
/** route()'s refusal of a group's level (a \\Noselect name with accounts below it). */
const GROUP_LEVEL = 'This is a group of accounts, not a folder';

/** One account of the shared index: its name as listed, and its Maildir (null when it cannot be opened now). */
export interface SharedAccount {
  readonly name: string;
  /**
   * The account groups it is listed under (Courier's index entries "GROUP<tab>*<tab>FILE",
   * README.sharedfolders): its folders are then "#shared.GROUP.NAME.FOLDER".
   */
  readonly groups?: readonly string[];
  open(): Promise<MailStore | null>;
}

/** The levels an account's folders are below, after "#shared.": its groups, then its name. */
function levelsOf(account: SharedAccount): string[] {
  return [...(account.groups ?? []), account.name].map(sharedLevel);
}

/** Who may be looked at: the other accounts (the index leaves the logged-in one out, as Courier does). */
export interface SharedIndex {
  accounts(): Promise<readonly SharedAccount[]>;
}

/** Whether a store name lies in the shared hierarchy ("#shared" itself included). */
export function isSharedName(name: string): boolean {
  return name === SHARED_ROOT || name.startsWith(PREFIX);
}

/**
 * An account name as a folder level: Courier's maildir_info_imapmunge replaces "." and "/"
 * (not allowed in a level) by spaces, so "alice@example.com" is "#shared.alice@example com".
 */
export function sharedLevel(accountName: string): string {
  return accountName.replace(/[./]/g, ' ');
}

interface Route {
  /** The owning account's name as the index gives it. */
  owner: string;
  store: MailStore;
  /** The name in the owner's store: "INBOX" or "INBOX.<rest>". */
  inner: string;
}

/**
 * Names in "#shared." go to their owner's store; everything else (subscriptions, which are the
 * logged-in account's with shared names included, as Courier keeps "#shared...." lines in its
 * courierimapsubscribed; staging, quota, NOTIFY's watch of the account's own folders, RFC 5465
 * 6 "personal") is the account's own store's (ForwardingMailStore).
 */
export class SharedMailStore extends ForwardingMailStore {
  private readonly opened = new Map<string, Promise<MailStore | null>>();
  /** The index as last read, for folderOwner (which cannot wait for it). */
  private known: readonly SharedAccount[] = [];

  constructor(
    own: MailStore,
    /** The logged-in account, for its rights on others' folders. */
    private readonly user: string,
    private readonly index: SharedIndex,
  ) {
    super(own);
  }

  override get sharedFolders(): boolean {
    return true;
  }

  override folderOwner(name: string): string | null {
    // The account's own names, or what the store below says (the sharable Maildirs' belong to nobody).
    if (!isSharedName(name)) return this.own.folderOwner?.(name) ?? null;
    if (name === SHARED_ROOT) return '';
    const levels = name.slice(PREFIX.length).split('.');
    for (const account of this.known) {
      const own = levelsOf(account);
      if (own.every((l, i) => levels[i] === l)) return account.name;
      // A group's level, above any account.
      if (levels.length < own.length && levels.every((l, i) => own[i] === l)) return '';
    }
    return levels[0] === '' ? '' : levels[0]!;
  }

  private async accounts(): Promise<readonly SharedAccount[]> {
    this.known = await this.index.accounts();
    return this.known;
  }

  override async listFolders(options: { shared?: boolean } = {}): Promise<FolderEntry[]> {
    if (!options.shared) return this.own.listFolders();
    const out: FolderEntry[] = [];
    const groups = new Set<string>();
    for (const account of await this.accounts()) {
      // Courier lists every group, whatever is shared in it (mailboxlist.C list_newshared_cb).
      const levels = levelsOf(account);
      for (let i = 1; i < levels.length; i++) groups.add(PREFIX + levels.slice(0, i).join('.'));
      const store = await this.storeOf(account);
      if (!store) continue;
      const base = PREFIX + levels.join('.');
      for (const entry of await store.listFolders()) {
        if (!entry.selectable || !store.readAcl) continue;
        // Only what the owner's ACL lets this user look up (Courier's folder_entry).
        if (!userRights(await store.readAcl(entry.name), this.user).includes('l')) continue;
        out.push({ name: base + entry.name.slice('INBOX'.length), selectable: true });
      }
    }
    for (const group of groups) if (!out.some((e) => e.name === group)) out.push({ name: group, selectable: false });
    return out;
  }

  override async hasNewMail(name: string): Promise<boolean> {
    const r = await this.route(name);
    if (!r) return (await this.own.hasNewMail?.(name)) ?? false;
    return (await r.store.hasNewMail?.(r.inner)) ?? false;
  }

  override async createFolder(name: string, options?: { specialUse?: string }): Promise<void> {
    const r = await this.route(name);
    return r ? r.store.createFolder(r.inner, options) : this.own.createFolder(name, options);
  }

  override async deleteFolder(name: string): Promise<void> {
    const r = await this.route(name);
    return r ? r.store.deleteFolder(r.inner) : this.own.deleteFolder(name);
  }

  override async renameFolder(from: string, to: string): Promise<void> {
    const a = await this.route(from);
    const b = await this.route(to);
    if (!a && !b) return this.own.renameFolder(from, to);
    if (!a || !b || a.store !== b.store) throw new MailStoreError('A folder cannot be moved to another account', 'CANNOT');
    return a.store.renameFolder(a.inner, b.inner);
  }

  /** RFC 8474 MAILBOXID: a shared folder has its owner's id (it is the same folder). */
  override async mailboxId(name: string): Promise<string | null> {
    const r = await this.route(name);
    if (r) return r.store.mailboxId ? r.store.mailboxId(r.inner) : null;
    if (isSharedName(name)) return null;
    return this.own.mailboxId ? this.own.mailboxId(name) : null;
  }

  override async folderStatus(name: string, items?: { size?: boolean }): Promise<FolderStatus> {
    const r = await this.route(name);
    return r ? r.store.folderStatus(r.inner, items) : this.own.folderStatus(name, items);
  }

  override async openFolder(name: string, options?: { readOnly?: boolean }): Promise<Folder> {
    const r = await this.route(name);
    const inner = r ? await r.store.openFolder(r.inner, options) : await this.own.openFolder(name, options);
    return new RoutedFolder(inner, name, r?.store ?? this.own, this);
  }

  override async append(name: string, message: Buffer, options?: AppendOptions): Promise<{ uidValidity: number; uid: number }> {
    const r = await this.route(name);
    return r ? r.store.append(r.inner, message, options) : this.own.append(name, message, options);
  }

  override async beginAppend(name: string, size: number, options?: AppendOptions): Promise<AppendSink> {
    const r = await this.route(name);
    return r ? r.store.beginAppend(r.inner, size, options) : this.own.beginAppend(name, size, options);
  }

  override async checkAppend(name: string, size: number): Promise<void> {
    const r = await this.route(name);
    return r ? r.store.checkAppend(r.inner, size) : this.own.checkAppend(name, size);
  }

  override async appendMany(name: string, items: readonly AppendItem[]): Promise<{ uidValidity: number; uids: number[] }> {
    const r = await this.route(name);
    return r ? r.store.appendMany(r.inner, items) : this.own.appendMany(name, items);
  }

  /** An import keeping UIDs into another account's folder keeps them there (as append, routed). */
  override async adoptUidValidity(name: string, uidValidity: number, uidNext: number): Promise<boolean> {
    const r = await this.route(name);
    const store = r ? r.store : this.own;
    return store.adoptUidValidity ? store.adoptUidValidity(r ? r.inner : name, uidValidity, uidNext) : false;
  }

  override async readOnlyFolder(name: string): Promise<boolean> {
    if (isSharedName(name)) return false; // the rights decide (select.ts)
    return (await this.own.readOnlyFolder?.(name)) ?? false;
  }

  override async readAcl(name: string): Promise<AclEntry[]> {
    // The hierarchy's own levels: everyone may look, nothing more (Courier's "Intermediate #shared node").
    const anyone: AclEntry[] = [{ identifier: 'anyone', rights: 'l' }];
    if (isSharedName(name) && this.folderOwner(name) === '') return anyone;
    const r = await this.route(name).catch((error: unknown) => {
      if (error instanceof MailStoreError && error.message === GROUP_LEVEL) return 'group' as const;
      throw error;
    });
    if (r === 'group') return anyone;
    if (!r) {
      if (isSharedName(name)) return [];
      return this.own.readAcl ? this.own.readAcl(name) : [];
    }
    return r.store.readAcl ? r.store.readAcl(r.inner) : [];
  }

  override async writeAcl(name: string, entries: readonly AclEntry[]): Promise<void> {
    const r = await this.route(name);
    const store = r ? r.store : isSharedName(name) ? null : this.own;
    if (!store?.writeAcl) throw new MailStoreError('Cannot modify ACLs on this mailbox.', 'CANNOT');
    return store.writeAcl(r ? r.inner : name, entries);
  }

  override async close(): Promise<void> {
    const others = await Promise.all(this.opened.values());
    this.opened.clear();
    for (const store of others) await store?.close();
    await this.own.close();
  }

  /** Where a name lives: null for the account's own folders; NONEXISTENT for a shared name naming no account. */
  async route(name: string): Promise<Route | null> {
    if (!isSharedName(name)) return null;
    const levels = name.slice(PREFIX.length).split('.');
    if (name === SHARED_ROOT || levels[0] === '') throw new MailStoreError(NOT_A_FOLDER, 'NONEXISTENT');
    let group = false;
    for (const account of await this.accounts()) {
      const own = levelsOf(account);
      if (!own.every((l, i) => levels[i] === l)) {
        group ||= levels.length < own.length && levels.every((l, i) => own[i] === l);
        continue;
      }
      const store = await this.storeOf(account);
      if (!store) break;
      const rest = levels.slice(own.length);
      return { owner: account.name, store, inner: ['INBOX', ...rest].join('.') };
    }
    throw new MailStoreError(group ? GROUP_LEVEL : 'Folder does not exist', 'NONEXISTENT');
  }

  /** The store a name lives in, and its name there. */
  async locate(name: string): Promise<{ store: MailStore; inner: string }> {
    const r = await this.route(name);
    return r ? { store: r.store, inner: r.inner } : { store: this.own, inner: name };
  }

  private storeOf(account: SharedAccount): Promise<MailStore | null> {
    // By its levels: two groups may each list an account of the same name.
    const key = levelsOf(account).join('.');
    let store = this.opened.get(key);
    if (!store) {
      store = account.open().catch(() => null);
      this.opened.set(key, store);
    }
    return store;
  }
}

/** A folder as the session sees it through SharedMailStore: its own name, and COPY or MOVE routed by destination. */
class RoutedFolder extends ForwardingFolder {
  constructor(
    inner: Folder,
    private readonly routedName: string,
    private readonly home: MailStore,
    private readonly stores: SharedMailStore,
  ) {
    super(inner);
  }

  override get name(): string {
    return this.routedName;
  }

  override async copyTo(uids: readonly number[], destination: string): Promise<CopyResult> {
    const target = await this.stores.locate(destination);
    if (target.store === this.home) return this.inner.copyTo(uids, target.inner);
    return copyAcross(this.inner, uids, target.store, target.inner);
  }

  override async moveTo(uids: readonly number[], destination: string): Promise<CopyResult> {
    const target = await this.stores.locate(destination);
    if (target.store === this.home) return this.inner.moveTo(uids, target.inner);
    const result = await copyAcross(this.inner, uids, target.store, target.inner);
    await this.inner.expunge(result.mapping.map(([uid]) => uid));
    return result;
  }
}

/** COPY into another account's Maildir: each message APPENDed there with its flags and INTERNALDATE, one at a time. */
export async function copyAcross(source: Folder, uids: readonly number[], store: MailStore, name: string): Promise<CopyResult> {
  const flags = new Map(source.snapshot().messages.map((m) => [m.uid, m.flags]));
  // Refused before anything is copied when the destination does not exist (TRYCREATE).
  let uidValidity: number;
  try {
    uidValidity = (await store.folderStatus(name, { size: false })).uidValidity;
  } catch (error) {
    if (error instanceof MailStoreError && error.code === 'NONEXISTENT') throw new MailStoreError('Folder does not exist', 'TRYCREATE');
    throw error;
  }
  const mapping: [number, number][] = [];
  for (const uid of uids) {
    const [data] = await source.messageData([uid], { raw: true, info: true });
    if (!data?.raw) continue;
    const added = await store.append(name, data.raw, { flags: [...(flags.get(uid) ?? [])], internalDate: data.internalDate });
    uidValidity = added.uidValidity;
    mapping.push([uid, added.uid]);
  }
  return { uidValidity, mapping };
}
