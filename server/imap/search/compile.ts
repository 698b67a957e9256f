// SEARCH keys compiled for evaluate.ts: needles folded once (one TextNeedle per string),
// "*" resolved, the operands of AND / OR ordered by cost, identical operands made one, and the
// limits on the distinct strings one search may look for.

import type { HeaderMeta } from '../../mime/types.js';
import { ProtocolError } from '../protocol/errors.js';
import { resolveSequenceSet, resolveUidSet, type ResolvedSet } from '../protocol/sequence.js';
import type { SearchKey } from '../protocol/types.js';
import { dayNumber } from './dates.js';
import { foldForSearch } from './fold.js';
import { TextNeedle } from './text-needle.js';

/**
 * Distinct strings one search may look for in the messages' text (BODY, TEXT, and HEADER of
 * fields read from the file): each is a pass over every candidate message, so 3,000 of them in a
 * tree of OR (64 KiB of command line) cost 1-2 s of CPU on 12 messages and a minute on 3,000.
 * More is refused with NO [LIMIT] (RFC 5530), as an implementation limit, before anything is read.
 */
export const MAX_TEXT_STRINGS = 100;
/** Distinct strings of any key, the header data's (SUBJECT, FROM...) included. */
export const MAX_STRINGS = 1000;

// Costs, in the order operands of AND / OR are tried.
export const COST_INFO = 0;
export const COST_META = 1;
export const COST_RAW_HEADER = 2;
export const COST_BODY = 3;
export const COST_TEXT = 4;

/** Header fields whose decoded value the header data carries in `decoded`. */
const DECODED_FIELDS: Record<string, keyof HeaderMeta['decoded']> = {
  SUBJECT: 'subject',
  FROM: 'from',
  TO: 'to',
  CC: 'cc',
  BCC: 'bcc',
};

/** A compiled search key. */
export type Node =
  | { kind: 'const'; cost: number; value: boolean }
  | { kind: 'and' | 'or'; cost: number; children: Node[] }
  | { kind: 'not'; cost: number; child: Node }
  | { kind: 'seq' | 'uid'; cost: number; set: ResolvedSet }
  | { kind: 'flag'; cost: number; flag: string; present: boolean }
  | { kind: 'recent'; cost: number }
  | { kind: 'internaldate' | 'sentdate' | 'savedate'; cost: number; cmp: 'before' | 'on' | 'since'; day: number }
  | { kind: 'size'; cost: number; cmp: 'larger' | 'smaller'; n: number }
  /** OLDER / YOUNGER: INTERNALDATE (whole seconds) at most / at least `limit`. */
  | { kind: 'within'; cost: number; older: boolean; limit: number }
  | { kind: 'modseq'; cost: number; n: number }
  /** Header field with a decoded value in the header data. */
  | { kind: 'decodedHeader'; cost: number; field: keyof HeaderMeta['decoded']; needle: string }
  /** Message-ID / In-Reply-To: as given in the envelope. */
  | { kind: 'envelopeHeader'; cost: number; field: 'messageId' | 'inReplyTo'; needle: string }
  /** Any header field, from the raw message; an empty needle tests presence. */
  | { kind: 'rawHeader'; cost: number; field: string; needle: string }
  | { kind: 'body' | 'text'; cost: number; needle: TextNeedle };

/** What compiling one search collects: one TextNeedle per string, and the distinct strings (for the limits). */
interface Compilation {
  needles: Map<string, TextNeedle>;
  textStrings: Set<string>;
  strings: Set<string>;
}

export function compile(key: SearchKey, maxSeq: number, maxUid: number, seen: Compilation = { needles: new Map(), textStrings: new Set(), strings: new Set() }): Node {
  const node = compileKey(key, maxSeq, maxUid, seen);
  const text = node.kind === 'body' || node.kind === 'text' || node.kind === 'rawHeader';
  const id = text || node.kind === 'decodedHeader' || node.kind === 'envelopeHeader' ? leafId(node) : undefined;
  if (id !== undefined) {
    if (text) seen.textStrings.add(id);
    seen.strings.add(id);
    if (seen.textStrings.size > MAX_TEXT_STRINGS || seen.strings.size > MAX_STRINGS) {
      const what = seen.textStrings.size > MAX_TEXT_STRINGS ? `${MAX_TEXT_STRINGS} strings to look for in the messages' text` : `${MAX_STRINGS} strings`;
      throw new ProtocolError(`Search too complex: more than ${what}`, { status: 'NO', code: 'LIMIT' });
    }
  }
  return node;
}

/** The same for two leaves that always give the same answer (A AND A is A, A OR A is A); undefined for other nodes. */
function leafId(node: Node): string | undefined {
  switch (node.kind) {
    case 'body':
    case 'text':
      return `${node.kind}\0${node.needle.folded}`;
    case 'decodedHeader':
    case 'envelopeHeader':
    case 'rawHeader':
      return `${node.kind}\0${node.field}\0${node.needle}`;
    case 'flag':
      return `flag\0${node.flag}\0${node.present}`;
    case 'recent':
      return node.kind;
    case 'not': {
      const child = leafId(node.child);
      return child === undefined ? undefined : `not\0${child}`;
    }
    default:
      return undefined;
  }
}

function compileKey(key: SearchKey, maxSeq: number, maxUid: number, seen: Compilation): Node {
  switch (key.op) {
    case 'all':
      return { kind: 'const', cost: COST_INFO, value: true };
    case 'and':
    case 'or': {
      const operands = key.op === 'and' ? key.keys : [key.left, key.right];
      const children: Node[] = [];
      const ids = new Set<string>();
      const add = (child: Node): void => {
        // Identical operands are one (2,224 "TEXT x" were each tested for every message).
        const id = leafId(child);
        if (id !== undefined) {
          if (ids.has(id)) return;
          ids.add(id);
        }
        children.push(child);
      };
      for (const operand of operands) {
        const child = compile(operand, maxSeq, maxUid, seen);
        // Flatten nested AND-in-AND / OR-in-OR so that all operands are ordered together.
        if (child.kind === key.op) for (const grandchild of child.children) add(grandchild);
        else add(child);
      }
      if (children.length === 0) return { kind: 'const', cost: COST_INFO, value: key.op === 'and' };
      if (children.length === 1) return children[0];
      children.sort((a, b) => a.cost - b.cost); // stable: equal costs keep the client's order
      return { kind: key.op, cost: children[children.length - 1].cost, children };
    }
    case 'not': {
      const child = compile(key.key, maxSeq, maxUid, seen);
      if (child.kind === 'const') return { ...child, value: !child.value };
      return { kind: 'not', cost: child.cost, child };
    }
    case 'seqset':
      // "*" and reversed ranges per RFC 3501 section 9 and, for UIDs, 6.4.8 ("5:*" with
      // a largest UID of 3 contains 3).
      return { kind: 'seq', cost: COST_INFO, set: resolveSequenceSet(key.set, maxSeq) };
    case 'uid':
      return { kind: 'uid', cost: COST_INFO, set: resolveUidSet(key.set, maxUid) };
    case 'flag':
    case 'noflag': {
      const present = key.op === 'flag';
      if (key.flag.toLowerCase() === '\\recent') {
        const recent: Node = { kind: 'recent', cost: COST_INFO };
        return present ? recent : { kind: 'not', cost: COST_INFO, child: recent };
      }
      return { kind: 'flag', cost: COST_INFO, flag: key.flag, present };
    }
    case 'recent':
      return { kind: 'recent', cost: COST_INFO };
    case 'new':
      return {
        kind: 'and',
        cost: COST_INFO,
        children: [
          { kind: 'recent', cost: COST_INFO },
          { kind: 'flag', cost: COST_INFO, flag: '\\Seen', present: false },
        ],
      };
    case 'old':
      return { kind: 'not', cost: COST_INFO, child: { kind: 'recent', cost: COST_INFO } };
    case 'internaldate':
      return { kind: 'internaldate', cost: COST_INFO, cmp: key.cmp, day: dayNumber(key.date.y, key.date.m, key.date.d) };
    case 'savedate':
      return { kind: 'savedate', cost: COST_INFO, cmp: key.cmp, day: dayNumber(key.date.y, key.date.m, key.date.d) };
    case 'sentdate':
      return { kind: 'sentdate', cost: COST_META, cmp: key.cmp, day: dayNumber(key.date.y, key.date.m, key.date.d) };
    case 'size':
      return { kind: 'size', cost: COST_INFO, cmp: key.cmp, n: key.n };
    case 'within':
      // RFC 5032 against the clock now; a message exactly n seconds old is both (as Dovecot).
      return { kind: 'within', cost: COST_INFO, older: key.cmp === 'older', limit: Math.floor(Date.now() / 1000) - key.seconds };
    case 'saved':
      throw new Error('internal error: "$" is replaced by the saved UIDs before a search');
    case 'modseq':
      return { kind: 'modseq', cost: COST_INFO, n: key.n };
    case 'header': {
      const field = key.field.toUpperCase();
      const needle = foldForSearch(key.value);
      if (needle !== '') {
        const decoded = DECODED_FIELDS[field];
        if (decoded) return { kind: 'decodedHeader', cost: COST_META, field: decoded, needle };
        if (field === 'MESSAGE-ID') return { kind: 'envelopeHeader', cost: COST_META, field: 'messageId', needle };
        if (field === 'IN-REPLY-TO') return { kind: 'envelopeHeader', cost: COST_META, field: 'inReplyTo', needle };
      }
      return { kind: 'rawHeader', cost: COST_RAW_HEADER, field, needle };
    }
    case 'body':
      return { kind: 'body', cost: COST_BODY, needle: textNeedle(seen.needles, key.value) };
    case 'text':
      return { kind: 'text', cost: COST_TEXT, needle: textNeedle(seen.needles, key.value) };
  }
}

/** One TextNeedle per string in a search, so that a message's answer for it is computed once. */
function textNeedle(needles: Map<string, TextNeedle>, value: string): TextNeedle {
  const folded = foldForSearch(value);
  let needle = needles.get(folded);
  if (!needle) needles.set(folded, (needle = new TextNeedle(folded)));
  return needle;
}
