// IMAP command parser (RFC 3501 section 9, formal syntax): a complete command from the
// CommandReader (line text plus literals) -> ParsedCommand { tag, name, args: Token[] }.
// The typed helpers that the command modules use on the tokens are re-exported from here:
// values and flags (tokens.ts), FETCH items (fetch-items.ts), SEARCH keys (search-keys.ts),
// sequence sets (sequence.ts), dates (dates.ts).
//
// Tokens: atoms (flags like \Seen, sequence sets, list patterns with % and * are atoms
// too), quoted strings, literals, NIL, parenthesized lists. In FETCH commands
// "BODY[...]" / "BODY.PEEK[...]" / "BINARY[...]" become: atom "BODY" + a 'section' token
// (contents tokenized: `HEADER.FIELDS (FROM TO)` -> [atom, list]) + an atom "<0.100>" when
// a partial range follows the "]" directly.
//
// Every syntax error throws a ProtocolError; parseCommand fills in its tag (null when the
// tag itself could not be read: answer "* BAD").

import { ProtocolError } from './errors.js';
import type { CommandInput } from './reader.js';
import type { ParsedCommand, Token } from './types.js';
import { quoteForLabel } from './tokens.js';

export { ProtocolError } from './errors.js';
export {
  parseSequenceSet,
  isSequenceSet,
  resolveSequenceSet,
  resolveUidSet,
  formatSequenceSet,
  sequenceSetMax,
  ResolvedSet,
  MAX_NUMBER,
} from './sequence.js';
export { parseSearchDate, parseDateTime, formatInternalDate, dateOnlyToUtc, type DateOnly } from './dates.js';
export { encodeMailboxName, decodeMailboxName } from './utf7.js';
export { astringBytes, astringValue, atomValue, listItems, modseqValue, normalizeFlag, nstringValue, numberValue, parseFlagList } from './tokens.js';
export { parseFetchItems, parseSection } from './fetch-items.js';
export { checkCharset, parseSearchKeys, SEARCH_CHARSETS } from './search-keys.js';

const SP = 0x20;
const LPAREN = 0x28;
const RPAREN = 0x29;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACKET = 0x5d;
const LBRACKET = 0x5b;
const TILDE = 0x7e;
const LT = 0x3c;
const GT = 0x3e;

/** Deepest nesting of parentheses accepted (stack safety, and no real command nests deeper). */
const MAX_DEPTH = 100;

/** Atoms that are followed by a [section] in FETCH. */
const SECTION_ATOMS = new Set(['BODY', 'BODY.PEEK', 'BINARY', 'BINARY.PEEK', 'BINARY.SIZE']);

/** Tag characters: ASTRING-CHAR except "+" (and no 8-bit, no CTL). */
function isTagChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== LPAREN && c !== RPAREN && c !== LBRACE && c !== 0x25 && c !== 0x2a && c !== DQUOTE && c !== BACKSLASH && c !== 0x2b;
}

/** Characters that end an atom in our tokenizer (besides "]" inside a section). */
function endsAtom(c: number): boolean {
  return c === SP || c === LPAREN || c === RPAREN;
}

class Cursor {
  private segment = 0;
  buf: Buffer;
  pos = 0;
  /** FETCH commands: BODY[...] and friends are tokenized as sections. */
  sectionsAllowed = false;

  constructor(private readonly input: CommandInput) {
    this.buf = input.lines[0] ?? Buffer.alloc(0);
  }

  /** The next octet, or -1 at the end (segments end only with a literal announcement). */
  peek(): number {
    return this.pos < this.buf.length ? this.buf[this.pos] : -1;
  }

  /** Literal data announced at the end of the current segment; moves to the next segment. */
  takeLiteral(size: number): { data: Buffer; streamed: number | undefined } {
    const data = this.input.literals[this.segment];
    // A literal streamed to a sink has an empty Buffer in its place.
    const streamed = this.input.streamed?.[this.segment] ? this.segment : undefined;
    if (data === undefined || (data.length !== size && streamed === undefined)) throw new ProtocolError('Literal data missing or of the wrong size');
    this.segment++;
    this.buf = this.input.lines[this.segment];
    this.pos = 0;
    return { data, streamed };
  }
}

function describe(c: number): string {
  if (c === -1) return 'end of line';
  if (c >= 0x21 && c < 0x7f) return `"${String.fromCharCode(c)}"`;
  return `character 0x${c.toString(16).padStart(2, '0')}`;
}

function readQuoted(cur: Cursor): Token {
  cur.pos++; // opening quote
  const start = cur.pos;
  const buf = cur.buf;
  let escaped = false;
  let parts: Buffer[] | null = null;
  let partStart = start;
  for (let i = start; i < buf.length; i++) {
    const c = buf[i];
    if (c === BACKSLASH) {
      const next = buf[i + 1];
      if (next !== BACKSLASH && next !== DQUOTE) throw new ProtocolError('Invalid escape in quoted string (only \\\\ and \\" are allowed)');
      escaped = true;
      (parts ??= []).push(buf.subarray(partStart, i));
      partStart = i + 1;
      i++; // keep the escaped character as the start of the next part
      continue;
    }
    if (c === DQUOTE) {
      cur.pos = i + 1;
      let value: Buffer;
      if (!escaped) value = Buffer.from(buf.subarray(start, i));
      else {
        parts!.push(buf.subarray(partStart, i));
        value = Buffer.concat(parts!);
      }
      return { type: 'string', value, literal: false };
    }
    if (c === 0) throw new ProtocolError('NUL character in quoted string');
  }
  throw new ProtocolError('Unterminated quoted string');
}

function readLiteral(cur: Cursor): Token {
  const buf = cur.buf;
  let i = cur.pos;
  const binary = buf[i] === TILDE;
  if (binary) i++;
  const m = /^\{(\d+)(\+?)\}$/.exec(buf.subarray(i).toString('latin1'));
  if (!m) {
    // "{" that is not a literal announcement at the end of a line
    throw new ProtocolError('Invalid literal (a literal announcement {n} must end the line)');
  }
  const { data, streamed } = cur.takeLiteral(Number(m[1]));
  const token: Extract<Token, { type: 'string' }> = { type: 'string', value: data, literal: true };
  if (binary) token.binary = binary;
  if (streamed !== undefined) token.streamed = streamed;
  return token;
}

function readAtom(cur: Cursor, inSection: boolean): string {
  const buf = cur.buf;
  const start = cur.pos;
  let i = start;
  for (; i < buf.length; i++) {
    const c = buf[i];
    if (endsAtom(c) || (inSection && c === RBRACKET)) break;
    if (c < 0x20 || c === 0x7f) throw new ProtocolError(`Invalid ${describe(c)} in command`);
    if (c >= 0x80) throw new ProtocolError('8-bit characters are only allowed in quoted strings and literals');
    if (c === DQUOTE) throw new ProtocolError('Unexpected quote inside an atom');
    if (c === LBRACE) throw new ProtocolError('Unexpected "{" inside an atom');
    if (c === LBRACKET && !inSection && cur.sectionsAllowed && SECTION_ATOMS.has(buf.toString('latin1', start, i).toUpperCase())) break;
  }
  cur.pos = i;
  return buf.toString('latin1', start, i);
}

interface ParseContext {
  depth: number;
}

function unclosed(closer: number): ProtocolError {
  return new ProtocolError(closer === RPAREN ? 'Unbalanced parentheses: missing ")"' : 'Missing "]" after section');
}

/** Parse tokens until the end of the input (closer -1), ")" (list) or "]" (section). */
function readTokens(cur: Cursor, closer: number, ctx: ParseContext): Token[] {
  const tokens: Token[] = [];
  let needSpace = false;
  for (;;) {
    let c = cur.peek();
    // One SP separates tokens; extra spaces are tolerated.
    if (c === SP) {
      needSpace = false;
      while (c === SP) {
        cur.pos++;
        c = cur.peek();
      }
    }
    if (c === -1) {
      if (closer !== -1) throw unclosed(closer);
      return tokens;
    }
    if (c === closer) {
      cur.pos++;
      return tokens;
    }
    if (c === RPAREN) throw new ProtocolError('Unbalanced parentheses: unexpected ")"');
    if (needSpace) throw new ProtocolError(`Missing space before ${describe(c)}`);
    needSpace = true;
    if (c === LPAREN) {
      if (ctx.depth >= MAX_DEPTH) throw new ProtocolError('Parentheses nested too deeply');
      cur.pos++;
      ctx.depth++;
      const items = readTokens(cur, RPAREN, ctx);
      ctx.depth--;
      tokens.push({ type: 'list', items });
      continue;
    }
    if (c === DQUOTE) {
      tokens.push(readQuoted(cur));
      continue;
    }
    if (c === LBRACE || (c === TILDE && cur.buf[cur.pos + 1] === LBRACE)) {
      tokens.push(readLiteral(cur));
      continue;
    }
    const atom = readAtom(cur, closer === RBRACKET);
    if (atom === '') throw new ProtocolError(`Unexpected ${describe(cur.peek())}`);
    tokens.push(/^NIL$/i.test(atom) ? { type: 'nil' } : { type: 'atom', value: atom });
    if (cur.peek() === LBRACKET && cur.sectionsAllowed && closer !== RBRACKET) {
      const sectionStart = cur.pos + 1;
      const startBuf = cur.buf;
      cur.pos++;
      ctx.depth++;
      const items = readTokens(cur, RBRACKET, ctx);
      ctx.depth--;
      const raw =
        cur.buf === startBuf
          ? startBuf.toString('latin1', sectionStart, cur.pos - 1)
          : tokensToText(items); // the section spans a literal: rebuild its text
      tokens.push({ type: 'section', raw, items });
      if (cur.peek() === LT) {
        const close = cur.buf.indexOf(GT, cur.pos);
        if (close === -1) throw new ProtocolError('Missing ">" after partial range');
        tokens.push({ type: 'atom', value: cur.buf.toString('latin1', cur.pos, close + 1) });
        cur.pos = close + 1;
      }
    }
  }
}

/** Text of tokens as they would be written (for section labels spanning literals). */
function tokensToText(tokens: Token[]): string {
  return tokens
    .map((t): string => {
      switch (t.type) {
        case 'atom':
          return t.value;
        case 'nil':
          return 'NIL';
        case 'string':
          return quoteForLabel(t.value.toString('utf8'));
        case 'list':
          return `(${tokensToText(t.items)})`;
        case 'section':
          return `[${t.raw}]`;
      }
    })
    .join(' ');
}

/**
 * Parse one complete command. Throws ProtocolError with .tag set (null when no valid tag
 * could be read) and .command when the name was read.
 */
export function parseCommand(input: CommandInput): ParsedCommand {
  const cur = new Cursor(input);
  const buf = cur.buf;
  if (buf.length === 0 && input.lines.length <= 1) throw new ProtocolError('Empty command line', { tag: null });
  let i = 0;
  while (i < buf.length && isTagChar(buf[i])) i++;
  if (i === 0 || (i < buf.length && buf[i] !== SP)) {
    throw new ProtocolError(i === 0 ? 'Missing or invalid tag' : 'Invalid character in tag', { tag: null });
  }
  const tag = buf.toString('latin1', 0, i);
  if (i >= buf.length) throw new ProtocolError('Missing command', { tag });
  i++; // SP
  let name: string;
  const readName = (): string => {
    const start = i;
    while (i < buf.length && buf[i] !== SP) i++;
    const word = buf.toString('latin1', start, i);
    if (!/^[A-Za-z][A-Za-z0-9.\-_]*$/.test(word)) {
      throw new ProtocolError(word === '' ? 'Missing command' : 'Invalid command name', { tag });
    }
    return word.toUpperCase();
  };
  name = readName();
  if (name === 'UID') {
    if (i >= buf.length) throw new ProtocolError('Missing command after UID', { tag, command: name });
    i++;
    name = `UID ${readName()}`;
  }
  cur.pos = i;
  // NOTIFY: MessageNew's fetch attributes (RFC 5465).
  cur.sectionsAllowed = name === 'FETCH' || name === 'UID FETCH' || name === 'NOTIFY';
  try {
    const args = readTokens(cur, -1, { depth: 0 });
    return { tag, name, args };
  } catch (err) {
    if (err instanceof ProtocolError) {
      err.tag = tag;
      err.command = name;
    }
    throw err;
  }
}
