// Typed values from the parser's tokens (parser.ts), as the command modules take their
// arguments: astrings, numbers, mod-sequences, lists, and flags (system flags in their
// canonical case, keywords as atoms). Every wrong token throws a ProtocolError that names it.

import { ProtocolError } from './errors.js';
import type { Token } from './types.js';

/** How a token is named in an error message. */
export function tokenKind(t: Token | undefined): string {
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
export const KEYWORD_SYNTAX = /^[^(){ \x00-\x1f\x7f%*"\\\]\x80-\uffff]+$/;

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

/** A header field name: printable ASCII but ":" (RFC 5322 field-name). */
export const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

function isAtomSafe(text: string): boolean {
  return text.length > 0 && /^[!#$&'+-Z^-z|}~]+$/.test(text) && !/^NIL$/i.test(text);
}

/** A string as a section label writes it: an atom where it can be one, else quoted. */
export function quoteForLabel(text: string): string {
  return isAtomSafe(text) ? text : `"${text.replace(/[\\"]/g, '\\$&')}"`;
}
