// What QRESYNC (RFC 7162 3.2) tells a client that comes back: the UIDs it knew that are gone
// (VANISHED (EARLIER)) and the messages changed since its modseq. Used by SELECT / EXAMINE
// with the QRESYNC parameter and by UID FETCH ... (CHANGEDSINCE n VANISHED).
//
// Expunges are remembered with their modseq (server/maildir/modseq.ts) back to a floor; for
// a modseq below it the answer is every UID the client named that is not in the mailbox,
// as RFC 7162 3.2.5.1 allows, narrowed by the sequence match data when the client gave it.
import { resolveSequenceSet, type ResolvedSet } from '../protocol/sequence.js';
import type { SequenceSet } from '../protocol/types.js';
import { compactSet, lowerBound } from '../resolve-set.js';
import type { SelectedMailbox } from '../selected.js';

export interface QresyncParams {
  uidValidity: number;
  modseq: number;
  knownUids?: SequenceSet;
  seqMatch?: { seqs: SequenceSet; uids: SequenceSet };
}

/** Sequence match pairs looked at, at most (the client may send "1:4294967295"). */
const MAX_MATCH_PAIRS = 100_000;

/** The untagged responses for a QRESYNC SELECT: VANISHED (EARLIER), then FETCH of what changed. */
export function qresyncAnswer(view: SelectedMailbox, params: QresyncParams): string {
  const top = view.uidNext - 1;
  const known = params.knownUids ? resolveSequenceSet(params.knownUids, top) : resolveSequenceSet([{ from: 1, to: top }], top);
  let out = '';
  const vanished = vanishedSince(view, known, params.modseq, params.seqMatch);
  if (vanished) out += `* VANISHED (EARLIER) ${vanished}\r\n`;
  const all = view.all();
  for (let i = 0; i < all.length; i++) {
    const m = all[i];
    if (m.modseq <= params.modseq || !known.has(m.uid)) continue;
    out += `* ${i + 1} FETCH (UID ${m.uid} FLAGS ${view.flagsText(m)} MODSEQ (${m.modseq}))\r\n`;
  }
  return out;
}

/**
 * UIDs of `known` expunged after `modseq`, as sequence-set text ('' for none): exactly when
 * the folder remembers that far back, otherwise every UID of `known` not in the mailbox
 * (above the last sequence match pair that still holds: nothing below it went).
 */
export function vanishedSince(view: SelectedMailbox, known: ResolvedSet, modseq: number, seqMatch?: { seqs: SequenceSet; uids: SequenceSet }): string {
  const exact = view.folder.expungedSince(modseq, (uid) => known.has(uid) && view.seqOfUid(uid) === 0);
  if (exact) return compactSet(exact);
  const from = seqMatch ? matchedUpTo(view, seqMatch) + 1 : 1;
  const uids = view.all();
  const parts: string[] = [];
  // Gaps between the mailbox's UIDs within each known range: no list of every UID.
  for (const [a0, b] of known.ranges) {
    const a = Math.max(a0, from);
    if (a > b) continue;
    let next = a;
    for (let i = lowerBound(uids, a); i < uids.length && uids[i].uid <= b; i++) {
      if (uids[i].uid > next) parts.push(range(next, uids[i].uid - 1));
      next = uids[i].uid + 1;
    }
    if (next <= b) parts.push(range(next, b));
  }
  return parts.join(',');
}

/** The highest UID of the client's sequence match pairs up to which its numbering still holds (0: none). */
function matchedUpTo(view: SelectedMailbox, match: { seqs: SequenceSet; uids: SequenceSet }): number {
  const seqs = resolveSequenceSet(match.seqs, 4294967295);
  const uids = resolveSequenceSet(match.uids, 4294967295);
  if (seqs.size !== uids.size || seqs.size > MAX_MATCH_PAIRS) return 0; // not pairs: ignored
  const s = seqs.toArray();
  const u = uids.toArray();
  let matched = 0;
  for (let i = 0; i < s.length; i++) {
    if (view.message(s[i])?.uid !== u[i]) break;
    matched = u[i];
  }
  return matched;
}

function range(a: number, b: number): string {
  return a === b ? `${a}` : `${a}:${b}`;
}
