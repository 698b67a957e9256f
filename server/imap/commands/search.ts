// SEARCH and UID SEARCH (RFC 3501 6.4.4). The evaluator decides cheap keys first and
// reads message files only for BODY/TEXT and uncached headers. The mailbox is searched in
// slices, each with the data its keys need loaded in one folder call, so that a search of
// 100,000 messages holds the header data of one slice at a time.
import { SELECTED, ok, type CommandContext, type CommandSpec } from './types.js';
import { parseSearchKeys } from '../protocol/parser.js';
import { search as evaluate, searchKeyNeeds } from '../search/evaluate.js';
import { foldForSearch } from '../search/fold.js';
import type { SearchKey } from '../protocol/types.js';
import type { DataRequest, Folder, MessageData, MessageInfo, MessageState } from '../../backend/mailstore.js';
import { findText, type Presence } from '../../mime/text.js';
import type { BodyPart, Envelope, HeaderMeta, MessageMeta } from '../../mime/types.js';

const SLICE = 4096;

/** Matching sequence numbers for a search program, against the selected view. */
export async function runSearch(ctx: CommandContext, key: SearchKey): Promise<number[]> {
  const view = ctx.session.selected!;
  const all = view.all();
  const needs = searchKeyNeeds(key);
  const request: DataRequest = {};
  if (keyUsesInfo(key)) request.info = true;
  if (needs !== 'info' && keyUsesHeader(key)) request.header = true;
  const strings = needs === 'raw' ? textStrings(key) : null;
  const context = { maxSeq: view.exists, maxUid: view.maxUid() };
  const matched: number[] = [];
  for (let start = 0; start < all.length; start += SLICE) {
    const slice = all.slice(start, start + SLICE);
    const loaded = await loadMessages(view.folder, slice, request);
    const messages = [];
    const metas = new Map<number, SearchMeta>();
    for (let i = 0; i < slice.length; i++) {
      const message = loaded[i];
      if (!message) continue; // gone meanwhile: not a match
      messages.push({ seq: start + i + 1, uid: message.uid, info: message.info, recent: view.isRecent(message.uid) });
      metas.set(message.uid, message.meta ?? new SearchMeta(undefined, undefined));
    }
    // A key of TEXT and BODY strings alone reads every message: read them in batches
    // beforehand (no file access and no decoding per message in the evaluator's rounds).
    const ready = strings && onlyStrings(key) ? await readAhead(view.folder, messages.map((m) => m.uid), strings) : undefined;
    const found = await evaluate(
      messages,
      key,
      {
        cachedMeta: (uid) => metas.get(uid),
        meta: (uid) => Promise.resolve(metas.get(uid) ?? gone()),
        raw: async (uid) => {
          const meta = metas.get(uid);
          const early = ready?.get(uid);
          if (early !== undefined) {
            if (!early || !meta) return gone();
            meta.body = early.body;
            return early.raw;
          }
          // Round three: the message, and its structure for decoding the parts.
          const [data] = await view.folder.messageData([uid], { raw: true, structure: true });
          if (!data || !meta) return gone();
          const raw = data.raw!;
          const body = data.structure!;
          const stand = strings ? standIn(raw, body, strings) : null;
          if (stand) {
            // Whether each TEXT and BODY string is in the message was decided on its bytes, and
            // no other key of this search reads the message: the evaluator gets a small
            // message with just those strings, in the same places, instead of decoding it all.
            meta.body = stand.body;
            return stand.raw;
          }
          meta.body = body;
          return raw;
        },
      },
      context,
    );
    for (const seq of found) matched.push(seq);
  }
  return matched;
}

export const search: CommandSpec = {
  names: ['SEARCH', 'UID SEARCH'],
  states: SELECTED,
  allowExpunge: ({ uid }) => uid,
  async handler(ctx) {
    const key = parseSearchKeys(ctx.args.rest());
    const view = ctx.session.selected!;
    const seqs = await runSearch(ctx, key);
    const numbers = ctx.uid ? seqs.map((s) => view.message(s)!.uid) : seqs;
    ctx.session.untagged([{ atom: 'SEARCH' }, ...numbers]);
    return ok('SEARCH completed');
  },
};

export interface LoadedMessage {
  uid: number;
  info: MessageInfo;
  /** With header data in the request. */
  meta?: SearchMeta;
}

/** The messages with what `request` asks for (info, header); null for one that is gone. */
export async function loadMessages(folder: Folder, messages: readonly MessageState[], request: DataRequest): Promise<(LoadedMessage | null)[]> {
  const data: (MessageData | null)[] = request.info || request.header
    ? await folder.messageData(messages.map((m) => m.uid), request)
    : messages.map(() => NO_DATA);
  return messages.map((message, i) => {
    const item = data[i];
    if (!item) return null;
    const info: MessageInfo = request.info ? { uid: message.uid, flags: message.flags, size: item.size!, internalDate: item.internalDate! } : new StateOnly(message);
    return { uid: message.uid, info, meta: item.header ? new SearchMeta(item.header, item.size) : undefined };
  });
}

const NO_DATA: MessageData = {};

/**
 * A message that answers the key's TEXT and BODY strings as `raw` does: each string found in
 * the body is in its body, each found only in a header is in its header (under a field name
 * no search string can match: an 8-bit one), none of the others. Strings have no spaces
 * (see findText), so no string can run from one into another. Null when one of them needs
 * decoding to tell.
 */
function standIn(raw: Buffer, structure: BodyPart, strings: { text: string[]; body: string[] }): { raw: Buffer; body: BodyPart } | null {
  const inHeader: string[] = [];
  const inBody: string[] = [];
  const answers = new Map<string, { header: Presence; body: Presence }>();
  const find = (needle: string) => {
    let answer = answers.get(needle);
    if (!answer) answers.set(needle, (answer = findText(raw, structure, needle)));
    return answer;
  };
  for (const needle of strings.body) {
    const { body } = find(needle);
    if (body === 'maybe') return null;
    if (body === 'yes') inBody.push(needle);
  }
  for (const needle of strings.text) {
    const { header, body } = find(needle);
    if (body === 'yes') inBody.push(needle);
    else if (header === 'yes' && body === 'no') inHeader.push(needle);
    else if (header === 'maybe' || body === 'maybe') return null;
  }
  const head = inHeader.length ? `\xe9: ${inHeader.join(' ')}\n` : '';
  const text = Buffer.from(`${head}\n${inBody.join('\n')}`, 'latin1');
  const bodyStart = head.length + 1;
  return {
    raw: text,
    body: {
      type: 'text', subtype: 'plain', params: [], id: null, description: null, encoding: '7bit',
      size: text.length - bodyStart, lines: inBody.length, md5: null, disposition: null, language: null, location: null,
      headerStart: 0, bodyStart, bodyEnd: text.length,
    },
  };
}

function gone(): never {
  throw Object.assign(new Error('The message is gone'), { code: 'ENOENT' });
}

/** Whether a key looks at RFC822.SIZE or INTERNALDATE (which may need the message files). */
export function keyUsesInfo(key: SearchKey): boolean {
  switch (key.op) {
    case 'and':
      return key.keys.some(keyUsesInfo);
    case 'or':
      return keyUsesInfo(key.left) || keyUsesInfo(key.right);
    case 'not':
      return keyUsesInfo(key.key);
    case 'size':
    case 'internaldate':
      return true;
    default:
      return false;
  }
}

/** Whether a key is made of TEXT and BODY keys alone (so every message needs its file). */
function onlyStrings(key: SearchKey): boolean {
  switch (key.op) {
    case 'and':
      return key.keys.every(onlyStrings);
    case 'or':
      return onlyStrings(key.left) && onlyStrings(key.right);
    case 'not':
      return onlyStrings(key.key);
    case 'text':
    case 'body':
      return true;
    default:
      return false;
  }
}

const READ_AHEAD = 64;

/** The messages for the evaluator's third round, read in batches: stand-ins where the bytes decide (see standIn), else the messages themselves; null for one that is gone. */
async function readAhead(
  folder: Folder,
  uids: readonly number[],
  strings: { text: string[]; body: string[] },
): Promise<Map<number, { raw: Buffer; body: BodyPart } | null>> {
  const ready = new Map<number, { raw: Buffer; body: BodyPart } | null>();
  for (let start = 0; start < uids.length; start += READ_AHEAD) {
    const batch = uids.slice(start, start + READ_AHEAD);
    const data = await folder.messageData(batch, { raw: true, structure: true });
    batch.forEach((uid, i) => {
      const item = data[i];
      ready.set(uid, item ? standIn(item.raw!, item.structure!, strings) ?? { raw: item.raw!, body: item.structure! } : null);
    });
  }
  return ready;
}

/** Whether a key looks at header data (decoded fields, envelope, sent date). */
function keyUsesHeader(key: SearchKey): boolean {
  switch (key.op) {
    case 'and':
      return key.keys.some(keyUsesHeader);
    case 'or':
      return keyUsesHeader(key.left) || keyUsesHeader(key.right);
    case 'not':
      return keyUsesHeader(key.key);
    case 'header':
    case 'sentdate':
      return true;
    default:
      return false;
  }
}

/** Header fields the evaluator answers from header data rather than from the message file. */
const HEADER_DATA_FIELDS = new Set(['SUBJECT', 'FROM', 'TO', 'CC', 'BCC', 'MESSAGE-ID', 'IN-REPLY-TO']);

/**
 * The folded strings of a key's TEXT and BODY keys, when those are the only keys that read
 * the message file (null when another one does: a header field the header data lacks).
 */
function textStrings(key: SearchKey): { text: string[]; body: string[] } | null {
  const found = { text: [] as string[], body: [] as string[] };
  const walk = (k: SearchKey): boolean => {
    switch (k.op) {
      case 'and':
        return k.keys.every(walk);
      case 'or':
        return walk(k.left) && walk(k.right);
      case 'not':
        return walk(k.key);
      case 'text':
        found.text.push(foldForSearch(k.value));
        return true;
      case 'body':
        found.body.push(foldForSearch(k.value));
        return true;
      case 'header':
        // As the evaluator decides: these fields with a non-empty string come from header data.
        return HEADER_DATA_FIELDS.has(k.field.toUpperCase()) && foldForSearch(k.value) !== '';
      default:
        return true;
    }
  };
  return walk(key) ? found : null;
}

/** A message's flags without its sizes and date, for a search whose keys do not look at them. */
class StateOnly implements MessageInfo {
  readonly uid: number;
  readonly flags: ReadonlySet<string>;

  constructor(state: MessageState) {
    this.uid = state.uid;
    this.flags = state.flags;
  }

  get size(): number {
    throw new Error('internal error: RFC822.SIZE was not loaded for this search');
  }

  get internalDate(): number {
    throw new Error('internal error: INTERNALDATE was not loaded for this search');
  }
}

/** MessageMeta over header data (when the key needs it); the structure is added when the message file is read. */
export class SearchMeta implements MessageMeta {
  private structure: BodyPart | undefined;

  constructor(
    private readonly headerData: HeaderMeta | undefined,
    private readonly messageSize: number | undefined,
  ) {}

  private get header(): HeaderMeta {
    if (!this.headerData) throw new Error('internal error: the header data was not loaded');
    return this.headerData;
  }

  get size(): number {
    if (this.messageSize === undefined) throw new Error('internal error: RFC822.SIZE was not loaded');
    return this.messageSize;
  }

  get body(): BodyPart {
    if (!this.structure) throw new Error('internal error: the structure was not loaded');
    return this.structure;
  }

  set body(body: BodyPart) {
    this.structure = body;
  }

  get envelope(): Envelope {
    return this.header.envelope;
  }

  get references(): string[] {
    return this.header.references;
  }

  get decoded(): HeaderMeta['decoded'] {
    return this.header.decoded;
  }

  get sentDate(): number | null {
    return this.header.sentDate;
  }
}

/** The messages matching a search program with what SORT and THREAD order them by: sizes,
 * dates (the sent date falls back to INTERNALDATE, RFC 5256 2.2) and the header data. */
export async function searchForOrdering(ctx: CommandContext, key: SearchKey): Promise<{ seq: number; uid: number; info: MessageInfo; meta: MessageMeta }[]> {
  const view = ctx.session.selected!;
  const seqs = await runSearch(ctx, key);
  const loaded = await loadMessages(view.folder, seqs.map((seq) => view.message(seq)!), { info: true, header: true });
  const items = [];
  for (let i = 0; i < seqs.length; i++) {
    const message = loaded[i];
    if (message) items.push({ seq: seqs[i], uid: message.uid, info: message.info, meta: message.meta! });
  }
  return items;
}
