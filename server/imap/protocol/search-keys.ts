// SEARCH keys (RFC 3501 6.4.4 and the extensions': CONDSTORE MODSEQ, WITHIN, SAVEDATE,
// OBJECTID, SEARCHRES "$") as one SearchKey tree; also the charsets SEARCH, SORT and THREAD take.

import { parseSearchDate } from './dates.js';
import { ProtocolError } from './errors.js';
import { isSequenceSet, parseSequenceSet } from './sequence.js';
import { astringValue, atomValue, HEADER_NAME, KEYWORD_SYNTAX, modseqValue, numberValue, tokenKind } from './tokens.js';
import type { SearchKey, Token } from './types.js';

/** Charsets SEARCH accepts (strings are matched as UTF-8 either way). */
export const SEARCH_CHARSETS = ['UTF-8', 'US-ASCII'] as const;

/** Check a SEARCH/SORT/THREAD charset; throws NO [BADCHARSET (UTF-8 US-ASCII)] otherwise. */
export function checkCharset(charset: string): string {
  const upper = charset.toUpperCase();
  if (!(SEARCH_CHARSETS as readonly string[]).includes(upper)) {
    throw new ProtocolError(`Charset ${charset.slice(0, 40)} is not supported`, {
      status: 'NO',
      code: `BADCHARSET (${SEARCH_CHARSETS.join(' ')})`,
    });
  }
  return upper;
}

const FLAG_KEYS: Record<string, SearchKey> = {
  ALL: { op: 'all' },
  ANSWERED: { op: 'flag', flag: '\\Answered' },
  DELETED: { op: 'flag', flag: '\\Deleted' },
  DRAFT: { op: 'flag', flag: '\\Draft' },
  FLAGGED: { op: 'flag', flag: '\\Flagged' },
  SEEN: { op: 'flag', flag: '\\Seen' },
  UNANSWERED: { op: 'noflag', flag: '\\Answered' },
  UNDELETED: { op: 'noflag', flag: '\\Deleted' },
  UNDRAFT: { op: 'noflag', flag: '\\Draft' },
  UNFLAGGED: { op: 'noflag', flag: '\\Flagged' },
  UNSEEN: { op: 'noflag', flag: '\\Seen' },
  RECENT: { op: 'recent' },
  NEW: { op: 'new' },
  OLD: { op: 'old' },
  // RFC 8514 4.2: every folder of ours has save dates.
  SAVEDATESUPPORTED: { op: 'all' },
};
const HEADER_KEYS = new Set(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT']);
const DATE_KEYS: Record<string, ['internaldate' | 'sentdate' | 'savedate', 'before' | 'on' | 'since']> = {
  BEFORE: ['internaldate', 'before'],
  ON: ['internaldate', 'on'],
  SINCE: ['internaldate', 'since'],
  SENTBEFORE: ['sentdate', 'before'],
  SENTON: ['sentdate', 'on'],
  SENTSINCE: ['sentdate', 'since'],
  SAVEDBEFORE: ['savedate', 'before'],
  SAVEDON: ['savedate', 'on'],
  SAVEDSINCE: ['savedate', 'since'],
};
const MAX_SEARCH_DEPTH = 100;

class SearchParser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  get done(): boolean {
    return this.i >= this.tokens.length;
  }

  private next(what: string): Token {
    const t = this.tokens[this.i];
    if (t === undefined) throw new ProtocolError(`Missing ${what}`);
    this.i++;
    return t;
  }

  private string(what: string): string {
    const t = this.next(what);
    if (t.type === 'list' || t.type === 'section') throw new ProtocolError(`Expected ${what}, got ${tokenKind(t)}`);
    return astringValue(t, what);
  }

  private date(key: string): { y: number; m: number; d: number } {
    const t = this.next(`date after ${key}`);
    if (t.type === 'atom') return parseSearchDate(t.value);
    if (t.type === 'string') return parseSearchDate(t.value.toString('latin1'));
    throw new ProtocolError(`Expected a date after ${key}, got ${tokenKind(t)}`);
  }

  key(depth: number): SearchKey {
    if (depth > MAX_SEARCH_DEPTH) throw new ProtocolError('Search keys nested too deeply');
    const t = this.next('search key');
    if (t.type === 'list') {
      if (t.items.length === 0) throw new ProtocolError('Empty parenthesized search key');
      const inner = new SearchParser(t.items);
      const keys: SearchKey[] = [];
      while (!inner.done) keys.push(inner.key(depth + 1));
      return keys.length === 1 ? keys[0] : { op: 'and', keys };
    }
    if (t.type !== 'atom') throw new ProtocolError(`Expected a search key, got ${tokenKind(t)}`);
    const word = t.value.toUpperCase();
    const simple = FLAG_KEYS[word];
    if (simple) return simple;
    if (isSequenceSet(t.value)) return { op: 'seqset', set: parseSequenceSet(t.value) };
    if (t.value === '$') return { op: 'saved' };
    if (/^[0-9*]/.test(t.value)) parseSequenceSet(t.value); // throws the precise error
    if (HEADER_KEYS.has(word)) return { op: 'header', field: word, value: this.string(`string after ${word}`) };
    const dateKey = DATE_KEYS[word];
    if (dateKey) return { op: dateKey[0], cmp: dateKey[1], date: this.date(word) };
    switch (word) {
      case 'BODY':
        return { op: 'body', value: this.string('string after BODY') };
      case 'TEXT':
        return { op: 'text', value: this.string('string after TEXT') };
      case 'HEADER': {
        const field = this.string('header field name after HEADER');
        if (!HEADER_NAME.test(field)) throw new ProtocolError(`Invalid header field name "${field.slice(0, 40)}"`);
        return { op: 'header', field: field.toUpperCase(), value: this.string('string after HEADER field') };
      }
      case 'KEYWORD':
      case 'UNKEYWORD': {
        const flag = atomValue(this.next(`keyword after ${word}`), `a keyword after ${word}`);
        if (!KEYWORD_SYNTAX.test(flag)) throw new ProtocolError(`Invalid keyword "${flag.slice(0, 40)}"`);
        return { op: word === 'KEYWORD' ? 'flag' : 'noflag', flag };
      }
      case 'LARGER':
      case 'SMALLER':
        return { op: 'size', cmp: word === 'LARGER' ? 'larger' : 'smaller', n: numberValue(this.next(`number after ${word}`), `size after ${word}`) };
      case 'UID': {
        const set = this.next('UID set');
        if (set.type !== 'atom') throw new ProtocolError(`Expected a UID set, got ${tokenKind(set)}`);
        return set.value === '$' ? { op: 'saved' } : { op: 'uid', set: parseSequenceSet(set.value) };
      }
      case 'OLDER':
      case 'YOUNGER':
        return { op: 'within', cmp: word === 'OLDER' ? 'older' : 'younger', seconds: numberValue(this.next(`interval after ${word}`), `seconds after ${word}`, { nonZero: true }) };
      case 'MODSEQ': {
        // MODSEQ [<entry-name> <entry-type-req>] <mod-sequence-valzer> (RFC 7162 3.1.5)
        let value = this.next('mod-sequence after MODSEQ');
        if (value.type === 'string' || (value.type === 'atom' && !/^\d+$/.test(value.value))) {
          const type = atomValue(this.next('entry type after MODSEQ entry name'), 'entry type (priv, shared or all)').toLowerCase();
          if (type !== 'priv' && type !== 'shared' && type !== 'all') throw new ProtocolError(`Invalid MODSEQ entry type ${type.slice(0, 20)}`);
          value = this.next('mod-sequence after MODSEQ entry');
        }
        return { op: 'modseq', n: modseqValue(value, 'mod-sequence after MODSEQ') };
      }
      case 'NOT':
        return { op: 'not', key: this.key(depth + 1) };
      case 'OR': {
        const left = this.key(depth + 1);
        const right = this.key(depth + 1);
        return { op: 'or', left, right };
      }
      case 'CHARSET':
        throw new ProtocolError('CHARSET must come first');
      default:
        throw new ProtocolError(`Unknown search key ${t.value.slice(0, 40)}`);
    }
  }
}

/**
 * SEARCH criteria -> one SearchKey (several keys become { op: 'and' }).
 * For SEARCH, `args` may start with "CHARSET <name>". For SORT and THREAD, whose charset
 * is a separate argument, pass it as `charset` (args then have no CHARSET prefix).
 * An unsupported charset throws NO [BADCHARSET (UTF-8 US-ASCII)].
 */
export function parseSearchKeys(args: Token[], charset?: string): SearchKey {
  let tokens = args;
  if (charset !== undefined) checkCharset(charset);
  else if (tokens[0]?.type === 'atom' && tokens[0].value.toUpperCase() === 'CHARSET') {
    checkCharset(astringValue(tokens[1], 'charset name after CHARSET'));
    tokens = tokens.slice(2);
  }
  if (tokens.length === 0) throw new ProtocolError('Missing search criteria');
  const parser = new SearchParser(tokens);
  const keys: SearchKey[] = [];
  while (!parser.done) keys.push(parser.key(0));
  return keys.length === 1 ? keys[0] : { op: 'and', keys };
}
