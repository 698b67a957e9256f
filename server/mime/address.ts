// RFC 5322 address-list parsing for the IMAP ENVELOPE (RFC 3501 section 7.4.2), on byte
// strings. Lenient: never throws, always returns something for every list element.
//
// Choices (checked against Dovecot 2.3 and Courier 5.0):
// - Group syntax: start marker (NIL NIL "name" NIL), the members, end marker (NIL NIL NIL NIL),
//   also when the closing ";" is missing.
// - A missing local part or domain is filled with "MISSING_MAILBOX" / "MISSING_DOMAIN" as
//   Dovecot does: a NIL host would mean "group start" to the client (RFC 3501 7.4.2).
//   A malformed <...> gets host "SYNTAX_ERROR" (Dovecot's marker as well).
// - Display names: quoted strings unescaped, words joined by one space, comments dropped; with
//   no display name the last comment becomes the name ("a@b (Ann)" -> "Ann", and
//   "(x) a@b (Ann)" -> "Ann", as Courier reads it).
// - A quoted local part keeps its quotes ("\"john doe\""@x), as Courier does: RFC 3501 says
//   addr-mailbox is the RFC 2822 local-part, and without quotes a client could not rebuild a
//   usable address. (Dovecot drops the quotes.)
// - Empty list elements ("a@b, , c@d") are skipped (RFC 5322 4.4 obs-addr-list).

import type { Address } from './types.js';

export const MISSING_MAILBOX = 'MISSING_MAILBOX';
export const MISSING_DOMAIN = 'MISSING_DOMAIN';
export const SYNTAX_ERROR = 'SYNTAX_ERROR';

type TokKind = 'atom' | 'quoted' | 'literal' | 'comment' | 'special';

interface Tok {
  kind: TokKind;
  /** atom text, unescaped quoted content, literal with brackets, comment content, special char */
  text: string;
  /** Raw source text (quoted strings with their quotes). */
  raw: string;
  /** Whitespace or a comment came before this token. */
  space: boolean;
}

const SPECIALS = '<>@,;:.';

function lex(s: string): Tok[] {
  const toks: Tok[] = [];
  const n = s.length;
  let i = 0;
  let space = false;
  while (i < n) {
    const ch = s[i];
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      space = true;
      i++;
    } else if (ch === '(') {
      const start = i;
      let depth = 0;
      while (i < n) {
        if (s[i] === '\\') i += 2;
        else {
          if (s[i] === '(') depth++;
          else if (s[i] === ')' && --depth === 0) {
            i++;
            break;
          }
          i++;
        }
      }
      const inner = s.slice(start + 1, s[i - 1] === ')' && depth === 0 ? i - 1 : i);
      toks.push({ kind: 'comment', text: inner.replace(/\\(.)/g, '$1').trim(), raw: s.slice(start, i), space });
      space = true;
    } else if (ch === '"') {
      const start = i;
      let text = '';
      i++;
      while (i < n && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < n) i++;
        text += s[i];
        i++;
      }
      i++;
      toks.push({ kind: 'quoted', text, raw: s.slice(start, Math.min(i, n)), space });
      space = false;
    } else if (ch === '[') {
      const end = s.indexOf(']', i);
      const stop = end < 0 ? n : end + 1;
      toks.push({ kind: 'literal', text: s.slice(i, stop), raw: s.slice(i, stop), space });
      i = stop;
      space = false;
    } else if (SPECIALS.indexOf(ch) >= 0) {
      toks.push({ kind: 'special', text: ch, raw: ch, space });
      i++;
      space = false;
    } else {
      const start = i;
      while (i < n) {
        const d = s[i];
        const dc = s.charCodeAt(i);
        if (dc === 32 || dc === 9 || dc === 10 || dc === 13 || d === '(' || d === '"' || d === '[') break;
        if (SPECIALS.indexOf(d) >= 0) break;
        i++;
      }
      if (i === start) i++; // a stray ")" or "]": skip it
      else toks.push({ kind: 'atom', text: s.slice(start, i), raw: s.slice(start, i), space });
      space = false;
    }
  }
  return toks;
}

function isSpecial(t: Tok | undefined, ch: string): boolean {
  return t !== undefined && t.kind === 'special' && t.text === ch;
}

/** Display-name text of a phrase: words separated by single spaces, comments dropped. */
function phraseText(toks: Tok[]): string | null {
  let out = '';
  for (const t of toks) {
    if (t.kind === 'comment') continue;
    if (out !== '' && t.space) out += ' ';
    out += t.text;
  }
  return out === '' ? null : out;
}

/** Local part or domain: tokens joined without whitespace, quoted strings kept quoted. */
function joinRaw(toks: Tok[]): string {
  let out = '';
  for (const t of toks) if (t.kind !== 'comment') out += t.raw;
  return out;
}

/** The display name a comment gives: the last non-empty one, so that in
 * "(comment) bob@example.com (Bob Brown)" the trailing comment names the address, as
 * Courier reads it and as the old "addr (Full Name)" convention means. */
function lastComment(toks: Tok[]): string | null {
  for (let i = toks.length - 1; i >= 0; i--) if (toks[i].kind === 'comment' && toks[i].text !== '') return toks[i].text;
  return null;
}

/** What the quick path below handles: no quoted strings, comments, domain literals, groups or routes. */
const PLAIN_LIST = /^[^"()[\]\\;:]*$/;
const NAMED = /^[ \t\r\n]*([^<>@,]*?)[ \t\r\n]*<([^<>@, \t\r\n]+)@([^<>@, \t\r\n]+)>[ \t\r\n]*$/;
const BARE = /^[ \t\r\n]*([^<>@, \t\r\n]+)@([^<>@, \t\r\n]+)[ \t\r\n]*$/;
const PHRASE = /^[^<>@, \t\r\n]+(?:[ \t\r\n]+[^<>@, \t\r\n]+)*$/;
const WHITESPACE_RUNS = /[ \t\r\n]+/g;
const EDGE_DOTS = /^\.|\.$|\.\./;

/**
 * The usual lists ("Ann Smith <ann@example.com>, bob@example.org") without the tokenizer: the
 * same result as the general parser, or null to use it. A display name of atoms and dots is
 * its words joined by single spaces; local part and domain are as written.
 */
function plainAddressList(value: string): Address[] | null {
  if (!PLAIN_LIST.test(value)) return null;
  const out: Address[] = [];
  for (const element of value.split(',')) {
    if (/^[ \t\r\n]*$/.test(element)) continue;
    const named = NAMED.exec(element);
    if (named !== null) {
      const phrase = named[1];
      if (phrase !== '' && !PHRASE.test(phrase)) return null;
      if (EDGE_DOTS.test(named[2]) || EDGE_DOTS.test(named[3])) return null;
      out.push({ name: phrase === '' ? null : phrase.replace(WHITESPACE_RUNS, ' '), adl: null, mailbox: named[2], host: named[3] });
      continue;
    }
    const bare = BARE.exec(element);
    if (bare === null || EDGE_DOTS.test(bare[1]) || EDGE_DOTS.test(bare[2])) return null;
    out.push({ name: null, adl: null, mailbox: bare[1], host: bare[2] });
  }
  return out;
}

/** Parses an address-list header value (a byte string). */
export function parseAddressList(value: string): Address[] {
  return plainAddressList(value) ?? parseAddressListTokens(value);
}

/** The general parser (exported for tests that compare it with the quick path). */
export function parseAddressListTokens(value: string): Address[] {
  const toks = lex(value);
  const out: Address[] = [];
  const n = toks.length;
  let p = 0;
  let inGroup = false;
  while (p < n) {
    const t = toks[p];
    if (isSpecial(t, ',')) {
      p++;
      continue;
    }
    if (isSpecial(t, ';')) {
      if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
      inGroup = false;
      p++;
      continue;
    }
    // The words before the first structural special decide what this element is.
    let q = p;
    while (q < n) {
      const u = toks[q];
      if (u.kind === 'special' && u.text !== '.') break;
      q++;
    }
    if (isSpecial(toks[q], ':') && !inGroup) {
      out.push({ name: null, adl: null, mailbox: phraseText(toks.slice(p, q)) ?? '', host: null });
      inGroup = true;
      p = q + 1;
      continue;
    }
    // The element runs to the next "," (or ";" in a group) outside <...>.
    let end = q;
    let angle = 0;
    while (end < n) {
      const u = toks[end];
      if (u.kind === 'special') {
        if (u.text === '<') angle++;
        else if (u.text === '>') angle = Math.max(0, angle - 1);
        else if (angle === 0 && (u.text === ',' || (u.text === ';' && inGroup))) break;
      }
      end++;
    }
    const addr = parseMailbox(toks.slice(p, end), q - p);
    p = end;
    if (addr !== null) out.push(addr);
  }
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
  return out;
}

/** One mailbox: `phrase <[route:]local@domain>` or `local@domain (comment)`. `split` is the
 * index of the first structural special in `elem`. */
function parseMailbox(elem: Tok[], split: number): Address | null {
  const lead = elem.slice(0, split);
  const stop = elem[split];
  if (stop !== undefined && stop.kind === 'special' && stop.text === '<') {
    const close = elem.findIndex((t, i) => i > split && isSpecial(t, '>'));
    const inner = elem.slice(split + 1, close < 0 ? elem.length : close);
    const after = close < 0 ? [] : elem.slice(close + 1);
    const name = phraseText(lead) ?? lastComment(after);
    let k = 0;
    let adl: string | null = null;
    if (isSpecial(inner[0], '@')) {
      const colon = inner.findIndex((t) => isSpecial(t, ':'));
      if (colon >= 0) {
        adl = joinRaw(inner.slice(0, colon));
        k = colon + 1;
      }
    }
    const rest = inner.slice(k);
    const at = rest.findIndex((t) => isSpecial(t, '@'));
    const localToks = at < 0 ? rest : rest.slice(0, at);
    const domainToks = at < 0 ? [] : rest.slice(at + 1);
    const bad =
      close < 0 ||
      after.some((t) => t.kind !== 'comment') ||
      rest.some((t) => t.kind === 'special' && t.text !== '.' && t.text !== '@') ||
      domainToks.some((t) => isSpecial(t, '@'));
    const local = joinRaw(localToks.filter((t) => t.kind !== 'special' || t.text === '.'));
    const domain = joinRaw(domainToks);
    if (bad) return { name, adl, mailbox: local === '' ? MISSING_MAILBOX : local, host: SYNTAX_ERROR };
    if (local === '' && domain === '' && at < 0 && adl === null) {
      // "<>" (null return path) or "Name <>"
      return { name, adl: null, mailbox: MISSING_MAILBOX, host: MISSING_DOMAIN };
    }
    return {
      name,
      adl,
      mailbox: local === '' ? MISSING_MAILBOX : local,
      host: domain === '' ? MISSING_DOMAIN : domain,
    };
  }
  const at = elem.findIndex((t) => isSpecial(t, '@'));
  const localToks = at < 0 ? elem : elem.slice(0, at);
  const domainToks = at < 0 ? [] : elem.slice(at + 1);
  if (localToks.every((t) => t.kind === 'comment') && domainToks.length === 0) return null;
  const local = joinRaw(localToks.filter((t) => !(t.kind === 'special' && t.text !== '.')));
  const domain = joinRaw(domainToks.filter((t) => !(t.kind === 'special' && t.text !== '.')));
  const stray = elem.some((t) => t.kind === 'special' && t.text !== '.' && t.text !== '@') || domainToks.some((t) => isSpecial(t, '@'));
  return {
    name: lastComment(elem),
    adl: null,
    mailbox: local === '' ? MISSING_MAILBOX : local,
    host: stray ? SYNTAX_ERROR : domain === '' ? MISSING_DOMAIN : domain,
  };
}
