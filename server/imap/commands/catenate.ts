// CATENATE (RFC 4469) with URL-PARTIAL (RFC 5550): a message put together from TEXT literals
// and IMAP URLs (RFC 5092) naming messages or sections of the user's own mailboxes. The parts
// are written one after the other into the store's scratch space (MessageStager), never
// gathered in memory; a URL's part is what FETCH BODY[section]<partial> would return.
//
// URLs accepted: "imap://[user@]host[:port]/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s][/;PARTIAL=o[.l]]"
// (absolute; the user, if given, must be the one logged in; the host is not checked, as any URL
// that reaches us names a mailbox we serve), "/mailbox..." (same server), and ";UID=n..."
// (relative to the selected mailbox, RFC 4469 section 5). URLAUTH URLs are not supported.
// Anything else, or a message that is not there, is NO [BADURL url].

import type { MessageStager, StagedMessage } from '../../backend/mailstore.js';
import { MailStoreError } from '../../backend/mailstore.js';
import { sectionOf } from '../../mime/section.js';
import { crlfConvert } from '../crlf.js';
import { parseCommand, parseFetchItems } from '../protocol/parser.js';
import { MailboxNameError, toStoreName } from '../names.js';
import type { SectionSpec, Token } from '../protocol/types.js';
import { requireRights } from '../rights.js';
import { sectionRange } from './body.js';
import type { SessionContext } from './types.js';

export type CatenatePart = { kind: 'text'; token: Extract<Token, { type: 'string' }> } | { kind: 'url'; url: string };

/** A part the client must be told about: NO [BADURL url] (RFC 4469 section 6). */
export class BadUrl extends Error {
  constructor(readonly url: string, reason: string) {
    super(reason);
  }
}

export interface ImapUrl {
  /** Mailbox as the client names it, in UTF-8 (RFC 5092), or null: the selected one. */
  mailbox: string | null;
  uidValidity?: number;
  uid: number;
  /** FETCH section text ("1.2", "HEADER.FIELDS (FROM)"), empty for the whole message. */
  section: string;
  partial?: { offset: number; length?: number };
}

const NUMBER = /^[1-9][0-9]{0,9}$/;
const OFFSET = /^(0|[1-9][0-9]{0,14})$/;

function percentDecode(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new BadUrl(url, 'Invalid %-escape');
  }
}

function number(value: string, url: string, what: string): number {
  if (!NUMBER.test(value) || Number(value) > 0xffffffff) throw new BadUrl(url, `Invalid ${what}`);
  return Number(value);
}

/** Parses an IMAP URL as CATENATE accepts it (see the top of this file); `user` is the logged-in one. */
export function parseImapUrl(url: string, user: string | null): ImapUrl {
  let rest = url;
  if (/^imap:\/\//i.test(rest)) {
    rest = rest.slice(7);
    const slash = rest.indexOf('/');
    if (slash < 0) throw new BadUrl(url, 'The URL names no message');
    const authority = rest.slice(0, slash);
    rest = rest.slice(slash);
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (/;AUTH=/i.test(userinfo) && !/;AUTH=\*$/i.test(userinfo)) throw new BadUrl(url, 'Unsupported authentication in URL');
      const name = percentDecode(userinfo.replace(/;AUTH=.*$/i, ''), url);
      if (name !== '' && name !== user) throw new BadUrl(url, 'The URL names another user');
    }
    if (authority.slice(at + 1) === '') throw new BadUrl(url, 'The URL names no server');
  }
  let mailbox: string | null = null;
  let uidValidity: number | undefined;
  let params: string[];
  if (rest.startsWith('/')) {
    // "/mailbox[;UIDVALIDITY=n]/;UID=n/..."
    const segments = rest.slice(1).split('/');
    const box = segments.shift()!;
    const semi = box.search(/;UIDVALIDITY=/i);
    const name = semi >= 0 ? box.slice(0, semi) : box;
    if (name === '' || name.includes(';')) throw new BadUrl(url, 'Invalid mailbox in URL');
    mailbox = percentDecode(name, url);
    if (semi >= 0) uidValidity = number(box.slice(semi + ';UIDVALIDITY='.length), url, 'UIDVALIDITY');
    params = segments;
  } else if (rest.startsWith(';')) {
    params = rest.split('/');
  } else {
    throw new BadUrl(url, 'Not an IMAP URL');
  }
  const [uidPart, ...more] = params;
  if (!uidPart || !/^;UID=/i.test(uidPart)) throw new BadUrl(url, 'The URL names no message (;UID=)');
  const result: ImapUrl = { mailbox, uid: number(uidPart.slice(5), url, 'UID'), section: '' };
  if (uidValidity !== undefined) result.uidValidity = uidValidity;
  for (const part of more) {
    if (/^;SECTION=/i.test(part) && result.section === '' && result.partial === undefined) {
      result.section = percentDecode(part.slice(9), url);
      if (result.section === '') throw new BadUrl(url, 'Empty section');
    } else if (/^;PARTIAL=/i.test(part) && result.partial === undefined) {
      const [offset, length, extra] = part.slice(9).split('.');
      if (extra !== undefined || !OFFSET.test(offset ?? '') || (length !== undefined && !NUMBER.test(length))) throw new BadUrl(url, 'Invalid PARTIAL');
      result.partial = length === undefined ? { offset: Number(offset) } : { offset: Number(offset), length: Number(length) };
    } else {
      // ;EXPIRE=, ;URLAUTH= and anything unknown or repeated.
      throw new BadUrl(url, 'Unsupported URL part');
    }
  }
  return result;
}

/** The FETCH section a URL's ;SECTION= names, parsed as FETCH BODY[...] would be. */
function sectionSpec(section: string, url: string): SectionSpec {
  if (section === '') return { part: [], kind: '' };
  if (!/^[\x20-\x7e]+$/.test(section) || section.includes(']')) throw new BadUrl(url, 'Invalid section');
  try {
    const command = parseCommand({ lines: [Buffer.from(`x FETCH 1 BODY.PEEK[${section}]`, 'latin1')], literals: [] });
    const [item] = parseFetchItems(command.args.slice(1));
    if (item?.kind !== 'BODY[]') throw new Error('not a section');
    return item.section;
  } catch {
    throw new BadUrl(url, 'Invalid section');
  }
}

/** The octets a URL names (FETCH BODY.PEEK[section]<partial> of that message). */
export async function urlContent(session: SessionContext, url: string): Promise<Uint8Array> {
  const parsed = parseImapUrl(url, session.user);
  const view = session.selected;
  let name: string;
  try {
    // RFC 5092 section 3: a URL's mailbox name is UTF-8 (percent-encoded), not modified UTF-7.
    name = parsed.mailbox === null ? (view?.folder.name ?? '') : toStoreName(parsed.mailbox, { prefix: session.settings.namespacePrefix, utf8: true });
  } catch (error) {
    if (error instanceof MailboxNameError) throw new BadUrl(url, 'Invalid mailbox name');
    throw error;
  }
  if (name === '') throw new BadUrl(url, 'A relative URL needs a selected mailbox');
  const spec = sectionSpec(parsed.section, url);
  const own = view !== null && view.folder.name === name;
  let folder;
  try {
    if (await requireRights(session, name, 'r', 'CATENATE')) throw new BadUrl(url, 'No read access to the mailbox');
    folder = own ? view.folder : await session.store.openFolder(name, { readOnly: true });
    // Messages still in new/ get their UIDs (read-only: nobody's \Recent is taken).
    if (!own) await folder.refresh();
  } catch (error) {
    if (error instanceof MailStoreError || error instanceof MailboxNameError) throw new BadUrl(url, 'No such mailbox');
    throw error;
  }
  try {
    if (parsed.uidValidity !== undefined && parsed.uidValidity !== folder.snapshot().uidValidity) throw new BadUrl(url, 'UIDVALIDITY does not match');
    const [data] = await folder.messageData([parsed.uid], { raw: true, structure: spec.part.length > 0 || spec.kind !== '' });
    if (!data?.raw) throw new BadUrl(url, 'No such message');
    const raw = data.raw;
    const range = sectionRange(raw, data.structure, spec);
    let bytes: Uint8Array;
    if (range === undefined) {
      const section = sectionOf(raw, data.structure, spec);
      if (section === null) throw new BadUrl(url, 'No such section');
      bytes = section;
    } else if (range === null) {
      throw new BadUrl(url, 'No such section');
    } else {
      bytes = crlfConvert(raw, range[0], range[1]);
    }
    const p = parsed.partial;
    if (!p) return bytes;
    // RFC 5550: an offset past the end gives nothing, a length past the end stops there.
    const from = Math.min(p.offset, bytes.length);
    return bytes.subarray(from, p.length === undefined ? bytes.length : Math.min(bytes.length, from + p.length));
  } finally {
    if (!own) folder.release();
  }
}

const PIECE = 256 * 1024;

/** Copies: the stager keeps the pieces it is given until its block is full, and a section's
 * bytes may be a view of crlf.ts's reused scratch buffer. */
async function writeAll(stager: MessageStager, bytes: Uint8Array): Promise<void> {
  for (let i = 0; i < bytes.length; i += PIECE) await stager.write(Buffer.from(bytes.subarray(i, Math.min(bytes.length, i + PIECE))));
}

/**
 * Writes the parts, in order, into scratch space; at most `limit` octets (NO [TOOBIG] past it).
 * Throws BadUrl for a URL that cannot be used.
 */
export async function catenate(session: SessionContext, parts: readonly CatenatePart[], limit: number): Promise<StagedMessage> {
  const stager = await session.store.stageMessage(undefined, limit);
  try {
    for (const part of parts) {
      if (part.kind === 'url') {
        const bytes = await urlContent(session, part.url);
        if (stager.received + bytes.length > limit) throw new MailStoreError('The message would be too big', 'TOOBIG');
        await writeAll(stager, bytes);
      } else if (part.token.streamed !== undefined) {
        const staged = await session.stagedLiteral(part.token.streamed);
        if (!staged) throw new Error('streamed literal missing');
        if (stager.received + staged.size > limit) throw new MailStoreError('The message would be too big', 'TOOBIG');
        for await (const chunk of staged.chunks()) await stager.write(chunk);
        await staged.discard();
      } else {
        if (stager.received + part.token.value.length > limit) throw new MailStoreError('The message would be too big', 'TOOBIG');
        await writeAll(stager, part.token.value);
      }
    }
  } catch (error) {
    await stager.abort();
    throw error;
  }
  return stager.finish();
}
