// Writing imported messages into one folder of an account, in batches: each batch's messages
// are staged (written and fsynced in tmp/) a few at once, so that the disk's sync waits
// overlap, then delivered with one appendMany (renamed into cur/ and numbered in one step,
// all or none), between a "pending" and a "done" record in the ledger (import-ledger.ts).
// One message at a time, each fsync waited for alone, does about 200 a second here
// (bench/results/2026-12-06-lmtp.md); the import's target is 300.

import { MailStoreError, type AppendItem, type MailStore, type StagedMessage } from '../backend/mailstore.js';
import { sha256, type ImportLedger } from './import-ledger.js';

export interface ImportItem {
  /** The message's key in its source (ledger item). */
  item: string;
  raw: Buffer;
  flags: readonly string[];
  internalDate?: number;
  /** The UID to keep from the source (appendMany's `uid`: given when the folder can still take it). */
  uid?: number;
}

/** Test hooks: throw to stand for a crash at that point. */
export interface ImportFaults {
  afterAppend?: (folder: string, items: readonly string[]) => void;
}

const BATCH_MESSAGES = 64;
const BATCH_BYTES = 8 << 20;
/** Messages staged at once (each waits for its own fsync). */
const STAGE_PARALLEL = 8;

export class FolderWriter {
  private batch: { item: ImportItem; hash: string }[] = [];
  private bytes = 0;

  constructor(
    private readonly store: MailStore,
    private readonly ledger: ImportLedger,
    readonly source: string,
    readonly folder: string,
    /** `kept`: how many of them got the UID they asked for. */
    private readonly onWritten: (count: number, kept: number) => void,
    private readonly faults?: ImportFaults,
  ) {}

  /** Queue a message; the batch is written when full. */
  async add(item: ImportItem): Promise<void> {
    this.batch.push({ item, hash: sha256(item.raw) });
    this.bytes += item.raw.length;
    if (this.batch.length >= BATCH_MESSAGES || this.bytes >= BATCH_BYTES) await this.flush();
  }

  /** Write what is queued. */
  async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.bytes = 0;
    if (batch.length === 0) return;
    const { uidNext } = await this.store.folderStatus(this.folder, { size: false });
    this.ledger.pending(this.source, batch.map((b) => ({ item: b.item.item, hash: b.hash })), uidNext);
    const items = await stageMessages(this.store, batch.map((b) => b.item));
    const { uids } = await this.store.appendMany(this.folder, items);
    this.faults?.afterAppend?.(this.folder, batch.map((b) => b.item.item));
    this.ledger.done(this.source, batch.map((b, i) => ({ item: b.item.item, uid: uids[i] ?? null })));
    this.onWritten(batch.length, batch.filter((b, i) => b.item.uid !== undefined && uids[i] === b.item.uid).length);
  }
}

/** The messages staged, STAGE_PARALLEL at a time (their fsyncs overlap); on a failure the ones staged are dropped. */
export async function stageMessages(store: MailStore, items: readonly Pick<ImportItem, 'raw' | 'flags' | 'internalDate' | 'uid'>[]): Promise<AppendItem[]> {
  const staged: (StagedMessage | undefined)[] = new Array(items.length);
  let next = 0;
  let failure: unknown = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const i = next++;
      const raw = items[i]!.raw;
      try {
        const stager = await store.stageMessage(raw.length);
        await stager.write(raw);
        staged[i] = await stager.finish();
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(STAGE_PARALLEL, items.length) }, worker));
  if (failure !== null) {
    await Promise.all(staged.map((s) => s?.discard()));
    throw failure;
  }
  return items.map((item, i) => ({
    message: staged[i]!,
    options: {
      flags: storableFlags(item.flags),
      ...(item.internalDate !== undefined ? { internalDate: item.internalDate } : {}),
      ...(item.uid !== undefined ? { uid: item.uid } : {}),
    },
  }));
}

/** Create a folder (and, as the store does, its parents) unless it exists. */
export async function ensureFolder(store: MailStore, folder: string, specialUse?: string): Promise<void> {
  if (folder === 'INBOX') return;
  try {
    await store.createFolder(folder, specialUse ? { specialUse } : undefined);
  } catch (err) {
    if (err instanceof MailStoreError && err.code === 'ALREADYEXISTS') return;
    // A special use the store cannot keep (or has on another folder): the folder without it.
    if (specialUse && err instanceof MailStoreError && err.code === 'USEATTR') return ensureFolder(store, folder);
    throw err;
  }
}

const SYSTEM = new Map(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'].map((f) => [f.toLowerCase(), f]));

/** The flags of a message from elsewhere that can be stored: system flags (not \Recent) and keywords that are IMAP atoms. */
export function storableFlags(flags: Iterable<string>): string[] {
  const out: string[] = [];
  for (const flag of flags) {
    const f = flag.startsWith('\\') ? SYSTEM.get(flag.toLowerCase()) : /^[!#$&'+\-.0-9:;<=>?@A-Z^_`a-z|~\x2f,]{1,100}$/.test(flag) ? flag : undefined;
    if (f && !out.some((o) => o.toLowerCase() === f.toLowerCase())) out.push(f);
  }
  return out;
}
