// ENVELOPE (RFC 3501 section 7.4.2 and the "envelope" rule of section 9).
//
// Fields are the header bytes as stored (latin1 byte strings, see server/mime/types.ts), sent
// as Buffers so that 8-bit bytes survive; the writer picks quoted string or literal. IMAP
// strings cannot carry NUL, CR or LF (RFC 3501 section 4.3 / 9 CHAR8, TEXT-CHAR), so a NUL
// becomes U+FFFD in UTF-8 and a stray CR or LF a space, as Dovecot 2.3 sends them.

import type { Address, Envelope } from '../../mime/types.js';
import type { ImapValue } from '../protocol/types.js';

/** A byte string as an IMAP nstring. */
export function byteString(s: string | null): ImapValue {
  if (s === null) return null;
  // eslint-disable-next-line no-control-regex
  const clean = /[\0\r\n]/.test(s) ? s.replace(/[\r\n]/g, ' ').replace(/\0/g, '\xef\xbf\xbd') : s;
  return Buffer.from(clean, 'latin1');
}

function addressValue(a: Address): ImapValue {
  return [byteString(a.name), byteString(a.adl), byteString(a.mailbox), byteString(a.host)];
}

/** env-from etc.: a parenthesized list of addresses, or NIL when there are none. */
function addressList(list: Address[] | null): ImapValue {
  if (list === null || list.length === 0) return null;
  return list.map(addressValue);
}

export function envelopeValue(env: Envelope): ImapValue {
  return [
    byteString(env.date),
    byteString(env.subject),
    addressList(env.from),
    addressList(env.sender ?? env.from),
    addressList(env.replyTo ?? env.from),
    addressList(env.to),
    addressList(env.cc),
    addressList(env.bcc),
    byteString(env.inReplyTo),
    byteString(env.messageId),
  ];
}
