// Hand-made MessageMeta / MessageInfo for search, sort and thread tests that do not need a
// real parsed message.

import type { MessageInfo } from '../../../server/backend/mailstore.js';
import type { Address, BodyPart, MessageMeta } from '../../../server/mime/types.js';

export interface FakeMessage {
  subject?: string;
  from?: Address[] | null;
  to?: Address[] | null;
  cc?: Address[] | null;
  /** Date: header text. */
  date?: string | null;
  sentDate?: number | null;
  messageId?: string | null;
  inReplyTo?: string | null;
  references?: string[];
}

export function address(mailbox: string, host = 'example.org', name: string | null = null): Address {
  return { name, adl: null, mailbox, host };
}

function textPart(): BodyPart {
  return {
    type: 'text', subtype: 'plain', params: [], id: null, description: null, encoding: '7bit',
    size: 0, lines: 0, md5: null, disposition: null, language: null, location: null,
    headerStart: 0, bodyStart: 0, bodyEnd: 0,
  };
}

export function fakeMeta(m: FakeMessage): MessageMeta {
  const addressText = (list: Address[] | null | undefined): string =>
    (list ?? []).map((a) => `${a.name ? `${a.name} ` : ''}<${a.mailbox}@${a.host}>`).join(', ');
  return {
    size: 100,
    envelope: {
      date: m.date ?? null,
      subject: m.subject ?? null,
      from: m.from ?? null,
      sender: m.from ?? null,
      replyTo: m.from ?? null,
      to: m.to ?? null,
      cc: m.cc ?? null,
      bcc: null,
      inReplyTo: m.inReplyTo ?? null,
      messageId: m.messageId ?? null,
    },
    body: textPart(),
    references: m.references ?? [],
    decoded: {
      subject: m.subject ?? '',
      from: addressText(m.from),
      to: addressText(m.to),
      cc: addressText(m.cc),
      bcc: '',
    },
    sentDate: m.sentDate === undefined ? (m.date ? Date.parse(m.date) : null) : m.sentDate,
  };
}

export function info(uid: number, flags: string[] = [], size = 100, internalDate = Date.UTC(2024, 0, 1)): MessageInfo {
  return { uid, flags: new Set(flags), modseq: 1, size, internalDate };
}
