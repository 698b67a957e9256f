// LIST and LSUB patterns (RFC 3501 6.3.8): "*" matches anything, "%" anything but the
// hierarchy separator. A regular expression built from the pattern backtracks
// exponentially ("%%%%%%%%%%%%%%%" over a 40-character name froze the server for minutes,
// issue 9), so the pattern runs as a bit-parallel automaton instead: one pass over the
// name, a few word operations per character, whatever the pattern.

import { SEPARATOR } from './names.js';

const STAR = -1;
const PERCENT = -2;

export type NameMatcher = (name: string) => boolean;

/** A matcher for one pattern; INBOX is case-insensitive as the first level. */
export function mailboxPatternMatcher(pattern: string): NameMatcher {
  // Our names always spell INBOX in capitals; the client may not.
  if (/^inbox(\.|$)/i.test(pattern)) pattern = 'INBOX' + pattern.slice(5);
  // A run of wildcards is one wildcard: "*" if the run holds a "*", else "%".
  const tokens: number[] = [];
  let literals = 0;
  for (let i = 0; i < pattern.length; i++) {
    const code = pattern.charCodeAt(i);
    const wild = code === 42 ? STAR : code === 37 ? PERCENT : 0;
    if (!wild) {
      tokens.push(code);
      literals++;
      continue;
    }
    const last = tokens.length - 1;
    if (last >= 0 && tokens[last] < 0) {
      if (wild === STAR) tokens[last] = STAR;
    } else tokens.push(wild);
  }
  if (!tokens.some((t) => t < 0)) return (name) => name === pattern;

  // State i means "the first i tokens have matched"; state tokens.length accepts.
  const states = tokens.length + 1;
  const words = (states + 31) >>> 5;
  const stars = new Uint32Array(words);
  const percents = new Uint32Array(words);
  const byChar = new Map<number, Uint32Array>();
  tokens.forEach((t, i) => {
    if (t === STAR) stars[i >>> 5] |= 1 << (i & 31);
    else if (t === PERCENT) percents[i >>> 5] |= 1 << (i & 31);
    else {
      let mask = byChar.get(t);
      if (!mask) byChar.set(t, (mask = new Uint32Array(words)));
      mask[i >>> 5] |= 1 << (i & 31);
    }
  });
  const wildcards = stars.map((s, w) => s | percents[w]);
  const accept = tokens.length;
  const separator = SEPARATOR.charCodeAt(0);

  // A wildcard also matches nothing: its state reaches the next one at once. Wildcards
  // never follow each other, so one step closes the set.
  const close = (set: Uint32Array): void => {
    let carry = 0;
    for (let w = 0; w < words; w++) {
      const step = set[w] & wildcards[w];
      const next = carry;
      carry = step >>> 31;
      set[w] |= (step << 1) | next;
    }
  };

  return (name) => {
    // Every literal consumes one character: a pattern with more cannot match, and this
    // bounds the automaton's size by the name's length for hostile patterns too.
    if (literals > name.length) return false;
    let active = new Uint32Array(words);
    let next = new Uint32Array(words);
    active[0] = 1;
    close(active);
    for (let i = 0; i < name.length; i++) {
      const code = name.charCodeAt(i);
      const literal = byChar.get(code);
      const stay = code === separator ? stars : wildcards;
      let carry = 0;
      let any = 0;
      for (let w = 0; w < words; w++) {
        const a = active[w];
        const moved = literal ? a & literal[w] : 0;
        const v = ((moved << 1) | carry | (a & stay[w])) >>> 0;
        carry = moved >>> 31;
        next[w] = v;
        any |= v;
      }
      if (!any) return false;
      close(next);
      [active, next] = [next, active];
    }
    return (active[accept >>> 5] & (1 << (accept & 31))) !== 0;
  };
}
