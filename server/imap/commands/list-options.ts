// The arguments of LIST in RFC 3501's form and in LIST-EXTENDED's (RFC 5258 section 6):
//   LIST [SP "(" select-opts ")"] SP mailbox SP (pattern / "(" pattern *(SP pattern) ")")
//        [SP "RETURN" SP "(" return-opts ")"]
// with the SPECIAL-USE options of RFC 6154 and the STATUS return option of RFC 5819.
import type { Token } from '../protocol/types.js';
import { tokenText, SyntaxError, type Args } from './args.js';
import { statusItems } from './status-items.js';
import type { SessionContext } from './types.js';

export interface ListOptions {
  reference: string;
  patterns: string[];
  /** Any extended syntax was used (selection options, several patterns, RETURN). */
  extended: boolean;
  select: { subscribed: boolean; specialUse: boolean; recursiveMatch: boolean };
  ret: { subscribed: boolean; specialUse: boolean; children: boolean; status: string[] | null };
}

function words(tokens: Token[], what: string): string[] {
  return tokens.map((t) => {
    if (t.type !== 'atom') throw new SyntaxError(`Expected ${what}`);
    return t.value.toUpperCase();
  });
}

export function listOptions(args: Args, session: SessionContext): ListOptions {
  const options: ListOptions = {
    reference: '',
    patterns: [],
    extended: false,
    select: { subscribed: false, specialUse: false, recursiveMatch: false },
    ret: { subscribed: false, specialUse: false, children: false, status: null },
  };
  if (args.peek()?.type === 'list') {
    options.extended = true;
    const select = words(args.list('selection options'), 'selection options');
    for (const word of select) {
      if (word === 'SUBSCRIBED') options.select.subscribed = true;
      else if (word === 'SPECIAL-USE') options.select.specialUse = true;
      else if (word === 'RECURSIVEMATCH') options.select.recursiveMatch = true;
      // No remote mailboxes here: REMOTE asks to list them too, and there are none.
      else if (word !== 'REMOTE') throw new SyntaxError(`Unknown selection option ${word}`);
    }
    // RFC 5258 section 3: RECURSIVEMATCH modifies a base option and is never alone.
    if (options.select.recursiveMatch && !options.select.subscribed && !options.select.specialUse) {
      throw new SyntaxError('RECURSIVEMATCH must not be the only selection option');
    }
  }
  options.reference = args.astring('reference name');
  const patterns = args.peek();
  if (patterns?.type === 'list') {
    args.next('mailbox patterns');
    options.extended = true;
    if (patterns.items.length === 0) throw new SyntaxError('Expected at least one mailbox pattern');
    options.patterns = patterns.items.map((t) => (t.type === 'nil' ? 'NIL' : tokenText(t, 'mailbox pattern')));
  } else options.patterns = [args.astring('mailbox pattern')];
  if (args.remaining > 0) {
    if (args.atom('RETURN').toUpperCase() !== 'RETURN') throw new SyntaxError('Expected RETURN');
    options.extended = true;
    const items = args.list('return options');
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const word = item.type === 'atom' ? item.value.toUpperCase() : '';
      if (word === 'SUBSCRIBED') options.ret.subscribed = true;
      else if (word === 'SPECIAL-USE') options.ret.specialUse = true;
      else if (word === 'CHILDREN') options.ret.children = true;
      else if (word === 'STATUS') {
        const list = items[++i];
        if (list?.type !== 'list') throw new SyntaxError('STATUS needs a list of status items');
        options.ret.status = statusItems(list.items, session);
      } else throw new SyntaxError(`Unknown return option ${word}`);
    }
  }
  args.end();
  // RFC 5258 section 3.1: SUBSCRIBED selection implies the SUBSCRIBED return option.
  if (options.select.subscribed) options.ret.subscribed = true;
  return options;
}
