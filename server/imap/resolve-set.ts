// Sequence sets against the selected mailbox: sequence numbers and UIDs, "*" resolved
// at use (RFC 3501 section 9, seq-number and sequence-set). Ranges are resolved with
// binary search so that "1:4294967295" costs nothing.

import { resolveSequenceSet } from './protocol/sequence.js';
import type { SequenceSet } from './protocol/types.js';
import type { SelectedMailbox } from './selected.js';

export class SequenceError extends Error {}

/** Members of an array of 1..n from the +1/-1 marks at range starts and ends: one pass,
 * so a set of many overlapping ranges costs its length plus n, not their product. */
function fromBoundaries(delta: Int32Array, n: number): number[] {
  const out: number[] = [];
  let depth = 0;
  for (let s = 1; s <= n; s++) {
    depth += delta[s];
    if (depth > 0) out.push(s);
  }
  return out;
}

/** Sequence numbers (ascending, unique) named by a sequence set. Numbers beyond the
 * mailbox are an error (RFC 9051 6.4: the client must not refer to them). */
export function seqsInSet(view: SelectedMailbox, set: SequenceSet): number[] {
  const max = view.exists;
  const delta = new Int32Array(max + 2);
  for (const range of set) {
    if (max === 0) throw new SequenceError('The mailbox is empty: no message sequence numbers are valid');
    const a = range.from === Infinity ? max : range.from;
    const b = range.to === Infinity ? max : range.to;
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    if (hi > max) throw new SequenceError(`Message sequence number ${hi} is beyond the last message (${max})`);
    delta[lo]++;
    delta[hi + 1]--;
  }
  return fromBoundaries(delta, max);
}

/** Sequence numbers of the messages whose UIDs the set names; UIDs that do not exist
 * are ignored (RFC 3501 6.4.8). "*" is the largest UID in use. */
export function seqsOfUidSet(view: SelectedMailbox, set: SequenceSet): number[] {
  const messages = view.all();
  const n = messages.length;
  if (n === 0) return [];
  const maxUid = messages[n - 1].uid;
  const delta = new Int32Array(n + 2);
  for (const range of set) {
    const a = range.from === Infinity ? maxUid : range.from;
    const b = range.to === Infinity ? maxUid : range.to;
    // Sequence numbers first..last hold the UIDs lo..hi (binary search: UIDs ascend).
    const first = lowerBound(messages, Math.min(a, b)) + 1;
    const last = lowerBound(messages, Math.max(a, b) + 1);
    if (first > last) continue;
    delta[first]++;
    delta[last + 1]--;
  }
  return fromBoundaries(delta, n);
}

/** UIDs named by a UID set, restricted to existing messages. */
export function uidsInSet(view: SelectedMailbox, set: SequenceSet): number[] {
  return seqsOfUidSet(view, set).map((s) => view.message(s)!.uid);
}

/** Resolve a set given as sequence numbers or UIDs to sequence numbers. */
export function resolveSet(view: SelectedMailbox, set: SequenceSet, uid: boolean): number[] {
  return uid ? seqsOfUidSet(view, set) : seqsInSet(view, set);
}

/**
 * Whether a sequence number is named by the set, for a set looked at only for a few messages
 * (CHANGEDSINCE): a binary search in its merged ranges, no list of the 100,000 numbers "1:*"
 * names. Sequence numbers beyond the mailbox are an error, as in seqsInSet.
 */
export function namedBy(view: SelectedMailbox, set: SequenceSet, uid: boolean): (seq: number) => boolean {
  const n = view.exists;
  if (!uid) {
    for (const range of set) {
      if (n === 0) throw new SequenceError('The mailbox is empty: no message sequence numbers are valid');
      const hi = Math.max(range.from === Infinity ? n : range.from, range.to === Infinity ? n : range.to);
      if (hi > n) throw new SequenceError(`Message sequence number ${hi} is beyond the last message (${n})`);
    }
  }
  if (n === 0) return () => false;
  const named = resolveSequenceSet(set, uid ? view.maxUid() : n);
  return uid ? (seq) => named.has(view.message(seq)!.uid) : (seq) => named.has(seq);
}

/** CHANGEDSINCE (RFC 7162 3.1.4): the sequence numbers, ascending, of the named messages whose modseq is above `since`; one pass. */
export function changedSince(view: SelectedMailbox, named: (seq: number) => boolean, since: number): number[] {
  const messages = view.all();
  const out: number[] = [];
  for (let i = 0; i < messages.length; i++) if (messages[i].modseq > since && named(i + 1)) out.push(i + 1);
  return out;
}

/** Index of the first message whose UID is at least `uid` (messages ascend by UID). */
export function lowerBound(messages: readonly { uid: number }[], uid: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (messages[mid].uid < uid) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Compact a list of numbers into sequence-set text ("1:3,7") for COPYUID/APPENDUID. */
export function compactSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
