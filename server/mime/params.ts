// RFC 2045 Content-Type / RFC 2183 Content-Disposition parsing with RFC 2231 parameter
// continuations. Input and output are byte strings (latin1), so 8-bit values survive.

const TSPECIALS = '()<>@,;:\\"/[]?=';

function isTokenChar(c: number): boolean {
  if (c <= 32 || c === 127) return false;
  return TSPECIALS.indexOf(String.fromCharCode(c)) < 0;
}

/** Skips whitespace and (nested) comments; returns the new index. */
export function skipCfws(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
    } else if (c === 40 /* ( */) {
      let depth = 0;
      while (i < n) {
        const d = s.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else {
          if (d === 40) depth++;
          else if (d === 41 && --depth === 0) {
            i++;
            break;
          }
          i++;
        }
      }
    } else break;
  }
  return i;
}

function readToken(s: string, i: number): [string, number] {
  const start = i;
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return [s.slice(start, i), i];
}

/** Reads a quoted-string starting at the opening quote; returns the unescaped content.
 * An unterminated string runs to the end of the input. */
export function readQuoted(s: string, i: number): [string, number] {
  let out = '';
  i++;
  let runStart = i;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 34) {
      out += s.slice(runStart, i);
      return [out, i + 1];
    }
    if (c === 92 && i + 1 < s.length) {
      out += s.slice(runStart, i);
      runStart = i + 1;
      i += 2;
      continue;
    }
    i++;
  }
  return [out + s.slice(runStart), i];
}

function skipToSemicolon(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 59) return i;
    if (c === 34) i = readQuoted(s, i)[1];
    else i++;
  }
  return i;
}

/** Parses `; name=value` pairs from index i. Names are lower-cased; RFC 2231 continuations
 * are joined (see joinRfc2231). Malformed pairs are skipped. */
export function parseParams(s: string, i: number): [string, string][] {
  const raw: [string, string][] = [];
  const n = s.length;
  while (i < n) {
    i = skipCfws(s, i);
    if (i >= n) break;
    if (s.charCodeAt(i) !== 59 /* ; */) {
      i = skipToSemicolon(s, i);
      continue;
    }
    i = skipCfws(s, i + 1);
    let name: string;
    [name, i] = readToken(s, i);
    i = skipCfws(s, i);
    if (name === '' || s.charCodeAt(i) !== 61 /* = */) {
      i = skipToSemicolon(s, i);
      continue;
    }
    i = skipCfws(s, i + 1);
    let value: string;
    if (s.charCodeAt(i) === 34) {
      [value, i] = readQuoted(s, i);
    } else {
      // Lenient: unquoted values often hold tspecials ("----=_Part_1", "a/b.pdf").
      const start = i;
      while (i < n) {
        const c = s.charCodeAt(i);
        if (c === 59 || c === 32 || c === 9 || c === 10 || c === 13 || c === 34 || c === 40) break;
        i++;
      }
      value = s.slice(start, i);
    }
    raw.push([name.toLowerCase(), value]);
  }
  return joinRfc2231(raw);
}

const SEGMENT = /^(.+?)\*(\d+)(\*?)$/;

/**
 * RFC 2231 section 3/4: joins `name*0*=utf-8''a%20; name*1=b` into one parameter. When the first
 * segment is extended the result is the extended form `name*` = "utf-8''a%20b" (plain segments
 * percent-encoded), which RFC 2231-aware clients decode; otherwise `name` = the joined text.
 * A single `name*=charset'lang'value` stays as it is. The joined parameter takes the place of
 * its first segment.
 */
function joinRfc2231(params: [string, string][]): [string, string][] {
  let hasSegments = false;
  for (const [name] of params) {
    if (name.indexOf('*') >= 0 && SEGMENT.test(name)) {
      hasSegments = true;
      break;
    }
  }
  if (!hasSegments) return params;
  const groups = new Map<string, { index: number; segs: Map<number, [string, boolean]> }>();
  const out: ([string, string] | null)[] = [];
  for (const [name, value] of params) {
    const m = SEGMENT.exec(name);
    if (m === null) {
      out.push([name, value]);
      continue;
    }
    const base = m[1];
    const num = Number(m[2]);
    let g = groups.get(base);
    if (g === undefined) {
      g = { index: out.length, segs: new Map() };
      groups.set(base, g);
      out.push(null);
    }
    if (!g.segs.has(num) && num < 10000) g.segs.set(num, [value, m[3] === '*']);
  }
  for (const [base, g] of groups) {
    const nums = [...g.segs.keys()].sort((a, b) => a - b);
    const firstExtended = g.segs.get(nums[0])![1] && nums[0] === 0;
    let value = '';
    for (const num of nums) {
      const [v, extended] = g.segs.get(num)!;
      if (firstExtended) value += extended ? v : percentEncode(v);
      else value += extended ? percentDecode(v) : v;
    }
    out[g.index] = [firstExtended ? base + '*' : base, value];
  }
  return out.filter((p): p is [string, string] => p !== null);
}

function percentEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isTokenChar(c) && c !== 42 && c !== 39 && c !== 37 && c < 128) out += s[i];
    else out += '%' + (c & 0xff).toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function percentDecode(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export interface ParsedContentType {
  type: string;
  subtype: string;
  params: [string, string][];
}

/** Parses a Content-Type value; null when it is syntactically invalid (no type/subtype). */
export function parseContentType(value: string): ParsedContentType | null {
  let i = skipCfws(value, 0);
  let type: string;
  [type, i] = readToken(value, i);
  i = skipCfws(value, i);
  if (type === '' || value.charCodeAt(i) !== 47 /* / */) return null;
  i = skipCfws(value, i + 1);
  let subtype: string;
  [subtype, i] = readToken(value, i);
  if (subtype === '') return null;
  return { type: type.toLowerCase(), subtype: subtype.toLowerCase(), params: parseParams(value, i) };
}

/** Parses a Content-Disposition value; null when it has no disposition type. */
export function parseDisposition(value: string): { type: string; params: [string, string][] } | null {
  let i = skipCfws(value, 0);
  let type: string;
  [type, i] = readToken(value, i);
  if (type === '') return null;
  return { type: type.toLowerCase(), params: parseParams(value, i) };
}

/** Content-Language (RFC 3282): a comma-separated list of language tags. */
export function parseLanguage(value: string): string[] | null {
  const tags: string[] = [];
  let i = 0;
  while (i < value.length) {
    i = skipCfws(value, i);
    const start = i;
    while (i < value.length) {
      const c = value.charCodeAt(i);
      if (c === 44 || c === 32 || c === 9 || c === 40 || c === 10 || c === 13) break;
      i++;
    }
    if (i > start) tags.push(value.slice(start, i));
    else i++; // a comma or stray character
  }
  return tags.length > 0 ? tags : null;
}
