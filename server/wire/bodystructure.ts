// BODY and BODYSTRUCTURE (RFC 3501 section 7.4.2 and the "body" rules of section 9).
//
// Single part: type subtype params id description encoding size, then
//   text/*          + lines                             (body-type-text)
//   message/rfc822  + envelope body lines               (body-type-msg)
//   and with extension data: md5 disposition language location (body-ext-1part).
// Multipart: the children, then the subtype, and with extension data:
//   params disposition language location (body-ext-mpart).
//
// Case: type, subtype and encoding go out lower-case (they are stored lower-case; RFC 2045 5.1
// and 6.1 make them case-insensitive). Courier sends them lower-case too; Dovecot sends them as
// written in the message.
// Like Dovecot, a text part without a charset parameter gets ("charset" "us-ascii"), the
// RFC 2046 4.1.2 default, and a multipart without any part (no boundary or no delimiter
// found) gets one empty text/plain part, because body-type-mpart needs at least one body.
// message/global is a body-type-basic here: RFC 3501's grammar has only MESSAGE/RFC822 in
// media-message (RFC 9051 adds GLOBAL, IMAP4rev1 clients would misread it).

import type { BodyPart, Envelope } from '../mime/types.js';
import type { ImapValue } from './value.js';
import { byteString, envelopeValue } from './envelope.js';

function paramList(params: [string, string][]): ImapValue {
  if (params.length === 0) return null;
  const out: ImapValue[] = [];
  for (const [name, value] of params) out.push(byteString(name), byteString(value));
  return out;
}

function dispositionValue(body: BodyPart): ImapValue {
  const d = body.disposition;
  return d === null ? null : [byteString(d.type), paramList(d.params)];
}

function languageValue(body: BodyPart): ImapValue {
  return body.language === null || body.language.length === 0 ? null : body.language.map(byteString);
}

/** Stands for the body of a multipart without parts (the grammar needs one). */
export const EMPTY_TEXT: BodyPart = {
  type: 'text', subtype: 'plain', params: [], id: null, description: null, encoding: '7bit',
  size: 0, lines: 0, md5: null, disposition: null, language: null, location: null,
  headerStart: 0, bodyStart: 0, bodyEnd: 0,
};

/** Stands for an attached message that could not be parsed. */
export const EMPTY_ENVELOPE: Envelope = {
  date: null, subject: null, from: null, sender: null, replyTo: null,
  to: null, cc: null, bcc: null, inReplyTo: null, messageId: null,
};

/** The part's parameters, with ("charset" "us-ascii") added to a text part without one (as Dovecot). */
export function paramsWithCharset(body: BodyPart): [string, string][] {
  if (body.type === 'text' && !body.params.some(([k]) => k === 'charset')) return [...body.params, ['charset', 'us-ascii']];
  return body.params;
}

export function bodyStructureValue(body: BodyPart, extended: boolean): ImapValue {
  if (body.type === 'multipart') {
    const children = body.parts !== undefined && body.parts.length > 0 ? body.parts : [EMPTY_TEXT];
    // "(" 1*body SP media-subtype: the children follow each other without a space.
    const out: ImapValue[] = [{ adjacent: children.map((c) => bodyStructureValue(c, extended)) }];
    out.push(byteString(body.subtype));
    if (extended) out.push(paramList(body.params), dispositionValue(body), languageValue(body), byteString(body.location));
    return out;
  }
  const params = paramsWithCharset(body);
  const out: ImapValue[] = [
    byteString(body.type),
    byteString(body.subtype),
    paramList(params),
    byteString(body.id),
    byteString(body.description),
    byteString(body.encoding),
    body.size,
  ];
  if (body.type === 'message' && body.subtype === 'rfc822') {
    const msg = body.message ?? { envelope: EMPTY_ENVELOPE, body: EMPTY_TEXT };
    out.push(envelopeValue(msg.envelope), bodyStructureValue(msg.body, extended), body.lines);
  } else if (body.type === 'text') {
    out.push(body.lines);
  }
  if (extended) out.push(byteString(body.md5), dispositionValue(body), languageValue(body), byteString(body.location));
  return out;
}
