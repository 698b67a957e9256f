// "Base subject" of RFC 5256 section 2.1, used by SORT SUBJECT and both THREAD algorithms.

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

/**
 * Extracts the base subject from a subject whose RFC 2047 encoded-words are already
 * decoded (MessageMeta.decoded.subject), following steps (1)-(7) of RFC 5256 section 2.1.
 */
export function baseSubject(decodedSubject: string): BaseSubject {
  let isReplyOrForward = false;
  // (1) Tabs and continuations to space, runs of spaces to one space.
  let s = decodedSubject.replace(/\r?\n(?=[ \t])/g, '').replace(/[ \t\r\n]+/g, ' ');

  for (;;) {
    // (2) Remove subj-trailer ("(fwd)" or WSP) at the end, as long as there is one.
    for (let m = TRAILER.exec(s); m; m = TRAILER.exec(s)) {
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
          const m = REFWD_LEADER.exec(s);
          if (!m) break;
          s = s.slice(m[0].length);
          isReplyOrForward = true;
        }
        changed = true;
      }
      // (4) A leading subj-blob, when something is left after it.
      const blob = BLOB.exec(s);
      if (blob && blob[0].length < s.length) {
        s = s.slice(blob[0].length);
        changed = true;
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
