// SORT (RFC 5256 section 3, criteria of section 2) and DISPLAYFROM / DISPLAYTO (RFC 5957).

import type { MessageInfo } from '../../backend/mailstore.js';
import type { Address, MessageMeta } from '../../mime/types.js';
import { decodeHeaderValue } from '../../mime/text.js';
import { sentDate } from './dates.js';
import { collationKey, comparatorFor } from './fold.js';
import { messageSubject } from './subject.js';

export type SortKey = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';

export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

export interface SortMessage {
  seq: number;
  uid: number;
  info: MessageInfo;
  meta: MessageMeta;
}

const SORT_KEYS = new Set<string>(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']);

/**
 * Turns the words of a sort-criteria list ("REVERSE", "DATE", ...; any case) into criteria.
 * Returns null when the list is empty, a word is unknown or REVERSE is not followed by a key
 * (the caller answers BAD). DISPLAYFROM / DISPLAYTO are accepted only with `display`.
 */
export function parseSortCriteria(words: readonly string[], display = true): SortCriterion[] | null {
  const criteria: SortCriterion[] = [];
  let reverse = false;
  for (const word of words) {
    const upper = word.toUpperCase();
    if (upper === 'REVERSE') {
      if (reverse) return null;
      reverse = true;
      continue;
    }
    if (!SORT_KEYS.has(upper)) return null;
    if (!display && upper.startsWith('DISPLAY')) return null;
    criteria.push({ key: upper as SortKey, reverse });
    reverse = false;
  }
  return criteria.length === 0 || reverse ? null : criteria;
}

/**
 * Orders the messages by the criteria; messages equal under all criteria keep sequence
 * number order (RFC 5256 section 3, SORT command). Returns a new array.
 */
export function sortMessages<M extends SortMessage>(messages: readonly M[], criteria: readonly SortCriterion[]): M[] {
  const keys = criteria.map((criterion) => messages.map((m) => sortValue(m, criterion.key)));
  const compareStrings = keys.map((column) => (typeof column[0] === 'string' ? comparatorFor(column as string[]) : undefined));
  const order = messages.map((_, index) => index);
  order.sort((a, b) => {
    for (let c = 0; c < criteria.length; c++) {
      const x = keys[c][a];
      const y = keys[c][b];
      const compare = compareStrings[c];
      const diff = compare ? compare(x as string, y as string) : (x as number) - (y as number);
      if (diff !== 0) return criteria[c].reverse ? -diff : diff;
    }
    return messages[a].seq - messages[b].seq;
  });
  return order.map((index) => messages[index]);
}

function sortValue(m: SortMessage, key: SortKey): number | string {
  const envelope = m.meta.envelope;
  switch (key) {
    case 'ARRIVAL':
      return m.info.internalDate;
    case 'DATE':
      return sentDate(m);
    case 'SIZE':
      return m.info.size;
    case 'SUBJECT':
      return messageSubject(m.meta).key;
    case 'FROM':
      return collationKey(firstMailbox(envelope.from));
    case 'TO':
      return collationKey(firstMailbox(envelope.to));
    case 'CC':
      return collationKey(firstMailbox(envelope.cc));
    case 'DISPLAYFROM':
      return collationKey(displayName(envelope.from));
    case 'DISPLAYTO':
      return collationKey(displayName(envelope.to));
  }
}

/**
 * RFC 5256: the addr-mailbox of the first address; "" when there is none. For group syntax
 * the first address structure is the group start marker, whose mailbox field holds the
 * group name (RFC 3501 7.4.2), so "To: undisclosed-recipients:;" sorts as
 * "undisclosed-recipients" - as Dovecot does; Courier sorts it as "".
 */
function firstMailbox(list: Address[] | null): string {
  return byteStringToText(list?.[0]?.mailbox ?? '');
}

/**
 * RFC 5957 section 3: the decoded display name of the first address, or when it has none
 * the addr-spec (mailbox@host; the group name alone for a group marker); "" without an address.
 */
function displayName(list: Address[] | null): string {
  const address = list?.[0];
  if (!address) return '';
  if (address.name !== null) {
    const name = decodeHeaderValue(address.name).trim();
    if (name !== '') return name;
  }
  const mailbox = address.mailbox ?? '';
  return byteStringToText(address.host === null ? mailbox : `${mailbox}@${address.host}`);
}

/** Envelope strings are header octets as latin1; 8-bit ones are read as UTF-8 (RFC 6532). */
function byteStringToText(value: string): string {
  return /^[\x00-\x7f]*$/.test(value) ? value : Buffer.from(value, 'latin1').toString('utf8');
}
