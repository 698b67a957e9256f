// SORT and UID SORT (RFC 5256 section 3), with RETURN options answered by ESEARCH (ESORT,
// RFC 5267 section 3); RETURN (UPDATE) keeps the sort (CONTEXT=SORT, 4.3: search-context.ts).
import { SELECTED, bad, no, ok, type CommandSpec } from './types.js';
import { Args, tokenText } from './args.js';
import { parseSearchKeys } from '../protocol/parser.js';
import { sortMessages, parseSortCriteria } from '../search/sort.js';
import { keyUses, loadMessages, MODSEQ_KEYS, searchForOrdering, searchView } from './search.js';
import { answerExtended, returnOptions, savingResult, withSavedResult } from './esearch.js';
import { checkUpdate, startUpdates } from './search-context.js';
import type { SelectedMailbox } from '../selected.js';
import type { SortCriterion } from '../search/sort.js';

/** IMAP_DISABLETHREADSORT: Courier keeps SORT and THREAD in CAPABILITY and refuses the commands with these words. */
export const DISABLED_BY_ADMINISTRATOR = 'This command is disabled by the system administrator.';

export const sort: CommandSpec = {
  names: ['SORT', 'UID SORT'],
  states: SELECTED,
  sequenceNumbers: 'non-uid',
  capabilities: [{ word: 'SORT' }, { word: 'ESORT' }, { word: 'SORT=DISPLAY' }, { word: 'CONTEXT=SORT' }],
  async handler(ctx) {
    const { session } = ctx;
    if (session.settings.disableThreadSort) return no(DISABLED_BY_ADMINISTRATOR);
    const { options, rest } = returnOptions(session, ctx.args.rest(), 'ESORT');
    return savingResult(session.selected!, options, async () => {
      const args = new Args(rest);
      // DISPLAYFROM / DISPLAYTO (RFC 5957) only while SORT=DISPLAY is announced.
      const criteria = parseSortCriteria(args.list('sort criteria').map((t) => tokenText(t, 'sort criterion')), session.offers('SORT=DISPLAY'));
      if (!criteria) return bad('Invalid sort criteria');
      const charset = args.astring('charset');
      const key = parseSearchKeys(args.rest(), charset);
      const withModseq = options !== null && keyUses(key, MODSEQ_KEYS);
      if (withModseq) session.enableCondstore();
      if (options?.update) checkUpdate(ctx);
      const items = await searchForOrdering(ctx, key);
      const sorted = sortMessages(items, criteria).map((m) => m.seq);
      if (options) answerExtended(ctx, options, sorted, withModseq);
      if (options?.update) startUpdates(ctx, withSavedResult(session, key), sorted, searchView, (view, seqs) => sortView(view, criteria, seqs));
      if (!options) session.untagged([{ atom: 'SORT' }, ...sorted.map((seq) => (ctx.uid ? session.selected!.message(seq)!.uid : seq))]);
      return ok('SORT completed');
    });
  },
};

/** Messages of the view (ascending sequence numbers) in the order of `criteria`; those whose file went are left out. */
async function sortView(view: SelectedMailbox, criteria: readonly SortCriterion[], seqs: readonly number[]): Promise<number[]> {
  const loaded = await loadMessages(view.folder, seqs.map((seq) => view.message(seq)!), { info: true, header: true });
  const items = [];
  for (let i = 0; i < seqs.length; i++) {
    const message = loaded[i];
    if (message) items.push({ seq: seqs[i], uid: message.uid, info: message.info, meta: message.meta! });
  }
  return sortMessages(items, criteria).map((m) => m.seq);
}
