// SORT and UID SORT (RFC 5256 section 3), with RETURN options answered by ESEARCH (ESORT,
// RFC 5267 section 3). UPDATE (CONTEXT=SORT, positions in the sorted result) is not offered.
import { SELECTED, bad, no, ok, type CommandSpec } from './types.js';
import { Args, tokenText } from './args.js';
import { parseSearchKeys } from '../protocol/parser.js';
import { sortMessages, parseSortCriteria } from '../search/sort.js';
import { keyUses, MODSEQ_KEYS, searchForOrdering } from './search.js';
import { answerExtended, returnOptions, savingResult } from './esearch.js';

/** IMAP_DISABLETHREADSORT: Courier keeps SORT and THREAD in CAPABILITY and refuses the commands with these words. */
export const DISABLED_BY_ADMINISTRATOR = 'This command is disabled by the system administrator.';

export const sort: CommandSpec = {
  names: ['SORT', 'UID SORT'],
  states: SELECTED,
  sequenceNumbers: 'non-uid',
  capabilities: [{ word: 'SORT' }, { word: 'ESORT' }, { word: 'SORT=DISPLAY' }],
  async handler(ctx) {
    const { session } = ctx;
    if (session.settings.disableThreadSort) return no(DISABLED_BY_ADMINISTRATOR);
    const { options, rest } = returnOptions(session, ctx.args.rest(), 'ESORT');
    return savingResult(session.selected!, options, async () => {
      if (options?.update) return bad('UPDATE with SORT needs CONTEXT=SORT, which is not offered');
      const args = new Args(rest);
      // DISPLAYFROM / DISPLAYTO (RFC 5957) only while SORT=DISPLAY is announced.
      const criteria = parseSortCriteria(args.list('sort criteria').map((t) => tokenText(t, 'sort criterion')), session.offers('SORT=DISPLAY'));
      if (!criteria) return bad('Invalid sort criteria');
      const charset = args.astring('charset');
      const key = parseSearchKeys(args.rest(), charset);
      const withModseq = options !== null && keyUses(key, MODSEQ_KEYS);
      if (withModseq) session.enableCondstore();
      const items = await searchForOrdering(ctx, key);
      const sorted = sortMessages(items, criteria);
      if (options) answerExtended(ctx, options, sorted.map((m) => m.seq), withModseq);
      else session.untagged([{ atom: 'SORT' }, ...sorted.map((m) => (ctx.uid ? m.uid : m.seq))]);
      return ok('SORT completed');
    });
  },
};
