// CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 section 4): SEARCH or SORT RETURN (UPDATE) keeps
// the search, and the session reports how its result changes as messages arrive, leave or
// change flags (by this session or any other: the changes come through the view, selected.ts,
// as IDLE's and NOOP's do) with untagged ESEARCH ADDTO / REMOVEFROM, until CANCELUPDATE or the
// next SELECT. As in Dovecot: the position in a SEARCH's ADDTO and REMOVEFROM is 0 (its result
// is in mailbox order, 4.3.2), a UID SEARCH's updates name UIDs and a SEARCH's sequence
// numbers, REMOVEFROM for expunged messages comes before their EXPUNGE (4.3.4), and the rest
// after the EXISTS and FETCH of the same report (4.3.3). A SORT's updates carry positions in
// its sorted result (1 for the first), applied in the order given: a removal where the message
// stands once the removals before it are done, an insertion where it stands once inserted
// (Dovecot has no CONTEXT=SORT; test/imap/search/context-sort.test.ts). Sort keys never change
// (headers, size, arrival), so the messages that stay keep their order.

import { ProtocolError } from '../protocol/errors.js';
import { compactSet } from '../resolve-set.js';
import type { ImapValue, SearchKey } from '../protocol/types.js';
import type { SelectedMailbox, Untagged, ViewWatcher } from '../selected.js';
import { SELECTED, no, ok, type CommandContext, type CommandSpec } from './types.js';

/** Updating contexts one session may hold (RFC 5267 4.3.1: at least one); more get NOUPDATE. */
const MAX_CONTEXTS = 10;

/** How the matching messages among some of the view's are found (commands/search.ts searchView). */
export type SubsetSearch = (view: SelectedMailbox, key: SearchKey, seqs: readonly number[]) => Promise<number[]>;

/** Some of the view's messages in a SORT's order (commands/sort.ts). */
export type SubsetSort = (view: SelectedMailbox, seqs: readonly number[]) => Promise<number[]>;

interface Context {
  tag: string;
  key: SearchKey;
  uid: boolean;
  /** UIDs in the result. */
  result: Set<number>;
  /** A SORT's: its order, and the result's UIDs in it. */
  sort?: { sorter: SubsetSort; order: number[] };
}

/** A [position, UID] of ADDTO or REMOVEFROM. */
type Update = [number, number];

class SearchContexts implements ViewWatcher {
  readonly contexts: Context[] = [];
  private touched = new Set<number>();

  constructor(
    private readonly view: SelectedMailbox,
    private readonly search: SubsetSearch,
  ) {}

  get unsettled(): boolean {
    return this.touched.size > 0;
  }

  find(tag: string): number {
    return this.contexts.findIndex((c) => c.tag === tag);
  }

  beforeExpunge(uids: readonly number[]): Untagged[] {
    const out: Untagged[] = [];
    for (const context of this.contexts) {
      const removed = removals(context, new Set(uids.filter((uid) => context.result.delete(uid))));
      if (removed.length) out.push(this.line(context, removed, []));
    }
    for (const uid of uids) this.touched.delete(uid);
    return out;
  }

  touch(uids: Iterable<number>): void {
    if (!this.contexts.length) return;
    for (const uid of uids) this.touched.add(uid);
  }

  async settle(): Promise<Untagged[]> {
    if (!this.touched.size) return [];
    const uids = [...this.touched].sort((a, b) => a - b);
    this.touched = new Set();
    const view = this.view;
    const out: Untagged[] = [];
    for (const context of [...this.contexts]) {
      const seqs = uids.map((uid) => view.seqOfUid(uid)).filter((seq) => seq > 0);
      const found = await this.search(view, context.key, seqs);
      if (!this.contexts.includes(context)) continue; // cancelled meanwhile
      // The view may have changed while the files were read: messages gone from it are left out.
      const matched = new Set(found.map((seq) => view.message(seq)?.uid));
      const added = new Set<number>();
      const removed = new Set<number>();
      for (const uid of uids) {
        if (!view.seqOfUid(uid)) continue;
        const inResult = context.result.has(uid);
        if (matched.has(uid) && !inResult) {
          context.result.add(uid);
          added.add(uid);
        } else if (!matched.has(uid) && inResult) {
          context.result.delete(uid);
          removed.add(uid);
        }
      }
      if (!added.size && !removed.size) continue;
      // A SORT's new order, read before its order is changed below (no wait from there on: an
      // expunge meanwhile takes its message out of the order, as the client is told first).
      let sorted: number[] | undefined;
      if (context.sort && added.size) {
        const seqs = [...context.sort.order, ...added].map((uid) => view.seqOfUid(uid)).filter((seq) => seq > 0);
        sorted = (await context.sort.sorter(view, seqs.sort((a, b) => a - b))).map((seq) => view.message(seq)?.uid ?? 0);
        if (!this.contexts.includes(context)) continue;
      }
      const gone = removals(context, removed);
      const inserted = sorted ? insertions(context, new Set([...added].filter((uid) => context.result.has(uid))), sorted, gone) : [...added].map((uid): Update => [0, uid]);
      if (gone.length || inserted.length) out.push(this.line(context, gone, inserted));
    }
    return out;
  }

  /** * ESEARCH (TAG "t") [UID] [REMOVEFROM (...)] [ADDTO (...)], in the context's numbering now. */
  private line(context: Context, removed: readonly Update[], added: readonly Update[]): Untagged {
    const number = (uid: number) => (context.uid ? uid : this.view.seqOfUid(uid));
    const line: Untagged = [{ atom: 'ESEARCH' }, [{ atom: 'TAG' }, context.tag]];
    if (context.uid) line.push({ atom: 'UID' });
    if (removed.length) line.push({ atom: 'REMOVEFROM' }, pairs(removed, true, number));
    if (added.length) line.push({ atom: 'ADDTO' }, pairs(added, false, number));
    return line;
  }
}

/**
 * A SORT's insertions: from its result sorted anew with the added messages (`sorted`), each added
 * one at its position there, ascending. Should the messages that stayed come out in another
 * order (one whose file went meanwhile cannot be sorted), the client is told to take them all
 * out (appended to `removed`) and put all back.
 */
function insertions(context: Context, added: ReadonlySet<number>, all: readonly number[], removed: Update[]): Update[] {
  const sort = context.sort!;
  const order = new Set(sort.order);
  const sorted = all.filter((uid) => order.has(uid) || added.has(uid));
  // What could not be sorted is out of the result (a later look may add it again).
  const placed = new Set(sorted);
  for (const uid of [...order, ...added]) if (!placed.has(uid)) context.result.delete(uid);
  const kept = sorted.filter((uid) => !added.has(uid));
  if (kept.length !== sort.order.length || kept.some((uid, i) => uid !== sort.order[i])) {
    removed.push(...sort.order.map((uid): Update => [1, uid]));
    sort.order = sorted;
    return sorted.map((uid, i): Update => [i + 1, uid]);
  }
  sort.order = sorted;
  const out: Update[] = [];
  sorted.forEach((uid, i) => {
    if (added.has(uid)) out.push([i + 1, uid]);
  });
  return out;
}

/**
 * The removal of `removed` (UIDs of the result) as updates: for a SEARCH at position 0, for a
 * SORT at the position each has once the ones before it are out (taken from the order).
 */
function removals(context: Context, removed: ReadonlySet<number>): Update[] {
  if (!context.sort) return [...removed].map((uid): Update => [0, uid]);
  const out: Update[] = [];
  const order: number[] = [];
  for (const uid of context.sort.order) {
    if (removed.has(uid)) out.push([order.length + 1, uid]);
    else order.push(uid);
  }
  context.sort.order = order;
  return out;
}

/**
 * "position set position set ...": a SEARCH's one set at 0 (ascending); a SORT's updates joined
 * while each continues the one before (removals at one position, insertions one after another).
 */
function pairs(updates: readonly Update[], removal: boolean, number: (uid: number) => number): ImapValue[] {
  if (updates[0][0] === 0) return [0, { atom: compactSet(updates.map(([, uid]) => number(uid)).sort((a, b) => a - b)) }];
  const groups: { position: number; numbers: number[] }[] = [];
  for (const [position, uid] of updates) {
    const last = groups[groups.length - 1];
    if (last && position === (removal ? last.position : last.position + last.numbers.length)) last.numbers.push(number(uid));
    else groups.push({ position, numbers: [number(uid)] });
  }
  return groups.flatMap((g) => [g.position, { atom: compactSet(g.numbers) }]);
}

function contextsOf(view: SelectedMailbox): SearchContexts | null {
  return view.watcher instanceof SearchContexts ? view.watcher : null;
}

/** Before a SEARCH with UPDATE: a tag already in use is refused (RFC 5267 4.3). */
export function checkUpdate(ctx: CommandContext): void {
  const contexts = contextsOf(ctx.session.selected!);
  if (contexts && contexts.find(ctx.tag) >= 0) throw new ProtocolError(`Tag ${ctx.tag.slice(0, 40)} already names a search with UPDATE`);
}

/** After a SEARCH or SORT (with `sorter`, `seqs` in its order) with UPDATE answered: keep it, its "$" resolved (or say NOUPDATE when too many are kept). */
export function startUpdates(ctx: CommandContext, key: SearchKey, seqs: readonly number[], search: SubsetSearch, sorter?: SubsetSort): void {
  const { session } = ctx;
  const view = session.selected!;
  let contexts = contextsOf(view);
  if (contexts && contexts.contexts.length >= MAX_CONTEXTS) {
    session.untagged([{ atom: 'NO' }, { atom: `[NOUPDATE "${ctx.tag}"]` }, { atom: 'Too many searches with UPDATE; CANCELUPDATE one' }]);
    return;
  }
  if (!contexts) view.watcher = contexts = new SearchContexts(view, search);
  const uids = seqs.map((seq) => view.message(seq)!.uid);
  contexts.contexts.push({ tag: ctx.tag, key, uid: ctx.uid, result: new Set(uids), sort: sorter ? { sorter, order: uids } : undefined });
}

/** CANCELUPDATE "tag" ... (RFC 5267 4.3.5). */
export const cancelupdate: CommandSpec = {
  names: ['CANCELUPDATE'],
  states: SELECTED,
  capabilities: [{ word: 'CONTEXT=SEARCH' }],
  async handler({ session, args }) {
    if (!session.offers('CONTEXT=SEARCH') && !session.offers('CONTEXT=SORT')) throw new ProtocolError('Unknown command CANCELUPDATE');
    const tags: string[] = [];
    while (args.remaining) {
      const token = args.next('tag');
      if (token.type !== 'string') throw new ProtocolError('CANCELUPDATE takes the tags as quoted strings');
      tags.push(token.value.toString('latin1'));
    }
    if (!tags.length) throw new ProtocolError('Missing tag');
    const contexts = contextsOf(session.selected!);
    for (const tag of tags) {
      const index = contexts ? contexts.find(tag) : -1;
      if (index < 0) return no(`No search with UPDATE has the tag ${tag.slice(0, 40)}`);
      contexts!.contexts.splice(index, 1);
    }
    return ok('Updates cancelled');
  },
};
