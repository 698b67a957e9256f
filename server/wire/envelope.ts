// ENVELOPE (RFC 3501 section 7.4.2 and the "envelope" rule of section 9).
//
// Fields are the header bytes as stored (latin1 byte strings, see server/mime/types.ts), sent
// as Buffers so that 8-bit bytes survive; the writer picks quoted string or literal. IMAP
// strings cannot carry NUL, CR or LF (RFC 3501 section 4.3 / 9 CHAR8, TEXT-CHAR), so a NUL
// becomes U+FFFD in UTF-8 and a stray CR or LF a space, as Dovecot 2.3 sends them.

import type { Address, Envelope } from '../mime/types.js';
import type { ImapValue } from './value.js';

/** A byte string as an IMAP nstring. */
export function byteString(s: string | null): ImapValue {
  if (s === null) return null;
  // eslint-disable-next-line no-control-regex
  const clean = /[\0\r\n]/.test(s) ? s.replace(/[\r\n]/g, ' ').replace(/\0/g, '\xef\xbf\xbd') : s;
  return Buffer.from(clean, 'latin1');
}

/**
 * Raw UTF-8 in a header (not allowed by RFC 5322, common all the same) for a client that
 * has not enabled UTF8=ACCEPT: runs of words with 8-bit bytes become RFC 2047 encoded-words,
 * as Courier sends them, so that the client shows the text instead of mojibake. Bytes that
 * are not UTF-8 are left as they are (the writer sends them in a literal).
 */
export function downgradeEightBit(s: string | null): string | null {
  // eslint-disable-next-line no-control-regex
  if (s === null || !/[\x80-\xff]/.test(s)) return s;
  const bytes = Buffer.from(s, 'latin1');
  const text = bytes.toString('utf8');
  if (Buffer.byteLength(text) !== bytes.length || text.includes('\ufffd')) return s;
  const words = text.split(' ');
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (!/[^\x00-\x7f]/.test(words[i])) {
      out.push(words[i]);
      continue;
    }
    // One encoded-word for a run of 8-bit words, so the spaces between them survive decoding.
    let j = i;
    while (j + 1 < words.length && /[^\x00-\x7f]/.test(words[j + 1])) j++;
    out.push(`=?utf-8?B?${Buffer.from(words.slice(i, j + 1).join(' ')).toString('base64')}?=`);
    i = j;
  }
  return out.join(' ');
}

function addressValue(a: Address, utf8: boolean): ImapValue {
  const name = utf8 ? a.name : downgradeEightBit(a.name);
  return [byteString(name), byteString(a.adl), byteString(a.mailbox), byteString(a.host)];
}

/** env-from etc.: "(" 1*address ")" (addresses without spaces between them), or NIL. */
function addressList(list: Address[] | null, utf8: boolean): ImapValue {
  if (list === null || list.length === 0) return null;
  return [{ adjacent: list.map((a) => addressValue(a, utf8)) }];
}

/** The ENVELOPE; `utf8` when the client has enabled UTF8=ACCEPT (RFC 6855). */
export function envelopeValue(env: Envelope, utf8 = false): ImapValue {
  return [
    byteString(env.date),
    byteString(utf8 ? env.subject : downgradeEightBit(env.subject)),
    addressList(env.from, utf8),
    addressList(env.sender ?? env.from, utf8),
    addressList(env.replyTo ?? env.from, utf8),
    addressList(env.to, utf8),
    addressList(env.cc, utf8),
    addressList(env.bcc, utf8),
    byteString(env.inReplyTo),
    byteString(env.messageId),
  ];
}
