// Which UIDs a folder's full-text index has read, kept compactly: runs of consecutive UIDs as
// pairs (first, last) in a Uint32Array, ascending, apart (never adjacent or overlapping). A
// folder's UIDs mostly come in long runs, so 100,000 indexed messages are a few pairs: a new
// process reads them in one row (fts-db.ts) instead of one row per message.

export type UidRuns = Uint32Array;

export const NO_RUNS: UidRuns = new Uint32Array(0);

/** The runs of ascending, distinct UIDs. */
export function runsOf(sortedUids: Iterable<number>): UidRuns {
  const out: number[] = [];
  for (const uid of sortedUids) {
    if (out.length > 0 && out[out.length - 1] + 1 === uid) out[out.length - 1] = uid;
    else if (out.length > 0 && out[out.length - 1] >= uid) throw new Error('UIDs not ascending');
    else out.push(uid, uid);
  }
  return Uint32Array.from(out);
}

/** Whether the runs hold `uid` (binary search). */
export function runsHave(runs: UidRuns, uid: number): boolean {
  let low = 0;
  let high = runs.length / 2 - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (uid < runs[2 * mid]) high = mid - 1;
    else if (uid > runs[2 * mid + 1]) low = mid + 1;
    else return true;
  }
  return false;
}

/** How many UIDs the runs hold. */
export function runsCount(runs: UidRuns): number {
  let count = 0;
  for (let i = 0; i < runs.length; i += 2) count += runs[i + 1] - runs[i] + 1;
  return count;
}

/** The UIDs of the runs, ascending. */
export function* runsUids(runs: UidRuns): Generator<number> {
  for (let i = 0; i < runs.length; i += 2) for (let uid = runs[i]; uid <= runs[i + 1]; uid++) yield uid;
}

/** The UIDs of `sortedUids` (ascending) that the runs do not hold, in one pass over both. */
export function notIn(runs: UidRuns, sortedUids: readonly number[]): number[] {
  const out: number[] = [];
  let r = 0;
  for (const uid of sortedUids) {
    while (r < runs.length && runs[r + 1] < uid) r += 2;
    if (r >= runs.length || uid < runs[r]) out.push(uid);
  }
  return out;
}

/** The runs with `uids` added. */
export function addToRuns(runs: UidRuns, uids: readonly number[]): UidRuns {
  if (uids.length === 0) return runs;
  const pairs: [number, number][] = [];
  for (let i = 0; i < runs.length; i += 2) pairs.push([runs[i], runs[i + 1]]);
  for (const uid of uids) pairs.push([uid, uid]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [first, last] of pairs) {
    if (out.length > 0 && first <= out[out.length - 1] + 1) out[out.length - 1] = Math.max(out[out.length - 1], last);
    else out.push(first, last);
  }
  return Uint32Array.from(out);
}

/** The runs without `uids`. */
export function removeFromRuns(runs: UidRuns, uids: readonly number[]): UidRuns {
  if (uids.length === 0) return runs;
  const gone = [...new Set(uids)].sort((a, b) => a - b);
  const out: number[] = [];
  let g = 0;
  for (let i = 0; i < runs.length; i += 2) {
    let first = runs[i];
    const last = runs[i + 1];
    while (g < gone.length && gone[g] < first) g++;
    while (g < gone.length && gone[g] <= last) {
      if (gone[g] > first) out.push(first, gone[g] - 1);
      first = gone[g] + 1;
      g++;
    }
    if (first <= last) out.push(first, last);
  }
  return Uint32Array.from(out);
}

/** As stored: little-endian 32-bit numbers. */
export function encodeRuns(runs: UidRuns): Buffer {
  const buffer = Buffer.alloc(runs.length * 4);
  for (let i = 0; i < runs.length; i++) buffer.writeUInt32LE(runs[i], i * 4);
  return buffer;
}

/** The stored runs; throws 'not an index' (the file is then made again) when they are not well formed. */
export function decodeRuns(buffer: Buffer): UidRuns {
  if (buffer.length % 8 !== 0) throw new Error('not an index');
  const runs = new Uint32Array(buffer.length / 4);
  for (let i = 0; i < runs.length; i++) runs[i] = buffer.readUInt32LE(i * 4);
  for (let i = 0; i < runs.length; i += 2) {
    if (runs[i] > runs[i + 1] || (i > 0 && runs[i] <= runs[i - 1] + 1)) throw new Error('not an index');
  }
  return runs;
}

/** The first place in `count` ascending UIDs (`uidAt`) whose UID is at least `uid`. */
function lowerBound(count: number, uidAt: (index: number) => number, uid: number): number {
  let low = 0;
  let high = count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (uidAt(mid) < uid) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Of `count` messages with ascending UIDs (`uidAt`), the places (ascending) of those the runs
 * do not cover and of those in `matches` (UIDs the runs cover): binary searches for the gaps
 * between the runs and for each match, not a look at every message.
 */
export function possibleAmong(runs: UidRuns, matches: readonly number[], count: number, uidAt: (index: number) => number): number[] {
  const out: number[] = [];
  // The gaps: below the first run, between runs, above the last.
  let from = 0; // first UID of the gap
  for (let r = 0; r <= runs.length; r += 2) {
    const to = r < runs.length ? runs[r] - 1 : Infinity; // last UID of the gap
    if (to >= from) {
      const end = to === Infinity ? count : lowerBound(count, uidAt, to + 1);
      for (let i = lowerBound(count, uidAt, from); i < end; i++) out.push(i);
    }
    if (r < runs.length) from = runs[r + 1] + 1;
  }
  for (const uid of matches) {
    if (!runsHave(runs, uid)) continue; // not covered: among the gaps already
    const i = lowerBound(count, uidAt, uid);
    if (i < count && uidAt(i) === uid) out.push(i);
  }
  out.sort((a, b) => a - b);
  // A match listed twice by the index would be here twice.
  let kept = 0;
  for (let i = 0; i < out.length; i++) if (i === 0 || out[i] !== out[kept - 1]) out[kept++] = out[i];
  out.length = kept;
  return out;
}
