// SORT and UID SORT (RFC 5256 section 3).
import { SELECTED, bad, no, ok, type CommandSpec } from './types.js';
import { tokenText } from './args.js';
import { parseSearchKeys } from '../protocol/parser.js';
import { sortMessages, parseSortCriteria } from '../search/sort.js';
import { searchForOrdering } from './search.js';

/** IMAP_DISABLETHREADSORT: Courier keeps SORT and THREAD in CAPABILITY and refuses the commands with these words. */
export const DISABLED_BY_ADMINISTRATOR = 'This command is disabled by the system administrator.';

export const sort: CommandSpec = {
  names: ['SORT', 'UID SORT'],
  states: SELECTED,
  sequenceNumbers: 'non-uid',
  capabilities: [{ word: 'SORT' }, { word: 'SORT=DISPLAY' }],
  async handler(ctx) {
    const { session, args } = ctx;
    if (session.settings.disableThreadSort) return no(DISABLED_BY_ADMINISTRATOR);
    // DISPLAYFROM / DISPLAYTO (RFC 5957) only while SORT=DISPLAY is announced.
    const criteria = parseSortCriteria(args.list('sort criteria').map((t) => tokenText(t, 'sort criterion')), session.offers('SORT=DISPLAY'));
    if (!criteria) return bad('Invalid sort criteria');
    const charset = args.astring('charset');
    const key = parseSearchKeys(args.rest(), charset);
    const items = await searchForOrdering(ctx, key);
    const sorted = sortMessages(items, criteria);
    session.untagged([{ atom: 'SORT' }, ...sorted.map((m) => (ctx.uid ? m.uid : m.seq))]);
    return ok('SORT completed');
  },
};
