// SEARCH and UID SEARCH (RFC 3501 6.4.4). The evaluator decides cheap keys first and
// reads message files only for BODY/TEXT and uncached headers.
import { SELECTED, ok, type CommandContext, type CommandSpec } from './types.js';
import { parseSearchKeys } from '../protocol/parser.js';
import { search as evaluate } from '../search/evaluate.js';
import type { SearchKey } from '../protocol/types.js';

/** Matching sequence numbers for a search program, against the selected view. */
export async function runSearch(ctx: CommandContext, key: SearchKey): Promise<number[]> {
  const view = ctx.session.selected!;
  const messages = view.all().map((info, i) => ({ seq: i + 1, uid: info.uid, info, recent: view.isRecent(info.uid) }));
  return evaluate(messages, key, {
    meta: (uid: number) => view.folder.messageMeta(uid),
    raw: (uid: number) => view.folder.readMessage(uid),
  }, { maxSeq: view.exists, maxUid: view.maxUid() });
}

export const search: CommandSpec = {
  names: ['SEARCH', 'UID SEARCH'],
  states: SELECTED,
  allowExpunge: ({ uid }) => uid,
  async handler(ctx) {
    const key = parseSearchKeys(ctx.args.rest());
    const view = ctx.session.selected!;
    const seqs = await runSearch(ctx, key);
    const numbers = ctx.uid ? seqs.map((s) => view.message(s)!.uid) : seqs;
    ctx.session.untagged([{ atom: 'SEARCH' }, ...numbers]);
    return ok('SEARCH completed');
  },
};
