// The FETCH items of later extensions, written by fetch.ts through writeExtItem:
//
// BINARY[part]<partial>, BINARY.PEEK and BINARY.SIZE[part] (RFC 3516): the part with its
// Content-Transfer-Encoding undone (server/mime/binary.ts), counted first (the literal's
// length), then decoded again straight into the output blocks, a piece at a time: no buffer of
// the decoded part. Data with a NUL goes as literal8 (~{n}), other data as a literal, as RFC 3516
// 4.3 asks (Dovecot sends literal8 for every decoded part; the octets are the same). A part whose
// encoding we do not know fails the FETCH with NO [UNKNOWN-CTE] (RFC 3516 4.1); its message gets
// no response. A part that does not exist is empty (as Dovecot). BINARY[] is the whole message
// as stored (CRLF), as BODY[] but never with NUL changed: the message has no encoding of its own
// (Dovecot instead decodes the body of an encoded single-part message and rewrites its header).
// So is a multipart or message/rfc822 part, whose own encoding is 7bit, 8bit or binary (RFC 2045
// 6.4); Dovecot decodes the parts inside it too.
//
// EMAILID, THREADID (RFC 8474): EMAILID is the id kept by the store (server/maildir/objectid.ts).
// THREADID is "T" and 24 hex digits of the SHA-256 of the Message ID the message names as the
// first of its thread (the first of its References, else of In-Reply-To, as THREAD=REFERENCES
// reads them), or of its own Message ID; of its EMAILID when it has none. It is the same for the
// messages of a thread in every folder and never changes (RFC 8474 5.2), which the root of
// THREAD=REFERENCES would not: that moves when an earlier message comes late or is expunged, and
// differs between folders. From the header data the store caches (imapd-ts.headers): no file is
// read twice. A reply whose References lost the first ids starts a thread of its own.
//
// SAVEDATE (RFC 8514): the store's save date, as INTERNALDATE is written.
//
// PREVIEW (RFC 8970): server/mime/preview.ts makes it from the message; it is kept in memory for
// the folder (PREVIEW_CACHE per folder), and PREVIEW (LAZY) answers from there, or from the
// message when the FETCH reads it anyway, else NIL (RFC 8970 3.1: the client asks again without LAZY).
import { createHash } from 'node:crypto';
import type { Folder, MessageData, MessageState, DataRequest } from '../../backend/mailstore.js';
import { threadRootId } from '../search/thread.js';
import { decodedSize, decodePieces, transferEncoding, type TransferEncoding } from '../../mime/binary.js';
import { previewText } from '../../mime/preview.js';
import { findPart } from '../../mime/section.js';
import type { BodyPart } from '../../mime/types.js';
import { formatInternalDate } from '../protocol/parser.js';
import type { FetchItem } from '../protocol/types.js';
import type { Encoder } from '../../wire/writer.js';
import type { BlockWriter } from '../output.js';

type ExtItem = Extract<FetchItem, { kind: 'BINARY[]' | 'BINARY.SIZE' | 'EMAILID' | 'THREADID' | 'SAVEDATE' | 'PREVIEW' }>;

const EXT_KINDS = new Set<FetchItem['kind']>(['BINARY[]', 'BINARY.SIZE', 'EMAILID', 'THREADID', 'SAVEDATE', 'PREVIEW']);

export function isExtItem(item: FetchItem): item is ExtItem {
  return EXT_KINDS.has(item.kind);
}

/** Adds what the extension items need to `request`. */
export function extDataRequest(items: readonly FetchItem[], request: DataRequest): void {
  for (const item of items) {
    switch (item.kind) {
      case 'BINARY[]':
      case 'BINARY.SIZE':
        request.raw = request.structure = true;
        break;
      case 'PREVIEW':
        if (!item.lazy) request.raw = request.structure = true;
        break;
      case 'EMAILID':
        request.emailId = true;
        break;
      case 'THREADID':
        request.header = request.emailId = true;
        break;
      case 'SAVEDATE':
        request.saveDate = true;
        break;
    }
  }
}

/** Whether the items set \Seen (BINARY without .PEEK, RFC 3516 4.1). */
export function extSetsSeen(items: readonly FetchItem[]): boolean {
  return items.some((i) => i.kind === 'BINARY[]' && !i.peek);
}

/** What a BINARY item sends: the stored bytes [start, end) and how to decode them; null for no such part. */
function binarySource(raw: Buffer, body: BodyPart, part: number[]): { start: number; end: number; encoding: TransferEncoding | null } | null {
  if (part.length === 0) return { start: 0, end: raw.length, encoding: 'identity' };
  const node = findPart(body, part);
  if (node === null) return null;
  return { start: node.bodyStart, end: node.bodyEnd, encoding: transferEncoding(node.encoding) };
}

/** Whether every BINARY item of the message names a part whose encoding we know (else UNKNOWN-CTE). */
export function binaryDecodable(items: readonly FetchItem[], data: MessageData): boolean {
  for (const item of items) {
    if (item.kind !== 'BINARY[]' && item.kind !== 'BINARY.SIZE') continue;
    const source = binarySource(data.raw!, data.structure!, item.part);
    if (source !== null && source.encoding === null) return false;
  }
  return true;
}

const previewCaches = new WeakMap<Folder, Map<string, string>>();
/** Previews kept per folder (a FIFO: the oldest goes first). */
const PREVIEW_CACHE = 2000;

function cachedPreview(folder: Folder, key: string): string | undefined {
  return previewCaches.get(folder)?.get(key);
}

function keepPreview(folder: Folder, key: string, text: string): void {
  let cache = previewCaches.get(folder);
  if (!cache) previewCaches.set(folder, (cache = new Map()));
  if (cache.size >= PREVIEW_CACHE) cache.delete(cache.keys().next().value!);
  cache.set(key, text);
}

export interface ExtContext {
  folder: Folder;
  uidValidity: number;
}

/** Writes one extension item (label and value) at the encoder's end. */
export function writeExtItem(out: Encoder, blocks: BlockWriter, item: ExtItem, message: MessageState, data: MessageData, ctx: ExtContext, label: (name: string) => void): void {
  switch (item.kind) {
    case 'EMAILID':
      label('EMAILID');
      out.raw(`(${data.emailId!})`);
      return;
    case 'THREADID': {
      label('THREADID');
      const root = threadRootId(data.header!);
      out.raw(`(T${createHash('sha256').update(root === undefined ? `emailid ${data.emailId!}` : `<${root}>`).digest('hex').slice(0, 24)})`);
      return;
    }
    case 'SAVEDATE':
      label('SAVEDATE');
      if (data.saveDate === undefined) out.raw('NIL');
      else out.string(formatInternalDate(data.saveDate));
      return;
    case 'PREVIEW': {
      label('PREVIEW');
      const key = `${ctx.uidValidity}/${message.uid}`;
      let text = cachedPreview(ctx.folder, key);
      if (text === undefined && data.raw && data.structure) {
        text = previewText(data.raw, data.structure);
        keepPreview(ctx.folder, key, text);
      }
      if (text === undefined) out.raw('NIL');
      else out.string(text);
      return;
    }
    case 'BINARY.SIZE': {
      label(item.label);
      const source = binarySource(data.raw!, data.structure!, item.part);
      out.number(source ? decodedSize(data.raw!, source.start, source.end, source.encoding!).size : 0);
      return;
    }
    case 'BINARY[]': {
      label(item.label);
      const source = binarySource(data.raw!, data.structure!, item.part);
      if (source === null) {
        out.raw('{0}\r\n');
        return;
      }
      const { start, end } = source;
      const encoding = source.encoding!;
      const { size, nul } = decodedSize(data.raw!, start, end, encoding);
      const from = Math.min(item.partial?.origin ?? 0, size);
      const to = Math.min(size, from + (item.partial?.count ?? Infinity));
      out.raw(`${nul ? '~' : ''}{${to - from}}\r\n`);
      blocks.stable(out.finish());
      if (to === from) return;
      let at = 0; // decoded octets seen so far
      decodePieces(data.raw!, start, end, encoding, (piece) => {
        const a = Math.max(from - at, 0);
        const b = Math.min(to - at, piece.length);
        if (a < b) blocks.stable(a === 0 && b === piece.length ? piece : piece.subarray(a, b));
        at += piece.length;
        return at < to;
      });
      return;
    }
  }
}
