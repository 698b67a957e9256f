// Records by UID (ENVELOPE, header data, MIME structure of messages): what the message cache
// asks of them, kept on disk by a RecordLog (recordlog.ts) or, when nothing may be written, in
// memory (MemoryRecords).

export interface RecordKey {
  uid: number;
  base: string;
}

/** Records by UID: a RecordLog on disk, or MemoryRecords when nothing may be written. */
export interface RecordStore {
  has(uid: number): boolean;
  read(keys: readonly RecordKey[]): (Buffer | undefined)[];
  add(uid: number, base: string, payload: Buffer): void;
  flush(live?: ReadonlyMap<number, string>): void;
  prune(live: ReadonlyMap<number, string>): void;
  isCurrent(): boolean;
  close(): void;
}

/** Records kept in memory only (no parser version to name a file with), at most `maxEntries`, least recently used out first. */
export class MemoryRecords implements RecordStore {
  private readonly records = new Map<number, { base: string; payload: Buffer }>();

  constructor(private readonly maxEntries: number) {}

  has(uid: number): boolean {
    return this.records.has(uid);
  }

  read(keys: readonly RecordKey[]): (Buffer | undefined)[] {
    return keys.map((key) => {
      const record = this.records.get(key.uid);
      if (!record || record.base !== key.base) return undefined;
      this.records.delete(key.uid);
      this.records.set(key.uid, record);
      return record.payload;
    });
  }

  add(uid: number, base: string, payload: Buffer): void {
    this.records.delete(uid);
    this.records.set(uid, { base, payload });
    while (this.records.size > this.maxEntries) this.records.delete(this.records.keys().next().value as number);
  }

  flush(): void {}

  prune(live: ReadonlyMap<number, string>): void {
    for (const uid of this.records.keys()) if (!live.has(uid)) this.records.delete(uid);
  }

  isCurrent(): boolean {
    return true;
  }

  close(): void {
    this.records.clear();
  }
}
