// Header block scanning on raw message bytes. Field values are returned as "byte strings"
// (latin1-decoded octets) so that 8-bit bytes survive exactly; see types.ts.

const LF = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const COLON = 58;

export interface HeaderField {
  /** Field name, lower-case, trailing whitespace removed (obsolete "Subject :" form). */
  name: string;
  /** Offset of the first byte of the field line. */
  start: number;
  /** Offset just after the colon (or `end` when the line has no colon). */
  valueStart: number;
  /** Offset just after the field's last line (after its LF, or at the block end). */
  end: number;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** Offset just after the blank line that ends the header, or the end of the scanned
   * range when there is no blank line (then the body is empty). */
  bodyStart: number;
  /** True when a blank line was found. */
  blankLine: boolean;
}

/**
 * Splits the header that starts at `start` into fields. Scanning stops at the first blank line,
 * at `limit`, or at a line for which `stopAt(lineStart)` is true (a MIME boundary line: the
 * header of a body part can be cut short by the next boundary).
 */
export function scanHeader(
  raw: Buffer,
  start: number,
  limit: number,
  stopAt?: (lineStart: number) => boolean,
): HeaderBlock & { stoppedAt: number } {
  const fields: HeaderField[] = [];
  let pos = start;
  let current: HeaderField | null = null;
  while (pos < limit) {
    const c = raw[pos];
    if (c === LF) return { fields, bodyStart: pos + 1, blankLine: true, stoppedAt: -1 };
    if (c === CR && pos + 1 < limit && raw[pos + 1] === LF) {
      return { fields, bodyStart: pos + 2, blankLine: true, stoppedAt: -1 };
    }
    if (stopAt !== undefined && c === 45 && stopAt(pos)) {
      return { fields, bodyStart: pos, blankLine: false, stoppedAt: pos };
    }
    let lineEnd = raw.indexOf(LF, pos);
    lineEnd = lineEnd < 0 || lineEnd >= limit ? limit : lineEnd + 1;
    if ((c === SP || c === TAB) && current !== null) {
      current.end = lineEnd; // folded continuation line
    } else {
      let colon = raw.indexOf(COLON, pos);
      if (colon < 0 || colon >= lineEnd) colon = -1;
      const nameEnd = colon < 0 ? lineEnd : colon;
      current = {
        name: fieldName(raw, pos, nameEnd),
        start: pos,
        valueStart: colon < 0 ? lineEnd : colon + 1,
        end: lineEnd,
      };
      fields.push(current);
    }
    pos = lineEnd;
  }
  return { fields, bodyStart: limit, blankLine: false, stoppedAt: -1 };
}

/** Lower-case names already seen, by a hash of their bytes: most headers use a few dozen names. */
const names = new Map<number, string>();

/**
 * A field name: trimmed and lower-cased. Names of letters, digits and "-" (nearly all) are
 * looked up by a hash of their lower-cased bytes instead of being made anew for every field.
 */
function fieldName(raw: Buffer, start: number, end: number): string {
  let hash = 0;
  for (let i = start; i < end; i++) {
    let c = raw[i];
    if (c >= 65 && c <= 90) c += 32;
    else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45)) return raw.toString('latin1', start, end).trim().toLowerCase();
    hash = (Math.imul(hash, 31) + c) | 0;
  }
  const key = hash * 64 + Math.min(end - start, 63);
  const known = names.get(key);
  if (known !== undefined && known.length === end - start && sameLower(raw, start, known)) return known;
  const name = raw.toString('latin1', start, end).toLowerCase();
  if (names.size < 1000) names.set(key, name);
  return name;
}

/** Whether raw bytes from `start`, lower-cased, are `name` (ASCII). */
function sameLower(raw: Buffer, start: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    let c = raw[start + i];
    if (c >= 65 && c <= 90) c += 32;
    if (c !== name.charCodeAt(i)) return false;
  }
  return true;
}

/** Unfolded value of a field: line ends removed, leading and trailing whitespace trimmed. */
export function fieldValue(raw: Buffer, field: HeaderField): string {
  let end = field.end;
  if (end > field.valueStart && raw[end - 1] === LF) end--;
  if (end > field.valueStart && raw[end - 1] === CR) end--;
  const s = raw.toString('latin1', field.valueStart, end);
  return unfold(s).trim();
}

/** RFC 5322 section 2.2.3 unfolding: remove the line ends (CRLF or bare LF) of folds, keep
 * the whitespace. A lone CR is left for the caller (it is not a line end). */
export function unfold(s: string): string {
  if (s.indexOf('\n') < 0) return s;
  return s.replace(/\r?\n/g, '');
}

/** First field of that (lower-case) name, as Dovecot does for the envelope. */
export function firstField(fields: HeaderField[], name: string): HeaderField | undefined {
  for (const f of fields) if (f.name === name) return f;
  return undefined;
}
