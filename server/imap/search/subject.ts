// "Base subject" of RFC 5256 section 2.1, used by SORT SUBJECT and both THREAD algorithms.

import type { MessageMeta } from '../../mime/types.js';
import { collationKey } from './fold.js';

export interface BaseSubject {
  /** The base subject, case preserved (compare it through collationKey). */
  base: string;
  /** A subj-refwd ("Re:", "Fwd:"), a "(fwd)" trailer or a "[fwd: ...]" wrapper was removed:
   * the message is a reply or forward in the sense of RFC 5256 section 3 (REFERENCES step 5). */
  isReplyOrForward: boolean;
}

// subj-blob = "[" *BLOBCHAR "]" *WSP; after step (1) every whitespace run is one space.
const BLOB = /^\[[^[\]]*\] ?/;
// subj-leader = (*subj-blob subj-refwd) / WSP, subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
const REFWD_LEADER = /^(?:\[[^[\]]*\] ?)*(?:re|fwd?) ?(?:\[[^[\]]*\] ?)?:/i;
const TRAILER = /(?: |\(fwd\))$/i;

// Cheap character tests that let most subjects skip the regular expressions.
function endsLikeTrailer(s: string): boolean {
  return s.endsWith(' ') || s.endsWith(')');
}

function startsLikeLeader(s: string): boolean {
  const c = s.charAt(0);
  return c === '[' || c === 'r' || c === 'R' || c === 'f' || c === 'F';
}

/**
 * Extracts the base subject from a subject whose RFC 2047 encoded-words are already
 * decoded (MessageMeta.decoded.subject), following steps (1)-(7) of RFC 5256 section 2.1.
 */
export function baseSubject(decodedSubject: string): BaseSubject {
  let isReplyOrForward = false;
  // (1) Tabs and continuations to space, runs of spaces to one space.
  let s = decodedSubject;
  if (/[\t\r\n]| {2}/.test(s)) s = s.replace(/\r?\n(?=[ \t])/g, '').replace(/[ \t\r\n]+/g, ' ');

  for (;;) {
    // (2) Remove subj-trailer ("(fwd)" or WSP) at the end, as long as there is one.
    for (let m = endsLikeTrailer(s) ? TRAILER.exec(s) : null; m; m = TRAILER.exec(s)) {
      if (m[0] !== ' ') isReplyOrForward = true;
      s = s.slice(0, s.length - m[0].length);
    }

    // (3) - (5)
    for (let changed = true; changed; ) {
      changed = false;
      // (3) subj-leader: a leading space, or blobs followed by Re: / Fw: / Fwd:.
      for (;;) {
        if (s.startsWith(' ')) {
          s = s.slice(1);
        } else {
          const m = startsLikeLeader(s) ? REFWD_LEADER.exec(s) : null;
          if (!m) break;
          s = s.slice(m[0].length);
          isReplyOrForward = true;
        }
        changed = true;
      }
      // (4) A leading subj-blob, when something is left after it. The leader of (3) failed
      // at this blob, so it fails at every later blob of the run too (it scans the same blobs
      // to the same end): the whole run goes at once. One blob per round was quadratic, a
      // 60 KB subject of "[a]" took 0.9 s.
      for (let blob = s.startsWith('[') ? BLOB.exec(s) : null; blob && blob[0].length < s.length; ) {
        s = s.slice(blob[0].length);
        changed = true;
        blob = s.startsWith('[') ? BLOB.exec(s) : null;
      }
    }

    // (6) "[fwd: ... ]" around the whole text: unwrap and start again at (2).
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === '[fwd:' && s.endsWith(']')) {
      s = s.slice(5, -1);
      isReplyOrForward = true;
      continue;
    }
    // (7)
    return { base: s, isReplyOrForward };
  }
}

export interface MessageSubject extends BaseSubject {
  /** collationKey(base): what SORT and THREAD compare. */
  key: string;
}

/** The base subject of a message's decoded Subject:, with its collation key. Not cached:
 * a WeakMap over 100,000 metas costs more in garbage collection than the extraction. */
export function messageSubject(meta: MessageMeta): MessageSubject {
  const extracted = baseSubject(meta.decoded.subject);
  return { base: extracted.base, isReplyOrForward: extracted.isReplyOrForward, key: collationKey(extracted.base) };
}
