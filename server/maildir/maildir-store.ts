// MaildirStore: one account's Maildir++ as a MailStore (server/backend/mailstore.ts),
// compatible with Courier-IMAP on disk, so that Courier, maildrop and this server can
// work on the same Maildir (see README-style notes at the top of each module).

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AppendItem,
  type AppendOptions,
  type AppendSink,
  type MessageStager,
  type Folder,
  type FolderEntry,
  type FolderStatus,
  type MailboxEventListener,
  type MailStore,
  MailStoreError,
  type Quota,
} from '../backend/mailstore.js';
import { ENVELOPE_WIRE_VERSION, envelopeWire } from '../wire/render.js';
import type { Logger } from '../log/logger.js';
import { sharedParsePool } from './parsepool.js';
import { parseHeaderMeta, parseMessage as defaultParseMessage, parseStructure } from '../mime/parse.js';
import type { Envelope, MessageMeta } from '../mime/types.js';
import { baseOf, parseFileName } from './filenames.js';
import { openStager } from './appendsink.js';
import { adoptUidValidity } from './adopt-uids.js';
import type { FolderCore } from './folder-core.js';
import type { FolderContext, MessageLinks } from './folder-entry.js';
import { FolderHandle } from './folder-handle.js';
import { messageData, purgeOlderThan } from './folder-ops.js';
import { existingCore, folderCore, saveCaches } from './folder-registry.js';
import { ensureFolderTmp, folderDirState, isRealDirectory, resolveFolderDir } from './folderdir.js';
import { hasNewMail } from './newmail.js';
import { readFolderAcl, writeFolderAcl } from './acl.js';
import type { AclEntry } from '../backend/acl.js';
import { isSharedName } from '../backend/shared.js';
import { errorCode } from './fsutil.js';
import { accountTracker } from './account-watch.js';
import {
  canonicalFolderName,
  DEFAULT_SPECIAL_USE,
  folderDirectory,
  folderNameOfEntry,
  INBOX,
  parentNames,
  SEPARATOR,
  specialUseOf,
} from './names.js';
import { MaildirQuota } from './quota.js';
import { mailboxId } from './objectid.js';
import { sharedFullTextIndex, type CatchUpOptions, type FtsProgress } from './fts/fts-index.js';
import { recordedSpecialUse } from './specialuse.js';
import type { ChangeBus } from './change-bus.js';
import { appendMany, appendTarget, beginAppend, stagingDir } from './maildir-append.js';
import { createFolder, deleteFolder, renameFolder } from './maildir-folders.js';
import { editSubscriptions, readSubscriptions, SUBSCRIPTIONS_FILE } from './maildir-subscriptions.js';

export interface MaildirStoreOptions {
  /** The Maildir: INBOX itself, with the other folders as ".Name" directories in it. */
  root: string;
  /** Create the Maildir (cur/ new/ tmp/) when it is missing. Default false. */
  create?: boolean;
  /** IMAP_USELOCKS: take Courier's tmp/courier.lock around index updates. Default true. */
  useLocks?: boolean;
  /** IMAP_KEYWORDS: store keywords (courierimapkeywords/). Default true. */
  keywords?: boolean;
  /** Notice changes made by others through inotify. Default true; polling is the fallback. */
  watch?: boolean;
  /** Polling period when watching is off or impossible (inotify limits). Default 10 s. */
  pollIntervalMs?: number;
  /** Other servers on the same Maildirs (several imapd-server processes): change-bus.ts. Default none. */
  changeBus?: ChangeBus;
  /** IMAP_TRASHFOLDERNAME: this folder does not count against the quota. Default "Trash". */
  trashFolder?: string;
  /** RFC 6154 attribute by folder name directly under INBOX (lower case). Default DEFAULT_SPECIAL_USE. */
  specialUse?: Readonly<Record<string, string>>;
  /** MIME parser for messageMeta(). Default: server/mime/parse.ts. */
  parseMessage?: (raw: Buffer) => MessageMeta;
  /** Version of that parser; parsed structures are cached on disk only when it is known. */
  parserVersion?: string;
  /** How the ENVELOPE bytes kept in the caches are made. Default: server/wire's, for clients without UTF8=ACCEPT. */
  envelopeFormat?: EnvelopeFormat;
  /** Parsed structures kept in memory per folder when they cannot be cached on disk. Default 20000. */
  metaCacheEntries?: number;
  /** How long a folder nobody has open keeps its state and caches. Default 60 s. */
  idleRetentionMs?: number;
  /** IMAP_FTS_INDEX: keep a full-text index of each folder for SEARCH BODY / TEXT (fts/). Default false. */
  fullTextIndex?: boolean;
  /** Only for a sharable Maildir's private folder (sharable.ts): its checked message links. */
  messageLinks?: MessageLinks;
  logger?: Logger;
}

/** ENVELOPE bytes for the caches, and the version of those bytes (cached bytes of another version are made again). */
export interface EnvelopeFormat {
  render: (envelope: Envelope) => Buffer;
  version: string;
}

/** The IMAP ENVELOPE as sent to clients without UTF8=ACCEPT. */
export const WIRE_ENVELOPE: EnvelopeFormat = { render: envelopeWire, version: ENVELOPE_WIRE_VERSION };

export async function openMaildirStore(options: MaildirStoreOptions): Promise<MaildirStore> {
  const given = path.resolve(options.root);
  if (options.create) {
    for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(given, sub), { recursive: true, mode: 0o700 });
  }
  // One name per Maildir: folder state, queues and locks are keyed by directory path.
  const root = await fs.realpath(given).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') throw new Error(`${given} is not a Maildir (it does not exist)`);
    throw error;
  });
  // INBOX's cur/ new/ tmp/ are held to the rule of every folder (folderdir.ts): real directories.
  for (const sub of ['cur', 'new', 'tmp']) {
    if (!isRealDirectory(path.join(root, sub))) throw new Error(`${given} is not a Maildir (${sub}/ is missing or not a real directory)`);
  }
  const parseMessage = options.parseMessage ?? defaultParseMessage;
  const trashFolder = options.trashFolder ?? 'Trash';
  const parserVersion = options.parserVersion ?? (options.parseMessage ? undefined : mimeCodeVersion());
  const envelopeFormat = options.envelopeFormat ?? WIRE_ENVELOPE;
  const context: FolderContext = {
    root,
    useLocks: options.useLocks ?? true,
    keywords: options.keywords ?? true,
    watch: options.watch ?? true,
    pollIntervalMs: options.pollIntervalMs ?? 10_000,
    ...(options.changeBus ? { changeBus: options.changeBus } : {}),
    idleRetentionMs: options.idleRetentionMs ?? 60_000,
    parseMessage,
    // The built-in parser also reads header data from the first bytes of a file alone.
    parseStructure: options.parseMessage ? undefined : parseStructure,
    parseHeader: options.parseMessage ? undefined : parseHeaderMeta,
    renderEnvelope: envelopeFormat.render,
    // The parse workers run the built-in parser and server/wire's ENVELOPE code (parseworker.ts).
    parsePool: options.parseMessage || envelopeFormat.render !== envelopeWire ? undefined : sharedParsePool(),
    cacheVersion: parserVersion === undefined ? undefined : `${parserVersion}-${envelopeFormat.version}`,
    metaCacheEntries: options.metaCacheEntries ?? 20_000,
    quota: new MaildirQuota(root, `.${trashFolder}`),
    logger: options.logger,
    fts: options.fullTextIndex ? sharedFullTextIndex(options.logger) : undefined,
    messageLinks: options.messageLinks,
  };
  return new MaildirStore(context, options.specialUse ?? DEFAULT_SPECIAL_USE);
}

export class MaildirStore implements MailStore {
  readonly hierarchySeparator = SEPARATOR;
  private readonly handles = new Set<FolderHandle>();
  private closed = false;

  constructor(
    private readonly context: FolderContext,
    private readonly specialUse: Readonly<Record<string, string>>,
  ) {}

  get root(): string {
    return this.context.root;
  }

  // ---------------------------------------------------------------------------
  // Folders

  async listFolders(): Promise<FolderEntry[]> {
    this.usable();
    const names = (await fs.readdir(this.root)).map(folderNameOfEntry).filter((name): name is string => name !== null);
    const folders = new Map<string, boolean>([[INBOX, true]]);
    // A symlinked folder (or one with a symlinked cur/, new/, tmp/) does not exist for us.
    for (const name of names) if (folderDirState(this.dir(name)) === 'folder') folders.set(name, true);
    // Names that exist only as parents of other folders (".A.B" without ".A").
    for (const name of [...folders.keys()]) for (const parent of parentNames(name)) if (!folders.has(parent)) folders.set(parent, false);
    return [...folders]
      .sort(([a], [b]) => (a === INBOX ? -1 : b === INBOX ? 1 : a < b ? -1 : a > b ? 1 : 0))
      .map(([name, isSelectable]) => {
        const entry: FolderEntry = { name, selectable: isSelectable };
        const use = isSelectable ? (recordedSpecialUse(this.dir(name)) ?? specialUseOf(name, this.specialUse)) : undefined;
        if (use) entry.specialUse = use;
        return entry;
      });
  }

  watchMailboxes(listener: MailboxEventListener, options: { messages: boolean }): () => void {
    this.usable();
    const tracker = accountTracker({
      root: this.root,
      watch: this.context.watch,
      pollIntervalMs: this.context.pollIntervalMs,
      logger: this.context.logger,
      folderNames: () => this.folderNamesSync(),
      subscriptions: () => readSubscriptions(this.root),
      subscriptionFile: SUBSCRIPTIONS_FILE,
      folderOpen: (dir) => existingCore(dir)?.inUse() ?? false,
    });
    return tracker.subscribe(listener, options.messages);
  }

  /** The selectable folders (for the account's watch: a readdir and a few stats per folder). */
  private folderNamesSync(): string[] {
    const names = readdirSync(this.root).map(folderNameOfEntry).filter((name): name is string => name !== null && folderDirState(this.dir(name)) === 'folder');
    return [INBOX, ...names];
  }

  async hasNewMail(name: string): Promise<boolean> {
    this.usable();
    const resolved = resolveFolderDir(this.root, name);
    return resolved?.state === 'folder' ? hasNewMail(resolved.dir) : false;
  }

  async createFolder(name: string, options: { specialUse?: string } = {}): Promise<void> {
    this.usable();
    await createFolder(this.root, name, options);
  }

  async deleteFolder(name: string): Promise<void> {
    this.usable();
    if (canonicalFolderName(name) === INBOX) throw new MailStoreError('INBOX cannot be deleted', 'CANNOT');
    const { canonical, dir } = this.existing(name);
    await deleteFolder(this.context, canonical, dir);
  }

  async renameFolder(from: string, to: string): Promise<void> {
    this.usable();
    await renameFolder(this, this.root, from, to);
  }

  // ---------------------------------------------------------------------------
  // Subscriptions (courierimapsubscribed: full names, one per line)

  async listSubscriptions(): Promise<string[]> {
    this.usable();
    return readSubscriptions(this.root);
  }

  async subscribe(name: string): Promise<void> {
    this.usable();
    // Another account's folder (backend/shared.ts) is kept by its name, as Courier keeps "#shared." lines.
    const canonical = canonicalFolderName(name) ?? (isSharedName(name) && !/[\u0000-\u001f\u007f]/.test(name) ? name : null);
    if (canonical === null) throw new MailStoreError('Invalid mailbox name', 'CANNOT');
    await editSubscriptions(this.root, (names) => (names.includes(canonical) ? names : [...names, canonical]));
  }

  async unsubscribe(name: string): Promise<void> {
    this.usable();
    const canonical = canonicalFolderName(name) ?? name;
    await editSubscriptions(this.root, (names) => names.filter((n) => n !== canonical));
  }


  // ---------------------------------------------------------------------------
  // Messages

  async mailboxId(name: string): Promise<string | null> {
    this.usable();
    return mailboxId(this.existing(name).dir);
  }

  async folderStatus(name: string, items: { size?: boolean } = {}): Promise<FolderStatus> {
    this.usable();
    const { canonical, dir } = this.existing(name);
    // Twice: a core this process kept (from an earlier look) is found "gone" when another
    // process deleted and made the folder again meanwhile; a fresh one reads what is there now.
    for (let attempt = 0; attempt < 2; attempt++) {
      const core = folderCore(dir, canonical, this.context);
      core.pin();
      try {
        // Like Courier's STATUS: new/ is counted (as recent) but left where it is.
        await core.sync({ claimNew: false });
        if (core.gone) continue;
        return await this.statusOf(core, dir, items.size !== false);
      } finally {
        core.unpin();
      }
    }
    throw new MailStoreError('Folder does not exist', 'NONEXISTENT');
  }

  private async statusOf(core: FolderCore, dir: string, withSize: boolean): Promise<FolderStatus> {
    const snapshot = core.snapshot();
    let size = 0;
    if (withSize) {
      const data = await messageData(core, snapshot.messages.map((m) => m.uid), { info: true });
      for (const item of data) size += item?.size ?? 0;
    }
    const unclaimed: string[] = [];
    for (const fileName of core.unclaimed) {
      // Sizes only when asked for; without them, only whether the file is still there.
      const info = withSize ? core.cache.measure(baseOf(fileName), path.join(dir, 'new', fileName)) : { size: 0 };
      if (!info) continue; // claimed meanwhile
      unclaimed.push(fileName);
      size += info.size;
    }
    let unseen = 0;
    for (const message of snapshot.messages) if (!message.flags.has('\\Seen')) unseen += 1;
    for (const fileName of unclaimed) if (!parseFileName(fileName).letters.includes('S')) unseen += 1;
    let deleted = 0;
    for (const message of snapshot.messages) if (message.flags.has('\\Deleted')) deleted += 1;
    for (const fileName of unclaimed) if (parseFileName(fileName).letters.includes('T')) deleted += 1;
    return {
      messages: snapshot.messages.length + unclaimed.length,
      recent: core.untoldCount() + unclaimed.length,
      unseen,
      deleted,
      uidNext: snapshot.uidNext + unclaimed.length,
      uidValidity: snapshot.uidValidity,
      size,
      // Messages still in new/ get a modseq when they are taken: one more.
      highestModseq: snapshot.highestModseq + (unclaimed.length ? 1 : 0),
    };
  }

  async openFolder(name: string, options: { readOnly?: boolean } = {}): Promise<Folder> {
    this.usable();
    const { canonical, dir } = this.existing(name);
    // Twice: a core found "gone" (database replaced) is dropped, and a fresh one is made.
    for (let attempt = 0; attempt < 2; attempt++) {
      const core = folderCore(dir, canonical, this.context);
      core.pin();
      core.watchEarly();
      try {
        // What has no UID yet is numbered by the session's refresh(), new/ and cur/ together.
        await core.sync({ claimNew: false, numberCur: false });
        if (core.gone) continue;
        const handle = new FolderHandle(core, (h) => this.handles.delete(h), options.readOnly);
        this.handles.add(handle);
        return handle;
      } finally {
        core.unwatchUnused();
        core.unpin();
      }
    }
    throw new MailStoreError('Folder does not exist', 'NONEXISTENT');
  }

  async append(name: string, message: Buffer, options: AppendOptions = {}): Promise<{ uidValidity: number; uid: number }> {
    const { uidValidity, uids } = await this.appendMany(name, [{ message, options }]);
    return { uidValidity, uid: uids[0] };
  }

  async beginAppend(name: string, size: number, options: AppendOptions = {}): Promise<AppendSink> {
    this.usable();
    return beginAppend(this.context, name, size, options);
  }

  async stageMessage(size: number | undefined, limit?: number): Promise<MessageStager> {
    this.usable();
    return openStager(stagingDir(this.root), size, limit);
  }

  async checkAppend(name: string, size: number): Promise<void> {
    this.usable();
    const { dir } = appendTarget(this.root, name);
    await this.context.quota.check(dir, size, 1);
  }

  async appendMany(name: string, items: readonly AppendItem[]): Promise<{ uidValidity: number; uids: number[] }> {
    return appendMany(this.context, name, items, () => this.usable());
  }

  async adoptUidValidity(name: string, uidValidity: number, uidNext: number): Promise<boolean> {
    this.usable();
    const { dir } = appendTarget(this.root, name);
    ensureFolderTmp(dir); // its lock lives there
    return adoptUidValidity(dir, this.context.useLocks, uidValidity, uidNext);
  }

  /**
   * IMAP_EMPTYTRASH ("Trash:7"): removes the messages that have been in `name` for more
   * than `days` days. Courier does this at login and logout. Returns how many went.
   */
  async purgeOldMessages(name: string, days: number): Promise<number> {
    this.usable();
    const { canonical, dir } = this.existing(name);
    const core = folderCore(dir, canonical, this.context);
    core.pin();
    try {
      return await purgeOlderThan(core, days * 86_400_000);
    } finally {
      core.unpin();
    }
  }

  async quota(): Promise<Quota | null> {
    this.usable();
    return this.context.quota.read();
  }

  async readAcl(name: string): Promise<AclEntry[]> {
    this.usable();
    const canonical = canonicalFolderName(name);
    if (canonical === null) throw new MailStoreError('Invalid folder name', 'CANNOT');
    return readFolderAcl(this.root, canonical);
  }

  async writeAcl(name: string, entries: readonly AclEntry[]): Promise<void> {
    this.usable();
    const canonical = canonicalFolderName(name);
    if (canonical === null) throw new MailStoreError('Invalid folder name', 'CANNOT');
    writeFolderAcl(this.root, canonical, entries);
  }

  /** Releases every folder opened through this store and writes the folders' caches. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const handle of [...this.handles]) handle.release();
    await saveCaches(this.root);
  }

  // ---------------------------------------------------------------------------

  private dir(canonicalName: string): string {
    return folderDirectory(this.root, canonicalName);
  }

  /** A folder that may be used (folderdir.ts), or NONEXISTENT. */
  private existing(name: string): { canonical: string; dir: string } {
    const resolved = resolveFolderDir(this.root, name);
    if (resolved?.state !== 'folder') throw new MailStoreError('Folder does not exist', 'NONEXISTENT');
    return resolved;
  }

  /** Brings a folder's full-text index up to date now (the appliance's indexing job); null when the index is off. */
  async indexFolderText(name: string, options: CatchUpOptions = {}): Promise<FtsProgress | null> {
    this.usable();
    const fts = this.context.fts;
    if (!fts) return null;
    const { canonical, dir } = this.existing(name);
    const core = folderCore(dir, canonical, this.context);
    core.pin();
    try {
      // Like STATUS: new/ is left for a session to claim; cur/ is numbered.
      await core.sync({ claimNew: false });
      return core.gone ? null : await fts.catchUp(core.textTarget(), options);
    } finally {
      core.unpin();
    }
  }

  private usable(): void {
    if (this.closed) throw new MailStoreError('The mail store was closed', 'CLIENTBUG');
  }
}

/** This module's folder: the sources below are found from here, built or not. */
const HERE = path.dirname(fileURLToPath(import.meta.url));

/** A short hash of source files, or null when one cannot be read (then nothing made by that code is cached). */
function sourceHash(files: readonly string[]): string | null {
  try {
    const hash = createHash('sha1');
    for (const file of files) hash.update(path.basename(file)).update(readFileSync(file));
    return hash.digest('hex').slice(0, 16);
  } catch {
    return null;
  }
}

let mimeVersion: string | null | undefined;

/**
 * A version for the built-in MIME parser: a hash of its source files, so that cached
 * structures are dropped whenever the parser changes (null: cannot tell, structures are
 * kept in memory only).
 */
function mimeCodeVersion(): string | undefined {
  if (mimeVersion === undefined) {
    const dir = path.join(HERE, '..', 'mime');
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((name) => /\.(ts|js)$/.test(name)).sort().map((name) => path.join(dir, name));
    } catch {
      // no folder to read: no version
    }
    mimeVersion = files.length ? sourceHash(files) : null;
  }
  return mimeVersion ?? undefined;
}
