// Sequential access to a command's arguments, with the syntax errors worded for the
// client (they become "<tag> BAD <message>").

import type { Token } from '../protocol/types.js';

export class SyntaxError extends Error {}

export class Args {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  get remaining(): number {
    return this.tokens.length - this.index;
  }

  peek(): Token | undefined {
    return this.tokens[this.index];
  }

  next(what: string): Token {
    const token = this.tokens[this.index++];
    if (!token) throw new SyntaxError(`Missing ${what}`);
    return token;
  }

  /** An atom, returned as written. */
  atom(what: string): string {
    const token = this.next(what);
    if (token.type !== 'atom') throw new SyntaxError(`Expected ${what}`);
    return token.value;
  }

  /** An astring (atom, quoted string or literal), as UTF-8 text. */
  astring(what: string): string {
    return this.astringBytes(what).toString('utf8');
  }

  astringBytes(what: string): Buffer {
    const token = this.next(what);
    if (token.type === 'atom') return Buffer.from(token.value, 'utf8');
    if (token.type === 'string') return token.value;
    // RFC 3501 section 9: astring is 1*ASTRING-CHAR, so NIL is the name "NIL" (LIST "" NIL).
    if (token.type === 'nil') return Buffer.from('NIL');
    throw new SyntaxError(`Expected ${what}`);
  }

  /** A string that may also be NIL (nstring). */
  nstring(what: string): string | null {
    const token = this.peek();
    if (token?.type === 'nil') {
      this.index++;
      return null;
    }
    return this.astring(what);
  }

  list(what: string): Token[] {
    const token = this.next(what);
    if (token.type !== 'list') throw new SyntaxError(`Expected a parenthesized ${what}`);
    return token.items;
  }

  /** A parenthesized list or a single item (FETCH items, STORE flags). */
  listOrItem(what: string): Token[] {
    const token = this.next(what);
    return token.type === 'list' ? token.items : [token];
  }

  rest(): Token[] {
    const rest = this.tokens.slice(this.index);
    this.index = this.tokens.length;
    return rest;
  }

  end(): void {
    if (this.index < this.tokens.length) throw new SyntaxError('Too many arguments');
  }
}

/** Text of an atom or string token (flags lists, search values...). */
export function tokenText(token: Token, what: string): string {
  if (token.type === 'atom') return token.value;
  if (token.type === 'string') return token.value.toString('utf8');
  throw new SyntaxError(`Expected ${what}`);
}

/** Parse a flag list for STORE/APPEND: system flags (case-normalised) and keywords. */
export function parseFlags(tokens: Token[]): string[] {
  const out: string[] = [];
  for (const t of tokens) {
    // flag-keyword is an atom, and NIL is one: STORE 1 +FLAGS NIL stores the keyword NIL.
    const value = t.type === 'nil' ? 'NIL' : t.type === 'atom' ? t.value : null;
    if (value === null) throw new SyntaxError('Flags must be atoms');
    const flag = normaliseFlag(value);
    if (!flag) throw new SyntaxError(`Invalid flag ${value}`);
    if (!out.includes(flag)) out.push(flag);
  }
  return out;
}

const SYSTEM: Record<string, string> = {
  '\\SEEN': '\\Seen',
  '\\ANSWERED': '\\Answered',
  '\\FLAGGED': '\\Flagged',
  '\\DELETED': '\\Deleted',
  '\\DRAFT': '\\Draft',
};

/** System flags to their canonical case; keywords as atoms; \Recent and others refused. */
export function normaliseFlag(flag: string): string | null {
  if (flag.startsWith('\\')) return SYSTEM[flag.toUpperCase()] ?? null;
  // flag-keyword is an atom: no atom-specials, no "]" (resp-specials).
  if (!/^[\x21-\x7e]+$/.test(flag) || /[(){%*"\\\]]/.test(flag)) return null;
  return flag;
}
