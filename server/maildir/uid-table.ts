// Two numbers per UID (a modseq and a flags hash: modseq.ts) without an object or a Map entry
// per message: 100,000 records were 100,000 objects for the collector to copy and promote at
// every open. UIDs are nearly always dense (1 to UIDNEXT, with the gaps of expunges), so they
// index typed arrays directly; UIDs far above what that would cost (a folder whose UIDs
// were numbered from a high start, or mostly expunged) go to a Map instead.

/** Slots allowed beyond four per record before UIDs go to the Map: at most 64 KiB unused per folder. */
const DENSE_SLACK = 4096;

export class UidTable {
  /** By UID; a modseq of 0 marks an empty slot (modseqs start at 1). */
  private firsts = new Float64Array(0);
  private seconds = new Float64Array(0);
  /** UIDs at or above the dense arrays' length: uid -> [first, second]. */
  private readonly sparse = new Map<number, [number, number]>();
  private denseCount = 0;

  get size(): number {
    return this.denseCount + this.sparse.size;
  }

  has(uid: number): boolean {
    return uid < this.firsts.length ? this.firsts[uid] !== 0 : this.sparse.has(uid);
  }

  /** The first number (the modseq) of `uid`, 0 when there is none. */
  first(uid: number): number {
    if (uid < this.firsts.length) return this.firsts[uid];
    return this.sparse.get(uid)?.[0] ?? 0;
  }

  /** The second number (the hash) of `uid`; meaningful only when has(uid). */
  second(uid: number): number {
    if (uid < this.seconds.length) return this.seconds[uid];
    return this.sparse.get(uid)?.[1] ?? 0;
  }

  /** `first` must be above 0 (0 marks an empty slot). */
  set(uid: number, first: number, second: number): void {
    if (!(first > 0) || !Number.isSafeInteger(uid) || uid < 0) throw new RangeError(`UidTable: ${uid} ${first}`);
    if (uid >= this.firsts.length && uid < 4 * (this.size + 1) + DENSE_SLACK) this.grow(uid + 1);
    if (uid < this.firsts.length) {
      if (this.firsts[uid] === 0) this.denseCount += 1;
      this.firsts[uid] = first;
      this.seconds[uid] = second;
      return;
    }
    const pair = this.sparse.get(uid);
    if (pair) {
      pair[0] = first;
      pair[1] = second;
    } else {
      this.sparse.set(uid, [first, second]);
    }
  }

  delete(uid: number): boolean {
    if (uid < this.firsts.length) {
      if (this.firsts[uid] === 0) return false;
      this.firsts[uid] = 0;
      this.seconds[uid] = 0;
      this.denseCount -= 1;
      return true;
    }
    return this.sparse.delete(uid);
  }

  clear(): void {
    this.firsts = new Float64Array(0);
    this.seconds = new Float64Array(0);
    this.sparse.clear();
    this.denseCount = 0;
  }

  /** The UIDs held, ascending. */
  uids(): number[] {
    const out: number[] = [];
    const firsts = this.firsts;
    for (let uid = 0; uid < firsts.length; uid++) if (firsts[uid] !== 0) out.push(uid);
    if (this.sparse.size) out.push(...[...this.sparse.keys()].sort((a, b) => a - b));
    return out;
  }

  /** Room for UIDs below `length` (at least), taking in the Map's UIDs that now fit. */
  private grow(length: number): void {
    const capacity = Math.max(length, Math.ceil(this.firsts.length * 1.5), 1024);
    const firsts = new Float64Array(capacity);
    const seconds = new Float64Array(capacity);
    firsts.set(this.firsts);
    seconds.set(this.seconds);
    this.firsts = firsts;
    this.seconds = seconds;
    for (const [uid, [first, second]] of this.sparse) {
      if (uid >= capacity) continue;
      this.sparse.delete(uid);
      firsts[uid] = first;
      seconds[uid] = second;
      this.denseCount += 1;
    }
  }
}
