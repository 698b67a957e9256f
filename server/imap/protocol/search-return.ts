// SEARCH and SORT return options (RFC 4466 search-return-opts): "RETURN (...)" right after the
// command name, before CHARSET or the sort criteria. The options are those of ESEARCH
// (RFC 4731: MIN MAX ALL COUNT), SEARCHRES (RFC 5182: SAVE) and CONTEXT=SEARCH (RFC 5267:
// CONTEXT, UPDATE, PARTIAL). Syntax only: what the options mean is up to the commands.

import { ProtocolError } from './errors.js';
import type { Token } from './types.js';

export interface SearchReturn {
  min: boolean;
  max: boolean;
  all: boolean;
  count: boolean;
  /** RFC 5182: keep the result for "$". */
  save: boolean;
  /** RFC 5267 4.3: keep the search and report ADDTO / REMOVEFROM as the result changes. */
  update: boolean;
  /** RFC 5267 4.4: positions from..to (1-based, from <= to) of the result. */
  partial?: { from: number; to: number };
}

/** Largest position PARTIAL accepts (nz-number is a 32-bit value, as a sequence number). */
const MAX_POSITION = 4294967295;

/**
 * "RETURN (options)" at the start of `args`: the options and the arguments after them, or
 * null options when the command has no RETURN (a plain SEARCH / SORT). An empty list means
 * ALL (RFC 4731 3.1). Unknown or repeated options, and PARTIAL with ALL (RFC 5267 4.4),
 * throw a ProtocolError (BAD).
 */
export function parseSearchReturn(args: readonly Token[]): { options: SearchReturn | null; rest: Token[] } {
  const first = args[0];
  if (first?.type !== 'atom' || first.value.toUpperCase() !== 'RETURN') return { options: null, rest: [...args] };
  const list = args[1];
  if (list?.type !== 'list') throw new ProtocolError('Expected a parenthesized list of return options after RETURN');
  const options: SearchReturn = { min: false, max: false, all: false, count: false, save: false, update: false };
  const items = list.items;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item.type !== 'atom') throw new ProtocolError('Return options must be atoms');
    const word = item.value.toUpperCase();
    switch (word) {
      case 'MIN':
      case 'MAX':
      case 'ALL':
      case 'COUNT':
      case 'SAVE':
      case 'UPDATE': {
        const key = word.toLowerCase() as 'min' | 'max' | 'all' | 'count' | 'save' | 'update';
        if (options[key]) throw new ProtocolError(`Return option ${word} given twice`);
        options[key] = true;
        break;
      }
      case 'CONTEXT':
        // RFC 5267 4.2: a hint that the client will ask again; servers may ignore it.
        break;
      case 'PARTIAL': {
        if (options.partial) throw new ProtocolError('Return option PARTIAL given twice');
        const range = items[++i];
        if (range?.type !== 'atom') throw new ProtocolError('Expected a range (n:m) after PARTIAL');
        options.partial = partialRange(range.value);
        break;
      }
      default:
        throw new ProtocolError(`Unknown return option ${item.value.slice(0, 40)}`);
    }
  }
  if (options.partial && options.all) throw new ProtocolError('PARTIAL and ALL cannot be used together (RFC 5267 4.4)');
  if (!options.min && !options.max && !options.all && !options.count && !options.save && !options.update && !options.partial) options.all = true;
  return { options, rest: args.slice(2) };
}

/** partial-range = nz-number ":" nz-number (RFC 5267 section 5); either order. */
function partialRange(text: string): { from: number; to: number } {
  const match = /^([1-9][0-9]{0,9}):([1-9][0-9]{0,9})$/.exec(text);
  const a = match ? Number(match[1]) : 0;
  const b = match ? Number(match[2]) : 0;
  if (!match || a > MAX_POSITION || b > MAX_POSITION) throw new ProtocolError(`Invalid PARTIAL range "${text.slice(0, 40)}"`);
  return { from: Math.min(a, b), to: Math.max(a, b) };
}
