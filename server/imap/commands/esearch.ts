// Extended SEARCH and SORT answers: ESEARCH (RFC 4731) and ESORT (RFC 5267 section 3), the
// saved result "$" of SEARCHRES (RFC 5182), and PARTIAL (RFC 5267 4.4). SEARCH and SORT
// parse their RETURN options with returnOptions and answer with answerExtended; FETCH, STORE,
// COPY, MOVE and UID EXPUNGE read their message set with sequenceSetArg, where "$" may stand.
//
// IMAP4rev2 (RFC 9051 6.4.4) answers every SEARCH with ESEARCH: after ENABLE IMAP4rev2 a
// plain SEARCH gets the RETURN () answer (esearchAlways), and its search keys are IMAP4rev2's.

import { ProtocolError } from '../protocol/errors.js';
import { parseSequenceSet } from '../protocol/sequence.js';
import { parseSearchReturn, type SearchReturn } from '../protocol/search-return.js';
import type { ImapValue, SearchKey, SequenceSet, Token } from '../protocol/types.js';
import type { SelectedMailbox } from '../selected.js';
import { compactSet } from '../resolve-set.js';
import type { CommandContext, CommandResult, SessionContext } from './types.js';
import { isRev2, REMOVED_SEARCH_KEYS } from '../rev2.js';

/** RFC 9051 (Appendix E item 4): SEARCH always answers ESEARCH after ENABLE IMAP4rev2. */
export function esearchAlways(session: SessionContext): boolean {
  return isRev2(session.enabled);
}

/**
 * The RETURN options at the start of SEARCH (`word` ESEARCH) or SORT (ESORT) arguments, and
 * the arguments after them. Without the capability word announced, RETURN stays what it was
 * (an unknown search key). SAVE needs SEARCHRES, UPDATE needs CONTEXT=SEARCH (CONTEXT=SORT in SORT).
 */
export function returnOptions(session: SessionContext, tokens: Token[], word: 'ESEARCH' | 'ESORT'): { options: SearchReturn | null; rest: Token[] } {
  if (!session.offers(word)) return { options: null, rest: tokens };
  const parsed = parseSearchReturn(tokens);
  const options = parsed.options;
  if (!options) {
    if (word === 'ESEARCH' && esearchAlways(session)) return { options: { min: false, max: false, all: true, count: false, save: false, update: false }, rest: parsed.rest };
    return parsed;
  }
  if (options.save && !session.offers('SEARCHRES')) throw new ProtocolError('Return option SAVE needs SEARCHRES, which is not offered');
  // RFC 5267 4: UPDATE in SORT is CONTEXT=SORT's; PARTIAL comes with either.
  const context = word === 'ESORT' ? 'CONTEXT=SORT' : 'CONTEXT=SEARCH';
  if (options.update && !session.offers(context)) throw new ProtocolError(`Return option UPDATE needs ${context}, which is not offered`);
  if (options.partial && !session.offers('CONTEXT=SEARCH') && !session.offers('CONTEXT=SORT')) throw new ProtocolError('Return option PARTIAL needs CONTEXT=SEARCH, which is not offered');
  return parsed;
}

/** Runs a SEARCH or SORT; one with SAVE that fails (NO, BAD, an error) leaves "$" empty (RFC 5182 2.1). */
export async function savingResult(view: SelectedMailbox, options: SearchReturn | null, run: () => Promise<CommandResult>): Promise<CommandResult> {
  if (!options?.save) return run();
  try {
    const result = await run();
    if (result.status !== 'OK') view.saved = [];
    return result;
  } catch (err) {
    view.saved = [];
    throw err;
  }
}

/** The key with "$" replaced by the UIDs of the saved result (none before a SAVE). Keys of
 * extensions switched off in IMAP_CAPABILITY ("$", OLDER, YOUNGER) are refused, and after
 * ENABLE IMAP4rev2 the keys it removed (RECENT, NEW, OLD: RFC 9051 section 9, search-key). */
export function withSavedResult(session: SessionContext, key: SearchKey): SearchKey {
  if (isRev2(session.enabled) && [...REMOVED_SEARCH_KEYS].some((op) => uses(key, op as SearchKey['op']))) throw new ProtocolError('Unknown search key (RECENT, NEW and OLD are not part of IMAP4rev2)');
  if (uses(key, 'within') && !session.offers('WITHIN')) throw new ProtocolError('Unknown search key (OLDER and YOUNGER need WITHIN, which is not offered)');
  if (!uses(key, 'saved')) return key;
  if (!session.offers('SEARCHRES')) throw new ProtocolError('Invalid sequence set "$"');
  const set = ranges(session.selected!.saved);
  const replace = (k: SearchKey): SearchKey => {
    switch (k.op) {
      case 'saved':
        return { op: 'uid', set };
      case 'and':
        return { op: 'and', keys: k.keys.map(replace) };
      case 'or':
        return { op: 'or', left: replace(k.left), right: replace(k.right) };
      case 'not':
        return { op: 'not', key: replace(k.key) };
      default:
        return k;
    }
  };
  return replace(key);
}

function uses(key: SearchKey, op: SearchKey['op']): boolean {
  switch (key.op) {
    case 'and':
      return key.keys.some((k) => uses(k, op));
    case 'or':
      return uses(key.left, op) || uses(key.right, op);
    case 'not':
      return uses(key.key, op);
    default:
      return key.op === op;
  }
}

/**
 * The message set argument of FETCH, STORE, COPY, MOVE, UID EXPUNGE: a sequence set, or "$"
 * (RFC 5182 2.2: the saved result, as sequence numbers or, for the UID forms, UIDs; messages
 * expunged since have left it).
 */
export function sequenceSetArg(ctx: CommandContext, what: string): SequenceSet {
  const text = ctx.args.atom(what);
  if (text !== '$' || !ctx.session.offers('SEARCHRES')) return parseSequenceSet(text);
  const view = ctx.session.selected!;
  if (ctx.uid) return ranges(view.saved);
  const seqs: number[] = [];
  for (const uid of view.saved) {
    const seq = view.seqOfUid(uid);
    if (seq) seqs.push(seq);
  }
  return ranges(seqs);
}

/** Ascending numbers as ranges. */
function ranges(numbers: readonly number[]): SequenceSet {
  const set: SequenceSet = [];
  for (const n of numbers) {
    const last = set[set.length - 1];
    if (last && n === last.to + 1) last.to = n;
    else set.push({ from: n, to: n });
  }
  return set;
}

/**
 * The ESEARCH answer of SEARCH or SORT with RETURN options, for the matching messages `seqs`
 * in result order (ascending for SEARCH, sorted for SORT: MIN and MAX are then the first and
 * the last, RFC 5267 3.1; ALL has a range only where the numbers ascend by one, 3.2), and the saved result of SAVE. As Dovecot: MIN, MAX and ALL are left
 * out when nothing matched, COUNT 0 is not; SAVE alone answers nothing (RFC 5182 2.1).
 */
export function answerExtended(ctx: CommandContext, options: SearchReturn, seqs: readonly number[], withModseq: boolean): void {
  const { session, uid } = ctx;
  const view = session.selected!;
  const id = (seq: number) => (uid ? view.message(seq)!.uid : seq);
  const partial = options.partial ? seqs.slice(options.partial.from - 1, options.partial.to) : undefined;
  // The messages the answer reports, which SAVE keeps and whose highest MODSEQ is given
  // (RFC 5182 2.4: with MIN or MAX and neither ALL nor COUNT, only those are saved).
  let reported: readonly number[];
  if (options.all || options.count || (!partial && !options.min && !options.max)) reported = seqs;
  else if (partial) reported = partial;
  else reported = [...(options.min && seqs.length ? [seqs[0]] : []), ...(options.max && seqs.length > (options.min ? 1 : 0) ? [seqs[seqs.length - 1]] : [])];
  if (options.save) {
    view.saved = reported.map((s) => view.message(s)!.uid).sort((a, b) => a - b);
  }
  const onlySave = options.save && !options.min && !options.max && !options.all && !options.count && !options.partial && !options.update;
  if (onlySave) return;
  const line: ImapValue[] = [{ atom: 'ESEARCH' }, [{ atom: 'TAG' }, ctx.tag]];
  if (uid) line.push({ atom: 'UID' });
  if (options.min && seqs.length) line.push({ atom: 'MIN' }, id(seqs[0]));
  if (options.max && seqs.length) line.push({ atom: 'MAX' }, id(seqs[seqs.length - 1]));
  if (options.all && seqs.length) line.push({ atom: 'ALL' }, { atom: compactSet(seqs.map(id)) });
  if (options.partial) {
    const range = { atom: `${options.partial.from}:${options.partial.to}` };
    line.push({ atom: 'PARTIAL' }, [range, partial!.length ? { atom: compactSet(partial!.map(id)) } : null]);
  }
  if (options.count) line.push({ atom: 'COUNT' }, seqs.length);
  if (withModseq) {
    // RFC 7162 3.1.5: the highest mod-sequence of the messages reported.
    let highest = 0;
    for (const s of reported) highest = Math.max(highest, view.message(s)!.modseq);
    if (highest) line.push({ atom: 'MODSEQ' }, highest);
  }
  session.untagged(line);
}
