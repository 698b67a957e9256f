// A tiny reader of IMAP server responses for the tests: enough to take FETCH responses apart
// (atoms, numbers, NIL, quoted strings, literals, lists, BODY[...] labels).

export type Tree = null | number | string | Buffer | Tree[];

/** Parses one value at `pos`; atoms come back as strings, strings as Buffers. */
export function parseValue(buf: Buffer, pos: number): [Tree, number] {
  while (buf[pos] === 32) pos++;
  const c = buf[pos];
  if (c === 40 /* ( */) {
    const items: Tree[] = [];
    pos++;
    for (;;) {
      while (buf[pos] === 32) pos++;
      if (buf[pos] === 41 /* ) */) return [items, pos + 1];
      if (pos >= buf.length) throw new Error('unterminated list');
      const [v, next] = parseValue(buf, pos);
      items.push(v);
      pos = next;
    }
  }
  if (c === 34 /* " */) {
    const bytes: number[] = [];
    pos++;
    while (pos < buf.length && buf[pos] !== 34) {
      if (buf[pos] === 92) pos++;
      bytes.push(buf[pos]);
      pos++;
    }
    return [Buffer.from(bytes), pos + 1];
  }
  if (c === 123 /* { */) {
    const close = buf.indexOf('}', pos);
    const n = Number(buf.toString('latin1', pos + 1, close).replace('+', ''));
    const start = close + 3; // "}\r\n"
    return [Buffer.from(buf.subarray(start, start + n)), start + n];
  }
  const start = pos;
  let depth = 0;
  while (pos < buf.length) {
    const d = buf[pos];
    if (d === 91 /* [ */) depth++;
    else if (d === 93 /* ] */) depth--;
    else if (depth === 0 && (d === 32 || d === 41 || d === 13 || d === 10)) break;
    pos++;
  }
  const atom = buf.toString('latin1', start, pos);
  if (atom === 'NIL') return [null, pos];
  if (/^\d+$/.test(atom)) return [Number(atom), pos];
  return [atom, pos];
}

/** Splits a response stream into responses, each a list of top-level values. */
export function parseResponses(buf: Buffer): Tree[][] {
  const out: Tree[][] = [];
  let pos = 0;
  while (pos < buf.length) {
    const line: Tree[] = [];
    while (pos < buf.length && buf[pos] !== 13 && buf[pos] !== 10) {
      if (buf[pos] === 32) {
        pos++;
        continue;
      }
      const c = buf[pos];
      // free text after a status word: take the rest of the line as one atom
      if (line.length >= 2 && typeof line[line.length - 1] === 'string' && /^(OK|NO|BAD|BYE|PREAUTH)$/.test(line[line.length - 1] as string) && c !== 40) {
        const eol = buf.indexOf('\r\n', pos);
        line.push(buf.toString('latin1', pos, eol < 0 ? buf.length : eol));
        pos = eol < 0 ? buf.length : eol;
        break;
      }
      const [v, next] = parseValue(buf, pos);
      line.push(v);
      pos = next;
    }
    while (buf[pos] === 13 || buf[pos] === 10) pos++;
    if (line.length > 0) out.push(line);
  }
  return out;
}

/** FETCH items of a "* n FETCH (...)" response as a map with upper-case keys. */
export function fetchItems(resp: Tree[]): Map<string, Tree> {
  const list = resp[3] as Tree[];
  const map = new Map<string, Tree>();
  for (let i = 0; i + 1 < list.length; i += 2) map.set(String(list[i]).toUpperCase(), list[i + 1]);
  return map;
}
