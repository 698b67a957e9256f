// FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2). Metadata (ENVELOPE, BODYSTRUCTURE and
// the part offsets for BODY[section]) comes from the folder's cache; the message file
// is read only for body sections. Messages go out in batches so that a FETCH 1:* over
// 100,000 messages neither holds all responses in memory nor ignores back-pressure.
import { SELECTED, no, ok, type CommandSpec } from './types.js';
import { parseFetchItems, parseSequenceSet, formatInternalDate } from '../protocol/parser.js';
import type { FetchItem, ImapValue, SectionSpec } from '../protocol/types.js';
import { resolveSet } from '../sequence.js';
import { envelopeValue } from '../format/envelope.js';
import { bodyStructureValue } from '../format/bodystructure.js';
import { sectionBytes } from '../../mime/section.js';
import type { MessageMeta } from '../../mime/types.js';
import { MailStoreError, type MessageInfo } from '../../backend/mailstore.js';
import type { SelectedMailbox } from '../selected.js';

const BATCH = 256;
/** Items that need the message file (and its part offsets). */
const BODY_ITEMS = new Set<FetchItem['kind']>(['BODY[]', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);
/** Items answered from the cached structure alone. */
const STRUCTURE_ITEMS = new Set<FetchItem['kind']>(['ENVELOPE', 'BODY', 'BODYSTRUCTURE']);

type BodyItem = Extract<FetchItem, { kind: 'BODY[]' }>;

export const fetch: CommandSpec = {
  names: ['FETCH', 'UID FETCH'],
  states: SELECTED,
  allowExpunge: ({ uid }) => uid,
  async handler({ session, args, uid }) {
    const view = session.selected!;
    const set = parseSequenceSet(args.atom('sequence set'));
    const items = parseFetchItems(args.rest());
    if (uid && !items.some((i) => i.kind === 'UID')) items.unshift({ kind: 'UID' });
    const seqs = resolveSet(view, set, uid);

    const needsRaw = items.some((i) => BODY_ITEMS.has(i.kind));
    const needsMeta = needsRaw || items.some((i) => STRUCTURE_ITEMS.has(i.kind));
    const setsSeen = !view.readOnly && items.some((i) => (i.kind === 'BODY[]' && !i.peek) || i.kind === 'RFC822' || i.kind === 'RFC822.TEXT');
    const sendsFlags = items.some((i) => i.kind === 'FLAGS');

    // Implicit \Seen first, in one folder operation, so the FETCH carries the new flags.
    let seenChanged = new Set<number>();
    if (setsSeen) {
      const unseen = seqs.map((s) => view.message(s)!).filter((m) => !m.flags.has('\\Seen')).map((m) => m.uid);
      if (unseen.length) {
        await view.folder.storeFlags(unseen, 'add', ['\\Seen']);
        seenChanged = new Set(unseen);
        view.discardFlagChanges(seenChanged);
        const current = new Map(view.folder.snapshot().messages.map((m) => [m.uid, m]));
        for (const u of unseen) {
          const m = current.get(u);
          if (m) view.updateFlags(u, m.flags);
        }
      }
    }

    const utf8 = session.enabled.has('UTF8=ACCEPT');
    let vanished = 0;
    for (let start = 0; start < seqs.length; start += BATCH) {
      const batch = seqs.slice(start, start + BATCH);
      const responses = await Promise.all(
        batch.map(async (seq) => {
          const message = view.message(seq)!;
          try {
            const meta = needsMeta ? await view.folder.messageMeta(message.uid) : undefined;
            const raw = needsRaw ? await view.folder.readMessage(message.uid) : undefined;
            const withFlags = sendsFlags || seenChanged.has(message.uid);
            return buildResponse(view, seq, message, items, meta, raw, withFlags, utf8);
          } catch (err) {
            // The file went away under us (expunged by another process, not yet reported).
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof MailStoreError)) throw err;
            vanished++;
            return null;
          }
        }),
      );
      for (const response of responses) if (response) session.untagged(response);
      await session.drain();
    }
    if (vanished) return no('Some of the requested messages no longer exist', 'EXPUNGEISSUED');
    return ok('FETCH completed');
  },
};

function buildResponse(
  view: SelectedMailbox,
  seq: number,
  message: MessageInfo,
  items: FetchItem[],
  meta: MessageMeta | undefined,
  raw: Buffer | undefined,
  withFlags: boolean,
  utf8: boolean,
): ImapValue[] {
  const out: ImapValue[] = [];
  let flagsSent = false;
  for (const item of items) {
    switch (item.kind) {
      case 'UID':
        out.push({ atom: 'UID' }, message.uid);
        break;
      case 'FLAGS':
        out.push({ atom: 'FLAGS' }, view.flagList(message));
        flagsSent = true;
        break;
      case 'INTERNALDATE':
        out.push({ atom: 'INTERNALDATE' }, formatInternalDate(message.internalDate));
        break;
      case 'RFC822.SIZE':
        out.push({ atom: 'RFC822.SIZE' }, message.size);
        break;
      case 'ENVELOPE':
        out.push({ atom: 'ENVELOPE' }, envelopeValue(meta!.envelope, utf8));
        break;
      case 'BODY':
        out.push({ atom: 'BODY' }, bodyStructureValue(meta!.body, false));
        break;
      case 'BODYSTRUCTURE':
        out.push({ atom: 'BODYSTRUCTURE' }, bodyStructureValue(meta!.body, true));
        break;
      case 'RFC822':
        out.push({ atom: 'RFC822' }, literalOrNil(section(raw!, meta!, { part: [], kind: '' })));
        break;
      case 'RFC822.HEADER':
        out.push({ atom: 'RFC822.HEADER' }, literalOrNil(section(raw!, meta!, { part: [], kind: 'HEADER' })));
        break;
      case 'RFC822.TEXT':
        out.push({ atom: 'RFC822.TEXT' }, literalOrNil(section(raw!, meta!, { part: [], kind: 'TEXT' })));
        break;
      case 'BODY[]':
        pushBodySection(out, item, raw!, meta!);
        break;
    }
  }
  if (withFlags && !flagsSent) out.push({ atom: 'FLAGS' }, view.flagList(message));
  return [seq, { atom: 'FETCH' }, out];
}

function pushBodySection(out: ImapValue[], item: BodyItem, raw: Buffer, meta: MessageMeta) {
  let data = section(raw, meta, item.section);
  if (item.partial && data) {
    const { origin, count } = item.partial;
    data = origin >= data.length ? Buffer.alloc(0) : data.subarray(origin, origin + count);
  }
  // The label already carries "<origin>" for a partial fetch (RFC 3501 7.4.2).
  out.push({ atom: item.label }, literalOrNil(data));
}

function section(raw: Buffer, meta: MessageMeta, spec: SectionSpec): Buffer | null {
  return sectionBytes(raw, meta, spec);
}

/** A section that does not exist is sent as an empty string, as Courier and Dovecot do. */
function literalOrNil(data: Buffer | null): ImapValue {
  return data === null ? '' : { literal: data };
}
