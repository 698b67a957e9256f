// SEARCH (RFC 3501 section 6.4.4) over a list of messages, as a pure function of the
// message data the caller hands in.
//
// Keys differ in cost by orders of magnitude: flags, UIDs, sizes and dates come with the
// message list; header keys need the parsed MessageMeta (cached by the store); BODY,
// TEXT and headers that MessageMeta does not carry need the message file. Evaluation
// therefore runs in three rounds with three-valued logic (true / false / unknown): round
// one sees only the message list, round two adds MessageMeta, round three the raw
// message. A message leaves as soon as its result is known, so no file is read when the
// cheap keys already decided, and within AND / OR the cheaper operands are tried first.

import type { MessageInfo, TextCandidates } from '../../backend/mailstore.js';
import type { BodyPart, HeaderMeta } from '../../mime/types.js';
import type { SearchKey } from '../protocol/types.js';
import { parseDate } from '../../mime/date.js';
import { dayNumber, localDay, utcDay } from './dates.js';
import { foldForSearch } from './fold.js';
import { caseInsensitive, type TextNeedle } from './text-needle.js';
import { forEachLimited, RawView, vanished } from './rawview.js';
import { compile, COST_BODY, COST_INFO, COST_META, COST_TEXT, type Node } from './compile.js';

export interface SearchMessage {
  seq: number;
  uid: number;
  info: MessageInfo;
  /** \Recent for this session. */
  recent: boolean;
  /** The header data, when the caller has it at hand (else cachedMeta() and meta() are asked). */
  meta?: SearchMeta;
}

/** What the evaluator reads of a message's parsed data: the header data (a MessageMeta will
 * do), and the structure when the message is read through raw(). */
export interface SearchMeta extends HeaderMeta {
  readonly body?: BodyPart;
}

export interface SearchAccessors {
  /** Parsed structure (cached by the store, cheap). */
  meta(uid: number): Promise<SearchMeta>;
  /** Optional: the parsed structure if it is in memory right now, without I/O. Searching
   * 100,000 messages' headers is several times faster when most metas come from here,
   * because an await per message costs more than the match itself. */
  cachedMeta?(uid: number): SearchMeta | undefined;
  /** The stored message (reads the file, expensive); its structure is meta(uid).body. Needed
   * when rawBatch is not given. */
  raw?(uid: number): Promise<Buffer>;
  /** Several stored messages with their structure at once (null for one that is gone), used
   * instead of raw(): one call per batch instead of one per message. */
  rawBatch?(uids: readonly number[]): Promise<({ raw: Buffer; body: BodyPart } | null)[]>;
  /** Optional: a full-text index's answer for a folded BODY / TEXT string (see TextCandidates):
   * messages it covers and rules out are decided without reading them. */
  textCandidates?(folded: string): TextCandidates | undefined;
}

export interface SearchContext {
  /** What "*" means in a sequence set: the number of messages in the mailbox.
   * Default: the largest seq among the messages given. */
  maxSeq?: number;
  /** What "*" means in a UID set: the largest UID in the mailbox.
   * Default: the largest UID among the messages given. */
  maxUid?: number;
  /** Time zone of the calendar day of INTERNALDATE for BEFORE / ON / SINCE. 'local' (the
   * default) is the server's zone, as in Dovecot and Courier; 'utc' is for tests. */
  internalDateZone?: 'local' | 'utc';
  /** Message files read at the same time in the last round (default 4). */
  rawConcurrency?: number;
}

/** What a search key needs beyond the message list. */
export type SearchNeed = 'info' | 'meta' | 'raw';


/** Messages asked of rawBatch at once: few enough to hold, enough to spread the cost of a call. */
const RAW_BATCH = 64;

/** Whether a key can be decided from the message list alone, or needs MessageMeta or the raw message. */
export function searchKeyNeeds(key: SearchKey): SearchNeed {
  const cost = compile(key, 0, 0).cost;
  return cost === COST_INFO ? 'info' : cost === COST_META ? 'meta' : 'raw';
}

/**
 * Evaluates `key` over `messages` and returns the sequence numbers of the matching
 * messages in ascending order (map them to UIDs for UID SEARCH).
 */
export async function search(
  messages: readonly SearchMessage[],
  key: SearchKey,
  accessors: SearchAccessors,
  context: SearchContext = {},
): Promise<number[]> {
  let maxSeq = context.maxSeq ?? 0;
  let maxUid = context.maxUid ?? 0;
  if (context.maxSeq === undefined || context.maxUid === undefined) {
    for (const m of messages) {
      if (context.maxSeq === undefined && m.seq > maxSeq) maxSeq = m.seq;
      if (context.maxUid === undefined && m.uid > maxUid) maxUid = m.uid;
    }
  }
  const root = compile(key, maxSeq, maxUid);
  const indexed = accessors.textCandidates;
  const candidatesOf = indexed ? (needle: TextNeedle) => (needle.acrossLines ? undefined : indexed(needle.folded)) : NO_INDEX;
  const test = predicate(root, context.internalDateZone === 'utc' ? utcDay : localDay, candidatesOf);

  // Round one (message list) and, for metas already in memory, round two, message by message.
  const matched: number[] = [];
  const needMeta: SearchMessage[] = [];
  // Parallel arrays rather than an object per message (see Candidate in commands/search.ts).
  const needRaw: SearchMessage[] = [];
  const needRawMeta: SearchMeta[] = [];
  const decideWithMeta = (m: SearchMessage, meta: SearchMeta): void => {
    const result = test(m, meta, undefined);
    if (result === true) matched.push(m.seq);
    else if (result === undefined) {
      needRaw.push(m);
      needRawMeta.push(meta);
    }
  };
  // An index can rule messages out in round one.
  const firstRoundDecides = hasCost(root, COST_INFO) || (indexed !== undefined && (hasCost(root, COST_BODY) || hasCost(root, COST_TEXT)));
  for (const m of messages) {
    if (firstRoundDecides) {
      const result = test(m, undefined, undefined);
      if (result === true) matched.push(m.seq);
      if (result !== undefined) continue;
    }
    const meta = m.meta ?? accessors.cachedMeta?.(m.uid);
    if (meta) decideWithMeta(m, meta);
    else needMeta.push(m);
  }

  // Round two for metas that must be loaded.
  await forEachLimited(needMeta.length, 16, async (i) => {
    const m = needMeta[i];
    let meta: SearchMeta;
    try {
      meta = await accessors.meta(m.uid);
    } catch (error) {
      if (vanished(error)) return; // expunged meanwhile: not a match
      throw error;
    }
    decideWithMeta(m, meta);
  });

  // Round three: the message file.
  const rawBatch = accessors.rawBatch;
  if (rawBatch) {
    for (let start = 0; start < needRaw.length; start += RAW_BATCH) {
      const end = Math.min(start + RAW_BATCH, needRaw.length);
      const loaded = await rawBatch(needRaw.slice(start, end).map((m) => m.uid));
      for (let i = start; i < end; i++) {
        const item = loaded[i - start];
        if (item && test(needRaw[i], needRawMeta[i], new RawView(item.raw, item.body)) === true) matched.push(needRaw[i].seq);
      }
    }
    return matched.sort((a, b) => a - b);
  }
  const readRaw = accessors.raw;
  if (!readRaw && needRaw.length > 0) throw new Error('internal error: SEARCH without a way to read messages');
  await forEachLimited(needRaw.length, Math.max(1, context.rawConcurrency ?? 4), async (i) => {
    const m = needRaw[i];
    const meta = needRawMeta[i];
    let raw: Buffer;
    try {
      raw = await readRaw!(m.uid);
    } catch (error) {
      if (vanished(error)) return;
      throw error;
    }
    if (!meta.body) throw new Error('internal error: SEARCH read a message without its structure');
    if (test(m, meta, new RawView(raw, meta.body)) === true) matched.push(m.seq);
  });

  return matched.sort((a, b) => a - b);
}

/** Does the tree contain a leaf of this cost? */
function hasCost(node: Node, cost: number): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.children.some((child) => hasCost(child, cost));
    case 'not':
      return hasCost(node.child, cost);
    default:
      return node.cost === cost;
  }
}

// ---------------------------------------------------------------------------
// Evaluation: the tree becomes nested closures, so the per-message work is plain calls.

/** true / false, or undefined when the data at hand (meta, raw) cannot decide yet. */
type Predicate = (m: SearchMessage, meta: SearchMeta | undefined, raw: RawView | undefined) => boolean | undefined;

/** The index's answer for a string, if there is one. */
type CandidatesOf = (needle: TextNeedle) => TextCandidates | undefined;
const NO_INDEX: CandidatesOf = () => undefined;

/** Whether the index rules the message out (it has read it, and the string is not in it). */
function ruledOut(candidates: TextCandidates | undefined, uid: number): boolean {
  return candidates !== undefined && candidates.covers(uid) && !candidates.mayContain(uid);
}

/** The index knows the message has the string in a text part: BODY and TEXT match. */
function ruledIn(candidates: TextCandidates | undefined, uid: number): boolean {
  return candidates?.contains?.(uid) === true;
}

function predicate(node: Node, internalDay: (ms: number) => number, candidatesOf: CandidatesOf = NO_INDEX): Predicate {
  switch (node.kind) {
    case 'const': {
      const value = node.value;
      return () => value;
    }
    case 'and': {
      const children = node.children.map((child) => predicate(child, internalDay, candidatesOf));
      return (m, meta, raw) => {
        let result: boolean | undefined = true;
        for (const child of children) {
          const r = child(m, meta, raw);
          if (r === false) return false;
          if (r === undefined) result = undefined;
        }
        return result;
      };
    }
    case 'or': {
      const children = node.children.map((child) => predicate(child, internalDay, candidatesOf));
      return (m, meta, raw) => {
        let result: boolean | undefined = false;
        for (const child of children) {
          const r = child(m, meta, raw);
          if (r === true) return true;
          if (r === undefined) result = undefined;
        }
        return result;
      };
    }
    case 'not': {
      const child = predicate(node.child, internalDay, candidatesOf);
      return (m, meta, raw) => {
        const r = child(m, meta, raw);
        return r === undefined ? undefined : !r;
      };
    }
    case 'seq': {
      const set = node.set;
      return (m) => set.has(m.seq);
    }
    case 'uid': {
      const set = node.set;
      return (m) => set.has(m.uid);
    }
    case 'flag': {
      const { flag, present } = node;
      return (m) => hasFlag(m.info.flags, flag) === present;
    }
    case 'recent':
      return (m) => m.recent;
    case 'internaldate': {
      const { cmp, day } = node;
      return (m) => compareDay(internalDay(m.info.internalDate), cmp, day);
    }
    case 'savedate': {
      // RFC 8514 4.2: the day as INTERNALDATE's (the server's zone).
      const { cmp, day } = node;
      return (m) => compareDay(internalDay(m.info.saveDate ?? m.info.internalDate), cmp, day);
    }
    case 'size': {
      const n = node.n;
      return node.cmp === 'larger' ? (m) => m.info.size > n : (m) => m.info.size < n;
    }
    case 'modseq': {
      const n = node.n;
      return (m) => m.info.modseq >= n;
    }
    case 'within': {
      const limit = node.limit;
      return node.older ? (m) => Math.floor(m.info.internalDate / 1000) <= limit : (m) => Math.floor(m.info.internalDate / 1000) >= limit;
    }
    case 'sentdate': {
      const { cmp, day } = node;
      return (_m, meta) => {
        if (!meta) return undefined;
        const sent = sentDay(meta);
        // No usable Date: header: no SENT* key matches (Courier; Dovecot takes 1-Jan-1970).
        return sent === null ? false : compareDay(sent, cmp, day);
      };
    }
    case 'decodedHeader': {
      const { field, needle } = node;
      const contains = textContains(needle);
      return (_m, meta) => (meta ? contains(meta.decoded[field]) : undefined);
    }
    case 'envelopeHeader': {
      const { field, needle } = node;
      const contains = textContains(needle);
      return (_m, meta) => {
        if (!meta) return undefined;
        const value = meta.envelope[field];
        return value !== null && contains(value);
      };
    }
    case 'rawHeader': {
      const { field, needle } = node;
      return (_m, _meta, raw) => {
        if (!raw) return undefined;
        const values = raw.foldedHeaderValues(field);
        return needle === '' ? values.length > 0 : values.some((value) => value.includes(needle));
      };
    }
    case 'body': {
      const needle = node.needle;
      const candidates = candidatesOf(needle);
      return (m, _meta, raw) => (ruledOut(candidates, m.uid) ? false : ruledIn(candidates, m.uid) ? true : raw ? raw.bodyContains(needle) : undefined);
    }
    case 'text': {
      const needle = node.needle;
      const candidates = candidatesOf(needle);
      return (m, _meta, raw) => (ruledOut(candidates, m.uid) ? false : ruledIn(candidates, m.uid) ? true : raw ? raw.headerContains(needle) || raw.bodyContains(needle) : undefined);
    }
  }
}

function compareDay(day: number, cmp: 'before' | 'on' | 'since', wanted: number): boolean {
  return cmp === 'before' ? day < wanted : cmp === 'on' ? day === wanted : day >= wanted;
}

/** Flags and keywords compare case-insensitively (\SEEN is \Seen). */
function hasFlag(flags: ReadonlySet<string>, flag: string): boolean {
  if (flags.has(flag)) return true;
  const lower = flag.toLowerCase();
  for (const f of flags) if (f.toLowerCase() === lower) return true;
  return false;
}

/** Day of the Date: header in the sender's own time zone (RFC 3501: "disregarding time and
 * timezone"), or null without a usable Date: header. */
function sentDay(meta: SearchMeta): number | null {
  const parsed = meta.envelope.date === null ? null : parseDate(meta.envelope.date);
  return parsed === null ? null : dayNumber(parsed.year, parsed.month, parsed.day);
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;
const PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * Whether the folded text contains the (folded) needle. For a needle of printable ASCII and
 * ASCII text, a case-insensitive regular expression answers without a lower-cased copy (100,000
 * senders' names are searched in the time it takes to copy them).
 */
function textContains(needle: string): (text: string) => boolean {
  if (!PRINTABLE.test(needle)) return (text) => foldForSearch(text).includes(needle);
  const finder = caseInsensitive(needle);
  return (text) => (ASCII_ONLY.test(text) ? finder.in(text) : foldForSearch(text).includes(needle));
}
