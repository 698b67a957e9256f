// FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2). What the items need beyond flags (sizes,
// ENVELOPE, structure, the message itself) is asked of the folder in batches: cached parts
// cost no file access, and each file is read at most once per batch, as far as needed.
// Responses go into the output blocks of output.ts (message data converted straight into
// them, see body.ts), and the command waits for the transport whenever a few writes are
// queued, so that a FETCH 1:* over 100,000 messages neither holds all responses in memory
// nor ignores back-pressure.
//
// CONDSTORE (RFC 7162 3.1.4): the MODSEQ item and the (CHANGEDSINCE n) modifier, answered
// from the modseqs kept with the messages (no file is read to leave a message out); with
// QRESYNC, UID FETCH's (CHANGEDSINCE n VANISHED) first reports the UIDs gone since (3.2.6).
//
// BINARY, EMAILID, THREADID, SAVEDATE and PREVIEW are written by fetch-ext.ts.
import { SELECTED, no, ok, type CommandResult, type CommandSpec } from './types.js';
import { myRights } from '../rights.js';
import { SyntaxError } from './args.js';
import { modseqValue, parseFetchItems, formatInternalDate } from '../protocol/parser.js';
import { sequenceSetArg } from './esearch.js';
import { resolveSequenceSet } from '../protocol/sequence.js';
import type { FetchItem, SectionSpec, Token } from '../protocol/types.js';
import { vanishedSince } from './qresync.js';
import { Encoder } from '../../wire/writer.js';
import { BLOCK_SIZE, BlockWriter } from '../output.js';
import { arenaBlocks, outputBlocks } from '../crlf-pool.js';
import { writeSection, type PartialRange } from './body.js';
import { changedSince, lowerBound, namedBy, resolveSet } from '../resolve-set.js';
import { envelopeValue } from '../../wire/envelope.js';
import { bodyStructureValue } from '../../wire/bodystructure.js';
import { bodyStructureWire } from '../../wire/render.js';
import { sectionNeedsStructure } from '../../mime/section.js';
import { RawArena, type DataRequest, type MessageData, type MessageState } from '../../backend/mailstore.js';
import type { SelectedMailbox } from '../selected.js';
import { binaryDecodable, extDataRequest, extSetsSeen, isExtItem, writeExtItem, type ExtContext } from './fetch-ext.js';

/**
 * Messages per batch; fewer when whole messages are sent (they can be large). What a batch
 * holds (parsed structures, header data) outlives a young-generation collection when the
 * batch is large and then piles up in the old generation: with 512, a FETCH 1:* BODYSTRUCTURE
 * that parses 100,000 messages peaked 100 MB higher (RSS) than with 64, and took longer.
 */
const BATCH = 64;
const BODY_BATCH = 32;

export const fetch: CommandSpec = {
  names: ['FETCH', 'UID FETCH'],
  states: SELECTED,
  // BINARY's literal8 in APPEND is the command reader's (protocol/reader.ts); OBJECTID's
  // MAILBOXID is in SELECT, STATUS and CREATE, SAVEDATE's search keys in the search parser.
  capabilities: [{ word: 'BINARY' }, { word: 'OBJECTID' }, { word: 'SAVEDATE' }, { word: 'PREVIEW' }],
  sequenceNumbers: 'non-uid',
  async handler(ctx) {
    const { session, args, uid } = ctx;
    const view = session.selected!;
    const set = sequenceSetArg(ctx, 'sequence set');
    const rest = args.rest();
    // FETCH set items [(modifiers)]: items are one atom or one list, so a second list is
    // modifiers, except the list of PREVIEW's own modifiers (RFC 8970: "FETCH 1 PREVIEW (LAZY)").
    const modifiers = rest.length === 2 && rest[1].type === 'list' && !previewModifiers(rest) ? fetchModifiers(rest.pop()!, uid, session.enabled.has('QRESYNC')) : {};
    const items = parseFetchItems(rest);
    if (uid && !items.some((i) => i.kind === 'UID')) items.unshift({ kind: 'UID' });
    let seqs: number[];
    if (modifiers.changedSince !== undefined || items.some((i) => i.kind === 'MODSEQ')) session.enableCondstore();
    if (modifiers.changedSince === undefined) seqs = resolveSet(view, set, uid);
    else {
      const since = modifiers.changedSince;
      // Not a list of every number "1:*" names: the set is looked at for the changed messages only.
      const named = namedBy(view, set, uid);
      view.takeFlagChanges((seq) => named(seq) && view.message(seq)!.modseq > since);
      session.announceKeywords();
      if (!items.some((i) => i.kind === 'MODSEQ')) items.push({ kind: 'MODSEQ' });
      if (modifiers.vanished) {
        const vanished = vanishedSince(view, resolveSequenceSet(set, view.uidNext - 1), since);
        if (vanished) session.write(Buffer.from(`* VANISHED (EARLIER) ${vanished}\r\n`));
      }
      seqs = changedSince(view, named, since);
    }

    const utf8 = session.enabled.has('UTF8=ACCEPT');
    const request = dataRequest(items, utf8);
    // Whole messages are used up batch by batch (converted into the output blocks, never kept):
    // they share one buffer. Only HEADER.FIELDS may hand a piece of one to the transport as it is.
    if (request.raw && !items.some((i) => i.kind === 'BODY[]' && i.section.kind.startsWith('HEADER.FIELDS'))) request.arena = new RawArena(arenaBlocks());
    // Without the "s" right (a shared folder, RFC 4314 section 4) nothing is marked \Seen.
    const setsSeen = !view.readOnly
      && (items.some((i) => (i.kind === 'BODY[]' && !i.peek) || i.kind === 'RFC822' || i.kind === 'RFC822.TEXT') || extSetsSeen(items))
      && (await myRights(session, view.folder.name)).includes('s');
    const sendsFlags = items.some((i) => i.kind === 'FLAGS');
    // A \Seen set by this FETCH is a change: its new modseq goes with it (RFC 7162 3.1.4).
    if (setsSeen && view.condstore && !items.some((i) => i.kind === 'MODSEQ')) items.push({ kind: 'MODSEQ' });

    // Implicit \Seen first, in one folder operation, so the FETCH carries the new flags.
    let seenChanged = new Set<number>();
    if (setsSeen) {
      const unseen = seqs.map((s) => view.message(s)!).filter((m) => !m.flags.has('\\Seen')).map((m) => m.uid);
      if (unseen.length) {
        await view.folder.storeFlags(unseen, 'add', ['\\Seen']);
        seenChanged = new Set(unseen);
        view.discardFlagChanges(seenChanged);
        // Looked up in the folder's list (UIDs ascend): no map of a 100,000-message folder.
        const current = view.folder.snapshot().messages;
        for (const u of unseen) {
          const m = current[lowerBound(current, u)];
          if (m?.uid === u) view.updateFlags(u, m.flags, m.modseq);
        }
        // Another session's keyword on these messages shows in our FLAGS: announced first.
        session.announceKeywords();
      }
    }

    const needsData = Object.keys(request).length > 0;
    // The cached and string-made forms are those for clients without UTF8=ACCEPT.
    const usesWire = items.some((i) => i.kind === 'ENVELOPE' || i.kind === 'BODY' || i.kind === 'BODYSTRUCTURE');
    const plain = items.every((i) => PLAIN_ITEMS.has(i.kind)) && !(utf8 && usesWire);
    const batchSize = request.raw ? BODY_BATCH : BATCH;
    const out = new Encoder({ utf8 });
    const reuse = session.transport.reusesWrittenBuffers === true;
    const blocks = new BlockWriter((bytes, done) => session.write(bytes, done), BLOCK_SIZE, reuse, reuse && request.arena ? outputBlocks(BLOCK_SIZE) : null);
    try {
      return await respond();
    } finally {
      // Blocks lent by the converter's pool go back (crlf-pool.ts).
      blocks.close();
      request.arena?.release();
    }

    async function respond(): Promise<CommandResult> {
      const binary = items.some((i) => i.kind === 'BINARY[]' || i.kind === 'BINARY.SIZE');
      const ext = { folder: view.folder, uidValidity: view.uidValidity };
      let vanished = 0;
      let unknownCte = false;
      for (let start = 0; start < seqs.length; start += batchSize) {
        const batch = seqs.slice(start, start + batchSize);
        const messages = batch.map((seq) => view.message(seq)!);
        // The file of a message that another process expunged (not reported yet) is gone: null.
        const data = needsData ? await view.folder.messageData(messages.map((m) => m.uid), request) : undefined;
        if (plain) {
          // The usual listing: the batch is one string of bytes (latin1), written at once.
          let text = '';
          for (let i = 0; i < batch.length; i++) {
            const item = data ? data[i] : NO_DATA;
            if (!item) {
              vanished++;
              continue;
            }
            text += plainResponse(view, batch[i], messages[i], items, item, sendsFlags || seenChanged.has(messages[i].uid));
          }
          blocks.stable(Buffer.from(text, 'latin1'));
          blocks.flush();
          const wait = blocks.room();
          if (wait) await wait;
          continue;
        }
        for (let i = 0; i < batch.length; i++) {
          const item = data ? data[i] : NO_DATA;
          if (!item) {
            vanished++;
            continue;
          }
          const message = messages[i];
          if (binary && !binaryDecodable(items, item)) {
            unknownCte = true;
            continue;
          }
          writeResponse(out, blocks, view, batch[i], message, items, item, sendsFlags || seenChanged.has(message.uid), utf8, ext);
          const wait = blocks.room();
          if (wait) await wait;
        }
        // A batch's responses go out before the next batch is read (the client sees progress).
        blocks.flush();
        const wait = blocks.room();
        if (wait) await wait;
      }
      if (unknownCte) return no('A part has a Content-Transfer-Encoding this server cannot decode', 'UNKNOWN-CTE');
      if (vanished) return no('Some of the requested messages no longer exist', 'EXPUNGEISSUED');
      return ok('FETCH completed');
    }
  },
};

const NO_DATA: MessageData = {};

/** Items whose answer is made from numbers, flags and cached bytes: see plainResponse. */
const PLAIN_ITEMS = new Set<FetchItem['kind']>(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'MODSEQ']);

/** Whether the arguments are PREVIEW and its list of modifiers ("PREVIEW (LAZY)"), not an item and FETCH modifiers. */
function previewModifiers(rest: readonly Token[]): boolean {
  const [first, second] = rest;
  return first.type === 'atom' && first.value.toUpperCase() === 'PREVIEW' && second.type === 'list' && second.items[0]?.type === 'atom' && second.items[0].value.toUpperCase() === 'LAZY';
}

/** FETCH modifiers (RFC 4466): CHANGEDSINCE, and VANISHED for UID FETCH after ENABLE QRESYNC. */
function fetchModifiers(list: Token, uid: boolean, qresync: boolean): { changedSince?: number; vanished?: boolean } {
  const items = list.type === 'list' ? list.items : [];
  const result: { changedSince?: number; vanished?: boolean } = {};
  for (let i = 0; i < items.length; i++) {
    const word = items[i].type === 'atom' ? (items[i] as { value: string }).value.toUpperCase() : '';
    if (word === 'CHANGEDSINCE' && result.changedSince === undefined) result.changedSince = modseqValue(items[++i], 'mod-sequence after CHANGEDSINCE');
    else if (word === 'VANISHED' && uid && qresync && !result.vanished) result.vanished = true;
    else throw new SyntaxError(`Unknown FETCH modifier ${word.slice(0, 40)}`);
  }
  if (result.vanished && result.changedSince === undefined) throw new SyntaxError('VANISHED needs CHANGEDSINCE');
  return result;
}
const ASCII = /^[\x00-\x7f]*$/;

/**
 * One FETCH response of PLAIN_ITEMS as a latin1 string (one character per byte), the same
 * bytes writeResponse gives: numbers, the quoted date, the flag list (UTF-8 keywords as
 * their bytes) and the cached ENVELOPE bytes.
 */
function plainResponse(view: SelectedMailbox, seq: number, message: MessageState, items: readonly FetchItem[], data: MessageData, withFlags: boolean): string {
  let out = `* ${seq} FETCH (`;
  let first = true;
  let flagsSent = false;
  const flags = (): string => {
    const text = view.flagsText(message);
    return ASCII.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
  };
  for (const item of items) {
    if (!first) out += ' ';
    first = false;
    switch (item.kind) {
      case 'UID':
        out += `UID ${message.uid}`;
        break;
      case 'FLAGS':
        out += `FLAGS ${flags()}`;
        flagsSent = true;
        break;
      case 'INTERNALDATE':
        out += `INTERNALDATE "${formatInternalDate(data.internalDate!)}"`;
        break;
      case 'RFC822.SIZE':
        out += `RFC822.SIZE ${data.size!}`;
        break;
      case 'MODSEQ':
        out += `MODSEQ (${message.modseq})`;
        break;
      case 'ENVELOPE':
        out += `ENVELOPE ${data.envelope!.toString('latin1')}`;
        break;
      case 'BODY':
      case 'BODYSTRUCTURE':
        out += `${item.kind} ${bodyStructureWire(data.structure!, item.kind === 'BODYSTRUCTURE')}`;
        break;
    }
  }
  if (withFlags && !flagsSent) out += `${first ? '' : ' '}FLAGS ${flags()}`;
  return `${out})\r\n`;
}

/** What the items need of the folder beyond UID and flags. */
function dataRequest(items: readonly FetchItem[], utf8: boolean): DataRequest {
  const request: DataRequest = {};
  for (const item of items) {
    switch (item.kind) {
      case 'INTERNALDATE':
      case 'RFC822.SIZE':
        request.info = true;
        break;
      case 'ENVELOPE':
        // The cached wire form is for clients without UTF8=ACCEPT; the others get it made anew.
        if (utf8) request.header = true;
        else request.envelope = true;
        break;
      case 'BODY':
      case 'BODYSTRUCTURE':
        request.structure = true;
        break;
      case 'RFC822':
      case 'RFC822.HEADER':
      case 'RFC822.TEXT':
        request.raw = true;
        break;
      case 'BODY[]':
        request.raw = true;
        if (sectionNeedsStructure(item.section)) request.structure = true;
        break;
    }
  }
  extDataRequest(items, request);
  return request;
}

function writeResponse(
  out: Encoder,
  blocks: BlockWriter,
  view: SelectedMailbox,
  seq: number,
  message: MessageState,
  items: readonly FetchItem[],
  data: MessageData,
  withFlags: boolean,
  utf8: boolean,
  ext: ExtContext,
): void {
  out.raw(`* ${seq} FETCH (`);
  let first = true;
  const label = (name: string): void => {
    out.raw(first ? `${name} ` : ` ${name} `);
    first = false;
  };
  let flagsSent = false;
  for (const item of items) {
    switch (item.kind) {
      case 'UID':
        label('UID');
        out.number(message.uid);
        break;
      case 'FLAGS':
        label('FLAGS');
        out.raw(view.flagsText(message));
        flagsSent = true;
        break;
      case 'INTERNALDATE':
        label('INTERNALDATE');
        out.string(formatInternalDate(data.internalDate!));
        break;
      case 'RFC822.SIZE':
        label('RFC822.SIZE');
        out.number(data.size!);
        break;
      case 'MODSEQ':
        label('MODSEQ');
        out.raw(`(${message.modseq})`);
        break;
      case 'ENVELOPE':
        label('ENVELOPE');
        if (data.envelope) out.bytes(data.envelope);
        else out.value(envelopeValue(data.header!.envelope, utf8));
        break;
      case 'BODY':
      case 'BODYSTRUCTURE':
        label(item.kind);
        // Without UTF8=ACCEPT the same bytes are made faster as a string (server/wire/render.ts).
        if (utf8) out.value(bodyStructureValue(data.structure!, item.kind === 'BODYSTRUCTURE'));
        else out.bytes(Buffer.from(bodyStructureWire(data.structure!, item.kind === 'BODYSTRUCTURE'), 'latin1'));
        break;
      case 'RFC822':
        label('RFC822');
        literal(out, blocks, data, WHOLE);
        break;
      case 'RFC822.HEADER':
        label('RFC822.HEADER');
        literal(out, blocks, data, HEADER);
        break;
      case 'RFC822.TEXT':
        label('RFC822.TEXT');
        literal(out, blocks, data, TEXT);
        break;
      case 'BODY[]':
        // The label already carries "<origin>" for a partial fetch (RFC 3501 7.4.2).
        label(item.label);
        literal(out, blocks, data, item.section, item.partial);
        break;
      default:
        if (isExtItem(item)) writeExtItem(out, blocks, item, message, data, ext, label);
    }
  }
  if (withFlags && !flagsSent) {
    label('FLAGS');
    out.raw(view.flagsText(message));
  }
  out.raw(')\r\n');
  toBlocks(out, blocks);
}

/** What the encoder holds, into the blocks (the usual ASCII text without a Buffer of its own). */
function toBlocks(out: Encoder, blocks: BlockWriter): void {
  const text = out.takeAscii();
  if (text === null) blocks.stable(out.finish());
  else if (text.length > 0) blocks.ascii(text);
}

const WHOLE: SectionSpec = { part: [], kind: '' };
const HEADER: SectionSpec = { part: [], kind: 'HEADER' };
const TEXT: SectionSpec = { part: [], kind: 'TEXT' };

/** Message data go straight into the output blocks, after what the encoder holds so far. */
function literal(out: Encoder, blocks: BlockWriter, data: MessageData, section: SectionSpec, partial?: PartialRange): void {
  toBlocks(out, blocks);
  writeSection(blocks, data.raw!, data.structure, section, partial);
}
