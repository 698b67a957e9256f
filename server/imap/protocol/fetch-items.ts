// FETCH data items (RFC 3501 6.4.5 and the extensions': BINARY, MODSEQ, OBJECTID, SAVEDATE,
// PREVIEW): the tokens of a FETCH command's items as FetchItems, with the section and partial
// of BODY[...] and BINARY[...] and the label each answer is given.

import { ProtocolError } from './errors.js';
import { astringValue, HEADER_NAME, quoteForLabel, tokenKind } from './tokens.js';
import type { FetchItem, SectionSpec, Token } from './types.js';

const FETCH_MACROS: Record<string, FetchItem['kind'][]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const SIMPLE_FETCH = new Set<string>([
  'UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT', 'MODSEQ',
  'EMAILID', 'THREADID', 'SAVEDATE',
]);

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
