// Sequence sets (RFC 3501 section 9: sequence-set, seq-number, seq-range): parsing,
// resolving "*" against a mailbox, and formatting (UIDPLUS responses). Ranges are kept
// as ranges throughout, so "1:4294967295" costs the same as "1:2".

import { ProtocolError } from './errors.js';
import type { SequenceRange, SequenceSet } from './types.js';

/** Largest seq-number / UID (nz-number is a 32-bit unsigned value). */
export const MAX_NUMBER = 4294967295;

const SET_SYNTAX = /^(?:\*|[1-9][0-9]*)(?::(?:\*|[1-9][0-9]*))?(?:,(?:\*|[1-9][0-9]*)(?::(?:\*|[1-9][0-9]*))?)*$/;

function seqNumber(text: string, whole: string): number {
  if (text === '*') return Infinity;
  const n = Number(text);
  if (text.length > 10 || n > MAX_NUMBER) throw new ProtocolError(`Invalid sequence set "${whole}": ${text} is too large`);
  return n;
}

/** True when the text has sequence-set syntax (used to tell a set from a search key). */
export function isSequenceSet(text: string): boolean {
  return SET_SYNTAX.test(text);
}

/**
 * Parse "1:*", "*:3", "5:2", "1,3:5,*". Ranges are kept as written ("*" is Infinity);
 * resolve them with resolveSequenceSet / resolveUidSet. Zero, empty parts and anything
 * else throw a ProtocolError.
 */
export function parseSequenceSet(text: string): SequenceSet {
  if (!SET_SYNTAX.test(text)) {
    const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
    if (text === '') throw new ProtocolError('Missing sequence set');
    if (/(^|[,:])0/.test(text)) throw new ProtocolError(`Invalid sequence set "${shown}": 0 is not a valid message number`);
    throw new ProtocolError(`Invalid sequence set "${shown}"`);
  }
  const set: SequenceSet = [];
  for (const part of text.split(',')) {
    const colon = part.indexOf(':');
    if (colon === -1) {
      const n = seqNumber(part, text);
      set.push({ from: n, to: n });
    } else {
      set.push({ from: seqNumber(part.slice(0, colon), text), to: seqNumber(part.slice(colon + 1), text) });
    }
  }
  return set;
}

/** Highest number named explicitly or through "*" (Infinity when "*" occurs). */
export function sequenceSetMax(set: SequenceSet): number {
  let max = 0;
  for (const r of set) max = Math.max(max, r.from, r.to);
  return max;
}

/**
 * A resolved set: sorted, merged, inclusive ranges of numbers. Membership and size need
 * no enumeration; iterate only when the ranges are known to be bounded (sequence numbers).
 */
export class ResolvedSet implements Iterable<number> {
  /** Sorted, non-overlapping, non-adjacent [from, to] pairs. */
  readonly ranges: ReadonlyArray<readonly [number, number]>;

  constructor(ranges: Array<[number, number]>) {
    ranges.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last !== undefined && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    this.ranges = merged;
  }

  has(n: number): boolean {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = this.ranges[mid];
      if (n < a) hi = mid - 1;
      else if (n > b) lo = mid + 1;
      else return true;
    }
    return false;
  }

  get size(): number {
    let n = 0;
    for (const [a, b] of this.ranges) n += b - a + 1;
    return n;
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** Smallest / largest member, or 0 when empty. */
  get min(): number {
    return this.ranges.length === 0 ? 0 : this.ranges[0][0];
  }
  get max(): number {
    return this.ranges.length === 0 ? 0 : this.ranges[this.ranges.length - 1][1];
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (const [a, b] of this.ranges) for (let n = a; n <= b; n++) yield n;
  }

  /** All members ascending; only for sets known to be bounded (sequence numbers). */
  toArray(): number[] {
    const out = new Array<number>(this.size);
    let k = 0;
    for (const [a, b] of this.ranges) for (let n = a; n <= b; n++) out[k++] = n;
    return out;
  }

  /** Members of a sorted array (e.g. the mailbox's UIDs), ascending, by binary search. */
  filterSorted(sorted: ArrayLike<number>): number[] {
    const out: number[] = [];
    for (const [a, b] of this.ranges) {
      for (let i = lowerBound(sorted, a); i < sorted.length && sorted[i] <= b; i++) out.push(sorted[i]);
    }
    return out;
  }
}

/** Index of the first element >= value in a sorted array. */
export function lowerBound(sorted: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function normalise(r: SequenceRange, star: number): [number, number] {
  const a = r.from === Infinity ? star : r.from;
  const b = r.to === Infinity ? star : r.to;
  return a <= b ? [a, b] : [b, a];
}

/**
 * Sequence numbers: "*" is the last message (max = EXISTS), and everything is clipped to
 * 1..max, so the result is bounded by the mailbox size. On an empty mailbox nothing matches.
 * (Whether a number beyond max is an error is the command's decision: see sequenceSetMax.)
 */
export function resolveSequenceSet(set: SequenceSet, max: number): ResolvedSet {
  const ranges: Array<[number, number]> = [];
  if (max > 0) {
    for (const r of set) {
      const [a, b] = normalise(r, max);
      if (a > max) continue;
      ranges.push([a, Math.min(b, max)]);
    }
  }
  return new ResolvedSet(ranges);
}

/**
 * UIDs: "*" is the largest UID in use (maxUid, 0 for an empty mailbox), so "559:*" always
 * includes the last message even when its UID is below 559 (RFC 3501 6.4.8). Ranges are
 * clipped to maxUid (no larger UID exists) but can still be sparse: use filterSorted()
 * with the mailbox's UIDs rather than iterating.
 */
export function resolveUidSet(set: SequenceSet, maxUid: number): ResolvedSet {
  const ranges: Array<[number, number]> = [];
  if (maxUid > 0) {
    for (const r of set) {
      const [a, b] = normalise(r, maxUid);
      if (a > maxUid) continue;
      ranges.push([a, Math.min(b, maxUid)]);
    }
  }
  return new ResolvedSet(ranges);
}

/**
 * "1:3,5,7:8" from numbers, in the order given (COPYUID pairs source and destination
 * UIDs by position, so the order must be kept); ascending runs are joined.
 */
export function formatSequenceSet(numbers: Iterable<number>): string {
  const parts: string[] = [];
  let start = -1;
  let prev = -1;
  for (const n of numbers) {
    if (start !== -1 && n === prev + 1) {
      prev = n;
      continue;
    }
    if (start !== -1) parts.push(start === prev ? `${start}` : `${start}:${prev}`);
    start = n;
    prev = n;
  }
  if (start !== -1) parts.push(start === prev ? `${start}` : `${start}:${prev}`);
  return parts.join(',');
}
