// ENVELOPE and BODYSTRUCTURE as wire bytes for a client that has not enabled UTF8=ACCEPT:
// what the general formatters (envelope.ts, bodystructure.ts, written by
// writer.ts) give, made as strings without building value trees, for the usual
// fields (short printable ASCII), which are most of them. Any other field goes through the
// general formatter, so the bytes are always the same (tested on both corpora). The
// Maildir store keeps the ENVELOPE bytes in its cache, so that a FETCH ENVELOPE of a whole
// mailbox copies them out.

import type { Address, BodyPart, Envelope } from '../mime/types.js';
import { EMPTY_ENVELOPE, EMPTY_TEXT, paramsWithCharset } from './bodystructure.js';
import { byteString, downgradeEightBit } from './envelope.js';
import { MAX_QUOTED, serialize } from './writer.js';

/** Printable ASCII (no NUL, CR, LF, 8-bit): sent as a quoted string. */
// eslint-disable-next-line no-control-regex
const PLAIN = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;
const QUOTED_SPECIALS = /[\\"]/;
const QUOTED_SPECIALS_ALL = /[\\"]/g;

/** An nstring as latin1 text (literal bytes included as latin1 characters). */
export function nstring(s: string | null): string {
  if (s === null) return 'NIL';
  if (s.length < MAX_QUOTED && PLAIN.test(s)) return QUOTED_SPECIALS.test(s) ? `"${s.replace(QUOTED_SPECIALS_ALL, '\\$&')}"` : `"${s}"`;
  return serialize(byteString(s)).toString('latin1');
}

function address(a: Address): string {
  return `(${nstring(downgradeEightBit(a.name))} ${nstring(a.adl)} ${nstring(a.mailbox)} ${nstring(a.host)})`;
}

function addressList(list: Address[] | null): string {
  if (list === null || list.length === 0) return 'NIL';
  let out = '(';
  for (const a of list) out += address(a);
  return `${out})`;
}

/**
 * The version of envelopeWire's bytes. The Maildir store keeps those bytes in its caches under
 * this version and makes them again when it changes, so bump it by hand whenever the bytes of
 * any ENVELOPE change (test/wire/version.test.ts fails until it is bumped and recorded).
 */
export const ENVELOPE_WIRE_VERSION = '1';

export function envelopeWire(env: Envelope): Buffer {
  return Buffer.from(envelopeText(env), 'latin1');
}

/** The ENVELOPE as latin1 text (see envelopeWire). */
function envelopeText(env: Envelope): string {
  return (
    `(${nstring(env.date)} ${nstring(downgradeEightBit(env.subject))} ${addressList(env.from)} ${addressList(env.sender ?? env.from)} ` +
    `${addressList(env.replyTo ?? env.from)} ${addressList(env.to)} ${addressList(env.cc)} ${addressList(env.bcc)} ` +
    `${nstring(env.inReplyTo)} ${nstring(env.messageId)})`
  );
}

function number(n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`IMAP numbers are non-negative integers, got ${n}`);
  return String(n);
}

function paramList(params: [string, string][]): string {
  if (params.length === 0) return 'NIL';
  let out = '';
  for (const [name, value] of params) out += `${out === '' ? '(' : ' '}${nstring(name)} ${nstring(value)}`;
  return `${out})`;
}

function extension(body: BodyPart): string {
  const d = body.disposition;
  const disposition = d === null ? 'NIL' : `(${nstring(d.type)} ${paramList(d.params)})`;
  const language = body.language === null || body.language.length === 0 ? 'NIL' : `(${body.language.map(nstring).join(' ')})`;
  return `${disposition} ${language} ${nstring(body.location)}`;
}

/** BODY (extended false) or BODYSTRUCTURE as latin1 text: serialize(bodyStructureValue(body, extended)). */
export function bodyStructureWire(body: BodyPart, extended: boolean): string {
  if (body.type === 'multipart') {
    const children = body.parts !== undefined && body.parts.length > 0 ? body.parts : [EMPTY_TEXT];
    let out = '(';
    for (const child of children) out += bodyStructureWire(child, extended);
    out += ` ${nstring(body.subtype)}`;
    if (extended) out += ` ${paramList(body.params)} ${extension(body)}`;
    return `${out})`;
  }
  const params = paramsWithCharset(body);
  let out =
    `(${nstring(body.type)} ${nstring(body.subtype)} ${paramList(params)} ${nstring(body.id)} ` +
    `${nstring(body.description)} ${nstring(body.encoding)} ${number(body.size)}`;
  if (body.type === 'message' && body.subtype === 'rfc822') {
    const msg = body.message ?? { envelope: EMPTY_ENVELOPE, body: EMPTY_TEXT };
    out += ` ${envelopeText(msg.envelope)} ${bodyStructureWire(msg.body, extended)} ${number(body.lines)}`;
  } else if (body.type === 'text') {
    out += ` ${number(body.lines)}`;
  }
  if (extended) out += ` ${nstring(body.md5)} ${extension(body)}`;
  return `${out})`;
}
