// The ENVELOPE as wire bytes for a client that has not enabled UTF8=ACCEPT: what
// serialize(envelopeValue(envelope, false)) gives, made without building the value tree for
// the usual fields (short printable ASCII), which are most of them. The Maildir store keeps
// these bytes in its cache, so that a FETCH ENVELOPE of a whole mailbox copies them out.
// Any other field goes through the general formatter, so the bytes are always the same.

import type { Address, Envelope } from '../../mime/types.js';
import { byteString, downgradeEightBit } from '../format/envelope.js';
import { MAX_QUOTED, serialize } from '../protocol/writer.js';

/** Printable ASCII (no NUL, CR, LF, 8-bit): sent as a quoted string. */
// eslint-disable-next-line no-control-regex
const PLAIN = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;
const QUOTED_SPECIALS = /[\\"]/;
const QUOTED_SPECIALS_ALL = /[\\"]/g;

/** An nstring as latin1 text (literal bytes included as latin1 characters). */
function nstring(s: string | null): string {
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

export function envelopeWire(env: Envelope): Buffer {
  const text =
    `(${nstring(env.date)} ${nstring(downgradeEightBit(env.subject))} ${addressList(env.from)} ${addressList(env.sender ?? env.from)} ` +
    `${addressList(env.replyTo ?? env.from)} ${addressList(env.to)} ${addressList(env.cc)} ${addressList(env.bcc)} ` +
    `${nstring(env.inReplyTo)} ${nstring(env.messageId)})`;
  return Buffer.from(text, 'latin1');
}
