// IMAP command parser (RFC 3501 section 9, formal syntax): a complete command from the
// CommandReader (line text plus literals) -> ParsedCommand { tag, name, args: Token[] },
// and typed helpers that the command modules use on the tokens: sequence sets, FETCH
// items, SEARCH keys, flags, dates.
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
import type { FetchItem, ParsedCommand, SearchKey, SectionSpec, Token } from './types.js';
import { isSequenceSet, parseSequenceSet } from './sequence.js';
import { parseSearchDate } from './dates.js';

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

// ---------------------------------------------------------------------------
// Token helpers

function tokenKind(t: Token | undefined): string {
  if (t === undefined) return 'nothing';
  if (t.type === 'string') return t.literal ? 'a literal' : 'a quoted string';
  if (t.type === 'list') return 'a parenthesized list';
  if (t.type === 'section') return 'a [section]';
  if (t.type === 'nil') return 'NIL';
  return `"${t.value}"`;
}

/** astring as bytes: atom, quoted string, literal (NIL is the name "NIL"). */
export function astringBytes(t: Token | undefined, what: string): Buffer {
  if (t?.type === 'string') return t.value;
  if (t?.type === 'atom') return Buffer.from(t.value, 'latin1');
  if (t?.type === 'nil') return Buffer.from('NIL');
  throw new ProtocolError(`Expected ${what}, got ${tokenKind(t)}`);
}

/** astring decoded as UTF-8. */
export function astringValue(t: Token | undefined, what: string): string {
  return astringBytes(t, what).toString('utf8');
}

/** nstring: NIL -> null, else a string (quoted or literal; atoms are not strings). */
export function nstringValue(t: Token | undefined, what: string): string | null {
  if (t?.type === 'nil') return null;
  if (t?.type === 'string') return t.value.toString('utf8');
  throw new ProtocolError(`Expected ${what}, got ${tokenKind(t)}`);
}

/** An atom's text (not upper-cased). */
export function atomValue(t: Token | undefined, what: string): string {
  if (t?.type === 'atom') return t.value;
  if (t?.type === 'nil') return 'NIL';
  throw new ProtocolError(`Expected ${what}, got ${tokenKind(t)}`);
}

/** number (32-bit unsigned) from an atom. */
export function numberValue(t: Token | undefined, what: string, options: { nonZero?: boolean } = {}): number {
  const text = t?.type === 'atom' ? t.value : undefined;
  if (text === undefined || !/^\d{1,10}$/.test(text) || Number(text) > 4294967295) {
    throw new ProtocolError(`Expected ${what} (a number), got ${tokenKind(t)}`);
  }
  const n = Number(text);
  if (options.nonZero && n === 0) throw new ProtocolError(`${what} must not be 0`);
  return n;
}

/**
 * A mod-sequence value (RFC 7162 mod-sequence-value, up to 2^63-1; zero only where
 * mod-sequence-valzer is allowed). Ours stay far below 2^53: larger values are clamped there,
 * which keeps every comparison with them as it is.
 */
export function modseqValue(t: Token | undefined, what: string, options: { nonZero?: boolean } = {}): number {
  const text = t?.type === 'atom' ? t.value : undefined;
  if (text === undefined || !/^\d{1,19}$/.test(text) || BigInt(text) > 9223372036854775807n) {
    throw new ProtocolError(`Expected ${what} (a mod-sequence), got ${tokenKind(t)}`);
  }
  const n = Math.min(Number(text), Number.MAX_SAFE_INTEGER);
  if (options.nonZero && n === 0) throw new ProtocolError(`${what} must not be 0`);
  return n;
}

/** Items of a parenthesized list. */
export function listItems(t: Token | undefined, what: string): Token[] {
  if (t?.type === 'list') return t.items;
  throw new ProtocolError(`Expected ${what} (a parenthesized list), got ${tokenKind(t)}`);
}

// ---------------------------------------------------------------------------
// Flags

const SYSTEM_FLAGS = new Map(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\Recent'].map((f) => [f.toUpperCase(), f]));
/** atom-specials (RFC 3501): ( ) { SP CTL % * " \ ] */
const KEYWORD_SYNTAX = /^[^(){ \x00-\x1f\x7f%*"\\\]\x80-\uffff]+$/;

/**
 * A flag from its text: system flags get their canonical case ("\seen" -> "\Seen"),
 * keywords must be atoms. `\*` and other "\xxx" flag-extensions are rejected (only our
 * own PERMANENTFLAGS uses `\*`); \Recent only with allowRecent (SEARCH-like uses).
 */
export function normalizeFlag(text: string, options: { allowRecent?: boolean } = {}): string {
  if (text.startsWith('\\')) {
    const system = SYSTEM_FLAGS.get(text.toUpperCase());
    if (system === undefined) throw new ProtocolError(`Invalid flag ${text.slice(0, 40)}`);
    if (system === '\\Recent' && !options.allowRecent) throw new ProtocolError('\\Recent cannot be set or cleared');
    return system;
  }
  if (!KEYWORD_SYNTAX.test(text)) throw new ProtocolError(`Invalid keyword "${text.slice(0, 40)}"`);
  return text;
}

/** STORE / APPEND flags: "(\Seen foo)" or a single flag atom; duplicates removed. */
export function parseFlagList(t: Token | undefined, options: { allowRecent?: boolean } = {}): string[] {
  const items = t?.type === 'list' ? t.items : t !== undefined ? [t] : [];
  if (t === undefined) throw new ProtocolError('Expected a flag list');
  const out: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (item.type !== 'atom') throw new ProtocolError(`Expected a flag, got ${tokenKind(item)}`);
    const flag = normalizeFlag(item.value, options);
    const key = flag.toUpperCase();
    if (!seen.has(key)) {
      seen.add(key);
      out.push(flag);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// FETCH items

const FETCH_MACROS: Record<string, FetchItem['kind'][]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const SIMPLE_FETCH = new Set<string>([
  'UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT', 'MODSEQ',
  'EMAILID', 'THREADID', 'SAVEDATE',
]);

function isAtomSafe(text: string): boolean {
  return text.length > 0 && /^[!#$&'+-Z^-z|}~]+$/.test(text) && !/^NIL$/i.test(text);
}

function quoteForLabel(text: string): string {
  return isAtomSafe(text) ? text : `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/; // printable ASCII except ":" (RFC 5322 field-name)

/** Parse the contents of a [section] token into a SectionSpec and its label text. */
export function parseSection(section: Extract<Token, { type: 'section' }>): { spec: SectionSpec; text: string } {
  const items = section.items;
  if (items.length === 0) return { spec: { part: [], kind: '' }, text: '' };
  const first = items[0];
  if (first.type !== 'atom') throw new ProtocolError(`Invalid section [${section.raw.slice(0, 60)}]`);
  const words = first.value.split('.');
  const part: number[] = [];
  while (words.length > 0 && /^\d+$/.test(words[0])) {
    const w = words.shift()!;
    if (!/^[1-9]\d{0,9}$/.test(w) || Number(w) > 4294967295) throw new ProtocolError(`Invalid part number ${w} in section`);
    part.push(Number(w));
  }
  const kindText = words.join('.').toUpperCase();
  let kind: SectionSpec['kind'];
  switch (kindText) {
    case '':
    case 'HEADER':
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
    case 'TEXT':
    case 'MIME':
      kind = kindText;
      break;
    default:
      throw new ProtocolError(`Invalid section [${section.raw.slice(0, 60)}]`);
  }
  if (kind === 'MIME' && part.length === 0) throw new ProtocolError('MIME needs a part number (e.g. 1.MIME)');
  if (first.value.endsWith('.') || first.value.startsWith('.') || first.value.includes('..')) {
    throw new ProtocolError(`Invalid section [${section.raw.slice(0, 60)}]`);
  }
  const partText = part.join('.');
  let text = partText + (kind !== '' ? (partText !== '' ? '.' : '') + kind : '');
  const spec: SectionSpec = { part, kind };
  if (kind === 'HEADER.FIELDS' || kind === 'HEADER.FIELDS.NOT') {
    if (items.length !== 2 || items[1].type !== 'list' || items[1].items.length === 0) {
      throw new ProtocolError(`${kind} needs a list of header field names`);
    }
    const written: string[] = [];
    const fields: string[] = [];
    for (const f of items[1].items) {
      const name = astringValue(f, 'a header field name');
      if (!HEADER_NAME.test(name)) throw new ProtocolError(`Invalid header field name "${name.slice(0, 40)}"`);
      written.push(quoteForLabel(name));
      fields.push(name.toUpperCase());
    }
    spec.fields = fields;
    text += ` (${written.join(' ')})`;
  } else if (items.length !== 1) {
    throw new ProtocolError(`Invalid section [${section.raw.slice(0, 60)}]`);
  }
  return { spec, text };
}

function parsePartial(text: string): { origin: number; count: number } {
  const m = /^<(\d{1,10})\.(\d{1,10})>$/.exec(text);
  if (!m) throw new ProtocolError(`Invalid partial range ${text.slice(0, 30)} (expected <origin.count>)`);
  const origin = Number(m[1]);
  const count = Number(m[2]);
  if (origin > 4294967295 || count > 4294967295) throw new ProtocolError('Partial range out of range');
  if (count === 0) throw new ProtocolError('Partial range count must not be 0');
  return { origin, count };
}

/** Read one fetch-att starting at tokens[i]; returns the item and the next index. */
function readFetchAtt(tokens: Token[], i: number): [FetchItem, number] {
  const t = tokens[i];
  if (t.type !== 'atom') throw new ProtocolError(`Invalid fetch attribute: ${tokenKind(t)}`);
  const word = t.value.toUpperCase();
  const next = tokens[i + 1];
  if (next?.type === 'section' && (word === 'BINARY' || word === 'BINARY.PEEK' || word === 'BINARY.SIZE')) return readBinaryAtt(word, tokens, i);
  if (next?.type === 'section') {
    const peek = word === 'BODY.PEEK';
    const { spec, text } = parseSection(next);
    let j = i + 2;
    let partial: { origin: number; count: number } | undefined;
    const after = tokens[j];
    if (after?.type === 'atom' && after.value.startsWith('<')) {
      partial = parsePartial(after.value);
      j++;
    }
    const label = `BODY[${text}]${partial ? `<${partial.origin}>` : ''}`;
    const item: FetchItem = { kind: 'BODY[]', section: spec, peek, label };
    if (partial) item.partial = partial;
    return [item, j];
  }
  if (word === 'BODY.PEEK' || word.startsWith('BINARY')) throw new ProtocolError(`${word.slice(0, 20)} needs a [section]`);
  if (word === 'PREVIEW') {
    // PREVIEW [SP "(" preview-mod *(SP preview-mod) ")"], preview-mod = "LAZY" (RFC 8970 7).
    if (next?.type !== 'list') return [{ kind: 'PREVIEW', lazy: false }, i + 1];
    if (next.items.length === 0) throw new ProtocolError('Empty PREVIEW modifier list');
    for (const m of next.items) {
      if (m.type !== 'atom' || m.value.toUpperCase() !== 'LAZY') throw new ProtocolError('Unknown PREVIEW modifier (only LAZY is defined)');
    }
    return [{ kind: 'PREVIEW', lazy: true }, i + 2];
  }
  if (SIMPLE_FETCH.has(word)) return [{ kind: word as 'UID' }, i + 1];
  if (word in FETCH_MACROS) throw new ProtocolError(`${word} cannot be used inside a list`);
  throw new ProtocolError(`Unknown fetch attribute ${t.value.slice(0, 40)}`);
}

/**
 * BINARY[part]<partial>, BINARY.PEEK[...] and BINARY.SIZE[part] (RFC 3516 9): the section is
 * only a part number (section-binary), and BINARY.SIZE takes no partial.
 */
function readBinaryAtt(word: string, tokens: Token[], i: number): [FetchItem, number] {
  const section = tokens[i + 1] as Extract<Token, { type: 'section' }>;
  const { spec, text } = parseSection(section);
  if (spec.kind !== '') throw new ProtocolError(`${word} takes a part number, not [${section.raw.slice(0, 40)}]`);
  let j = i + 2;
  let partial: { origin: number; count: number } | undefined;
  const after = tokens[j];
  if (after?.type === 'atom' && after.value.startsWith('<')) {
    if (word === 'BINARY.SIZE') throw new ProtocolError('BINARY.SIZE takes no partial range');
    partial = parsePartial(after.value);
    j++;
  }
  if (word === 'BINARY.SIZE') return [{ kind: 'BINARY.SIZE', part: spec.part, label: `BINARY.SIZE[${text}]` }, j];
  const item: FetchItem = { kind: 'BINARY[]', part: spec.part, peek: word === 'BINARY.PEEK', label: `BINARY[${text}]${partial ? `<${partial.origin}>` : ''}` };
  if (partial) item.partial = partial;
  return [item, j];
}

/**
 * FETCH items from the tokens after the sequence set: a macro (ALL, FAST, FULL), one
 * attribute, or a parenthesized list of attributes. Duplicates are kept out. For UID FETCH
 * the caller adds UID when it is missing.
 */
export function parseFetchItems(args: Token[]): FetchItem[] {
  if (args.length === 0) throw new ProtocolError('Missing fetch attributes');
  let tokens: Token[];
  if (args[0].type === 'list') {
    if (args.length > 1) throw new ProtocolError('Unexpected arguments after the fetch attribute list');
    tokens = args[0].items;
    if (tokens.length === 0) throw new ProtocolError('Empty fetch attribute list');
  } else {
    if (args[0].type === 'atom' && args.length === 1) {
      const macro = FETCH_MACROS[args[0].value.toUpperCase()];
      if (macro) return macro.map((kind) => ({ kind }) as FetchItem);
    }
    tokens = args;
  }
  const items: FetchItem[] = [];
  const seen = new Set<string>();
  let i = 0;
  while (i < tokens.length) {
    const [item, next] = readFetchAtt(tokens, i);
    if (args[0].type !== 'list' && next < tokens.length) throw new ProtocolError('Several fetch attributes must be in parentheses');
    i = next;
    const key =
      item.kind === 'BODY[]' || item.kind === 'BINARY[]'
        ? `${item.peek ? 'P' : ''}${item.label}/${item.partial?.count ?? ''}`
        : item.kind === 'BINARY.SIZE'
          ? item.label
          : item.kind;
    if (!seen.has(key)) {
      seen.add(key);
      items.push(item);
    }
  }
  return items;
}

// ---------------------------------------------------------------------------
// SEARCH keys

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
