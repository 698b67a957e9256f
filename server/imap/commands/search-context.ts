// CONTEXT=SEARCH (RFC 5267 section 4): SEARCH RETURN (UPDATE) keeps the search, and the
// session reports how its result changes as messages arrive, leave or change flags (by this
// session or any other: the changes come through the view, selected.ts, as IDLE's and NOOP's
// do) with untagged ESEARCH ADDTO / REMOVEFROM, until CANCELUPDATE or the next SELECT. As in
// Dovecot: the position in ADDTO and REMOVEFROM is 0 (a SEARCH result is in mailbox order,
// 4.3.2), a UID SEARCH's updates name UIDs and a SEARCH's sequence numbers, REMOVEFROM for
// expunged messages comes before their EXPUNGE (4.3.4), and the rest after the EXISTS and
// FETCH of the same report (4.3.3). CONTEXT=SORT (positions in a sorted result) is not offered.

import { ProtocolError } from '../protocol/errors.js';
import { compactSet } from '../resolve-set.js';
import type { SearchKey } from '../protocol/types.js';
import type { SelectedMailbox, Untagged, ViewWatcher } from '../selected.js';
import { SELECTED, no, ok, type CommandContext, type CommandSpec } from './types.js';

/** Updating contexts one session may hold (RFC 5267 4.3.1: at least one); more get NOUPDATE. */
const MAX_CONTEXTS = 10;

/** How the matching messages among some of the view's are found (commands/search.ts searchView). */
export type SubsetSearch = (view: SelectedMailbox, key: SearchKey, seqs: readonly number[]) => Promise<number[]>;

interface Context {
  tag: string;
  key: SearchKey;
  uid: boolean;
  /** UIDs in the result. */
  result: Set<number>;
}

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
      const removed = uids.filter((uid) => context.result.delete(uid));
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
      const added: number[] = [];
      const removed: number[] = [];
      for (const uid of uids) {
        if (!view.seqOfUid(uid)) continue;
        const inResult = context.result.has(uid);
        if (matched.has(uid) && !inResult) {
          context.result.add(uid);
          added.push(uid);
        } else if (!matched.has(uid) && inResult) {
          context.result.delete(uid);
          removed.push(uid);
        }
      }
      if (added.length || removed.length) out.push(this.line(context, removed, added));
    }
    return out;
  }

  /** * ESEARCH (TAG "t") [UID] [REMOVEFROM (0 set)] [ADDTO (0 set)], in the context's numbering now. */
  private line(context: Context, removed: readonly number[], added: readonly number[]): Untagged {
    const numbers = (uids: readonly number[]) => (context.uid ? uids : uids.map((uid) => this.view.seqOfUid(uid)));
    const line: Untagged = [{ atom: 'ESEARCH' }, [{ atom: 'TAG' }, context.tag]];
    if (context.uid) line.push({ atom: 'UID' });
    if (removed.length) line.push({ atom: 'REMOVEFROM' }, [0, { atom: compactSet(numbers(removed)) }]);
    if (added.length) line.push({ atom: 'ADDTO' }, [0, { atom: compactSet(numbers(added)) }]);
    return line;
  }
}

function contextsOf(view: SelectedMailbox): SearchContexts | null {
  return view.watcher instanceof SearchContexts ? view.watcher : null;
}

/** Before a SEARCH with UPDATE: a tag already in use is refused (RFC 5267 4.3). */
export function checkUpdate(ctx: CommandContext): void {
  const contexts = contextsOf(ctx.session.selected!);
  if (contexts && contexts.find(ctx.tag) >= 0) throw new ProtocolError(`Tag ${ctx.tag.slice(0, 40)} already names a search with UPDATE`);
}

/** After a SEARCH with UPDATE answered: keep it, its "$" resolved (or say NOUPDATE when too many are kept). */
export function startUpdates(ctx: CommandContext, key: SearchKey, seqs: readonly number[], search: SubsetSearch): void {
  const { session } = ctx;
  const view = session.selected!;
  let contexts = contextsOf(view);
  if (contexts && contexts.contexts.length >= MAX_CONTEXTS) {
    session.untagged([{ atom: 'NO' }, { atom: `[NOUPDATE "${ctx.tag}"]` }, { atom: 'Too many searches with UPDATE; CANCELUPDATE one' }]);
    return;
  }
  if (!contexts) view.watcher = contexts = new SearchContexts(view, search);
  const result = new Set(seqs.map((seq) => view.message(seq)!.uid));
  contexts.contexts.push({ tag: ctx.tag, key, uid: ctx.uid, result });
}

/** CANCELUPDATE "tag" ... (RFC 5267 4.3.5). */
export const cancelupdate: CommandSpec = {
  names: ['CANCELUPDATE'],
  states: SELECTED,
  capabilities: [{ word: 'CONTEXT=SEARCH' }],
  async handler({ session, args }) {
    if (!session.offers('CONTEXT=SEARCH')) throw new ProtocolError('Unknown command CANCELUPDATE');
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
